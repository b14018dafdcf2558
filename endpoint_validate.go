package hirehook

import (
	"fmt"
	"net/textproto"
	"strings"
)

// Limits of an endpoint's descriptive fields.
const (
	MaxEndpointDescription = 1000 // characters of Description
	MaxEndpointEventTypes  = 200  // entries of EventTypes
	MaxEndpointHeaders     = 20   // custom headers
)

// Validate checks a new endpoint as a person sets it up: its URL (or, for a
// broker kind, its config and credentials: ValidateDestination), its
// description, its event types (at least one, each "*", a type or an
// entity wildcard; whether a pattern matches a type of the catalog is the
// operations layer's check, which knows the catalog), its isolation
// limits, its payload mode and its custom headers. The error is an
// EINVALID *Error naming the field. The jq filter and transform are
// compiled by package route, not here.
func (e *Endpoint) Validate() error {
	switch e.Kind {
	case "", KindHTTP:
		if err := ValidateEndpointURL(e.URL); err != nil {
			return err
		}
		if len(e.Config) > 0 {
			return FieldError("config", "is for a broker kind (%s); a webhook endpoint has only a url", strings.Join(DestinationKindNames()[1:], ", "))
		}
		if len(e.Credentials) > 0 {
			return FieldError("credentials", "are for a broker kind (%s); a webhook endpoint has only a url", strings.Join(DestinationKindNames()[1:], ", "))
		}
	default:
		if err := ValidateDestination(e.Kind, e.Config, e.Credentials); err != nil {
			return err
		}
	}
	if err := validateEndpointDescription(e.Description); err != nil {
		return err
	}
	if len(e.EventTypes) == 0 {
		return FieldError("event_types", "is required: list types such as \"placement.confirmed\", wildcards such as \"placement.*\", or \"*\"")
	}
	if err := validateEndpointEventTypes(e.EventTypes); err != nil {
		return err
	}
	if e.MaxConcurrency != 0 {
		if err := validateMaxConcurrency(e.MaxConcurrency); err != nil {
			return err
		}
	}
	if err := validateRateLimit(e.RateLimitPerSecond); err != nil {
		return err
	}
	if e.Payload != PayloadFull && e.Payload != PayloadThin {
		return FieldError("payload", "must be %q or %q", PayloadFull, PayloadThin)
	}
	return validateEndpointHeaders(e.Headers, false)
}

// Validate checks the fields an update sets, as (*Endpoint).Validate
// checks them, except that a header may have the value Masked, which
// keeps the header's current value (what a read shows may be sent back);
// the caller resolves it against the endpoint before storing.
func (u *EndpointUpdate) Validate() error {
	if u.URL != nil {
		if err := ValidateEndpointURL(*u.URL); err != nil {
			return err
		}
	}
	if u.Description != nil {
		if err := validateEndpointDescription(*u.Description); err != nil {
			return err
		}
	}
	if u.EventTypes != nil {
		if err := validateEndpointEventTypes(*u.EventTypes); err != nil {
			return err
		}
	}
	if u.MaxConcurrency != nil {
		if err := validateMaxConcurrency(*u.MaxConcurrency); err != nil {
			return err
		}
	}
	if u.RateLimitPerSecond != nil {
		if err := validateRateLimit(*u.RateLimitPerSecond); err != nil {
			return err
		}
	}
	if u.Payload != nil && *u.Payload != PayloadFull && *u.Payload != PayloadThin {
		return FieldError("payload", "must be %q or %q", PayloadFull, PayloadThin)
	}
	if u.Headers != nil {
		return validateEndpointHeaders(*u.Headers, true)
	}
	return nil
}

func validateEndpointDescription(s string) error {
	if len(s) > MaxEndpointDescription {
		return FieldError("description", "must be at most %d characters", MaxEndpointDescription)
	}
	return nil
}

// validateEndpointEventTypes checks the number of patterns and the syntax
// of each.
func validateEndpointEventTypes(patterns []string) error {
	if len(patterns) == 0 || len(patterns) > MaxEndpointEventTypes {
		return FieldError("event_types", "must list 1 to %d types or patterns", MaxEndpointEventTypes)
	}
	for i, p := range patterns {
		if !ValidEventTypePattern(p) {
			return FieldError(fmt.Sprintf("event_types[%d]", i), "%q is not an event type or pattern (\"placement.confirmed\", \"placement.*\", \"*\")", Truncate(p, 64))
		}
	}
	return nil
}

func validateMaxConcurrency(n int) error {
	if n < 1 || n > MaxMaxConcurrency {
		return FieldError("max_concurrency", "must be a whole number from 1 to %d", MaxMaxConcurrency)
	}
	return nil
}

func validateRateLimit(r *float64) error {
	if r != nil && (!(*r > 0) || *r > MaxRateLimitPerSecond) {
		return FieldError("rate_limit_per_second", "must be a number above 0 and at most %d, or null for no limit", MaxRateLimitPerSecond)
	}
	return nil
}

// reservedHeaders are set by the hub on every delivery; an endpoint may not
// override them.
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "User-Agent": true, "Host": true,
	"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
	"Connection": true, "Transfer-Encoding": true, "Te": true, "Upgrade": true,
}

// validateEndpointHeaders checks custom headers: at most
// MaxEndpointHeaders, valid names, none the hub sets, one-line values of
// at most 4096 characters. masked allows the value Masked (an update).
func validateEndpointHeaders(h map[string]string, masked bool) error {
	if len(h) > MaxEndpointHeaders {
		return FieldError("headers", "must hold at most %d headers", MaxEndpointHeaders)
	}
	for k, v := range h {
		if !validHeaderName(k) {
			return FieldError("headers", "%q is not a valid header name", k)
		}
		if reservedHeaders[textproto.CanonicalMIMEHeaderKey(k)] {
			return FieldError("headers."+k, "is set by hirehook and cannot be overridden")
		}
		if len(v) > 4096 || strings.ContainsAny(v, "\r\n\x00") {
			return FieldError("headers."+k, "must be at most 4096 characters on one line")
		}
		if !masked && v == Masked {
			return FieldError("headers."+k, "must be the header's value: %q stands for a value the hub hides", Masked)
		}
	}
	return nil
}

// validHeaderName reports whether k is an HTTP header name (an RFC 9110
// token) of at most 128 characters.
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
