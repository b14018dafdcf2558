package delivery_test

import (
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/internal/testwait"
)

// TestIsolationHangingEndpoint: an endpoint that hangs until the sender's
// timeout does not slow a healthy endpoint that receives the same events:
// the healthy one's median latency (hand-off to receipt) stays within 2×
// of its median latency when it is alone.
func TestIsolationHangingEndpoint(t *testing.T) {
	t.Parallel()
	const samples = 50
	var mu sync.Mutex
	got := map[string]time.Time{} // webhook-id → receipt
	healthy := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		mu.Lock()
		got[r.Header.Get(hirehook.HeaderWebhookID)] = time.Now()
		mu.Unlock()
	})
	var hung atomic.Int64
	var hanging *receiver
	hanging = newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		hung.Add(1)
		hanging.hang(r)
	})
	s := newStore(t)
	createEndpoint(t, s, healthy.URL)
	d := startDispatcher(t, s, delivery.Config{Sender: newSender(t, 2*time.Second), EndpointConcurrency: 16})

	// measure sends events one at a time through the hot hand-off and
	// returns the healthy endpoint's median latency.
	measure := func() time.Duration {
		lat := make([]time.Duration, 0, samples)
		for range samples {
			events, leased := ingest(t, s, 1, d.Owner(), time.Now().Add(time.Minute))
			start := time.Now()
			d.Enqueue(leased)
			id := events[0].ID
			var at time.Time
			testwait.For(t, waitTimeout, "the healthy endpoint's delivery", func() bool {
				mu.Lock()
				defer mu.Unlock()
				at = got[id]
				return !at.IsZero()
			}, nil)
			lat = append(lat, at.Sub(start))
		}
		slices.Sort(lat)
		return lat[len(lat)/2]
	}
	alone := measure()

	// The hanging endpoint joins, with its lane full of hung attempts.
	createEndpoint(t, s, hanging.URL, func(ep *hirehook.Endpoint) { ep.MaxConcurrency = 16 })
	_, leased := ingest(t, s, 20, d.Owner(), time.Now().Add(time.Minute))
	d.Enqueue(leased)
	testwait.For(t, waitTimeout, "the hanging endpoint's lane to fill", func() bool { return hung.Load() >= 16 }, nil)
	beside := measure()

	t.Logf("healthy endpoint's median latency: %v alone, %v beside a hanging endpoint (%d hung requests)", alone, beside, hung.Load())
	// Medians are a few milliseconds on loopback, and under a loaded
	// `go test -race ./...` the two phases see different load (a 10 ms
	// floor still flaked there): a 250 ms floor keeps that noise from
	// failing the 2×. Isolation that fails shows as the hanging endpoint's
	// timeout (2 s) in the healthy one's latency, far above it.
	if beside > 2*alone && beside-alone > 250*time.Millisecond {
		t.Errorf("median latency beside a hanging endpoint %v > 2 × %v alone", beside, alone)
	}
}

// TestIsolationRateLimit: an endpoint limited to 20 attempts per second
// gets 20 deliveries spread over at least ~0.95 s (burst 1), each
// delivered at its first attempt: waiting for the limiter is no failure.
func TestIsolationRateLimit(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, answer(http.StatusOK))
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL, func(ep *hirehook.Endpoint) {
		r := 20.0
		ep.RateLimitPerSecond = &r
	})
	_, leased := ingest(t, s, 20, "", time.Time{})
	if len(leased) != 0 {
		t.Fatalf("leased %d", len(leased))
	}
	startDispatcher(t, s, delivery.Config{})
	testwait.For(t, waitTimeout, "20 deliveries", func() bool { return len(deliveriesIn(t, s, hirehook.DeliveryDelivered)) == 20 }, nil)

	var starts []time.Time
	for _, dl := range deliveriesOf(t, s, ep.ID) {
		_, attempts := getDelivery(t, s, dl.ID)
		if dl.Attempts != 1 || len(attempts) != 1 || attempts[0].StatusCode != http.StatusOK || attempts[0].ErrorClass != hirehook.ErrorClassNone {
			t.Errorf("delivery %s: %d attempts (%d stored), want one that succeeded: %+v", dl.ID, dl.Attempts, len(attempts), attempts)
			continue
		}
		starts = append(starts, attempts[0].StartedAt)
	}
	if len(starts) != 20 {
		t.Fatalf("%d successful attempts, want 20", len(starts))
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	if span := starts[19].Sub(starts[0]); span < 900*time.Millisecond {
		t.Errorf("20 attempts at 20/s spanned %v, want at least ~0.95 s", span)
	}
	// The limiter is held to the attempts' recorded starts above, which
	// only a slower machine can spread further. Arrival times at the
	// receiver are not: a first request delayed by dialling on a loaded
	// machine shortens their span (758 ms for 20 was seen under a loaded
	// -race run), so only their count is checked.
	if reqs := rcv.requests(); len(reqs) != 20 {
		t.Errorf("receiver got %d requests, want 20", len(reqs))
	}
}

// TestIsolationMaxConcurrency: an endpoint with max_concurrency 2 never
// has more than 2 requests in flight, though the dispatcher's global
// per-endpoint concurrency is 16.
func TestIsolationMaxConcurrency(t *testing.T) {
	t.Parallel()
	var inflight, peak atomic.Int64
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL, func(ep *hirehook.Endpoint) { ep.MaxConcurrency = 2 })
	d := startDispatcher(t, s, delivery.Config{EndpointConcurrency: 16})
	// Half through the hot hand-off, half claimed from the store.
	_, leased := ingest(t, s, 15, d.Owner(), time.Now().Add(time.Minute))
	d.Enqueue(leased)
	ingest(t, s, 15, "", time.Time{})
	d.Notify()
	testwait.For(t, waitTimeout, "30 deliveries", func() bool { return len(deliveriesIn(t, s, hirehook.DeliveryDelivered)) == 30 }, nil)
	if p := peak.Load(); p > 2 {
		t.Errorf("receiver saw %d requests in flight, want at most 2", p)
	} else if p < 2 {
		t.Logf("peak in flight %d (the lane did not use both workers)", p)
	}
	if n := len(deliveriesOf(t, s, ep.ID)); n != 30 {
		t.Errorf("%d deliveries, want 30", n)
	}
}
