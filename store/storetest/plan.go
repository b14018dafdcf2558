package storetest

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// testEventIngestPlan: EventIngest runs MatchFunc (users' filters) before
// its write, not while it holds the store's writer, and writes against the
// endpoints as they are when it writes: an endpoint created after the
// match and before the write gets its delivery.
func testEventIngestPlan(t *testing.T, newStore NewStoreFunc) {
	t.Run("MatchOutsideWrite", func(t *testing.T) {
		s := newStore(t)
		newEndpoint(t, s, tenant, "candidate.*")
		// A MatchFunc that writes to the same store: were it called while
		// the ingest holds the writer, it would wait for itself until the
		// deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		calls := 0
		match := func(ctx context.Context, e *hirehook.Event, subscribed []*hirehook.Endpoint) ([]*hirehook.Endpoint, error) {
			calls++
			err := s.AuditAppend(ctx, &hirehook.AuditEntry{ID: hirehook.NewID("aud"), TenantID: tenant, At: t0, Action: "test.matched",
				Target: e.ID, Details: json.RawMessage(`{}`)})
			if err != nil {
				return nil, err
			}
			return subscribed, nil
		}
		ev := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
		res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{ev}, Now: t0, MatchFunc: match})
		if err != nil {
			t.Fatalf("EventIngest with a MatchFunc that writes to the store: %v (MatchFunc ran while the write was held)", err)
		}
		if calls == 0 || res[0].Deliveries != 1 {
			t.Fatalf("MatchFunc called %d times, %d deliveries; want it called, 1 delivery", calls, res[0].Deliveries)
		}
	})

	t.Run("EndpointCreatedDuringMatch", func(t *testing.T) {
		ctx := context.Background()
		s := newStore(t)
		first := newEndpoint(t, s, tenant, "candidate.*")
		var late atomic.Pointer[hirehook.Endpoint]
		var calls atomic.Int32
		// The first call creates an endpoint of the tenant that subscribes
		// too: the write must see that the endpoints changed since the
		// match and match again, so that the new one gets its delivery.
		match := func(ctx context.Context, e *hirehook.Event, subscribed []*hirehook.Endpoint) ([]*hirehook.Endpoint, error) {
			if calls.Add(1) == 1 {
				mctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				ep := &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), URL: "https://late.example.com/hooks",
					EventTypes: []string{"candidate.created"}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: t0}},
					CreatedAt: t0, UpdatedAt: t0}
				if err := s.EndpointCreate(mctx, ep); err != nil {
					return nil, err
				}
				late.Store(ep)
			}
			return subscribed, nil
		}
		ev := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
		res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{ev}, Now: t0, MatchFunc: match})
		must(t, err)
		if late.Load() == nil {
			t.Fatal("MatchFunc did not create the late endpoint")
		}
		ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, EventID: &ev.ID})
		must(t, err)
		got := map[string]bool{}
		for _, d := range ds {
			got[d.EndpointID] = true
		}
		if res[0].Deliveries != 2 || len(ds) != 2 || !got[first.ID] || !got[late.Load().ID] {
			t.Fatalf("deliveries = %d (%v), want 2: to %s and to %s, created during the match", res[0].Deliveries, got, first.ID, late.Load().ID)
		}
		if n := calls.Load(); n != 2 {
			t.Fatalf("MatchFunc called %d times, want 2 (matched again with the new endpoint)", n)
		}
	})

	t.Run("EndpointsKeepChanging", func(t *testing.T) {
		// Endpoints of the tenant that change during every match: the
		// store gives up, unavailable, rather than match inside its write
		// (where this MatchFunc would wait for itself), and writes nothing.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s := newStore(t)
		newEndpoint(t, s, tenant, "candidate.*")
		calls := 0
		match := func(ctx context.Context, e *hirehook.Event, subscribed []*hirehook.Endpoint) ([]*hirehook.Endpoint, error) {
			calls++
			ep := &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), URL: "https://late.example.com/hooks",
				EventTypes: []string{"candidate.created"}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: t0}},
				CreatedAt: t0, UpdatedAt: t0}
			return subscribed, s.EndpointCreate(ctx, ep)
		}
		ev := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
		_, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{ev}, Now: t0, MatchFunc: match})
		wantCode(t, err, hirehook.EUNAVAILABLE)
		if calls < 2 {
			t.Errorf("MatchFunc called %d times, want the batch matched again at least once", calls)
		}
		if _, err := s.EventGet(context.Background(), tenant, ev.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
			t.Errorf("event of a batch given up: %v, want not_found", err)
		}
	})
}
