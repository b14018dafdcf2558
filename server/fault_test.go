package server

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/internal/fulldisk"
	"github.com/hirehook/hirehook/store/sqlite"
)

// TestDiskFull runs a hub on a SQLite file on a disk that fills up: event
// requests are answered 503 unavailable with Retry-After, which the SDK
// retries (not 500 internal, which it does not); /readyz is 503 saying the
// disk is full, though the database still answers reads; and when the disk
// has room again, /readyz is 200 and events are accepted.
func TestDiskFull(t *testing.T) {
	dir := fulldisk.Tmpfs(t, "4m")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := startServerOn(t, st)
	c, err := client.New(srv.URL(), srv.Key)
	if err != nil {
		t.Fatal(err)
	}
	send := func() error {
		_, err := c.SendEvent(ctx, hirehook.EventInput{Type: "candidate.created",
			Data: []byte(`{"id":"cand_1","name":"` + strings.Repeat("x", 4000) + `"}`)})
		return err
	}
	if err := send(); err != nil {
		t.Fatalf("send before the disk is full: %v", err)
	}
	wantJSON(t, srv.do(t, "GET", "/readyz", nil), http.StatusOK, map[string]any{"status": "ready"})

	filler := fulldisk.Fill(t, dir)
	for range 10000 {
		if err = send(); err != nil {
			break
		}
	}
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.Err.Code != hirehook.EUNAVAILABLE {
		t.Fatalf("send to a hub on a full disk: %v, want 503 unavailable", err)
	}
	if apiErr.RetryAfter <= 0 {
		t.Errorf("503 without a Retry-After")
	}
	if !client.Retryable(err) {
		t.Errorf("client.Retryable(%v) = false", err)
	}
	res := srv.do(t, "GET", "/readyz", nil)
	if e := wantError(t, res, http.StatusServiceUnavailable, hirehook.EUNAVAILABLE); !strings.Contains(e.Message, "disk is full") {
		t.Errorf("/readyz message = %q, want it to say the disk is full", e.Message)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Errorf("/readyz 503 without a Retry-After")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, srv.do(t, "GET", "/readyz", nil), http.StatusOK, map[string]any{"status": "ready"})
	if err := send(); err != nil {
		t.Fatalf("send once the disk has room: %v", err)
	}
}
