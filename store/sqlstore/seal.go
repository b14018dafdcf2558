package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hirehook/hirehook/seal"
)

// Secrets at rest: with a keyring, an endpoint's secrets column holds the
// JSON of its []hirehook.Secret sealed with AES-256-GCM (seal.Keyring.Seal),
// bound to the row's tenant and endpoint id, so that a copy of the database
// alone does not reveal them and a sealed value moved to another row does
// not open. Its custom header values (an Authorization or a receiver token
// as often as not) are sealed the same way in the headers column, and a
// source's credentials in its secrets column, each under its own additional
// data, so that a value does not open in another column or table. Rows
// written without a keyring hold plain JSON; they are read as they are, and
// sealed when next written, by RotateEncryption, or (headers) by
// UpgradeSecrets when a hub starts. Sealed values are stored as text (SQLite
// rows written before this was shared may hold a BLOB: they read the same).

// secretsAAD is the additional data that binds an endpoint's sealed
// secrets to its row. The NUL separates the ids (neither may contain one)
// so that no two (tenant, id) pairs give the same bytes.
func secretsAAD(tenantID, id string) []byte {
	return []byte("hirehook endpoint secrets\x00" + tenantID + "\x00" + id)
}

// headersAAD binds an endpoint's sealed custom headers to its row (a
// different label: secrets moved into headers do not open).
func headersAAD(tenantID, id string) []byte {
	return []byte("hirehook endpoint headers\x00" + tenantID + "\x00" + id)
}

// destinationAAD binds a broker endpoint's sealed config and credentials
// to its row.
func destinationAAD(tenantID, id string) []byte {
	return []byte("hirehook endpoint destination\x00" + tenantID + "\x00" + id)
}

// sourceSecretsAAD binds a source's sealed secrets to its row.
func sourceSecretsAAD(tenantID, id string) []byte {
	return []byte("hirehook source secrets\x00" + tenantID + "\x00" + id)
}

// Sealer seals and opens the secrets of endpoints and sources with
// Keyring; a nil Keyring keeps them in plain JSON (and opens only that).
type Sealer struct{ Keyring *seal.Keyring }

func (s Sealer) seal(what, id string, plain, aad []byte) (string, error) {
	if s.Keyring == nil {
		return string(plain), nil
	}
	v, err := s.Keyring.Seal(plain, aad)
	if err != nil {
		return "", fmt.Errorf("encrypt %s %s: %w", what, id, err)
	}
	return v, nil
}

func (s Sealer) open(what, id string, stored, aad []byte) ([]byte, error) {
	plain, err := s.Keyring.Open(string(stored), aad)
	if err != nil {
		return nil, fmt.Errorf("decrypt %s %s: %w", what, id, err)
	}
	return plain, nil
}

// SealSecrets returns what an endpoint's secrets column stores for plain,
// the JSON of its secrets.
func (s Sealer) SealSecrets(tenantID, id string, plain []byte) (string, error) {
	return s.seal("endpoint", id+" secrets", plain, secretsAAD(tenantID, id))
}

// OpenSecrets reverses SealSecrets; plain JSON is returned as it is.
func (s Sealer) OpenSecrets(tenantID, id string, stored []byte) ([]byte, error) {
	return s.open("endpoint", id+" secrets", stored, secretsAAD(tenantID, id))
}

// SealHeaders returns what an endpoint's headers column stores for plain,
// the JSON of its custom headers.
func (s Sealer) SealHeaders(tenantID, id string, plain []byte) (string, error) {
	return s.seal("endpoint", id+" headers", plain, headersAAD(tenantID, id))
}

// OpenHeaders reverses SealHeaders; plain JSON is returned as it is.
func (s Sealer) OpenHeaders(tenantID, id string, stored []byte) ([]byte, error) {
	return s.open("endpoint", id+" headers", stored, headersAAD(tenantID, id))
}

// destinationJSON is the plain form of an endpoint's destination column.
type destinationJSON struct {
	Config      map[string]string `json:"config"`
	Credentials map[string]string `json:"credentials"`
}

// SealDestination returns what an endpoint's destination column stores for
// a broker kind's config and credentials: "" for a webhook endpoint (no
// config, no credentials), else their JSON, sealed.
func (s Sealer) SealDestination(tenantID, id string, config, credentials map[string]string) (string, error) {
	if len(config) == 0 && len(credentials) == 0 {
		return "", nil
	}
	plain, err := json.Marshal(destinationJSON{Config: config, Credentials: credentials})
	if err != nil {
		return "", err
	}
	return s.seal("endpoint", id+" destination", plain, destinationAAD(tenantID, id))
}

// OpenDestination reverses SealDestination.
func (s Sealer) OpenDestination(tenantID, id string, stored []byte) (config, credentials map[string]string, err error) {
	if len(stored) == 0 {
		return nil, nil, nil
	}
	plain, err := s.open("endpoint", id+" destination", stored, destinationAAD(tenantID, id))
	if err != nil {
		return nil, nil, err
	}
	var d destinationJSON
	if err := json.Unmarshal(plain, &d); err != nil {
		return nil, nil, fmt.Errorf("decode endpoint %s destination: %w", id, err)
	}
	return d.Config, d.Credentials, nil
}

// SealSourceSecrets returns what a source's secrets column stores for
// secrets (nil is an empty object).
func (s Sealer) SealSourceSecrets(tenantID, id string, secrets map[string]string) (string, error) {
	if secrets == nil {
		secrets = map[string]string{}
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return "", err
	}
	return s.seal("source", id+" secrets", plain, sourceSecretsAAD(tenantID, id))
}

// OpenSourceSecrets reverses SealSourceSecrets.
func (s Sealer) OpenSourceSecrets(tenantID, id string, stored []byte) (map[string]string, error) {
	plain, err := s.open("source", id+" secrets", stored, sourceSecretsAAD(tenantID, id))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("decode source %s secrets: %w", id, err)
	}
	return out, nil
}

// Sealer returns the store's sealer, for a dialect's own statements (an
// import's inserts, an export).
func (c *CRUD) Sealer() Sealer { return c.sealer }

// CheckKeys is hirehook.Encrypted.CheckEncryption: it fails with
// seal.ErrUnknownKey when a value is sealed with a key the keyring lacks,
// naming the missing key ids (never a key) and where (the database as a
// message may show it). Only the 18-character header of a sealed value,
// "hhenc:v1:<8 hex>:", is needed to learn its key. (SQLite's LIKE ignores
// case; seal.KeyID checks again.)
func (c *CRUD) CheckKeys(ctx context.Context, where string) error {
	t := c.d.TextFunc
	rows, err := c.d.Reader.QueryContext(ctx, `SELECT DISTINCT substr(`+t("secrets")+`, 1, 18) FROM endpoints WHERE `+t("secrets")+` LIKE 'hhenc:%'
		UNION SELECT DISTINCT substr(`+t("headers")+`, 1, 18) FROM endpoints WHERE `+t("headers")+` LIKE 'hhenc:%'
		UNION SELECT DISTINCT substr(destination, 1, 18) FROM endpoints WHERE destination LIKE 'hhenc:%'
		UNION SELECT DISTINCT substr(`+t("secrets")+`, 1, 18) FROM sources WHERE `+t("secrets")+` LIKE 'hhenc:%'`+HubSecretHeads)
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
	return c.sealer.Keyring.CheckHeads(where, heads)
}

// Reseal re-seals, in tx, the secrets, custom headers and broker
// destination of every endpoint,
// the secrets of every source and the hub's secrets with the keyring's
// primary key, and returns how many endpoints it rewrote: the heart of
// RotateEncryption, whose transaction (and what it does about the old
// values' bytes) is the dialect's. Values sealed with any key of the
// keyring, and plain JSON, are read. It does not touch updated_at: the
// secrets themselves are unchanged.
func (c *CRUD) Reseal(ctx context.Context, tx *sql.Tx) (int, error) {
	type row struct {
		table, tenantID, id           string
		secrets, headers, destination []byte
	}
	// Every row is read before any is written (SQLite's single writer
	// connection cannot interleave an open cursor with updates safely);
	// ForUpdate keeps a hub still running from writing secrets sealed with
	// the old key between this read and the rewrite.
	var all []row
	for _, table := range []string{"endpoints", "sources"} {
		cols := "secrets, headers, destination"
		if table == "sources" {
			cols = "secrets, '', ''"
		}
		rows, err := tx.QueryContext(ctx, `SELECT tenant_id, id, `+cols+` FROM `+table+` ORDER BY seq`+c.d.ForUpdate)
		if err != nil {
			return 0, fmt.Errorf("select %s secrets: %w", table, err)
		}
		for rows.Next() {
			r := row{table: table}
			if err := rows.Scan(&r.tenantID, &r.id, &r.secrets, &r.headers, &r.destination); err != nil {
				rows.Close()
				return 0, fmt.Errorf("select %s secrets: %w", table, err)
			}
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("select %s secrets: %w", table, err)
		}
	}
	n := 0
	for _, r := range all {
		if r.table == "sources" {
			plain, err := c.sealer.OpenSourceSecrets(r.tenantID, r.id, r.secrets)
			if err != nil {
				return 0, err
			}
			sealed, err := c.sealer.SealSourceSecrets(r.tenantID, r.id, plain)
			if err != nil {
				return 0, err
			}
			if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE sources SET secrets = ? WHERE tenant_id = ? AND id = ?`), sealed, r.tenantID, r.id); err != nil {
				return 0, fmt.Errorf("update source %s secrets: %w", r.id, err)
			}
			continue
		}
		plain, err := c.sealer.OpenSecrets(r.tenantID, r.id, r.secrets)
		if err != nil {
			return 0, err
		}
		sealed, err := c.sealer.SealSecrets(r.tenantID, r.id, plain)
		if err != nil {
			return 0, err
		}
		plainHeaders, err := c.sealer.OpenHeaders(r.tenantID, r.id, r.headers)
		if err != nil {
			return 0, err
		}
		sealedHeaders, err := c.sealer.SealHeaders(r.tenantID, r.id, plainHeaders)
		if err != nil {
			return 0, err
		}
		config, credentials, err := c.sealer.OpenDestination(r.tenantID, r.id, r.destination)
		if err != nil {
			return 0, err
		}
		sealedDestination, err := c.sealer.SealDestination(r.tenantID, r.id, config, credentials)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE endpoints SET secrets = ?, headers = ?, destination = ? WHERE tenant_id = ? AND id = ?`),
			sealed, sealedHeaders, sealedDestination, r.tenantID, r.id); err != nil {
			return 0, fmt.Errorf("update endpoint %s secrets: %w", r.id, err)
		}
		n++
	}
	if err := c.hub.Rotate(ctx, tx); err != nil {
		return 0, err
	}
	return n, nil
}
