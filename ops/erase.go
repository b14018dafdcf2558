package ops

import (
	"context"
	"encoding/json"
	"github.com/hirehook/hirehook/internal/logkey"
	"log/slog"
	"time"

	"github.com/hirehook/hirehook"
)

// EraseStore is what a candidate's erasure needs of the Store.
type EraseStore interface {
	AuditStore
	CandidateErase(ctx context.Context, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, error)
}

// CandidateErased is what an erasure touched: how many events, records
// and attempt excerpts held the person's data, and the
// candidate.anonymized event that tells subscribers to erase them too. It
// is also the body of the answer to POST /v1/records/candidate/{id}/erase.
type CandidateErased struct {
	Events            int    `json:"events"`
	Records           int    `json:"records"`
	Attempts          int    `json:"attempts"`
	AnonymizedEventID string `json:"anonymized_event_id"`
}

// Erasures erase a candidate's personal data from a tenant.
type Erasures struct {
	Store EraseStore
	// Ingester emits the candidate.anonymized event, through the same door
	// and group commit as POST /v1/events.
	Ingester hirehook.Ingester
	NowFunc  func() time.Time
	// Logger receives an erasure whose file is not clean yet, and the
	// failure to write an audit entry. Default: discard.
	Logger *slog.Logger
}

// CandidateErase removes candidate id's personal data from the actor's
// tenant (hirehook.Store.CandidateErase), then emits candidate.anonymized
// with data {"id": id} from the hub itself, so that every subscriber of
// candidate.* learns to erase the person too, and audits candidate.erased
// (with the counts and the event's id) whether or not the event could be
// emitted: the erasure is done either way, and the emission's error is
// returned after the entry is written. Erasing again is safe: it touches
// the same rows and emits another candidate.anonymized. Errors:
// EFORBIDDEN, EINVALID (id longer than 128 characters), EUNAVAILABLE.
func (s *Erasures) CandidateErase(ctx context.Context, a Actor, id string) (*CandidateErased, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, err
	}
	if len(id) > 128 {
		return nil, hirehook.FieldError("id", "must be at most 128 characters")
	}
	au := auditor{store: s.Store, nowFunc: s.NowFunc, logger: s.Logger}
	now := now(s.NowFunc).UTC().Truncate(time.Microsecond)
	res, err := s.Store.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: a.TenantID, CandidateID: id, Now: now})
	if err != nil {
		if hirehook.ErrorCode(err) == hirehook.EUNAVAILABLE {
			// The rows are erased but the file is not clean yet: an
			// operator should know why, the caller only to try again.
			au.log().Error("erase candidate", logkey.Error, err)
		}
		return nil, err
	}
	details := map[string]any{"events": res.Events, "records": res.Records, "attempts": res.Attempts}
	out := &CandidateErased{Events: res.Events, Records: res.Records, Attempts: res.Attempts}
	eventID, err := s.emitAnonymized(ctx, a.TenantID, id)
	if err == nil {
		out.AnonymizedEventID = eventID
		details["anonymized_event_id"] = eventID
	}
	au.audit(ctx, a, "candidate.erased", id, details)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// emitAnonymized commits a candidate.anonymized event about id from the
// hub itself and returns its id once it and its deliveries are durable.
func (s *Erasures) emitAnonymized(ctx context.Context, tenantID, id string) (string, error) {
	data, err := json.Marshal(map[string]string{"id": id})
	if err != nil {
		return "", err
	}
	e, err := s.Ingester.Prepare(tenantID, &hirehook.EventInput{Type: "candidate.anonymized", Source: "hirehook", Data: data}, "")
	if err != nil {
		return "", err
	}
	res, err := s.Ingester.Commit(ctx, []*hirehook.Event{e})
	if err != nil {
		return "", err
	}
	return res[0].EventID, nil
}
