// Package retention runs the background job that purges, tenant by
// tenant, event payloads and attempt response bodies older than the
// tenant's RetentionDays (Store.RetentionPurge). Ids, types, times
// and delivery outcomes stay for the log.
//
// The purge works in small batches, each one short transaction with a
// pause between them, so that a backlog of millions of old events never
// holds the single SQLite writer long enough to stall ingest.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/logkey"
)

// Defaults of the Purger's fields.
const (
	DefaultInterval = time.Hour
	DefaultBatch    = 500
	DefaultPause    = 50 * time.Millisecond
)

// Purger purges expired personal data every Interval, starting at Start.
// Set its fields before Start; zero values take the defaults.
type Purger struct {
	Store Store
	// Interval is the time between two passes. Default 1 h.
	Interval time.Duration
	// Batch is the most events (and the most attempts) one transaction
	// purges. Default 500.
	Batch int
	// Pause is the wait between two full batches of one pass, which lets
	// ingest at the writer. Default 50 ms.
	Pause time.Duration
	// NowFunc returns the time retention is measured from. Default
	// time.Now.
	NowFunc func() time.Time
	// Logger gets one line per pass that purged something and the errors.
	// Nil discards.
	Logger *slog.Logger

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Start starts the loop, which runs a first pass at once. A second Start
// does nothing; Start after Stop is an error.
func (p *Purger) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return errors.New("retention purger: start after stop")
	}
	if p.started {
		return nil
	}
	if p.Store == nil {
		return errors.New("retention purger: no store")
	}
	if p.Interval <= 0 {
		p.Interval = DefaultInterval
	}
	if p.Batch <= 0 {
		p.Batch = DefaultBatch
	}
	if p.Pause <= 0 {
		p.Pause = DefaultPause
	}
	if p.NowFunc == nil {
		p.NowFunc = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	p.Logger = p.Logger.With(logkey.Component, "retention")
	// The loop lives until Stop, not until the caller's ctx ends.
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.started, p.cancel, p.done = true, cancel, make(chan struct{})
	go p.loop(loopCtx)
	return nil
}

// Stop ends the loop, cancelling a pass in progress between (or inside)
// batches, and waits for it until ctx ends. It may be called twice, and
// before Start.
func (p *Purger) Stop(ctx context.Context) error {
	p.mu.Lock()
	p.stopped = true
	if !p.started {
		p.mu.Unlock()
		return nil
	}
	p.cancel()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done: // preferred when ctx has ended too
		return nil
	default:
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop retention purger: %w", ctx.Err())
	}
}

// loop runs a pass now and then every Interval. After a failed pass it
// retries sooner, waiting 1 s, 2 s, 4 s, … up to Interval; since failures
// are logged once per try, the backoff also limits the log lines.
func (p *Purger) loop(ctx context.Context) {
	defer close(p.done)
	failures := 0
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		res, err := p.pass(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			failures++
			wait = min(p.Interval, time.Second<<min(failures-1, 20))
			p.Logger.Error("retention purge failed", logkey.Error, err, logkey.Failures, failures, logkey.RetryIn, wait)
			continue
		}
		if failures > 0 {
			p.Logger.Info("retention purge recovered", logkey.Failures, failures)
		}
		failures, wait = 0, p.Interval
		if res.Events > 0 || res.Attempts > 0 {
			p.Logger.Info("retention purged", logkey.Events, res.Events, logkey.Attempts, res.Attempts)
		}
	}
}

// pass purges until nothing has expired: it calls RetentionPurge while a
// batch comes back full, pausing between batches, and returns the totals.
func (p *Purger) pass(ctx context.Context) (hirehook.RetentionPurgeResult, error) {
	var total hirehook.RetentionPurgeResult
	for {
		res, err := p.Store.RetentionPurge(ctx, hirehook.RetentionPurgeParams{Now: p.NowFunc(), Limit: p.Batch})
		if err != nil {
			return total, fmt.Errorf("purge expired data: %w", err)
		}
		total.Events += res.Events
		total.Attempts += res.Attempts
		if res.Events < p.Batch && res.Attempts < p.Batch {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(p.Pause):
		}
	}
}
