package client

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
)

// EndpointCreateParams is a new endpoint. EventTypes are required, and
// URL for a webhook endpoint or Config for a broker endpoint (Kind).
type EndpointCreateParams struct {
	// Kind is the destination: "" or hirehook.KindHTTP for a webhook to
	// URL, or a broker kind (hirehook.KindKafka, KindRabbitMQ, KindNATS,
	// KindPubSub) configured by Config and Credentials. It cannot change
	// later.
	Kind string `json:"kind,omitempty"`
	// URL is where webhooks are POSTed: an absolute http:// or https:// URL.
	// Leave it empty for a broker kind: the hub sets it to the destination
	// as one line ("kafka://b1:9092/applications").
	URL string `json:"url,omitempty"`
	// Config is a broker kind's settings (brokers, topic, ...); the fields
	// of each kind are in hirehook.DestinationKinds and DestinationKinds.
	Config map[string]string `json:"config,omitempty"`
	// Credentials are a broker kind's secrets (username, password,
	// service_account_json, ...). They are write-only: the hub stores them
	// encrypted and every answer shows each name with hirehook.Masked.
	Credentials map[string]string `json:"credentials,omitempty"`
	// EventTypes are exact types ("placement.confirmed"), entity
	// wildcards ("placement.*") or "*".
	EventTypes  []string `json:"event_types"`
	Description string   `json:"description,omitempty"`
	// Headers are added to every webhook (an Authorization, a receiver's
	// token). Their values are write-only, like the signing secret: the
	// hub stores them encrypted and every answer, to any key, shows each
	// name with hirehook.Masked.
	Headers  map[string]string `json:"headers,omitempty"`
	Disabled bool              `json:"disabled,omitempty"`
	// Signing is "hmac" (the default, v1 with a whsec_ secret) or
	// "ed25519" (v1a; the answer carries the whpk_ public key).
	Signing string `json:"signing,omitempty"`
	// MaxConcurrency bounds the attempts in flight to the endpoint, 1 to
	// 256; 0 leaves the hub's default, 16.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// RateLimitPerSecond bounds the attempts started per second (above 0,
	// at most 10000); nil: no limit. Deliveries held back wait; they do
	// not fail.
	RateLimitPerSecond *float64 `json:"rate_limit_per_second,omitempty"`
	// Ordered delivers each subject's events (one candidate, one
	// application, ...) in ingest order.
	Ordered bool `json:"ordered,omitempty"`
	// Filter is a jq expression on the event envelope; the endpoint gets
	// an event only when it yields true:
	// `.type == "placement.confirmed" and .data.client.id == "acme"`.
	Filter string `json:"filter,omitempty"`
	// Transform is a jq expression whose output becomes the webhook body.
	Transform string `json:"transform,omitempty"`
	// Payload is "full" (the default) or "thin" (type, ids and a link to
	// the record).
	Payload string `json:"payload,omitempty"`
	// Redact lists envelope paths (".data.candidate.email") and presets
	// ("personal_data") removed before the filter, transform and send.
	Redact []string `json:"redact,omitempty"`
}

// EndpointUpdateParams changes an endpoint: nil fields are left as they
// are. new(value) makes the pointers: EndpointUpdateParams{Disabled: new(false)}.
// Headers replaces the custom headers: an empty, non-nil map removes them
// all, and a value of hirehook.Masked keeps that header's current value (so
// the Headers of an Endpoint as read may be sent back as they are).
//
// Config replaces a broker endpoint's whole config. Credentials changes
// only the names it holds: a value sets that credential, "" removes it and
// hirehook.Masked keeps it (so Credentials as read may be sent back). The
// kind cannot change.
type EndpointUpdateParams struct {
	URL         *string           `json:"url,omitempty"`
	Config      map[string]string `json:"config,omitzero"`
	Credentials map[string]string `json:"credentials,omitzero"`
	Description *string           `json:"description,omitempty"`
	EventTypes  []string          `json:"event_types,omitzero"`
	Headers     map[string]string `json:"headers,omitzero"`
	Disabled    *bool             `json:"disabled,omitempty"`
	// MaxConcurrency sets the attempts in flight to the endpoint, 1 to 256.
	MaxConcurrency *int `json:"max_concurrency,omitempty"`
	// RateLimitPerSecond sets the attempts started per second (above 0,
	// at most 10000). To remove the limit, set RemoveRateLimit instead.
	RateLimitPerSecond *float64 `json:"rate_limit_per_second,omitempty"`
	// RemoveRateLimit sends "rate_limit_per_second": null, which removes
	// the endpoint's rate limit. It excludes RateLimitPerSecond.
	RemoveRateLimit bool `json:"-"`
	// Ordered turns per-subject order on or off, for deliveries created
	// from then on.
	Ordered *bool `json:"ordered,omitempty"`
	// Filter, Transform and Payload replace the endpoint's; new("")
	// removes a filter or transform.
	Filter    *string `json:"filter,omitempty"`
	Transform *string `json:"transform,omitempty"`
	Payload   *string `json:"payload,omitempty"`
	// Redact replaces the redacted paths; an empty, non-nil slice removes
	// them all.
	Redact []string `json:"redact,omitzero"`
}

// MarshalJSON writes p as the PATCH body: RemoveRateLimit becomes an
// explicit null rate_limit_per_second (an absent field keeps the limit).
func (p EndpointUpdateParams) MarshalJSON() ([]byte, error) {
	type plain EndpointUpdateParams
	if !p.RemoveRateLimit {
		return json.Marshal(plain(p))
	}
	if p.RateLimitPerSecond != nil {
		return nil, errors.New("client: EndpointUpdateParams sets both RateLimitPerSecond and RemoveRateLimit")
	}
	return json.Marshal(struct {
		plain
		RateLimitPerSecond *float64 `json:"rate_limit_per_second"`
	}{plain: plain(p)})
}

// EndpointWithSecret is an endpoint with its current signing secret, as
// creation and rotation answer.
type EndpointWithSecret struct {
	hirehook.Endpoint
	// Secret is the signing secret, "whsec_…": give it to the receiver.
	Secret string `json:"secret"`
	// PublicKey is, for an ed25519 endpoint, the "whpk_…" key the receiver
	// verifies with (Secret is then empty).
	PublicKey string `json:"public_key"`
}

// UnmarshalJSON decodes the hub's answer, with the masked credentials
// (hirehook.Endpoint alone does not decode them: it never serialises them).
func (e *EndpointWithSecret) UnmarshalJSON(b []byte) error {
	type plain EndpointWithSecret
	var v struct {
		plain
		Credentials map[string]string `json:"credentials"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = EndpointWithSecret(v.plain)
	e.Credentials = v.Credentials
	return nil
}

// MarshalJSON writes e as the hub answers it: the credentials' names, each
// with hirehook.Masked, whatever their values.
func (e EndpointWithSecret) MarshalJSON() ([]byte, error) {
	type plain EndpointWithSecret
	return json.Marshal(struct {
		plain
		Credentials map[string]string `json:"credentials,omitempty"`
	}{plain: plain(e), Credentials: maskedValues(e.Credentials)})
}

// endpointJSON decodes an endpoint as the API answers it, with its
// credentials' names (each value hirehook.Masked) into Credentials.
type endpointJSON struct {
	hirehook.Endpoint
	Credentials map[string]string `json:"credentials"`
}

func (v endpointJSON) endpoint() hirehook.Endpoint {
	e := v.Endpoint
	e.Credentials = v.Credentials
	return e
}

// maskedValues returns m's names, each with hirehook.Masked; nil when m
// is empty.
func maskedValues(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k := range m {
		out[k] = hirehook.Masked
	}
	return out
}

// EndpointSecrets are the secrets an endpoint signs with.
type EndpointSecrets struct {
	// Secret is the current secret.
	Secret string `json:"secret"`
	// PublicKey is, for an ed25519 endpoint, the current "whpk_…" key.
	PublicKey string `json:"public_key"`
	// Previous lists older secrets that still sign, beside Secret, until
	// their ExpiresAt (24 h after a rotation).
	Previous []hirehook.Secret `json:"previous"`
}

// CreateEndpoint subscribes an endpoint (admin scope). Code invalid names
// the field (url, event_types[0], headers.X) when the params are wrong.
func (c *Client) CreateEndpoint(ctx context.Context, p EndpointCreateParams) (*EndpointWithSecret, error) {
	var out EndpointWithSecret
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/endpoints", in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListEndpoints returns one page of the tenant's endpoints (viewer scope).
//
// A broker endpoint's Credentials hold the names of its credentials, each
// with hirehook.Masked: their values are write-only.
func (c *Client) ListEndpoints(ctx context.Context, p ListParams) (*Page[hirehook.Endpoint], error) {
	var page Page[endpointJSON]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/endpoints", query: p.query(nil), out: &page}); err != nil {
		return nil, err
	}
	out := &Page[hirehook.Endpoint]{Data: make([]hirehook.Endpoint, len(page.Data)), HasMore: page.HasMore, NextAfter: page.NextAfter}
	for i, v := range page.Data {
		out.Data[i] = v.endpoint()
	}
	return out, nil
}

// AllEndpoints iterates over every endpoint, page by page.
func (c *Client) AllEndpoints(ctx context.Context, p ListParams) iter.Seq2[hirehook.Endpoint, error] {
	return all(p.After, func(after string) (*Page[hirehook.Endpoint], error) {
		p.After = after
		return c.ListEndpoints(ctx, p)
	})
}

// GetEndpoint returns an endpoint, without its secrets (viewer scope): the
// values of its headers and credentials are hirehook.Masked.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*hirehook.Endpoint, error) {
	var v endpointJSON
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/endpoints/" + seg(id), out: &v}); err != nil {
		return nil, err
	}
	out := v.endpoint()
	return &out, nil
}

// UpdateEndpoint changes an endpoint and returns it (admin scope). Code
// invalid names the field (config.topic, credentials.password, kind).
func (c *Client) UpdateEndpoint(ctx context.Context, id string, p EndpointUpdateParams) (*hirehook.Endpoint, error) {
	var v endpointJSON
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/endpoints/" + seg(id), in: p, out: &v}); err != nil {
		return nil, err
	}
	out := v.endpoint()
	return &out, nil
}

// DestinationKind is one kind of destination an endpoint may have, with
// the fields of its config and credentials, as DestinationKinds lists it.
type DestinationKind struct {
	// Name is the endpoint's Kind: "http", "kafka", "rabbitmq", "nats",
	// "gcp_pubsub".
	Name  string `json:"name"`
	Title string `json:"title"`
	// Config and Credentials are the fields of EndpointCreateParams.Config
	// and .Credentials; both are empty for http.
	Config      []DestinationField `json:"config"`
	Credentials []DestinationField `json:"credentials"`
}

// DestinationField is one field of a DestinationKind.
type DestinationField struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Help     string `json:"help"`
}

// DestinationKinds lists the kinds of destination the hub delivers to,
// http first, with their fields (viewer scope): what a form or a script
// needs to build an endpoint's Config and Credentials.
func (c *Client) DestinationKinds(ctx context.Context) ([]DestinationKind, error) {
	var out Page[DestinationKind]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/destination-kinds", out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// DeleteEndpoint deletes an endpoint; its unsent deliveries are cancelled
// (admin scope).
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/endpoints/" + seg(id)})
}

// RotateSecret gives an endpoint a new signing secret and returns it
// (admin scope). The previous secret keeps signing beside it for 24 hours,
// so receivers can switch without losing a webhook.
func (c *Client) RotateSecret(ctx context.Context, id string) (*EndpointWithSecret, error) {
	var out EndpointWithSecret
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/endpoints/" + seg(id) + "/rotate-secret", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EndpointSecret returns the secrets an endpoint signs with (admin scope).
func (c *Client) EndpointSecret(ctx context.Context, id string) (*EndpointSecrets, error) {
	var out EndpointSecrets
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/endpoints/" + seg(id) + "/secret", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// TestRouteParams is a route and the event to try it on: Event (an
// envelope as webhooks carry it) or EventID (a stored event).
type TestRouteParams struct {
	Filter    string          `json:"filter,omitempty"`
	Transform string          `json:"transform,omitempty"`
	Payload   string          `json:"payload,omitempty"`
	Redact    []string        `json:"redact,omitempty"`
	Event     json.RawMessage `json:"event,omitempty"`
	EventID   string          `json:"event_id,omitempty"`
}

// TestRouteResult is what an endpoint with the route would get.
type TestRouteResult struct {
	// Deliver reports whether the event would be delivered, with Body.
	Deliver bool `json:"deliver"`
	// Body is the exact JSON body that would be signed and sent.
	Body json.RawMessage `json:"body"`
	// Reason says why not.
	Reason string `json:"reason"`
	// Failed reports that the delivery would fail: the transform failed.
	Failed bool `json:"failed"`
}

// TestRoute runs a route on one event without saving or sending anything
// (admin scope). Code invalid names the field and, for a jq syntax error,
// the position.
func (c *Client) TestRoute(ctx context.Context, p TestRouteParams) (*TestRouteResult, error) {
	var out TestRouteResult
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/endpoints/test-route", in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EndpointTestResult is the test event TestEndpoint sent.
type EndpointTestResult struct {
	// EventID is the test event's id; EventType is "endpoint.tested".
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	// EndpointID is the endpoint tested, the only one the event goes to.
	EndpointID string `json:"endpoint_id"`
	// EventURL is the API path of the event with its delivery; GetEvent
	// with EventID reads the same.
	EventURL string `json:"event_url"`
}

// TestEndpoint sends an endpoint.tested event to the endpoint, and to no
// other, whatever its event types and filter, signed and delivered like
// any event, so its receiver can check that it gets webhooks and verifies
// them (admin scope). It returns once the event and its delivery are
// committed; follow the attempt with GetEvent. Code conflict if the
// endpoint is disabled (nothing is sent), not_found if there is none.
func (c *Client) TestEndpoint(ctx context.Context, endpointID string) (*EndpointTestResult, error) {
	var out EndpointTestResult
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/endpoints/" + seg(endpointID) + "/test", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Recover makes the endpoint's failed deliveries of events received from
// since (until until, exclusive; zero means now) due again, and returns how
// many (admin scope).
func (c *Client) Recover(ctx context.Context, endpointID string, since, until time.Time) (int, error) {
	in := struct {
		Since string `json:"since"`
		Until string `json:"until,omitempty"`
	}{Since: since.UTC().Format(time.RFC3339Nano)}
	if !until.IsZero() {
		in.Until = until.UTC().Format(time.RFC3339Nano)
	}
	var out struct {
		Recovered int `json:"recovered"`
	}
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/endpoints/" + seg(endpointID) + "/recover", in: in, out: &out})
	return out.Recovered, err
}

// BackfillParams are the arguments of Backfill.
type BackfillParams struct {
	// Entities are the entities whose records are sent, in this order
	// ("candidate", "placement", ...).
	Entities []string `json:"entities"`
	// Filter, if set, is a jq expression on each snapshot's envelope; only
	// records for which it yields true are sent.
	Filter string `json:"filter,omitempty"`
	// RatePerSecond is the most records a second (0: the hub's default,
	// hirehook.DefaultBackfillRate).
	RatePerSecond int `json:"rate_per_second,omitempty"`
}

// Backfill starts sending the current record of every matching entity to
// the endpoint, as <entity>.snapshot events, and returns the running
// backfill (admin scope). Follow its progress with GetBackfill.
func (c *Client) Backfill(ctx context.Context, endpointID string, p BackfillParams) (*hirehook.Backfill, error) {
	var out hirehook.Backfill
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/endpoints/" + seg(endpointID) + "/backfill", in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListBackfills returns the endpoint's backfills, newest first.
func (c *Client) ListBackfills(ctx context.Context, endpointID string) ([]*hirehook.Backfill, error) {
	var out Page[*hirehook.Backfill]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/endpoints/" + seg(endpointID) + "/backfills", out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetBackfill returns one backfill and its progress.
func (c *Client) GetBackfill(ctx context.Context, id string) (*hirehook.Backfill, error) {
	var out hirehook.Backfill
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/backfills/" + seg(id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelBackfill stops a running backfill (admin scope); what it sent
// stays sent. ECONFLICT if it is no longer running.
func (c *Client) CancelBackfill(ctx context.Context, id string) (*hirehook.Backfill, error) {
	var out hirehook.Backfill
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/backfills/" + seg(id) + "/cancel", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
