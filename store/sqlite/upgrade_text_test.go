package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlite"
)

// Custom headers an older hub stored as TEXT (the column's default, '{}',
// for rows older than the column; JSON bound as a string) are sealed by
// UpgradeSecrets as those stored as a BLOB are: the update matches the row
// by its value as stored, whichever type it has.
func TestUpgradeSecretsSealsTextHeaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: "https://example.com/hook", EventTypes: []string{"*"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := s.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(`UPDATE endpoints SET headers = CAST(? AS TEXT) WHERE id = ?`, `{"Authorization":"Bearer legacy-token"}`, ep.ID); err != nil {
		t.Fatal(err)
	}
	ring, _ := newKeyring(t, 1)
	s2 := openSealed(t, path, ring)
	if _, err := s2.UpgradeSecrets(ctx); err != nil {
		t.Fatal(err)
	}
	var stored, typ string
	if err := db.QueryRow(`SELECT CAST(headers AS TEXT), typeof(headers) FROM endpoints WHERE id = ?`, ep.ID).Scan(&stored, &typ); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "hhenc:") {
		t.Fatalf("headers stored as %s after UpgradeSecrets: %.40q, want sealed", typ, stored)
	}
	got, err := s2.EndpointGet(ctx, ep.TenantID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Headers["Authorization"] != "Bearer legacy-token" {
		t.Fatalf("headers read back = %v", got.Headers)
	}
}
