package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// EndpointInput is the body of POST /v1/endpoints and PATCH
// /v1/endpoints/{id} (where every field is optional).
type EndpointInput struct {
	// Kind is "http" (default), "kafka", "rabbitmq", "nats" or
	// "gcp_pubsub"; only at creation.
	Kind *string `json:"kind"`
	// URL is a webhook endpoint's (required for kind http, refused for a
	// broker kind, whose url the hub sets from its config).
	URL *string `json:"url"`
	// Config is a broker kind's settings (see GET /v1/destination-kinds);
	// an update replaces the whole object.
	Config *map[string]string `json:"config"`
	// Credentials are a broker kind's secrets, write-only: an update sets
	// the fields given (a "********" value keeps one, "" removes one).
	Credentials *map[string]string `json:"credentials"`

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

// input translates in into the operation's input. A limit of the wrong
// JSON type becomes a value out of range, so that the operation's check
// answers it with the same field error as any other wrong value.
func (in *EndpointInput) input() ops.EndpointInput {
	o := ops.EndpointInput{Kind: in.Kind, URL: in.URL, Config: in.Config, Credentials: in.Credentials, Description: in.Description, EventTypes: in.EventTypes, Headers: in.Headers,
		Disabled: in.Disabled, Signing: in.Signing, Ordered: in.Ordered,
		Filter: in.Filter, Transform: in.Transform, Payload: in.Payload, Redact: in.Redact}
	if len(in.MaxConcurrency) > 0 && string(in.MaxConcurrency) != "null" {
		n := -1
		if json.Unmarshal(in.MaxConcurrency, &n) != nil {
			n = -1
		}
		o.MaxConcurrency = &n
	}
	if len(in.RateLimitPerSecond) > 0 {
		var r *float64 // null: no limit
		if string(in.RateLimitPerSecond) != "null" {
			f := -1.0
			if json.Unmarshal(in.RateLimitPerSecond, &f) != nil {
				f = -1
			}
			r = &f
		}
		o.RateLimitPerSecond = &r
	}
	return o
}

// EndpointWithSecret is the answer to a create or a rotation: the only
// answers that carry the signing secret, besides GET …/secret. An ed25519
// endpoint's answer carries its public key instead: its whsk_ private keys
// never leave the hub.
type EndpointWithSecret struct {
	EndpointView
	Secret    string `json:"secret,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
}

// EndpointView is an endpoint as the API answers it: its custom headers'
// values and a broker endpoint's credentials masked (hirehook.Masked), as
// both are write-only; the names show what is set.
type EndpointView struct {
	*hirehook.Endpoint
	Credentials map[string]string `json:"credentials,omitempty"`
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
func withSecret(e EndpointView, secret string) (EndpointWithSecret, error) {
	e.Signing = hirehook.SigningOf(secret)
	if e.Signing != hirehook.SigningEd25519 {
		return EndpointWithSecret{EndpointView: e, Secret: secret}, nil
	}
	pub, err := hirehook.PublicKey(secret)
	if err != nil {
		return EndpointWithSecret{}, err
	}
	return EndpointWithSecret{EndpointView: e, PublicKey: pub}, nil
}

// view hides the values of e's custom headers and credentials, which are
// write-only like its signing secrets: headers often carry a receiver's
// credentials (Authorization, X-Api-Key, ...), and viewer keys read
// endpoints. Every answer shows the names, each with hirehook.Masked.
func view(e *hirehook.Endpoint) EndpointView {
	e.Headers = masked(e.Headers)
	if e.Kind != "" && e.Kind != hirehook.KindHTTP {
		e.URL = e.Target() // the destination as one line, made from the config
	}
	v := EndpointView{Endpoint: e}
	if len(e.Credentials) > 0 {
		v.Credentials = masked(e.Credentials)
	}
	e.Credentials = nil
	return v
}

func masked(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k := range m {
		out[k] = hirehook.Masked
	}
	return out
}

func (h *Handler) handleEndpointCreate(w http.ResponseWriter, r *http.Request) {
	var in EndpointInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	e, secret, err := h.endpoints().EndpointCreate(r.Context(), actor(r), in.input())
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	ans, err := withSecret(view(e), secret)
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
	views := make([]EndpointView, len(eps))
	for i, e := range eps {
		e.Signing = e.SigningScheme()
		views[i] = view(e)
	}
	writeJSON(w, http.StatusOK, page(views, limit, func(e EndpointView) string { return e.ID }))
}

func (h *Handler) handleEndpointGet(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.EndpointGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	e.Signing = e.SigningScheme()
	writeJSON(w, http.StatusOK, view(e))
}

func (h *Handler) handleEndpointUpdate(w http.ResponseWriter, r *http.Request) {
	var in EndpointInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	e, err := h.endpoints().EndpointUpdate(r.Context(), actor(r), r.PathValue("id"), in.input())
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	e.Signing = e.SigningScheme()
	writeJSON(w, http.StatusOK, view(e))
}

func (h *Handler) handleEndpointDelete(w http.ResponseWriter, r *http.Request) {
	if err := h.endpoints().EndpointDelete(r.Context(), actor(r), r.PathValue("id")); err != nil {
		Error(w, r, h.logger, err)
		return
	}
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
	e, secret, err := h.endpoints().EndpointRotateSecret(r.Context(), actor(r), r.PathValue("id"), grace)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	ans, err := withSecret(view(e), secret)
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
	}
	n, err := h.deliveries().DeliveryRecover(r.Context(), actor(r), r.PathValue("id"), since, until)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, RecoverAccepted{Recovered: n})
}

// handleEndpointTest sends a test event to the endpoint only, through
// ops.EndpointTests, the operation the dashboard's button runs too.
func (h *Handler) handleEndpointTest(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Ingester == nil {
		Error(w, r, h.logger, hirehook.Errorf(hirehook.EUNAVAILABLE, "This hub takes no events."))
		return
	}
	res, err := h.endpointTests().Send(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, res)
}
