package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/testwait"
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
	testwait.For(t, 10*time.Second, "the lane's deliveries handed back, and their count with them", func() bool {
		state := hirehook.DeliveryPending
		pending, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, State: &state, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(pending) == len(evs) && d.CanTake() && d.heldCount() == 0
	}, nil)
}

// heldCount is the number of deliveries the dispatcher holds.
func (d *Dispatcher) heldCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ledger.held()
}

// flakyRegistry is a store shared by one node whose node registry can be
// made to fail, as the heartbeat of a node cut off from the database does.
type flakyRegistry struct {
	hirehook.Store
	fail atomic.Bool
}

func (r *flakyRegistry) NodeHeartbeat(_ context.Context, p hirehook.NodeHeartbeatParams) ([]string, error) {
	if r.fail.Load() {
		return nil, hirehook.Errorf(hirehook.EUNAVAILABLE, "The registry is down (test).")
	}
	return []string{p.Node}, nil
}

func (r *flakyRegistry) NodeLeave(context.Context, string) error { return nil }

// Capabilities declares the flaky registry (SQLite declares none).
func (r *flakyRegistry) Capabilities() hirehook.Capabilities {
	caps := r.Store.Capabilities()
	caps.Nodes = r
	return caps
}

// A node whose heartbeat is about to lapse (the other nodes will take its
// deliveries) hands back what it has queued instead of sending it too, and
// claims nothing; the attempt in flight finishes.
func TestHeartbeatLapsingHandsBackQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var requests atomic.Int64
	unblock := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-unblock:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(func() { close(unblock) })
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: rc.URL, EventTypes: []string{"*"},
		MaxConcurrency: 1, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := s.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	reg := &flakyRegistry{Store: s}
	const owner = "node_cut_off"
	d := New(reg, Config{Owner: owner, PollInterval: time.Hour, HeartbeatInterval: 20 * time.Millisecond,
		Sender: NewSender(SenderConfig{AllowPrivate: true, Timeout: 30 * time.Second})})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		d.Stop(sctx)
	})
	var evs []*hirehook.Event
	for i := range 5 {
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
	testwait.For(t, 10*time.Second, "the first attempt in flight", func() bool { return requests.Load() == 1 }, nil)

	reg.fail.Store(true)
	testwait.For(t, 10*time.Second, "the queued deliveries to be handed back", func() bool {
		state := hirehook.DeliveryPending
		pending, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, State: &state, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(pending) == len(evs)-1 && d.heldCount() == 1
	}, nil)
	if n := requests.Load(); n != 1 {
		t.Errorf("the receiver got %d requests, want the 1 in flight", n)
	}
	// Nor does it claim them again while it is not heard: they are the
	// live nodes' to take.
	if _, err := d.claimOnce(ctx); err != nil {
		t.Fatal(err)
	}
	state := hirehook.DeliveryPending
	pending, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, State: &state, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(evs)-1 || d.heldCount() != 1 {
		t.Errorf("after a claim, %d deliveries pending and %d held, want %d and the 1 in flight: a node whose heartbeat lapses claims what it handed back",
			len(pending), d.heldCount(), len(evs)-1)
	}
}

// downStore is a store that has stopped answering the dispatcher's writes:
// they hang until their context ends.
type downStore struct{ hirehook.Store }

func (s downStore) DeliveryComplete(ctx context.Context, _ []hirehook.DeliveryResult) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func (s downStore) DeliveryRelease(ctx context.Context, _ string, _ []string) error {
	<-ctx.Done()
	return ctx.Err()
}

// Workers whose results the completer cannot take (it is stuck on a store
// that is down) do not hold Stop past its deadline.
func TestStopWithWorkersWaitingOnResults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var requests atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: rc.URL, EventTypes: []string{"*"},
		MaxConcurrency: 4, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := s.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	const owner = "node_b"
	d := New(downStore{s}, Config{Owner: owner, PollInterval: time.Hour,
		Sender: NewSender(SenderConfig{AllowPrivate: true, Timeout: 5 * time.Second})})
	d.results = make(chan completion) // no room: a worker waits for the completer
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var evs []*hirehook.Event
	for i := range 4 {
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
	testwait.For(t, 10*time.Second, "every attempt sent", func() bool { return requests.Load() == int64(len(evs)) }, nil)

	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	stopped := make(chan struct{})
	go func() { d.Stop(sctx); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop with a 200ms deadline still running after 10s, its workers waiting for the completer")
	}
}
