package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// testSourceLeaseLimit: a node that holds more sources than its limit
// (it was started again with a lower one) keeps the first p.Limit of them
// and gives up the others at once, so that another node takes them at its
// next lease instead of after the lease runs out: SourceLease leases "at
// most p.Limit in all, and returns every source p.Owner now holds".
func testSourceLeaseLimit(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	a := newSource(t, s, tenant, true)
	b := newSource(t, s, tenant, true)
	c := newSource(t, s, tenant, true)
	now := time.Now().UTC().Truncate(time.Microsecond)
	lease := func(owner string, at time.Time, limit int) []string {
		t.Helper()
		srcs, err := s.SourceLease(ctx, hirehook.SourceLeaseParams{Owner: owner, Now: at, Until: at.Add(30 * time.Second), Limit: limit})
		must(t, err)
		return sourceIDs(srcs)
	}
	if diff := cmp.Diff([]string{a.ID, b.ID, c.ID}, lease("node-1", now, 0)); diff != "" {
		t.Fatalf("node-1 lease without a limit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{a.ID, b.ID}, lease("node-1", now.Add(time.Second), 2)); diff != "" {
		t.Fatalf("node-1 lease with a limit of 2 (-want +got):\n%s", diff)
	}
	got, err := s.SourceGet(ctx, tenant, c.ID)
	must(t, err)
	if got.Health.Node != "" {
		t.Fatalf("source beyond node-1's limit still names node %q", got.Health.Node)
	}
	if diff := cmp.Diff([]string{c.ID}, lease("node-2", now.Add(2*time.Second), 0)); diff != "" {
		t.Fatalf("node-2 lease of the source node-1 gave up (-want +got):\n%s", diff)
	}
	// Within its limit a node renews what it holds before it takes more.
	if diff := cmp.Diff([]string{a.ID, b.ID}, lease("node-1", now.Add(3*time.Second), 3)); diff != "" {
		t.Fatalf("node-1 renewal within its limit (-want +got):\n%s", diff)
	}
}
