package inbound

import (
	"context"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/logkey"
)

// Worker normalises the stored requests that are due on this node: those
// waiting for hydration, retries, requests the handler could not finish
// (it crashed, or the store failed), and requests an operator asked to
// reprocess. Every node runs one; claims (Store.InboundClaim) keep two
// nodes off one request.
type Worker struct {
	Processor *Processor
	// Owner names this node in claims.
	Owner string
	// Interval is how often it looks for due requests (default 1s); Nudge
	// makes it look at once.
	Interval time.Duration
	// Claim is how long a claim lasts (default 2 minutes: longer than a
	// vendor API call).
	Claim time.Duration
	// Batch is the most requests claimed at once (default 20).
	Batch int

	nudge  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	init   sync.Once
}

func (w *Worker) setup() {
	w.init.Do(func() { w.nudge = make(chan struct{}, 1) })
}

// Nudge makes the worker look for due requests now.
func (w *Worker) Nudge() {
	w.setup()
	select {
	case w.nudge <- struct{}{}:
	default:
	}
}

// Start starts the loop; it returns at once.
func (w *Worker) Start(ctx context.Context) {
	w.setup()
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.done = make(chan struct{})
	go w.loop(ctx)
}

// Stop stops the loop after the request in hand; claims of requests not
// started run out and another node (or this one, restarted) takes them.
func (w *Worker) Stop(ctx context.Context) error {
	w.once.Do(func() {
		if w.cancel == nil {
			return
		}
		w.cancel()
		select {
		case <-w.done:
		case <-ctx.Done():
		}
	})
	return nil
}

func (w *Worker) loop(ctx context.Context) {
	defer close(w.done)
	interval := w.Interval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastLog time.Time
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil && time.Since(lastLog) >= time.Minute {
			w.Processor.logger().Error("normalise inbound requests", logkey.Error, err)
			lastLog = time.Now()
		}
		if n > 0 && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.nudge:
		}
	}
}

// RunOnce claims the due requests and normalises them, returning how many
// it took.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	claim, batch := w.Claim, w.Batch
	if claim <= 0 {
		claim = 2 * time.Minute
	}
	if batch <= 0 {
		batch = 20
	}
	now := w.Processor.now()
	reqs, err := w.Processor.Store.InboundClaim(ctx, hirehook.InboundClaimParams{Owner: w.Owner, Now: now, Until: now.Add(claim), Limit: batch})
	if err != nil {
		return 0, err
	}
	sources := map[string]*hirehook.Source{}
	for _, req := range reqs {
		if ctx.Err() != nil {
			return len(reqs), nil
		}
		src, ok := sources[req.SourceID]
		if !ok {
			src, err = w.Processor.Store.SourceGet(ctx, req.TenantID, req.SourceID)
			if err != nil {
				return len(reqs), err // deleted sources take their requests along
			}
			sources[req.SourceID] = src
		}
		if !src.Enabled {
			continue // kept, and taken again once the claim runs out
		}
		if _, err := w.Processor.Process(ctx, src, req); err != nil {
			return len(reqs), err
		}
	}
	return len(reqs), nil
}
