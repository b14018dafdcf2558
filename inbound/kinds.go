package inbound

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/ashby"
	"github.com/hirehook/hirehook/connector/generic"
	"github.com/hirehook/hirehook/connector/greenhouse"
	"github.com/hirehook/hirehook/connector/lever"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/connector/smartrecruiters"
	"github.com/hirehook/hirehook/connector/teamtailor"
	"github.com/hirehook/hirehook/connector/workable"
)

// The kinds of push source (hirehook.Source.Kind).
const (
	KindGreenhouse      = "greenhouse"
	KindLever           = "lever"
	KindAshby           = "ashby"
	KindWorkable        = "workable"
	KindSmartRecruiters = "smartrecruiters"
	KindTeamtailor      = "teamtailor"
	// KindGeneric takes catalog events from any sender that signs with
	// Standard Webhooks or with a plain body HMAC (Config.Scheme).
	KindGeneric = "generic"
)

// Config is a push source's configuration, secrets included, as an API
// client sends it in POST /v1/sources (the secrets are stored sealed and
// never shown again).
type Config struct {
	// SigningSecret verifies the vendor's signature: the webhook secret,
	// signature token or key the vendor shows. Required. (Standard
	// Webhooks: a whsec_ secret, or a whpk_ public key for ed25519.)
	SigningSecret string `json:"signing_secret,omitempty"`
	// PreviousSigningSecret also verifies, during a rotation
	// (SmartRecruiters keeps the old key valid for 24 hours).
	PreviousSigningSecret string `json:"previous_signing_secret,omitempty"`
	// APIKey lets the hub fetch the records of thin webhooks from the
	// vendor's API (SmartRecruiters X-SmartToken, Lever API key). Without
	// it, thin events go out as they came, marked partial.
	APIKey string `json:"api_key,omitempty"`
	// APIURL overrides the vendor's API address (Lever:
	// https://api.lever.co/v1), for EU data centres and tests.
	APIURL string `json:"api_url,omitempty"`
	// Account names the vendor account in the events' external_refs
	// (the "tenant" of each reference). Optional.
	Account string `json:"account,omitempty"`

	// Scheme is the generic source's signature scheme:
	// "standard_webhooks" (default) or "hmac".
	Scheme string `json:"scheme,omitempty"`
	// Header, Encoding and Prefix describe the generic hmac scheme: the
	// header holding the signature (required), "hex" (default) or
	// "base64", and a prefix to strip ("sha256=").
	Header   string `json:"header,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Prefix   string `json:"prefix,omitempty"`

	// HasAPIKey is shown by the API and ignored on input (a PATCH
	// merges the shown configuration).
	HasAPIKey bool `json:"has_api_key,omitempty"`
}

// The names under which a push source's secrets are stored.
const (
	secretSigning         = "signing_secret"
	secretPreviousSigning = "previous_signing_secret"
	secretAPIKey          = "api_key"
)

// public is Config without its secrets, as the API shows it.
type public struct {
	APIURL   string `json:"api_url,omitempty"`
	Account  string `json:"account,omitempty"`
	Scheme   string `json:"scheme,omitempty"`
	Header   string `json:"header,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Prefix   string `json:"prefix,omitempty"`
	// HasAPIKey says whether the source can hydrate thin webhooks.
	HasAPIKey bool `json:"has_api_key"`
}

// Kind is one vendor's push connector as the hub runs it.
type Kind struct {
	Name  string // "greenhouse"
	Title string // "Greenhouse"
	// Status is the success status the vendor expects (SmartRecruiters
	// wants 202; the others take any 2xx, and get 200).
	Status int
	// handshake answers a handshake that comes before any signature
	// (SmartRecruiters' X-Hook-Secret echo); nil for the others.
	handshake func(h http.Header) (push.Handshake, bool)
	verify    func(c *Config, h http.Header, body []byte, now time.Time) error
	// key is the dedupe key of a verified request, made from what the
	// vendor signed only (never from an unsigned header or field), so
	// that a re-sent request is a duplicate however its unsigned parts
	// were changed. parse puts the same key in its result.
	key   func(c *Config, h http.Header, body []byte) string
	parse func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error)
	// thin says whether the vendor's webhooks carry ids only, so that
	// an API key makes them worth fetching.
	thin bool
	// hydrate fetches the records of a thin result; nil when the hub
	// cannot fetch them from this vendor. origins are where the API key
	// may go (Processor.APIOrigins; nil: the connector's default).
	hydrate func(ctx context.Context, c *http.Client, origins []string, cfg *Config, h http.Header, body []byte, p *parsed, opts push.Options) (*parsed, error)
	// generic validates the scheme settings.
	generic bool
}

// parsed is what a vendor's parser made of one verified request, the same
// shape for every vendor.
type parsed struct {
	VendorEvent string
	DedupeKey   string
	// Ping is a signed ping (Greenhouse, Ashby): health, not an event.
	Ping        bool
	Unsupported string
	// NeedsHydration: the catalog type depends on the record's current
	// state, so nothing is emitted without fetching it.
	NeedsHydration bool
	Thin           bool
	Events         []*hirehook.EventInput

	push *push.Result // for hydration
}

// Kinds are the push connectors, by source kind.
var Kinds = map[string]*Kind{
	KindGreenhouse: {
		Name: KindGreenhouse, Title: "Greenhouse", Status: http.StatusOK,
		verify: func(c *Config, h http.Header, body []byte, _ time.Time) error {
			return greenhouse.Verify(h, body, c.secrets()...)
		},
		key: func(_ *Config, _ http.Header, body []byte) string { return greenhouse.DedupKey(body) },
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			return fromPush(greenhouse.Parse(body, opts))
		},
	},
	KindLever: {
		Name: KindLever, Title: "Lever", Status: http.StatusOK, thin: true,
		verify: func(c *Config, h http.Header, body []byte, now time.Time) error {
			return lever.Verify(h, body, now, c.secrets()...)
		},
		key: func(_ *Config, h http.Header, body []byte) string { return lever.DedupKey(h, body) },
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			return fromPush(lever.Parse(body, opts))
		},
		hydrate: func(ctx context.Context, c *http.Client, origins []string, cfg *Config, _ http.Header, _ []byte, p *parsed, opts push.Options) (*parsed, error) {
			// The API address is the source's api_url, which someone
			// who cannot read the key may edit: it must be a Lever API
			// origin too.
			return fromPush(lever.Hydrate(ctx, c, cfg.APIURL, cfg.APIKey, origins, p.push, opts))
		},
	},
	KindAshby: {
		Name: KindAshby, Title: "Ashby", Status: http.StatusOK,
		verify: func(c *Config, h http.Header, body []byte, _ time.Time) error {
			return ashby.Verify(h, body, c.secrets()...)
		},
		key: func(_ *Config, h http.Header, body []byte) string { return ashby.DedupKey(h, body) },
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			return fromPush(ashby.Parse(body, opts))
		},
	},
	KindWorkable: {
		Name: KindWorkable, Title: "Workable", Status: http.StatusOK,
		verify: func(c *Config, h http.Header, body []byte, _ time.Time) error {
			return workable.Verify(h, body, c.secrets()...)
		},
		key: func(_ *Config, _ http.Header, body []byte) string { return workable.DedupKey(body) },
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			return fromPush(workable.Parse(body, opts))
		},
	},
	KindSmartRecruiters: {
		Name: KindSmartRecruiters, Title: "SmartRecruiters", Status: http.StatusAccepted, thin: true,
		handshake: smartrecruiters.Handshake,
		verify: func(c *Config, h http.Header, body []byte, now time.Time) error {
			return smartrecruiters.Verify(h, body, now, c.secrets()...)
		},
		key: func(_ *Config, h http.Header, body []byte) string { return smartrecruiters.DedupKey(h, body) },
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			return fromPush(smartrecruiters.Parse(h, body, opts))
		},
		hydrate: func(ctx context.Context, c *http.Client, origins []string, cfg *Config, h http.Header, body []byte, p *parsed, opts push.Options) (*parsed, error) {
			// The signed link header names the URL: the key goes only to
			// SmartRecruiters' API origins.
			return fromPush(smartrecruiters.Hydrate(ctx, c, cfg.APIKey, origins, h, body, p.push, opts))
		},
	},
	KindTeamtailor: {
		Name: KindTeamtailor, Title: "Teamtailor", Status: http.StatusOK,
		verify: func(c *Config, h http.Header, body []byte, now time.Time) error {
			return teamtailor.Verify(h, body, now, c.secrets()...)
		},
		key: func(_ *Config, _ http.Header, body []byte) string { return teamtailor.DedupKey(body) },
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			return fromPush(teamtailor.Parse(body, opts))
		},
	},
	KindGeneric: {
		Name: KindGeneric, Title: "Generic (Standard Webhooks or HMAC)", Status: http.StatusOK, generic: true,
		verify: func(c *Config, h http.Header, body []byte, now time.Time) error {
			if c.Scheme == SchemeHMAC {
				return c.hmac().Verify(h, body, c.secrets()...)
			}
			return generic.VerifyStandard(h, body, now, c.secrets()...)
		},
		key: func(c *Config, h http.Header, body []byte) string {
			return generic.DedupKey(h, body, c.Scheme != SchemeHMAC)
		},
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			return fromPush(generic.Parse(generic.DedupKey(h, body, c.Scheme != SchemeHMAC), h, body, opts))
		},
	},
}

// The generic source's schemes.
const (
	SchemeStandardWebhooks = "standard_webhooks"
	SchemeHMAC             = "hmac"
)

func (c *Config) secrets() []string {
	var out []string
	for _, s := range []string{c.SigningSecret, c.PreviousSigningSecret} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *Config) hmac() generic.HMACConfig {
	return generic.HMACConfig{Header: c.Header, Encoding: c.Encoding, Prefix: c.Prefix}
}

// fromPush turns a connector's result into what ingest takes.
func fromPush(r *push.Result, err error) (*parsed, error) {
	if err != nil {
		return nil, err
	}
	p := &parsed{VendorEvent: r.VendorEvent, DedupeKey: r.DedupeKey, Ping: r.Ping, NeedsHydration: r.NeedsHydration, Thin: r.Thin, push: r}
	if r.Unsupported {
		p.Unsupported = r.Reason
		if p.Unsupported == "" {
			p.Unsupported = "no catalog mapping"
		}
	}
	for _, e := range r.Events {
		in, err := inputOf(e, r.Thin)
		if err != nil {
			return nil, err
		}
		p.Events = append(p.Events, in)
	}
	return p, nil
}

// inputOf turns a push event back into what ingest takes. An event with no
// occurred time (Greenhouse and Ashby give none for some) gets none, so
// that ingest stamps it (push.Builder.EventIDTag).
func inputOf(e push.Event, thin bool) (*hirehook.EventInput, error) {
	in, err := e.Input()
	if err != nil {
		return nil, err
	}
	if e.OccurredAt.IsZero() {
		in.OccurredAt = ""
	}
	in.Derived, in.Partial = e.Derived, thin
	return in, nil
}

// KindNames are the push kinds, sorted.
func KindNames() []string { return slices.Sorted(maps.Keys(Kinds)) }

// SplitConfig validates a push source's configuration of kind and splits
// it into what the API shows and the secrets; it has the shape of
// api.SourceKind. Errors name the field under "config".
func SplitConfig(kind string) func(raw json.RawMessage) (json.RawMessage, map[string]string, error) {
	k := Kinds[kind]
	return func(raw json.RawMessage) (json.RawMessage, map[string]string, error) {
		var c Config
		if err := hirehook.DecodeSourceConfig(raw, &c, kind); err != nil {
			return nil, nil, err
		}
		if err := k.validate(&c); err != nil {
			return nil, nil, err
		}
		secrets := map[string]string{}
		for name, v := range map[string]string{secretSigning: c.SigningSecret, secretPreviousSigning: c.PreviousSigningSecret, secretAPIKey: c.APIKey} {
			if v != "" {
				secrets[name] = v
			}
		}
		pub, err := json.Marshal(public{APIURL: c.APIURL, Account: c.Account, Scheme: c.Scheme, Header: c.Header,
			Encoding: c.Encoding, Prefix: c.Prefix, HasAPIKey: c.APIKey != ""})
		return pub, secrets, err
	}
}

func (k *Kind) validate(c *Config) error {
	if strings.TrimSpace(c.SigningSecret) == "" {
		return hirehook.FieldError("config.signing_secret", "is required: the secret %s signs its webhooks with", k.Title)
	}
	if len(c.SigningSecret) > 1024 || len(c.PreviousSigningSecret) > 1024 || len(c.APIKey) > 1024 {
		return hirehook.FieldError("config", "secrets must be at most 1024 characters")
	}
	if len(c.Account) > 200 {
		return hirehook.FieldError("config.account", "must be at most 200 characters")
	}
	if c.APIURL != "" {
		if !k.hydrateURL() {
			return hirehook.FieldError("config.api_url", "is not used by a %s source", k.Name)
		}
		if !strings.HasPrefix(c.APIURL, "https://") && !strings.HasPrefix(c.APIURL, "http://") {
			return hirehook.FieldError("config.api_url", "must be an http or https URL")
		}
	}
	if c.APIKey != "" && !k.thin {
		return hirehook.FieldError("config.api_key", "is not used: %s sends full records", k.Title)
	}
	if !k.generic {
		for name, v := range map[string]string{"scheme": c.Scheme, "header": c.Header, "encoding": c.Encoding, "prefix": c.Prefix} {
			if v != "" {
				return hirehook.FieldError("config."+name, "is only for generic sources")
			}
		}
		return nil
	}
	switch c.Scheme {
	case "", SchemeStandardWebhooks:
		c.Scheme = SchemeStandardWebhooks
		for _, s := range c.secrets() {
			if !strings.HasPrefix(s, "whsec_") && !strings.HasPrefix(s, "whpk_") {
				return hirehook.FieldError("config.signing_secret", "must be a Standard Webhooks secret (whsec_…) or public key (whpk_…)")
			}
		}
		for name, v := range map[string]string{"header": c.Header, "encoding": c.Encoding, "prefix": c.Prefix} {
			if v != "" {
				return hirehook.FieldError("config."+name, "is only for the hmac scheme")
			}
		}
	case SchemeHMAC:
		if strings.TrimSpace(c.Header) == "" {
			return hirehook.FieldError("config.header", "is required with the hmac scheme: the header that holds the signature")
		}
		if c.Encoding != "" && c.Encoding != "hex" && c.Encoding != "base64" {
			return hirehook.FieldError("config.encoding", "must be hex or base64")
		}
	default:
		return hirehook.FieldError("config.scheme", "must be standard_webhooks or hmac")
	}
	return nil
}

// hydrateURL says whether the kind's API address can be set.
func (k *Kind) hydrateURL() bool { return k.Name == KindLever }

// joinConfig puts a stored source's configuration and secrets together.
func joinConfig(src *hirehook.Source) (*Config, error) {
	var c Config
	if len(src.Config) > 0 {
		if err := json.Unmarshal(src.Config, &c); err != nil {
			return nil, fmt.Errorf("decode source %s config: %w", src.ID, err)
		}
	}
	c.SigningSecret = src.Secrets[secretSigning]
	c.PreviousSigningSecret = src.Secrets[secretPreviousSigning]
	c.APIKey = src.Secrets[secretAPIKey]
	return &c, nil
}
