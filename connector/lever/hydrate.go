package lever

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/internal/netguard"
)

// DefaultAPIURL is the root of the Lever API.
const DefaultAPIURL = "https://api.lever.co/v1"

// DefaultAPIOrigins are where Hydrate sends the API key by default: the
// Lever API, its EU region and its sandbox.
var DefaultAPIOrigins = []string{"https://api.lever.co", "https://api.eu.lever.co", "https://api.sandbox.lever.co"}

// MaxResponse caps how much of an API response Hydrate reads.
const MaxResponse = push.MaxFetch

// Hydrate fetches what each of res's events is about from the Lever API at
// baseURL (HTTP basic auth, the API key as user and an empty password) and
// returns res with full events, Thin false. Each event keeps its type, and
// so its id, unless the fetched state decides better: an archive whose
// reason is of type "hired" becomes application.hired (a new id, as every
// event id derives from "lv:<dedup key>:<type>", and Derived). Deleted records
// (candidate.deleted, interview.cancelled) have nothing left to fetch and
// are returned as they are.
//
// baseURL must be on one of origins ("https://host[:port]"; nil means
// DefaultAPIOrigins), else nothing is sent: the source's api_url may be
// edited by someone who cannot read its write-only API key, and must not be
// able to have it sent to their own server. A nil c means netguard's
// client, which refuses private addresses; the hub passes its own
// (netguard's too).
//
// Errors wrap push.ErrHydrateTemporary (429, 5xx, timeouts, network) or
// push.ErrHydrateGone (404, 410 on the event's own record); a refused key
// (401, 403) or an api_url off the Lever API is a plain error. No error
// holds the API key.
func Hydrate(ctx context.Context, c *http.Client, baseURL, apiKey string, origins []string, res *push.Result, opts push.Options) (*push.Result, error) {
	if res == nil {
		return nil, errors.New("lever: hydrate: no result")
	}
	if res.Unsupported || !res.Thin {
		return res, nil
	}
	if baseURL == "" {
		baseURL = DefaultAPIURL
	}
	if len(origins) == 0 {
		origins = DefaultAPIOrigins
	}
	if _, err := push.CheckOrigin(baseURL, origins); err != nil {
		return nil, fmt.Errorf("%s: hydrate: api_url: %w", System, err)
	}
	a := &api{c: c, base: strings.TrimRight(baseURL, "/"), key: apiKey}
	if a.c == nil {
		a.c = netguard.Client(netguard.Options{})
	}
	b := builder(res.DedupeKey, opts)
	out := *res
	out.Events = make([]push.Event, 0, len(res.Events))
	for _, in := range res.Events {
		ev, err := a.hydrate(ctx, b, in)
		if err != nil {
			return nil, fmt.Errorf("%s: hydrate %s: %w", System, in.Type, err)
		}
		out.Events = append(out.Events, ev)
	}
	out.Thin = false
	return &out, nil
}

func (a *api) hydrate(ctx context.Context, b *push.Builder, in push.Event) (push.Event, error) {
	var d map[string]any
	if err := json.Unmarshal(in.Data, &d); err != nil {
		return push.Event{}, fmt.Errorf("thin data: %w", err)
	}
	o := out{typ: in.Type, data: d, derived: in.Derived}
	if len(in.Changes) > 0 {
		if err := json.Unmarshal(in.Changes, &o.changes); err != nil {
			return push.Event{}, fmt.Errorf("thin changes: %w", err)
		}
	}
	var err error
	switch in.Type {
	case "candidate.deleted", "interview.cancelled":
		return in, nil
	case "candidate.created", "candidate.updated":
		err = a.contact(ctx, &o)
	case "interview.scheduled", "interview.rescheduled":
		err = a.interview(ctx, &o)
	default:
		if strings.HasPrefix(in.Type, "application.") {
			err = a.opportunity(ctx, &o)
		}
	}
	if err != nil {
		return push.Event{}, err
	}
	at := ""
	if !in.OccurredAt.IsZero() {
		at = in.OccurredAt.UTC().Format(time.RFC3339Nano)
	}
	return b.EventWith(ErrMalformed, o.typ, o.data, o.changes, at, o.derived)
}

// vendorOf returns the Lever id behind a hirehook id.
func vendorOf(v any) string {
	s, _ := v.(string)
	id, ok := strings.CutPrefix(s, IDPrefix)
	if !ok {
		return ""
	}
	return id
}

// opportunity fills an application from GET /opportunities/:id with
// expand=stage, owner and applications. The documented shape (Lever API
// docs, "Retrieve a single opportunity"): {id, name, headline, contact,
// emails [string], phones [{type, value}], location, links, createdAt,
// updatedAt, lastAdvancedAt (epoch ms), archived {archivedAt, reason},
// stage (a stage id, {id, text} expanded), owner (a user id, {id, name,
// email} expanded), tags, sources, origin, applications (ids, objects
// expanded)}.
func (a *api) opportunity(ctx context.Context, o *out) error {
	id := vendorOf(o.data["id"])
	if id == "" {
		return errors.New("application has no lever id")
	}
	q := url.Values{"expand": {"stage", "owner", "applications"}}
	opp, err := a.get(ctx, "/opportunities/"+url.PathEscape(id), q)
	if err != nil {
		return err
	}
	d := o.data
	d["kind"] = "application"
	contact := vendorID(opp["contact"])
	if contact != "" {
		d["candidate_id"] = ref(contact)
		cs := map[string]any{"id": ref(contact)}
		if e := firstEmail(opp["emails"]); e != nil {
			cs["email"] = e
		}
		if p := firstPhone(opp["phones"]); p != "" {
			cs["phone"] = p
		}
		d["candidate"] = cs
	}
	if st, err := a.stage(ctx, opp["stage"]); err != nil {
		return err
	} else if st != nil {
		d["stage"] = st
	}
	if apps, _ := opp["applications"].([]any); len(apps) > 0 {
		app := obj(apps[0])
		if p := vendorID(firstNonNil(app["posting"], app["postingId"])); p != "" {
			d["job_id"] = ref(p)
		}
	}
	if u := user(opp["owner"]); u != nil {
		d["recruiter"] = u
	}
	if s, _ := opp["sources"].([]any); len(s) > 0 {
		d["source"] = nullable(str(s[0]))
	}
	if tags := stringsOf(opp["tags"]); len(tags) > 0 {
		d["tags"] = tags
	}
	setTime(d, "applied_at", opp["createdAt"])
	setTime(d, "created_at", opp["createdAt"])
	setTime(d, "updated_at", opp["updatedAt"])
	setTime(d, "stage_changed_at", opp["lastAdvancedAt"])

	archived := obj(opp["archived"])
	reasonID := vendorID(archived["reason"])
	if archived == nil || archived["archivedAt"] == nil {
		d["status"] = "active"
		delete(d, "rejected_at")
		delete(d, "rejection_reason")
		if o.typ == "application.rejected" {
			// Archived when the webhook was sent, unarchived since: the
			// record no longer says why, so keep what the webhook said.
			d["status"] = "rejected"
		}
	} else {
		reason := map[string]any{}
		if reasonID != "" {
			if reason, err = a.getOptional(ctx, "/archive_reasons/"+url.PathEscape(reasonID)); err != nil {
				return err
			}
		}
		if str(reason["type"]) == "hired" {
			d["status"] = "hired"
			d["hired_at"] = msTime(archived["archivedAt"])
			delete(d, "rejected_at")
			delete(d, "rejection_reason")
			if o.typ == "application.rejected" {
				o.typ, o.derived = "application.hired", true
			}
		} else {
			d["status"] = "rejected"
			d["rejected_at"] = msTime(archived["archivedAt"])
			d["rejection_reason"] = nullable(str(reason["text"]))
		}
	}
	if o.typ == "application.stage_changed" {
		if ch, ok := o.changes["stage"]; ok {
			var from map[string]any
			_ = json.Unmarshal(ch.From, &from)
			prev, err := a.stage(ctx, nullable(vendorOf(from["id"])))
			if err != nil {
				return err
			}
			if prev != nil {
				d["previous_stage"] = prev
				ch.From, _ = json.Marshal(prev)
			}
			if st, ok := d["stage"].(map[string]any); ok {
				ch.To, _ = json.Marshal(st)
			}
			o.changes = map[string]hirehook.Change{"stage": ch}
		}
	}
	return nil
}

// stage returns the catalog stage of v: an expanded stage {id, text}, or
// a stage id, fetched from GET /stages/:id (documented {data: {id, text}}).
// A stage that no longer exists gives nil.
func (a *api) stage(ctx context.Context, v any) (map[string]any, error) {
	s := obj(v)
	if s == nil {
		id := vendorID(v)
		if id == "" {
			return nil, nil
		}
		var err error
		if s, err = a.getOptional(ctx, "/stages/"+url.PathEscape(id)); err != nil {
			return nil, err
		}
	}
	name := str(s["text"])
	if name == "" {
		return nil, nil
	}
	out := map[string]any{"name": name}
	if id := ref(s["id"]); id != nil {
		out["id"] = id // prefixed, like the stage ids Parse puts in changes
	}
	return out, nil
}

// contact fills a candidate from GET /contacts/:id. Shape relied on (not
// shown in full in the reference; the fields an opportunity shares with its
// contact): {id, name, headline, location {name}, emails [string], phones
// [{type, value}], isAnonymized}.
func (a *api) contact(ctx context.Context, o *out) error {
	id := vendorOf(o.data["id"])
	if id == "" {
		return errors.New("candidate has no lever id")
	}
	c, err := a.get(ctx, "/contacts/"+url.PathEscape(id), nil)
	if err != nil {
		return err
	}
	d := o.data
	if n := str(c["name"]); n != "" {
		d["name"] = n
	}
	if h := str(c["headline"]); h != "" {
		d["headline"] = h
	}
	switch l := c["location"].(type) {
	case string:
		if l != "" {
			d["location"] = map[string]any{"name": l}
		}
	case map[string]any:
		if n := str(l["name"]); n != "" {
			d["location"] = map[string]any{"name": n}
		}
	}
	var emails []any
	for _, e := range stringsOf(c["emails"]) {
		if ok := push.Email(e.(string)); ok != "" {
			emails = append(emails, map[string]any{"value": ok})
		}
	}
	if len(emails) > 0 {
		d["emails"] = emails
		d["email"] = obj(emails[0])["value"]
	}
	var phones []any
	for _, p := range asArray(c["phones"]) {
		v := str(obj(p)["value"])
		if v == "" || len(v) > 64 {
			continue
		}
		cp := map[string]any{"value": v}
		if t := str(obj(p)["type"]); t != "" {
			cp["type"] = t
		}
		phones = append(phones, cp)
	}
	if len(phones) > 0 {
		d["phones"] = phones
		d["phone"] = obj(phones[0])["value"]
	}
	if anon, _ := c["isAnonymized"].(bool); anon {
		d["status"] = "anonymized"
	}
	return nil
}

// interview fills an interview from GET
// /opportunities/:opportunity/interviews/:interview. Documented shape:
// {id, subject, note, interviewers [{id, email, name}], timezone,
// createdAt, date (epoch ms), duration (minutes), location, canceledAt}.
// Without the opportunity (application_id) there is no URL, and the event
// stays as it is.
func (a *api) interview(ctx context.Context, o *out) error {
	id, opp := vendorOf(o.data["id"]), vendorOf(o.data["application_id"])
	if id == "" || opp == "" {
		return nil
	}
	iv, err := a.get(ctx, "/opportunities/"+url.PathEscape(opp)+"/interviews/"+url.PathEscape(id), nil)
	if err != nil {
		return err
	}
	d := o.data
	if s := str(iv["subject"]); s != "" {
		d["title"] = s
	}
	if tz := str(iv["timezone"]); tz != "" {
		d["timezone"] = tz
	}
	if l := str(iv["location"]); l != "" {
		d["location"] = l
	}
	setTime(d, "start_at", iv["date"])
	if start, ok := iv["date"].(float64); ok {
		if mins, ok := iv["duration"].(float64); ok && mins > 0 {
			setTime(d, "end_at", start+mins*60000)
		}
	}
	setTime(d, "created_at", iv["createdAt"])
	var people []any
	for _, p := range asArray(iv["interviewers"]) {
		if u := user(p); u != nil {
			people = append(people, u)
		}
	}
	if len(people) > 0 {
		d["interviewers"] = people
	}
	if iv["canceledAt"] != nil {
		d["status"] = "cancelled"
		setTime(d, "cancelled_at", iv["canceledAt"])
	} else {
		d["status"] = "scheduled"
	}
	return nil
}

// user maps a Lever user {id, name, email} (or a bare id) onto the
// catalog's user.
func user(v any) map[string]any {
	u := obj(v)
	if u == nil {
		if id := vendorID(v); id != "" {
			return map[string]any{"id": ref(id)}
		}
		return nil
	}
	out := map[string]any{}
	if id := vendorID(u["id"]); id != "" {
		out["id"] = ref(id)
	}
	if n := str(u["name"]); n != "" {
		out["name"] = n
	}
	if e := push.Email(str(u["email"])); e != "" {
		out["email"] = e
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func asArray(v any) []any { a, _ := v.([]any); return a }

func stringsOf(v any) []any {
	var out []any
	for _, x := range asArray(v) {
		if s := str(x); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func firstEmail(v any) any {
	for _, e := range stringsOf(v) {
		if ok := push.Email(e.(string)); ok != "" {
			return ok
		}
	}
	return nil
}

func firstPhone(v any) string {
	for _, p := range asArray(v) {
		if s := str(obj(p)["value"]); s != "" && len(s) <= 64 {
			return s
		}
	}
	return ""
}

// setTime sets d[k] from epoch ms, unless there is none.
func setTime(d map[string]any, k string, v any) {
	if t := msTime(v); t != nil {
		d[k] = t
	}
}

// api is one Hydrate's view of the Lever API.
type api struct {
	c    *http.Client
	base string
	key  string
}

// getOptional is get for a secondary record (a stage, an archive reason):
// one that is gone gives an empty object, not an error, so the event still
// hydrates.
func (a *api) getOptional(ctx context.Context, path string) (map[string]any, error) {
	m, err := a.get(ctx, path, nil)
	if errors.Is(err, push.ErrHydrateGone) {
		return map[string]any{}, nil
	}
	return m, err
}

// get fetches base+path and returns the response's data object (every
// Lever API response is {"data": ...}).
func (a *api) get(ctx context.Context, path string, q url.Values) (map[string]any, error) {
	u := a.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.SetBasicAuth(a.key, "")
	raw, err := push.Fetch(a.c, req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("get %s: decode response: %w", path, err)
	}
	if env.Data == nil {
		return nil, fmt.Errorf("get %s: response has no data object", path)
	}
	return env.Data, nil
}
