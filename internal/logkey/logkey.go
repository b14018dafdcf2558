// Package logkey holds the attribute keys of hirehook's structured logs
// (log/slog), so that one thing is always logged under one name and an
// operator's queries keep working: logger.Info("...", logkey.EndpointID,
// id). Keys are snake_case. A new key goes here, not in a string at the
// call.
//
// Used by every package that logs.
package logkey

// Identifiers of the domain's objects.
const (
	EventID    = "event_id"
	EndpointID = "endpoint_id"
	DeliveryID = "delivery_id"
	SourceID   = "source_id"
	BackfillID = "backfill_id"
	// RequestID is an inbound request's id in inbound, and an HTTP
	// request's id in server: each names the request being handled.
	RequestID = "request_id"
)

// One delivery attempt.
const (
	Attempt          = "attempt"     // its number, from 1
	StatusCode       = "status_code" // the receiver's HTTP status
	Duration         = "duration"
	ErrorClass       = "error_class"
	NextAttemptAt    = "next_attempt_at"
	EndpointDisabled = "endpoint_disabled" // why the endpoint was disabled
)

// The dispatcher and its nodes.
const (
	Owner        = "owner" // the node's lease owner name
	Lease        = "lease"
	Released     = "released"
	Nodes        = "nodes"
	Rank         = "rank"
	FailedInARow = "deliveries_failed_in_a_row"
	StillHanging = "of_them_still_hanging"
	ProbeIn      = "probe_in"
)

// General.
const (
	Component = "component" // the part of the hub that logs (delivery, retention, ...)
	Error     = "error"
	Count     = "count"
	RetryIn   = "retry_in"
	Failures  = "failures" // failures in a row
	Events    = "events"
	Attempts  = "attempts"
	Kind      = "kind"
	Key       = "key"
	Reason    = "reason"
	Panic     = "panic"
	Stack     = "stack"
	Method    = "method"
	Path      = "path"
)

// The hub's start, its sign-ins and its audit log.
const (
	TenantID     = "tenant_id"
	KeyID        = "key_id" // an API key's id, never the key
	RemoteAddr   = "remote_addr"
	Page         = "page" // a dashboard page's template
	Type         = "type" // an event type
	KeyFile      = "key_file"
	Mode         = "mode" // a file's permissions
	Rows         = "rows"
	URL          = "url"
	DB           = "db" // the database, credentials redacted
	Version      = "version"
	Channel      = "channel"      // a LISTEN channel
	RestURL      = "rest_url"     // a Bullhorn session's REST URL
	Subscription = "subscription" // a Bullhorn event subscription
	Field        = "field"        // the field an error names
	Action       = "action"       // an audit entry's action
	Target       = "target"       // an audit entry's target
)
