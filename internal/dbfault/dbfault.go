// Package dbfault gives the stores one edge where a database's failures
// about its own availability become hirehook.EUNAVAILABLE, and remembers
// them for readiness.
//
// A store opens its *sql.DB on Connector, which wraps the driver: every
// error the driver returns (from a connect, a statement, a row, a commit)
// passes through the store's Classifier once, here. An error about the
// database being there and able to write (connection refused or reset, the
// server shutting down, the file locked past its wait, the disk full, a
// read-only file system, an I/O error) comes back as
//
//	fmt.Errorf("%w: %w", hirehook.Errorf(hirehook.EUNAVAILABLE, msg), err)
//
// so that every caller (the API's renderer, ingest, the SDK through the
// 503 it answers) sees the same code with Retry-After, whichever store
// method met it and however the store wrapped it on the way up, and the
// driver error stays in the chain for the log and for errors.Is/As
// (database/sql's own driver.ErrBadConn checks included). Classifying at the
// driver rather than at each of the stores' hundred-odd return statements
// is what makes it total: a method added tomorrow is covered too.
//
// The classification is by code, never by message text: SQLSTATE classes
// and SQLite extended result codes in the dialect's Classifier, and here
// the errors of the network and the operating system (net.Error, ECONNRESET,
// ENOSPC, EROFS, EIO, a connection cut mid-message) and
// driver.ErrBadConn.
//
// Health keeps the last such error until a write is known to work again,
// so that readiness (Store.Ping) reflects what writes meet, not only
// whether a ping is answered: a full disk answers pings.
package dbfault

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	"github.com/hirehook/hirehook"
)

// A Classifier returns the user-safe message of an error that is about the
// database's availability, and false for any other error. Connector has
// already handled the generic ones (see Generic); a Classifier adds the
// dialect's codes.
type Classifier func(err error) (msg string, ok bool)

// Generic classifies the errors every database shares: the network's, the
// operating system's and database/sql's broken connection.
func Generic(err error) (msg string, ok bool) {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "The database's disk is full.", true
	case errors.Is(err, syscall.EROFS):
		return "The database's file system is read-only.", true
	case errors.Is(err, syscall.EIO):
		return "The database met an I/O error.", true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF),
		err != io.EOF && errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "The database is unreachable.", true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "The database is unreachable.", true
	}
	return "", false
}

// Unavailable reports whether err is an availability error that Connector
// marked, i.e. carries EUNAVAILABLE.
func Unavailable(err error) bool { return hirehook.ErrorCode(err) == hirehook.EUNAVAILABLE }

// Health remembers the last availability error a store met, until the
// store has shown that it writes again (Clear after a successful probe).
// Its zero value is healthy; it is safe for concurrent use.
type Health struct {
	mu  sync.Mutex
	err error
	gen uint64 // bumped on every failure, so a probe older than one does not clear it
}

// Err returns the last availability error since the store last wrote
// successfully, or nil.
func (h *Health) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// Gen returns the failure generation, to hand to ClearSince after a probe.
func (h *Health) Gen() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen
}

// ClearSince forgets the failure if none was recorded since gen was read:
// a probe write that began before a newer failure proves nothing about it.
func (h *Health) ClearSince(gen uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gen == gen {
		h.err = nil
	}
}

// Fail records an availability error.
func (h *Health) Fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
	h.gen++
}

// Connector wraps c so that the errors of its connections are classified by
// Generic and then classify, and availability errors are recorded in health
// (which may be nil).
func Connector(c driver.Connector, classify Classifier, health *Health) driver.Connector {
	return &connector{c: c, f: &faults{classify: classify, health: health}}
}

type faults struct {
	classify Classifier
	health   *Health
}

// check returns err, marked EUNAVAILABLE when it is about the database's
// availability. The driver's sentinels (io.EOF at the end of rows,
// driver.ErrSkip), which database/sql compares with ==, pass unchanged, as
// do context errors: a caller that gave up says nothing about the database.
func (f *faults) check(err error) error {
	if err == nil || err == io.EOF || err == driver.ErrSkip || err == driver.ErrRemoveArgument {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg, ok := Generic(err)
	if !ok && f.classify != nil {
		msg, ok = f.classify(err)
	}
	if !ok {
		return err
	}
	// A broken pooled connection is retried by database/sql on a new one;
	// only an error that reaches the store (wrapped below either way) says
	// the database is gone, and the next one will say so again.
	if f.health != nil && !errors.Is(err, driver.ErrBadConn) {
		f.health.Fail(err)
	}
	return fmt.Errorf("%w: %w", hirehook.Errorf(hirehook.EUNAVAILABLE, "%s", msg), err)
}

type connector struct {
	c driver.Connector
	f *faults
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.c.Connect(ctx)
	if err != nil {
		return nil, c.f.check(err)
	}
	return &wconn{c: conn, f: c.f}, nil
}

func (c *connector) Driver() driver.Driver { return c.c.Driver() }

// wconn forwards every optional interface database/sql uses that the two
// drivers implement, answering as database/sql expects of a driver without
// it when the wrapped connection lacks one.
type wconn struct {
	c driver.Conn
	f *faults
}

var (
	_ driver.ConnBeginTx        = (*wconn)(nil)
	_ driver.ConnPrepareContext = (*wconn)(nil)
	_ driver.ExecerContext      = (*wconn)(nil)
	_ driver.QueryerContext     = (*wconn)(nil)
	_ driver.Pinger             = (*wconn)(nil)
	_ driver.SessionResetter    = (*wconn)(nil)
	_ driver.Validator          = (*wconn)(nil)
	_ driver.NamedValueChecker  = (*wconn)(nil)
)

func (c *wconn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *wconn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := c.c.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.c.Prepare(query)
	}
	if err != nil {
		return nil, c.f.check(err)
	}
	return &stmt{s: st, c: c}, nil
}

func (c *wconn) Close() error { return c.f.check(c.c.Close()) }

func (c *wconn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *wconn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var tx driver.Tx
	var err error
	if b, ok := c.c.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.c.Begin() //nolint:staticcheck // the fallback database/sql itself uses
	}
	if err != nil {
		return nil, c.f.check(err)
	}
	return &wtx{t: tx, f: c.f}, nil
}

func (c *wconn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.c.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := e.ExecContext(ctx, query, args)
	return r, c.f.check(err)
}

func (c *wconn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.c.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := q.QueryContext(ctx, query, args)
	if err != nil {
		return nil, c.f.check(err)
	}
	return &rows{r: r, f: c.f}, nil
}

func (c *wconn) Ping(ctx context.Context) error {
	if p, ok := c.c.(driver.Pinger); ok {
		return c.f.check(p.Ping(ctx))
	}
	return nil
}

func (c *wconn) ResetSession(ctx context.Context) error {
	if r, ok := c.c.(driver.SessionResetter); ok {
		return c.f.check(r.ResetSession(ctx))
	}
	return nil
}

func (c *wconn) IsValid() bool {
	if v, ok := c.c.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *wconn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.c.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type stmt struct {
	s driver.Stmt
	c *wconn
}

var (
	_ driver.StmtExecContext   = (*stmt)(nil)
	_ driver.StmtQueryContext  = (*stmt)(nil)
	_ driver.NamedValueChecker = (*stmt)(nil)
)

func (s *stmt) Close() error  { return s.c.f.check(s.s.Close()) }
func (s *stmt) NumInput() int { return s.s.NumInput() }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	r, err := s.s.Exec(args) //nolint:staticcheck // forwarded as is
	return r, s.c.f.check(err)
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	r, err := s.s.Query(args) //nolint:staticcheck // forwarded as is
	if err != nil {
		return nil, s.c.f.check(err)
	}
	return &rows{r: r, f: s.c.f}, nil
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.s.(driver.StmtExecContext)
	if !ok {
		return s.Exec(values(args))
	}
	r, err := e.ExecContext(ctx, args)
	return r, s.c.f.check(err)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.s.(driver.StmtQueryContext)
	if !ok {
		return s.Query(values(args))
	}
	r, err := q.QueryContext(ctx, args)
	if err != nil {
		return nil, s.c.f.check(err)
	}
	return &rows{r: r, f: s.c.f}, nil
}

// CheckNamedValue asks the statement, then its connection: database/sql
// asks only the statement when the statement is a NamedValueChecker.
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.s.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return s.c.CheckNamedValue(nv)
}

func values(args []driver.NamedValue) []driver.Value {
	v := make([]driver.Value, len(args))
	for i, a := range args {
		v[i] = a.Value
	}
	return v
}

type wtx struct {
	t driver.Tx
	f *faults
}

func (t *wtx) Commit() error   { return t.f.check(t.t.Commit()) }
func (t *wtx) Rollback() error { return t.f.check(t.t.Rollback()) }

type rows struct {
	r driver.Rows
	f *faults
}

func (r *rows) Columns() []string              { return r.r.Columns() }
func (r *rows) Close() error                   { return r.f.check(r.r.Close()) }
func (r *rows) Next(dest []driver.Value) error { return r.f.check(r.r.Next(dest)) }
