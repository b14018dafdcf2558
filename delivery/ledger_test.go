package delivery

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hirehook/hirehook"
)

// TestLedgerModel drives the ledger through random sequences of what
// happens to deliveries (claims and re-claims, sending, results that
// finish or retry, their commits, hand-backs, releases, endpoints left on a
// membership change, stop) against a model of the store, and checks after
// every step that the counts equal the sets, that no id is held twice,
// and that no delivery the store has leased to this node is lost.
func TestLedgerModel(t *testing.T) {
	t.Parallel()
	for seed := range uint64(150) {
		runLedgerModel(t, seed, 400)
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

// storeState is the model of one delivery's row.
type storeState uint8

const (
	rowDue    storeState = iota // pending or retrying, claimable
	rowLeased                   // leased to this node
	rowDone                     // delivered, failed or cancelled
)

func runLedgerModel(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	const ids, endpoints = 24, 3
	row := make([]storeState, ids)
	result := map[string]bool{}    // completing id → its result retries
	committed := map[string]bool{} // completing id → its result is in the store
	var releasing [][]string       // batches taken back, not yet settled
	l := newLedger()
	id := func(i int) string { return fmt.Sprintf("dlv_%02d", i) }
	idx := func(s string) int { var i int; fmt.Sscanf(s, "dlv_%d", &i); return i }
	deliveryOf := func(i int) *hirehook.Delivery {
		return &hirehook.Delivery{ID: id(i), EndpointID: fmt.Sprintf("ep_%d", i%endpoints)}
	}
	inState := func(s holdState) []string {
		var out []string
		for k, e := range l.entries {
			if e.state == s {
				out = append(out, k)
			}
		}
		slices.Sort(out) // deterministic for the seed
		return out
	}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	// enqueue is the dispatcher's enqueueLocked, with a random policy for
	// a full lane or an endpoint another node serves.
	enqueue := func(dl *hirehook.Delivery) {
		if l.retake(dl) {
			return
		}
		if rng.IntN(5) == 0 {
			l.refuse(dl)
		} else {
			l.queue(dl)
		}
	}
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("seed %d after %v: %s", seed, log, fmt.Sprintf(format, args...))
	}

	for step := 0; step < steps && !t.Failed(); step++ {
		switch op := rng.IntN(11); op {
		case 0, 1: // a claim of a due delivery (a first claim, or a retry due again)
			var due []int
			for i, r := range row {
				if r == rowDue {
					due = append(due, i)
				}
			}
			if len(due) == 0 {
				continue
			}
			i := due[rng.IntN(len(due))]
			row[i] = rowLeased
			log = append(log, "claim "+id(i))
			enqueue(deliveryOf(i))
		case 2: // a re-claim of a leased one whose lease ran out
			// Not of one whose release, or retry result, is being written:
			// that write ends the new lease too (see ledger).
			var leased []int
			for i, r := range row {
				e := l.entries[id(i)]
				if r != rowLeased || e == nil ||
					e.state == heldReleasing && !slices.Contains(l.back, id(i)) ||
					e.state == heldCompleting && result[id(i)] && !committed[id(i)] {
					continue
				}
				leased = append(leased, i)
			}
			if len(leased) == 0 {
				continue
			}
			i := leased[rng.IntN(len(leased))]
			log = append(log, "reclaim "+id(i))
			enqueue(deliveryOf(i))
		case 3: // a worker takes the next of an endpoint
			ep := fmt.Sprintf("ep_%d", rng.IntN(endpoints))
			if dl := l.next(ep); dl != nil {
				log = append(log, "next "+dl.ID)
			}
		case 4: // an attempt's result: delivered, failed, or retry
			sending := inState(heldSending)
			if len(sending) == 0 {
				continue
			}
			k := pick(sending)
			retry := rng.IntN(2) == 0
			log = append(log, fmt.Sprintf("sent %s retry=%v", k, retry))
			result[k], committed[k] = retry, false
			l.sent(k)
		case 5: // a result commits
			var open []string
			for _, k := range inState(heldCompleting) {
				if !committed[k] && row[idx(k)] == rowLeased {
					open = append(open, k)
				}
			}
			if len(open) == 0 {
				continue
			}
			k := pick(open)
			log = append(log, "commit "+k)
			committed[k] = true
			if result[k] {
				row[idx(k)] = rowDue
			} else {
				row[idx(k)] = rowDone
			}
		case 6: // the completer is done with a batch (written or given up)
			completing := inState(heldCompleting)
			if len(completing) == 0 {
				continue
			}
			batch := completing[:1+rng.IntN(len(completing))]
			written := rng.IntN(4) > 0
			for _, k := range batch {
				if !committed[k] && written && row[idx(k)] == rowLeased {
					committed[k] = true
					if result[k] {
						row[idx(k)] = rowDue
					} else {
						row[idx(k)] = rowDone
					}
				}
			}
			log = append(log, fmt.Sprintf("completed %v written=%v", batch, written))
			again := l.completed(batch, func(i int) bool { return !committed[batch[i]] || result[batch[i]] })
			for _, k := range batch {
				if !committed[k] && row[idx(k)] == rowLeased && l.state(k) == 0 && !slices.ContainsFunc(again, func(d *hirehook.Delivery) bool { return d.ID == k }) {
					// Given up: the lease runs out, and the row is due.
					row[idx(k)] = rowDue
				}
				delete(result, k)
				delete(committed, k)
			}
			for _, dl := range again {
				if row[idx(dl.ID)] != rowLeased {
					fail("completed returned %s to queue, but its row is %d, not leased", dl.ID, row[idx(dl.ID)])
				}
				enqueue(dl)
			}
		case 7: // a worker hands one back, or forgets one whose endpoint is gone
			sending := inState(heldSending)
			if len(sending) == 0 {
				continue
			}
			k := pick(sending)
			if rng.IntN(4) == 0 {
				log = append(log, "forget "+k)
				l.forget(k)
				row[idx(k)] = rowDone
			} else {
				log = append(log, "handBack "+k)
				l.handBack(k)
			}
		case 8: // a membership change: another node serves an endpoint; or stop
			if rng.IntN(10) == 0 {
				log = append(log, "stop")
				l.leaveAll()
			} else {
				ep := fmt.Sprintf("ep_%d", rng.IntN(endpoints))
				log = append(log, "leave "+ep)
				l.leave(ep)
			}
		case 9: // the release loop takes what was handed back and writes it
			ids := l.takeBack()
			if len(ids) == 0 {
				continue
			}
			log = append(log, fmt.Sprintf("release %v", ids))
			for _, k := range ids {
				if row[idx(k)] == rowLeased {
					row[idx(k)] = rowDue
				}
			}
			releasing = append(releasing, ids)
		case 10: // the release is done
			if len(releasing) == 0 {
				continue
			}
			ids := releasing[0]
			releasing = releasing[1:]
			log = append(log, fmt.Sprintf("released %v", ids))
			for _, dl := range l.released(ids) {
				if row[idx(dl.ID)] != rowLeased {
					fail("released returned %s to queue, but its row is %d, not leased", dl.ID, row[idx(dl.ID)])
				}
				enqueue(dl)
			}
		}
		checkLedger(t, l, fail)
		// No delivery leased to this node is lost: the ledger holds it,
		// or its release is on the way (after which it is due).
		for i, r := range row {
			if r != rowLeased {
				continue
			}
			e := l.entries[id(i)]
			if e == nil {
				fail("%s is leased to this node but not held", id(i))
			} else if e.state == heldQueued && e.dl.ID != id(i) {
				fail("%s held as %s", id(i), e.dl.ID)
			}
		}
	}
}

// checkLedger checks the ledger's own invariants: each count equals its
// set, each queued delivery is in its endpoint's queue exactly once and
// nothing else is, and the ids handed back are releasing, each once.
func checkLedger(t *testing.T, l *ledger, fail func(string, ...any)) {
	t.Helper()
	var count [numHoldStates]int
	for k, e := range l.entries {
		if e.state == 0 || e.state >= numHoldStates {
			fail("%s in state %d", k, e.state)
			continue
		}
		if e.dl.ID != k {
			fail("entry %s holds %s", k, e.dl.ID)
		}
		count[e.state]++
	}
	if count != l.count {
		fail("counts %v, the sets have %v", l.count, count)
	}
	inQueue := map[string]int{}
	n := 0
	for ep, q := range l.queues {
		if len(q) == 0 {
			fail("empty queue kept for %s", ep)
		}
		for _, e := range q {
			n++
			inQueue[e.dl.ID]++
			if e.dl.EndpointID != ep {
				fail("%s of %s queued for %s", e.dl.ID, e.dl.EndpointID, ep)
			}
			if l.entries[e.dl.ID] != e || e.state != heldQueued {
				fail("%s in the queue of %s is %s", e.dl.ID, ep, e.state)
			}
		}
	}
	if n != l.queued() {
		fail("queued() = %d, the queues hold %d", l.queued(), n)
	}
	for k, c := range inQueue {
		if c != 1 {
			fail("%s queued %d times", k, c)
		}
	}
	seen := map[string]bool{}
	for _, k := range l.back {
		if seen[k] {
			fail("%s handed back twice", k)
		}
		seen[k] = true
		if l.state(k) != heldReleasing {
			fail("%s handed back but %s", k, l.state(k))
		}
	}
}
