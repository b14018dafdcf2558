package delivery_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
)

// Results taken by an ingest commit (TakeResults, stored through
// EventIngestParams.Results) are recorded once, with their follow-up
// (OnResult) done once, beside the results the completer writes itself.
func TestTakeResultsRideAlongWithIngest(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, answer(http.StatusOK))
	s := newStore(t)
	ep := createEndpoint(t, s, rc.URL)
	var observed atomic.Int64
	d := startDispatcher(t, s, delivery.Config{OnResult: func(*hirehook.Delivery, hirehook.DeliveryResult) { observed.Add(1) }})

	// An ingest loop, as the ingester's committer: each commit carries
	// whatever results wait.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var carried atomic.Int64
	go func() {
		for ctx.Err() == nil {
			rs, done := d.TakeResults(64)
			_, err := s.EventIngest(context.Background(), hirehook.EventIngestParams{Events: []*hirehook.Event{newEvent("offer.signed")}, Now: time.Now(), Results: rs})
			carried.Add(int64(len(rs)))
			done(err == nil)
			time.Sleep(time.Millisecond)
		}
	}()
	const n = 200
	for range n / 20 {
		_, leased := ingest(t, s, 20, d.Owner(), time.Now().Add(time.Minute))
		d.Enqueue(leased)
	}
	waitFor(t, waitTimeout, "every delivery", func() bool { return len(deliveriesIn(t, s, hirehook.DeliveryDelivered)) == n })
	waitFor(t, waitTimeout, "every result observed", func() bool { return observed.Load() == n })
	for _, dl := range deliveriesOf(t, s, ep.ID) {
		if _, attempts := getDelivery(t, s, dl.ID); len(attempts) != 1 {
			t.Fatalf("delivery %s has %d attempts, want 1", dl.ID, len(attempts))
		}
	}
	if rc.count() != n {
		t.Errorf("receiver got %d, want %d", rc.count(), n)
	}
	t.Logf("%d of %d results rode along with an ingest commit", carried.Load(), n)
	if carried.Load() == 0 {
		t.Error("no result rode along with an ingest commit")
	}
}
