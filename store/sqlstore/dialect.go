package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Dialect is what the core needs of a database: the differences between
// SQLite and PostgreSQL that its rules meet, and nothing else (see the
// package doc). A dialect package builds one value at Open and keeps it.
type Dialect struct {
	// Name is the dialect's, for errors: "sqlite" or "postgres".
	Name string
	// Numbered is set when placeholders are $1, $2, ... (PostgreSQL)
	// rather than ? (SQLite); see Rebind.
	Numbered bool
	// TimeFunc is a time as an argument of a statement (UTC microseconds on
	// SQLite; the time itself on PostgreSQL).
	TimeFunc func(time.Time) any
	// TextFunc returns an expression that reads col as text: SQLite's columns
	// may hold a BLOB where text was meant (JSON bound as []byte, as
	// endpoints' JSON was before the core wrote it), and PostgreSQL's JSON
	// columns are jsonb.
	TextFunc func(col string) string
	// SkipLocked ends a SELECT whose rows a batch job rewrites, so that the
	// jobs of several nodes share the rows instead of queueing on them ("
	// FOR UPDATE SKIP LOCKED" on PostgreSQL; "" where there is one writer).
	SkipLocked string

	// DB runs the statements outside a transaction that write (SQLite:
	// the writer connection).
	DB *sql.DB
	// Reader runs the reads outside a transaction (SQLite: its pool of
	// read-only connections; PostgreSQL: the pool, as DB).
	Reader *sql.DB
	// ForUpdate and ForShare end a SELECT in a write transaction that
	// reads a row it is about to write, or that must not be deleted
	// before it commits: " FOR UPDATE" and " FOR SHARE" on PostgreSQL, ""
	// where there is one writer.
	ForUpdate, ForShare string
	// Bytewise follows a text column in a comparison or an ORDER BY that
	// must order its values byte by byte, as a cursor over ids does:
	// ` COLLATE "C"` on PostgreSQL, whose default collation may not; ""
	// on SQLite, whose default does.
	Bytewise string
	// IsUniqueFunc reports an error of a UNIQUE or PRIMARY KEY constraint (by
	// SQLSTATE or extended result code, never by message).
	IsUniqueFunc func(error) bool
	// MapErrorFunc gives the driver errors a caller can act on their hirehook
	// code, keeping err in the chain (PostgreSQL: text it cannot hold, a
	// NUL, is EINVALID). Nil leaves errors as they are.
	MapErrorFunc func(error) error
	// NotifyFunc announces in tx, when it commits, that deliveries became due,
	// so that every node's dispatcher wakes (PostgreSQL's pg_notify). Nil
	// where one process has the database.
	NotifyFunc func(ctx context.Context, tx *sql.Tx) error
	// WriteTxFunc runs fn in one write transaction and commits it. fn may run
	// more than once (PostgreSQL runs a transaction that lost a deadlock
	// again), so it builds its results afresh each time.
	WriteTxFunc func(ctx context.Context, fn func(tx *sql.Tx) error) error
	// SnapshotTxFunc begins a read-only transaction that sees one snapshot of
	// the whole database, for an export.
	SnapshotTxFunc func(ctx context.Context) (*sql.Tx, error)

	// TombstoneFunc writes the tombstone payloads of purged events (their
	// seqs, with their new payloads in the same order) and sets their
	// purged_at to now.
	TombstoneFunc func(ctx context.Context, tx *sql.Tx, p TombstoneParams) error
	// CancelUnsentFunc cancels the deliveries of some events of a tenant that
	// have not been sent for good: pending, retrying, paused, and leased
	// by a worker whose lease ran out (it died); a worker holding a live
	// lease finishes its attempt. last_error is set to p.Reason.
	CancelUnsentFunc func(ctx context.Context, tx *sql.Tx, p CancelParams) error
	// ExportAttempts selects the attempts for an export: delivery_id,
	// number, id, tenant_id, the delivery's endpoint_id, started_at,
	// duration_us, status_code, response_body, error_class, error, in
	// (delivery_id, number) order. (SQLite keeps the endpoint in the row;
	// PostgreSQL joins it.)
	ExportAttempts string
	// Erase holds the statements of a candidate erasure that use the
	// dialect's JSON functions.
	Erase EraseSQL

	// ForKeyShare ends a SELECT in a write transaction of a row that must
	// not be deleted before it commits, without holding back updates of
	// its other columns (" FOR KEY SHARE" on PostgreSQL: an inbound request
	// keeps its source; "" where there is one writer).
	ForKeyShare string
	// CleanTextFunc makes text from outside (an error that quotes a remote
	// peer, a vendor's event name) storable in a text column: PostgreSQL's
	// refuses NUL and invalid UTF-8. Nil stores text as it is.
	CleanTextFunc func(string) string
	// IndexedByFunc returns the hint that makes a query read the named partial
	// index (SQLite's " INDEXED BY name": it uses a partial index only when
	// told, or when it proves the query's terms imply the index's); ""
	// where the planner needs no hint.
	IndexedByFunc func(index string) string
	// StatsAttempts selects the attempts of DeliveryStats' window:
	// endpoint_id, started_at, duration_us, status_code of the attempts
	// of a tenant (?) started at or after a time (?), through the index
	// attempts_tenant_started. (SQLite keeps the endpoint in the row;
	// PostgreSQL joins it from the delivery.)
	StatsAttempts string

	// ProbeFunc writes in tx what proves that the database takes writes again
	// (see Ping): SQLite inserts and deletes a row larger than a page;
	// PostgreSQL takes a transaction id, whose commit a read-only server
	// refuses and a full disk cannot hold.
	ProbeFunc func(ctx context.Context, tx *sql.Tx) error

	rebound sync.Map // query → rebound query
}

// TombstoneParams are the arguments of Dialect.Tombstone.
type TombstoneParams struct {
	Now      time.Time
	Seqs     []int64
	Payloads [][]byte
}

// CancelParams are the arguments of Dialect.CancelUnsent.
type CancelParams struct {
	TenantID string
	Now      time.Time
	IDs      []string
	Reason   string
}

// Rebind returns q with its ? placeholders in the dialect's form. The core
// writes ? in its SQL and never a literal ? in a string or an operator.
func (d *Dialect) Rebind(q string) string {
	if !d.Numbered {
		return q
	}
	if v, ok := d.rebound.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	d.rebound.Store(q, b.String())
	return b.String()
}

// NullTime is t as an argument: NULL for a nil or zero time.
func (d *Dialect) NullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return d.TimeFunc(*t)
}

// Time reads a time column of either dialect (an INTEGER of microseconds
// or a timestamptz), in UTC.
type Time struct{ time.Time }

// Scan implements sql.Scanner.
func (t *Time) Scan(src any) error {
	var n NullTime
	if err := n.Scan(src); err != nil {
		return err
	}
	if n.Time == nil {
		return fmt.Errorf("scan time: NULL")
	}
	t.Time = *n.Time
	return nil
}

// NullTime reads a nullable time column of either dialect; Time is nil
// for NULL.
type NullTime struct{ Time *time.Time }

// Scan implements sql.Scanner.
func (t *NullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = nil
	case int64:
		u := time.UnixMicro(v).UTC()
		t.Time = &u
	case time.Time:
		u := v.UTC()
		t.Time = &u
	default:
		return fmt.Errorf("scan time: unsupported %T", src)
	}
	return nil
}

// InTx runs fn in one transaction of db and commits it; fn's error rolls
// it back and is returned as it is.
func InTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// mapError is Dialect.MapError, if the dialect has one.
func (d *Dialect) mapError(err error) error {
	if d.MapErrorFunc == nil || err == nil {
		return err
	}
	return d.MapErrorFunc(err)
}

// notify is Dialect.Notify, if the dialect has one.
func (d *Dialect) notify(ctx context.Context, tx *sql.Tx) error {
	if d.NotifyFunc == nil {
		return nil
	}
	return d.NotifyFunc(ctx, tx)
}
