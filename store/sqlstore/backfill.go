package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

// RecordList implements hirehook.Store: ids compare byte by byte
// (Dialect.Bytewise), so that a page's cursor and its order agree.
func (c *CRUD) RecordList(ctx context.Context, p hirehook.RecordListParams) ([]*hirehook.Record, error) {
	rows, err := c.d.Reader.QueryContext(ctx, c.d.Rebind(`SELECT tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at
		FROM records WHERE tenant_id = ? AND entity = ? AND id`+c.d.Bytewise+` > ? AND deleted = FALSE ORDER BY id`+c.d.Bytewise+` LIMIT ?`),
		p.TenantID, p.Entity, p.After, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list %s records: %w", p.Entity, err)
	}
	defer rows.Close()
	var out []*hirehook.Record
	for rows.Next() {
		var r hirehook.Record
		var data []byte
		var created, updated Time
		if err := rows.Scan(&r.TenantID, &r.Entity, &r.ID, &r.Version, &r.Deleted, &data, &r.LastEventID, &created, &updated); err != nil {
			return nil, fmt.Errorf("scan %s record: %w", p.Entity, err)
		}
		r.Data = data
		r.CreatedAt, r.UpdatedAt = created.Time, updated.Time
		out = append(out, &r)
	}
	return out, rows.Err()
}

const backfillColumns = `id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, cursor_entity, cursor_id,
	scanned, sent, skipped, error, lease_owner, lease_until, created_at, updated_at, finished_at`

func scanBackfill(row rowScanner) (*hirehook.Backfill, error) {
	var b hirehook.Backfill
	var entities []byte
	var owner sql.NullString
	var until, finished NullTime
	var created, updated Time
	if err := row.Scan(&b.ID, &b.TenantID, &b.EndpointID, &entities, &b.Filter, &b.RatePerSecond, &b.State,
		&b.Cursor.Entity, &b.Cursor.ID, &b.Scanned, &b.Sent, &b.Skipped, &b.Error, &owner, &until,
		&created, &updated, &finished); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(entities, &b.Entities); err != nil {
		return nil, fmt.Errorf("decode entities of backfill %s: %w", b.ID, err)
	}
	b.LeaseOwner = owner.String
	if until.Time != nil {
		b.LeaseUntil = *until.Time
	}
	b.CreatedAt, b.UpdatedAt, b.FinishedAt = created.Time, updated.Time, finished.Time
	return &b, nil
}

// BackfillCreate implements hirehook.Store.
func (c *CRUD) BackfillCreate(ctx context.Context, b *hirehook.Backfill) error {
	entities, err := json.Marshal(b.Entities)
	if err != nil {
		return err
	}
	res, err := c.exec(ctx, `INSERT INTO backfills (id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM endpoints WHERE tenant_id = ? AND id = ?)`,
		b.ID, b.TenantID, b.EndpointID, string(entities), b.Filter, b.RatePerSecond, string(b.State),
		c.d.TimeFunc(b.CreatedAt), c.d.TimeFunc(b.UpdatedAt), b.TenantID, b.EndpointID)
	if c.d.IsUniqueFunc(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Backfill %q exists.", b.ID)
	} else if err != nil {
		return fmt.Errorf("insert backfill %s: %w", b.ID, c.d.mapError(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("insert backfill %s: %w", b.ID, err)
	} else if n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "No endpoint %q.", b.EndpointID)
	}
	return nil
}

// BackfillGet implements hirehook.Store.
func (c *CRUD) BackfillGet(ctx context.Context, tenantID, id string) (*hirehook.Backfill, error) {
	return c.backfillGet(ctx, c.d.Reader, tenantID, id, "")
}

// backfillGet reads one backfill; lock is "" or Dialect.ForUpdate.
func (c *CRUD) backfillGet(ctx context.Context, q rowQuerier, tenantID, id, lock string) (*hirehook.Backfill, error) {
	b, err := scanBackfill(q.QueryRowContext(ctx, c.d.Rebind(`SELECT `+backfillColumns+` FROM backfills WHERE tenant_id = ? AND id = ?`+lock), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "No backfill %q.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select backfill %s: %w", id, err)
	}
	return b, nil
}

// scanBackfills reads the backfills of rows, closing it.
func scanBackfills(rows *sql.Rows) ([]*hirehook.Backfill, error) {
	return scanAll(rows, func(row rowScanner) (*hirehook.Backfill, error) {
		b, err := scanBackfill(row)
		if err != nil {
			return nil, fmt.Errorf("scan backfill: %w", err)
		}
		return b, nil
	})
}

// BackfillList implements hirehook.Store.
func (c *CRUD) BackfillList(ctx context.Context, tenantID, endpointID string) ([]*hirehook.Backfill, error) {
	rows, err := c.d.Reader.QueryContext(ctx, c.d.Rebind(`SELECT `+backfillColumns+` FROM backfills
		WHERE tenant_id = ? AND endpoint_id = ? ORDER BY created_at DESC, id DESC`), tenantID, endpointID)
	if err != nil {
		return nil, fmt.Errorf("list backfills of endpoint %s: %w", endpointID, err)
	}
	return scanBackfills(rows)
}

// BackfillCancel implements hirehook.Store.
func (c *CRUD) BackfillCancel(ctx context.Context, tenantID, id string, now time.Time) (*hirehook.Backfill, error) {
	var out *hirehook.Backfill
	err := c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		b, err := c.backfillGet(ctx, tx, tenantID, id, c.d.ForUpdate)
		if err != nil {
			return err
		}
		if b.State != hirehook.BackfillRunning {
			return hirehook.Errorf(hirehook.ECONFLICT, "Backfill %q is %s, not running.", id, b.State)
		}
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE backfills SET state = 'cancelled', lease_owner = NULL, lease_until = NULL,
			updated_at = ?, finished_at = ? WHERE id = ?`), c.d.TimeFunc(now), c.d.TimeFunc(now), id); err != nil {
			return fmt.Errorf("cancel backfill %s: %w", id, err)
		}
		out, err = c.backfillGet(ctx, tx, tenantID, id, "")
		return err
	})
	return out, err
}

// BackfillLease implements hirehook.Store: the running backfills no one
// holds, whose lease expired or that p.Owner holds, oldest first; several
// nodes lease at once without waiting for each other (Dialect.SkipLocked).
func (c *CRUD) BackfillLease(ctx context.Context, p hirehook.BackfillLeaseParams) ([]*hirehook.Backfill, error) {
	var out []*hirehook.Backfill
	err := c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE backfills SET lease_owner = ?, lease_until = ?
			WHERE id IN (SELECT id FROM backfills WHERE state = 'running'
				AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?) ORDER BY created_at LIMIT ?`+c.d.SkipLocked+`)`),
			p.Owner, c.d.TimeFunc(p.Until), p.Owner, c.d.TimeFunc(p.Now), p.Limit); err != nil {
			return fmt.Errorf("lease backfills: %w", err)
		}
		rows, err := tx.QueryContext(ctx, c.d.Rebind(`SELECT `+backfillColumns+` FROM backfills WHERE state = 'running' AND lease_owner = ? ORDER BY created_at`), p.Owner)
		if err != nil {
			return fmt.Errorf("select leased backfills: %w", err)
		}
		out, err = scanBackfills(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// heldBackfill returns the backfill if it is running and owner holds it.
func (c *CRUD) heldBackfill(ctx context.Context, tx *sql.Tx, tenantID, id, owner string) (*hirehook.Backfill, error) {
	b, err := c.backfillGet(ctx, tx, tenantID, id, c.d.ForUpdate)
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
func (c *CRUD) BackfillEnqueue(ctx context.Context, p hirehook.BackfillEnqueueParams) error {
	return c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		b, err := c.heldBackfill(ctx, tx, p.TenantID, p.BackfillID, p.Owner)
		if err != nil {
			return err
		}
		var ordered bool
		err = tx.QueryRowContext(ctx, c.d.Rebind(`SELECT ordered FROM endpoints WHERE tenant_id = ? AND id = ?`), p.TenantID, b.EndpointID).Scan(&ordered)
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "No endpoint %q.", b.EndpointID)
		} else if err != nil {
			return fmt.Errorf("select endpoint %s: %w", b.EndpointID, err)
		}
		now := c.d.TimeFunc(p.Now)
		for _, e := range p.Events {
			payload := e.Payload
			if payload == nil {
				if payload, err = e.RenderPayload(); err != nil {
					return fmt.Errorf("render event %s: %w", e.ID, err)
				}
			}
			if _, err := tx.ExecContext(ctx, c.d.Rebind(`INSERT INTO events
				(tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 1, ?)`), p.TenantID, e.ID, e.Type, c.d.TimeFunc(e.OccurredAt), now, e.Source,
				e.Subject.Entity, e.Subject.ID, payload); err != nil {
				if c.d.IsUniqueFunc(err) {
					return hirehook.Errorf(hirehook.ECONFLICT, "Event %q exists.", e.ID)
				}
				return fmt.Errorf("insert snapshot event %s: %w", e.ID, err)
			}
			var orderingKey any
			if ordered {
				orderingKey = e.Subject.Key()
			}
			if _, err := tx.ExecContext(ctx, c.d.Rebind(`INSERT INTO deliveries
				(id, tenant_id, event_id, event_type, endpoint_id, state, next_attempt_at, created_at, updated_at, ordering_key)
				VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`),
				hirehook.NewID("dlv"), p.TenantID, e.ID, e.Type, b.EndpointID, now, now, now, orderingKey); err != nil {
				return fmt.Errorf("insert delivery of snapshot %s: %w", e.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE backfills SET cursor_entity = ?, cursor_id = ?, scanned = scanned + ?,
			sent = sent + ?, skipped = skipped + ?, updated_at = ? WHERE id = ?`),
			p.Cursor.Entity, p.Cursor.ID, p.Scanned, len(p.Events), p.Skipped, now, p.BackfillID); err != nil {
			return fmt.Errorf("advance backfill %s: %w", p.BackfillID, err)
		}
		if len(p.Events) > 0 {
			return c.d.notify(ctx, tx) // wake every node's dispatcher
		}
		return nil
	})
}

// BackfillFinish implements hirehook.Store.
func (c *CRUD) BackfillFinish(ctx context.Context, p hirehook.BackfillFinishParams) error {
	return c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		if _, err := c.heldBackfill(ctx, tx, p.TenantID, p.BackfillID, p.Owner); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE backfills SET state = ?, error = ?, lease_owner = NULL, lease_until = NULL,
			updated_at = ?, finished_at = ? WHERE id = ?`), string(p.State), p.Error, c.d.TimeFunc(p.Now), c.d.TimeFunc(p.Now), p.BackfillID); err != nil {
			return fmt.Errorf("finish backfill %s: %w", p.BackfillID, err)
		}
		return nil
	})
}
