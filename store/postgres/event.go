package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// EventIngest writes a batch with a fixed number of statements, whatever
// its size: PostgreSQL is across a network, and a statement per event would
// make a round trip per event. (The SQLite store, in process, writes a
// batch in multi-row statements of a few fixed sizes: see its rows.go.)
const (
	// qExistingEvents finds the events of the batch that are stored
	// already, by id or by idempotency key, with their first answers.
	qExistingEvents = `SELECT e.tenant_id, e.id, e.idempotency_key, e.deliveries
		FROM events e JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, id) ON e.tenant_id = k.tenant_id AND e.id = k.id
		UNION
		SELECT e.tenant_id, e.id, e.idempotency_key, e.deliveries
		FROM events e JOIN unnest($3::text[], $4::text[]) AS k(tenant_id, key) ON e.tenant_id = k.tenant_id AND e.idempotency_key = k.key`
	// qInsertEvents writes the batch's new events in batch order (seq is
	// the ingest order). A row that conflicts on its id or idempotency key
	// (another node committed it since qExistingEvents) is not written and
	// not returned: the transaction then runs again and answers it as a
	// duplicate.
	qInsertEvents = `INSERT INTO events
		(tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload)
		SELECT e.tenant_id, e.id, e.type, e.occurred_at, $11::timestamptz, e.source, e.subject_entity, e.subject_id, e.idempotency_key, e.deliveries, e.payload
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::integer[], $10::bytea[])
			WITH ORDINALITY AS e(tenant_id, id, type, occurred_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload, n)
		ORDER BY e.n
		ON CONFLICT DO NOTHING
		RETURNING id`
	// qUpsertRecords merges each event's data into its subject's snapshot
	// under the row lock that ON CONFLICT DO UPDATE takes (see
	// jsonb_merge_patch). One statement may touch a row only once, so a
	// batch with several events about one entity takes several rounds, in
	// event order; within a round rows go in key order, so that concurrent
	// batches lock shared records in the same order and do not deadlock.
	qUpsertRecords = `INSERT INTO records
		(tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at)
		SELECT r.tenant_id, r.entity, r.id, 1, r.deleted, r.data::jsonb, r.last_event_id, $7, $7
		FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[])
			WITH ORDINALITY AS r(tenant_id, entity, id, deleted, data, last_event_id, n)
		ORDER BY r.n
		ON CONFLICT (tenant_id, entity, id) DO UPDATE SET
			version = records.version + 1,
			deleted = excluded.deleted,
			data = jsonb_merge_patch(records.data, excluded.data),
			last_event_id = excluded.last_event_id,
			updated_at = excluded.updated_at`
	// qInsertDeliveries writes every delivery of a batch, each in its state
	// ($6): a delivering one leased to $8 until $9, a pending one (one
	// held behind an earlier delivery of its ordering key $10, or of a
	// batch not handed off) unleased.
	qInsertDeliveries = `INSERT INTO deliveries
		(id, tenant_id, event_id, event_type, endpoint_id, state, next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, ordering_key)
		SELECT d.id, d.tenant_id, d.event_id, d.event_type, d.endpoint_id, d.state, $7::timestamptz,
			CASE WHEN d.state = 'delivering' THEN $8::text END, CASE WHEN d.state = 'delivering' THEN $9::timestamptz END, $7, $7, nullif(d.ordering_key, '')
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $10::text[])
			WITH ORDINALITY AS d(id, tenant_id, event_id, event_type, endpoint_id, state, ordering_key, n)
		ORDER BY d.n`
	// qOrderHeld returns, of the (endpoint, ordering key) pairs given, those
	// with an unfinished delivery.
	qOrderHeld = `SELECT DISTINCT d.endpoint_id, d.ordering_key FROM deliveries d
		JOIN unnest($1::text[], $2::text[]) AS k(endpoint_id, ordering_key)
			ON d.endpoint_id = k.endpoint_id AND d.ordering_key = k.ordering_key
		WHERE d.ordering_key IS NOT NULL AND d.state IN ('pending', 'retrying', 'delivering', 'paused')`
)

// errIngestRace is returned from a try of EventIngest whose new events were
// committed by another node in the meantime; inTx runs it again.
var errIngestRace = sqlstore.ErrIngestRace

// EventIngest implements hirehook.Store with the core's rules
// (sqlstore.Ingest): the batch is matched before its transaction, and the
// transaction is a handful of statements: find the batch's events that are
// stored already, insert the new ones, merge their records, hold ordered
// deliveries, insert the deliveries.
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
			StoredFunc:           storedEvents,
			InsertEventsFunc:     insertEvents,
			UpsertRecordsFunc:    upsertRecords,
			HeldFunc:             holdOrdered,
			InsertDeliveriesFunc: insertDeliveries,
		},
		WriteTxFunc: func(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) (func(), error)) error {
			var after func()
			err := s.inTx(ctx, func(tx *sql.Tx) error {
				var err error
				after, err = fn(ctx, tx)
				return err
			})
			if err == nil && after != nil {
				after()
			}
			return err
		},
	}
}

// insertEvents implements sqlstore.IngestSQL.InsertEvents in one
// statement. A row that conflicts on its id or idempotency key (another
// node committed it since storedEvents) is not written and not counted:
// the transaction then runs again and answers it as a duplicate.
func insertEvents(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) (int, error) {
	var ev struct {
		tenants, ids, types, sources, entities, subjects []string
		keys                                             []*string
		occurred                                         []time.Time
		deliveries                                       []int32
		payloads                                         [][]byte
	}
	for _, e := range events {
		var key *string
		if e.IdempotencyKey != "" {
			key = &e.IdempotencyKey
		}
		ev.tenants, ev.ids, ev.types = append(ev.tenants, e.TenantID), append(ev.ids, e.ID), append(ev.types, e.Type)
		ev.sources, ev.entities, ev.subjects = append(ev.sources, e.Source), append(ev.entities, e.Subject.Entity), append(ev.subjects, e.Subject.ID)
		ev.keys, ev.occurred = append(ev.keys, key), append(ev.occurred, e.OccurredAt)
		ev.deliveries, ev.payloads = append(ev.deliveries, int32(e.Deliveries)), append(ev.payloads, e.Payload)
	}
	rows, err := tx.QueryContext(ctx, qInsertEvents, ev.tenants, ev.ids, ev.types, ev.occurred, ev.sources, ev.entities, ev.subjects,
		ev.keys, ev.deliveries, ev.payloads, events[0].ReceivedAt)
	if err != nil {
		return 0, fmt.Errorf("insert %d events: %w", len(events), err)
	}
	inserted := 0
	for rows.Next() {
		inserted++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("insert %d events: %w", len(events), err)
	}
	return inserted, nil
}

// insertDeliveries implements sqlstore.IngestSQL.InsertDeliveries in one
// statement. Pending deliveries are for any node: it wakes the idle ones.
// Leased ones are the ingesting node's already (the hot hand-off).
func insertDeliveries(ctx context.Context, tx *sql.Tx, ds []*hirehook.Delivery, p hirehook.EventIngestParams) error {
	var dl struct {
		ids, tenants, events, types, endpoints, states, keys []string
	}
	pending := false
	for _, d := range ds {
		dl.ids, dl.tenants, dl.events = append(dl.ids, d.ID), append(dl.tenants, d.TenantID), append(dl.events, d.EventID)
		dl.types, dl.endpoints = append(dl.types, d.EventType), append(dl.endpoints, d.EndpointID)
		dl.states, dl.keys = append(dl.states, string(d.State)), append(dl.keys, d.OrderingKey)
		pending = pending || d.State == hirehook.DeliveryPending
	}
	var leaseOwner, leaseUntil any
	if p.LeaseOwner != "" {
		leaseOwner, leaseUntil = p.LeaseOwner, p.LeaseUntil
	}
	if _, err := tx.ExecContext(ctx, qInsertDeliveries, dl.ids, dl.tenants, dl.events, dl.types, dl.endpoints,
		dl.states, p.Now.UTC(), leaseOwner, leaseUntil, dl.keys); err != nil {
		return fmt.Errorf("insert %d deliveries: %w", len(ds), err)
	}
	if pending {
		return notify(ctx, tx)
	}
	return nil
}

// holdOrdered implements sqlstore.IngestSQL.Held.
//
// Two nodes ingesting events of one subject at once would each see no
// unfinished delivery of the other's (not yet committed): a transaction
// advisory lock per (endpoint, key), taken in a fixed order so that two
// batches cannot deadlock, makes the second wait for the first to commit,
// and its check then sees the first's delivery.
func holdOrdered(ctx context.Context, tx *sql.Tx, pairs []sqlstore.OrderPair) (map[sqlstore.OrderPair]bool, error) {
	locks := make([]string, 0, len(pairs))
	eps, keys := make([]string, 0, len(pairs)), make([]string, 0, len(pairs))
	for _, k := range pairs {
		locks = append(locks, k.EndpointID+" "+k.Key)
		eps, keys = append(eps, k.EndpointID), append(keys, k.Key)
	}
	slices.Sort(locks)
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(l, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(l, n) ORDER BY n`, locks); err != nil {
		return nil, fmt.Errorf("lock ordering keys: %w", err)
	}
	rows, err := tx.QueryContext(ctx, qOrderHeld, eps, keys)
	if err != nil {
		return nil, fmt.Errorf("check ordering keys: %w", err)
	}
	defer rows.Close()
	held := map[sqlstore.OrderPair]bool{}
	for rows.Next() {
		var k sqlstore.OrderPair
		if err := rows.Scan(&k.EndpointID, &k.Key); err != nil {
			return nil, err
		}
		held[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check ordering keys: %w", err)
	}
	return held, nil
}

// storedEvents implements sqlstore.IngestSQL.Stored in one statement.
func storedEvents(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) ([]sqlstore.StoredEvent, error) {
	var idTenants, ids, keyTenants, keys []string
	for _, e := range events {
		idTenants, ids = append(idTenants, e.TenantID), append(ids, e.ID)
		if e.IdempotencyKey != "" {
			keyTenants, keys = append(keyTenants, e.TenantID), append(keys, e.IdempotencyKey)
		}
	}
	return sqlstore.ScanStoredEvents(tx.QueryContext(ctx, qExistingEvents, idTenants, ids, keyTenants, keys))
}

// upsertRecords implements sqlstore.IngestSQL.UpsertRecords in as many
// rounds as the batch has events about one entity.
func upsertRecords(ctx context.Context, tx *sql.Tx, events []*hirehook.Event, now time.Time) error {
	type rec struct {
		tenantID, entity, id string
	}
	var rounds [][]*hirehook.Event
	count := map[rec]int{}
	for _, e := range events {
		k := rec{e.TenantID, e.Subject.Entity, e.Subject.ID}
		r := count[k]
		count[k]++
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], e)
	}
	for _, round := range rounds {
		slices.SortFunc(round, func(a, b *hirehook.Event) int {
			return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.Subject.Entity, b.Subject.Entity), cmp.Compare(a.Subject.ID, b.Subject.ID))
		})
		var tenants, entities, ids, data, lastEvents []string
		var deleted []bool
		for _, e := range round {
			tenants, entities, ids = append(tenants, e.TenantID), append(entities, e.Subject.Entity), append(ids, e.Subject.ID)
			deleted, data, lastEvents = append(deleted, e.DeletesSubject()), append(data, string(e.Data)), append(lastEvents, e.ID)
		}
		if _, err := tx.ExecContext(ctx, qUpsertRecords, tenants, entities, ids, deleted, data, lastEvents, now); err != nil {
			return fmt.Errorf("upsert %d records: %w", len(round), err)
		}
	}
	return nil
}

// endpointVersion reads endpoint_version in tx, or outside any
// transaction when tx is nil.
func (s *Store) endpointVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	const q = `SELECT value FROM endpoint_version WHERE id = 1`
	var row *sql.Row
	if tx == nil {
		row = s.db.QueryRowContext(ctx, q)
	} else {
		row = tx.QueryRowContext(ctx, q)
	}
	var v int64
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("select endpoint version: %w", err)
	}
	return v, nil
}

// enabledEndpoints reads a tenant's enabled endpoints in tx, or outside
// any transaction when tx is nil.
func (s *Store) enabledEndpoints(ctx context.Context, tx *sql.Tx, tenantID string) ([]*hirehook.Endpoint, error) {
	if tx == nil {
		return s.dialect.EnabledEndpoints(ctx, s.db, tenantID)
	}
	return s.dialect.EnabledEndpoints(ctx, tx, tenantID)
}
