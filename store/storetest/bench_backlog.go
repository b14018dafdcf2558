package storetest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// The benchmarks of issue 20's backlog row: what a table of rows already
// stored costs the statements that run per batch. Each prefills its store
// once (b.Loop runs the body once) and reports the cost per event or per
// claim at that size; compare rows=0 with the larger sizes.

// backlogEvent is the bench's placement.confirmed (internal/bench): an id
// of the producer's, a subject of its own, about 700 bytes of data.
func backlogEvent(i int, now time.Time) *hirehook.Event {
	id := "bench-backlog-" + strconv.Itoa(i)
	data := `{"id":"pl_` + id + `","status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
		`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
		`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
		`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}}`
	return &hirehook.Event{TenantID: tenant, ID: id, Type: "placement.confirmed", Source: "bench", OccurredAt: now,
		Subject: hirehook.Subject{Entity: "placement", ID: "pl_" + id}, Data: []byte(data)}
}

// backlogFill ingests events from..to-1 in batches of 100, their
// deliveries pending (as a dead endpoint's backlog).
func backlogFill(b *testing.B, s hirehook.Store, from, to int, now time.Time) {
	ctx := context.Background()
	for i := from; i < to; i += 100 {
		events := make([]*hirehook.Event, 0, 100)
		for j := i; j < min(i+100, to); j++ {
			events = append(events, backlogEvent(j, now))
		}
		_, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: events, Now: now})
		must(b, err)
	}
}

// BenchmarkIngestAt measures ingest of batches of 100 events (one delivery
// each, pending) into a store that holds rows events already, with their
// records and pending deliveries: `hirehook bench --mode backlog` without
// the HTTP and the dispatcher.
func BenchmarkIngestAt(b *testing.B, newStore NewStoreFunc, sizes ...int) {
	for _, rows := range sizes {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			s := newStore(b)
			ctx := context.Background()
			must(b, s.EndpointCreate(ctx, &hirehook.Endpoint{TenantID: tenant, ID: "ep_backlog", URL: "https://example.com", EventTypes: []string{"placement.*"},
				Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}))
			now := time.Now()
			backlogFill(b, s, 0, rows, now)
			next := rows
			for b.Loop() {
				backlogFill(b, s, next, next+100, now)
				next += 100
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(next-rows), "ns/event")
		})
	}
}

// BenchmarkClaimSkipping measures a claim while one endpoint holds a
// backlog of rows due deliveries and is skipped (its lane is full, or its
// breaker open: the dispatcher passes it in SkipEndpoints), and another
// endpoint has nothing due: the claim finds nothing, and should learn that
// without reading the skipped endpoint's backlog.
func BenchmarkClaimSkipping(b *testing.B, newStore NewStoreFunc, sizes ...int) {
	for _, rows := range sizes {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			s := newStore(b)
			ctx := context.Background()
			must(b, s.EndpointCreate(ctx, &hirehook.Endpoint{TenantID: tenant, ID: "ep_backlog", URL: "https://example.com", EventTypes: []string{"placement.*"},
				Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}))
			must(b, s.EndpointCreate(ctx, &hirehook.Endpoint{TenantID: tenant, ID: "ep_idle", URL: "https://example.com", EventTypes: []string{"candidate.*"},
				Secrets: []hirehook.Secret{{Value: hirehook.NewSecret()}}}))
			now := time.Now().Add(-time.Minute)
			backlogFill(b, s, 0, rows, now)
			for b.Loop() {
				ds, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "node", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 256,
					SkipEndpoints: []string{"ep_backlog"}})
				must(b, err)
				if len(ds) != 0 {
					b.Fatalf("claimed %d deliveries of a skipped endpoint", len(ds))
				}
			}
		})
	}
}
