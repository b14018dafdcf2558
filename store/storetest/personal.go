package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// ingestAt ingests events as received at now.
func ingestAt(tb testing.TB, s hirehook.Store, now time.Time, events ...*hirehook.Event) {
	tb.Helper()
	_, err := s.EventIngest(context.Background(), hirehook.EventIngestParams{Events: events, Now: now})
	must(tb, err)
}

// complete records one attempt of each claimed delivery, all ending in
// state, with the delivery's payload echoed as the response body (as many
// receivers do).
func complete(tb testing.TB, s hirehook.Store, owner string, ds []*hirehook.Delivery, state hirehook.DeliveryState, at time.Time) {
	tb.Helper()
	var results []hirehook.DeliveryResult
	for _, d := range ds {
		results = append(results, hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: owner, State: state,
			Attempt: hirehook.Attempt{StartedAt: at, Duration: time.Millisecond, StatusCode: 200, ResponseBody: "echo " + string(d.Payload)}})
	}
	n, err := s.DeliveryComplete(context.Background(), results)
	must(tb, err)
	if n != len(ds) {
		tb.Fatalf("applied %d results of %d", n, len(ds))
	}
}

// deliveryOf returns the only delivery of an event.
func deliveryOf(tb testing.TB, s hirehook.Store, tenantID, eventID string) (*hirehook.Delivery, []*hirehook.Attempt) {
	tb.Helper()
	ds, err := s.DeliveryList(context.Background(), hirehook.DeliveryFilter{TenantID: tenantID, EventID: &eventID})
	must(tb, err)
	if len(ds) != 1 {
		tb.Fatalf("event %s has %d deliveries, want 1", eventID, len(ds))
	}
	d, attempts, err := s.DeliveryGet(context.Background(), tenantID, ds[0].ID)
	must(tb, err)
	return d, attempts
}

func testRetentionPurge(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	// The default tenant keeps 30 days; "archive" keeps 90.
	must(t, s.TenantCreate(ctx, &hirehook.Tenant{ID: "archive", Name: "Archive", RetentionDays: 90, CreatedAt: t0, UpdatedAt: t0}))
	ep := newEndpoint(t, s, tenant, "*")
	newEndpoint(t, s, "archive", "*")
	now := t0.Add(40 * 24 * time.Hour) // t0 is 40 days before now
	fresh := now.Add(-time.Hour)

	var old []*hirehook.Event
	for _, id := range []string{"c1", "c2", "c3"} {
		e := newEvent(tenant, "candidate.created", id, `{"id":"`+id+`","email":"`+id+`@example.org"}`)
		e.Changes = json.RawMessage(`{"email":{"from":null,"to":"x@example.org"}}`)
		old = append(old, e)
	}
	kept := newEvent("archive", "candidate.created", "c1", `{"id":"c1","email":"archive@example.org"}`)
	young := newEvent(tenant, "candidate.created", "c9", `{"id":"c9","email":"young@example.org"}`)
	ingestAt(t, s, t0, old[0], old[1], old[2], kept)
	ingestAt(t, s, fresh, young)
	// Attempts 40 days old: two delivered, one failed, and archive's one.
	ds := claim(t, s, "w1", t0, 10)
	if len(ds) != 4 {
		t.Fatalf("claimed %d, want 4", len(ds))
	}
	var failed []*hirehook.Delivery
	for i, d := range ds {
		if d.EventID == old[2].ID {
			failed = append(failed, d)
			ds = append(ds[:i], ds[i+1:]...)
			break
		}
	}
	complete(t, s, "w1", ds, hirehook.DeliveryDelivered, t0)
	complete(t, s, "w1", failed, hirehook.DeliveryFailed, t0)
	complete(t, s, "w2", claim(t, s, "w2", fresh, 10), hirehook.DeliveryDelivered, fresh)
	// A fourth old event whose delivery is still pending when purged.
	pending := newEvent(tenant, "candidate.created", "c4", `{"id":"c4"}`)
	ingestAt(t, s, t0, pending)
	// Raw requests: three old ones, a young one, and archive's old one.
	src := newSource(t, s, tenant, true)
	archiveSrc := newSource(t, s, "archive", true)
	var oldInbound []*hirehook.InboundRequest
	for i := range 3 {
		oldInbound = append(oldInbound, newInbound(t, s, src, hirehook.InboundReceived, fmt.Sprintf("old-%d", i), `{"id":"c1"}`, t0.Add(time.Duration(i)*time.Second), &t0))
	}
	youngInbound := newInbound(t, s, src, hirehook.InboundReceived, "young", `{"id":"c9"}`, fresh, &fresh)
	keptInbound := newInbound(t, s, archiveSrc, hirehook.InboundReceived, "kept", `{"id":"c1"}`, t0, &t0)

	_, err := s.RetentionPurge(ctx, hirehook.RetentionPurgeParams{Now: now, Limit: 0})
	wantCode(t, err, hirehook.EINVALID)
	// Limit 2 a call: 4 old events, 3 old attempts and 3 old requests
	// take two full calls and an empty one; archive's and the fresh ones
	// are never touched.
	var got []hirehook.RetentionPurgeResult
	for range 3 {
		res, err := s.RetentionPurge(ctx, hirehook.RetentionPurgeParams{Now: now, Limit: 2})
		must(t, err)
		got = append(got, res)
	}
	want := []hirehook.RetentionPurgeResult{{Events: 2, Attempts: 2, InboundRequests: 2}, {Events: 2, Attempts: 1, InboundRequests: 1}, {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("RetentionPurge counts (-want +got):\n%s", diff)
	}
	for _, r := range oldInbound {
		_, err := s.InboundGet(ctx, tenant, src.ID, r.ID)
		wantCode(t, err, hirehook.ENOTFOUND)
	}
	rs, err := s.InboundList(ctx, hirehook.InboundFilter{TenantID: tenant, SourceID: src.ID})
	must(t, err)
	if diff := cmp.Diff([]string{youngInbound.ID}, inboundIDs(rs)); diff != "" {
		t.Fatalf("inbound requests after the purge (-want +got):\n%s", diff)
	}
	if _, err := s.InboundGet(ctx, "archive", archiveSrc.ID, keptInbound.ID); err != nil {
		t.Fatalf("inbound request within archive's retention: %v", err)
	}

	for _, e := range append(old, pending) {
		p, err := s.EventGet(ctx, tenant, e.ID)
		must(t, err)
		if !p.Purged || string(p.Data) != "null" || len(p.Changes) != 0 {
			t.Fatalf("purged event: purged=%v data=%s changes=%s", p.Purged, p.Data, p.Changes)
		}
		if p.ID != e.ID || p.Type != e.Type || p.Subject != e.Subject || !p.OccurredAt.Equal(t0) || !p.ReceivedAt.Equal(t0) || p.Deliveries != 1 || p.Source != "test" {
			t.Fatalf("purged event lost its log fields: %+v", p)
		}
		var body map[string]any
		must(t, json.Unmarshal(p.Payload, &body))
		wantBody := map[string]any{"id": e.ID, "type": e.Type, "timestamp": t0.Format(time.RFC3339), "source": "test",
			"subject": map[string]any{"entity": e.Subject.Entity, "id": e.Subject.ID}, "data": nil, "purged": true}
		if diff := cmp.Diff(wantBody, body); diff != "" {
			t.Fatalf("tombstone (-want +got):\n%s", diff)
		}
	}
	list, err := s.EventList(ctx, hirehook.EventFilter{TenantID: tenant})
	must(t, err)
	for _, e := range list {
		if e.Purged != (e.ID != young.ID) {
			t.Fatalf("EventList: event %s purged=%v", e.ID, e.Purged)
		}
	}
	for _, c := range []struct {
		tenantID string
		e        *hirehook.Event
	}{{"archive", kept}, {tenant, young}} {
		e, err := s.EventGet(ctx, c.tenantID, c.e.ID)
		must(t, err)
		if e.Purged || !jsonEqual(t, e.Data, c.e.Data) {
			t.Fatalf("event within retention was purged: %+v", e)
		}
		_, attempts := deliveryOf(t, s, c.tenantID, c.e.ID)
		if len(attempts) != 1 || !strings.HasPrefix(attempts[0].ResponseBody, "echo ") {
			t.Fatalf("attempt within retention lost its body: %+v", attempts)
		}
	}
	for _, e := range old {
		d, attempts := deliveryOf(t, s, tenant, e.ID)
		if len(attempts) != 1 || attempts[0].ResponseBody != "" || attempts[0].StatusCode != 200 || !attempts[0].StartedAt.Equal(t0) {
			t.Fatalf("old attempt after purge: %+v", attempts)
		}
		// A tombstone is never sent: no retry, no recover.
		_, err := s.DeliveryRetry(ctx, tenant, d.ID, now)
		wantCode(t, err, hirehook.EINVALID)
		if msg := hirehook.ErrorMessage(err); !strings.Contains(msg, "purged by retention") {
			t.Fatalf("retry of a purged event: %q", msg)
		}
	}
	n, err := s.DeliveryRecover(ctx, hirehook.DeliveryRecoverParams{TenantID: tenant, EndpointID: ep.ID, Since: t0.Add(-time.Minute), Now: now})
	must(t, err)
	if n != 0 {
		t.Fatalf("recovered %d deliveries of purged events", n)
	}
	if d, _ := deliveryOf(t, s, tenant, pending.ID); d.State != hirehook.DeliveryCancelled {
		t.Fatalf("pending delivery of a purged event: %s, want cancelled", d.State)
	}
	if got := claim(t, s, "w3", now, 10); len(got) != 0 {
		t.Fatalf("claimed %d deliveries after the purge", len(got))
	}
}

func testCandidateErase(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	must(t, s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30, CreatedAt: t0, UpdatedAt: t0}))
	const person = `"first_name":"Zebulon","last_name":"Quixote-Farthingale","email":"zebulon.qf@example.org"`
	created := newEvent(tenant, "candidate.created", "c1", `{"id":"c1",`+person+`,"phone":"+1 555 0100"}`)
	updated := newEvent(tenant, "candidate.updated", "c1", `{"id":"c1","email":"zq@example.net"}`)
	updated.Changes = json.RawMessage(`{"email":{"from":"zebulon.qf@example.org","to":"zq@example.net"}}`)
	app := newEvent(tenant, "application.created", "a1", `{"id":"a1","stage":"screen","candidate":{"id":"c1",`+person+`},"job":{"id":"j1","title":"Welder"}}`)
	app.Changes = json.RawMessage(`{"candidate.email":{"from":null,"to":"zebulon.qf@example.org"},"stage":{"from":null,"to":"screen"}}`)
	placement := newEvent(tenant, "placement.confirmed", "pl1", `{"id":"pl1","candidate_id":"c1","candidate":{"id":"c1",`+person+`},"status":"confirmed"}`)
	byRef := newEvent(tenant, "offer.created", "o1", `{"id":"o1","candidate_id":"c1"}`)
	other := newEvent(tenant, "candidate.created", "c2", `{"id":"c2","first_name":"Ada"}`)
	otherTenant := newEvent("tenant_b", "candidate.created", "c1", `{"id":"c1",`+person+`}`)
	ingest(t, s, created, updated, app, placement, byRef, other, otherTenant)
	ds := claim(t, s, "w1", t0, 10)
	if len(ds) != 6 {
		t.Fatalf("claimed %d, want 6", len(ds))
	}
	var failed []*hirehook.Delivery
	for i, d := range ds {
		if d.EventID == created.ID {
			failed = append(failed, d)
			ds = append(ds[:i], ds[i+1:]...)
			break
		}
	}
	complete(t, s, "w1", ds, hirehook.DeliveryDelivered, t0)
	complete(t, s, "w1", failed, hirehook.DeliveryFailed, t0)
	// One more event about the candidate, not sent yet when they are erased.
	late := newEvent(tenant, "candidate.updated", "c1", `{"id":"c1","last_name":"Q-F"}`)
	ingest(t, s, late)
	before, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant})
	must(t, err)
	// Raw requests: two became touched events (one also an untouched
	// one), one only c2's event, one not yet normalised, and tenant_b's.
	src := newSource(t, s, tenant, true)
	srcB := newSource(t, s, "tenant_b", true)
	rawBody := `{"candidate":{"id":"c1",` + person + `}}`
	inApp := newInbound(t, s, src, hirehook.InboundReceived, "app", rawBody, t0, &t0)
	processInbound(t, s, inApp, t0, app.ID, other.ID)
	inLate := newInbound(t, s, src, hirehook.InboundReceived, "late", rawBody, t0, &t0)
	processInbound(t, s, inLate, t0, late.ID)
	inOther := newInbound(t, s, src, hirehook.InboundReceived, "other", `{"id":"c2"}`, t0, &t0)
	processInbound(t, s, inOther, t0, other.ID)
	inNew := newInbound(t, s, src, hirehook.InboundReceived, "new", rawBody, t0, &t0)
	inB := newInbound(t, s, srcB, hirehook.InboundReceived, "b", rawBody, t0, &t0)
	processInbound(t, s, inB, t0, otherTenant.ID)

	_, err = s.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: tenant, CandidateID: "c404", Now: t0})
	wantCode(t, err, hirehook.ENOTFOUND)
	_, err = s.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: "tenant_b", CandidateID: "c2", Now: t0})
	wantCode(t, err, hirehook.ENOTFOUND)
	_, err = s.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: tenant, CandidateID: "", Now: t0})
	wantCode(t, err, hirehook.EINVALID)

	erasedAt := t0.Add(time.Hour)
	res, err := s.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: tenant, CandidateID: "c1", Now: erasedAt})
	must(t, err)
	// Events: 3 about c1 + app, placement and the offer that names c1.
	// Records: c1, a1 and pl1 (o1 holds only the id). Attempts: the five
	// echoes of touched events (not c2's). Inbound requests: the two that
	// became touched events.
	if want := (hirehook.CandidateEraseResult{Events: 6, Records: 3, Attempts: 5, InboundRequests: 2}); res != want {
		t.Fatalf("CandidateErase = %+v, want %+v", res, want)
	}
	for _, c := range []struct {
		tenantID, sourceID string
		r                  *hirehook.InboundRequest
		body               string // "" for none
	}{
		{tenant, src.ID, inApp, ""},
		{tenant, src.ID, inLate, ""},
		{tenant, src.ID, inOther, `{"id":"c2"}`},
		{tenant, src.ID, inNew, rawBody},
		{"tenant_b", srcB.ID, inB, rawBody},
	} {
		got, err := s.InboundGet(ctx, c.tenantID, c.sourceID, c.r.ID)
		must(t, err)
		if string(got.Body) != c.body || (c.body == "") != (got.Body == nil) || got.BodySize != c.r.BodySize || got.Status != c.r.Status && got.Status != hirehook.InboundProcessed {
			t.Errorf("inbound request %s after erasure: %s, body %q (size %d), want body %q (size %d)", c.r.ID, got.Status, got.Body, got.BodySize, c.body, c.r.BodySize)
		}
	}

	wantData := map[string]string{
		created.ID:   `{"id":"c1"}`,
		updated.ID:   `{"id":"c1"}`,
		late.ID:      `{"id":"c1"}`,
		app.ID:       `{"id":"a1","stage":"screen","candidate":{"id":"c1"},"job":{"id":"j1","title":"Welder"}}`,
		placement.ID: `{"id":"pl1","candidate_id":"c1","candidate":{"id":"c1"},"status":"confirmed"}`,
		byRef.ID:     `{"id":"o1","candidate_id":"c1"}`,
		other.ID:     `{"id":"c2","first_name":"Ada"}`,
	}
	wantChanges := map[string]string{app.ID: `{"stage":{"from":null,"to":"screen"}}`}
	list, err := s.EventList(ctx, hirehook.EventFilter{TenantID: tenant})
	must(t, err)
	if len(list) != len(wantData) {
		t.Fatalf("%d events after erasure, want %d", len(list), len(wantData))
	}
	for _, e := range list {
		if !jsonEqual(t, e.Data, json.RawMessage(wantData[e.ID])) {
			t.Errorf("event %s (%s) data = %s, want %s", e.ID, e.Type, e.Data, wantData[e.ID])
		}
		if !jsonEqual(t, e.Changes, json.RawMessage(wantChanges[e.ID])) {
			t.Errorf("event %s (%s) changes = %s, want %s", e.ID, e.Type, e.Changes, wantChanges[e.ID])
		}
		if e.Deliveries != 1 || e.Purged {
			t.Errorf("event %s lost its log fields: %+v", e.ID, e)
		}
		for _, pii := range []string{"Zebulon", "Quixote", "zebulon.qf@", "zq@example.net", "555 0100"} {
			if strings.Contains(string(e.Payload), pii) {
				t.Errorf("event %s payload still holds %q: %s", e.ID, pii, e.Payload)
			}
		}
		var body hirehook.WebhookPayload
		must(t, json.Unmarshal(e.Payload, &body))
		if body.ID != e.ID || body.Type != e.Type || body.Subject != e.Subject {
			t.Errorf("event %s payload lost its envelope: %s", e.ID, e.Payload)
		}
	}

	rec, err := s.RecordGet(ctx, tenant, "candidate", "c1")
	must(t, err)
	if !jsonEqual(t, rec.Data, json.RawMessage(`{"id":"c1"}`)) || rec.Version != 3 || rec.LastEventID != late.ID {
		t.Fatalf("erased record = %+v (data %s); want only the id, version 3", rec, rec.Data)
	}
	for _, c := range []struct{ entity, id, want string }{
		{"application", "a1", wantData[app.ID]},
		{"placement", "pl1", wantData[placement.ID]},
		{"offer", "o1", wantData[byRef.ID]},
		{"candidate", "c2", wantData[other.ID]},
	} {
		rec, err := s.RecordGet(ctx, tenant, c.entity, c.id)
		must(t, err)
		if !jsonEqual(t, rec.Data, json.RawMessage(c.want)) {
			t.Errorf("record %s/%s = %s, want %s", c.entity, c.id, rec.Data, c.want)
		}
	}

	// Delivery history still adds up: every delivery and attempt is there.
	after, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant})
	must(t, err)
	if len(after) != len(before) {
		t.Fatalf("%d deliveries after erasure, %d before", len(after), len(before))
	}
	for _, d := range after {
		d, attempts, err := s.DeliveryGet(ctx, tenant, d.ID)
		must(t, err)
		switch d.EventID {
		case late.ID:
			if d.State != hirehook.DeliveryCancelled || len(attempts) != 0 {
				t.Errorf("unsent delivery of an erased event: %s, %d attempts; want cancelled", d.State, len(attempts))
			}
		case other.ID:
			if len(attempts) != 1 || attempts[0].ResponseBody == "" {
				t.Errorf("another candidate's attempt lost its body: %+v", attempts)
			}
		default:
			if len(attempts) != 1 || attempts[0].ResponseBody != "" || attempts[0].StatusCode != 200 {
				t.Errorf("attempt of touched event %s: %+v", d.EventID, attempts)
			}
		}
	}
	// Events about the candidate are tombstones now: never sent again. An
	// event that only embedded them is still an event: it may be.
	createdDelivery, _ := deliveryOf(t, s, tenant, created.ID)
	_, err = s.DeliveryRetry(ctx, tenant, createdDelivery.ID, erasedAt)
	wantCode(t, err, hirehook.EINVALID)
	if msg := hirehook.ErrorMessage(err); !strings.Contains(msg, "erased") {
		t.Fatalf("retry of an erased event: %q", msg)
	}
	n, err := s.DeliveryRecover(ctx, hirehook.DeliveryRecoverParams{TenantID: tenant, EndpointID: ep.ID, Since: t0.Add(-time.Minute), Now: erasedAt})
	must(t, err)
	if n != 0 {
		t.Fatalf("recovered %d deliveries of erased events", n)
	}
	appDelivery, _ := deliveryOf(t, s, tenant, app.ID)
	if _, err := s.DeliveryRetry(ctx, tenant, appDelivery.ID, erasedAt); err != nil {
		t.Fatalf("retry of an event that embedded the candidate: %v", err)
	}

	// Another tenant's candidate with the same id is untouched.
	e, err := s.EventGet(ctx, "tenant_b", otherTenant.ID)
	must(t, err)
	if !jsonEqual(t, e.Data, otherTenant.Data) {
		t.Fatalf("tenant_b's event = %s", e.Data)
	}
	rec, err = s.RecordGet(ctx, "tenant_b", "candidate", "c1")
	must(t, err)
	if !jsonEqual(t, rec.Data, otherTenant.Data) {
		t.Fatalf("tenant_b's record = %s", rec.Data)
	}

	// Erasing again is safe: the same rows, nothing left to clear.
	res, err = s.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: tenant, CandidateID: "c1", Now: erasedAt})
	must(t, err)
	if want := (hirehook.CandidateEraseResult{Events: 6, Records: 3}); res != want {
		t.Fatalf("second CandidateErase = %+v, want %+v", res, want)
	}
}
