package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
	"github.com/hirehook/hirehook/route"
)

// EndpointInput is the body of POST /v1/endpoints and PATCH
// /v1/endpoints/{id} (where every field is optional).
type EndpointInput struct {
	URL         *string            `json:"url"`
	Description *string            `json:"description"`
	EventTypes  *[]string          `json:"event_types"`
	Headers     *map[string]string `json:"headers"`
	Disabled    *bool              `json:"disabled"`
	// Signing is "hmac" (default) or "ed25519"; only at creation.
	Signing *string `json:"signing"`
	// MaxConcurrency bounds the attempts in flight to the endpoint, 1 to
	// 256 (default 16). Raw so that a wrong type is a field error.
	MaxConcurrency json.RawMessage `json:"max_concurrency"`
	// RateLimitPerSecond bounds the attempts started per second: a number
	// above 0, at most 10000, or null for no limit (the default). Raw
	// because a PATCH tells null (remove the limit) from an absent field
	// (keep it): absent leaves it nil, null is the JSON literal null.
	RateLimitPerSecond json.RawMessage `json:"rate_limit_per_second"`
	// Ordered delivers each subject's events in ingest order (default
	// false); a change applies to deliveries created afterwards.
	Ordered *bool `json:"ordered"`
	// Filter is a jq expression on the event envelope; the endpoint gets
	// the event only when it yields true. "" removes it. Applies to events
	// ingested afterwards.
	Filter *string `json:"filter"`
	// Transform is a jq expression whose output becomes the body. ""
	// removes it.
	Transform *string `json:"transform"`
	// Payload is "full" (default) or "thin".
	Payload *string `json:"payload"`
	// Redact lists paths and presets ("personal_data") to remove.
	Redact *[]string `json:"redact"`
}

// routeSpec is the route of the routing fields present in in; absent ones
// are empty, which route.Compile accepts, so that each present field is
// checked on its own.
func (in *EndpointInput) routeSpec() route.Spec {
	var s route.Spec
	if in.Filter != nil {
		s.Filter = *in.Filter
	}
	if in.Transform != nil {
		s.Transform = *in.Transform
	}
	if in.Payload != nil {
		s.Payload = *in.Payload
	}
	if in.Redact != nil {
		s.Redact = *in.Redact
	}
	return s
}

// limits parses the isolation fields of in: conc is nil when
// max_concurrency is absent or null; rate is nil when rate_limit_per_second
// is absent, and a pointer to nil when it is null.
func (in *EndpointInput) limits() (conc *int, rate **float64, err error) {
	if len(in.MaxConcurrency) > 0 && string(in.MaxConcurrency) != "null" {
		var n int
		if json.Unmarshal(in.MaxConcurrency, &n) != nil || n < 1 || n > hirehook.MaxMaxConcurrency {
			return nil, nil, hirehook.FieldError("max_concurrency", "must be a whole number from 1 to %d", hirehook.MaxMaxConcurrency)
		}
		conc = &n
	}
	if len(in.RateLimitPerSecond) > 0 {
		var r *float64
		if string(in.RateLimitPerSecond) != "null" {
			var f float64
			if json.Unmarshal(in.RateLimitPerSecond, &f) != nil || !(f > 0) || f > hirehook.MaxRateLimitPerSecond {
				return nil, nil, hirehook.FieldError("rate_limit_per_second", "must be a number above 0 and at most %d, or null for no limit", hirehook.MaxRateLimitPerSecond)
			}
			r = &f
		}
		rate = &r
	}
	return conc, rate, nil
}

// EndpointWithSecret is the answer to a create or a rotation: the only
// answers that carry the signing secret, besides GET …/secret. An ed25519
// endpoint's answer carries its public key instead: its whsk_ private keys
// never leave the hub.
type EndpointWithSecret struct {
	*hirehook.Endpoint
	Secret    string `json:"secret,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// SecretView is the answer of GET /v1/endpoints/{id}/secret: the whsec_
// secret of an HMAC endpoint, the whpk_ public key of an ed25519 one.
type SecretView struct {
	Secret    string `json:"secret,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
	// Previous lists older secrets (public keys) that still sign until
	// their expiry.
	Previous []PreviousSecret `json:"previous"`
}

// PreviousSecret is an older secret of SecretView: Value for an HMAC
// endpoint, PublicKey for an ed25519 one.
type PreviousSecret struct {
	Value     string     `json:"value,omitempty"`
	PublicKey string     `json:"public_key,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// RotateInput is the optional body of POST /v1/endpoints/{id}/rotate-secret.
// Grace is a Go duration string ("24h", "90m", "0s") or a number of seconds.
type RotateInput struct {
	Grace json.RawMessage `json:"grace"`
}

// parseGrace reads RotateInput.Grace: absent or null is the default.
func parseGrace(raw json.RawMessage) (time.Duration, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return hirehook.SecretRotationGrace, nil
	}
	bad := hirehook.FieldError("grace", "must be a duration such as \"24h\" or a number of seconds, from 0 to 7 days (168h)")
	var d time.Duration
	var str string
	var secs float64
	switch {
	case json.Unmarshal(raw, &str) == nil:
		var err error
		if d, err = time.ParseDuration(strings.TrimSpace(str)); err != nil {
			return 0, bad
		}
	case json.Unmarshal(raw, &secs) == nil:
		if secs < 0 || secs > hirehook.MaxSecretRotationGrace.Seconds() {
			return 0, bad
		}
		d = time.Duration(secs * float64(time.Second))
	default:
		return 0, bad
	}
	if d < 0 || d > hirehook.MaxSecretRotationGrace {
		return 0, bad
	}
	return d, nil
}

// withSecret is the answer carrying an endpoint's newest secret or, for an
// ed25519 endpoint, its public key.
func withSecret(e *hirehook.Endpoint, secret string) (EndpointWithSecret, error) {
	e.Signing = hirehook.SigningOf(secret)
	if e.Signing != hirehook.SigningEd25519 {
		return EndpointWithSecret{Endpoint: e, Secret: secret}, nil
	}
	pub, err := hirehook.PublicKey(secret)
	if err != nil {
		return EndpointWithSecret{}, err
	}
	return EndpointWithSecret{Endpoint: e, PublicKey: pub}, nil
}

// maskHeaders hides the values of e's custom headers, which are write-only
// like its signing secrets: they often carry a receiver's credentials
// (Authorization, X-Api-Key, ...), and viewer keys read endpoints. Every
// answer shows the names, each with hirehook.Masked.
func maskHeaders(e *hirehook.Endpoint) *hirehook.Endpoint {
	masked := make(map[string]string, len(e.Headers))
	for k := range e.Headers {
		masked[k] = hirehook.Masked
	}
	e.Headers = masked
	return e
}

// keepMaskedHeaders resolves the headers of a PATCH against the endpoint's
// current ones: a value of hirehook.Masked keeps the current value of that
// header, so that what GET answers may be sent back as it is. A masked
// header the endpoint does not have is a field error.
func keepMaskedHeaders(in map[string]string, cur *hirehook.Endpoint) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if v == hirehook.Masked {
			old, ok := cur.Headers[k]
			if !ok {
				for name, val := range cur.Headers {
					if strings.EqualFold(name, k) {
						old, ok = val, true
					}
				}
			}
			if !ok {
				return nil, hirehook.FieldError("headers."+k, "is %q, which keeps a header's hidden value, but the endpoint has no header %q; send its value", hirehook.Masked, k)
			}
			v = old
		}
		out[k] = v
	}
	return out, nil
}

// reservedHeaders are set by the hub on every delivery; an endpoint may not
// override them.
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "User-Agent": true, "Host": true,
	"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
	"Connection": true, "Transfer-Encoding": true, "Te": true, "Upgrade": true,
}

// validate checks the fields that are present. create requires url and
// event_types.
func (h *Handler) validateEndpoint(in *EndpointInput, create bool) error {
	if create && in.URL == nil {
		return hirehook.FieldError("url", "is required")
	}
	if in.Signing != nil && *in.Signing != hirehook.SigningHMAC && *in.Signing != hirehook.SigningEd25519 {
		return hirehook.FieldError("signing", "must be \"hmac\" or \"ed25519\"")
	}
	if in.URL != nil {
		if err := hirehook.ValidateEndpointURL(*in.URL); err != nil {
			return err
		}
	}
	if in.Description != nil && len(*in.Description) > 1000 {
		return hirehook.FieldError("description", "must be at most 1000 characters")
	}
	if create && (in.EventTypes == nil || len(*in.EventTypes) == 0) {
		return hirehook.FieldError("event_types", "is required: list types such as \"placement.confirmed\", wildcards such as \"placement.*\", or \"*\"")
	}
	if in.EventTypes != nil {
		if len(*in.EventTypes) == 0 || len(*in.EventTypes) > 200 {
			return hirehook.FieldError("event_types", "must list 1 to 200 types or patterns")
		}
		for i, p := range *in.EventTypes {
			if err := h.validatePattern(p); err != nil {
				return hirehook.FieldError(fmt.Sprintf("event_types[%d]", i), "%s", err.Error())
			}
		}
	}
	if _, _, err := in.limits(); err != nil {
		return err
	}
	if in.Payload != nil && *in.Payload == "" {
		return hirehook.FieldError("payload", "must be %q or %q", hirehook.PayloadFull, hirehook.PayloadThin)
	}
	// The jq expressions are compiled when saved, so a syntax error is a
	// field error naming its position, never a failure at ingest.
	if _, err := route.CompileOptions(in.routeSpec(), h.routeOptions()); err != nil {
		return err
	}
	if in.Headers != nil {
		if len(*in.Headers) > 20 {
			return hirehook.FieldError("headers", "must hold at most 20 headers")
		}
		for k, v := range *in.Headers {
			canon := textproto.CanonicalMIMEHeaderKey(k)
			if !validHeaderName(k) {
				return hirehook.FieldError("headers", "%q is not a valid header name", k)
			}
			if reservedHeaders[canon] {
				return hirehook.FieldError("headers."+k, "is set by hirehook and cannot be overridden")
			}
			if len(v) > 4096 || strings.ContainsAny(v, "\r\n\x00") {
				return hirehook.FieldError("headers."+k, "must be at most 4096 characters on one line")
			}
			if create && v == hirehook.Masked {
				return hirehook.FieldError("headers."+k, "must be the header's value: %q stands for a value the hub hides", hirehook.Masked)
			}
		}
	}
	return nil
}

// setRouting sets the routing fields of a new endpoint from in (validated).
func setRouting(e *hirehook.Endpoint, in *EndpointInput) {
	e.Payload = hirehook.PayloadFull
	e.Redact = []string{}
	if in.Filter != nil {
		e.Filter = *in.Filter
	}
	if in.Transform != nil {
		e.Transform = *in.Transform
	}
	if in.Payload != nil {
		e.Payload = *in.Payload
	}
	if in.Redact != nil {
		e.Redact = *in.Redact
	}
}

func validHeaderName(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validatePattern accepts "*", a catalog type, or "<entity prefix>.*" that
// matches at least one catalog type.
func (h *Handler) validatePattern(p string) error {
	if !hirehook.ValidEventTypePattern(p) {
		return fmt.Errorf("%q is not an event type or pattern (\"placement.confirmed\", \"placement.*\", \"*\")", hirehook.Truncate(p, 64))
	}
	for _, t := range h.cfg.Catalog.Types() {
		if hirehook.MatchEventType(p, t.Name) {
			return nil
		}
	}
	return fmt.Errorf("%q matches no event type; GET /v1/event-types lists them", hirehook.Truncate(p, 64))
}

func (h *Handler) handleEndpointCreate(w http.ResponseWriter, r *http.Request) {
	var in EndpointInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := h.validateEndpoint(&in, true); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	secret := hirehook.NewSecret()
	if in.Signing != nil && *in.Signing == hirehook.SigningEd25519 {
		secret = hirehook.NewSigningKey()
	}
	e := &hirehook.Endpoint{
		TenantID:   tenantOf(r),
		ID:         hirehook.NewID("ep"),
		URL:        *in.URL,
		EventTypes: *in.EventTypes,
		Headers:    map[string]string{},
		Secrets:    []hirehook.Secret{{Value: secret, CreatedAt: now}},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	if in.Headers != nil {
		e.Headers = *in.Headers
	}
	if in.Disabled != nil {
		e.Disabled = *in.Disabled
	}
	if in.Ordered != nil {
		e.Ordered = *in.Ordered
	}
	setRouting(e, &in)
	conc, rate, _ := in.limits() // validated above
	e.MaxConcurrency = min(h.cfg.DefaultMaxConcurrency, hirehook.MaxMaxConcurrency)
	if conc != nil {
		e.MaxConcurrency = *conc
	}
	if rate != nil {
		e.RateLimitPerSecond = *rate
	}
	if err := h.store.EndpointCreate(r.Context(), e); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, e.TenantID, "endpoint.created", e.ID, map[string]any{"url": hirehook.RedactURL(e.URL), "event_types": e.EventTypes, "disabled": e.Disabled, "signing": e.SigningScheme(), "ordered": e.Ordered,
		"filter": e.Filter, "transform": e.Transform, "payload": e.Payload, "redact": e.Redact})
	ans, err := withSecret(maskHeaders(e), secret)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	w.Header().Set("Location", "/v1/endpoints/"+e.ID)
	writeJSON(w, http.StatusCreated, ans)
}

func (h *Handler) handleEndpointList(w http.ResponseWriter, r *http.Request) {
	after, limit, err := listQuery(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	eps, err := h.store.EndpointList(r.Context(), hirehook.EndpointFilter{TenantID: tenantOf(r), After: after, Limit: limit + 1})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	for _, e := range eps {
		e.Signing = e.SigningScheme()
		maskHeaders(e)
	}
	writeJSON(w, http.StatusOK, page(eps, limit, func(e *hirehook.Endpoint) string { return e.ID }))
}

func (h *Handler) handleEndpointGet(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.EndpointGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	e.Signing = e.SigningScheme()
	writeJSON(w, http.StatusOK, maskHeaders(e))
}

func (h *Handler) handleEndpointUpdate(w http.ResponseWriter, r *http.Request) {
	var in EndpointInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := h.validateEndpoint(&in, false); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	maskedHeader := false
	if in.Headers != nil {
		for _, v := range *in.Headers {
			maskedHeader = maskedHeader || v == hirehook.Masked
		}
	}
	if in.Signing != nil || maskedHeader {
		cur, err := h.store.EndpointGet(r.Context(), tenantOf(r), r.PathValue("id"))
		if err != nil {
			Error(w, r, h.logger, err)
			return
		}
		if maskedHeader {
			headers, err := keepMaskedHeaders(*in.Headers, cur)
			if err != nil {
				Error(w, r, h.logger, err)
				return
			}
			in.Headers = &headers
		}
		// The scheme is fixed at creation; sending the current one is fine.
		if in.Signing != nil && *in.Signing != cur.SigningScheme() {
			Error(w, r, h.logger, hirehook.FieldError("signing", "cannot be changed after creation; create a new endpoint (POST /v1/endpoints/{id}/rotate-secret replaces keys of the same scheme)"))
			return
		}
	}
	conc, rate, _ := in.limits() // validated above
	u := hirehook.EndpointUpdate{URL: in.URL, Description: in.Description, EventTypes: in.EventTypes, Headers: in.Headers, Disabled: in.Disabled,
		MaxConcurrency: conc, RateLimitPerSecond: rate, Ordered: in.Ordered, Now: h.cfg.NowFunc(),
		Filter: in.Filter, Transform: in.Transform, Payload: in.Payload, Redact: in.Redact}
	e, err := h.store.EndpointUpdate(r.Context(), tenantOf(r), r.PathValue("id"), u)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if in.Disabled != nil && !*in.Disabled {
		h.cfg.Notify() // its waiting deliveries may be claimed again
	}
	changed := map[string]any{}
	if in.URL != nil {
		changed["url"] = hirehook.RedactURL(*in.URL)
	}
	if in.EventTypes != nil {
		changed["event_types"] = *in.EventTypes
	}
	if in.Disabled != nil {
		changed["disabled"] = *in.Disabled
	}
	if in.Headers != nil {
		changed["headers"] = "changed"
	}
	if in.Description != nil {
		changed["description"] = "changed"
	}
	if conc != nil {
		changed["max_concurrency"] = *conc
	}
	if rate != nil {
		changed["rate_limit_per_second"] = *rate
	}
	if in.Ordered != nil {
		changed["ordered"] = *in.Ordered
	}
	// The expressions and paths are configuration, not personal data: the
	// audit log keeps them as they were set, to tell who routed what where.
	if in.Filter != nil {
		changed["filter"] = *in.Filter
	}
	if in.Transform != nil {
		changed["transform"] = *in.Transform
	}
	if in.Payload != nil {
		changed["payload"] = *in.Payload
	}
	if in.Redact != nil {
		changed["redact"] = *in.Redact
	}
	h.audit(r, e.TenantID, "endpoint.updated", e.ID, changed)
	e.Signing = e.SigningScheme()
	writeJSON(w, http.StatusOK, maskHeaders(e))
}

func (h *Handler) handleEndpointDelete(w http.ResponseWriter, r *http.Request) {
	if err := h.store.EndpointDelete(r.Context(), tenantOf(r), r.PathValue("id")); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, tenantOf(r), "endpoint.deleted", r.PathValue("id"), nil)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) handleEndpointSecret(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.EndpointGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	now := h.cfg.NowFunc()
	ed := e.SigningScheme() == hirehook.SigningEd25519
	// public returns what may leave the hub: a whsec_ secret as it is, the
	// public half of a whsk_ key.
	public := func(s string) (string, error) {
		if hirehook.SigningOf(s) == hirehook.SigningEd25519 {
			return hirehook.PublicKey(s)
		}
		return s, nil
	}
	cur, err := public(e.Secrets[0].Value)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	v := SecretView{Previous: []PreviousSecret{}}
	if ed {
		v.PublicKey = cur
	} else {
		v.Secret = cur
	}
	for _, s := range e.Secrets[1:] {
		if s.ExpiresAt != nil && now.Before(*s.ExpiresAt) {
			val, err := public(s.Value)
			if err != nil {
				Error(w, r, h.logger, err)
				return
			}
			p := PreviousSecret{CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}
			if hirehook.SigningOf(s.Value) == hirehook.SigningEd25519 {
				p.PublicKey = val
			} else {
				p.Value = val
			}
			v.Previous = append(v.Previous, p)
		}
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *Handler) handleEndpointRotateSecret(w http.ResponseWriter, r *http.Request) {
	// The body is optional: none (or an empty one) rotates with the default
	// grace.
	var in RotateInput
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		Error(w, r, h.logger, decodeError(err, h.cfg.MaxBodyBytes))
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeValue(body, &in); err != nil {
			Error(w, r, h.logger, err)
			return
		}
	}
	grace, err := parseGrace(in.Grace)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	e, err := h.store.EndpointGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	secrets, until := hirehook.RotateSecrets(e.Secrets, h.cfg.NowFunc().UTC().Truncate(time.Microsecond), grace)
	e, err = h.store.EndpointSetSecrets(r.Context(), tenantOf(r), e.ID, secrets)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, e.TenantID, "endpoint.secret_rotated", e.ID, map[string]any{"previous_expires_at": until, "grace": grace.String()})
	ans, err := withSecret(maskHeaders(e), secrets[0].Value)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// RecoverInput is the body of POST /v1/endpoints/{id}/recover.
type RecoverInput struct {
	Since string `json:"since"`
	Until string `json:"until,omitempty"`
}

// RecoverAccepted answers a recover: how many failed deliveries are due again.
type RecoverAccepted struct {
	Recovered int `json:"recovered"`
}

func (h *Handler) handleEndpointRecover(w http.ResponseWriter, r *http.Request) {
	var in RecoverInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if in.Since == "" {
		Error(w, r, h.logger, hirehook.FieldError("since", "is required: an RFC 3339 time such as 2026-11-27T00:00:00Z"))
		return
	}
	since, err := time.Parse(time.RFC3339Nano, in.Since)
	if err != nil {
		Error(w, r, h.logger, hirehook.FieldError("since", "must be an RFC 3339 time such as 2026-11-27T00:00:00Z"))
		return
	}
	var until time.Time
	if in.Until != "" {
		if until, err = time.Parse(time.RFC3339Nano, in.Until); err != nil {
			Error(w, r, h.logger, hirehook.FieldError("until", "must be an RFC 3339 time such as 2026-11-28T00:00:00Z"))
			return
		}
		if !until.After(since) {
			Error(w, r, h.logger, hirehook.FieldError("until", "must be after since"))
			return
		}
	}
	n, err := h.store.DeliveryRecover(r.Context(), hirehook.DeliveryRecoverParams{
		TenantID: tenantOf(r), EndpointID: r.PathValue("id"), Since: since, Until: until, Now: h.cfg.NowFunc(),
	})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if n > 0 {
		h.cfg.Notify()
	}
	h.audit(r, tenantOf(r), "endpoint.recovered", r.PathValue("id"), map[string]any{"since": since, "until": in.Until, "recovered": n})
	writeJSON(w, http.StatusAccepted, RecoverAccepted{Recovered: n})
}

// handleEndpointTest sends a test event to the endpoint only, through
// ops.EndpointTests, the operation the dashboard's button runs too.
func (h *Handler) handleEndpointTest(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Ingester == nil {
		Error(w, r, h.logger, hirehook.Errorf(hirehook.EUNAVAILABLE, "This hub takes no events."))
		return
	}
	tests := ops.EndpointTests{Store: h.store, Ingester: h.cfg.Ingester, NowFunc: h.cfg.NowFunc, Logger: h.logger}
	res, err := tests.Send(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, res)
}
