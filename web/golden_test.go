package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// TestPages renders every page against the seeded agency and compares it
// with testdata/<name>.golden (go test ./web -update rewrites them). Ids,
// tokens and the stylesheet hash are normalised; the clock is fixed.
func TestPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	admin := b.signedIn(t, adminKey)
	viewer := b.signedIn(t, viewerKey)
	acme := b.signedIn(t, acmeKey)

	for _, tc := range []struct {
		name   string
		c      *client
		path   string
		status int
	}{
		{"signin", b.client(t), "/signin?next=%2Fcoverage", http.StatusOK},
		{"integrations", admin, "/", http.StatusOK},
		{"integrations_viewer", viewer, "/", http.StatusOK},
		{"integrations_empty", acme, "/", http.StatusOK},
		{"coverage", admin, "/coverage", http.StatusOK},
		{"coverage_empty", acme, "/coverage", http.StatusOK},
		{"sources", admin, "/sources", http.StatusOK},
		{"sources_empty", acme, "/sources", http.StatusOK},
		{"source_push", admin, "/sources/" + srcPush, http.StatusOK},
		{"source_push_viewer", viewer, "/sources/" + srcPush + "?status=failed", http.StatusOK},
		{"source_polled", admin, "/sources/" + srcBroken, http.StatusOK},
		{"inbound", admin, "/sources/" + srcPush + "/requests/" + inrProcessed, http.StatusOK},
		{"source_new", admin, "/sources/new", http.StatusOK},
		{"source_new_bullhorn", admin, "/sources/new?kind=bullhorn", http.StatusOK},
		{"source_edit", admin, "/sources/" + srcBullhorn + "/edit", http.StatusOK},
		{"source_delete", admin, "/sources/" + srcPush + "/delete", http.StatusOK},
		{"events", admin, "/events", http.StatusOK},
		{"events_filtered", admin, "/events?type=placement.started", http.StatusOK},
		{"events_none_match", admin, "/events?subject=nobody", http.StatusOK},
		{"events_empty", acme, "/events", http.StatusOK},
		{"events_source_time", admin, "/events?source=bullhorn&from=2026-11-27T09:25&until=2026-11-27T09:45", http.StatusOK},
		{"events_bad_time", admin, "/events?source=bullhorn&from=yesterday&until=2026-11-27T09:45", http.StatusUnprocessableEntity},
		{"event", admin, "/events/" + evtStarted, http.StatusOK},
		{"event_viewer", viewer, "/events/" + evtStarted, http.StatusOK},
		{"event_no_subscriber", admin, "/events/" + evtJob, http.StatusOK},
		{"record", admin, "/records/placement/pl_1001", http.StatusOK},
		{"endpoint_new", admin, "/endpoints/new", http.StatusOK},
		{"endpoint", admin, "/endpoints/" + epPayroll, http.StatusOK},
		{"endpoint_disabled", admin, "/endpoints/" + epCRM, http.StatusOK},
		{"endpoint_viewer", viewer, "/endpoints/" + epOnboarding, http.StatusOK},
		{"not_found", admin, "/events/evt_missing", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.get(tc.path)
			wantStatus(t, r, tc.status)
			golden(t, tc.name, r.body)
		})
	}

	t.Run("endpoint_errors", func(t *testing.T) {
		admin.get("/endpoints/new")
		r := admin.post("/endpoints", url.Values{"url": {"onboarding.example.com"}, "description": {"Onboarding"}, "event_types": {"placement.confirmed"}, "patterns": {"bad pattern"}}, true)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		golden(t, "endpoint_errors", r.body)
	})
	// Last, as it adds an endpoint the pages above would list: a Kafka
	// endpoint, its credentials' names shown and their values not.
	t.Run("endpoint_broker", func(t *testing.T) {
		k, _ := hirehook.LookupDestinationKind(hirehook.KindKafka)
		config := map[string]string{"brokers": "kafka-1.internal:9092,kafka-2.internal:9092", "topic": "recruiting.events", "sasl_mechanism": "scram-sha-256", "tls": "true"}
		ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: "ep_kafka", Kind: hirehook.KindKafka, URL: k.TargetFunc(config),
			Config: config, Credentials: map[string]string{"username": "hub", "password": "kafka-pw-do-not-show"},
			Description: "Data platform", EventTypes: []string{"placement.*"},
			Secrets:   []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now.Add(-time.Hour)}},
			CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour)}
		must(t, b.store.EndpointCreate(context.Background(), ep))
		r := admin.get("/endpoints/ep_kafka")
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.body, "kafka-pw-do-not-show") {
			t.Fatal("the page shows the password")
		}
		golden(t, "endpoint_broker", r.body)
	})
	t.Run("forbidden", func(t *testing.T) {
		viewer.get("/")
		r := viewer.post("/endpoints/"+epPayroll+"/rotate-secret", nil, true)
		wantStatus(t, r, http.StatusForbidden)
		golden(t, "forbidden", r.body)
	})
}
