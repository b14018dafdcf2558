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
