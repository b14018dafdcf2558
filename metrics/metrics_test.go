package metrics_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/metrics"
	"github.com/hirehook/hirehook/store/sqlite"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func openStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "hirehook.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// scrape GETs the metrics and returns the sample lines by series.
func scrape(tb testing.TB, m *metrics.Metrics) map[string]string {
	tb.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	must(tb, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("scrape = %d", resp.StatusCode)
	}
	body, _ := io.ReadAll(resp.Body)
	series := map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		series[line[:i]] = line[i+1:]
	}
	return series
}

func wantSeries(tb testing.TB, series map[string]string, want map[string]string) {
	tb.Helper()
	for k, v := range want {
		if got, ok := series[k]; !ok {
			tb.Errorf("no series %s", k)
		} else if got != v {
			tb.Errorf("%s = %s, want %s", k, got, v)
		}
	}
}

func event(id, typ, source string) *hirehook.Event {
	return &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: id, Type: typ, Source: source, OccurredAt: now,
		Subject: hirehook.Subject{Entity: strings.SplitN(typ, ".", 2)[0], ID: "x1"}, Data: json.RawMessage(`{"id":"x1"}`)}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	m := metrics.New(metrics.Config{Store: st, NowFunc: func() time.Time { return now }})
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: "ep_1", URL: "https://example.com/h", EventTypes: []string{"placement.*"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	must(t, st.EndpointCreate(ctx, ep))

	// Two events; the second sent again counts once.
	e1, e2 := event("evt_1", "placement.confirmed", "bullhorn"), event("evt_2", "placement.confirmed", "bullhorn")
	res, err := st.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{e1, e2}, Now: now.Add(-time.Minute), LeaseOwner: "w", LeaseUntil: now.Add(time.Minute)})
	must(t, err)
	m.ObserveIngest([]*hirehook.Event{e1, e2}, res)
	again, err := st.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{event("evt_2", "placement.confirmed", "bullhorn")}, Now: now})
	must(t, err)
	m.ObserveIngest([]*hirehook.Event{e2}, again)
	e3 := event("evt_3", "job.created", "")
	res3, err := st.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{e3}, Now: now})
	must(t, err)
	m.ObserveIngest([]*hirehook.Event{e3}, res3)

	// The first delivery is delivered in 30 ms; the second stays in flight.
	d := res[0].Leased[0]
	r := hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: "w", State: hirehook.DeliveryDelivered,
		Attempt: hirehook.Attempt{StartedAt: now, Duration: 30 * time.Millisecond, StatusCode: 200}}
	_, err = st.DeliveryComplete(ctx, []hirehook.DeliveryResult{r})
	must(t, err)
	m.ObserveResult(d, r)

	series := scrape(t, m)
	wantSeries(t, series, map[string]string{
		`hirehook_events_ingested_total{source="bullhorn",type="placement.confirmed"}`: "2",
		`hirehook_events_ingested_total{source="none",type="job.created"}`:             "1",
		`hirehook_deliveries_total{endpoint_id="ep_1",outcome="delivered"}`:            "1",
		`hirehook_attempt_duration_seconds_count{endpoint_id="ep_1"}`:                  "1",
		`hirehook_attempt_duration_seconds_bucket{endpoint_id="ep_1",le="0.025"}`:      "0",
		`hirehook_attempt_duration_seconds_bucket{endpoint_id="ep_1",le="0.05"}`:       "1",
		`hirehook_queue_depth{endpoint_id="ep_1",state="delivering"}`:                  "1",
		`hirehook_queue_depth{endpoint_id="ep_1",state="pending"}`:                     "0",
		`hirehook_queue_depth{endpoint_id="ep_1",state="retrying"}`:                    "0",
		`hirehook_queue_oldest_age_seconds{endpoint_id="ep_1"}`:                        "60",
		`hirehook_store_up`: "1",
	})
	if _, ok := series["hirehook_store_ping_seconds"]; !ok {
		t.Error("no store ping latency")
	}
	if _, ok := series["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}

// TestMetrics_sourcesBounded: sources past MaxSources share one label.
func TestMetrics_sourcesBounded(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Config{Store: openStore(t), MaxSources: 2})
	var events []*hirehook.Event
	for _, src := range []string{"a", "b", "c", "d", "a"} {
		events = append(events, event("evt_"+src, "job.created", src))
	}
	m.ObserveIngest(events, make([]hirehook.EventIngestResult, len(events)))
	wantSeries(t, scrape(t, m), map[string]string{
		`hirehook_events_ingested_total{source="a",type="job.created"}`:     "2",
		`hirehook_events_ingested_total{source="b",type="job.created"}`:     "1",
		`hirehook_events_ingested_total{source="other",type="job.created"}`: "2",
	})
}

// TestMetrics_storeDown: a scrape still answers, without the queue.
func TestMetrics_storeDown(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	m := metrics.New(metrics.Config{Store: st, ScrapeTimeout: time.Second})
	must(t, st.Close())
	series := scrape(t, m)
	wantSeries(t, series, map[string]string{"hirehook_store_up": "0"})
	for k := range series {
		if strings.HasPrefix(k, "hirehook_queue_") {
			t.Errorf("queue series %s while the store is down", k)
		}
	}
}

// TestMetrics_rejectedReasons: a 503 counts as unavailable and a 500 as
// internal, so that the metric says what the producer was told (a 500 once
// counted as unavailable while the answer said internal).
func TestMetrics_rejectedReasons(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Config{Store: openStore(t)})
	for _, status := range []int{503, 503, 500, 422, 429} {
		m.ObserveRejected(status)
	}
	wantSeries(t, scrape(t, m), map[string]string{
		`hirehook_events_rejected_total{reason="unavailable"}`:  "2",
		`hirehook_events_rejected_total{reason="internal"}`:     "1",
		`hirehook_events_rejected_total{reason="invalid"}`:      "1",
		`hirehook_events_rejected_total{reason="rate_limited"}`: "1",
	})
}
