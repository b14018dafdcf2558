// Package postgres implements hirehook.Store on PostgreSQL, for when one
// machine is not enough: any number of hirehook nodes share one database,
// deliveries are leased with FOR UPDATE SKIP LOCKED, and a dead node's
// leases expire and are taken by the others. It passes the same conformance
// suite (store/storetest) as store/sqlite.
//
// It talks to PostgreSQL through pgx (github.com/jackc/pgx/v5) behind
// database/sql (pgx's stdlib driver), as the SQLite store does through its
// driver: the two stores read alike (sql.Tx, sql.ErrNoRows, one pool), and
// pgx still gives what matters here: its automatic per-connection cache of
// prepared statements (the hot statements are parsed and planned once per
// connection, as the SQLite store prepares its own), binary parameters
// (timestamptz, bytea, text[]), SQLSTATE codes in *pgconn.PgError, and
// PG* environment variables and ~/.pgpass for the password.
//
// It needs PostgreSQL 14 or newer (date_bin), and a user that may create
// tables and a function in the first schema of its search_path (the owner
// of the database may, in public).
//
// Choices that differ from SQLite, and why:
//   - Times are timestamptz (microseconds, like the suite), written and read
//     in UTC. Event payloads are bytea, byte for byte what is signed.
//   - The database is across a network, so EventIngest writes a batch with
//     a fixed handful of set-based statements (unnest of arrays) instead of
//     a statement per event, and DeliveryClaim and DeliveryComplete fold
//     their reads into the writes (CTEs with RETURNING).
//   - Record snapshots are merged by a plpgsql jsonb_merge_patch (RFC 7396)
//     inside the upsert, so concurrent nodes serialise on the record's row
//     lock with no read-modify-write window (see migration/0001_init.sql).
//   - Migrations run under a session-level pg_advisory_lock, so nodes that
//     start together apply each migration once.
//   - Writes that make deliveries due for any node (pending deliveries of an
//     ingest, retry, recover, re-enable, release) send pg_notify in their
//     transaction; Listen wakes a node's dispatcher on commit (listen.go).
//   - Writes run in READ COMMITTED transactions; a transaction that loses a
//     deadlock (40P01) or a serialisation check (40001), or an ingest that
//     meets an event another node committed meanwhile, is run again, a few
//     times, since every method is one transaction with nothing outside it.
//   - Driver errors become codes by SQLSTATE, never by message text: 23505
//     (unique_violation) → ECONFLICT; no row → ENOTFOUND; 22021 and 22P05
//     (text PostgreSQL cannot hold: NUL, \u0000 in jsonb) → EINVALID.
//     Errors about the database's availability → EUNAVAILABLE, wherever
//     they surface, at the driver (internal/dbfault): the SQLSTATE classes
//     08 (connection exception), 53 (insufficient resources: disk full, out
//     of memory, too many connections), 57P (the server shutting down or
//     not yet accepting connections) and 58 (system error: I/O), 25006 (a
//     read-only server: a standby during a failover), and the network's
//     errors (connection refused or reset, cut mid-message). Ping reports
//     such an error until a probe write (a transaction that takes a
//     transaction id and commits) succeeds.
//
// Personal data (CandidateErase, RotateEncryption): PostgreSQL never updates
// in place. A rewritten or deleted row leaves its old version in the table
// file until VACUUM removes it (autovacuum does, eventually), and its bytes
// in free space until that space is reused; the WAL, WAL archives, replicas
// and backups keep copies until they are recycled. The store does not run
// VACUUM itself: a plain VACUUM (of events, records and attempts after an
// erasure; of endpoints after a key rotation) drops the old versions from
// every query path without blocking ingest, and only VACUUM FULL of those
// tables (an exclusive lock: ingest waits) rewrites the files without them.
// docs/personal-data.md says so.
//
// The rules both stores share (hub secrets, retention, candidate erasure,
// the export scans, the CRUD of tenants, endpoints, sources and backfills,
// the inbound request log, the deliveries outside their claim and
// completion, the stats, the event and record reads, Ping, the migration
// runner) are written once in store/sqlstore, over the Dialect this package
// gives it (dialect.go).
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/dbfault"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migration/*.sql
var migrations embed.FS

// migrationLock is the key of the advisory lock held while migrating:
// "hirehook" in ASCII.
const migrationLock int64 = 0x68697265686f6f6b

// SQLSTATE codes the store acts on (PostgreSQL, Appendix A).
const (
	codeUniqueViolation          = "23505"
	codeCharacterNotInRepertoire = "22021" // NUL in text, invalid UTF-8
	codeUntranslatableCharacter  = "22P05" // \u0000 in jsonb
	codeSerializationFailure     = "40001"
	codeDeadlockDetected         = "40P01"
	codeReadOnlyTransaction      = "25006" // a standby, or default_transaction_read_only
)

// txAttempts is how many times a transaction that lost a deadlock or a
// serialisation check is run in all.
const txAttempts = 4

// Store is a hirehook.Store on a PostgreSQL database.
type Store struct {
	db *sql.DB
	// name is the database as errors and logs may show it: host and
	// database name, never the password.
	name string

	// keyring seals endpoint secrets; nil keeps them in plain JSON.
	keyring *seal.Keyring
	// dialect is what the core (store/sqlstore) needs of this store, and
	// hub the hub's secrets the core keeps (the API key pepper).
	dialect *sqlstore.Dialect
	hub     sqlstore.HubSecrets
	// CRUD is the core's rules of tenants, API keys, the audit log,
	// endpoints, sources and backfills: its methods are this Store's.
	*sqlstore.CRUD
	// Queue gives the Store the core's rules of the inbound log, of the
	// deliveries outside their claim and completion, and of their stats.
	*sqlstore.Queue
	// ingest is the core's EventIngest over this store's statements (it
	// caches each tenant's enabled endpoints, checked against
	// endpoint_version).
	ingest *sqlstore.Ingest
	// connConfig opens Listen's own connection.
	connConfig *pgx.ConnConfig
	logger     *slog.Logger

	closeOnce sync.Once
	closeErr  error

	// health holds the last availability error a statement met, until
	// a probe write succeeds (see Ping).
	health dbfault.Health
}

var _ hirehook.Store = (*Store)(nil)

// Options are the optional settings of OpenWithOptions.
type Options struct {
	// Keyring encrypts endpoint signing secrets at rest (see seal). Nil
	// stores them in plain JSON, as tests do; endpoints sealed earlier then
	// fail to load (see CheckEncryption).
	Keyring *seal.Keyring
	// MaxConns is the most connections the store opens; 0 means 16. Every
	// node opens its own, so nodes × MaxConns must stay under the server's
	// max_connections.
	MaxConns int
	// Logger receives Listen's reconnection warnings. Nil discards them.
	Logger *slog.Logger
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string; PG* environment variables and ~/.pgpass
// fill in what it leaves out) and applies pending migrations, with zero
// Options.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWithOptions(ctx, dsn, Options{})
}

// OpenWithOptions connects to the database named by dsn and applies pending
// migrations under an advisory lock, so that nodes starting together do not
// race. It does not read endpoint secrets, so it succeeds with the wrong
// keyring; CheckEncryption tells.
func OpenWithOptions(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse errors redact the password (best effort) and
		// never quote the connection string whole.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "hirehook"
	}
	name := cfg.Database
	if cfg.Host != "" {
		name = fmt.Sprintf("%s on %s:%d", cfg.Database, cfg.Host, cfg.Port)
	}
	s := &Store{name: name, keyring: opts.Keyring, connConfig: cfg.Copy()}
	db := sql.OpenDB(dbfault.Connector(stdlib.GetConnector(*cfg), classify, &s.health))
	s.db = db
	s.dialect = s.newDialect()
	s.ingest = s.newIngest()
	s.hub = sqlstore.HubSecrets{Dialect: s.dialect, Keyring: opts.Keyring}
	s.CRUD = sqlstore.NewCRUD(s.dialect, opts.Keyring, &s.hub)
	s.Queue = sqlstore.NewQueue(s.dialect)
	n := opts.MaxConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s.logger = logger
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", name, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", name, err)
	}
	return s, nil
}

// migrate applies the embedded migrations that the database has not seen,
// each in its own transaction, while holding a session-level advisory lock
// on one connection: a second node starting at the same moment waits, then
// finds them applied. (CREATE TABLE IF NOT EXISTS alone is not safe to run
// concurrently; it too runs under the lock.)
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	defer func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(unlockCtx, `SELECT pg_advisory_unlock($1)`, migrationLock); err != nil {
			// A session that may still hold the lock must not go back to
			// the pool: closing it releases the lock on the server.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return sqlstore.Migrate(ctx, s.dialect, conn, migrations, qCreateMigrations)
}

// qCreateMigrations makes the table of the applied migrations (see
// sqlstore.Migrate).
const qCreateMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`

// Ping implements hirehook.Store (sqlstore.Ping). It answers EUNAVAILABLE
// when the database does not answer, and also while the last statement
// failed for want of the database (a read-only standby, a full disk): then
// it tries a probe write, and answers nil again once one succeeds.
func (s *Store) Ping(ctx context.Context) error {
	return sqlstore.Ping(ctx, s.dialect, s.name, &s.health)
}

// probe is sqlstore.Dialect.Probe on PostgreSQL: a transaction that takes
// a transaction id writes its commit to the WAL, which a read-only server
// refuses and a full disk cannot hold.
func probe(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_current_xact_id()`)
	return err
}

// Close implements hirehook.Store. It may be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// inTx runs fn in one transaction and commits it. A transaction that lost a
// deadlock or a serialisation check is rolled back and run again (fn must
// therefore build its results afresh on every call); other errors are
// returned as they are, mapped by mapError.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.retry(ctx, func() error { return s.tryTx(ctx, fn) })
}

// retry runs fn, a transaction, again while it loses a deadlock or a
// serialisation check, as inTx does; fn may be one statement outside any
// BEGIN, which is a transaction of its own.
func (s *Store) retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if attempt == txAttempts || !retryable(err) {
			return mapError(err)
		}
		// The other transaction usually finishes within milliseconds.
		wait := time.Duration(attempt) * time.Duration(1+rand.IntN(10)) * time.Millisecond
		select {
		case <-ctx.Done():
			return mapError(err)
		case <-time.After(wait):
		}
	}
}

// tryTx runs fn in one transaction, once.
func (s *Store) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return sqlstore.InTx(ctx, s.db, fn)
}

// retryable reports an error after which the transaction is run again: it
// lost a deadlock or a serialisation check, or EventIngest met an event
// committed concurrently.
func retryable(err error) bool {
	switch sqlState(err) {
	case codeDeadlockDetected, codeSerializationFailure:
		return true
	}
	return errors.Is(err, errIngestRace)
}

// sqlState returns the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isUniqueViolation reports a UNIQUE or PRIMARY KEY violation, by SQLSTATE.
func isUniqueViolation(err error) bool { return sqlState(err) == codeUniqueViolation }

// classify names the PostgreSQL errors that are about the database's
// availability rather than the statement, by SQLSTATE class (see the
// package doc); dbfault has already named the network's.
func classify(err error) (string, bool) {
	code := sqlState(err)
	switch {
	case code == "":
		return "", false
	case strings.HasPrefix(code, "08"):
		return "The database is unreachable.", true
	case code == "53100":
		return "The database's disk is full.", true
	case strings.HasPrefix(code, "53"):
		return "The database is out of resources (memory or connections).", true
	case strings.HasPrefix(code, "57P"):
		return "The database is shutting down or starting up.", true
	case strings.HasPrefix(code, "58"):
		return "The database met a system or I/O error.", true
	case code == codeReadOnlyTransaction:
		return "The database is read-only (a standby).", true
	}
	return "", false
}

// mapError gives the PostgreSQL errors that a caller can act on their
// hirehook code, keeping err in the chain for the log.
func mapError(err error) error {
	switch sqlState(err) {
	case codeCharacterNotInRepertoire, codeUntranslatableCharacter:
		return fmt.Errorf("%w: %w", hirehook.Errorf(hirehook.EINVALID,
			"The request holds text the database cannot store (a NUL character, \\u0000)."), err)
	}
	return err
}

// nullTime is a nullable timestamptz argument: nil for a nil or zero time.
func nullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return *t
}

// cleanText makes text from outside (error strings that may quote a remote
// peer) storable in a text column: NUL becomes U+FFFD and invalid UTF-8 is
// replaced, so that one odd attempt never fails a completion batch.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// bytesOf returns s as a bytea argument: never nil, which would be NULL.
func bytesOf(s string) []byte {
	if s == "" {
		return []byte{}
	}
	return []byte(s)
}
