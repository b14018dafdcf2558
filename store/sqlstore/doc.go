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
//     an import (import.go): its transaction on Dialect.DB after the
//     dialect's locks (ImportWriter.Lock), the check that the target is
//     empty, the API key pepper that goes with the keys, commit and
//     rollback;
//   - the CRUD of the stores' own records (CRUD, crud.go, which each
//     dialect's Store embeds): tenants, API keys and the audit log
//     (tenant.go), endpoints and the pausing of their deliveries
//     (endpoint.go), sources with their leases, reports and state
//     (source.go), record lists and backfills (backfill.go), and the
//     sealing of endpoints' and sources' secrets at rest, their key check
//     and their re-sealing by a key rotation (seal.go);
//   - the inbound request log (inbound.go): create with its dedupe, get,
//     list, update, claim, reprocess, stats;
//   - the deliveries outside their claim and completion (delivery.go):
//     get, list, an operator's retry (with the check that the event can
//     still be sent) and recovery, the state a released lease leaves, and
//     what a completion writes as last_error and attempt id;
//   - DeliveryStats (stats.go): the queue figures, the attempt counts,
//     percentiles and timeline (the last three are methods of Queue,
//     queue.go, which both stores embed);
//   - ingest (plan.go): a batch's in-batch dedupe, the subscription match
//     and the endpoints' filters (MatchFunc), run before the write
//     transaction against a versioned endpoint snapshot and checked in it,
//     ordered holds, hot leases, the record snapshots, over the dialects'
//     statements (IngestSQL);
//   - the reads of events and records (eventread.go, methods of CRUD):
//     EventGet, EventList and RecordEvents with their filters and keyset
//     cursor, RecordGet, on Dialect.Reader;
//   - Ping (ping.go): the read that tells the database answers, and while
//     the last statement failed for want of it, the probe write
//     (Dialect.Probe) whose commit clears that;
//   - the migration runner (migrate.go): each dialect's embedded files in
//     name order, each in its own transaction with its row in
//     schema_migrations (the table's CREATE, and PostgreSQL's advisory
//     lock around the run, stay the dialect's).
//
// Each dialect package keeps what is truly its own and hands the core a
// Dialect value that says it. The delivery claim and the batched completion
// stay the dialects' on purpose: their statements differ in form (SQLite's
// one UPDATE … RETURNING in the group writer, statements prepared once, and
// failing_since kept in Go; PostgreSQL's FOR UPDATE SKIP LOCKED CTEs and
// one set-based statement for a whole batch of results). An import's
// inserts stay the dialects' on purpose (ImportWriter): multi-row
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
//     a deadlock, and its error mapping; where reads outside one go
//     (Dialect.Reader: SQLite's read-only pool); how a snapshot for reading
//     is taken (Dialect.SnapshotTx);
//   - row locks, which only PostgreSQL has and needs, SQLite having one
//     writer (Dialect.ForUpdate, ForShare, ForKeyShare); the collation that
//     orders ids byte by byte (Dialect.Bytewise); the hint that names a
//     partial index (Dialect.IndexedBy); text PostgreSQL cannot hold
//     (Dialect.CleanText);
//   - errors, by SQLSTATE or SQLite's extended result code: a unique
//     violation (Dialect.IsUnique) and the codes a caller can act on
//     (Dialect.MapError);
//   - the wake-up of other nodes' dispatchers when deliveries became due
//     (Dialect.Notify: pg_notify; nothing on SQLite);
//   - statements whose best form differs enough that a reader would have to
//     compare them line by line anyway: the set-based tombstone update and
//     cancel of a purge on PostgreSQL, one statement per event on SQLite
//     (Dialect.Tombstone, Dialect.CancelUnsent, function fields kept in the
//     dialect package), the JSON functions of an erasure
//     (Dialect.Erase: json_extract and json_set on SQLite, jsonb operators
//     on PostgreSQL), and the read of the attempts for the stats
//     (Dialect.StatsAttempts: SQLite's attempts carry their endpoint,
//     PostgreSQL's join it), and the probe write of Ping (Dialect.Probe:
//     a row larger than a page on SQLite, a transaction id on PostgreSQL).
//
// What stays in a dialect package is its SQL for the hot paths (ingest's
// statements, the claim and completion of deliveries), its migration files,
// its error mapping,
// and what its files need beyond the rules (SQLite's secure_delete, VACUUM
// and WAL truncation around an erasure or a rewrite of secrets;
// PostgreSQL's LISTEN/NOTIFY and node registry).
//
// A rule that runs inside a transaction with other work of the dialect
// (CandidateErase, HubSecrets.Rotate, CRUD.Reseal, BeginImport) takes the
// *sql.Tx; one that is a whole Store method (RetentionPurge, Export, the
// CRUD's) runs its own through Dialect.WriteTx or Dialect.SnapshotTx.
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
