package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// TestPostgresNotifyWakesIdleNodes runs two hubs on one database that poll
// only once a minute. A third node with no dispatcher (a store opened on
// the same database) writes pending deliveries and retries: only a
// NOTIFY can explain that a hub delivers them within seconds. Then the
// hubs' listening sessions are terminated, and they still wake once they
// have reconnected.
func TestPostgresNotifyWakesIdleNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	key := seal.NewKey()
	var hubs []*Hub
	for range 2 {
		hubs = append(hubs, startHub(t, func(c *Config) { c.DB, c.EncryptionKey, c.PollInterval = dsn, key, time.Minute }))
	}
	writer, err := openPostgres(ctx, hubs[0].Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Close() })
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	rc := newReceiver(t, nil)
	createEndpoint(t, hubs[0].URL(), rc.URL, "*")

	arrived := func(id string) int {
		n := 0
		for _, r := range rc.got() {
			if r.header.Get("webhook-id") == id {
				n++
			}
		}
		return n
	}
	// Well within the minute-long poll.
	const prompt = 10 * time.Second
	ingest := func(i int) string {
		t.Helper()
		now := time.Now().UTC().Truncate(time.Microsecond)
		ev := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", Source: "test",
			OccurredAt: now, Subject: hirehook.Subject{Entity: "candidate", ID: fmt.Sprint(i)}, Data: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))}
		// No lease owner: the deliveries are pending, for any node.
		if _, err := writer.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{ev}, Now: now}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, prompt, "a hub to deliver event "+ev.ID+" written by another node", func() bool { return arrived(ev.ID) == 1 })
		return ev.ID
	}
	// Several rounds: a hub's own wake-up at start can explain one at most.
	var last string
	for i := range 3 {
		last = ingest(i)
	}
	d := deliveryOf(t, hubs[1].URL(), last)
	waitFor(t, prompt, "the delivery to be recorded", func() bool {
		d = deliveryOf(t, hubs[1].URL(), last)
		return d.State == hirehook.DeliveryDelivered
	})
	if _, err := writer.DeliveryRetry(ctx, hirehook.DefaultTenantID, d.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, prompt, "a hub to send a delivery retried by another node", func() bool { return arrived(last) == 2 })

	listeners := func() []int {
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
	old := listeners()
	if len(old) != 2 {
		t.Fatalf("listening sessions: %v, want one per hub", old)
	}
	if _, err := raw.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, prompt, "both hubs to listen again", func() bool {
		pids := listeners()
		return len(pids) == 2 && !slices.Contains(old, pids[0]) && !slices.Contains(old, pids[1])
	})
	for i := range 2 {
		ingest(10 + i)
	}
}

// TestPostgresKillNodeLeasesTakenOver: hub 1 (a child process) is
// SIGKILLed with its deliveries leased and in flight; hub 2 on the same
// database delivers every one of them once hub 1 has been silent for three
// 5 s heartbeats, the 500 ms delivery timeout and one more heartbeat (20.5
// s), long before its leases (2 min, the default) would have expired.
func TestPostgresKillNodeLeasesTakenOver(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dsn := postgrestest.NewDatabase(t)
	key := seal.NewKey()

	var mu sync.Mutex
	hold := true
	hanging := 0
	release := make(chan struct{})
	seen := map[string]int{}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		wait := hold
		if wait {
			hanging++
		}
		mu.Unlock()
		if wait {
			// The first node dies with these in flight. Hub 2 may have
			// some in flight too: once hub 1's timeouts find the endpoint
			// down, hub 1 pauses it and hands its deliveries back, and hub
			// 2 claims them. Those fail (503) and hub 2 sends them again.
			<-release
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	defer rc.Close()

	// Attempts before the kill hang until their 500ms timeout; on a loaded
	// machine under -race the 40 sends can outlast two of them, so one
	// retry would let early deliveries fail for good (and a delivery that
	// succeeds on a later attempt makes a delivery.recovered, one more
	// delivery to a "*" endpoint): 20 retries and placement.* keep the
	// delivered count at exactly n. Both hubs: the attempts count across
	// them, and hub 2 attempts some before the kill too (startHub's 3
	// retries let one fail for good there, at attempt 4, under load).
	retries := make([]time.Duration, 20)
	for i := range retries {
		retries[i] = 50 * time.Millisecond
	}
	first, base := startChild(t, []string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--encryption-key", key, "--admin-key", testKey,
		"--allow-private-destinations", "--delivery-timeout", "500ms", "--retry-schedule", durations{&retries}.String()})
	second := startHub(t, func(c *Config) {
		c.DB, c.EncryptionKey, c.DeliveryLease, c.DeliveryTimeout = dsn, key, 30*time.Second, 500*time.Millisecond
		c.RetrySchedule = retries
	})

	createEndpoint(t, base, rc.URL, "placement.*") // not the operational events
	const n = 40
	var ids []string
	for i := range n {
		ids = append(ids, sendEvent(t, base, placement(fmt.Sprintf("pl_kill_%d", i))).ID)
	}
	waitFor(t, 5*time.Second, "attempts in flight", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return hanging > 0
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killed := time.Now()
	mu.Lock()
	hold = false
	inFlight := hanging
	mu.Unlock()
	close(release)

	// Hub 2 ends hub 1's leases 20.5 to 25.5 s after its last heartbeat.
	waitFor(t, 45*time.Second, "hub 2 to deliver every event of the dead node", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if seen[id] == 0 {
				return false
			}
		}
		return true
	})
	took := time.Since(killed)
	dups := 0
	mu.Lock()
	for _, c := range seen {
		dups += c - 1
	}
	mu.Unlock()
	t.Logf("%d attempts in flight at the kill; all %d events delivered by hub 2 %v after it, %d duplicates", inFlight, n, took.Round(time.Millisecond), dups)
	if dups > inFlight {
		t.Fatalf("%d duplicates, more than the %d attempts in flight", dups, inFlight)
	}
	var list struct {
		Data []deliveryView `json:"data"`
	}
	waitFor(t, 10*time.Second, "every delivery to be recorded delivered", func() bool {
		call(t, second.URL(), "GET", "/v1/deliveries?state=delivered&limit=1000", nil, &list)
		return len(list.Data) == n
	})
}

// TestBenchRunsOnPostgres: `hirehook bench --db postgres://…` runs on a
// database of its own on that server.
func TestBenchRunsOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "burst", "--events", "300", "--concurrency", "8", "--batch", "10", "--db", dsn},
		func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"ingested:     300 events", "delivered:    300 events", "(0 duplicates)"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}
