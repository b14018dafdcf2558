package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/catalog"
)

// BenchmarkEventBatch posts batches of 100 placement.confirmed events of
// about 1 KB each (the catalog's example) through the API's handler to a
// SQLite store: decoding, checking and preparing the events is most of the
// work, one commit the rest.
func BenchmarkEventBatch(b *testing.B) {
	a := startAPI(b, api.Config{})
	typ, _ := catalog.Default().Lookup("placement.confirmed")
	var doc struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(typ.Schema, &doc); err != nil {
		b.Fatal(err)
	}
	const size = 100
	batch := func(n int) []byte {
		var buf bytes.Buffer
		buf.WriteString(`{"events":[`)
		for i := range size {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"id":"evt_%d_%d","type":%q,"source":"bench","data":%s}`, n, i, typ.Name, doc.Examples[0])
		}
		buf.WriteString(`]}`)
		return buf.Bytes()
	}
	client := &http.Client{}
	n := 0
	b.SetBytes(int64(len(batch(0))))
	b.ReportAllocs()
	for b.Loop() {
		n++
		req := a.newRequest(b, http.MethodPost, "/v1/events/batch", batch(n))
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

// BenchmarkEventCreate posts single placement.confirmed events of about
// 700 bytes (the shape hirehook bench sends) through the API's handler to
// a SQLite store, from parallel clients so that commits group as they do
// under load: auth, decode, validate, prepare and the group commit.
func BenchmarkEventCreate(b *testing.B) {
	a := startAPI(b, api.Config{})
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{}
		for pb.Next() {
			id := fmt.Sprintf("evt_%d", n.Add(1))
			body := []byte(`{"id":"` + id + `","type":"placement.confirmed","source":"bench","data":{"id":"pl_` + id +
				`","status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
				`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
				`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
				`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}},` +
				`"changes":{"status":{"from":"submitted","to":"confirmed"}}}`)
			req := a.newRequest(b, http.MethodPost, "/v1/events", body)
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}
