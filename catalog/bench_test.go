package catalog

import (
	"encoding/json"
	"testing"
)

// benchData is the data of the event `hirehook bench` sends
// (internal/bench.benchEvent): a placement.confirmed of about 550 bytes.
const benchData = `{"id":"pl_1","status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
	`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
	`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
	`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}}`

// BenchmarkValidateEvent measures ValidateEvent, the call ingest makes per
// event: on the bench's event, on every type's schema example, and on an
// invalid event (which takes the library's path to build its error).
func BenchmarkValidateEvent(b *testing.B) {
	c := Default()
	run := func(b *testing.B, typ string, data json.RawMessage, valid bool) {
		b.Helper()
		if _, _, err := c.ValidateEvent(typ, data); (err == nil) != valid {
			b.Fatalf("ValidateEvent(%s) = %v", typ, err)
		}
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.ValidateEvent(typ, data); (err == nil) != valid {
				b.Fatal(err)
			}
		}
	}
	b.Run("bench", func(b *testing.B) {
		run(b, "placement.confirmed", json.RawMessage(benchData), true)
	})
	for _, entity := range []string{"placement", "candidate", "application"} {
		b.Run("example/"+entity, func(b *testing.B) {
			typ := entity + ".snapshot"
			et, _ := c.Lookup(typ)
			var doc struct {
				Examples []json.RawMessage `json:"examples"`
			}
			if err := json.Unmarshal(et.Schema, &doc); err != nil {
				b.Fatal(err)
			}
			run(b, typ, doc.Examples[0], true)
		})
	}
	b.Run("invalid", func(b *testing.B) {
		run(b, "placement.confirmed", json.RawMessage(`{"id":"pl_1","candidate":{"id":"c_42","email":"not-an-email"}}`), false)
	})
}
