package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// TestGroupLeavesOutFailedJob runs three jobs in one group, of which the
// middle one fails after writing: the group is rolled back and run again
// without it, so the others' rows are committed (their after funcs run
// once), the failed job's row is not, and it gets its own error.
func TestGroupLeavesOutFailedJob(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	errJob := errors.New("job 1 fails")
	runs, afters := make([]int, 3), make([]int, 3)
	jobs := make([]*groupJob, 3)
	for i := range jobs {
		jobs[i] = &groupJob{ctx: context.Background(), done: make(chan error, 1), run: func(ctx context.Context, tx *sql.Tx) (func(), error) {
			runs[i]++
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, 0)`, fmt.Sprint("group-", i)); err != nil {
				return nil, err
			}
			if i == 1 {
				return nil, errJob
			}
			return func() { afters[i]++ }, nil
		}}
	}
	s.runGroup(jobs)

	for i, want := range []error{nil, errJob, nil} {
		if err := <-jobs[i].done; !errors.Is(err, want) {
			t.Errorf("job %d answered %v, want %v", i, err, want)
		}
	}
	if want := []int{2, 1, 1}; fmt.Sprint(runs) != fmt.Sprint(want) {
		t.Errorf("runs %v, want %v (job 0 again after the rollback, job 2 only after it)", runs, want)
	}
	if want := []int{1, 0, 1}; fmt.Sprint(afters) != fmt.Sprint(want) {
		t.Errorf("after funcs ran %v times, want %v", afters, want)
	}
	for i, want := range []bool{true, false, true} {
		var n int
		if err := s.reader.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name = ?`, fmt.Sprint("group-", i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 1) != want {
			t.Errorf("row of job %d committed: %v, want %v", i, n == 1, want)
		}
	}
}

// TestGroupSkipsCancelledJob answers a job whose caller gave up before
// the group ran with its context's error, without running it.
func TestGroupSkipsCancelledJob(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	j := &groupJob{ctx: ctx, done: make(chan error, 1), run: func(context.Context, *sql.Tx) (func(), error) {
		ran = true
		return nil, nil
	}}
	s.runGroup([]*groupJob{j})
	if err := <-j.done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled job answered %v, want context.Canceled", err)
	}
	if ran {
		t.Error("cancelled job ran")
	}
	// The store still takes work, and refuses it once closed.
	if err := s.inGroup(context.Background(), func(context.Context, *sql.Tx) (func(), error) { return nil, nil }); err != nil {
		t.Errorf("inGroup: %v", err)
	}
	s.Close()
	if err := s.inGroup(context.Background(), func(context.Context, *sql.Tx) (func(), error) { return nil, nil }); !errors.Is(err, errStoreClosed) {
		t.Errorf("inGroup after Close: %v, want errStoreClosed", err)
	}
}

// TestGroupIngestPoisonFailsAlone runs three ingest batches in one group,
// the middle one holding an event whose data SQLite's JSON functions
// refuse (valid JSON, 1,000 levels deep; ingest's Prepare refuses it, so
// the test calls the store directly): that batch fails with its error,
// and the others, of another tenant, are committed.
func TestGroupIngestPoisonFailsAlone(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	event := func(tenantID, id, data string) *hirehook.Event {
		return &hirehook.Event{TenantID: tenantID, ID: id, Type: "candidate.created", OccurredAt: now,
			Subject: hirehook.Subject{Entity: "candidate", ID: "cand_" + id}, Data: json.RawMessage(data)}
	}
	poison := `{"id":"cand_p","x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`
	batches := [][]*hirehook.Event{
		{event("tenant_b", "evt_b1", `{"id":"cand_b1"}`), event("tenant_b", "evt_b2", `{"id":"cand_b2"}`)},
		{event(hirehook.DefaultTenantID, "evt_a1", `{"id":"cand_a1"}`), event(hirehook.DefaultTenantID, "evt_poison", poison)},
		{event("tenant_b", "evt_b3", `{"id":"cand_b3"}`)},
	}
	jobs := make([]*groupJob, len(batches))
	for i, events := range batches {
		jobs[i] = &groupJob{ctx: ctx, done: make(chan error, 1), run: ingestWrite(t, s, hirehook.EventIngestParams{Events: events, Now: now})}
	}
	s.runGroup(jobs)
	for i, events := range batches {
		err := <-jobs[i].done
		if failed := i == 1; failed != (err != nil) {
			t.Errorf("batch %d answered %v, want an error: %v", i, err, failed)
		}
		for _, e := range events {
			_, err := s.EventGet(ctx, e.TenantID, e.ID)
			if stored, want := err == nil, i != 1; stored != want {
				t.Errorf("event %s stored: %v, want %v", e.ID, stored, want)
			}
		}
	}
}

// ingestWrite plans p as EventIngest does and returns the write it would
// hand the group writer, to run as a job of a group the test makes.
func ingestWrite(t *testing.T, s *Store, p hirehook.EventIngestParams) func(ctx context.Context, tx *sql.Tx) (func(), error) {
	t.Helper()
	in := s.newIngest()
	var run func(ctx context.Context, tx *sql.Tx) (func(), error)
	errTaken := errors.New("write taken by the test")
	in.WriteTxFunc = func(_ context.Context, fn func(ctx context.Context, tx *sql.Tx) (func(), error)) error {
		run = fn
		return errTaken
	}
	if _, err := in.EventIngest(context.Background(), p); !errors.Is(err, errTaken) {
		t.Fatalf("plan the batch: %v", err)
	}
	return run
}
