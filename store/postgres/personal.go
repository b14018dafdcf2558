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
	"fmt"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// qCancelUnsent is sqlstore.Dialect.CancelUnsent for a batch of events:
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

// CandidateErase implements hirehook.Store, in one transaction; the rule
// is the core's (sqlstore.CandidateErase). The rows it rewrites keep their
// old versions in the table files until VACUUM; see the package doc for
// what an operator runs to drop them.
func (s *Store) CandidateErase(ctx context.Context, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, error) {
	if err := sqlstore.CheckErase(p); err != nil {
		return hirehook.CandidateEraseResult{}, err
	}
	var res hirehook.CandidateEraseResult
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = sqlstore.CandidateErase(ctx, s.dialect, tx, p)
		return err
	})
	if err != nil {
		return hirehook.CandidateEraseResult{}, fmt.Errorf("erase candidate %s: %w", p.CandidateID, err)
	}
	return res, nil
}

// eraseSQL are the statements of a candidate erasure in PostgreSQL's JSON
// functions (see sqlstore.EraseSQL). FOR UPDATE: a retention purge of the
// same rows on another node waits (or skips them) rather than interleave
// with the rewrite. The payload is read as json, not jsonb, which would
// refuse a \u0000 anywhere in it. Lists of ids are text[].
var eraseSQL = sqlstore.EraseSQL{
	Embedding: `SELECT e.seq, e.id, e.payload, false FROM events e
		CROSS JOIN LATERAL (SELECT convert_from(e.payload, 'UTF8')::json -> 'data' AS data) j
		WHERE e.tenant_id = $1 AND NOT (e.subject_entity = 'candidate' AND e.subject_id = $2) AND e.purged_at IS NULL
		AND (j.data -> 'candidate' ->> 'id' = $2 OR j.data ->> 'candidate_id' = $2)
		ORDER BY e.seq FOR UPDATE OF e`,
	Record: `UPDATE records SET data = jsonb_build_object('id', $2::text), erased_at = $3
		WHERE tenant_id = $1 AND entity = 'candidate' AND id = $2`,
	Embedded: `UPDATE records SET data = jsonb_set(data, '{candidate}', jsonb_build_object('id', $2::text))
		WHERE tenant_id = $1 AND NOT (entity = 'candidate' AND id = $2)
		AND jsonb_typeof(data -> 'candidate') = 'object' AND data -> 'candidate' ->> 'id' = $2`,
	Attempts: `UPDATE attempts SET response_body = '' WHERE response_body <> '' AND delivery_id IN (
		SELECT id FROM deliveries WHERE tenant_id = $1 AND event_id = ANY ($2::text[]))`,
	Inbound: `UPDATE inbound_requests SET body = NULL WHERE tenant_id = $1 AND body IS NOT NULL
		AND EXISTS (SELECT 1 FROM json_array_elements_text(event_ids::json) AS e (id) WHERE e.id = ANY ($2::text[]))`,
	IDsFunc: func(ids []string) any { return ids },
	Lock:    " FOR UPDATE",
}
