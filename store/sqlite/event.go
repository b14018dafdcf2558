package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hirehook/hirehook"
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
	// qInsertDeliveries writes the deliveries of one event to many
	// endpoints in one statement: ?1 is a JSON array of [id, tenant, event,
	// type, endpoint, state, lease owner, lease until, ordering key], ?2
	// the time. One statement instead of one per endpoint is what makes
	// fan-out ingest fast.
	qInsertDeliveries = `INSERT INTO deliveries
		(id, tenant_id, event_id, event_type, endpoint_id, state, next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, ordering_key)
		SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, ?2, value->>6, value->>7, ?2, ?2, value->>8
		FROM json_each(?1) ORDER BY key`
	// qOrderHeld tells whether an ordered endpoint has an unfinished
	// delivery of a subject: a new one must then wait its turn.
	// qEndpointVersion reads the counter that endpointCache checks.
	qEndpointVersion = `SELECT value FROM endpoint_version WHERE id = 1`
	qOrderHeld       = `SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE endpoint_id = ? AND ordering_key = ?
		AND ordering_key IS NOT NULL AND state IN ('pending', 'retrying', 'delivering', 'paused') LIMIT 1)`
)

// EventIngest implements hirehook.Store. The whole batch is one
// transaction: one fsync for every event, record and delivery in it.
func (s *Store) EventIngest(ctx context.Context, p hirehook.EventIngestParams) ([]hirehook.EventIngestResult, error) {
	var results []hirehook.EventIngestResult
	err := s.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) (func(), error) {
		var err error
		results, err = s.eventIngest(ctx, tx, p)
		return nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return results, nil
}

// eventIngest writes p's events in tx, a group transaction (see group.go):
// it may be run again if another job of the group fails.
func (s *Store) eventIngest(ctx context.Context, tx *sql.Tx, p hirehook.EventIngestParams) ([]hirehook.EventIngestResult, error) {
	// The statements run under sctx, which ctx cannot cancel: for a
	// cancellable context modernc.org/sqlite starts a goroutine per
	// statement to interrupt it, and this path runs several statements
	// per event. The loop checks ctx per event instead.
	sctx := context.WithoutCancel(ctx)

	insertEvent, err := s.stmt(sctx, tx, qInsertEvent)
	if err != nil {
		return nil, fmt.Errorf("prepare insert event: %w", err)
	}
	upsertRecord, err := s.stmt(sctx, tx, qUpsertRecord)
	if err != nil {
		return nil, fmt.Errorf("prepare upsert record: %w", err)
	}
	insertDelivery, err := s.stmt(sctx, tx, qInsertDelivery)
	if err != nil {
		return nil, fmt.Errorf("prepare insert delivery: %w", err)
	}
	insertDeliveries, err := s.stmt(sctx, tx, qInsertDeliveries)
	if err != nil {
		return nil, fmt.Errorf("prepare insert deliveries: %w", err)
	}

	now := toMicros(p.Now)
	state := hirehook.DeliveryPending
	var leaseOwner, leaseUntil any
	if p.LeaseOwner != "" {
		state = hirehook.DeliveryDelivering
		leaseOwner, leaseUntil = p.LeaseOwner, toMicros(p.LeaseUntil)
	}
	endpoints := map[string][]*hirehook.Endpoint{} // by tenant, loaded once per batch
	var version int64 = -1                         // endpoint_version, read once per batch
	seen := map[string]int{}                       // tenant+id / tenant+key → index in results
	results := make([]hirehook.EventIngestResult, len(p.Events))

	for i, e := range p.Events {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ingest event %d: %w", i, err)
		}
		if e.ID == "" || e.TenantID == "" || e.Subject.Entity == "" || e.Subject.ID == "" {
			return nil, hirehook.Errorf(hirehook.EINVALID, "Event %d of the batch needs an id, a tenant and a subject.", i)
		}
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

		eps, ok := endpoints[e.TenantID]
		if !ok {
			if version < 0 {
				if version, err = s.endpointVersion(sctx, tx); err != nil {
					return nil, err
				}
			}
			if eps, err = s.endpoints.get(sctx, tx, version, e.TenantID); err != nil {
				return nil, err
			}
			endpoints[e.TenantID] = eps
		}
		matched, filter := e.Recipients(eps)
		if e.Payload == nil {
			if e.Payload, err = e.RenderPayload(); err != nil {
				return nil, fmt.Errorf("render event %s: %w", e.ID, err)
			}
		}
		if p.MatchFunc != nil && filter && len(matched) > 0 {
			if matched, err = p.MatchFunc(ctx, e, matched); err != nil {
				return nil, fmt.Errorf("match endpoints of event %s: %w", e.ID, err)
			}
		}
		var idem any
		if e.IdempotencyKey != "" {
			idem = e.IdempotencyKey
		}
		res, err := insertEvent.ExecContext(sctx, e.TenantID, e.ID, e.Type, toMicros(e.OccurredAt), now, e.Source,
			e.Subject.Entity, e.Subject.ID, idem, len(matched), e.Payload)
		if err != nil {
			return nil, fmt.Errorf("insert event %s: %w", e.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("insert event %s: %w", e.ID, err)
		} else if n == 0 {
			// A conflict on the id or the idempotency key: answer as the
			// first time, write nothing.
			first, err := firstAnswer(sctx, tx, e)
			if err != nil {
				return nil, err
			}
			results[i] = first
			continue
		}
		seen[idKey] = i
		if idemKey != "" {
			seen[idemKey] = i
		}
		e.ReceivedAt = p.Now.UTC()
		e.Deliveries = len(matched)

		if _, err := upsertRecord.ExecContext(sctx, e.TenantID, e.Subject.Entity, e.Subject.ID, e.DeletesSubject(),
			[]byte(e.Data), e.ID, now, now); err != nil {
			return nil, fmt.Errorf("upsert record %s/%s: %w", e.Subject.Entity, e.Subject.ID, err)
		}

		result := hirehook.EventIngestResult{EventID: e.ID, Deliveries: len(matched)}
		var rows [][]any // the event's deliveries, for one multi-row insert
		for _, ep := range matched {
			state, leaseOwner, leaseUntil := state, leaseOwner, leaseUntil
			var orderingKey any
			if ep.Ordered {
				key := e.Subject.Key()
				orderingKey = key
				held, err := s.orderHeld(sctx, tx, ep.ID, key)
				if err != nil {
					return nil, err
				}
				if held {
					// An earlier delivery of the subject is unfinished: this
					// one waits, pending, and is claimed after it.
					state, leaseOwner, leaseUntil = hirehook.DeliveryPending, nil, nil
				}
			}
			d := &hirehook.Delivery{
				TenantID:   e.TenantID,
				ID:         hirehook.NewID("dlv"),
				EventID:    e.ID,
				EventType:  e.Type,
				EndpointID: ep.ID,
				State:      state,
				CreatedAt:  p.Now.UTC(),
				UpdatedAt:  p.Now.UTC(),
			}
			if orderingKey != nil {
				d.OrderingKey = orderingKey.(string)
			}
			if len(matched) == 1 {
				if _, err := insertDelivery.ExecContext(sctx, d.ID, d.TenantID, d.EventID, d.EventType, d.EndpointID, string(state),
					now, leaseOwner, leaseUntil, now, now, orderingKey); err != nil {
					return nil, fmt.Errorf("insert delivery of event %s to endpoint %s: %w", e.ID, ep.ID, err)
				}
			} else {
				rows = append(rows, []any{d.ID, d.TenantID, d.EventID, d.EventType, d.EndpointID, string(state), leaseOwner, leaseUntil, orderingKey})
			}
			if state == hirehook.DeliveryDelivering {
				d.Payload = e.Payload
				d.LeaseExpiresAt = p.LeaseUntil
				result.Leased = append(result.Leased, d)
			}
		}
		if len(rows) > 0 {
			b, err := json.Marshal(rows)
			if err != nil {
				return nil, err
			}
			if _, err := insertDeliveries.ExecContext(sctx, b, now); err != nil {
				return nil, fmt.Errorf("insert %d deliveries of event %s: %w", len(rows), e.ID, err)
			}
		}
		results[i] = result
	}
	return results, nil
}

// orderHeld reports whether endpointID has an unfinished delivery with
// the ordering key.
func (s *Store) orderHeld(ctx context.Context, tx *sql.Tx, endpointID, key string) (bool, error) {
	stmt, err := s.stmt(ctx, tx, qOrderHeld)
	if err != nil {
		return false, fmt.Errorf("prepare order check: %w", err)
	}
	var n int
	if err := stmt.QueryRowContext(ctx, endpointID, key).Scan(&n); err != nil {
		return false, fmt.Errorf("check order of %s at endpoint %s: %w", key, endpointID, err)
	}
	return n > 0, nil
}

func firstAnswer(ctx context.Context, tx *sql.Tx, e *hirehook.Event) (hirehook.EventIngestResult, error) {
	r := hirehook.EventIngestResult{Duplicate: true}
	var err error
	if e.IdempotencyKey != "" {
		err = tx.QueryRowContext(ctx, `SELECT id, deliveries FROM events WHERE tenant_id = ? AND idempotency_key = ?`,
			e.TenantID, e.IdempotencyKey).Scan(&r.EventID, &r.Deliveries)
		if err == nil {
			return r, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return r, fmt.Errorf("select event by idempotency key: %w", err)
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT id, deliveries FROM events WHERE tenant_id = ? AND id = ?`, e.TenantID, e.ID).
		Scan(&r.EventID, &r.Deliveries)
	if err != nil {
		return r, fmt.Errorf("select duplicate event %s: %w", e.ID, err)
	}
	return r, nil
}

// endpointVersion reads endpoint_version inside tx.
func (s *Store) endpointVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	stmt, err := s.stmt(ctx, tx, qEndpointVersion)
	if err != nil {
		return 0, fmt.Errorf("prepare endpoint version: %w", err)
	}
	var v int64
	if err := stmt.QueryRowContext(ctx).Scan(&v); err != nil {
		return 0, fmt.Errorf("select endpoint version: %w", err)
	}
	return v, nil
}

// endpointCache holds the enabled endpoints of recently seen tenants as of
// one endpoint_version. The endpoints in it are shared and must not be
// modified.
type endpointCache struct {
	mu       sync.Mutex
	version  int64
	byTenant map[string][]*hirehook.Endpoint
}

// maxCachedTenants bounds the cache; past it the cache starts over.
const maxCachedTenants = 10000

// get returns tenantID's enabled endpoints, read through tx when the cache
// does not hold them at version. version must have been read in tx: the
// write transaction then makes the cached list exactly what a query would
// return.
func (c *endpointCache) get(ctx context.Context, tx *sql.Tx, version int64, tenantID string) ([]*hirehook.Endpoint, error) {
	c.mu.Lock()
	if c.byTenant == nil || c.version != version || len(c.byTenant) >= maxCachedTenants {
		c.byTenant, c.version = map[string][]*hirehook.Endpoint{}, version
	}
	eps, ok := c.byTenant[tenantID]
	c.mu.Unlock()
	if ok {
		return eps, nil
	}
	eps, err := enabledEndpoints(ctx, tx, tenantID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.version == version {
		c.byTenant[tenantID] = eps
	}
	c.mu.Unlock()
	return eps, nil
}

// reset empties the cache.
func (c *endpointCache) reset() {
	c.mu.Lock()
	c.byTenant = nil
	c.mu.Unlock()
}

func enabledEndpoints(ctx context.Context, tx *sql.Tx, tenantID string) ([]*hirehook.Endpoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, event_types, ordered, filter, redact FROM endpoints WHERE tenant_id = ? AND disabled = 0 ORDER BY seq`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("select endpoints of tenant %s: %w", tenantID, err)
	}
	defer rows.Close()
	var out []*hirehook.Endpoint
	for rows.Next() {
		var ep hirehook.Endpoint
		var types, redact []byte
		if err := rows.Scan(&ep.ID, &types, &ep.Ordered, &ep.Filter, &redact); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(redact, &ep.Redact); err != nil {
			return nil, fmt.Errorf("decode endpoint %s redact: %w", ep.ID, err)
		}
		if err := json.Unmarshal(types, &ep.EventTypes); err != nil {
			return nil, fmt.Errorf("decode endpoint %s event types: %w", ep.ID, err)
		}
		out = append(out, &ep)
	}
	return out, rows.Err()
}

const eventColumns = `seq, tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, deliveries, payload`

func scanEvent(row scanner) (*hirehook.Event, error) {
	var e hirehook.Event
	var seq, occurred, received int64
	if err := row.Scan(&seq, &e.TenantID, &e.ID, &e.Type, &occurred, &received, &e.Source, &e.Subject.Entity, &e.Subject.ID, &e.Deliveries, &e.Payload); err != nil {
		return nil, err
	}
	e.OccurredAt, e.ReceivedAt = fromMicros(occurred), fromMicros(received)
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
	e, err := scanEvent(s.reader.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Event %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select event %s: %w", id, err)
	}
	return e, nil
}

// EventList implements hirehook.Store.
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
	var where []string
	args := []any{f.TenantID}
	where = append(where, "tenant_id = ?")
	if f.After != "" {
		seq, err := s.cursorSeq(ctx, "events", "event", f.TenantID, f.After)
		if err != nil {
			return nil, err
		}
		if f.Descending {
			where, args = append(where, "seq < ?"), append(args, seq)
		} else {
			where, args = append(where, "seq > ?"), append(args, seq)
		}
	}
	if f.Type != nil {
		where, args = append(where, "type = ?"), append(args, *f.Type)
	}
	if f.Entity != nil {
		where, args = append(where, "subject_entity = ?"), append(args, *f.Entity)
	}
	if f.SubjectID != nil {
		where, args = append(where, "subject_id = ?"), append(args, *f.SubjectID)
	}
	// Source and time narrow the scan of seq order; received_at follows
	// seq (both are set at commit), so a range stops the walk early.
	if f.Source != nil {
		where, args = append(where, "source = ?"), append(args, *f.Source)
	}
	if f.ReceivedAfter != nil {
		where, args = append(where, "received_at >= ?"), append(args, toMicros(*f.ReceivedAfter))
	}
	if f.ReceivedBefore != nil {
		where, args = append(where, "received_at < ?"), append(args, toMicros(*f.ReceivedBefore))
	}
	args = append(args, limit(f.Limit))
	order := "seq"
	if f.Descending {
		order = "seq DESC"
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT ?`, args...)
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
	var created, updated int64
	err := s.reader.QueryRowContext(ctx, `SELECT tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at
		FROM records WHERE tenant_id = ? AND entity = ? AND id = ?`, tenantID, entity, id).
		Scan(&r.TenantID, &r.Entity, &r.ID, &r.Version, &r.Deleted, &data, &r.LastEventID, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "No %s record %q.", entity, id)
	} else if err != nil {
		return nil, fmt.Errorf("select record %s/%s: %w", entity, id, err)
	}
	r.Data = data
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}
