package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/internal/testwait"
	"github.com/hirehook/hirehook/store/sqlite"
)

// waitTimeout bounds every wait for asynchronous work.
const waitTimeout = 10 * time.Second

// newStore opens a SQLite store on a file in tb's temporary directory and
// closes it in tb's cleanup.
func newStore(tb testing.TB) hirehook.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "hirehook.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return s
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is a webhook receiver with scripted behaviour: handle is called
// with the 1-based number of each request, after the request is recorded.
type receiver struct {
	*httptest.Server
	// release is closed in cleanup, before the server is closed, so that a
	// handler that hangs can select on it.
	release chan struct{}

	mu   sync.Mutex
	reqs []received
}

func newReceiver(tb testing.TB, handle func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	tb.Helper()
	rc := &receiver{release: make(chan struct{})}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{Header: r.Header.Clone(), Body: body, At: time.Now()})
		n := len(rc.reqs)
		rc.mu.Unlock()
		handle(w, r, n)
	}))
	tb.Cleanup(rc.Server.Close)
	tb.Cleanup(func() { close(rc.release) })
	return rc
}

// hang blocks until the request is cancelled or the test ends.
func (rc *receiver) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-rc.release:
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// answer returns a handler that answers every request with status.
func answer(status int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(status) }
}

// createEndpoint stores an enabled endpoint for url subscribed to
// placement.confirmed, with one secret; edit may change it first.
func createEndpoint(tb testing.TB, s hirehook.Store, url string, edit ...func(*hirehook.Endpoint)) *hirehook.Endpoint {
	tb.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{
		TenantID:   hirehook.DefaultTenantID,
		ID:         hirehook.NewID("ep"),
		URL:        url,
		EventTypes: []string{"placement.confirmed"},
		Headers:    map[string]string{},
		Secrets:    []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	for _, f := range edit {
		f(ep)
	}
	if err := s.EndpointCreate(context.Background(), ep); err != nil {
		tb.Fatalf("create endpoint: %v", err)
	}
	return ep
}

// newEvent returns an event of type typ about a new placement.
func newEvent(typ string) *hirehook.Event {
	id := hirehook.NewID("plc")
	return &hirehook.Event{
		TenantID:   hirehook.DefaultTenantID,
		ID:         hirehook.NewID("evt"),
		Type:       typ,
		OccurredAt: time.Now().UTC().Truncate(time.Microsecond),
		Source:     "test",
		Subject:    hirehook.Subject{Entity: strings.SplitN(typ, ".", 2)[0], ID: id},
		Data:       json.RawMessage(fmt.Sprintf(`{"id":%q,"fee":{"amount":12000,"currency":"EUR"}}`, id)),
	}
}

// ingest writes n placement.confirmed events; with a lease owner, their
// deliveries are written leased to it until leaseUntil and returned.
func ingest(tb testing.TB, s hirehook.Store, n int, leaseOwner string, leaseUntil time.Time) ([]*hirehook.Event, []*hirehook.Delivery) {
	tb.Helper()
	return ingestType(tb, s, "placement.confirmed", n, leaseOwner, leaseUntil)
}

func ingestType(tb testing.TB, s hirehook.Store, typ string, n int, leaseOwner string, leaseUntil time.Time) ([]*hirehook.Event, []*hirehook.Delivery) {
	tb.Helper()
	events := make([]*hirehook.Event, n)
	for i := range events {
		events[i] = newEvent(typ)
	}
	results, err := s.EventIngest(context.Background(), hirehook.EventIngestParams{
		Events: events, Now: time.Now(), LeaseOwner: leaseOwner, LeaseUntil: leaseUntil,
	})
	if err != nil {
		tb.Fatalf("ingest: %v", err)
	}
	var leased []*hirehook.Delivery
	for _, r := range results {
		leased = append(leased, r.Leased...)
	}
	return events, leased
}

// deliveriesOf returns the deliveries of one endpoint, newest first.
func deliveriesOf(tb testing.TB, s hirehook.Store, endpointID string) []*hirehook.Delivery {
	tb.Helper()
	ds, err := s.DeliveryList(context.Background(), hirehook.DeliveryFilter{
		TenantID: hirehook.DefaultTenantID, EndpointID: &endpointID, Limit: 1000,
	})
	if err != nil {
		tb.Fatalf("list deliveries: %v", err)
	}
	return ds
}

// deliveriesIn returns every delivery in state.
func deliveriesIn(tb testing.TB, s hirehook.Store, state hirehook.DeliveryState) []*hirehook.Delivery {
	tb.Helper()
	ds, err := s.DeliveryList(context.Background(), hirehook.DeliveryFilter{
		TenantID: hirehook.DefaultTenantID, State: &state, Limit: 1000,
	})
	if err != nil {
		tb.Fatalf("list %s deliveries: %v", state, err)
	}
	return ds
}

func getDelivery(tb testing.TB, s hirehook.Store, id string) (*hirehook.Delivery, []*hirehook.Attempt) {
	tb.Helper()
	d, attempts, err := s.DeliveryGet(context.Background(), hirehook.DefaultTenantID, id)
	if err != nil {
		tb.Fatalf("get delivery %s: %v", id, err)
	}
	return d, attempts
}

// waitState waits until delivery id is in state and returns it.
func waitState(tb testing.TB, s hirehook.Store, id string, state hirehook.DeliveryState) (*hirehook.Delivery, []*hirehook.Attempt) {
	tb.Helper()
	var d *hirehook.Delivery
	var attempts []*hirehook.Attempt
	testwait.For(tb, waitTimeout, fmt.Sprintf("delivery %s to be %s", id, state), func() bool {
		d, attempts = getDelivery(tb, s, id)
		return d.State == state
	}, nil)
	return d, attempts
}

// newSender returns a Sender that may reach the test's loopback receivers.
func newSender(tb testing.TB, timeout time.Duration) *delivery.Sender {
	tb.Helper()
	s := delivery.NewSender(delivery.SenderConfig{AllowPrivate: true, Timeout: timeout})
	tb.Cleanup(s.Close)
	return s
}

// newDispatcher returns a dispatcher on s with test defaults for the zero
// fields of cfg, not started. Cleanup stops it.
func newDispatcher(tb testing.TB, s hirehook.Store, cfg delivery.Config) *delivery.Dispatcher {
	tb.Helper()
	if cfg.Sender == nil {
		cfg.Sender = delivery.NewSender(delivery.SenderConfig{AllowPrivate: true, Timeout: 5 * time.Second})
	}
	if cfg.Retry == nil {
		cfg.Retry = &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}}
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	d := delivery.New(s, cfg)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			tb.Errorf("stop dispatcher: %v", err)
		}
	})
	return d
}

// startDispatcher is newDispatcher, started.
func startDispatcher(tb testing.TB, s hirehook.Store, cfg delivery.Config) *delivery.Dispatcher {
	tb.Helper()
	d := newDispatcher(tb, s, cfg)
	if err := d.Start(context.Background()); err != nil {
		tb.Fatalf("start dispatcher: %v", err)
	}
	return d
}

// tbWriter sends log output to the test log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
