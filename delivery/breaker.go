package delivery

import (
	"time"
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

// breaker is one endpoint's state. Guarded by Dispatcher.mu.
type breaker struct {
	failed    map[string]bool // deliveries whose attempts, in a row, found the endpoint down
	openUntil time.Time       // zero: closed (sending); otherwise paused until then
	pause     time.Duration   // the current pause
	probing   bool            // the probe is in flight
}

// admit tells whether a delivery to endpointID may be attempted now: yes
// while its breaker is closed; while it is open, only one probe once the
// pause is over.
func (d *Dispatcher) admit(endpointID string, now time.Time) bool {
	if d.breaking.Load() == 0 {
		return true // no endpoint is failing: no lock per attempt
	}
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

// observe records what an attempt (or a probe) found: down or not. A
// retryAfter from a 429 or 503 lengthens the pause to it.
func (d *Dispatcher) observe(endpointID, deliveryID string, down bool, retryAfter time.Duration, now time.Time) {
	if !down && d.breaking.Load() == 0 {
		return // nothing to close: no lock per successful attempt
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.breakers[endpointID]
	if !down {
		if b != nil {
			delete(d.breakers, endpointID)
			d.breaking.Add(-1)
			if !b.openUntil.IsZero() {
				d.logger.Info("endpoint is back: sending again", "endpoint_id", endpointID)
				d.Notify() // its waiting deliveries are claimable again
			}
		}
		return
	}
	if b == nil {
		b = &breaker{failed: map[string]bool{}}
		d.breakers[endpointID] = b
		d.breaking.Add(1)
	}
	if len(b.failed) < d.cfg.TripAfter {
		b.failed[deliveryID] = true
	}
	switch {
	case b.probing:
		b.probing = false
		b.pause = min(2*b.pause, d.cfg.ProbeMax)
	case b.openUntil.IsZero() && len(b.failed) >= d.cfg.TripAfter:
		b.pause = d.cfg.ProbeAfter
		d.logger.Info("endpoint is down: pausing its deliveries and probing it", "endpoint_id", endpointID,
			"deliveries_failed_in_a_row", len(b.failed), "probe_in", b.pause)
	default:
		return // closed and under the threshold, or open with the probe still to come
	}
	b.openUntil = now.Add(max(b.pause, min(retryAfter, d.cfg.ProbeMax)))
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
	code := resp.Attempt.StatusCode
	return code == 0 || code >= 500 || code == 408 || code == 429
}
