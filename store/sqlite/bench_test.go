package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/storetest"
)

// BenchmarkEventIngest measures one group commit of n events, each with a
// record snapshot and one delivery written leased (the hot hand-off): the
// cost per event falls as the batch grows, which is what the ingest group
// commit relies on. The subjects repeat from one batch to the next (each
// record is merged into), except in the fresh cases, where every event has
// a subject of its own (each record is new), as in `hirehook bench`.
//
// ns/event is the wall time, fsyncs included; cpu-ns/event the CPU time of
// the whole process (the group writer and the garbage collector included),
// the figure issue 20 attacks.
func BenchmarkEventIngest(b *testing.B) {
	cases := []struct {
		n     int
		fresh bool
	}{{1, false}, {8, false}, {64, false}, {512, false}, {8, true}, {64, true}}
	for _, c := range cases {
		n := c.n
		name := fmt.Sprintf("batch=%d", n)
		if c.fresh {
			name += "/fresh"
		}
		b.Run(name, func(b *testing.B) {
			s := newStore(b)
			ctx := context.Background()
			ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: "ep_1", URL: "https://example.com", EventTypes: []string{"placement.*"},
				Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}
			if err := s.EndpointCreate(ctx, ep); err != nil {
				b.Fatal(err)
			}
			data := json.RawMessage(`{"id":"pl_1","status":"confirmed","candidate":{"id":"c_1","first_name":"Ada","email":"ada@example.com"},"pay_rate":{"amount":42.5,"currency":"USD"}}`)
			// The batches are made, and their payloads rendered (as
			// ingest.Prepare does before the store), outside the measure.
			batches := make([][]*hirehook.Event, b.N)
			for i := range batches {
				batches[i] = make([]*hirehook.Event, n)
				for j := range batches[i] {
					subject := "pl_" + strconv.Itoa(j)
					if c.fresh {
						subject = "pl_" + strconv.Itoa(i) + "_" + strconv.Itoa(j)
					}
					e := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "placement.confirmed",
						OccurredAt: time.Now(), Subject: hirehook.Subject{Entity: "placement", ID: subject}, Data: data}
					var err error
					if e.Payload, err = e.RenderValidPayload(); err != nil {
						b.Fatal(err)
					}
					batches[i][j] = e
				}
			}
			b.ResetTimer()
			cpu := storetest.ProcessCPU()
			for _, events := range batches {
				now := time.Now()
				if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: now, LeaseOwner: "node", LeaseUntil: now.Add(time.Minute)}); err != nil {
					b.Fatal(err)
				}
			}
			cpu = storetest.ProcessCPU() - cpu
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			if cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/event")
			}
		})
	}
}
