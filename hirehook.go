// Package hirehook is a self-hosted, real-time event hub for recruiting and
// staffing. It takes recruiting events in (candidate.created,
// placement.confirmed, ...), stores them durably and delivers them as signed
// webhooks (Standard Webhooks) to every subscribed endpoint, retrying until
// each has them.
//
// This root package holds the domain: Event, Record, Endpoint, Delivery,
// Attempt, the Store contract that every database implements, the retry
// policy, the webhook signature scheme and the error codes. It imports only
// the standard library; the packages below it hold the "how": store/sqlite,
// delivery, api, server, cmd/hirehook.
package hirehook

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Version is the hub's version, sent in the user-agent of every webhook.
var Version = "0.1.0-dev"

// DefaultTenantID is the tenant that owns everything until multi-tenancy
// lands. Every stored object carries a tenant id from the start, so that the
// tenants feature adds keys and routes, not a data migration.
const DefaultTenantID = "default"

// Subject names the entity an event is about: one candidate, one placement.
type Subject struct {
	Entity string `json:"entity"`
	ID     string `json:"id"`
}

// Key is the subject as one string, "candidate/cand_1": the ordering key of
// its deliveries to ordered endpoints.
func (s Subject) Key() string { return s.Entity + "/" + s.ID }

// Event is one thing that happened in a recruiting system.
type Event struct {
	TenantID   string          `json:"-"`
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	ReceivedAt time.Time       `json:"received_at"`
	Source     string          `json:"source,omitempty"`
	Subject    Subject         `json:"subject"`
	Data       json.RawMessage `json:"data"`
	Changes    json.RawMessage `json:"changes,omitempty"`
	// Derived is set when hirehook inferred part of the event rather than
	// the producer stating it: a type decided from a stage name or a
	// status (a hire from a move to a "Hired" stage), or a change's "from"
	// taken from the last state the hub stored because the vendor sends
	// only the new value.
	Derived bool `json:"derived,omitempty"`
	// Partial is set when data holds only what a thin vendor webhook
	// carried (ids and external_refs) because the source has no API
	// credentials to fetch the rest; the subject's record keeps what it
	// had, merged with these fields.
	Partial bool `json:"partial,omitempty"`

	// IdempotencyKey is the producer's Idempotency-Key, if any.
	IdempotencyKey string `json:"-"`
	// TargetEndpointID, when set, sends the event to that one endpoint of
	// its tenant and to no other, whatever the endpoint's event types and
	// filter: a test send (ops.EndpointTest). A disabled or unknown
	// target gets nothing, and the event is stored with no delivery. It
	// is read at ingest only (see Recipients) and not stored.
	TargetEndpointID string `json:"-"`
	// Deliveries is the number of deliveries the event created at ingest.
	Deliveries int `json:"deliveries"`
	// Purged is set once the retention job has replaced the event's payload
	// with a tombstone: Data is null and Changes empty; the id, type, times,
	// subject and deliveries stay for the log.
	Purged bool `json:"purged"`
	// Payload is the exact webhook body sent to endpoints; rendered once
	// at ingest so that every attempt signs the same bytes.
	Payload []byte `json:"-"`
}

// WebhookPayload is the JSON body of every webhook hirehook sends.
type WebhookPayload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Source    string          `json:"source,omitempty"`
	Subject   Subject         `json:"subject"`
	Data      json.RawMessage `json:"data"`
	Changes   json.RawMessage `json:"changes,omitempty"`
	Derived   bool            `json:"derived,omitempty"`
	Partial   bool            `json:"partial,omitempty"`
	// Purged marks the tombstone that replaces a payload purged by
	// retention (its Data is null). It is never sent: a purged event's
	// deliveries are not attempted again.
	Purged bool `json:"purged,omitempty"`
}

// RenderPayload returns the webhook body for e.
func (e *Event) RenderPayload() ([]byte, error) {
	return json.Marshal(WebhookPayload{
		ID:        e.ID,
		Type:      e.Type,
		Timestamp: e.OccurredAt.UTC(),
		Source:    e.Source,
		Subject:   e.Subject,
		Data:      e.Data,
		Changes:   e.Changes,
		Derived:   e.Derived,
		Partial:   e.Partial,
	})
}

// RenderValidPayload is RenderPayload, byte for byte, for an event whose
// Data and Changes are known to be valid JSON (ingest has just decoded
// them). Marshal compacts and HTML-escapes a RawMessage in a scan with its
// JSON state machine, a quarter of the cost of preparing an event; for
// valid JSON the same compaction is a copy that drops white space outside
// strings and escapes '<', '>', '&', U+2028 and U+2029 (appendCompactValid).
// When another string needs escaping (it is not printable ASCII free of
// what Marshal escapes), it is RenderPayload.
func (e *Event) RenderValidPayload() ([]byte, error) {
	t := e.OccurredAt.UTC()
	if y := t.Year(); y < 0 || y > 9999 || len(e.Data) == 0 ||
		!plainJSONString(e.ID) || !plainJSONString(e.Type) || !plainJSONString(e.Source) ||
		!plainJSONString(e.Subject.Entity) || !plainJSONString(e.Subject.ID) {
		return e.RenderPayload()
	}
	b := make([]byte, 0, 160+len(e.ID)+len(e.Type)+len(e.Source)+len(e.Subject.Entity)+len(e.Subject.ID)+len(e.Data)+len(e.Changes))
	b = append(b, `{"id":"`...)
	b = append(b, e.ID...)
	b = append(b, `","type":"`...)
	b = append(b, e.Type...)
	b = append(b, `","timestamp":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano) // what time.Time's MarshalJSON writes for years 0 to 9999
	b = append(b, '"')
	if e.Source != "" {
		b = append(b, `,"source":"`...)
		b = append(b, e.Source...)
		b = append(b, '"')
	}
	b = append(b, `,"subject":{"entity":"`...)
	b = append(b, e.Subject.Entity...)
	b = append(b, `","id":"`...)
	b = append(b, e.Subject.ID...)
	b = append(b, `"},"data":`...)
	b = appendCompactValid(b, e.Data)
	if len(e.Changes) > 0 {
		b = append(b, `,"changes":`...)
		b = appendCompactValid(b, e.Changes)
	}
	if e.Derived {
		b = append(b, `,"derived":true`...)
	}
	if e.Partial {
		b = append(b, `,"partial":true`...)
	}
	return append(b, '}'), nil
}

// appendCompactValid appends the valid JSON value src to dst as
// json.Marshal writes a RawMessage (encoding/json's appendCompact with
// HTML escaping): white space outside strings dropped, '<', '>' and '&'
// written \u003c, \u003e and \u0026, U+2028 and U+2029 \u2028 and
// \u2029. Valid JSON needs no state machine for that, only whether a
// byte is inside a string.
func appendCompactValid(dst, src []byte) []byte {
	const hex = "0123456789abcdef"
	start, inString := 0, false
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '"':
			inString = !inString
		case c == '\\':
			i++ // in a string: the escaped byte is not a quote
		case c == '<' || c == '>' || c == '&':
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			start = i + 1
		case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[src[i+2]&0xF])
			start = i + 3
			i += 2
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

// plainJSONString reports whether json.Marshal writes s as it is between
// quotes: printable ASCII but '"', '\\', '<', '>' and '&'.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// Input turns an event a connector made back into what ingest takes
// (ingest.Prepare), so that it is validated, deduplicated and recorded like
// any producer's.
func (e *Event) Input() (*EventInput, error) {
	in := &EventInput{
		ID:         e.ID,
		Type:       e.Type,
		OccurredAt: e.OccurredAt.UTC().Format(time.RFC3339Nano),
		Source:     e.Source,
		Subject:    &SubjectInput{Entity: e.Subject.Entity, ID: e.Subject.ID},
		Data:       e.Data,
		Derived:    e.Derived,
		Partial:    e.Partial,
	}
	if len(e.Changes) > 0 {
		if err := json.Unmarshal(e.Changes, &in.Changes); err != nil {
			return nil, fmt.Errorf("decode changes of %s: %w", e.ID, err)
		}
	}
	return in, nil
}

// DeletesSubject reports whether the event removes its subject (the record
// is kept, marked deleted, with its history).
func (e *Event) DeletesSubject() bool {
	return strings.HasSuffix(e.Type, ".deleted")
}

// EventFilter selects events for EventList. Events are listed in ingest
// order; After is the id of the last event of the previous page.
type EventFilter struct {
	TenantID  string
	Type      *string
	SubjectID *string
	Entity    *string
	// Source keeps the events whose source is exactly this ("" is the
	// events sent without one).
	Source *string
	// ReceivedAfter and ReceivedBefore keep the events received at or
	// after, and strictly before, these times (a half-open range, so
	// consecutive ranges never count an event twice).
	ReceivedAfter  *time.Time
	ReceivedBefore *time.Time
	After          string
	Limit          int
	// Descending lists the newest events first (the dashboard's explorer);
	// After then names the last, oldest, event of the previous page and
	// the page holds events ingested before it.
	Descending bool
}

// Record is the latest snapshot of one entity, built from its events: what a
// subscriber fetches when the event alone is not enough. Each event's data is
// applied to the snapshot as a JSON Merge Patch (RFC 7396): fields it carries
// replace the old ones (objects merge field by field), fields it leaves out
// keep their values, and a field set to null is removed.
type Record struct {
	TenantID    string          `json:"-"`
	Entity      string          `json:"entity"`
	ID          string          `json:"id"`
	Version     int             `json:"version"`
	Deleted     bool            `json:"deleted"`
	Data        json.RawMessage `json:"data"`
	LastEventID string          `json:"last_event_id"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Endpoint is a subscriber: a URL and the event types it wants.
type Endpoint struct {
	TenantID string `json:"-"`
	ID       string `json:"id"`
	// Kind is the destination kind: KindHTTP (a webhook to URL; "" means
	// http) or a broker kind of DestinationKinds, configured by Config and
	// Credentials. It is set when the endpoint is created.
	Kind string `json:"kind"`
	// URL is a webhook endpoint's URL; empty for a broker kind, whose
	// destination line Target makes from Config (the API answers it as
	// url).
	URL string `json:"url"`
	// Config is a broker kind's settings (brokers, topic, ...; see
	// DestinationKinds); nil for http.
	Config map[string]string `json:"config,omitempty"`
	// Credentials are a broker kind's secrets (username, password, ...),
	// sealed at rest like Secrets and never serialised: reads show only
	// their names.
	Credentials map[string]string `json:"-"`
	Description string            `json:"description"`
	EventTypes  []string          `json:"event_types"`
	Headers     map[string]string `json:"headers"`
	Disabled    bool              `json:"disabled"`
	// DisabledReason says why the hub disabled the endpoint (e.g. "410
	// Gone"); empty when an operator disabled it or it is enabled.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Signing is the endpoint's signature scheme, SigningHMAC (v1) or
	// SigningEd25519 (v1a). It follows from the secrets (see SigningScheme);
	// the API fills it in for its answers.
	Signing string `json:"signing,omitempty"`
	// MaxConcurrency bounds the attempts in flight to this endpoint at
	// once (DefaultMaxConcurrency when created through the API, 1 to
	// MaxMaxConcurrency). Zero means unset: the dispatcher then uses its
	// global per-endpoint concurrency.
	MaxConcurrency int `json:"max_concurrency"`
	// RateLimitPerSecond bounds the attempts started per second to this
	// endpoint (above 0, at most MaxRateLimitPerSecond); nil means no limit.
	// A delivery held back by the limit waits; it is not a failed attempt.
	RateLimitPerSecond *float64 `json:"rate_limit_per_second"`
	// Ordered makes the endpoint receive the events of one subject (one
	// candidate, one application, ...) in ingest order: a delivery waits
	// while an earlier delivery of the same subject to the endpoint is
	// unfinished (pending, delivering, retrying or paused). A delivery that
	// fails for good stops holding the later ones back.
	Ordered bool `json:"ordered"`
	// FailingSince is when the endpoint's current run of failed attempts
	// began; nil while its latest attempt succeeded. The dispatcher
	// disables an endpoint that has done nothing but fail for its
	// configured period (5 days by default).
	FailingSince *time.Time `json:"failing_since"`
	// Filter is a jq expression evaluated on each event's envelope (after
	// Redact) when the event is ingested: the endpoint gets a delivery only
	// when it yields true. Empty delivers every event of EventTypes. See
	// package route.
	Filter string `json:"filter"`
	// Transform is a jq expression whose output becomes the webhook body
	// (and what is signed), applied when the delivery is sent. Empty
	// sends the envelope.
	Transform string `json:"transform"`
	// Payload is PayloadFull (the whole envelope; "" means full) or
	// PayloadThin (type, ids and a link to the record).
	Payload string `json:"payload"`
	// Redact lists envelope paths (".data.candidate.email") and presets
	// ("personal_data") removed before the filter, the transform and the
	// send.
	Redact    []string  `json:"redact"`
	Secrets   []Secret  `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Payload modes of Endpoint.Payload.
const (
	PayloadFull = "full"
	PayloadThin = "thin"
)

// Routed reports whether the endpoint changes the events it gets: a filter,
// a transform, a thin payload or redaction.
func (e *Endpoint) Routed() bool {
	return e.Filter != "" || e.Transform != "" || (e.Payload != "" && e.Payload != PayloadFull) || len(e.Redact) > 0
}

// Secret is one signing secret of an endpoint. The newest secret has no
// expiry; after a rotation the previous one keeps signing beside it until
// ExpiresAt.
type Secret struct {
	Value string `json:"value"`
	// PublicKey is only set in API answers about an ed25519 endpoint's
	// keys, where Value (its whsk_) is left out.
	PublicKey string     `json:"public_key,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// SigningScheme returns the endpoint's signature scheme, from its newest
// secret: SigningEd25519 for a whsk_ key, SigningHMAC otherwise.
func (e *Endpoint) SigningScheme() string {
	if len(e.Secrets) == 0 {
		return SigningHMAC
	}
	return SigningOf(e.Secrets[0].Value)
}

// ActiveSecrets returns the secrets that sign at time now, newest first.
func (e *Endpoint) ActiveSecrets(now time.Time) []string {
	out := make([]string, 0, len(e.Secrets))
	for _, s := range e.Secrets {
		if s.ExpiresAt == nil || now.Before(*s.ExpiresAt) {
			out = append(out, s.Value)
		}
	}
	return out
}

// Subscribes reports whether the endpoint wants events of type typ.
func (e *Endpoint) Subscribes(typ string) bool {
	for _, p := range e.EventTypes {
		if MatchEventType(p, typ) {
			return true
		}
	}
	return false
}

// EndpointFilter selects endpoints for EndpointList.
type EndpointFilter struct {
	TenantID string
	After    string
	Limit    int
}

// EndpointUpdate is a partial edit of an endpoint: nil fields are unchanged.
type EndpointUpdate struct {
	URL *string
	// Config and Credentials replace a broker endpoint's (the operations
	// layer merges a partial credentials change into the full set first).
	Config         *map[string]string
	Credentials    *map[string]string
	Description    *string
	EventTypes     *[]string
	Headers        *map[string]string
	Disabled       *bool
	DisabledReason *string
	MaxConcurrency *int
	// RateLimitPerSecond is nil to leave the rate limit unchanged, a
	// pointer to nil to remove it, or a pointer to a pointer to the new
	// rate.
	RateLimitPerSecond **float64
	// Ordered applies to deliveries created from then on.
	Ordered *bool
	// Filter applies to events ingested from then on; Transform, Payload
	// and Redact to deliveries sent from then on.
	Filter    *string
	Transform *string
	Payload   *string
	Redact    *[]string
	// Now is the time of the change: enabling a disabled endpoint makes
	// its paused deliveries due at Now. Zero means time.Now().
	Now time.Time
}

// Limits of an endpoint's isolation settings.
const (
	DefaultMaxConcurrency = 16
	MaxMaxConcurrency     = 256
	MaxRateLimitPerSecond = 10000
)

// DeliveryState is the state of one delivery in the queue.
type DeliveryState string

// Delivery states. A delivery moves pending → delivering → delivered, or
// delivering → retrying → delivering → ... → failed once the retry schedule
// is exhausted. An operator retry moves a failed delivery back to pending.
// While its endpoint is disabled, an unfinished delivery is paused; enabling
// the endpoint makes it due again.
const (
	// DeliveryPending is due for its first attempt (or an operator retry).
	DeliveryPending DeliveryState = "pending"
	// DeliveryDelivering is leased by a worker that is attempting it; if the
	// worker dies the lease expires and the delivery is attempted again.
	DeliveryDelivering DeliveryState = "delivering"
	// DeliveryRetrying failed at least once and waits for NextAttemptAt.
	DeliveryRetrying DeliveryState = "retrying"
	// DeliveryDelivered got a 2xx answer. Final.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailed exhausted its retries. Final until replayed.
	DeliveryFailed DeliveryState = "failed"
	// DeliveryCancelled will not be attempted, e.g. its endpoint was deleted.
	DeliveryCancelled DeliveryState = "cancelled"
	// DeliveryPaused waits for its disabled endpoint to be enabled again;
	// nothing is lost meanwhile, and it is not attempted.
	DeliveryPaused DeliveryState = "paused"
)

// Valid reports whether s is one of the defined states.
func (s DeliveryState) Valid() bool {
	switch s {
	case DeliveryPending, DeliveryDelivering, DeliveryRetrying, DeliveryDelivered, DeliveryFailed, DeliveryCancelled, DeliveryPaused:
		return true
	}
	return false
}

// Delivery is one event owed to one endpoint: the unit of the queue.
type Delivery struct {
	TenantID      string        `json:"-"`
	ID            string        `json:"id"`
	EventID       string        `json:"event_id"`
	EventType     string        `json:"event_type"`
	EndpointID    string        `json:"endpoint_id"`
	State         DeliveryState `json:"state"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt *time.Time    `json:"next_attempt_at,omitempty"`
	LastAttemptAt *time.Time    `json:"last_attempt_at,omitempty"`
	LastStatus    int           `json:"last_status_code,omitempty"`
	LastError     string        `json:"last_error,omitempty"`
	// OrderingKey is the subject ("candidate/cand_1") of a delivery to an
	// ordered endpoint, whose order it keeps; empty otherwise.
	OrderingKey string    `json:"ordering_key,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// LastLatency is how long the last attempt took (JSON: last_latency_ms)
	// and LastResponseExcerpt the start of its response body (see
	// ResponseExcerpt), so a list shows how each delivery went without
	// reading its attempts. DeliveryList and DeliveryGet fill them; zero
	// before the first attempt, and the excerpt is empty once retention or
	// erasure cleared the body.
	LastLatency         Milliseconds `json:"last_latency_ms,omitzero"`
	LastResponseExcerpt string       `json:"last_response_excerpt,omitempty"`

	// Payload is the event's webhook body; set by DeliveryClaim and by
	// EventIngest's hot hand-off, not serialised.
	Payload []byte `json:"-"`
	// LeaseExpiresAt is when a claimed delivery's lease runs out.
	LeaseExpiresAt time.Time `json:"-"`
}

// ResponseExcerptBytes is the most a delivery's LastResponseExcerpt holds.
const ResponseExcerptBytes = 200

// ResponseExcerpt returns the start of a response body for a delivery's
// LastResponseExcerpt: at most ResponseExcerptBytes of valid UTF-8 (invalid
// bytes become U+FFFD), cut before a character that would not fit whole.
//
// It cuts where Truncate does but adds no "…": the excerpt is a stored
// field bounded in bytes, and a body is a receiver's bytes, which need not
// be UTF-8.
func ResponseExcerpt(body string) string {
	s := strings.ToValidUTF8(body[:runeCut(body, ResponseExcerptBytes)], "\uFFFD")
	// A lone invalid byte became three bytes of U+FFFD.
	return s[:runeCut(s, ResponseExcerptBytes)]
}

// Milliseconds is a duration that JSON writes as a number of milliseconds,
// with microseconds as decimals (1.25 is 1250 µs).
type Milliseconds time.Duration

// MarshalJSON writes m in milliseconds.
func (m Milliseconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(float64(time.Duration(m).Microseconds()) / 1000)
}

// UnmarshalJSON reads a number of milliseconds.
func (m *Milliseconds) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return err
	}
	*m = Milliseconds(math.Round(ms*1000) * float64(time.Microsecond))
	return nil
}

// DeliveryFilter selects deliveries for DeliveryList, newest first.
type DeliveryFilter struct {
	TenantID   string
	EndpointID *string
	EventID    *string
	State      *DeliveryState
	After      string
	Limit      int
}

// ErrorClass classifies why an attempt failed.
type ErrorClass string

// Error classes of an attempt.
const (
	ErrorClassNone       ErrorClass = ""
	ErrorClassTimeout    ErrorClass = "timeout"
	ErrorClassConnection ErrorClass = "connection"     // refused, reset, unreachable
	ErrorClassDNS        ErrorClass = "dns"            // name did not resolve
	ErrorClassTLS        ErrorClass = "tls"            // handshake or certificate
	ErrorClassStatus     ErrorClass = "http_status"    // answered, but not 2xx
	ErrorClassForbidden  ErrorClass = "forbidden_dest" // private address refused by the guard
	ErrorClassOther      ErrorClass = "other"

	// Classes of a broker destination's attempt (Endpoint.Kind other
	// than KindHTTP); timeout, connection, dns, tls and forbidden_dest
	// apply to brokers too.

	// ErrorClassAuth: the broker refused the endpoint's credentials, or
	// they lack the right to publish.
	ErrorClassAuth ErrorClass = "auth"
	// ErrorClassRejected: the broker is up and the credentials good, but
	// it did not take the message durably: a negative confirm, an
	// unroutable message, no stream or topic for it, a message too large.
	ErrorClassRejected ErrorClass = "rejected"

	// ErrorClassTransform: the endpoint's route (transform, redaction,
	// thin payload) could not make the body, so nothing was sent. A
	// configuration error: the delivery fails at once, to be replayed
	// after the fix.
	ErrorClassTransform ErrorClass = "transform"
)

// Attempt records one HTTP try of a delivery.
type Attempt struct {
	ID           string        `json:"id"`
	DeliveryID   string        `json:"delivery_id"`
	Number       int           `json:"number"`
	StartedAt    time.Time     `json:"started_at"`
	Duration     time.Duration `json:"-"`
	StatusCode   int           `json:"status_code,omitempty"`
	ResponseBody string        `json:"response_body,omitempty"`
	ErrorClass   ErrorClass    `json:"error_class,omitempty"`
	Error        string        `json:"error,omitempty"`
}

// MarshalJSON adds latency_ms to the attempt's JSON.
func (a Attempt) MarshalJSON() ([]byte, error) {
	type plain Attempt
	return json.Marshal(struct {
		plain
		LatencyMS float64 `json:"latency_ms"`
	}{plain(a), float64(a.Duration.Microseconds()) / 1000})
}

// DeliveryResult is the outcome of one attempt, written by DeliveryComplete.
type DeliveryResult struct {
	DeliveryID string
	TenantID   string
	// LeaseOwner must match the delivery's current lease; a result from a
	// worker whose lease expired (and was taken by another) is ignored.
	LeaseOwner string
	Attempt    Attempt
	// State is DeliveryDelivered, DeliveryRetrying or DeliveryFailed.
	State         DeliveryState
	NextAttemptAt time.Time
	// DisableEndpoint disables the delivery's endpoint with this reason
	// (e.g. after a 410 Gone); empty leaves it alone.
	DisableEndpoint string
}

// Tenant is one agency (or one customer of an HR-tech vendor). Everything
// the hub stores belongs to exactly one tenant, and nothing of one tenant is
// visible to another.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// RetentionDays is how long event payloads and attempt response
	// bodies are kept before the retention job purges them.
	RetentionDays int       `json:"retention_days"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// DefaultRetentionDays is the retention of a tenant created without one.
const DefaultRetentionDays = 30

// TenantUpdate is a partial edit of a tenant.
type TenantUpdate struct {
	Name          *string
	RetentionDays *int
}

// Scope is what an API key may do.
type Scope string

// Scopes, from the most to the least powerful.
const (
	// ScopeOperator manages tenants and keys of any tenant, and is admin in
	// its own tenant. The bootstrap key (--admin-key) is the operator key.
	ScopeOperator Scope = "operator"
	// ScopeAdmin may do everything within its tenant.
	ScopeAdmin Scope = "admin"
	// ScopeProducer may only send events (and read the catalog).
	ScopeProducer Scope = "producer"
	// ScopeViewer may only read: events, records, endpoints (without
	// secrets), deliveries.
	ScopeViewer Scope = "viewer"
)

// ScopeAny marks a route that any valid key may use (the catalog).
const ScopeAny Scope = ""

// Allows reports whether a key of scope s may use a route that needs need.
func (s Scope) Allows(need Scope) bool {
	if need == ScopeAny {
		return s.Valid()
	}
	switch s {
	case ScopeOperator:
		return true
	case ScopeAdmin:
		return need != ScopeOperator
	case ScopeProducer, ScopeViewer:
		return need == s
	}
	return false
}

// Valid reports whether s is a scope a key can be created with.
func (s Scope) Valid() bool {
	switch s {
	case ScopeOperator, ScopeAdmin, ScopeProducer, ScopeViewer:
		return true
	}
	return false
}

// APIKey is a credential for the API. Only its SHA-256 hash is stored; the
// key itself is shown once, when it is created.
type APIKey struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"tenant_id"`
	Name       string     `json:"name"`
	Scope      Scope      `json:"scope"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Expired reports whether the key has expired at now.
func (k *APIKey) Expired(now time.Time) bool {
	return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)
}

// AuditEntry records who did what, and when: every change to endpoints,
// keys and tenants, rotations, replays and erasures.
type AuditEntry struct {
	ID       string    `json:"id"`
	TenantID string    `json:"tenant_id"`
	At       time.Time `json:"at"`
	KeyID    string    `json:"key_id"`
	KeyName  string    `json:"key_name"`
	// Action is a dotted verb such as "endpoint.created",
	// "endpoint.secret_rotated", "delivery.retried", "candidate.erased".
	Action string `json:"action"`
	// Target is the id of the object acted on.
	Target string `json:"target"`
	// Details is a small JSON object with what changed (never secrets or
	// personal data).
	Details json.RawMessage `json:"details,omitempty"`
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	TenantID string
	After    string
	Limit    int
}

// TenantFilter selects tenants, in creation order.
type TenantFilter struct {
	After string
	Limit int
}

// EventInput is what a producer sends to POST /v1/events: the body of one
// event before the hub has accepted it.
type EventInput struct {
	// ID is the producer's id for the event (1–128 of [A-Za-z0-9_:-]);
	// empty lets the hub generate a sortable one. A repeated id is
	// accepted once.
	ID string `json:"id,omitempty"`
	// Type is a catalog event type, such as "placement.confirmed".
	Type string `json:"type"`
	// OccurredAt is when it happened in the source system (RFC 3339);
	// empty means now.
	OccurredAt string `json:"occurred_at,omitempty"`
	// Source names the producing system ("bullhorn", "greenhouse", ...).
	Source string `json:"source,omitempty"`
	// Subject names the entity; its id defaults to data.id and its entity
	// is the type's.
	Subject *SubjectInput `json:"subject,omitempty"`
	// Data is the entity as the type's JSON Schema describes it.
	Data json.RawMessage `json:"data"`
	// Changes lists changed fields: {"status": {"from": "a", "to": "b"}}.
	Changes map[string]Change `json:"changes,omitempty"`
	// Derived marks an event the producer inferred in part (Event.Derived).
	Derived bool `json:"derived,omitempty"`
	// Partial marks an event whose data is incomplete (Event.Partial).
	Partial bool `json:"partial,omitempty"`
}

// SubjectInput is the optional subject of an EventInput.
type SubjectInput struct {
	Entity string `json:"entity,omitempty"`
	ID     string `json:"id"`
}

// Change is one field's change, from → to.
type Change struct {
	From json.RawMessage `json:"from"`
	To   json.RawMessage `json:"to"`
}

// EventAccepted is the hub's answer for one accepted event.
type EventAccepted struct {
	ID         string `json:"id"`
	Deliveries int    `json:"deliveries"`
	// Duplicate is true when the event had been accepted before (same id
	// or Idempotency-Key); this answer is the first one and nothing new
	// was stored.
	Duplicate bool `json:"duplicate"`
}
