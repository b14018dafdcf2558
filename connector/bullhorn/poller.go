package bullhorn

import (
	"context"
	"errors"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
)

// EmitFunc hands mapped events to the hub. Returning an error leaves the
// batch pending: the poller reads it again (by requestId) and emits it again,
// with the same event ids.
type EmitFunc func(ctx context.Context, events []*hirehook.Event) error

// PollerConfig configures a Poller.
type PollerConfig struct {
	Client *Client
	Mapper *Mapper
	// SubscriptionID names the Bullhorn subscription; one per source.
	SubscriptionID string
	Checkpoint     Checkpoint
	Emit           EmitFunc
	// Interval is the pause after a batch that was not full; default 2 s.
	// A full batch is followed by the next read at once.
	Interval time.Duration
	// MaxEvents is the batch size asked for; default and maximum 100.
	MaxEvents int
	// MinBackoff and MaxBackoff bound the pause after an error, which
	// doubles from one to the other (with jitter); defaults 1 s and 2 min.
	// A 429 waits at least its Retry-After.
	MinBackoff, MaxBackoff time.Duration
	// SeenSize bounds the set of Bullhorn event ids remembered to drop
	// duplicates; default 2,000.
	SeenSize int
	NowFunc  func() time.Time
	Logger   *slog.Logger
}

// Stats is a poller's health, for the source's status.
type Stats struct {
	LastPollAt    time.Time     `json:"last_poll_at"`
	LastSuccessAt time.Time     `json:"last_success_at"`
	EventsRead    int64         `json:"events_read"`
	EventsEmitted int64         `json:"events_emitted"`
	Duplicates    int64         `json:"duplicates"`
	Skipped       int64         `json:"skipped"`
	Invalid       int64         `json:"invalid"`
	Rereads       int64         `json:"rereads"`
	Errors        int64         `json:"errors"`
	LastError     string        `json:"last_error,omitempty"`
	LastErrorAt   time.Time     `json:"last_error_at"`
	Lag           time.Duration `json:"lag"` // last emit time minus the newest event's Bullhorn timestamp
}

// Poller reads a Bullhorn subscription continuously and emits catalog
// events.
//
// Bullhorn deletes events once it has returned them and has no ack, so the
// poller saves a batch's requestId (State.Pending) before it processes the
// batch, and clears Pending only after Emit succeeded. A poller that
// crashes, or whose Emit fails, re-reads that batch by requestId: nothing is
// lost. Duplicates (an event Bullhorn returns twice, or a batch emitted
// again after a crash between Emit and the checkpoint) are dropped by
// Bullhorn eventId, and hirehook's ingest drops them again by event id.
type Poller struct {
	cfg PollerConfig

	mu      sync.Mutex
	stats   Stats
	started bool
	cancel  context.CancelFunc
	done    chan struct{}

	// Owned by the loop goroutine.
	state   State
	seen    map[string]bool
	subDone bool
}

// NewPoller returns a poller; Start runs it.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	if cfg.Client == nil || cfg.Mapper == nil || cfg.Checkpoint == nil || cfg.Emit == nil || cfg.SubscriptionID == "" {
		return nil, errors.New("bullhorn poller: client, mapper, checkpoint, emit and subscription id are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.MaxEvents <= 0 || cfg.MaxEvents > 100 {
		cfg.MaxEvents = 100
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(2*time.Minute, cfg.MinBackoff)
	}
	if cfg.SeenSize <= 0 {
		cfg.SeenSize = 2_000
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg}, nil
}

// Start runs the poll loop until Stop or ctx ends.
func (p *Poller) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return errors.New("bullhorn poller already started")
	}
	p.started = true
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.run(ctx)
	}()
	return nil
}

// Stop cancels the loop and waits for it, or for ctx. A batch in flight is
// abandoned, not lost: it stays pending in the checkpoint. Stop may be called
// twice, and before Start.
func (p *Poller) Stop(ctx context.Context) error {
	p.mu.Lock()
	if !p.started {
		p.mu.Unlock()
		return nil
	}
	p.cancel()
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop bullhorn poller: %w", ctx.Err())
	}
}

// Stats returns the poller's counters.
func (p *Poller) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *Poller) run(ctx context.Context) {
	backoff := time.Duration(0)
	var lastLog time.Time
	for {
		full, err := p.PollOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := p.cfg.Interval
		if err != nil {
			if backoff == 0 {
				backoff = p.cfg.MinBackoff
			} else {
				backoff = min(2*backoff, p.cfg.MaxBackoff)
			}
			// Jitter of up to a quarter keeps sources from polling
			// in step after a shared outage.
			wait = backoff + rand.N(backoff/4+1)
			var ae *APIError
			if errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests && ae.RetryAfter > wait {
				wait = ae.RetryAfter
			}
			// The log line is rate-limited; the stats keep the count.
			if now := p.cfg.NowFunc(); now.Sub(lastLog) >= time.Minute || backoff == p.cfg.MinBackoff {
				p.cfg.Logger.Warn("bullhorn poll failed", logkey.Subscription, p.cfg.SubscriptionID, logkey.Error, err, logkey.RetryIn, wait)
				lastLog = now
			}
		} else {
			backoff = 0
			if full {
				continue
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// PollOnce reads and processes one batch: the pending one after a crash,
// else the next. It reports whether the batch was full, meaning more are
// probably waiting. The loop started by Start calls it; tests call it
// directly, never while the loop runs.
func (p *Poller) PollOnce(ctx context.Context) (full bool, err error) {
	full, err = p.pollOnce(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.LastPollAt = p.cfg.NowFunc()
	if err != nil && ctx.Err() == nil {
		p.stats.Errors++
		p.stats.LastError = err.Error()
		p.stats.LastErrorAt = p.stats.LastPollAt
	} else if err == nil {
		p.stats.LastSuccessAt = p.stats.LastPollAt
	}
	return full, err
}

// fetchGrace bounds a read of a new batch, and the save of its requestId,
// that go on while the poller is being stopped: shorter than the 10 s the
// source manager waits for a poller to stop, so that two pollers of one
// source never overlap.
const fetchGrace = 8 * time.Second

func (p *Poller) pollOnce(ctx context.Context) (bool, error) {
	if p.seen == nil {
		st, err := p.cfg.Checkpoint.Load(ctx)
		if err != nil {
			return false, fmt.Errorf("load bullhorn checkpoint: %w", err)
		}
		p.state = st
		p.seen = make(map[string]bool, len(st.Seen))
		for _, id := range st.Seen {
			p.seen[id] = true
		}
	}
	if !p.subDone {
		created, err := p.cfg.Client.EnsureSubscription(ctx, p.cfg.SubscriptionID, SubscriptionNames, SubscriptionEventTypes)
		if err != nil {
			return false, err
		}
		if created {
			p.cfg.Logger.Info("bullhorn subscription created", logkey.Subscription, p.cfg.SubscriptionID)
		}
		p.subDone = true
	}

	var batch *Batch
	var err error
	if p.state.Pending && p.state.RequestID > 0 {
		batch, err = p.cfg.Client.Events(ctx, p.cfg.SubscriptionID, p.cfg.MaxEvents, p.state.RequestID)
		if err == nil {
			p.addStats(func(s *Stats) { s.Rereads++ })
			p.cfg.Logger.Info("bullhorn batch re-read", logkey.Subscription, p.cfg.SubscriptionID, logkey.RequestID, p.state.RequestID, logkey.Events, len(batch.Events))
		}
	} else {
		// Bullhorn hands a batch out once: a read that Stop cancels
		// after Bullhorn answered, but before its requestId was saved,
		// would lose the batch. So the read and the save finish even
		// when the poller is stopping (bounded by fetchGrace); once the
		// requestId is saved, the next poller re-reads the batch.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchGrace)
		batch, err = p.cfg.Client.Events(fctx, p.cfg.SubscriptionID, p.cfg.MaxEvents, 0)
		if err == nil && len(batch.Events) > 0 {
			// The only copy of these events is now batch.RequestID
			// on Bullhorn's side: record it before anything else.
			p.state.RequestID, p.state.Pending = batch.RequestID, true
			if err := p.cfg.Checkpoint.Save(fctx, p.state); err != nil {
				cancel()
				return false, fmt.Errorf("save bullhorn checkpoint: %w", err)
			}
		}
		cancel()
	}
	if err != nil {
		if IsNotFound(err) {
			// The subscription is gone (deleted, or expired unpolled):
			// create it again on the next poll. Events queued on the
			// old one are lost; say so loudly.
			p.subDone = false
			p.cfg.Logger.Error("bullhorn subscription not found; creating it again (events since the last poll may be lost)", logkey.Subscription, p.cfg.SubscriptionID)
		}
		return false, err
	}
	if len(batch.Events) == 0 {
		if p.state.Pending {
			// The pending batch is no longer re-readable (how long
			// Bullhorn keeps past batches is undocumented): its
			// events are lost. Say so, and move on.
			p.cfg.Logger.Error("bullhorn pending batch is empty on re-read; its events may be lost", logkey.Subscription, p.cfg.SubscriptionID, logkey.RequestID, p.state.RequestID)
			p.state.Pending = false
			if err := p.cfg.Checkpoint.Save(ctx, p.state); err != nil {
				return false, fmt.Errorf("save bullhorn checkpoint: %w", err)
			}
		}
		return false, nil
	}
	p.addStats(func(s *Stats) { s.EventsRead += int64(len(batch.Events)) })

	fresh := make([]Event, 0, len(batch.Events))
	inBatch := map[string]bool{}
	for _, ev := range batch.Events {
		if p.seen[ev.EventID] || inBatch[ev.EventID] {
			continue
		}
		inBatch[ev.EventID] = true
		fresh = append(fresh, ev)
	}
	dups := len(batch.Events) - len(fresh)

	res, err := p.cfg.Mapper.Map(ctx, fresh)
	if err != nil {
		return false, fmt.Errorf("map bullhorn batch %d: %w", batch.RequestID, err)
	}
	if len(res.Events) > 0 {
		if err := p.cfg.Emit(ctx, res.Events); err != nil {
			return false, fmt.Errorf("emit bullhorn batch %d: %w", batch.RequestID, err)
		}
	}
	for _, u := range res.States {
		if err := p.cfg.Mapper.cfg.State.SetStatus(ctx, u.Entity, u.ID, u.Status); err != nil {
			return false, fmt.Errorf("save bullhorn state: %w", err)
		}
	}
	for _, ev := range fresh {
		p.remember(ev.EventID)
	}
	p.state.Pending = false
	if err := p.cfg.Checkpoint.Save(ctx, p.state); err != nil {
		return false, fmt.Errorf("save bullhorn checkpoint: %w", err)
	}

	now := p.cfg.NowFunc()
	var newest int64
	for _, ev := range fresh {
		newest = max(newest, ev.EventTimestamp)
	}
	p.addStats(func(s *Stats) {
		s.EventsEmitted += int64(len(res.Events))
		s.Duplicates += int64(dups)
		s.Skipped += int64(res.Skipped)
		s.Invalid += int64(res.Invalid)
		if newest > 0 {
			s.Lag = now.Sub(time.UnixMilli(newest))
		}
	})
	return len(batch.Events) >= p.cfg.MaxEvents, nil
}

// remember adds id to the bounded set of seen event ids, forgetting the
// oldest when full.
func (p *Poller) remember(id string) {
	if p.seen[id] {
		return
	}
	p.seen[id] = true
	p.state.Seen = append(p.state.Seen, id)
	if over := len(p.state.Seen) - p.cfg.SeenSize; over > 0 {
		for _, old := range p.state.Seen[:over] {
			delete(p.seen, old)
		}
		p.state.Seen = append([]string(nil), p.state.Seen[over:]...)
	}
}

func (p *Poller) addStats(f func(*Stats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.stats)
}
