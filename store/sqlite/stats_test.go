package sqlite_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlite"
)

// TestMigrationBackfillsAttemptEndpoints: attempts written before
// migration 0004 get their endpoint from their delivery, so the dashboard
// counts them.
func TestMigrationBackfillsAttemptEndpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: "ep_1", URL: "https://example.com", EventTypes: []string{"*"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}
	if err := s.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Now: now, LeaseOwner: "w", LeaseUntil: now.Add(time.Minute), Events: []*hirehook.Event{{
		TenantID: hirehook.DefaultTenantID, ID: "evt_1", Type: "candidate.created", Subject: hirehook.Subject{Entity: "candidate", ID: "c1"}, Data: json.RawMessage(`{"id":"c1"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	d := res[0].Leased[0]
	if _, err := s.DeliveryComplete(ctx, []hirehook.DeliveryResult{{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: "w", State: hirehook.DeliveryDelivered,
		Attempt: hirehook.Attempt{StartedAt: now, Duration: time.Millisecond, StatusCode: 200}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Undo migration 0004 by hand.
	db := rawDB(t, path)
	for _, q := range []string{
		`DELETE FROM schema_migrations WHERE name = 'migration/0004_delivery_stats.sql'`,
		`DROP INDEX attempts_tenant_started`, `ALTER TABLE attempts DROP COLUMN endpoint_id`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stats, err := s.DeliveryStats(ctx, hirehook.DeliveryStatsParams{TenantID: hirehook.DefaultTenantID, Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 || stats[0].Attempts != 1 || stats[0].Succeeded != 1 {
		t.Fatalf("stats after the migration = %+v, want one successful attempt", stats[0])
	}
}
