package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// routedEndpoint creates an endpoint with the given fields and returns it.
func routedEndpoint(tb testing.TB, base string, fields map[string]any) endpointCreated {
	tb.Helper()
	var ep endpointCreated
	if st := call(tb, base, "POST", "/v1/endpoints", fields, &ep); st != 201 {
		tb.Fatalf("create endpoint %v: status %d", fields, st)
	}
	return ep
}

// verified checks that every request rc got carries a valid signature of
// secret over the body it got, and returns the bodies.
func verified(tb testing.TB, rc *receiver, secret string) []string {
	tb.Helper()
	var bodies []string
	for _, r := range rc.got() {
		if err := hirehook.Verify(r.header, r.body, time.Now(), secret); err != nil {
			tb.Fatalf("signature over %s: %v", r.body, err)
		}
		bodies = append(bodies, string(r.body))
	}
	return bodies
}

// TestRoutingFlows runs the three flows of the routing issue through the
// API and real receivers: the CRM gets every stage change; onboarding gets
// only confirmed placements of its client, in its own field names; the job
// board gets job postings and no personal data. Each receiver checks the
// signature over the body it got (the transformed one for onboarding).
func TestRoutingFlows(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	base := hub.URL()

	crmRC := newReceiver(t, nil)
	crm := routedEndpoint(t, base, map[string]any{"url": crmRC.URL, "event_types": []string{"application.*", "placement.*"},
		"filter": `.type == "application.stage_changed"`})
	onbRC := newReceiver(t, nil)
	onb := routedEndpoint(t, base, map[string]any{"url": onbRC.URL, "event_types": []string{"placement.*"},
		"filter":    `.type == "placement.confirmed" and .data.client.id == "acme"`,
		"transform": `{employee: {given_name: .data.candidate.first_name, family_name: .data.candidate.last_name, email: .data.candidate.email}, start_date: .data.start_date, client_code: .data.client.id}`,
		"redact":    []string{".data.pay_rate"}})
	// The job board echoes what it gets, as many receivers do: the
	// attempt's response excerpt then shows what left the hub.
	boardRC := newReceiver(t, nil)
	echo := newEchoReceiver(t)
	board := routedEndpoint(t, base, map[string]any{"url": boardRC.URL, "event_types": []string{"*"},
		"filter": `.type == "job.posted"`, "redact": []string{"personal_data", ".data.custom_fields"}})
	boardEcho := routedEndpoint(t, base, map[string]any{"url": echo.URL, "event_types": []string{"job.posted"},
		"redact": []string{"personal_data", ".data.custom_fields"}})
	thinRC := newReceiver(t, nil)
	thin := routedEndpoint(t, base, map[string]any{"url": thinRC.URL, "event_types": []string{"*"}, "payload": "thin"})

	stage := sendEvent(t, base, map[string]any{"type": "application.stage_changed", "data": map[string]any{
		"id": "app_1", "stage": map[string]any{"name": "Interview"}, "previous_stage": map[string]any{"name": "Phone Screen"},
		"candidate": map[string]any{"id": "c_1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}}})
	acme := placement("pl_acme")
	acme["data"].(map[string]any)["client"] = map[string]any{"id": "acme", "name": "Acme Corp"}
	acmeAcc := sendEvent(t, base, acme)
	globex := placement("pl_globex")
	globex["data"].(map[string]any)["client"] = map[string]any{"id": "globex", "name": "Globex"}
	globexAcc := sendEvent(t, base, globex)
	posted := sendEvent(t, base, map[string]any{"type": "job.posted", "data": map[string]any{
		"id": "post_1", "title": "Data Engineer", "board": "indeed", "job_id": "j_1",
		"custom_fields": map[string]any{"recruiter_mobile": "+1 555 0100"}}})

	// Filters run at ingest: a filtered-out event creates no delivery.
	// stage: CRM, thin. acme: onboarding, thin. globex: thin. posted:
	// board, board echo, thin.
	for _, c := range []struct {
		acc  hirehook.EventAccepted
		want int
	}{{stage, 2}, {acmeAcc, 2}, {globexAcc, 1}, {posted, 3}} {
		if c.acc.Deliveries != c.want {
			t.Errorf("event %s: %d deliveries, want %d", c.acc.ID, c.acc.Deliveries, c.want)
		}
	}
	waitFor(t, 10*time.Second, "all deliveries", func() bool {
		return len(crmRC.got()) == 1 && len(onbRC.got()) == 1 && len(boardRC.got()) == 1 && len(thinRC.got()) == 4
	})

	// CRM: the stage change, whole.
	got := verified(t, crmRC, crm.Secret)
	var env hirehook.WebhookPayload
	if err := json.Unmarshal([]byte(got[0]), &env); err != nil || env.ID != stage.ID || env.Type != "application.stage_changed" || !strings.Contains(got[0], `"stage":{"name":"Interview"}`) {
		t.Errorf("CRM got %s", got[0])
	}

	// Onboarding: only acme's confirmed placement, in its own fields, signed
	// as sent.
	got = verified(t, onbRC, onb.Secret)
	want := `{"client_code":"acme","employee":{"email":"ada@example.com","family_name":"Lovelace","given_name":"Ada"},"start_date":"2026-12-07"}`
	if got[0] != want {
		t.Errorf("onboarding got %s, want %s", got[0], want)
	}
	if id := onbRC.got()[0].header.Get("Webhook-Id"); id != acmeAcc.ID {
		t.Errorf("onboarding's webhook-id = %q, want the event %s", id, acmeAcc.ID)
	}

	// Job board: the posting, without personal data or custom fields.
	got = verified(t, boardRC, board.Secret)
	if !strings.Contains(got[0], `"type":"job.posted"`) || !strings.Contains(got[0], `"title":"Data Engineer"`) {
		t.Errorf("job board got %s", got[0])
	}
	personal := []string{"ada@example.com", "Lovelace", "+1 555 0100", "recruiter_mobile"}
	for _, s := range personal {
		if strings.Contains(got[0], s) {
			t.Errorf("job board got %q: %s", s, got[0])
		}
	}
	// ... and what the echoing board answered (the attempt log) holds none
	// of it either.
	waitFor(t, 10*time.Second, "the echo delivery", func() bool {
		var ev eventView
		call(t, base, "GET", "/v1/events/"+posted.ID, nil, &ev)
		for _, d := range ev.DeliveryList {
			if d.EndpointID == boardEcho.ID {
				return d.State == hirehook.DeliveryDelivered
			}
		}
		return false
	})
	var dl struct {
		Data []deliveryView `json:"data"`
	}
	call(t, base, "GET", "/v1/deliveries?endpoint_id="+boardEcho.ID, nil, &dl)
	var d deliveryView
	call(t, base, "GET", "/v1/deliveries/"+dl.Data[0].ID, nil, &d)
	if len(d.AttemptList) != 1 || !strings.Contains(d.AttemptList[0].Response, "Data Engineer") {
		t.Fatalf("echo attempt = %+v", d.AttemptList)
	}
	for _, s := range personal {
		if strings.Contains(d.AttemptList[0].Response, s) {
			t.Errorf("the attempt log holds %q: %s", s, d.AttemptList[0].Response)
		}
	}

	// Analytics: thin bodies of everything, linking to the record.
	for _, b := range verified(t, thinRC, thin.Secret) {
		var m map[string]any
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["data"]; ok || !strings.HasPrefix(m["record_url"].(string), "/v1/records/") {
			t.Errorf("thin body %s", b)
		}
	}
	if st := call(t, base, "GET", thinRecordURL(t, thinRC), nil, nil); st != http.StatusOK {
		t.Errorf("GET record_url: status %d", st)
	}
}

func thinRecordURL(tb testing.TB, rc *receiver) string {
	tb.Helper()
	var m struct {
		RecordURL string `json:"record_url"`
	}
	if err := json.Unmarshal(rc.got()[0].body, &m); err != nil {
		tb.Fatal(err)
	}
	return m.RecordURL
}

// TestRoutingTransformFailure: a transform that fails fails the delivery at
// once, with the reason in its attempt and nothing sent, and is not retried;
// after the fix, a retry delivers it. A filter with a syntax error is
// refused when saved, naming the position.
func TestRoutingTransformFailure(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	base := hub.URL()
	rc := newReceiver(t, nil)

	var e struct {
		Error struct {
			Code, Message, Field string
		} `json:"error"`
	}
	if st := call(t, base, "POST", "/v1/endpoints", map[string]any{"url": rc.URL, "event_types": []string{"*"},
		"filter": `.type == "placement.confirmed" and and .data`}, &e); st != 422 || e.Error.Field != "filter" ||
		!strings.Contains(e.Error.Message, "offset 35 (line 1, column 36)") {
		t.Fatalf("bad filter: status %d, %+v", st, e)
	}

	ep := routedEndpoint(t, base, map[string]any{"url": rc.URL, "event_types": []string{"placement.*"},
		"transform": `{client_code: (.data.client.code // error("placement has no client code"))}`})
	acc := sendEvent(t, base, placement("pl_1"))
	var d deliveryView
	waitFor(t, 10*time.Second, "the failed delivery", func() bool {
		d = deliveryOf(t, base, acc.ID)
		return d.State == hirehook.DeliveryFailed
	})
	if d.Attempts != 1 || len(d.AttemptList) != 1 || d.AttemptList[0].ErrorClass != "transform" ||
		d.AttemptList[0].Error != "transform error: placement has no client code" || d.AttemptList[0].StatusCode != 0 {
		t.Fatalf("failed delivery = %+v", d)
	}
	if n := len(rc.got()); n != 0 {
		t.Fatalf("the receiver got %d requests", n)
	}

	// Fix the transform, replay the delivery.
	if st := call(t, base, "PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"transform": `{client_code: (.data.client.code // .data.client.id)}`}, nil); st != 200 {
		t.Fatalf("patch: %d", st)
	}
	// The dispatcher keeps endpoints for a short TTL: retry until the fix
	// is seen.
	waitFor(t, 10*time.Second, "the replayed delivery", func() bool {
		if d = deliveryOf(t, base, acc.ID); d.State == hirehook.DeliveryFailed {
			call(t, base, "POST", "/v1/deliveries/"+d.ID+"/retry", nil, nil)
		}
		return d.State == hirehook.DeliveryDelivered
	})
	if got := verified(t, rc, ep.Secret); len(got) != 1 || got[0] != `{"client_code":"cl_1"}` {
		t.Fatalf("after the fix the receiver got %q", got)
	}
}

// TestCLIEndpointsCreateRouted: endpoints create takes the route, and a
// syntax error comes back naming the field and position.
func TestCLIEndpointsCreateRouted(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	env := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey}
	res := runCLI(t, env, "endpoints", "create", "--url", "https://board.example.com/in", "--event-types", "job.posted",
		"--filter", `.data.board == "indeed"`, "--redact", "personal_data, .data.custom_fields", "--payload", "thin")
	if res.code != 0 {
		t.Fatalf("endpoints create: exit %d", res.code)
	}
	if field(t, res.stdout, "payload") != "thin" || field(t, res.stdout, "redact") != "personal_data,.data.custom_fields" ||
		!strings.Contains(res.stdout, `filter       .data.board == "indeed"`) {
		t.Fatalf("endpoints create printed:\n%s", res.stdout)
	}
	res = runCLI(t, env, "endpoints", "create", "--url", "https://board.example.com/in", "--event-types", "job.posted", "--filter", ".data.board ==")
	if res.code == 0 || !strings.Contains(res.stderr, "filter") || !strings.Contains(res.stderr, "offset") {
		t.Fatalf("a bad filter: exit %d, stderr %s", res.code, res.stderr)
	}
}
