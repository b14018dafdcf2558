package bullhornsim

import (
	"fmt"
	"strings"
)

// fieldKind says how the simulator stores and renders one field.
type fieldKind int

const (
	scalar fieldKind = iota // a string, number, bool or epoch-millis timestamp
	toOne                   // an association, stored as {"id": n}
	object                  // a composite such as address
)

// entities lists the entities the simulator serves and the fields each one
// has, modelled on Bullhorn's entity reference. A field not listed here is
// unknown: asking for it is a 400, as Bullhorn answers.
var entities = map[string]map[string]fieldKind{
	"Candidate": {
		"id": scalar, "firstName": scalar, "lastName": scalar, "name": scalar,
		"email": scalar, "phone": scalar, "mobile": scalar, "status": scalar,
		"occupation": scalar, "companyName": scalar, "source": scalar,
		"address": object, "owner": toOne, "isDeleted": scalar,
		"dateAdded": scalar, "dateLastModified": scalar,
	},
	"ClientCorporation": {
		"id": scalar, "name": scalar, "status": scalar, "phone": scalar,
		"companyURL": scalar, "industryList": scalar, "address": object,
		"feeArrangement": scalar, "dateAdded": scalar, "dateLastModified": scalar,
	},
	"ClientContact": {
		"id": scalar, "firstName": scalar, "lastName": scalar, "name": scalar,
		"email": scalar, "phone": scalar, "occupation": scalar, "status": scalar,
		"clientCorporation": toOne, "address": object, "owner": toOne,
		"isDeleted": scalar, "dateAdded": scalar, "dateLastModified": scalar,
	},
	"JobOrder": {
		"id": scalar, "title": scalar, "status": scalar, "isOpen": scalar,
		"isPublic": scalar, "isDeleted": scalar, "numOpenings": scalar,
		"employmentType": scalar, "clientCorporation": toOne, "clientContact": toOne,
		"owner": toOne, "startDate": scalar, "dateEnd": scalar, "payRate": scalar,
		"clientBillRate": scalar, "salary": scalar, "salaryUnit": scalar,
		"description": scalar, "publicDescription": scalar, "address": object,
		"dateAdded": scalar, "dateLastModified": scalar, "dateClosed": scalar,
	},
	"JobSubmission": {
		"id": scalar, "candidate": toOne, "jobOrder": toOne, "status": scalar,
		"source": scalar, "sendingUser": toOne, "isDeleted": scalar,
		"dateAdded": scalar, "dateWebResponse": scalar, "dateLastModified": scalar,
	},
	"Sendout": {
		"id": scalar, "candidate": toOne, "jobOrder": toOne, "clientContact": toOne,
		"jobSubmission": toOne, "dateAdded": scalar,
	},
	"Placement": {
		"id": scalar, "candidate": toOne, "jobOrder": toOne, "jobSubmission": toOne,
		"status": scalar, "dateBegin": scalar, "dateEnd": scalar,
		"employmentType": scalar, "payRate": scalar, "clientBillRate": scalar,
		"salary": scalar, "salaryUnit": scalar, "fee": scalar, "hoursPerDay": scalar,
		"onboardingStatus": scalar, "owner": toOne,
		"dateAdded": scalar, "dateLastModified": scalar, "dateClientEffective": scalar,
	},
	"Appointment": {
		"id": scalar, "type": scalar, "subject": scalar, "description": scalar,
		"dateBegin": scalar, "dateEnd": scalar, "location": scalar,
		"candidateReference": toOne, "clientContactReference": toOne, "jobOrder": toOne,
		"owner": toOne, "isDeleted": scalar, "dateAdded": scalar, "dateLastModified": scalar,
	},
}

// EntityNames lists the entities the simulator holds.
func EntityNames() []string {
	return []string{"Appointment", "Candidate", "ClientContact", "ClientCorporation", "JobOrder", "JobSubmission", "Placement", "Sendout"}
}

// fieldSpec is one requested field, with its sub-fields for an
// association ("candidate(id,firstName)").
type fieldSpec struct {
	name string
	sub  []fieldSpec
}

// parseFields parses Bullhorn's fields syntax: a comma-separated list where an
// association may carry its own list in parentheses. "*" asks for every field.
func parseFields(s string) ([]fieldSpec, error) {
	var out []fieldSpec
	for s != "" {
		i := strings.IndexAny(s, ",(")
		if i < 0 {
			out = append(out, fieldSpec{name: strings.TrimSpace(s)})
			break
		}
		name := strings.TrimSpace(s[:i])
		if s[i] == ',' {
			out = append(out, fieldSpec{name: name})
			s = s[i+1:]
			continue
		}
		depth, j := 0, i
		for ; j < len(s); j++ {
			if s[j] == '(' {
				depth++
			} else if s[j] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if j == len(s) {
			return nil, fmt.Errorf("unbalanced parentheses in fields")
		}
		sub, err := parseFields(s[i+1 : j])
		if err != nil {
			return nil, err
		}
		out = append(out, fieldSpec{name: name, sub: sub})
		s = strings.TrimPrefix(s[j+1:], ",")
	}
	for _, f := range out {
		if f.name == "" {
			return nil, fmt.Errorf("empty field name")
		}
	}
	return out, nil
}
