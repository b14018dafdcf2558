package api

import (
	"net/http"

	"github.com/hirehook/hirehook"
)

// DeliveryWithAttempts is GET /v1/deliveries/{id}: the delivery and every
// attempt, oldest first.
type DeliveryWithAttempts struct {
	*hirehook.Delivery
	AttemptList []*hirehook.Attempt `json:"attempt_list"`
}

func (h *Handler) handleDeliveryList(w http.ResponseWriter, r *http.Request) {
	after, limit, err := listQuery(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	f := hirehook.DeliveryFilter{TenantID: tenantOf(r), After: after, Limit: limit + 1}
	q := r.URL.Query()
	if s := q.Get("endpoint_id"); s != "" {
		f.EndpointID = &s
	}
	if s := q.Get("event_id"); s != "" {
		f.EventID = &s
	}
	if s := q.Get("state"); s != "" {
		st := hirehook.DeliveryState(s)
		if !st.Valid() {
			Error(w, r, h.logger, hirehook.FieldError("state", "must be one of pending, delivering, retrying, paused, delivered, failed, cancelled"))
			return
		}
		f.State = &st
	}
	ds, err := h.store.DeliveryList(r.Context(), f)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, page(ds, limit, func(d *hirehook.Delivery) string { return d.ID }))
}

func (h *Handler) handleDeliveryGet(w http.ResponseWriter, r *http.Request) {
	d, attempts, err := h.store.DeliveryGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, DeliveryWithAttempts{Delivery: d, AttemptList: attempts})
}

// handleDeliveryRetry makes a delivery due now, whatever its state (a
// delivered one is sent again: a replay).
func (h *Handler) handleDeliveryRetry(w http.ResponseWriter, r *http.Request) {
	d, err := h.deliveries().DeliveryRetry(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, d)
}
