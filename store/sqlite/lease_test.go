package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlite"
)

// A hub killed with deliveries leased leaves them delivering; the hub that
// starts next on the file releases them, due at once (paused for a
// disabled endpoint), rather than waiting for the leases to run out.
func TestDeliveryReleaseAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, ep := range []struct {
		id, typ  string
		disabled bool
	}{{"ep_live", "candidate.created", false}, {"ep_off", "candidate.updated", true}} {
		if err := s.EndpointCreate(ctx, &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: ep.id, URL: "https://example.com/" + ep.id,
			EventTypes: []string{ep.typ}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	event := func(typ string, i int) *hirehook.Event {
		return &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: typ, OccurredAt: now, Source: "test",
			Subject: hirehook.Subject{Entity: "candidate", ID: fmt.Sprint(i)}, Data: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))}
	}
	// The hub that died held three deliveries; one more is pending.
	if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{
		event("candidate.created", 1), event("candidate.created", 2), event("candidate.updated", 3),
	}, Now: now, LeaseOwner: "node_killed", LeaseUntil: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{event("candidate.created", 4)}, Now: now}); err != nil {
		t.Fatal(err)
	}
	off := true
	if _, err := s.EndpointUpdate(ctx, hirehook.DefaultTenantID, "ep_off", hirehook.EndpointUpdate{Disabled: &off, Now: now}); err != nil {
		t.Fatal(err)
	}

	n, err := s.DeliveryReleaseAll(ctx, now.Add(time.Second))
	if err != nil || n != 3 {
		t.Fatalf("DeliveryReleaseAll = %d, %v; want 3", n, err)
	}
	got, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "node_new", Now: now.Add(time.Second), LeaseUntil: now.Add(time.Hour), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("claimed %d deliveries after the release, want 3 (the two released to ep_live and the pending one)", len(got))
	}
	paused := hirehook.DeliveryPaused
	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, State: &paused})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].EndpointID != "ep_off" {
		t.Errorf("paused deliveries %+v, want the one to the disabled endpoint", ds)
	}
	if n, err := s.DeliveryReleaseAll(ctx, now.Add(2*time.Second)); err != nil || n != 3 {
		t.Errorf("second DeliveryReleaseAll = %d, %v; want the 3 leased to node_new", n, err)
	}
}
