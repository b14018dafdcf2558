package api

import (
	"net/http"

	"github.com/hirehook/hirehook/ops"
)

// CandidateErased answers POST /v1/records/candidate/{id}/erase: how many
// events, records and attempt excerpts held the person's data, and the
// candidate.anonymized event that tells subscribers to erase them too.
type CandidateErased = ops.CandidateErased

// handleCandidateErase erases a candidate's personal data from the
// tenant and tells subscribers to do the same: ops.Erasures.
func (h *Handler) handleCandidateErase(w http.ResponseWriter, r *http.Request) {
	out, err := h.erasures().CandidateErase(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
