// Package sqlite implements hirehook.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go: no cgo, one static binary).
//
// The database is opened deliberately:
//   - WAL journal, so readers never block the writer nor the writer readers;
//   - one writer connection (SQLite has one writer anyway; a single pooled
//     connection turns lock contention into a Go-side queue instead of
//     SQLITE_BUSY retries) and a separate pool of read-only connections;
//   - synchronous=FULL, so a committed event survives a power cut, not just
//     a crash of the process: ingest answers 202 only after that commit, and
//     the ingest group commit amortises the fsync over a batch;
//   - foreign_keys on and a busy_timeout for other processes on the file;
//   - secure_delete on the writer, so removed personal data is zeroed in
//     the file rather than left in free space.
//
// Both pools go through internal/dbfault: an error about the database's
// availability (SQLITE_BUSY or SQLITE_LOCKED past busy_timeout, SQLITE_FULL,
// SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN, by extended result code)
// is EUNAVAILABLE wherever it surfaces, and Ping reports it until a probe
// write succeeds: a full disk still answers reads. Open makes that probe
// write too, so a hub started on a full disk says so instead of starting.
//
// The rules both stores share (hub secrets, retention, candidate erasure,
// the export scans, the CRUD of tenants, endpoints, sources and backfills,
// the inbound request log, the deliveries outside their claim and
// completion, the stats, the event and record reads, Ping, the migration
// runner) are written once in store/sqlstore, over the Dialect this package
// gives it (dialect.go).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/dbfault"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/sqlstore"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

//go:embed migration/*.sql
var migrations embed.FS

// Store is a hirehook.Store on one SQLite file.
type Store struct {
	path   string
	writer *sql.DB
	reader *sql.DB

	// stmts caches statements prepared on the writer connection: SQLite
	// spends tens of microseconds compiling a statement, which the hot
	// write paths would otherwise pay on every transaction.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt

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

	// notFailing holds endpoints whose failing_since this store knows to
	// be NULL (it wrote so): a batch of successes to them needs no
	// statement. Only DeliveryComplete sets failing_since, and it keeps
	// this up to date after each commit.
	notFailing sync.Map

	// ingest is the core's EventIngest over this store's statements; it
	// caches each tenant's enabled endpoints, valid while
	// endpoint_version (bumped by triggers on every change to the columns
	// ingest reads) is unchanged.
	ingest *sqlstore.Ingest

	// group takes the jobs of the group writer (see group.go); quit stops
	// it and groupDone is closed once it has.
	group     chan *groupJob
	quit      chan struct{}
	quitOnce  sync.Once
	groupDone chan struct{}

	// health holds the last availability error a statement met, until
	// a probe write succeeds (see Ping).
	health dbfault.Health

	// lock holds the flock of <path>.lock while the store is open, if
	// Options.Exclusive asked for it.
	lock *os.File
}

var _ hirehook.Store = (*Store)(nil)

// Options are the optional settings of OpenWithOptions.
type Options struct {
	// Keyring encrypts endpoint signing secrets at rest (see seal). Nil
	// stores them in plain JSON, as tests do; endpoints sealed earlier then
	// fail to load (see CheckEncryption).
	Keyring *seal.Keyring
	// Exclusive makes the store the file's only user among hirehook
	// processes: Open takes an exclusive advisory lock (flock) on the file
	// <path>.lock, without waiting, and holds it until Close; if another
	// store holds it, Open fails with ErrInUse and touches nothing. The
	// hub needs this: it releases every lease it finds at start, which
	// would hand a running hub's deliveries in flight to a second one.
	//
	// The lock is on a file of its own, not on the database, so it cannot
	// meddle with SQLite's POSIX (fcntl) locks on the database: a process
	// that closes any descriptor of a file loses all its fcntl locks on
	// it, and on NFS flock is emulated with fcntl locks. It is taken
	// before the database is created. The lock file stays after Close
	// (removing it would let a third process lock a new file while the
	// first holds the old). Where there is no flock (Windows), no lock is
	// taken.
	Exclusive bool
}

// ErrInUse is the error of an Exclusive Open of a database another
// hirehook holds (see Options.Exclusive).
var ErrInUse = errors.New("the database file is in use by another hirehook (a hub, or a tool such as rotate-encryption-key)")

// errLocked is lockFile's: another open file holds the lock.
var errLocked = errors.New("locked")

// lockPath is the lock file of the database at path.
func lockPath(path string) string { return path + ".lock" }

// Open opens (creating if needed) the database file at path and applies
// pending migrations, with zero Options.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWithOptions(ctx, path, Options{})
}

// OpenWithOptions opens (creating if needed) the database file at path and
// applies pending migrations. It does not read endpoint secrets, so it
// succeeds with the wrong keyring (tools that read only deliveries need none);
// CheckEncryption tells.
func OpenWithOptions(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.Contains(path, ":memory:") {
		return nil, fmt.Errorf("open sqlite: a file path is required")
	}
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	// secure_delete on the writer zeroes the bytes of every row it deletes
	// or rewrites, so an erased candidate leaves no copy in free space (see
	// personal.go; its cost is within the noise of `hirehook bench`).
	s := &Store{path: path, stmts: map[string]*sql.Stmt{}, keyring: opts.Keyring}
	if opts.Exclusive {
		lock, err := lockFile(lockPath(path))
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("open sqlite %s: %w: it holds the lock %s; stop it first", path, ErrInUse, lockPath(path))
		} else if err != nil {
			return nil, fmt.Errorf("open sqlite %s: lock %s: %w", path, lockPath(path), err)
		}
		s.lock = lock
	}
	writer, err := s.open("file:" + path + "?" + pragmas + "&_pragma=secure_delete(1)&_txlock=immediate")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	s.writer = writer
	// The reader pool opens no connection until it is used, after the
	// migrations; the dialect needs it from the start.
	reader, err := s.open("file:" + path + "?" + pragmas + "&_pragma=query_only(1)")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	s.reader = reader
	s.dialect = s.newDialect()
	if err := sqlstore.Migrate(ctx, s.dialect, s.writer, migrations, qCreateMigrations); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// The migrations may have written nothing (all applied): write once
	// now, so that a full disk or a read-only file fails the start with
	// its reason rather than every request after it.
	if err := s.dialect.ProbeWrite(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: probe write: %w", path, err)
	}
	s.ingest = s.newIngest()
	s.hub = sqlstore.HubSecrets{Dialect: s.dialect, Keyring: opts.Keyring}
	s.CRUD = sqlstore.NewCRUD(s.dialect, opts.Keyring, &s.hub)
	s.Queue = sqlstore.NewQueue(s.dialect)
	s.group, s.quit, s.groupDone = make(chan *groupJob), make(chan struct{}), make(chan struct{})
	go s.groupLoop()
	return s, nil
}

// open returns a pool on dsn whose errors dbfault classifies.
func (s *Store) open(dsn string) (*sql.DB, error) {
	c, err := sqlite3.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(dbfault.Connector(c, s.classify, &s.health)), nil
}

// classify is classifyCode, except that an I/O error while the database's
// file system has no space left says the disk is full: SQLite reports a
// full disk as SQLITE_FULL only when a write of the database or the WAL
// fails, and as an I/O error (SQLITE_IOERR_SHMSIZE, a failed truncate)
// when its shared-memory index cannot grow, as when a hub starts on a
// full disk.
func (s *Store) classify(err error) (string, bool) {
	msg, ok := classifyCode(err)
	var se *sqlite3.Error
	if ok && errors.As(err, &se) && se.Code()&0xff == sqlite3lib.SQLITE_IOERR && diskFull(filepath.Dir(s.path)) {
		return msgDiskFull, true
	}
	return msg, ok
}

const msgDiskFull = "The database's disk is full."

// classifyCode names the SQLite errors that are about the database's
// availability rather than the statement, by primary result code (the
// extended codes, such as SQLITE_IOERR_WRITE, share it in the low byte).
func classifyCode(err error) (string, bool) {
	var se *sqlite3.Error
	if !errors.As(err, &se) {
		return "", false
	}
	switch se.Code() & 0xff {
	case sqlite3lib.SQLITE_BUSY, sqlite3lib.SQLITE_LOCKED:
		return "The database is locked by another writer.", true
	case sqlite3lib.SQLITE_FULL:
		return msgDiskFull, true
	case sqlite3lib.SQLITE_READONLY:
		return "The database is read-only (its file, or its directory, cannot be written).", true
	case sqlite3lib.SQLITE_IOERR:
		return "The database met an I/O error.", true
	case sqlite3lib.SQLITE_CANTOPEN:
		return "The database file cannot be opened.", true
	}
	return "", false
}

// qCreateMigrations makes the table of the applied migrations (see
// sqlstore.Migrate); applied_at is in microseconds, as every time here.
const qCreateMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`

// probe is sqlstore.Dialect.Probe on SQLite: a write that succeeds only if
// it reached the file. The row is larger than a page, so it takes pages the
// database must have room for, and it is deleted in the same transaction
// (the WAL still receives both, as any commit's). Open runs it too.
func probe(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO store_probe (id, pad) VALUES (1, zeroblob(8192))`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM store_probe`)
	return err
}

// Ping implements hirehook.Store (sqlstore.Ping). It answers EUNAVAILABLE
// when the database cannot be read, and also while the last write failed
// for want of the database (a full disk, a read-only file): then it tries a
// probe write, and answers nil again once one succeeds.
func (s *Store) Ping(ctx context.Context) error {
	return sqlstore.Ping(ctx, s.dialect, s.path, &s.health)
}

// stmt returns query prepared on the writer, bound to tx. The statement
// must be one of hotQueries, which Open prepares: preparing here would need
// a second writer connection while tx holds the only one.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	st, ok := s.stmts[query]
	s.stmtMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("statement not prepared at open: %.40q", query)
	}
	return tx.StmtContext(ctx, st), nil
}

// hotQueries are the statements of the write paths that run per event or
// per attempt (and, with them, rowsQueries).
var hotQueries = []string{
	qOrderHeld,
	qSelectPayload, qEndpointVersion, qReleaseDelivery, qFailingSet, qFailingStart,
	qDueHeads, qDueOfEndpoint,
}

// prepare compiles the hot write statements once, on the writer connection:
// hotQueries and the multi-row statements of every chunk size (rowsQueries).
func (s *Store) prepare(ctx context.Context) error {
	for _, q := range append(rowsQueries(), hotQueries...) {
		st, err := s.writer.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %.40q: %w", q, err)
		}
		s.stmts[q] = st
	}
	return nil
}

// Close implements hirehook.Store. It may be called more than once.
func (s *Store) Close() error {
	if s.quit != nil {
		s.quitOnce.Do(func() { close(s.quit) })
		<-s.groupDone
	}
	var errs []error
	s.stmtMu.Lock()
	for q, st := range s.stmts {
		errs = append(errs, st.Close())
		delete(s.stmts, q)
	}
	s.stmtMu.Unlock()
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	// Last: the next hub may start once the database is closed.
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
		s.lock = nil
	}
	return errors.Join(errs...)
}

// toMicros converts a time.Time to the stored form (sqlstore.Time reads it back).
func toMicros(t time.Time) int64 { return t.UnixMicro() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil || t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toMicros(*t), Valid: true}
}

// isUniqueViolation reports a UNIQUE or PRIMARY KEY constraint failure, by
// SQLite's extended result code rather than by message text.
func isUniqueViolation(err error) bool {
	var se *sqlite3.Error
	if errors.As(err, &se) {
		code := se.Code()
		return code == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
