package backfill_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/backfill"
	"github.com/hirehook/hirehook/store/sqlite"
)

type bundle struct {
	store    *sqlite.Store
	endpoint *hirehook.Endpoint
}

func setup(t *testing.T, candidates int) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now().UTC().Truncate(time.Microsecond)
	var events []*hirehook.Event
	for i := range candidates {
		id := fmt.Sprintf("c_%02d", i)
		events = append(events, &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created",
			OccurredAt: now, Subject: hirehook.Subject{Entity: "candidate", ID: id}, Data: json.RawMessage(`{"id":"` + id + `"}`)})
	}
	if _, err := st.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: now}); err != nil {
		t.Fatal(err)
	}
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: "https://crm.example.com/in",
		EventTypes: []string{"*"}, Headers: map[string]string{}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}},
		CreatedAt: now, UpdatedAt: now}
	if err := st.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	return &bundle{store: st, endpoint: ep}
}

func (b *bundle) create(t *testing.T, rate int, filter string) *hirehook.Backfill {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	bf := &hirehook.Backfill{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("bf"), EndpointID: b.endpoint.ID,
		Entities: []string{"candidate"}, Filter: filter, RatePerSecond: rate, State: hirehook.BackfillRunning, CreatedAt: now, UpdatedAt: now}
	if err := b.store.BackfillCreate(context.Background(), bf); err != nil {
		t.Fatal(err)
	}
	return bf
}

func wait(t *testing.T, st hirehook.Store, id string) *hirehook.Backfill {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		bf, err := st.BackfillGet(context.Background(), hirehook.DefaultTenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		if bf.State != hirehook.BackfillRunning {
			return bf
		}
		if time.Now().After(deadline) {
			t.Fatalf("backfill still running: %+v", bf)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, st hirehook.Store) *backfill.Runner {
	t.Helper()
	r := &backfill.Runner{Store: st, Owner: "node-1", LeaseTTL: time.Second, PollInterval: 10 * time.Millisecond, PageSize: 3}
	r.Start(context.Background())
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

// TestRunnerRate: 6 records at 4 a second take at least half a second (4
// at once, the 2 others half a second later), in pages of at most
// PageSize.
func TestRunnerRate(t *testing.T) {
	t.Parallel()
	b := setup(t, 6)
	bf := b.create(t, 4, "")
	began := time.Now()
	start(t, b.store)
	done := wait(t, b.store, bf.ID)
	if took := time.Since(began); took < 400*time.Millisecond {
		t.Errorf("6 records at 4/s took %v", took)
	}
	if done.State != hirehook.BackfillCompleted || done.Sent != 6 || done.Cursor.ID != "c_05" {
		t.Fatalf("backfill = %+v", done)
	}
}

// TestRunnerBadFilter: a filter that no longer compiles fails the backfill
// with the reason, sending nothing.
func TestRunnerBadFilter(t *testing.T) {
	t.Parallel()
	b := setup(t, 2)
	bf := b.create(t, 100, ".id ==")
	start(t, b.store)
	done := wait(t, b.store, bf.ID)
	if done.State != hirehook.BackfillFailed || done.Error == "" || done.Sent != 0 {
		t.Fatalf("backfill = %+v", done)
	}
}

// TestRunnerStopIdempotent: Stop before Start and twice is fine.
func TestRunnerStopIdempotent(t *testing.T) {
	t.Parallel()
	var r backfill.Runner
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := setup(t, 0)
	r.Store = b.store
	r.Start(context.Background())
	for range 2 {
		if err := r.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
