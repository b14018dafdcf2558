package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// callAs is call with another API key.
func callAs(tb testing.TB, key, base, method, path string, body any, out any) int {
	tb.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// newEchoReceiver answers every webhook 200 with the body it got, as many
// receivers do: the attempt's response excerpt then holds the payload.
func newEchoReceiver(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// scanFiles counts each needle in the database, its WAL and its shared
// memory: the bytes a copy of the directory would give away.
func scanFiles(tb testing.TB, path string, needles []string) map[string]int {
	tb.Helper()
	found := map[string]int{}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			tb.Fatal(err)
		}
		for _, n := range needles {
			if c := bytes.Count(b, []byte(n)); c > 0 {
				found[n] += c
			}
		}
	}
	return found
}

type erasedEventView struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Data         json.RawMessage `json:"data"`
	Changes      json.RawMessage `json:"changes"`
	DeliveryList []deliveryView  `json:"delivery_list"`
}

// TestCandidateEraseLeavesNoTrace erases a candidate from a running hub on
// a real SQLite file and then searches the raw files for them.
func TestCandidateEraseLeavesNoTrace(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	base := hub.URL()
	dbPath, err := hub.Config.SQLitePath()
	if err != nil {
		t.Fatal(err)
	}
	echo := newEchoReceiver(t)
	createEndpoint(t, base, echo.URL+"/ats", "*")
	crm := newReceiver(t, nil)
	createEndpoint(t, base, crm.URL+"/crm", "candidate.*")

	// Another agency has a candidate with the same id: another person.
	if st := call(t, base, "POST", "/v1/tenants", map[string]any{"id": "agency_b", "name": "Agency B"}, nil); st != 201 {
		t.Fatalf("create tenant: %d", st)
	}
	var keyB struct {
		Key string `json:"key"`
	}
	if st := call(t, base, "POST", "/v1/api-keys", map[string]any{"name": "b", "scope": "admin", "tenant_id": "agency_b"}, &keyB); st != 201 || keyB.Key == "" {
		t.Fatalf("create key of agency_b: %d", st)
	}
	var accB hirehook.EventAccepted
	if st := callAs(t, keyB.Key, base, "POST", "/v1/events", map[string]any{"type": "candidate.created",
		"data": map[string]any{"id": "c_77", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}}, &accB); st != 202 {
		t.Fatalf("agency_b event: %d", st)
	}

	pii := []string{"zebulon.qf@example.org", "zeb.q@example.net", "Zebulon", "Quixote-Farthingale"}
	summary := map[string]any{"id": "c_77", "first_name": "Zebulon", "last_name": "Quixote-Farthingale", "email": "zebulon.qf@example.org"}
	created := sendEvent(t, base, map[string]any{"type": "candidate.created", "source": "bullhorn", "data": map[string]any{
		"id": "c_77", "first_name": "Zebulon", "last_name": "Quixote-Farthingale", "email": "zebulon.qf@example.org", "phone": "+1 555 0100"}})
	application := sendEvent(t, base, map[string]any{"type": "application.created", "source": "bullhorn", "data": map[string]any{
		"id": "ap_1", "candidate_id": "c_77", "candidate": summary, "job": map[string]any{"id": "j_12", "title": "Data Engineer"}}})
	pl := placement("pl_9")
	pl["data"].(map[string]any)["candidate"] = summary
	placed := sendEvent(t, base, pl)
	updated := sendEvent(t, base, map[string]any{"type": "candidate.updated", "source": "bullhorn",
		"data":    map[string]any{"id": "c_77", "email": "zeb.q@example.net"},
		"changes": map[string]any{"email": map[string]any{"from": "zebulon.qf@example.org", "to": "zeb.q@example.net"}}})
	touched := []string{created.ID, application.ID, placed.ID, updated.ID}

	// Every delivery is done: 4 to the echoing ATS, 2 to the CRM.
	history := map[string]map[string]int{} // event → delivery → attempts
	waitFor(t, 10*time.Second, "6 deliveries", func() bool {
		var list struct {
			Data []deliveryView `json:"data"`
		}
		call(t, base, "GET", "/v1/deliveries?state=delivered", nil, &list)
		return len(list.Data) == 6
	})
	echoed := false
	for _, id := range touched {
		var ev erasedEventView
		if st := call(t, base, "GET", "/v1/events/"+id, nil, &ev); st != 200 {
			t.Fatalf("event %s: %d", id, st)
		}
		history[id] = map[string]int{}
		for _, d := range ev.DeliveryList {
			var dv deliveryView
			call(t, base, "GET", "/v1/deliveries/"+d.ID, nil, &dv)
			history[id][d.ID] = len(dv.AttemptList)
			for _, a := range dv.AttemptList {
				echoed = echoed || strings.Contains(a.Response, "zebulon.qf@example.org")
			}
		}
	}
	if !echoed {
		t.Fatal("no attempt excerpt holds the echoed email")
	}
	// The person is in the files now, so the scan below can fail.
	if found := scanFiles(t, dbPath, pii); len(found) != len(pii) {
		t.Fatalf("before erasure the files hold only %v", found)
	}

	var viewerKey struct {
		Key string `json:"key"`
	}
	call(t, base, "POST", "/v1/api-keys", map[string]any{"name": "v", "scope": "viewer"}, &viewerKey)
	if st := callAs(t, viewerKey.Key, base, "POST", "/v1/records/candidate/c_77/erase", nil, nil); st != http.StatusForbidden {
		t.Fatalf("a viewer key erased: %d", st)
	}
	if st := call(t, base, "POST", "/v1/records/candidate/c_nobody/erase", nil, nil); st != http.StatusNotFound {
		t.Fatalf("erase of an unknown candidate: %d", st)
	}

	var erased struct {
		Events            int    `json:"events"`
		Records           int    `json:"records"`
		Attempts          int    `json:"attempts"`
		AnonymizedEventID string `json:"anonymized_event_id"`
	}
	if st := call(t, base, "POST", "/v1/records/candidate/c_77/erase", nil, &erased); st != 200 {
		t.Fatalf("erase: %d", st)
	}
	// 4 events; the candidate, application and placement records; the 6
	// attempts of their deliveries.
	if erased.Events != 4 || erased.Records != 3 || erased.Attempts != 6 || !strings.HasPrefix(erased.AnonymizedEventID, "evt_") {
		t.Fatalf("erase answered %+v", erased)
	}

	// Subscribers of candidate.* are told, so they erase the person too.
	waitFor(t, 10*time.Second, "candidate.anonymized at the CRM", func() bool {
		for _, r := range crm.got() {
			var body hirehook.WebhookPayload
			if json.Unmarshal(r.body, &body) == nil && body.Type == "candidate.anonymized" {
				return body.ID == erased.AnonymizedEventID && string(body.Data) == `{"id":"c_77"}` && body.Source == "hirehook"
			}
		}
		return false
	})
	var anon erasedEventView
	call(t, base, "GET", "/v1/events/"+erased.AnonymizedEventID, nil, &anon)
	if anon.Type != "candidate.anonymized" || len(anon.DeliveryList) != 2 {
		t.Fatalf("anonymized event: %+v", anon)
	}

	// Nothing of the person is left in any byte of the files.
	if found := scanFiles(t, dbPath, pii); len(found) > 0 {
		t.Fatalf("after erasure the files still hold %v", found)
	}

	// The API shows the events without them, the history intact.
	for _, id := range touched {
		var ev erasedEventView
		if st := call(t, base, "GET", "/v1/events/"+id, nil, &ev); st != 200 {
			t.Fatalf("event %s: %d", id, st)
		}
		for _, p := range pii {
			if strings.Contains(string(ev.Data)+string(ev.Changes), p) {
				t.Errorf("event %s (%s) still shows %q: %s %s", id, ev.Type, p, ev.Data, ev.Changes)
			}
		}
		if len(ev.DeliveryList) != len(history[id]) {
			t.Errorf("event %s has %d deliveries, had %d", id, len(ev.DeliveryList), len(history[id]))
		}
		for _, d := range ev.DeliveryList {
			var dv deliveryView
			call(t, base, "GET", "/v1/deliveries/"+d.ID, nil, &dv)
			if n, ok := history[id][d.ID]; !ok || n != len(dv.AttemptList) || dv.State != hirehook.DeliveryDelivered {
				t.Errorf("delivery %s: %s with %d attempts, had %d", d.ID, dv.State, len(dv.AttemptList), n)
			}
			for _, a := range dv.AttemptList {
				if a.Response != "" || a.StatusCode != 200 {
					t.Errorf("attempt of delivery %s: status %d, excerpt %q", d.ID, a.StatusCode, a.Response)
				}
			}
		}
	}
	var app erasedEventView
	call(t, base, "GET", "/v1/events/"+application.ID, nil, &app)
	var appData map[string]any
	if err := json.Unmarshal(app.Data, &appData); err != nil {
		t.Fatal(err)
	}
	if c, _ := json.Marshal(appData["candidate"]); string(c) != `{"id":"c_77"}` || appData["job"] == nil {
		t.Fatalf("application after erasure: %s", app.Data)
	}
	var rec hirehook.Record
	if st := call(t, base, "GET", "/v1/records/candidate/c_77", nil, &rec); st != 200 || string(rec.Data) != `{"id":"c_77"}` {
		t.Fatalf("candidate record: %d %s", st, rec.Data)
	}

	// Agency B's c_77 is another person, untouched.
	var evB erasedEventView
	callAs(t, keyB.Key, base, "GET", "/v1/events/"+accB.ID, nil, &evB)
	var recB hirehook.Record
	callAs(t, keyB.Key, base, "GET", "/v1/records/candidate/c_77", nil, &recB)
	if !strings.Contains(string(evB.Data), "ada@example.com") || !strings.Contains(string(recB.Data), "ada@example.com") {
		t.Fatalf("agency_b's candidate changed: event %s, record %s", evB.Data, recB.Data)
	}

	// The audit log says who erased whom, and how much.
	var audit struct {
		Data []hirehook.AuditEntry `json:"data"`
	}
	call(t, base, "GET", "/v1/audit-log", nil, &audit)
	if len(audit.Data) == 0 || audit.Data[0].Action != "candidate.erased" || audit.Data[0].Target != "c_77" ||
		!strings.Contains(string(audit.Data[0].Details), `"attempts":6`) {
		t.Fatalf("audit log: %+v", audit.Data)
	}
}
