package postgres

// Candidates' personal data: retention purges old payloads and response
// bodies tenant by tenant; erasure removes one candidate from everything
// that holds them. The semantics are store/sqlite's. What differs is the
// file: PostgreSQL keeps old row versions until VACUUM (see the package
// doc), so CandidateErase leaves physical erasure to the operator and never
// answers EUNAVAILABLE.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/erasure"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// reasonErased is the last_error of deliveries cancelled because their
// event was erased (sqlstore.ReasonPurged is retention's).
const reasonErased = "cancelled: the event was erased with its candidate's personal data"

// qCancelUnsent cancels the deliveries of some events of a tenant that have
// not been sent for good: pending, retrying, paused, and leased by a worker whose
// lease ran out (it died). A worker holding a live lease finishes its
// attempt.
//
// $1 reason, $2 now, $3 tenant, $4 event ids.
const qCancelUnsent = `UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, last_error = $1, updated_at = $2,
	lease_owner = NULL, lease_expires_at = NULL
	WHERE tenant_id = $3 AND event_id = ANY ($4::text[])
	AND (state IN ('pending', 'retrying', 'paused') OR (state = 'delivering' AND lease_expires_at <= $2))`

// RetentionPurge implements hirehook.Store; the rule is the core's
// (sqlstore.RetentionPurge). SKIP LOCKED lets the purgers of several nodes
// share the work instead of queueing on the same rows.
func (s *Store) RetentionPurge(ctx context.Context, p hirehook.RetentionPurgeParams) (hirehook.RetentionPurgeResult, error) {
	return sqlstore.RetentionPurge(ctx, s.dialect, p)
}

// checkResendable refuses to send d again when its event's payload is a
// tombstone (purged) or was erased: a receiver would take it for the event.
func checkResendable(ctx context.Context, q querier, d *hirehook.Delivery) error {
	var purged, erased bool
	err := q.QueryRowContext(ctx, `SELECT purged_at IS NOT NULL, erased_at IS NOT NULL FROM events WHERE tenant_id = $1 AND id = $2`,
		d.TenantID, d.EventID).Scan(&purged, &erased)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("select event %s of delivery %s: %w", d.EventID, d.ID, err)
	case purged:
		return hirehook.Errorf(hirehook.EINVALID, "Delivery %q cannot be sent again: its event's payload was purged by retention.", d.ID)
	case erased:
		return hirehook.Errorf(hirehook.EINVALID, "Delivery %q cannot be sent again: its event was erased with its candidate's personal data.", d.ID)
	}
	return nil
}

// CandidateErase implements hirehook.Store, in one transaction. The rows
// it rewrites keep their old versions in the table files until VACUUM; see
// the package doc for what an operator runs to drop them.
func (s *Store) CandidateErase(ctx context.Context, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, error) {
	if p.TenantID == "" || p.CandidateID == "" {
		return hirehook.CandidateEraseResult{}, hirehook.Errorf(hirehook.EINVALID, "A tenant and a candidate id are required.")
	}
	var res hirehook.CandidateEraseResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = candidateErase(ctx, tx, p)
		return err
	})
	if err != nil {
		return hirehook.CandidateEraseResult{}, fmt.Errorf("erase candidate %s: %w", p.CandidateID, err)
	}
	return res, nil
}

// erasedEvent is an event CandidateErase rewrites.
type erasedEvent struct {
	seq     int64
	id      string
	payload []byte
	purged  bool
}

func candidateErase(ctx context.Context, tx *sql.Tx, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, error) {
	var res hirehook.CandidateEraseResult
	id := p.CandidateID

	var hasRecord bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM records WHERE tenant_id = $1 AND entity = 'candidate' AND id = $2)`,
		p.TenantID, id).Scan(&hasRecord); err != nil {
		return res, fmt.Errorf("select candidate record %s: %w", id, err)
	}
	// (a) Events about the candidate, through events_subject. FOR UPDATE:
	// a retention purge of the same rows waits (or skips them) rather than
	// interleave with the rewrite.
	about, err := selectErased(ctx, tx, `SELECT seq, id, payload, purged_at IS NOT NULL FROM events
		WHERE tenant_id = $1 AND subject_entity = 'candidate' AND subject_id = $2 ORDER BY seq FOR UPDATE`, p.TenantID, id)
	if err != nil {
		return res, fmt.Errorf("select events of candidate %s: %w", id, err)
	}
	// (b) Events about something else that embed the candidate. This scans
	// the tenant's payloads, as the SQLite store does: erasures are rare,
	// and an index on a JSON path would cost every ingest. The payload is
	// read as json, not jsonb, which would refuse a \u0000 anywhere in it;
	// purged payloads hold no data.
	embedding, err := selectErased(ctx, tx, `SELECT e.seq, e.id, e.payload, false FROM events e
		CROSS JOIN LATERAL (SELECT convert_from(e.payload, 'UTF8')::json -> 'data' AS data) j
		WHERE e.tenant_id = $1 AND NOT (e.subject_entity = 'candidate' AND e.subject_id = $2) AND e.purged_at IS NULL
		AND (j.data -> 'candidate' ->> 'id' = $2 OR j.data ->> 'candidate_id' = $2)
		ORDER BY e.seq FOR UPDATE OF e`, p.TenantID, id)
	if err != nil {
		return res, fmt.Errorf("select events embedding candidate %s: %w", id, err)
	}
	if !hasRecord && len(about) == 0 && len(embedding) == 0 {
		return res, hirehook.Errorf(hirehook.ENOTFOUND, "No candidate %q: no record and no event names them.", id)
	}

	var aboutIDs, touched []string
	for _, e := range about {
		payload := e.payload
		if !e.purged {
			if payload, err = erasure.About(e.payload, id); err != nil {
				return res, fmt.Errorf("erase event %s: %w", e.id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET payload = $1, erased_at = $2 WHERE seq = $3`, payload, p.Now, e.seq); err != nil {
			return res, fmt.Errorf("erase event %s: %w", e.id, err)
		}
		aboutIDs = append(aboutIDs, e.id)
		touched = append(touched, e.id)
	}
	// What is left of an event about them is a tombstone: it is not sent
	// to anyone who has not had the event yet (they get
	// candidate.anonymized instead).
	if len(aboutIDs) > 0 {
		if _, err := tx.ExecContext(ctx, qCancelUnsent, reasonErased, p.Now, p.TenantID, aboutIDs); err != nil {
			return res, fmt.Errorf("cancel deliveries of erased events: %w", err)
		}
	}
	for _, e := range embedding {
		payload, err := erasure.Embedded(e.payload, id)
		if err != nil {
			return res, fmt.Errorf("erase candidate from event %s: %w", e.id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET payload = $1 WHERE seq = $2`, payload, e.seq); err != nil {
			return res, fmt.Errorf("erase candidate from event %s: %w", e.id, err)
		}
		touched = append(touched, e.id)
	}
	res.Events = len(touched)

	// (c) The candidate's record keeps its id, version and history; the
	// records that embed a summary of them keep all but the summary.
	r, err := tx.ExecContext(ctx, `UPDATE records SET data = jsonb_build_object('id', $2::text), erased_at = $3
		WHERE tenant_id = $1 AND entity = 'candidate' AND id = $2`, p.TenantID, id, p.Now)
	if err != nil {
		return res, fmt.Errorf("erase record of candidate %s: %w", id, err)
	}
	n, _ := r.RowsAffected()
	res.Records += int(n)
	r, err = tx.ExecContext(ctx, `UPDATE records SET data = jsonb_set(data, '{candidate}', jsonb_build_object('id', $2::text))
		WHERE tenant_id = $1 AND NOT (entity = 'candidate' AND id = $2)
		AND jsonb_typeof(data -> 'candidate') = 'object' AND data -> 'candidate' ->> 'id' = $2`, p.TenantID, id)
	if err != nil {
		return res, fmt.Errorf("erase candidate %s from records: %w", id, err)
	}
	n, _ = r.RowsAffected()
	res.Records += int(n)

	// (d) Receivers often echo the payload in their answer.
	r, err = tx.ExecContext(ctx, `UPDATE attempts SET response_body = '' WHERE response_body <> '' AND delivery_id IN (
		SELECT id FROM deliveries WHERE tenant_id = $1 AND event_id = ANY ($2::text[]))`, p.TenantID, touched)
	if err != nil {
		return res, fmt.Errorf("erase attempts of candidate %s: %w", id, err)
	}
	n, _ = r.RowsAffected()
	res.Attempts = int(n)

	// (e) The raw requests the touched events came from hold the
	// candidate as the vendor sent them.
	r, err = tx.ExecContext(ctx, `UPDATE inbound_requests SET body = NULL WHERE tenant_id = $1 AND body IS NOT NULL
		AND EXISTS (SELECT 1 FROM json_array_elements_text(event_ids::json) AS e (id) WHERE e.id = ANY ($2::text[]))`, p.TenantID, touched)
	if err != nil {
		return res, fmt.Errorf("erase inbound requests of candidate %s: %w", id, err)
	}
	n, _ = r.RowsAffected()
	res.InboundRequests = int(n)
	return res, nil
}

func selectErased(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]erasedEvent, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []erasedEvent
	for rows.Next() {
		var e erasedEvent
		if err := rows.Scan(&e.seq, &e.id, &e.payload, &e.purged); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// The payload editors below are store/sqlite's (store packages do not
// import each other): they rewrite the stored webhook body member by
// member, keeping the order and bytes of everything they do not remove.
