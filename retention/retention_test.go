package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/testwait"
	"github.com/hirehook/hirehook/retention"
	"github.com/hirehook/hirehook/store/sqlite"
)

// countingStore is a real store that counts RetentionPurge calls and can
// fail the first few, as a database that is briefly unavailable would.
type countingStore struct {
	hirehook.Store
	calls atomic.Int32
	fail  atomic.Int32 // calls left to fail
}

func (s *countingStore) RetentionPurge(ctx context.Context, p hirehook.RetentionPurgeParams) (hirehook.RetentionPurgeResult, error) {
	s.calls.Add(1)
	if s.fail.Add(-1) >= 0 {
		return hirehook.RetentionPurgeResult{}, errors.New("database is locked")
	}
	return s.Store.RetentionPurge(ctx, p)
}

// logBuffer collects log lines and sends them to the test log.
type logBuffer struct {
	tb    testing.TB
	mu    sync.Mutex
	lines []string
}

func (w *logBuffer) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	w.mu.Lock()
	w.lines = append(w.lines, line)
	w.mu.Unlock()
	w.tb.Log(line)
	return len(p), nil
}

func (w *logBuffer) count(substr string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

type bundle struct {
	store  *countingStore
	purger *retention.Purger
	logs   *logBuffer
	old    []string // ids of events received 40 days ago
	fresh  []string // ids of events received now
}

// setup opens a real SQLite store whose default tenant keeps 30 days,
// with 7 events received 40 days ago and 2 received now, and a purger of
// 3 events a batch on a 10 ms interval (not started).
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &bundle{store: &countingStore{Store: st}, logs: &logBuffer{tb: t}}
	now := time.Now().UTC().Truncate(time.Microsecond)
	ingest := func(at time.Time, n int) []string {
		var ids []string
		var events []*hirehook.Event
		for i := range n {
			id := fmt.Sprintf("c%d", i)
			e := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", OccurredAt: at,
				Subject: hirehook.Subject{Entity: "candidate", ID: id}, Data: json.RawMessage(`{"id":"` + id + `","email":"` + id + `@example.org"}`)}
			events = append(events, e)
			ids = append(ids, e.ID)
		}
		if _, err := st.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: at}); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	b.old = ingest(now.Add(-40*24*time.Hour), 7)
	b.fresh = ingest(now, 2)
	b.purger = &retention.Purger{
		Store:    b.store,
		Interval: 10 * time.Millisecond,
		Batch:    3,
		Pause:    time.Millisecond,
		Logger:   slog.New(slog.NewTextHandler(b.logs, nil)),
	}
	return b
}

func (b *bundle) purged(t *testing.T) (purged, kept int) {
	t.Helper()
	events, err := b.store.EventList(context.Background(), hirehook.EventFilter{TenantID: hirehook.DefaultTenantID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Purged {
			purged++
		} else {
			kept++
		}
	}
	return purged, kept
}

func stop(t *testing.T, p *retention.Purger) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

func TestPurgerPurgesAndStops(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.purger.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.purger.Start(context.Background()); err != nil {
		t.Fatalf("second start: %v", err)
	}
	testwait.For(t, 10*time.Second, "the 7 old events to be purged", func() bool { p, _ := b.purged(t); return p == 7 }, nil)
	// 7 events at 3 a batch: the first pass takes 3 calls (3, 3, 1).
	if n := b.store.calls.Load(); n < 3 {
		t.Fatalf("%d purge calls, want at least 3 batches", n)
	}
	// The loop keeps running on its interval.
	calls := b.store.calls.Load()
	testwait.For(t, 10*time.Second, "another pass", func() bool { return b.store.calls.Load() > calls }, nil)
	stop(t, b.purger)
	stop(t, b.purger) // twice is fine
	// Stop waited for the goroutine: no call happens after it.
	calls = b.store.calls.Load()
	if _, kept := b.purged(t); kept != 2 {
		t.Fatalf("%d events kept, want the 2 fresh ones", kept)
	}
	for _, id := range b.fresh {
		e, err := b.store.EventGet(context.Background(), hirehook.DefaultTenantID, id)
		if err != nil || e.Purged || !strings.Contains(string(e.Data), "@example.org") {
			t.Fatalf("fresh event %s: %+v, %v", id, e, err)
		}
	}
	if err := b.purger.Start(context.Background()); err == nil {
		t.Fatal("start after stop succeeded")
	}
	if n := b.store.calls.Load(); n != calls {
		t.Fatalf("%d purge calls after stop", n-calls)
	}
	if b.logs.count("retention purged") == 0 {
		t.Fatal("the purge was not logged")
	}
}

func TestPurgerRetriesAfterErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.fail.Store(2)
	if err := b.purger.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "the purge to succeed after 2 failures", func() bool { p, _ := b.purged(t); return p == 7 }, nil)
	stop(t, b.purger)
	if n := b.logs.count("retention purge failed"); n != 2 {
		t.Fatalf("%d failure lines, want 2", n)
	}
	if b.logs.count("retention purge recovered") != 1 {
		t.Fatal("recovery was not logged")
	}
}

func TestPurgerStopBeforeStart(t *testing.T) {
	t.Parallel()
	p := &retention.Purger{}
	stop(t, p)
	stop(t, p)
}
