package ingest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/testwait"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// TestCommitDeadlineFrozenDatabase freezes the database (the server stops
// answering, its connections stay open) under an ingest: Commit answers
// EUNAVAILABLE at the ingest deadline, never success for a commit it did
// not see; once the database is back, the producer's retry with the same
// id is accepted, and the event is stored once.
func TestCommitDeadlineFrozenDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, dsn := postgrestest.NewProxy(t, postgrestest.NewDatabase(t))
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := startIngester(t, st, Config{Timeout: 2 * time.Second})
	newEndpoint(t, st, false, "candidate.created")
	input := &hirehook.EventInput{ID: "evt_frozen", Type: "candidate.created", Data: json.RawMessage(`{"id":"cand_1"}`)}
	// The database answers: commits succeed (retried, as a producer
	// would, if a loaded machine makes one miss the deadline).
	testwait.For(t, 20*time.Second, "a commit before the freeze", func() bool {
		_, err := in.Commit(ctx, []*hirehook.Event{prepare(t, in, &hirehook.EventInput{ID: "evt_warm", Type: "candidate.created", Data: json.RawMessage(`{"id":"cand_0"}`)})})
		if err != nil && hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE {
			t.Fatalf("Commit before the freeze: %v", err)
		}
		return err == nil
	}, nil)

	p.Freeze()
	answer := make(chan error, 1)
	go func() {
		_, err := in.Commit(ctx, []*hirehook.Event{prepare(t, in, input)})
		answer <- err
	}()
	select {
	case err := <-answer:
		if code := hirehook.ErrorCode(err); code != hirehook.EUNAVAILABLE {
			t.Fatalf("Commit with the database frozen = %v (code %q), want unavailable", err, code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Commit did not answer while the database was frozen")
	}
	p.Thaw()

	// The producer sends the event again until it is accepted.
	testwait.For(t, 20*time.Second, "the event to be accepted once the database is back", func() bool {
		_, err := in.Commit(ctx, []*hirehook.Event{prepare(t, in, input)})
		if err != nil && hirehook.ErrorCode(err) != hirehook.EUNAVAILABLE {
			t.Fatalf("Commit once the database is back: %v", err)
		}
		return err == nil
	}, nil)
	events, err := st.EventList(ctx, hirehook.EventFilter{TenantID: tenant})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.ID == input.ID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("event %s stored %d times, want once", input.ID, n)
	}
}
