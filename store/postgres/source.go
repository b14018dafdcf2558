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

const sourceColumns = `id, tenant_id, kind, name, config, secrets, enabled, health, checkpoint, lease_owner, lease_until, created_at, updated_at`

// sourceSecretsAAD binds a source's sealed secrets to its row; it is the
// SQLite store's, byte for byte.
func sourceSecretsAAD(tenantID, id string) []byte {
	return []byte("hirehook source secrets\x00" + tenantID + "\x00" + id)
}

func (s *Store) sealSourceSecrets(tenantID, id string, secrets map[string]string) (string, error) {
	if secrets == nil {
		secrets = map[string]string{}
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return "", err
	}
	if s.keyring == nil {
		return string(plain), nil
	}
	v, err := s.keyring.Seal(plain, sourceSecretsAAD(tenantID, id))
	if err != nil {
		return "", fmt.Errorf("encrypt source %s secrets: %w", id, err)
	}
	return v, nil
}

func (s *Store) openSourceSecrets(tenantID, id, stored string) (map[string]string, error) {
	plain, err := s.keyring.Open(stored, sourceSecretsAAD(tenantID, id))
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

func marshalHealth(h hirehook.SourceHealth) (string, error) {
	h.Node = "" // derived from the lease
	b, err := json.Marshal(h)
	return string(b), err
}

func (s *Store) scanSource(row scanner) (*hirehook.Source, error) {
	var src hirehook.Source
	var config, secrets, health, owner string
	var checkpoint sql.NullString
	var until time.Time
	if err := row.Scan(&src.ID, &src.TenantID, &src.Kind, &src.Name, &config, &secrets, &src.Enabled, &health, &checkpoint, &owner, &until, &src.CreatedAt, &src.UpdatedAt); err != nil {
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
	if owner != "" && time.Now().Before(until) {
		src.Health.Node = owner
	}
	var err error
	if src.Secrets, err = s.openSourceSecrets(src.TenantID, src.ID, secrets); err != nil {
		return nil, err
	}
	src.CreatedAt, src.UpdatedAt = utc(src.CreatedAt), utc(src.UpdatedAt)
	return &src, nil
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
	_, err = s.db.ExecContext(ctx, `INSERT INTO sources (`+sourceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', 'epoch', $10, $11)`,
		src.ID, src.TenantID, src.Kind, src.Name, string(src.Config), secrets, src.Enabled, health, checkpoint, src.CreatedAt, src.UpdatedAt)
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Source %q exists already.", src.ID)
	} else if err != nil {
		return fmt.Errorf("insert source %s: %w", src.ID, mapError(err))
	}
	return nil
}

// SourceGet implements hirehook.Store.
func (s *Store) SourceGet(ctx context.Context, tenantID, id string) (*hirehook.Source, error) {
	return s.sourceGet(ctx, s.db, tenantID, id, "")
}

// sourceGet reads one source; lock is "" or a locking clause.
func (s *Store) sourceGet(ctx context.Context, q querier, tenantID, id, lock string) (*hirehook.Source, error) {
	src, err := s.scanSource(q.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE tenant_id = $1 AND id = $2 `+lock, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select source %s: %w", id, err)
	}
	return src, nil
}

// SourceList implements hirehook.Store.
func (s *Store) SourceList(ctx context.Context, f hirehook.SourceFilter) ([]*hirehook.Source, error) {
	after := int64(0)
	if f.After != "" {
		if err := s.db.QueryRowContext(ctx, `SELECT seq FROM sources WHERE tenant_id = $1 AND id = $2`, f.TenantID, f.After).Scan(&after); errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("after", "No source %q to list after.", f.After)
		} else if err != nil {
			return nil, fmt.Errorf("select source cursor: %w", err)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, f.TenantID, after, limit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select sources: %w", err)
	}
	return s.scanSources(rows)
}

// SourceUpdate implements hirehook.Store.
func (s *Store) SourceUpdate(ctx context.Context, tenantID, id string, u hirehook.SourceUpdate) (*hirehook.Source, error) {
	var src *hirehook.Source
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if src, err = s.sourceGet(ctx, tx, tenantID, id, "FOR UPDATE"); err != nil {
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
		secrets, err := s.sealSourceSecrets(tenantID, id, src.Secrets)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET name = $1, config = $2, enabled = $3, secrets = $4, updated_at = $5 WHERE tenant_id = $6 AND id = $7`,
			src.Name, string(src.Config), src.Enabled, secrets, src.UpdatedAt, tenantID, id); err != nil {
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
func (s *Store) SourceDelete(ctx context.Context, tenantID, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return fmt.Errorf("delete source %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbound_requests WHERE tenant_id = $1 AND source_id = $2`, tenantID, id); err != nil {
			return fmt.Errorf("delete inbound requests of source %s: %w", id, err)
		}
		return nil
	})
}

// SourceLease implements hirehook.Store. A node first renews what it holds
// (waiting for a row another transaction locks, such as a report, rather
// than dropping the source for a round), then takes free or expired
// sources, locked with SKIP LOCKED so that two nodes never take the same
// one. With p.Kinds, sources of other kinds are neither taken nor renewed,
// and the owner's leases of them are released with those of disabled
// sources.
func (s *Store) SourceLease(ctx context.Context, p hirehook.SourceLeaseParams) ([]*hirehook.Source, error) {
	kinds := p.Kinds
	if kinds == nil {
		kinds = []string{} // not NULL: cardinality 0 means every kind
	}
	const ofKinds = `(cardinality($2::text[]) = 0 OR kind = ANY ($2::text[]))`
	var out []*hirehook.Source
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET lease_owner = '', lease_until = 'epoch' WHERE lease_owner = $1 AND NOT (enabled AND `+ofKinds+`)`,
			p.Owner, kinds); err != nil {
			return fmt.Errorf("release disabled sources: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE sources SET lease_until = $3 WHERE lease_owner = $1 AND enabled AND `+ofKinds, p.Owner, kinds, p.Until)
		if err != nil {
			return fmt.Errorf("renew sources: %w", err)
		}
		held, _ := res.RowsAffected()
		var lim any // NULL: no limit
		if p.Limit > 0 {
			lim = max(0, int64(p.Limit)-held)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET lease_owner = $1, lease_until = $3 WHERE seq IN (
			SELECT seq FROM sources WHERE enabled AND lease_owner <> $1 AND (lease_owner = '' OR lease_until <= $4) AND `+ofKinds+`
			ORDER BY seq LIMIT $5 FOR UPDATE SKIP LOCKED)`, p.Owner, kinds, p.Until, p.Now, lim); err != nil {
			return fmt.Errorf("lease sources: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE lease_owner = $1 AND lease_until = $2 ORDER BY seq`, p.Owner, p.Until)
		if err != nil {
			return fmt.Errorf("select leased sources: %w", err)
		}
		out, err = s.scanSources(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, src := range out {
		src.Health.Node = p.Owner
	}
	return out, nil
}

// SourceRelease implements hirehook.Store.
func (s *Store) SourceRelease(ctx context.Context, owner string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sources SET lease_owner = '', lease_until = 'epoch' WHERE lease_owner = $1`, owner); err != nil {
		return fmt.Errorf("release sources of %s: %w", owner, err)
	}
	return nil
}

// SourceReport implements hirehook.Store.
func (s *Store) SourceReport(ctx context.Context, p hirehook.SourceReportParams) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var owner, secrets string
		err := tx.QueryRowContext(ctx, `SELECT lease_owner, secrets FROM sources WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, p.TenantID, p.ID).Scan(&owner, &secrets)
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
			if _, err := tx.ExecContext(ctx, `UPDATE sources SET health = $1 WHERE tenant_id = $2 AND id = $3`, h, p.TenantID, p.ID); err != nil {
				return fmt.Errorf("update source %s health: %w", p.ID, err)
			}
		}
		if p.Checkpoint != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE sources SET checkpoint = $1 WHERE tenant_id = $2 AND id = $3`, string(p.Checkpoint), p.TenantID, p.ID); err != nil {
				return fmt.Errorf("update source %s checkpoint: %w", p.ID, err)
			}
		}
		if len(p.Secrets) > 0 {
			cur, err := s.openSourceSecrets(p.TenantID, p.ID, secrets)
			if err != nil {
				return err
			}
			sealed, err := s.sealSourceSecrets(p.TenantID, p.ID, mergeSecrets(cur, p.Secrets))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE sources SET secrets = $1 WHERE tenant_id = $2 AND id = $3`, sealed, p.TenantID, p.ID); err != nil {
				return fmt.Errorf("update source %s secrets: %w", p.ID, err)
			}
		}
		return nil
	})
}

// SourceStateGet implements hirehook.Store.
func (s *Store) SourceStateGet(ctx context.Context, p hirehook.SourceStateParams) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT st.value FROM source_state st JOIN sources src ON src.id = st.source_id
		WHERE src.tenant_id = $1 AND st.source_id = $2 AND st.key = $3`, p.TenantID, p.SourceID, p.Key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hirehook.Errorf(hirehook.ENOTFOUND, "No state %q for source %q.", p.Key, p.SourceID)
	} else if err != nil {
		return "", fmt.Errorf("select source %s state: %w", p.SourceID, err)
	}
	return v, nil
}

// SourceStateSet implements hirehook.Store.
func (s *Store) SourceStateSet(ctx context.Context, p hirehook.SourceStateParams) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO source_state (source_id, key, value)
		SELECT id, $1, $2 FROM sources WHERE tenant_id = $3 AND id = $4
		ON CONFLICT (source_id, key) DO UPDATE SET value = excluded.value`, p.Key, p.Value, p.TenantID, p.SourceID)
	if err != nil {
		return fmt.Errorf("write source %s state: %w", p.SourceID, mapError(err))
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
	rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, secrets FROM sources ORDER BY seq FOR UPDATE`)
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
		plain, err := s.openSourceSecrets(r.tenantID, r.id, r.secrets)
		if err != nil {
			return err
		}
		sealed, err := s.sealSourceSecrets(r.tenantID, r.id, plain)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET secrets = $1 WHERE tenant_id = $2 AND id = $3`, sealed, r.tenantID, r.id); err != nil {
			return fmt.Errorf("update source %s secrets: %w", r.id, err)
		}
	}
	return nil
}
