package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/route"
)

// TestRouteExamplesCompile compiles every worked example the endpoint
// form shows, as the form compiles what is typed: an example that does not
// work would teach the wrong thing.
func TestRouteExamplesCompile(t *testing.T) {
	t.Parallel()
	for field, examples := range routeExamples {
		for _, ex := range examples {
			f := endpointForm{Errors: map[string]string{}}
			switch field {
			case "filter":
				f.Filter = ex.Code
			case "transform":
				f.Transform = ex.Code
			case "redact":
				f.Redact = ex.Code
			default:
				t.Fatalf("examples of an unknown field %q", field)
			}
			spec := route.Spec{Filter: f.Filter, Transform: f.Transform, Payload: "full", Redact: f.redactList()}
			if _, err := route.CompileOptions(spec, route.Options{Catalog: catalog.Default()}); err != nil {
				t.Errorf("%s example %q (%s): %v", field, ex.Code, ex.What, err)
			}
		}
	}
}

func TestSubjectName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		entity, data, want string
	}{
		{"candidate", `{"id":"c_1","first_name":"Ada","last_name":"Lovelace"}`, "Ada Lovelace"},
		{"candidate", `{"id":"c_1","name":"  Grace   Hopper ","first_name":"Grace"}`, "Grace Hopper"},
		{"contact", `{"id":"ct_1","last_name":"Babbage"}`, "Babbage"},
		{"client", `{"id":"cl_1","name":"Acme Corp"}`, "Acme Corp"},
		{"job", `{"id":"j_1","title":"Data Engineer"}`, "Data Engineer"},
		{"job_posting", `{"id":"jp_1","title":"Data Engineer (remote)"}`, "Data Engineer (remote)"},
		{"placement", `{"id":"p_1","candidate":{"id":"c_1","first_name":"Ada","last_name":"Lovelace"},"job":{"id":"j_1","title":"Nurse"},"client":{"id":"cl_1","name":"St Mary's"}}`, "Ada Lovelace · Nurse · St Mary's"},
		{"interview", `{"id":"i_1","title":"Second round","candidate":{"id":"c_1"}}`, "Second round"},
		{"application", `{"id":"a_1","candidate_id":"c_1"}`, ""},
		{"candidate", `{"id":"c_1"}`, ""},
		{"candidate", `not json`, ""},
		{"endpoint", `{"id":"ep_1","url":"https://x"}`, ""},
	} {
		if got := subjectName(tc.entity, json.RawMessage(tc.data)); got != tc.want {
			t.Errorf("subjectName(%s, %s) = %q, want %q", tc.entity, tc.data, got, tc.want)
		}
	}
	long := `{"id":"c_1","name":"` + strings.Repeat("Ä", 200) + `"}`
	if got := []rune(subjectName("candidate", json.RawMessage(long))); len(got) != maxSubjectName+1 || got[len(got)-1] != '…' {
		t.Errorf("a long name is cut to %d runes (%q), want %d and …", len(got), string(got), maxSubjectName+1)
	}
}

func TestBreakID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ id, want string }{
		{"evt_01jq7z5w8k2m0000000000000a", "evt_01jq7z5w8k2m0000000000000a"},
		{"bh:src_01jq7z5w8k2m:ID:123456789:placement_confirmed", "bh:<wbr>src_<wbr>01jq7z5w8k2m:<wbr>ID:<wbr>123456789:<wbr>placement_<wbr>confirmed"},
		{"<script>alert(1)</script>-and-more-to-make-it-long", "&lt;script&gt;alert(1)&lt;/<wbr>script&gt;-<wbr>and-<wbr>more-<wbr>to-<wbr>make-<wbr>it-<wbr>long"},
	} {
		if got := string(breakID(tc.id)); got != tc.want {
			t.Errorf("breakID(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestPlainReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ reason, want string }{
		{"filter yielded false", "The filter answers no for this event. (filter yielded false)"},
		{`filter yielded "x", not a boolean`, `The filter must answer true or false; compare a field with == to get such an answer. (filter yielded "x", not a boolean)`},
		{"transform: cannot iterate over: null", "The transform cannot build the message for this event. (transform: cannot iterate over: null)"},
		{"something new", "something new"},
	} {
		if got := plainReason(tc.reason); got != tc.want {
			t.Errorf("plainReason(%q) = %q, want %q", tc.reason, got, tc.want)
		}
	}
}
