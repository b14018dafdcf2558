package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/hirehook/hirehook/store/sqlstore"
)

// newDialect is what the core (store/sqlstore) needs of SQLite: ?
// placeholders, times as UTC microseconds, text read through CAST (a column
// may hold JSON bound as a BLOB), no row locks (there is one writer), write
// transactions on the writer connection, reads and snapshots on the reader
// pool, UNIQUE errors by extended result code, partial indexes named with
// INDEXED BY, and attempts that carry their endpoint.
func (s *Store) newDialect() *sqlstore.Dialect {
	return &sqlstore.Dialect{
		Name:         "sqlite",
		TimeFunc:     func(t time.Time) any { return toMicros(t) },
		TextFunc:     func(col string) string { return "CAST(" + col + " AS TEXT)" },
		DB:           s.writer,
		Reader:       s.reader,
		IsUniqueFunc: isUniqueViolation,
		WriteTxFunc: func(ctx context.Context, fn func(tx *sql.Tx) error) error {
			return sqlstore.InTx(ctx, s.writer, fn)
		},
		SnapshotTxFunc: func(ctx context.Context) (*sql.Tx, error) {
			return s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		},
		TombstoneFunc:    tombstone,
		CancelUnsentFunc: cancelUnsent,
		Erase:            eraseSQL,
		ExportAttempts: `SELECT delivery_id, number, id, tenant_id, endpoint_id, started_at, duration_us, status_code, response_body, error_class, error
			FROM attempts ORDER BY delivery_id, number`,
		IndexedByFunc: func(index string) string { return " INDEXED BY " + index },
		ProbeFunc:     probe,
		StatsAttempts: `SELECT endpoint_id, started_at, duration_us, status_code
			FROM attempts INDEXED BY attempts_tenant_started WHERE tenant_id = ? AND started_at >= ?`,
	}
}
