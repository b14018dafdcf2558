package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// TestDatabaseUnreachableIsUnavailable takes the database away under a
// store (the port closed, the connections cut): a write, a read and Ping
// are EUNAVAILABLE, not internal errors, so the API answers 503 and the
// SDK retries; when the database is back, so is the store.
func TestDatabaseUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	p, dsn := postgrestest.NewProxy(t, postgrestest.NewDatabase(t))
	s := open(t, dsn, postgres.Options{MaxConns: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_a", Name: "A", RetentionDays: 30}); err != nil {
		t.Fatal(err)
	}

	p.Down()
	err := s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30})
	if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE {
		t.Fatalf("write with the database unreachable: code %q (%v), want unavailable", code, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write with the database unreachable waited for the context: %v", err)
	}
	_, err = s.TenantList(ctx, hirehook.TenantFilter{})
	if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE {
		t.Fatalf("read with the database unreachable: code %q (%v), want unavailable", code, err)
	}
	if err := s.Ping(ctx); hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE {
		t.Fatalf("Ping with the database unreachable = %v, want unavailable", err)
	}

	p.Up(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping with the database back = %v", err)
	}
	if err := s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30}); err != nil {
		t.Fatalf("write with the database back: %v", err)
	}
}
