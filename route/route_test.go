package route_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/route"
)

// envelope returns the webhook body the hub renders at ingest for an event
// of type typ with data (validated against the catalog, as ingest does) and
// changes (optional).
func envelope(tb testing.TB, typ, data, changes string) []byte {
	tb.Helper()
	entity, id, err := catalog.Default().ValidateEvent(typ, json.RawMessage(data))
	if err != nil {
		tb.Fatalf("validate %s: %v", typ, err)
	}
	e := hirehook.Event{
		ID:         "evt_01JQ7Z5W8K2M",
		Type:       typ,
		OccurredAt: time.Date(2026, 3, 20, 9, 12, 44, 0, time.UTC),
		Source:     "bullhorn",
		Subject:    hirehook.Subject{Entity: entity, ID: id},
		Data:       json.RawMessage(data),
	}
	if changes != "" {
		e.Changes = json.RawMessage(changes)
	}
	p, err := e.RenderPayload()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func placementData(clientID string) string {
	return `{
		"id": "plc_45c48cce",
		"status": "confirmed",
		"employment_type": "contract",
		"start_date": "2026-04-06",
		"end_date": "2026-10-02",
		"candidate": {"id": "cand_8f14e45f", "first_name": "Amara", "last_name": "Okafor",
			"email": "amara.okafor@example.com", "phone": "+447700900123"},
		"job": {"id": "job_3c59dc04", "title": "Java Developer (contract)"},
		"client": {"id": "` + clientID + `", "name": "Acme Insurance plc"},
		"contact": {"id": "con_9a", "first_name": "Tom", "last_name": "Reed", "email": "tom.reed@acme.example"},
		"pay_rate": {"amount": 450, "currency": "GBP", "unit": "day"},
		"bill_rate": {"amount": 560.25, "currency": "GBP", "unit": "day"},
		"hours_per_week": 37.5,
		"recruiter": {"id": "usr_12", "name": "Priya Shah", "email": "priya.shah@agency.example"},
		"confirmed_at": "2026-03-20T09:12:44Z",
		"custom_fields": {"client_code": "ACME-INS", "po_number": "PO-77120"}
	}`
}

const applicationData = `{
	"id": "app_c81e728d",
	"kind": "submission",
	"candidate_id": "cand_8f14e45f",
	"candidate": {"id": "cand_8f14e45f", "first_name": "Amara", "last_name": "Okafor", "email": "amara.okafor@example.com"},
	"job": {"id": "job_3c59dc04", "title": "Java Developer (contract)"},
	"client": {"id": "acme", "name": "Acme Insurance plc"},
	"stage": {"id": "st_4", "name": "Client Interview", "category": "interview", "order": 3},
	"previous_stage": {"id": "st_3", "name": "Submitted to Client", "category": "submitted", "order": 2}
}`

const applicationChanges = `{
	"stage": {"from": {"id": "st_3"}, "to": {"id": "st_4"}},
	"candidate.email": {"from": null, "to": "amara.okafor@example.com"},
	"candidate": {"from": {"id": "cand_8f14e45f", "email": "old@example.com", "first_name": "Amara"}, "to": {"id": "cand_8f14e45f", "email": "amara.okafor@example.com"}}
}`

const jobPostingData = `{
	"id": "post_a87ff679",
	"job_id": "job_3c59dc04",
	"job": {"id": "job_3c59dc04", "title": "Java Developer (contract)"},
	"title": "Java Developer - 6 month contract, hybrid Leeds",
	"status": "published",
	"board": "career_site",
	"url": "https://careers.agency.example/jobs/918273",
	"employment_type": "contract",
	"locations": [{"city": "Leeds", "country": "GB", "remote": true}],
	"salary": {"min": 400, "max": 475, "currency": "GBP", "unit": "day"},
	"published_at": "2026-03-01T09:05:00Z"
}`

const candidateData = `{
	"id": "cand_8f14e45f",
	"first_name": "Amara",
	"last_name": "Okafor",
	"email": "amara.okafor@example.com",
	"phone": "+447700900123",
	"location": {"city": "Leeds", "country": "GB"},
	"date_of_birth": "1990-02-01",
	"headline": "Senior Java Developer",
	"tags": ["java", "contract"]
}`

func mustCompile(tb testing.TB, spec route.Spec) *route.Route {
	tb.Helper()
	r, err := route.Compile(spec)
	if err != nil {
		tb.Fatalf("compile %+v: %v", spec, err)
	}
	return r
}

func apply(tb testing.TB, r *route.Route, env []byte) route.Result {
	tb.Helper()
	res, err := r.Apply(context.Background(), env)
	if err != nil {
		tb.Fatalf("apply: %v", err)
	}
	return res
}

// decode decodes JSON for comparisons, keeping numbers as written.
func decode(tb testing.TB, b []byte) any {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// The three flows of the seed: one event stream, three systems, three routes.

func TestFlowCRMGetsStageChanges(t *testing.T) {
	t.Parallel()
	crm := mustCompile(t, route.Spec{Filter: `.type == "application.stage_changed"`})

	env := envelope(t, "application.stage_changed", applicationData, applicationChanges)
	res := apply(t, crm, env)
	if !res.Deliver || res.Failed || res.Reason != "" {
		t.Fatalf("stage change: %+v", res)
	}
	if !bytes.Equal(res.Body, env) {
		t.Fatalf("body changed:\n%s\nwant the envelope as rendered:\n%s", res.Body, env)
	}

	res = apply(t, crm, envelope(t, "placement.confirmed", placementData("acme"), ""))
	if res.Deliver || res.Failed || res.Reason != "filter yielded false" {
		t.Fatalf("placement: %+v", res)
	}
}

const onboardingTransform = `{
	employee: {
		given_name: .data.candidate.first_name,
		family_name: .data.candidate.last_name,
		email: .data.candidate.email
	},
	start_date: .data.start_date,
	client_code: .data.custom_fields.client_code
}`

func TestFlowOnboardingGetsConfirmedPlacementsForItsClientTransformed(t *testing.T) {
	t.Parallel()
	onboarding := mustCompile(t, route.Spec{
		Filter:    `.type == "placement.confirmed" and .data.client.id == "acme"`,
		Transform: onboardingTransform,
	})

	res := apply(t, onboarding, envelope(t, "placement.confirmed", placementData("acme"), ""))
	if !res.Deliver || res.Failed {
		t.Fatalf("acme placement: %+v", res)
	}
	want := `{"client_code":"ACME-INS","employee":{"email":"amara.okafor@example.com","family_name":"Okafor","given_name":"Amara"},"start_date":"2026-04-06"}`
	if string(res.Body) != want {
		t.Fatalf("body = %s\nwant  %s", res.Body, want)
	}

	for _, tc := range []struct{ typ, client string }{
		{"placement.confirmed", "globex"},
		{"placement.updated", "acme"},
		{"placement.created", "acme"},
	} {
		res := apply(t, onboarding, envelope(t, tc.typ, placementData(tc.client), ""))
		if res.Deliver || res.Failed || res.Reason != "filter yielded false" {
			t.Errorf("%s for %s: %+v", tc.typ, tc.client, res)
		}
	}
}

func TestFlowJobBoardGetsPostingsWithoutPersonalData(t *testing.T) {
	t.Parallel()
	board := mustCompile(t, route.Spec{
		Filter: `.type == "job.posted"`,
		Redact: []string{route.RedactPersonalData},
	})

	env := envelope(t, "job.posted", jobPostingData, "")
	res := apply(t, board, env)
	if !res.Deliver {
		t.Fatalf("job.posted: %+v", res)
	}
	// A posting holds no personal data, so nothing is removed and the body
	// is the envelope itself.
	if !bytes.Equal(res.Body, env) {
		t.Fatalf("body = %s\nwant %s", res.Body, env)
	}
	for _, typ := range []string{"application.stage_changed", "placement.confirmed", "candidate.created"} {
		data := map[string]string{
			"application.stage_changed": applicationData,
			"placement.confirmed":       placementData("acme"),
			"candidate.created":         candidateData,
		}[typ]
		if res := apply(t, board, envelope(t, typ, data, "")); res.Deliver {
			t.Errorf("%s delivered to the job board", typ)
		}
	}

	// Had the filter let a posting through that named a person, the preset
	// would still hold: the same route on a wider filter.
	wide := mustCompile(t, route.Spec{Redact: []string{route.RedactPersonalData}})
	for _, tc := range []struct{ typ, data, changes string }{
		{"application.stage_changed", applicationData, applicationChanges},
		{"placement.confirmed", placementData("acme"), ""},
		{"candidate.updated", candidateData, `{"email": {"from": "a.okafor@example.com", "to": "amara.okafor@example.com"}, "tags": {"from": [], "to": ["java"]}}`},
	} {
		res := apply(t, wide, envelope(t, tc.typ, tc.data, tc.changes))
		for _, secret := range []string{"Amara", "Okafor", "okafor@example.com", "+447700900123", "Tom", "tom.reed", "1990-02-01", "Leeds"} {
			if bytes.Contains(res.Body, []byte(secret)) && !(tc.typ == "placement.confirmed" && secret == "Leeds") {
				t.Errorf("%s: body still holds %q: %s", tc.typ, secret, res.Body)
			}
		}
		if !bytes.Contains(res.Body, []byte(`"cand_8f14e45f"`)) {
			t.Errorf("%s: the candidate's id was removed: %s", tc.typ, res.Body)
		}
	}
}

func TestPersonalDataKeepsWhatIsNotPersonal(t *testing.T) {
	t.Parallel()
	r := mustCompile(t, route.Spec{Redact: []string{route.RedactPersonalData}})
	res := apply(t, r, envelope(t, "candidate.updated", candidateData,
		`{"email": {"from": "a@example.com", "to": "amara.okafor@example.com"}, "tags": {"from": [], "to": ["java"]}}`))
	got := decode(t, res.Body).(map[string]any)
	want := map[string]any{
		"id":       "cand_8f14e45f",
		"tags":     []any{"java", "contract"},
		"headline": "Senior Java Developer",
	}
	if diff := cmp.Diff(want, got["data"]); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	wantChanges := map[string]any{"tags": map[string]any{"from": []any{}, "to": []any{"java"}}}
	if diff := cmp.Diff(wantChanges, got["changes"]); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, k := range []string{"id", "type", "timestamp", "source", "subject"} {
		if _, ok := got[k]; !ok {
			t.Errorf("envelope lost %q", k)
		}
	}
}

func TestRedactPathsAndChanges(t *testing.T) {
	t.Parallel()
	r := mustCompile(t, route.Spec{Redact: []string{".data.candidate.email", `.data["previous_stage"]`, `.data."client".name`, ".data.nothing.here"}})
	res := apply(t, r, envelope(t, "application.stage_changed", applicationData, applicationChanges))
	got := decode(t, res.Body).(map[string]any)
	data := got["data"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"id": "cand_8f14e45f", "first_name": "Amara", "last_name": "Okafor"}, data["candidate"]); diff != "" {
		t.Errorf("candidate (-want +got):\n%s", diff)
	}
	if _, ok := data["previous_stage"]; ok {
		t.Error("previous_stage kept")
	}
	if diff := cmp.Diff(map[string]any{"id": "acme"}, data["client"]); diff != "" {
		t.Errorf("client (-want +got):\n%s", diff)
	}
	wantChanges := map[string]any{
		"stage": map[string]any{"from": map[string]any{"id": "st_3"}, "to": map[string]any{"id": "st_4"}},
		"candidate": map[string]any{
			"from": map[string]any{"id": "cand_8f14e45f", "first_name": "Amara"},
			"to":   map[string]any{"id": "cand_8f14e45f"},
		},
	}
	if diff := cmp.Diff(wantChanges, got["changes"]); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// Numbers come back as they were written.
	if !bytes.Contains(res.Body, []byte(`"order":3`)) {
		t.Errorf("number rewritten: %s", res.Body)
	}
}

func TestRedactOverlappingPaths(t *testing.T) {
	t.Parallel()
	env := envelope(t, "application.stage_changed", applicationData, applicationChanges)
	for _, redact := range [][]string{
		{".data.candidate.email", ".data.candidate"},
		{".data.candidate", ".data.candidate.email"},
	} {
		res := apply(t, mustCompile(t, route.Spec{Redact: redact}), env)
		got := decode(t, res.Body).(map[string]any)
		if _, ok := got["data"].(map[string]any)["candidate"]; ok {
			t.Errorf("%v: candidate kept", redact)
		}
		want := map[string]any{"stage": map[string]any{"from": map[string]any{"id": "st_3"}, "to": map[string]any{"id": "st_4"}}}
		if diff := cmp.Diff(want, got["changes"]); diff != "" {
			t.Errorf("%v: changes (-want +got):\n%s", redact, diff)
		}
	}
	res := apply(t, mustCompile(t, route.Spec{Redact: []string{".data"}}), env)
	if want := `{"id":"evt_01JQ7Z5W8K2M","source":"bullhorn","subject":{"entity":"application","id":"app_c81e728d"},"timestamp":"2026-03-20T09:12:44Z","type":"application.stage_changed"}`; string(res.Body) != want {
		t.Errorf("redact .data: body = %s\nwant %s", res.Body, want)
	}
}

func TestRedactionComesBeforeFilterAndTransform(t *testing.T) {
	t.Parallel()
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	redact := []string{".data.candidate.email", ".data.pay_rate"}

	r := mustCompile(t, route.Spec{Redact: redact, Transform: `{email: .data.candidate.email, pay: .data.pay_rate, has: (.data.candidate | has("email"))}`})
	res := apply(t, r, env)
	if !res.Deliver || string(res.Body) != `{"email":null,"has":false,"pay":null}` {
		t.Fatalf("transform saw redacted data: %+v body=%s", res, res.Body)
	}

	r = mustCompile(t, route.Spec{Redact: redact, Filter: `.data.pay_rate.amount > 100`})
	if res := apply(t, r, env); res.Deliver {
		t.Fatalf("filter saw the redacted pay rate: %+v", res)
	}

	// A failing transform's reason quotes what it saw: never redacted data.
	r = mustCompile(t, route.Spec{Redact: []string{route.RedactPersonalData}, Transform: `.data.candidate | error`})
	res = apply(t, r, env)
	if !res.Failed || strings.Contains(res.Reason, "amara") {
		t.Fatalf("reason = %q", res.Reason)
	}
}

func TestThinPayload(t *testing.T) {
	t.Parallel()
	env := envelope(t, "candidate.updated", candidateData, `{"email": {"from": null, "to": "amara.okafor@example.com"}}`)

	r := mustCompile(t, route.Spec{Payload: route.PayloadThin})
	res := apply(t, r, env)
	want := `{"id":"evt_01JQ7Z5W8K2M","record_url":"/v1/records/candidate/cand_8f14e45f","source":"bullhorn","subject":{"entity":"candidate","id":"cand_8f14e45f"},"timestamp":"2026-03-20T09:12:44Z","type":"candidate.updated"}`
	if !res.Deliver || string(res.Body) != want {
		t.Fatalf("thin body = %s\nwant       %s", res.Body, want)
	}

	r, err := route.CompileOptions(route.Spec{Payload: route.PayloadThin, Transform: `{url: .record_url, data: .data}`},
		route.Options{RecordBaseURL: "https://hub.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	res = apply(t, r, env)
	if want := `{"data":null,"url":"https://hub.example.com/v1/records/candidate/cand_8f14e45f"}`; string(res.Body) != want {
		t.Fatalf("thin+transform body = %s\nwant %s", res.Body, want)
	}

	// The filter sees the full envelope even when the body is thin.
	r = mustCompile(t, route.Spec{Payload: route.PayloadThin, Filter: `.data.headline | test("Java")`})
	if res := apply(t, r, env); !res.Deliver || bytes.Contains(res.Body, []byte("Java")) {
		t.Fatalf("thin with filter: %+v body=%s", res, res.Body)
	}
}

func TestNoRouteIsPassThrough(t *testing.T) {
	t.Parallel()
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	res := apply(t, mustCompile(t, route.Spec{Payload: route.PayloadFull}), env)
	if !res.Deliver || &res.Body[0] != &env[0] {
		t.Fatalf("zero route copied or changed the body: %+v", res)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		spec  route.Spec
		field string
		msg   string // a substring of the message
	}{
		{"filter syntax", route.Spec{Filter: `.type == "x" and and`}, "filter", `syntax error at offset 17 (line 1, column 18): unexpected token "and"`},
		{"filter eof", route.Spec{Filter: `.data |`}, "filter", "syntax error at offset 7 (line 1, column 8): unexpected EOF"},
		{"transform syntax multiline", route.Spec{Transform: "{\n  a: .a,\n  b: }"}, "transform", `syntax error at offset 16 (line 3, column 6): unexpected token "}"`},
		{"transform unknown function", route.Spec{Transform: `frobnicate(.a)`}, "transform", "frobnicate/1"},
		{"transform unknown variable", route.Spec{Transform: `$nope`}, "transform", "$nope"},
		{"transform import", route.Spec{Transform: `import "x" as x; .`}, "transform", ""},
		{"transform debug", route.Spec{Transform: `debug`}, "transform", "debug"},
		{"transform input", route.Spec{Transform: `input`}, "transform", "not allowed"},
		{"filter inputs", route.Spec{Filter: `[inputs] | length > 0`}, "filter", "not allowed"},
		{"payload", route.Spec{Payload: "skinny"}, "payload", `must be "full" or "thin"`},
		{"redact index", route.Spec{Redact: []string{".data.a", "personal_data", ".data.interviewers[0].email"}}, "redact[2]", "array indexes"},
		{"redact iterate", route.Spec{Redact: []string{".data.emails[].value"}}, "redact[0]", "array indexes"},
		{"redact root", route.Spec{Redact: []string{"."}}, "redact[0]", "whole event"},
		{"redact no dot", route.Spec{Redact: []string{"data.email"}}, "redact[0]", `must start with "."`},
		{"redact pipe", route.Spec{Redact: []string{".data | .email"}}, "redact[0]", "unexpected"},
		{"redact function", route.Spec{Redact: []string{"del(.data)"}}, "redact[0]", ""},
		{"redact unknown preset", route.Spec{Redact: []string{"personal"}}, "redact[0]", ""},
		{"redact unterminated", route.Spec{Redact: []string{`.data["a`}}, "redact[0]", "unterminated"},
		{"filter too long", route.Spec{Filter: strings.Repeat(" ", route.MaxExpressionLen) + "."}, "filter", "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := route.Compile(tc.spec)
			if err == nil {
				t.Fatalf("compiled: %v", r)
			}
			var herr *hirehook.Error
			if !errors.As(err, &herr) {
				t.Fatalf("error %T %v is not a *hirehook.Error", err, err)
			}
			if herr.Code != hirehook.EINVALID || herr.Field != tc.field || !strings.Contains(herr.Message, tc.msg) {
				t.Fatalf("error = code %q field %q message %q; want field %q, message containing %q", herr.Code, herr.Field, herr.Message, tc.field, tc.msg)
			}
		})
	}
}

func TestRedactPathSyntax(t *testing.T) {
	t.Parallel()
	env := []byte(`{"type":"x","data":{"a-b":{"c":1,"d":2},"e":{"f g":3,"h":4},"i":5}}`)
	for _, p := range []string{`.data["a-b"].c`, `.data."a-b".c`, `.["data"]["a-b"]["c"]`, `.data.e["f g"]`, `.data.e."f g"`, `.data["\u0069"]`} {
		r := mustCompile(t, route.Spec{Redact: []string{p}})
		res := apply(t, r, env)
		if bytes.Equal(res.Body, env) {
			t.Errorf("%s removed nothing", p)
		}
	}
	res := apply(t, mustCompile(t, route.Spec{Redact: []string{`.data["a-b"].c`, `.data.e."f g"`, `.data["\u0069"]`}}), env)
	if want := `{"data":{"a-b":{"d":2},"e":{"h":4}},"type":"x"}`; string(res.Body) != want {
		t.Errorf("body = %s, want %s", res.Body, want)
	}
}

func TestFilterOutcomes(t *testing.T) {
	t.Parallel()
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	for _, tc := range []struct {
		filter, reason string
	}{
		{`true`, ""},
		{`.data.hours_per_week == 37.5 and .data.pay_rate.amount == 450`, ""},
		{`false`, "filter yielded false"},
		{`empty`, "filter yielded no value"},
		{`true, true`, "filter yielded more than one value"},
		{`.data.client.id`, `filter yielded a string ("acme"), not a boolean`},
		{`null`, "filter yielded null, not a boolean"},
		{`.data.client.id | tonumber`, "filter error: "},
		{`error("nope")`, "filter error: nope"},
		{`halt`, "filter error: halted"},
	} {
		r := mustCompile(t, route.Spec{Filter: tc.filter})
		res := apply(t, r, env)
		if res.Failed || res.Deliver != (tc.reason == "") || !strings.HasPrefix(res.Reason, tc.reason) {
			t.Errorf("filter %s: %+v, want reason %q", tc.filter, res, tc.reason)
		}
	}
}

func TestTransformOutcomes(t *testing.T) {
	t.Parallel()
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	for _, tc := range []struct {
		transform, body, reason string
	}{
		{`.data.pay_rate`, `{"amount":450,"currency":"GBP","unit":"day"}`, ""},
		{`[.data.bill_rate.amount * 2, .data.hours_per_week / 2, 1e100, 0.0000001]`, `[1120.5,18.75,1e+100,1e-7]`, ""},
		{`"<a & b>\u2028"`, "\"<a & b>\u2028\"", ""},
		{`$ENV | length`, `0`, ""},
		{`env.HOME`, `null`, ""},
		{`empty`, "", "transform yielded no value"},
		{`.a, .b`, "", "transform yielded more than one value"},
		{`error("no client code")`, "", "transform error: no client code"},
		{`.data.start_date | tonumber`, "", "transform error: "},
		{`"x" * 1e10`, "", "transform error: "},
	} {
		r := mustCompile(t, route.Spec{Transform: tc.transform})
		res := apply(t, r, env)
		if tc.reason == "" {
			if !res.Deliver || res.Failed || string(res.Body) != tc.body {
				t.Errorf("transform %s: %+v body %s, want %s", tc.transform, res, res.Body, tc.body)
			}
		} else if res.Deliver || !res.Failed || !strings.HasPrefix(res.Reason, tc.reason) {
			t.Errorf("transform %s: %+v, want failed with %q", tc.transform, res, tc.reason)
		}
	}
}

// TestBoundedEvaluation checks that expressions that never end, or end with
// too much, cannot hold a worker: they run out of steps, the same way on a
// busy machine as on an idle one.
func TestBoundedEvaluation(t *testing.T) {
	t.Parallel()
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	const (
		filterSteps    = "filter: evaluation took more than 1000000 steps"
		transformSteps = "transform: evaluation took more than 1000000 steps"
	)
	for _, tc := range []struct {
		name   string
		spec   route.Spec
		failed bool
		reason string
	}{
		{"filter recursion", route.Spec{Filter: `def f: f; f`}, false, filterSteps},
		{"filter growing recursion", route.Spec{Filter: `def f: 1 + f; f`}, false, filterSteps},
		{"filter range", route.Spec{Filter: `last(range(1e9)) == 0`}, false, filterSteps},
		{"filter range stream", route.Spec{Filter: `range(1e9) | . < 0`}, false, "filter yielded false"},
		{"filter second value never ends", route.Spec{Filter: `true, (def f: f; f)`}, false, filterSteps},
		{"transform recursion", route.Spec{Transform: `def f: f; f`}, true, transformSteps},
		{"transform range", route.Spec{Transform: `[range(1e9)]`}, true, transformSteps},
		{"transform range stream", route.Spec{Transform: `range(1e9)`}, true, "transform yielded more than one value"},
		{"transform big array", route.Spec{Transform: `[range(1e7)]`}, true, transformSteps},
		{"transform until", route.Spec{Transform: `0 | until(. < 0; . + 1)`}, true, transformSteps},
		{"filter and transform share the budget", route.Spec{Filter: `[range(150000)] | length > 0`, Transform: `[range(150000)] | length`}, true, transformSteps},
		{"transform too large", route.Spec{Transform: `[limit(2000; repeat("x" * 1000))]`}, true, "transform: output is over 1048576 bytes"},
		{"transform huge string", route.Spec{Transform: `"x" * 2000000`}, true, "transform: output is over 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A wall-clock limit far above what a million steps take,
			// so a loaded CI machine cannot turn the answer into
			// ErrTimeout.
			r, err := route.CompileOptions(tc.spec, route.Options{Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := r.Apply(context.Background(), env)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deliver || res.Failed != tc.failed || !strings.HasPrefix(res.Reason, tc.reason) {
				t.Errorf("result %+v, want failed=%v reason %q", res, tc.failed, tc.reason)
			}
			t.Logf("took %s: %s", took, res.Reason)
		})
	}
}

// TestStepBudgetIsPerEvent checks that the filter and the transform share
// one budget, and that each of the expressions of the shared-budget case
// above fits in it alone.
func TestStepBudgetIsPerEvent(t *testing.T) {
	t.Parallel()
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	for _, spec := range []route.Spec{
		{Filter: `[range(150000)] | length > 0`},
		{Transform: `[range(150000)] | length`},
	} {
		r, err := route.CompileOptions(spec, route.Options{Timeout: time.Minute}) // for -race
		if err != nil {
			t.Fatal(err)
		}
		if res := apply(t, r, env); !res.Deliver {
			t.Errorf("%+v: %+v", spec, res)
		}
	}
}

// TestBoundedEvaluationTime checks the wall-clock backstop: out of time
// with steps to spare is ErrTimeout, for the caller to retry.
func TestBoundedEvaluationTime(t *testing.T) {
	t.Parallel()
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	for _, spec := range []route.Spec{{Filter: `def f: f; f`}, {Transform: `[range(1e9)]`}} {
		r, err := route.CompileOptions(spec, route.Options{Timeout: 20 * time.Millisecond, MaxSteps: 1 << 62})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := r.Apply(context.Background(), env)
		if !errors.Is(err, route.ErrTimeout) {
			t.Errorf("%+v: result %+v, error %v; want ErrTimeout", spec, res, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%+v: took %s with a timeout of 20ms", spec, took)
		}
	}
}

// TestApplyCallerCancelled checks that the end of the caller's context is an
// error (retry later), not a configuration failure.
func TestApplyCallerCancelled(t *testing.T) {
	t.Parallel()
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	for _, spec := range []route.Spec{{Filter: `def f: f; f`}, {Transform: `def f: f; f`}} {
		r, err := route.CompileOptions(spec, route.Options{Timeout: time.Minute, MaxSteps: 1 << 62})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		res, err := r.Apply(ctx, env)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, route.ErrTimeout) {
			t.Errorf("%+v: result %+v, error %v; want the context's error", spec, res, err)
		}
	}
}

func TestApplyRejectsNonObject(t *testing.T) {
	t.Parallel()
	r := mustCompile(t, route.Spec{Filter: `true`})
	for _, env := range []string{``, `null`, `[1]`, `{"a":1} {}`, `{"a":`} {
		if _, err := r.Apply(context.Background(), []byte(env)); err == nil {
			t.Errorf("%q: no error", env)
		}
	}
}

func TestApplyConcurrent(t *testing.T) {
	t.Parallel()
	r := mustCompile(t, route.Spec{
		Filter:    `.type == "placement.confirmed" and .data.client.id == "acme"`,
		Transform: onboardingTransform,
		Redact:    []string{".data.pay_rate", route.RedactPersonalData},
	})
	env := envelope(t, "placement.confirmed", placementData("acme"), "")
	want := apply(t, r, env)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				res, err := r.Apply(context.Background(), env)
				if err != nil || !bytes.Equal(res.Body, want.Body) {
					t.Errorf("concurrent apply: %+v %v", res, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if want := `{"client_code":"ACME-INS","employee":{"email":null,"family_name":null,"given_name":null},"start_date":"2026-04-06"}`; string(want) != string(apply(t, r, env).Body) {
		t.Errorf("body = %s", apply(t, r, env).Body)
	}
}

// TestEnvelopeSharedAcrossRoutes checks that one decoded envelope can serve
// every route of an event, concurrently, without one route's redaction or
// transform showing in another's body.
func TestEnvelopeSharedAcrossRoutes(t *testing.T) {
	t.Parallel()
	raw := envelope(t, "application.stage_changed", applicationData, applicationChanges)
	e, err := route.ParseEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	routes := []*route.Route{
		mustCompile(t, route.Spec{Redact: []string{route.RedactPersonalData}}),
		mustCompile(t, route.Spec{Redact: []string{".data.candidate.email", ".data.stage"}}),
		mustCompile(t, route.Spec{Transform: `.data.candidate.email = "x" | del(.data.client) | .changes.stage.to.id = "y"`}),
		mustCompile(t, route.Spec{Transform: `.data |= with_entries(.value = null)`}),
		mustCompile(t, route.Spec{Payload: route.PayloadThin}),
		mustCompile(t, route.Spec{Filter: `del(.data.client, .changes.stage) | .data.client == null`, Transform: `del(.data.job)`}),
		mustCompile(t, route.Spec{Filter: `.data.candidate.email == "amara.okafor@example.com" and .changes.stage.to.id == "st_4" and .data.client.id == "acme"`}),
	}
	var wg sync.WaitGroup
	for range 4 {
		for _, r := range routes {
			wg.Go(func() {
				for range 20 {
					if _, err := r.ApplyEnvelope(context.Background(), e); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	// The last route sees the original data, after all the others ran.
	res, err := routes[len(routes)-1].ApplyEnvelope(context.Background(), e)
	if err != nil || !res.Deliver || !bytes.Equal(res.Body, raw) {
		t.Fatalf("the shared envelope changed: %+v %v", res, err)
	}
}
