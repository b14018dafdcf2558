package hirehook

import "time"

// BackfillState is the state of a Backfill.
type BackfillState string

// Backfill states.
const (
	// BackfillRunning: records are still being read and sent.
	BackfillRunning BackfillState = "running"
	// BackfillCompleted: every matching record was sent (as a delivery).
	BackfillCompleted BackfillState = "completed"
	// BackfillCancelled: an operator stopped it; what was sent stays sent.
	BackfillCancelled BackfillState = "cancelled"
	// BackfillFailed: it stopped on an error, which Error says.
	BackfillFailed BackfillState = "failed"
)

// Backfill limits.
const (
	// DefaultBackfillRate is the records a second a backfill sends when
	// its request does not say.
	DefaultBackfillRate = 100
	// MaxBackfillRate is the most records a second a backfill may send.
	MaxBackfillRate = 1000
)

// SnapshotType returns the event type that carries the current record of
// entity in a backfill: "<entity>.snapshot".
func SnapshotType(entity string) string { return entity + ".snapshot" }

// Backfill sends the current record of every matching entity of a tenant
// to one endpoint, as <entity>.snapshot events, so that a newly connected
// system does not start from an empty state. Entities are sent in the
// order listed, each in id order; Cursor is the last record done, so a
// backfill that stopped (the hub restarted) resumes after it and sends
// nothing twice.
type Backfill struct {
	TenantID   string   `json:"-"`
	ID         string   `json:"id"`
	EndpointID string   `json:"endpoint_id"`
	Entities   []string `json:"entities"`
	// Filter is a jq expression evaluated on each snapshot's envelope; the
	// record is sent only when it yields true. "" sends every record.
	Filter        string        `json:"filter,omitempty"`
	RatePerSecond int           `json:"rate_per_second"`
	State         BackfillState `json:"state"`
	// Cursor is the last record done: its entity and id.
	Cursor BackfillCursor `json:"cursor"`
	// Scanned counts the records read, Sent the snapshots queued for the
	// endpoint, Skipped the records the filter left out.
	Scanned int    `json:"scanned"`
	Sent    int    `json:"sent"`
	Skipped int    `json:"skipped"`
	Error   string `json:"error,omitempty"`

	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`

	// LeaseOwner is the node running it, until LeaseUntil.
	LeaseOwner string    `json:"-"`
	LeaseUntil time.Time `json:"-"`
}

// BackfillCursor is a position in a backfill: the last record done.
type BackfillCursor struct {
	Entity string `json:"entity,omitempty"`
	ID     string `json:"id,omitempty"`
}

// BackfillEnqueueParams are the arguments of Store.BackfillEnqueue: one
// page of a backfill.
type BackfillEnqueueParams struct {
	TenantID   string
	BackfillID string
	// Owner must hold the backfill's lease.
	Owner string
	// Events are the snapshots of the page; each gets one delivery, to the
	// backfill's endpoint only, and none changes a record.
	Events []*Event
	// Cursor is the last record of the page; Scanned and Skipped are added
	// to the backfill's counts (Sent grows by len(Events)).
	Cursor  BackfillCursor
	Scanned int
	Skipped int
	Now     time.Time
}

// BackfillLeaseParams are the arguments of Store.BackfillLease.
type BackfillLeaseParams struct {
	Owner string
	Now   time.Time
	Until time.Time
	Limit int
}

// BackfillFinishParams are the arguments of Store.BackfillFinish.
type BackfillFinishParams struct {
	TenantID   string
	BackfillID string
	// Owner must hold the lease.
	Owner string
	// State is BackfillCompleted or BackfillFailed, with Error.
	State BackfillState
	Error string
	Now   time.Time
}

// RecordListParams are the arguments of Store.RecordList.
type RecordListParams struct {
	TenantID string
	Entity   string
	// After is the id the page starts after ("" for the first page).
	After string
	Limit int
}

// NewSnapshot returns the <entity>.snapshot event of r, from source
// "hirehook", occurred now, its payload rendered.
func NewSnapshot(r *Record, now time.Time) (*Event, error) {
	e := &Event{
		TenantID:   r.TenantID,
		ID:         NewID("evt"),
		Type:       SnapshotType(r.Entity),
		OccurredAt: now.UTC(),
		ReceivedAt: now.UTC(),
		Source:     "hirehook",
		Subject:    Subject{Entity: r.Entity, ID: r.ID},
		Data:       r.Data,
		Deliveries: 1,
	}
	var err error
	if e.Payload, err = e.RenderPayload(); err != nil {
		return nil, err
	}
	return e, nil
}
