package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"time"
)

// Migrator is what Migrate runs its statements on: the writer (a *sql.DB
// of one connection, SQLite) or the one connection that holds the
// migration lock (a *sql.Conn, PostgreSQL).
type Migrator interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// Migrate applies the migration files of fsys (migration/*.sql) that the
// database has not seen, in the order of their names, each in its own
// transaction that also records its name and time in schema_migrations.
// create makes that table if it is missing (its column types are the
// dialect's). A file is executed whole, so it may hold several statements.
// d gives the placeholders and the form of the time; its connections are
// not used (SQLite migrates before its reader pool is in use, PostgreSQL on
// the connection that holds its advisory lock).
func Migrate(ctx context.Context, d *Dialect, m Migrator, fsys fs.FS, create string) error {
	if _, err := m.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(fsys, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := applyMigration(ctx, d, m, fsys, name); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// applyMigration applies the file name unless schema_migrations has it.
func applyMigration(ctx context.Context, d *Dialect, m Migrator, fsys fs.FS, name string) error {
	tx, err := m.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, d.Rebind(`SELECT count(*) FROM schema_migrations WHERE name = ?`), name).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	// Without arguments, pgx sends the file in one simple-protocol query
	// (so it may hold dollar-quoted function bodies), and SQLite runs each
	// of its statements.
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`), name, d.TimeFunc(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}
