package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/internal/testwait"
)

// subjectEvents returns n events about each of the candidates, in
// round-robin order (c0 #0, c1 #0, ..., c0 #1, ...).
func subjectEvents(candidates []string, n int) []*hirehook.Event {
	var evs []*hirehook.Event
	for i := range n {
		for _, c := range candidates {
			evs = append(evs, &hirehook.Event{
				TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.updated",
				OccurredAt: time.Now().UTC(), Source: "test", Subject: hirehook.Subject{Entity: "candidate", ID: c},
				Data: []byte(fmt.Sprintf(`{"id":%q,"n":%d}`, c, i)),
			})
		}
	}
	return evs
}

// An ordered endpoint gets each candidate's events in ingest order, even
// when the first event of a candidate fails until the other candidates'
// events are all in (so they flowed meanwhile); and a delivery that fails for good lets the
// next one of its candidate go. The events are handed off hot, in three
// ingest batches, as the ingester does.
func TestOrderedDeliveryPerSubject(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	candidates := []string{"c_slow", "c_dead", "c1", "c2", "c3", "c4"}
	const perSubject = 5
	evs := subjectEvents(candidates, perSubject)
	subjectOf := map[string]string{}
	indexOf := map[string]int{}
	count := map[string]int{}
	for _, e := range evs {
		subjectOf[e.ID] = e.Subject.ID
		indexOf[e.ID] = count[e.Subject.ID]
		count[e.Subject.ID]++
	}

	var mu sync.Mutex
	got := map[string][]int{} // subject → event indexes in order of 2xx answers
	tries := map[string]int{} // event id → requests
	others := 0               // events of c1..c4 delivered
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		id := r.Header.Get("webhook-id")
		mu.Lock()
		defer mu.Unlock()
		tries[id]++
		subj, i := subjectOf[id], indexOf[id]
		switch {
		// c_slow's first event fails until every event of c1..c4 is in:
		// they must not wait for it.
		case subj == "c_slow" && i == 0 && (tries[id] < 2 || others < 4*perSubject), subj == "c_dead" && i == 0:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got[subj] = append(got[subj], i)
		if subj != "c_slow" && subj != "c_dead" {
			others++
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ep := createEndpoint(t, s, rc.URL, func(e *hirehook.Endpoint) {
		e.EventTypes, e.Ordered = []string{"candidate.*"}, true
	})
	d := startDispatcher(t, s, delivery.Config{
		Owner: "node_ordered",
		// 40 attempts, 50 ms apart: c_slow's first event gets through
		// once the others are in; c_dead's fails for good after 40.
		Retry: &hirehook.ScheduleRetryPolicy{Schedule: slices.Repeat([]time.Duration{50 * time.Millisecond}, 39)},
	})
	for i := 0; i < len(evs); i += 12 {
		res, err := s.EventIngest(context.Background(), hirehook.EventIngestParams{Events: evs[i:min(i+12, len(evs))], Now: time.Now(),
			LeaseOwner: d.Owner(), LeaseUntil: time.Now().Add(d.Lease())})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			d.Enqueue(r.Leased)
		}
	}

	// c_dead's first delivery takes 40 attempts one after another, each a
	// claim and a committed result: about 14 s alone under -race, and
	// 37 s was seen in a loaded full run. The bound is for a hang, not a
	// measure of speed.
	testwait.For(t, 9*waitTimeout, "every delivery to finish", func() bool {
		n := 0
		for _, dl := range deliveriesOf(t, s, ep.ID) {
			if dl.State == hirehook.DeliveryDelivered || dl.State == hirehook.DeliveryFailed {
				n++
			}
		}
		return n == len(evs)
	}, nil)
	mu.Lock()
	defer mu.Unlock()
	for _, c := range candidates {
		want := []int{0, 1, 2, 3, 4}
		if c == "c_dead" {
			want = want[1:] // its first event failed for good; the rest followed
		}
		if fmt.Sprint(got[c]) != fmt.Sprint(want) {
			t.Errorf("%s: events received in order %v, want %v", c, got[c], want)
		}
	}
	failed := deliveriesIn(t, s, hirehook.DeliveryFailed)
	if len(failed) != 1 || failed[0].EventID != evs[1].ID || failed[0].Attempts != 40 {
		t.Errorf("failed deliveries = %+v, want c_dead's first after 40 attempts", failed)
	}
}

// An endpoint that fails every attempt for DisableFailingAfter is disabled,
// its deliveries paused, nothing lost; enabling it delivers them.
func TestFailingEndpointDisabledAndResumed(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var healthy atomic.Bool
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	ep := createEndpoint(t, s, rc.URL)

	// The clock starts now and jumps six days once the endpoint has a
	// failing_since.
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	var disabled atomic.Value
	d := startDispatcher(t, s, delivery.Config{
		Owner:   "node_failing",
		NowFunc: now,
		Retry:   &hirehook.ScheduleRetryPolicy{Schedule: slices.Repeat([]time.Duration{50 * time.Millisecond}, 40)},
		OnResultFunc: func(_ *hirehook.Delivery, r hirehook.DeliveryResult) {
			if r.DisableEndpoint != "" {
				disabled.Store(r.DisableEndpoint)
			}
		},
	})
	_, _ = ingest(t, s, 3, "", time.Time{})
	d.Notify()
	testwait.For(t, waitTimeout, "the endpoint to have failing_since", func() bool {
		e, err := s.EndpointGet(context.Background(), hirehook.DefaultTenantID, ep.ID)
		return err == nil && e.FailingSince != nil
	}, nil)
	skew.Store(int64(6 * 24 * time.Hour))
	// OnResult sees the result after it was committed: wait for both.
	testwait.For(t, waitTimeout, "the endpoint to be disabled", func() bool {
		e, err := s.EndpointGet(context.Background(), hirehook.DefaultTenantID, ep.ID)
		return err == nil && e.Disabled && disabled.Load() != nil
	}, nil)
	e, _ := s.EndpointGet(context.Background(), hirehook.DefaultTenantID, ep.ID)
	if reason, _ := disabled.Load().(string); reason == "" || e.DisabledReason != reason {
		t.Errorf("disabled reason %q, result said %q", e.DisabledReason, reason)
	}
	testwait.For(t, waitTimeout, "the deliveries to be paused", func() bool {
		return len(deliveriesIn(t, s, hirehook.DeliveryPaused)) == 3
	}, nil)
	// A delivery to another endpoint, due after the paused ones: once it
	// has been claimed and delivered, a claim has passed them over.
	before := rc.count()
	other := newReceiver(t, answer(http.StatusOK))
	otherEP := createEndpoint(t, s, other.URL, func(e *hirehook.Endpoint) { e.EventTypes = []string{"candidate.created"} })
	ingestType(t, s, "candidate.created", 1, "", time.Time{})
	d.Notify()
	waitState(t, s, deliveriesOf(t, s, otherEP.ID)[0].ID, hirehook.DeliveryDelivered)
	if n := rc.count(); n != before {
		t.Fatalf("%d attempts to a disabled endpoint", n-before)
	}

	healthy.Store(true)
	off := false
	if _, err := s.EndpointUpdate(context.Background(), hirehook.DefaultTenantID, ep.ID, hirehook.EndpointUpdate{Disabled: &off, Now: now()}); err != nil {
		t.Fatal(err)
	}
	d.Notify()
	testwait.For(t, waitTimeout, "the paused deliveries to be delivered", func() bool {
		n := 0
		for _, dl := range deliveriesOf(t, s, ep.ID) {
			if dl.State == hirehook.DeliveryDelivered {
				n++
			}
		}
		return n == 3
	}, nil)
	e, _ = s.EndpointGet(context.Background(), hirehook.DefaultTenantID, ep.ID)
	if e.Disabled || e.FailingSince != nil {
		t.Errorf("after enable and success: disabled %v, failing since %v", e.Disabled, e.FailingSince)
	}
}
