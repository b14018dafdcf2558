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
