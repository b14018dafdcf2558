package sqlite

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/fulldisk"
)

// ingestOne ingests one event with a payload of n bytes.
func ingestOne(s *Store, n int) error {
	e := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created",
		OccurredAt: time.Now().UTC(), Subject: hirehook.Subject{Entity: "candidate", ID: hirehook.NewID("cand")},
		Data: json.RawMessage(`{"id":"c1"}`)}
	e.Payload = []byte(`{"pad":"` + strings.Repeat("x", n) + `"}`)
	_, err := s.EventIngest(context.Background(), hirehook.EventIngestParams{Events: []*hirehook.Event{e}, Now: time.Now().UTC()})
	return err
}

// writeUntilFailure ingests events until one fails, and returns its error.
func writeUntilFailure(t *testing.T, s *Store) error {
	t.Helper()
	for range 10000 {
		if err := ingestOne(s, 4000); err != nil {
			return err
		}
	}
	t.Fatal("10000 events written to a full database")
	return nil
}

// TestDatabaseFullIsUnavailable fills the database (SQLite's max_page_count
// on the one writer connection answers SQLITE_FULL as a full disk does):
// the write that fails is EUNAVAILABLE saying the disk is full, Ping fails
// with it although reads still work (a hub that cannot write is not
// ready), and once there is room Ping's probe write succeeds and writes go
// through again.
func TestDatabaseFullIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping before = %v", err)
	}
	var pages int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, `PRAGMA max_page_count = `+itoa(pages+2)); err != nil {
		t.Fatal(err)
	}

	err = writeUntilFailure(t, s)
	if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE || !strings.Contains(hirehook.ErrorMessage(err), "disk is full") {
		t.Fatalf("write to a full database: code %q message %q (%v), want unavailable, disk is full", code, hirehook.ErrorMessage(err), err)
	}
	err = s.Ping(ctx)
	if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE || !strings.Contains(hirehook.ErrorMessage(err), "disk is full") {
		t.Fatalf("Ping of a full database = %v, want unavailable, disk is full", err)
	}
	if _, err := s.EventList(ctx, hirehook.EventFilter{TenantID: hirehook.DefaultTenantID}); err != nil {
		t.Fatalf("reads still work: %v", err)
	}

	if _, err := s.writer.ExecContext(ctx, `PRAGMA max_page_count = 1000000`); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping once there is room = %v", err)
	}
	if err := ingestOne(s, 100); err != nil {
		t.Fatalf("write once there is room: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDiskFull fills a real (tmpfs) disk under a running store and then
// under a store being opened: the writes are EUNAVAILABLE, the disk is
// full; so is Ping; an Open says so; and once the disk has room again
// Ping succeeds and writes go through.
func TestDiskFull(t *testing.T) {
	dir := fulldisk.Tmpfs(t, "4m")
	ctx := context.Background()
	path := filepath.Join(dir, "hirehook.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	filler := fulldisk.Fill(t, dir)

	err = writeUntilFailure(t, s)
	if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE || !strings.Contains(hirehook.ErrorMessage(err), "disk is full") {
		t.Fatalf("write to a full disk: code %q message %q (%v), want unavailable, disk is full", code, hirehook.ErrorMessage(err), err)
	}
	if err := s.Ping(ctx); hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE {
		t.Fatalf("Ping on a full disk = %v, want unavailable", err)
	}
	if err := s.Close(); err != nil {
		t.Logf("close on a full disk: %v", err)
	}

	_, err = Open(ctx, path)
	if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("Open on a full disk = %v, want unavailable, disk is full", err)
	}
	t.Logf("Open on a full disk: %v", err)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open once the disk has room: %v", err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping once the disk has room = %v", err)
	}
	if err := ingestOne(s, 100); err != nil {
		t.Fatalf("write once the disk has room: %v", err)
	}
}
