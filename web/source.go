package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// Source health thresholds. A source is polled every interval (the
// connector's poll_interval_ms, 2 s by default), backing off up to 2 min
// after errors, and the node that runs it writes its health every 10 s (a
// third of the default 30 s source lease). The rules, first match wins:
//
//   - disabled: the source is disabled.
//   - failing: no successful poll for sourceStale (at least 2 min, or 10
//     intervals when the interval is longer): events from the vendor are
//     not reaching the hub. A source younger than that (or enabled again
//     since) that has not been polled yet waits for its first poll.
//   - degraded: the latest poll failed (a success came before it, within
//     sourceStale), or the lag from the vendor's event time to ingest is
//     over sourceLagDegraded.
//   - healthy: otherwise.
const (
	sourceDefaultInterval = 2 * time.Second
	sourceStaleMin        = 2 * time.Minute
	sourceStaleIntervals  = 10
	sourceLagDegraded     = 5 * time.Minute
)

// sourceInterval reads the poll interval from a source's public config
// (poll_interval_ms, as the Bullhorn connector names it).
func sourceInterval(src *hirehook.Source) time.Duration {
	var c struct {
		PollIntervalMS int64 `json:"poll_interval_ms"`
	}
	if json.Unmarshal(src.Config, &c) == nil && c.PollIntervalMS > 0 {
		return time.Duration(c.PollIntervalMS) * time.Millisecond
	}
	return sourceDefaultInterval
}

// sourceStale is how long a source may go without a successful poll before
// it counts as failing.
func sourceStale(interval time.Duration) time.Duration {
	return max(sourceStaleMin, sourceStaleIntervals*interval)
}

// sourceHealthOf applies the thresholds above.
func sourceHealthOf(src *hirehook.Source, now time.Time) Health {
	if !src.Enabled {
		return Health{HealthDisabled, "Disabled: the hub does not poll it."}
	}
	hl := src.Health
	interval := sourceInterval(src)
	stale := sourceStale(interval)
	since := src.CreatedAt
	if src.UpdatedAt.After(since) {
		since = src.UpdatedAt
	}
	lastErr := ""
	if hl.LastError != "" {
		lastErr = " Last error: " + excerpt(hl.LastError, 160)
	}
	switch {
	case hl.LastSuccessAt == nil && hl.LastPollAt == nil:
		if now.Sub(since) >= stale {
			return Health{HealthFailing, fmt.Sprintf("Never polled in %s: is a hub node running it?", span(now.Sub(since)))}
		}
		return Health{HealthHealthy, "Waiting for its first poll."}
	case hl.LastSuccessAt == nil:
		if now.Sub(since) >= stale {
			return Health{HealthFailing, "No poll has succeeded yet." + lastErr}
		}
		return Health{HealthDegraded, "Its first polls failed." + lastErr}
	case now.Sub(*hl.LastSuccessAt) >= stale:
		return Health{HealthFailing, fmt.Sprintf("No successful poll for %s.", span(now.Sub(*hl.LastSuccessAt))) + lastErr}
	case hl.LastErrorAt != nil && hl.LastErrorAt.After(*hl.LastSuccessAt):
		return Health{HealthDegraded, "The latest poll failed." + lastErr}
	case time.Duration(hl.LagMS)*time.Millisecond > sourceLagDegraded:
		return Health{HealthDegraded, fmt.Sprintf("Events reach the hub %s after they happen.", span(time.Duration(hl.LagMS)*time.Millisecond))}
	}
	return Health{HealthHealthy, fmt.Sprintf("Polled every %s; the last success was %s.", span(interval), ago(now, hl.LastSuccessAt))}
}

// Push source health. A push source is not polled: its vendor posts
// webhooks to its ingest URL whenever something happens, so silence is
// normal for a while and only a long one is worth a look. The rules, from
// the request log's sums (hirehook.InboundStats), first match wins:
//
//   - disabled: the source is disabled (the hub answers its webhooks 503).
//   - no request yet: healthy while the source is younger than
//     pushQuietDegraded (it waits for its first webhook), else degraded.
//   - failing: the latest request was rejected (a rejection after the last
//     verified request, or rejections and no verified one): the vendor's
//     webhooks do not get in, typically for a wrong signing secret.
//   - degraded: verified requests failed to normalise; the request log
//     says why, and Reprocess runs them again once that is fixed.
//   - healthy: otherwise.
const pushQuietDegraded = 24 * time.Hour

// pushHealthOf applies the push rules above; st may be nil (no request).
func pushHealthOf(src *hirehook.Source, st *hirehook.InboundStats, now time.Time) Health {
	if !src.Enabled {
		return Health{HealthDisabled, "Disabled: the hub refuses its webhooks."}
	}
	if st == nil {
		st = &hirehook.InboundStats{}
	}
	since := src.CreatedAt
	if src.UpdatedAt.After(since) {
		since = src.UpdatedAt
	}
	switch {
	case st.LastReceivedAt == nil && st.LastRejectedAt == nil:
		if now.Sub(since) >= pushQuietDegraded {
			return Health{HealthDegraded, fmt.Sprintf("No webhook in %s: is its ingest URL set up in the vendor's settings?", span(now.Sub(since)))}
		}
		return Health{HealthHealthy, "Waiting for its first webhook."}
	case st.LastRejectedAt != nil && (st.LastVerifiedAt == nil || st.LastRejectedAt.After(*st.LastVerifiedAt)):
		reason := excerpt(st.LastRejection, 160)
		if reason == "" {
			reason = "the signature did not verify."
		} else if !strings.HasSuffix(reason, ".") && !strings.HasSuffix(reason, "?") && !strings.HasSuffix(reason, "…") {
			reason += "."
		}
		return Health{HealthFailing, "Webhooks are rejected: " + reason + " Check the signing secret."}
	case st.ByStatus[hirehook.InboundFailed] > 0:
		n := int(st.ByStatus[hirehook.InboundFailed])
		return Health{HealthDegraded, fmt.Sprintf("%s failed to normalise; see the request log.", countNoun(n, "webhook", "webhooks"))}
	}
	last := st.LastReceivedAt
	if last == nil {
		last = st.LastVerifiedAt
	}
	return Health{HealthHealthy, fmt.Sprintf("Last webhook %s.", ago(now, last))}
}

// sourceRow is one source on the Sources and Integrations pages. Its
// figures mean the same for both kinds of source where they can: for a
// polled source they come from its health report, for a push source from
// its request log.
type sourceRow struct {
	Source *hirehook.Source
	Health Health
	// Lag is Health.LagMS as a duration (polled sources).
	Lag time.Duration
	// Push is true for a source that takes webhooks; IngestURL is where
	// (absolute) and Requests sums its request log.
	Push      bool
	IngestURL string
	Requests  *hirehook.InboundStats
	// LastSeen is the last poll or request received; LastOK the last
	// successful poll or verified request.
	LastSeen, LastOK *time.Time
	// Read counts vendor events read (polled) or requests verified
	// (push); Emitted the catalog events they became; Errors the failed
	// polls, or the rejected and failed requests.
	Read, Emitted, Errors int64
}

// verifiedOf counts a push source's requests whose signature verified
// (every state but rejected).
func verifiedOf(st *hirehook.InboundStats) int64 {
	var n int64
	for status, c := range st.ByStatus {
		if status != hirehook.InboundRejected {
			n += c
		}
	}
	return n
}

// newSourceRow rates one source. stats are the tenant's request log sums
// (InboundStats), read once per page.
func (h *Handler) newSourceRow(src *hirehook.Source, stats map[string]*hirehook.InboundStats, origin string, now time.Time) sourceRow {
	if !h.cfg.PushKinds[src.Kind] {
		hl := src.Health
		return sourceRow{Source: src, Health: sourceHealthOf(src, now), Lag: time.Duration(hl.LagMS) * time.Millisecond,
			LastSeen: hl.LastPollAt, LastOK: hl.LastSuccessAt, Read: hl.EventsRead, Emitted: hl.EventsEmitted, Errors: hl.Errors}
	}
	st := stats[src.ID]
	if st == nil {
		st = &hirehook.InboundStats{ByStatus: map[string]int64{}}
	}
	return sourceRow{Source: src, Health: pushHealthOf(src, st, now), Push: true, IngestURL: h.ingestURL(origin, src.ID), Requests: st,
		LastSeen: st.LastReceivedAt, LastOK: st.LastVerifiedAt, Read: verifiedOf(st), Emitted: st.Events,
		Errors: st.ByStatus[hirehook.InboundRejected] + st.ByStatus[hirehook.InboundFailed]}
}

// ingestURL is where a push source's vendor posts: under Config.PublicURL
// when set, else the address the browser reached the dashboard at.
func (h *Handler) ingestURL(origin, sourceID string) string {
	if h.cfg.PublicURL != "" {
		origin = strings.TrimSuffix(h.cfg.PublicURL, "/")
	}
	return origin + "/in/" + sourceID
}

// sourcesPage is the data of the Sources page.
type sourcesPage struct {
	// Polled and Pushed are the sources of each kind.
	Polled, Pushed []sourceRow
	Total          int
	Counts         map[string]int
	// Read, Emitted and Errors total the sources' figures.
	Read, Emitted, Errors int64
	// Origin is the hub's address as the browser reached it.
	Origin string
	// Guides are the kinds a person can connect from the dashboard.
	Guides []ops.SourceGuide
}

// sourceRows reads the tenant's sources and rates their health. Secrets are
// dropped at once: no page shows them. The request log's sums are read
// once, and only when there is a push source.
func (h *Handler) sourceRows(ctx context.Context, tenantID, origin string, now time.Time) ([]sourceRow, error) {
	list, err := h.store.SourceList(ctx, hirehook.SourceFilter{TenantID: tenantID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	var stats map[string]*hirehook.InboundStats
	if slices.ContainsFunc(list, func(s *hirehook.Source) bool { return h.cfg.PushKinds[s.Kind] }) {
		if stats, err = h.store.InboundStats(ctx, tenantID); err != nil {
			return nil, err
		}
	}
	rows := make([]sourceRow, 0, len(list))
	for _, src := range list {
		src.Secrets, src.Checkpoint = nil, nil
		rows = append(rows, h.newSourceRow(src, stats, origin, now))
	}
	return rows, nil
}

func (h *Handler) handleSourceList(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	origin := originOf(r)
	rows, err := h.sourceRows(r.Context(), p.tenantID, origin, h.cfg.NowFunc().UTC())
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := sourcesPage{Total: len(rows), Counts: map[string]int{}, Origin: origin, Guides: h.sourceGuides()}
	for _, row := range rows {
		if row.Push {
			page.Pushed = append(page.Pushed, row)
		} else {
			page.Polled = append(page.Polled, row)
		}
		page.Counts[string(row.Health.State)]++
		page.Read += row.Read
		page.Emitted += row.Emitted
		page.Errors += row.Errors
	}
	h.render(w, r, http.StatusOK, "sources", "Sources", "sources", page)
}

// originOf is the scheme and host the request came to.
func originOf(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// sourceRequestsShown is how many requests the source page lists.
const sourceRequestsShown = 50

// inboundStates are the states of a push source's request, in the order
// the status filter offers them.
var inboundStates = []string{hirehook.InboundReceived, hirehook.InboundProcessed, hirehook.InboundUnsupported, hirehook.InboundFailed,
	hirehook.InboundDuplicate, hirehook.InboundRejected, hirehook.InboundHandshake}

// reprocessForm is the Reprocess form of a push source: a window of
// received times (datetime-local, UTC).
type reprocessForm struct {
	From, To string
	Errors   map[string]string
}

// sourcePage is the data of a source's page.
type sourcePage struct {
	Row sourceRow
	// Config is the source's public configuration, indented; the store
	// keeps secrets apart (Source.Secrets), and they are never read here.
	Config string
	// Requests are the latest requests of a push source, filtered by
	// Status; More is true when there are older ones.
	Requests []*hirehook.InboundRequest
	More     bool
	Status   string
	States   []string
	// Reprocess is the Reprocess form.
	Reprocess reprocessForm
	// Guide explains the source's kind (HasGuide false when there is
	// none); Steps are its setup steps in the vendor's admin, with the
	// ingest URL filled in. Editable is true when the dashboard has a
	// form for the kind.
	Guide    ops.SourceGuide
	HasGuide bool
	Steps    []string
	Editable bool
	// Settings are the source's settings in the guide's words.
	Settings []sourceSetting
}

// sourceFor reads the source named in the path, without its checkpoint and
// its secrets' values: Secrets keeps the names of the secrets it has, each
// with an empty value, so a page can say "saved".
func (h *Handler) sourceFor(r *http.Request) (*hirehook.Source, error) {
	src, err := h.store.SourceGet(r.Context(), principalOf(r).tenantID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	for k, v := range src.Secrets {
		if v == "" {
			delete(src.Secrets, k)
		} else {
			src.Secrets[k] = ""
		}
	}
	src.Checkpoint = nil
	return src, nil
}

// sourceSetting is one setting of a source as its page lists it.
type sourceSetting struct {
	Label, Value string
	// Secret settings show only that they are saved.
	Secret bool
}

// sourceSettings lists the settings a source has, in its guide's words.
func sourceSettings(g ops.SourceGuide, src *hirehook.Source) []sourceSetting {
	values := storedValues(g, src.Config)
	var out []sourceSetting
	for _, f := range g.Fields {
		switch _, saved := src.Secrets[f.Name]; {
		case f.Secret() && saved:
			out = append(out, sourceSetting{Label: f.Label, Value: "saved", Secret: true})
		case !f.Secret() && values[f.Name] != "":
			v := values[f.Name]
			for _, o := range f.Options {
				if o.Value == v {
					v = o.Label
				}
			}
			out = append(out, sourceSetting{Label: f.Label, Value: v})
		}
	}
	return out
}

// sourcePageFor builds a source's page, listing its requests filtered by
// status (empty: all).
func (h *Handler) sourcePageFor(r *http.Request, src *hirehook.Source, status string) (*sourcePage, error) {
	ctx := r.Context()
	now := h.cfg.NowFunc().UTC()
	var stats map[string]*hirehook.InboundStats
	push := h.cfg.PushKinds[src.Kind]
	if push {
		all, err := h.store.InboundStats(ctx, src.TenantID)
		if err != nil {
			return nil, err
		}
		stats = map[string]*hirehook.InboundStats{src.ID: all[src.ID]}
	}
	page := &sourcePage{Row: h.newSourceRow(src, stats, originOf(r), now), Config: prettyJSON(src.Config), Status: status, States: inboundStates,
		Reprocess: reprocessForm{From: now.Add(-24 * time.Hour).Format(formTime), To: now.Format(formTime), Errors: map[string]string{}}}
	if g, ok := ops.SourceGuideOf(src.Kind); ok {
		page.Guide, page.HasGuide, page.Steps = g, true, g.SetupSteps(page.Row.IngestURL)
		page.Settings = sourceSettings(g, src)
		_, page.Editable = h.cfg.SourceKinds[src.Kind]
	}
	if !push {
		return page, nil
	}
	reqs, err := h.store.InboundList(ctx, hirehook.InboundFilter{TenantID: src.TenantID, SourceID: src.ID, Status: status, Limit: sourceRequestsShown + 1})
	if err != nil {
		return nil, err
	}
	if len(reqs) > sourceRequestsShown {
		reqs, page.More = reqs[:sourceRequestsShown], true
	}
	page.Requests = reqs
	return page, nil
}

func (h *Handler) handleSourceGet(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status != "" && !slices.Contains(inboundStates, status) {
		h.error(w, r, hirehook.Errorf(hirehook.EINVALID, "There is no request status %q; it is one of %s.", hirehook.Truncate(status, 40), strings.Join(inboundStates, ", ")))
		return
	}
	src, err := h.sourceFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page, err := h.sourcePageFor(r, src, status)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "source", src.Name, "sources", page)
}

// inboundPage is the data of a request's page.
type inboundPage struct {
	Source  *hirehook.Source
	Request *hirehook.InboundRequest
	// Headers are the request's headers, sorted by name.
	Headers []inboundHeader
	// Body is the raw body, indented when it is JSON.
	Body string
}

// inboundHeader is one header of a request.
type inboundHeader struct {
	Name  string
	Value string
}

func (h *Handler) handleInboundGet(w http.ResponseWriter, r *http.Request) {
	src, err := h.sourceFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if !h.cfg.PushKinds[src.Kind] {
		h.error(w, r, hirehook.Errorf(hirehook.ENOTFOUND, "%s is a %s source, which the hub polls; it has no request log.", src.Name, src.Kind))
		return
	}
	req, err := h.store.InboundGet(r.Context(), src.TenantID, src.ID, r.PathValue("request_id"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := inboundPage{Source: src, Request: req}
	for _, name := range slices.Sorted(maps.Keys(req.Header)) {
		page.Headers = append(page.Headers, inboundHeader{Name: name, Value: strings.Join(req.Header[name], ", ")})
	}
	if json.Valid(req.Body) {
		page.Body = prettyJSON(req.Body)
	} else {
		page.Body = strings.ToValidUTF8(string(req.Body), "\uFFFD")
	}
	h.render(w, r, http.StatusOK, "inbound", "Request "+req.ID, "sources", page)
}

// handleSourceReprocess makes a push source's processed, unsupported and
// failed requests received in a window due again (Store.InboundReprocess),
// for after a mapping was fixed, and wakes the inbound worker.
func (h *Handler) handleSourceReprocess(w http.ResponseWriter, r *http.Request) {
	src, err := h.sourceFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if !h.cfg.PushKinds[src.Kind] {
		h.error(w, r, hirehook.Errorf(hirehook.ENOTFOUND, "%s is a %s source, which the hub polls; it has no requests to reprocess.", src.Name, src.Kind))
		return
	}
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	form := reprocessForm{From: strings.TrimSpace(r.PostForm.Get("from")), To: strings.TrimSpace(r.PostForm.Get("to")), Errors: map[string]string{}}
	from, ok := parseFormTime(form.From)
	switch {
	case form.From == "":
		form.Errors["from"] = "Enter the start of the window."
	case !ok:
		form.Errors["from"] = "Enter a date and time such as 2026-11-27T09:30 (UTC)."
	case from.After(now):
		form.Errors["from"] = "This is in the future."
	}
	// An empty or minute-precise end includes the minute it names, so the
	// default (now, to the minute) takes the request received seconds ago.
	to := now.Add(time.Microsecond)
	if form.To != "" {
		if to, ok = parseFormTime(form.To); !ok {
			form.Errors["to"] = "Enter a date and time such as 2026-11-28T09:30 (UTC), or leave it empty for now."
		} else {
			if len(form.To) == len(formTime) {
				to = to.Add(time.Minute)
			}
			if len(form.Errors) == 0 && (hirehook.InboundReprocessParams{From: from, To: to}).Validate() != nil {
				form.Errors["to"] = "This must be after the start."
			}
		}
	}
	if len(form.Errors) > 0 {
		page, err := h.sourcePageFor(r, src, "")
		if err != nil {
			h.error(w, r, err)
			return
		}
		page.Reprocess = form
		h.render(w, r, http.StatusUnprocessableEntity, "source", src.Name, "sources", page)
		return
	}
	n, err := h.sources().SourceReprocess(r.Context(), actor(r), src.ID, from, to)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if n == 0 {
		h.flash(r, "ok", "No processed, unsupported or failed requests in that window: nothing to reprocess.")
	} else {
		h.flash(r, "ok", fmt.Sprintf("%s made due again: the hub normalises them anew in a moment.", countNoun(n, "request", "requests")))
	}
	redirect(w, r, "/sources/"+url.PathEscape(src.ID))
}

// sources are the source operations (package ops), shared with the API:
// the dashboard's forms decode, call them and render.
func (h *Handler) sources() *ops.Sources {
	return &ops.Sources{Store: h.store, Kinds: h.cfg.SourceKinds, ChangedFunc: h.cfg.SourcesChangedFunc, InboundChangedFunc: h.cfg.InboundChangedFunc,
		NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// endpoints are the endpoint operations (package ops), shared with the
// API.
func (h *Handler) endpoints() *ops.Endpoints {
	return &ops.Endpoints{Store: h.store, Catalog: h.cfg.Catalog, Route: h.cfg.Route, NotifyFunc: h.cfg.NotifyFunc, NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// deliveries are the delivery operations (package ops), shared with the
// API.
func (h *Handler) deliveries() *ops.Deliveries {
	return &ops.Deliveries{Store: h.store, NotifyFunc: h.cfg.NotifyFunc, NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// actor is the session's key as ops sees it.
func actor(r *http.Request) ops.Actor {
	p := principalOf(r)
	return ops.Actor{TenantID: p.tenantID, KeyID: p.keyID, KeyName: p.keyName, Scope: p.scope, Via: ops.ViaDashboard}
}

// sourceGuides are the kinds a person can connect here: those the hub runs
// that have a guide, in the guides' order.
func (h *Handler) sourceGuides() []ops.SourceGuide {
	var out []ops.SourceGuide
	for _, g := range ops.SourceGuides {
		if _, ok := h.cfg.SourceKinds[g.Kind]; ok {
			out = append(out, g)
		}
	}
	return out
}

func (h *Handler) sourceGuide(kind string) (ops.SourceGuide, bool) {
	if _, ok := h.cfg.SourceKinds[kind]; !ok {
		return ops.SourceGuide{}, false
	}
	return ops.SourceGuideOf(kind)
}

// sourceFormPage is the data of the connect form (a kind chooser until a
// kind is picked) and of the edit form.
type sourceFormPage struct {
	// Guides are the kinds to choose from, when no kind is picked.
	Guides []ops.SourceGuide
	Guide  ops.SourceGuide
	// Source is the source edited; nil when connecting.
	Source *hirehook.Source
	Name   string
	// Basic and Advanced are the kind's fields, as typed (never a
	// secret's value); OpenAdvanced unfolds the advanced ones when one
	// holds a value or an error.
	Basic, Advanced []sourceFormField
	OpenAdvanced    bool
	Errors          map[string]string
	// Problem is an error that names no field of the form.
	Problem string
	// SecretsAgain says that secrets typed were not sent back with the
	// errors, and must be entered again.
	SecretsAgain bool
}

// sourceFormField is one field of the form.
type sourceFormField struct {
	ops.SourceField
	Value string
	Error string
	// Saved is true for a secret the source already has (edit form).
	Saved bool
}

// newSourceFormPage lays out g's fields with values (form input or the
// stored configuration) and errors.
func newSourceFormPage(g ops.SourceGuide, src *hirehook.Source, name string, values map[string]string, saved map[string]bool, errs map[string]string) *sourceFormPage {
	p := &sourceFormPage{Guide: g, Source: src, Name: name, Errors: errs}
	for _, f := range g.Fields {
		ff := sourceFormField{SourceField: f, Value: values[f.Name], Error: errs[f.Name], Saved: saved[f.Name]}
		if f.Secret() {
			ff.Value = "" // never sent back
		}
		if f.Advanced {
			p.Advanced = append(p.Advanced, ff)
			if ff.Value != "" || ff.Error != "" {
				p.OpenAdvanced = true
			}
		} else {
			p.Basic = append(p.Basic, ff)
		}
	}
	return p
}

// handleSourceNew is the connect form: a kind chooser, or with ?kind= the
// form of that kind.
func (h *Handler) handleSourceNew(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		h.render(w, r, http.StatusOK, "source_form", "Connect a source", "sources", &sourceFormPage{Guides: h.sourceGuides()})
		return
	}
	g, ok := h.sourceGuide(kind)
	if !ok {
		h.render(w, r, http.StatusNotFound, "source_form", "Connect a source", "sources",
			&sourceFormPage{Guides: h.sourceGuides(), Problem: fmt.Sprintf("The hub cannot connect a source of kind %q; choose one below.", hirehook.Truncate(kind, 40))})
		return
	}
	h.render(w, r, http.StatusOK, "source_form", "Connect "+g.Title, "sources", newSourceFormPage(g, nil, g.Title, nil, nil, map[string]string{}))
}

// formValues are the form's values of g's fields, trimmed.
func formValues(g ops.SourceGuide, form url.Values) map[string]string {
	v := map[string]string{}
	for _, f := range g.Fields {
		v[f.Name] = strings.TrimSpace(form.Get(f.Name))
	}
	return v
}

// sourceConfig turns a form's values into a source configuration: for a
// new source the fields given; for an edit (patch) a JSON Merge Patch in
// which an empty field is removed, an empty secret keeps its value, and a
// secret whose "clear_" box is ticked is removed. errs gets the fields
// whose value cannot be read.
func sourceConfig(g ops.SourceGuide, values map[string]string, form url.Values, patch bool, errs map[string]string) map[string]any {
	cfg := map[string]any{}
	for _, f := range g.Fields {
		v := values[f.Name]
		if v == "" {
			switch {
			case !patch:
			case f.Secret() && form.Get("clear_"+f.Name) != "":
				cfg[f.Name] = nil
			case !f.Secret():
				cfg[f.Name] = nil
			}
			continue
		}
		switch f.Type {
		case "seconds":
			s, err := strconv.ParseFloat(v, 64)
			if err != nil || s <= 0 || s > 86400 {
				errs[f.Name] = "Enter a number of seconds, such as 2 or 0.5."
				continue
			}
			cfg[f.Name] = int64(math.Round(s * 1000))
		case "list":
			var items []string
			for item := range strings.SplitSeq(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					items = append(items, item)
				}
			}
			cfg[f.Name] = items
		default:
			cfg[f.Name] = v
		}
	}
	return cfg
}

// storedValues are a source's public configuration as the form shows it.
func storedValues(g ops.SourceGuide, raw json.RawMessage) map[string]string {
	var cfg map[string]any
	_ = json.Unmarshal(raw, &cfg)
	v := map[string]string{}
	for _, f := range g.Fields {
		switch x := cfg[f.Name].(type) {
		case string:
			v[f.Name] = x
		case float64:
			if f.Type == "seconds" {
				v[f.Name] = strconv.FormatFloat(x/1000, 'f', -1, 64)
			} else {
				v[f.Name] = strconv.FormatFloat(x, 'f', -1, 64)
			}
		case []any:
			var items []string
			for _, it := range x {
				items = append(items, fmt.Sprint(it))
			}
			v[f.Name] = strings.Join(items, ", ")
		}
	}
	return v
}

// fieldErrors turns an operation's EINVALID error into messages by form
// field, in the form's words ("Signing secret is required: …"). ok is
// false for any other error, which the error page shows.
func fieldErrors(g ops.SourceGuide, err error, errs map[string]string) (problem string, ok bool) {
	var e *hirehook.Error
	if !errors.As(err, &e) || e.Code != hirehook.EINVALID {
		return "", false
	}
	msg := e.Message
	// Configuration names in the message become the form's labels.
	fields := slices.Clone(g.Fields)
	slices.SortFunc(fields, func(a, b ops.SourceField) int { return len(b.Name) - len(a.Name) })
	for _, f := range fields {
		msg = strings.ReplaceAll(msg, f.Name, lowerFirst(f.Label))
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	name := strings.TrimPrefix(e.Field, "config.")
	label := ""
	switch f, known := g.Field(name); {
	case e.Field == "name":
		label = "Name"
	case known && e.Field != name:
		label = f.Label
	default:
		if e.Field == "" || e.Field == "config" {
			return upperFirst(msg), true
		}
		return "The setting " + name + " " + msg, true
	}
	switch first, _, _ := strings.Cut(msg, " "); first {
	case "is", "must", "has", "cannot", "are":
		msg = label + " " + msg
	default:
		msg = upperFirst(msg)
	}
	errs[name] = msg
	return "", true
}

func lowerFirst(s string) string {
	if len(s) > 1 && s[1] >= 'a' && s[1] <= 'z' {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// handleSourceCreate connects a source from the form (ops.SourceCreate),
// then shows its page with the ingest URL and the vendor's setup steps.
func (h *Handler) handleSourceCreate(w http.ResponseWriter, r *http.Request) {
	kind := r.PostForm.Get("kind")
	g, ok := h.sourceGuide(kind)
	if !ok {
		h.error(w, r, hirehook.Errorf(hirehook.EINVALID, "The hub cannot connect a source of kind %q.", hirehook.Truncate(kind, 40)))
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	values := formValues(g, r.PostForm)
	errs := map[string]string{}
	cfg := sourceConfig(g, values, r.PostForm, false, errs)
	var src *hirehook.Source
	var problem string
	if len(errs) == 0 {
		raw, err := json.Marshal(cfg)
		if err != nil {
			h.error(w, r, err)
			return
		}
		src, err = h.sources().SourceCreate(r.Context(), actor(r), ops.SourceInput{Kind: &kind, Name: &name, Config: raw})
		if err != nil {
			if problem, ok = fieldErrors(g, err, errs); !ok {
				h.error(w, r, err)
				return
			}
		}
	}
	if src == nil {
		page := newSourceFormPage(g, nil, name, values, nil, errs)
		page.Problem = problem
		page.SecretsAgain = typedSecret(g, values)
		h.render(w, r, http.StatusUnprocessableEntity, "source_form", "Connect "+g.Title, "sources", page)
		return
	}
	if g.Push {
		h.flash(r, "ok", fmt.Sprintf("%s is connected. Now give %s its ingest URL: the steps are below.", src.Name, g.Title))
	} else {
		h.flash(r, "ok", fmt.Sprintf("%s is connected: the hub starts checking it for changes in a moment.", src.Name))
	}
	redirect(w, r, "/sources/"+url.PathEscape(src.ID))
}

// typedSecret reports whether the person typed a secret.
func typedSecret(g ops.SourceGuide, values map[string]string) bool {
	for _, f := range g.Fields {
		if f.Secret() && values[f.Name] != "" {
			return true
		}
	}
	return false
}

// sourceToEdit reads the source named in the path for the edit form:
// which secrets it has, and its guide.
func (h *Handler) sourceToEdit(r *http.Request) (*hirehook.Source, ops.SourceGuide, map[string]bool, error) {
	src, err := h.store.SourceGet(r.Context(), principalOf(r).tenantID, r.PathValue("id"))
	if err != nil {
		return nil, ops.SourceGuide{}, nil, err
	}
	saved := map[string]bool{}
	for k, v := range src.Secrets {
		saved[k] = v != ""
	}
	src.Secrets, src.Checkpoint = nil, nil
	g, ok := h.sourceGuide(src.Kind)
	if !ok {
		return nil, g, nil, hirehook.Errorf(hirehook.ENOTFOUND, "%s is a %s source, which this hub has no form for; change it through PATCH /v1/sources/%s.", src.Name, src.Kind, src.ID)
	}
	return src, g, saved, nil
}

// handleSourceEdit is the edit form: the stored settings, secrets masked.
func (h *Handler) handleSourceEdit(w http.ResponseWriter, r *http.Request) {
	src, g, saved, err := h.sourceToEdit(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "source_form", "Edit "+src.Name, "sources",
		newSourceFormPage(g, src, src.Name, storedValues(g, src.Config), saved, map[string]string{}))
}

// handleSourceUpdate saves the edit form (ops.SourceUpdate): an empty
// secret keeps its value.
func (h *Handler) handleSourceUpdate(w http.ResponseWriter, r *http.Request) {
	src, g, saved, err := h.sourceToEdit(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	values := formValues(g, r.PostForm)
	errs := map[string]string{}
	cfg := sourceConfig(g, values, r.PostForm, true, errs)
	var problem string
	if len(errs) == 0 {
		raw, err := json.Marshal(cfg)
		if err != nil {
			h.error(w, r, err)
			return
		}
		_, err = h.sources().SourceUpdate(r.Context(), actor(r), src.ID, ops.SourceInput{Name: &name, Config: raw})
		if err == nil {
			h.flash(r, "ok", "Changes saved; the hub uses them from now on.")
			redirect(w, r, "/sources/"+url.PathEscape(src.ID))
			return
		}
		var ok bool
		if problem, ok = fieldErrors(g, err, errs); !ok {
			h.error(w, r, err)
			return
		}
	}
	page := newSourceFormPage(g, src, name, values, saved, errs)
	page.Problem = problem
	page.SecretsAgain = typedSecret(g, values)
	h.render(w, r, http.StatusUnprocessableEntity, "source_form", "Edit "+src.Name, "sources", page)
}

// handleSourceEnabled disables or enables a source (enabled=false|true).
func (h *Handler) handleSourceEnabled(w http.ResponseWriter, r *http.Request) {
	var enabled bool
	switch r.PostForm.Get("enabled") {
	case "true":
		enabled = true
	case "false":
	default:
		h.error(w, r, hirehook.Errorf(hirehook.EINVALID, "The form must say enabled=true or enabled=false."))
		return
	}
	src, err := h.sources().SourceUpdate(r.Context(), actor(r), r.PathValue("id"), ops.SourceInput{Enabled: &enabled})
	if err != nil {
		h.error(w, r, err)
		return
	}
	switch {
	case enabled:
		h.flash(r, "ok", src.Name+" is enabled again.")
	case h.cfg.PushKinds[src.Kind]:
		h.flash(r, "ok", src.Name+" is disabled: the hub refuses its webhooks (the vendor sees 503 and may retry) until you enable it.")
	default:
		h.flash(r, "ok", src.Name+" is disabled: the hub stops checking it until you enable it; it carries on where it stopped.")
	}
	redirect(w, r, "/sources/"+url.PathEscape(src.ID))
}

// handleSourceDeleteConfirm asks before deleting.
func (h *Handler) handleSourceDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	src, err := h.sourceFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "source_delete", "Delete "+src.Name, "sources", sourcePage{Row: sourceRow{Source: src, Push: h.cfg.PushKinds[src.Kind]}})
}

// handleSourceDelete deletes a source (ops.SourceDelete).
func (h *Handler) handleSourceDelete(w http.ResponseWriter, r *http.Request) {
	src, err := h.sourceFor(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.sources().SourceDelete(r.Context(), actor(r), src.ID); err != nil {
		h.error(w, r, err)
		return
	}
	h.flash(r, "ok", src.Name+" is deleted.")
	redirect(w, r, "/sources")
}

// LowerLabel is the label as it reads inside a sentence.
func (f sourceFormField) LowerLabel() string { return lowerFirst(f.Label) }
