package hirehook

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Source is a configured inbound connection: a recruiting system whose
// events the hub takes in, such as a Bullhorn corporation whose event
// subscription the hub polls. Kind says which connector runs it; Config is
// that connector's configuration without its secrets, and Secrets its
// credentials (client secrets, passwords, refresh tokens, signing keys),
// which are sealed at rest like endpoint secrets and never leave the hub.
//
// Sources are polled by one node at a time: the node holding the source's
// lease (see Store.SourceLease) runs it and writes its checkpoint, health
// and rotated credentials (Store.SourceReport).
type Source struct {
	TenantID string `json:"-"`
	ID       string `json:"id"`
	// Kind names the connector: SourceBullhorn.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Config is the connector's configuration (a JSON object) without
	// the secrets.
	Config json.RawMessage `json:"config"`
	// Secrets are the connector's credentials by name
	// ("client_secret"), write-only.
	Secrets map[string]string `json:"-"`
	Enabled bool              `json:"enabled"`
	Health  SourceHealth      `json:"health"`
	// Checkpoint is the connector's saved position in the source's feed
	// (a JSON value, nil before the first save), written by SourceReport.
	Checkpoint json.RawMessage `json:"-"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`

	// IngestURL is where a push source's vendor posts its webhooks
	// (POST /in/{id}); empty for polled sources. Filled in by the API,
	// not stored.
	IngestURL string `json:"ingest_url,omitempty"`
	// Requests sums a push source's request log (InboundStats): received,
	// rejected, handshakes, the last of each. Filled in by the API, not
	// stored; nil for polled sources.
	Requests *InboundStats `json:"requests,omitempty"`
}

// SourceBullhorn is the kind of a source that polls a Bullhorn event
// subscription (package connector/bullhorn).
const SourceBullhorn = "bullhorn"

// SourceHealth is how a source is doing, as the node running it last
// reported. Counters add up over restarts.
type SourceHealth struct {
	// LastPollAt is the last time the source was read, successfully or not.
	LastPollAt *time.Time `json:"last_poll_at"`
	// LastSuccessAt is the last successful read.
	LastSuccessAt *time.Time `json:"last_success_at"`
	// EventsRead counts the vendor's events read; EventsEmitted the catalog
	// events ingested from them.
	EventsRead    int64 `json:"events_read"`
	EventsEmitted int64 `json:"events_emitted"`
	// Errors counts failed reads; LastError describes the latest (safe to
	// show: it never holds credentials).
	Errors      int64      `json:"errors"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// LagMS is the time, in milliseconds, between the vendor's timestamp
	// of the newest event and its ingest by the hub.
	LagMS int64 `json:"lag_ms"`
	// Node is the hub node that runs the source; empty when none does
	// (disabled, or no node has taken it yet).
	Node string `json:"node,omitempty"`
}

// SourceFilter selects sources for SourceList, in creation order.
type SourceFilter struct {
	TenantID string
	After    string
	Limit    int
}

// SourceUpdate is a partial edit of a source: nil fields are unchanged.
type SourceUpdate struct {
	Name    *string
	Config  *json.RawMessage
	Enabled *bool
	// Secrets are merged into the stored ones by name: a name with an
	// empty value is removed, names left out keep their values.
	Secrets map[string]string
	// Now is written as the updated time; zero means time.Now().
	Now time.Time
}

// SourceLeaseParams are the arguments of SourceLease.
type SourceLeaseParams struct {
	// Owner names the node taking the leases.
	Owner string
	Now   time.Time
	// Until is when the leases run out unless renewed.
	Until time.Time
	// Limit is the most sources one node runs (0: no limit).
	Limit int
	// Kinds, when set, limits the leases to sources of these kinds (the
	// polled ones: a push source has nothing to run).
	Kinds []string
}

// SourceReportParams are the arguments of SourceReport: what the node that
// runs a source writes back. Nil fields are unchanged.
type SourceReportParams struct {
	TenantID string
	ID       string
	// Owner, when set, must hold the source's lease (else ECONFLICT), so a
	// node that lost its lease cannot overwrite the new holder's work.
	Owner      string
	Health     *SourceHealth
	Checkpoint json.RawMessage
	// Secrets are merged as in SourceUpdate (e.g. a rotated refresh
	// token); unlike SourceUpdate, a report does not change UpdatedAt.
	Secrets map[string]string
}

// SourceStateParams name one value of a source's state (SourceStateGet,
// SourceStateSet): a small key-value store that connectors use for what the
// vendor does not send, such as an application's previous stage.
type SourceStateParams struct {
	TenantID string
	SourceID string
	Key      string
	// Value is written by SourceStateSet.
	Value string
}

// DecodeSourceConfig decodes a source's configuration (a JSON object) into
// v, refusing unknown fields, with errors naming the field under "config"
// (for the API's 422).
func DecodeSourceConfig(raw json.RawMessage, v any, kind string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name, _ = strconv.Unquote(name)
			return FieldError("config."+name, "is not a known field of a %s source", kind)
		} else if errors.As(err, &typeErr) && typeErr.Field != "" {
			return FieldError("config."+typeErr.Field, "has the wrong type")
		}
		return FieldError("config", "must be a JSON object")
	}
	return nil
}
