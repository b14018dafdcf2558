package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	hookreceiver "github.com/hirehook/hirehook/client/receiver"
	"github.com/hirehook/hirehook/internal/bench"
	"github.com/hirehook/hirehook/store/sqlite"
)

const testKey = "hh_test_admin_key_0123456789"

// TestMain lets the test binary act as a hirehook process of its own: the
// kill -9 and SIGTERM tests start it as a child with HIREHOOK_TEST_CHILD
// set. It handles signals as main does. And `hirehook bench` starts the hub
// (`serve`) and its bare relay as child processes of os.Executable(),
// which under `go test` is this binary: it runs them as main would (test
// flags never start with these words).
func TestMain(m *testing.M) {
	if os.Getenv("HIREHOOK_TEST_CHILD") == "1" {
		args := strings.Split(os.Getenv("HIREHOOK_TEST_ARGS"), "\x1f")
		os.Exit(run(signalContext(), args, os.Getenv, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == bench.RelayCommand) {
		setRuntimeDefaults()
		os.Exit(run(signalContext(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// testLogger sends the hub's logs to t.Log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startHub runs a hub on :0 with a fresh SQLite file and the test key,
// its warnings and errors sent to t.Log.
func startHub(tb testing.TB, edit func(*Config)) *Hub {
	tb.Helper()
	return startHubLog(tb, tbWriter{tb}, slog.LevelWarn, edit)
}

// startHubLog is startHub with the hub's log at level written to w.
func startHubLog(tb testing.TB, w io.Writer, level slog.Level, edit func(*Config)) *Hub {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = "sqlite:" + filepath.Join(tb.TempDir(), "hirehook.db")
	cfg.AdminKey = testKey
	cfg.AllowPrivateDestinations = true
	cfg.RetrySchedule = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}
	cfg.ShutdownTimeout = 5 * time.Second
	// Dozens of hubs run in parallel under -race on small CI machines,
	// where a commit can take longer than the 5 s default deadline; the
	// tests of the deadline set their own.
	cfg.IngestTimeout = 30 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	hub := NewHub(cfg, slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})))
	if err := hub.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := hub.Close(context.Background()); err != nil {
			tb.Error(err)
		}
	})
	return hub
}

// call sends a JSON request with the test key and decodes the answer into out.
func call(tb testing.TB, base, method, path string, body any, out any) int {
	tb.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// receiver is a webhook receiver with a scripted answer per request.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	answer   func(n int) int // status for the n-th request (1-based)
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(tb testing.TB, answer func(n int) int) *receiver {
	tb.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests = append(rc.requests, received{header: r.Header.Clone(), body: body})
		n := len(rc.requests)
		rc.mu.Unlock()
		status := 200
		if rc.answer != nil {
			status = rc.answer(n)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", n)
	}))
	tb.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.requests...)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type endpointCreated struct {
	ID             string `json:"id"`
	Secret         string `json:"secret"`
	Disabled       bool   `json:"disabled"`
	DisabledReason string `json:"disabled_reason"`
}

func createEndpoint(tb testing.TB, base, url string, types ...string) endpointCreated {
	tb.Helper()
	var ep endpointCreated
	if st := call(tb, base, "POST", "/v1/endpoints", map[string]any{"url": url, "event_types": types, "headers": map[string]string{"X-Agency": "acme"}}, &ep); st != 201 {
		tb.Fatalf("create endpoint: status %d", st)
	}
	return ep
}

func sendEvent(tb testing.TB, base string, ev map[string]any) hirehook.EventAccepted {
	tb.Helper()
	var acc hirehook.EventAccepted
	if st := call(tb, base, "POST", "/v1/events", ev, &acc); st != 202 {
		tb.Fatalf("send event: status %d", st)
	}
	return acc
}

func placement(id string) map[string]any {
	return map[string]any{
		"type":   "placement.confirmed",
		"source": "bullhorn",
		"data": map[string]any{
			"id": id, "status": "confirmed", "start_date": "2026-12-07", "employment_type": "contract",
			"pay_rate":  map[string]any{"amount": 42.5, "currency": "USD", "unit": "hour"},
			"candidate": map[string]any{"id": "c_1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
			"job":       map[string]any{"id": "j_1", "title": "Data Engineer"},
			"client":    map[string]any{"id": "cl_1", "name": "Acme Corp"},
		},
		"changes": map[string]any{"status": map[string]any{"from": "submitted", "to": "confirmed"}},
	}
}

type deliveryView struct {
	ID          string                 `json:"id"`
	State       hirehook.DeliveryState `json:"state"`
	Attempts    int                    `json:"attempts"`
	EndpointID  string                 `json:"endpoint_id"`
	AttemptList []struct {
		Number     int     `json:"number"`
		StatusCode int     `json:"status_code"`
		LatencyMS  float64 `json:"latency_ms"`
		Response   string  `json:"response_body"`
		ErrorClass string  `json:"error_class"`
		Error      string  `json:"error"`
	} `json:"attempt_list"`
}

type eventView struct {
	ID           string         `json:"id"`
	DeliveryList []deliveryView `json:"delivery_list"`
}

// deliveriesSettled waits until every delivery of the hub's tenant is
// final (delivered, failed or cancelled) and returns how many there are.
// Once the events are stored, that is every webhook the receivers will
// ever get: a test checks that nothing more comes without sleeping for it.
func deliveriesSettled(tb testing.TB, base string) int {
	tb.Helper()
	var n int
	waitFor(tb, 10*time.Second, "every delivery to be final", func() bool {
		var page struct {
			Data []deliveryView `json:"data"`
		}
		if st := call(tb, base, "GET", "/v1/deliveries?limit=1000", nil, &page); st != 200 {
			tb.Fatalf("list deliveries: status %d", st)
		}
		n = len(page.Data)
		for _, d := range page.Data {
			if d.State != hirehook.DeliveryDelivered && d.State != hirehook.DeliveryFailed && d.State != hirehook.DeliveryCancelled {
				return false
			}
		}
		return true
	})
	return n
}

// deliveryOf returns the only delivery of an event, with its attempts.
func deliveryOf(tb testing.TB, base, eventID string) deliveryView {
	tb.Helper()
	var ev eventView
	if st := call(tb, base, "GET", "/v1/events/"+eventID, nil, &ev); st != 200 || len(ev.DeliveryList) != 1 {
		tb.Fatalf("event %s: status %d, %d deliveries", eventID, st, len(ev.DeliveryList))
	}
	var d deliveryView
	call(tb, base, "GET", "/v1/deliveries/"+ev.DeliveryList[0].ID, nil, &d)
	return d
}

func TestEndToEndSignedDelivery(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, hub.URL(), rc.URL+"/onboarding", "placement.*")
	other := newReceiver(t, nil)
	createEndpoint(t, hub.URL(), other.URL, "candidate.*")

	acc := sendEvent(t, hub.URL(), placement("pl_100"))
	if acc.Deliveries != 1 {
		t.Fatalf("deliveries = %d, want 1", acc.Deliveries)
	}
	waitFor(t, 5*time.Second, "the webhook", func() bool { return len(rc.got()) == 1 })
	req := rc.got()[0]

	// Receiver side: verify what the hub sent, as a receiver would.
	if err := hirehook.Verify(req.header, req.body, time.Now(), ep.Secret); err != nil {
		t.Fatalf("receiver-side verify: %v", err)
	}
	if got := req.header.Get("webhook-id"); got != acc.ID {
		t.Fatalf("webhook-id = %q, want the event id %q", got, acc.ID)
	}
	if ct := req.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content-type = %q", ct)
	}
	if ua := req.header.Get("User-Agent"); !strings.HasPrefix(ua, "hirehook/"+hirehook.Version) {
		t.Fatalf("user-agent = %q", ua)
	}
	if got := req.header.Get("X-Agency"); got != "acme" {
		t.Fatalf("custom header = %q", got)
	}
	var body struct {
		ID        string           `json:"id"`
		Type      string           `json:"type"`
		Timestamp time.Time        `json:"timestamp"`
		Source    string           `json:"source"`
		Subject   hirehook.Subject `json:"subject"`
		Data      map[string]any   `json:"data"`
		Changes   map[string]struct {
			From, To string
		} `json:"changes"`
	}
	if err := json.Unmarshal(req.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ID != acc.ID || body.Type != "placement.confirmed" || body.Source != "bullhorn" ||
		body.Subject != (hirehook.Subject{Entity: "placement", ID: "pl_100"}) || body.Data["status"] != "confirmed" ||
		body.Changes["status"].To != "confirmed" || body.Timestamp.IsZero() {
		t.Fatalf("webhook body = %s", req.body)
	}
	if len(other.got()) != 0 {
		t.Fatal("an endpoint that did not subscribe got the event")
	}

	// The attempt log says what happened.
	var d deliveryView
	waitFor(t, 5*time.Second, "the delivery to be recorded", func() bool {
		d = deliveryOf(t, hub.URL(), acc.ID)
		return d.State == hirehook.DeliveryDelivered
	})
	if d.Attempts != 1 || len(d.AttemptList) != 1 || d.AttemptList[0].StatusCode != 200 || d.AttemptList[0].Response != "answer 1" || d.AttemptList[0].LatencyMS <= 0 {
		t.Fatalf("delivery = %+v", d)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	rc := newReceiver(t, func(n int) int {
		if n <= 2 {
			return 500
		}
		return 200
	})
	// placement.* only: "*" would also get the delivery.recovered event.
	createEndpoint(t, hub.URL(), rc.URL, "placement.*")
	acc := sendEvent(t, hub.URL(), placement("pl_1"))

	var d deliveryView
	waitFor(t, 10*time.Second, "delivered after two failures", func() bool {
		d = deliveryOf(t, hub.URL(), acc.ID)
		return d.State == hirehook.DeliveryDelivered
	})
	if d.Attempts != 3 || len(d.AttemptList) != 3 {
		t.Fatalf("attempts = %d (%d logged), want 3", d.Attempts, len(d.AttemptList))
	}
	for i, want := range []int{500, 500, 200} {
		a := d.AttemptList[i]
		if a.Number != i+1 || a.StatusCode != want {
			t.Fatalf("attempt %d = %+v, want status %d", i+1, a, want)
		}
	}
	if d.AttemptList[0].ErrorClass != "http_status" {
		t.Fatalf("error class = %q", d.AttemptList[0].ErrorClass)
	}
	reqs := rc.got()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.header.Get("webhook-id") != acc.ID {
			t.Fatal("webhook-id changed between retries")
		}
	}
}

func TestExhaustedRetriesFailThenManualRetryAndRecover(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil) // 3 retries: 4 attempts
	var healthy sync.Mutex
	down := true
	rc := newReceiver(t, func(int) int {
		healthy.Lock()
		defer healthy.Unlock()
		if down {
			return 503
		}
		return 204
	})
	ep := createEndpoint(t, hub.URL(), rc.URL, "placement.confirmed")
	first := sendEvent(t, hub.URL(), placement("pl_1"))
	second := sendEvent(t, hub.URL(), placement("pl_2"))
	var d deliveryView
	waitFor(t, 10*time.Second, "both deliveries to fail", func() bool {
		d = deliveryOf(t, hub.URL(), first.ID)
		d2 := deliveryOf(t, hub.URL(), second.ID)
		return d.State == hirehook.DeliveryFailed && d2.State == hirehook.DeliveryFailed
	})
	if d.Attempts != 4 {
		t.Fatalf("attempts = %d, want 4", d.Attempts)
	}
	healthy.Lock()
	down = false
	healthy.Unlock()

	// Resend one now.
	if st := call(t, hub.URL(), "POST", "/v1/deliveries/"+d.ID+"/retry", nil, nil); st != 202 {
		t.Fatalf("retry: status %d", st)
	}
	waitFor(t, 5*time.Second, "the retried delivery", func() bool {
		return deliveryOf(t, hub.URL(), first.ID).State == hirehook.DeliveryDelivered
	})
	// Recover every failed one of the endpoint since an hour ago.
	var rec struct{ Recovered int }
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if st := call(t, hub.URL(), "POST", "/v1/endpoints/"+ep.ID+"/recover", map[string]string{"since": since}, &rec); st != 202 || rec.Recovered != 1 {
		t.Fatalf("recover: status %d, recovered %d", st, rec.Recovered)
	}
	waitFor(t, 5*time.Second, "the recovered delivery", func() bool {
		return deliveryOf(t, hub.URL(), second.ID).State == hirehook.DeliveryDelivered
	})
}

func TestGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	rc := newReceiver(t, func(int) int { return 410 })
	ep := createEndpoint(t, hub.URL(), rc.URL, "*")
	acc := sendEvent(t, hub.URL(), placement("pl_1"))
	waitFor(t, 5*time.Second, "the delivery to fail", func() bool {
		return deliveryOf(t, hub.URL(), acc.ID).State == hirehook.DeliveryFailed
	})
	var got endpointCreated
	call(t, hub.URL(), "GET", "/v1/endpoints/"+ep.ID, nil, &got)
	if !got.Disabled || !strings.Contains(got.DisabledReason, "410") {
		t.Fatalf("endpoint after 410: %+v", got)
	}
	if n := len(rc.got()); n != 1 {
		t.Fatalf("receiver got %d requests after 410, want 1", n)
	}
	// A disabled endpoint gets no new deliveries.
	if acc := sendEvent(t, hub.URL(), placement("pl_2")); acc.Deliveries != 0 {
		t.Fatalf("event after disable made %d deliveries", acc.Deliveries)
	}
}

func TestPrivateDestinationRefused(t *testing.T) {
	t.Parallel()
	hub := startHub(t, func(c *Config) { c.AllowPrivateDestinations = false })
	rc := newReceiver(t, nil)
	createEndpoint(t, hub.URL(), rc.URL, "*") // http://127.0.0.1:port
	// A name that resolves to loopback is refused too: the check is at dial time.
	named := strings.Replace(rc.URL, "127.0.0.1", "localhost", 1)
	createEndpoint(t, hub.URL(), named, "*")
	acc := sendEvent(t, hub.URL(), placement("pl_1"))
	if acc.Deliveries != 2 {
		t.Fatalf("deliveries = %d", acc.Deliveries)
	}
	var ev eventView
	waitFor(t, 5*time.Second, "both attempts to be refused", func() bool {
		call(t, hub.URL(), "GET", "/v1/events/"+acc.ID, nil, &ev)
		refused := 0
		for _, dl := range ev.DeliveryList {
			var d deliveryView
			call(t, hub.URL(), "GET", "/v1/deliveries/"+dl.ID, nil, &d)
			if len(d.AttemptList) > 0 && d.AttemptList[0].ErrorClass == string(hirehook.ErrorClassForbidden) {
				refused++
			}
		}
		return refused == 2
	})
	if n := len(rc.got()); n != 0 {
		t.Fatalf("the private receiver got %d requests", n)
	}
}

func TestSecretRotationSignsWithBoth(t *testing.T) {
	t.Parallel()
	// The dispatcher keeps an endpoint for a nanosecond, not a second:
	// the rotation reaches the next delivery without a wait.
	hub := startHub(t, func(c *Config) { c.EndpointCacheTTL = time.Nanosecond })
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, hub.URL(), rc.URL, "*")
	var rotated endpointCreated
	if st := call(t, hub.URL(), "POST", "/v1/endpoints/"+ep.ID+"/rotate-secret", nil, &rotated); st != 200 || rotated.Secret == ep.Secret {
		t.Fatalf("rotate: status %d", st)
	}
	sendEvent(t, hub.URL(), placement("pl_1"))
	waitFor(t, 5*time.Second, "the webhook", func() bool { return len(rc.got()) == 1 })
	req := rc.got()[0]
	if n := len(strings.Fields(req.header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures during rotation, want 2", n)
	}
	for _, secret := range []string{ep.Secret, rotated.Secret} {
		if err := hirehook.Verify(req.header, req.body, time.Now(), secret); err != nil {
			t.Fatalf("verify with one of the secrets: %v", err)
		}
	}
}

func TestShutdownLeavesNothingLeased(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	slow := make(chan struct{})
	rc := newReceiver(t, func(int) int { <-slow; return 200 })
	hub := startHub(t, func(c *Config) {
		c.DB = "sqlite:" + filepath.Join(dir, "hirehook.db")
		c.ShutdownTimeout = 200 * time.Millisecond
		c.EndpointConcurrency = 1
	})
	createEndpoint(t, hub.URL(), rc.URL, "*")
	for i := range 5 {
		sendEvent(t, hub.URL(), placement(fmt.Sprintf("pl_%d", i)))
	}
	waitFor(t, 5*time.Second, "an attempt in flight", func() bool { return len(rc.got()) >= 1 })
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(slow)

	// Look at the database as the hub left it: no delivery is still leased
	// (stuck in "delivering" until its lease would run out).
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	left, err := st.DeliveryList(context.Background(), hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if len(left) != 5 {
		t.Fatalf("%d deliveries, want 5", len(left))
	}
	for _, d := range left {
		if d.State == hirehook.DeliveryDelivering {
			t.Fatalf("delivery %s left leased after shutdown", d.ID)
		}
	}

	// Reopen: all five arrive.
	rc2 := newReceiver(t, nil)
	hub2 := startHub(t, func(c *Config) { c.DB = "sqlite:" + filepath.Join(dir, "hirehook.db") })
	var list struct {
		Data []deliveryView `json:"data"`
	}
	// Point the endpoint at the new receiver; the dispatcher's cache is fresh.
	var eps struct {
		Data []endpointCreated `json:"data"`
	}
	call(t, hub2.URL(), "GET", "/v1/endpoints", nil, &eps)
	call(t, hub2.URL(), "PATCH", "/v1/endpoints/"+eps.Data[0].ID, map[string]string{"url": rc2.URL}, nil)
	hub2.Dispatcher.Notify()
	waitFor(t, 10*time.Second, "all five deliveries", func() bool {
		call(t, hub2.URL(), "GET", "/v1/deliveries?state=delivered", nil, &list)
		return len(list.Data) == 5
	})
}

// TestKillNineDeliversEverythingAtLeastOnce runs the hub as a child process,
// kills it with SIGKILL while deliveries are in flight, restarts it on the
// same database, and checks that every accepted event arrives, at once: the
// restarted hub releases what the killed one left leased rather than
// waiting out the leases (2 min, the default).
func TestKillNineDeliversEverythingAtLeastOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	db := filepath.Join(t.TempDir(), "hirehook.db")

	var mu sync.Mutex
	hold := true
	hanging := 0
	release := make(chan struct{})
	seen := map[string]int{}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		wait := hold
		if wait {
			hanging++
		}
		mu.Unlock()
		if wait {
			<-release // hang: the first process dies with these in flight
			return
		}
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		_ = body
	}))
	defer rc.Close()

	// Every attempt before the kill hangs until the 500ms timeout, and
	// sending the 40 events can take over a second on a loaded machine
	// under -race: with a single retry the first deliveries would fail for
	// good before the kill and never arrive. 20 retries outlast that.
	retries := strings.TrimSuffix(strings.Repeat("50ms,", 20), ",")
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + db, "--admin-key", testKey,
		"--allow-private-destinations", "--delivery-timeout", "500ms", "--retry-schedule", retries}
	first, base := startChild(t, args)

	createEndpoint(t, base, rc.URL, "placement.*") // not the operational events
	const n = 40
	var ids []string
	for i := range n {
		ids = append(ids, sendEvent(t, base, placement(fmt.Sprintf("pl_%d", i))).ID)
	}
	// Wait until attempts are in flight, then kill -9.
	waitFor(t, 5*time.Second, "attempts in flight", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return hanging > 0
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	mu.Lock()
	hold = false
	mu.Unlock()
	close(release)

	_, base2 := startChild(t, args)
	waitFor(t, 30*time.Second, "every accepted event to arrive after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if seen[id] == 0 {
				return false
			}
		}
		return true
	})
	var list struct {
		Data []deliveryView `json:"data"`
	}
	waitFor(t, 10*time.Second, "every delivery to be recorded delivered", func() bool {
		call(t, base2, "GET", "/v1/deliveries?state=delivered&limit=1000", nil, &list)
		return len(list.Data) == n
	})
}

var listeningURL = regexp.MustCompile(`url=(http://[0-9.:]+)`)

// startChild starts the test binary as a hirehook process and returns it and
// its base URL; it is killed at cleanup if still running.
func startChild(tb testing.TB, args []string) (*exec.Cmd, string) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HIREHOOK_TEST_CHILD=1", "HIREHOOK_TEST_ARGS="+strings.Join(args, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := listeningURL.FindStringSubmatch(sc.Text()); m != nil && !sent {
				urls <- m[1]
				sent = true
			}
		}
	}()
	select {
	case u := <-urls:
		return cmd, u
	case <-time.After(20 * time.Second):
		tb.Fatal("child hirehook did not start")
	}
	return nil, ""
}

func TestBenchRuns(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "burst", "--events", "300", "--concurrency", "8"}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"ingested:     300 events", "delivered:    300 events", "(0 duplicates)", "p99", "baseline:", "relay:        300 events"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestConfigFromEnvAndFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"HIREHOOK_ADDR":           "127.0.0.1:9999",
		"HIREHOOK_ADMIN_KEY":      "env_admin_key_0123456789",
		"HIREHOOK_RETRY_SCHEDULE": "1s,2s",
	}
	getenv := func(k string) string { return env[k] }
	cfg := DefaultConfig()
	if err := loadConfig(&cfg, "t", []string{"--addr", "127.0.0.1:7777"}, getenv, io.Discard); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7777" || cfg.AdminKey != "env_admin_key_0123456789" || len(cfg.RetrySchedule) != 2 {
		t.Fatalf("config = %+v", cfg)
	}
	var out bytes.Buffer
	printConfig(&cfg, &out)
	if strings.Contains(out.String(), "env_admin_key") || !strings.Contains(out.String(), "****") {
		t.Fatalf("config print shows the key or no mask:\n%s", out.String())
	}

	bad := []struct {
		args  []string
		field string
	}{
		{[]string{"--db", "mysql://x"}, "--db"},
		{[]string{"--db", "sqlite::memory:"}, "--db"},
		{[]string{"--admin-key", "short"}, "--admin-key"},
		{[]string{"--delivery-lease", "1s", "--delivery-timeout", "5s"}, "--delivery-lease"},
		{[]string{"--retry-schedule", "5s,-1s"}, "retry-schedule"},
		{[]string{"--log-level", "loud"}, "--log-level"},
	}
	for _, b := range bad {
		cfg := DefaultConfig()
		err := loadConfig(&cfg, "t", b.args, func(string) string { return "" }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), b.field) {
			t.Errorf("Load(%v) = %v, want an error naming %s", b.args, err, b.field)
		}
		if err != nil && strings.Contains(err.Error(), "short") && b.field == "--admin-key" {
			t.Errorf("the admin key appears in the error: %v", err)
		}
	}
}

func TestServeRefusesBusyPortAndBadConfig(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	addr := strings.TrimPrefix(hub.URL(), "http://")
	var errOut bytes.Buffer
	dir := t.TempDir()
	code := run(context.Background(), []string{"serve", "--addr", addr, "--db", "sqlite:" + filepath.Join(dir, "x.db"), "--admin-key", testKey},
		func(string) string { return "" }, io.Discard, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "listen on") {
		t.Fatalf("serve on a busy port: exit %d, %s", code, errOut.String())
	}
}

// TestEd25519EndpointSignsV1a: an ed25519 endpoint's webhooks carry v1a
// signatures that verify with the public key of the create answer, with the
// root package and with client/receiver; a rotation with grace 0 signs once,
// with 1h twice.
func TestEd25519EndpointSignsV1a(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	type created struct {
		ID        string `json:"id"`
		Signing   string `json:"signing"`
		Secret    string `json:"secret"`
		PublicKey string `json:"public_key"`
	}
	create := func(rc *receiver) created {
		var ep created
		if st := call(t, hub.URL(), "POST", "/v1/endpoints", map[string]any{"url": rc.URL, "event_types": []string{"*"}, "signing": "ed25519"}, &ep); st != 201 {
			t.Fatalf("create: status %d", st)
		}
		if ep.Signing != "ed25519" || ep.Secret != "" || !strings.HasPrefix(ep.PublicKey, "whpk_") {
			t.Fatalf("create answer = %+v", ep)
		}
		return ep
	}
	rc, rcNow, rcSlow := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	ep, epNow, epSlow := create(rc), create(rcNow), create(rcSlow)

	var sec struct {
		PublicKey string `json:"public_key"`
		Secret    string `json:"secret"`
	}
	if st := call(t, hub.URL(), "GET", "/v1/endpoints/"+ep.ID+"/secret", nil, &sec); st != 200 || sec.PublicKey != ep.PublicKey || sec.Secret != "" {
		t.Fatalf("GET secret: %d %+v", st, sec)
	}

	var rotNow, rotSlow created
	if st := call(t, hub.URL(), "POST", "/v1/endpoints/"+epNow.ID+"/rotate-secret", map[string]any{"grace": 0}, &rotNow); st != 200 || !strings.HasPrefix(rotNow.PublicKey, "whpk_") || rotNow.PublicKey == epNow.PublicKey {
		t.Fatalf("rotate grace 0: %d %+v", st, rotNow)
	}
	if st := call(t, hub.URL(), "POST", "/v1/endpoints/"+epSlow.ID+"/rotate-secret", map[string]any{"grace": "1h"}, &rotSlow); st != 200 || !strings.HasPrefix(rotSlow.PublicKey, "whpk_") {
		t.Fatalf("rotate grace 1h: %d %+v", st, rotSlow)
	}
	for _, bad := range []any{"8d", "169h", -1, "-1s", "soon", true, 604801} {
		if st := call(t, hub.URL(), "POST", "/v1/endpoints/"+epSlow.ID+"/rotate-secret", map[string]any{"grace": bad}, nil); st != 422 {
			t.Fatalf("rotate with grace %v: status %d, want 422", bad, st)
		}
	}

	sendEvent(t, hub.URL(), placement("pl_ed"))
	for _, r := range []*receiver{rc, rcNow, rcSlow} {
		waitFor(t, 5*time.Second, "the webhooks", func() bool { return len(r.got()) == 1 })
	}
	verify := func(req received, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if err := hirehook.Verify(req.header, req.body, time.Now(), k); err != nil {
				t.Fatalf("hirehook.Verify with %s: %v", k, err)
			}
			r := httptest.NewRequest("POST", "/", bytes.NewReader(req.body))
			r.Header = req.header
			if _, err := hookreceiver.Verify(r, k); err != nil {
				t.Fatalf("receiver.Verify with %s: %v", k, err)
			}
		}
	}
	sigs := func(req received) []string { return strings.Fields(req.header.Get("webhook-signature")) }

	req := rc.got()[0]
	if s := sigs(req); len(s) != 1 || !strings.HasPrefix(s[0], "v1a,") {
		t.Fatalf("signatures = %q, want one v1a", s)
	}
	verify(req, ep.PublicKey)

	req = rcNow.got()[0]
	if s := sigs(req); len(s) != 1 {
		t.Fatalf("grace 0: signatures = %q, want one", s)
	}
	verify(req, rotNow.PublicKey)
	if err := hirehook.Verify(req.header, req.body, time.Now(), epNow.PublicKey); !errors.Is(err, hirehook.ErrNoMatchingSignature) {
		t.Fatalf("grace 0: the old key still verifies: %v", err)
	}

	req = rcSlow.got()[0]
	if s := sigs(req); len(s) != 2 {
		t.Fatalf("grace 1h: signatures = %q, want two", s)
	}
	verify(req, rotSlow.PublicKey, epSlow.PublicKey)
}
