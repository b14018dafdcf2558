package api

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/route"
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

// validate checks in against the catalog and compiles its filter.
func (h *Handler) validateBackfill(in *BackfillInput) error {
	if len(in.Entities) == 0 {
		return hirehook.FieldError("entities", "is required: a list such as [\"candidate\", \"placement\"]")
	}
	for i, e := range in.Entities {
		if _, ok := h.cfg.Catalog.Lookup(hirehook.SnapshotType(e)); !ok {
			return hirehook.FieldError(fmt.Sprintf("entities[%d]", i), "%q is not an entity with records (for example candidate, job, application, placement)", e)
		}
		if slices.Index(in.Entities, e) < i {
			return hirehook.FieldError(fmt.Sprintf("entities[%d]", i), "%q is listed twice", e)
		}
	}
	if in.Filter != nil {
		if _, err := route.CompileOptions(route.Spec{Filter: *in.Filter}, h.routeOptions()); err != nil {
			return err // names "filter" and the position of a syntax error
		}
	}
	if in.RatePerSecond != nil && (*in.RatePerSecond < 1 || *in.RatePerSecond > hirehook.MaxBackfillRate) {
		return hirehook.FieldError("rate_per_second", "must be between 1 and %d", hirehook.MaxBackfillRate)
	}
	return nil
}

func (h *Handler) handleBackfillCreate(w http.ResponseWriter, r *http.Request) {
	var in BackfillInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := h.validateBackfill(&in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	b := &hirehook.Backfill{TenantID: tenantOf(r), ID: hirehook.NewID("bf"), EndpointID: r.PathValue("id"),
		Entities: in.Entities, RatePerSecond: hirehook.DefaultBackfillRate, State: hirehook.BackfillRunning,
		CreatedAt: now, UpdatedAt: now}
	if in.Filter != nil {
		b.Filter = *in.Filter
	}
	if in.RatePerSecond != nil {
		b.RatePerSecond = *in.RatePerSecond
	}
	if err := h.store.BackfillCreate(r.Context(), b); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if h.cfg.BackfillsChangedFunc != nil {
		h.cfg.BackfillsChangedFunc()
	}
	h.audit(r, b.TenantID, "endpoint.backfill_started", b.EndpointID, map[string]any{"backfill_id": b.ID, "entities": b.Entities,
		"filter": b.Filter, "rate_per_second": b.RatePerSecond})
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
	b, err := h.store.BackfillCancel(r.Context(), tenantOf(r), r.PathValue("id"), h.cfg.NowFunc().UTC())
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, b.TenantID, "endpoint.backfill_cancelled", b.EndpointID, map[string]any{"backfill_id": b.ID, "sent": b.Sent})
	writeJSON(w, http.StatusOK, b)
}
