package api

import (
	"testing"
)

// BenchmarkDecodeEvent decodes the body of a single-event POST of about
// 700 bytes (the shape hirehook bench sends), as handleEventCreate does.
func BenchmarkDecodeEvent(b *testing.B) {
	body := benchBody
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var in eventInput
		if err := decodeValue(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}

// benchBody is a single-event POST of about 700 bytes, the shape hirehook
// bench sends.
var benchBody = []byte(`{"id":"evt_1","type":"placement.confirmed","source":"bench","data":{"id":"pl_evt_1",` +
	`"status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
	`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
	`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
	`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}},` +
	`"changes":{"status":{"from":"submitted","to":"confirmed"}}}`)
