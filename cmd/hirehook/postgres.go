package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// validatePostgres checks a postgres:// --db and the key it needs, without
// connecting.
func (c *Config) validatePostgres() error {
	if _, err := pgx.ParseConfig(c.DB); err != nil {
		return &ConfigError{Field: "db", Value: redactDB(c.DB), Err: errors.New("is not a PostgreSQL URL that parses, as in postgres://user@host:5432/dbname")}
	}
	if c.EncryptionKey == "" {
		return &ConfigError{Field: "encryption-key", Value: "", Err: errors.New("is required with a PostgreSQL --db: " +
			"the generated key file is kept next to a SQLite database only, and every node sharing the database needs the same key; " +
			"generate one with: openssl rand -base64 32")}
	}
	return nil
}

// redactDB returns --db as logs and errors may show it: a postgres:// URL
// with its password masked.
func redactDB(db string) string {
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

// postgresKeyring is the keyring of a PostgreSQL hub: --encryption-key,
// then --previous-encryption-keys.
func postgresKeyring(cfg Config) (*seal.Keyring, error) {
	ring, err := seal.ParseKeyring(cfg.EncryptionKey, cfg.PreviousEncryptionKeys...)
	if err != nil {
		return nil, &ConfigError{Field: "encryption-key", Value: mask(cfg.EncryptionKey), Err: err}
	}
	return ring, nil
}

// openPostgres opens the hub's store on PostgreSQL, migrating it.
func openPostgres(ctx context.Context, cfg Config, logger *slog.Logger) (*postgres.Store, error) {
	if err := cfg.validatePostgres(); err != nil {
		return nil, err
	}
	ring, err := postgresKeyring(cfg)
	if err != nil {
		return nil, err
	}
	st, err := postgres.OpenWithOptions(ctx, cfg.DB, postgres.Options{Keyring: ring, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// runRotatePostgres is `hirehook rotate-encryption-key` on PostgreSQL: the
// new key is --encryption-key, the old ones --previous-encryption-keys.
// Other hubs on the database must be stopped first: one still running with
// only the old key cannot read what the rotation wrote.
func runRotatePostgres(ctx context.Context, cfg Config, stdout io.Writer) error {
	ring, err := postgresKeyring(cfg)
	if err != nil {
		return err
	}
	st, err := postgres.OpenWithOptions(ctx, cfg.DB, postgres.Options{Keyring: ring})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	if err := st.CheckEncryption(ctx); err != nil {
		return fmt.Errorf("open store: %w", keyHint(err, cfg, ""))
	}
	n, err := st.RotateEncryption(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Re-encrypted the sources' credentials, the API key pepper, and the custom headers and signing secrets of %d endpoint(s) with key %s (--encryption-key).\n"+
		"Start every hub with that key; this database no longer needs the previous ones.\n"+
		"The old values stay in PostgreSQL's files until VACUUM endpoints (VACUUM FULL endpoints to rewrite the table).\n",
		n, ring.Primary().ID())
	return nil
}
