package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/hirehook/hirehook/internal/hub"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/sqlite"
)

// rotateFlags are the serve flags rotate-encryption-key reads.
var rotateFlags = []string{"db", "encryption-key", "previous-encryption-keys", "log-level", "log-format"}

// runRotate is `hirehook rotate-encryption-key`: it re-encrypts the secrets
// and custom headers of every endpoint, the sources' credentials and the
// API key pepper with a new primary key, in one transaction, so that the
// old key can be retired (the API keys' hashes stay as they are: the pepper
// they are keyed with does not change, only its seal). It reads serve's
// --db, --encryption-key, --previous-encryption-keys and log flags (rotateFlags)
// and their HIREHOOK_* twins, and nothing else of serve's configuration.
//
// With --encryption-key, that key is the new one, and the old ones come
// from --previous-encryption-keys (and the key file, if one exists). Without
// it, a new key is generated and replaces the key file, in three steps so
// that a crash at any point leaves a key file that opens the database:
//  1. the file gets [new, old...] (the hub can read either);
//  2. the database is re-encrypted with new;
//  3. the file gets [new].
//
// Stop the hub first: one still running with the old key cannot read what
// the rotation wrote, and would encrypt new secrets with the old key.
func runRotate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := hub.DefaultConfig()
	if err := loadConfigOnly(&cfg, "hirehook rotate-encryption-key", rotateFlags, args, getenv, stdout); err != nil {
		return err
	}
	if cfg.PostgresURL() != "" {
		return runRotatePostgres(ctx, cfg, stdout)
	}
	path, err := cfg.SQLitePath()
	if err != nil {
		return &hub.ConfigError{Field: "db", Value: cfg.DB, Err: err}
	}
	if _, err := os.Stat(path); err != nil {
		return &hub.ConfigError{Field: "db", Value: cfg.DB, Err: fmt.Errorf("no database to re-encrypt: %w", err)}
	}
	logger := newLogger(cfg, stderr)
	keyFile := hub.KeyFilePath(path)
	fileKeys, err := hub.ReadKeyFile(keyFile, logger)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	old := append(append([]string(nil), cfg.PreviousEncryptionKeys...), fileKeys...)

	if cfg.EncryptionKey != "" {
		ring, err := seal.ParseKeyring(cfg.EncryptionKey, old...)
		if err != nil {
			return err
		}
		st, err := openForRotation(ctx, cfg, path, ring)
		if err != nil {
			return err
		}
		n, err := rotateAndClose(ctx, st)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Re-encrypted the sources' credentials, the API key pepper, and the custom headers and signing secrets of %d endpoint(s) with key %s (--encryption-key).\n"+
			"Start the hub with that key; this database no longer needs the previous ones.\n", n, ring.Primary().ID())
		if fileKeys != nil {
			fmt.Fprintf(stdout, "The key file %s is no longer used: --encryption-key takes its place.\n", keyFile)
		}
		return nil
	}

	newKey := seal.NewKey()
	ring, err := seal.ParseKeyring(newKey, old...)
	if err != nil {
		return err
	}
	// Opening first checks that the ring has every key the stored secrets
	// need, before the key file is touched.
	st, err := openForRotation(ctx, cfg, path, ring)
	if err != nil {
		return err
	}
	if err := hub.ReplaceKeyFile(keyFile, append([]string{newKey}, fileKeys...)); err != nil {
		st.Close()
		return err
	}
	n, err := rotateAndClose(ctx, st)
	if err != nil {
		return err
	}
	if err := hub.ReplaceKeyFile(keyFile, []string{newKey}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Re-encrypted the sources' credentials, the API key pepper, and the custom headers and signing secrets of %d endpoint(s) with the new key %s.\n"+
		"The key is in %s (mode 0600); the hub loads it at its next start. Back it up apart from the database.\n",
		n, ring.Primary().ID(), keyFile)
	return nil
}

func openForRotation(ctx context.Context, cfg hub.Config, path string, ring *seal.Keyring) (*sqlite.Store, error) {
	st, err := sqlite.OpenWithOptions(ctx, path, sqlite.Options{Keyring: ring, Exclusive: true})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := st.CheckEncryption(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("open store: %w", hub.KeyHint(err, cfg, path))
	}
	return st, nil
}

func rotateAndClose(ctx context.Context, st *sqlite.Store) (int, error) {
	n, err := st.RotateEncryption(ctx)
	if cerr := st.Close(); err == nil && cerr != nil {
		return n, fmt.Errorf("close store: %w", cerr)
	}
	return n, err
}

// runRotatePostgres is `hirehook rotate-encryption-key` on PostgreSQL: the
// new key is --encryption-key, the old ones --previous-encryption-keys.
// Other hubs on the database must be stopped first: one still running with
// only the old key cannot read what the rotation wrote.
func runRotatePostgres(ctx context.Context, cfg hub.Config, stdout io.Writer) error {
	ring, err := hub.PostgresKeyring(cfg)
	if err != nil {
		return err
	}
	st, err := postgres.OpenWithOptions(ctx, cfg.DB, postgres.Options{Keyring: ring})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	if err := st.CheckEncryption(ctx); err != nil {
		return fmt.Errorf("open store: %w", hub.KeyHint(err, cfg, ""))
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
