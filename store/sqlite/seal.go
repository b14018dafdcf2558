package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// Endpoint signing secrets at rest: with a keyring, the secrets column holds
// the JSON of []hirehook.Secret sealed with AES-256-GCM (seal.Keyring.Seal),
// bound to the row's tenant and endpoint id, so a copy of the database file
// alone does not reveal them and a sealed value moved to another row does
// not open. Rows written before encryption hold plain JSON; they are read as
// they are and sealed when next written or by RotateEncryption.

// Endpoints' custom header values (an Authorization or a receiver token
// as often as not) are sealed the same way, in the headers column, under
// their own additional data; rows written before they were are sealed by
// UpgradeSecrets when a hub starts.

// headersAAD binds sealed custom headers to their row, as secretsAAD does
// secrets (a different label: secrets moved into headers do not open).
func headersAAD(tenantID, id string) []byte {
	return []byte("hirehook endpoint headers\x00" + tenantID + "\x00" + id)
}

// sealHeaders returns what the headers column stores for plain, the JSON
// of an endpoint's custom headers: plain without a keyring, else its seal.
func (s *Store) sealHeaders(tenantID, id string, plain []byte) ([]byte, error) {
	if s.keyring == nil {
		return plain, nil
	}
	v, err := s.keyring.Seal(plain, headersAAD(tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("encrypt endpoint %s headers: %w", id, err)
	}
	return []byte(v), nil
}

// openHeaders reverses sealHeaders; plain JSON is returned as it is.
func (s *Store) openHeaders(tenantID, id string, stored []byte) ([]byte, error) {
	plain, err := s.keyring.Open(string(stored), headersAAD(tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("decrypt endpoint %s headers: %w", id, err)
	}
	return plain, nil
}

// secretsAAD is the additional data that binds sealed secrets to their row.
// The NUL separates the ids (neither may contain one) so that no two
// (tenant, id) pairs give the same bytes.
func secretsAAD(tenantID, id string) []byte {
	return []byte("hirehook endpoint secrets\x00" + tenantID + "\x00" + id)
}

// sealSecrets returns what the secrets column stores for plain, the JSON of
// an endpoint's secrets: plain itself without a keyring, else its seal.
func (s *Store) sealSecrets(tenantID, id string, plain []byte) ([]byte, error) {
	if s.keyring == nil {
		return plain, nil
	}
	v, err := s.keyring.Seal(plain, secretsAAD(tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("encrypt endpoint %s secrets: %w", id, err)
	}
	return []byte(v), nil
}

// openSecrets reverses sealSecrets. Plain JSON (a row written without a
// keyring) is returned as it is.
func (s *Store) openSecrets(tenantID, id string, stored []byte) ([]byte, error) {
	plain, err := s.keyring.Open(string(stored), secretsAAD(tenantID, id))
	if err != nil {
		return nil, fmt.Errorf("decrypt endpoint %s secrets: %w", id, err)
	}
	return plain, nil
}

// The store seals secrets at rest with its keyring.
var _ hirehook.Encrypted = (*Store)(nil)

// CheckEncryption fails with seal.ErrUnknownKey when endpoint secrets are
// sealed with a key the keyring lacks, naming the missing key ids (never a
// key). A hub calls it at start: with the wrong key it would otherwise run,
// unable to sign a single delivery.
func (s *Store) CheckEncryption(ctx context.Context) error {
	// The column holds TEXT or BLOB (JSON is bound as []byte); LIKE compares
	// both as text (case-insensitively: seal.KeyID checks again). Only the
	// 18-character header, "hhenc:v1:<8 hex>:", is needed to learn the key.
	// Sources' secrets are sealed with the same keyring.
	rows, err := s.reader.QueryContext(ctx, `SELECT DISTINCT substr(CAST(secrets AS TEXT), 1, 18) FROM endpoints WHERE CAST(secrets AS TEXT) LIKE 'hhenc:%'
		UNION SELECT DISTINCT substr(CAST(headers AS TEXT), 1, 18) FROM endpoints WHERE CAST(headers AS TEXT) LIKE 'hhenc:%'
		UNION SELECT DISTINCT substr(secrets, 1, 18) FROM sources WHERE secrets LIKE 'hhenc:%'`+sqlstore.HubSecretHeads)
	if err != nil {
		return fmt.Errorf("check encryption keys: %w", err)
	}
	defer rows.Close()
	var heads []string
	for rows.Next() {
		var head string
		if err := rows.Scan(&head); err != nil {
			return fmt.Errorf("check encryption keys: %w", err)
		}
		heads = append(heads, head)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check encryption keys: %w", err)
	}
	return s.keyring.CheckHeads(s.path, heads)
}

// RotateEncryption re-seals the secrets of every endpoint (and every
// source) with the keyring's primary key, in one transaction, and returns
// how many endpoints it rewrote. Values sealed with any key of the keyring, and plain JSON written
// before encryption, are read; afterwards only the primary key is needed.
// It does not touch updated_at: the secrets themselves are unchanged.
func (s *Store) RotateEncryption(ctx context.Context) (int, error) {
	if s.keyring == nil {
		return 0, errors.New("rotate encryption: the store has no keyring")
	}
	// The old values must not survive in the file: SQLite leaves the bytes
	// of replaced rows in free space unless secure_delete is on, and old
	// pages in the WAL until it is checkpointed and truncated. Both are done
	// on the one writer connection; secure_delete is forced on for this
	// rotation and then set back to what it was, so the rotation does not
	// depend on how Open configured the writer.
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("rotate encryption: %w", err)
	}
	defer conn.Close()
	var secureDelete int
	if err := conn.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&secureDelete); err != nil {
		return 0, fmt.Errorf("rotate encryption: read secure_delete: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return 0, fmt.Errorf("rotate encryption: secure_delete: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA secure_delete = %d`, secureDelete))
	n, err := s.rotateEncryption(ctx, conn)
	if err != nil {
		return 0, err
	}
	// Best effort: with readers on the file (a hub still running) the
	// checkpoint may not finish; the WAL is then truncated at a later one.
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return n, fmt.Errorf("rotate encryption: checkpoint: %w", err)
	}
	return n, nil
}

func (s *Store) rotateEncryption(ctx context.Context, conn *sql.Conn) (int, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	type row struct {
		tenantID, id     string
		secrets, headers []byte
	}
	// Read every row before writing any: the single writer connection
	// cannot interleave an open cursor with updates safely.
	rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, secrets, headers FROM endpoints ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("select endpoint secrets: %w", err)
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.tenantID, &r.id, &r.secrets, &r.headers); err != nil {
			rows.Close()
			return 0, fmt.Errorf("select endpoint secrets: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("select endpoint secrets: %w", err)
	}
	for _, r := range all {
		plain, err := s.openSecrets(r.tenantID, r.id, r.secrets)
		if err != nil {
			return 0, err
		}
		sealed, err := s.sealSecrets(r.tenantID, r.id, plain)
		if err != nil {
			return 0, err
		}
		plainHeaders, err := s.openHeaders(r.tenantID, r.id, r.headers)
		if err != nil {
			return 0, err
		}
		sealedHeaders, err := s.sealHeaders(r.tenantID, r.id, plainHeaders)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET secrets = ?, headers = ? WHERE tenant_id = ? AND id = ?`, sealed, sealedHeaders, r.tenantID, r.id); err != nil {
			return 0, fmt.Errorf("update endpoint %s secrets: %w", r.id, err)
		}
	}
	if err := s.rotateSourceSecrets(ctx, tx); err != nil {
		return 0, err
	}
	if err := s.hub.Rotate(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return len(all), nil
}
