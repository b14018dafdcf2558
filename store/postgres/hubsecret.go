package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/hirehook/hirehook"
)

// API keys at rest: api_keys.hash holds hirehook.APIKeyMAC of the key's
// digest, keyed with the API key pepper, 32 random bytes made on first use
// and kept in hub_secrets, sealed with the keyring like endpoint secrets
// (so a rotation re-seals it and every key keeps working). A pepper derived
// from the encryption key itself would change with each rotation, and the
// hub, which never holds the keys, could not rehash them.

// pepperName is the hub_secrets row of the API key pepper.
const pepperName = "api_key_pepper"

// hubSecretAAD binds a sealed hub secret to its name.
func hubSecretAAD(name string) []byte {
	return []byte("hirehook hub secret\x00" + name)
}

// hubSecretHeads extends CheckEncryption's query to the hub's secrets.
const hubSecretHeads = `
		UNION SELECT DISTINCT substr(value, 1, 18) FROM hub_secrets WHERE value LIKE 'hhenc:%'`

// apiKeyPepper returns the API key pepper, reading it once (and making it
// on the first call ever). It uses the writer: never call it inside a
// write transaction.
func (s *Store) apiKeyPepper(ctx context.Context) ([]byte, error) {
	s.pepperMu.Lock()
	defer s.pepperMu.Unlock()
	if s.pepper != nil {
		return s.pepper, nil
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	fresh := base64.StdEncoding.EncodeToString(raw[:])
	stored, err := s.sealHubSecret(pepperName, fresh)
	if err != nil {
		return nil, err
	}
	// Kept if another process made one first.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO hub_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, pepperName, stored); err != nil {
		return nil, fmt.Errorf("store the api key pepper: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM hub_secrets WHERE name = $1`, pepperName).Scan(&stored); err != nil {
		return nil, fmt.Errorf("read the api key pepper: %w", err)
	}
	p, err := s.openHubSecret(pepperName, stored)
	if err != nil {
		return nil, err
	}
	s.pepper = p
	return p, nil
}

// sealHubSecret returns the stored form of a hub secret (text).
func (s *Store) sealHubSecret(name, plain string) (string, error) {
	if s.keyring == nil {
		return plain, nil
	}
	v, err := s.keyring.Seal([]byte(plain), hubSecretAAD(name))
	if err != nil {
		return "", fmt.Errorf("encrypt hub secret %s: %w", name, err)
	}
	return v, nil
}

// openHubSecret reverses sealHubSecret and decodes the base64 value.
func (s *Store) openHubSecret(name, stored string) ([]byte, error) {
	plain, err := s.keyring.Open(stored, hubSecretAAD(name))
	if err != nil {
		return nil, fmt.Errorf("decrypt hub secret %s: %w", name, err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(plain))
	if err != nil || len(raw) < 32 {
		return nil, fmt.Errorf("hub secret %s is not 32 bytes of base64", name)
	}
	return raw, nil
}

// apiKeyMAC returns the stored form of an API key digest.
func (s *Store) apiKeyMAC(ctx context.Context, digest string) (string, error) {
	p, err := s.apiKeyPepper(ctx)
	if err != nil {
		return "", err
	}
	return hirehook.APIKeyMAC(p, digest), nil
}

// rotateHubSecrets re-seals the hub's secrets in tx with the primary key.
func (s *Store) rotateHubSecrets(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, value FROM hub_secrets ORDER BY name`)
	if err != nil {
		return fmt.Errorf("select hub secrets: %w", err)
	}
	all := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return fmt.Errorf("select hub secrets: %w", err)
		}
		all[name] = value
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select hub secrets: %w", err)
	}
	for name, value := range all {
		plain, err := s.keyring.Open(value, hubSecretAAD(name))
		if err != nil {
			return fmt.Errorf("decrypt hub secret %s: %w", name, err)
		}
		sealed, err := s.sealHubSecret(name, string(plain))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hub_secrets SET value = $1 WHERE name = $2`, sealed, name); err != nil {
			return fmt.Errorf("update hub secret %s: %w", name, err)
		}
	}
	return nil
}

// UpgradeSecrets brings what older hubs wrote in the clear to the current
// form; a hub calls it at start, after CheckEncryption. With a keyring, it
// seals endpoints' custom headers and hub secrets stored in plain JSON; in
// any case it rewrites API keys stored as a bare SHA-256 digest as
// hirehook.APIKeyMAC of it, so that every key keeps working and none stays
// testable offline. It does all of it at start rather than on a key's
// first use so that a lookup stays one indexed query (a key stored the old
// way would otherwise need a second, for every unknown key). It returns
// how many rows it rewrote. Each row is rewritten only if it is still as
// read, so hubs starting together do no harm.
func (s *Store) UpgradeSecrets(ctx context.Context) (int, error) {
	n := 0
	if s.keyring != nil {
		type row struct {
			tenantID, id string
			headers      string
		}
		rows, err := s.db.QueryContext(ctx, `SELECT tenant_id, id, headers FROM endpoints WHERE headers NOT LIKE 'hhenc:%' ORDER BY seq`)
		if err != nil {
			return n, fmt.Errorf("upgrade secrets: select endpoint headers: %w", err)
		}
		var plain []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.tenantID, &r.id, &r.headers); err != nil {
				rows.Close()
				return n, fmt.Errorf("upgrade secrets: select endpoint headers: %w", err)
			}
			plain = append(plain, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("upgrade secrets: select endpoint headers: %w", err)
		}
		for _, r := range plain {
			sealed, err := s.sealHeaders(r.tenantID, r.id, []byte(r.headers))
			if err != nil {
				return n, fmt.Errorf("upgrade secrets: %w", err)
			}
			res, err := s.db.ExecContext(ctx, `UPDATE endpoints SET headers = $1 WHERE tenant_id = $2 AND id = $3 AND headers = $4`, sealed, r.tenantID, r.id, r.headers)
			if err != nil {
				return n, fmt.Errorf("upgrade secrets: seal endpoint %s headers: %w", r.id, err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		var value string
		err = s.db.QueryRowContext(ctx, `SELECT value FROM hub_secrets WHERE name = $1`, pepperName).Scan(&value)
		if err == nil && !strings.HasPrefix(value, "hhenc:") {
			sealed, err := s.sealHubSecret(pepperName, value)
			if err != nil {
				return n, fmt.Errorf("upgrade secrets: %w", err)
			}
			if _, err := s.db.ExecContext(ctx, `UPDATE hub_secrets SET value = $1 WHERE name = $2 AND value = $3`, sealed, pepperName, value); err != nil {
				return n, fmt.Errorf("upgrade secrets: seal the api key pepper: %w", err)
			}
			n++
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return n, fmt.Errorf("upgrade secrets: read the api key pepper: %w", err)
		}
	}
	type key struct{ id, hash string }
	rows, err := s.db.QueryContext(ctx, `SELECT id, hash FROM api_keys WHERE hash NOT LIKE $1 ORDER BY created_at, id`, hirehook.APIKeyMACPrefix+"%")
	if err != nil {
		return n, fmt.Errorf("upgrade secrets: select api keys: %w", err)
	}
	var old []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.hash); err != nil {
			rows.Close()
			return n, fmt.Errorf("upgrade secrets: select api keys: %w", err)
		}
		old = append(old, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("upgrade secrets: select api keys: %w", err)
	}
	for _, k := range old {
		mac, err := s.apiKeyMAC(ctx, k.hash)
		if err != nil {
			return n, fmt.Errorf("upgrade secrets: %w", err)
		}
		res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET hash = $1 WHERE id = $2 AND hash = $3`, mac, k.id, k.hash)
		if err != nil {
			return n, fmt.Errorf("upgrade secrets: rehash api key %s: %w", k.id, err)
		}
		c, _ := res.RowsAffected()
		n += int(c)
	}
	return n, nil
}
