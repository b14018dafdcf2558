package bullhornsim

import (
	"fmt"
	"time"
)

// Demo holds the ids SeedDemo created.
type Demo struct {
	Clients     []int
	Contacts    []int
	JobOrders   []int
	Candidates  []int
	Submissions []int
	Placements  []int
}

// SeedDemo fills the simulator with a small agency: two clients with a
// contact each, three job orders, five candidates, submissions and one
// placement in status "Placed", ready to be approved. Records created
// before a subscription queue no events on it, as in Bullhorn.
func (s *Sim) SeedDemo() (Demo, error) {
	var d Demo
	create := func(entity string, f map[string]any) (int, error) {
		id, err := s.Create(entity, f)
		if err != nil {
			return 0, fmt.Errorf("seed %s: %w", entity, err)
		}
		return id, nil
	}
	ref := func(id int) map[string]any { return map[string]any{"id": id} }
	for i, c := range []struct{ name, city, cc string }{{"Acme Insurance plc", "Leeds", "GB"}, {"Globex Logistics", "Chicago", "US"}} {
		id, err := create("ClientCorporation", map[string]any{"name": c.name, "status": "Active", "address": map[string]any{"city": c.city, "countryCode": c.cc}})
		if err != nil {
			return d, err
		}
		d.Clients = append(d.Clients, id)
		cid, err := create("ClientContact", map[string]any{"firstName": []string{"Tom", "Maria"}[i], "lastName": []string{"Reed", "Lopez"}[i],
			"email": fmt.Sprintf("contact%d@client%d.example", i+1, i+1), "occupation": "Hiring Manager", "clientCorporation": ref(id)})
		if err != nil {
			return d, err
		}
		d.Contacts = append(d.Contacts, cid)
	}
	for i, j := range []struct {
		title, typ string
		client     int
		pay, bill  float64
	}{{"Java Developer (contract)", "Contract", 0, 450, 560}, {"Warehouse Supervisor", "Temp", 1, 22, 31}, {"Head of Finance", "Permanent", 0, 0, 0}} {
		id, err := create("JobOrder", map[string]any{"title": j.title, "status": "Accepting Candidates", "isOpen": true, "isPublic": 1,
			"numOpenings": 1, "employmentType": j.typ, "clientCorporation": ref(d.Clients[j.client]), "clientContact": ref(d.Contacts[j.client]),
			"payRate": j.pay, "clientBillRate": j.bill, "salaryUnit": []string{"Per Day", "Per Hour", "Per Year"}[i]})
		if err != nil {
			return d, err
		}
		d.JobOrders = append(d.JobOrders, id)
	}
	for i, c := range [][2]string{{"Amara", "Okafor"}, {"Liam", "Byrne"}, {"Sofia", "Rossi"}, {"Kenji", "Tanaka"}, {"Noor", "Haddad"}} {
		id, err := create("Candidate", map[string]any{"firstName": c[0], "lastName": c[1], "status": "Active",
			"email": fmt.Sprintf("candidate%d@example.com", i+1), "mobile": fmt.Sprintf("+4477009001%02d", i)})
		if err != nil {
			return d, err
		}
		d.Candidates = append(d.Candidates, id)
		sid, err := create("JobSubmission", map[string]any{"candidate": ref(id), "jobOrder": ref(d.JobOrders[i%len(d.JobOrders)]), "status": "Submitted"})
		if err != nil {
			return d, err
		}
		d.Submissions = append(d.Submissions, sid)
	}
	begin := time.Now().AddDate(0, 0, 14).UTC().Truncate(24 * time.Hour)
	pid, err := create("Placement", map[string]any{"candidate": ref(d.Candidates[0]), "jobOrder": ref(d.JobOrders[0]), "jobSubmission": ref(d.Submissions[0]),
		"status": "Placed", "employmentType": "Contract", "dateBegin": begin.UnixMilli(), "dateEnd": begin.AddDate(0, 6, 0).UnixMilli(),
		"payRate": 450, "clientBillRate": 560, "salaryUnit": "Per Day", "hoursPerDay": 7.5})
	if err != nil {
		return d, err
	}
	d.Placements = append(d.Placements, pid)
	return d, nil
}
