package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
)

// CandidateErased answers POST /v1/records/candidate/{id}/erase: how many
// events, records and attempt excerpts held the person's data, and the
// candidate.anonymized event that tells subscribers to erase them too.
type CandidateErased struct {
	Events            int    `json:"events"`
	Records           int    `json:"records"`
	Attempts          int    `json:"attempts"`
	AnonymizedEventID string `json:"anonymized_event_id"`
}

// handleCandidateErase removes a candidate's personal data from the
// tenant (hirehook.Store.CandidateErase), then emits candidate.anonymized
// with data {"id": id} through the ingester, so that every subscriber of
// candidate.* learns to erase the person too. Erasing again is safe: it
// touches the same rows and emits another candidate.anonymized.
func (h *Handler) handleCandidateErase(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) > 128 {
		Error(w, r, h.logger, hirehook.FieldError("id", "must be at most 128 characters"))
		return
	}
	tenantID := tenantOf(r)
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	res, err := h.store.CandidateErase(r.Context(), hirehook.CandidateEraseParams{TenantID: tenantID, CandidateID: id, Now: now})
	if err != nil {
		if hirehook.ErrorCode(err) == hirehook.EUNAVAILABLE {
			// The rows are erased but the file is not clean yet: an
			// operator should know why, the client only to try again.
			h.logger.Error("erase candidate", "error", err)
		}
		Error(w, r, h.logger, err)
		return
	}
	details := map[string]any{"events": res.Events, "records": res.Records, "attempts": res.Attempts}
	out := CandidateErased{Events: res.Events, Records: res.Records, Attempts: res.Attempts}

	eventID, err := h.emitAnonymized(r, tenantID, id)
	if err == nil {
		out.AnonymizedEventID = eventID
		details["anonymized_event_id"] = eventID
	}
	// The erasure is done whether or not the event could be emitted: the
	// audit log records it either way.
	h.audit(r, tenantID, "candidate.erased", id, details)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// emitAnonymized commits a candidate.anonymized event about id from the
// hub itself and returns its id once it and its deliveries are durable.
func (h *Handler) emitAnonymized(r *http.Request, tenantID, id string) (string, error) {
	data, err := json.Marshal(map[string]string{"id": id})
	if err != nil {
		return "", err
	}
	e, err := h.cfg.Ingester.Prepare(tenantID, &hirehook.EventInput{Type: "candidate.anonymized", Source: "hirehook", Data: data}, "")
	if err != nil {
		return "", err
	}
	res, err := h.cfg.Ingester.Commit(r.Context(), []*hirehook.Event{e})
	if err != nil {
		return "", err
	}
	return res[0].EventID, nil
}
