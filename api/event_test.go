package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/catalog"
)

// placementData is a valid placement.confirmed data object.
const placementData = `{
	"id": "plc_30211",
	"status": "confirmed",
	"employment_type": "contract",
	"start_date": "2026-04-06",
	"candidate": {"id": "cand_1", "first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com"},
	"pay_rate": {"amount": 450, "currency": "GBP", "unit": "day"}
}`

// event returns the body of one event of type typ with raw JSON data.
func event(typ, data string) string {
	return `{"type":` + quote(typ) + `,"data":` + data + `}`
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestEventCreate_invalid(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	// Every test has an endpoint for every type, so that an event stored by
	// mistake would show up as deliveries too.
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		createEndpoint(t, a, map[string]any{"url": "https://ats.example.com/hooks", "event_types": []string{"*"}})
		return &bundle{api: a}
	}

	badEmail := strings.Replace(placementData, "amara@example.com", "amara.example.com", 1)
	tests := []struct {
		name      string
		body      string
		header    map[string]string
		wantField string
	}{
		{name: "UnknownType", body: event("placement.approved", `{"id":"plc_1"}`), wantField: "type"},
		{name: "MissingType", body: `{"data":{"id":"plc_1"}}`, wantField: "type"},
		{name: "EmptyType", body: event("", `{"id":"plc_1"}`), wantField: "type"},
		{name: "TypeNotString", body: `{"type":5,"data":{"id":"plc_1"}}`, wantField: "type"},
		{name: "SchemaBadEmail", body: event("placement.confirmed", badEmail), wantField: "data.candidate.email"},
		{name: "SchemaWrongType", body: event("placement.confirmed", `{"id":"plc_1","pay_rate":{"amount":"450","currency":"GBP"}}`), wantField: "data.pay_rate.amount"},
		{name: "MissingData", body: `{"type":"placement.confirmed"}`, wantField: "data"},
		{name: "NullData", body: event("placement.confirmed", `null`), wantField: "data"},
		{name: "DataArray", body: event("placement.confirmed", `[{"id":"plc_1"}]`), wantField: "data"},
		{name: "DataString", body: event("placement.confirmed", `"plc_1"`), wantField: "data"},
		{name: "DataNumber", body: event("placement.confirmed", `42`), wantField: "data"},
		{name: "MissingDataID", body: event("placement.confirmed", `{"status":"confirmed"}`), wantField: "data.id"},
		{name: "DataIDNotString", body: event("placement.confirmed", `{"id":42}`), wantField: "data.id"},
		{name: "DataIDEmpty", body: event("placement.confirmed", `{"id":""}`), wantField: "data.id"},
		{name: "IDWithDot", body: `{"id":"evt.1","type":"placement.confirmed","data":{"id":"plc_1"}}`, wantField: "id"},
		{name: "IDWithSpace", body: `{"id":"evt 1","type":"placement.confirmed","data":{"id":"plc_1"}}`, wantField: "id"},
		{name: "IDTooLong", body: `{"id":"` + strings.Repeat("e", 129) + `","type":"placement.confirmed","data":{"id":"plc_1"}}`, wantField: "id"},
		{name: "OccurredAtNotRFC3339", body: `{"type":"placement.confirmed","occurred_at":"2026-11-27 09:30:00","data":{"id":"plc_1"}}`, wantField: "occurred_at"},
		{name: "OccurredAtWithoutZone", body: `{"type":"placement.confirmed","occurred_at":"2026-11-27T09:30:00","data":{"id":"plc_1"}}`, wantField: "occurred_at"},
		{name: "OccurredAtWords", body: `{"type":"placement.confirmed","occurred_at":"yesterday","data":{"id":"plc_1"}}`, wantField: "occurred_at"},
		{name: "SourceTooLong", body: `{"type":"placement.confirmed","source":"` + strings.Repeat("s", 129) + `","data":{"id":"plc_1"}}`, wantField: "source"},
		{name: "SubjectEntityMismatch", body: `{"type":"placement.confirmed","subject":{"entity":"candidate","id":"c"},"data":{"id":"plc_1"}}`, wantField: "subject.entity"},
		{name: "UnknownTopLevelField", body: `{"type":"placement.confirmed","tenant_id":"other","data":{"id":"plc_1"}}`, wantField: "tenant_id"},
		{name: "IdempotencyKeyTooLong", body: event("placement.confirmed", `{"id":"plc_1"}`), header: map[string]string{"Idempotency-Key": strings.Repeat("k", 257)}, wantField: "Idempotency-Key"},
		{name: "MalformedJSON", body: `{"type":"placement.confirmed","data":{"id":"plc_1"}`, wantField: ""},
		{name: "SyntaxError", body: `{"type" "placement.confirmed"}`, wantField: ""},
		{name: "EmptyBody", body: ``, wantField: ""},
		{name: "BodyNotObject", body: `[]`, wantField: ""},
		{name: "TwoValues", body: event("placement.confirmed", `{"id":"plc_1"}`) + ` {}`, wantField: ""},

		// JSON that parsers read differently, and limits (issue 16).
		{name: "DataInvalidUTF8", body: event("placement.confirmed", "{\"id\":\"plc_1\",\"status\":\"a\xffb\"}"), wantField: "data.status"},
		{name: "SourceInvalidUTF8", body: "{\"type\":\"placement.confirmed\",\"source\":\"a\xc3\",\"data\":{\"id\":\"plc_1\"}}", wantField: "source"},
		{name: "DataLoneSurrogate", body: event("placement.confirmed", `{"id":"plc_1","status":"\ud800"}`), wantField: "data.status"},
		{name: "SourceLoneSurrogate", body: `{"type":"placement.confirmed","source":"\udfff","data":{"id":"plc_1"}}`, wantField: "source"},
		{name: "DataIDNUL", body: event("placement.confirmed", `{"id":"plc\u00001"}`), wantField: "data.id"},
		{name: "SubjectIDNUL", body: `{"type":"placement.confirmed","subject":{"id":"p\u0000"},"data":{"id":"plc_1"}}`, wantField: "subject.id"},
		{name: "DataNumberBeyondFloat64", body: event("placement.confirmed", `{"id":"plc_1","pay_rate":{"amount":1e400,"currency":"GBP"}}`), wantField: "data.pay_rate.amount"},
		{name: "DataDuplicateKey", body: event("placement.confirmed", `{"id":"plc_1","status":"confirmed","status":"cancelled"}`), wantField: "data.status"},
		{name: "DuplicateType", body: `{"type":"placement.confirmed","type":"candidate.created","data":{"id":"plc_1"}}`, wantField: "type"},
		{name: "IDEmpty", body: `{"id":"","type":"placement.confirmed","data":{"id":"plc_1"}}`, wantField: "id"},
		{name: "DataTooDeep", body: event("placement.confirmed", `{"id":"plc_1","x":`+strings.Repeat("[", 1000)+strings.Repeat("]", 1000)+`}`), wantField: "data.x" + strings.Repeat("[0]", catalog.MaxDataDepth-1)},
		{name: "DataStringTooLong", body: event("placement.confirmed", `{"id":"plc_1","status":"`+strings.Repeat("s", catalog.MaxDataString+1)+`"}`), wantField: "data.status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			req := b.api.newRequest(t, http.MethodPost, "/v1/events", tt.body)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			wantError(t, b.api.roundTrip(t, req), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.wantField)
			wantStored(t, b.api, 0, 0)
		})
	}

	t.Run("LongestIDIsValid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := strings.Repeat("e", 128)
		acc := postEvent(t, b.api, `{"id":"`+id+`","type":"placement.confirmed","data":{"id":"plc_1"}}`)
		if acc.ID != id {
			t.Errorf("id = %q, want the producer's", acc.ID)
		}
		wantStored(t, b.api, 1, 1)
	})
}

func TestEventCreate_tooLarge(t *testing.T) {
	t.Parallel()

	const limit = 2048
	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{MaxBodyBytes: limit})
		createEndpoint(t, a, map[string]any{"url": "https://ats.example.com/hooks", "event_types": []string{"*"}})
		return &bundle{api: a}
	}
	// data returns a valid candidate object of about n bytes.
	data := func(id string, n int) string {
		return `{"id":"` + id + `","summary":"` + strings.Repeat("x", n) + `"}`
	}
	batch := func(events ...string) string {
		return `{"events":[` + strings.Join(events, ",") + `]}`
	}

	tests := []struct {
		name      string
		path      string
		body      string
		wantField string
	}{
		{name: "Event", path: "/v1/events", body: event("candidate.created", data("cand_1", 3*limit))},
		{name: "EventJustOver", path: "/v1/events", body: event("candidate.created", data("cand_1", limit))},
		{name: "Endpoint", path: "/v1/endpoints", body: `{"url":"https://x.example.com/","event_types":["*"],"description":"` + strings.Repeat("d", 3*limit) + `"}`},
		{name: "BatchEventData", path: "/v1/events/batch", body: batch(event("candidate.created", data("cand_1", 10)), event("candidate.created", data("cand_2", limit+1))), wantField: "events[1].data"},
		{name: "BatchBody", path: "/v1/events/batch", body: batch(slices.Repeat([]string{event("candidate.created", data("cand_1", limit/2))}, 25)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			wantError(t, b.api.do(t, http.MethodPost, tt.path, tt.body), http.StatusRequestEntityTooLarge, hirehook.ETOOLARGE, tt.wantField)
			wantStored(t, b.api, 0, 0)
			if eps := listAll[*hirehook.Endpoint](t, b.api, "/v1/endpoints"); len(eps) != 1 {
				t.Errorf("%d endpoints, want the 1 from setup", len(eps))
			}
		})
	}

	t.Run("UnderTheLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		postEvent(t, b.api, event("candidate.created", data("cand_1", limit/2)))
		// A batch may be 10 times larger than one event.
		var res api.EventBatchAccepted
		b.api.doJSON(t, http.MethodPost, "/v1/events/batch", batch(slices.Repeat([]string{event("candidate.created", data("cand_2", limit/2))}, 12)...), http.StatusAccepted, &res)
		wantStored(t, b.api, 13, 13)
	})
}

func TestEventBatch(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		createEndpoint(t, a, map[string]any{"url": "https://ats.example.com/hooks", "event_types": []string{"*"}})
		return &bundle{api: a}
	}
	batch := func(events ...string) string {
		return `{"events":[` + strings.Join(events, ",") + `]}`
	}
	valid := func(i int) string { return event("candidate.created", fmt.Sprintf(`{"id":"cand_%d"}`, i)) }

	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var res api.EventBatchAccepted
		b.api.doJSON(t, http.MethodPost, "/v1/events/batch", batch(valid(1), `{"id":"ats:2","type":"placement.confirmed","data":`+placementData+`}`, valid(3)), http.StatusAccepted, &res)
		if len(res.Data) != 3 {
			t.Fatalf("%d answers, want 3", len(res.Data))
		}
		if res.Data[1].ID != "ats:2" {
			t.Errorf("answer 1 id = %q, want the producer's ats:2", res.Data[1].ID)
		}
		for i, acc := range res.Data {
			if acc.Deliveries != 1 || acc.Duplicate {
				t.Errorf("answer %d = %+v, want 1 delivery, not a duplicate", i, acc)
			}
		}
		events := listAll[*hirehook.Event](t, b.api, "/v1/events")
		var got []string
		for _, e := range events {
			got = append(got, e.ID)
		}
		want := []string{res.Data[0].ID, res.Data[1].ID, res.Data[2].ID}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored events, in order (-want +got):\n%s", diff)
		}
		wantStored(t, b.api, 3, 3)
	})

	t.Run("SameIDTwiceInOneBatch", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e := `{"id":"ats:1","type":"candidate.created","data":{"id":"cand_1"}}`
		var res api.EventBatchAccepted
		b.api.doJSON(t, http.MethodPost, "/v1/events/batch", batch(e, e), http.StatusAccepted, &res)
		want := []hirehook.EventAccepted{{ID: "ats:1", Deliveries: 1}, {ID: "ats:1", Deliveries: 1, Duplicate: true}}
		if diff := cmp.Diff(want, res.Data); diff != "" {
			t.Errorf("answers (-want +got):\n%s", diff)
		}
		wantStored(t, b.api, 1, 1)
	})

	badEmail := strings.Replace(placementData, "amara@example.com", "amara.example.com", 1)
	many := make([]string, 1001)
	for i := range many {
		many[i] = valid(i)
	}
	tests := []struct {
		name      string
		body      string
		wantField string
	}{
		{name: "OneInvalidSchema", body: batch(valid(0), event("placement.confirmed", badEmail), valid(2)), wantField: "events[1].data.candidate.email"},
		{name: "OneUnknownType", body: batch(valid(0), valid(1), event("placement.approved", `{"id":"plc_1"}`)), wantField: "events[2].type"},
		{name: "OneBadID", body: batch(`{"id":"a.b","type":"candidate.created","data":{"id":"cand_0"}}`, valid(1)), wantField: "events[0].id"},
		{name: "OneMissingData", body: batch(valid(0), `{"type":"candidate.created"}`), wantField: "events[1].data"},
		{name: "OneMissingDataID", body: batch(valid(0), event("candidate.created", `{}`)), wantField: "events[1].data.id"},
		{name: "LastInvalid", body: batch(append(slices.Clone(many[:999]), `{"type":"candidate.created","occurred_at":"now","data":{"id":"c"}}`)...), wantField: "events[999].occurred_at"},
		{name: "OneWrongJSONType", body: batch(valid(0), `{"type":5,"data":{"id":"c"}}`), wantField: "events[1].type"},
		{name: "OneUnknownField", body: batch(valid(0), `{"type":"candidate.created","data":{"id":"c"},"colour":"red"}`), wantField: "events[1].colour"},
		{name: "OneNull", body: batch(valid(0), `null`), wantField: "events[1].type"},
		{name: "NoEvents", body: `{"events":[]}`, wantField: "events"},
		{name: "MissingEvents", body: `{}`, wantField: "events"},
		{name: "NullEvents", body: `{"events":null}`, wantField: "events"},
		{name: "TooManyEvents", body: batch(many...), wantField: "events"},
		{name: "EventsNotArray", body: `{"events":{"type":"candidate.created"}}`, wantField: "events"},
		{name: "UnknownField", body: `{"events":[` + valid(0) + `],"atomic":false}`, wantField: "atomic"},
		{name: "Malformed", body: `{"events":[` + valid(0), wantField: ""},
		{name: "Empty", body: ``, wantField: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			wantError(t, b.api.do(t, http.MethodPost, "/v1/events/batch", tt.body), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.wantField)
			// All or nothing: not even the valid events are stored.
			wantStored(t, b.api, 0, 0)
		})
	}

	t.Run("MaxEvents", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var res api.EventBatchAccepted
		b.api.doJSON(t, http.MethodPost, "/v1/events/batch", batch(many[:1000]...), http.StatusAccepted, &res)
		if len(res.Data) != 1000 {
			t.Fatalf("%d answers, want 1000", len(res.Data))
		}
		wantStored(t, b.api, 1000, 1000)
	})
}

func TestEventCreate_idempotency(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		createEndpoint(t, a, map[string]any{"url": "https://ats.example.com/a", "event_types": []string{"placement.*"}})
		createEndpoint(t, a, map[string]any{"url": "https://ats.example.com/b", "event_types": []string{"*"}})
		return &bundle{api: a}
	}
	// asDuplicate is the answer a repeat must get: the first one, marked.
	asDuplicate := func(first hirehook.EventAccepted) hirehook.EventAccepted {
		first.Duplicate = true
		return first
	}
	postWithKey := func(t *testing.T, a *testAPI, path, key, body string, out any) {
		t.Helper()
		req := a.newRequest(t, http.MethodPost, path, body)
		req.Header.Set("Idempotency-Key", key)
		res := a.roundTrip(t, req)
		if res.Status != http.StatusAccepted {
			t.Fatalf("status = %d, want 202; body: %s", res.Status, res.Body)
		}
		decodeStrict(t, res, out)
	}

	t.Run("SameProducerID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := `{"id":"bullhorn:30211:1","type":"placement.confirmed","data":` + placementData + `}`
		first := postEvent(t, b.api, body)
		if want := (hirehook.EventAccepted{ID: "bullhorn:30211:1", Deliveries: 2}); first != want {
			t.Fatalf("first answer = %+v, want %+v", first, want)
		}
		second := postEvent(t, b.api, body)
		if diff := cmp.Diff(asDuplicate(first), second); diff != "" {
			t.Errorf("second answer (-want +got):\n%s", diff)
		}
		// The same id with another body is still the same event.
		third := postEvent(t, b.api, `{"id":"bullhorn:30211:1","type":"candidate.created","data":{"id":"cand_9"}}`)
		if diff := cmp.Diff(asDuplicate(first), third); diff != "" {
			t.Errorf("third answer (-want +got):\n%s", diff)
		}
		wantStored(t, b.api, 1, 2)
		var got api.EventWithDeliveries
		b.api.doJSON(t, http.MethodGet, "/v1/events/bullhorn:30211:1", nil, http.StatusOK, &got)
		if got.Type != "placement.confirmed" || len(got.DeliveryList) != 2 {
			t.Errorf("stored event is %s with %d deliveries, want the first: placement.confirmed with 2", got.Type, len(got.DeliveryList))
		}
		wantRecordVersion(t, b.api, "placement", "plc_30211", 1)
	})

	t.Run("SameProducerIDConcurrently", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := `{"id":"ats:race","type":"placement.confirmed","data":` + placementData + `}`
		const n = 20
		answers := make([]hirehook.EventAccepted, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				res, err := b.api.send(b.api.newRequest(t, http.MethodPost, "/v1/events", body))
				if err != nil {
					t.Error(err)
					return
				}
				if res.Status != http.StatusAccepted {
					t.Errorf("status = %d, want 202; body: %s", res.Status, res.Body)
					return
				}
				if err := json.Unmarshal(res.Body, &answers[i]); err != nil {
					t.Errorf("decode: %v", err)
				}
			})
		}
		wg.Wait()
		firsts := 0
		for _, acc := range answers {
			if acc.ID != "ats:race" || acc.Deliveries != 2 {
				t.Errorf("answer %+v, want id ats:race with 2 deliveries", acc)
			}
			if !acc.Duplicate {
				firsts++
			}
		}
		if firsts != 1 {
			t.Errorf("%d answers are not duplicates, want exactly 1", firsts)
		}
		wantStored(t, b.api, 1, 2)
		wantRecordVersion(t, b.api, "placement", "plc_30211", 1)
	})

	t.Run("SameIdempotencyKeyOtherBody", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var first, second, third hirehook.EventAccepted
		postWithKey(t, b.api, "/v1/events", "order-77", event("placement.confirmed", placementData), &first)
		if first.Duplicate || first.Deliveries != 2 {
			t.Fatalf("first answer = %+v, want 2 deliveries, not a duplicate", first)
		}
		postWithKey(t, b.api, "/v1/events", "order-77", event("candidate.created", `{"id":"cand_1"}`), &second)
		if diff := cmp.Diff(asDuplicate(first), second); diff != "" {
			t.Errorf("second answer (-want +got):\n%s", diff)
		}
		// Even with a producer id of its own, the key wins.
		postWithKey(t, b.api, "/v1/events", "order-77", `{"id":"ats:other","type":"candidate.created","data":{"id":"cand_1"}}`, &third)
		if diff := cmp.Diff(asDuplicate(first), third); diff != "" {
			t.Errorf("third answer (-want +got):\n%s", diff)
		}
		wantStored(t, b.api, 1, 2)
		wantError(t, b.api.do(t, http.MethodGet, "/v1/events/ats:other", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
		wantError(t, b.api.do(t, http.MethodGet, "/v1/records/candidate/cand_1", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
		var got api.EventWithDeliveries
		b.api.doJSON(t, http.MethodGet, "/v1/events/"+first.ID, nil, http.StatusOK, &got)
		if got.Type != "placement.confirmed" {
			t.Errorf("stored type = %q, want the first body's placement.confirmed", got.Type)
		}
	})

	t.Run("BatchSameIdempotencyKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := `{"events":[` + event("placement.confirmed", placementData) + `,` + event("candidate.created", `{"id":"cand_1"}`) + `,` + event("offer.signed", `{"id":"off_1"}`) + `]}`
		var first, second api.EventBatchAccepted
		postWithKey(t, b.api, "/v1/events/batch", "import-2026-05-01", body, &first)
		wantDeliveries := []int{2, 1, 1}
		for i, acc := range first.Data {
			if acc.Duplicate || acc.Deliveries != wantDeliveries[i] {
				t.Errorf("first answer %d = %+v, want %d deliveries, not a duplicate", i, acc, wantDeliveries[i])
			}
		}
		postWithKey(t, b.api, "/v1/events/batch", "import-2026-05-01", body, &second)
		want := api.EventBatchAccepted{}
		for _, acc := range first.Data {
			want.Data = append(want.Data, asDuplicate(acc))
		}
		if diff := cmp.Diff(want, second); diff != "" {
			t.Errorf("second answer (-want +got):\n%s", diff)
		}
		wantStored(t, b.api, 3, 4)
	})
}

func wantRecordVersion(tb testing.TB, a *testAPI, entity, id string, version int) {
	tb.Helper()
	var rec hirehook.Record
	a.doJSON(tb, http.MethodGet, "/v1/records/"+entity+"/"+id, nil, http.StatusOK, &rec)
	if rec.Version != version {
		tb.Errorf("record %s/%s version = %d, want %d", entity, id, rec.Version, version)
	}
}

func TestEventCreate_deliveries(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api       *testAPI
		placement string // endpoint ids
		offer     string
		all       string
		disabled  string
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		return &bundle{
			api:       a,
			placement: createEndpoint(t, a, map[string]any{"url": "https://payroll.example.com/hooks", "event_types": []string{"placement.*"}}).ID,
			offer:     createEndpoint(t, a, map[string]any{"url": "https://esign.example.com/hooks", "event_types": []string{"offer.signed"}}).ID,
			all:       createEndpoint(t, a, map[string]any{"url": "https://warehouse.example.com/hooks", "event_types": []string{"*"}}).ID,
			disabled:  createEndpoint(t, a, map[string]any{"url": "https://old.example.com/hooks", "event_types": []string{"*"}, "disabled": true}).ID,
		}
	}

	b := setup(t)
	tests := []struct {
		typ  string
		data string
		want func(b *bundle) []string // endpoint ids
	}{
		{typ: "placement.confirmed", data: placementData, want: func(b *bundle) []string { return []string{b.placement, b.all} }},
		{typ: "placement.created", data: `{"id":"plc_2"}`, want: func(b *bundle) []string { return []string{b.placement, b.all} }},
		{typ: "offer.signed", data: `{"id":"off_1"}`, want: func(b *bundle) []string { return []string{b.offer, b.all} }},
		{typ: "offer.accepted", data: `{"id":"off_1"}`, want: func(b *bundle) []string { return []string{b.all} }},
		{typ: "candidate.created", data: `{"id":"cand_1"}`, want: func(b *bundle) []string { return []string{b.all} }},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			want := tt.want(b)
			slices.Sort(want)
			acc := postEvent(t, b.api, event(tt.typ, tt.data))
			if acc.Deliveries != len(want) || acc.Duplicate {
				t.Errorf("answer = %+v, want %d deliveries, not a duplicate", acc, len(want))
			}

			var ev api.EventWithDeliveries
			b.api.doJSON(t, http.MethodGet, "/v1/events/"+acc.ID, nil, http.StatusOK, &ev)
			if ev.Type != tt.typ || ev.Deliveries != len(want) {
				t.Errorf("event = %s with %d deliveries, want %s with %d", ev.Type, ev.Deliveries, tt.typ, len(want))
			}
			var gotData, wantData any
			if err := json.Unmarshal(ev.Data, &gotData); err != nil {
				t.Fatalf("event data: %v", err)
			}
			if err := json.Unmarshal([]byte(tt.data), &wantData); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantData, gotData); diff != "" {
				t.Errorf("event data (-want +got):\n%s", diff)
			}
			var got []string
			for _, d := range ev.DeliveryList {
				got = append(got, d.EndpointID)
				if d.EventID != acc.ID || d.EventType != tt.typ || d.State != hirehook.DeliveryPending || d.Attempts != 0 {
					t.Errorf("delivery %+v, want a pending %s of event %s without attempts", d, tt.typ, acc.ID)
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("delivery_list endpoints (-want +got):\n%s", diff)
			}

			// GET /v1/deliveries?event_id= lists the same deliveries.
			listed := listAll[*hirehook.Delivery](t, b.api, "/v1/deliveries?event_id="+acc.ID)
			if diff := cmp.Diff(ev.DeliveryList, listed, cmp.Comparer(func(x, y *hirehook.Delivery) bool { return x.ID == y.ID })); len(listed) != len(ev.DeliveryList) || diff != "" {
				t.Errorf("GET /v1/deliveries?event_id= (-delivery_list +listed):\n%s", diff)
			}
		})
	}

	t.Run("NoneForDisabled", func(t *testing.T) {
		t.Parallel()
		for _, d := range listAll[*hirehook.Delivery](t, b.api, "/v1/deliveries?endpoint_id="+b.disabled) {
			t.Errorf("disabled endpoint got delivery %+v", d)
		}
	})
}

func TestRecords(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{api: startAPI(t, api.Config{})}
	}

	b := setup(t)
	created := postEvent(t, b.api, event("placement.created",
		`{"id":"plc_1","status":"pending","candidate":{"id":"cand_1","first_name":"Amara"},"pay_rate":{"amount":450,"currency":"GBP","unit":"day"}}`))
	other := postEvent(t, b.api, event("placement.created", `{"id":"plc_2","status":"pending"}`))
	confirmed := postEvent(t, b.api, event("placement.confirmed",
		`{"id":"plc_1","status":"confirmed","candidate":{"id":"cand_1","email":"amara@example.com"},"confirmed_at":"2026-03-20T09:12:44Z"}`))

	t.Run("Get", func(t *testing.T) {
		t.Parallel()
		var rec hirehook.Record
		b.api.doJSON(t, http.MethodGet, "/v1/records/placement/plc_1", nil, http.StatusOK, &rec)
		if rec.Entity != "placement" || rec.ID != "plc_1" || rec.Version != 2 || rec.Deleted || rec.LastEventID != confirmed.ID {
			t.Errorf("record = %s/%s v%d deleted=%t last=%s, want placement/plc_1 v2 deleted=false last=%s",
				rec.Entity, rec.ID, rec.Version, rec.Deleted, rec.LastEventID, confirmed.ID)
		}
		if rec.UpdatedAt.Before(rec.CreatedAt) {
			t.Errorf("updated_at %v is before created_at %v", rec.UpdatedAt, rec.CreatedAt)
		}
		var got any
		if err := json.Unmarshal(rec.Data, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"id":           "plc_1",
			"status":       "confirmed",
			"candidate":    map[string]any{"id": "cand_1", "first_name": "Amara", "email": "amara@example.com"},
			"pay_rate":     map[string]any{"amount": 450.0, "currency": "GBP", "unit": "day"},
			"confirmed_at": "2026-03-20T09:12:44Z",
		}
		if diff := cmp.Diff(any(want), got); diff != "" {
			t.Errorf("merged data (-want +got):\n%s", diff)
		}
	})

	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		var list api.List[*hirehook.Event]
		b.api.doJSON(t, http.MethodGet, "/v1/records/placement/plc_1/events", nil, http.StatusOK, &list)
		var got []string
		for _, e := range list.Data {
			got = append(got, e.Type+" "+e.ID)
		}
		want := []string{"placement.created " + created.ID, "placement.confirmed " + confirmed.ID}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("record events (-want +got):\n%s", diff)
		}
		if list.HasMore {
			t.Error("has_more = true, want false")
		}

		var first api.List[*hirehook.Event]
		b.api.doJSON(t, http.MethodGet, "/v1/records/placement/plc_1/events?limit=1", nil, http.StatusOK, &first)
		if len(first.Data) != 1 || !first.HasMore || first.NextAfter != created.ID {
			t.Errorf("limit=1: %d events, has_more=%t, next_after=%q; want 1, true, %q", len(first.Data), first.HasMore, first.NextAfter, created.ID)
		}
		var second api.List[*hirehook.Event]
		b.api.doJSON(t, http.MethodGet, "/v1/records/placement/plc_1/events?limit=1&after="+first.NextAfter, nil, http.StatusOK, &second)
		if len(second.Data) != 1 || second.Data[0].ID != confirmed.ID || second.HasMore {
			t.Errorf("second page: %d events, has_more=%t; want only %s", len(second.Data), second.HasMore, confirmed.ID)
		}

		var plc2 api.List[*hirehook.Event]
		b.api.doJSON(t, http.MethodGet, "/v1/records/placement/plc_2/events", nil, http.StatusOK, &plc2)
		if len(plc2.Data) != 1 || plc2.Data[0].ID != other.ID {
			t.Errorf("plc_2 events = %d, want only %s", len(plc2.Data), other.ID)
		}
	})

	for _, tt := range []struct {
		name, path string
	}{
		{"UnknownEntity", "/v1/records/widget/plc_1"},
		{"UnknownEntityEvents", "/v1/records/widget/plc_1/events"},
		{"EntityIsNotAType", "/v1/records/placement.created/plc_1"},
		{"UnknownID", "/v1/records/placement/plc_404"},
		{"UnknownIDEvents", "/v1/records/placement/plc_404/events"},
		{"OtherEntitysID", "/v1/records/candidate/plc_1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, b.api.do(t, http.MethodGet, tt.path, nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
		})
	}

	t.Run("BadLimit", func(t *testing.T) {
		t.Parallel()
		wantError(t, b.api.do(t, http.MethodGet, "/v1/records/placement/plc_1/events?limit=0", nil), http.StatusUnprocessableEntity, hirehook.EINVALID, "limit")
	})
}

func TestRecords_nullRemovesField(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{api: startAPI(t, api.Config{})}
	}

	b := setup(t)
	postEvent(t, b.api, event("placement.created", `{"id":"plc_1","status":"pending","pay_rate":{"amount":450,"currency":"GBP"}}`))
	postEvent(t, b.api, event("placement.updated", `{"id":"plc_1","pay_rate":null}`))
	var rec hirehook.Record
	b.api.doJSON(t, http.MethodGet, "/v1/records/placement/plc_1", nil, http.StatusOK, &rec)
	var got any
	if err := json.Unmarshal(rec.Data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(any(map[string]any{"id": "plc_1", "status": "pending"}), got); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	if rec.Version != 2 {
		t.Errorf("version = %d, want 2", rec.Version)
	}
}

func TestEventList(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
		ids []string // in ingest order
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		var res api.EventBatchAccepted
		a.doJSON(t, http.MethodPost, "/v1/events/batch", `{"events":[`+strings.Join([]string{
			event("candidate.created", `{"id":"cand_1"}`),
			event("placement.created", `{"id":"plc_1"}`),
			event("candidate.updated", `{"id":"cand_1"}`),
			event("placement.confirmed", `{"id":"plc_1"}`),
			`{"type":"candidate.created","source":"greenhouse","data":{"id":"cand_2"}}`,
		}, ",")+`]}`, http.StatusAccepted, &res)
		b := &bundle{api: a}
		for _, acc := range res.Data {
			b.ids = append(b.ids, acc.ID)
		}
		return b
	}

	b := setup(t)

	t.Run("Paging", func(t *testing.T) {
		t.Parallel()
		for _, limit := range []int{1, 2, 3, 4, 5, 6, 1000} {
			var got []string
			after := ""
			for pages := 1; ; pages++ {
				path := fmt.Sprintf("/v1/events?limit=%d", limit)
				if after != "" {
					path += "&after=" + after
				}
				var page api.List[*hirehook.Event]
				b.api.doJSON(t, http.MethodGet, path, nil, http.StatusOK, &page)
				if len(page.Data) > limit {
					t.Fatalf("limit=%d: page of %d events", limit, len(page.Data))
				}
				for _, e := range page.Data {
					got = append(got, e.ID)
				}
				if !page.HasMore {
					if page.NextAfter != "" {
						t.Errorf("limit=%d: last page has next_after %q", limit, page.NextAfter)
					}
					break
				}
				if len(page.Data) != limit {
					t.Errorf("limit=%d: page %d has %d events and has_more", limit, pages, len(page.Data))
				}
				if page.NextAfter != page.Data[len(page.Data)-1].ID {
					t.Errorf("limit=%d: next_after = %q, want the page's last id", limit, page.NextAfter)
				}
				if pages > len(b.ids) {
					t.Fatalf("limit=%d: more pages than events", limit)
				}
				after = page.NextAfter
			}
			if diff := cmp.Diff(b.ids, got); diff != "" {
				t.Errorf("limit=%d: events over all pages (-want +got):\n%s", limit, diff)
			}
		}
	})

	t.Run("FirstPage", func(t *testing.T) {
		t.Parallel()
		var page api.List[*hirehook.Event]
		b.api.doJSON(t, http.MethodGet, "/v1/events?limit=2", nil, http.StatusOK, &page)
		if len(page.Data) != 2 || !page.HasMore || page.NextAfter != b.ids[1] {
			t.Errorf("limit=2: %d events, has_more=%t, next_after=%q; want 2, true, %q", len(page.Data), page.HasMore, page.NextAfter, b.ids[1])
		}
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			query string
			want  []int // indexes into b.ids
		}{
			{"type=candidate.created", []int{0, 4}},
			{"type=placement.confirmed", []int{3}},
			{"type=offer.signed", nil},
			{"subject_id=cand_1", []int{0, 2}},
			{"subject_id=plc_1&type=placement.created", []int{1}},
			{"entity=placement", []int{1, 3}},
			{"type=candidate.created&after=" + b.ids[0], []int{4}},
			{"source=greenhouse", []int{4}},
			{"source=", []int{0, 1, 2, 3}},
			{"source=lever", nil},
			{"received_after=2000-01-01T00:00:00Z&type=placement.created", []int{1}},
			{"received_after=2000-01-01T01:00:00%2B01:00&received_before=2999-01-01T00:00:00Z&source=greenhouse", []int{4}},
			{"received_before=2000-01-01T00:00:00Z", nil},
			{"received_after=2999-01-01T00:00:00Z", nil},
		} {
			var want, got []string
			for _, i := range tt.want {
				want = append(want, b.ids[i])
			}
			for _, e := range listAll[*hirehook.Event](t, b.api, "/v1/events?"+tt.query) {
				got = append(got, e.ID)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("?%s (-want +got):\n%s", tt.query, diff)
			}
		}
	})

	for _, tt := range []struct {
		query, field string
	}{
		{"limit=0", "limit"},
		{"limit=-1", "limit"},
		{"limit=1001", "limit"},
		{"limit=abc", "limit"},
		{"limit=1.5", "limit"},
		{"after=evt_unknown", "after"},
		{"type=placement.approved", "type"},
		{"received_after=yesterday", "received_after"},
		{"received_before=2026-11-27", "received_before"},
	} {
		t.Run("Invalid "+tt.query, func(t *testing.T) {
			t.Parallel()
			wantError(t, b.api.do(t, http.MethodGet, "/v1/events?"+tt.query, nil), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.field)
		})
	}

	t.Run("GetUnknown", func(t *testing.T) {
		t.Parallel()
		wantError(t, b.api.do(t, http.MethodGet, "/v1/events/evt_unknown", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
	})
}

func TestHubOnlyTypesRefused(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	createEndpoint(t, a, map[string]any{"url": "https://ats.example.com/hooks", "event_types": []string{"*"}})
	b := struct{ api *testAPI }{a}
	wantError(t, b.api.do(t, http.MethodPost, "/v1/events", `{"type":"delivery.exhausted","data":{"id":"dlv_1"}}`), http.StatusUnprocessableEntity, hirehook.EINVALID, "type")
	wantError(t, b.api.do(t, http.MethodPost, "/v1/events/batch", `{"events":[{"type":"candidate.created","data":{"id":"c"}},{"type":"endpoint.disabled","data":{"id":"ep_1"}}]}`), http.StatusUnprocessableEntity, hirehook.EINVALID, "events[1].type")
	wantStored(t, b.api, 0, 0)
}
