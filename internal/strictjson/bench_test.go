package strictjson

import (
	"bytes"
	"fmt"
	"testing"
)

// benchBody is the body `hirehook bench` posts (internal/bench.benchEvent).
const benchBody = `{"id":"bench-burst-12345","type":"placement.confirmed","source":"bench","data":{"id":"pl_bench-burst-12345",` +
	`"status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
	`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
	`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
	`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}},` +
	`"changes":{"status":{"from":"submitted","to":"confirmed"}}}`

// The limits api (bodyLimits) and catalog (dataLimits) check with.
var (
	benchBodyLimits = Limits{NoNUL: true}
	benchDataLimits = Limits{MaxDepth: 32, MaxString: 64 << 10, MaxKeys: 10000, MaxBytes: 256 << 10, NoNUL: true}
)

// BenchmarkCheck measures Check on what a single-event POST checks: the
// bench's body, its data, and a few shapes beyond it (long text, non-ASCII
// text, objects of many members).
func BenchmarkCheck(b *testing.B) {
	data := benchBody[bytes.Index([]byte(benchBody), []byte(`"data":`))+len(`"data":`) : bytes.Index([]byte(benchBody), []byte(`,"changes"`))]
	long := `{"note":"` + string(bytes.Repeat([]byte("The candidate asked to start a week later. "), 50)) + `"}`
	accents := `{"note":"` + string(bytes.Repeat([]byte("Zoë Brontë, café résumé, naïve. "), 50)) + `"}`
	members := func(n int) string {
		var w bytes.Buffer
		w.WriteString("{")
		for i := range n {
			if i > 0 {
				w.WriteString(",")
			}
			fmt.Fprintf(&w, `"field_%d":"value %d"`, i, i)
		}
		w.WriteString("}")
		return w.String()
	}
	for _, c := range []struct {
		name string
		in   string
		lim  Limits
	}{
		{"Body", benchBody, benchBodyLimits},
		{"Data", data, benchDataLimits},
		{"LongText", long, benchDataLimits},
		{"Accents", accents, benchDataLimits},
		{"Members12", members(12), benchDataLimits},
		{"Members24", members(24), benchDataLimits},
		{"Members64", members(64), benchDataLimits},
	} {
		in := []byte(c.in)
		if err := Check(in, c.lim); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Check(in, c.lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
