// Package sqlstore holds the rules of the hirehook stores that do not depend
// on the database, written once for store/sqlite and store/postgres: the
// hub's secrets (the API key pepper: made once, sealed, re-sealed by a key
// rotation, adopted by an import), the retention purge, and the scans of an
// export (`hirehook migrate-store`). Each dialect package keeps what is
// truly its own and hands the core a Dialect value that says it.
//
// Where the line is drawn, and why. River (riverdriver: an Executor of
// small operations, the queue's logic in the client above it) and
// Litestream (a small ReplicaClient, the replication algorithms written
// once over it) both put the rules above a narrow interface of primitives.
// hirehook's two stores already talk to their databases through the same
// database/sql types (sql.DB, sql.Tx, sql.Rows), so the primitives here are
// not a new connection interface but the few things that differ:
//
//   - the SQL text: placeholders (the core writes ?, Dialect.Rebind numbers
//     them $1, $2, ... for PostgreSQL), how a column that may hold a blob is
//     read as text (Dialect.Text), and the lock a batch query takes so that
//     several nodes share the work (Dialect.SkipLocked);
//   - how a time is stored: SQLite keeps microseconds since the epoch in an
//     INTEGER, PostgreSQL a timestamptz (Dialect.Time for arguments; Time
//     and NullTime read either);
//   - how a write transaction runs (Dialect.WriteTx): SQLite's one writer
//     connection, PostgreSQL's pool with a retry of a transaction that lost
//     a deadlock, and its error mapping; and how a snapshot for reading is
//     taken (Dialect.SnapshotTx);
//   - statements whose best form differs enough that a reader would have to
//     compare them line by line anyway (the set-based tombstone update of a
//     purge on PostgreSQL, one statement per event on SQLite): these are
//     function fields of Dialect, kept in the dialect package.
//
// What stays in a dialect package is its SQL for the hot paths (ingest, the
// claim, stats), its migrations, its error mapping, and what its files need
// beyond the rules (SQLite's secure_delete and WAL truncation after a
// rewrite of secrets; PostgreSQL's LISTEN/NOTIFY and node registry).
//
// The core is a package beside the dialects rather than store/ itself so
// that it may import database/sql and seal without the root package doing
// so (hirehook imports only the standard library). Only store/sqlite and
// store/postgres import it; it is not an API for anything else.
package sqlstore
