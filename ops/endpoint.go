package ops

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/route"
)

// EndpointStore is what the endpoint operations need of the Store.
type EndpointStore interface {
	AuditStore
	EndpointCreate(ctx context.Context, e *hirehook.Endpoint) error
	EndpointGet(ctx context.Context, tenantID, id string) (*hirehook.Endpoint, error)
	EndpointUpdate(ctx context.Context, tenantID, id string, u hirehook.EndpointUpdate) (*hirehook.Endpoint, error)
	EndpointSetSecrets(ctx context.Context, tenantID, id string, secrets []hirehook.Secret) (*hirehook.Endpoint, error)
	EndpointDelete(ctx context.Context, tenantID, id string) error
}

// EndpointInput is what a person gives to create an endpoint
// (EndpointCreate, where URL and EventTypes are required) or to change
// one (EndpointUpdate, where every field is optional and a nil one is
// left as it is). The JSON API decodes its body into it; the dashboard
// fills it from its form.
type EndpointInput struct {
	// Kind is the destination kind, hirehook.KindHTTP (the default) or a
	// broker kind; chosen at creation, and an update may only repeat it.
	Kind *string
	// URL is a webhook endpoint's; a broker endpoint's is set by the hub.
	URL *string
	// Config replaces a broker endpoint's config (every field: send the
	// whole object).
	Config *map[string]string
	// Credentials sets a broker endpoint's credentials. In an update, the
	// fields given are set and the others kept; an empty value removes
	// one. They are write-only: reads show only their names.
	Credentials *map[string]string
	Description *string
	EventTypes  *[]string
	// Headers are custom headers sent with every delivery. In an update,
	// a value of hirehook.Masked keeps that header's current value.
	Headers  *map[string]string
	Disabled *bool
	// Signing is hirehook.SigningHMAC (the default) or
	// hirehook.SigningEd25519; it is chosen at creation, and an update
	// may only repeat it.
	Signing        *string
	MaxConcurrency *int
	// RateLimitPerSecond is nil to leave the limit as it is (at creation:
	// none), a pointer to nil for no limit.
	RateLimitPerSecond **float64
	Ordered            *bool
	Filter             *string
	Transform          *string
	Payload            *string
	Redact             *[]string
}

// update is in as a store update.
func (in *EndpointInput) update() hirehook.EndpointUpdate {
	return hirehook.EndpointUpdate{URL: in.URL, Description: in.Description, EventTypes: in.EventTypes, Headers: in.Headers,
		Disabled: in.Disabled, MaxConcurrency: in.MaxConcurrency, RateLimitPerSecond: in.RateLimitPerSecond, Ordered: in.Ordered,
		Filter: in.Filter, Transform: in.Transform, Payload: in.Payload, Redact: in.Redact}
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

// Endpoints are the operations on a tenant's endpoints: create, change
// (including enable and disable), delete and rotate the signing secret.
// Each needs an admin-scoped actor, validates (the domain rules are
// (*hirehook.Endpoint).Validate and hirehook.EndpointUpdate.Validate; the
// catalog and the jq expressions are checked here), stores, wakes the
// dispatcher where deliveries may have become due, and writes one audit
// entry: endpoint.created, endpoint.updated, endpoint.deleted or
// endpoint.secret_rotated.
type Endpoints struct {
	Store EndpointStore
	// Catalog holds the event types an endpoint's patterns must match
	// (catalog.Default()).
	Catalog *catalog.Catalog
	// Route are the options the filter and transform are compiled with.
	Route route.Options
	// DefaultMaxConcurrency is the max_concurrency of an endpoint created
	// without one; 0 leaves it unset (the dispatcher's own limit).
	DefaultMaxConcurrency int
	// NotifyFunc, if set, wakes the dispatcher after an endpoint was enabled.
	NotifyFunc func()
	NowFunc    func() time.Time
	Logger     *slog.Logger
}

func (s *Endpoints) auditor() auditor {
	return auditor{store: s.Store, nowFunc: s.NowFunc, logger: s.Logger}
}

// PatternError returns why an event-type pattern cannot be saved (not a
// pattern, or it matches no type of the catalog), nil when it can. The
// error is not an *hirehook.Error: callers name the field.
func PatternError(c *catalog.Catalog, p string) error {
	if !hirehook.ValidEventTypePattern(p) {
		return fmt.Errorf("%q is not an event type or pattern (\"placement.confirmed\", \"placement.*\", \"*\")", hirehook.Truncate(p, 64))
	}
	for _, t := range c.Types() {
		if hirehook.MatchEventType(p, t.Name) {
			return nil
		}
	}
	return fmt.Errorf("%q matches no event type; GET /v1/event-types lists them", hirehook.Truncate(p, 64))
}

// check runs the checks that need the hub: each pattern matches a type of
// the catalog, and the jq expressions compile (a syntax error is a field
// error naming its position, never a failure at ingest).
func (s *Endpoints) check(in *EndpointInput) error {
	if in.EventTypes != nil {
		for i, p := range *in.EventTypes {
			if err := PatternError(catalogOr(s.Catalog), p); err != nil {
				return hirehook.FieldError(fmt.Sprintf("event_types[%d]", i), "%s", err.Error())
			}
		}
	}
	opts := s.Route
	if opts.Catalog == nil {
		opts.Catalog = catalogOr(s.Catalog)
	}
	_, err := route.CompileOptions(in.routeSpec(), opts)
	return err
}

func validateSigning(signing *string) error {
	if signing != nil && *signing != hirehook.SigningHMAC && *signing != hirehook.SigningEd25519 {
		return hirehook.FieldError("signing", "must be \"hmac\" or \"ed25519\"")
	}
	return nil
}

// EndpointCreate creates an endpoint in the actor's tenant with a new
// signing secret of its scheme, which it returns beside the endpoint: the
// only time the secret (for ed25519, the private key, which the caller
// turns into its public key) is handed out. Errors: EFORBIDDEN, EINVALID
// naming the field, ECONFLICT.
func (s *Endpoints) EndpointCreate(ctx context.Context, a Actor, in EndpointInput) (*hirehook.Endpoint, string, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, "", err
	}
	if err := validateSigning(in.Signing); err != nil {
		return nil, "", err
	}
	e := &hirehook.Endpoint{
		TenantID:       a.TenantID,
		ID:             hirehook.NewID("ep"),
		Headers:        map[string]string{},
		Payload:        hirehook.PayloadFull,
		Redact:         []string{},
		MaxConcurrency: min(s.DefaultMaxConcurrency, hirehook.MaxMaxConcurrency),
	}
	if err := s.destination(e, &in); err != nil {
		return nil, "", err
	}
	set(&e.URL, in.URL)
	set(&e.Description, in.Description)
	if (in.URL == nil && e.Kind == hirehook.KindHTTP) || in.EventTypes == nil || len(*in.EventTypes) == 0 {
		return nil, "", e.Validate() // url or event_types is required, or the URL's or the description's error
	}
	// Each field set, as an update checks it (an explicit 0 or "" is
	// wrong, where the endpoint would read it as unset), then the
	// catalog and the expressions, then the endpoint as a whole.
	u := in.update()
	if err := u.Validate(); err != nil {
		return nil, "", err
	}
	if err := s.check(&in); err != nil {
		return nil, "", err
	}
	now := now(s.NowFunc).UTC().Truncate(time.Microsecond)
	secret := hirehook.NewSecret()
	if in.Signing != nil && *in.Signing == hirehook.SigningEd25519 {
		secret = hirehook.NewSigningKey()
	}
	e.Secrets = []hirehook.Secret{{Value: secret, CreatedAt: now}}
	e.CreatedAt, e.UpdatedAt = now, now
	set(&e.EventTypes, in.EventTypes)
	set(&e.Headers, in.Headers)
	set(&e.Disabled, in.Disabled)
	set(&e.Ordered, in.Ordered)
	set(&e.Filter, in.Filter)
	set(&e.Transform, in.Transform)
	set(&e.Payload, in.Payload)
	set(&e.Redact, in.Redact)
	set(&e.MaxConcurrency, in.MaxConcurrency)
	set(&e.RateLimitPerSecond, in.RateLimitPerSecond)
	if err := e.Validate(); err != nil {
		return nil, "", err
	}
	if err := s.Store.EndpointCreate(ctx, e); err != nil {
		return nil, "", err
	}
	details := map[string]any{"url": e.Target(), "event_types": e.EventTypes,
		"disabled": e.Disabled, "signing": e.SigningScheme(), "ordered": e.Ordered,
		"filter": e.Filter, "transform": e.Transform, "payload": e.Payload, "redact": e.Redact}
	if e.Kind != hirehook.KindHTTP {
		details["kind"], details["config"], details["credentials"] = e.Kind, e.Config, credentialNames(e.Credentials)
	}
	s.auditor().audit(ctx, a, "endpoint.created", e.ID, details)
	return e, secret, nil
}

// destination sets a new endpoint's kind, and for a broker kind its config
// and its credentials, from in.
// e.Validate checks the whole endpoint afterwards.
func (s *Endpoints) destination(e *hirehook.Endpoint, in *EndpointInput) error {
	e.Kind = hirehook.KindHTTP
	if in.Kind != nil && *in.Kind != "" {
		e.Kind = *in.Kind
	}
	set(&e.Config, in.Config)
	if in.Credentials != nil {
		e.Credentials = withoutEmpty(*in.Credentials)
	}
	if e.Kind == hirehook.KindHTTP {
		return nil // e.Validate refuses config or credentials
	}
	k, ok := hirehook.LookupDestinationKind(e.Kind)
	if !ok {
		return hirehook.FieldError("kind", "must be one of %s", strings.Join(hirehook.DestinationKindNames(), ", "))
	}
	if in.URL != nil {
		return hirehook.FieldError("url", "is for a webhook endpoint; a %s endpoint is configured by config (its url is set by the hub)", k.Name)
	}
	return hirehook.ValidateDestination(k.Name, e.Config, e.Credentials)
}

// withoutEmpty returns m without its empty values (nil when none is left).
func withoutEmpty(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if v != "" {
			if out == nil {
				out = make(map[string]string, len(m))
			}
			out[k] = v
		}
	}
	return out
}

// credentialNames lists the names of the credentials set, for reads and
// audit entries (never their values).
func credentialNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// set sets *dst to *v when v is not nil.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// EndpointUpdate changes endpoint id of the actor's tenant: the fields of
// in that are set. A header sent as hirehook.Masked keeps its value; the
// signing scheme cannot change. Enabling an endpoint wakes the dispatcher,
// as its waiting deliveries may be claimed again. The audit entry lists
// the fields changed; the description's and headers' values are left out
// ("changed"), as headers often carry a receiver's credentials. Errors:
// EFORBIDDEN, EINVALID naming the field, ENOTFOUND.
func (s *Endpoints) EndpointUpdate(ctx context.Context, a Actor, id string, in EndpointInput) (*hirehook.Endpoint, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, err
	}
	if err := validateSigning(in.Signing); err != nil {
		return nil, err
	}
	u := in.update()
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if err := s.check(&in); err != nil {
		return nil, err
	}
	maskedHeader := false
	if in.Headers != nil {
		for _, v := range *in.Headers {
			maskedHeader = maskedHeader || v == hirehook.Masked
		}
	}
	if in.Signing != nil || maskedHeader || in.Kind != nil || in.Config != nil || in.Credentials != nil || in.URL != nil {
		cur, err := s.Store.EndpointGet(ctx, a.TenantID, id)
		if err != nil {
			return nil, err
		}
		if err := updateDestination(&u, &in, cur); err != nil {
			return nil, err
		}
		if maskedHeader {
			headers, err := keepMaskedHeaders(*in.Headers, cur)
			if err != nil {
				return nil, err
			}
			u.Headers = &headers
		}
		// The scheme is fixed at creation; sending the current one is fine.
		if in.Signing != nil && *in.Signing != cur.SigningScheme() {
			return nil, hirehook.FieldError("signing", "cannot be changed after creation; create a new endpoint (POST /v1/endpoints/{id}/rotate-secret replaces keys of the same scheme)")
		}
	}
	u.Now = now(s.NowFunc)
	e, err := s.Store.EndpointUpdate(ctx, a.TenantID, id, u)
	if err != nil {
		return nil, err
	}
	if in.Disabled != nil && !*in.Disabled {
		call(s.NotifyFunc) // its waiting deliveries may be claimed again
	}
	s.auditor().audit(ctx, a, "endpoint.updated", e.ID, updateDetails(&in))
	return e, nil
}

// updateDestination checks an update's kind, url, config and credentials
// against the endpoint's kind and, for a broker endpoint, sets u's config
// and the merged credentials.
func updateDestination(u *hirehook.EndpointUpdate, in *EndpointInput, cur *hirehook.Endpoint) error {
	kind := cur.Kind
	if kind == "" {
		kind = hirehook.KindHTTP
	}
	if in.Kind != nil && *in.Kind != kind {
		return hirehook.FieldError("kind", "cannot be changed after creation (it is %s); create a new endpoint", kind)
	}
	if kind == hirehook.KindHTTP {
		if in.Config != nil && len(*in.Config) > 0 {
			return hirehook.FieldError("config", "is for a broker kind; this endpoint is a webhook (kind http)")
		}
		if in.Credentials != nil && len(*in.Credentials) > 0 {
			return hirehook.FieldError("credentials", "are for a broker kind; this endpoint is a webhook (kind http)")
		}
		return nil
	}
	if in.URL != nil {
		return hirehook.FieldError("url", "is for a webhook endpoint; change a %s endpoint's config instead", kind)
	}
	if in.Config == nil && in.Credentials == nil {
		return nil
	}
	config := cur.Config
	if in.Config != nil {
		config = *in.Config
	}
	creds := make(map[string]string, len(cur.Credentials))
	for k, v := range cur.Credentials {
		creds[k] = v
	}
	if in.Credentials != nil {
		for k, v := range *in.Credentials {
			if v == hirehook.Masked {
				// A credential as read, sent back: keep its value, as
				// for a header.
				if _, ok := cur.Credentials[k]; !ok {
					return hirehook.FieldError("credentials."+k, "is %q, which keeps a credential's hidden value, but the endpoint has no credential %q; send its value", hirehook.Masked, k)
				}
				continue
			}
			creds[k] = v
		}
	}
	creds = withoutEmpty(creds)
	if err := hirehook.ValidateDestination(kind, config, creds); err != nil {
		return err
	}
	u.Config, u.Credentials = &config, &creds
	return nil
}

// updateDetails are the audit details of an update: the fields set.
func updateDetails(in *EndpointInput) map[string]any {
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
	if in.Config != nil {
		changed["config"] = *in.Config
	}
	if in.Credentials != nil {
		changed["credentials"] = credentialNames(*in.Credentials)
	}
	if in.Description != nil {
		changed["description"] = "changed"
	}
	if in.MaxConcurrency != nil {
		changed["max_concurrency"] = *in.MaxConcurrency
	}
	if in.RateLimitPerSecond != nil {
		changed["rate_limit_per_second"] = *in.RateLimitPerSecond
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
	return changed
}

// keepMaskedHeaders resolves the headers of an update against the
// endpoint's current ones: a value of hirehook.Masked keeps the current
// value of that header (matched case-insensitively), so that what a read
// shows may be sent back as it is. A masked header the endpoint does not
// have is a field error.
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

// EndpointDelete deletes endpoint id of the actor's tenant (the store
// cancels its unfinished deliveries). Errors: EFORBIDDEN, ENOTFOUND.
func (s *Endpoints) EndpointDelete(ctx context.Context, a Actor, id string) error {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return err
	}
	if err := s.Store.EndpointDelete(ctx, a.TenantID, id); err != nil {
		return err
	}
	s.auditor().audit(ctx, a, "endpoint.deleted", id, nil)
	return nil
}

// EndpointRotateSecret gives endpoint id a new signing secret of its
// scheme (hirehook.RotateSecrets): the old ones keep signing beside it for
// grace (0: they stop at once; at most hirehook.MaxSecretRotationGrace).
// It returns the endpoint and the new secret, which the caller shows once
// (for ed25519, as its public key). Errors: EFORBIDDEN, EINVALID (grace),
// ENOTFOUND.
func (s *Endpoints) EndpointRotateSecret(ctx context.Context, a Actor, id string, grace time.Duration) (*hirehook.Endpoint, string, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, "", err
	}
	if grace < 0 || grace > hirehook.MaxSecretRotationGrace {
		return nil, "", hirehook.FieldError("grace", "must be from 0 to 7 days (168h)")
	}
	e, err := s.Store.EndpointGet(ctx, a.TenantID, id)
	if err != nil {
		return nil, "", err
	}
	secrets, until := hirehook.RotateSecrets(e.Secrets, now(s.NowFunc).UTC().Truncate(time.Microsecond), grace)
	e, err = s.Store.EndpointSetSecrets(ctx, a.TenantID, e.ID, secrets)
	if err != nil {
		return nil, "", err
	}
	s.auditor().audit(ctx, a, "endpoint.secret_rotated", e.ID, map[string]any{"previous_expires_at": until, "grace": grace.String()})
	return e, secrets[0].Value, nil
}
