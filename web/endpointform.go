package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/ops"
	"github.com/hirehook/hirehook/route"
)

// groupPrefix starts the value of a group's "All" box when no wildcard
// pattern covers exactly the group: "group:job_posting". Such a box saves
// the group's types one by one.
const groupPrefix = "group:"

// typeGroup is one entity's event types in the endpoint form.
type typeGroup struct {
	Entity string
	// All is the value of the group's "All" box: Wildcard when there is
	// one, else groupPrefix+Entity.
	All string
	// Wildcard is "<prefix>.*" when that pattern matches only this
	// group's types (and so future ones of the entity); empty otherwise
	// (job.* also matches the job posting types).
	Wildcard string
	// Hub is set for the hub's operational types (endpoint.*,
	// delivery.*), which it emits about itself.
	Hub bool
	// Types are the group's types a person may choose, without the
	// backfill-only snapshot types, which a backfill sends to the endpoint
	// that asked whatever it subscribes to.
	Types []catalog.EventType
}

// AllLabel names what the group's "All" box selects.
func (g typeGroup) AllLabel() string {
	return "All " + strings.ToLower(humanize(g.Entity)) + " events"
}

// entityOrder is the order the dashboard shows entities in: a
// recruitment's, from the person and the job to the placement, then the
// agency's clients; entities not listed follow in the catalog's order.
var entityOrder = []string{"candidate", "job", "job_posting", "application", "interview", "offer", "placement", "client", "contact"}

// typeGroups groups the catalog's types by entity, in entityOrder,
// leaving out the snapshot types.
func typeGroups(c *catalog.Catalog) []typeGroup {
	types := c.Types()
	catalogOrder := c.Entities()
	rank := func(e string) int {
		if i := slices.Index(entityOrder, e); i >= 0 {
			return i
		}
		return len(entityOrder) + slices.Index(catalogOrder, e)
	}
	entities := slices.Clone(catalogOrder)
	slices.SortStableFunc(entities, func(a, b string) int { return rank(a) - rank(b) })
	var groups []typeGroup
	for _, entity := range entities {
		g := typeGroup{Entity: entity}
		for _, t := range types {
			if t.Entity == entity && !catalog.Snapshot(t.Name) {
				g.Types = append(g.Types, t)
			}
		}
		if len(g.Types) == 0 {
			continue
		}
		g.Hub = catalog.Operational(g.Types[0].Name)
		prefix, _, _ := strings.Cut(g.Types[0].Name, ".")
		pattern, exact := prefix+".*", true
		for _, t := range types {
			if hirehook.MatchEventType(pattern, t.Name) && t.Entity != entity {
				exact = false
			}
		}
		if exact {
			g.Wildcard = pattern
			g.All = pattern
		} else {
			g.All = groupPrefix + entity
		}
		groups = append(groups, g)
	}
	return groups
}

// typeLabel is the part of a type's name after its entity, in words:
// "placement.confirmed" → "Confirmed", "job.posting_updated" → "Posting
// updated".
func typeLabel(name string) string {
	_, rest, _ := strings.Cut(name, ".")
	return humanize(rest)
}

// endpointForm is the create/edit form: what was entered, and the error of
// each field that was wrong.
type endpointForm struct {
	// Kind is the destination kind: hirehook.KindHTTP (a webhook to URL)
	// or a broker kind, configured by Config and credentials.
	Kind   string
	URL    string
	Config map[string]string
	// credentials are the credentials entered (never shown again: the
	// page is rendered without them); stored are the endpoint's own, for
	// validating an edit that keeps them, and savedCredentials their
	// names. Unexported, so no template can print a value.
	credentials      map[string]string
	stored           map[string]string
	savedCredentials map[string]bool
	Description      string
	// Selected holds the checked boxes: "*", the groups' All values and
	// types.
	Selected map[string]bool
	// Patterns is the free-text field for other patterns, comma-separated.
	Patterns string
	Disabled bool
	// Ordered: each subject's events in ingest order.
	Ordered bool
	// Filter, Transform, Payload and Redact (comma-separated) are the
	// endpoint's route (see package route).
	Filter, Transform, Payload, Redact string
	Errors                             map[string]string
}

// redactList splits the form's comma-separated redact field.
func (f *endpointForm) redactList() []string {
	out := []string{}
	for _, p := range strings.Split(f.Redact, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// formOf fills the form from an endpoint: patterns the checkboxes show are
// checked, the others go to the free-text field. A group without a
// wildcard shows its All box checked when every one of its types is.
func formOf(ep *hirehook.Endpoint, groups []typeGroup) endpointForm {
	f := endpointForm{Kind: kindOf(ep), URL: ep.URL, Description: ep.Description, Selected: map[string]bool{}, Disabled: ep.Disabled, Ordered: ep.Ordered, Errors: map[string]string{},
		Filter: ep.Filter, Transform: ep.Transform, Payload: ep.Payload, Redact: strings.Join(ep.Redact, ", ")}
	boxes := map[string]bool{"*": true}
	for _, g := range groups {
		if g.Wildcard != "" {
			boxes[g.Wildcard] = true
		}
		for _, t := range g.Types {
			boxes[t.Name] = true
		}
	}
	var other []string
	for _, p := range ep.EventTypes {
		if boxes[p] {
			f.Selected[p] = true
		} else {
			other = append(other, p)
		}
	}
	for _, g := range groups {
		if g.Wildcard == "" && !slices.ContainsFunc(g.Types, func(t catalog.EventType) bool { return !f.Selected[t.Name] }) {
			f.Selected[g.All] = true
		}
	}
	f.Patterns = strings.Join(other, ", ")
	f.keep(ep)
	if f.Kind != hirehook.KindHTTP {
		f.URL = ""
		f.Config = maps.Clone(ep.Config)
	}
	return f
}

// keep notes the credentials an endpoint has, which an edit keeps unless
// the form gives a new value.
func (f *endpointForm) keep(ep *hirehook.Endpoint) {
	f.stored, f.savedCredentials = ep.Credentials, map[string]bool{}
	for name := range ep.Credentials {
		f.savedCredentials[name] = true
	}
}

// parseEndpointForm reads a posted form. ep is the endpoint edited (nil
// when creating): its kind is fixed, and its credentials are kept unless
// the form gives new values; a new endpoint's kind is the form's.
func parseEndpointForm(r *http.Request, ep *hirehook.Endpoint) endpointForm {
	f := endpointForm{
		URL:         strings.TrimSpace(r.PostForm.Get("url")),
		Description: strings.TrimSpace(r.PostForm.Get("description")),
		Patterns:    strings.TrimSpace(r.PostForm.Get("patterns")),
		Disabled:    r.PostForm.Get("disabled") == "on",
		Ordered:     r.PostForm.Get("ordered") == "on",
		Filter:      strings.TrimSpace(r.PostForm.Get("filter")),
		Transform:   strings.TrimSpace(r.PostForm.Get("transform")),
		Payload:     r.PostForm.Get("payload"),
		Redact:      strings.TrimSpace(r.PostForm.Get("redact")),
		Selected:    map[string]bool{},
		Errors:      map[string]string{},
	}
	for _, v := range r.PostForm["event_types"] {
		f.Selected[v] = true
	}
	kind := strings.TrimSpace(r.PostForm.Get("kind"))
	if kind == "" {
		kind = hirehook.KindHTTP
	}
	if ep != nil {
		kind = kindOf(ep)
		f.keep(ep)
	}
	f.parseDestination(r, kind)
	if kind != hirehook.KindHTTP {
		f.URL = "" // a broker's is derived from its config
	}
	return f
}

// validate checks the form, fills Errors, and returns the event types to
// save: "*" alone if checked; otherwise the wildcards, the types no
// checked wildcard covers (a group's All box without a wildcard counts as
// each of its types), and the free-text patterns.
func (f *endpointForm) validate(c *catalog.Catalog) []string {
	// The domain's rules, field by field, so that the form shows every
	// wrong field at once (the operation stops at the first).
	f.validateDestination()
	f.fieldError((&hirehook.EndpointUpdate{Description: &f.Description}).Validate())
	if f.Payload == "" {
		f.Payload = hirehook.PayloadFull
	}
	// Compiled as the API does, so that a syntax error shows on the field
	// with its position.
	spec := route.Spec{Filter: f.Filter, Transform: f.Transform, Payload: f.Payload, Redact: f.redactList()}
	_, err := route.CompileOptions(spec, route.Options{Catalog: c})
	f.fieldError(err)
	var out []string
	var patterns []string
	for _, p := range strings.Split(f.Patterns, ",") {
		if p = strings.TrimSpace(p); p != "" {
			patterns = append(patterns, p)
		}
	}
	for _, p := range patterns {
		if !hirehook.ValidEventTypePattern(p) {
			f.Errors["patterns"] = fmt.Sprintf("%q is not an event type or pattern (such as placement.* or job.posted).", hirehook.Truncate(p, 64))
			break
		}
		if ops.PatternError(c, p) != nil {
			f.Errors["patterns"] = fmt.Sprintf("%q matches no event type.", hirehook.Truncate(p, 64))
			break
		}
	}
	chosen := map[string]bool{}
	for v := range f.Selected {
		if entity, ok := strings.CutPrefix(v, groupPrefix); ok {
			n := 0
			for _, t := range c.Types() {
				if t.Entity == entity && !catalog.Snapshot(t.Name) {
					chosen[t.Name] = true
					n++
				}
			}
			if n == 0 {
				f.Errors["event_types"] = fmt.Sprintf("%q is not a group of event types.", hirehook.Truncate(entity, 64))
				return nil
			}
			continue
		}
		if v != "*" && ops.PatternError(c, v) != nil {
			f.Errors["event_types"] = fmt.Sprintf("%q is not an event type.", hirehook.Truncate(v, 64))
			return nil
		}
		chosen[v] = true
	}
	if chosen["*"] {
		out = []string{"*"}
	} else {
		var wild, exact []string
		for v := range chosen {
			if strings.HasSuffix(v, ".*") {
				wild = append(wild, v)
			}
		}
		for v := range chosen {
			if strings.HasSuffix(v, ".*") {
				continue
			}
			covered := slices.ContainsFunc(wild, func(w string) bool { return hirehook.MatchEventType(w, v) })
			if !covered {
				exact = append(exact, v)
			}
		}
		slices.Sort(wild)
		slices.Sort(exact)
		out = append(wild, exact...)
		for _, p := range patterns {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 && f.Errors["patterns"] == "" {
		f.Errors["event_types"] = "Choose at least one event type."
	}
	if len(out) > hirehook.MaxEndpointEventTypes {
		f.Errors["event_types"] = "Choose at most 200 types or patterns; use a wildcard such as placement.* instead."
	}
	return out
}

// fieldError puts an EINVALID error on the form field it names, as a
// sentence ("The URL must …", "Filter: syntax error …"), and reports
// whether it did; a field the form does not have is left to the caller
// (and an error without a field on a route is the filter's, where jq
// expressions are entered first).
func (f *endpointForm) fieldError(err error) bool {
	if hirehook.ErrorCode(err) != hirehook.EINVALID {
		return false
	}
	name := hirehook.ErrorField(err) // url, description, event_types[i], filter, transform, payload, redact[i]
	if name == "" {
		name = "filter"
	}
	field, _, _ := strings.Cut(name, "[")
	if strings.HasPrefix(field, "config.") || strings.HasPrefix(field, "credentials.") || field == "kind" {
		f.Errors[field] = destinationError(field, hirehook.ErrorMessage(err))
		return true
	}
	switch field {
	case "url":
		f.Errors[field] = "The URL " + hirehook.ErrorMessage(err) + "."
	case "description":
		f.Errors[field] = "The description " + hirehook.ErrorMessage(err) + "."
	case "event_types", "filter", "transform", "payload", "redact":
		f.Errors[field] = strings.ToUpper(name[:1]) + name[1:] + ": " + hirehook.ErrorMessage(err) + "."
	default:
		return false
	}
	return true
}

// routeExample is one worked example of a route field, shown under it:
// what it does in plain words, and the text to put in the field.
type routeExample struct {
	What, Code string
}

// routeExamples are the worked examples of the Routing fields, by field.
// A test compiles each against the catalog, so none can rot.
var routeExamples = map[string][]routeExample{
	"filter": {
		{"Only the placements of one client", `.data.client.name == "Acme Corp"`},
		{"Only applications moved to the interview stage", `.type == "application.stage_changed" and .data.stage == "interview"`},
		{"Only events that came from Bullhorn", `.source == "bullhorn"`},
	},
	"transform": {
		{"Send just two fields", `{placement_id: .data.id, start_date: .data.start_date}`},
		{"Use the names the receiving system expects", `{employee: {given_name: .data.candidate.first_name, family_name: .data.candidate.last_name}, client: .data.client.name}`},
		{"A one-line message for a chat channel", `{text: "\(.type) for \(.subject.entity) \(.subject.id)"}`},
	},
	"redact": {
		{"Leave out personal data: names, emails, phone numbers, addresses", `personal_data`},
		{"Leave out the pay and bill rates", `.data.pay_rate, .data.bill_rate`},
		{"Leave out one field, such as the candidate's email", `.data.candidate.email`},
	},
}

// Examples returns the worked examples of a Routing field.
func (endpointPage) Examples(field string) []routeExample { return routeExamples[field] }

// routeFields are the form fields that make up the route, in form order.
var routeFields = []string{"filter", "transform", "payload", "redact"}

// RouteErrors lists the form's errors on the route fields, for the "try
// it" box.
func (f endpointForm) RouteErrors() []string {
	var out []string
	for _, name := range routeFields {
		if msg := f.Errors[name]; msg != "" {
			out = append(out, msg)
		}
	}
	return out
}

// TypeLabel is typeLabel for the template.
func (typeGroup) TypeLabel(name string) string { return typeLabel(name) }

// pagePartials are the templates a page is parsed with besides the layout
// and its own.
var pagePartials = map[string][]string{
	"endpoint": {"templates/endpointform.html"},
}
