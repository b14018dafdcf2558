package delivery_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/internal/testwait"
)

// hookStore is a real store with hooks around the dispatcher's writes, to
// put a claim in a window that is otherwise too short to hit, or to take
// the store away.
type hookStore struct {
	hirehook.Store
	// afterComplete runs after each DeliveryComplete that succeeded.
	afterComplete func(rs []hirehook.DeliveryResult)
	// down, while set, makes claims and delivery writes hang until their
	// context ends, as a database that stopped answering does.
	down atomic.Bool
}

func (s *hookStore) hang(ctx context.Context) error {
	<-ctx.Done()
	return hirehook.Errorf(hirehook.EUNAVAILABLE, "The store is down (test).")
}

func (s *hookStore) DeliveryClaim(ctx context.Context, p hirehook.DeliveryClaimParams) ([]*hirehook.Delivery, error) {
	if s.down.Load() {
		return nil, s.hang(ctx)
	}
	return s.Store.DeliveryClaim(ctx, p)
}

func (s *hookStore) DeliveryComplete(ctx context.Context, rs []hirehook.DeliveryResult) (int, error) {
	if s.down.Load() {
		return 0, s.hang(ctx)
	}
	n, err := s.Store.DeliveryComplete(ctx, rs)
	if err == nil && s.afterComplete != nil {
		s.afterComplete(rs)
	}
	return n, err
}

func (s *hookStore) DeliveryRelease(ctx context.Context, owner string, ids []string) error {
	if s.down.Load() {
		return s.hang(ctx)
	}
	return s.Store.DeliveryRelease(ctx, owner, ids)
}

// A retry that is already due when its result commits, and is claimed
// before the dispatcher has done with that result, is attempted again at
// once: it is not left leased, unattempted, until its lease runs out.
func TestRetryClaimedWhileCompletingIsAttempted(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL)
	hs := &hookStore{Store: s}
	var d *delivery.Dispatcher
	var once sync.Once
	var reclaimed atomic.Int64
	// Right after the first result (a retry, due in 1 ms) commits, the
	// dispatcher's owner claims it, as its claim loop would in that window.
	hs.afterComplete = func(rs []hirehook.DeliveryResult) {
		for _, r := range rs {
			if r.State != hirehook.DeliveryRetrying {
				continue
			}
			once.Do(func() {
				ds, err := s.DeliveryClaim(context.Background(), hirehook.DeliveryClaimParams{
					Owner: d.Owner(), Now: r.NextAttemptAt.Add(time.Second), LeaseUntil: time.Now().Add(time.Hour), Limit: 10,
				})
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				reclaimed.Store(int64(len(ds)))
				d.Enqueue(ds)
			})
		}
	}
	// An hour's lease and poll: only the re-claim can send the retry.
	d = startDispatcher(t, hs, delivery.Config{
		Lease: time.Hour, PollInterval: time.Hour,
		Retry: &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{time.Millisecond, time.Millisecond}},
	})
	_, leased := ingest(t, s, 1, d.Owner(), time.Now().Add(time.Hour))
	d.Enqueue(leased)

	dl, attempts := waitState(t, s, leased[0].ID, hirehook.DeliveryDelivered)
	if n := reclaimed.Load(); n != 1 {
		t.Fatalf("the hook re-claimed %d deliveries, want 1", n)
	}
	if dl.Attempts != 2 || len(attempts) != 2 {
		t.Errorf("delivered after %d attempts (%d stored), want 2", dl.Attempts, len(attempts))
	}
	if n := rcv.count(); n != 2 {
		t.Errorf("receiver got %d requests, want 2", n)
	}
	if got := deliveriesOf(t, s, ep.ID); len(got) != 1 {
		t.Errorf("%d deliveries, want 1", len(got))
	}
}

// Stop ends by its context's deadline even when the store has stopped
// answering: the result it cannot write and the deliveries it cannot
// release stay leased (they are attempted again when the lease ends), but
// shutdown is not held up for a lease.
func TestStopHonoursDeadlineWhileStoreDown(t *testing.T) {
	t.Parallel()
	hs := &hookStore{Store: newStore(t)}
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		hs.down.Store(true) // the store goes down during the attempt
		w.WriteHeader(http.StatusNoContent)
	})
	createEndpoint(t, hs, rcv.URL)
	ingest(t, hs, 3, "", time.Time{})
	d := startDispatcher(t, hs, delivery.Config{Lease: time.Hour, EndpointConcurrency: 1})
	testwait.For(t, waitTimeout, "an attempt", func() bool { return rcv.count() >= 1 }, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- d.Stop(ctx) }()
	select {
	case err := <-stopped:
		if err == nil {
			t.Errorf("Stop = nil with the store down, want the release's error")
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Stop with a 200ms deadline still running after %v with the store down", waitTimeout)
	}
}
