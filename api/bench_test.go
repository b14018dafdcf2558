package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
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
