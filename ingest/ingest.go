// Package ingest accepts events: it validates them against the catalog and
// commits them through one group committer, so that a single SQLite writer
// serves thousands of events a second without giving up durability.
//
// Handlers hand validated events to the committer goroutine, which writes
// whatever has queued up (events, record snapshots, deliveries) in one
// transaction and then answers every waiting handler. Under load a batch
// grows by itself; when idle a batch is one event, so latency stays low.
// A group the store refuses is split until the request at fault fails
// alone (see write), so one producer's event never fails another's.
//
// Prepare is the door: every event, from the API, a batch or a push source,
// is checked there before it queues, its data against the catalog's
// limits and JSON rules (catalog.MaxData*).
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/internal/logkey"
)

// MaxBatch is the most events one POST /v1/events/batch may carry.
const MaxBatch = 1000

// Config configures an Ingester.
type Config struct {
	Catalog *catalog.Catalog
	// HandoffFunc receives the deliveries written leased to LeaseOwner after
	// each commit (the dispatcher's Enqueue). Nil writes deliveries pending
	// and calls Notify instead.
	HandoffFunc func([]*hirehook.Delivery)
	// CanHandoffFunc, if set, is asked before each commit whether Handoff may
	// take more deliveries; when it says no, the commit writes them
	// pending and calls Notify instead.
	CanHandoffFunc func() bool
	LeaseOwner     string
	Lease          time.Duration
	// NotifyFunc is called after a commit that created pending deliveries.
	NotifyFunc func()
	// OnCommitFunc, if set, sees each committed batch before its callers are
	// answered: results[i] answers events[i] (duplicates included, marked
	// Duplicate). The metrics count ingested events here. It runs on the
	// committer goroutine, so it must be quick.
	OnCommitFunc func(events []*hirehook.Event, results []hirehook.EventIngestResult)
	// MatchFunc, if set, picks which subscribed endpoints get each event
	// (see hirehook.EventIngestParams.MatchFunc): FilterFunc applies the
	// endpoints' filters.
	MatchFunc func(ctx context.Context, e *hirehook.Event, subscribed []*hirehook.Endpoint) ([]*hirehook.Endpoint, error)
	// MaxCommit is the most events one transaction carries. Default 2000.
	MaxCommit int
	// Timeout is the ingest deadline: how long Commit waits for its
	// events' commit, queueing included. Past it Commit answers
	// EUNAVAILABLE (the API's 503) whether or not the commit happens
	// later, and the store call of a group is bounded by it too, so a
	// frozen database holds no request longer. Never an answer of success
	// for a commit not confirmed in time: an event that was stored after
	// all is answered as a duplicate of itself when the producer sends it
	// again with the same id or Idempotency-Key. Default DefaultTimeout.
	Timeout time.Duration
	NowFunc func() time.Time
	Logger  *slog.Logger
}

// DefaultTimeout is the default ingest deadline (Config.Timeout): far
// above a commit's usual milliseconds, well below a producer's own HTTP
// timeout, so that the producer gets a 503 it retries rather than a
// timeout of its own.
const DefaultTimeout = 5 * time.Second

// Ingester validates and commits events.
type Ingester struct {
	store Store
	cfg   Config

	// queue is never closed (a sender blocked on a full queue would panic);
	// Stop closes quit instead, and the committer drains what is queued.
	queue   chan *request
	quit    chan struct{}
	mu      sync.RWMutex
	started bool
	stopped bool
	done    chan struct{}
}

type request struct {
	ctx      context.Context
	deadline time.Time // the ingest deadline: Commit answers 503 past it
	events   []*hirehook.Event
	done     chan response
}

type response struct {
	results []hirehook.EventIngestResult
	err     error
}

// New returns an Ingester writing to store.
func New(store Store, cfg Config) *Ingester {
	if cfg.Catalog == nil {
		cfg.Catalog = catalog.Default()
	}
	if cfg.MaxCommit <= 0 {
		cfg.MaxCommit = 2000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Ingester{store: store, cfg: cfg, queue: make(chan *request, 1024), quit: make(chan struct{}), done: make(chan struct{})}
}

// Start starts the committer.
func (in *Ingester) Start(ctx context.Context) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.started {
		return errors.New("ingester already started")
	}
	in.started = true
	go in.commitLoop()
	return nil
}

// Stop stops taking events, commits what is queued, and waits for the
// committer. It may be called twice, and before Start.
func (in *Ingester) Stop(ctx context.Context) error {
	in.mu.Lock()
	if !in.started || in.stopped {
		in.mu.Unlock()
		return nil
	}
	in.stopped = true
	close(in.quit)
	in.mu.Unlock()
	select {
	case <-in.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop ingester: %w", ctx.Err())
	}
}

// Prepare validates one input and turns it into an event of tenantID. Errors
// are *hirehook.Error naming the field.
func (in *Ingester) Prepare(tenantID string, input *hirehook.EventInput, idempotencyKey string) (*hirehook.Event, error) {
	now := in.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	e := &hirehook.Event{TenantID: tenantID, ID: input.ID, Type: input.Type, Source: input.Source, IdempotencyKey: idempotencyKey}
	if e.ID == "" {
		e.ID = hirehook.NewID("evt")
	} else if !hirehook.ValidEventID(e.ID) {
		return nil, hirehook.FieldError("id", "must be 1 to 128 letters, digits, '_', '-' or ':' (no '.': the id is part of the signed content)")
	}
	if e.Type == "" {
		return nil, hirehook.FieldError("type", "is required")
	}
	if _, ok := in.cfg.Catalog.Entity(e.Type); !ok {
		return nil, hirehook.FieldError("type", "unknown event type %q; GET /v1/event-types lists them", hirehook.Truncate(e.Type, 64))
	}
	if len(input.Source) > 128 {
		return nil, hirehook.FieldError("source", "must be at most 128 characters")
	} else if !plainText(input.Source) {
		return nil, hirehook.FieldError("source", "must be UTF-8 text without control characters")
	}
	e.OccurredAt = now
	if input.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, input.OccurredAt)
		if err != nil {
			return nil, hirehook.FieldError("occurred_at", "must be an RFC 3339 time such as 2026-11-27T09:30:00Z")
		}
		e.OccurredAt = t.UTC().Truncate(time.Microsecond)
	}
	if len(input.Data) == 0 {
		return nil, hirehook.FieldError("data", "is required")
	}
	entity, dataID, err := in.cfg.Catalog.ValidateEvent(e.Type, input.Data)
	if err != nil {
		return nil, err
	}
	if !plainText(dataID) {
		return nil, hirehook.FieldError("data.id", "must be UTF-8 text without control characters")
	}
	e.Subject = hirehook.Subject{Entity: entity, ID: dataID}
	if input.Subject != nil {
		if input.Subject.Entity != "" && input.Subject.Entity != entity {
			return nil, hirehook.FieldError("subject.entity", "is %q for %s events", entity, e.Type)
		}
		if input.Subject.ID != "" {
			if len(input.Subject.ID) > 128 {
				return nil, hirehook.FieldError("subject.id", "must be at most 128 characters")
			} else if !plainText(input.Subject.ID) {
				return nil, hirehook.FieldError("subject.id", "must be UTF-8 text without control characters")
			}
			e.Subject.ID = input.Subject.ID
		}
	}
	e.Data = input.Data // compacted when the payload is rendered
	if len(input.Changes) > 0 {
		for field, c := range input.Changes {
			if field == "" || len(field) > 256 || !plainText(field) {
				return nil, hirehook.FieldError("changes", "field names must be 1 to 256 characters of UTF-8 text without control characters")
			}
			for _, v := range []struct {
				name string
				raw  json.RawMessage
			}{{"from", c.From}, {"to", c.To}} {
				if len(v.raw) == 0 {
					continue
				}
				if err := catalog.CheckValue(changeField(field)+"."+v.name, v.raw); err != nil {
					return nil, err
				}
			}
		}
		b, err := json.Marshal(input.Changes)
		if err != nil {
			return nil, hirehook.FieldError("changes", "must be an object of {\"from\": …, \"to\": …}")
		}
		e.Changes = b
	}
	e.Derived, e.Partial = input.Derived, input.Partial
	// Data and Changes are valid JSON: the catalog has decoded the one,
	// json.Marshal written the other.
	p, err := e.RenderValidPayload()
	if err != nil {
		return nil, fmt.Errorf("render event %s: %w", e.ID, err)
	}
	e.Payload = p
	return e, nil
}

// plainText reports whether s is valid UTF-8 without control characters
// (C0, DEL): an id or a name, which every store and receiver can hold.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			return utf8.ValidString(s[i:]) && !strings.ContainsFunc(s[i:], func(r rune) bool { return r < 0x20 || r == 0x7f })
		}
	}
	return true
}

// changeField is the path of a change: "changes.status", or
// `changes["odd name"]`.
func changeField(name string) string {
	if strings.ContainsAny(name, ".[]\" ") {
		return "changes[" + strconv.Quote(name) + "]"
	}
	return "changes." + name
}

// Commit writes prepared events in the next group commit and returns their
// results once they are durable. If the commit is not confirmed within
// Config.Timeout it returns an EUNAVAILABLE error: the events may or may
// not be stored, and the producer sends them again with the same ids (a
// stored one is then answered as a duplicate), as after any 503.
func (in *Ingester) Commit(ctx context.Context, events []*hirehook.Event) ([]hirehook.EventIngestResult, error) {
	// The committer leaves out a request whose context is done or whose
	// deadline has passed before its group is written, so no group is
	// written for a request that has been answered 503 already.
	deadline := time.NewTimer(in.cfg.Timeout)
	defer deadline.Stop()
	req := &request{ctx: ctx, deadline: time.Now().Add(in.cfg.Timeout), events: events, done: make(chan response, 1)}
	unavailable := hirehook.Errorf(hirehook.EUNAVAILABLE, "The hub is shutting down; send the event again.")
	late := func() error {
		// Wrapped with what waited, so that the API's renderer logs it.
		return fmt.Errorf("commit of %d event(s) past the ingest deadline: %w", len(events), in.errDeadline())
	}
	in.mu.RLock()
	ok := in.started && !in.stopped
	in.mu.RUnlock()
	if !ok {
		return nil, unavailable
	}
	select {
	case in.queue <- req:
	case <-in.quit:
		return nil, unavailable
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-deadline.C:
		return nil, late()
	}
	select {
	case r := <-req.done:
		return r.results, r.err
	case <-in.done:
		// The committer has exited. It answered every request it took
		// before it did; one that came after it drained is not written.
		select {
		case r := <-req.done:
			return r.results, r.err
		default:
			return nil, unavailable
		}
	case <-ctx.Done():
		// The commit may still happen; the producer's retry with the same
		// id is answered as a duplicate, so nothing is lost or doubled.
		return nil, ctx.Err()
	case <-deadline.C:
		// An answer that came at the same moment is the truth.
		select {
		case r := <-req.done:
			return r.results, r.err
		default:
		}
		// Likewise: the commit may still happen.
		return nil, late()
	}
}

// errDeadline is the answer to a commit not confirmed within the ingest
// deadline.
func (in *Ingester) errDeadline() *hirehook.Error {
	return hirehook.Errorf(hirehook.EUNAVAILABLE,
		"The database did not confirm the commit within the ingest deadline (%s); send the same event again, with the same id or Idempotency-Key: if it was stored after all, it is answered as a duplicate.", in.cfg.Timeout)
}

func (in *Ingester) commitLoop() {
	defer close(in.done)
	var batch []*request
	stopping := false
	for {
		var first *request
		if stopping {
			// Drain: commit what is queued, then exit.
			select {
			case first = <-in.queue:
			default:
				return
			}
		} else {
			select {
			case first = <-in.queue:
			case <-in.quit:
				stopping = true
				continue
			}
		}
		batch = append(batch[:0], first)
		n := len(first.events)
	gather:
		for n < in.cfg.MaxCommit {
			select {
			case r := <-in.queue:
				batch = append(batch, r)
				n += len(r.events)
			default:
				break gather
			}
		}
		in.commit(batch)
	}
}

// commit writes one group. A request whose caller gave up before the write
// is left out; one whose caller gives up during it is still committed.
func (in *Ingester) commit(batch []*request) {
	live := batch[:0:0]
	now := time.Now()
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.done <- response{err: r.ctx.Err()}
			continue
		}
		if !r.deadline.IsZero() && now.After(r.deadline) {
			r.done <- response{err: hirehook.Errorf(hirehook.EUNAVAILABLE, "The ingest deadline passed before the commit.")}
			continue
		}
		live = append(live, r)
	}
	// Its callers stop waiting at their deadlines; the group, and any
	// split of it, need not outlast them by more than one deadline.
	ctx, cancel := context.WithTimeout(context.Background(), in.cfg.Timeout)
	defer cancel()
	in.write(ctx, live)
}

// write commits the events of reqs in one transaction and answers each
// request.
//
// The group joins the events of unrelated callers, of any tenant, in one
// transaction, so an event the store rejects would fail every caller of
// the group. When the store rejects a group of several requests, write
// therefore splits it in halves and writes each again: the request that
// holds the rejected event ends alone and gets the error, and every other
// request commits. One bad request among k costs about 2·log2(k) more
// transactions, and only on that path. An error that is not about the
// events (the store is unavailable, or the time is up) is not split: it
// would fail each half alike.
func (in *Ingester) write(ctx context.Context, reqs []*request) {
	n := 0
	for _, r := range reqs {
		n += len(r.events)
	}
	events := make([]*hirehook.Event, 0, n)
	for _, r := range reqs {
		events = append(events, r.events...)
	}
	if len(events) == 0 {
		for _, r := range reqs {
			r.done <- response{results: []hirehook.EventIngestResult{}}
		}
		return
	}
	p := hirehook.EventIngestParams{Events: events, Now: in.cfg.NowFunc().UTC().Truncate(time.Microsecond), MatchFunc: in.cfg.MatchFunc}
	if in.cfg.HandoffFunc != nil && (in.cfg.CanHandoffFunc == nil || in.cfg.CanHandoffFunc()) {
		p.LeaseOwner, p.LeaseUntil = in.cfg.LeaseOwner, p.Now.Add(in.cfg.Lease)
	}
	results, err := in.store.EventIngest(ctx, p)
	if err != nil && ctx.Err() != nil && hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE {
		// The group's own deadline cut the store call short: its callers
		// are at theirs, and get the same answer.
		err = fmt.Errorf("%w: %w", in.errDeadline(), err)
	}
	if err != nil {
		if len(reqs) > 1 && splittable(ctx, err) {
			half := len(reqs) / 2
			in.write(ctx, reqs[:half])
			in.write(ctx, reqs[half:])
			return
		}
		in.cfg.Logger.Error("commit events", logkey.Count, len(events), logkey.Error, err)
		for _, r := range reqs {
			r.done <- response{err: err}
		}
		return
	}
	if in.cfg.OnCommitFunc != nil {
		in.cfg.OnCommitFunc(events, results)
	}
	var leased []*hirehook.Delivery
	pending := false
	off := 0
	for _, r := range reqs {
		rs := results[off : off+len(r.events)]
		off += len(r.events)
		for _, res := range rs {
			leased = append(leased, res.Leased...)
			pending = pending || (!res.Duplicate && res.Deliveries > 0)
		}
		r.done <- response{results: rs}
	}
	if len(leased) > 0 {
		in.cfg.HandoffFunc(leased)
	} else if pending && in.cfg.NotifyFunc != nil {
		in.cfg.NotifyFunc()
	}
}

// splittable reports whether a group that failed with err may succeed in
// parts: the error may be about one of its events. An unavailable store
// or a group out of time would fail every part alike.
func splittable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE
}
