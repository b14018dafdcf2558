package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// testEventType is what "Send test event" sends (see ops.EndpointTests):
// to the endpoint under test only, whatever its event types.
const testEventType = ops.EndpointTestType

// handleEndpointTest sends a test event to the endpoint through
// ops.EndpointTests, the operation POST /v1/endpoints/{id}/test runs too.
func (h *Handler) handleEndpointTest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	back := "/endpoints/" + url.PathEscape(id)
	if h.cfg.Ingester == nil {
		h.error(w, r, hirehook.Errorf(hirehook.EUNAVAILABLE, "This dashboard cannot send events."))
		return
	}
	tests := ops.EndpointTests{Store: h.store, Ingester: h.cfg.Ingester, NowFunc: h.cfg.NowFunc, Logger: h.logger}
	res, err := tests.Send(r.Context(), actor(r), id)
	if hirehook.ErrorCode(err) == hirehook.ECONFLICT {
		// Disabled: say so on the page, where the fix is.
		h.flash(r, "error", hirehook.ErrorMessage(err))
		redirect(w, r, back)
		return
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.flashLink(r, fmt.Sprintf("Test event sent: %s is on its way to this endpoint only.", testEventType),
		"/events/"+url.PathEscape(res.EventID), "Follow its delivery")
	redirect(w, r, back)
}
