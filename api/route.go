package api

import (
	"encoding/json"
	"net/http"

	"github.com/hirehook/hirehook/route"
)

// TestRouteInput is the body of POST /v1/endpoints/test-route: a route
// (the routing fields of an endpoint) and the event to try it on, either
// an event envelope as webhooks carry it (Event) or a stored event
// (EventID).
type TestRouteInput struct {
	Filter    string   `json:"filter"`
	Transform string   `json:"transform"`
	Payload   string   `json:"payload"`
	Redact    []string `json:"redact"`
	// Event is an event envelope: {"id", "type", "timestamp", "subject",
	// "data", "changes"}, the body hirehook sends.
	Event json.RawMessage `json:"event"`
	// EventID names a stored event of the tenant to use instead.
	EventID string `json:"event_id"`
}

// TestRouteResult is the answer of POST /v1/endpoints/test-route: whether
// an endpoint with the route would get the event, and with which body.
type TestRouteResult struct {
	// Deliver reports whether the event would be delivered.
	Deliver bool `json:"deliver"`
	// Body is the exact JSON body that would be signed and sent; null when
	// the event would not be delivered.
	Body json.RawMessage `json:"body"`
	// Reason says why the event would not be delivered.
	Reason string `json:"reason,omitempty"`
	// Failed reports that the delivery would fail for good: the transform
	// failed (Reason says how); it is a configuration error.
	Failed bool `json:"failed"`
}

// handleTestRoute runs a route on one event without saving or sending
// anything, so that an engineer can iterate on an expression.
func (h *Handler) handleTestRoute(w http.ResponseWriter, r *http.Request) {
	var in TestRouteInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	spec := route.Spec{Filter: in.Filter, Transform: in.Transform, Payload: in.Payload, Redact: in.Redact}
	res, err := route.Try(r.Context(), h.store, h.routeOptions(), route.TryParams{Spec: spec, TenantID: tenantOf(r), Event: in.Event, EventID: in.EventID})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	out := TestRouteResult{Deliver: res.Deliver, Reason: res.Reason, Failed: res.Failed}
	if res.Deliver {
		out.Body = res.Body
	}
	writeJSON(w, http.StatusOK, out)
}

// routeOptions are the options routes are compiled with.
func (h *Handler) routeOptions() route.Options {
	o := h.cfg.Route
	if o.Catalog == nil {
		o.Catalog = h.cfg.Catalog
	}
	return o
}
