package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/entity"
)

// Event is one webhook as the hub sends it.
type Event struct {
	// ID is the event's id: the same on every retry and replay.
	ID string `json:"id"`
	// Type is the event type, such as "placement.confirmed"
	// (entity.EventPlacementConfirmed).
	Type string `json:"type"`
	// Timestamp is when the event happened in the source system.
	Timestamp time.Time `json:"timestamp"`
	// Source names the producing system ("bullhorn").
	Source string `json:"source,omitempty"`
	// Subject is the entity the event is about.
	Subject hirehook.Subject `json:"subject"`
	// Data is the entity as the event carries it; the accessors
	// (Placement, Candidate, ...) or Decode read it.
	Data json.RawMessage `json:"data"`
	// Changes lists the fields that changed, if the producer said.
	Changes map[string]hirehook.Change `json:"changes,omitempty"`

	// WebhookID is the webhook-id header (the event id for hirehook).
	WebhookID string `json:"-"`
	// SentAt is the webhook-timestamp header: when this attempt was signed.
	SentAt time.Time `json:"-"`
}

// ParseEvent decodes a verified webhook body, with the headers that came
// with it.
func ParseEvent(h http.Header, body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("decode webhook body: %w", err)
	}
	if e.ID == "" || e.Type == "" {
		return Event{}, errors.New("decode webhook body: it has no id or type")
	}
	e.WebhookID = h.Get(hirehook.HeaderWebhookID)
	if ts, err := strconv.ParseInt(h.Get(hirehook.HeaderWebhookTimestamp), 10, 64); err == nil {
		e.SentAt = time.Unix(ts, 0).UTC()
	}
	return e, nil
}

// Decode decodes the event's data into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode %s data of event %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// Entity returns the entity the event is about ("placement").
func (e Event) Entity() string {
	if e.Subject.Entity != "" {
		return e.Subject.Entity
	}
	ent, _ := entity.EntityOf(e.Type)
	return ent
}

func (e Event) decodeEntity(name string, v any) error {
	if got := e.Entity(); got != name {
		return fmt.Errorf("event %s (%s) is about a %s, not a %s", e.ID, e.Type, got, name)
	}
	return e.Decode(v)
}

// ClaimResult is what DedupStore.Claim found.
type ClaimResult int

// Claim results.
const (
	// Claimed: the id is new (or its claim was released or expired); the
	// caller processes it and then calls Complete or Release.
	Claimed ClaimResult = iota + 1
	// AlreadyDone: the id was processed; acknowledge it without
	// processing again.
	AlreadyDone
	// InProgress: another request is processing the id right now; ask the
	// sender to come back later rather than acknowledge it, in case that
	// request fails.
	InProgress
)

// DedupStore remembers which webhook ids were processed, so that a
// webhook sent twice (a retry after a lost answer, a replay) is processed
// once. Implementations must be safe for concurrent use; one shared by
// several instances of a service (Redis, SQL) makes them deduplicate
// together. Keep ids at least as long as the sender retries: hirehook
// retries for about 28 hours.
type DedupStore interface {
	// Claim atomically marks id as being processed, unless it is done or
	// being processed.
	Claim(ctx context.Context, id string) (ClaimResult, error)
	// Complete marks a claimed id as done.
	Complete(ctx context.Context, id string) error
	// Release gives a claimed id up after a failure, so the next attempt
	// processes it.
	Release(ctx context.Context, id string) error
}

// MemoryDedup is a DedupStore in memory, for one process. Ids are
// forgotten TTL after they were completed, and a claim that was neither
// completed nor released (a process stuck in the callback) lapses after
// ClaimTimeout.
type MemoryDedup struct {
	// TTL is how long a completed id is remembered.
	TTL time.Duration
	// ClaimTimeout is how long a claim holds without Complete or Release.
	ClaimTimeout time.Duration
	// NowFunc is the clock. Default time.Now.
	NowFunc func() time.Time

	mu        sync.Mutex
	ids       map[string]dedupEntry
	lastSweep time.Time
}

type dedupEntry struct {
	done  bool
	until time.Time
}

// DefaultDedupTTL is the TTL of NewMemoryDedup(0): three days, beyond
// hirehook's 28-hour retry schedule.
const DefaultDedupTTL = 72 * time.Hour

// NewMemoryDedup returns a MemoryDedup that remembers ids for ttl
// (DefaultDedupTTL if ttl <= 0) and lets claims lapse after 10 minutes.
func NewMemoryDedup(ttl time.Duration) *MemoryDedup {
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	return &MemoryDedup{TTL: ttl, ClaimTimeout: 10 * time.Minute}
}

func (s *MemoryDedup) now() time.Time {
	if s.NowFunc != nil {
		return s.NowFunc()
	}
	return time.Now()
}

// Claim implements DedupStore.
func (s *MemoryDedup) Claim(_ context.Context, id string) (ClaimResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	if e, ok := s.ids[id]; ok && now.Before(e.until) {
		if e.done {
			return AlreadyDone, nil
		}
		return InProgress, nil
	}
	if s.ids == nil {
		s.ids = map[string]dedupEntry{}
	}
	timeout := s.ClaimTimeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	s.ids[id] = dedupEntry{until: now.Add(timeout)}
	return Claimed, nil
}

// Complete implements DedupStore.
func (s *MemoryDedup) Complete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[string]dedupEntry{}
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	s.ids[id] = dedupEntry{done: true, until: s.now().Add(ttl)}
	return nil
}

// Release implements DedupStore.
func (s *MemoryDedup) Release(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.ids[id]; ok && !e.done {
		delete(s.ids, id)
	}
	return nil
}

// sweep forgets expired ids, at most once a minute.
func (s *MemoryDedup) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for id, e := range s.ids {
		if !now.Before(e.until) {
			delete(s.ids, id)
		}
	}
}

// Handler returns an http.Handler for POSTed webhooks: it verifies each
// with secrets (see Verifier), deduplicates it by webhook-id through store
// (nil: no deduplication), decodes it and calls fn. Its answers:
//
//   - 204 when fn succeeded, and 200 for a webhook id already processed
//     (fn is not called again): the hub counts both as delivered.
//   - 400 when the signature does not verify (or a header is missing, the
//     timestamp is outside the 5-minute tolerance, or the body is not a
//     webhook), 413 when the body is too large. A 4xx says "this request
//     is wrong and sending it unchanged will not help"; it is not 401 (no
//     HTTP authentication scheme is involved, and 401 must carry a
//     WWW-Authenticate challenge), not 410 (which makes hirehook disable
//     the endpoint) and not 5xx (which asks a sender to try later and sets
//     off server-error alerts for what is a forgery or a wrong secret).
//     hirehook still records the attempt, retries on its schedule and ends
//     the delivery failed and replayable, so a receiver with a wrong secret
//     can be fixed and the deliveries recovered.
//   - 409 when the same webhook id is being processed by another request
//     right now: not acknowledged, so that it is sent again if that request
//     fails.
//   - 500 when fn returns an error, so the hub sends the webhook again;
//     503 when store fails. If fn panics, the claim is released and the
//     panic goes on to net/http, which logs it and drops the connection
//     (the hub retries).
//   - 405 for a method other than POST.
//
// Answer bodies are short plain text that names the reason, never a
// secret; the hub keeps the first 4 KiB of each answer in its delivery log.
func Handler(secrets []string, store DedupStore, fn func(ctx context.Context, e Event) error) http.Handler {
	return (&Verifier{Secrets: secrets}).Handler(store, fn)
}

// Handler is the package's Handler with the Verifier's settings.
func (v *Verifier) Handler(store DedupStore, fn func(ctx context.Context, e Event) error) http.Handler {
	return &handler{v: v, store: store, fn: fn}
}

type handler struct {
	v     *Verifier
	store DedupStore
	fn    func(context.Context, Event) error
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, "webhooks are POSTed")
		return
	}
	body, err := h.v.Verify(r)
	if errors.Is(err, ErrBodyTooLarge) {
		answer(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	} else if err != nil {
		answer(w, http.StatusBadRequest, "webhook verification failed: "+err.Error())
		return
	}
	ev, err := ParseEvent(r.Header, body)
	if err != nil {
		answer(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	if h.store != nil {
		res, err := h.store.Claim(ctx, ev.WebhookID)
		switch {
		case err != nil:
			answer(w, http.StatusServiceUnavailable, "the deduplication store failed; send again later")
			return
		case res == AlreadyDone:
			answer(w, http.StatusOK, "already processed")
			return
		case res == InProgress:
			answer(w, http.StatusConflict, "this webhook is being processed; send again later")
			return
		}
	}
	// If fn panics, the claim is released and the panic goes on: net/http
	// logs it with its stack and drops the connection, and the hub retries.
	done := false
	defer func() {
		if !done && h.store != nil {
			_ = h.store.Release(context.WithoutCancel(ctx), ev.WebhookID)
		}
	}()
	if err := h.fn(ctx, ev); err != nil {
		answer(w, http.StatusInternalServerError, "the receiver failed to process the webhook; send again later")
		return
	}
	done = true
	if h.store != nil {
		// The work is done: even if the store cannot record it, a 2xx is
		// right, since a retry would do the work again.
		_ = h.store.Complete(context.WithoutCancel(ctx), ev.WebhookID)
	}
	w.WriteHeader(http.StatusNoContent)
}

func answer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
