// Package codegen generates the SDK's typed catalog code from the hub's
// catalog: the entity types and event type names of package client/entity,
// and the typed accessors of package client/receiver. go generate in
// client/entity runs it (gencatalog); a test fails when the generated files
// are stale.
package codegen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"io"
	"slices"
	"strings"

	"github.com/hirehook/hirehook/catalog"
)

// object is a JSON object that remembers the order of its keys, so the
// generated fields follow the order of the schema files.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(k string) any { return o.vals[k] }

func (o *object) str(k string) string {
	s, _ := o.vals[k].(string)
	return s
}

func (o *object) obj(k string) *object {
	x, _ := o.vals[k].(*object)
	return x
}

// decode reads one JSON value; objects become *object.
func decode(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				v, err := decode(dec)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k)
				o.vals[k] = v
			}
			_, err := dec.Token() // }
			return o, err
		case '[':
			var a []any
			for dec.More() {
				v, err := decode(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ]
			return a, err
		}
	}
	return tok, nil
}

func parse(raw []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the schema")
	}
	o, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("the schema is not an object")
	}
	return o, nil
}

// canonical renders v as JSON with sorted keys, to compare defs.
func canonical(v any) string {
	var plain func(any) any
	plain = func(v any) any {
		switch x := v.(type) {
		case *object:
			m := map[string]any{}
			for k, val := range x.vals {
				m[k] = plain(val)
			}
			return m
		case []any:
			out := make([]any, len(x))
			for i, val := range x {
				out[i] = plain(val)
			}
			return out
		}
		return v
	}
	b, _ := json.Marshal(plain(v))
	return string(b)
}

// types returns the JSON types a schema allows and whether null is one.
func types(s *object) (base string, nullable bool) {
	switch t := s.get("type").(type) {
	case string:
		return t, false
	case []any:
		for _, x := range t {
			if x == "null" {
				nullable = true
			} else if str, ok := x.(string); ok && base == "" {
				base = str
			}
		}
	}
	return base, nullable
}

// initialisms are written in capitals in Go names.
var initialisms = map[string]string{"id": "ID", "ids": "IDs", "url": "URL", "urls": "URLs", "api": "API", "html": "HTML"}

// goName turns "video_url" into "VideoURL".
func goName(s string) string {
	var sb strings.Builder
	for _, w := range strings.Split(s, "_") {
		if w == "" {
			continue
		}
		if up, ok := initialisms[w]; ok {
			sb.WriteString(up)
			continue
		}
		sb.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return sb.String()
}

// generator holds the schemas and the nested types the entities use.
type generator struct {
	defs   map[string]*object // def name -> schema, the same in every file
	nested map[string]bool    // def names used as struct types
}

// entitySchema is one entity and its parsed schema.
type entitySchema struct {
	name   string // "job_posting"
	goName string // "JobPosting"
	schema *object
	types  []catalog.EventType
}

func load(cat *catalog.Catalog) (*generator, []*entitySchema, error) {
	g := &generator{defs: map[string]*object{}, nested: map[string]bool{}}
	var entities []*entitySchema
	byName := map[string]*entitySchema{}
	for _, t := range cat.Types() {
		e := byName[t.Entity]
		if e == nil {
			s, err := parse(t.Schema)
			if err != nil {
				return nil, nil, fmt.Errorf("schema of %s: %w", t.Entity, err)
			}
			e = &entitySchema{name: t.Entity, goName: goName(t.Entity), schema: s}
			byName[t.Entity] = e
			entities = append(entities, e)
			if defs := s.obj("$defs"); defs != nil {
				for _, k := range defs.keys {
					d := defs.obj(k)
					if prev, ok := g.defs[k]; ok && canonical(prev) != canonical(d) {
						return nil, nil, fmt.Errorf("$defs/%s differs between schemas; the SDK needs one Go type per def name, so rename one", k)
					}
					g.defs[k] = d
				}
			}
		}
		e.types = append(e.types, t)
	}
	slices.SortFunc(entities, func(a, b *entitySchema) int { return strings.Compare(a.name, b.name) })
	for _, e := range entities {
		if g.defs[e.name] != nil {
			return nil, nil, fmt.Errorf("a def is named like the entity %s", e.name)
		}
	}
	return g, entities, nil
}

// field is one struct field.
type field struct {
	name, jsonName, goType, tag, doc string
}

// resolve follows a $ref to its def and returns the schema to type, the
// def's name ("" for none) and the description to show.
func (g *generator) resolve(s *object) (*object, string, string, error) {
	desc := s.str("description")
	ref := s.str("$ref")
	if ref == "" {
		return s, "", desc, nil
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok || g.defs[name] == nil {
		return nil, "", "", fmt.Errorf("unsupported $ref %q", ref)
	}
	d := g.defs[name]
	if desc == "" {
		desc = d.str("description")
	}
	return d, name, desc, nil
}

// goType returns the Go type of a schema and whether it is a pointer,
// slice, map or time (which omit themselves when empty) or a plain value.
func (g *generator) goType(s *object, required bool) (typ string, omit string, err error) {
	s, def, _, err := g.resolve(s)
	if err != nil {
		return "", "", err
	}
	base, nullable := types(s)
	plain := required && !nullable
	switch base {
	case "string":
		if s.str("format") == "date-time" {
			return "time.Time", "omitzero", nil
		}
		if plain {
			return "string", "", nil
		}
		return "string", "omitempty", nil
	case "integer", "number", "boolean":
		t := map[string]string{"integer": "int", "number": "float64", "boolean": "bool"}[base]
		if plain {
			return t, "", nil
		}
		return "*" + t, "omitempty", nil
	case "array":
		items := s.obj("items")
		if items == nil {
			return "[]json.RawMessage", "omitempty", nil
		}
		elem, _, err := g.goType(items, true)
		if err != nil {
			return "", "", err
		}
		return "[]" + elem, "omitempty", nil
	case "object":
		if s.obj("properties") == nil {
			return "map[string]json.RawMessage", "omitempty", nil
		}
		if def == "" {
			return "", "", fmt.Errorf("an object with properties must be a $def to get a Go type")
		}
		g.nested[def] = true
		if plain {
			return goName(def), "", nil
		}
		return "*" + goName(def), "omitempty", nil
	case "":
		return "json.RawMessage", "omitempty", nil
	}
	return "", "", fmt.Errorf("unsupported type %q", base)
}

// fields returns the struct fields of an object schema, in schema order.
func (g *generator) fields(s *object) ([]field, error) {
	props := s.obj("properties")
	if props == nil {
		return nil, nil
	}
	required := map[string]bool{}
	if r, ok := s.get("required").([]any); ok {
		for _, x := range r {
			required[x.(string)] = true
		}
	}
	var out []field
	for _, k := range props.keys {
		p := props.obj(k)
		typ, omit, err := g.goType(p, required[k])
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", k, err)
		}
		_, _, desc, _ := g.resolve(p)
		tag := k
		if omit != "" {
			tag += "," + omit
		}
		out = append(out, field{name: goName(k), jsonName: k, goType: typ, tag: tag, doc: desc})
	}
	return out, nil
}

// comment renders text as a // comment wrapped at about 76 columns.
func comment(w io.Writer, indent, text string) {
	words := strings.Fields(text)
	line := indent + "//"
	for _, word := range words {
		if len(line)+1+len(word) > 78 && line != indent+"//" {
			fmt.Fprintln(w, line)
			line = indent + "//"
		}
		line += " " + word
	}
	if line != indent+"//" {
		fmt.Fprintln(w, line)
	}
}

// sentence turns a schema description into the rest of "X is ...".
func sentence(desc string) string {
	if desc == "" {
		return "a catalog type."
	}
	if len(desc) > 1 && desc[0] >= 'A' && desc[0] <= 'Z' && !(desc[1] >= 'A' && desc[1] <= 'Z') {
		desc = strings.ToLower(desc[:1]) + desc[1:]
	}
	return desc
}

const header = "// Code generated by client/internal/codegen/gencatalog from the catalog's JSON Schemas; DO NOT EDIT.\n\n"

// Entities returns the source of client/entity/entities_gen.go.
func Entities(cat *catalog.Catalog) ([]byte, error) {
	g, entities, err := load(cat)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("package entity\n\nimport (\n\t\"encoding/json\"\n\t\"time\"\n)\n\n")

	b.WriteString("// Event types of the catalog.\nconst (\n")
	for _, e := range entities {
		for _, t := range e.types {
			comment(&b, "\t", "Event"+goName(strings.ReplaceAll(t.Name, ".", "_"))+": "+t.Description)
			fmt.Fprintf(&b, "\tEvent%s = %q\n", goName(strings.ReplaceAll(t.Name, ".", "_")), t.Name)
		}
	}
	b.WriteString(")\n\n")

	b.WriteString("// eventEntities maps each event type to its entity.\nvar eventEntities = map[string]string{\n")
	for _, e := range entities {
		for _, t := range e.types {
			fmt.Fprintf(&b, "\t%q: %q,\n", t.Name, e.name)
		}
	}
	b.WriteString("}\n\n")

	for _, e := range entities {
		fs, err := g.fields(e.schema)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		title := e.goName
		comment(&b, "", title+" is "+sentence(e.schema.str("description")))
		fmt.Fprintf(&b, "type %s struct {\n", title)
		for _, f := range fs {
			comment(&b, "\t", f.doc)
			fmt.Fprintf(&b, "\t%s %s `json:%q`\n", f.name, f.goType, f.tag)
		}
		b.WriteString("\t// Extra holds the properties the catalog does not list, by name, as\n" +
			"\t// raw JSON. When encoding, an Extra property wins over the field of the\n" +
			"\t// same name, so Extra[\"x\"] = json.RawMessage(\"null\") sends an explicit\n" +
			"\t// null (which removes the field from the hub's record).\n" +
			"\tExtra map[string]json.RawMessage `json:\"-\"`\n}\n\n")
		lower := strings.ToLower(title[:1]) + title[1:]
		fmt.Fprintf(&b, "// EntityName returns %q.\nfunc (%s) EntityName() string { return %q }\n\n", e.name, title, e.name)
		fmt.Fprintf(&b, "// EntityID returns the entity's id.\nfunc (x %s) EntityID() string { return x.ID }\n\n", title)
		fmt.Fprintf(&b, "// MarshalJSON encodes the fields and Extra.\nfunc (x %s) MarshalJSON() ([]byte, error) {\n\ttype plain %s\n\treturn marshalWithExtra(plain(x), x.Extra)\n}\n\n", title, title)
		fmt.Fprintf(&b, "// UnmarshalJSON decodes the fields and keeps the other properties in Extra.\nfunc (x *%s) UnmarshalJSON(data []byte) error {\n\ttype plain %s\n\tif err := json.Unmarshal(data, (*plain)(x)); err != nil {\n\t\treturn err\n\t}\n\textra, err := extraProperties(data, %sFields)\n\tx.Extra = extra\n\treturn err\n}\n\n", title, title, lower)
		fmt.Fprintf(&b, "var %sFields = map[string]bool{", lower)
		for i, f := range fs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q: true", f.jsonName)
		}
		b.WriteString("}\n\n")
	}

	// Nested types, found while typing the entities (and each other).
	done := map[string]bool{}
	for {
		var todo []string
		for name := range g.nested {
			if !done[name] {
				todo = append(todo, name)
			}
		}
		if len(todo) == 0 {
			break
		}
		slices.Sort(todo)
		for _, name := range todo {
			done[name] = true
			d := g.defs[name]
			fs, err := g.fields(d)
			if err != nil {
				return nil, fmt.Errorf("$defs/%s: %w", name, err)
			}
			comment(&b, "", goName(name)+" is "+sentence(d.str("description")))
			fmt.Fprintf(&b, "type %s struct {\n", goName(name))
			for _, f := range fs {
				comment(&b, "\t", f.doc)
				fmt.Fprintf(&b, "\t%s %s `json:%q`\n", f.name, f.goType, f.tag)
			}
			b.WriteString("}\n\n")
		}
	}
	return format.Source(b.Bytes())
}

// Accessors returns the source of client/receiver/entities_gen.go: one
// method of Event per entity that decodes the data into its type.
func Accessors(cat *catalog.Catalog) ([]byte, error) {
	_, entities, err := load(cat)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("package receiver\n\nimport \"github.com/hirehook/hirehook/client/entity\"\n\n")
	for _, e := range entities {
		article := "a"
		if strings.ContainsRune("aeiou", rune(e.name[0])) {
			article = "an"
		}
		comment(&b, "", fmt.Sprintf("%s decodes the data of %s %s event, such as %s. It fails if the event is about another entity.",
			e.goName, article, strings.ReplaceAll(e.name, "_", " "), e.types[0].Name))
		fmt.Fprintf(&b, "func (e Event) %s() (*entity.%s, error) {\n\tvar v entity.%s\n\tif err := e.decodeEntity(%q, &v); err != nil {\n\t\treturn nil, err\n\t}\n\treturn &v, nil\n}\n\n",
			e.goName, e.goName, e.goName, e.name)
	}
	return format.Source(b.Bytes())
}
