package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

// TenantCreate implements hirehook.Store.
func (c *CRUD) TenantCreate(ctx context.Context, t *hirehook.Tenant) error {
	_, err := c.exec(ctx, `INSERT INTO tenants (id, name, retention_days, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.RetentionDays, c.d.TimeFunc(t.CreatedAt), c.d.TimeFunc(t.UpdatedAt))
	if c.d.IsUniqueFunc(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Tenant %q exists already.", t.ID)
	} else if err != nil {
		return fmt.Errorf("insert tenant %s: %w", t.ID, c.d.mapError(err))
	}
	return nil
}

const tenantColumns = `id, name, retention_days, created_at, updated_at`

func scanTenant(row rowScanner) (*hirehook.Tenant, error) {
	var t hirehook.Tenant
	var created, updated Time
	if err := row.Scan(&t.ID, &t.Name, &t.RetentionDays, &created, &updated); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = created.Time, updated.Time
	return &t, nil
}

// TenantGet implements hirehook.Store.
func (c *CRUD) TenantGet(ctx context.Context, id string) (*hirehook.Tenant, error) {
	return c.tenantGet(ctx, c.d.Reader, id, "")
}

// tenantGet reads one tenant; lock is "" or Dialect.ForUpdate or ForShare.
func (c *CRUD) tenantGet(ctx context.Context, q rowQuerier, id, lock string) (*hirehook.Tenant, error) {
	t, err := scanTenant(q.QueryRowContext(ctx, c.d.Rebind(`SELECT `+tenantColumns+` FROM tenants WHERE id = ?`+lock), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Tenant %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select tenant %s: %w", id, err)
	}
	return t, nil
}

// TenantList implements hirehook.Store.
func (c *CRUD) TenantList(ctx context.Context, f hirehook.TenantFilter) ([]*hirehook.Tenant, error) {
	after, err := c.afterSeq(ctx, "tenants", "tenant", "", f.After)
	if err != nil {
		return nil, err
	}
	rows, err := c.d.Reader.QueryContext(ctx, c.d.Rebind(`SELECT `+tenantColumns+` FROM tenants WHERE seq > ? ORDER BY seq LIMIT ?`), after, PageLimit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select tenants: %w", err)
	}
	return scanAll(rows, scanTenant)
}

// TenantUpdate implements hirehook.Store.
func (c *CRUD) TenantUpdate(ctx context.Context, id string, u hirehook.TenantUpdate) (*hirehook.Tenant, error) {
	var t *hirehook.Tenant
	err := c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = c.tenantGet(ctx, tx, id, c.d.ForUpdate); err != nil {
			return err
		}
		if u.Name != nil {
			t.Name = *u.Name
		}
		if u.RetentionDays != nil {
			t.RetentionDays = *u.RetentionDays
		}
		t.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE tenants SET name = ?, retention_days = ?, updated_at = ? WHERE id = ?`),
			t.Name, t.RetentionDays, c.d.TimeFunc(t.UpdatedAt), id); err != nil {
			return fmt.Errorf("update tenant %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// tenantTables are the statements that delete what a tenant owns, and
// then the tenant, in that order.
var tenantTables = []string{
	`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE tenant_id = ?)`,
	`DELETE FROM deliveries WHERE tenant_id = ?`,
	`DELETE FROM events WHERE tenant_id = ?`,
	`DELETE FROM records WHERE tenant_id = ?`,
	`DELETE FROM backfills WHERE tenant_id = ?`,
	`DELETE FROM endpoints WHERE tenant_id = ?`,
	`DELETE FROM inbound_requests WHERE tenant_id = ?`,
	`DELETE FROM sources WHERE tenant_id = ?`,
	`DELETE FROM api_keys WHERE tenant_id = ?`,
	`DELETE FROM audit_log WHERE tenant_id = ?`,
	`DELETE FROM tenants WHERE id = ?`,
}

// TenantDelete implements hirehook.Store: the tenant and everything it owns
// go in one transaction.
func (c *CRUD) TenantDelete(ctx context.Context, id string) error {
	return c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		if _, err := c.tenantGet(ctx, tx, id, c.d.ForUpdate); err != nil {
			return err
		}
		for _, q := range tenantTables {
			if _, err := tx.ExecContext(ctx, c.d.Rebind(q), id); err != nil {
				return fmt.Errorf("delete tenant %s: %w", id, err)
			}
		}
		return nil
	})
}

const apiKeyColumns = `id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at`

func scanAPIKey(row rowScanner) (*hirehook.APIKey, error) {
	var k hirehook.APIKey
	var created Time
	var expires, used NullTime
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.Hash, &created, &expires, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt = created.Time, expires.Time, used.Time
	return &k, nil
}

// APIKeyCreate implements hirehook.Store.
func (c *CRUD) APIKeyCreate(ctx context.Context, k *hirehook.APIKey) error {
	// Before the transaction: the pepper may need SQLite's one writer.
	mac, err := c.hub.APIKeyMAC(ctx, k.Hash)
	if err != nil {
		return err
	}
	return c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		// ForShare keeps the tenant from being deleted until the key is in.
		if _, err := c.tenantGet(ctx, tx, k.TenantID, c.d.ForShare); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, c.d.Rebind(`INSERT INTO api_keys (id, tenant_id, name, scope, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			k.ID, k.TenantID, k.Name, string(k.Scope), mac, c.d.TimeFunc(k.CreatedAt), c.d.NullTime(k.ExpiresAt))
		if c.d.IsUniqueFunc(err) {
			return hirehook.Errorf(hirehook.ECONFLICT, "The API key exists already.")
		} else if err != nil {
			return fmt.Errorf("insert api key %s: %w", k.ID, err)
		}
		return nil
	})
}

// APIKeyByHash implements hirehook.Store.
func (c *CRUD) APIKeyByHash(ctx context.Context, hash string) (*hirehook.APIKey, error) {
	mac, err := c.hub.APIKeyMAC(ctx, hash)
	if err != nil {
		return nil, err
	}
	k, err := scanAPIKey(c.d.Reader.QueryRowContext(ctx, c.d.Rebind(`SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`), mac))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "API key not found.")
	} else if err != nil {
		return nil, fmt.Errorf("select api key: %w", c.d.mapError(err))
	}
	k.Hash = hash
	return k, nil
}

// APIKeyCount implements hirehook.Store.
func (c *CRUD) APIKeyCount(ctx context.Context) (int, error) {
	var n int
	if err := c.d.Reader.QueryRowContext(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	return n, nil
}

// APIKeyList implements hirehook.Store.
func (c *CRUD) APIKeyList(ctx context.Context, tenantID string) ([]*hirehook.APIKey, error) {
	rows, err := c.d.Reader.QueryContext(ctx, c.d.Rebind(`SELECT `+apiKeyColumns+` FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id`), tenantID)
	if err != nil {
		return nil, fmt.Errorf("select api keys: %w", err)
	}
	return scanAll(rows, scanAPIKey)
}

// APIKeyDelete implements hirehook.Store.
func (c *CRUD) APIKeyDelete(ctx context.Context, tenantID, id string) error {
	res, err := c.exec(ctx, `DELETE FROM api_keys WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete api key %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "API key %q not found.", id)
	}
	return nil
}

// APIKeyTouch implements hirehook.Store.
func (c *CRUD) APIKeyTouch(ctx context.Context, id string, t time.Time) error {
	if _, err := c.exec(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, c.d.TimeFunc(t), id); err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

// AuditAppend implements hirehook.Store.
func (c *CRUD) AuditAppend(ctx context.Context, e *hirehook.AuditEntry) error {
	var details any
	if len(e.Details) > 0 {
		details = string(e.Details)
	}
	_, err := c.exec(ctx, `INSERT INTO audit_log (id, tenant_id, at, key_id, key_name, action, target, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, c.d.TimeFunc(e.At), e.KeyID, e.KeyName, e.Action, e.Target, details)
	if err != nil {
		return fmt.Errorf("insert audit entry %s: %w", e.Action, c.d.mapError(err))
	}
	return nil
}

// AuditList implements hirehook.Store.
func (c *CRUD) AuditList(ctx context.Context, f hirehook.AuditFilter) ([]*hirehook.AuditEntry, error) {
	before := int64(1<<62 - 1)
	if f.After != "" {
		var err error
		if before, err = c.afterSeq(ctx, "audit_log", "audit entry", f.TenantID, f.After); err != nil {
			return nil, err
		}
	}
	rows, err := c.d.Reader.QueryContext(ctx, c.d.Rebind(`SELECT id, tenant_id, at, key_id, key_name, action, target, details FROM audit_log
		WHERE tenant_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`), f.TenantID, before, PageLimit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select audit log: %w", err)
	}
	return scanAll(rows, func(row rowScanner) (*hirehook.AuditEntry, error) {
		var e hirehook.AuditEntry
		var at Time
		var details sql.NullString
		if err := row.Scan(&e.ID, &e.TenantID, &at, &e.KeyID, &e.KeyName, &e.Action, &e.Target, &details); err != nil {
			return nil, err
		}
		e.At = at.Time
		if details.Valid {
			e.Details = []byte(details.String)
		}
		return &e, nil
	})
}
