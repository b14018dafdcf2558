// Package hubtest starts a whole hub in-process for tests (of the SDK, the
// examples): the hub that package hub assembles for `hirehook serve`, on a
// SQLite file and a loopback port.
package hubtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/hub"
)

// Hub is a whole hub, assembled by package hub as `hirehook serve`
// assembles it, on a SQLite file and a loopback port, allowed to deliver to
// loopback and retrying after 50 ms.
type Hub struct {
	URL   string
	Key   string // an operator key of the default tenant
	Store hirehook.Store

	hub *hub.Hub
}

// Open starts a hub whose database lives in dir. Close stops it.
func Open(dir string, logger *slog.Logger) (*Hub, error) {
	cfg := hub.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = "sqlite:" + filepath.Join(dir, "hirehook.db")
	cfg.AdminKey = "hh_test_" + strings.ReplaceAll(hirehook.NewID("k"), "_", "")
	cfg.AllowPrivateDestinations = true
	cfg.RetrySchedule = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}
	cfg.DeliveryTimeout = 5 * time.Second
	cfg.PollInterval = 20 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	// The ingest deadline is tested in package ingest; here a loaded
	// machine running -race must not turn a slow commit into a 503.
	cfg.IngestTimeout = time.Minute
	h := hub.New(cfg, logger)
	if err := h.Open(context.Background()); err != nil {
		return nil, err
	}
	return &Hub{URL: h.URL(), Key: cfg.AdminKey, Store: h.Store, hub: h}, nil
}

// Close stops the hub. It may be called twice.
func (h *Hub) Close() error {
	return h.hub.Close(context.Background())
}

// Start starts a hub for one test and stops it in the test's cleanup.
func Start(tb testing.TB) *Hub {
	tb.Helper()
	h, err := Open(tb.TempDir(), slog.New(slog.NewTextHandler(tbWriter{tb}, nil)))
	if err != nil {
		tb.Fatalf("start hub: %v", err)
	}
	tb.Cleanup(func() {
		if err := h.Close(); err != nil {
			tb.Errorf("stop hub: %v", err)
		}
	})
	return h
}

// Example starts a hub for an Example, which has no testing.TB; the
// returned func stops it and removes its files.
func Example() (*Hub, func()) {
	dir, err := os.MkdirTemp("", "hirehook-example-")
	if err != nil {
		panic(err)
	}
	h, err := Open(dir, nil)
	if err != nil {
		os.RemoveAll(dir)
		panic(fmt.Sprintf("start hub: %v", err))
	}
	return h, func() {
		if err := h.Close(); err != nil {
			panic(err)
		}
		os.RemoveAll(dir)
	}
}

// tbWriter sends log output to the test log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
