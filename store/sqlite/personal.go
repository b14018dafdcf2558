package sqlite

// Candidates' personal data: retention purges old payloads and response
// bodies tenant by tenant; erasure removes one candidate from everything
// that holds them.
//
// An erased candidate must be gone from the file, not only from query
// results. SQLite leaves the old bytes of a rewritten or deleted row in free
// space (gaps inside pages, freed overflow pages) and keeps old page images
// in the WAL until it is checkpointed. So:
//   - the writer runs with secure_delete permanently (sqlite.go), which
//     zeroes freed space as it is freed. Turning it on only for the
//     erasure is not enough: the record of a candidate is rewritten by a
//     JSON merge patch on every event, and the copies those earlier,
//     non-secure rewrites left behind survive an erasure that zeroes only
//     the current row (TestCandidateEraseStaleCopies shows both). Its cost
//     on ingest is within the noise of `hirehook bench`;
//   - a file written before secure_delete was on (store_meta.needs_scrub,
//     set by migration 0003) is rewritten once by VACUUM at its first
//     erasure, which drops every stale copy; later erasures do not need it;
//   - after every erasure, wal_checkpoint(TRUNCATE) copies the new pages
//     into the database and empties the WAL, old images and all.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/erasure"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// reasonErased is the last_error of deliveries cancelled because their
// event was erased (sqlstore.ReasonPurged is retention's).
const reasonErased = "cancelled: the event was erased with its candidate's personal data"

// qCancelUnsent cancels the deliveries of one event that have not been
// sent for good: pending, retrying, paused, and leased by a worker whose lease
// ran out (it died). A worker holding a live lease finishes its attempt.
const qCancelUnsent = `UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, last_error = ?1, updated_at = ?2,
	lease_owner = NULL, lease_expires_at = NULL
	WHERE tenant_id = ?3 AND event_id = ?4
	AND (state IN ('pending', 'retrying', 'paused') OR (state = 'delivering' AND lease_expires_at <= ?2))`

// RetentionPurge implements hirehook.Store; the rule is the core's
// (sqlstore.RetentionPurge), in one transaction on the writer.
func (s *Store) RetentionPurge(ctx context.Context, p hirehook.RetentionPurgeParams) (hirehook.RetentionPurgeResult, error) {
	return sqlstore.RetentionPurge(ctx, s.dialect, p)
}

// tombstone is sqlstore.Dialect.Tombstone on SQLite: one prepared
// statement per event (the statements are local calls, not round trips).
func tombstone(ctx context.Context, tx *sql.Tx, p sqlstore.TombstoneParams) error {
	update, err := tx.PrepareContext(ctx, `UPDATE events SET payload = ?, purged_at = ? WHERE seq = ?`)
	if err != nil {
		return fmt.Errorf("prepare purge: %w", err)
	}
	defer update.Close()
	cancel, err := tx.PrepareContext(ctx, qCancelUnsent)
	if err != nil {
		return fmt.Errorf("prepare purge: %w", err)
	}
	defer cancel.Close()
	now := toMicros(p.Now)
	for i, seq := range p.Seqs {
		if _, err := update.ExecContext(ctx, p.Payloads[i], now, seq); err != nil {
			return fmt.Errorf("purge event %s: %w", p.IDs[i], err)
		}
		if _, err := cancel.ExecContext(ctx, p.Reason, now, p.TenantID, p.IDs[i]); err != nil {
			return fmt.Errorf("cancel deliveries of purged event %s: %w", p.IDs[i], err)
		}
	}
	return nil
}

// checkResendable refuses to send d again when its event's payload is a
// tombstone (purged) or was erased: a receiver would take it for the event.
func checkResendable(ctx context.Context, q querier, d *hirehook.Delivery) error {
	var purged, erased bool
	err := q.QueryRowContext(ctx, `SELECT purged_at IS NOT NULL, erased_at IS NOT NULL FROM events WHERE tenant_id = ? AND id = ?`,
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

// CandidateErase implements hirehook.Store. The rows are rewritten in one
// transaction; then, on the same connection, a file written before
// secure_delete is scrubbed once with VACUUM, and the WAL is checkpointed
// and truncated so that no old page image outlives the erasure.
func (s *Store) CandidateErase(ctx context.Context, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, error) {
	if p.TenantID == "" || p.CandidateID == "" {
		return hirehook.CandidateEraseResult{}, hirehook.Errorf(hirehook.EINVALID, "A tenant and a candidate id are required.")
	}
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return hirehook.CandidateEraseResult{}, fmt.Errorf("erase candidate %s: %w", p.CandidateID, err)
	}
	defer conn.Close()
	// secure_delete is on for the writer from Open; say so here too, so
	// that this erasure does not depend on how the connection was made.
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return hirehook.CandidateEraseResult{}, fmt.Errorf("erase candidate %s: secure_delete: %w", p.CandidateID, err)
	}
	res, needsScrub, err := s.candidateErase(ctx, conn, p)
	if err != nil {
		return res, err
	}
	if err := scrubFile(ctx, conn, needsScrub); err != nil {
		return res, fmt.Errorf("erase candidate %s: %w; %w", p.CandidateID, hirehook.Errorf(hirehook.EUNAVAILABLE,
			"The candidate's personal data was erased, but old copies could not yet be dropped from the database file; send the request again."), err)
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

func (s *Store) candidateErase(ctx context.Context, conn *sql.Conn, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, bool, error) {
	var res hirehook.CandidateEraseResult
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, false, fmt.Errorf("begin erase: %w", err)
	}
	defer tx.Rollback()
	now := toMicros(p.Now)
	id := p.CandidateID

	var hasRecord bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM records WHERE tenant_id = ? AND entity = 'candidate' AND id = ?)`,
		p.TenantID, id).Scan(&hasRecord); err != nil {
		return res, false, fmt.Errorf("select candidate record %s: %w", id, err)
	}
	// (a) Events about the candidate, through events_subject.
	about, err := selectErased(ctx, tx, `SELECT seq, id, payload, purged_at IS NOT NULL FROM events
		WHERE tenant_id = ?1 AND subject_entity = 'candidate' AND subject_id = ?2 ORDER BY seq`, p.TenantID, id)
	if err != nil {
		return res, false, fmt.Errorf("select events of candidate %s: %w", id, err)
	}
	// (b) Events about something else that embed the candidate. This scans
	// the tenant's payloads: erasures are rare, and an index on a JSON
	// path would cost every ingest. Purged payloads hold no data.
	embedding, err := selectErased(ctx, tx, `SELECT seq, id, payload, 0 FROM events
		WHERE tenant_id = ?1 AND NOT (subject_entity = 'candidate' AND subject_id = ?2) AND purged_at IS NULL
		AND (json_extract(CAST(payload AS TEXT), '$.data.candidate.id') = ?2 OR json_extract(CAST(payload AS TEXT), '$.data.candidate_id') = ?2)
		ORDER BY seq`, p.TenantID, id)
	if err != nil {
		return res, false, fmt.Errorf("select events embedding candidate %s: %w", id, err)
	}
	if !hasRecord && len(about) == 0 && len(embedding) == 0 {
		return res, false, hirehook.Errorf(hirehook.ENOTFOUND, "No candidate %q: no record and no event names them.", id)
	}

	var touched []string
	for _, e := range about {
		payload := e.payload
		if !e.purged {
			if payload, err = erasure.About(e.payload, id); err != nil {
				return res, false, fmt.Errorf("erase event %s: %w", e.id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET payload = ?, erased_at = ? WHERE seq = ?`, payload, now, e.seq); err != nil {
			return res, false, fmt.Errorf("erase event %s: %w", e.id, err)
		}
		// What is left is a tombstone: it is not sent to anyone who has
		// not had the event yet (they get candidate.anonymized instead).
		if _, err := tx.ExecContext(ctx, qCancelUnsent, reasonErased, now, p.TenantID, e.id); err != nil {
			return res, false, fmt.Errorf("cancel deliveries of erased event %s: %w", e.id, err)
		}
		touched = append(touched, e.id)
	}
	for _, e := range embedding {
		payload, err := erasure.Embedded(e.payload, id)
		if err != nil {
			return res, false, fmt.Errorf("erase candidate from event %s: %w", e.id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET payload = ? WHERE seq = ?`, payload, e.seq); err != nil {
			return res, false, fmt.Errorf("erase candidate from event %s: %w", e.id, err)
		}
		touched = append(touched, e.id)
	}
	res.Events = len(touched)

	// (c) The candidate's record keeps its id, version and history; the
	// records that embed a summary of them keep all but the summary.
	r, err := tx.ExecContext(ctx, `UPDATE records SET data = json_object('id', ?3), erased_at = ?4
		WHERE tenant_id = ?1 AND entity = 'candidate' AND id = ?2`, p.TenantID, id, id, now)
	if err != nil {
		return res, false, fmt.Errorf("erase record of candidate %s: %w", id, err)
	}
	n, _ := r.RowsAffected()
	res.Records += int(n)
	r, err = tx.ExecContext(ctx, `UPDATE records SET data = json_set(data, '$.candidate', json_object('id', ?2))
		WHERE tenant_id = ?1 AND NOT (entity = 'candidate' AND id = ?2)
		AND json_type(data, '$.candidate') = 'object' AND json_extract(data, '$.candidate.id') = ?2`, p.TenantID, id)
	if err != nil {
		return res, false, fmt.Errorf("erase candidate %s from records: %w", id, err)
	}
	n, _ = r.RowsAffected()
	res.Records += int(n)

	// (d) Receivers often echo the payload in their answer.
	ids, err := json.Marshal(touched)
	if err != nil {
		return res, false, err
	}
	r, err = tx.ExecContext(ctx, `UPDATE attempts SET response_body = '' WHERE response_body <> '' AND delivery_id IN (
		SELECT id FROM deliveries WHERE tenant_id = ? AND event_id IN (SELECT value FROM json_each(?)))`, p.TenantID, string(ids))
	if err != nil {
		return res, false, fmt.Errorf("erase attempts of candidate %s: %w", id, err)
	}
	n, _ = r.RowsAffected()
	res.Attempts = int(n)

	// (e) The raw requests the touched events came from hold the
	// candidate as the vendor sent them.
	r, err = tx.ExecContext(ctx, `UPDATE inbound_requests SET body = NULL WHERE tenant_id = ? AND body IS NOT NULL
		AND EXISTS (SELECT 1 FROM json_each(inbound_requests.event_ids) WHERE value IN (SELECT value FROM json_each(?)))`, p.TenantID, string(ids))
	if err != nil {
		return res, false, fmt.Errorf("erase inbound requests of candidate %s: %w", id, err)
	}
	n, _ = r.RowsAffected()
	res.InboundRequests = int(n)

	var needsScrub bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM store_meta WHERE key = 'needs_scrub')`).Scan(&needsScrub); err != nil {
		return res, false, fmt.Errorf("select store_meta: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return res, false, fmt.Errorf("commit erase: %w", err)
	}
	return res, needsScrub, nil
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

// scrubFile drops every old copy of erased data from the file: once, for a
// file written before secure_delete, by rewriting it with VACUUM; always by
// checkpointing the WAL into the database and truncating it.
func scrubFile(ctx context.Context, conn *sql.Conn, vacuum bool) error {
	if vacuum {
		if _, err := conn.ExecContext(ctx, `VACUUM`); err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
		if _, err := conn.ExecContext(ctx, `DELETE FROM store_meta WHERE key = 'needs_scrub'`); err != nil {
			return fmt.Errorf("delete store_meta needs_scrub: %w", err)
		}
	}
	return truncateWAL(ctx, conn)
}

// truncateWAL runs wal_checkpoint(TRUNCATE) until it completes. It reports
// busy while a reader still uses a snapshot older than the last commit;
// each call already waits up to busy_timeout for that, so two more tries
// cover a burst of long reads without holding the writer for long.
func truncateWAL(ctx context.Context, conn *sql.Conn) error {
	for i := 0; ; i++ {
		var busy, frames, done int
		if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if i == 2 {
			return errors.New("checkpoint: readers kept the WAL busy")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("checkpoint: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond << i):
		}
	}
}
