package catalog

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestPersonalEmbedsMatchSchemas holds personalEmbeds to the schemas: every
// property that refers to a person summary is listed with the right entity,
// every listed property exists, and every field of a summary but its id is
// personal.
func TestPersonalEmbedsMatchSchemas(t *testing.T) {
	t.Parallel()
	type schema struct {
		Properties map[string]struct {
			Ref string `json:"$ref"`
		} `json:"properties"`
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	c := Default()
	for _, entity := range c.Entities() {
		raw, err := schemaFS.ReadFile("schemas/" + entity + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var s schema
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("%s: %v", entity, err)
		}
		var found []personalEmbed
		for prop, p := range s.Properties {
			if person, ok := personalSummaryDefs[p.Ref]; ok {
				found = append(found, personalEmbed{prop, person})
			}
		}
		want := personalEmbeds[entity]
		for _, e := range found {
			if !slices.Contains(want, e) {
				t.Errorf("%s: property %q embeds a %s but is not in personalEmbeds", entity, e.property, e.entity)
			}
		}
		for _, e := range want {
			if !slices.Contains(found, e) {
				t.Errorf("%s: personalEmbeds lists %q, which the schema does not embed as a %s", entity, e.property, e.entity)
			}
		}
		for def, person := range personalSummaryDefs {
			d, ok := s.Defs[def[len("#/$defs/"):]]
			if !ok {
				continue
			}
			for field := range d.Properties {
				if field != "id" && !hasPersonalField(person, field) {
					t.Errorf("%s: %s field %q is not listed as personal for %s", entity, def, field, person)
				}
			}
		}
	}
}

func TestPersonalPaths(t *testing.T) {
	t.Parallel()
	c := Default()
	has := func(paths [][]string, p ...string) bool {
		return slices.ContainsFunc(paths, func(q []string) bool { return slices.Equal(p, q) })
	}
	cand := c.PersonalPaths("candidate")
	for _, f := range []string{"first_name", "last_name", "email", "phone", "location", "date_of_birth"} {
		if !has(cand, f) {
			t.Errorf("candidate: %q is not personal", f)
		}
	}
	if has(cand, "id") {
		t.Error("candidate: id is personal")
	}
	pl := c.PersonalPaths("placement")
	if !has(pl, "candidate", "email") || !has(pl, "contact", "phone") || has(pl, "candidate", "id") {
		t.Errorf("placement paths = %v", pl)
	}
	for _, entity := range []string{"job", "job_posting", "client", "endpoint", "delivery"} {
		if p := c.PersonalPaths(entity); p != nil {
			t.Errorf("%s: personal paths %v, want none", entity, p)
		}
	}
}
