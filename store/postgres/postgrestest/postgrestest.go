// Package postgrestest gives each test a fresh PostgreSQL database, on the
// server named by HIREHOOK_TEST_DATABASE_URL. Import it only from _test.go
// files.
//
// When the variable is unset, the server at DefaultURL is tried; if it does
// not answer, the test is skipped, so that `go test ./...` passes on a
// machine without PostgreSQL. HIREHOOK_REQUIRE_POSTGRES=1 (set by CI) turns
// that skip into a failure, and a server named explicitly that does not
// answer always fails.
package postgrestest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Environment variables read by NewDatabase.
const (
	// EnvURL names the server (and a database to connect to, to create
	// the test databases): a postgres:// URL or a key=value string.
	EnvURL = "HIREHOOK_TEST_DATABASE_URL"
	// EnvRequire set to 1 fails, instead of skipping, the tests that need
	// PostgreSQL when it does not answer.
	EnvRequire = "HIREHOOK_REQUIRE_POSTGRES"
)

// DefaultURL is tried when EnvURL is unset: a local server with trust
// authentication, as a developer's machine or CI has.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// server is the connection to the server that creates and drops the test
// databases, opened once per test binary.
var server struct {
	once     sync.Once
	db       *sql.DB
	url      string // the base URL, from EnvURL or DefaultURL
	shown    string // url with the password redacted, for messages
	explicit bool   // EnvURL was set
	err      error
}

func connect() {
	server.url = os.Getenv(EnvURL)
	server.explicit = server.url != ""
	if !server.explicit {
		server.url = DefaultURL
	}
	server.shown = Redact(server.url)
	cfg, err := pgx.ParseConfig(server.url)
	if err != nil {
		server.err = err
		return
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > 5*time.Second {
		cfg.ConnectTimeout = 5 * time.Second
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		server.err = err
		return
	}
	server.db = db
}

// NewDatabase creates an empty database for tb, drops it (WITH FORCE) when
// tb ends, and returns its URL. Register the cleanup of anything connected
// to it after calling NewDatabase, so that it runs first.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	server.once.Do(connect)
	if server.err != nil {
		msg := fmt.Sprintf("PostgreSQL does not answer at %s: %v", server.shown, server.err)
		switch {
		case server.explicit:
			tb.Fatalf("%s (from %s)", msg, EnvURL)
		case os.Getenv(EnvRequire) == "1":
			tb.Fatalf("%s; %s=1 requires it (set %s to another server)", msg, EnvRequire, EnvURL)
		default:
			tb.Skipf("%s; skipping the PostgreSQL tests (set %s to a server to run them, %s=1 to fail instead)", msg, EnvURL, EnvRequire)
		}
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hirehook_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := server.db.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create test database %s on %s: %v", name, server.shown, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := server.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(server.url, name)
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// withDatabase returns dsn with its database replaced by name.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: the URL does not parse", EnvURL)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	// A key=value string: a later dbname wins.
	return dsn + " dbname=" + name, nil
}

// Redact returns a postgres:// URL with its password (user info or query
// parameter) masked; other
// strings are returned as "(connection string)".
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "(connection string)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
