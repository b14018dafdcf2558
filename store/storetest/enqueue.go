package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// testBackfillEnqueueInput: BackfillEnqueue stores an event given without
// a payload with the payload it renders, and leaves the caller's events as
// they were (its transaction may run again, and a caller may reuse them).
func testBackfillEnqueueInput(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "candidate.snapshot")
	b := &hirehook.Backfill{TenantID: tenant, ID: hirehook.NewID("bf"), EndpointID: ep.ID, Entities: []string{"candidate"},
		RatePerSecond: 50, State: hirehook.BackfillRunning, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.BackfillCreate(ctx, b))
	_, err := s.BackfillLease(ctx, hirehook.BackfillLeaseParams{Owner: "a", Now: t0, Until: t0.Add(time.Minute), Limit: 1})
	must(t, err)
	e := newEvent(tenant, "candidate.snapshot", "c1", `{"id":"c1","first_name":"Ada"}`)
	want, err := e.RenderPayload()
	must(t, err)
	must(t, s.BackfillEnqueue(ctx, hirehook.BackfillEnqueueParams{TenantID: tenant, BackfillID: b.ID, Owner: "a",
		Events: []*hirehook.Event{e}, Cursor: hirehook.BackfillCursor{Entity: "candidate", ID: "c1"}, Scanned: 1, Now: t0}))
	if e.Payload != nil {
		t.Fatalf("BackfillEnqueue set the caller's event payload to %.60q, want it left nil", e.Payload)
	}
	stored, err := s.EventGet(ctx, tenant, e.ID)
	must(t, err)
	if string(stored.Payload) != string(want) {
		t.Fatalf("stored payload = %.80q, want %.80q", stored.Payload, want)
	}
}
