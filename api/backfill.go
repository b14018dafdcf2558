package api

import (
	"net/http"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// BackfillInput is the body of POST /v1/endpoints/{id}/backfill.
type BackfillInput struct {
	// Entities are the entities whose records are sent, in this order:
	// "candidate", "placement", ...
	Entities []string `json:"entities"`
	// Filter is a jq expression on each snapshot's envelope; only records
	// for which it yields true are sent.
	Filter *string `json:"filter,omitempty"`
	// RatePerSecond is the most records a second it sends (default
	// hirehook.DefaultBackfillRate, at most hirehook.MaxBackfillRate).
	RatePerSecond *int `json:"rate_per_second,omitempty"`
}

func (h *Handler) handleBackfillCreate(w http.ResponseWriter, r *http.Request) {
	var in BackfillInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	b, err := h.backfills().BackfillCreate(r.Context(), actor(r), r.PathValue("id"), ops.BackfillInput(in))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, b)
}

func (h *Handler) handleBackfillList(w http.ResponseWriter, r *http.Request) {
	if _, err := h.store.EndpointGet(r.Context(), tenantOf(r), r.PathValue("id")); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	bs, err := h.store.BackfillList(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, List[*hirehook.Backfill]{Data: bs})
}

func (h *Handler) handleBackfillGet(w http.ResponseWriter, r *http.Request) {
	b, err := h.store.BackfillGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (h *Handler) handleBackfillCancel(w http.ResponseWriter, r *http.Request) {
	b, err := h.backfills().BackfillCancel(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
