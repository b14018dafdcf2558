package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/dbfault"
)

// Ping is hirehook.Store's Ping for the database named name (a path, or a
// database and its server): EUNAVAILABLE when Dialect.Reader does not
// answer, and also while health holds the last statement's failure for want
// of the database (a full disk, a read-only file or standby). Then it runs
// Dialect.Probe in one transaction of Dialect.DB, and answers nil again,
// clearing health, once that commits.
func Ping(ctx context.Context, d *Dialect, name string, health *dbfault.Health) error {
	var one int
	if err := d.Reader.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		if dbfault.Unavailable(err) {
			return fmt.Errorf("ping %s: %w", name, err)
		}
		return fmt.Errorf("ping %s: %w: %w", name, hirehook.Errorf(hirehook.EUNAVAILABLE, "The database is unreachable."), err)
	}
	if health.Err() == nil {
		return nil
	}
	gen := health.Gen()
	if err := d.ProbeWrite(ctx); err != nil {
		if dbfault.Unavailable(err) {
			return fmt.Errorf("ping %s: probe write: %w", name, err)
		}
		return fmt.Errorf("ping %s: probe write: %w: %w", name, hirehook.Errorf(hirehook.EUNAVAILABLE, "The database cannot be written."), err)
	}
	health.ClearSince(gen)
	return nil
}

// ProbeWrite runs Dialect.Probe in one transaction of Dialect.DB and
// commits it.
func (d *Dialect) ProbeWrite(ctx context.Context) error {
	return InTx(ctx, d.DB, func(tx *sql.Tx) error { return d.ProbeFunc(ctx, tx) })
}
