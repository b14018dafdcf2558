package hirehook_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// FuzzRenderValidPayload checks that RenderValidPayload writes what
// RenderPayload (json.Marshal) writes, byte for byte, for any event whose
// data and changes are valid JSON: on its fast path and off it.
func FuzzRenderValidPayload(f *testing.F) {
	for _, s := range []struct{ id, source, subject, data, changes string }{
		{"evt_1", "bench", "pl_1", `{"id":"pl_1","status":"confirmed","pay":{"amount":42.5,"currency":"USD"},"tags":["a b",null,true]}`, `{"status":{"from":"a","to":"b"}}`},
		{"evt_2", "", "c 1", `{"id":"c 1"}`, ``},
		{"evt_3", "ats", "x", `{"id": "x", "n": [1, 2]}`, ``},
		{"evt_4", "a<b", "x", `{"id":"x","html":"<b>&amp;</b>"}`, `{"s":{"to":"\u003c"}}`},
		{"evt_5", "é", "x", "{\"id\":\"x\",\"q\":\"\\\"\\\\\",\"ls\":\"\u2028\u2029\",\"dash\":\"\u2014\u20ac\"}", ``},
		{"evt_6", "s", "\x7f", "{\"id\":\"x\",\"t\":\"tab\\tnew\\nline\"}\n", `null`},
		{"evt_7", "s", "x", `{"id":"x","e":"\ud83d\ude00 \u0041"}`, `{}`},
	} {
		f.Add(s.id, s.source, s.subject, []byte(s.data), []byte(s.changes), int64(1765000000123456789), true, false)
	}
	f.Fuzz(func(t *testing.T, id, source, subject string, data, changes []byte, nanos int64, derived, partial bool) {
		if !json.Valid(data) || (len(changes) > 0 && !json.Valid(changes)) {
			t.Skip()
		}
		e := &hirehook.Event{ID: id, Type: "placement.confirmed", Source: source, OccurredAt: time.Unix(0, nanos).In(time.FixedZone("x", 3600)),
			Subject: hirehook.Subject{Entity: "placement", ID: subject}, Data: data, Changes: changes, Derived: derived, Partial: partial}
		want, werr := e.RenderPayload()
		got, gerr := e.RenderValidPayload()
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("RenderValidPayload = %s, %v\nRenderPayload      = %s, %v", got, gerr, want, werr)
		}
	})
}

// TestRenderValidPayloadYears checks the years that time.Time's
// MarshalJSON refuses: both forms fail alike.
func TestRenderValidPayloadYears(t *testing.T) {
	t.Parallel()
	for _, year := range []int{-1, 0, 9999, 10000} {
		e := &hirehook.Event{ID: "evt_1", Type: "placement.confirmed", OccurredAt: time.Date(year, 1, 2, 3, 4, 5, 6, time.UTC),
			Subject: hirehook.Subject{Entity: "placement", ID: "pl_1"}, Data: json.RawMessage(`{"id":"pl_1"}`)}
		want, werr := e.RenderPayload()
		got, gerr := e.RenderValidPayload()
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Errorf("year %d: RenderValidPayload = %s, %v; RenderPayload = %s, %v", year, got, gerr, want, werr)
		}
	}
}

func BenchmarkRenderPayload(b *testing.B) {
	e := &hirehook.Event{ID: "evt_1", Type: "placement.confirmed", Source: "bench", OccurredAt: time.Now(),
		Subject: hirehook.Subject{Entity: "placement", ID: "pl_1"},
		Data: json.RawMessage(`{"id":"pl_evt_1","status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
			`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
			`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
			`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}}`),
		Changes: json.RawMessage(`{"status":{"from":"submitted","to":"confirmed"}}`)}
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.RenderPayload(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.RenderValidPayload(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
