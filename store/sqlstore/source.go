package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// SourceColumns are the columns of a source as the core reads them, in
// order.
const SourceColumns = `id, tenant_id, kind, name, config, secrets, enabled, health, checkpoint, lease_owner, lease_until, created_at, updated_at`

// noLease is lease_until of a source no one holds: the epoch (0 on SQLite).
var noLease = time.Unix(0, 0).UTC()

// mergeSecrets applies an update's secrets to cur: empty values remove.
func mergeSecrets(cur, upd map[string]string) map[string]string {
	if cur == nil {
		cur = map[string]string{}
	}
	for k, v := range upd {
		if v == "" {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	return cur
}

// encodeHealth is the stored form of h; Node is not stored but derived
// from the lease.
func encodeHealth(h hirehook.SourceHealth) (string, error) {
	h.Node = ""
	b, err := json.Marshal(h)
	return string(b), err
}

func (c *CRUD) scanSource(row rowScanner) (*hirehook.Source, error) {
	var src hirehook.Source
	var config, health string
	var secrets []byte
	var checkpoint sql.NullString
	var owner string
	var until, created, updated Time
	if err := row.Scan(&src.ID, &src.TenantID, &src.Kind, &src.Name, &config, &secrets, &src.Enabled, &health, &checkpoint, &owner, &until, &created, &updated); err != nil {
		return nil, err
	}
	src.Config = json.RawMessage(config)
	if checkpoint.Valid {
		src.Checkpoint = json.RawMessage(checkpoint.String)
	}
	if err := json.Unmarshal([]byte(health), &src.Health); err != nil {
		return nil, fmt.Errorf("decode source %s health: %w", src.ID, err)
	}
	src.Health.Node = ""
	if owner != "" && time.Now().Before(until.Time) {
		src.Health.Node = owner
	}
	var err error
	if src.Secrets, err = c.sealer.OpenSourceSecrets(src.TenantID, src.ID, secrets); err != nil {
		return nil, err
	}
	src.CreatedAt, src.UpdatedAt = created.Time, updated.Time
	return &src, nil
}

// SourceCreate implements hirehook.Store.
func (c *CRUD) SourceCreate(ctx context.Context, src *hirehook.Source) error {
	secrets, err := c.sealer.SealSourceSecrets(src.TenantID, src.ID, src.Secrets)
	if err != nil {
		return err
	}
	health, err := encodeHealth(src.Health)
	if err != nil {
		return err
	}
	if len(src.Config) == 0 {
		src.Config = json.RawMessage("{}")
	}
	var checkpoint any
	if len(src.Checkpoint) > 0 {
		checkpoint = string(src.Checkpoint)
	}
	_, err = c.exec(ctx, `INSERT INTO sources (`+SourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)`,
		src.ID, src.TenantID, src.Kind, src.Name, string(src.Config), secrets, src.Enabled, health, checkpoint, c.d.TimeFunc(noLease),
		c.d.TimeFunc(src.CreatedAt), c.d.TimeFunc(src.UpdatedAt))
	if c.d.IsUniqueFunc(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Source %q exists already.", src.ID)
	} else if err != nil {
		return fmt.Errorf("insert source %s: %w", src.ID, c.d.mapError(err))
	}
	return nil
}

// SourceGet implements hirehook.Store.
func (c *CRUD) SourceGet(ctx context.Context, tenantID, id string) (*hirehook.Source, error) {
	return c.sourceGet(ctx, c.d.Reader, tenantID, id, "")
}

// sourceGet reads one source; lock is "" or Dialect.ForUpdate.
func (c *CRUD) sourceGet(ctx context.Context, q rowQuerier, tenantID, id, lock string) (*hirehook.Source, error) {
	src, err := c.scanSource(q.QueryRowContext(ctx, c.d.Rebind(`SELECT `+SourceColumns+` FROM sources WHERE tenant_id = ? AND id = ?`+lock), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select source %s: %w", id, err)
	}
	return src, nil
}

// SourceList implements hirehook.Store.
func (c *CRUD) SourceList(ctx context.Context, f hirehook.SourceFilter) ([]*hirehook.Source, error) {
	after, err := c.afterSeq(ctx, "sources", "source", f.TenantID, f.After)
	if err != nil {
		return nil, err
	}
	rows, err := c.d.Reader.QueryContext(ctx, c.d.Rebind(`SELECT `+SourceColumns+` FROM sources WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
		f.TenantID, after, PageLimit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select sources: %w", err)
	}
	return scanAll(rows, c.scanSource)
}

// SourceTenant implements hirehook.Store.
func (c *CRUD) SourceTenant(ctx context.Context, id string) (string, error) {
	var tenantID string
	err := c.d.Reader.QueryRowContext(ctx, c.d.Rebind(`SELECT tenant_id FROM sources WHERE id = ?`), id).Scan(&tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", id)
	} else if err != nil {
		return "", fmt.Errorf("select tenant of source %s: %w", id, err)
	}
	return tenantID, nil
}

// SourceUpdate implements hirehook.Store.
func (c *CRUD) SourceUpdate(ctx context.Context, tenantID, id string, u hirehook.SourceUpdate) (*hirehook.Source, error) {
	var src *hirehook.Source
	err := c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		var err error
		if src, err = c.sourceGet(ctx, tx, tenantID, id, c.d.ForUpdate); err != nil {
			return err
		}
		if u.Name != nil {
			src.Name = *u.Name
		}
		if u.Config != nil {
			src.Config = *u.Config
		}
		if u.Enabled != nil {
			src.Enabled = *u.Enabled
		}
		src.Secrets = mergeSecrets(src.Secrets, u.Secrets)
		src.UpdatedAt = u.Now
		if src.UpdatedAt.IsZero() {
			src.UpdatedAt = time.Now()
		}
		src.UpdatedAt = src.UpdatedAt.UTC().Truncate(time.Microsecond)
		secrets, err := c.sealer.SealSourceSecrets(tenantID, id, src.Secrets)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE sources SET name = ?, config = ?, enabled = ?, secrets = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`),
			src.Name, string(src.Config), src.Enabled, secrets, c.d.TimeFunc(src.UpdatedAt), tenantID, id); err != nil {
			return fmt.Errorf("update source %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// SourceDelete implements hirehook.Store. Its state goes with it (ON
// DELETE CASCADE), and so does its inbound request log.
func (c *CRUD) SourceDelete(ctx context.Context, tenantID, id string) error {
	return c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, c.d.Rebind(`DELETE FROM sources WHERE tenant_id = ? AND id = ?`), tenantID, id)
		if err != nil {
			return fmt.Errorf("delete source %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", id)
		}
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`DELETE FROM inbound_requests WHERE tenant_id = ? AND source_id = ?`), tenantID, id); err != nil {
			return fmt.Errorf("delete inbound requests of source %s: %w", id, err)
		}
		return nil
	})
}

// SourceLease implements hirehook.Store, in three steps:
//
//  1. The owner keeps the enabled sources it holds (of p.Kinds), the
//     first p.Limit of them by creation, and gives up the others: those
//     disabled, of a kind it no longer runs, or beyond the limit.
//  2. It renews those it keeps, waiting for a row another transaction
//     locks (a report) rather than dropping the source for a round.
//  3. It takes free or expired sources up to the limit, skipping those
//     another node is taking (Dialect.SkipLocked), so that two nodes never
//     take the same one.
//
// The kinds are a list of placeholders, so that the statements are the
// same in both dialects.
func (c *CRUD) SourceLease(ctx context.Context, p hirehook.SourceLeaseParams) ([]*hirehook.Source, error) {
	ofKinds, kinds := "", []any{}
	if len(p.Kinds) > 0 {
		ofKinds = ` AND kind IN (?` + strings.Repeat(", ?", len(p.Kinds)-1) + `)`
		for _, k := range p.Kinds {
			kinds = append(kinds, k)
		}
	}
	limit, limitArg := "", []any{}
	if p.Limit > 0 {
		limit, limitArg = ` LIMIT ?`, []any{p.Limit}
	}
	args := func(parts ...[]any) []any {
		var out []any
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	var out []*hirehook.Source
	err := c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE sources SET lease_owner = '', lease_until = ? WHERE lease_owner = ? AND seq NOT IN (
			SELECT seq FROM sources WHERE lease_owner = ? AND enabled = TRUE`+ofKinds+` ORDER BY seq`+limit+`)`),
			args([]any{c.d.TimeFunc(noLease), p.Owner, p.Owner}, kinds, limitArg)...); err != nil {
			return fmt.Errorf("release sources: %w", err)
		}
		res, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE sources SET lease_until = ? WHERE lease_owner = ?`), c.d.TimeFunc(p.Until), p.Owner)
		if err != nil {
			return fmt.Errorf("renew sources: %w", err)
		}
		held, _ := res.RowsAffected()
		if p.Limit <= 0 || held < int64(p.Limit) {
			if p.Limit > 0 {
				limitArg = []any{int64(p.Limit) - held}
			}
			if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE sources SET lease_owner = ?, lease_until = ? WHERE seq IN (
				SELECT seq FROM sources WHERE enabled = TRUE AND lease_owner <> ? AND (lease_owner = '' OR lease_until <= ?)`+ofKinds+`
				ORDER BY seq`+limit+c.d.SkipLocked+`)`),
				args([]any{p.Owner, c.d.TimeFunc(p.Until), p.Owner, c.d.TimeFunc(p.Now)}, kinds, limitArg)...); err != nil {
				return fmt.Errorf("lease sources: %w", err)
			}
		}
		rows, err := tx.QueryContext(ctx, c.d.Rebind(`SELECT `+SourceColumns+` FROM sources WHERE lease_owner = ? ORDER BY seq`), p.Owner)
		if err != nil {
			return fmt.Errorf("select leased sources: %w", err)
		}
		out, err = scanAll(rows, c.scanSource)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, src := range out {
		src.Health.Node = p.Owner // the scan compared with the clock, not p.Now
	}
	return out, nil
}

// SourceRelease implements hirehook.Store.
func (c *CRUD) SourceRelease(ctx context.Context, owner string) error {
	if _, err := c.exec(ctx, `UPDATE sources SET lease_owner = '', lease_until = ? WHERE lease_owner = ?`, c.d.TimeFunc(noLease), owner); err != nil {
		return fmt.Errorf("release sources of %s: %w", owner, err)
	}
	return nil
}

// SourceReport implements hirehook.Store.
func (c *CRUD) SourceReport(ctx context.Context, p hirehook.SourceReportParams) error {
	return c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		var owner string
		var secrets []byte
		err := tx.QueryRowContext(ctx, c.d.Rebind(`SELECT lease_owner, secrets FROM sources WHERE tenant_id = ? AND id = ?`+c.d.ForUpdate), p.TenantID, p.ID).Scan(&owner, &secrets)
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", p.ID)
		} else if err != nil {
			return fmt.Errorf("select source %s: %w", p.ID, err)
		}
		if p.Owner != "" && owner != p.Owner {
			return hirehook.Errorf(hirehook.ECONFLICT, "Source %q is leased to another node.", p.ID)
		}
		if p.Health != nil {
			h, err := encodeHealth(*p.Health)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE sources SET health = ? WHERE tenant_id = ? AND id = ?`), h, p.TenantID, p.ID); err != nil {
				return fmt.Errorf("update source %s health: %w", p.ID, err)
			}
		}
		if p.Checkpoint != nil {
			if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE sources SET checkpoint = ? WHERE tenant_id = ? AND id = ?`), string(p.Checkpoint), p.TenantID, p.ID); err != nil {
				return fmt.Errorf("update source %s checkpoint: %w", p.ID, err)
			}
		}
		if len(p.Secrets) > 0 {
			cur, err := c.sealer.OpenSourceSecrets(p.TenantID, p.ID, secrets)
			if err != nil {
				return err
			}
			sealed, err := c.sealer.SealSourceSecrets(p.TenantID, p.ID, mergeSecrets(cur, p.Secrets))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE sources SET secrets = ? WHERE tenant_id = ? AND id = ?`), sealed, p.TenantID, p.ID); err != nil {
				return fmt.Errorf("update source %s secrets: %w", p.ID, err)
			}
		}
		return nil
	})
}

// SourceStateGet implements hirehook.Store.
func (c *CRUD) SourceStateGet(ctx context.Context, p hirehook.SourceStateParams) (string, error) {
	var v string
	err := c.d.Reader.QueryRowContext(ctx, c.d.Rebind(`SELECT st.value FROM source_state st JOIN sources src ON src.id = st.source_id
		WHERE src.tenant_id = ? AND st.source_id = ? AND st.key = ?`), p.TenantID, p.SourceID, p.Key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hirehook.Errorf(hirehook.ENOTFOUND, "No state %q for source %q.", p.Key, p.SourceID)
	} else if err != nil {
		return "", fmt.Errorf("select source %s state: %w", p.SourceID, err)
	}
	return v, nil
}

// SourceStateSet implements hirehook.Store.
func (c *CRUD) SourceStateSet(ctx context.Context, p hirehook.SourceStateParams) error {
	res, err := c.exec(ctx, `INSERT INTO source_state (source_id, key, value)
		SELECT id, ?, ? FROM sources WHERE tenant_id = ? AND id = ?
		ON CONFLICT (source_id, key) DO UPDATE SET value = excluded.value`, p.Key, p.Value, p.TenantID, p.SourceID)
	if err != nil {
		return fmt.Errorf("write source %s state: %w", p.SourceID, c.d.mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", p.SourceID)
	}
	return nil
}
