package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// TestEndpointWhatHappensNext: the page of a down endpoint says what
// happens next: each waiting delivery's next attempt (relative, with the
// UTC time as its title), the pause (since when, what the attempts found,
// when the probe goes) and when the hub disables the endpoint if it keeps
// failing; its latency, with every attempt failed, is "no successful
// attempt yet", not the microseconds of a refused connection. The
// Integrations row shows the pause too.
func TestEndpointWhatHappensNext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	c := b.signedIn(t, adminKey)
	at := now.Add(-10 * time.Minute)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: "ep_down", URL: "https://payroll.example.com/hooks", Description: "Payroll",
		EventTypes: []string{"placement.*"}, Headers: map[string]string{}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: at}},
		CreatedAt: at, UpdatedAt: at}
	must(t, b.store.EndpointCreate(ctx, ep))
	e := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: "evt_waiting", Type: "placement.confirmed", OccurredAt: at, Source: "test",
		Subject: hirehook.Subject{Entity: "placement", ID: "pl_1"}, Data: json.RawMessage(`{"id":"pl_1"}`)}
	_, err := b.store.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{e}, Now: at})
	must(t, err)
	ds, err := b.store.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w1", Now: at, LeaseUntil: at.Add(time.Minute), Limit: 10})
	must(t, err)
	if len(ds) != 1 {
		t.Fatalf("claimed %d deliveries, want 1", len(ds))
	}
	retryAt := now.Add(4*time.Minute + 10*time.Second)
	_, err = b.store.DeliveryComplete(ctx, []hirehook.DeliveryResult{{DeliveryID: ds[0].ID, TenantID: ds[0].TenantID, LeaseOwner: "w1",
		State: hirehook.DeliveryRetrying, NextAttemptAt: retryAt,
		Attempt: hirehook.Attempt{StartedAt: now.Add(-time.Minute), Duration: 300 * time.Microsecond, ErrorClass: hirehook.ErrorClassConnection, Error: "connection refused"}}})
	must(t, err)

	// Not paused on this node (yet): the waiting delivery and its time.
	page := c.get("/endpoints/" + ep.ID).body
	wantContains(t, page, "What happens next", `<span title="2026-11-27 10:04:40 UTC">in 4 min</span>`, "No successful attempt yet", "of successful attempts only")
	if strings.Contains(page, "300 µs") {
		t.Errorf("a dead endpoint's page shows its failed attempt's 300 µs as latency")
	}
	if strings.Contains(page, "Paused: the endpoint is down") {
		t.Errorf("the page shows a pause the dispatcher does not hold")
	}

	// Paused: since when, why, the next probe, the horizon.
	b.pauses.set(ep.ID, hirehook.EndpointPause{Node: "node-a", Nodes: 2, Since: now.Add(-3 * time.Minute), FailedInARow: 10,
		Found: "could not connect (refused, reset or unreachable)", Pause: 30 * time.Second, NextProbeAt: now.Add(20 * time.Second)})
	page = c.get("/endpoints/" + ep.ID).body
	wantContains(t, page, "Paused: the endpoint is down", `The hub paused it <span title="2026-11-27 09:57:30 UTC">3 min ago</span>, when 10 deliveries in a row found it down; the latest could not connect`,
		`<span title="2026-11-27 10:00:50 UTC">in 20 s</span>`, "the pause doubles (now 30 s)", "node <span class=\"mono\">node-a</span>, one of 2",
		"disables the endpoint", "2026-12-02 09:59:30 UTC")
	wantContains(t, c.get("/").body, "<strong>Paused</strong> · probe in 20 s", "Down: paused since 2026-11-27 09:57:30 UTC", "no success")
}
