package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/hirehook/hirehook/internal/cli"
	"github.com/hirehook/hirehook/internal/hub"
	"github.com/hirehook/hirehook/internal/storecopy"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/sqlite"
)

// runMigrateStore is `hirehook migrate-store`.
func runMigrateStore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fl := cli.NewFlags("migrate-store", stdout)
	var from, to, key, fromKey string
	var fromPrev []string
	fl.StringVar(&from, "from", "", "the source database: sqlite:PATH or a postgres:// URL")
	fl.StringVar(&to, "to", "", "the target database, empty: a postgres:// URL or sqlite:PATH")
	fl.StringVar(&key, "encryption-key", "", "key that seals the target's endpoint secrets (else HIREHOOK_ENCRYPTION_KEY); required for a PostgreSQL target")
	fl.StringVar(&fromKey, "from-encryption-key", "", "key that opens the source's endpoint secrets (default: the SQLite source's key file)")
	fl.Var(stringList{&fromPrev}, "from-previous-encryption-keys", "older keys of the source, comma-separated")
	if err := cli.ParseFlags(fl, args); err != nil {
		return err
	}
	if key == "" {
		key = getenv("HIREHOOK_ENCRYPTION_KEY")
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("migrate-store: unexpected argument %q", fl.Arg(0))
	}
	if from == "" || to == "" {
		return errors.New("migrate-store: --from and --to are required (see hirehook migrate-store --help)")
	}
	if from == to {
		return errors.New("migrate-store: --from and --to name the same database")
	}

	if target := (hub.Config{DB: to, EncryptionKey: key}); target.PostgresURL() != "" {
		if err := target.ValidatePostgres(); err != nil {
			return err
		}
	}
	src, err := openCopySource(ctx, from, fromKey, fromPrev)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openCopyTarget(ctx, to, key)
	if err != nil {
		return err
	}
	defer dst.Close()

	im, err := dst.BeginImport(ctx)
	if err != nil {
		return fmt.Errorf("migrate-store: target %s: %w", hub.RedactDB(to), err)
	}
	defer im.Rollback()
	counts := storecopy.Counts{}
	err = src.Export(ctx, func(b storecopy.Batch) error {
		counts.Add(b)
		return im.Write(ctx, b)
	})
	if err != nil {
		return fmt.Errorf("migrate-store: nothing was copied: %w", err)
	}
	if err := im.Commit(ctx); err != nil {
		return fmt.Errorf("migrate-store: nothing was copied: %w", err)
	}
	fmt.Fprintf(stdout, "Copied %s from %s to %s.\n", counts, hub.RedactDB(from), hub.RedactDB(to))
	if key != "" {
		keyID := "?"
		if k, err := seal.ParseKeyring(key); err == nil {
			keyID = k.Primary().ID()
		}
		fmt.Fprintf(stdout, "Endpoint secrets are sealed with key %s: start the hubs on %s with that --encryption-key.\n", keyID, hub.RedactDB(to))
	}
	return nil
}

// copySource and copyTarget are the two sides of a copy: stores that
// declare the capability (storecopy.Exporter, storecopy.Importer).
type copySource interface {
	storecopy.Exporter
	Close() error
}

type copyTarget interface {
	storecopy.Importer
	Close() error
}

// openCopySource opens the source database and checks that its secrets
// open.
func openCopySource(ctx context.Context, db, key string, prev []string) (copySource, error) {
	cfg := hub.Config{DB: db, EncryptionKey: key, PreviousEncryptionKeys: prev}
	if cfg.PostgresURL() != "" {
		return openPostgresSource(ctx, cfg)
	}
	path, err := cfg.SQLitePath()
	if err != nil {
		return nil, &hub.ConfigError{Field: "from", Value: db, Err: err}
	}
	// Opening a missing file would create it.
	if _, err := os.Stat(path); err != nil {
		return nil, &hub.ConfigError{Field: "from", Value: db, Err: fmt.Errorf("no database to copy: %w", err)}
	}
	var keys []string
	if key != "" {
		keys = append(keys, key)
	}
	fileKeys, err := hub.ReadKeyFile(hub.KeyFilePath(path), nil)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	keys = append(append(keys, fileKeys...), prev...)
	var ring *seal.Keyring
	if len(keys) > 0 {
		if ring, err = seal.ParseKeyring(keys[0], keys[1:]...); err != nil {
			return nil, &hub.ConfigError{Field: "from-encryption-key", Value: hub.Mask(key), Err: err}
		}
	}
	st, err := sqlite.OpenWithOptions(ctx, path, sqlite.Options{Keyring: ring, Exclusive: true})
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	if err := st.CheckEncryption(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("open source: %w; pass its key in --from-encryption-key", err)
	}
	return st, nil
}

// openCopyTarget opens (and migrates) the target database, whose secrets
// are sealed with key.
func openCopyTarget(ctx context.Context, db, key string) (copyTarget, error) {
	cfg := hub.Config{DB: db, EncryptionKey: key}
	if cfg.PostgresURL() != "" {
		if err := cfg.ValidatePostgres(); err != nil {
			return nil, err
		}
		ring, err := hub.PostgresKeyring(cfg)
		if err != nil {
			return nil, err
		}
		st, err := postgres.OpenWithOptions(ctx, db, postgres.Options{Keyring: ring, MaxConns: 2})
		if err != nil {
			return nil, fmt.Errorf("open target: %w", err)
		}
		return st, nil
	}
	if strings.HasPrefix(db, "sqlite:") {
		return openSQLiteTarget(ctx, cfg)
	}
	return nil, &hub.ConfigError{Field: "to", Value: hub.RedactDB(db), Err: errors.New("must be a postgres:// URL or sqlite:PATH")}
}

func openPostgresSource(ctx context.Context, cfg hub.Config) (copySource, error) {
	var ring *seal.Keyring
	if cfg.EncryptionKey != "" {
		var err error
		if ring, err = seal.ParseKeyring(cfg.EncryptionKey, cfg.PreviousEncryptionKeys...); err != nil {
			return nil, &hub.ConfigError{Field: "from-encryption-key", Value: hub.Mask(cfg.EncryptionKey), Err: err}
		}
	}
	st, err := postgres.OpenWithOptions(ctx, cfg.DB, postgres.Options{Keyring: ring, MaxConns: 2})
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	if err := st.CheckEncryption(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("open source: %w; pass its key in --from-encryption-key", err)
	}
	return st, nil
}

// openSQLiteTarget opens (creating) the target file; its secrets are
// sealed with --encryption-key or else the key file next to it, generated
// if missing, as serve does.
func openSQLiteTarget(ctx context.Context, cfg hub.Config) (copyTarget, error) {
	path, err := cfg.SQLitePath()
	if err != nil {
		return nil, &hub.ConfigError{Field: "to", Value: cfg.DB, Err: err}
	}
	ring, err := hub.LoadKeyring(cfg, path, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	st, err := sqlite.OpenWithOptions(ctx, path, sqlite.Options{Keyring: ring, Exclusive: true})
	if err != nil {
		return nil, fmt.Errorf("open target: %w", err)
	}
	return st, nil
}
