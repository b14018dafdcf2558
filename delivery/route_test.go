package delivery_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/route"
)

// TestDispatcherRoutes: the body sent is the event through the endpoint's
// route (redacted, transformed), the signature covers that body, and the
// attempt holds the receiver's answer: here an echo, so nothing redacted.
func TestDispatcherRoutes(t *testing.T) {
	t.Parallel()
	var rcv *receiver
	rcv = newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		w.Write(rcv.requests()[n-1].Body) // an echo
	})
	s := newStore(t)
	ep := createEndpoint(t, s, rcv.URL, func(ep *hirehook.Endpoint) {
		ep.Redact = []string{".data.fee"}
		ep.Transform = `{placement: .data.id, fee: .data.fee}`
	})
	events, _ := ingest(t, s, 1, "", time.Time{})
	startDispatcher(t, s, delivery.Config{})

	_, attempts := waitState(t, s, deliveriesOf(t, s, ep.ID)[0].ID, hirehook.DeliveryDelivered)
	want := `{"fee":null,"placement":"` + events[0].Subject.ID + `"}`
	reqs := rcv.requests()
	if len(reqs) != 1 || string(reqs[0].Body) != want {
		t.Fatalf("receiver got %d requests, first %q; want %s", len(reqs), reqs[0].Body, want)
	}
	if err := hirehook.Verify(reqs[0].Header, reqs[0].Body, time.Now(), ep.Secrets[0].Value); err != nil {
		t.Errorf("signature over the transformed body: %v", err)
	}
	if a := attempts[0]; a.ResponseBody != want || strings.Contains(a.ResponseBody, "12000") {
		t.Errorf("attempt response = %q", a.ResponseBody)
	}
}

// TestDispatcherRouteFailures: a transform that fails fails the delivery at
// once, sending nothing; a route that runs out of time is retried on the
// schedule.
func TestDispatcherRouteFailures(t *testing.T) {
	t.Parallel()

	t.Run("TransformFails", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t, answer(http.StatusOK))
		s := newStore(t)
		ep := createEndpoint(t, s, rcv.URL, func(ep *hirehook.Endpoint) { ep.Transform = `.data.client.code // error("no client code")` })
		ingest(t, s, 1, "", time.Time{})
		startDispatcher(t, s, delivery.Config{Retry: &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{time.Millisecond, time.Millisecond}}})
		dl, attempts := waitState(t, s, deliveriesOf(t, s, ep.ID)[0].ID, hirehook.DeliveryFailed)
		if dl.Attempts != 1 || len(attempts) != 1 || attempts[0].ErrorClass != hirehook.ErrorClassTransform ||
			attempts[0].Error != "transform error: no client code" || dl.LastError != "transform error: no client code" {
			t.Fatalf("delivery %+v, attempts %+v", dl, attempts)
		}
		if n := rcv.count(); n != 0 {
			t.Fatalf("receiver got %d requests", n)
		}
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t, answer(http.StatusOK))
		s := newStore(t)
		ep := createEndpoint(t, s, rcv.URL, func(ep *hirehook.Endpoint) { ep.Transform = `[range(100000)] | length` })
		ingest(t, s, 1, "", time.Time{})
		startDispatcher(t, s, delivery.Config{
			Retry:  &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{time.Millisecond}},
			Routes: route.NewCache(route.Options{Timeout: time.Nanosecond}),
		})
		dl, attempts := waitState(t, s, deliveriesOf(t, s, ep.ID)[0].ID, hirehook.DeliveryFailed)
		if dl.Attempts != 2 || len(attempts) != 2 {
			t.Fatalf("a timed-out route failed after %d attempts, want 2 (retried on the schedule)", dl.Attempts)
		}
		for _, a := range attempts {
			if a.ErrorClass != hirehook.ErrorClassTransform || !strings.Contains(a.Error, "timed out") {
				t.Errorf("attempt %+v", a)
			}
		}
		if n := rcv.count(); n != 0 {
			t.Fatalf("receiver got %d requests", n)
		}
	})
}
