package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// testDeliveryCompleteBatch checks that DeliveryComplete applies a batch as if its
// results were written one after another: results without the lease are
// skipped and not counted, a delivery named twice is completed once, and
// the last result that disables an endpoint sets its reason.
func testDeliveryCompleteBatch(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: "https://example.com/h", EventTypes: []string{"*"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := s.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	var evs []*hirehook.Event
	for i := range 12 {
		evs = append(evs, &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", OccurredAt: now,
			Subject: hirehook.Subject{Entity: "candidate", ID: fmt.Sprint(i)}, Data: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))})
	}
	if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: evs, Now: now}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w1", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 12})
	if err != nil || len(ds) != 12 {
		t.Fatalf("claimed %d (%v)", len(ds), err)
	}
	result := func(i int, owner string, state hirehook.DeliveryState, disable string) hirehook.DeliveryResult {
		return hirehook.DeliveryResult{DeliveryID: ds[i].ID, TenantID: ds[i].TenantID, LeaseOwner: owner, State: state, NextAttemptAt: now.Add(time.Hour),
			DisableEndpoint: disable, Attempt: hirehook.Attempt{StartedAt: now, Duration: time.Millisecond, StatusCode: 410, ErrorClass: hirehook.ErrorClassStatus}}
	}
	check := func(i int, state hirehook.DeliveryState, attempts int) {
		t.Helper()
		d, as, err := s.DeliveryGet(ctx, hirehook.DefaultTenantID, ds[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != state || d.Attempts != attempts || len(as) != attempts || (state != hirehook.DeliveryDelivering && state != hirehook.DeliveryPaused && (state == hirehook.DeliveryRetrying) != (d.NextAttemptAt != nil)) {
			t.Errorf("delivery %d: state %s, %d attempts (%d rows), next %v; want %s, %d", i, d.State, d.Attempts, len(as), d.NextAttemptAt, state, attempts)
		}
	}
	reason := func() string {
		t.Helper()
		e, err := s.EndpointGet(ctx, hirehook.DefaultTenantID, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return e.DisabledReason
	}

	// A batch of distinct deliveries that disables the endpoint.
	n, err := s.DeliveryComplete(ctx, []hirehook.DeliveryResult{
		result(0, "intruder", hirehook.DeliveryDelivered, ""),
		result(1, "w1", hirehook.DeliveryRetrying, ""),
		result(2, "w1", hirehook.DeliveryFailed, "first"),
		result(3, "w1", hirehook.DeliveryFailed, "second"),
		result(4, "intruder", hirehook.DeliveryFailed, "intruder"),
	})
	if err != nil || n != 3 {
		t.Fatalf("applied %d (%v), want 3", n, err)
	}
	check(0, hirehook.DeliveryDelivering, 0)
	// To be retried, but the batch disabled its endpoint: paused.
	check(1, hirehook.DeliveryPaused, 1)
	check(2, hirehook.DeliveryFailed, 1)
	check(3, hirehook.DeliveryFailed, 1)
	check(4, hirehook.DeliveryDelivering, 0)
	if got := reason(); got != "second" {
		t.Errorf("endpoint disabled for %q, want the last applied reason", got)
	}

	// A batch that names deliveries more than once.
	n, err = s.DeliveryComplete(ctx, []hirehook.DeliveryResult{
		result(5, "intruder", hirehook.DeliveryDelivered, ""),
		result(5, "w1", hirehook.DeliveryRetrying, ""),
		result(5, "w1", hirehook.DeliveryDelivered, ""),
		result(6, "w1", hirehook.DeliveryFailed, "third"),
		result(7, "w1", hirehook.DeliveryDelivered, ""),
		result(6, "w1", hirehook.DeliveryFailed, "ignored"),
	})
	if err != nil || n != 3 {
		t.Fatalf("applied %d (%v), want 3", n, err)
	}
	check(5, hirehook.DeliveryPaused, 1) // its endpoint is disabled

	check(6, hirehook.DeliveryFailed, 1)
	check(7, hirehook.DeliveryDelivered, 1)
	if got := reason(); got != "third" {
		t.Errorf("endpoint disabled for %q, want %q", got, "third")
	}

	// Distinct deliveries, one of them without the lease, nothing disabled.
	n, err = s.DeliveryComplete(ctx, []hirehook.DeliveryResult{
		result(8, "w1", hirehook.DeliveryDelivered, ""),
		result(9, "intruder", hirehook.DeliveryDelivered, ""),
		result(10, "w1", hirehook.DeliveryFailed, ""),
		result(11, "w1", hirehook.DeliveryDelivered, ""),
	})
	if err != nil || n != 3 {
		t.Fatalf("applied %d (%v), want 3", n, err)
	}
	check(8, hirehook.DeliveryDelivered, 1)
	check(9, hirehook.DeliveryDelivering, 0)
	check(10, hirehook.DeliveryFailed, 1)
	check(11, hirehook.DeliveryDelivered, 1)
}
