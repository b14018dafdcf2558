package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// BenchmarkDeliveryStats measures the dashboard's figures over an hour of
// attempts (n attempts across 10 endpoints, plus a backlog of n/10) and the
// metrics collector's queue-only call.
func BenchmarkDeliveryStats(b *testing.B) {
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
