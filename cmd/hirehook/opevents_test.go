package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// opWebhook is the body of an operational event's webhook.
type opWebhook struct {
	Type   string         `json:"type"`
	Source string         `json:"source"`
	Data   map[string]any `json:"data"`
}

// opEvents decodes what rc received.
func opEvents(tb testing.TB, rc *receiver) []opWebhook {
	tb.Helper()
	var out []opWebhook
	for _, r := range rc.got() {
		var w opWebhook
		if err := json.Unmarshal(r.body, &w); err != nil {
			tb.Fatalf("webhook body: %v: %s", err, r.body)
		}
		out = append(out, w)
	}
	return out
}

// opSettled waits until the hub's emitter has observed results attempt
// results and finished every operational event it queued for them, and
// returns how many it queued. Called once every delivery of the test is
// final, no result can follow, so no operational event can either: that
// count is all there will ever be, with no sleep to wait for an absence.
func opSettled(tb testing.TB, hub *Hub, results int64) int64 {
	tb.Helper()
	waitFor(tb, 10*time.Second, "the operational events to settle", func() bool {
		observed, queued, emitted := hub.OpEventCounts()
		return observed >= results && emitted == queued
	})
	observed, queued, _ := hub.OpEventCounts()
	if observed != results {
		tb.Fatalf("%d attempt results observed, want %d", observed, results)
	}
	return queued
}

func opTypes(ws []opWebhook) []string {
	var types []string
	for _, w := range ws {
		types = append(types, w.Type)
	}
	return types
}

func TestOpEvents_endpointDisabled(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	gone := newReceiver(t, func(int) int { return 410 })
	ops := newReceiver(t, nil)
	ep := createEndpoint(t, hub.URL(), gone.URL+"/hooks?token=secret", "placement.*")
	createEndpoint(t, hub.URL(), ops.URL, "endpoint.*")

	sendEvent(t, hub.URL(), placement("pl_gone"))
	waitFor(t, 5*time.Second, "endpoint.disabled", func() bool { return len(ops.got()) >= 1 })

	got := opEvents(t, ops)
	if len(got) != 1 || got[0].Type != "endpoint.disabled" || got[0].Source != "hirehook" {
		t.Fatalf("ops got %q, want one endpoint.disabled from hirehook", opTypes(got))
	}
	d := got[0].Data
	if d["id"] != ep.ID || d["url"] != gone.URL+"/hooks" || d["disabled_reason"] != "The endpoint answered 410 Gone." {
		t.Errorf("data = %v", d)
	}
	if _, err := time.Parse(time.RFC3339Nano, d["disabled_at"].(string)); err != nil {
		t.Errorf("disabled_at: %v", err)
	}
}

func TestOpEvents_failingThenRecovered(t *testing.T) {
	t.Parallel()
	hub := startHub(t, func(c *Config) {
		c.RetrySchedule = slices.Repeat([]time.Duration{10 * time.Millisecond}, 8)
	})
	flaky := newReceiver(t, func(n int) int {
		if n <= 5 {
			return 503
		}
		return 200
	})
	ops := newReceiver(t, nil)
	ep := createEndpoint(t, hub.URL(), flaky.URL+"?key=k", "placement.*")
	createEndpoint(t, hub.URL(), ops.URL, "delivery.*")

	acc := sendEvent(t, hub.URL(), placement("pl_flaky"))
	waitFor(t, 5*time.Second, "delivery.recovered", func() bool { return len(ops.got()) >= 2 })
	// Nothing else may follow: six attempts of the flaky delivery and one
	// each of the two operational events are every result there is.
	if n := opSettled(t, hub, 6+2); n != 2 {
		t.Fatalf("%d operational events, want 2", n)
	}

	got := opEvents(t, ops)
	if types := opTypes(got); !slices.Equal(types, []string{"delivery.failing", "delivery.recovered"}) {
		t.Fatalf("ops got %q, want delivery.failing then delivery.recovered", types)
	}
	failing, recovered := got[0].Data, got[1].Data
	dl := deliveryOf(t, hub.URL(), acc.ID)
	for _, d := range []map[string]any{failing, recovered} {
		if d["id"] != dl.ID || d["event_id"] != acc.ID || d["event_type"] != "placement.confirmed" ||
			d["endpoint_id"] != ep.ID || d["endpoint_url"] != flaky.URL {
			t.Errorf("data = %v", d)
		}
	}
	if failing["attempts"] != 4.0 || failing["last_status_code"] != 503.0 || failing["next_attempt_at"] == nil {
		t.Errorf("delivery.failing data = %v", failing)
	}
	if recovered["attempts"] != 6.0 || recovered["last_status_code"] != 200.0 || recovered["next_attempt_at"] != nil {
		t.Errorf("delivery.recovered data = %v", recovered)
	}
}

func TestOpEvents_exhausted(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil) // three retries: the 4th attempt is the last
	down := newReceiver(t, func(int) int { return 500 })
	ops := newReceiver(t, nil)
	createEndpoint(t, hub.URL(), down.URL, "placement.*")
	createEndpoint(t, hub.URL(), ops.URL, "delivery.*")

	acc := sendEvent(t, hub.URL(), placement("pl_down"))
	waitFor(t, 5*time.Second, "delivery.exhausted", func() bool { return len(ops.got()) >= 1 })
	// Four attempts of the failed delivery, one of delivery.exhausted.
	if n := opSettled(t, hub, 4+1); n != 1 {
		t.Fatalf("%d operational events, want 1", n)
	}

	got := opEvents(t, ops)
	if types := opTypes(got); !slices.Equal(types, []string{"delivery.exhausted"}) {
		t.Fatalf("ops got %q, want only delivery.exhausted", types)
	}
	if d := got[0].Data; d["event_id"] != acc.ID || d["attempts"] != 4.0 || d["last_status_code"] != 500.0 || d["next_attempt_at"] != nil {
		t.Errorf("data = %v", d)
	}
	if dl := deliveryOf(t, hub.URL(), acc.ID); dl.State != hirehook.DeliveryFailed {
		t.Errorf("delivery state %q, want failed", dl.State)
	}
}

// TestOpEvents_noLoop: an ops subscriber that fails gets no events about
// its own failed deliveries of operational events.
func TestOpEvents_noLoop(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	down := newReceiver(t, func(int) int { return 500 })
	ops := newReceiver(t, func(int) int { return 500 })
	createEndpoint(t, hub.URL(), down.URL, "placement.*")
	createEndpoint(t, hub.URL(), ops.URL, "delivery.*", "endpoint.*")

	sendEvent(t, hub.URL(), placement("pl_loop"))
	// One delivery.exhausted, attempted four times and failed for good.
	waitFor(t, 5*time.Second, "the ops delivery to fail", func() bool { return len(ops.got()) >= 4 })
	// Four attempts of each of the two deliveries are every result; only
	// the first delivery's exhaustion may call for an operational event.
	if n := opSettled(t, hub, 4+4); n != 1 {
		t.Fatalf("%d operational events, want 1: the ops endpoint's own failures fed it", n)
	}

	got := opEvents(t, ops)
	if len(got) != 4 {
		t.Fatalf("ops got %d requests %q, want the one delivery.exhausted 4 times", len(got), opTypes(got))
	}
	for _, w := range got {
		if w.Type != "delivery.exhausted" || w.Data["event_type"] != "placement.confirmed" {
			t.Errorf("ops got %s about %v", w.Type, w.Data["event_type"])
		}
	}
}
