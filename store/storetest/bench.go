package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// The benchmarks of the paths that must stay fast whatever holds the rules
// (the queue's claim and completion, the inbound log, the dashboard's
// figures), run by each dialect's bench test on its own store.

// BenchmarkClaimComplete measures the queue's hot path from the table: a
// claim of up to 64 due deliveries and the completion of what it took, in
// one batch (as the dispatcher's completer sends them), per iteration. The
// backlog is refilled outside the timer.
func BenchmarkClaimComplete(b *testing.B, newStore NewStoreFunc) {
	s := newStore(b)
	ctx := context.Background()
	for i := range 4 {
		must(b, s.EndpointCreate(ctx, &hirehook.Endpoint{TenantID: tenant, ID: fmt.Sprintf("ep_%d", i), URL: "https://example.com", EventTypes: []string{"*"},
			Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}))
	}
	data := json.RawMessage(`{"id":"pl_1","status":"confirmed"}`)
	fill := func() {
		events := make([]*hirehook.Event, 256)
		for j := range events {
			events[j] = &hirehook.Event{TenantID: tenant, ID: hirehook.NewID("evt"), Type: "placement.confirmed",
				OccurredAt: t0, Subject: hirehook.Subject{Entity: "placement", ID: fmt.Sprintf("pl_%d", j)}, Data: data}
		}
		_, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: t0})
		must(b, err)
	}
	fill()
	claimed := 0
	for b.Loop() {
		now := time.Now()
		ds, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "node", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 64})
		must(b, err)
		if len(ds) == 0 {
			b.StopTimer()
			fill()
			b.StartTimer()
			continue
		}
		results := make([]hirehook.DeliveryResult, len(ds))
		for i, d := range ds {
			state, status := hirehook.DeliveryDelivered, 200
			if i%8 == 0 {
				state, status = hirehook.DeliveryRetrying, 503
			}
			results[i] = hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: "node", State: state, NextAttemptAt: now.Add(time.Hour),
				Attempt: hirehook.Attempt{StartedAt: now, Duration: time.Millisecond, StatusCode: status, ErrorClass: errorClass(status)}}
		}
		n, err := s.DeliveryComplete(ctx, results)
		must(b, err)
		if n != len(ds) {
			b.Fatalf("completed %d of %d", n, len(ds))
		}
		claimed += len(ds)
	}
	if claimed > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(claimed), "ns/delivery")
	}
}

func errorClass(status int) hirehook.ErrorClass {
	if status >= 200 && status <= 299 {
		return ""
	}
	return hirehook.ErrorClassStatus
}

// BenchmarkInbound measures the inbound log's path per request: its
// create (with a dedupe key), a claim of up to 32 received requests and
// their updates.
func BenchmarkInbound(b *testing.B, newStore NewStoreFunc) {
	s := newStore(b)
	ctx := context.Background()
	src := newSource(b, s, tenant, true)
	body := []byte(`{"event":"candidate.created","id":"c_1"}`)
	n := 0
	for b.Loop() {
		now := time.Now()
		for range 32 {
			n++
			must(b, s.InboundCreate(ctx, &hirehook.InboundRequest{TenantID: tenant, SourceID: src.ID, ID: hirehook.NewID("inb"), ReceivedAt: now,
				Status: hirehook.InboundReceived, DedupeKey: fmt.Sprintf("k%d", n%40), Body: body, BodySize: len(body)}))
		}
		rs, err := s.InboundClaim(ctx, hirehook.InboundClaimParams{Owner: "node", Now: now, Until: now.Add(time.Minute), Limit: 32})
		must(b, err)
		for _, r := range rs {
			must(b, s.InboundUpdate(ctx, hirehook.InboundUpdateParams{TenantID: tenant, ID: r.ID, Now: now, Status: hirehook.InboundProcessed, EventIDs: []string{"evt_1"}}))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/request")
}

// BenchmarkDeliveryStats measures the dashboard's figures over an hour of
// attempts (n attempts across 10 endpoints, plus a backlog of n/10) and the
// metrics collector's queue-only call.
func BenchmarkDeliveryStats(b *testing.B, newStore NewStoreFunc) {
	for _, n := range []int{10_000, 100_000} {
		s := newStore(b)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		for i := range 10 {
			ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: fmt.Sprintf("ep_%d", i), URL: "https://example.com", EventTypes: []string{"*"},
				Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}
			if err := s.EndpointCreate(ctx, ep); err != nil {
				b.Fatal(err)
			}
		}
		data := json.RawMessage(`{"id":"pl_1","status":"confirmed"}`)
		// n/10 events → n deliveries (10 endpoints); all attempted within the hour.
		for done := 0; done < n/10; done += 500 {
			events := make([]*hirehook.Event, 500)
			for j := range events {
				events[j] = &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "placement.confirmed",
					OccurredAt: now, Subject: hirehook.Subject{Entity: "placement", ID: "pl_1"}, Data: data}
			}
			res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: now.Add(-time.Hour), LeaseOwner: "node", LeaseUntil: now.Add(time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			var results []hirehook.DeliveryResult
			for k, r := range res {
				for m, d := range r.Leased {
					status := 200
					if (k+m)%20 == 0 {
						status = 500
					}
					results = append(results, hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: "node", State: hirehook.DeliveryDelivered,
						Attempt: hirehook.Attempt{StartedAt: now.Add(-time.Duration(k) * time.Second), Duration: time.Duration(k+m) * time.Millisecond, StatusCode: status}})
				}
			}
			if _, err := s.DeliveryComplete(ctx, results); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("dashboard/attempts=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.DeliveryStats(ctx, hirehook.DeliveryStatsParams{TenantID: hirehook.DefaultTenantID, Since: now.Add(-time.Hour), Bucket: time.Minute}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The day window as the endpoint page reads it: hourly buckets,
		// each with its latency percentiles.
		b.Run(fmt.Sprintf("day/attempts=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.DeliveryStats(ctx, hirehook.DeliveryStatsParams{TenantID: hirehook.DefaultTenantID, Since: now.Add(-24 * time.Hour), Bucket: time.Hour}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("queue/history=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.DeliveryStats(ctx, hirehook.DeliveryStatsParams{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeliveryComplete measures the result commit alone: one
// DeliveryComplete of n deliveries written leased by the hot hand-off (as
// in a burst), each with its attempt. "first" results are all first-try
// successes; "mixed" has one retry (503) in eight. The deliveries are
// ingested outside the timer, so the tables grow as a burst's do.
// cpu-ns/delivery is the process's CPU (kernel's count, user and system)
// during the timed calls: the figure the hub's CPU per event is made of,
// steadier than the time, which an fsync dominates.
func BenchmarkDeliveryComplete(b *testing.B, newStore NewStoreFunc) {
	for _, mix := range []string{"first", "mixed"} {
		for _, n := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/batch=%d", mix, n), func(b *testing.B) {
				s := newStore(b)
				ctx := context.Background()
				must(b, s.EndpointCreate(ctx, &hirehook.Endpoint{TenantID: tenant, ID: "ep_1", URL: "https://example.com", EventTypes: []string{"*"},
					Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}))
				data := json.RawMessage(`{"id":"pl_1","status":"confirmed"}`)
				done := 0
				var cpu time.Duration
				for b.Loop() {
					b.StopTimer()
					now := time.Now()
					events := make([]*hirehook.Event, n)
					for j := range events {
						events[j] = &hirehook.Event{TenantID: tenant, ID: hirehook.NewID("evt"), Type: "placement.confirmed",
							OccurredAt: now, Subject: hirehook.Subject{Entity: "placement", ID: fmt.Sprintf("pl_%d", j)}, Data: data}
					}
					res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: now, LeaseOwner: "node", LeaseUntil: now.Add(time.Minute)})
					must(b, err)
					results := make([]hirehook.DeliveryResult, 0, n)
					for _, r := range res {
						for _, d := range r.Leased {
							state, status, body := hirehook.DeliveryDelivered, 200, `{"ok":true}`
							if mix == "mixed" && len(results)%8 == 0 {
								state, status, body = hirehook.DeliveryRetrying, 503, "Service Unavailable"
							}
							results = append(results, hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: "node", State: state,
								NextAttemptAt: now.Add(time.Hour), Attempt: hirehook.Attempt{ID: hirehook.NewID("att"), StartedAt: now, Duration: 1500 * time.Microsecond,
									StatusCode: status, ResponseBody: body, ErrorClass: errorClass(status)}})
						}
					}
					b.StartTimer()
					c0 := ProcessCPU()
					applied, err := s.DeliveryComplete(ctx, results)
					cpu += ProcessCPU() - c0
					must(b, err)
					if applied != n {
						b.Fatalf("completed %d of %d", applied, n)
					}
					done += n
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(done), "ns/delivery")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(done), "cpu-ns/delivery")
			})
		}
	}
}
