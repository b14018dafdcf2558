package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/route"
)

func placementEvent(tb testing.TB, client string) *hirehook.Event {
	tb.Helper()
	e := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "placement.confirmed", OccurredAt: time.Now().UTC(),
		Subject: hirehook.Subject{Entity: "placement", ID: "pl_1"},
		Data:    []byte(`{"id":"pl_1","status":"confirmed","start_date":"2026-12-07","client":{"id":"` + client + `"},"candidate":{"id":"c_1","email":"ada@example.com"}}`)}
	p, err := e.RenderPayload()
	if err != nil {
		tb.Fatal(err)
	}
	e.Payload = p
	return e
}

// TestFilterFunc: endpoints without a filter always match; a filter sees
// the redacted envelope; an event a filter cannot judge is not delivered;
// the end of ctx is an error.
func TestFilterFunc(t *testing.T) {
	t.Parallel()
	match := FilterFunc(route.NewCache(route.Options{}), slog.New(slog.DiscardHandler))
	eps := []*hirehook.Endpoint{
		{ID: "ep_all"},
		{ID: "ep_acme", Filter: `.data.client.id == "acme"`},
		{ID: "ep_globex", Filter: `.data.client.id == "globex"`},
		{ID: "ep_blank", Filter: "  "},
		{ID: "ep_email", Filter: `.data.candidate.email != null`, Redact: []string{"personal_data"}},
		{ID: "ep_error", Filter: `error("boom")`},
		{ID: "ep_string", Filter: `.type`},
	}
	got, err := match(context.Background(), placementEvent(t, "acme"), eps)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ep := range got {
		ids = append(ids, ep.ID)
	}
	if want := "ep_all ep_acme ep_blank"; strings.Join(ids, " ") != want {
		t.Fatalf("matched %v, want %s", ids, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := match(ctx, placementEvent(t, "acme"), eps[1:2]); err == nil {
		t.Fatal("no error after the end of ctx")
	}
}

// BenchmarkFanout ingests events to 100 subscribed endpoints through a
// real SQLite store, 50 events a commit: without filters (100 deliveries
// an event), with filters of which half pass (50 deliveries), and without
// filters to 50 endpoints (the same 50 deliveries, to show what the filters
// themselves cost). "match" times the filters alone, without the store.
func BenchmarkFanout(b *testing.B) {
	const endpoints, batch = 100, 50
	// filterOf is endpoint i's filter: acme's for even i, globex's for odd
	// i; distinct makes each endpoint's filter its own text (as when each
	// endpoint is written by hand), so that none share an evaluation.
	filterOf := func(i int, distinct bool) string {
		client := "acme"
		if i%2 == 1 {
			client = "globex"
		}
		f := `.type == "placement.confirmed" and .data.client.id == "` + client + `"`
		if distinct {
			f += fmt.Sprintf(" and .data.id != \"skip-%d\"", i)
		}
		return f
	}
	setup := func(b *testing.B, n int, filtered bool) (hirehook.Store, func(context.Context, *hirehook.Event, []*hirehook.Endpoint) ([]*hirehook.Endpoint, error)) {
		st := newStore(b)
		for i := range n {
			ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: fmt.Sprintf("ep_%03d", i), URL: "https://example.com/hook",
				EventTypes: []string{"placement.*"}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}
			if filtered {
				ep.Filter = filterOf(i, true)
			}
			if err := st.EndpointCreate(context.Background(), ep); err != nil {
				b.Fatal(err)
			}
		}
		return st, FilterFunc(route.NewCache(route.Options{}), nil)
	}
	run := func(b *testing.B, n int, filtered bool, wantDeliveries int) {
		st, match := setup(b, n, filtered)
		b.ResetTimer()
		events := 0
		for b.Loop() {
			evs := make([]*hirehook.Event, batch)
			for i := range evs {
				evs[i] = placementEvent(b, "acme")
			}
			res, err := st.EventIngest(context.Background(), hirehook.EventIngestParams{Events: evs, Now: time.Now(), MatchFunc: match})
			if err != nil {
				b.Fatal(err)
			}
			if res[0].Deliveries != wantDeliveries {
				b.Fatalf("%d deliveries, want %d", res[0].Deliveries, wantDeliveries)
			}
			events += batch
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(events*wantDeliveries)/b.Elapsed().Seconds(), "deliveries/s")
	}
	b.Run("100_endpoints_no_filter", func(b *testing.B) { run(b, endpoints, false, 100) })
	b.Run("100_endpoints_half_pass", func(b *testing.B) { run(b, endpoints, true, 50) })
	b.Run("50_endpoints_no_filter", func(b *testing.B) { run(b, endpoints/2, false, 50) })
	for _, distinct := range []bool{true, false} {
		name := "match_100_distinct_filters"
		if !distinct {
			name = "match_2_shared_filters"
		}
		b.Run(name, func(b *testing.B) { benchMatch(b, endpoints, func(i int) string { return filterOf(i, distinct) }) })
	}
}

// benchMatch times FilterFunc alone on n endpoints, of which half pass.
func benchMatch(b *testing.B, n int, filterOf func(int) string) {
	{
		var eps []*hirehook.Endpoint
		for i := range n {
			eps = append(eps, &hirehook.Endpoint{ID: fmt.Sprintf("ep_%03d", i), Filter: filterOf(i)})
		}
		match := FilterFunc(route.NewCache(route.Options{}), nil)
		e := placementEvent(b, "acme")
		for b.Loop() {
			got, err := match(context.Background(), e, eps)
			if err != nil || len(got) != n/2 {
				b.Fatal(len(got), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/event")
	}
}
