package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/bullhorn/bullhornsim"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// openHubAt runs a hub on :0 over the SQLite file at path; the test closes
// it (Close may be called twice).
func openHubAt(tb testing.TB, path string) *Hub {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = "sqlite:" + path
	cfg.AdminKey = testKey
	cfg.AllowPrivateDestinations = true
	cfg.RetrySchedule = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.SourceLease = 600 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	hub := NewHub(cfg, slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := hub.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { hub.Close(context.Background()) })
	return hub
}

type webhook struct {
	ID      string           `json:"id"`
	Type    string           `json:"type"`
	Source  string           `json:"source"`
	Subject hirehook.Subject `json:"subject"`
	Data    map[string]any   `json:"data"`
}

// webhooks decodes what rc received, verifying every signature.
func webhooks(tb testing.TB, rc *receiver, secret string) []webhook {
	tb.Helper()
	var out []webhook
	for _, req := range rc.got() {
		if err := hirehook.Verify(req.header, req.body, time.Now(), secret); err != nil {
			tb.Fatalf("receiver-side verify: %v", err)
		}
		var w webhook
		if err := json.Unmarshal(req.body, &w); err != nil {
			tb.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

func countTypes(ws []webhook) map[string]int {
	n := map[string]int{}
	for _, w := range ws {
		n[w.Type]++
	}
	return n
}

// TestBullhornSourceEndToEnd connects a Bullhorn source through the API to
// the simulator, approves a placement there, and checks that
// placement.confirmed reaches a real receiver, signed, with the candidate,
// job and client embedded. Then the hub stops while Bullhorn keeps
// changing, the hub stops between reading a batch and processing it, and
// the source is changed through the API (a restart of its poller): nothing
// is lost and nothing is delivered twice.
func TestBullhornSourceEndToEnd(t *testing.T) {
	t.Parallel()
	sim := bullhornsim.New(bullhornsim.Config{})
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	demo, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hirehook.db")
	hub := openHubAt(t, path)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, hub.URL(), rc.URL+"/onboarding", "placement.*", "application.*")

	var src hirehook.Source
	simCfg := sim.Config()
	if st := call(t, hub.URL(), "POST", "/v1/sources", map[string]any{"kind": "bullhorn", "name": "Acme Bullhorn", "config": map[string]any{
		"client_id": simCfg.ClientID, "client_secret": simCfg.ClientSecret, "username": simCfg.Username, "password": simCfg.Password,
		"auth_url": simSrv.URL, "login_url": simSrv.URL, "poll_interval_ms": 100,
	}}, &src); st != 201 {
		t.Fatalf("create source: status %d", st)
	}
	// Bullhorn queues events only on subscriptions that exist: wait for
	// the first poll.
	waitFor(t, 10*time.Second, "the source's first poll", func() bool { return sim.Stats().Polls > 0 })

	approved := time.Now()
	if err := sim.Update("Placement", demo.Placements[0], map[string]any{"status": "Approved"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "placement.confirmed", func() bool { return countTypes(webhooks(t, rc, ep.Secret))["placement.confirmed"] == 1 })
	t.Logf("placement approved in the simulator → webhook received in %v", time.Since(approved))
	// The node running the source reports it in /metrics (the poller
	// counts an emit once Emit returns, a moment after the delivery).
	labels := `{kind="bullhorn",source_id="` + src.ID + `"}`
	waitFor(t, 10*time.Second, "the source's metrics", func() bool {
		_, scrape := getText(t, http.DefaultClient, hub.URL()+"/metrics")
		emitted := metricValue(scrape, "hirehook_source_events_emitted_total"+labels)
		age := metricValue(scrape, "hirehook_source_last_success_age_seconds"+labels)
		return emitted != "" && emitted != "0" && age != "" && !strings.HasPrefix(age, "-")
	})
	ws := webhooks(t, rc, ep.Secret)
	conf := ws[slices.IndexFunc(ws, func(w webhook) bool { return w.Type == "placement.confirmed" })]
	cand, _ := conf.Data["candidate"].(map[string]any)
	job, _ := conf.Data["job"].(map[string]any)
	client, _ := conf.Data["client"].(map[string]any)
	if conf.Source != "bullhorn" || conf.Data["status"] != "Approved" || cand["first_name"] != "Amara" || cand["last_name"] != "Okafor" ||
		job["title"] != "Java Developer (contract)" || client["name"] != "Acme Insurance plc" {
		t.Fatalf("placement.confirmed = %+v", conf)
	}

	// The hub stops; Bullhorn keeps changing.
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, sub := range demo.Submissions[1:] {
		if err := sim.Update("JobSubmission", sub, map[string]any{"status": "Interview Scheduled"}); err != nil {
			t.Fatal(err)
		}
	}
	pl2, err := sim.Create("Placement", map[string]any{"candidate": map[string]any{"id": demo.Candidates[1]}, "jobOrder": map[string]any{"id": demo.JobOrders[1]},
		"jobSubmission": map[string]any{"id": demo.Submissions[1]}, "status": "Placed", "employmentType": "Temp"})
	if err != nil {
		t.Fatal(err)
	}
	hub = openHubAt(t, path)
	waitFor(t, 10*time.Second, "the changes made while the hub was down", func() bool {
		n := countTypes(webhooks(t, rc, ep.Secret))
		return n["application.stage_changed"] == 4 && n["placement.created"] == 1
	})

	// A crash between reading a batch and processing it: Bullhorn has
	// deleted the batch's events from the queue, the hydration fails, and
	// the hub stops before it retries. The next start re-reads the batch
	// by the requestId the store kept.
	before := sim.Stats()
	sim.FailPath("entity/", 500, 1, 0)
	if err := sim.Update("JobSubmission", demo.Submissions[0], map[string]any{"status": "Offer Extended"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the hydration to fail", func() bool { return sim.Stats().Faults > before.Faults })
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q := sim.Queued("hirehook-" + src.ID); q != 0 {
		t.Fatalf("%d events still queued: the batch was not read before the crash", q)
	}
	hub = openHubAt(t, path)
	waitFor(t, 10*time.Second, "the re-read batch", func() bool { return countTypes(webhooks(t, rc, ep.Secret))["application.stage_changed"] == 5 })
	if sim.Stats().Rereads <= before.Rereads {
		t.Fatal("the batch was not re-read by requestId")
	}

	// A change of the source restarts its poller; changes keep flowing.
	if st := call(t, hub.URL(), "PATCH", "/v1/sources/"+src.ID, map[string]any{"config": map[string]any{"poll_interval_ms": 150}}, &src); st != 200 {
		t.Fatalf("patch source: status %d", st)
	}
	if err := sim.Update("Placement", pl2, map[string]any{"status": "Approved"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the second placement.confirmed", func() bool { return countTypes(webhooks(t, rc, ep.Secret))["placement.confirmed"] == 2 })

	// Nothing twice, and the source says what it did.
	ws = webhooks(t, rc, ep.Secret)
	seen := map[string]bool{}
	for _, w := range ws {
		if seen[w.ID] {
			t.Errorf("event %s (%s) delivered twice", w.ID, w.Type)
		}
		seen[w.ID] = true
	}
	if n := countTypes(ws); n["placement.confirmed"] != 2 || n["placement.created"] != 1 || n["application.stage_changed"] != 5 {
		t.Fatalf("received %v", n)
	}
	waitFor(t, 10*time.Second, "the source's health", func() bool {
		call(t, hub.URL(), "GET", "/v1/sources/"+src.ID, nil, &src)
		return src.Health.EventsEmitted >= 8 && src.Health.LastSuccessAt != nil && src.Health.Node != ""
	})
	// The failed hydration counts as an error unless the hub stopped
	// before the poller counted it.
	if src.Health.Errors > 1 || src.Health.EventsRead < 8 || src.Health.Errors == 1 && !strings.Contains(src.Health.LastError, "500") {
		t.Fatalf("health = %+v", src.Health)
	}
	// Secrets never come back.
	var raw json.RawMessage
	call(t, hub.URL(), "GET", "/v1/sources", nil, &raw)
	if strings.Contains(string(raw), simCfg.Password) || strings.Contains(string(raw), simCfg.ClientSecret) {
		t.Fatalf("GET /v1/sources holds a secret: %s", raw)
	}

	// A deleted source stops polling.
	if st := call(t, hub.URL(), "DELETE", "/v1/sources/"+src.ID, nil, nil); st != 204 {
		t.Fatalf("delete source: status %d", st)
	}
	// The manager reacts to the API at once, and it forgets a source only
	// after its poller has stopped: from then on no poll can be made.
	waitFor(t, 5*time.Second, "the deleted source to stop", func() bool { return !hub.Sources.Runs(src.ID) })
	polls := sim.Stats().Polls
	// The next round of the manager, run here rather than waited for, must
	// not start it again.
	if err := hub.Sources.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sim.Stats().Polls; got != polls || hub.Sources.Runs(src.ID) {
		t.Fatalf("the deleted source still polls: %d → %d", polls, got)
	}
}

// TestPostgresSourceRunsOnOneNode runs two hubs on one database: a source
// is polled by exactly one of them, and when that one stops, the other
// takes the source over and nothing is lost.
func TestPostgresSourceRunsOnOneNode(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	key := seal.NewKey()
	var hubs []*Hub
	for range 2 {
		hubs = append(hubs, startHub(t, func(c *Config) { c.DB, c.EncryptionKey, c.SourceLease = dsn, key, 3*time.Second }))
	}
	sim := bullhornsim.New(bullhornsim.Config{})
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	demo, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, hubs[0].URL(), rc.URL, "placement.*")
	simCfg := sim.Config()
	var src hirehook.Source
	if st := call(t, hubs[1].URL(), "POST", "/v1/sources", map[string]any{"kind": "bullhorn", "name": "Acme", "config": map[string]any{
		"client_id": simCfg.ClientID, "client_secret": simCfg.ClientSecret, "username": simCfg.Username, "password": simCfg.Password,
		"auth_url": simSrv.URL, "login_url": simSrv.URL, "poll_interval_ms": 100,
	}}, &src); st != 201 {
		t.Fatalf("create source: status %d", st)
	}
	owner := -1
	waitFor(t, 10*time.Second, "a node to run the source", func() bool {
		owner = slices.IndexFunc(hubs, func(h *Hub) bool { return h.Sources.Runs(src.ID) })
		return owner >= 0 && sim.Stats().Polls > 0
	})
	// Over a few lease periods, never both.
	for range 20 {
		if hubs[0].Sources.Runs(src.ID) && hubs[1].Sources.Runs(src.ID) {
			t.Fatal("both nodes run the source")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := hubs[owner].Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := sim.Update("Placement", demo.Placements[0], map[string]any{"status": "Approved"}); err != nil {
		t.Fatal(err)
	}
	other := hubs[1-owner]
	waitFor(t, 10*time.Second, "the other node to take the source over", func() bool { return other.Sources.Runs(src.ID) })
	waitFor(t, 10*time.Second, "placement.confirmed", func() bool { return countTypes(webhooks(t, rc, ep.Secret))["placement.confirmed"] == 1 })
}

// TestBullhornLatency measures the time from a placement's approval in the
// simulator to its placement.confirmed webhook reaching a receiver through
// a real hub (SQLite), over 1,000 placements approved across 20 s, with the
// default 2 s poll interval. It takes about 25 s, so it runs only with
// HIREHOOK_BULLHORN_LATENCY=1.
func TestBullhornLatency(t *testing.T) {
	if os.Getenv("HIREHOOK_BULLHORN_LATENCY") == "" {
		t.Skip("set HIREHOOK_BULLHORN_LATENCY=1 to measure")
	}
	const n = 1000
	sim := bullhornsim.New(bullhornsim.Config{})
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	demo, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int, n)
	for i := range ids {
		if ids[i], err = sim.Create("Placement", map[string]any{"candidate": map[string]any{"id": demo.Candidates[i%5]}, "jobOrder": map[string]any{"id": demo.JobOrders[i%3]},
			"status": "Placed", "employmentType": "Contract"}); err != nil {
			t.Fatal(err)
		}
	}
	hub := openHubAt(t, filepath.Join(t.TempDir(), "hirehook.db"))
	var mu sync.Mutex
	approved := map[string]time.Time{}
	var lat []time.Duration
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var wh webhook
		if err := json.NewDecoder(r.Body).Decode(&wh); err == nil && wh.Type == "placement.confirmed" {
			mu.Lock()
			lat = append(lat, now.Sub(approved[wh.Subject.ID]))
			mu.Unlock()
		}
	}))
	t.Cleanup(rc.Close)
	createEndpoint(t, hub.URL(), rc.URL, "placement.confirmed")
	simCfg := sim.Config()
	if st := call(t, hub.URL(), "POST", "/v1/sources", map[string]any{"kind": "bullhorn", "name": "Acme", "config": map[string]any{
		"client_id": simCfg.ClientID, "client_secret": simCfg.ClientSecret, "username": simCfg.Username, "password": simCfg.Password,
		"auth_url": simSrv.URL, "login_url": simSrv.URL,
	}}, nil); st != 201 {
		t.Fatalf("create source: status %d", st)
	}
	waitFor(t, 10*time.Second, "the source's first poll", func() bool { return sim.Stats().Polls > 0 })
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, id := range ids {
		<-tick.C
		mu.Lock()
		approved["bh_"+strconv.Itoa(id)] = time.Now()
		mu.Unlock()
		if err := sim.Update("Placement", id, map[string]any{"status": "Approved"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "every placement.confirmed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(lat) == n
	})
	slices.Sort(lat)
	t.Logf("simulator change → webhook received, over %d placements, 2 s poll interval: p50 %v, p90 %v, p99 %v, max %v",
		n, lat[n/2].Round(time.Millisecond), lat[n*9/10].Round(time.Millisecond), lat[n*99/100].Round(time.Millisecond), lat[n-1].Round(time.Millisecond))
}
