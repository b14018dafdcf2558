package api

import (
	"net/http"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// TenantInput is the body of POST /v1/tenants and PATCH /v1/tenants/{id}.
type TenantInput struct {
	// ID is optional on create (a "tnt_…" id is made); 1–64 of
	// [a-z0-9_-]. It cannot change.
	ID            *string `json:"id"`
	Name          *string `json:"name"`
	RetentionDays *int    `json:"retention_days"`
}

func (h *Handler) handleTenantCreate(w http.ResponseWriter, r *http.Request) {
	var in TenantInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	t, err := h.tenants().TenantCreate(r.Context(), actor(r), ops.TenantInput(in))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	w.Header().Set("Location", "/v1/tenants/"+t.ID)
	writeJSON(w, http.StatusCreated, t)
}

func (h *Handler) handleTenantList(w http.ResponseWriter, r *http.Request) {
	after, limit, err := listQuery(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	ts, err := h.store.TenantList(r.Context(), hirehook.TenantFilter{After: after, Limit: limit + 1})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, page(ts, limit, func(t *hirehook.Tenant) string { return t.ID }))
}

func (h *Handler) handleTenantGet(w http.ResponseWriter, r *http.Request) {
	t, err := h.store.TenantGet(r.Context(), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *Handler) handleTenantUpdate(w http.ResponseWriter, r *http.Request) {
	var in TenantInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	t, err := h.tenants().TenantUpdate(r.Context(), actor(r), r.PathValue("id"), ops.TenantInput(in))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// handleTenantDelete deletes a tenant and everything it owns, at once and
// for good. The operator's own tenant cannot be deleted.
func (h *Handler) handleTenantDelete(w http.ResponseWriter, r *http.Request) {
	if err := h.tenants().TenantDelete(r.Context(), actor(r), r.PathValue("id")); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
