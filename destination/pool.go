package destination

import (
	"context"
	"sync"
	"time"
)

// Pool keeps one client per endpoint for a Publisher: made on first use,
// made again when the endpoint's Target.Version changes or after Drop, and
// closed after IdleTimeout without use, or by Close. Its methods are safe
// for concurrent use; a client itself must be safe for concurrent
// publishes (an endpoint's max_concurrency attempts share it).
type Pool[C comparable] struct {
	// OpenFunc connects a client for t; ctx bounds the connect.
	OpenFunc func(ctx context.Context, t Target) (C, error)
	// CloseFunc closes a client (may block until its in-flight publishes end).
	CloseFunc func(C)
	// IdleTimeout as in Options; zero keeps clients until Close.
	IdleTimeout time.Duration
	// NowFunc is the clock; default time.Now.
	NowFunc func() time.Time

	mu      sync.Mutex
	entries map[string]*poolEntry[C]
	closed  bool
	closing sync.WaitGroup // clients being closed in the background
}

type poolEntry[C comparable] struct {
	version  time.Time
	ready    chan struct{} // closed once client or err is set
	client   C
	err      error
	lastUsed time.Time
	users    int
	// closing is set, under Pool.mu, by whoever takes on closing the
	// client, so that it is closed once: by retireLocked, by the last
	// user's release of a retired entry, or by Close.
	closing bool
}

// ErrClosed is returned by Get after Close.
var ErrClosed = Errorf("other", "destination: publisher closed")

// Get returns t's client, connecting if it has none for t.Version. Callers
// must call the returned release function when their publish ends. A
// failed connect is not cached: the next Get tries again.
func (p *Pool[C]) Get(ctx context.Context, t Target) (client C, release func(), err error) {
	now := p.now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return client, nil, ErrClosed
	}
	if p.entries == nil {
		p.entries = make(map[string]*poolEntry[C])
	}
	p.sweepLocked(now)
	e := p.entries[t.EndpointID]
	if e != nil && !e.version.Equal(t.Version) {
		p.retireLocked(t.EndpointID, e)
		e = nil
	}
	if e == nil {
		e = &poolEntry[C]{version: t.Version, ready: make(chan struct{})}
		p.entries[t.EndpointID] = e
		e.users++
		e.lastUsed = now
		p.mu.Unlock()
		e.client, e.err = p.OpenFunc(ctx, t)
		close(e.ready)
		if e.err != nil {
			p.mu.Lock()
			e.users--
			if p.entries[t.EndpointID] == e {
				delete(p.entries, t.EndpointID)
			}
			p.mu.Unlock()
			return client, nil, e.err
		}
		return e.client, p.releaser(t.EndpointID, e), nil
	}
	e.users++
	e.lastUsed = now
	p.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		p.releaser(t.EndpointID, e)()
		return client, nil, ctx.Err()
	}
	if e.err != nil {
		p.releaser(t.EndpointID, e)()
		return client, nil, e.err
	}
	return e.client, p.releaser(t.EndpointID, e), nil
}

// Drop forgets endpointID's client c (after a publish found its connection
// broken): it is closed once its in-flight publishes end, and the next Get
// connects again. It does nothing when the endpoint's current client is
// no longer c: another publish that failed on c has already dropped it, and
// the client connected since must not be dropped for c's failure.
func (p *Pool[C]) Drop(endpointID string, c C) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entries[endpointID]
	if e == nil {
		return
	}
	select {
	case <-e.ready:
	default:
		return // still connecting: not the client that failed
	}
	if e.err == nil && e.client == c {
		p.retireLocked(endpointID, e)
	}
}

// Close closes every client. Get fails afterwards.
func (p *Pool[C]) Close() {
	p.mu.Lock()
	p.closed = true
	entries := p.entries
	p.entries = nil
	for _, e := range entries {
		e.closing = true
	}
	p.mu.Unlock()
	for _, e := range entries {
		p.closeEntry(e)
	}
	p.closing.Wait()
}

// Len reports how many clients the pool holds (for tests).
func (p *Pool[C]) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

func (p *Pool[C]) now() time.Time {
	if p.NowFunc != nil {
		return p.NowFunc()
	}
	return time.Now()
}

func (p *Pool[C]) releaser(id string, e *poolEntry[C]) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			e.users--
			closeNow := false
			if p.entries[id] != e && e.users == 0 && !e.closing {
				e.closing = true
				if p.closed {
					// Close is waiting on p.closing, which must not grow
					// now (or has returned); this user's publish is over,
					// so it pays for the close.
					closeNow = true
				} else {
					// In the background: the publish that released it
					// must not wait, past its deadline, for a close.
					p.closing.Go(func() { p.closeEntry(e) })
				}
			}
			p.mu.Unlock()
			if closeNow {
				p.closeEntry(e)
			}
		})
	}
}

// retireLocked removes e; it is closed now if nobody uses it, else by its
// last user's release.
func (p *Pool[C]) retireLocked(id string, e *poolEntry[C]) {
	delete(p.entries, id)
	if e.users == 0 && !e.closing {
		e.closing = true
		p.closing.Go(func() { p.closeEntry(e) })
	}
}

func (p *Pool[C]) closeEntry(e *poolEntry[C]) {
	<-e.ready
	if e.err == nil {
		p.CloseFunc(e.client)
	}
}

func (p *Pool[C]) sweepLocked(now time.Time) {
	if p.IdleTimeout <= 0 {
		return
	}
	for id, e := range p.entries {
		if e.users == 0 && now.Sub(e.lastUsed) > p.IdleTimeout {
			p.retireLocked(id, e)
		}
	}
}
