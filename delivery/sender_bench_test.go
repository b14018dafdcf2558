package delivery_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/delivery"
)

// BenchmarkSend sends webhooks of about 700 bytes (the shape hirehook bench
// sends) with two custom headers to an in-process receiver that answers 204,
// as the bench's receiver does, from 16 goroutines (an endpoint's
// max_concurrency in the bench): building the request, net/http's client
// and its connection goroutines, reading the answer. The receiver's work is
// in the figure too.
func BenchmarkSend(b *testing.B) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rcv.Close)
	s := delivery.NewSender(delivery.SenderConfig{AllowPrivate: true, Timeout: 5 * time.Second})
	b.Cleanup(s.Close)
	signer, err := hirehook.NewSigner(hirehook.NewSecret())
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":"evt_1","type":"placement.confirmed","source":"bench","occurred_at":"2026-12-07T10:00:00Z","data":{"id":"pl_1",` +
		`"status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
		`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
		`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
		`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}},` +
		`"changes":{"status":{"from":"submitted","to":"confirmed"}}}`)
	m := delivery.Message{URL: rcv.URL + "/hooks", ID: "evt_1", Body: body, Signer: signer,
		Headers: map[string]string{"X-Api-Key": "receiver-key", "x-tenant": "acme"}}
	b.ReportAllocs()
	b.SetParallelism(8) // 16 senders on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := s.Send(context.Background(), m, time.Now()); !r.Delivered {
				b.Fatalf("not delivered: %+v", r.Attempt)
			}
		}
	})
}
