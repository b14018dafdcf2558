package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/route"
)

// tryEvents is how many of the tenant's latest events the "try it" box
// offers.
const tryEvents = 20

// tryForm is the "try it" box of the endpoint form: a stored event of the
// tenant, or an envelope pasted as JSON, and what trying the form's route
// on it gave.
type tryForm struct {
	EventID string
	Event   string
	// Events are the tenant's latest events to choose from.
	Events []*hirehook.Event
	// Result is set after a try; Error when the event could not be tried.
	Result *tryResult
	Error  string
}

// tryResult is the outcome of route.Try, ready to show.
type tryResult struct {
	Deliver bool
	Failed  bool
	Reason  string
	// Body is the exact body that would be signed and sent; Pretty the
	// same, indented.
	Body, Pretty string
	// EventType is the tried event's type, and Subscribed whether the
	// form's event types include it (the route comes after them).
	EventType  string
	Subscribed bool
}

// loadTryEvents fills the box's list of events.
func (h *Handler) loadTryEvents(r *http.Request, f *tryForm) error {
	evs, err := h.store.EventList(r.Context(), hirehook.EventFilter{TenantID: principalOf(r).tenantID, Limit: tryEvents, Descending: true})
	if err != nil {
		return err
	}
	f.Events = evs
	return nil
}

// routeOptions are the options routes are compiled with: the hub's, as the
// API's test-route uses them.
func (h *Handler) routeOptions() route.Options {
	o := h.cfg.Route
	if o.Catalog == nil {
		o.Catalog = h.cfg.Catalog
	}
	return o
}

// handleEndpointTryRoute runs the route in the posted endpoint form (saved
// or not) on one event, through route.Try as POST
// /v1/endpoints/test-route does, and shows the endpoint page again with
// the outcome. Nothing is saved or sent. It serves the new-endpoint form
// (no id) and the edit form.
func (h *Handler) handleEndpointTryRoute(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	var page endpointPage
	title := "New endpoint"
	if id := r.PathValue("id"); id != "" {
		ep, err := h.store.EndpointGet(r.Context(), p.tenantID, id)
		if err != nil {
			h.error(w, r, err)
			return
		}
		if page, err = h.endpointPageFor(r, ep); err != nil {
			h.error(w, r, err)
			return
		}
		title = endpointLabel(ep)
	} else {
		page = endpointPage{Groups: typeGroups(h.cfg.Catalog)}
		if err := h.loadTryEvents(r, &page.Try); err != nil {
			h.error(w, r, err)
			return
		}
	}
	form := parseEndpointForm(r, page.Endpoint)
	if form.Payload == "" {
		form.Payload = hirehook.PayloadFull
	}
	page.Form = form
	page.Try.EventID = strings.TrimSpace(r.PostForm.Get("try_event_id"))
	page.Try.Event = strings.TrimSpace(r.PostForm.Get("try_event"))

	params := route.TryParams{
		Spec:     route.Spec{Filter: form.Filter, Transform: form.Transform, Payload: form.Payload, Redact: form.redactList()},
		TenantID: p.tenantID,
	}
	eventType := ""
	switch {
	case page.Try.Event != "": // a pasted envelope wins over the list
		params.Event = json.RawMessage(page.Try.Event)
		var env struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(params.Event, &env)
		eventType = env.Type
	case page.Try.EventID != "":
		params.EventID = page.Try.EventID
		for _, e := range page.Try.Events {
			if e.ID == params.EventID {
				eventType = e.Type
			}
		}
	default:
		page.Try.Error = "Choose one of the latest events, or paste an event as JSON."
		h.render(w, r, http.StatusUnprocessableEntity, "endpoint", title, "integrations", page)
		return
	}

	res, err := route.Try(r.Context(), h.store, h.routeOptions(), params)
	var herr *hirehook.Error
	switch {
	case err == nil:
	case errors.As(err, &herr) && herr.Code == hirehook.ENOTFOUND:
		page.Try.Error = "That event no longer exists; choose another."
	case errors.As(err, &herr) && herr.Code == hirehook.EINVALID:
		name := hirehook.ErrorField(err) // filter, transform, payload, redact[i], event, event_id
		field, _, _ := strings.Cut(name, "[")
		msg := hirehook.ErrorMessage(err)
		switch field {
		case "filter", "transform", "payload", "redact":
			page.Form.Errors[field] = strings.ToUpper(name[:1]) + name[1:] + ": " + msg + "."
			page.Try.Error = "Fix the route above first."
		case "event":
			page.Try.Error = "The pasted event " + msg + "."
		default:
			page.Try.Error = "The event " + msg + "."
		}
	case errors.As(err, &herr) && herr.Code == hirehook.EUNAVAILABLE:
		page.Try.Error = herr.Message
	default:
		h.error(w, r, err)
		return
	}
	if page.Try.Error != "" {
		h.render(w, r, http.StatusUnprocessableEntity, "endpoint", title, "integrations", page)
		return
	}

	out := &tryResult{Deliver: res.Deliver, Failed: res.Failed, Reason: res.Reason, EventType: eventType}
	if res.Deliver {
		out.Body, out.Pretty = string(res.Body), prettyJSON(res.Body)
	}
	// The event types come before the route: say so when they leave the
	// event out anyway.
	check := form
	check.Errors = map[string]string{}
	types := check.validate(h.cfg.Catalog)
	probe := hirehook.Endpoint{EventTypes: types}
	out.Subscribed = eventType == "" || probe.Subscribes(eventType)
	page.Try.Result = out
	h.render(w, r, http.StatusOK, "endpoint", title, "integrations", page)
}
