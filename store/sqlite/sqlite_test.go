package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/sqlite"
	"github.com/hirehook/hirehook/store/storetest"
)

func newStore(tb testing.TB) hirehook.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "hirehook.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, newStore)
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	k := &hirehook.APIKey{ID: "key_1", TenantID: hirehook.DefaultTenantID, Name: "k", Hash: "h"}
	if err := s.APIKeyCreate(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.APIKeyCount(ctx); err != nil || n != 1 {
		t.Fatalf("after reopen: %d keys, %v", n, err)
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	t.Parallel()
	if _, err := sqlite.Open(context.Background(), ":memory:"); err == nil {
		t.Fatal("Open(:memory:) succeeded; the hub must be durable")
	}
}

func TestCopy(t *testing.T) {
	t.Parallel()
	storetest.RunCopy(t, func(tb testing.TB, ring *seal.Keyring) storetest.CopyStore {
		s, err := sqlite.OpenWithOptions(context.Background(), filepath.Join(tb.TempDir(), "hirehook.db"), sqlite.Options{Keyring: ring})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	})
}
