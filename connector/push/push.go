package push

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/internal/value"
)

// Tolerance is how far a signed timestamp may be from the receiver's clock,
// in either direction, where a vendor signs one (Teamtailor v2,
// SmartRecruiters, Standard Webhooks).
const Tolerance = 5 * time.Minute

// Errors of the vendors' Verify functions, wrapped in a *VerifyError. None
// of them carries a secret, a signature or the body.
var (
	ErrNoSecret          = errors.New("no secret configured")
	ErrMissingSignature  = errors.New("signature header is missing")
	ErrMalformed         = errors.New("signature header is malformed")
	ErrMismatch          = errors.New("no signature matches")
	ErrInvalidTimestamp  = errors.New("signed timestamp is not unix seconds")
	ErrTimestampTooOld   = errors.New("signed timestamp is too old")
	ErrTimestampTooNew   = errors.New("signed timestamp is too far in the future")
	ErrUnsupportedConfig = errors.New("unsupported verification setting")
)

// Errors of the vendors' Hydrate functions, wrapped with the operation
// and the resource. Neither carries an API key.
var (
	// ErrHydrateTemporary is a failure that may pass: the vendor answered
	// 429 or 5xx, timed out, or could not be reached. Retry later with
	// backoff.
	ErrHydrateTemporary = errors.New("hydrate: temporary failure")
	// ErrHydrateGone is a 404 or 410: the resource no longer exists, so
	// the thin event is all there will be.
	ErrHydrateGone = errors.New("hydrate: resource is gone")
)

// VerifyError is the error of a failed verification: which system and
// header, and why (one of the Err variables above, for errors.Is). It is
// safe to show and to log: it never holds secret or signature material.
type VerifyError struct {
	System string // "teamtailor"
	Header string // "TT-Signature"
	Err    error
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s: verify %s: %v", e.System, e.Header, e.Err)
}

// Unwrap returns the reason.
func (e *VerifyError) Unwrap() error { return e.Err }

// Options configure Parse in every push connector.
type Options struct {
	// SourceID is the hirehook source the request came in on. It goes into
	// the event ids, so two sources never collide. Optional.
	SourceID string
	// Tenant is the vendor account, for external_refs. Optional.
	Tenant string
	// Now is the received time, used as occurred_at when the vendor gives
	// none. Zero means time.Now().
	Now time.Time
	// Catalog validates every event; nil means catalog.Default().
	Catalog *catalog.Catalog
}

// Event is one catalog event made from a vendor webhook.
type Event struct {
	*hirehook.Event
	// Derived is set when hirehook inferred the type from the payload (a
	// hire from a stage name, a rejection from a flag) rather than it
	// following from the vendor's event name alone.
	Derived bool
}

// Result is what a connector's Parse made of one verified request.
type Result struct {
	// System is the vendor: "workable", "smartrecruiters", ...
	System string
	// VendorEvent is the vendor's event name, "candidate_moved".
	VendorEvent string
	// DedupeKey identifies the request across the vendor's retries, made
	// from what the vendor signed only: the vendor's event id where the
	// signature covers one, else "sha256:" and the hex SHA-256 of the
	// signed bytes (see each connector's DedupKey).
	DedupeKey string
	// Events are the catalog events, each already valid against the
	// catalog. Empty when Unsupported or when the type needs hydration.
	Events []Event
	// Thin is set when the vendor sent ids only: Events carry the ids and
	// external_refs and nothing else. Hydrate from Link for the rest.
	Thin bool
	// NeedsHydration is set when the catalog type itself depends on the
	// resource's current state (a job's status, an offer's status), so no
	// event is emitted until the resource is fetched from Link.
	NeedsHydration bool
	// Link is the vendor's URL of the resource, where it sends one.
	Link string
	// Ping is set for a signed ping (Greenhouse's and Ashby's, sent when
	// a webhook is created or edited): connection health, answered 2xx,
	// never an event; Events is empty.
	Ping bool
	// Unsupported is set when the vendor event has no catalog type
	// (yet): the request is valid and acknowledged, and nothing is
	// emitted. Reason says why.
	Unsupported bool
	Reason      string
}

// Handshake is the answer a vendor's subscription handshake expects. It is
// source health (the vendor proved it can reach us, like
// connection.verified), never a recruiting event.
type Handshake struct {
	Status int
	Header http.Header
}

// BodyKey is the dedupe key of a vendor that sends no event id.
func BodyKey(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// HMACSHA256 returns HMAC-SHA256(key, parts...).
func HMACSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// HasSecret reports whether any of secrets is set: a Verify given none
// fails with its "no secret" error before it reads the request.
func HasSecret(secrets []string) bool {
	for _, s := range secrets {
		if s != "" {
			return true
		}
	}
	return false
}

// CheckTime checks a signed unix-seconds timestamp against now ± Tolerance.
func CheckTime(ts int64, now time.Time) error {
	t := time.Unix(ts, 0)
	if now.Sub(t) > Tolerance {
		return ErrTimestampTooOld
	}
	if t.Sub(now) > Tolerance {
		return ErrTimestampTooNew
	}
	return nil
}

// Builder makes catalog events for one request.
type Builder struct {
	System  string // "teamtailor"
	Prefix  string // entity id prefix, "tt_"
	Key     string // the request's dedupe key
	Options Options
	// EventIDTag ("gh", "lv", "ab") keeps the event ids Greenhouse, Lever
	// and Ashby events had before these connectors moved onto this
	// package: the id hashes value.EventID(tag, key, type) instead of key
	// and type, so that a vendor's retry across an upgrade is still a
	// duplicate. With a tag, an event the vendor gives no time for also
	// keeps no occurred time (ingest stamps it), as before. Empty for
	// every other connector.
	EventIDTag string
}

// Ref is the external_refs entry of a vendor id.
func (b *Builder) Ref(id string) []map[string]any {
	r := map[string]any{"system": b.System, "id": id}
	if b.Options.Tenant != "" {
		r["tenant"] = b.Options.Tenant
	}
	return []map[string]any{r}
}

// ID is the hirehook entity id of a vendor id.
func (b *Builder) ID(vendorID string) string { return b.Prefix + vendorID }

// Event validates data against typ and returns the event. Its id is
// deterministic in (source, dedupe key, type), so the same request parsed
// twice makes the same ids and ingest drops the copy.
func (b *Builder) Event(typ string, data map[string]any, occurred time.Time, derived bool) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s data: %w", typ, err)
	}
	entity, id, err := b.catalog().ValidateEvent(typ, raw)
	if err != nil {
		return Event{}, fmt.Errorf("%s: map to %s: %w", b.System, typ, err)
	}
	return b.event(typ, entity, id, raw, occurred, derived), nil
}

// EventWith is Event for the parsers that carry a time as RFC 3339 text
// and a field's changes (Greenhouse, Lever, Ashby): at "" is no time,
// changes (if any) become the event's changes, and the tenant is named in
// data's top-level external_refs that name none (their refs are made
// without it). Data without an id, or that the catalog refuses, is an
// error wrapping malformed (the connector's ErrMalformed).
func (b *Builder) EventWith(malformed error, typ string, data map[string]any, changes map[string]hirehook.Change, at string, derived bool) (Event, error) {
	if data["id"] == nil {
		return Event{}, fmt.Errorf("%w: no id for %s", malformed, typ)
	}
	var occurred time.Time
	if at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return Event{}, fmt.Errorf("%w: %s occurred at %q: %v", malformed, typ, at, err)
		}
		occurred = t
	}
	value.WithTenant(data, b.Options.Tenant)
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s data: %w", typ, err)
	}
	entity, id, err := b.catalog().ValidateEvent(typ, raw)
	if err != nil {
		return Event{}, fmt.Errorf("%w: %s data: %v", malformed, typ, err)
	}
	ev := b.event(typ, entity, id, raw, occurred, derived)
	if len(changes) > 0 {
		if ev.Changes, err = json.Marshal(changes); err != nil {
			return Event{}, fmt.Errorf("encode %s changes: %w", typ, err)
		}
	}
	return ev, nil
}

func (b *Builder) catalog() *catalog.Catalog {
	if b.Options.Catalog != nil {
		return b.Options.Catalog
	}
	return catalog.Default()
}

// event names a validated event: its id hashes the source, the dedupe key
// and the type (see EventIDTag), and a zero occurred time is the received
// time (but see EventIDTag).
func (b *Builder) event(typ, entity, id string, raw json.RawMessage, occurred time.Time, derived bool) Event {
	now := b.Options.Now
	if now.IsZero() {
		now = time.Now()
	}
	if occurred.IsZero() && b.EventIDTag == "" {
		occurred = now
	}
	idKey := b.Key + "\x00" + typ
	if b.EventIDTag != "" {
		idKey = value.EventID(b.EventIDTag, b.Key, typ)
	}
	sum := sha256.Sum256([]byte(b.Options.SourceID + "\x00" + idKey))
	return Event{
		Event: &hirehook.Event{
			ID:         b.System + ":" + hex.EncodeToString(sum[:16]),
			Type:       typ,
			OccurredAt: occurred.UTC(),
			Source:     b.System,
			Subject:    hirehook.Subject{Entity: entity, ID: id},
			Data:       raw,
		},
		Derived: derived,
	}
}

// Str returns m[k] as a string: strings as they are, numbers in their
// shortest form, anything else "".
func Str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return fmt.Sprint(int64(v))
	}
	return ""
}

// Map returns m[k] as an object, or nil.
func Map(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

// Decode decodes a JSON object keeping numbers exact (ids can exceed
// float64's integers).
func Decode(body []byte) (map[string]any, error) {
	var m map[string]any
	d := json.NewDecoder(bytesReader(body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode body: %w", err)
	}
	if m == nil {
		return nil, errors.New("decode body: not a JSON object")
	}
	return m, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// Email returns s if it is a bare email address, else "": a malformed
// address from a vendor is dropped rather than failing the whole event
// against the catalog's email format.
func Email(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return ""
	}
	return s
}

// ErrOrigin is wrapped by CheckOrigin's errors.
var ErrOrigin = errors.New("not one of the vendor's API origins")

// CheckOrigin returns rawURL parsed if its origin ("scheme://host[:port]")
// is one of origins (compared without case), else an error wrapping
// ErrOrigin that names the origin (never a path, query or credential).
// Hydration calls it before it sends an API key anywhere: the URL comes
// from a vendor's request (SmartRecruiters' link) or from a source's
// configuration that someone other than the key's owner may edit (Lever's
// api_url), and the key must go to the vendor's API only.
func CheckOrigin(rawURL string, origins []string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%w: not an absolute URL", ErrOrigin)
	}
	origin := u.Scheme + "://" + u.Host
	for _, o := range origins {
		if strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return u, nil
		}
	}
	return nil, fmt.Errorf("%s is %w (%s); the API key is not sent there", origin, ErrOrigin, strings.Join(origins, ", "))
}

// MaxFetch is the largest vendor API response Fetch reads.
const MaxFetch = 4 << 20

// Fetch sends a hydration request (built by the vendor's package, with its
// credentials) and returns the body of a 2xx answer, at most MaxFetch
// bytes. Failures that may pass (network errors, timeouts, 408, 429, 5xx)
// wrap ErrHydrateTemporary, 404 and 410 wrap ErrHydrateGone, and 401 or
// 403 say the API key was refused; no error holds the key.
func Fetch(c *http.Client, req *http.Request) ([]byte, error) {
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		// Timeouts, refused connections, DNS, and a cancelled ctx: all
		// may pass, so the caller retries.
		return nil, fmt.Errorf("%w: %w", ErrHydrateTemporary, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w: status %d", ErrHydrateGone, resp.StatusCode)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("the API key was refused (status %d)", resp.StatusCode)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: status %d", ErrHydrateTemporary, resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fmt.Errorf("unexpected status %d", resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxFetch+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read response: %w", ErrHydrateTemporary, err)
	}
	if len(raw) > MaxFetch {
		return nil, fmt.Errorf("response exceeds %d bytes", MaxFetch)
	}
	return raw, nil
}
