package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// EventIngest writes a batch with a fixed number of statements, whatever
// its size: PostgreSQL is across a network, and a statement per event would
// make a round trip per event. (The SQLite store, in process, uses one
// statement per event.)
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
	// qInsertDeliveries writes every delivery of a batch.
	// A held delivery ($11: an earlier one of its ordering key $10 is
	// unfinished) is written pending and unleased, to wait its turn.
	qInsertDeliveries = `INSERT INTO deliveries
		(id, tenant_id, event_id, event_type, endpoint_id, state, next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, ordering_key)
		SELECT d.id, d.tenant_id, d.event_id, d.event_type, d.endpoint_id, CASE WHEN d.held THEN 'pending' ELSE $6::text END, $7::timestamptz,
			CASE WHEN d.held THEN NULL ELSE $8::text END, CASE WHEN d.held THEN NULL ELSE $9::timestamptz END, $7, $7, nullif(d.ordering_key, '')
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $10::text[], $11::boolean[])
			WITH ORDINALITY AS d(id, tenant_id, event_id, event_type, endpoint_id, ordering_key, held, n)
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
var errIngestRace = errors.New("ingest: an event of the batch was stored concurrently")

// EventIngest implements hirehook.Store. The whole batch is one
// transaction of a handful of statements: find the batch's events that are
// stored already, insert the new ones, merge their records, insert their
// deliveries.
func (s *Store) EventIngest(ctx context.Context, p hirehook.EventIngestParams) ([]hirehook.EventIngestResult, error) {
	for i, e := range p.Events {
		if e.ID == "" || e.TenantID == "" || e.Subject.Entity == "" || e.Subject.ID == "" {
			return nil, hirehook.Errorf(hirehook.EINVALID, "Event %d of the batch needs an id, a tenant and a subject.", i)
		}
		if e.Payload == nil {
			var err error
			if e.Payload, err = e.RenderPayload(); err != nil {
				return nil, fmt.Errorf("render event %s: %w", e.ID, err)
			}
		}
	}
	var results []hirehook.EventIngestResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		results, err = s.eventIngest(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return results, nil
}

// storedEvent is the first answer of an event stored already.
type storedEvent struct {
	id         string
	deliveries int
}

// eventIngest is one try of EventIngest's transaction; it builds its
// results afresh, so that a retried transaction writes new delivery ids.
// It answers exactly as the SQLite store's event-by-event loop does: an
// event whose id or idempotency key is stored, or appeared earlier in the
// batch as a new event, is a duplicate with the first answer (by key
// before id); every other event is new.
func (s *Store) eventIngest(ctx context.Context, tx *sql.Tx, p hirehook.EventIngestParams) ([]hirehook.EventIngestResult, error) {
	now := p.Now.UTC()
	byID, byKey, err := existingEvents(ctx, tx, p.Events)
	if err != nil {
		return nil, err
	}
	state := hirehook.DeliveryPending
	var leaseOwner, leaseUntil any
	if p.LeaseOwner != "" {
		state = hirehook.DeliveryDelivering
		leaseOwner, leaseUntil = p.LeaseOwner, p.LeaseUntil
	}
	endpoints := map[string][]*hirehook.Endpoint{} // by tenant, loaded once per batch
	seen := map[string]int{}                       // tenant+id / tenant+key → index in results
	results := make([]hirehook.EventIngestResult, len(p.Events))
	var fresh []*hirehook.Event // the new events, in batch order
	var ev struct {
		tenants, ids, types, sources, entities, subjects []string
		keys                                             []*string
		occurred                                         []time.Time
		deliveries                                       []int32
		payloads                                         [][]byte
	}
	var dl struct {
		ids, tenants, events, types, endpoints, keys []string
		held                                         []bool
	}
	var ordered []orderedDelivery

	for i, e := range p.Events {
		idKey := e.TenantID + "\x00id\x00" + e.ID
		idemKey := ""
		if e.IdempotencyKey != "" {
			idemKey = e.TenantID + "\x00key\x00" + e.IdempotencyKey
		}
		if j, ok := seen[idemKey]; ok && idemKey != "" {
			results[i] = hirehook.EventIngestResult{EventID: results[j].EventID, Deliveries: results[j].Deliveries, Duplicate: true}
			continue
		}
		if j, ok := seen[idKey]; ok {
			results[i] = hirehook.EventIngestResult{EventID: results[j].EventID, Deliveries: results[j].Deliveries, Duplicate: true}
			continue
		}
		if first, ok := byKey[idemKey]; ok && idemKey != "" {
			results[i] = hirehook.EventIngestResult{EventID: first.id, Deliveries: first.deliveries, Duplicate: true}
			continue
		}
		if first, ok := byID[idKey]; ok {
			results[i] = hirehook.EventIngestResult{EventID: first.id, Deliveries: first.deliveries, Duplicate: true}
			continue
		}
		seen[idKey] = i
		if idemKey != "" {
			seen[idemKey] = i
		}

		eps, ok := endpoints[e.TenantID]
		if !ok {
			if eps, err = enabledEndpoints(ctx, tx, e.TenantID); err != nil {
				return nil, err
			}
			endpoints[e.TenantID] = eps
		}
		matched, filter := e.Recipients(eps)
		if p.MatchFunc != nil && filter && len(matched) > 0 {
			if matched, err = p.MatchFunc(ctx, e, matched); err != nil {
				return nil, fmt.Errorf("match endpoints of event %s: %w", e.ID, err)
			}
		}
		var key *string
		if e.IdempotencyKey != "" {
			key = &e.IdempotencyKey
		}
		ev.tenants, ev.ids, ev.types = append(ev.tenants, e.TenantID), append(ev.ids, e.ID), append(ev.types, e.Type)
		ev.sources, ev.entities, ev.subjects = append(ev.sources, e.Source), append(ev.entities, e.Subject.Entity), append(ev.subjects, e.Subject.ID)
		ev.keys, ev.occurred = append(ev.keys, key), append(ev.occurred, e.OccurredAt)
		ev.deliveries, ev.payloads = append(ev.deliveries, int32(len(matched))), append(ev.payloads, e.Payload)
		fresh = append(fresh, e)

		result := hirehook.EventIngestResult{EventID: e.ID, Deliveries: len(matched)}
		for _, ep := range matched {
			d := &hirehook.Delivery{
				TenantID:   e.TenantID,
				ID:         hirehook.NewID("dlv"),
				EventID:    e.ID,
				EventType:  e.Type,
				EndpointID: ep.ID,
				State:      state,
				CreatedAt:  now,
				UpdatedAt:  now,
			}
			if ep.Ordered {
				d.OrderingKey = e.Subject.Key()
				ordered = append(ordered, orderedDelivery{d: d, result: i, row: len(dl.ids)})
			}
			dl.ids, dl.tenants, dl.events = append(dl.ids, d.ID), append(dl.tenants, d.TenantID), append(dl.events, d.EventID)
			dl.types, dl.endpoints = append(dl.types, d.EventType), append(dl.endpoints, d.EndpointID)
			dl.keys, dl.held = append(dl.keys, d.OrderingKey), append(dl.held, false)
			if p.LeaseOwner != "" {
				d.Payload = e.Payload
				d.LeaseExpiresAt = p.LeaseUntil
				result.Leased = append(result.Leased, d)
			}
		}
		results[i] = result
	}
	if len(fresh) == 0 {
		return results, nil
	}

	rows, err := tx.QueryContext(ctx, qInsertEvents, ev.tenants, ev.ids, ev.types, ev.occurred, ev.sources, ev.entities, ev.subjects,
		ev.keys, ev.deliveries, ev.payloads, now)
	if err != nil {
		return nil, fmt.Errorf("insert %d events: %w", len(fresh), err)
	}
	inserted := 0
	for rows.Next() {
		inserted++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert %d events: %w", len(fresh), err)
	}
	if inserted != len(fresh) {
		return nil, errIngestRace
	}
	for _, e := range fresh {
		e.ReceivedAt = now
	}
	for i, r := range results {
		if !r.Duplicate {
			p.Events[i].Deliveries = r.Deliveries
		}
	}
	if err := upsertRecords(ctx, tx, fresh, now); err != nil {
		return nil, err
	}
	anyHeld := false
	if len(ordered) > 0 {
		if anyHeld, err = holdOrdered(ctx, tx, ordered, results, dl.held); err != nil {
			return nil, err
		}
	}
	if len(dl.ids) > 0 {
		if _, err := tx.ExecContext(ctx, qInsertDeliveries, dl.ids, dl.tenants, dl.events, dl.types, dl.endpoints,
			string(state), now, leaseOwner, leaseUntil, dl.keys, dl.held); err != nil {
			return nil, fmt.Errorf("insert %d deliveries: %w", len(dl.ids), err)
		}
		// Pending deliveries are for any node: wake the idle ones. Leased
		// ones are the ingesting node's already (the hot hand-off).
		if state == hirehook.DeliveryPending || anyHeld {
			if err := notify(ctx, tx); err != nil {
				return nil, err
			}
		}
	}
	return results, nil
}

// orderedDelivery is a new delivery to an ordered endpoint: result is its
// event's index in the batch, row its index among the batch's deliveries.
type orderedDelivery struct {
	d           *hirehook.Delivery
	result, row int
}

// holdOrdered marks held the new deliveries of ordered endpoints that must
// wait: an earlier delivery of their ordering key is unfinished, stored or
// earlier in the batch. A held delivery is written pending and leaves its
// result's Leased (it is not handed to the ingesting node's dispatcher).
//
// Two nodes ingesting events of one subject at once would each see no
// unfinished delivery of the other's (not yet committed): a transaction
// advisory lock per (endpoint, key), taken in a fixed order so that two
// batches cannot deadlock, makes the second wait for the first to commit,
// and its check then sees the first's delivery.
func holdOrdered(ctx context.Context, tx *sql.Tx, ordered []orderedDelivery, results []hirehook.EventIngestResult, held []bool) (bool, error) {
	pairs := map[[2]string]bool{}
	var locks []string
	var eps, keys []string
	for _, o := range ordered {
		k := [2]string{o.d.EndpointID, o.d.OrderingKey}
		if _, ok := pairs[k]; !ok {
			pairs[k] = false
			locks = append(locks, k[0]+" "+k[1])
			eps, keys = append(eps, k[0]), append(keys, k[1])
		}
	}
	slices.Sort(locks)
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(l, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(l, n) ORDER BY n`, locks); err != nil {
		return false, fmt.Errorf("lock ordering keys: %w", err)
	}
	rows, err := tx.QueryContext(ctx, qOrderHeld, eps, keys)
	if err != nil {
		return false, fmt.Errorf("check ordering keys: %w", err)
	}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return false, err
		}
		pairs[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("check ordering keys: %w", err)
	}
	anyHeld := false
	for _, o := range ordered {
		k := [2]string{o.d.EndpointID, o.d.OrderingKey}
		if !pairs[k] {
			pairs[k] = true // the later ones of the key in this batch wait for this one
			continue
		}
		held[o.row], anyHeld = true, true
		o.d.State, o.d.Payload, o.d.LeaseExpiresAt = hirehook.DeliveryPending, nil, time.Time{}
		r := &results[o.result]
		r.Leased = slices.DeleteFunc(r.Leased, func(d *hirehook.Delivery) bool { return d == o.d })
	}
	return anyHeld, nil
}

// existingEvents returns the stored events that share an id or an
// idempotency key with an event of the batch, keyed as eventIngest's seen.
func existingEvents(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) (byID, byKey map[string]storedEvent, err error) {
	var idTenants, ids, keyTenants, keys []string
	for _, e := range events {
		idTenants, ids = append(idTenants, e.TenantID), append(ids, e.ID)
		if e.IdempotencyKey != "" {
			keyTenants, keys = append(keyTenants, e.TenantID), append(keys, e.IdempotencyKey)
		}
	}
	rows, err := tx.QueryContext(ctx, qExistingEvents, idTenants, ids, keyTenants, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("select stored events of the batch: %w", err)
	}
	defer rows.Close()
	byID, byKey = map[string]storedEvent{}, map[string]storedEvent{}
	for rows.Next() {
		var tenantID string
		var key sql.NullString
		var st storedEvent
		if err := rows.Scan(&tenantID, &st.id, &key, &st.deliveries); err != nil {
			return nil, nil, fmt.Errorf("select stored events of the batch: %w", err)
		}
		byID[tenantID+"\x00id\x00"+st.id] = st
		if key.Valid {
			byKey[tenantID+"\x00key\x00"+key.String] = st
		}
	}
	return byID, byKey, rows.Err()
}

// upsertRecords merges the data of the new events into their subjects'
// snapshots, in as many rounds as the batch has events about one entity.
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

func enabledEndpoints(ctx context.Context, tx *sql.Tx, tenantID string) ([]*hirehook.Endpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, event_types, ordered, filter, redact FROM endpoints WHERE tenant_id = $1 AND NOT disabled ORDER BY seq`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("select endpoints of tenant %s: %w", tenantID, err)
	}
	defer rows.Close()
	var out []*hirehook.Endpoint
	for rows.Next() {
		var ep hirehook.Endpoint
		var types, redact string
		if err := rows.Scan(&ep.ID, &types, &ep.Ordered, &ep.Filter, &redact); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(redact), &ep.Redact); err != nil {
			return nil, fmt.Errorf("decode endpoint %s redact: %w", ep.ID, err)
		}
		if err := json.Unmarshal([]byte(types), &ep.EventTypes); err != nil {
			return nil, fmt.Errorf("decode endpoint %s event types: %w", ep.ID, err)
		}
		out = append(out, &ep)
	}
	return out, rows.Err()
}

const eventColumns = `tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, deliveries, payload`

func scanEvent(row scanner) (*hirehook.Event, error) {
	var e hirehook.Event
	if err := row.Scan(&e.TenantID, &e.ID, &e.Type, &e.OccurredAt, &e.ReceivedAt, &e.Source, &e.Subject.Entity, &e.Subject.ID, &e.Deliveries, &e.Payload); err != nil {
		return nil, err
	}
	e.OccurredAt, e.ReceivedAt = utc(e.OccurredAt), utc(e.ReceivedAt)
	var body hirehook.WebhookPayload
	if err := json.Unmarshal(e.Payload, &body); err != nil {
		return nil, fmt.Errorf("decode payload of event %s: %w", e.ID, err)
	}
	e.Data, e.Changes, e.Purged = body.Data, body.Changes, body.Purged
	e.Derived, e.Partial = body.Derived, body.Partial
	return &e, nil
}

// EventGet implements hirehook.Store.
func (s *Store) EventGet(ctx context.Context, tenantID, id string) (*hirehook.Event, error) {
	e, err := scanEvent(s.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Event %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select event %s: %w", id, err)
	}
	return e, nil
}

// EventList implements hirehook.Store. Events are listed by seq (newest
// first with f.Descending), the order in which their inserts began; with several nodes ingesting at once, an
// event may commit after one with a higher seq was already listed.
func (s *Store) EventList(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error) {
	return s.eventList(ctx, f)
}

// RecordEvents implements hirehook.Store.
func (s *Store) RecordEvents(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error) {
	if f.Entity == nil || f.SubjectID == nil {
		return nil, hirehook.Errorf(hirehook.EINVALID, "Listing a record's events needs its entity and subject id.")
	}
	return s.eventList(ctx, f)
}

func (s *Store) eventList(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error) {
	where := []string{"tenant_id = $1"}
	args := []any{f.TenantID}
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.After != "" {
		var seq int64
		err := s.db.QueryRowContext(ctx, `SELECT seq FROM events WHERE tenant_id = $1 AND id = $2`, f.TenantID, f.After).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("after", "No event %q to list after.", f.After)
		} else if err != nil {
			return nil, fmt.Errorf("select event cursor: %w", err)
		}
		if f.Descending {
			add("seq < $%d", seq)
		} else {
			add("seq > $%d", seq)
		}
	}
	if f.Type != nil {
		add("type = $%d", *f.Type)
	}
	if f.Entity != nil {
		add("subject_entity = $%d", *f.Entity)
	}
	if f.SubjectID != nil {
		add("subject_id = $%d", *f.SubjectID)
	}
	if f.Source != nil {
		add("source = $%d", *f.Source)
	}
	if f.ReceivedAfter != nil {
		add("received_at >= $%d", f.ReceivedAfter.UTC())
	}
	if f.ReceivedBefore != nil {
		add("received_at < $%d", f.ReceivedBefore.UTC())
	}
	args = append(args, limit(f.Limit))
	order := "seq"
	if f.Descending {
		order = "seq DESC"
	}
	q := fmt.Sprintf(`SELECT %s FROM events WHERE %s ORDER BY %s LIMIT $%d`, eventColumns, strings.Join(where, " AND "), order, len(args))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select events: %w", err)
	}
	defer rows.Close()
	out := []*hirehook.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordGet implements hirehook.Store.
func (s *Store) RecordGet(ctx context.Context, tenantID, entity, id string) (*hirehook.Record, error) {
	var r hirehook.Record
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at
		FROM records WHERE tenant_id = $1 AND entity = $2 AND id = $3`, tenantID, entity, id).
		Scan(&r.TenantID, &r.Entity, &r.ID, &r.Version, &r.Deleted, &data, &r.LastEventID, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "No %s record %q.", entity, id)
	} else if err != nil {
		return nil, fmt.Errorf("select record %s/%s: %w", entity, id, err)
	}
	r.Data = data
	r.CreatedAt, r.UpdatedAt = utc(r.CreatedAt), utc(r.UpdatedAt)
	return &r, nil
}
