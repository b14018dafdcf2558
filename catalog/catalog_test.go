package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hirehook/hirehook"
)

// wantTypes is the contract other packages rely on: every type and its entity.
// It is written out again here, not derived from definitions, on purpose.
var wantTypes = map[string]string{
	"candidate.created":    "candidate",
	"candidate.updated":    "candidate",
	"candidate.deleted":    "candidate",
	"candidate.anonymized": "candidate",

	"job.created":  "job",
	"job.updated":  "job",
	"job.approved": "job",
	"job.opened":   "job",
	"job.closed":   "job",
	"job.deleted":  "job",

	"job.posted":          "job_posting",
	"job.posting_updated": "job_posting",
	"job.unposted":        "job_posting",

	"application.created":       "application",
	"application.updated":       "application",
	"application.stage_changed": "application",
	"application.rejected":      "application",
	"application.reactivated":   "application",
	"application.hired":         "application",
	"application.withdrawn":     "application",
	"application.deleted":       "application",

	"interview.scheduled":   "interview",
	"interview.rescheduled": "interview",
	"interview.updated":     "interview",
	"interview.cancelled":   "interview",
	"interview.completed":   "interview",

	"offer.created":   "offer",
	"offer.approved":  "offer",
	"offer.extended":  "offer",
	"offer.accepted":  "offer",
	"offer.signed":    "offer",
	"offer.declined":  "offer",
	"offer.withdrawn": "offer",

	"placement.created":   "placement",
	"placement.confirmed": "placement",
	"placement.updated":   "placement",
	"placement.started":   "placement",
	"placement.ended":     "placement",
	"placement.cancelled": "placement",
	"placement.deleted":   "placement",

	"client.created": "client",
	"client.updated": "client",
	"client.deleted": "client",

	"contact.created": "contact",
	"contact.updated": "contact",
	"contact.deleted": "contact",

	// The snapshot types, sent by backfills.
	"candidate.snapshot":   "candidate",
	"job.snapshot":         "job",
	"job_posting.snapshot": "job_posting",
	"application.snapshot": "application",
	"interview.snapshot":   "interview",
	"offer.snapshot":       "offer",
	"placement.snapshot":   "placement",
	"client.snapshot":      "client",
	"contact.snapshot":     "contact",

	"endpoint.disabled": "endpoint",
	"endpoint.tested":   "endpoint",

	"delivery.failing":   "delivery",
	"delivery.exhausted": "delivery",
	"delivery.recovered": "delivery",
}

func TestCatalog_Types(t *testing.T) {
	t.Parallel()

	c := Default()
	for name, entity := range wantTypes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			typ, ok := c.Lookup(name)
			if !ok {
				t.Fatalf("Lookup(%q): not found", name)
			}
			if typ.Name != name {
				t.Errorf("Name = %q, want %q", typ.Name, name)
			}
			if typ.Entity != entity {
				t.Errorf("Entity = %q, want %q", typ.Entity, entity)
			}
			if typ.Version != 1 {
				t.Errorf("Version = %d, want 1", typ.Version)
			}
			if !strings.HasSuffix(typ.Description, ".") || strings.Count(typ.Description, ". ") > 0 {
				t.Errorf("Description = %q, want one sentence", typ.Description)
			}
			file, err := fs.ReadFile(schemaFS, "schemas/"+entity+".json")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(typ.Schema, file) {
				t.Errorf("Schema is not schemas/%s.json", entity)
			}
		})
	}

	t.Run("Sorted", func(t *testing.T) {
		t.Parallel()
		types := c.Types()
		if len(types) != len(wantTypes) {
			t.Errorf("len(Types()) = %d, want %d", len(types), len(wantTypes))
		}
		if !slices.IsSortedFunc(types, func(a, b EventType) int { return strings.Compare(a.Name, b.Name) }) {
			t.Error("Types() is not sorted by name")
		}
		for _, typ := range types {
			if _, ok := wantTypes[typ.Name]; !ok {
				t.Errorf("Types() has %q, which the test does not know", typ.Name)
			}
		}
	})

	t.Run("Entities", func(t *testing.T) {
		t.Parallel()
		want := []string{"application", "candidate", "client", "contact", "delivery", "endpoint", "interview", "job", "job_posting", "offer", "placement"}
		if got := c.Entities(); !slices.Equal(got, want) {
			t.Errorf("Entities() = %q, want %q", got, want)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"", "placement", "placement.*", "Placement.Confirmed", "placement.confirmed "} {
			if _, ok := c.Lookup(name); ok {
				t.Errorf("Lookup(%q) found a type", name)
			}
		}
	})

	t.Run("Immutable", func(t *testing.T) {
		t.Parallel()
		typ, _ := c.Lookup("placement.confirmed")
		typ.Schema[0] = 'X'
		c.Types()[0].Schema[0] = 'X'
		c.Entities()[0] = "X"
		if typ, _ := c.Lookup("placement.confirmed"); typ.Schema[0] != '{' {
			t.Error("changing a looked-up Schema changed the catalog")
		}
		if c.Types()[0].Schema[0] != '{' {
			t.Error("changing Types() changed the catalog")
		}
		if c.Entities()[0] != "application" {
			t.Error("changing Entities() changed the catalog")
		}
	})

	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		typ, _ := c.Lookup("job.posted")
		b, err := json.Marshal(typ)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"name", "entity", "description", "version", "schema"} {
			if _, ok := got[key]; !ok {
				t.Errorf("JSON has no %q: %s", key, b[:min(len(b), 200)])
			}
		}
		if _, ok := got["schema"].(map[string]any); !ok {
			t.Errorf("schema is %T, want an object", got["schema"])
		}
	})
}

// TestSchemas compiles every embedded schema on its own and checks what the
// catalog promises about all of them.
func TestSchemas(t *testing.T) {
	t.Parallel()

	files, err := fs.Glob(schemaFS, "schemas/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 11 {
		t.Errorf("%d schema files, want 11", len(files))
	}
	for _, file := range files {
		entity := strings.TrimSuffix(strings.TrimPrefix(file, "schemas/"), ".json")
		t.Run(entity, func(t *testing.T) {
			t.Parallel()
			raw, err := fs.ReadFile(schemaFS, file)
			if err != nil {
				t.Fatal(err)
			}
			sch, err := compile(entity, raw)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			var doc struct {
				Schema     string          `json:"$schema"`
				Type       string          `json:"type"`
				Required   []string        `json:"required"`
				Properties map[string]any  `json:"properties"`
				Examples   []any           `json:"examples"`
				Defs       map[string]any  `json:"$defs"`
				Additional json.RawMessage `json:"additionalProperties"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("$schema = %q, want draft 2020-12", doc.Schema)
			}
			if doc.Type != "object" || !slices.Equal(doc.Required, []string{"id"}) {
				t.Errorf("type %q required %q, want an object requiring only id", doc.Type, doc.Required)
			}
			if doc.Additional != nil {
				t.Errorf("additionalProperties is set; custom fields must be allowed")
			}
			if strings.Contains(string(raw), `"additionalProperties"`) || strings.Contains(string(raw), `"unevaluatedProperties"`) {
				t.Errorf("a nested object restricts properties; custom fields must be allowed")
			}
			for _, key := range []string{"id", "external_refs", "created_at", "updated_at", "custom_fields"} {
				if _, ok := doc.Properties[key]; !ok {
					t.Errorf("no property %q", key)
				}
			}
			if len(doc.Examples) == 0 {
				t.Fatal("no examples")
			}
			// The examples are realistic payloads; they must pass.
			for i, ex := range doc.Examples {
				if err := sch.Validate(ex); err != nil {
					t.Errorf("examples[%d]: %v", i, err)
				}
			}
		})
	}
}

// TestSchemas_sharedDefs checks that a $def with the same name means the same
// thing in every file. The files are self-contained, so shapes such as money
// are repeated; this keeps the copies from drifting apart.
func TestSchemas_sharedDefs(t *testing.T) {
	t.Parallel()

	files, _ := fs.Glob(schemaFS, "schemas/*.json")
	first := map[string]string{} // def name -> file that first had it
	defs := map[string]any{}
	for _, file := range files {
		raw, _ := fs.ReadFile(schemaFS, file)
		var doc struct {
			Defs map[string]any `json:"$defs"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for name, def := range doc.Defs {
			if prev, ok := defs[name]; !ok {
				defs[name], first[name] = def, file
			} else if !reflect.DeepEqual(prev, def) {
				t.Errorf("$defs/%s differs between %s and %s", name, first[name], file)
			}
		}
	}
	for _, name := range []string{"id", "money", "email", "date", "date_time", "external_ref"} {
		if _, ok := defs[name]; !ok {
			t.Errorf("no schema has $defs/%s", name)
		}
	}
}

func TestCatalog_Validate(t *testing.T) {
	t.Parallel()

	// A placement as a Bullhorn connector would map it after hydration.
	const placement = `{
		"id": "plc_30211",
		"external_refs": [{"system": "bullhorn", "id": "30211", "tenant": "corp-2231"}],
		"status": "Approved",
		"employment_type": "contract",
		"start_date": "2026-04-06",
		"end_date": null,
		"candidate": {"id": "cand_1", "first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com", "phone": "+447700900123"},
		"job": {"id": "job_4411", "title": "Java Developer"},
		"client": {"id": "cli_1120", "name": "Acme Insurance plc"},
		"pay_rate": {"amount": 450, "currency": "GBP", "unit": "day"},
		"bill_rate": {"amount": 560.50, "currency": "GBP", "unit": "day"},
		"confirmed_at": "2026-03-20T09:12:44+01:00"
	}`

	tests := []struct {
		name      string
		typ       string
		data      string
		wantField string // "" means valid
		wantMsg   string
	}{
		{name: "PlacementValid", typ: "placement.confirmed", data: placement},
		{name: "OnlyID", typ: "placement.created", data: `{"id": "plc_1"}`},
		{name: "DeletedCandidate", typ: "candidate.deleted", data: `{"id": "cand_1"}`},
		{name: "DeletedPlacement", typ: "placement.deleted", data: `{"id": "pl_1"}`},
		{name: "AnonymizedCandidate", typ: "candidate.anonymized", data: `{"id": "cand_1", "first_name": null, "email": null, "anonymized_at": "2026-05-01T00:00:00Z"}`},
		{name: "CandidateValid", typ: "candidate.created", data: `{"id": "cand_1", "first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com", "emails": [{"value": "a.okafor@work.example", "type": "work"}], "phones": [{"value": "0161 496 0000"}], "location": {"city": "Manchester", "country": "GB"}, "tags": ["java"]}`},
		{name: "JobValid", typ: "job.opened", data: `{"id": "job_1", "title": "Nurse", "status": "open", "employment_type": "temp", "openings": 3, "salary": {"min": 30000, "max": 36000, "currency": "GBP", "unit": "year"}, "opened_at": "2026-03-01T09:00:00Z"}`},
		{name: "JobPostingValid", typ: "job.posted", data: `{"id": "post_1", "job_id": "job_1", "job": {"id": "job_1", "title": "Nurse"}, "status": "published", "url": "https://jobs.example.com/1", "published_at": "2026-03-01T09:05:00Z"}`},
		{name: "ApplicationValid", typ: "application.stage_changed", data: `{"id": "app_1", "kind": "application", "candidate": {"id": "cand_1", "first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com"}, "job_id": "job_1", "status": "active", "stage": {"id": "s2", "name": "Phone Screen", "category": "screening"}, "previous_stage": {"name": "New"}, "applied_at": "2026-03-03T11:20:00Z"}`},
		{name: "InterviewValid", typ: "interview.scheduled", data: `{"id": "int_1", "application_id": "app_1", "start_at": "2026-03-10T14:00:00Z", "end_at": "2026-03-10T15:00:00Z", "interviewers": [{"name": "Tom Reed", "email": "tom@acme.example"}, {"id": "u9"}]}`},
		{name: "OfferValid", typ: "offer.extended", data: `{"id": "off_1", "application_id": "app_1", "version": 1, "status": "extended", "start_date": "2026-04-06", "salary": {"amount": 82000, "currency": "EUR", "unit": "year"}, "sent_at": "2026-03-18T12:00:00Z"}`},
		{name: "ClientValid", typ: "client.created", data: `{"id": "cli_1", "name": "Acme Insurance plc", "address": {"line1": "1 Park Row", "city": "Leeds", "country": "GB"}}`},
		{name: "ContactValid", typ: "contact.updated", data: `{"id": "con_1", "first_name": "Tom", "last_name": "Reed", "email": "tom@acme.example", "client": {"id": "cli_1", "name": "Acme"}}`},
		{name: "CustomProperties", typ: "placement.updated", data: `{"id": "plc_1", "x_bullhorn_custom_text1": "PO-77", "custom_fields": {"ir35": "outside", "nested": {"a": [1, 2]}}, "candidate": {"id": "c1", "middle_name": "N."}, "pay_rate": {"amount": 10, "currency": "USD", "overtime": true}}`},
		{name: "NullOptionals", typ: "placement.updated", data: `{"id": "plc_1", "status": null, "employment_type": null, "start_date": null, "pay_rate": null, "candidate": null, "recruiter": null}`},
		{name: "LeadingSpace", typ: "client.updated", data: " \n\t{\"id\": \"cli_1\"}"},

		{name: "UnknownType", typ: "placement.approved", data: placement, wantField: "type", wantMsg: `unknown event type "placement.approved"`},
		{name: "EmptyType", typ: "", data: placement, wantField: "type", wantMsg: `unknown event type ""`},
		{name: "MissingID", typ: "placement.confirmed", data: `{"status": "Approved"}`, wantField: "data.id", wantMsg: "is required"},
		{name: "EmptyID", typ: "candidate.created", data: `{"id": ""}`, wantField: "data.id", wantMsg: "must not be empty"},
		{name: "LongID", typ: "candidate.created", data: `{"id": "` + strings.Repeat("x", 129) + `"}`, wantField: "data.id", wantMsg: "must be at most 128 characters long"},
		{name: "NumericID", typ: "candidate.created", data: `{"id": 42}`, wantField: "data.id", wantMsg: "must be a string"},
		{name: "NullID", typ: "candidate.created", data: `{"id": null}`, wantField: "data.id", wantMsg: "must be a string"},
		{name: "BadEmail", typ: "placement.confirmed", data: strings.Replace(placement, "amara@example.com", "amara.example.com", 1), wantField: "data.candidate.email", wantMsg: "must be a valid email address"},
		{name: "AmountString", typ: "placement.confirmed", data: strings.Replace(placement, `"amount": 450`, `"amount": "450"`, 1), wantField: "data.pay_rate.amount", wantMsg: "must be a number"},
		{name: "AmountNegative", typ: "placement.confirmed", data: strings.Replace(placement, `"amount": 450`, `"amount": -450`, 1), wantField: "data.pay_rate.amount", wantMsg: "must be at least 0"},
		{name: "CurrencyLower", typ: "placement.confirmed", data: strings.Replace(placement, `"currency": "GBP", "unit": "day"}`, `"currency": "gbp", "unit": "day"}`, 1), wantField: "data.pay_rate.currency", wantMsg: "must be a 3-letter ISO 4217 currency code in upper case, such as USD"},
		{name: "MoneyNoCurrency", typ: "offer.created", data: `{"id": "off_1", "salary": {"amount": 1}}`, wantField: "data.salary.currency", wantMsg: "is required"},
		{name: "RateUnit", typ: "placement.confirmed", data: strings.Replace(placement, `"unit": "day"`, `"unit": "daily"`, 1), wantField: "data.pay_rate.unit", wantMsg: "must be one of: hour, day, week, month, year"},
		{name: "EmploymentType", typ: "placement.confirmed", data: strings.Replace(placement, `"contract"`, `"Contract"`, 1), wantField: "data.employment_type", wantMsg: "must be one of: permanent, contract, temp, contract_to_hire, temp_to_perm, other"},
		{name: "BadDate", typ: "placement.confirmed", data: strings.Replace(placement, "2026-04-06", "06/04/2026", 1), wantField: "data.start_date", wantMsg: "must be a valid date in the form YYYY-MM-DD"},
		{name: "DateTimeForDate", typ: "placement.confirmed", data: strings.Replace(placement, `"2026-04-06"`, `"2026-04-06T09:00:00Z"`, 1), wantField: "data.start_date", wantMsg: "must be a valid date in the form YYYY-MM-DD"},
		{name: "DateTimeWithoutZone", typ: "placement.confirmed", data: strings.Replace(placement, "2026-03-20T09:12:44+01:00", "2026-03-20T09:12:44", 1), wantField: "data.confirmed_at", wantMsg: "must be a valid date-time in RFC 3339 form, such as 2026-05-01T09:00:00Z"},
		{name: "SummaryWithoutID", typ: "placement.confirmed", data: strings.Replace(placement, `"id": "cand_1", `, "", 1), wantField: "data.candidate.id", wantMsg: "is required"},
		{name: "SummaryNotObject", typ: "placement.confirmed", data: strings.Replace(placement, `"job": {"id": "job_4411", "title": "Java Developer"}`, `"job": "job_4411"`, 1), wantField: "data.job", wantMsg: "must be an object"},
		{name: "ArrayIndex", typ: "interview.scheduled", data: `{"id": "int_1", "interviewers": [{"id": "u1"}, {"id": "u2"}, {"id": "u3", "email": "u3"}]}`, wantField: "data.interviewers[2].email", wantMsg: "must be a valid email address"},
		{name: "ArrayItemRequired", typ: "candidate.updated", data: `{"id": "cand_1", "external_refs": [{"system": "lever", "id": "x"}, {"system": "greenhouse"}]}`, wantField: "data.external_refs[1].id", wantMsg: "is required"},
		{name: "ArrayNotArray", typ: "candidate.updated", data: `{"id": "cand_1", "tags": "java"}`, wantField: "data.tags", wantMsg: "must be an array"},
		{name: "EmptyUser", typ: "application.updated", data: `{"id": "app_1", "recruiter": {}}`, wantField: "data.recruiter", wantMsg: "must not be empty"},
		{name: "Integer", typ: "job.updated", data: `{"id": "job_1", "openings": 1.5}`, wantField: "data.openings", wantMsg: "must be an integer"},
		{name: "Percent", typ: "client.updated", data: `{"id": "cli_1", "fee_percent": 120}`, wantField: "data.fee_percent", wantMsg: "must be at most 100"},
		{name: "StageName", typ: "application.stage_changed", data: `{"id": "app_1", "stage": {"id": "s1"}}`, wantField: "data.stage.name", wantMsg: "is required"},
		{name: "Deepest", typ: "placement.confirmed", data: `{"status": 1, "candidate": {"id": "c", "email": "bad"}}`, wantField: "data.candidate.email", wantMsg: "must be a valid email address"},
		{name: "TieBrokenByPath", typ: "placement.confirmed", data: `{"id": "p", "pay_rate": {"amount": "1", "currency": "x"}, "bill_rate": {"amount": "1", "currency": "x"}}`, wantField: "data.bill_rate.amount", wantMsg: "must be a number"},
		{name: "OddKey", typ: "placement.confirmed", data: `{"id": "p", "candidate": {"id": "c"}, "a.b": {"email": "x"}}`},

		{name: "Array", typ: "placement.confirmed", data: `[{"id": "plc_1"}]`, wantField: "data", wantMsg: "must be a JSON object"},
		{name: "String", typ: "placement.confirmed", data: `"plc_1"`, wantField: "data", wantMsg: "must be a JSON object"},
		{name: "Number", typ: "placement.confirmed", data: `42`, wantField: "data", wantMsg: "must be a JSON object"},
		{name: "Null", typ: "placement.confirmed", data: `null`, wantField: "data", wantMsg: "must be a JSON object"},
		{name: "Empty", typ: "placement.confirmed", data: ``, wantField: "data", wantMsg: "is required"},
		{name: "Malformed", typ: "placement.confirmed", data: `{"id": "plc_1"`, wantField: "data", wantMsg: "must be valid JSON"},
		{name: "TrailingGarbage", typ: "placement.confirmed", data: `{"id": "plc_1"} {}`, wantField: "data", wantMsg: "must be valid JSON"},
	}

	c := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var data json.RawMessage
			if tt.data != "" {
				data = json.RawMessage(tt.data)
			}
			err := c.Validate(tt.typ, data)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var herr *hirehook.Error
			if !errors.As(err, &herr) {
				t.Fatalf("Validate() = %v (%T), want *hirehook.Error", err, err)
			}
			if herr.Code != hirehook.EINVALID {
				t.Errorf("Code = %q, want %q", herr.Code, hirehook.EINVALID)
			}
			if herr.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", herr.Field, tt.wantField)
			}
			if herr.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", herr.Message, tt.wantMsg)
			}
		})
	}
}

// TestCatalog_Validate_examples validates each schema's example against every
// type of its entity, through the public API.
func TestCatalog_Validate_examples(t *testing.T) {
	t.Parallel()

	c := Default()
	for _, typ := range c.Types() {
		t.Run(typ.Name, func(t *testing.T) {
			t.Parallel()
			var doc struct {
				Examples []json.RawMessage `json:"examples"`
			}
			if err := json.Unmarshal(typ.Schema, &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Examples) == 0 {
				t.Fatal("no examples")
			}
			for i, ex := range doc.Examples {
				if err := c.Validate(typ.Name, ex); err != nil {
					t.Errorf("examples[%d]: %v", i, err)
				}
			}
		})
	}
}

// TestCatalog_Validate_deterministic runs one payload with several failures
// many times: the validator walks properties in map order, but the error
// reported must not change.
func TestCatalog_Validate_deterministic(t *testing.T) {
	t.Parallel()

	data := json.RawMessage(`{"id": "p", "pay_rate": {"amount": "1"}, "bill_rate": {"amount": "1"}, "candidate": {"email": "x"}, "job": {"title": 1}, "client": {"id": 1}}`)
	c := Default()
	want := c.Validate("placement.confirmed", data)
	for range 50 {
		if got := c.Validate("placement.confirmed", data); got.Error() != want.Error() {
			t.Fatalf("Validate() = %v, then %v", want, got)
		}
	}
}

func TestCatalog_Validate_concurrent(t *testing.T) {
	t.Parallel()

	c := Default()
	valid := json.RawMessage(`{"id": "plc_1", "candidate": {"id": "c1", "email": "a@example.com"}, "pay_rate": {"amount": 20, "currency": "USD", "unit": "hour"}}`)
	invalid := json.RawMessage(`{"id": "plc_1", "candidate": {"id": "c1", "email": "nope"}}`)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if err := c.Validate("placement.confirmed", valid); err != nil {
					errs <- fmt.Errorf("goroutine %d, run %d: valid data: %w", g, i, err)
					return
				}
				if hirehook.ErrorField(c.Validate("placement.confirmed", invalid)) != "data.candidate.email" {
					errs <- fmt.Errorf("goroutine %d, run %d: invalid data passed or failed elsewhere", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestBuild_errors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		defs []definition
		want string
	}{
		{"NoSchema", []definition{{"timesheet.submitted", "timesheet", "A timesheet was submitted."}}, `no schema for entity "timesheet"`},
		{"Duplicate", []definition{{"client.created", "client", "x."}, {"client.created", "client", "x."}}, "listed twice"},
		{"BadName", []definition{{"Client.Created", "client", "x."}}, "lower snake case"},
		{"NoDescription", []definition{{"client.created", "client", ""}}, "no description"},
		{"UnusedSchema", []definition{{"client.created", "client", "x."}}, "no event type uses it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := build(schemaFS, tt.defs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("build() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	c := Default()
	typ, _ := c.Lookup("placement.confirmed")
	var doc struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(typ.Schema, &doc); err != nil {
		b.Fatal(err)
	}
	data := doc.Examples[0]
	if err := c.Validate(typ.Name, data); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Validate(typ.Name, data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOperational(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]bool{
		"endpoint.disabled": true, "delivery.failing": true, "delivery.recovered": true,
		"candidate.created": false, "job.opened": false, "endpoints.x": false,
	} {
		if got := Operational(typ); got != want {
			t.Errorf("Operational(%q) = %v, want %v", typ, got, want)
		}
	}
	// Every operational type of the catalog carries an operational entity.
	for _, et := range Default().Types() {
		if Operational(et.Name) != (et.Entity == "endpoint" || et.Entity == "delivery") {
			t.Errorf("type %s (entity %s): Operational disagrees with its entity", et.Name, et.Entity)
		}
	}
}

func TestHubOnly(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]bool{
		"candidate.snapshot": true, "placement.snapshot": true, "job_posting.snapshot": true,
		"endpoint.disabled": true, "delivery.failing": true,
		"candidate.created": false, "placement.confirmed": false,
	} {
		if got := HubOnly(typ); got != want {
			t.Errorf("HubOnly(%q) = %v, want %v", typ, got, want)
		}
	}
	for _, entity := range Default().Entities() {
		if entity == "endpoint" || entity == "delivery" {
			continue
		}
		if _, ok := Default().Lookup(entity + ".snapshot"); !ok {
			t.Errorf("entity %s has no snapshot type", entity)
		}
	}
}
