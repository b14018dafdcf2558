package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/jackc/pgx/v5"
)

// PostgreSQL as the database: --db postgres://user@host:5432/dbname (or
// postgresql://). Any number of hubs may share one database. The password
// is best left out of the URL, which shows in process lists: pgx reads
// PGPASSWORD and ~/.pgpass. Endpoint secrets are encrypted as with SQLite,
// but there is no file next to the database to keep a generated key in, and
// every node needs the same key: --encryption-key is required.

// PostgresURL returns --db when it names a PostgreSQL database, else "".
func (c *Config) PostgresURL() string {
	if strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://") {
		return c.DB
	}
	return ""
}

// ValidatePostgres checks a postgres:// --db and the key it needs, without
// connecting.
func (c *Config) ValidatePostgres() error {
	if _, err := pgx.ParseConfig(c.DB); err != nil {
		return &ConfigError{Field: "db", Value: RedactDB(c.DB), Err: errors.New("is not a PostgreSQL URL that parses, as in postgres://user@host:5432/dbname")}
	}
	if c.EncryptionKey == "" {
		return &ConfigError{Field: "encryption-key", Value: "", Err: errors.New("is required with a PostgreSQL --db: " +
			"the generated key file is kept next to a SQLite database only, and every node sharing the database needs the same key; " +
			"generate one with: openssl rand -base64 32")}
	}
	return nil
}

// RedactDB returns --db as logs and errors may show it: a postgres:// URL
// with its password masked.
func RedactDB(db string) string {
	if !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://…"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// PostgresKeyring is the keyring of a PostgreSQL hub: --encryption-key,
// then --previous-encryption-keys.
func PostgresKeyring(cfg Config) (*seal.Keyring, error) {
	ring, err := seal.ParseKeyring(cfg.EncryptionKey, cfg.PreviousEncryptionKeys...)
	if err != nil {
		return nil, &ConfigError{Field: "encryption-key", Value: Mask(cfg.EncryptionKey), Err: err}
	}
	return ring, nil
}

// OpenPostgres opens the hub's store on PostgreSQL, migrating it.
func OpenPostgres(ctx context.Context, cfg Config, logger *slog.Logger) (*postgres.Store, error) {
	if err := cfg.ValidatePostgres(); err != nil {
		return nil, err
	}
	ring, err := PostgresKeyring(cfg)
	if err != nil {
		return nil, err
	}
	st, err := postgres.OpenWithOptions(ctx, cfg.DB, postgres.Options{Keyring: ring, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}
