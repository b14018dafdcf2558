package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// TestListenWakesOtherNodes: a listener on node A is called when node B
// commits pending deliveries or retries one, and again after its
// connection was terminated and it reconnected.
func TestListenWakesOtherNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	a, b := open(t, dsn, postgres.Options{MaxConns: 2}), open(t, dsn, postgres.Options{MaxConns: 2})
	raw := rawDB(t, dsn)

	calls := make(chan struct{}, 64)
	listenCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Listen(listenCtx, func() { calls <- struct{}{} }) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Listen: %v", err)
		}
	})
	expect := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("the listener was not called %s", what)
		}
	}
	expect("on connecting")

	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: "https://example.com/h", EventTypes: []string{"*"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := b.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	ev := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", OccurredAt: now,
		Subject: hirehook.Subject{Entity: "candidate", ID: "c1"}, Data: json.RawMessage(`{"id":"c1"}`)}
	if _, err := b.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{ev}, Now: now}); err != nil {
		t.Fatal(err)
	}
	expect("after another node ingested a pending delivery")

	ds, err := b.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, EventID: &ev.ID})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries of %s: %d, %v", ev.ID, len(ds), err)
	}
	if _, err := b.DeliveryRetry(ctx, hirehook.DefaultTenantID, ds[0].ID, now); err != nil {
		t.Fatal(err)
	}
	expect("after another node retried a delivery")

	// Terminate the listening session: the listener reconnects (and is
	// called on connecting), then hears the next retry.
	listener := func() []int {
		t.Helper()
		rows, err := raw.QueryContext(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var pids []int
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				t.Fatal(err)
			}
			pids = append(pids, pid)
		}
		return pids
	}
	old := listener()
	if len(old) != 1 {
		t.Fatalf("listening sessions: %v, want one", old)
	}
	if _, err := raw.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, old[0]); err != nil {
		t.Fatal(err)
	}
	expect("on reconnecting")
	if pids := listener(); len(pids) != 1 || pids[0] == old[0] {
		t.Fatalf("listening sessions after the reconnect: %v (terminated %d)", pids, old[0])
	}
	if _, err := b.DeliveryRetry(ctx, hirehook.DefaultTenantID, ds[0].ID, now); err != nil {
		t.Fatal(err)
	}
	expect("after a retry, once reconnected")
}
