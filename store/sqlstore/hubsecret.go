package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
)

// API keys at rest: api_keys.hash holds hirehook.APIKeyMAC of the key's
// digest, keyed with the API key pepper, 32 random bytes made on first use
// and kept in hub_secrets, sealed with the keyring like endpoint secrets
// (so a rotation re-seals it and every key keeps working). A pepper derived
// from the encryption key itself would change with each rotation, and the
// hub, which never holds the keys, could not rehash them.

// PepperName is the hub_secrets row of the API key pepper.
const PepperName = "api_key_pepper"

// HubSecretHeads extends a CheckEncryption query to the hub's secrets: it
// selects the 18-character header of every sealed hub secret.
const HubSecretHeads = `
		UNION SELECT DISTINCT substr(value, 1, 18) FROM hub_secrets WHERE value LIKE 'hhenc:%'`

// hubSecretAAD binds a sealed hub secret to its name.
func hubSecretAAD(name string) []byte {
	return []byte("hirehook hub secret\x00" + name)
}

// HubSecrets keeps the hub's own secrets (table hub_secrets), written the
// same way in both dialects: today the API key pepper.
type HubSecrets struct {
	// Dialect is the store's.
	Dialect *Dialect
	// Keyring seals the secrets; nil keeps them in the clear.
	Keyring *seal.Keyring

	mu     sync.Mutex
	pepper []byte
}

// Pepper returns the API key pepper, reading it once (and making it on
// the first call ever; kept if another process made one first). It writes
// through Dialect.DB: never call it inside a write transaction of SQLite's
// single writer.
func (h *HubSecrets) Pepper(ctx context.Context) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pepper != nil {
		return h.pepper, nil
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	stored, err := h.Seal(PepperName, base64.StdEncoding.EncodeToString(raw[:]))
	if err != nil {
		return nil, err
	}
	d := h.Dialect
	if _, err := d.DB.ExecContext(ctx, d.Rebind(`INSERT INTO hub_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), PepperName, stored); err != nil {
		return nil, fmt.Errorf("store the api key pepper: %w", err)
	}
	if err := d.DB.QueryRowContext(ctx, d.Rebind(`SELECT value FROM hub_secrets WHERE name = ?`), PepperName).Scan(&stored); err != nil {
		return nil, fmt.Errorf("read the api key pepper: %w", err)
	}
	p, err := h.Open(PepperName, stored)
	if err != nil {
		return nil, err
	}
	h.pepper = p
	return p, nil
}

// APIKeyMAC returns the stored form of an API key digest.
func (h *HubSecrets) APIKeyMAC(ctx context.Context, digest string) (string, error) {
	p, err := h.Pepper(ctx)
	if err != nil {
		return "", err
	}
	return hirehook.APIKeyMAC(p, digest), nil
}

// Seal returns the stored form of a hub secret (text).
func (h *HubSecrets) Seal(name, plain string) (string, error) {
	if h.Keyring == nil {
		return plain, nil
	}
	v, err := h.Keyring.Seal([]byte(plain), hubSecretAAD(name))
	if err != nil {
		return "", fmt.Errorf("encrypt hub secret %s: %w", name, err)
	}
	return v, nil
}

// Open reverses Seal and decodes the base64 value.
func (h *HubSecrets) Open(name, stored string) ([]byte, error) {
	plain, err := h.Keyring.Open(stored, hubSecretAAD(name))
	if err != nil {
		return nil, fmt.Errorf("decrypt hub secret %s: %w", name, err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(plain))
	if err != nil || len(raw) < 32 {
		return nil, fmt.Errorf("hub secret %s is not 32 bytes of base64", name)
	}
	return raw, nil
}

// ReadPepper returns the API key pepper as tx sees it, or nil if the store
// has none yet (an export's).
func (h *HubSecrets) ReadPepper(ctx context.Context, tx *sql.Tx) ([]byte, error) {
	var stored string
	err := tx.QueryRowContext(ctx, h.Dialect.Rebind(`SELECT value FROM hub_secrets WHERE name = ?`), PepperName).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read the api key pepper: %w", err)
	}
	return h.Open(PepperName, stored)
}

// AdoptPepper writes raw as the API key pepper in tx (an import's: the
// imported keys' hashes are keyed with the source's pepper). Call Forget
// once tx committed.
func (h *HubSecrets) AdoptPepper(ctx context.Context, tx *sql.Tx, raw []byte) error {
	stored, err := h.Seal(PepperName, base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if _, err := tx.ExecContext(ctx, h.Dialect.Rebind(`INSERT INTO hub_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`), PepperName, stored); err != nil {
		return fmt.Errorf("import hub_secrets: %w", err)
	}
	return nil
}

// Forget drops the pepper read earlier, so that the next use reads it
// again.
func (h *HubSecrets) Forget() {
	h.mu.Lock()
	h.pepper = nil
	h.mu.Unlock()
}

// Rotate re-seals the hub's secrets in tx with the keyring's primary key
// (part of RotateEncryption's transaction).
func (h *HubSecrets) Rotate(ctx context.Context, tx *sql.Tx) error {
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
		plain, err := h.Keyring.Open(value, hubSecretAAD(name))
		if err != nil {
			return fmt.Errorf("decrypt hub secret %s: %w", name, err)
		}
		sealed, err := h.Seal(name, string(plain))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, h.Dialect.Rebind(`UPDATE hub_secrets SET value = ? WHERE name = ?`), sealed, name); err != nil {
			return fmt.Errorf("update hub secret %s: %w", name, err)
		}
	}
	return nil
}

// Upgrade brings what older hubs wrote in the clear to the current form; a
// hub calls it (as the store's UpgradeSecrets) at start, after
// CheckEncryption. With a keyring, it seals endpoints' custom headers
// (with sealHeaders, the store's) and hub secrets stored in plain JSON; in
// any case it rewrites API keys stored as a bare SHA-256 digest as
// hirehook.APIKeyMAC of it, so that every key keeps working and none stays
// testable offline. It does all of it at start rather than on a key's
// first use so that a lookup stays one indexed query (a key stored the old
// way would otherwise need a second, for every unknown key). It returns
// how many rows it rewrote. Each row is rewritten only if it is still as
// read, so hubs starting together do no harm.
func (h *HubSecrets) Upgrade(ctx context.Context, sealHeaders func(tenantID, id string, plain []byte) (any, error)) (int, error) {
	d := h.Dialect
	n := 0
	if h.Keyring != nil {
		type row struct {
			tenantID, id string
			// headers is the column's value as stored (TEXT or, on
			// SQLite, a BLOB), written back as it is in the update's
			// WHERE so that it matches the row whichever it is.
			headers any
		}
		rows, err := d.DB.QueryContext(ctx, `SELECT tenant_id, id, headers FROM endpoints WHERE `+d.TextFunc("headers")+` NOT LIKE 'hhenc:%' ORDER BY seq`)
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
			sealed, err := sealHeaders(r.tenantID, r.id, asBytes(r.headers))
			if err != nil {
				return n, fmt.Errorf("upgrade secrets: %w", err)
			}
			res, err := d.DB.ExecContext(ctx, d.Rebind(`UPDATE endpoints SET headers = ? WHERE tenant_id = ? AND id = ? AND headers = ?`), sealed, r.tenantID, r.id, r.headers)
			if err != nil {
				return n, fmt.Errorf("upgrade secrets: seal endpoint %s headers: %w", r.id, err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		var value string
		err = d.DB.QueryRowContext(ctx, d.Rebind(`SELECT value FROM hub_secrets WHERE name = ?`), PepperName).Scan(&value)
		if err == nil && !strings.HasPrefix(value, "hhenc:") {
			sealed, err := h.Seal(PepperName, value)
			if err != nil {
				return n, fmt.Errorf("upgrade secrets: %w", err)
			}
			if _, err := d.DB.ExecContext(ctx, d.Rebind(`UPDATE hub_secrets SET value = ? WHERE name = ? AND value = ?`), sealed, PepperName, value); err != nil {
				return n, fmt.Errorf("upgrade secrets: seal the api key pepper: %w", err)
			}
			n++
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return n, fmt.Errorf("upgrade secrets: read the api key pepper: %w", err)
		}
	}
	type key struct{ id, hash string }
	rows, err := d.DB.QueryContext(ctx, d.Rebind(`SELECT id, hash FROM api_keys WHERE hash NOT LIKE ? ORDER BY created_at, id`), hirehook.APIKeyMACPrefix+"%")
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
		mac, err := h.APIKeyMAC(ctx, k.hash)
		if err != nil {
			return n, fmt.Errorf("upgrade secrets: %w", err)
		}
		res, err := d.DB.ExecContext(ctx, d.Rebind(`UPDATE api_keys SET hash = ? WHERE id = ? AND hash = ?`), mac, k.id, k.hash)
		if err != nil {
			return n, fmt.Errorf("upgrade secrets: rehash api key %s: %w", k.id, err)
		}
		c, _ := res.RowsAffected()
		n += int(c)
	}
	return n, nil
}

// asBytes returns a text or blob column's value as bytes.
func asBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}
