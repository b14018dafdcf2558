package api

import (
	"net/http"

	"github.com/hirehook/hirehook"
)

// handleAuditList lists the tenant's audit log, newest first.
func (h *Handler) handleAuditList(w http.ResponseWriter, r *http.Request) {
	after, limit, err := listQuery(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	es, err := h.store.AuditList(r.Context(), hirehook.AuditFilter{TenantID: tenantOf(r), After: after, Limit: limit + 1})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, page(es, limit, func(e *hirehook.AuditEntry) string { return e.ID }))
}
