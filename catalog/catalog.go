package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/strictjson"
)

// EventType describes one event type of the catalog.
type EventType struct {
	Name        string          `json:"name"`        // "placement.confirmed"
	Entity      string          `json:"entity"`      // "placement", "job_posting", ...
	Description string          `json:"description"` // one sentence, for humans
	Version     int             `json:"version"`     // schema version, 1 for now
	Schema      json.RawMessage `json:"schema"`      // the JSON Schema of data
}

// Catalog is an immutable set of event types; safe for concurrent use.
type Catalog struct {
	types    []EventType          // sorted by name
	index    map[string]int       // type name -> position in types
	schemas  []*jsonschema.Schema // compiled schema of types[i]
	fast     []*fastNode          // fast check of schemas[i]; nil: the library only
	entities []string             // sorted
}

// schemaVersion is the version of every schema in the catalog. It goes up
// when a schema changes in a way that can reject data it used to accept.
const schemaVersion = 1

// schemaIDPrefix starts the $id of every schema; the entity name ends it.
const schemaIDPrefix = "urn:hirehook:catalog:v1:"

//go:embed schemas/*.json
var schemaFS embed.FS

// definition is one row of the table of event types.
type definition struct {
	name, entity, description string
}

// definitions lists every event type. The schema of a type is
// schemas/<entity>.json. Keep the rows grouped by entity and the descriptions
// to one sentence: the API and the dashboard show them as they are.
var definitions = []definition{
	{"candidate.created", "candidate", "A candidate was added: a new person record in the ATS or CRM."},
	{"candidate.updated", "candidate", "A candidate's profile changed: name, contact details, location, tags or custom fields."},
	{"candidate.deleted", "candidate", "A candidate was deleted in the source system; data may carry only the id."},
	{"candidate.anonymized", "candidate", "A candidate's personal data was erased, for example on a GDPR request; data carries the id and whatever is left."},
	{"candidate.snapshot", "candidate", "The current record of a candidate, sent by a backfill; only the hub emits it."},

	{"job.created", "job", "A job was created: a new requisition, or a job order taken from a client."},
	{"job.updated", "job", "A job's details changed: title, description, openings, rates, team or custom fields."},
	{"job.approved", "job", "A job's requisition was approved internally, so it can be opened."},
	{"job.opened", "job", "A job opened and is accepting candidates."},
	{"job.closed", "job", "A job closed because it was filled, cancelled, put on hold or lost; close_reason says which."},
	{"job.deleted", "job", "A job was deleted in the source system; data may carry only the id."},
	{"job.snapshot", "job", "The current record of a job, sent by a backfill; only the hub emits it."},

	{"job.posted", "job_posting", "A job posting went live on a career site or job board."},
	{"job.posting_updated", "job_posting", "A job posting's content, location or advertised pay changed."},
	{"job.unposted", "job_posting", "A job posting was taken down or expired."},
	{"job_posting.snapshot", "job_posting", "The current record of a job posting, sent by a backfill; only the hub emits it."},

	{"application.created", "application", "A candidate entered a job's pipeline: applied, was sourced, or was submitted by an agency to a client."},
	{"application.updated", "application", "An application changed other than by a stage move: source, recruiter, tags or custom fields."},
	{"application.stage_changed", "application", "An application moved to another pipeline stage; stage and previous_stage say where to and where from."},
	{"application.rejected", "application", "An application was rejected or disqualified; rejection_reason says why."},
	{"application.reactivated", "application", "A rejected or withdrawn application was put back into the pipeline."},
	{"application.hired", "application", "The candidate was hired for the job and the application is marked hired."},
	{"application.withdrawn", "application", "The candidate withdrew from the process; withdrawal_reason says why."},
	{"application.deleted", "application", "An application or submission was deleted in the source system; data may carry only the id."},
	{"application.snapshot", "application", "The current record of an application, sent by a backfill; only the hub emits it."},

	{"interview.scheduled", "interview", "An interview with the candidate was booked."},
	{"interview.rescheduled", "interview", "An interview's time, place or interviewers changed."},
	{"interview.updated", "interview", "An interview's other details changed: notes, type, contacts or custom fields, not its time or place."},
	{"interview.cancelled", "interview", "An interview was called off; cancellation_reason says why."},
	{"interview.completed", "interview", "An interview took place; feedback may follow."},
	{"interview.snapshot", "interview", "The current record of an interview, sent by a backfill; only the hub emits it."},

	{"offer.created", "offer", "An offer was drafted, or a new version of it was made."},
	{"offer.approved", "offer", "An offer was approved internally and can be extended to the candidate."},
	{"offer.extended", "offer", "An offer was sent to the candidate."},
	{"offer.accepted", "offer", "The candidate accepted the offer."},
	{"offer.signed", "offer", "The offer letter or contract was signed."},
	{"offer.declined", "offer", "The candidate declined the offer; decline_reason says why."},
	{"offer.withdrawn", "offer", "The offer was withdrawn or rescinded before the candidate accepted it."},
	{"offer.snapshot", "offer", "The current record of an offer, sent by a backfill; only the hub emits it."},

	{"placement.created", "placement", "A placement was recorded: the candidate is to be placed, pending confirmation."},
	{"placement.confirmed", "placement", "A placement was confirmed: the candidate will start work for the client."},
	{"placement.updated", "placement", "A placement's terms changed: dates, rates, hours or contacts."},
	{"placement.started", "placement", "A placement began: it is the worker's first day on the job."},
	{"placement.ended", "placement", "A placement ended because the assignment completed or was terminated; end_reason says which."},
	{"placement.cancelled", "placement", "A placement fell through before its start date."},
	{"placement.deleted", "placement", "A placement was deleted in the source system; data may carry only the id."},
	{"placement.snapshot", "placement", "The current record of a placement, sent by a backfill; only the hub emits it."},

	{"client.created", "client", "A client company was added to the agency's CRM."},
	{"client.updated", "client", "A client company's details changed."},
	{"client.deleted", "client", "A client company was deleted in the source system; data may carry only the id."},
	{"client.snapshot", "client", "The current record of a client company, sent by a backfill; only the hub emits it."},

	{"contact.created", "contact", "A contact at a client company was added."},
	{"contact.updated", "contact", "A client contact's details changed."},
	{"contact.deleted", "contact", "A client contact was deleted in the source system; data may carry only the id."},
	{"contact.snapshot", "contact", "The current record of a client contact, sent by a backfill; only the hub emits it."},

	// Operational events: the hub emits these itself (source "hirehook")
	// about its own endpoints and deliveries.
	{"endpoint.disabled", "endpoint", "The hub disabled an endpoint, for example because it answered 410 Gone; disabled_reason says why."},
	{"endpoint.tested", "endpoint", "An operator sent a test event (from the dashboard or POST /v1/endpoints/{id}/test) to check that an endpoint receives and verifies webhooks; it goes to that endpoint only, data.id names it, and nothing else changed."},

	{"delivery.failing", "delivery", "A delivery failed its 4th attempt and will be retried; next_attempt_at says when."},
	{"delivery.exhausted", "delivery", "A delivery failed for good because its retries are used up."},
	{"delivery.recovered", "delivery", "A delivery reported failing (delivery.failing) succeeded after all."},
}

// defaultCatalog is built when the package is initialised, so a broken
// embedded schema stops the program at start rather than at the first event.
var defaultCatalog = mustBuild(schemaFS, definitions)

// Default returns the catalog embedded in the binary. It is parsed and
// compiled once, at package initialisation, which panics if an embedded
// schema is broken: that is a programmer error.
func Default() *Catalog {
	return defaultCatalog
}

func mustBuild(fsys fs.FS, defs []definition) *Catalog {
	c, err := build(fsys, defs)
	if err != nil {
		panic(fmt.Sprintf("catalog: %v", err))
	}
	return c
}

// build reads and compiles the schema of every entity in defs from
// fsys/schemas and returns the catalog. Every schema file must be used by at
// least one type, so a stray or misnamed file is caught.
func build(fsys fs.FS, defs []definition) (*Catalog, error) {
	c := &Catalog{index: make(map[string]int, len(defs))}
	raws := make(map[string][]byte)                 // entity -> schema file
	compiled := make(map[string]*jsonschema.Schema) // entity -> its compiled schema
	fast := make(map[string]*fastNode)              // entity -> its fast check, if any

	files, err := fs.Glob(fsys, "schemas/*.json")
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	for _, file := range files {
		entity := strings.TrimSuffix(path.Base(file), ".json")
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", file, err)
		}
		sch, err := compile(entity, raw)
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", file, err)
		}
		raws[entity] = raw
		compiled[entity] = sch
		fast[entity] = compileFast(sch)
		c.entities = append(c.entities, entity)
	}
	slices.Sort(c.entities)

	used := make(map[string]bool)
	for _, d := range defs {
		if !validTypeName(d.name) {
			return nil, fmt.Errorf("event type %q: name must be <noun>.<verb> in lower snake case", d.name)
		} else if _, ok := c.index[d.name]; ok {
			return nil, fmt.Errorf("event type %q: listed twice", d.name)
		} else if raws[d.entity] == nil {
			return nil, fmt.Errorf("event type %q: no schema for entity %q", d.name, d.entity)
		} else if d.description == "" {
			return nil, fmt.Errorf("event type %q: no description", d.name)
		}
		used[d.entity] = true
		c.index[d.name] = -1
		c.types = append(c.types, EventType{
			Name:        d.name,
			Entity:      d.entity,
			Description: d.description,
			Version:     schemaVersion,
			Schema:      raws[d.entity],
		})
	}
	for _, entity := range c.entities {
		if !used[entity] {
			return nil, fmt.Errorf("schema %s.json: no event type uses it", entity)
		}
	}

	slices.SortFunc(c.types, func(a, b EventType) int { return strings.Compare(a.Name, b.Name) })
	c.schemas = make([]*jsonschema.Schema, len(c.types))
	c.fast = make([]*fastNode, len(c.types))
	for i, t := range c.types {
		c.index[t.Name] = i
		c.schemas[i] = compiled[t.Entity]
		c.fast[i] = fast[t.Entity]
	}
	return c, nil
}

// compile compiles the schema of one entity. Format assertion is turned on:
// draft 2020-12 treats "format" as an annotation by default, which would let
// "not-an-email" through as an email.
func compile(entity string, raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	id := schemaIDPrefix + entity
	if obj["$id"] != id {
		return nil, fmt.Errorf("$id is %v, want %q", obj["$id"], id)
	}
	if defs, ok := obj["$defs"].(map[string]any); ok {
		for k, v := range obj {
			if k != "$defs" {
				obj[k] = inlineRefs(v, defs, nil)
			}
		}
	}

	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.AssertFormat()
	// Refuse to load anything from outside: each schema is self-contained.
	comp.UseLoader(jsonschema.SchemeURLLoader{})
	if err := comp.AddResource(id, doc); err != nil {
		return nil, err
	}
	return comp.Compile(id)
}

// inlineRefs returns v with each {"$ref": "#/$defs/name"} replaced by the
// definition's keywords merged into the referring object. The validator
// then checks the same keywords without entering a new scope per $ref,
// which was a third of the cost of validating an event; the errors it
// reports name the same data paths and keywords. A $ref is kept when the
// referring object has a keyword the definition also has (other than
// annotations), or when the definition refers back to itself.
func inlineRefs(v any, defs map[string]any, stack []string) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = inlineRefs(x[i], defs, stack)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, w := range x {
			out[k] = inlineRefs(w, defs, stack)
		}
		ref, _ := out["$ref"].(string)
		name, ok := strings.CutPrefix(ref, "#/$defs/")
		if !ok || slices.Contains(stack, name) {
			return out
		}
		def, ok := defs[name].(map[string]any)
		if !ok {
			return out
		}
		for k := range def {
			if _, clash := out[k]; clash && !annotation(k) {
				return out
			}
		}
		merged := inlineRefs(def, defs, append(stack, name)).(map[string]any)
		delete(out, "$ref")
		for k, w := range merged {
			if _, ok := out[k]; !ok {
				out[k] = w
			}
		}
		return out
	}
	return v
}

// annotation reports keywords that do not constrain the data, so the
// referring object's own value can stand in for the definition's.
func annotation(k string) bool {
	switch k {
	case "description", "title", "examples", "$comment", "default", "deprecated", "readOnly", "writeOnly":
		return true
	}
	return false
}

// validTypeName reports whether name is two lower snake case words joined by
// a dot, the form Standard Webhooks recommends.
func validTypeName(name string) bool {
	noun, verb, ok := strings.Cut(name, ".")
	return ok && isSnake(noun) && isSnake(verb)
}

func isSnake(s string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// Types returns all types sorted by name. The slice is the caller's; each
// Schema is a copy.
func (c *Catalog) Types() []EventType {
	types := make([]EventType, len(c.types))
	for i, t := range c.types {
		t.Schema = slices.Clone(t.Schema)
		types[i] = t
	}
	return types
}

// Lookup returns the type by exact name. Its Schema is a copy.
func (c *Catalog) Lookup(name string) (EventType, bool) {
	i, ok := c.index[name]
	if !ok {
		return EventType{}, false
	}
	t := c.types[i]
	t.Schema = slices.Clone(t.Schema)
	return t, true
}

// Entity returns the entity of the event type name, without copying its schema.
func (c *Catalog) Entity(name string) (string, bool) {
	i, ok := c.index[name]
	if !ok {
		return "", false
	}
	return c.types[i].Entity, true
}

// Operational reports whether typ is one of the hub's operational event
// types (endpoint.*, delivery.*): the hub emits them itself, with source
// "hirehook", about its own endpoints and deliveries; producers may not
// send them. The test is by name, so it holds for a type a later version
// adds under those prefixes.
func Operational(typ string) bool {
	return strings.HasPrefix(typ, "endpoint.") || strings.HasPrefix(typ, "delivery.")
}

// Snapshot reports whether typ is a snapshot type (<entity>.snapshot): the
// hub emits it itself, to one endpoint, when a backfill sends the current
// record of an entity. Producers may not send it.
func Snapshot(typ string) bool {
	return strings.HasSuffix(typ, ".snapshot")
}

// HubOnly reports whether only the hub may emit typ: the operational types
// and the snapshot types. Producers may not send them; endpoints may
// subscribe to them.
func HubOnly(typ string) bool {
	return Operational(typ) || Snapshot(typ)
}

// Entities returns the entity names sorted.
func (c *Catalog) Entities() []string {
	return slices.Clone(c.entities)
}

// Validate checks data (raw JSON) against the schema of type typ and returns
// nil if it is valid. Otherwise it returns a *hirehook.Error with code
// EINVALID: Field "type" for an unknown type; Field "data" when data is
// missing, is not JSON or is not a JSON object; the path where data breaks
// its limits (MaxDataDepth, MaxDataString, MaxDataKeys, MaxDataBytes) or
// the rules of JSON every parser reads alike (valid UTF-8, no lone
// surrogate, no duplicate key, numbers within float64, no U+0000),
// checked in the one pass that decodes it; else the dotted path of the
// failing property ("data.candidate.email", "data.pay_rate.amount",
// "data.interviewers[2].email") with a short message such as "is required" or
// "must be a valid email address". Of several failures, the deepest one is
// reported.
func (c *Catalog) Validate(typ string, data json.RawMessage) error {
	_, _, err := c.ValidateEvent(typ, data)
	return err
}

// ValidateEvent is Validate for ingest: on success it also returns the type's
// entity and data's id (which every schema requires), from the one decoding
// that validation needs.
func (c *Catalog) ValidateEvent(typ string, data json.RawMessage) (entity, id string, err error) {
	i, ok := c.index[typ]
	if !ok {
		return "", "", hirehook.FieldError("type", "unknown event type %q", typ)
	}
	id, err = c.validate(i, typ, data)
	if err != nil {
		return "", "", err
	}
	// The id shares one copy of data with the rest (strictjson.Decode,
	// scanValid): a copy of the id, which outlives the rest, lets that go.
	return c.types[i].Entity, strings.Clone(id), nil
}

// validate checks data against schema i and returns its id member, if a
// string.
func (c *Catalog) validate(i int, typ string, data json.RawMessage) (id string, err error) {

	// Reject non-objects before decoding them: a cheap check that also gives
	// a clearer message than the schema's "must be an object".
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return "", hirehook.FieldError("data", "is required")
	} else if trimmed[0] != '{' {
		return "", hirehook.FieldError("data", "must be a JSON object")
	}

	// Valid data, nearly all of it, ends here: checked on its bytes,
	// without building a value or calling the library (fast.go, scan.go).
	// Anything else takes the path below, which decides and words the
	// error as the library sees it.
	if f := c.fast[i]; f != nil && strictjson.Check(trimmed, dataLimits) == nil {
		if ok, id := f.scanValid(trimmed); ok {
			return id, nil
		}
	}

	v, err := strictjson.Decode(trimmed, dataLimits)
	if err != nil {
		return "", valueError("data", err)
	}
	err = c.schemas[i].Validate(v)
	if err == nil {
		id, _ = v.(map[string]any)["id"].(string)
		return id, nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return "", fmt.Errorf("validate %s data: %w", typ, err)
	}
	return "", fieldError(v, verr)
}
