package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// assertNoFiles fails for each of paths that exists.
func assertNoFiles(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists after the failed start (stat: %v)", filepath.Base(p), err)
		}
	}
}

// A port already taken fails `hirehook serve` with the address in the
// message, before it creates the database or the key file: the operator
// fixes --addr and starts again with nothing half-made on disk.
func TestServePortTakenCreatesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	db := filepath.Join(t.TempDir(), "hirehook.db")

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", addr, "--db", "sqlite:" + db}, noEnv, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, "hirehook: listen on "+addr) {
		t.Errorf("the error does not name the address %s:\n%s", addr, msg)
	}
	if strings.Contains(stdout.String(), "generated") {
		t.Errorf("a key was generated although the hub did not start:\n%s", stdout.String())
	}
	assertNoFiles(t, db, db+"-wal", db+"-shm", keyFilePath(db))
}

// A second hub on the SQLite file of a running one is refused, naming the
// file, and leaves the first at work: it would release the first one's
// leases at start and send their deliveries a second time. Once the first
// has stopped, a hub starts on the file again.
func TestSecondHubOnLockedSQLiteRefused(t *testing.T) {
	first := startHub(t, nil)
	path, err := first.Config.SQLitePath()
	if err != nil {
		t.Fatal(err)
	}

	second := NewHub(first.Config, nil)
	err = second.Open(context.Background())
	if err == nil {
		second.Close(context.Background())
		t.Fatal("a second hub started on the SQLite file of a running one")
	}
	if msg := err.Error(); !strings.Contains(msg, "in use by another hirehook") || !strings.Contains(msg, path) {
		t.Errorf("the error does not say the file %s is in use by another hirehook:\n%s", path, msg)
	}

	// The first hub still takes and delivers events.
	rc := newReceiver(t, nil)
	createEndpoint(t, first.URL(), rc.URL, "placement.*")
	sendEvent(t, first.URL(), placement("pl_lock"))
	waitFor(t, 10*time.Second, "the first hub delivers", func() bool { return len(rc.got()) == 1 })

	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	next := startHub(t, func(c *Config) { c.DB = first.Config.DB })
	if st := call(t, next.URL(), "GET", "/v1/event-types", nil, nil); st != 200 {
		t.Fatalf("the hub started after the first stopped answers %d", st)
	}
}
