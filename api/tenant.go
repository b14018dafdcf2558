package api

import (
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
)

// TenantInput is the body of POST /v1/tenants and PATCH /v1/tenants/{id}.
type TenantInput struct {
	// ID is optional on create (a "tnt_…" id is made); 1–64 of
	// [a-z0-9_-]. It cannot change.
	ID            *string `json:"id"`
	Name          *string `json:"name"`
	RetentionDays *int    `json:"retention_days"`
}

func validTenantID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validateTenant(in *TenantInput, create bool) error {
	if in.ID != nil && !create {
		return hirehook.FieldError("id", "cannot change")
	}
	if in.ID != nil && !validTenantID(*in.ID) {
		return hirehook.FieldError("id", "must be 1 to 64 of a-z, 0-9, '_' and '-'")
	}
	if create && in.Name == nil {
		return hirehook.FieldError("name", "is required")
	}
	if in.Name != nil && (len(*in.Name) == 0 || len(*in.Name) > 200) {
		return hirehook.FieldError("name", "must be 1 to 200 characters")
	}
	if in.RetentionDays != nil && (*in.RetentionDays < 1 || *in.RetentionDays > 3650) {
		return hirehook.FieldError("retention_days", "must be from 1 to 3650")
	}
	return nil
}

func (h *Handler) handleTenantCreate(w http.ResponseWriter, r *http.Request) {
	var in TenantInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := validateTenant(&in, true); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	t := &hirehook.Tenant{ID: hirehook.NewID("tnt"), Name: *in.Name, RetentionDays: hirehook.DefaultRetentionDays, CreatedAt: now, UpdatedAt: now}
	if in.ID != nil {
		t.ID = *in.ID
	}
	if in.RetentionDays != nil {
		t.RetentionDays = *in.RetentionDays
	}
	if err := h.store.TenantCreate(r.Context(), t); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, tenantOf(r), "tenant.created", t.ID, map[string]any{"name": t.Name, "retention_days": t.RetentionDays})
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
	if err := validateTenant(&in, false); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	t, err := h.store.TenantUpdate(r.Context(), r.PathValue("id"), hirehook.TenantUpdate{Name: in.Name, RetentionDays: in.RetentionDays})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, tenantOf(r), "tenant.updated", t.ID, map[string]any{"name": in.Name, "retention_days": in.RetentionDays})
	writeJSON(w, http.StatusOK, t)
}

// handleTenantDelete deletes a tenant and everything it owns, at once and
// for good. The operator's own tenant cannot be deleted.
func (h *Handler) handleTenantDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == tenantOf(r) {
		Error(w, r, h.logger, hirehook.FieldError("id", "The operator's own tenant cannot be deleted."))
		return
	}
	if err := h.store.TenantDelete(r.Context(), id); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.keys.evict(func(k *hirehook.APIKey) bool { return k.TenantID == id })
	h.audit(r, tenantOf(r), "tenant.deleted", id, nil)
	w.WriteHeader(http.StatusNoContent)
}
