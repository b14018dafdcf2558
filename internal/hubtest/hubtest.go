// Package hubtest starts a whole hub in-process for tests (of the SDK, the
// examples): store, ingester, dispatcher and the HTTP API, wired as
// cmd/hirehook wires them, on a SQLite file and a loopback port.
package hubtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/server"
	"github.com/hirehook/hirehook/store/sqlite"
)

// Hub is a whole hub, wired as cmd/hirehook wires it, on a SQLite file
// and a loopback port: store, ingester, dispatcher (allowed to deliver to
// loopback, retrying after 50 ms) and the HTTP server with the API.
type Hub struct {
	URL   string
	Key   string // an operator key of the default tenant
	Store hirehook.Store

	stops []func(context.Context) error
}

// Open starts a hub whose database lives in dir. Close stops it.
func Open(dir string, logger *slog.Logger) (_ *Hub, err error) {
	ctx := context.Background()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hirehook.db"))
	if err != nil {
		return nil, err
	}
	h.Store = st
	h.stops = append(h.stops, func(context.Context) error { return st.Close() })

	h.Key = "hh_test_" + strings.ReplaceAll(hirehook.NewID("k"), "_", "")
	if err := st.APIKeyCreate(ctx, &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: hirehook.DefaultTenantID, Name: "test operator",
		Scope: hirehook.ScopeOperator, Hash: api.HashKey(h.Key), CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}); err != nil {
		return nil, err
	}

	d := delivery.New(st, delivery.Config{
		Retry:        &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}},
		Sender:       delivery.NewSender(delivery.SenderConfig{Timeout: 5 * time.Second, AllowPrivate: true}),
		PollInterval: 20 * time.Millisecond,
		Logger:       logger,
	})
	ing := ingest.New(st, ingest.Config{Handoff: d.Enqueue, LeaseOwner: d.Owner(), Lease: d.Lease(), Notify: d.Notify, Logger: logger,
		// The ingest deadline is tested in package ingest; here a loaded
		// machine running -race must not turn a slow commit into a 503.
		Timeout: time.Minute})
	if err := d.Start(ctx); err != nil {
		return nil, err
	}
	h.stops = append(h.stops, d.Stop)
	if err := ing.Start(ctx); err != nil {
		return nil, err
	}
	h.stops = append(h.stops, ing.Stop)
	srv := &server.Server{Addr: "127.0.0.1:0", Store: st, Logger: logger,
		API: api.New(api.Config{Store: st, Ingester: ing, Notify: d.Notify, Logger: logger})}
	if err := srv.Open(); err != nil {
		return nil, err
	}
	h.stops = append(h.stops, srv.Close)
	h.URL = srv.URL()
	return h, nil
}

// Close stops what Open started, in reverse order.
func (h *Hub) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for i := len(h.stops) - 1; i >= 0; i-- {
		errs = append(errs, h.stops[i](ctx))
	}
	h.stops = nil
	return errors.Join(errs...)
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
