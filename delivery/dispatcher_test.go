package delivery_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/internal/testwait"
)

func TestDispatcherDelivers(t *testing.T) {
	t.Parallel()
	answerBody := strings.Repeat("x", 10<<10) // 10 KiB
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Write([]byte(answerBody))
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL+"/hooks", func(ep *hirehook.Endpoint) {
		ep.Headers = map[string]string{"X-Api-Key": "receiver-key", "Webhook-Signature": "v1,Zm9yZ2Vk"}
	})
	events, _ := ingest(t, s, 1, "", time.Time{})
	startDispatcher(t, s, delivery.Config{})

	ds := deliveriesOf(t, s, ep.ID)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	dl, attempts := waitState(t, s, ds[0].ID, hirehook.DeliveryDelivered)
	if dl.Attempts != 1 || len(attempts) != 1 {
		t.Fatalf("delivered after %d attempts (%d stored), want 1", dl.Attempts, len(attempts))
	}
	a := attempts[0]
	if a.Number != 1 || a.StatusCode != http.StatusOK || a.ErrorClass != hirehook.ErrorClassNone || a.DeliveryID != dl.ID {
		t.Errorf("attempt = %+v, want number 1, status 200, no error class", a)
	}
	if len(a.ResponseBody) != delivery.ResponseExcerptLimit || a.ResponseBody != answerBody[:delivery.ResponseExcerptLimit] {
		t.Errorf("stored response body has %d bytes, want the first %d of the answer", len(a.ResponseBody), delivery.ResponseExcerptLimit)
	}
	if dl.LastStatus != http.StatusOK || dl.NextAttemptAt != nil {
		t.Errorf("delivery last status %d, next attempt %v; want 200, none", dl.LastStatus, dl.NextAttemptAt)
	}

	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	h, body := reqs[0].Header, reqs[0].Body
	if string(body) != string(events[0].Payload) {
		t.Errorf("body = %s, want the event's payload %s", body, events[0].Payload)
	}
	if got := h.Get(hirehook.HeaderWebhookID); got != events[0].ID {
		t.Errorf("webhook-id = %q, want the event id %q", got, events[0].ID)
	}
	if got := h.Get("X-Api-Key"); got != "receiver-key" {
		t.Errorf("X-Api-Key = %q, want the endpoint's custom header", got)
	}
	if err := hirehook.Verify(h, body, time.Now(), ep.Secrets[0].Value); err != nil {
		t.Errorf("Verify with the endpoint's secret: %v (webhook-signature %q)", err, h.Values(hirehook.HeaderWebhookSignature))
	}
}

func TestDispatcherHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL)
	ingest(t, s, 1, "", time.Time{})
	// The schedule's first wait is 10ms; its MaxDelay (5s) leaves room
	// for the receiver's 1s.
	startDispatcher(t, s, delivery.Config{
		Retry: &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 5 * time.Second}},
	})
	id := deliveriesOf(t, s, ep.ID)[0].ID

	var dl *hirehook.Delivery
	var attempts []*hirehook.Attempt
	testwait.For(t, waitTimeout, "the first attempt", func() bool {
		dl, attempts = getDelivery(t, s, id)
		return dl.Attempts >= 1
	}, nil)
	if dl.State != hirehook.DeliveryRetrying || len(attempts) != 1 {
		t.Fatalf("after the 429: state %s with %d attempts, want retrying with 1 (Retry-After ignored?)", dl.State, len(attempts))
	}
	first := attempts[0]
	if first.StatusCode != http.StatusTooManyRequests {
		t.Errorf("first attempt status = %d, want 429", first.StatusCode)
	}
	if dl.NextAttemptAt == nil {
		t.Fatal("retrying delivery has no NextAttemptAt")
	}
	if wait := dl.NextAttemptAt.Sub(first.StartedAt); wait < time.Second || wait > time.Second+first.Duration+time.Millisecond {
		t.Errorf("NextAttemptAt is %v after the attempt started (it took %v), want 1s after it ended", wait, first.Duration)
	}

	dl, attempts = waitState(t, s, id, hirehook.DeliveryDelivered)
	if dl.Attempts != 2 || len(attempts) != 2 {
		t.Fatalf("delivered after %d attempts (%d stored), want 2", dl.Attempts, len(attempts))
	}
	if attempts[1].StartedAt.Before(first.StartedAt.Add(time.Second)) {
		t.Errorf("second attempt started %v after the first, want at least 1s", attempts[1].StartedAt.Sub(first.StartedAt))
	}
	if reqs := rcv.requests(); len(reqs) != 2 {
		t.Errorf("receiver got %d requests, want 2", len(reqs))
	} else if gap := reqs[1].At.Sub(reqs[0].At); gap < time.Second {
		t.Errorf("receiver got the retry %v after the 429, want at least 1s", gap)
	}
}

func TestDispatcherCapsRetryAfterAtMaxDelay(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL)
	ingest(t, s, 1, "", time.Time{})
	const maxDelay = 300 * time.Millisecond
	startDispatcher(t, s, delivery.Config{
		Retry: &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{10 * time.Millisecond, maxDelay}},
	})
	id := deliveriesOf(t, s, ep.ID)[0].ID

	var dl *hirehook.Delivery
	var attempts []*hirehook.Attempt
	testwait.For(t, waitTimeout, "the first attempt", func() bool {
		dl, attempts = getDelivery(t, s, id)
		return dl.Attempts >= 1
	}, nil)
	if dl.State != hirehook.DeliveryRetrying || dl.NextAttemptAt == nil {
		t.Fatalf("after the 503: state %s, next attempt %v; want retrying with a next attempt", dl.State, dl.NextAttemptAt)
	}
	first := attempts[0]
	if wait := dl.NextAttemptAt.Sub(first.StartedAt); wait < maxDelay || wait > maxDelay+first.Duration+time.Millisecond {
		t.Errorf("NextAttemptAt is %v after the attempt started (it took %v), want MaxDelay %v after it ended", wait, first.Duration, maxDelay)
	}
	// Delivered within the wait bound: the hour was not waited.
	dl, _ = waitState(t, s, id, hirehook.DeliveryDelivered)
	if dl.Attempts != 2 {
		t.Errorf("delivered after %d attempts, want 2", dl.Attempts)
	}
}

func TestDispatcherFailsAfterSchedule(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, answer(http.StatusInternalServerError))
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL)
	ingest(t, s, 1, "", time.Time{})
	startDispatcher(t, s, delivery.Config{
		Retry: &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}},
	})
	dl, attempts := waitState(t, s, deliveriesOf(t, s, ep.ID)[0].ID, hirehook.DeliveryFailed)
	var numbers []int
	for _, a := range attempts {
		numbers = append(numbers, a.Number)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, numbers); diff != "" {
		t.Errorf("attempt numbers (-want +got):\n%s", diff)
	}
	if dl.Attempts != 3 || dl.LastStatus != http.StatusInternalServerError || dl.NextAttemptAt != nil {
		t.Errorf("failed delivery: %d attempts, last status %d, next %v; want 3, 500, none", dl.Attempts, dl.LastStatus, dl.NextAttemptAt)
	}
	if n := rcv.count(); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
	got, err := s.EndpointGet(context.Background(), hirehook.DefaultTenantID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Disabled {
		t.Errorf("endpoint disabled (%q) after 500s, want it enabled", got.DisabledReason)
	}
}

func TestDispatcherGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	gone := newReceiver(t, answer(http.StatusGone))
	ok := newReceiver(t, answer(http.StatusOK))
	s := newStore(t)
	goneEP := createEndpoint(t, s, gone.URL)
	okEP := createEndpoint(t, s, ok.URL, func(ep *hirehook.Endpoint) { ep.EventTypes = []string{"candidate.created"} })

	// first is due now. second is held by another node for now, so that it
	// is still pending once the endpoint is disabled.
	const elsewhere = "node_elsewhere"
	ingest(t, s, 1, "", time.Time{})
	_, held := ingest(t, s, 1, elsewhere, time.Now().Add(time.Hour))
	if len(held) != 1 {
		t.Fatalf("%d leased deliveries, want 1", len(held))
	}
	second := held[0].ID
	var first string
	for _, dl := range deliveriesOf(t, s, goneEP.ID) {
		if dl.ID != second {
			first = dl.ID
		}
	}

	d := startDispatcher(t, s, delivery.Config{})
	dl, attempts := waitState(t, s, first, hirehook.DeliveryFailed)
	if dl.Attempts != 1 || len(attempts) != 1 || attempts[0].StatusCode != http.StatusGone || attempts[0].ErrorClass != hirehook.ErrorClassStatus {
		t.Fatalf("after a 410: %d attempts %+v, want one 410 http_status attempt", dl.Attempts, attempts)
	}
	got, err := s.EndpointGet(context.Background(), hirehook.DefaultTenantID, goneEP.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disabled || !strings.Contains(got.DisabledReason, "410") {
		t.Fatalf("endpoint disabled %v, reason %q; want disabled, naming 410", got.Disabled, got.DisabledReason)
	}

	// The other node gives second back: it is due now, but its endpoint is
	// disabled.
	if err := s.DeliveryRelease(context.Background(), elsewhere, []string{second}); err != nil {
		t.Fatal(err)
	}
	if dl, _ := getDelivery(t, s, second); dl.State != hirehook.DeliveryPaused {
		t.Fatalf("released delivery is %s, want paused", dl.State)
	}
	// A delivery to another endpoint, due after second: once it has been
	// claimed and delivered, a claim has passed second over.
	ingestType(t, s, "candidate.created", 1, "", time.Time{})
	d.Notify()
	waitState(t, s, deliveriesOf(t, s, okEP.ID)[0].ID, hirehook.DeliveryDelivered)

	if dl, attempts := getDelivery(t, s, second); dl.State != hirehook.DeliveryPaused || dl.Attempts != 0 || len(attempts) != 0 {
		t.Errorf("delivery to the disabled endpoint: %s with %d attempts, want paused with 0", dl.State, dl.Attempts)
	}
	if n := gone.count(); n != 1 {
		t.Errorf("gone receiver got %d requests, want 1", n)
	}
}

// README: "410 Gone disables the endpoint at once". Deliveries the
// dispatcher already holds in memory for that endpoint must not be sent
// after the 410: they should go back to the store, pending, like the ones a
// claim passes over, and be delivered once the endpoint is enabled again.
func TestDispatcherGoneStopsQueuedDeliveries(t *testing.T) {
	t.Parallel()
	gone := newReceiver(t, answer(http.StatusGone))
	s := newStore(t)
	ep := createEndpoint(t, s, gone.URL)
	d := startDispatcher(t, s, delivery.Config{EndpointConcurrency: 1})
	_, leased := ingest(t, s, 5, d.Owner(), time.Now().Add(time.Minute))
	d.Enqueue(leased)

	testwait.For(t, waitTimeout, "every delivery to leave delivering", func() bool {
		return len(deliveriesIn(t, s, hirehook.DeliveryDelivering)) == 0
	}, nil)
	if n := gone.count(); n != 1 {
		t.Errorf("gone receiver got %d requests, want 1", n)
	}
	states := map[hirehook.DeliveryState]int{}
	for _, dl := range deliveriesOf(t, s, ep.ID) {
		states[dl.State]++
	}
	want := map[hirehook.DeliveryState]int{hirehook.DeliveryFailed: 1, hirehook.DeliveryPaused: 4} // paused: nothing lost
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("delivery states (-want +got):\n%s", diff)
	}
}

func TestDispatcherLaneOverflow(t *testing.T) {
	t.Parallel()
	var rcv *receiver
	rcv = newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		// A slow receiver: ~20ms per request.
		select {
		case <-time.After(20 * time.Millisecond):
		case <-r.Context().Done():
		case <-rcv.release:
		}
		w.WriteHeader(http.StatusOK)
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL)
	d := startDispatcher(t, s, delivery.Config{LaneBacklog: 4, EndpointConcurrency: 1})

	// All 50 are handed over at once, leased for a minute: the lane holds
	// 4, the rest must be released and claimed again, not left to wait out
	// their lease.
	_, leased := ingest(t, s, 50, d.Owner(), time.Now().Add(time.Minute))
	if len(leased) != 50 {
		t.Fatalf("%d leased deliveries, want 50", len(leased))
	}
	d.Enqueue(leased)

	testwait.For(t, 20*time.Second, "50 deliveries delivered", func() bool {
		return len(deliveriesIn(t, s, hirehook.DeliveryDelivered)) == 50
	}, nil)
	for _, dl := range deliveriesOf(t, s, ep.ID) {
		if dl.Attempts != 1 {
			t.Errorf("delivery %s delivered after %d attempts, want 1", dl.ID, dl.Attempts)
		}
	}
	ids := map[string]int{}
	for _, r := range rcv.requests() {
		ids[r.Header.Get(hirehook.HeaderWebhookID)]++
	}
	if len(ids) != 50 {
		t.Errorf("receiver got %d distinct webhook-ids, want 50", len(ids))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("receiver got %s %d times, want once", id, n)
		}
	}
}

// TestDispatcherHoldLimit holds at most HoldLimit deliveries in memory:
// claims take only what fits, CanTake turns ingest's hand-off away while
// the lanes are full, and everything is still delivered once.
func TestDispatcherHoldLimit(t *testing.T) {
	t.Parallel()
	var rcv *receiver
	var blocking atomic.Bool
	block := make(chan struct{})
	rcv = newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		wait := time.After(5 * time.Millisecond) // a slow receiver: ~5ms per request
		if blocking.Load() {
			wait = nil // until block is closed
		}
		select {
		case <-wait:
		case <-block:
		case <-r.Context().Done():
		case <-rcv.release:
		}
		w.WriteHeader(http.StatusOK)
	})
	s := newStore(t)
	createEndpoint(t, s, rcv.URL)
	const holdLimit, concurrency = 8, 1
	ingest(t, s, 60, "", time.Time{}) // pending: for the claimer
	d := startDispatcher(t, s, delivery.Config{HoldLimit: holdLimit, ClaimBatch: 4, EndpointConcurrency: concurrency})

	most := 0
	testwait.For(t, 20*time.Second, "60 deliveries delivered", func() bool {
		most = max(most, len(deliveriesIn(t, s, hirehook.DeliveryDelivering)))
		return len(deliveriesIn(t, s, hirehook.DeliveryDelivered)) == 60
	}, nil)
	// Claimed is held, being sent, or sent and waiting for the completer's
	// write: never more than the limit, the attempts in flight and a few
	// results (without the limit, claims take all 60 at once).
	if bound := holdLimit + concurrency + holdLimit/2; most > bound {
		t.Errorf("up to %d deliveries claimed at once, want at most %d", most, bound)
	}
	if !d.CanTake() {
		t.Errorf("CanTake() = false with empty lanes")
	}

	// A hand-off beyond the limit (one ingest commit can be larger than
	// the room CanTake saw), while the receiver holds its request: the
	// dispatcher holds the limit, says it is full, and hands the rest back.
	blocking.Store(true)
	_, leased := ingest(t, s, holdLimit+2, d.Owner(), time.Now().Add(time.Minute))
	d.Enqueue(leased)
	if d.CanTake() {
		t.Errorf("CanTake() = true with %d deliveries handed over", len(leased))
	}
	testwait.For(t, waitTimeout, "the hand-off past the limit to go back to the store", func() bool {
		return len(deliveriesIn(t, s, hirehook.DeliveryDelivering)) == holdLimit
	}, nil)
	close(block)
	testwait.For(t, 20*time.Second, "the handed-over deliveries delivered", func() bool {
		return len(deliveriesIn(t, s, hirehook.DeliveryDelivered)) == 60+len(leased)
	}, nil)
	ids := map[string]int{}
	for _, r := range rcv.requests() {
		ids[r.Header.Get(hirehook.HeaderWebhookID)]++
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("receiver got %s %d times, want once", id, n)
		}
	}
}

func TestDispatcherStop(t *testing.T) {
	t.Parallel()

	type bundle struct {
		store hirehook.Store
		rcv   *receiver
		ep    *hirehook.Endpoint
	}
	// setup makes an endpoint whose receiver runs handle, and n deliveries
	// due to it.
	setup := func(t *testing.T, n int, handle func(rc *receiver, w http.ResponseWriter, r *http.Request)) *bundle {
		t.Helper()
		b := &bundle{store: newStore(t)}
		b.rcv = newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) { handle(b.rcv, w, r) })
		b.ep = createEndpoint(t, b.store, b.rcv.URL)
		ingest(t, b.store, n, "", time.Time{})
		return b
	}

	t.Run("BeforeStart", func(t *testing.T) {
		t.Parallel()
		d := delivery.New(newStore(t), delivery.Config{})
		if err := d.Stop(context.Background()); err != nil {
			t.Errorf("Stop before Start = %v, want nil", err)
		}
	})

	t.Run("Twice", func(t *testing.T) {
		t.Parallel()
		d := startDispatcher(t, newStore(t), delivery.Config{})
		for i := range 2 {
			if err := d.Stop(context.Background()); err != nil {
				t.Errorf("Stop #%d = %v, want nil", i+1, err)
			}
		}
		if err := d.Start(context.Background()); err == nil {
			t.Error("Start after Stop succeeded, want an error")
		}
	})

	// A hard stop releases what it holds, whether the deadline passes while
	// Stop waits (CI, loaded: the claimer took longer than 100ms, the
	// release loop's last release ran after the hard stop and failed with
	// "context canceled", leaving 2 deliveries leased) or has passed before
	// Stop is called, which makes that order certain.
	for _, tc := range []struct {
		name     string
		deadline time.Duration
	}{{"HardStopReleases", 100 * time.Millisecond}, {"HardStopPastDeadlineReleases", -time.Second}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 3, func(rc *receiver, _ http.ResponseWriter, r *http.Request) { rc.hang(r) })
			d := startDispatcher(t, b.store, delivery.Config{
				EndpointConcurrency: 1,
				Sender:              delivery.NewSender(delivery.SenderConfig{AllowPrivate: true, Timeout: time.Minute}),
			})
			testwait.For(t, waitTimeout, "the receiver to get an attempt", func() bool { return b.rcv.count() >= 1 }, nil)
			if got := len(deliveriesIn(t, b.store, hirehook.DeliveryDelivering)); got != 3 {
				t.Fatalf("%d deliveries delivering before Stop, want 3", got)
			}

			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			start := time.Now()
			if err := d.Stop(ctx); err != nil {
				t.Errorf("Stop = %v, want nil", err)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Stop took %v with a %v deadline", elapsed, tc.deadline)
			}

			if left := deliveriesIn(t, b.store, hirehook.DeliveryDelivering); len(left) != 0 {
				t.Errorf("%d deliveries left delivering (leased) after Stop, want 0", len(left))
			}
			for _, dl := range deliveriesOf(t, b.store, b.ep.ID) {
				if dl.State != hirehook.DeliveryPending || dl.Attempts != 0 {
					t.Errorf("delivery %s after Stop: %s with %d attempts, want pending with 0 (the cancelled attempt counts nothing)", dl.ID, dl.State, dl.Attempts)
				}
			}
			if n := b.rcv.count(); n != 1 {
				t.Errorf("receiver got %d requests, want 1 (the queued ones are not sent after Stop)", n)
			}
		})
	}

	t.Run("GracefulFinishesInFlight", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 1, func(rc *receiver, w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(200 * time.Millisecond):
			case <-rc.release:
			}
			w.WriteHeader(http.StatusOK)
		})
		d := startDispatcher(t, b.store, delivery.Config{})
		testwait.For(t, waitTimeout, "the receiver to get an attempt", func() bool { return b.rcv.count() >= 1 }, nil)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("Stop = %v, want nil", err)
		}
		dl := deliveriesOf(t, b.store, b.ep.ID)[0]
		if dl.State != hirehook.DeliveryDelivered || dl.Attempts != 1 {
			t.Errorf("delivery after a graceful Stop: %s with %d attempts, want delivered with 1", dl.State, dl.Attempts)
		}
	})
}

// TestDownEndpointProbedNotFlooded: once the attempts of TripAfter
// deliveries in a row find an endpoint down, its deliveries wait in the
// store and only a probe is sent per pause; when a probe finds it back,
// every delivery goes out. The dispatcher's clock stands still unless the
// test moves it, so nothing is due and no pause ends between moves: each
// move past the pause lets exactly one probe through, and the quiet in
// between is no matter of waiting long enough.
func TestDownEndpointProbedNotFlooded(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	var whileDown atomic.Int64
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if !up.Load() {
			whileDown.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL)
	const n = 200
	ingest(t, s, n, "", time.Time{})
	clock := newTestClock()
	d := startDispatcher(t, s, delivery.Config{
		NowFunc: clock.now, Lease: time.Hour,
		TripAfter: 5, ProbeAfter: 100 * time.Millisecond, ProbeMax: 200 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		// Every delivery is due again 20 ms after each failure: without
		// the pause, the dispatcher would attempt all 200 at every move.
		Retry: &hirehook.ScheduleRetryPolicy{Schedule: slices.Repeat([]time.Duration{20 * time.Millisecond}, 200)},
	})
	// settled waits until no delivery is leased (every one was attempted
	// or handed back) and returns the attempts so far while down.
	settled := func(what string) int64 {
		t.Helper()
		testwait.For(t, waitTimeout, what, func() bool {
			return len(deliveriesIn(t, s, hirehook.DeliveryDelivering)) == 0
		}, nil)
		return whileDown.Load()
	}
	testwait.For(t, waitTimeout, "the attempts that trip the pause", func() bool { return whileDown.Load() >= 5 }, nil)
	tripped := settled("the attempts in flight at the trip to end")
	// Tripping takes 5 failures, and up to max_concurrency (16) attempts
	// are in flight when it trips.
	if tripped < 5 || tripped > 5+16 {
		t.Fatalf("%d attempts reached the endpoint before the pause, want 5 to 21", tripped)
	}
	const moves = 4
	for i := range moves {
		clock.advance(time.Minute) // past the pause, and every delivery due
		d.Notify()
		testwait.For(t, waitTimeout, "a probe", func() bool { return whileDown.Load() > tripped+int64(i) }, nil)
		if got := settled("the probe to end"); got != tripped+int64(i)+1 {
			t.Fatalf("after move %d: %d attempts while down, want %d (one probe per pause)", i+1, got, tripped+int64(i)+1)
		}
	}
	unattempted := 0
	for _, dl := range deliveriesOf(t, s, ep.ID) {
		if dl.Attempts == 0 {
			unattempted++
		}
	}
	if least := n - int(tripped) - moves; unattempted < least {
		t.Errorf("%d of %d deliveries never attempted while the endpoint was down, want at least %d", unattempted, n, least)
	}

	up.Store(true)
	clock.advance(time.Minute)
	d.Notify()
	testwait.For(t, waitTimeout, "every delivery delivered once the endpoint is back", func() bool {
		return len(deliveriesIn(t, s, hirehook.DeliveryDelivered)) == n
	}, nil)
}

// testClock is a clock that stands still until advanced.
type testClock struct{ at atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.at.Store(time.Now().UnixNano())
	return c
}

func (c *testClock) now() time.Time { return time.Unix(0, c.at.Load()) }

func (c *testClock) advance(by time.Duration) { c.at.Add(int64(by)) }
