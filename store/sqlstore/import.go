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
// on SQLite), and what it does before the commit.
type ImportWriter struct {
	// Rows inserts the rows of b in tx, keeping their seq and sealing
	// secrets with the store's keyring.
	Rows func(ctx context.Context, tx *sql.Tx, b storecopy.Batch) error
	// BeforeCommit, if set, runs last in tx (PostgreSQL moves its identity
	// sequences past the copied seqs).
	BeforeCommit func(ctx context.Context, tx *sql.Tx) error
}

// BeginImport makes tx, begun by the dialect (with the locks it needs), an
// import into the store whose hub secrets are hub: it runs PrepareImport,
// and rolls tx back if that fails.
func BeginImport(ctx context.Context, tx *sql.Tx, hub *HubSecrets, w ImportWriter) (storecopy.Import, error) {
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
	if err := im.w.Rows(ctx, im.tx, b); err != nil {
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
	if im.w.BeforeCommit != nil {
		if err := im.w.BeforeCommit(ctx, im.tx); err != nil {
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
