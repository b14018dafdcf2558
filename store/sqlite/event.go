package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// Hot statements, prepared once at Open (see hotQueries). The rows of a
// batch go in multi-row statements (see rows.go).
var (
	// insEvents and insDeliveries are INSERT OR IGNORE: a row that breaks
	// a constraint is left out, not an error (the callers count the rows
	// written). A multi-row statement that may abort half way needs a
	// statement journal, a copy of every page it changes, spilled to a
	// temporary file past 64 KiB; one that cannot abort needs none. (An
	// event whose id or idempotency key is stored is left out the same
	// way ON CONFLICT DO NOTHING left it out.)
	insEvents = newRowsStmt(`INSERT OR IGNORE INTO events
		(tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload)
		VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``)
	// insRecords merges each event's data into its subject's snapshot. A
	// multi-row INSERT writes its rows one after the other, so a second
	// event about a subject in one statement finds the row the first wrote
	// and is merged into it, in event order. The data is bound as text,
	// compact (see compactJSON), as json(?) used to make it. (DO UPDATE
	// may abort, so this one keeps its statement journal: the record
	// pages it changes, fewer than the events' and deliveries'.)
	insRecords = newRowsStmt(`INSERT INTO records
		(tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at)
		VALUES `, `(?, ?, ?, 1, ?, ?, ?, ?, ?)`, `
		ON CONFLICT (tenant_id, entity, id) DO UPDATE SET
			version = records.version + 1,
			deleted = excluded.deleted,
			data = json_patch(records.data, excluded.data),
			last_event_id = excluded.last_event_id,
			updated_at = excluded.updated_at`)
	insDeliveries = newRowsStmt(`INSERT OR IGNORE INTO deliveries
		(id, tenant_id, event_id, event_type, endpoint_id, state, next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, ordering_key)
		VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``)
)

// qStoredByID and qStoredByKey find the events of a batch that are
// stored already, by [tenant, id] or by [tenant, idempotency key], with
// their first answers. Each pair is a seek of events' unique index.
var (
	qStoredByID = newRowsStmt(`WITH k (tenant_id, id) AS (VALUES `, `(?, ?)`, `)
		SELECT e.tenant_id, e.id, e.idempotency_key, e.deliveries
		FROM k CROSS JOIN events e ON e.tenant_id = k.tenant_id AND e.id = k.id`)
	qStoredByKey = newRowsStmt(`WITH k (tenant_id, key) AS (VALUES `, `(?, ?)`, `)
		SELECT e.tenant_id, e.id, e.idempotency_key, e.deliveries
		FROM k CROSS JOIN events e ON e.tenant_id = k.tenant_id AND e.idempotency_key = k.key`)
)

// rowsQueries are the queries of the multi-row statements, which Open
// prepares with hotQueries.
func rowsQueries() []string {
	var qs []string
	for _, rs := range []*rowsStmt{insEvents, insRecords, insDeliveries, qStoredByID, qStoredByKey, qCompleteDeliveries, insAttempts} {
		qs = append(qs, rs.queries...)
	}
	return qs
}

const (
	// qOrderHeld tells whether an ordered endpoint has an unfinished
	// delivery of a subject: a new one must then wait its turn.
	// qEndpointVersion reads the counter that the core's endpoint cache
	// checks (see sqlstore.Ingest).
	qEndpointVersion = `SELECT value FROM endpoint_version WHERE id = 1`
	qOrderHeld       = `SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE endpoint_id = ? AND ordering_key = ?
		AND ordering_key IS NOT NULL AND state IN ('pending', 'retrying', 'delivering', 'paused') LIMIT 1)`
)

// EventIngest implements hirehook.Store with the core's rules
// (sqlstore.Ingest): the batch is matched before its write, and the whole
// batch is one transaction of the group writer (see group.go), one fsync
// for every event, record and delivery in it.
func (s *Store) EventIngest(ctx context.Context, p hirehook.EventIngestParams) ([]hirehook.EventIngestResult, error) {
	results, err := s.ingest.EventIngest(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return results, nil
}

// newIngest is the core's EventIngest over this store's statements.
func (s *Store) newIngest() *sqlstore.Ingest {
	return &sqlstore.Ingest{
		SQL: sqlstore.IngestSQL{
			EndpointVersionFunc:  s.endpointVersion,
			EndpointsFunc:        s.enabledEndpoints,
			StoredFunc:           s.storedEvents,
			InsertEventsFunc:     s.insertEvents,
			UpsertRecordsFunc:    s.upsertRecords,
			HeldFunc:             s.orderHeld,
			InsertDeliveriesFunc: s.insertDeliveries,
		},
		WriteTxFunc: func(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) (func(), error)) error {
			return s.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) (func(), error) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				// The statements run under a context that ctx cannot
				// cancel: for a cancellable context modernc.org/sqlite
				// starts a goroutine per statement to interrupt it, and
				// an ingest runs several statements per event.
				return fn(context.WithoutCancel(ctx), tx)
			})
		},
	}
}

// storedEvents implements sqlstore.IngestSQL.Stored: the events stored
// by id, then those stored by idempotency key (an event found both ways
// comes twice).
func (s *Store) storedEvents(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) ([]sqlstore.StoredEvent, error) {
	var out []sqlstore.StoredEvent
	scan := func(rows *sql.Rows) error {
		var st sqlstore.StoredEvent
		var key sql.NullString
		if err := rows.Scan(&st.TenantID, &st.ID, &key, &st.Deliveries); err != nil {
			return err
		}
		st.IdempotencyKey = key.String
		out = append(out, st)
		return nil
	}
	err := s.queryRows(ctx, tx, qStoredByID, len(events), func(args []any, i int) []any {
		return append(args, events[i].TenantID, events[i].ID)
	}, scan)
	if err != nil {
		return nil, fmt.Errorf("select stored events of the batch: %w", err)
	}
	var keyed []*hirehook.Event
	for _, e := range events {
		if e.IdempotencyKey != "" {
			keyed = append(keyed, e)
		}
	}
	err = s.queryRows(ctx, tx, qStoredByKey, len(keyed), func(args []any, i int) []any {
		return append(args, keyed[i].TenantID, keyed[i].IdempotencyKey)
	}, scan)
	if err != nil {
		return nil, fmt.Errorf("select stored events of the batch: %w", err)
	}
	return out, nil
}

// insertEvents implements sqlstore.IngestSQL.InsertEvents in multi-row
// statements.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) (int, error) {
	n, err := s.execRows(ctx, tx, insEvents, len(events), func(args []any, i int) []any {
		e := events[i]
		var idem any
		if e.IdempotencyKey != "" {
			idem = e.IdempotencyKey
		}
		return append(args, e.TenantID, e.ID, e.Type, toMicros(e.OccurredAt), toMicros(e.ReceivedAt), e.Source,
			e.Subject.Entity, e.Subject.ID, idem, int64(e.Deliveries), e.Payload)
	})
	if err != nil {
		return 0, fmt.Errorf("insert %d events from %s: %w", len(events), events[0].ID, err)
	}
	return int(n), nil
}

// upsertRecords implements sqlstore.IngestSQL.UpsertRecords in multi-row
// statements.
func (s *Store) upsertRecords(ctx context.Context, tx *sql.Tx, events []*hirehook.Event, now time.Time) error {
	at := toMicros(now)
	data := make([]string, len(events))
	for i, e := range events {
		var err error
		if data[i], err = compactJSON(e.Data); err != nil {
			return fmt.Errorf("upsert record %s/%s of event %s: %w", e.Subject.Entity, e.Subject.ID, e.ID, err)
		}
	}
	_, err := s.execRows(ctx, tx, insRecords, len(events), func(args []any, i int) []any {
		e := events[i]
		return append(args, e.TenantID, e.Subject.Entity, e.Subject.ID, e.DeletesSubject(), data[i], e.ID, at, at)
	})
	if err != nil {
		return fmt.Errorf("upsert %d records from %s/%s: %w", len(events), events[0].Subject.Entity, events[0].Subject.ID, err)
	}
	return nil
}

// jsonMaxDepth is the deepest nesting of arrays and objects SQLite's JSON
// functions take (its JSON_MAX_DEPTH): json_patch, json_set and the rest
// refuse a document nested deeper as malformed.
const jsonMaxDepth = 1000

// compactJSON returns data, valid JSON, as SQLite's json() writes it:
// without white space outside strings. A record's data was bound through
// json() once, which cost a parse and a rendering of it per event; SQLite
// then also refused data nested deeper than its JSON functions take, so
// that no snapshot is stored that they could not merge into or erase from
// later. compactJSON refuses it too.
func compactJSON(data []byte) (string, error) {
	// Most data holds no white space, and far fewer brackets and braces
	// than the limit: then it is the answer as it is (each check is a
	// vectorised scan).
	if bytes.Count(data, []byte{'['})+bytes.Count(data, []byte{'{'}) <= jsonMaxDepth &&
		bytes.IndexByte(data, ' ') < 0 && bytes.IndexByte(data, '\n') < 0 &&
		bytes.IndexByte(data, '\t') < 0 && bytes.IndexByte(data, '\r') < 0 {
		return string(data), nil
	}
	out := make([]byte, 0, len(data))
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			out = append(out, c)
			continue
		}
		switch c {
		case ' ', '\n', '\t', '\r':
			continue
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > jsonMaxDepth {
				return "", fmt.Errorf("the data nests arrays and objects deeper than %d, which SQLite's JSON functions refuse", jsonMaxDepth)
			}
		case ']', '}':
			depth--
		}
		out = append(out, c)
	}
	return string(out), nil
}

// insertDeliveries implements sqlstore.IngestSQL.InsertDeliveries in
// multi-row statements.
func (s *Store) insertDeliveries(ctx context.Context, tx *sql.Tx, ds []*hirehook.Delivery, p hirehook.EventIngestParams) error {
	now := toMicros(p.Now)
	leaseUntil := toMicros(p.LeaseUntil)
	n, err := s.execRows(ctx, tx, insDeliveries, len(ds), func(args []any, i int) []any {
		d := ds[i]
		var owner, until, orderingKey any
		if d.State == hirehook.DeliveryDelivering {
			owner, until = p.LeaseOwner, leaseUntil
		}
		if d.OrderingKey != "" {
			orderingKey = d.OrderingKey
		}
		return append(args, d.ID, d.TenantID, d.EventID, d.EventType, d.EndpointID, string(d.State), now, owner, until, now, now, orderingKey)
	})
	if err == nil && n != int64(len(ds)) {
		// A new delivery's id is random: it cannot conflict, nor any
		// column be NULL that must not be.
		err = fmt.Errorf("%d of the deliveries broke a constraint of the table", int64(len(ds))-n)
	}
	if err != nil {
		return fmt.Errorf("insert %d deliveries from event %s to endpoint %s: %w", len(ds), ds[0].EventID, ds[0].EndpointID, err)
	}
	return nil
}

// orderHeld implements sqlstore.IngestSQL.Held, a statement per pair
// (there is one writer: nothing to lock).
func (s *Store) orderHeld(ctx context.Context, tx *sql.Tx, pairs []sqlstore.OrderPair) (map[sqlstore.OrderPair]bool, error) {
	stmt, err := s.stmt(ctx, tx, qOrderHeld)
	if err != nil {
		return nil, err
	}
	held := map[sqlstore.OrderPair]bool{}
	for _, k := range pairs {
		var n int
		if err := stmt.QueryRowContext(ctx, k.EndpointID, k.Key).Scan(&n); err != nil {
			return nil, fmt.Errorf("check order of %s at endpoint %s: %w", k.Key, k.EndpointID, err)
		}
		if n > 0 {
			held[k] = true
		}
	}
	return held, nil
}

// endpointVersion reads endpoint_version in tx, or on a reader when tx is
// nil.
func (s *Store) endpointVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	var row *sql.Row
	if tx == nil {
		row = s.reader.QueryRowContext(ctx, qEndpointVersion)
	} else {
		stmt, err := s.stmt(ctx, tx, qEndpointVersion)
		if err != nil {
			return 0, err
		}
		row = stmt.QueryRowContext(ctx)
	}
	var v int64
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("select endpoint version: %w", err)
	}
	return v, nil
}

// enabledEndpoints reads a tenant's enabled endpoints in tx, or on a
// reader when tx is nil.
func (s *Store) enabledEndpoints(ctx context.Context, tx *sql.Tx, tenantID string) ([]*hirehook.Endpoint, error) {
	if tx == nil {
		return s.dialect.EnabledEndpoints(ctx, s.reader, tenantID)
	}
	return s.dialect.EnabledEndpoints(ctx, tx, tenantID)
}
