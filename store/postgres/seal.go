package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// Endpoint signing secrets at rest, as in store/sqlite: with a keyring, the
// secrets column holds the JSON of []hirehook.Secret sealed with
// AES-256-GCM (seal.Keyring.Seal), bound to the row's tenant and endpoint
// id, so a dump of the database alone does not reveal them and a sealed
// value moved to another row does not open. Rows written without a keyring
// hold plain JSON; they are read as they are and sealed when next written or
// by RotateEncryption. The additional data is the SQLite store's, byte for
// byte, so a value sealed by one store opens in the other.

// Endpoints' custom header values are sealed the same way, in the headers
// column, under their own additional data (the SQLite store's, byte for
// byte); rows written before they were are sealed by UpgradeSecrets when a
// hub starts.

// headersAAD binds sealed custom headers to their row.
func headersAAD(tenantID, id string) []byte {
	return []byte("hirehook endpoint headers\x00" + tenantID + "\x00" + id)
}

// sealHeaders returns what the headers column stores for plain, the JSON
// of an endpoint's custom headers: plain without a keyring, else its seal.
func (s *Store) sealHeaders(tenantID, id string, plain []byte) (string, error) {
	if s.keyring == nil {
		return string(plain), nil
	}
	v, err := s.keyring.Seal(plain, headersAAD(tenantID, id))
	if err != nil {
		return "", fmt.Errorf("encrypt endpoint %s headers: %w", id, err)
	}
	return v, nil
}

// openHeaders reverses sealHeaders; plain JSON is returned as it is.
func (s *Store) openHeaders(tenantID, id, stored string) ([]byte, error) {
	plain, err := s.keyring.Open(stored, headersAAD(tenantID, id))
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
func (s *Store) sealSecrets(tenantID, id string, plain []byte) (string, error) {
	if s.keyring == nil {
		return string(plain), nil
	}
	v, err := s.keyring.Seal(plain, secretsAAD(tenantID, id))
	if err != nil {
		return "", fmt.Errorf("encrypt endpoint %s secrets: %w", id, err)
	}
	return v, nil
}

// openSecrets reverses sealSecrets. Plain JSON (a row written without a
// keyring) is returned as it is.
func (s *Store) openSecrets(tenantID, id, stored string) ([]byte, error) {
	plain, err := s.keyring.Open(stored, secretsAAD(tenantID, id))
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
	// Only the 18-character header, "hhenc:v1:<8 hex>:", is needed to learn
	// the key. (LIKE is case-sensitive here, as seal.IsSealed is.)
	// Sources' secrets are sealed with the same keyring.
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT substr(secrets, 1, 18) FROM endpoints WHERE secrets LIKE 'hhenc:%'
		UNION SELECT DISTINCT substr(headers, 1, 18) FROM endpoints WHERE headers LIKE 'hhenc:%'
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
	return s.keyring.CheckHeads("database "+s.name, heads)
}

// RotateEncryption re-seals the secrets of every endpoint (and every
// source) with the keyring's primary key, in one transaction, and returns
// how many endpoints it rewrote. Values sealed with any key of the keyring, and plain JSON written
// before encryption, are read; afterwards only the primary key is needed.
// It does not touch updated_at: the secrets themselves are unchanged.
//
// The old values stay in the table file as dead row versions until VACUUM
// removes them, and in the WAL until it is recycled (see the package doc):
// run VACUUM endpoints (VACUUM FULL endpoints to rewrite the file) after a
// rotation that retires a compromised key.
func (s *Store) RotateEncryption(ctx context.Context) (int, error) {
	if s.keyring == nil {
		return 0, errors.New("rotate encryption: the store has no keyring")
	}
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		type row struct{ tenantID, id, secrets, headers string }
		// FOR UPDATE: a hub still running cannot write secrets sealed with
		// the old key between this read and the rewrite.
		rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, secrets, headers FROM endpoints ORDER BY seq FOR UPDATE`)
		if err != nil {
			return fmt.Errorf("select endpoint secrets: %w", err)
		}
		var all []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.tenantID, &r.id, &r.secrets, &r.headers); err != nil {
				rows.Close()
				return fmt.Errorf("select endpoint secrets: %w", err)
			}
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select endpoint secrets: %w", err)
		}
		for _, r := range all {
			plain, err := s.openSecrets(r.tenantID, r.id, r.secrets)
			if err != nil {
				return err
			}
			sealed, err := s.sealSecrets(r.tenantID, r.id, plain)
			if err != nil {
				return err
			}
			plainHeaders, err := s.openHeaders(r.tenantID, r.id, r.headers)
			if err != nil {
				return err
			}
			sealedHeaders, err := s.sealHeaders(r.tenantID, r.id, plainHeaders)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET secrets = $1, headers = $2 WHERE tenant_id = $3 AND id = $4`, sealed, sealedHeaders, r.tenantID, r.id); err != nil {
				return fmt.Errorf("update endpoint %s secrets: %w", r.id, err)
			}
		}
		if err := s.rotateSourceSecrets(ctx, tx); err != nil {
			return err
		}
		if err := s.hub.Rotate(ctx, tx); err != nil {
			return err
		}
		n = len(all)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rotate encryption: %w", err)
	}
	return n, nil
}
