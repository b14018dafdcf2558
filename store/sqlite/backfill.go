package sqlite

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
	var entities string
	var owner sql.NullString
	var until, finished sql.NullInt64
	var created, updated int64
	if err := row.Scan(&b.ID, &b.TenantID, &b.EndpointID, &entities, &b.Filter, &b.RatePerSecond, &b.State,
		&b.Cursor.Entity, &b.Cursor.ID, &b.Scanned, &b.Sent, &b.Skipped, &b.Error, &owner, &until,
		&created, &updated, &finished); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(entities), &b.Entities); err != nil {
		return nil, fmt.Errorf("decode entities of backfill %s: %w", b.ID, err)
	}
	b.LeaseOwner = owner.String
	if until.Valid {
		b.LeaseUntil = fromMicros(until.Int64)
	}
	b.CreatedAt, b.UpdatedAt = fromMicros(created), fromMicros(updated)
	if finished.Valid {
		t := fromMicros(finished.Int64)
		b.FinishedAt = &t
	}
	return &b, nil
}

// RecordList implements hirehook.Store.
func (s *Store) RecordList(ctx context.Context, p hirehook.RecordListParams) ([]*hirehook.Record, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at
		FROM records WHERE tenant_id = ? AND entity = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?`,
		p.TenantID, p.Entity, p.After, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list %s records: %w", p.Entity, err)
	}
	defer rows.Close()
	var out []*hirehook.Record
	for rows.Next() {
		var r hirehook.Record
		var data []byte
		var created, updated int64
		if err := rows.Scan(&r.TenantID, &r.Entity, &r.ID, &r.Version, &r.Deleted, &data, &r.LastEventID, &created, &updated); err != nil {
			return nil, fmt.Errorf("scan %s record: %w", p.Entity, err)
		}
		r.Data = data
		r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
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
	res, err := s.writer.ExecContext(ctx, `INSERT INTO backfills (id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM endpoints WHERE tenant_id = ? AND id = ?)`,
		b.ID, b.TenantID, b.EndpointID, string(entities), b.Filter, b.RatePerSecond, string(b.State),
		toMicros(b.CreatedAt), toMicros(b.UpdatedAt), b.TenantID, b.EndpointID)
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Backfill %q exists.", b.ID)
	} else if err != nil {
		return fmt.Errorf("insert backfill %s: %w", b.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("insert backfill %s: %w", b.ID, err)
	} else if n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "No endpoint %q.", b.EndpointID)
	}
	return nil
}

// BackfillGet implements hirehook.Store.
func (s *Store) BackfillGet(ctx context.Context, tenantID, id string) (*hirehook.Backfill, error) {
	return backfillGet(ctx, s.reader, tenantID, id)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func backfillGet(ctx context.Context, q queryRower, tenantID, id string) (*hirehook.Backfill, error) {
	b, err := scanBackfill(q.QueryRowContext(ctx, `SELECT `+backfillColumns+` FROM backfills WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "No backfill %q.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select backfill %s: %w", id, err)
	}
	return b, nil
}

// BackfillList implements hirehook.Store.
func (s *Store) BackfillList(ctx context.Context, tenantID, endpointID string) ([]*hirehook.Backfill, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+backfillColumns+` FROM backfills
		WHERE tenant_id = ? AND endpoint_id = ? ORDER BY created_at DESC, id DESC`, tenantID, endpointID)
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
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	b, err := backfillGet(ctx, tx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if b.State != hirehook.BackfillRunning {
		return nil, hirehook.Errorf(hirehook.ECONFLICT, "Backfill %q is %s, not running.", id, b.State)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE backfills SET state = 'cancelled', lease_owner = NULL, lease_until = NULL,
		updated_at = ?, finished_at = ? WHERE id = ?`, toMicros(now), toMicros(now), id); err != nil {
		return nil, fmt.Errorf("cancel backfill %s: %w", id, err)
	}
	if b, err = backfillGet(ctx, tx, tenantID, id); err != nil {
		return nil, err
	}
	return b, tx.Commit()
}

// BackfillLease implements hirehook.Store. With one writer there is no race
// between the select and the update.
func (s *Store) BackfillLease(ctx context.Context, p hirehook.BackfillLeaseParams) ([]*hirehook.Backfill, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE backfills SET lease_owner = ?1, lease_until = ?2
		WHERE id IN (SELECT id FROM backfills WHERE state = 'running'
			AND (lease_owner IS NULL OR lease_owner = ?1 OR lease_until < ?3) ORDER BY created_at LIMIT ?4)`,
		p.Owner, toMicros(p.Until), toMicros(p.Now), p.Limit); err != nil {
		return nil, fmt.Errorf("lease backfills: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+backfillColumns+` FROM backfills WHERE state = 'running' AND lease_owner = ? ORDER BY created_at`, p.Owner)
	if err != nil {
		return nil, fmt.Errorf("select leased backfills: %w", err)
	}
	defer rows.Close()
	var out []*hirehook.Backfill
	for rows.Next() {
		b, err := scanBackfill(rows)
		if err != nil {
			return nil, fmt.Errorf("scan backfill: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, tx.Commit()
}

// heldBackfill returns the backfill if it is running and owner holds it.
func heldBackfill(ctx context.Context, tx *sql.Tx, tenantID, id, owner string) (*hirehook.Backfill, error) {
	b, err := backfillGet(ctx, tx, tenantID, id)
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
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	b, err := heldBackfill(ctx, tx, p.TenantID, p.BackfillID, p.Owner)
	if err != nil {
		return err
	}
	var ordered bool
	err = tx.QueryRowContext(ctx, `SELECT ordered FROM endpoints WHERE tenant_id = ? AND id = ?`, p.TenantID, b.EndpointID).Scan(&ordered)
	if errors.Is(err, sql.ErrNoRows) {
		return hirehook.Errorf(hirehook.ENOTFOUND, "No endpoint %q.", b.EndpointID)
	} else if err != nil {
		return fmt.Errorf("select endpoint %s: %w", b.EndpointID, err)
	}
	now := toMicros(p.Now)
	for _, e := range p.Events {
		if e.Payload == nil {
			if e.Payload, err = e.RenderPayload(); err != nil {
				return fmt.Errorf("render event %s: %w", e.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO events
			(tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 1, ?)`, p.TenantID, e.ID, e.Type, toMicros(e.OccurredAt), now, e.Source,
			e.Subject.Entity, e.Subject.ID, e.Payload); err != nil {
			if isUniqueViolation(err) {
				return hirehook.Errorf(hirehook.ECONFLICT, "Event %q exists.", e.ID)
			}
			return fmt.Errorf("insert snapshot event %s: %w", e.ID, err)
		}
		var orderingKey any
		if ordered {
			orderingKey = e.Subject.Key()
		}
		if _, err := tx.ExecContext(ctx, qInsertDelivery, hirehook.NewID("dlv"), p.TenantID, e.ID, e.Type, b.EndpointID,
			string(hirehook.DeliveryPending), now, nil, nil, now, now, orderingKey); err != nil {
			return fmt.Errorf("insert delivery of snapshot %s: %w", e.ID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE backfills SET cursor_entity = ?, cursor_id = ?, scanned = scanned + ?,
		sent = sent + ?, skipped = skipped + ?, updated_at = ? WHERE id = ?`,
		p.Cursor.Entity, p.Cursor.ID, p.Scanned, len(p.Events), p.Skipped, now, p.BackfillID); err != nil {
		return fmt.Errorf("advance backfill %s: %w", p.BackfillID, err)
	}
	return tx.Commit()
}

// BackfillFinish implements hirehook.Store.
func (s *Store) BackfillFinish(ctx context.Context, p hirehook.BackfillFinishParams) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := heldBackfill(ctx, tx, p.TenantID, p.BackfillID, p.Owner); err != nil {
		return err
	}
	now := toMicros(p.Now)
	if _, err := tx.ExecContext(ctx, `UPDATE backfills SET state = ?, error = ?, lease_owner = NULL, lease_until = NULL,
		updated_at = ?, finished_at = ? WHERE id = ?`, string(p.State), p.Error, now, now, p.BackfillID); err != nil {
		return fmt.Errorf("finish backfill %s: %w", p.BackfillID, err)
	}
	return tx.Commit()
}
