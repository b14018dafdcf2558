package delivery

import (
	"slices"

	"github.com/hirehook/hirehook"
)

// holdState is where a delivery this node holds in memory is. A delivery
// is held from the moment a claim or the hot hand-off gives it to the
// dispatcher (it is then leased to this node in the store) until the
// store has been told what became of it: its result is written, or its
// lease released.
type holdState uint8

const (
	// heldQueued: in its endpoint's queue, waiting for a worker.
	heldQueued holdState = iota + 1
	// heldSending: a worker took it (loading its endpoint, waiting for
	// the rate limiter, or sending it).
	heldSending
	// heldCompleting: its result is on its way to the store.
	heldCompleting
	// heldReleasing: handed back, unattempted: its lease is on its way to
	// being released.
	heldReleasing

	numHoldStates
)

func (s holdState) String() string {
	switch s {
	case heldQueued:
		return "queued"
	case heldSending:
		return "sending"
	case heldCompleting:
		return "completing"
	case heldReleasing:
		return "releasing"
	}
	return "absent"
}

// ledger is the one account of the deliveries a dispatcher holds: each
// one's state and its endpoint's queue, and the counts that follow from
// them. Every move of a delivery is one method here, which keeps the
// states, the queues and the counts in step: no caller adjusts a count
// of its own. It is guarded by Dispatcher.mu.
//
// A claim can return a delivery this node still holds. While it is
// queued, the claim renews its lease (the newer copy replaces the held
// one). Handed back but not yet being released, it is not released after
// all. While its result or its release is being written, the claim came
// either after that write committed (a retry already due, or a delivery
// whose release made it due) or after its lease ran out: either way the
// store now has it leased to this node again, so it is kept aside (again)
// and queued once the write is done, never dropped (see settle). (In the
// second case a write that retries or releases it also ends the new
// lease, which the store cannot tell from the old: the copy is then sent,
// its result skipped, and the delivery claimed again: a duplicate, not a
// loss.) A delivery being sent is not taken twice: its result settles it.
type ledger struct {
	entries map[string]*held
	queues  map[string][]*held // endpoint id → its queued deliveries, in order
	count   [numHoldStates]int
	// back holds the ids handed back (heldReleasing) that the release loop
	// has not yet taken.
	back []string
}

// held is one delivery of the ledger.
type held struct {
	dl    *hirehook.Delivery
	state holdState
	// again is the copy of a claim that found this delivery completing or
	// releasing; it is queued once that write is done (see settle).
	again *hirehook.Delivery
}

func newLedger() *ledger {
	return &ledger{entries: map[string]*held{}, queues: map[string][]*held{}}
}

// state returns where id is (0 when it is not held).
func (l *ledger) state(id string) holdState {
	if e := l.entries[id]; e != nil {
		return e.state
	}
	return 0
}

// queued is the number of deliveries waiting in queues.
func (l *ledger) queued() int { return l.count[heldQueued] }

// held is the number of deliveries held in any state.
func (l *ledger) held() int { return len(l.entries) }

// queueLen is the number of deliveries queued for endpointID.
func (l *ledger) queueLen(endpointID string) int { return len(l.queues[endpointID]) }

func (l *ledger) move(e *held, to holdState) {
	if e.state != 0 {
		l.count[e.state]--
	}
	e.state = to
	if to != 0 {
		l.count[to]++
	}
}

// retake handles a claim of dl while dl is held, and reports whether it
// was held: queued, the claim renews it; being sent, it is ignored;
// completing or releasing, it is kept for settle. When it reports false,
// the caller either queues dl or refuses it.
func (l *ledger) retake(dl *hirehook.Delivery) bool {
	e := l.entries[dl.ID]
	if e == nil {
		return false
	}
	switch e.state {
	case heldQueued:
		e.dl = dl
	case heldReleasing:
		if i := slices.Index(l.back, dl.ID); i >= 0 {
			// Its release has not started: it would release this claim.
			// It is not handed back after all; the caller queues it or
			// refuses it again.
			l.back = slices.Delete(l.back, i, i+1)
			l.move(e, 0)
			delete(l.entries, dl.ID)
			return false
		}
		e.again = dl
	case heldCompleting:
		e.again = dl
	}
	return true
}

// queue appends dl, which is not held, to its endpoint's queue.
func (l *ledger) queue(dl *hirehook.Delivery) {
	e := &held{dl: dl}
	l.entries[dl.ID] = e
	l.move(e, heldQueued)
	l.queues[dl.EndpointID] = append(l.queues[dl.EndpointID], e)
}

// refuse hands dl, which is not held, straight back: its lease is to be
// released.
func (l *ledger) refuse(dl *hirehook.Delivery) {
	e := &held{dl: dl}
	l.entries[dl.ID] = e
	l.move(e, heldReleasing)
	l.back = append(l.back, dl.ID)
}

// next takes the first delivery queued for endpointID for sending, or
// returns nil.
func (l *ledger) next(endpointID string) *hirehook.Delivery {
	q := l.queues[endpointID]
	if len(q) == 0 {
		return nil
	}
	e := q[0]
	q[0] = nil
	if len(q) == 1 {
		delete(l.queues, endpointID)
	} else {
		l.queues[endpointID] = q[1:]
	}
	l.move(e, heldSending)
	return e.dl
}

// sent moves a delivery being sent to completing: its result goes to the
// store.
func (l *ledger) sent(id string) {
	if e := l.entries[id]; e != nil && e.state == heldSending {
		l.move(e, heldCompleting)
	}
}

// handBack moves a delivery being sent, unattempted, to releasing.
func (l *ledger) handBack(id string) {
	if e := l.entries[id]; e != nil && e.state == heldSending {
		l.move(e, heldReleasing)
		l.back = append(l.back, id)
	}
}

// forget drops a delivery being sent that the store has no more use for
// (its endpoint was deleted, which cancelled it).
func (l *ledger) forget(id string) {
	if e := l.entries[id]; e != nil && e.state == heldSending {
		l.move(e, 0)
		delete(l.entries, id)
	}
}

// leave hands back every delivery queued for endpointID and returns how
// many.
func (l *ledger) leave(endpointID string) int {
	q := l.queues[endpointID]
	delete(l.queues, endpointID)
	for _, e := range q {
		l.move(e, heldReleasing)
		l.back = append(l.back, e.dl.ID)
	}
	return len(q)
}

// leaveAll hands back every queued delivery (at stop) and returns how many.
func (l *ledger) leaveAll() int {
	n := 0
	for id := range l.queues {
		n += l.leave(id)
	}
	return n
}

// takeBack returns the ids handed back since the last call, for the
// release loop to release; they stay releasing until released is called.
func (l *ledger) takeBack() []string {
	ids := l.back
	l.back = nil
	return ids
}

// released ends the hold of releasing deliveries whose release was written
// (or given up). It returns the copies claimed again meanwhile, which the
// caller queues again.
func (l *ledger) released(ids []string) []*hirehook.Delivery {
	return l.settle(ids, heldReleasing, nil)
}

// completed ends the hold of completing deliveries whose results were
// written (or given up), and returns the copies claimed again meanwhile,
// which the caller queues again. A copy is returned only when the
// delivery's result left it due again (retry reports that): a claim that
// met a delivered or failed one can only have come before that result
// committed (its lease had run out), and the result, which then still held
// the lease, finished it in the store.
func (l *ledger) completed(ids []string, retry func(i int) bool) []*hirehook.Delivery {
	return l.settle(ids, heldCompleting, retry)
}

func (l *ledger) settle(ids []string, from holdState, retry func(i int) bool) []*hirehook.Delivery {
	var again []*hirehook.Delivery
	for i, id := range ids {
		e := l.entries[id]
		if e == nil || e.state != from {
			continue
		}
		l.move(e, 0)
		delete(l.entries, id)
		if e.again != nil && (retry == nil || retry(i)) {
			again = append(again, e.again)
		}
	}
	return again
}
