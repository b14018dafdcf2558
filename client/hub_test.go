package client_test

import (
	"strings"
	"testing"

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
