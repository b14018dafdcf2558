package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hirehook/hirehook"
)

// testEventType is what "Send test event" sends. It is an operational type
// (the hub emits it, producers may not send it), not a recruiting one, so
// a test never tells an onboarding or payroll system about a made-up hire
// nor changes a candidate's or placement's record. Like every event it is
// delivered to each endpoint that subscribes to it (explicitly, through
// "endpoint.*" or "*"); data.id names the endpoint under test, so other
// receivers can tell the test was not theirs.
const testEventType = "endpoint.tested"

// handleEndpointTest ingests one endpoint.tested event about the endpoint
// through the same ingester as POST /v1/events: it is stored, signed,
// delivered, retried and logged like any other event.
func (h *Handler) handleEndpointTest(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	ep, err := h.store.EndpointGet(r.Context(), p.tenantID, r.PathValue("id"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	back := "/endpoints/" + url.PathEscape(ep.ID)
	switch {
	case h.cfg.Ingester == nil:
		h.error(w, r, hirehook.Errorf(hirehook.EUNAVAILABLE, "This dashboard cannot send events."))
		return
	case ep.Disabled:
		h.flash(r, "error", "The endpoint is disabled, so no event would be queued for it. Enable it, then send the test event.")
		redirect(w, r, back)
		return
	case !ep.Subscribes(testEventType):
		h.flash(r, "error", fmt.Sprintf("The endpoint does not subscribe to %s, so it would not receive the test. Tick %s under Endpoint in its event types, save, and send again.", testEventType, testEventType))
		redirect(w, r, back)
		return
	}
	data, err := json.Marshal(map[string]any{"id": ep.ID, "url": redactURL(ep.URL), "description": ep.Description})
	if err != nil {
		h.error(w, r, err)
		return
	}
	e, err := h.cfg.Ingester.Prepare(p.tenantID, &hirehook.EventInput{Type: testEventType, Source: "hirehook", Data: data}, "")
	if err != nil {
		h.error(w, r, err)
		return
	}
	res, err := h.cfg.Ingester.Commit(r.Context(), []*hirehook.Event{e})
	if err == nil && len(res) != 1 {
		err = errors.New("ingester answered no result")
	}
	if err != nil {
		h.error(w, r, fmt.Errorf("send test event to endpoint %s: %w", ep.ID, err))
		return
	}
	h.audit(r, "endpoint.test_sent", ep.ID, map[string]any{"event_id": e.ID})
	msg := fmt.Sprintf("Test event sent: %s is on its way to this endpoint.", testEventType)
	if n := res[0].Deliveries; n > 1 {
		msg = fmt.Sprintf("Test event sent: %s is on its way to this endpoint and %s that also subscribe to it.",
			testEventType, countNoun(n-1, "other endpoint", "other endpoints"))
	}
	h.flashLink(r, msg, "/events/"+url.PathEscape(e.ID), "Follow its delivery")
	redirect(w, r, back)
}
