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

// slowRegistry is a store shared by one node whose node registry answers
// every heartbeat after delay, as a loaded database does: later than
// the heartbeat interval, well within the node TTL.
type slowRegistry struct {
	hirehook.Store
	delay time.Duration
	beats atomic.Int64 // heartbeats asked for
}

func (r *slowRegistry) NodeHeartbeat(ctx context.Context, p hirehook.NodeHeartbeatParams) ([]string, error) {
	r.beats.Add(1)
	select {
	case <-ctx.Done():
	case <-time.After(r.delay):
	}
	if err := ctx.Err(); err != nil {
		return nil, err // an answer after the deadline is not heard
	}
	return []string{p.Node}, nil
}

func (r *slowRegistry) NodeLeave(context.Context, string) error { return nil }

// Capabilities declares the slow registry (SQLite declares none).
func (r *slowRegistry) Capabilities() hirehook.Capabilities {
	caps := r.Store.Capabilities()
	caps.Nodes = r
	return caps
}

// A node whose every heartbeat takes longer than the heartbeat interval,
// but lands well within the TTL, stays live and delivers: a heartbeat is
// not cut short at one interval (the node would lapse for as long as the
// database is that slow, handing back every delivery unattempted).
func TestSlowHeartbeatsKeepTheNodeLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var requests atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: rc.URL, EventTypes: []string{"*"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := s.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	const interval = 50 * time.Millisecond
	// Past the interval. Each heartbeat starts as the last lands, so a
	// node is heard every delay and counts as live while the one before
	// the last started less than the TTL (three intervals) ago: 2.5
	// intervals at most.
	reg := &slowRegistry{Store: s, delay: interval * 5 / 4}
	d := New(reg, Config{Owner: "node_slow_db", PollInterval: 20 * time.Millisecond, HeartbeatInterval: interval,
		Sender: NewSender(SenderConfig{AllowPrivate: true, Timeout: 5 * time.Second})})
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Stop(sctx)
	})
	// Past the TTL since the start, the node lives on its heartbeats
	// alone; the 10 s wait of waitUntil is 60 TTLs.
	start := time.Now()
	testwait.For(t, 10*time.Second, "three heartbeats, a TTL after the start", func() bool {
		return reg.beats.Load() >= 3 && time.Since(start) > d.nodeTTL()
	}, nil)
	var evs []*hirehook.Event
	for i := range 5 {
		evs = append(evs, &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created",
			OccurredAt: now, Source: "test", Subject: hirehook.Subject{Entity: "candidate", ID: fmt.Sprint(i)},
			Data: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))})
	}
	if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: evs, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	d.Notify()
	testwait.For(t, 10*time.Second, "every delivery sent", func() bool { return requests.Load() == int64(len(evs)) }, nil)
}
