package delivery

import (
	"context"
	"hash/fnv"
	"slices"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/logkey"
)

// membership is this node's place among the live nodes sharing the store:
// nodes of them (at least 1), this one at rank (their names sorted).
//
// An endpoint's limits hold for the endpoint as a whole, whichever nodes
// attempt its deliveries, by dividing them (see share). Nodes learn of a
// node that starts or stops within one heartbeat, so for that long the
// endpoint may see the sum of two divisions.
type membership struct {
	nodes, rank int
}

// single is the membership of a node alone on its store (SQLite).
var single = membership{nodes: 1}

// share returns this node's part of an endpoint's max_concurrency c: when
// c ≥ nodes, every node serves the endpoint and the parts add up to exactly
// c (c/nodes each, one more for the first c%nodes ranks); when c < nodes,
// exactly c nodes serve it, one attempt at a time each, chosen by the
// endpoint's hash so that different endpoints land on different nodes.
func (m membership) share(endpointID string, c int) (serve bool, n int) {
	if m.nodes <= 1 {
		return true, c
	}
	if c >= m.nodes {
		n = c / m.nodes
		if m.rank < c%m.nodes {
			n++
		}
		return true, n
	}
	h := fnv.New32a()
	h.Write([]byte(endpointID))
	slot := (int(h.Sum32()%uint32(m.nodes)) + m.rank) % m.nodes
	if slot < c {
		return true, 1
	}
	return false, 0
}

// rateShare returns this node's part of an endpoint's rate limit r: r
// divided among the nodes that serve it (see share).
func (m membership) rateShare(c int, r float64) float64 {
	return r / float64(min(max(c, 1), max(m.nodes, 1)))
}

// heartbeatLoop keeps this node in the registry and the membership up to
// date until ctx ends, then leaves the registry.
func (d *Dispatcher) heartbeatLoop(ctx context.Context, reg hirehook.NodeRegistry) {
	defer close(d.hbDone)
	ttl := d.nodeTTL()
	p := hirehook.NodeHeartbeatParams{Node: d.cfg.Owner, TTL: ttl,
		// The attempts this node starts while it is live (see attempt)
		// end before its leases can.
		LeaseTTL: ttl + d.cfg.Sender.Timeout() + d.cfg.HeartbeatInterval}
	tick := time.NewTicker(d.cfg.HeartbeatInterval)
	defer tick.Stop()
	for {
		start := time.Now()
		lastBeat := time.Unix(0, d.beat.Load())
		hctx, cancel := context.WithTimeout(ctx, d.beatTimeout(lastBeat, start))
		live, err := reg.NodeHeartbeat(hctx, p)
		cancel()
		switch {
		case err == nil:
			claimed := !d.quiet()
			d.beat.Store(start.UnixNano())
			d.gaveUp.Store(false)
			d.setMembership(live)
			if !claimed {
				d.Notify() // claims resume
			}
		case ctx.Err() == nil:
			// Keep the last membership: the limits stay divided as they were.
			d.logger.Warn("node heartbeat", logkey.Error, err)
			if !d.gaveUp.Load() && time.Since(lastBeat) >= ttl-d.cfg.HeartbeatInterval {
				// One more missed heartbeat and this node is no longer
				// live, and then its leases end: what is queued here is
				// handed back at once, to the live nodes, rather than
				// left until this one is heard again (the hand-back is a
				// no-op for those another node has taken).
				d.gaveUp.Store(true)
				if n := d.handBackQueued(); n > 0 {
					d.logger.Warn("node heartbeat lapsing: handing back the queued deliveries", logkey.Count, n)
				}
			}
		}
		select {
		case <-ctx.Done():
			// Leaving is worth a moment at stop, but ends with a hard stop.
			lctx, cancel := context.WithTimeout(d.runCtx, 5*time.Second)
			if err := reg.NodeLeave(lctx, d.cfg.Owner); err != nil {
				d.logger.Warn("leave the node registry", logkey.Error, err)
			}
			cancel()
			return
		case <-tick.C:
		}
	}
}

// nodeTTL is how long a node may be silent and still count as live.
func (d *Dispatcher) nodeTTL() time.Duration { return 3 * d.cfg.HeartbeatInterval }

// beatTimeout is how long the heartbeat starting at now, the last one
// having landed (started) at lastBeat, may take: until this node would
// no longer count as live without it, since one that lands before then
// keeps the node live; and, when that is less than an interval away (or
// past: a node coming back), the whole TTL, as long as one that lands
// has to keep the node live.
//
// Not one interval: a loaded machine or database can take longer than
// that to answer every heartbeat while answering each well within the
// TTL, and cutting them short would make the node lapse (starting no
// attempt, handing back its queue) for as long as the load lasts, though
// every heartbeat would have kept it live. Worse, a heartbeat cut short
// mid-query costs the pool its connection, and the next one must dial
// anew, which is slower still.
func (d *Dispatcher) beatTimeout(lastBeat, now time.Time) time.Duration {
	ttl := d.nodeTTL()
	if left := lastBeat.Add(ttl).Sub(now); left >= d.cfg.HeartbeatInterval {
		return left
	}
	return ttl
}

// lapsing reports whether this node's last heartbeat is so old that the
// other nodes no longer count it as live: it starts no attempt then, since
// they will end its leases once the attempt could still be running (see
// hirehook.NodeHeartbeatParams.LeaseTTL). Always false without a registry.
func (d *Dispatcher) lapsing() bool {
	b := d.beat.Load()
	return b != 0 && time.Since(time.Unix(0, b)) >= d.nodeTTL()
}

// Nodes returns how many live nodes, this one included, share the store
// and divide the endpoints' limits, as of this node's last heartbeat: 1
// for a node alone on its store, and before the first heartbeat.
func (d *Dispatcher) Nodes() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.members.nodes
}

// quiet reports whether this node claims nothing: it lapses (see
// lapsing), or it handed back its queue as it was about to (see
// heartbeatLoop), and would otherwise take back at once what it handed
// back, and hold it from the live nodes, until it is heard again.
func (d *Dispatcher) quiet() bool { return d.gaveUp.Load() || d.lapsing() }

// setMembership applies the registry's list of live nodes.
func (d *Dispatcher) setMembership(live []string) {
	m := single
	if rank := slices.Index(live, d.cfg.Owner); rank >= 0 {
		m = membership{nodes: len(live), rank: rank}
	}
	d.mu.Lock()
	changed := m != d.members
	if changed {
		d.members = m
		// Which endpoints this node serves changed: learn them again, and
		// resize the lanes as their workers next load their endpoint.
		clear(d.notMine)
	}
	d.mu.Unlock()
	if changed {
		d.logger.Info("nodes sharing the store", logkey.Nodes, m.nodes, logkey.Rank, m.rank)
		d.Notify()
	}
}

// handBackQueued hands back every queued delivery and returns how many.
func (d *Dispatcher) handBackQueued() int {
	d.mu.Lock()
	n := d.ledger.leaveAll()
	d.mu.Unlock()
	if n > 0 {
		d.signalOverflow()
	}
	return n
}

// leaveLaneLocked hands every delivery queued for endpointID back to the
// store: this node does not serve the endpoint (another node's share of
// the limits does). d.mu must be held.
func (d *Dispatcher) leaveLaneLocked(endpointID string) {
	d.notMine[endpointID] = true
	if d.ledger.leave(endpointID) > 0 {
		d.signalOverflow()
	}
}
