package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// Hot statements, prepared once at Open (see hotQueries).
const (
	qInsertEvent = `INSERT INTO events
		(tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qUpsertRecord = `INSERT INTO records
		(tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at)
		VALUES (?, ?, ?, 1, ?, json(?), ?, ?, ?)
		ON CONFLICT (tenant_id, entity, id) DO UPDATE SET
			version = records.version + 1,
			deleted = excluded.deleted,
			data = json_patch(records.data, excluded.data),
			last_event_id = excluded.last_event_id,
			updated_at = excluded.updated_at`
	qInsertDelivery = `INSERT INTO deliveries
		(id, tenant_id, event_id, event_type, endpoint_id, state, next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, ordering_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// qInsertDeliveries writes the deliveries of a batch in one
	// statement: ?1 is a JSON array of [id, tenant, event, type, endpoint,
	// state, lease owner, lease until, ordering key], ?2 the time. One
	// statement instead of one per delivery is what makes fan-out ingest
	// fast.
	qInsertDeliveries = `INSERT INTO deliveries
		(id, tenant_id, event_id, event_type, endpoint_id, state, next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, ordering_key)
		SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, ?2, value->>6, value->>7, ?2, ?2, value->>8
		FROM json_each(?1) ORDER BY key`
	// qStoredEvents finds the events of a batch that are stored already,
	// by id (?1: a JSON array of [tenant, id]) or by idempotency key (?2:
	// of [tenant, key]), with their first answers; an event found both ways
	// comes twice.
	qStoredEvents = `SELECT e.tenant_id, e.id, e.idempotency_key, e.deliveries
		FROM json_each(?1) AS k CROSS JOIN events e ON e.tenant_id = k.value->>0 AND e.id = k.value->>1
		UNION ALL
		SELECT e.tenant_id, e.id, e.idempotency_key, e.deliveries
		FROM json_each(?2) AS k CROSS JOIN events e ON e.tenant_id = k.value->>0 AND e.idempotency_key = k.value->>1`
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

// storedEvents implements sqlstore.IngestSQL.Stored in one statement.
func (s *Store) storedEvents(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) ([]sqlstore.StoredEvent, error) {
	ids, keys := make([][2]string, 0, len(events)), [][2]string{}
	for _, e := range events {
		ids = append(ids, [2]string{e.TenantID, e.ID})
		if e.IdempotencyKey != "" {
			keys = append(keys, [2]string{e.TenantID, e.IdempotencyKey})
		}
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	keysJSON, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	stmt, err := s.stmt(ctx, tx, qStoredEvents)
	if err != nil {
		return nil, err
	}
	return sqlstore.ScanStoredEvents(stmt.QueryContext(ctx, idsJSON, keysJSON))
}

// insertEvents implements sqlstore.IngestSQL.InsertEvents, a statement per
// event (in process, a statement costs no round trip).
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) (int, error) {
	insertEvent, err := s.stmt(ctx, tx, qInsertEvent)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range events {
		var idem any
		if e.IdempotencyKey != "" {
			idem = e.IdempotencyKey
		}
		res, err := insertEvent.ExecContext(ctx, e.TenantID, e.ID, e.Type, toMicros(e.OccurredAt), toMicros(e.ReceivedAt), e.Source,
			e.Subject.Entity, e.Subject.ID, idem, e.Deliveries, e.Payload)
		if err != nil {
			return 0, fmt.Errorf("insert event %s: %w", e.ID, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("insert event %s: %w", e.ID, err)
		}
		n += int(k)
	}
	return n, nil
}

// upsertRecords implements sqlstore.IngestSQL.UpsertRecords, a statement
// per event.
func (s *Store) upsertRecords(ctx context.Context, tx *sql.Tx, events []*hirehook.Event, now time.Time) error {
	upsertRecord, err := s.stmt(ctx, tx, qUpsertRecord)
	if err != nil {
		return err
	}
	at := toMicros(now)
	for _, e := range events {
		if _, err := upsertRecord.ExecContext(ctx, e.TenantID, e.Subject.Entity, e.Subject.ID, e.DeletesSubject(),
			[]byte(e.Data), e.ID, at, at); err != nil {
			return fmt.Errorf("upsert record %s/%s: %w", e.Subject.Entity, e.Subject.ID, err)
		}
	}
	return nil
}

// insertDeliveries implements sqlstore.IngestSQL.InsertDeliveries: one
// delivery alone, or all of the batch's in one statement.
func (s *Store) insertDeliveries(ctx context.Context, tx *sql.Tx, ds []*hirehook.Delivery, p hirehook.EventIngestParams) error {
	now := toMicros(p.Now)
	row := func(d *hirehook.Delivery) []any {
		var leaseOwner, leaseUntil, orderingKey any
		if d.State == hirehook.DeliveryDelivering {
			leaseOwner, leaseUntil = p.LeaseOwner, toMicros(p.LeaseUntil)
		}
		if d.OrderingKey != "" {
			orderingKey = d.OrderingKey
		}
		return []any{d.ID, d.TenantID, d.EventID, d.EventType, d.EndpointID, string(d.State), leaseOwner, leaseUntil, orderingKey}
	}
	if len(ds) == 1 {
		stmt, err := s.stmt(ctx, tx, qInsertDelivery)
		if err != nil {
			return err
		}
		r := row(ds[0])
		if _, err := stmt.ExecContext(ctx, r[0], r[1], r[2], r[3], r[4], r[5], now, r[6], r[7], now, now, r[8]); err != nil {
			return fmt.Errorf("insert delivery of event %s to endpoint %s: %w", ds[0].EventID, ds[0].EndpointID, err)
		}
		return nil
	}
	rows := make([][]any, len(ds))
	for i, d := range ds {
		rows[i] = row(d)
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	stmt, err := s.stmt(ctx, tx, qInsertDeliveries)
	if err != nil {
		return err
	}
	if _, err := stmt.ExecContext(ctx, b, now); err != nil {
		return fmt.Errorf("insert %d deliveries: %w", len(ds), err)
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
