package ingest

import (
	"encoding/json"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
)

// BenchmarkPrepare validates one placement.confirmed event of about 1 KB,
// the catalog's example, as every producer's event is before it queues.
func BenchmarkPrepare(b *testing.B) {
	cat := catalog.Default()
	typ, _ := cat.Lookup("placement.confirmed")
	var doc struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(typ.Schema, &doc); err != nil {
		b.Fatal(err)
	}
	in := New(nil, Config{Catalog: cat})
	input := &hirehook.EventInput{ID: "evt_bench", Type: typ.Name, Source: "bench", Data: doc.Examples[0],
		Changes: map[string]hirehook.Change{"status": {From: json.RawMessage(`"pending"`), To: json.RawMessage(`"confirmed"`)}}}
	if _, err := in.Prepare(tenant, input, ""); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(input.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.Prepare(tenant, input, ""); err != nil {
			b.Fatal(err)
		}
	}
}
