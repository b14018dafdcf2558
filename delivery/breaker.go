package delivery

import (
	"fmt"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/logkey"
)

// An endpoint that is down is probed, not flooded. After attempts of
// TripAfter different deliveries in a row found it down (no connection, a
// timeout, 5xx, 408 or 429), the dispatcher stops sending to it: its deliveries wait in
// the store, untouched, and claims leave the endpoint out. After a pause
// (ProbeAfter, doubling with each failed probe up to ProbeMax) one
// delivery is attempted as a probe. If the endpoint answers, everything
// flows again at once; if not, the pause grows. A pause is no attempt:
// the deliveries keep their retry schedule, which resumes with the probe.
//
// Without this, a dead endpoint with a long backlog costs an attempt per
// delivery per retry step, all of them failing, and the hub spends its
// CPU and its one SQLite writer on them while new events wait; with it a
// dead endpoint costs one attempt per pause. Different deliveries: one
// delivery that the receiver keeps refusing with a 503 (its payload breaks
// something) retries on its own schedule and trips nothing.
//
// Whatever the failure kind, the schedule is the same:
//   - A pause counts from when the failure is known, the end of the
//     attempt, not its start: a probe that hangs until the attempt timeout
//     (15 s) is followed by a pause of 1 s, 2 s, 4 s… after it, not by
//     another probe at once because its pause ran out while it hung.
//   - A receiver that accepts and never answers is known to be down only
//     at the first timeout, when the other attempts sent to it are still
//     hanging. So when an attempt times out, every other attempt to the
//     endpoint in flight for at least half the attempt timeout counts as a
//     failure toward the trip at once, instead of workers starting a new
//     attempt per timeout until TripAfter of them have ended.
//   - A failed probe, and any attempt that fails while the endpoint is
//     paused, is due again no later than the next probe: the probe is an
//     attempt and is recorded as one, but it must not push its delivery to
//     a later retry step than the endpoint's recovery (a 5-minute step,
//     while the others go out the moment a probe finds the endpoint back).

// breaker is one endpoint's state. Guarded by Dispatcher.mu.
type breaker struct {
	failed    map[string]bool // deliveries whose attempts, in a row, found the endpoint down
	openUntil time.Time       // zero: closed (sending); otherwise paused until then
	pause     time.Duration   // the current pause
	probing   bool            // the probe is in flight
	since     time.Time       // when the breaker opened (the pause began)
	found     string          // what the latest failed attempt found, in words
}

// EndpointPause implements hirehook.EndpointPauses: the pause of
// endpointID on this node, false while it is sending to it (its breaker
// closed, even with failures under TripAfter counted). It is a copy, read
// under the dispatcher's lock, for the dashboard.
func (d *Dispatcher) EndpointPause(endpointID string) (hirehook.EndpointPause, bool) {
	if d.breaking.Load() == 0 {
		return hirehook.EndpointPause{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.breakers[endpointID]
	if b == nil || b.openUntil.IsZero() {
		return hirehook.EndpointPause{}, false
	}
	return hirehook.EndpointPause{
		Node: d.cfg.Owner, Nodes: max(d.members.nodes, 1),
		Since: b.since, FailedInARow: len(b.failed), Found: b.found,
		Pause: b.pause, NextProbeAt: b.openUntil, Probing: b.probing,
	}, true
}

// DisableFailingAfter implements hirehook.EndpointPauses: Config's, zero
// when the hub never disables a failing endpoint.
func (d *Dispatcher) DisableFailingAfter() time.Duration { return max(d.cfg.DisableFailingAfter, 0) }

// foundWords says what a failed attempt found, for people: no URL, no
// response body, nothing a receiver controls beyond its status code.
func foundWords(a hirehook.Attempt) string {
	if a.StatusCode != 0 {
		return fmt.Sprintf("answered %d", a.StatusCode)
	}
	switch a.ErrorClass {
	case hirehook.ErrorClassTimeout:
		return "timed out"
	case hirehook.ErrorClassConnection:
		return "could not connect (refused, reset or unreachable)"
	case hirehook.ErrorClassDNS:
		return "its host name did not resolve"
	case hirehook.ErrorClassTLS:
		return "the TLS handshake failed"
	case hirehook.ErrorClassForbidden:
		return "its address is private and not allowed"
	case hirehook.ErrorClassAuth:
		return "the broker refused its credentials"
	case hirehook.ErrorClassRejected:
		return "the broker did not take the message"
	}
	return "failed without an answer"
}

// admit tells whether the delivery deliveryID to endpointID may be
// attempted now: yes while its breaker is closed; while it is open, only
// one probe once the pause is over. An admitted attempt is in flight until
// landed.
func (d *Dispatcher) admit(endpointID, deliveryID string, now time.Time) bool {
	if d.breaking.Load() != 0 && !d.admitLocked(endpointID, now) {
		return false
	}
	d.flights.start(endpointID, deliveryID)
	return true
}

func (d *Dispatcher) admitLocked(endpointID string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.breakers[endpointID]
	if b == nil || b.openUntil.IsZero() {
		return true
	}
	if b.probing || now.Before(b.openUntil) {
		return false
	}
	b.probing = true
	return true
}

// landed ends an attempt admit let in, whatever became of it.
func (d *Dispatcher) landed(endpointID, deliveryID string) {
	d.flights.end(endpointID, deliveryID)
}

// observe records what an attempt (or a probe) found, at now, when it
// ended: down or not. A RetryAfter from a 429 or 503 lengthens the pause to
// it. It returns when the endpoint is next probed if it is paused, else
// the zero time: a failed attempt is due again no later than that.
func (d *Dispatcher) observe(endpointID, deliveryID string, resp Response, now time.Time) time.Time {
	down := foundDown(resp)
	if !down && d.breaking.Load() == 0 {
		return time.Time{} // nothing to close: no lock per successful attempt
	}
	var hanging []string
	if down && resp.Attempt.ErrorClass == hirehook.ErrorClassTimeout {
		hanging = d.flights.longerThan(endpointID, deliveryID, d.cfg.Sender.Timeout()/2)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.breakers[endpointID]
	if !down {
		if b != nil {
			delete(d.breakers, endpointID)
			d.breaking.Add(-1)
			if !b.openUntil.IsZero() {
				d.logger.Info("endpoint is back: sending again", logkey.EndpointID, endpointID)
				d.Notify() // its waiting deliveries are claimable again
			}
		}
		return time.Time{}
	}
	if b == nil {
		b = &breaker{failed: map[string]bool{}}
		d.breakers[endpointID] = b
		d.breaking.Add(1)
	}
	for _, id := range append(hanging, deliveryID) {
		if len(b.failed) < d.cfg.TripAfter {
			b.failed[id] = true
		}
	}
	b.found = foundWords(resp.Attempt)
	switch {
	case b.probing:
		b.probing = false
		b.pause = min(2*b.pause, d.cfg.ProbeMax)
	case b.openUntil.IsZero() && len(b.failed) >= d.cfg.TripAfter:
		b.pause = d.cfg.ProbeAfter
		b.since = now
		d.logger.Info("endpoint is down: pausing its deliveries and probing it", logkey.EndpointID, endpointID,
			logkey.FailedInARow, len(b.failed), logkey.StillHanging, len(hanging), logkey.ProbeIn, b.pause)
	default:
		return b.openUntil // closed and under the threshold (zero), or open with the probe still to come
	}
	b.openUntil = now.Add(max(b.pause, min(resp.RetryAfter, d.cfg.ProbeMax)))
	return b.openUntil
}

// holdUntilProbe makes a failed attempt's result due again no later than
// next, the endpoint's next probe (zero: not paused), so that the
// delivery goes out with the others once the endpoint is back.
func holdUntilProbe(r hirehook.DeliveryResult, next time.Time) hirehook.DeliveryResult {
	if r.State == hirehook.DeliveryRetrying && !next.IsZero() && r.NextAttemptAt.After(next) {
		r.NextAttemptAt = next
	}
	return r
}

// flights holds, per endpoint, the attempts in flight and when each
// started, for the trip to count those a timeout says are hanging. Each
// endpoint has its own lock, so an attempt costs no dispatcher-wide lock.
// The times are the wall clock's (monotonic), not Config.NowFunc's: they
// are compared with the attempt timeout, which the HTTP client measures on
// the wall clock.
type flights struct {
	endpoints sync.Map // endpoint id → *endpointFlights
}

type endpointFlights struct {
	mu      sync.Mutex
	started map[string]time.Time // delivery id → attempt start
}

func (f *flights) of(endpointID string) *endpointFlights {
	if ef, ok := f.endpoints.Load(endpointID); ok {
		return ef.(*endpointFlights)
	}
	ef, _ := f.endpoints.LoadOrStore(endpointID, &endpointFlights{started: map[string]time.Time{}})
	return ef.(*endpointFlights)
}

func (f *flights) start(endpointID, deliveryID string) {
	ef := f.of(endpointID)
	ef.mu.Lock()
	ef.started[deliveryID] = time.Now()
	ef.mu.Unlock()
}

func (f *flights) end(endpointID, deliveryID string) {
	ef := f.of(endpointID)
	ef.mu.Lock()
	delete(ef.started, deliveryID)
	ef.mu.Unlock()
}

// longerThan returns the deliveries other than except whose attempts to
// endpointID have been in flight for at least age.
func (f *flights) longerThan(endpointID, except string, age time.Duration) []string {
	ef := f.of(endpointID)
	ef.mu.Lock()
	defer ef.mu.Unlock()
	var ids []string
	for id, at := range ef.started {
		if id != except && time.Since(at) >= age {
			ids = append(ids, id)
		}
	}
	return ids
}

// pausedLocked appends the endpoints whose breaker holds them back at now (open,
// or probing) to skip: claims leave them out. d.mu must be held.
func (d *Dispatcher) pausedLocked(skip []string, now time.Time) []string {
	for id, b := range d.breakers {
		if !b.openUntil.IsZero() && (b.probing || now.Before(b.openUntil)) {
			skip = append(skip, id)
		}
	}
	return skip
}

// foundDown reports whether an attempt's response says the endpoint is
// down, rather than that it refused this one delivery.
func foundDown(resp Response) bool {
	if resp.Delivered {
		return false
	}
	code := resp.Attempt.StatusCode
	return code == 0 || code >= 500 || code == 408 || code == 429
}
