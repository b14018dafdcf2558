package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/backfill"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// backfillFixture ingests 3 candidates and 2 placements, received by an
// endpoint that exists from the start.
func backfillFixture(t *testing.T, hub *Hub) (base string, other endpointCreated, otherRC *receiver) {
	t.Helper()
	base = hub.URL()
	otherRC = newReceiver(t, nil)
	other = createEndpoint(t, base, otherRC.URL, "*")
	for _, id := range []string{"c_3", "c_1", "c_2"} {
		sendEvent(t, base, map[string]any{"type": "candidate.created", "data": map[string]any{"id": id, "first_name": "N" + id, "email": id + "@example.com"}})
	}
	sendEvent(t, base, placement("pl_1"))
	sendEvent(t, base, placement("pl_2"))
	waitFor(t, 10*time.Second, "the live events", func() bool { return len(otherRC.got()) == 5 })
	return base, other, otherRC
}

// snapshots checks the signatures of what rc got and returns the
// envelopes, which must all be snapshots.
func snapshots(t *testing.T, rc *receiver, secret string) []hirehook.WebhookPayload {
	t.Helper()
	var out []hirehook.WebhookPayload
	for _, body := range verified(t, rc, secret) {
		var env hirehook.WebhookPayload
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			t.Fatal(err)
		}
		if env.Type != hirehook.SnapshotType(env.Subject.Entity) || env.Source != "hirehook" {
			t.Fatalf("got a %s from %q, want snapshots only: %s", env.Type, env.Source, body)
		}
		out = append(out, env)
	}
	return out
}

func subjectIDs(envs []hirehook.WebhookPayload) []string {
	var ids []string
	for _, e := range envs {
		ids = append(ids, e.Subject.ID)
	}
	slices.Sort(ids)
	return ids
}

func waitBackfill(t *testing.T, base, id string) hirehook.Backfill {
	t.Helper()
	var bf hirehook.Backfill
	waitFor(t, 10*time.Second, "backfill "+id+" to complete", func() bool {
		if st := call(t, base, "GET", "/v1/backfills/"+id, nil, &bf); st != 200 {
			t.Fatalf("get backfill: status %d", st)
		}
		return bf.State != hirehook.BackfillRunning
	})
	return bf
}

// TestBackfill connects a system after the records exist: a backfill of
// candidates sends it exactly the 3 candidate records as signed
// candidate.snapshot events, and nothing to the endpoint that was there
// already; records are not changed; progress is visible; a filter selects
// records across entities.
func TestBackfill(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	base, other, _ := backfillFixture(t, hub)
	var before hirehook.Record
	call(t, base, "GET", "/v1/records/candidate/c_1", nil, &before)

	rc := newReceiver(t, nil)
	ep := createEndpoint(t, base, rc.URL, "placement.confirmed") // subscriptions do not limit a backfill
	var bf hirehook.Backfill
	if st := call(t, base, "POST", "/v1/endpoints/"+ep.ID+"/backfill", map[string]any{"entities": []string{"candidate"}}, &bf); st != 202 {
		t.Fatalf("backfill: status %d", st)
	}
	if bf.State != hirehook.BackfillRunning || bf.RatePerSecond != hirehook.DefaultBackfillRate {
		t.Fatalf("new backfill = %+v", bf)
	}
	done := waitBackfill(t, base, bf.ID)
	if done.State != hirehook.BackfillCompleted || done.Scanned != 3 || done.Sent != 3 || done.Skipped != 0 ||
		done.Cursor != (hirehook.BackfillCursor{Entity: "candidate", ID: "c_3"}) || done.FinishedAt == nil {
		t.Fatalf("completed backfill = %+v", done)
	}
	waitFor(t, 10*time.Second, "3 snapshots", func() bool { return len(rc.got()) >= 3 })
	envs := snapshots(t, rc, ep.Secret)
	if got := subjectIDs(envs); !slices.Equal(got, []string{"c_1", "c_2", "c_3"}) {
		t.Fatalf("snapshots of %v, want c_1 c_2 c_3", got)
	}
	for _, e := range envs {
		if e.Subject.ID == "c_1" && string(e.Data) != string(before.Data) {
			t.Errorf("c_1 snapshot data %s, want the record %s", e.Data, before.Data)
		}
	}

	// The endpoint that was there got no snapshot: only its 5 live events.
	ds, err := hub.Store.DeliveryList(t.Context(), hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, EndpointID: &other.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 5 {
		t.Errorf("the other endpoint has %d deliveries, want its 5 live events", len(ds))
	}
	var after hirehook.Record
	call(t, base, "GET", "/v1/records/candidate/c_1", nil, &after)
	if after.Version != before.Version || after.LastEventID != before.LastEventID {
		t.Errorf("record changed by the backfill: version %d → %d, last event %s → %s", before.Version, after.Version, before.LastEventID, after.LastEventID)
	}

	// A filter across entities: c_2 and every placement.
	if st := call(t, base, "POST", "/v1/endpoints/"+ep.ID+"/backfill", map[string]any{"entities": []string{"candidate", "placement"},
		"filter": `.type == "placement.snapshot" or .data.id == "c_2"`, "rate_per_second": 1000}, &bf); st != 202 {
		t.Fatalf("filtered backfill: status %d", st)
	}
	done = waitBackfill(t, base, bf.ID)
	if done.State != hirehook.BackfillCompleted || done.Scanned != 5 || done.Sent != 3 || done.Skipped != 2 {
		t.Fatalf("filtered backfill = %+v", done)
	}
	waitFor(t, 10*time.Second, "3 more snapshots", func() bool { return len(rc.got()) >= 6 })
	if got := subjectIDs(snapshots(t, rc, ep.Secret)[3:]); !slices.Equal(got, []string{"c_2", "pl_1", "pl_2"}) {
		t.Fatalf("filtered snapshots of %v, want c_2 pl_1 pl_2", got)
	}

	var list struct {
		Data []hirehook.Backfill `json:"data"`
	}
	call(t, base, "GET", "/v1/endpoints/"+ep.ID+"/backfills", nil, &list)
	if len(list.Data) != 2 || list.Data[0].ID != bf.ID {
		t.Errorf("backfills of the endpoint = %+v", list.Data)
	}
}

// TestBackfillResume: a node that dies mid-way (it leased the backfill and
// committed its first page, then stopped) leaves the backfill at its
// cursor; once its lease expires another node finishes it, and the
// receiver gets every record exactly once.
func TestBackfillResume(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	ctx := t.Context()
	// This hub's runner is "down"; the dead node and the next one are
	// played below.
	if err := hub.Backfills.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	base, _, _ := backfillFixture(t, hub)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, base, rc.URL, "candidate.*")
	var bf hirehook.Backfill
	if st := call(t, base, "POST", "/v1/endpoints/"+ep.ID+"/backfill", map[string]any{"entities": []string{"candidate", "placement"}}, &bf); st != 202 {
		t.Fatalf("backfill: status %d", st)
	}

	// The dead node: leases it, commits the page [c_1], dies.
	now := time.Now()
	held, err := hub.Store.BackfillLease(ctx, hirehook.BackfillLeaseParams{Owner: "dead", Now: now, Until: now.Add(200 * time.Millisecond), Limit: 10})
	if err != nil || len(held) != 1 {
		t.Fatalf("lease as the dead node: %v, %v", held, err)
	}
	first, err := hub.Store.RecordList(ctx, hirehook.RecordListParams{TenantID: hirehook.DefaultTenantID, Entity: "candidate", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := hirehook.NewSnapshot(first[0], now)
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Store.BackfillEnqueue(ctx, hirehook.BackfillEnqueueParams{TenantID: hirehook.DefaultTenantID, BackfillID: bf.ID, Owner: "dead",
		Events: []*hirehook.Event{snap}, Cursor: hirehook.BackfillCursor{Entity: "candidate", ID: first[0].ID}, Scanned: 1, Now: now}); err != nil {
		t.Fatal(err)
	}
	hub.Dispatcher.Notify()
	var mid hirehook.Backfill
	call(t, base, "GET", "/v1/backfills/"+bf.ID, nil, &mid)
	if mid.State != hirehook.BackfillRunning || mid.Sent != 1 || mid.Cursor.ID != "c_1" {
		t.Fatalf("progress mid-way = %+v", mid)
	}

	// The next node takes over once the lease expired.
	next := &backfill.Runner{Store: hub.Store, Owner: "next", NotifyFunc: hub.Dispatcher.Notify, LeaseTTL: time.Second, PollInterval: 20 * time.Millisecond}
	next.Start(context.Background())
	t.Cleanup(func() { _ = next.Stop(context.Background()) })
	done := waitBackfill(t, base, bf.ID)
	if done.State != hirehook.BackfillCompleted || done.Sent != 5 || done.Scanned != 5 {
		t.Fatalf("resumed backfill = %+v", done)
	}
	waitFor(t, 10*time.Second, "5 snapshots", func() bool { return len(rc.got()) >= 5 })
	if got := subjectIDs(snapshots(t, rc, ep.Secret)); !slices.Equal(got, []string{"c_1", "c_2", "c_3", "pl_1", "pl_2"}) {
		t.Fatalf("snapshots of %v, want each record once", got)
	}
}

// TestBackfillCancel: a slow backfill (1 record a second) is cancelled
// mid-way and sends nothing more.
func TestBackfillCancel(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	base, _, _ := backfillFixture(t, hub)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, base, rc.URL, "*")
	var bf hirehook.Backfill
	if st := call(t, base, "POST", "/v1/endpoints/"+ep.ID+"/backfill", map[string]any{"entities": []string{"candidate", "placement"}, "rate_per_second": 1}, &bf); st != 202 {
		t.Fatalf("backfill: status %d", st)
	}
	waitFor(t, 10*time.Second, "the first snapshot", func() bool { return len(rc.got()) >= 1 })
	var c hirehook.Backfill
	if st := call(t, base, "POST", "/v1/backfills/"+bf.ID+"/cancel", nil, &c); st != 200 {
		t.Fatalf("cancel: status %d", st)
	}
	if c.State != hirehook.BackfillCancelled || c.Sent >= 5 {
		t.Fatalf("cancelled = %+v", c)
	}
	// The runner stops at its next page (due a second later), when the
	// store refuses it: wait for its goroutine to end, after which nothing
	// can be added.
	waitFor(t, 10*time.Second, "the runner to drop the cancelled backfill", func() bool { return !hub.Backfills.Runs(bf.ID) })
	var after hirehook.Backfill
	call(t, base, "GET", "/v1/backfills/"+bf.ID, nil, &after)
	if after.Sent != c.Sent || after.State != hirehook.BackfillCancelled {
		t.Fatalf("after cancel: sent %d → %d, state %s", c.Sent, after.Sent, after.State)
	}
}

// TestPostgresBackfillTwoNodes: two hubs share a PostgreSQL database; a
// backfill runs on one of them (the lease), and the receiver gets each
// record exactly once.
func TestPostgresBackfillTwoNodes(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	key := seal.NewKey()
	var hubs []*Hub
	for range 2 {
		hubs = append(hubs, startHub(t, func(c *Config) { c.DB, c.EncryptionKey = dsn, key }))
	}
	base, _, _ := backfillFixture(t, hubs[0])
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, base, rc.URL, "job.posted")
	var bf hirehook.Backfill
	if st := call(t, hubs[1].URL(), "POST", "/v1/endpoints/"+ep.ID+"/backfill", map[string]any{"entities": []string{"placement", "candidate"}}, &bf); st != 202 {
		t.Fatalf("backfill: status %d", st)
	}
	done := waitBackfill(t, base, bf.ID)
	if done.State != hirehook.BackfillCompleted || done.Sent != 5 {
		t.Fatalf("backfill = %+v", done)
	}
	waitFor(t, 10*time.Second, "5 snapshots", func() bool { return len(rc.got()) >= 5 })
	if got := subjectIDs(snapshots(t, rc, ep.Secret)); !slices.Equal(got, []string{"c_1", "c_2", "c_3", "pl_1", "pl_2"}) {
		t.Fatalf("snapshots of %v, want each record once", got)
	}
}
