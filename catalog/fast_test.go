package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/strictjson"
)

// TestFast_catalogSupported holds every schema of the catalog to the
// keywords the fast path checks: a schema outside them still validates,
// through the library only, and slowly.
func TestFast_catalogSupported(t *testing.T) {
	t.Parallel()
	c := Default()
	for i, typ := range c.types {
		if c.fast[i] == nil {
			t.Errorf("%s: schema %s.json has no fast path: it uses a keyword fast.go does not check", typ.Name, typ.Entity)
		}
	}
}

// TestFast_unsupported checks that a schema using anything outside the
// fast path's keywords gets no fast path, so that it can never be wrong by
// leaving a keyword out.
func TestFast_unsupported(t *testing.T) {
	t.Parallel()
	for name, schema := range map[string]string{
		"AnyOf":                `{"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "number"}]}}}`,
		"Not":                  `{"not": {"type": "string"}}`,
		"AdditionalProperties": `{"properties": {"a": {"type": "object", "additionalProperties": false}}}`,
		"PatternProperties":    `{"patternProperties": {"^x": {"type": "string"}}}`,
		"Const":                `{"properties": {"a": {"const": 1}}}`,
		"NumberEnum":           `{"properties": {"a": {"enum": [1, 2]}}}`,
		"MultipleOf":           `{"items": {"multipleOf": 2}}`,
		"UniqueItems":          `{"uniqueItems": true}`,
		"PrefixItems":          `{"prefixItems": [{"type": "string"}]}`,
		"RefCycle":             `{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "properties": {"x": {"$ref": "#/$defs/a"}}}`,
		"Draft7":               `{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"a": {"type": "string"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sch := compileTestSchema(t, schema)
			if n := compileFast(sch); n != nil {
				t.Errorf("compileFast(%s) made a fast path", schema)
			}
		})
	}

	// A recursive schema is fine as long as each step is a new value.
	sch := compileTestSchema(t, `{"$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}, "n": {"type": "integer"}}}}, "$ref": "#/$defs/node"}`)
	n := compileFast(sch)
	if n == nil {
		t.Fatal("no fast path for a recursive schema")
	}
	for data, want := range map[string]bool{
		`{"child": {"child": {"n": 1}}}`:   true,
		`{"child": {"child": {"n": 1.5}}}`: false,
		`{"child": {"child": 2}}`:          false,
	} {
		v := mustDecode(t, data)
		if got := n.valid(v); got != want {
			t.Errorf("valid(%s) = %v, want %v", data, got, want)
		}
		if lib := sch.Validate(v) == nil; lib != want {
			t.Errorf("library: valid(%s) = %v, want %v", data, lib, want)
		}
	}
}

func compileTestSchema(t testing.TB, schema string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.AssertFormat()
	comp.UseLoader(jsonschema.SchemeURLLoader{})
	if err := comp.AddResource("urn:test", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("urn:test")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func mustDecode(t testing.TB, data string) any {
	t.Helper()
	v, err := strictjson.Decode([]byte(data), dataLimits)
	if err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// TestFast_differential compares the fast path's verdict with the
// library's on every type's samples (the schema's examples and the
// valid payloads of TestCatalog_Validate) and on systematic mutations of
// them: each property dropped, set to a value of every type, to the
// schema's enum values and to strings and numbers at the edges of its
// limits, properties the schema does not list, items added to arrays.
// Where the fast path says valid the library must agree; where the library
// says valid the fast path should too (else it is only slow), and
// ValidateEvent must answer as the library alone does.
func TestFast_differential(t *testing.T) {
	t.Parallel()
	c := Default()
	samples := fastSamples(t, c)
	for _, entity := range c.Entities() {
		t.Run(entity, func(t *testing.T) {
			t.Parallel()
			i := c.index[entity+".snapshot"]
			if entity == "endpoint" {
				i = c.index["endpoint.tested"]
			} else if entity == "delivery" {
				i = c.index["delivery.failing"]
			}
			d := differ{t: t, c: c, i: i}
			for _, s := range samples[entity] {
				root := mustDecode(t, s)
				d.check(root, "sample")
				d.mutate(root, root, c.schemas[i], "data")
			}
			t.Logf("%d documents compared, %d valid", d.n, d.valid)
			if d.valid == 0 || d.valid == d.n {
				t.Errorf("%d valid of %d: the mutations test one side only", d.valid, d.n)
			}
		})
	}
}

// fastSamples returns valid data for each entity.
func fastSamples(t testing.TB, c *Catalog) map[string][]string {
	samples := make(map[string][]string)
	for _, entity := range c.Entities() {
		var typ EventType
		for _, et := range c.types {
			if et.Entity == entity {
				typ = et
				break
			}
		}
		var doc struct {
			Examples []json.RawMessage `json:"examples"`
		}
		if err := json.Unmarshal(typ.Schema, &doc); err != nil {
			t.Fatal(err)
		}
		for _, ex := range doc.Examples {
			samples[entity] = append(samples[entity], string(ex))
		}
	}
	samples["placement"] = append(samples["placement"], benchData,
		`{"id": "plc_1", "x_bullhorn_custom_text1": "PO-77", "custom_fields": {"ir35": "outside", "nested": {"a": [1, 2]}}, "candidate": {"id": "c1", "middle_name": "N."}, "pay_rate": {"amount": 10, "currency": "USD", "overtime": true}}`,
		`{"id": "plc_1", "status": null, "employment_type": null, "start_date": null, "pay_rate": null, "candidate": null, "recruiter": null}`)
	samples["candidate"] = append(samples["candidate"],
		`{"\u0069d": "cand\u005f1", "em\u0061il": "amara\u0040example.com", "first_name": "\"Ada\" \\ \/ \ud83d\ude00", "tags": ["a\tb", "\u00e9"]}`,
		`{"id": "cand_1", "first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com", "emails": [{"value": "a.okafor@work.example", "type": "work"}], "phones": [{"value": "0161 496 0000"}], "location": {"city": "Manchester", "country": "GB"}, "tags": ["java"]}`)
	samples["job"] = append(samples["job"],
		`{"id": "job_1", "title": "Nurse", "status": "open", "employment_type": "temp", "openings": 3, "salary": {"min": 30000, "max": 36000, "currency": "GBP", "unit": "year"}, "opened_at": "2026-03-01T09:00:00Z"}`)
	samples["interview"] = append(samples["interview"],
		`{"id": "int_1", "application_id": "app_1", "start_at": "2026-03-10T14:00:00Z", "end_at": "2026-03-10T15:00:00Z", "interviewers": [{"name": "Tom Reed", "email": "tom@acme.example"}, {"id": "u9"}]}`)
	return samples
}

type differ struct {
	t        *testing.T
	c        *Catalog
	i        int
	n, valid int
}

// check compares the verdicts on the whole document root: the library's,
// the fast path's on the value and on its JSON, and the answer of
// ValidateEvent with that of the library alone.
func (d *differ) check(root any, what string) {
	d.t.Helper()
	d.n++
	lib := d.c.schemas[d.i].Validate(root)
	fast := d.c.fast[d.i].valid(root)
	if lib == nil {
		d.valid++
	}
	// Half the documents compact, half indented, with the escapes of
	// encoding/json (<, >, & as \u003c...).
	b, err := json.Marshal(root)
	if d.n%2 == 0 {
		b, err = json.MarshalIndent(root, " ", "\t")
	}
	if err != nil {
		d.t.Fatal(err)
	}
	if fast && lib != nil {
		d.t.Errorf("%s: fast path says valid, library says %v\n%s", what, lib, b)
		return
	}
	if !fast && lib == nil {
		d.t.Errorf("%s: library says valid, fast path does not (only slower)\n%s", what, b)
	}
	if scan, _ := d.c.fast[d.i].scanValid(b); scan != fast {
		d.t.Errorf("%s: fast path says %v on the bytes, %v on the value\n%s", what, scan, fast, b)
	}
	// Through the public API: the same answer as the library alone gives.
	// Invalid data takes the old path whole once the fast path says no, so
	// a sample of it is enough (and keeps the test quick under -race).
	if lib != nil && d.n%5 != 0 {
		return
	}
	typ := d.c.types[d.i].Name
	wantID, want := libraryValidate(d.c, d.i, b)
	entity, id, got := d.c.ValidateEvent(typ, b)
	if fmt.Sprint(got) != fmt.Sprint(want) || hirehook.ErrorField(got) != hirehook.ErrorField(want) {
		d.t.Errorf("%s: ValidateEvent = %v (%s), the library alone %v (%s)\n%s", what, got, hirehook.ErrorField(got), want, hirehook.ErrorField(want), b)
	}
	if got == nil && (id != wantID || entity != d.c.types[d.i].Entity) {
		d.t.Errorf("%s: ValidateEvent = %q, %q; want %q, %q\n%s", what, entity, id, d.c.types[d.i].Entity, wantID, b)
	}
}

// libraryValidate is validate without the fast path: the answer as it was.
func libraryValidate(c *Catalog, i int, data []byte) (id string, err error) {
	v, err := strictjson.Decode(data, dataLimits)
	if err != nil {
		return "", valueError("data", err)
	}
	err = c.schemas[i].Validate(v)
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		return "", fieldError(v, verr)
	}
	id, _ = v.(map[string]any)["id"].(string)
	return id, err
}

// mutate changes v (a value inside root that sch
// describes) in every way listed on TestFast_differential, one at a time,
// checking root after each and undoing it, and recurses into v's members.
func (d *differ) mutate(root, v any, sch *jsonschema.Schema, path string) {
	d.t.Helper()
	if sch == nil {
		sch = &jsonschema.Schema{}
	}
	// The schemas the value is held to: sch, and what it refers to.
	var schs []*jsonschema.Schema
	for s := sch; s != nil; s = s.Ref {
		schs = append(schs, s)
	}
	switch x := v.(type) {
	case map[string]any:
		props := map[string]*jsonschema.Schema{}
		for _, s := range schs {
			maps.Copy(props, s.Properties)
		}
		names := slices.Sorted(maps.Keys(props))
		for k := range x {
			if props[k] == nil {
				names = append(names, k)
			}
		}
		names = append(names, "x_unlisted")
		for _, name := range names {
			old, had := x[name]
			if had {
				delete(x, name)
				d.check(root, path+"."+name+" dropped")
			}
			for _, cand := range candidates(props[name]) {
				x[name] = cand
				d.check(root, fmt.Sprintf("%s.%s = %v", path, name, cand))
			}
			if had {
				x[name] = old
				d.mutate(root, old, props[name], path+"."+name)
			} else {
				delete(x, name)
			}
		}
	case []any:
		var items *jsonschema.Schema
		for _, s := range schs {
			if s.Items2020 != nil {
				items = s.Items2020
			}
		}
		for i, item := range x {
			for _, cand := range candidates(items) {
				x[i] = cand
				d.check(root, fmt.Sprintf("%s[%d] = %v", path, i, cand))
			}
			x[i] = item
			d.mutate(root, item, items, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// candidates returns values to put where sch is expected: one of each JSON
// type, and values at the edges of sch's own limits.
func candidates(sch *jsonschema.Schema) []any {
	out := []any{
		nil, true, false, json.Number("0"), json.Number("-1"), json.Number("1.5"), json.Number("1e2"),
		json.Number("-0"), json.Number("2.0"), json.Number("-0.5"),
		"", "x", "USD", "usd", "US", "USDX", "ÜSD",
		"2026-05-01", "2026-13-01", "2026-02-30", "2026-5-1",
		"2026-05-01T09:00:00Z", "2026-05-01T09:00:00+01:00", "2026-05-01T09:00:00", "2026-05-01t09:00:00.123z", "2026-05-01T24:00:00Z",
		"a@example.com", "a@b", "a@", "@b.com", "a..b@example.com", "\"a b\"@example.com", "a@[127.0.0.1]",
		map[string]any{}, map[string]any{"id": "x"}, map[string]any{"id": ""}, map[string]any{"id": json.Number("1")},
		map[string]any{"amount": json.Number("1"), "currency": "USD"}, map[string]any{"name": "n"},
		[]any{}, []any{"x"}, []any{json.Number("1")}, []any{map[string]any{}}, []any{map[string]any{"id": "x", "system": "s"}},
	}
	if sch == nil {
		return out
	}
	for s := sch; s != nil; s = s.Ref {
		if s.Enum != nil {
			out = append(out, s.Enum.Values...)
			for _, e := range s.Enum.Values {
				if str, ok := e.(string); ok {
					out = append(out, strings.ToUpper(str), str+" ")
				}
			}
		}
		for _, p := range []*int{s.MinLength, s.MaxLength} {
			if p != nil {
				for _, n := range []int{*p - 1, *p, *p + 1} {
					if n >= 0 {
						out = append(out, strings.Repeat("a", n), strings.Repeat("é", n), strings.Repeat("€", n)+"a")
					}
				}
			}
		}
		for _, r := range []*big.Rat{s.Minimum, s.Maximum} {
			if r != nil {
				for _, delta := range []string{"0", "1", "-1", "0.000000000000000000001", "-0.000000000000000000001"} {
					d, _ := new(big.Rat).SetString(delta)
					n := new(big.Rat).Add(r, d)
					out = append(out, json.Number(n.FloatString(21)))
					if n.IsInt() {
						out = append(out, json.Number(n.RatString()))
					}
				}
				out = append(out, json.Number(r.FloatString(0)+"e0"), json.Number(r.FloatString(0)+".0e1"))
			}
		}
	}
	return out
}

// FuzzFastValidate compares the fast path's verdict with the library's on
// any JSON, for a few types.
func FuzzFastValidate(f *testing.F) {
	c := Default()
	types := []string{"placement.confirmed", "candidate.created", "application.stage_changed", "job.opened", "interview.scheduled"}
	for entity, ss := range fastSamples(f, c) {
		for _, s := range ss {
			for k := range types {
				if strings.HasPrefix(types[k], entity+".") {
					f.Add(uint8(k), []byte(s))
				}
			}
		}
	}
	f.Add(uint8(0), []byte(benchData))
	f.Add(uint8(0), []byte(`{"id": "p", "pay_rate": {"amount": 1e2, "currency": "USD"}, "fee_percent": 100.0000000000000000001}`))
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		typ := types[int(k)%len(types)]
		i := c.index[typ]
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		v, err := strictjson.Decode(trimmed, dataLimits)
		if cerr := strictjson.Check(trimmed, dataLimits); (cerr == nil) != (err == nil) {
			t.Fatalf("strictjson: Check = %v, Decode = %v", cerr, err)
		}
		if err == nil {
			lib := c.schemas[i].Validate(v)
			fast := c.fast[i].valid(v)
			if fast && lib != nil {
				t.Fatalf("%s: fast path says valid, library says %v\n%s", typ, lib, data)
			}
			if !fast && lib == nil {
				t.Fatalf("%s: library says valid, fast path does not\n%s", typ, data)
			}
			if scan, _ := c.fast[i].scanValid(trimmed); scan != fast {
				t.Fatalf("%s: fast path says %v on the bytes, %v on the value\n%s", typ, scan, fast, data)
			}
		}
		// Whatever the path, the public answer is the library's.
		wantID, want := libraryValidate(c, i, trimmed)
		_, id, got := c.ValidateEvent(typ, data)
		if fmt.Sprint(got) != fmt.Sprint(want) || hirehook.ErrorField(got) != hirehook.ErrorField(want) || id != wantID {
			t.Fatalf("%s: ValidateEvent = %q, %v (%s), the library alone %q, %v (%s)\n%s", typ, id, got, hirehook.ErrorField(got), wantID, want, hirehook.ErrorField(want), data)
		}
	})
}

// TestFastBound checks the exact comparison of numbers with bounds against
// big.Rat's.
func TestFastBound(t *testing.T) {
	t.Parallel()
	nums := []string{"0", "-0", "0.0", "-0.0", "1", "-1", "0.5", "-0.5", "99", "100", "100.0", "100.000000000000000000001",
		"99.999999999999999999999", "101", "-100", "-100.5", "-99.5", "168", "1e2", "1E2", "1.00e2", "-1e-400", "1e-400",
		"12345678901234567", "123456789012345678", "123456789012345678901234567890", "-123456789012345678.5", "0.0000", "5.10"}
	bounds := []string{"0", "100", "168", "-100", "1/2", "-7/3", "100000000000000000000", "99999999999999999"}
	for _, bs := range bounds {
		r, _ := new(big.Rat).SetString(bs)
		b := newFastBound(r)
		for _, ns := range nums {
			want := func() int { n, _ := new(big.Rat).SetString(ns); return n.Cmp(r) }()
			got, ok := b.cmp(ns)
			if !ok || got != want {
				t.Errorf("cmp(%s, %s) = %d, %v; want %d", ns, bs, got, ok, want)
			}
		}
	}
	for _, ns := range nums {
		n, _ := new(big.Rat).SetString(ns)
		if got, ok := decimalIsInt(ns); !ok || got != n.IsInt() {
			t.Errorf("decimalIsInt(%s) = %v, %v; want %v", ns, got, ok, n.IsInt())
		}
	}
}
