package storetest

import (
	"context"
	"testing"

	"github.com/hirehook/hirehook"
)

// testEventIngestTarget: an event with a TargetEndpointID (a test send)
// gets one delivery, to that endpoint, whatever the endpoint's event types
// and filter, and none to the other endpoints that subscribe to its type.
// A disabled target, or one of another tenant, gets nothing, and the event
// is stored with no delivery. The target is not stored with the event.
func testEventIngestTarget(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	must(t, s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30, CreatedAt: t0, UpdatedAt: t0}))
	everything := newEndpoint(t, s, tenant, "*")
	tested := newEndpoint(t, s, tenant, "endpoint.tested")
	target := newEndpoint(t, s, tenant, "job.posted") // subscribes to something else
	off := newEndpoint(t, s, tenant, "*")
	other := newEndpoint(t, s, "tenant_b", "*")
	nothing := `false` // a filter that selects no event
	_, err := s.EndpointUpdate(ctx, tenant, target.ID, hirehook.EndpointUpdate{Filter: &nothing, Now: t0})
	must(t, err)
	_, err = s.EndpointUpdate(ctx, tenant, off.ID, hirehook.EndpointUpdate{Disabled: new(true), Now: t0})
	must(t, err)

	// MatchFunc stands for the filters: it drops every endpoint. The
	// targeted event does not consult it; the plain one does.
	var matched []string
	drop := func(_ context.Context, e *hirehook.Event, subscribed []*hirehook.Endpoint) ([]*hirehook.Endpoint, error) {
		matched = append(matched, e.ID)
		return nil, nil
	}
	test := func(endpointID string) *hirehook.Event {
		e := newEvent(tenant, "endpoint.tested", endpointID, `{"id":"`+endpointID+`"}`)
		e.TargetEndpointID = endpointID
		return e
	}
	toTarget, toOff, toOther := test(target.ID), test(off.ID), test(other.ID)
	plain := newEvent(tenant, "endpoint.tested", target.ID, `{"id":"`+target.ID+`"}`)
	res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{toTarget, toOff, toOther, plain}, Now: t0, MatchFunc: drop})
	must(t, err)
	for i, want := range []int{1, 0, 0, 0} {
		if res[i].Deliveries != want {
			t.Errorf("event %d: %d deliveries, want %d", i, res[i].Deliveries, want)
		}
	}
	if len(matched) != 1 || matched[0] != plain.ID {
		t.Errorf("MatchFunc saw %v, want only the untargeted event %s", matched, plain.ID)
	}
	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, EventID: &toTarget.ID})
	must(t, err)
	if len(ds) != 1 || ds[0].EndpointID != target.ID || ds[0].State != hirehook.DeliveryPending {
		t.Fatalf("deliveries of the targeted event = %+v, want one pending to %s (not %s nor %s, which subscribe)", ds, target.ID, everything.ID, tested.ID)
	}
	for _, e := range []*hirehook.Event{toTarget, toOff, toOther} {
		got, err := s.EventGet(ctx, tenant, e.ID)
		must(t, err)
		if want := map[string]int{toTarget.ID: 1}[e.ID]; got.Deliveries != want {
			t.Errorf("stored event %s: %d deliveries, want %d", e.ID, got.Deliveries, want)
		}
		if got.TargetEndpointID != "" {
			t.Errorf("stored event %s kept its target %q", e.ID, got.TargetEndpointID)
		}
	}
	// The delivery is claimed and sent like any other.
	claimed := claim(t, s, "w1", t0.Add(1), 100)
	if len(claimed) != 1 || claimed[0].EventID != toTarget.ID || len(claimed[0].Payload) == 0 {
		t.Fatalf("claimed %+v, want the targeted event's delivery with its payload", claimed)
	}
}
