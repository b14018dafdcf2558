// Package storecopy is the dialect-neutral form in which `hirehook
// migrate-store` moves a whole database from one store to another (SQLite
// to PostgreSQL, or back): one Go struct per table, every column in it, with
// times as time.Time and endpoint secrets as plain JSON (the exporting store
// opens them with its keyring, the importing store seals them with its own).
//
// A store exports its tables in the order Tables lists them, each in its
// own order (seq, or the primary key where there is no seq), in batches of
// at most BatchSize rows, all from one read snapshot; the importer inserts
// them in one transaction, keeping each row's seq, so that every list and
// every cursor of the API reads the same afterwards.
package storecopy

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// BatchSize is the most rows of one table in a Batch.
const BatchSize = 500

// Tables are the tables copied, in the order they are exported.
var Tables = []string{"tenants", "api_keys", "endpoints", "events", "records", "deliveries", "attempts", "audit_log", "sources", "source_state", "backfills", "inbound_requests"}

// Tenant is a row of tenants.
type Tenant struct {
	Seq                  int64
	ID, Name             string
	RetentionDays        int
	CreatedAt, UpdatedAt time.Time
}

// APIKey is a row of api_keys: the key's hash, never the key.
type APIKey struct {
	ID, TenantID, Name, Scope, Hash string
	CreatedAt                       time.Time
	ExpiresAt, LastUsedAt           *time.Time
}

// Endpoint is a row of endpoints. Secrets is the plain JSON of
// []hirehook.Secret and Headers the plain JSON of the custom headers (the
// exporting store opens both, the importing one seals them); EventTypes is
// the stored JSON text.
type Endpoint struct {
	Seq                            int64
	ID, TenantID, URL, Description string
	EventTypes, Headers            string
	Disabled                       bool
	DisabledReason                 string
	Secrets                        []byte
	CreatedAt, UpdatedAt           time.Time
	MaxConcurrency                 int
	RateLimitPerSecond             *float64
	Ordered                        bool
	FailingSince                   *time.Time
	// Filter, Transform, Payload and Redact route the endpoint's events;
	// Redact is the stored JSON text.
	Filter, Transform, Payload, Redact string
	// Kind is the destination kind; Config and Credentials a broker
	// kind's, in the plain (the exporting store opens them, the importing
	// one seals them).
	Kind                string
	Config, Credentials map[string]string
}

// Event is a row of events; Payload is byte for byte what was signed.
type Event struct {
	Seq                              int64
	TenantID, ID, Type               string
	OccurredAt, ReceivedAt           time.Time
	Source, SubjectEntity, SubjectID string
	IdempotencyKey                   *string
	Deliveries                       int
	Payload                          []byte
	PurgedAt, ErasedAt               *time.Time
}

// Record is a row of records; Data is its JSON.
type Record struct {
	TenantID, Entity, ID string
	Version              int
	Deleted              bool
	Data                 []byte
	LastEventID          string
	CreatedAt, UpdatedAt time.Time
	ErasedAt             *time.Time
}

// Delivery is a row of deliveries. Exporters give a delivery that was
// being attempted (state delivering: its lease belongs to a process of the
// old store) as due now, pending or retrying, with no lease.
type Delivery struct {
	Seq                                          int64
	ID, TenantID, EventID, EventType, EndpointID string
	State                                        string
	Attempts                                     int
	NextAttemptAt, LastAttemptAt                 *time.Time
	LastStatus                                   int
	LastError                                    string
	CreatedAt, UpdatedAt                         time.Time
	// OrderingKey is empty for a delivery to an endpoint not ordered.
	OrderingKey string
}

// Attempt is a row of attempts. EndpointID is the delivery's (SQLite keeps
// it in the row; PostgreSQL joins it).
type Attempt struct {
	DeliveryID               string
	Number                   int
	ID, TenantID, EndpointID string
	StartedAt                time.Time
	DurationMicros           int64
	StatusCode               int
	ResponseBody             []byte
	ErrorClass, Error        string
}

// AuditEntry is a row of audit_log.
type AuditEntry struct {
	Seq                            int64
	ID, TenantID                   string
	At                             time.Time
	KeyID, KeyName, Action, Target string
	Details                        *string
}

// Source is a row of sources. Secrets is the plain JSON object of its
// secrets; Config and Health are the stored JSON text. Leases are not
// copied: the new database's nodes take the sources afresh.
type Source struct {
	Seq                      int64
	ID, TenantID, Kind, Name string
	Config                   string
	Secrets                  []byte
	Enabled                  bool
	Health                   string
	Checkpoint               *string
	CreatedAt, UpdatedAt     time.Time
}

// SourceState is a row of source_state.
type SourceState struct {
	SourceID, Key, Value string
}

// Backfill is a row of backfills; Entities is the stored JSON array.
// Leases are not copied: the new database's nodes take running backfills
// afresh, from their cursors.
type Backfill struct {
	ID, TenantID, EndpointID, Entities, Filter string
	RatePerSecond                              int
	State, CursorEntity, CursorID              string
	Scanned, Sent, Skipped                     int64
	Error                                      string
	CreatedAt, UpdatedAt                       time.Time
	FinishedAt                                 *time.Time
}

// InboundRequest is a row of inbound_requests. Header and EventIDs are the
// stored JSON text and Events the length of EventIDs. Body is nil where the
// row keeps none (NULL: rejected, duplicate, erased) and not nil, possibly
// empty, where it does. Claims are copied as they are: a claim names a node
// of the old store and lapses at ClaimUntil, after which the new
// database's nodes take the request as the old one's would have.
type InboundRequest struct {
	Seq                                         int64
	ID, TenantID, SourceID                      string
	ReceivedAt                                  time.Time
	Status, DedupeKey, DuplicateOf, VendorEvent string
	Header                                      string
	Body                                        []byte
	BodySize                                    int64
	EventIDs                                    string
	Events                                      int
	Error                                       string
	Attempts                                    int
	ProcessedAt, DueAt                          *time.Time
	ClaimOwner                                  string
	ClaimUntil                                  *time.Time
}

// Batch holds rows of one table (one of its slices is not empty).
type Batch struct {
	Tenants    []Tenant
	APIKeys    []APIKey
	Endpoints  []Endpoint
	Events     []Event
	Records    []Record
	Deliveries []Delivery
	Attempts   []Attempt
	Audit      []AuditEntry
	Sources    []Source
	States     []SourceState
	Backfills  []Backfill
	Inbound    []InboundRequest

	// APIKeyPepper is the exporting store's API key pepper (raw bytes),
	// given with every batch of APIKeys: their hashes are keyed with it,
	// so the importing store adopts it (sealed with its own keyring).
	// Nil when the source has none (keys stored as bare digests).
	APIKeyPepper []byte
}

// Len is the number of rows in b.
func (b Batch) Len() int {
	return len(b.Tenants) + len(b.APIKeys) + len(b.Endpoints) + len(b.Events) + len(b.Records) +
		len(b.Deliveries) + len(b.Attempts) + len(b.Audit) + len(b.Sources) + len(b.States) + len(b.Backfills) + len(b.Inbound)
}

// Counts counts rows by table.
type Counts map[string]int

// Add counts the rows of b.
func (c Counts) Add(b Batch) {
	c["tenants"] += len(b.Tenants)
	c["api_keys"] += len(b.APIKeys)
	c["endpoints"] += len(b.Endpoints)
	c["events"] += len(b.Events)
	c["records"] += len(b.Records)
	c["deliveries"] += len(b.Deliveries)
	c["attempts"] += len(b.Attempts)
	c["audit_log"] += len(b.Audit)
	c["sources"] += len(b.Sources)
	c["source_state"] += len(b.States)
	c["backfills"] += len(b.Backfills)
	c["inbound_requests"] += len(b.Inbound)
}

// String lists the non-zero counts in table order: "3 tenants, 12 events".
func (c Counts) String() string {
	var parts []string
	for _, t := range Tables {
		if c[t] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[t], t))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// Requeue turns a delivery being attempted into one due at now, without a
// lease: pending if it was never attempted, else retrying. Other deliveries
// are returned as they are.
func Requeue(d Delivery, now time.Time) Delivery {
	if d.State != "delivering" {
		return d
	}
	d.State = "retrying"
	if d.Attempts == 0 {
		d.State = "pending"
	}
	d.NextAttemptAt = &now
	d.UpdatedAt = now
	return d
}

// NotEmptyError is an importer's refusal of a target that already
// holds data.
type NotEmptyError struct{ Found Counts }

func (e *NotEmptyError) Error() string {
	return "the target database is not empty: it holds " + e.Found.String() + " (migrate-store copies into an empty database only)"
}

// The two sides of a copy are capabilities a store declares, at compile
// time (var _ storecopy.Exporter = (*Store)(nil)), rather than ones a caller
// finds by type assertion: both stores are both sides, and
// store/storetest.RunCopy holds each to it.

// Exporter is a store that exports its rows: it streams every row to fn, table
// by table in the order of Tables, in batches of at most BatchSize rows,
// all read from one snapshot, with secrets opened and deliveries being
// attempted given as due now (Requeue).
type Exporter interface {
	Export(ctx context.Context, fn func(Batch) error) error
}

// Importer is a store that imports what an Exporter exported. BeginImport
// starts an import in one transaction, refusing with a *NotEmptyError a
// store that holds anything but the default tenant its migration made.
type Importer interface {
	BeginImport(ctx context.Context) (Import, error)
}

// Import is one import under way: nothing is visible, and nothing is left
// behind on failure, until Commit.
type Import interface {
	// Write inserts the rows of b, keeping their seq, sealing secrets with
	// the target's keyring.
	Write(ctx context.Context, b Batch) error
	// Commit makes the import visible; the target's own sequences carry
	// on after the copied rows.
	Commit(ctx context.Context) error
	// Rollback abandons the import; after Commit it does nothing.
	Rollback() error
}
