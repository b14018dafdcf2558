package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ingest"
)

// Operational event types: the hub emits them itself (source "hirehook")
// about its own endpoints and deliveries. See catalog/doc.go.
const (
	opEndpointDisabled  = "endpoint.disabled"
	opDeliveryFailing   = "delivery.failing"
	opDeliveryExhausted = "delivery.exhausted"
	opDeliveryRecovered = "delivery.recovered"

	// opFailingAttempt is the failed attempt after which delivery.failing
	// is emitted.
	opFailingAttempt = 4
	// opQueueSize bounds the results waiting to become operational events;
	// beyond it they are dropped (and logged) rather than slow delivery.
	opQueueSize = 1024
	// opCommitTimeout bounds the store work for one operational event.
	opCommitTimeout = 10 * time.Second
)

// opEventType returns the operational event a stored attempt result calls
// for, or "" for none. Results about the delivery of an operational event
// never call for one, so a failing subscriber of "delivery.*" cannot feed
// on itself.
func opEventType(d *hirehook.Delivery, r hirehook.DeliveryResult) string {
	if strings.HasPrefix(d.EventType, "endpoint.") || strings.HasPrefix(d.EventType, "delivery.") {
		return ""
	}
	switch {
	case r.DisableEndpoint != "":
		return opEndpointDisabled
	case r.State == hirehook.DeliveryRetrying && r.Attempt.Number == opFailingAttempt:
		return opDeliveryFailing
	case r.State == hirehook.DeliveryFailed:
		return opDeliveryExhausted
	case r.State == hirehook.DeliveryDelivered && r.Attempt.Number > opFailingAttempt:
		// Only a delivery reported failing is reported recovered: the pair
		// closes, and a backlog that drains after a short outage does not
		// flood subscribers with one event per delivery.
		return opDeliveryRecovered
	}
	return ""
}

// opEvent is one operational event waiting to be built and committed.
type opEvent struct {
	typ string
	d   hirehook.Delivery // a copy, without the payload
	r   hirehook.DeliveryResult
}

// opEmitter turns attempt results into operational events off the
// dispatcher's completer: Observe only queues (never blocks), and one
// goroutine looks up the endpoint, prepares the event and commits it
// through the ingester like any other event.
type opEmitter struct {
	store    hirehook.Store
	ingester *ingest.Ingester
	logger   *slog.Logger

	// queue is never closed (Observe may race with Stop); Stop closes quit
	// and the loop commits what is already queued.
	queue chan opEvent
	quit  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	started bool
	stopped bool

	// observed counts the results Observe was given, queued the events it
	// queued and emitted those it has finished with (committed or failed):
	// a test knows the emitter has settled when every result it expects is
	// observed and emitted equals queued.
	observed, queued, emitted atomic.Int64
}

func newOpEmitter(st hirehook.Store, in *ingest.Ingester, logger *slog.Logger) *opEmitter {
	return &opEmitter{
		store: st, ingester: in, logger: logger.With(logkey.Component, "opevents"),
		queue: make(chan opEvent, opQueueSize), quit: make(chan struct{}), done: make(chan struct{}),
	}
}

// Start starts the goroutine that commits operational events. Results
// observed before are queued.
func (o *opEmitter) Start() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.started || o.stopped {
		return
	}
	o.started = true
	go o.loop()
}

// Observe is the dispatcher's OnResult hook: it queues the operational
// event the result calls for, if any. It never blocks; after Stop, or when
// the queue is full, the event is dropped.
func (o *opEmitter) Observe(d *hirehook.Delivery, r hirehook.DeliveryResult) {
	defer o.observed.Add(1)
	typ := opEventType(d, r)
	if typ == "" {
		return
	}
	select {
	case <-o.quit:
		return
	default:
	}
	ev := opEvent{typ: typ, d: *d, r: r}
	ev.d.Payload = nil
	o.queued.Add(1)
	select {
	case o.queue <- ev:
	default:
		o.queued.Add(-1)
		o.logger.Warn("operational event dropped: queue full", logkey.Type, typ, logkey.DeliveryID, d.ID)
	}
}

// Stop stops taking results, commits what is queued, and waits for the
// goroutine until ctx is done. It may be called twice, and before Start.
func (o *opEmitter) Stop(ctx context.Context) error {
	o.mu.Lock()
	started, stopped := o.started, o.stopped
	if !stopped {
		o.stopped = true
		close(o.quit)
	}
	o.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-o.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop operational events: %w", ctx.Err())
	}
}

func (o *opEmitter) loop() {
	defer close(o.done)
	for {
		select {
		case ev := <-o.queue:
			o.emit(ev)
		case <-o.quit:
			for {
				select {
				case ev := <-o.queue:
					o.emit(ev)
				default:
					return
				}
			}
		}
	}
}

// emit builds one operational event and commits it in the endpoint's tenant.
func (o *opEmitter) emit(ev opEvent) {
	defer o.emitted.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), opCommitTimeout)
	defer cancel()
	err := o.commit(ctx, ev)
	if err != nil {
		o.logger.Error("emit operational event", logkey.Type, ev.typ, logkey.DeliveryID, ev.d.ID, logkey.EndpointID, ev.d.EndpointID, logkey.Error, err)
	}
}

func (o *opEmitter) commit(ctx context.Context, ev opEvent) error {
	// The endpoint may have been deleted since: the event then goes without
	// its URL and description.
	ep, err := o.store.EndpointGet(ctx, ev.d.TenantID, ev.d.EndpointID)
	if err != nil && hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		return err
	}
	data, err := json.Marshal(opEventData(ev, ep))
	if err != nil {
		return err
	}
	e, err := o.ingester.Prepare(ev.d.TenantID, &hirehook.EventInput{Type: ev.typ, Source: "hirehook", Data: data}, "")
	if err != nil {
		return err
	}
	res, err := o.ingester.Commit(ctx, []*hirehook.Event{e})
	if err == nil && len(res) != 1 {
		err = errors.New("ingester answered no result")
	}
	return err
}

// opEventData is the data of an operational event: the endpoint for
// endpoint.disabled, else the delivery. ep may be nil. URLs are redacted
// to scheme, host and path: receivers often put tokens in the query.
func opEventData(ev opEvent, ep *hirehook.Endpoint) map[string]any {
	a := ev.r.Attempt
	at := a.StartedAt.Add(a.Duration).UTC()
	var epURL string
	if ep != nil {
		epURL = ep.Target()
	}
	if ev.typ == opEndpointDisabled {
		data := map[string]any{"id": ev.d.EndpointID, "disabled_reason": ev.r.DisableEndpoint, "disabled_at": at.Format(time.RFC3339Nano)}
		if ep != nil {
			data["url"], data["description"] = epURL, ep.Description
		}
		return data
	}
	data := map[string]any{
		"id": ev.d.ID, "event_id": ev.d.EventID, "event_type": ev.d.EventType, "endpoint_id": ev.d.EndpointID,
		"attempts": a.Number, "last_status_code": a.StatusCode, "next_attempt_at": nil,
	}
	if ep != nil {
		data["endpoint_url"] = epURL
	}
	if a.Error != "" {
		data["last_error"] = a.Error
	}
	if ev.r.State == hirehook.DeliveryRetrying && !ev.r.NextAttemptAt.IsZero() {
		data["next_attempt_at"] = ev.r.NextAttemptAt.UTC().Format(time.RFC3339Nano)
	}
	if !ev.d.CreatedAt.IsZero() {
		data["created_at"] = ev.d.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	return data
}

// Counts returns how many attempt results the emitter observed, how many
// operational events it queued for them and how many of those it has
// finished with (committed or failed). Tests wait on them.
func (o *opEmitter) Counts() (observed, queued, emitted int64) {
	return o.observed.Load(), o.queued.Load(), o.emitted.Load()
}
