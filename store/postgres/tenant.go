package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

// TenantCreate implements hirehook.Store.
func (s *Store) TenantCreate(ctx context.Context, t *hirehook.Tenant) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tenants (id, name, retention_days, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
		t.ID, t.Name, t.RetentionDays, t.CreatedAt, t.UpdatedAt)
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Tenant %q exists already.", t.ID)
	} else if err != nil {
		return fmt.Errorf("insert tenant %s: %w", t.ID, mapError(err))
	}
	return nil
}

const tenantColumns = `id, name, retention_days, created_at, updated_at`

func scanTenant(row scanner) (*hirehook.Tenant, error) {
	var t hirehook.Tenant
	if err := row.Scan(&t.ID, &t.Name, &t.RetentionDays, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
	return &t, nil
}

// TenantGet implements hirehook.Store.
func (s *Store) TenantGet(ctx context.Context, id string) (*hirehook.Tenant, error) {
	return tenantGet(ctx, s.db, id, "")
}

// tenantGet reads one tenant; lock is "" or a locking clause (FOR UPDATE).
func tenantGet(ctx context.Context, q querier, id, lock string) (*hirehook.Tenant, error) {
	t, err := scanTenant(q.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1 `+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Tenant %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select tenant %s: %w", id, err)
	}
	return t, nil
}

// TenantList implements hirehook.Store.
func (s *Store) TenantList(ctx context.Context, f hirehook.TenantFilter) ([]*hirehook.Tenant, error) {
	after := int64(0)
	if f.After != "" {
		err := s.db.QueryRowContext(ctx, `SELECT seq FROM tenants WHERE id = $1`, f.After).Scan(&after)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("after", "No tenant %q to list after.", f.After)
		} else if err != nil {
			return nil, fmt.Errorf("select tenant cursor: %w", err)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select tenants: %w", err)
	}
	defer rows.Close()
	out := []*hirehook.Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TenantUpdate implements hirehook.Store.
func (s *Store) TenantUpdate(ctx context.Context, id string, u hirehook.TenantUpdate) (*hirehook.Tenant, error) {
	var t *hirehook.Tenant
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = tenantGet(ctx, tx, id, "FOR UPDATE"); err != nil {
			return err
		}
		if u.Name != nil {
			t.Name = *u.Name
		}
		if u.RetentionDays != nil {
			t.RetentionDays = *u.RetentionDays
		}
		t.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET name = $1, retention_days = $2, updated_at = $3 WHERE id = $4`,
			t.Name, t.RetentionDays, t.UpdatedAt, id); err != nil {
			return fmt.Errorf("update tenant %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// TenantDelete implements hirehook.Store: the tenant and everything it owns
// go in one transaction.
func (s *Store) TenantDelete(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tenantGet(ctx, tx, id, "FOR UPDATE"); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE tenant_id = $1)`,
			`DELETE FROM deliveries WHERE tenant_id = $1`,
			`DELETE FROM events WHERE tenant_id = $1`,
			`DELETE FROM records WHERE tenant_id = $1`,
			`DELETE FROM backfills WHERE tenant_id = $1`,
			`DELETE FROM endpoints WHERE tenant_id = $1`,
			`DELETE FROM inbound_requests WHERE tenant_id = $1`,
			`DELETE FROM sources WHERE tenant_id = $1`,
			`DELETE FROM api_keys WHERE tenant_id = $1`,
			`DELETE FROM audit_log WHERE tenant_id = $1`,
			`DELETE FROM tenants WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete tenant %s: %w", id, err)
			}
		}
		return nil
	})
}

const apiKeyColumns = `id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at`

func scanAPIKey(row scanner) (*hirehook.APIKey, error) {
	var k hirehook.APIKey
	var expires, used sql.NullTime
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.Hash, &k.CreatedAt, &expires, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt = utc(k.CreatedAt), ptrTime(expires), ptrTime(used)
	return &k, nil
}

// APIKeyCreate implements hirehook.Store.
func (s *Store) APIKeyCreate(ctx context.Context, k *hirehook.APIKey) error {
	mac, err := s.hub.APIKeyMAC(ctx, k.Hash)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// FOR SHARE keeps the tenant from being deleted until the key is in.
		if _, err := tenantGet(ctx, tx, k.TenantID, "FOR SHARE"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, scope, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			k.ID, k.TenantID, k.Name, string(k.Scope), mac, k.CreatedAt, nullTime(k.ExpiresAt))
		if isUniqueViolation(err) {
			return hirehook.Errorf(hirehook.ECONFLICT, "The API key exists already.")
		} else if err != nil {
			return fmt.Errorf("insert api key %s: %w", k.ID, err)
		}
		return nil
	})
}

// APIKeyByHash implements hirehook.Store.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*hirehook.APIKey, error) {
	mac, err := s.hub.APIKeyMAC(ctx, hash)
	if err != nil {
		return nil, err
	}
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, mac))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "API key not found.")
	} else if err != nil {
		return nil, fmt.Errorf("select api key: %w", mapError(err))
	}
	k.Hash = hash
	return k, nil
}

// APIKeyCount implements hirehook.Store.
func (s *Store) APIKeyCount(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	return n, nil
}

// APIKeyList implements hirehook.Store.
func (s *Store) APIKeyList(ctx context.Context, tenantID string) ([]*hirehook.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("select api keys: %w", err)
	}
	defer rows.Close()
	out := []*hirehook.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// APIKeyDelete implements hirehook.Store.
func (s *Store) APIKeyDelete(ctx context.Context, tenantID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete api key %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "API key %q not found.", id)
	}
	return nil
}

// APIKeyTouch implements hirehook.Store.
func (s *Store) APIKeyTouch(ctx context.Context, id string, t time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, t, id); err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

// AuditAppend implements hirehook.Store.
func (s *Store) AuditAppend(ctx context.Context, e *hirehook.AuditEntry) error {
	var details any
	if len(e.Details) > 0 {
		details = string(e.Details)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_log (id, tenant_id, at, key_id, key_name, action, target, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.ID, e.TenantID, e.At, e.KeyID, e.KeyName, e.Action, e.Target, details)
	if err != nil {
		return fmt.Errorf("insert audit entry %s: %w", e.Action, mapError(err))
	}
	return nil
}

// AuditList implements hirehook.Store.
func (s *Store) AuditList(ctx context.Context, f hirehook.AuditFilter) ([]*hirehook.AuditEntry, error) {
	before := int64(1<<62 - 1)
	if f.After != "" {
		err := s.db.QueryRowContext(ctx, `SELECT seq FROM audit_log WHERE tenant_id = $1 AND id = $2`, f.TenantID, f.After).Scan(&before)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("after", "No audit entry %q to list after.", f.After)
		} else if err != nil {
			return nil, fmt.Errorf("select audit cursor: %w", err)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, tenant_id, at, key_id, key_name, action, target, details FROM audit_log
		WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, f.TenantID, before, limit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select audit log: %w", err)
	}
	defer rows.Close()
	out := []*hirehook.AuditEntry{}
	for rows.Next() {
		var e hirehook.AuditEntry
		var details sql.NullString
		if err := rows.Scan(&e.ID, &e.TenantID, &e.At, &e.KeyID, &e.KeyName, &e.Action, &e.Target, &details); err != nil {
			return nil, err
		}
		e.At = utc(e.At)
		if details.Valid {
			e.Details = []byte(details.String)
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}
