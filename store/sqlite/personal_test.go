package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlite"
)

// rawDB opens the store's file beside it, for what the Store does not show:
// query plans and the file's own bookkeeping.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// countInFiles counts the occurrences of each needle in the database file,
// its WAL and its shared-memory index: every byte a copy of the directory
// would give away.
func countInFiles(tb testing.TB, path string, needles ...string) map[string]int {
	tb.Helper()
	found := map[string]int{}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			tb.Fatal(err)
		}
		for _, n := range needles {
			if c := bytes.Count(b, []byte(n)); c > 0 {
				found[n] += c
			}
		}
	}
	return found
}

// TestRetentionPurgeUsesIndexes holds the purge to its partial indexes, so
// a batch stays cheap however long the log grows.
func TestRetentionPurgeUsesIndexes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := rawDB(t, path)
	for index, q := range sqlite.PurgeQueries {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q, "default", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		t.Logf("%s: %s", index, strings.Join(plan, "; "))
		if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX "+index) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("plan of the %s query: %s", index, p)
		}
	}
}

// writeCandidateHistory ingests a candidate whose record is rewritten by
// every update (a JSON merge patch), each time with a new email and a long
// résumé that spills onto overflow pages, among events of other people. It
// returns the strings that must not survive the erasure.
func writeCandidateHistory(tb testing.TB, s hirehook.Store) []string {
	tb.Helper()
	ctx := context.Background()
	pii := []string{"Zebulon", "Quixote-Farthingale"}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for k := range 6 {
		email := fmt.Sprintf("zebulon.v%d.qf@example.org", k)
		pii = append(pii, email)
		data, _ := json.Marshal(map[string]string{"id": "c1", "first_name": "Zebulon", "last_name": "Quixote-Farthingale",
			"email": email, "resume": strings.Repeat("Welder, contact "+email+". ", 100)})
		typ := "candidate.updated"
		if k == 0 {
			typ = "candidate.created"
		}
		events := []*hirehook.Event{{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: typ, OccurredAt: now,
			Subject: hirehook.Subject{Entity: "candidate", ID: "c1"}, Data: data}}
		for i := range 40 {
			id := fmt.Sprintf("other_%d_%d", k, i)
			events = append(events, &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.updated", OccurredAt: now,
				Subject: hirehook.Subject{Entity: "candidate", ID: id}, Data: json.RawMessage(`{"id":"` + id + `","note":"` + strings.Repeat("n", 50*(i%9)) + `"}`)})
		}
		if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: now}); err != nil {
			tb.Fatal(err)
		}
	}
	return pii
}

// TestCandidateEraseStaleCopies justifies keeping secure_delete on for good
// and scrubbing older files once. The candidate's record is rewritten on
// every update; without secure_delete each rewrite leaves the old bytes in
// free space, where turning it on for the erasure alone cannot reach them.
func TestCandidateEraseStaleCopies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		// insecureHistory writes the history with secure_delete off, as a
		// store did before migration 0003.
		insecureHistory bool
		// markOld flags the file as migration 0003 flags one that held
		// data before: the first erasure scrubs it with VACUUM.
		markOld    bool
		wantCopies bool
	}{
		{name: "secure_delete only during the erasure", insecureHistory: true, wantCopies: true},
		{name: "secure_delete always"},
		{name: "file written before secure_delete, scrubbed once", insecureHistory: true, markOld: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "hirehook.db")
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			db := rawDB(t, path)
			var meta int
			if err := db.QueryRow(`SELECT count(*) FROM store_meta`).Scan(&meta); err != nil || meta != 0 {
				t.Fatalf("a new file is marked for scrubbing (%d rows, %v)", meta, err)
			}
			if c.insecureHistory {
				if err := s.SetSecureDelete(ctx, false); err != nil {
					t.Fatal(err)
				}
			}
			pii := writeCandidateHistory(t, s)
			if c.markOld {
				if _, err := db.Exec(`INSERT INTO store_meta (key, value) VALUES ('needs_scrub', 1)`); err != nil {
					t.Fatal(err)
				}
			}
			// Everything the erasure must remove is in the files now
			// (so this test can fail).
			if _, err := db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				t.Fatal(err)
			}
			if found := countInFiles(t, path, pii...); len(found) != len(pii) {
				t.Fatalf("before erasure the files hold %v of %v", found, pii)
			}

			res, err := s.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: hirehook.DefaultTenantID, CandidateID: "c1", Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Events != 6 || res.Records != 1 {
				t.Fatalf("CandidateErase = %+v", res)
			}
			found := countInFiles(t, path, pii...)
			t.Logf("copies left in the files: %v", found)
			if got := len(found) > 0; got != c.wantCopies {
				t.Fatalf("copies left = %v, want copies: %v", found, c.wantCopies)
			}
			if st, err := os.Stat(path + "-wal"); err == nil && st.Size() != 0 {
				t.Fatalf("WAL is %d bytes after erasure, want truncated", st.Size())
			}
			if err := db.QueryRow(`SELECT count(*) FROM store_meta WHERE key = 'needs_scrub'`).Scan(&meta); err != nil || meta != 0 {
				t.Fatalf("needs_scrub after erasure: %d (%v)", meta, err)
			}
			// The other people are all still there.
			others := "other_0_1"
			rec, err := s.RecordGet(ctx, hirehook.DefaultTenantID, "candidate", others)
			if err != nil || !strings.Contains(string(rec.Data), "note") {
				t.Fatalf("another candidate's record: %v, %v", rec, err)
			}
		})
	}
}

// TestMigrationMarksOldFiles: a file that held data before migration 0003
// is marked for its one scrub; an empty one is not (checked above).
func TestMigrationMarksOldFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Now: time.Now(), Events: []*hirehook.Event{{TenantID: hirehook.DefaultTenantID,
		ID: "evt_1", Type: "candidate.created", Subject: hirehook.Subject{Entity: "candidate", ID: "c1"}, Data: json.RawMessage(`{"id":"c1"}`)}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Undo migration 0003 by hand (the columns may stay: SQLite cannot
	// drop them cheaply, and the migration is re-run only in this test).
	db := rawDB(t, path)
	for _, q := range []string{
		// 0004 indexes attempts.tenant_id: undo it first (it is re-run too).
		`DELETE FROM schema_migrations WHERE name = 'migration/0004_delivery_stats.sql'`,
		`DROP INDEX attempts_tenant_started`, `ALTER TABLE attempts DROP COLUMN endpoint_id`,
		`DELETE FROM schema_migrations WHERE name = 'migration/0003_personal_data.sql'`,
		`DROP TABLE store_meta`, `DROP INDEX events_retention`, `DROP INDEX attempts_retention`,
		`ALTER TABLE events DROP COLUMN purged_at`, `ALTER TABLE events DROP COLUMN erased_at`,
		`ALTER TABLE records DROP COLUMN erased_at`, `ALTER TABLE attempts DROP COLUMN tenant_id`,
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
	var n int
	if err := rawDB(t, path).QueryRow(`SELECT count(*) FROM store_meta WHERE key = 'needs_scrub'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("needs_scrub rows = %d (%v), want 1", n, err)
	}
}
