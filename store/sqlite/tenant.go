package sqlite

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
	_, err := s.writer.ExecContext(ctx, `INSERT INTO tenants (id, name, retention_days, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.RetentionDays, toMicros(t.CreatedAt), toMicros(t.UpdatedAt))
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Tenant %q exists already.", t.ID)
	} else if err != nil {
		return fmt.Errorf("insert tenant %s: %w", t.ID, err)
	}
	return nil
}

const tenantColumns = `id, name, retention_days, created_at, updated_at`

func scanTenant(row scanner) (*hirehook.Tenant, error) {
	var t hirehook.Tenant
	var created, updated int64
	if err := row.Scan(&t.ID, &t.Name, &t.RetentionDays, &created, &updated); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &t, nil
}

// TenantGet implements hirehook.Store.
func (s *Store) TenantGet(ctx context.Context, id string) (*hirehook.Tenant, error) {
	return s.tenantGet(ctx, s.reader, id)
}

func (s *Store) tenantGet(ctx context.Context, q querier, id string) (*hirehook.Tenant, error) {
	t, err := scanTenant(q.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Tenant %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select tenant %s: %w", id, err)
	}
	return t, nil
}

// TenantList implements hirehook.Store.
func (s *Store) TenantList(ctx context.Context, f hirehook.TenantFilter) ([]*hirehook.Tenant, error) {
	after, err := s.cursorSeq(ctx, "tenants", "tenant", "", f.After)
	if err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit(f.Limit))
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
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	t, err := s.tenantGet(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if u.Name != nil {
		t.Name = *u.Name
	}
	if u.RetentionDays != nil {
		t.RetentionDays = *u.RetentionDays
	}
	t.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	if _, err := tx.ExecContext(ctx, `UPDATE tenants SET name = ?, retention_days = ?, updated_at = ? WHERE id = ?`,
		t.Name, t.RetentionDays, toMicros(t.UpdatedAt), id); err != nil {
		return nil, fmt.Errorf("update tenant %s: %w", id, err)
	}
	return t, tx.Commit()
}

// TenantDelete implements hirehook.Store: the tenant and everything it owns
// go in one transaction.
func (s *Store) TenantDelete(ctx context.Context, id string) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := s.tenantGet(ctx, tx, id); err != nil {
		return err
	}
	for _, q := range []string{
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
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete tenant %s: %w", id, err)
		}
	}
	return tx.Commit()
}

const apiKeyColumns = `id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at`

func scanAPIKey(row scanner) (*hirehook.APIKey, error) {
	var k hirehook.APIKey
	var created int64
	var expires, used sql.NullInt64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.Hash, &created, &expires, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt = fromMicros(created), ptrMicros(expires), ptrMicros(used)
	return &k, nil
}

// APIKeyCreate implements hirehook.Store.
func (s *Store) APIKeyCreate(ctx context.Context, k *hirehook.APIKey) error {
	// Before the transaction: the pepper may need the writer.
	mac, err := s.hub.APIKeyMAC(ctx, k.Hash)
	if err != nil {
		return err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := s.tenantGet(ctx, tx, k.TenantID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, scope, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.TenantID, k.Name, string(k.Scope), mac, toMicros(k.CreatedAt), nullMicros(k.ExpiresAt))
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "The API key exists already.")
	} else if err != nil {
		return fmt.Errorf("insert api key %s: %w", k.ID, err)
	}
	return tx.Commit()
}

// APIKeyByHash implements hirehook.Store.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*hirehook.APIKey, error) {
	mac, err := s.hub.APIKeyMAC(ctx, hash)
	if err != nil {
		return nil, err
	}
	k, err := scanAPIKey(s.reader.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`, mac))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "API key not found.")
	} else if err != nil {
		return nil, fmt.Errorf("select api key: %w", err)
	}
	k.Hash = hash
	return k, nil
}

// APIKeyCount implements hirehook.Store.
func (s *Store) APIKeyCount(ctx context.Context) (int, error) {
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	return n, nil
}

// APIKeyList implements hirehook.Store.
func (s *Store) APIKeyList(ctx context.Context, tenantID string) ([]*hirehook.APIKey, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
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
	res, err := s.writer.ExecContext(ctx, `DELETE FROM api_keys WHERE tenant_id = ? AND id = ?`, tenantID, id)
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
	if _, err := s.writer.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, toMicros(t), id); err != nil {
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
	_, err := s.writer.ExecContext(ctx, `INSERT INTO audit_log (id, tenant_id, at, key_id, key_name, action, target, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, toMicros(e.At), e.KeyID, e.KeyName, e.Action, e.Target, details)
	if err != nil {
		return fmt.Errorf("insert audit entry %s: %w", e.Action, err)
	}
	return nil
}

// AuditList implements hirehook.Store.
func (s *Store) AuditList(ctx context.Context, f hirehook.AuditFilter) ([]*hirehook.AuditEntry, error) {
	before := int64(1<<62 - 1)
	if f.After != "" {
		var err error
		if before, err = s.cursorSeq(ctx, "audit_log", "audit entry", f.TenantID, f.After); err != nil {
			return nil, err
		}
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT id, tenant_id, at, key_id, key_name, action, target, details FROM audit_log
		WHERE tenant_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, f.TenantID, before, limit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select audit log: %w", err)
	}
	defer rows.Close()
	out := []*hirehook.AuditEntry{}
	for rows.Next() {
		var e hirehook.AuditEntry
		var at int64
		var details sql.NullString
		if err := rows.Scan(&e.ID, &e.TenantID, &at, &e.KeyID, &e.KeyName, &e.Action, &e.Target, &details); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		if details.Valid {
			e.Details = []byte(details.String)
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}
