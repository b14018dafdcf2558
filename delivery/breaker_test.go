package delivery_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/internal/testwait"
)

// fakeClock is a clock the test moves; it stands still otherwise.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	// A minute ahead of the wall clock, so that what the store wrote at
	// wall-clock time is due.
	c.ns.Store(time.Now().Add(time.Minute).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// settled reports whether no delivery of endpointID is leased (none is in
// flight, waiting in a lane or on its way back to the store) and n of them
// have had an attempt: nothing more can be sent until a claim, and claims
// leave out a paused endpoint while the clock stands still.
func settled(t *testing.T, s hirehook.Store, endpointID string, attempts int) bool {
	t.Helper()
	n := 0
	for _, dl := range deliveriesOf(t, s, endpointID) {
		if dl.State == hirehook.DeliveryDelivering {
			return false
		}
		n += dl.Attempts
	}
	return n == attempts
}

// TestHangingEndpointTripsAtFirstTimeout: a receiver that accepts and never
// answers is known to be down only when the first attempt times out; then
// the attempts still hanging on it count toward the trip, so the endpoint is
// paused at once: the attempts of the first wave (its max_concurrency) are
// all it gets. Before, each timeout freed a worker that sent another
// delivery into the hang until TripAfter attempts had ended.
func TestHangingEndpointTripsAtFirstTimeout(t *testing.T) {
	t.Parallel()
	var rcv *receiver
	rcv = newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) { rcv.hang(r) })
	s := newStore(t)
	rate := 10.0 // the first wave's attempts start 100 ms apart, and so time out 100 ms apart
	ep := createEndpoint(t, s, rcv.URL, func(e *hirehook.Endpoint) { e.MaxConcurrency, e.RateLimitPerSecond = 4, &rate })
	ingest(t, s, 20, "", time.Time{})
	clock := newFakeClock() // stands still: no probe comes due
	startDispatcher(t, s, delivery.Config{
		NowFunc: clock.Now, TripAfter: 4, Sender: newSender(t, 2*time.Second),
	})
	testwait.For(t, 4*waitTimeout, "the first wave to time out and the rest to wait in the store", func() bool {
		return settled(t, s, ep.ID, 4) || rcv.count() > 4
	}, nil)
	if n := rcv.count(); n != 4 {
		t.Fatalf("the hanging endpoint got %d attempts, want the 4 of the first wave", n)
	}
}

// TestProbeScheduleAfterTimeout: the pause after a failed attempt counts
// from its end. An attempt that hangs for the whole timeout (15 s on the
// test's clock) is not followed by a probe at once because its 1 s pause,
// counted from its start, ran out while it hung.
func TestProbeScheduleAfterTimeout(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	var rcv *receiver
	rcv = newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		clock.Advance(15 * time.Second) // the attempt hangs for 15 s
		rcv.hang(r)
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL, func(e *hirehook.Endpoint) { e.MaxConcurrency = 1 })
	ingest(t, s, 3, "", time.Time{})
	d := startDispatcher(t, s, delivery.Config{
		NowFunc: clock.Now, TripAfter: 1, ProbeAfter: time.Second, ProbeMax: 30 * time.Second,
		Sender: newSender(t, 200*time.Millisecond),
	})
	testwait.For(t, waitTimeout, "the first attempt to time out and the others to wait", func() bool {
		return settled(t, s, ep.ID, 1) || rcv.count() > 1
	}, nil)
	if n := rcv.count(); n != 1 {
		t.Fatalf("%d attempts before the pause after the timeout was over, want 1", n)
	}
	// The pause is over 1 s after the attempt ended: the probe goes.
	clock.Advance(time.Second)
	d.Notify()
	testwait.For(t, waitTimeout, "the probe", func() bool { return rcv.count() == 2 }, nil)
	testwait.For(t, waitTimeout, "the probe to time out", func() bool { return settled(t, s, ep.ID, 2) || rcv.count() > 2 }, nil)
	if n := rcv.count(); n != 2 {
		t.Fatalf("%d attempts before the 2 s pause after the failed probe was over, want 2", n)
	}
	clock.Advance(2 * time.Second)
	d.Notify()
	testwait.For(t, waitTimeout, "the second probe, 2 s after the first ended", func() bool { return rcv.count() == 3 }, nil)
}

// TestFailedProbeWaitsForRecovery: a probe is a delivery's attempt, but
// when it fails, its delivery is due again at the next probe, not at its
// next retry step (5 minutes), so that once a probe finds the endpoint back
// it goes out with all the others.
func TestFailedProbeWaitsForRecovery(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	var up atomic.Bool
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		if up.Load() {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL, func(e *hirehook.Endpoint) { e.MaxConcurrency = 1 })
	const n = 3
	ingest(t, s, n, "", time.Time{})
	const probeMax = 30 * time.Second
	d := startDispatcher(t, s, delivery.Config{
		NowFunc: clock.Now, TripAfter: n, ProbeAfter: time.Second, ProbeMax: probeMax,
		Retry: &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute}},
	})
	// Each delivery fails once; the third trips the pause.
	testwait.For(t, waitTimeout, "every delivery to fail once", func() bool { return settled(t, s, ep.ID, n) }, nil)
	// Their second attempts are due 5 s after their first ended (the
	// clock moves 6 s): the first of them is the probe.
	clock.Advance(6 * time.Second)
	d.Notify()
	testwait.For(t, waitTimeout, "the probe to fail", func() bool { return settled(t, s, ep.ID, n+1) }, nil)
	for _, dl := range deliveriesOf(t, s, ep.ID) {
		if wait := dl.NextAttemptAt.Sub(clock.Now()); wait > probeMax {
			t.Errorf("delivery %s (attempts %d) is due in %v, after the next probe (at most %v)", dl.ID, dl.Attempts, wait, probeMax)
		}
	}

	up.Store(true)
	clock.Advance(probeMax)
	d.Notify()
	testwait.For(t, waitTimeout, "every delivery delivered once the endpoint is back", func() bool {
		return len(deliveriesIn(t, s, hirehook.DeliveryDelivered)) == n
	}, nil)
}

// TestEndpointPauseReadable: the pause of a down endpoint, which was only
// in the log, is readable (for the dashboard): since when, what the
// attempts found, when the probe goes; nothing while the endpoint is
// sending or has failed fewer than TripAfter deliveries in a row.
func TestEndpointPauseReadable(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // stands still: no probe comes due
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusInternalServerError) })
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL, func(e *hirehook.Endpoint) { e.MaxConcurrency = 1 })
	d := startDispatcher(t, s, delivery.Config{
		NowFunc: clock.Now, TripAfter: 2, ProbeAfter: 5 * time.Second, ProbeMax: time.Minute, DisableFailingAfter: 48 * time.Hour,
	})
	if _, ok := d.EndpointPause(ep.ID); ok {
		t.Fatal("an endpoint with no attempt is paused")
	}
	if got := d.DisableFailingAfter(); got != 48*time.Hour {
		t.Errorf("DisableFailingAfter = %v, want 48h", got)
	}
	ingest(t, s, 1, "", time.Time{})
	testwait.For(t, waitTimeout, "the first delivery to fail", func() bool { return settled(t, s, ep.ID, 1) }, nil)
	if p, ok := d.EndpointPause(ep.ID); ok {
		t.Fatalf("paused after one failed delivery of TripAfter 2: %+v", p)
	}
	ingest(t, s, 3, "", time.Time{})
	testwait.For(t, waitTimeout, "a second delivery to fail and trip the pause", func() bool {
		_, ok := d.EndpointPause(ep.ID)
		return ok
	}, nil)
	p, _ := d.EndpointPause(ep.ID)
	want := hirehook.EndpointPause{Node: p.Node, Nodes: 1, Since: clock.Now(), FailedInARow: 2, Found: "answered 500",
		Pause: 5 * time.Second, NextProbeAt: clock.Now().Add(5 * time.Second)}
	if p != want || p.Node == "" {
		t.Fatalf("pause = %+v, want %+v with a node name", p, want)
	}
}
