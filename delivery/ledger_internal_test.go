package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlite"
)

// When the nodes sharing the store change and another node now serves an
// endpoint, the deliveries queued for it are handed back, and the count of
// deliveries held goes down with them: the node keeps claiming (CanTake)
// rather than believing itself full for good.
func TestLeavingLaneReturnsItsCount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(rc.Close)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: rc.URL, EventTypes: []string{"*"},
		MaxConcurrency: 1, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := s.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	const owner = "node_b"
	d := New(s, Config{Owner: owner, ClaimBatch: 1, HoldLimit: 2, PollInterval: time.Hour,
		Sender: NewSender(SenderConfig{AllowPrivate: true, Timeout: 5 * time.Second})})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(context.Background()) })
	// Two live nodes, of which the other one serves the endpoint (its
	// max_concurrency is 1).
	live := []string{"node_a", owner}
	if serve, _ := (membership{nodes: 2, rank: 1}).share(ep.ID, 1); serve {
		live = []string{owner, "node_c"}
	}
	d.setMembership(live)

	var evs []*hirehook.Event
	for i := range 10 {
		evs = append(evs, &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created",
			OccurredAt: now, Source: "test", Subject: hirehook.Subject{Entity: "candidate", ID: fmt.Sprint(i)},
			Data: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))})
	}
	res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: evs, Now: time.Now(), LeaseOwner: owner, LeaseUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		d.Enqueue(r.Leased)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		state := hirehook.DeliveryPending
		pending, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, State: &state, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == len(evs) && d.CanTake() && d.heldCount() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the lane was left: %d of %d deliveries handed back, CanTake() = %v, %d held; want all, true, 0",
				len(pending), len(evs), d.CanTake(), d.heldCount())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// heldCount is the number of deliveries the dispatcher holds.
func (d *Dispatcher) heldCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ledger.held()
}
