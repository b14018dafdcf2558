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
	"github.com/hirehook/hirehook/store/sqlstore"
)

// qCancelUnsent is sqlstore.Dialect.CancelUnsent for one event: ?1
// reason, ?2 now, ?3 tenant, ?4 event id.
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
// statement run per event (local calls, not round trips).
func tombstone(ctx context.Context, tx *sql.Tx, p sqlstore.TombstoneParams) error {
	update, err := tx.PrepareContext(ctx, `UPDATE events SET payload = ?, purged_at = ? WHERE seq = ?`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer update.Close()
	now := toMicros(p.Now)
	for i, seq := range p.Seqs {
		if _, err := update.ExecContext(ctx, p.Payloads[i], now, seq); err != nil {
			return fmt.Errorf("event seq %d: %w", seq, err)
		}
	}
	return nil
}

// cancelUnsent is sqlstore.Dialect.CancelUnsent on SQLite, event by event.
func cancelUnsent(ctx context.Context, tx *sql.Tx, p sqlstore.CancelParams) error {
	cancel, err := tx.PrepareContext(ctx, qCancelUnsent)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer cancel.Close()
	now := toMicros(p.Now)
	for _, id := range p.IDs {
		if _, err := cancel.ExecContext(ctx, p.Reason, now, p.TenantID, id); err != nil {
			return fmt.Errorf("event %s: %w", id, err)
		}
	}
	return nil
}

// eraseSQL are the statements of a candidate erasure in SQLite's JSON
// functions (see sqlstore.EraseSQL). The payload is a BLOB: it is read
// through CAST, as text. Lists of ids are bound as JSON arrays.
var eraseSQL = sqlstore.EraseSQL{
	Embedding: `SELECT seq, id, payload, 0 FROM events
		WHERE tenant_id = ?1 AND NOT (subject_entity = 'candidate' AND subject_id = ?2) AND purged_at IS NULL
		AND (json_extract(CAST(payload AS TEXT), '$.data.candidate.id') = ?2 OR json_extract(CAST(payload AS TEXT), '$.data.candidate_id') = ?2)
		ORDER BY seq`,
	Record: `UPDATE records SET data = json_object('id', ?2), erased_at = ?3
		WHERE tenant_id = ?1 AND entity = 'candidate' AND id = ?2`,
	Embedded: `UPDATE records SET data = json_set(data, '$.candidate', json_object('id', ?2))
		WHERE tenant_id = ?1 AND NOT (entity = 'candidate' AND id = ?2)
		AND json_type(data, '$.candidate') = 'object' AND json_extract(data, '$.candidate.id') = ?2`,
	Attempts: `UPDATE attempts SET response_body = '' WHERE response_body <> '' AND delivery_id IN (
		SELECT id FROM deliveries WHERE tenant_id = ?1 AND event_id IN (SELECT value FROM json_each(?2)))`,
	Inbound: `UPDATE inbound_requests SET body = NULL WHERE tenant_id = ?1 AND body IS NOT NULL
		AND EXISTS (SELECT 1 FROM json_each(inbound_requests.event_ids) WHERE value IN (SELECT value FROM json_each(?2)))`,
	IDsFunc: func(ids []string) any {
		b, _ := json.Marshal(ids) // []string always marshals
		return string(b)
	},
}

// CandidateErase implements hirehook.Store. The rows are rewritten in one
// transaction; then, on the same connection, a file written before
// secure_delete is scrubbed once with VACUUM, and the WAL is checkpointed
// and truncated so that no old page image outlives the erasure.
func (s *Store) CandidateErase(ctx context.Context, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, error) {
	if err := sqlstore.CheckErase(p); err != nil {
		return hirehook.CandidateEraseResult{}, err
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

func (s *Store) candidateErase(ctx context.Context, conn *sql.Conn, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return hirehook.CandidateEraseResult{}, false, fmt.Errorf("begin erase: %w", err)
	}
	defer tx.Rollback()
	res, err := sqlstore.CandidateErase(ctx, s.dialect, tx, p)
	if err != nil {
		return res, false, err
	}
	var needsScrub bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM store_meta WHERE key = 'needs_scrub')`).Scan(&needsScrub); err != nil {
		return res, false, fmt.Errorf("select store_meta: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return res, false, fmt.Errorf("commit erase: %w", err)
	}
	return res, needsScrub, nil
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
