package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// testEndpointRouting: filter, transform, payload and redact round trip;
// an update sets, keeps and clears them; the zero values read back as no
// filter, no transform, the full payload and no redaction.
func testEndpointRouting(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)

	plain := newEndpoint(t, s, tenant, "*")
	got, err := s.EndpointGet(ctx, tenant, plain.ID)
	must(t, err)
	if got.Filter != "" || got.Transform != "" || got.Payload != hirehook.PayloadFull || got.Redact == nil || len(got.Redact) != 0 {
		t.Fatalf("zero routing read back as filter %q, transform %q, payload %q, redact %#v", got.Filter, got.Transform, got.Payload, got.Redact)
	}

	routed := &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), URL: "https://onboarding.example.com/in",
		EventTypes: []string{"placement.*"}, Headers: map[string]string{}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: t0}},
		Filter:    `.type == "placement.confirmed" and .data.client.id == "acme"`,
		Transform: `{start_date: .data.start_date, note: "it's \"quoted\"\n"}`,
		Payload:   hirehook.PayloadThin,
		Redact:    []string{".data.pay_rate", "personal_data", `.data["odd key"]`},
		CreatedAt: t0, UpdatedAt: t0}
	must(t, s.EndpointCreate(ctx, routed))
	got, err = s.EndpointGet(ctx, tenant, routed.ID)
	must(t, err)
	if diff := cmp.Diff(routed, got); diff != "" {
		t.Fatalf("EndpointGet of a routed endpoint mismatch (-want +got):\n%s", diff)
	}
	list, err := s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: tenant})
	must(t, err)
	if i := slices.IndexFunc(list, func(e *hirehook.Endpoint) bool { return e.ID == routed.ID }); i < 0 {
		t.Fatal("EndpointList lacks the routed endpoint")
	} else if diff := cmp.Diff(routed, list[i]); diff != "" {
		t.Fatalf("EndpointList of a routed endpoint mismatch (-want +got):\n%s", diff)
	}

	// An update of something else keeps the routing.
	desc := "onboarding"
	upd, err := s.EndpointUpdate(ctx, tenant, routed.ID, hirehook.EndpointUpdate{Description: &desc, Now: t0})
	must(t, err)
	if upd.Filter != routed.Filter || upd.Transform != routed.Transform || upd.Payload != routed.Payload || !slices.Equal(upd.Redact, routed.Redact) {
		t.Fatalf("EndpointUpdate of the description changed the routing: %+v", upd)
	}
	// An update sets new values, then clears them.
	filter, transform, payload, redact := `.type == "job.posted"`, ".data", hirehook.PayloadFull, []string{".data.salary"}
	_, err = s.EndpointUpdate(ctx, tenant, routed.ID, hirehook.EndpointUpdate{Filter: &filter, Transform: &transform, Payload: &payload, Redact: &redact, Now: t0})
	must(t, err)
	got, err = s.EndpointGet(ctx, tenant, routed.ID)
	must(t, err)
	if got.Filter != filter || got.Transform != transform || got.Payload != payload || !slices.Equal(got.Redact, redact) {
		t.Fatalf("after EndpointUpdate: filter %q, transform %q, payload %q, redact %q", got.Filter, got.Transform, got.Payload, got.Redact)
	}
	empty, none := "", []string{}
	_, err = s.EndpointUpdate(ctx, tenant, routed.ID, hirehook.EndpointUpdate{Filter: &empty, Transform: &empty, Redact: &none, Now: t0})
	must(t, err)
	got, err = s.EndpointGet(ctx, tenant, routed.ID)
	must(t, err)
	if got.Filter != "" || got.Transform != "" || len(got.Redact) != 0 {
		t.Fatalf("after clearing: filter %q, transform %q, redact %q", got.Filter, got.Transform, got.Redact)
	}
}

// testEventIngestMatch: MatchFunc sees the subscribers of each new event
// with their filter and redaction, and only those it returns get a
// delivery; the event's delivery count says so. An error writes nothing.
func testEventIngestMatch(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	pass := newEndpoint(t, s, tenant, "placement.*")
	drop := newEndpoint(t, s, tenant, "placement.*")
	newEndpoint(t, s, tenant, "job.*") // a subscriber of the job.posted below
	filter, redact := `.data.client.id == "acme"`, []string{"personal_data"}
	for _, ep := range []*hirehook.Endpoint{pass, drop} {
		_, err := s.EndpointUpdate(ctx, tenant, ep.ID, hirehook.EndpointUpdate{Filter: &filter, Redact: &redact, Now: t0})
		must(t, err)
	}

	var seen [][]string
	match := func(_ context.Context, e *hirehook.Event, subscribed []*hirehook.Endpoint) ([]*hirehook.Endpoint, error) {
		var ids []string
		var out []*hirehook.Endpoint
		for _, ep := range subscribed {
			if ep.Filter != filter || !slices.Equal(ep.Redact, redact) {
				t.Errorf("MatchFunc got endpoint %s with filter %q, redact %q", ep.ID, ep.Filter, ep.Redact)
			}
			if len(e.Payload) == 0 {
				t.Errorf("MatchFunc got event %s without its payload", e.ID)
			}
			ids = append(ids, ep.ID)
			if ep.ID == pass.ID {
				out = append(out, ep)
			}
		}
		seen = append(seen, ids)
		return out, nil
	}
	ev := newEvent(tenant, "placement.confirmed", "pl_1", `{"id":"pl_1","client":{"id":"acme"}}`)
	res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{ev}, Now: t0, MatchFunc: match})
	must(t, err)
	if res[0].Deliveries != 1 {
		t.Fatalf("deliveries = %d, want 1 (the other subscriber was filtered out)", res[0].Deliveries)
	}
	if want := [][]string{{pass.ID, drop.ID}}; !cmp.Equal(seen, want) {
		t.Fatalf("MatchFunc saw %v, want %v (only the subscribers)", seen, want)
	}
	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, EventID: &ev.ID})
	must(t, err)
	if len(ds) != 1 || ds[0].EndpointID != pass.ID {
		t.Fatalf("deliveries = %+v, want one to %s", ds, pass.ID)
	}
	stored, err := s.EventGet(ctx, tenant, ev.ID)
	must(t, err)
	if stored.Deliveries != 1 {
		t.Fatalf("stored event has %d deliveries, want 1", stored.Deliveries)
	}

	// An event no one subscribes to does not call MatchFunc.
	seen = nil
	job := newEvent(tenant, "candidate.created", "c_1", `{"id":"c_1"}`)
	_, err = s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{job}, Now: t0, MatchFunc: match})
	must(t, err)
	if len(seen) != 0 {
		t.Fatalf("MatchFunc called for an event without subscribers: %v", seen)
	}

	// An error fails the whole batch.
	boom := errors.New("boom")
	a := newEvent(tenant, "job.posted", "job_1", `{"id":"job_1"}`)
	b := newEvent(tenant, "placement.confirmed", "pl_2", `{"id":"pl_2"}`)
	_, err = s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{a, b}, Now: t0,
		MatchFunc: func(context.Context, *hirehook.Event, []*hirehook.Endpoint) ([]*hirehook.Endpoint, error) {
			return nil, boom
		}})
	if !errors.Is(err, boom) {
		t.Fatalf("EventIngest error = %v, want boom", err)
	}
	for _, e := range []*hirehook.Event{a, b} {
		_, err := s.EventGet(ctx, tenant, e.ID)
		wantCode(t, err, hirehook.ENOTFOUND)
	}
}
