package generic

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/push"
)

// System is the source of events from a generic sender; Options.Tenant
// names the sender in external_refs.
const System = "generic"

// VerifyStandard checks a Standard Webhooks request (webhook-id,
// webhook-timestamp, webhook-signature "v1,<base64>" over id.timestamp.body,
// whsec_ secrets, or whpk_ keys for v1a) with hirehook.Verify, the
// timestamp within 5 minutes of now. Errors are *push.VerifyError
// wrapping the push sentinel that matches hirehook's; a bad secret keeps
// hirehook's own error (ErrInvalidSecret, ErrInvalidPublicKey, ...).
func VerifyStandard(h http.Header, body []byte, now time.Time, secrets ...string) error {
	err := hirehook.Verify(h, body, now, secrets...)
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, hirehook.ErrEmptySecret):
		err = push.ErrNoSecret
	case errors.Is(err, hirehook.ErrMissingHeaders):
		err = push.ErrMissingSignature
	case errors.Is(err, hirehook.ErrInvalidTimestamp):
		err = push.ErrInvalidTimestamp
	case errors.Is(err, hirehook.ErrTimestampTooOld):
		err = push.ErrTimestampTooOld
	case errors.Is(err, hirehook.ErrTimestampTooNew):
		err = push.ErrTimestampTooNew
	case errors.Is(err, hirehook.ErrNoMatchingSignature):
		err = push.ErrMismatch
	}
	return &push.VerifyError{System: System, Header: hirehook.HeaderWebhookSignature, Err: err}
}

// HMACConfig describes a plain body-HMAC scheme, for senders that sign the
// raw body alone (as Greenhouse, Ashby, JazzHR, Recruitee and Merge do),
// e.g. {Header: "X-Signature", Prefix: "sha256="}.
type HMACConfig struct {
	// Header holds the signature. Required.
	Header string
	// Algorithm is the HMAC hash: "sha256" (the default and, per the
	// reference, the only one ATS vendors use; others are refused).
	Algorithm string
	// Encoding of the signature: "hex" (default, either case) or
	// "base64" (standard or URL alphabet, padded or not).
	Encoding string
	// Prefix is stripped from the header value before decoding, e.g.
	// "sha256=" or "sha256 ". A header without it is malformed.
	Prefix string
}

// Validate reports an unusable configuration.
func (c HMACConfig) Validate() error {
	if strings.TrimSpace(c.Header) == "" {
		return fmt.Errorf("hmac header: %w", push.ErrUnsupportedConfig)
	}
	if c.Algorithm != "" && c.Algorithm != "sha256" {
		return fmt.Errorf("hmac algorithm %q: %w", c.Algorithm, push.ErrUnsupportedConfig)
	}
	if c.Encoding != "" && c.Encoding != "hex" && c.Encoding != "base64" {
		return fmt.Errorf("hmac encoding %q: %w", c.Encoding, push.ErrUnsupportedConfig)
	}
	return nil
}

// Verify checks that c.Header holds the HMAC of the raw body under any of
// secrets, compared in constant time. There is no timestamp, so no replay
// window: dedupe on the body.
func (c HMACConfig) Verify(h http.Header, body []byte, secrets ...string) error {
	fail := func(err error) error {
		return &push.VerifyError{System: System, Header: c.Header, Err: err}
	}
	if err := c.Validate(); err != nil {
		return fail(err)
	}
	if len(secrets) == 0 {
		return fail(push.ErrNoSecret)
	}
	raw := strings.TrimSpace(h.Get(c.Header))
	if raw == "" {
		return fail(push.ErrMissingSignature)
	}
	v, ok := strings.CutPrefix(raw, c.Prefix)
	if !ok {
		return fail(push.ErrMalformed)
	}
	got, err := c.decode(strings.TrimSpace(v))
	if err != nil || len(got) != sha256.Size {
		return fail(push.ErrMalformed)
	}
	for _, s := range secrets {
		if s != "" && hmac.Equal(got, push.HMACSHA256([]byte(s), body)) {
			return nil
		}
	}
	return fail(push.ErrMismatch)
}

func (c HMACConfig) decode(s string) ([]byte, error) {
	if c.Encoding != "base64" {
		return hex.DecodeString(s)
	}
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// Sign returns the header value c expects for body. For tests and
// simulators.
func (c HMACConfig) Sign(secret string, body []byte) string {
	sum := push.HMACSHA256([]byte(secret), body)
	if c.Encoding == "base64" {
		return c.Prefix + base64.StdEncoding.EncodeToString(sum)
	}
	return c.Prefix + hex.EncodeToString(sum)
}

// DedupKey returns the key to deduplicate a request on, from what the
// sender signed only. With Standard Webhooks (standard true) the
// webhook-id header is signed with the timestamp and body:
// "webhook-id:<id>". With a plain body HMAC only the body is signed, so a
// webhook-id header (which anyone may change on a replay) is ignored:
// "id:" and the body's "id" member, else "sha256:" and the hex SHA-256 of
// the body.
func DedupKey(h http.Header, body []byte, standard bool) string {
	if id := h.Get(hirehook.HeaderWebhookID); standard && id != "" {
		return "webhook-id:" + id
	}
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &m) == nil {
		var s string
		if json.Unmarshal(m.ID, &s) == nil && s != "" {
			return "id:" + s
		}
		var n json.Number
		if json.Unmarshal(m.ID, &n) == nil && n != "" {
			return "id:" + n.String()
		}
	}
	return push.BodyKey(body)
}

// Parse maps a verified generic webhook onto the catalog. The body is the
// Standard Webhooks payload shape with a catalog type:
//
//	{"type": "application.hired", "timestamp": "<RFC 3339>", "data": {"id": …, …}}
//
// data must pass the catalog's schema for type; external_refs is added
// (system "generic", tenant Options.Tenant, the data's id) when data has
// none. key is the request's dedupe key (DedupKey). A type the catalog
// lacks, or one only the hub may emit (snapshots, endpoint.*, delivery.*),
// is Unsupported.
func Parse(key string, h http.Header, body []byte, opts push.Options) (*push.Result, error) {
	res := &push.Result{System: System, DedupeKey: key}
	m, err := push.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", System, err)
	}
	if res.DedupeKey == "" {
		res.DedupeKey = DedupKey(h, body, false)
	}
	typ := push.Str(m, "type")
	res.VendorEvent = typ
	if typ == "" {
		return nil, fmt.Errorf("%s: body has no type", System)
	}
	cat := opts.Catalog
	if cat == nil {
		cat = catalog.Default()
	}
	if _, ok := cat.Lookup(typ); !ok || catalog.HubOnly(typ) {
		res.Unsupported = true
		res.Reason = fmt.Sprintf("generic event type %q is not a catalog type a sender may emit", typ)
		return res, nil
	}
	data := push.Map(m, "data")
	if data == nil {
		return nil, fmt.Errorf("%s: body has no data object", System)
	}
	if _, ok := data["external_refs"]; !ok {
		if id := push.Str(data, "id"); id != "" {
			b := &push.Builder{System: System, Options: opts}
			data["external_refs"] = b.Ref(id)
		}
	}
	occurred, _ := time.Parse(time.RFC3339, push.Str(m, "timestamp"))
	if occurred.IsZero() {
		if ts, err := strconv.ParseInt(h.Get(hirehook.HeaderWebhookTimestamp), 10, 64); err == nil {
			occurred = time.Unix(ts, 0)
		}
	}
	b := &push.Builder{System: System, Key: res.DedupeKey, Options: opts}
	ev, err := b.Event(typ, data, occurred, false)
	if err != nil {
		return nil, err
	}
	res.Events = append(res.Events, ev)
	return res, nil
}
