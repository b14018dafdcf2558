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

const sourceColumns = `id, tenant_id, kind, name, config, secrets, enabled, health, checkpoint, lease_owner, lease_until, created_at, updated_at`

// sourceSecretsAAD binds a source's sealed secrets to its row, as
// secretsAAD does for endpoints; the prefix differs so that a sealed value
// cannot move between the tables.
func sourceSecretsAAD(tenantID, id string) []byte {
	return []byte("hirehook source secrets\x00" + tenantID + "\x00" + id)
}

func (s *Store) sealSourceSecrets(tenantID, id string, secrets map[string]string) ([]byte, error) {
	if secrets == nil {
		secrets = map[string]string{}
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	if s.keyring == nil {
		return plain, nil
	}
	v, err := s.keyring.Seal(plain, sourceSecretsAAD(tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("encrypt source %s secrets: %w", id, err)
	}
	return []byte(v), nil
}

func (s *Store) openSourceSecrets(tenantID, id string, stored []byte) (map[string]string, error) {
	plain, err := s.keyring.Open(string(stored), sourceSecretsAAD(tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("decrypt source %s secrets: %w", id, err)
	}
	out := map[string]string{}
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("decode source %s secrets: %w", id, err)
	}
	return out, nil
}

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

func (s *Store) scanSource(row scanner) (*hirehook.Source, error) {
	var src hirehook.Source
	var config, secrets, health string
	var checkpoint sql.NullString
	var owner string
	var until, created, updated int64
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
	if owner != "" && time.Now().Before(fromMicros(until)) {
		src.Health.Node = owner
	}
	var err error
	if src.Secrets, err = s.openSourceSecrets(src.TenantID, src.ID, []byte(secrets)); err != nil {
		return nil, err
	}
	src.CreatedAt, src.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &src, nil
}

func marshalHealth(h hirehook.SourceHealth) (string, error) {
	h.Node = "" // derived from the lease
	b, err := json.Marshal(h)
	return string(b), err
}

// SourceCreate implements hirehook.Store.
func (s *Store) SourceCreate(ctx context.Context, src *hirehook.Source) error {
	secrets, err := s.sealSourceSecrets(src.TenantID, src.ID, src.Secrets)
	if err != nil {
		return err
	}
	health, err := marshalHealth(src.Health)
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
	_, err = s.writer.ExecContext(ctx, `INSERT INTO sources (`+sourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?)`,
		src.ID, src.TenantID, src.Kind, src.Name, string(src.Config), string(secrets), src.Enabled, health, checkpoint, toMicros(src.CreatedAt), toMicros(src.UpdatedAt))
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Source %q exists already.", src.ID)
	} else if err != nil {
		return fmt.Errorf("insert source %s: %w", src.ID, err)
	}
	return nil
}

// SourceGet implements hirehook.Store.
func (s *Store) SourceGet(ctx context.Context, tenantID, id string) (*hirehook.Source, error) {
	return s.sourceGet(ctx, s.reader, tenantID, id)
}

func (s *Store) sourceGet(ctx context.Context, q querier, tenantID, id string) (*hirehook.Source, error) {
	src, err := s.scanSource(q.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select source %s: %w", id, err)
	}
	return src, nil
}

func (s *Store) scanSources(rows *sql.Rows) ([]*hirehook.Source, error) {
	defer rows.Close()
	out := []*hirehook.Source{}
	for rows.Next() {
		src, err := s.scanSource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// SourceList implements hirehook.Store.
func (s *Store) SourceList(ctx context.Context, f hirehook.SourceFilter) ([]*hirehook.Source, error) {
	after, err := s.cursorSeq(ctx, "sources", "source", f.TenantID, f.After)
	if err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, f.TenantID, after, limit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select sources: %w", err)
	}
	return s.scanSources(rows)
}

// SourceUpdate implements hirehook.Store.
func (s *Store) SourceUpdate(ctx context.Context, tenantID, id string, u hirehook.SourceUpdate) (*hirehook.Source, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	src, err := s.sourceGet(ctx, tx, tenantID, id)
	if err != nil {
		return nil, err
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
	secrets, err := s.sealSourceSecrets(tenantID, id, src.Secrets)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sources SET name = ?, config = ?, enabled = ?, secrets = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		src.Name, string(src.Config), src.Enabled, string(secrets), toMicros(src.UpdatedAt), tenantID, id); err != nil {
		return nil, fmt.Errorf("update source %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return src, nil
}

// SourceDelete implements hirehook.Store. Its state goes with it (ON
// DELETE CASCADE), and so does its inbound request log.
func (s *Store) SourceDelete(ctx context.Context, tenantID, id string) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete source %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", id)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM inbound_requests WHERE tenant_id = ? AND source_id = ?`, tenantID, id); err != nil {
		return fmt.Errorf("delete inbound requests of source %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// SourceLease implements hirehook.Store. With one writer there is no race
// between the select and the update; the sources the owner holds already
// come first, so a limit never makes it drop one for another. With
// p.Kinds, sources of other kinds are neither taken nor renewed, and the
// owner's leases of them are released with those of disabled sources.
func (s *Store) SourceLease(ctx context.Context, p hirehook.SourceLeaseParams) ([]*hirehook.Source, error) {
	n := p.Limit
	if n <= 0 {
		n = -1 // no limit
	}
	kinds, err := json.Marshal(p.Kinds) // null when unset: every kind
	if err != nil {
		return nil, fmt.Errorf("encode source kinds: %w", err)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	const ofKinds = `(json_array_length(?) IS NULL OR json_array_length(?) = 0 OR kind IN (SELECT value FROM json_each(?)))`
	if _, err := tx.ExecContext(ctx, `UPDATE sources SET lease_owner = '', lease_until = 0 WHERE lease_owner = ? AND (enabled = 0 OR NOT `+ofKinds+`)`,
		p.Owner, string(kinds), string(kinds), string(kinds)); err != nil {
		return nil, fmt.Errorf("release disabled sources: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sources SET lease_owner = ?, lease_until = ? WHERE seq IN (
		SELECT seq FROM sources WHERE enabled = 1 AND (lease_owner = ? OR lease_owner = '' OR lease_until <= ?) AND `+ofKinds+`
		ORDER BY lease_owner = ? DESC, seq LIMIT ?)`,
		p.Owner, toMicros(p.Until), p.Owner, toMicros(p.Now), string(kinds), string(kinds), string(kinds), p.Owner, n); err != nil {
		return nil, fmt.Errorf("lease sources: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE lease_owner = ? AND lease_until = ? ORDER BY seq`, p.Owner, toMicros(p.Until))
	if err != nil {
		return nil, fmt.Errorf("select leased sources: %w", err)
	}
	out, err := s.scanSources(rows)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	for _, src := range out {
		src.Health.Node = p.Owner // the scan compared with the clock, not p.Now
	}
	return out, nil
}

// SourceRelease implements hirehook.Store.
func (s *Store) SourceRelease(ctx context.Context, owner string) error {
	if _, err := s.writer.ExecContext(ctx, `UPDATE sources SET lease_owner = '', lease_until = 0 WHERE lease_owner = ?`, owner); err != nil {
		return fmt.Errorf("release sources of %s: %w", owner, err)
	}
	return nil
}

// SourceReport implements hirehook.Store.
func (s *Store) SourceReport(ctx context.Context, p hirehook.SourceReportParams) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var owner string
	var secrets string
	err = tx.QueryRowContext(ctx, `SELECT lease_owner, secrets FROM sources WHERE tenant_id = ? AND id = ?`, p.TenantID, p.ID).Scan(&owner, &secrets)
	if errors.Is(err, sql.ErrNoRows) {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", p.ID)
	} else if err != nil {
		return fmt.Errorf("select source %s: %w", p.ID, err)
	}
	if p.Owner != "" && owner != p.Owner {
		return hirehook.Errorf(hirehook.ECONFLICT, "Source %q is leased to another node.", p.ID)
	}
	if p.Health != nil {
		h, err := marshalHealth(*p.Health)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET health = ? WHERE tenant_id = ? AND id = ?`, h, p.TenantID, p.ID); err != nil {
			return fmt.Errorf("update source %s health: %w", p.ID, err)
		}
	}
	if p.Checkpoint != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET checkpoint = ? WHERE tenant_id = ? AND id = ?`, string(p.Checkpoint), p.TenantID, p.ID); err != nil {
			return fmt.Errorf("update source %s checkpoint: %w", p.ID, err)
		}
	}
	if len(p.Secrets) > 0 {
		cur, err := s.openSourceSecrets(p.TenantID, p.ID, []byte(secrets))
		if err != nil {
			return err
		}
		sealed, err := s.sealSourceSecrets(p.TenantID, p.ID, mergeSecrets(cur, p.Secrets))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET secrets = ? WHERE tenant_id = ? AND id = ?`, string(sealed), p.TenantID, p.ID); err != nil {
			return fmt.Errorf("update source %s secrets: %w", p.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// SourceStateGet implements hirehook.Store.
func (s *Store) SourceStateGet(ctx context.Context, p hirehook.SourceStateParams) (string, error) {
	var v string
	err := s.reader.QueryRowContext(ctx, `SELECT st.value FROM source_state st JOIN sources src ON src.id = st.source_id
		WHERE src.tenant_id = ? AND st.source_id = ? AND st.key = ?`, p.TenantID, p.SourceID, p.Key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hirehook.Errorf(hirehook.ENOTFOUND, "No state %q for source %q.", p.Key, p.SourceID)
	} else if err != nil {
		return "", fmt.Errorf("select source %s state: %w", p.SourceID, err)
	}
	return v, nil
}

// SourceStateSet implements hirehook.Store.
func (s *Store) SourceStateSet(ctx context.Context, p hirehook.SourceStateParams) error {
	res, err := s.writer.ExecContext(ctx, `INSERT INTO source_state (source_id, key, value)
		SELECT id, ?, ? FROM sources WHERE tenant_id = ? AND id = ?
		ON CONFLICT (source_id, key) DO UPDATE SET value = excluded.value`, p.Key, p.Value, p.TenantID, p.SourceID)
	if err != nil {
		return fmt.Errorf("write source %s state: %w", p.SourceID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", p.SourceID)
	}
	return nil
}

// rotateSourceSecrets re-seals every source's secrets with the keyring's
// primary key, inside RotateEncryption's transaction.
func (s *Store) rotateSourceSecrets(ctx context.Context, tx *sql.Tx) error {
	type row struct{ tenantID, id, secrets string }
	rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, secrets FROM sources ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("select source secrets: %w", err)
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.tenantID, &r.id, &r.secrets); err != nil {
			rows.Close()
			return fmt.Errorf("select source secrets: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select source secrets: %w", err)
	}
	for _, r := range all {
		plain, err := s.openSourceSecrets(r.tenantID, r.id, []byte(r.secrets))
		if err != nil {
			return err
		}
		sealed, err := s.sealSourceSecrets(r.tenantID, r.id, plain)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET secrets = ? WHERE tenant_id = ? AND id = ?`, string(sealed), r.tenantID, r.id); err != nil {
			return fmt.Errorf("update source %s secrets: %w", r.id, err)
		}
	}
	return nil
}
