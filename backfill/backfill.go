// Package backfill runs backfills (hirehook.Backfill): it sends the current
// record of every matching entity of a tenant to one endpoint, as
// <entity>.snapshot events, so that a newly connected system does not
// start from an empty state.
//
// A Runner leases the running backfills from the store (BackfillLease), so
// that each one runs on exactly one node, and runs each in its own
// goroutine: it reads the records of each entity in id order, a page at a
// time, keeps those the backfill's filter selects, and writes each page
// with Store.BackfillEnqueue, which commits the snapshot events, their
// deliveries (to that endpoint only) and the backfill's cursor in one
// transaction. A backfill whose node stopped (a restart, a crash) is taken
// up again, by that node at start or by another once the lease expires,
// from its cursor: nothing is sent twice and nothing is left out.
//
// Only the backfill's own filter decides which records are sent, not the
// endpoint's filter: an endpoint's filter is written for live events
// (".type == \"placement.confirmed\""), and would usually reject every
// snapshot; asking for a backfill is the explicit choice. The endpoint's
// redaction, transform and payload mode do apply, at delivery, as to any
// event.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/logkey"
	"github.com/hirehook/hirehook/route"
)

// Defaults of Runner's fields.
const (
	DefaultPageSize     = 100
	DefaultLeaseTTL     = 30 * time.Second
	DefaultPollInterval = time.Second
	// DefaultMaxRunning bounds the backfills one node runs at once.
	DefaultMaxRunning = 8
)

// Runner runs the backfills it leases. Set its fields, then Start it.
type Runner struct {
	Store Store
	// Owner names this node in the backfills' leases; it must be unique
	// among the nodes sharing the store.
	Owner string
	// NotifyFunc wakes the dispatcher after a page's deliveries were written.
	NotifyFunc func()
	// Route holds the options filters are compiled with.
	Route        route.Options
	PageSize     int
	LeaseTTL     time.Duration
	PollInterval time.Duration
	MaxRunning   int
	NowFunc      func() time.Time
	Logger       *slog.Logger

	mu      sync.Mutex
	running map[string]context.CancelFunc // by backfill id
	poke    chan struct{}
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

func (r *Runner) defaults() {
	if r.PageSize <= 0 {
		r.PageSize = DefaultPageSize
	}
	if r.LeaseTTL <= 0 {
		r.LeaseTTL = DefaultLeaseTTL
	}
	if r.PollInterval <= 0 {
		// Renew well within the lease.
		r.PollInterval = min(DefaultPollInterval, r.LeaseTTL/3)
	}
	if r.MaxRunning <= 0 {
		r.MaxRunning = DefaultMaxRunning
	}
	if r.NowFunc == nil {
		r.NowFunc = time.Now
	}
	if r.NotifyFunc == nil {
		r.NotifyFunc = func() {}
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Owner == "" {
		r.Owner = hirehook.NewID("node")
	}
}

// Start starts the loop that leases backfills (at once, so the running
// backfills of a restarted node resume) and runs them. It returns at once.
func (r *Runner) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.defaults()
	r.started = true
	r.running = map[string]context.CancelFunc{}
	r.poke = make(chan struct{}, 1)
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.loop(ctx)
	}()
}

// Poke makes the runner look for new backfills now (after one was
// created) rather than at its next poll.
func (r *Runner) Poke() {
	r.mu.Lock()
	poke := r.poke
	r.mu.Unlock()
	if poke == nil {
		return
	}
	select {
	case poke <- struct{}{}:
	default:
	}
}

// Stop stops the runner and waits for its backfills to stop, or for ctx.
// A backfill stops between pages: what was committed stays, and it
// resumes from its cursor when a node leases it again. Stop may be called
// twice, and before Start.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop backfills: %w", ctx.Err())
	}
}

func (r *Runner) loop(ctx context.Context) {
	t := time.NewTicker(r.PollInterval)
	defer t.Stop()
	for {
		r.lease(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.poke:
		}
	}
}

// lease renews this node's leases, takes free backfills and starts those
// not yet running here.
func (r *Runner) lease(ctx context.Context) {
	now := r.NowFunc()
	held, err := r.Store.BackfillLease(ctx, hirehook.BackfillLeaseParams{
		Owner: r.Owner, Now: now, Until: now.Add(r.LeaseTTL), Limit: r.MaxRunning})
	if err != nil {
		if ctx.Err() == nil {
			r.Logger.Error("lease backfills", logkey.Error, err)
		}
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range held {
		if _, ok := r.running[b.ID]; ok {
			continue
		}
		bctx, cancel := context.WithCancel(ctx)
		r.running[b.ID] = cancel
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() {
				r.mu.Lock()
				delete(r.running, b.ID)
				r.mu.Unlock()
				cancel()
			}()
			defer func() {
				if p := recover(); p != nil {
					r.Logger.Error("backfill panicked", logkey.BackfillID, b.ID, logkey.Panic, p)
				}
			}()
			r.run(bctx, b)
		}()
	}
}

// Runs reports whether this runner is running the backfill id now. Once it
// says false after a cancel, that backfill's goroutine has ended: nothing
// more of it is sent from this runner.
func (r *Runner) Runs(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[id]
	return ok
}

// run runs one backfill until it is done, cancelled, lost or ctx ends.
func (r *Runner) run(ctx context.Context, b *hirehook.Backfill) {
	log := r.Logger.With(logkey.BackfillID, b.ID, logkey.EndpointID, b.EndpointID)
	err := r.send(ctx, b)
	switch {
	case err == nil:
		err = r.finish(ctx, b, hirehook.BackfillCompleted, "")
		if err == nil {
			log.Info("backfill completed")
			return
		}
	case ctx.Err() != nil:
		return // stopping: resumes from the cursor
	case hirehook.ErrorCode(err) == hirehook.ECONFLICT:
		return // cancelled, or another node holds it now
	case hirehook.ErrorCode(err) == hirehook.ENOTFOUND, hirehook.ErrorCode(err) == hirehook.EINVALID:
		err = r.finish(ctx, b, hirehook.BackfillFailed, hirehook.ErrorMessage(err))
	}
	if err != nil && ctx.Err() == nil && hirehook.ErrorCode(err) != hirehook.ECONFLICT {
		// Left running: the next lease poll starts it again from its
		// cursor.
		log.Error("backfill", logkey.Error, err)
	}
}

func (r *Runner) finish(ctx context.Context, b *hirehook.Backfill, state hirehook.BackfillState, msg string) error {
	return r.Store.BackfillFinish(ctx, hirehook.BackfillFinishParams{
		TenantID: b.TenantID, BackfillID: b.ID, Owner: r.Owner, State: state, Error: msg, Now: r.NowFunc()})
}

// send sends every page of b after its cursor.
func (r *Runner) send(ctx context.Context, b *hirehook.Backfill) error {
	var filter *route.Route
	if route.HasFilter(b.Filter) {
		var err error
		if filter, err = route.CompileOptions(route.Spec{Filter: b.Filter}, r.Route); err != nil {
			return err // EINVALID: the backfill fails
		}
	}
	perSecond := b.RatePerSecond
	if perSecond <= 0 {
		perSecond = hirehook.DefaultBackfillRate
	}
	page := min(r.PageSize, perSecond)
	limiter := rate.NewLimiter(rate.Limit(perSecond), page)

	start := 0
	after := ""
	if b.Cursor.Entity != "" {
		for i, e := range b.Entities {
			if e == b.Cursor.Entity {
				start, after = i, b.Cursor.ID
			}
		}
	}
	for _, entity := range b.Entities[start:] {
		for {
			records, err := r.Store.RecordList(ctx, hirehook.RecordListParams{
				TenantID: b.TenantID, Entity: entity, After: after, Limit: page})
			if err != nil {
				return err
			}
			if len(records) == 0 {
				break
			}
			if err := limiter.WaitN(ctx, len(records)); err != nil {
				return err
			}
			now := r.NowFunc()
			p := hirehook.BackfillEnqueueParams{TenantID: b.TenantID, BackfillID: b.ID, Owner: r.Owner,
				Scanned: len(records), Now: now}
			for _, rec := range records {
				e, err := hirehook.NewSnapshot(rec, now)
				if err != nil {
					return fmt.Errorf("snapshot of %s/%s: %w", rec.Entity, rec.ID, err)
				}
				if filter != nil {
					env, err := route.ParseEnvelope(e.Payload)
					if err != nil {
						return fmt.Errorf("snapshot of %s/%s: %w", rec.Entity, rec.ID, err)
					}
					ok, _, err := filter.Match(ctx, env)
					if err != nil && !errors.Is(err, route.ErrTimeout) {
						return err
					}
					if !ok {
						p.Skipped++ // fails closed, like an endpoint's filter
						continue
					}
				}
				p.Events = append(p.Events, e)
			}
			last := records[len(records)-1]
			p.Cursor = hirehook.BackfillCursor{Entity: entity, ID: last.ID}
			if err := r.Store.BackfillEnqueue(ctx, p); err != nil {
				return err
			}
			if len(p.Events) > 0 {
				r.NotifyFunc()
			}
			after = last.ID
			if len(records) < page {
				break
			}
		}
		after = ""
	}
	return nil
}
