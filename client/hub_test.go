package client_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook/internal/hubtest"
)

// testHub is a whole hub on a SQLite file and a loopback port (see
// internal/hubtest).
type testHub = hubtest.Hub

// startHub starts a hub for one test and stops it in the test's cleanup.
func startHub(tb testing.TB) *testHub { return hubtest.Start(tb) }

// exampleHub starts a hub for an Example; the returned func stops it.
func exampleHub() (*testHub, func()) { return hubtest.Example() }

// tbWriter sends log output to the test log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// eventually waits up to 10 s for cond, polling every 10 ms.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
