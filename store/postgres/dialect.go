package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/hirehook/hirehook/store/sqlstore"
)

// newDialect is what the core (store/sqlstore) needs of PostgreSQL:
// numbered placeholders, timestamptz times, text read with ::text, row
// locks (FOR UPDATE, FOR SHARE, and SKIP LOCKED so that the batch jobs of
// several nodes share the rows), ids ordered byte by byte (COLLATE "C"),
// write transactions run again after a lost deadlock (inTx), REPEATABLE
// READ snapshots, errors by SQLSTATE, text cleaning, and pg_notify to wake
// the other nodes.
func (s *Store) newDialect() *sqlstore.Dialect {
	return &sqlstore.Dialect{
		Name:         "postgres",
		Numbered:     true,
		TimeFunc:     func(t time.Time) any { return t },
		TextFunc:     func(col string) string { return col + "::text" },
		SkipLocked:   "\n\t\tFOR UPDATE SKIP LOCKED",
		DB:           s.db,
		Reader:       s.db,
		ForUpdate:    " FOR UPDATE",
		ForShare:     " FOR SHARE",
		Bytewise:     ` COLLATE "C"`,
		IsUniqueFunc: isUniqueViolation,
		MapErrorFunc: mapError,
		NotifyFunc:   notify,
		WriteTxFunc:  s.inTx,
		SnapshotTxFunc: func(ctx context.Context) (*sql.Tx, error) {
			return s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		},
		TombstoneFunc:    tombstone,
		CancelUnsentFunc: cancelUnsent,
		Erase:            eraseSQL,
		// Attempts carry their delivery's endpoint in SQLite; here it is joined.
		ExportAttempts: `SELECT a.delivery_id, a.number, a.id, a.tenant_id, coalesce(d.endpoint_id, ''), a.started_at, a.duration_us, a.status_code, a.response_body, a.error_class, a.error
			FROM attempts a LEFT JOIN deliveries d ON d.id = a.delivery_id ORDER BY a.delivery_id, a.number`,
		ForKeyShare:   " FOR KEY SHARE",
		CleanTextFunc: cleanText,
		ProbeFunc:     probe,
		// Attempts carry no endpoint here; it is their delivery's.
		StatsAttempts: `SELECT d.endpoint_id, a.started_at, a.duration_us, a.status_code
			FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.tenant_id = ? AND a.started_at >= ?`,
	}
}

// qPurgeEvents writes the tombstones of a purge batch in one statement.
const qPurgeEvents = `UPDATE events e SET payload = v.payload, purged_at = $1
	FROM unnest($2::bigint[], $3::bytea[]) AS v(seq, payload) WHERE e.seq = v.seq`

// tombstone is sqlstore.Dialect.Tombstone on PostgreSQL: one set-based
// statement for the whole batch (the database is across a network).
func tombstone(ctx context.Context, tx *sql.Tx, p sqlstore.TombstoneParams) error {
	_, err := tx.ExecContext(ctx, qPurgeEvents, p.Now, p.Seqs, p.Payloads)
	return err
}

// cancelUnsent is sqlstore.Dialect.CancelUnsent on PostgreSQL, one
// statement for all the events.
func cancelUnsent(ctx context.Context, tx *sql.Tx, p sqlstore.CancelParams) error {
	_, err := tx.ExecContext(ctx, qCancelUnsent, p.Reason, p.Now, p.TenantID, p.IDs)
	return err
}
