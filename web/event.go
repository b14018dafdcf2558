package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// eventsPageSize is how many events the explorer shows at once.
const eventsPageSize = 50

// eventFilter is the explorer's filter form (GET, so a filtered list is a
// link one can share).
type eventFilter struct {
	Type    string
	Subject string
	Entity  string
	Source  string
	// From and Until bound the time received, [From, Until), as typed in
	// datetime-local fields (UTC) or as RFC 3339.
	From, Until string
	// Errors holds a message per field that could not be read.
	Errors map[string]string
}

// eventsPage is the data of the event explorer.
type eventsPage struct {
	Filter eventFilter
	Types  []string
	Rows   []eventRow
	// OlderURL links the next (older) page; empty on the last.
	OlderURL string
	// NewestURL links the first page with the same filter; empty on it.
	NewestURL string
	// Filtered is set when any filter is.
	Filtered bool
}

type eventRow struct {
	Event *hirehook.Event
	// Name is what a person calls the event's subject, from its stored
	// record ("Ada Lovelace", "Data Engineer"); empty when unknown.
	Name string
	// States counts the event's deliveries by state, in a fixed order.
	States []stateCount
}

type stateCount struct {
	State hirehook.DeliveryState
	N     int
}

// stateOrder is the order delivery states are summed up in.
var stateOrder = []hirehook.DeliveryState{
	hirehook.DeliveryFailed, hirehook.DeliveryRetrying, hirehook.DeliveryDelivering,
	hirehook.DeliveryPending, hirehook.DeliveryPaused, hirehook.DeliveryDelivered, hirehook.DeliveryCancelled,
}

func (h *Handler) handleEventList(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	q := r.URL.Query()
	page := eventsPage{Filter: eventFilter{
		Type:    hirehook.Truncate(strings.TrimSpace(q.Get("type")), 128),
		Subject: hirehook.Truncate(strings.TrimSpace(q.Get("subject")), 128),
		Entity:  hirehook.Truncate(strings.TrimSpace(q.Get("entity")), 64),
		Source:  hirehook.Truncate(strings.TrimSpace(q.Get("source")), 128),
		From:    hirehook.Truncate(strings.TrimSpace(q.Get("from")), 64),
		Until:   hirehook.Truncate(strings.TrimSpace(q.Get("until")), 64),
		Errors:  map[string]string{},
	}}
	for _, t := range h.cfg.Catalog.Types() {
		page.Types = append(page.Types, t.Name)
	}
	f := hirehook.EventFilter{TenantID: p.tenantID, After: q.Get("after"), Limit: eventsPageSize + 1, Descending: true}
	filter := url.Values{}
	if page.Filter.Type != "" {
		f.Type = &page.Filter.Type
		filter.Set("type", page.Filter.Type)
	}
	if page.Filter.Subject != "" {
		f.SubjectID = &page.Filter.Subject
		filter.Set("subject", page.Filter.Subject)
	}
	if page.Filter.Entity != "" {
		f.Entity = &page.Filter.Entity
		filter.Set("entity", page.Filter.Entity)
	}
	if page.Filter.Source != "" {
		f.Source = &page.Filter.Source
		filter.Set("source", page.Filter.Source)
	}
	for _, b := range []struct {
		name, value string
		dst         **time.Time
	}{{"from", page.Filter.From, &f.ReceivedAfter}, {"until", page.Filter.Until, &f.ReceivedBefore}} {
		if b.value == "" {
			continue
		}
		t, ok := parseFormTime(b.value)
		if !ok {
			page.Filter.Errors[b.name] = "Enter a time such as 2026-11-27T09:30 (UTC)."
			continue
		}
		*b.dst = &t
		filter.Set(b.name, b.value)
	}
	if f.ReceivedAfter != nil && f.ReceivedBefore != nil && !f.ReceivedBefore.After(*f.ReceivedAfter) {
		page.Filter.Errors["until"] = "Until must be after From."
	}
	page.Filtered = len(filter) > 0
	if len(page.Filter.Errors) > 0 {
		page.Filtered = true
		h.render(w, r, http.StatusUnprocessableEntity, "events", "Events", "events", page)
		return
	}
	if f.After != "" {
		page.NewestURL = "/events?" + filter.Encode()
	}
	events, err := h.store.EventList(r.Context(), f)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if len(events) > eventsPageSize {
		events = events[:eventsPageSize]
		older := url.Values{"after": {events[len(events)-1].ID}}
		for k, v := range filter {
			older[k] = v
		}
		page.OlderURL = "/events?" + older.Encode()
	}
	names := subjectNames{}
	for _, e := range events {
		row := eventRow{Event: e}
		if row.Name, err = h.subjectName(r.Context(), p.tenantID, e.Subject, names); err != nil {
			h.error(w, r, err)
			return
		}
		if e.Deliveries > 0 {
			ds, err := h.store.DeliveryList(r.Context(), hirehook.DeliveryFilter{TenantID: p.tenantID, EventID: &e.ID, Limit: 1000})
			if err != nil {
				h.error(w, r, err)
				return
			}
			row.States = countStates(ds)
		}
		page.Rows = append(page.Rows, row)
	}
	h.render(w, r, http.StatusOK, "events", "Events", "events", page)
}

func countStates(ds []*hirehook.Delivery) []stateCount {
	n := map[hirehook.DeliveryState]int{}
	for _, d := range ds {
		n[d.State]++
	}
	var out []stateCount
	for _, s := range stateOrder {
		if n[s] > 0 {
			out = append(out, stateCount{s, n[s]})
		}
	}
	return out
}

// subjectNames caches subjects' names within one request, by entity and id.
type subjectNames map[hirehook.Subject]string

// subjectName returns the name of a subject from its stored record (see
// subjectName in format.go); "" when there is no record or it names
// nothing.
func (h *Handler) subjectName(ctx context.Context, tenantID string, s hirehook.Subject, cache subjectNames) (string, error) {
	if name, ok := cache[s]; ok {
		return name, nil
	}
	name := ""
	if s.Entity != "" && s.ID != "" {
		rec, err := h.store.RecordGet(ctx, tenantID, s.Entity, s.ID)
		switch {
		case err == nil:
			name = subjectName(rec.Entity, rec.Data)
		case hirehook.ErrorCode(err) != hirehook.ENOTFOUND:
			return "", err
		}
	}
	cache[s] = name
	return name, nil
}

// eventPage is the data of one event's page.
type eventPage struct {
	Event     *hirehook.Event
	HasRecord bool
	// SubjectName is what a person calls the subject, from its record.
	SubjectName string
	Deliveries  []deliveryView
}

type deliveryView struct {
	Delivery *hirehook.Delivery
	Endpoint *hirehook.Endpoint
	Attempts []*hirehook.Attempt
	// Replayable is false for deliveries that cannot be sent again now
	// (cancelled, being attempted, or of a purged event).
	Replayable bool
}

func (h *Handler) handleEventGet(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	ctx := r.Context()
	e, err := h.store.EventGet(ctx, p.tenantID, r.PathValue("id"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := eventPage{Event: e}
	if rec, err := h.store.RecordGet(ctx, p.tenantID, e.Subject.Entity, e.Subject.ID); err == nil {
		page.HasRecord = true
		page.SubjectName = subjectName(rec.Entity, rec.Data)
	} else if hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		h.error(w, r, err)
		return
	}
	ds, err := h.store.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: p.tenantID, EventID: &e.ID, Limit: 1000})
	if err != nil {
		h.error(w, r, err)
		return
	}
	endpoints := map[string]*hirehook.Endpoint{}
	// Oldest first: the order the endpoints were subscribed in.
	for i := len(ds) - 1; i >= 0; i-- {
		d, attempts, err := h.store.DeliveryGet(ctx, p.tenantID, ds[i].ID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		ep, err := h.endpointByID(ctx, p.tenantID, d.EndpointID, endpoints)
		if err != nil {
			h.error(w, r, err)
			return
		}
		page.Deliveries = append(page.Deliveries, deliveryView{Delivery: d, Endpoint: ep, Attempts: attempts,
			Replayable: !e.Purged && d.State != hirehook.DeliveryCancelled && d.State != hirehook.DeliveryDelivering})
	}
	h.render(w, r, http.StatusOK, "event", e.Type+" "+e.ID, "events", page)
}

// endpointByID returns an endpoint through a per-request cache; nil for a
// deleted one.
func (h *Handler) endpointByID(ctx context.Context, tenantID, id string, cache map[string]*hirehook.Endpoint) (*hirehook.Endpoint, error) {
	if ep, ok := cache[id]; ok {
		return ep, nil
	}
	ep, err := h.store.EndpointGet(ctx, tenantID, id)
	if hirehook.ErrorCode(err) == hirehook.ENOTFOUND {
		ep, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	cache[id] = ep
	return ep, nil
}

// handleDeliveryReplay makes one delivery due now (a delivered one is
// sent again) and goes back to its event.
func (h *Handler) handleDeliveryReplay(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	d, _, err := h.store.DeliveryGet(r.Context(), p.tenantID, r.PathValue("id"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	back := "/events/" + url.PathEscape(d.EventID)
	d, err = h.deliveries().DeliveryRetry(r.Context(), actor(r), d.ID)
	switch code := hirehook.ErrorCode(err); code {
	case "":
	case hirehook.EINVALID, hirehook.ECONFLICT:
		h.flash(r, "error", hirehook.ErrorMessage(err))
		redirect(w, r, back)
		return
	default:
		h.error(w, r, err)
		return
	}
	h.flash(r, "ok", "Replay queued: the delivery will be attempted again in a moment.")
	redirect(w, r, back+"#"+d.ID)
}

// recordPage is the data of a record's page.
type recordPage struct {
	Record *hirehook.Record
	// Name is what a person calls the record ("Ada Lovelace").
	Name string
	// EventsURL links the explorer filtered to the record's events.
	EventsURL string
}

func (h *Handler) handleRecordGet(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	rec, err := h.store.RecordGet(r.Context(), p.tenantID, r.PathValue("entity"), r.PathValue("id"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	q := url.Values{"entity": {rec.Entity}, "subject": {rec.ID}}
	h.render(w, r, http.StatusOK, "record", rec.Entity+" "+rec.ID, "events", recordPage{Record: rec, Name: subjectName(rec.Entity, rec.Data), EventsURL: "/events?" + q.Encode()})
}
