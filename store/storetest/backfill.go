package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// testBackfill: RecordList pages in id order without deleted records;
// a backfill round-trips; BackfillEnqueue writes snapshot events with one
// pending delivery each to the backfill's endpoint only, leaves records
// alone and advances the cursor; only the lease holder of a running
// backfill may enqueue or finish; leases expire and move; cancel stops it;
// tenant delete removes it.
func testBackfill(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)

	other := newEndpoint(t, s, tenant, "*") // subscribes to everything, gets no snapshot
	for _, id := range []string{"c3", "c1", "c2", "c4"} {
		ingest(t, s, newEvent(tenant, "candidate.created", id, `{"id":"`+id+`","first_name":"A"}`))
	}
	ingest(t, s, newEvent(tenant, "candidate.deleted", "c4", `{"id":"c4"}`))
	ingest(t, s, newEvent(tenant, "placement.created", "p1", `{"id":"p1"}`))

	page, err := s.RecordList(ctx, hirehook.RecordListParams{TenantID: tenant, Entity: "candidate", Limit: 2})
	must(t, err)
	if len(page) != 2 || page[0].ID != "c1" || page[1].ID != "c2" {
		t.Fatalf("RecordList first page = %v, want c1 c2", recordIDs(page))
	}
	page, err = s.RecordList(ctx, hirehook.RecordListParams{TenantID: tenant, Entity: "candidate", After: "c2", Limit: 2})
	must(t, err)
	if len(page) != 1 || page[0].ID != "c3" {
		t.Fatalf("RecordList after c2 = %v, want c3 (c4 is deleted)", recordIDs(page))
	}
	page, err = s.RecordList(ctx, hirehook.RecordListParams{TenantID: "other", Entity: "candidate", Limit: 10})
	must(t, err)
	if len(page) != 0 {
		t.Fatalf("RecordList of another tenant = %v, want none", recordIDs(page))
	}

	ep := newEndpoint(t, s, tenant, "candidate.created")
	b := &hirehook.Backfill{TenantID: tenant, ID: hirehook.NewID("bf"), EndpointID: ep.ID, Entities: []string{"candidate", "placement"},
		Filter: `.data.first_name == "A"`, RatePerSecond: 50, State: hirehook.BackfillRunning, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.BackfillCreate(ctx, b))
	wantCode(t, s.BackfillCreate(ctx, b), hirehook.ECONFLICT)
	wantCode(t, s.BackfillCreate(ctx, &hirehook.Backfill{TenantID: tenant, ID: hirehook.NewID("bf"), EndpointID: "ep_none",
		Entities: []string{"candidate"}, State: hirehook.BackfillRunning, CreatedAt: t0, UpdatedAt: t0}), hirehook.ENOTFOUND)
	got, err := s.BackfillGet(ctx, tenant, b.ID)
	must(t, err)
	if diff := cmp.Diff(b, got); diff != "" {
		t.Fatalf("BackfillGet mismatch (-want +got):\n%s", diff)
	}
	_, err = s.BackfillGet(ctx, "other", b.ID)
	wantCode(t, err, hirehook.ENOTFOUND)

	// Lease: node a takes it; b cannot until a's lease expires.
	until := t0.Add(time.Minute)
	held, err := s.BackfillLease(ctx, hirehook.BackfillLeaseParams{Owner: "a", Now: t0, Until: until, Limit: 10})
	must(t, err)
	if len(held) != 1 || held[0].ID != b.ID || held[0].LeaseOwner != "a" {
		t.Fatalf("BackfillLease(a) = %+v, want the backfill", held)
	}
	held, err = s.BackfillLease(ctx, hirehook.BackfillLeaseParams{Owner: "b", Now: t0, Until: until, Limit: 10})
	must(t, err)
	if len(held) != 0 {
		t.Fatalf("BackfillLease(b) took a held backfill: %+v", held)
	}

	before, err := s.RecordGet(ctx, tenant, "candidate", "c1")
	must(t, err)
	var events []*hirehook.Event
	recs, err := s.RecordList(ctx, hirehook.RecordListParams{TenantID: tenant, Entity: "candidate", Limit: 2})
	must(t, err)
	for _, r := range recs {
		e, err := hirehook.NewSnapshot(r, t0)
		must(t, err)
		events = append(events, e)
	}
	p := hirehook.BackfillEnqueueParams{TenantID: tenant, BackfillID: b.ID, Owner: "a", Events: events,
		Cursor: hirehook.BackfillCursor{Entity: "candidate", ID: "c2"}, Scanned: 2, Skipped: 0, Now: t0}
	wrong := p
	wrong.Owner = "b"
	wantCode(t, s.BackfillEnqueue(ctx, wrong), hirehook.ECONFLICT)
	must(t, s.BackfillEnqueue(ctx, p))

	got, err = s.BackfillGet(ctx, tenant, b.ID)
	must(t, err)
	if got.Cursor != p.Cursor || got.Scanned != 2 || got.Sent != 2 || got.Skipped != 0 {
		t.Fatalf("after enqueue: cursor %+v scanned %d sent %d skipped %d", got.Cursor, got.Scanned, got.Sent, got.Skipped)
	}
	after, err := s.RecordGet(ctx, tenant, "candidate", "c1")
	must(t, err)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("a snapshot changed its record (-before +after):\n%s", diff)
	}
	for _, e := range events {
		stored, err := s.EventGet(ctx, tenant, e.ID)
		must(t, err)
		if stored.Type != "candidate.snapshot" || stored.Deliveries != 1 {
			t.Fatalf("snapshot event %s: type %s, deliveries %d", e.ID, stored.Type, stored.Deliveries)
		}
	}
	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, EndpointID: &ep.ID, Limit: 100})
	must(t, err)
	if len(ds) != 2 || ds[0].State != hirehook.DeliveryPending || ds[0].EventType != "candidate.snapshot" {
		t.Fatalf("deliveries to the backfilled endpoint = %d (%+v), want 2 pending snapshots", len(ds), ds)
	}
	ds, err = s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, EndpointID: &other.ID, Limit: 100})
	must(t, err)
	for _, d := range ds {
		if d.EventType == "candidate.snapshot" {
			t.Fatalf("another endpoint got a snapshot delivery: %+v", d)
		}
	}

	// a's lease expires: b takes it over; a may no longer write.
	held, err = s.BackfillLease(ctx, hirehook.BackfillLeaseParams{Owner: "b", Now: until.Add(time.Second), Until: until.Add(time.Minute), Limit: 10})
	must(t, err)
	if len(held) != 1 || held[0].Cursor != p.Cursor {
		t.Fatalf("BackfillLease(b) after expiry = %+v, want the backfill at its cursor", held)
	}
	wantCode(t, s.BackfillFinish(ctx, hirehook.BackfillFinishParams{TenantID: tenant, BackfillID: b.ID, Owner: "a",
		State: hirehook.BackfillCompleted, Now: t0}), hirehook.ECONFLICT)
	must(t, s.BackfillFinish(ctx, hirehook.BackfillFinishParams{TenantID: tenant, BackfillID: b.ID, Owner: "b",
		State: hirehook.BackfillCompleted, Now: t0}))
	got, err = s.BackfillGet(ctx, tenant, b.ID)
	must(t, err)
	if got.State != hirehook.BackfillCompleted || got.FinishedAt == nil || !got.FinishedAt.Equal(t0) || got.LeaseOwner != "" {
		t.Fatalf("finished backfill = %+v", got)
	}
	p.Owner = "b"
	wantCode(t, s.BackfillEnqueue(ctx, p), hirehook.ECONFLICT)
	_, err = s.BackfillCancel(ctx, tenant, b.ID, t0)
	wantCode(t, err, hirehook.ECONFLICT)

	// Cancel a running one; list newest first.
	b2 := &hirehook.Backfill{TenantID: tenant, ID: hirehook.NewID("bf"), EndpointID: ep.ID, Entities: []string{"placement"},
		RatePerSecond: 10, State: hirehook.BackfillRunning, CreatedAt: t0.Add(time.Second), UpdatedAt: t0.Add(time.Second)}
	must(t, s.BackfillCreate(ctx, b2))
	c, err := s.BackfillCancel(ctx, tenant, b2.ID, t0.Add(2*time.Second))
	must(t, err)
	if c.State != hirehook.BackfillCancelled || c.FinishedAt == nil {
		t.Fatalf("cancelled backfill = %+v", c)
	}
	_, err = s.BackfillCancel(ctx, tenant, "bf_none", t0)
	wantCode(t, err, hirehook.ENOTFOUND)
	list, err := s.BackfillList(ctx, tenant, ep.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != b2.ID || list[1].ID != b.ID {
		t.Fatalf("BackfillList = %d entries, want b2 then b", len(list))
	}
	held, err = s.BackfillLease(ctx, hirehook.BackfillLeaseParams{Owner: "c", Now: t0, Until: until, Limit: 10})
	must(t, err)
	if len(held) != 0 {
		t.Fatalf("BackfillLease leased finished backfills: %+v", held)
	}

	// Tenant delete removes backfills.
	tn := &hirehook.Tenant{ID: "bf_tenant", Name: "Backfill", RetentionDays: 30, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.TenantCreate(ctx, tn))
	ep3 := newEndpoint(t, s, tn.ID, "*")
	b3 := &hirehook.Backfill{TenantID: tn.ID, ID: hirehook.NewID("bf"), EndpointID: ep3.ID, Entities: []string{"candidate"},
		RatePerSecond: 10, State: hirehook.BackfillRunning, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.BackfillCreate(ctx, b3))
	must(t, s.TenantDelete(ctx, tn.ID))
	_, err = s.BackfillGet(ctx, tn.ID, b3.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
}

func recordIDs(rs []*hirehook.Record) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}
