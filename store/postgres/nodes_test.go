package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/internal/testwait"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

func TestNodeRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	s := open(t, dsn, postgres.Options{})
	if _, err := s.NodeHeartbeat(ctx, hirehook.NodeHeartbeatParams{Node: "node_b", TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	live, err := s.NodeHeartbeat(ctx, hirehook.NodeHeartbeatParams{Node: "node_a", TTL: time.Minute})
	if err != nil || !slices.Equal(live, []string{"node_a", "node_b"}) {
		t.Fatalf("live = %v (%v), want node_a, node_b", live, err)
	}
	// node_b goes silent: its last heartbeat is an hour old (by the
	// database's clock, which the registry goes by).
	silence(t, dsn, "node_b", time.Hour)
	live, err = s.NodeHeartbeat(ctx, hirehook.NodeHeartbeatParams{Node: "node_a", TTL: time.Minute})
	if err != nil || !slices.Equal(live, []string{"node_a"}) {
		t.Fatalf("live = %v (%v), want node_a alone", live, err)
	}
	if err := s.NodeLeave(ctx, "node_a"); err != nil {
		t.Fatal(err)
	}
	live, err = s.NodeHeartbeat(ctx, hirehook.NodeHeartbeatParams{Node: "node_c", TTL: time.Minute})
	if err != nil || !slices.Equal(live, []string{"node_c"}) {
		t.Fatalf("live = %v (%v) after node_a left, want node_c", live, err)
	}
}

// silence makes node's last heartbeat ago old.
func silence(tb testing.TB, dsn, node string, ago time.Duration) {
	tb.Helper()
	if _, err := rawDB(tb, dsn).ExecContext(context.Background(),
		`UPDATE nodes SET heartbeat_at = now() - make_interval(secs => $1) WHERE id = $2`, ago.Seconds(), node); err != nil {
		tb.Fatal(err)
	}
}

// A node that dies holding leases (silent for LeaseTTL) hands its
// deliveries to the live nodes when they forget it, not when its leases
// (an hour here) run out; the leases of a node that is alive, silent for
// less than LeaseTTL, or that left cleanly and is finishing its attempts,
// stay.
func TestNodeHeartbeatLapseEndsLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	s := open(t, dsn, postgres.Options{})
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.EndpointCreate(ctx, &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: "ep_1", URL: "https://example.com/hook",
		EventTypes: []string{"*"}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	leased := map[string]string{} // delivery id → owner
	for _, node := range []string{"node_dead", "node_live", "node_left"} {
		if _, err := s.NodeHeartbeat(ctx, hirehook.NodeHeartbeatParams{Node: node, TTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
		res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{{
			TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", OccurredAt: now, Source: "test",
			Subject: hirehook.Subject{Entity: "candidate", ID: node}, Data: json.RawMessage(`{"id":"` + node + `"}`),
		}}, Now: now, LeaseOwner: node, LeaseUntil: now.Add(time.Hour)})
		if err != nil || len(res) != 1 || len(res[0].Leased) != 1 {
			t.Fatalf("ingest leased to %s: %+v, %v", node, res, err)
		}
		leased[res[0].Leased[0].ID] = node
	}
	if err := s.NodeLeave(ctx, "node_left"); err != nil {
		t.Fatal(err)
	}
	claim := func() []string {
		t.Helper()
		ds, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "node_live", Now: time.Now(), LeaseUntil: time.Now().Add(time.Hour), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var owners []string
		for _, d := range ds {
			owners = append(owners, leased[d.ID])
		}
		return owners
	}
	if got := claim(); len(got) != 0 {
		t.Fatalf("claimed the deliveries of %v while every lease holds, want none", got)
	}

	calls := make(chan struct{}, 8)
	listenCtx, stopListen := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Listen(listenCtx, func() { calls <- struct{}{} }) }()
	t.Cleanup(func() { stopListen(); <-done })
	wake := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("no call from Listen: %s", what)
		}
	}
	wake("connected")
	// Silent for a minute: no longer live (TTL), but its leases hold
	// (LeaseTTL): an attempt it started may still be running.
	beat := hirehook.NodeHeartbeatParams{Node: "node_live", TTL: 30 * time.Second, LeaseTTL: 2 * time.Minute}
	silence(t, dsn, "node_dead", time.Minute)
	live, err := s.NodeHeartbeat(ctx, beat)
	if err != nil || !slices.Equal(live, []string{"node_live"}) {
		t.Fatalf("live = %v (%v), want node_live alone", live, err)
	}
	if got := claim(); len(got) != 0 {
		t.Fatalf("claimed the deliveries of %v while node_dead was silent for less than LeaseTTL, want none", got)
	}
	silence(t, dsn, "node_dead", time.Hour)
	if live, err = s.NodeHeartbeat(ctx, beat); err != nil || !slices.Equal(live, []string{"node_live"}) {
		t.Fatalf("live = %v (%v), want node_live alone", live, err)
	}
	wake("the notification that node_dead's leases ended")
	if got := claim(); !slices.Equal(got, []string{"node_dead"}) {
		t.Errorf("claimed the deliveries of %v after node_dead's heartbeat lapsed, want node_dead's alone", got)
	}
}

// Three nodes share one database and deliver to endpoints whose
// max_concurrency is 2 and 1: the endpoint never has more attempts in
// flight than its limit (each node alone would allow the full limit), and
// everything is delivered.
func TestEndpointLimitsAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)

	type gauge struct {
		mu            sync.Mutex
		now, max, got int
	}
	gauges := map[string]*gauge{"two": {}, "one": {}}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := gauges[r.URL.Path[1:]]
		g.mu.Lock()
		g.now++
		g.max = max(g.max, g.now)
		g.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		g.mu.Lock()
		g.now--
		g.got++
		g.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)

	var stores []*postgres.Store
	for range 3 {
		stores = append(stores, open(t, dsn, postgres.Options{MaxConns: 4}))
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for name, limit := range map[string]int{"two": 2, "one": 1} {
		ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: "ep_" + name, URL: rc.URL + "/" + name, EventTypes: []string{"*"},
			MaxConcurrency: limit, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
		if err := stores[0].EndpointCreate(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	var dispatchers []*delivery.Dispatcher
	var logs syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the nodes' logs:\n%s", logs.String())
		}
	})
	for i, s := range stores {
		d := delivery.New(s, delivery.Config{
			Owner:        fmt.Sprintf("node_%d", i),
			PollInterval: 20 * time.Millisecond,
			// The membership must hold for the whole run, on a loaded
			// machine too: a node is taken for gone only when silent
			// for 3 s (three intervals), which no heartbeat is.
			HeartbeatInterval: time.Second,
			Sender:            delivery.NewSender(delivery.SenderConfig{AllowPrivate: true, Timeout: 5 * time.Second}),
			Logger:            slog.New(slog.NewTextHandler(&logs, nil)).With("node", i),
		})
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d.Stop(sctx)
		})
		dispatchers = append(dispatchers, d)
	}
	// The work arrives once every node counts three, each dividing the
	// limits by three: while a node counts fewer, the endpoint may see
	// the sum of two divisions (see delivery's membership).
	testwait.For(t, 30*time.Second, "every node to count three live nodes", func() bool {
		for _, d := range dispatchers {
			if d.Nodes() != 3 {
				return false
			}
		}
		return true
	}, nil)

	const n = 60
	var evs []*hirehook.Event
	for i := range n {
		evs = append(evs, &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", OccurredAt: now,
			Subject: hirehook.Subject{Entity: "candidate", ID: fmt.Sprint(i)}, Data: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))})
	}
	// Half handed off hot to node 1 (as its ingester would), half pending
	// for any node to claim.
	res, err := stores[1].EventIngest(ctx, hirehook.EventIngestParams{Events: evs[:n/2], Now: time.Now(), LeaseOwner: "node_1", LeaseUntil: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		dispatchers[1].Enqueue(r.Leased)
	}
	if _, err := stores[2].EventIngest(ctx, hirehook.EventIngestParams{Events: evs[n/2:], Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, d := range dispatchers {
		d.Notify()
	}
	testwait.For(t, 30*time.Second, "every delivery", func() bool {
		done := true
		for _, g := range gauges {
			g.mu.Lock()
			done = done && g.got >= n
			g.mu.Unlock()
		}
		return done
	}, nil)
	for name, limit := range map[string]int{"two": 2, "one": 1} {
		g := gauges[name]
		g.mu.Lock()
		t.Logf("endpoint %s: max in flight %d", name, g.max)
		if g.max > limit {
			t.Errorf("endpoint %s (max_concurrency %d) had %d attempts in flight at once across 3 nodes", name, limit, g.max)
		}
		if g.got != n {
			t.Errorf("endpoint %s got %d requests, want %d (no duplicates)", name, g.got, n)
		}
		g.mu.Unlock()
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
