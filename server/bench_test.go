package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

// acceptIngester takes every event without validating or storing it: the
// benchmark below measures HTTP in (reading, routing, middleware, the API
// key check, decoding, the 202), not the ingest behind it, which has
// benchmarks of its own (ingest, store/sqlite).
type acceptIngester struct{}

func (acceptIngester) Prepare(tenantID string, in *hirehook.EventInput, key string) (*hirehook.Event, error) {
	return &hirehook.Event{ID: in.ID, TenantID: tenantID, Type: in.Type}, nil
}

func (acceptIngester) Commit(_ context.Context, events []*hirehook.Event) ([]hirehook.EventIngestResult, error) {
	res := make([]hirehook.EventIngestResult, len(events))
	for i, e := range events {
		res[i] = hirehook.EventIngestResult{EventID: e.ID, Deliveries: 1}
	}
	return res, nil
}

// BenchmarkHTTPIn posts single events of about 700 bytes (the shape
// hirehook bench sends) to a Server wired as the hub wires it (middleware,
// API key check against a SQLite store, rejection counting), from 16
// keep-alive connections, with an ingester that accepts at once. The
// client's work is in the figure too.
func BenchmarkHTTPIn(b *testing.B) {
	st := newStore(b)
	ctx := context.Background()
	key := "hh_test_" + hirehook.NewSecret()
	if err := st.APIKeyCreate(ctx, &hirehook.APIKey{
		ID: hirehook.NewID("key"), TenantID: hirehook.DefaultTenantID, Name: "t", Scope: hirehook.ScopeOperator,
		Hash: api.HashKey(key), CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}); err != nil {
		b.Fatal(err)
	}
	var rejected atomic.Int64
	s := &Server{Addr: "127.0.0.1:0", Store: st, Logger: slog.New(slog.DiscardHandler),
		API: api.New(api.Config{Store: st, Ingester: acceptIngester{}, OnRejectedFunc: func(int) { rejected.Add(1) }})}
	if err := s.Open(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(context.Background()) })
	url := s.URL() + "/v1/events"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections)
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8) // 16 connections on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		for pb.Next() {
			id := fmt.Sprintf("evt_%d", n.Add(1))
			body := []byte(`{"id":"` + id + `","type":"placement.confirmed","source":"bench","data":{"id":"pl_` + id +
				`","status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
				`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
				`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
				`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}},` +
				`"changes":{"status":{"from":"submitted","to":"confirmed"}}}`)
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			_, _ = io.Copy(&buf, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				b.Fatalf("status %d: %s", res.StatusCode, buf.Bytes())
			}
		}
	})
	if r := rejected.Load(); r > 0 {
		b.Fatalf("%d requests rejected", r)
	}
}
