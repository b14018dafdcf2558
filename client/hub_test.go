package client_test

import (
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
