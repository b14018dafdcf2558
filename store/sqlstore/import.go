package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hirehook/hirehook/internal/storecopy"
)

// PrepareImport is the start of every import, in tx, the import's
// transaction: it refuses, with a *storecopy.NotEmptyError naming what it
// found, a database that holds anything but the default tenant its
// migration created, and deletes that tenant, which the source's tenants
// replace. (The dialect locks the tables first where other writers could
// write meanwhile.)
func PrepareImport(ctx context.Context, tx *sql.Tx) error {
	found := storecopy.Counts{}
	for _, t := range storecopy.Tables {
		q := `SELECT count(*) FROM ` + t
		if t == "tenants" {
			q += ` WHERE id <> 'default'`
		}
		var n int
		if err := tx.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("import: count %s: %w", t, err)
		}
		found[t] = n
	}
	if found.String() != "nothing" {
		return &storecopy.NotEmptyError{Found: found}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tenants`); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// ImportWriter is a dialect's part of an import: its inserts, whose form
// differs (multi-row with OVERRIDING SYSTEM VALUE on PostgreSQL, row by row
// on SQLite), the locks it takes first, and what it does before the commit.
type ImportWriter struct {
	// LockFunc, if set, runs first in tx and takes the locks the import needs
	// (PostgreSQL locks every table against other writers; SQLite's write
	// transaction holds its one lock already).
	LockFunc func(ctx context.Context, tx *sql.Tx) error
	// RowsFunc inserts the rows of b in tx, keeping their seq and sealing
	// secrets with the store's keyring.
	RowsFunc func(ctx context.Context, tx *sql.Tx, b storecopy.Batch) error
	// BeforeCommitFunc, if set, runs last in tx (PostgreSQL moves its identity
	// sequences past the copied seqs).
	BeforeCommitFunc func(ctx context.Context, tx *sql.Tx) error
}

// BeginImport starts an import (storecopy.Importer) into the store of d
// whose hub secrets are hub, in one transaction of Dialect.DB (SQLite's
// writer): nothing is visible, and nothing is left behind on failure, until
// Commit. It runs w.Lock, then PrepareImport, and rolls back if either
// fails.
func BeginImport(ctx context.Context, d *Dialect, hub *HubSecrets, w ImportWriter) (storecopy.Import, error) {
	tx, err := d.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("import: begin: %w", err)
	}
	if w.LockFunc != nil {
		if err := w.LockFunc(ctx, tx); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("import: lock tables: %w", err)
		}
	}
	if err := PrepareImport(ctx, tx); err != nil {
		tx.Rollback()
		return nil, err
	}
	return &importTx{tx: tx, hub: hub, w: w}, nil
}

// importTx is storecopy.Import over one transaction.
type importTx struct {
	tx  *sql.Tx
	hub *HubSecrets
	w   ImportWriter
	// pepper is set once the import replaced the API key pepper, which the
	// store then reads again after the commit.
	pepper bool
}

// Write inserts the rows of b; the API key pepper that comes with the
// keys (their hashes are keyed with it) replaces the store's.
func (im *importTx) Write(ctx context.Context, b storecopy.Batch) error {
	if err := im.w.RowsFunc(ctx, im.tx, b); err != nil {
		return err
	}
	if b.APIKeyPepper != nil {
		if err := im.hub.AdoptPepper(ctx, im.tx, b.APIKeyPepper); err != nil {
			return err
		}
		im.pepper = true
	}
	return nil
}

// Commit commits the import.
func (im *importTx) Commit(ctx context.Context) error {
	if im.w.BeforeCommitFunc != nil {
		if err := im.w.BeforeCommitFunc(ctx, im.tx); err != nil {
			return err
		}
	}
	if err := im.tx.Commit(); err != nil {
		return fmt.Errorf("import: commit: %w", err)
	}
	if im.pepper {
		im.hub.Forget()
	}
	return nil
}

// Rollback abandons the import; after Commit it does nothing.
func (im *importTx) Rollback() error { return im.tx.Rollback() }
