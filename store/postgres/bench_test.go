package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// BenchmarkEventIngest measures one group commit of n events, each with a
// record snapshot and one delivery: the cost per event falls as the batch
// grows, which is what the ingest group commit relies on.
func BenchmarkEventIngest(b *testing.B) {
	for _, n := range []int{1, 8, 64, 512} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s := newStore(b)
			ctx := context.Background()
			ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: "ep_1", URL: "https://example.com", EventTypes: []string{"placement.*"},
				Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}
			if err := s.EndpointCreate(ctx, ep); err != nil {
				b.Fatal(err)
			}
			data := json.RawMessage(`{"id":"pl_1","status":"confirmed","candidate":{"id":"c_1","first_name":"Ada","email":"ada@example.com"},"pay_rate":{"amount":42.5,"currency":"USD"}}`)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				events := make([]*hirehook.Event, n)
				for j := range events {
					events[j] = &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "placement.confirmed",
						OccurredAt: time.Now(), Subject: hirehook.Subject{Entity: "placement", ID: fmt.Sprintf("pl_%d", j)}, Data: data}
				}
				if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: time.Now(), LeaseOwner: "node", LeaseUntil: time.Now().Add(time.Minute)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}
