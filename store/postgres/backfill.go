package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

const backfillColumns = `id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, cursor_entity, cursor_id,
	scanned, sent, skipped, error, lease_owner, lease_until, created_at, updated_at, finished_at`

func scanBackfill(row interface{ Scan(...any) error }) (*hirehook.Backfill, error) {
	var b hirehook.Backfill
	var entities []byte
	var owner sql.NullString
	var until, finished sql.NullTime
	if err := row.Scan(&b.ID, &b.TenantID, &b.EndpointID, &entities, &b.Filter, &b.RatePerSecond, &b.State,
		&b.Cursor.Entity, &b.Cursor.ID, &b.Scanned, &b.Sent, &b.Skipped, &b.Error, &owner, &until,
		&b.CreatedAt, &b.UpdatedAt, &finished); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(entities, &b.Entities); err != nil {
		return nil, fmt.Errorf("decode entities of backfill %s: %w", b.ID, err)
	}
	b.LeaseOwner = owner.String
	if until.Valid {
		b.LeaseUntil = utc(until.Time)
	}
	b.CreatedAt, b.UpdatedAt = utc(b.CreatedAt), utc(b.UpdatedAt)
	b.FinishedAt = ptrTime(finished)
	return &b, nil
}

// RecordList implements hirehook.Store.
func (s *Store) RecordList(ctx context.Context, p hirehook.RecordListParams) ([]*hirehook.Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at
		FROM records WHERE tenant_id = $1 AND entity = $2 AND id COLLATE "C" > $3 AND NOT deleted ORDER BY id COLLATE "C" LIMIT $4`,
		p.TenantID, p.Entity, p.After, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list %s records: %w", p.Entity, err)
	}
	defer rows.Close()
	var out []*hirehook.Record
	for rows.Next() {
		var r hirehook.Record
		var data []byte
		if err := rows.Scan(&r.TenantID, &r.Entity, &r.ID, &r.Version, &r.Deleted, &data, &r.LastEventID, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan %s record: %w", p.Entity, err)
		}
		r.Data = data
		r.CreatedAt, r.UpdatedAt = utc(r.CreatedAt), utc(r.UpdatedAt)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// BackfillCreate implements hirehook.Store.
func (s *Store) BackfillCreate(ctx context.Context, b *hirehook.Backfill) error {
	entities, err := json.Marshal(b.Entities)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO backfills (id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, created_at, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM endpoints WHERE tenant_id = $2 AND id = $3)`,
		b.ID, b.TenantID, b.EndpointID, string(entities), b.Filter, b.RatePerSecond, string(b.State), b.CreatedAt, b.UpdatedAt)
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Backfill %q exists.", b.ID)
	} else if err != nil {
		return fmt.Errorf("insert backfill %s: %w", b.ID, mapError(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("insert backfill %s: %w", b.ID, err)
	} else if n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "No endpoint %q.", b.EndpointID)
	}
	return nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func backfillGet(ctx context.Context, q queryRower, tenantID, id, lock string) (*hirehook.Backfill, error) {
	b, err := scanBackfill(q.QueryRowContext(ctx, `SELECT `+backfillColumns+` FROM backfills WHERE tenant_id = $1 AND id = $2 `+lock, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "No backfill %q.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select backfill %s: %w", id, err)
	}
	return b, nil
}

// BackfillGet implements hirehook.Store.
func (s *Store) BackfillGet(ctx context.Context, tenantID, id string) (*hirehook.Backfill, error) {
	return backfillGet(ctx, s.db, tenantID, id, "")
}

// BackfillList implements hirehook.Store.
func (s *Store) BackfillList(ctx context.Context, tenantID, endpointID string) ([]*hirehook.Backfill, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+backfillColumns+` FROM backfills
		WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY created_at DESC, id DESC`, tenantID, endpointID)
	if err != nil {
		return nil, fmt.Errorf("list backfills of endpoint %s: %w", endpointID, err)
	}
	defer rows.Close()
	out := []*hirehook.Backfill{}
	for rows.Next() {
		b, err := scanBackfill(rows)
		if err != nil {
			return nil, fmt.Errorf("scan backfill: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// BackfillCancel implements hirehook.Store.
func (s *Store) BackfillCancel(ctx context.Context, tenantID, id string, now time.Time) (*hirehook.Backfill, error) {
	var out *hirehook.Backfill
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		b, err := backfillGet(ctx, tx, tenantID, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if b.State != hirehook.BackfillRunning {
			return hirehook.Errorf(hirehook.ECONFLICT, "Backfill %q is %s, not running.", id, b.State)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE backfills SET state = 'cancelled', lease_owner = NULL, lease_until = NULL,
			updated_at = $1, finished_at = $1 WHERE id = $2`, now, id); err != nil {
			return fmt.Errorf("cancel backfill %s: %w", id, err)
		}
		out, err = backfillGet(ctx, tx, tenantID, id, "")
		return err
	})
	return out, err
}

// BackfillLease implements hirehook.Store. SKIP LOCKED lets nodes lease at
// once without waiting for each other.
func (s *Store) BackfillLease(ctx context.Context, p hirehook.BackfillLeaseParams) ([]*hirehook.Backfill, error) {
	var out []*hirehook.Backfill
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = nil
		if _, err := tx.ExecContext(ctx, `UPDATE backfills SET lease_owner = $1, lease_until = $2
			WHERE id IN (SELECT id FROM backfills WHERE state = 'running'
				AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $3) ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED)`,
			p.Owner, p.Until, p.Now, p.Limit); err != nil {
			return fmt.Errorf("lease backfills: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+backfillColumns+` FROM backfills WHERE state = 'running' AND lease_owner = $1 ORDER BY created_at`, p.Owner)
		if err != nil {
			return fmt.Errorf("select leased backfills: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			b, err := scanBackfill(rows)
			if err != nil {
				return fmt.Errorf("scan backfill: %w", err)
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}

func heldBackfill(ctx context.Context, tx *sql.Tx, tenantID, id, owner string) (*hirehook.Backfill, error) {
	b, err := backfillGet(ctx, tx, tenantID, id, "FOR UPDATE")
	if err != nil {
		return nil, err
	}
	if b.State != hirehook.BackfillRunning {
		return nil, hirehook.Errorf(hirehook.ECONFLICT, "Backfill %q is %s, not running.", id, b.State)
	}
	if b.LeaseOwner != owner {
		return nil, hirehook.Errorf(hirehook.ECONFLICT, "Backfill %q is not held by %s.", id, owner)
	}
	return b, nil
}

// BackfillEnqueue implements hirehook.Store.
func (s *Store) BackfillEnqueue(ctx context.Context, p hirehook.BackfillEnqueueParams) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		b, err := heldBackfill(ctx, tx, p.TenantID, p.BackfillID, p.Owner)
		if err != nil {
			return err
		}
		var ordered bool
		err = tx.QueryRowContext(ctx, `SELECT ordered FROM endpoints WHERE tenant_id = $1 AND id = $2`, p.TenantID, b.EndpointID).Scan(&ordered)
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "No endpoint %q.", b.EndpointID)
		} else if err != nil {
			return fmt.Errorf("select endpoint %s: %w", b.EndpointID, err)
		}
		for _, e := range p.Events {
			payload := e.Payload
			if payload == nil {
				if payload, err = e.RenderPayload(); err != nil {
					return fmt.Errorf("render event %s: %w", e.ID, err)
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO events
				(tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 1, $9)`, p.TenantID, e.ID, e.Type, e.OccurredAt, p.Now, e.Source,
				e.Subject.Entity, e.Subject.ID, payload); err != nil {
				if isUniqueViolation(err) {
					return hirehook.Errorf(hirehook.ECONFLICT, "Event %q exists.", e.ID)
				}
				return fmt.Errorf("insert snapshot event %s: %w", e.ID, err)
			}
			var orderingKey any
			if ordered {
				orderingKey = e.Subject.Key()
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries
				(id, tenant_id, event_id, event_type, endpoint_id, state, next_attempt_at, created_at, updated_at, ordering_key)
				VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6, $6, $7)`,
				hirehook.NewID("dlv"), p.TenantID, e.ID, e.Type, b.EndpointID, p.Now, orderingKey); err != nil {
				return fmt.Errorf("insert delivery of snapshot %s: %w", e.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE backfills SET cursor_entity = $1, cursor_id = $2, scanned = scanned + $3,
			sent = sent + $4, skipped = skipped + $5, updated_at = $6 WHERE id = $7`,
			p.Cursor.Entity, p.Cursor.ID, p.Scanned, len(p.Events), p.Skipped, p.Now, p.BackfillID); err != nil {
			return fmt.Errorf("advance backfill %s: %w", p.BackfillID, err)
		}
		if len(p.Events) > 0 {
			return notify(ctx, tx) // wake every node's dispatcher
		}
		return nil
	})
}

// BackfillFinish implements hirehook.Store.
func (s *Store) BackfillFinish(ctx context.Context, p hirehook.BackfillFinishParams) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := heldBackfill(ctx, tx, p.TenantID, p.BackfillID, p.Owner); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE backfills SET state = $1, error = $2, lease_owner = NULL, lease_until = NULL,
			updated_at = $3, finished_at = $3 WHERE id = $4`, string(p.State), p.Error, p.Now, p.BackfillID); err != nil {
			return fmt.Errorf("finish backfill %s: %w", p.BackfillID, err)
		}
		return nil
	})
}
