// Package sqlstore holds the rules of the hirehook stores that do not depend
// on the database, written once for store/sqlite and store/postgres:
//
//   - the hub's secrets (hubsecret.go): the API key pepper, made once,
//     sealed, re-sealed by a key rotation, adopted by an import, and the
//     upgrade of what older hubs stored in the clear;
//   - the retention purge (retention.go): per-tenant cutoffs, the limit
//     shared across tenants, tombstones, the cancelled deliveries;
//   - candidate erasure (erase.go): what is rewritten, in which order, and
//     when the candidate counts as not found;
//   - `hirehook migrate-store`'s export scans (export.go) and the frame of
//     an import (import.go): the check that the target is empty, the API
//     key pepper that goes with the keys, commit and rollback.
//
// Each dialect package keeps what is truly its own and hands the core a
// Dialect value that says it. Not moved yet, and still written in both
// dialects: ingest planning, the delivery claim and completion, stats, the
// CRUD of tenants, endpoints, sources, inbound requests and backfills. An
// import's inserts stay the dialects' on purpose (ImportWriter): multi-row
// with OVERRIDING SYSTEM VALUE and a setval of each identity on PostgreSQL,
// row by row on SQLite, with column types that differ (BLOB or TEXT bodies,
// attempts' endpoint_id only on SQLite, NUL cleaned for PostgreSQL's text).
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
//     compare them line by line anyway: the set-based tombstone update and
//     cancel of a purge on PostgreSQL, one statement per event on SQLite
//     (Dialect.Tombstone, Dialect.CancelUnsent, function fields kept in the
//     dialect package), and the JSON functions of an erasure
//     (Dialect.Erase: json_extract and json_set on SQLite, jsonb operators
//     on PostgreSQL).
//
// What stays in a dialect package is its SQL for the hot paths (ingest, the
// claim, stats), its migrations, its error mapping, the sealing of
// endpoints' and sources' secrets (the column types differ: BLOB or TEXT),
// and what its files need beyond the rules (SQLite's secure_delete, VACUUM
// and WAL truncation around an erasure or a rewrite of secrets;
// PostgreSQL's LISTEN/NOTIFY and node registry).
//
// A rule that runs inside a transaction with other work of the dialect
// (CandidateErase, HubSecrets.Rotate, BeginImport) takes the *sql.Tx;
// one that is a whole Store method (RetentionPurge, Export) runs its own
// through Dialect.WriteTx or Dialect.SnapshotTx.
//
// The conformance suite (store/storetest) is the contract of both: Run for
// hirehook.Store (with RunCapabilities for what each store declares in
// Capabilities), RunSecretsAtRest for hirehook.Encrypted, RunCopy for
// storecopy.Exporter and storecopy.Importer.
//
// The core is a package beside the dialects rather than store/ itself so
// that it may import database/sql and seal without the root package doing
// so (hirehook imports only the standard library). Only store/sqlite and
// store/postgres import it; it is not an API for anything else.
package sqlstore
