package sqlite

import (
	"context"

	"github.com/hirehook/hirehook/store/sqlstore"
)

// SetSecureDelete turns secure_delete on or off on the writer connection,
// so that a test can write a history the way a store did before migration
// 0003 (without it).
func (s *Store) SetSecureDelete(ctx context.Context, on bool) error {
	v := "OFF"
	if on {
		v = "ON"
	}
	_, err := s.writer.ExecContext(ctx, "PRAGMA secure_delete = "+v)
	return err
}

// PurgeQueries are the queries of one retention batch, for EXPLAIN.
var PurgeQueries = sqlstore.PurgeQueries((&Store{}).newDialect())
