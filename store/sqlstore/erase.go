package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/erasure"
)

// ReasonErased is the last_error of deliveries cancelled because their
// event was erased with its candidate's personal data.
const ReasonErased = "cancelled: the event was erased with its candidate's personal data"

// EraseSQL are the statements of a candidate erasure that use the
// dialect's JSON functions, each in the dialect's own placeholders, with
// the arguments named.
type EraseSQL struct {
	// Embedding selects seq, id, payload and false of the events of tenant
	// (1) that are not about candidate (2) and are not purged, whose data
	// embeds the candidate (data.candidate.id or data.candidate_id), in seq
	// order, locked like Lock.
	Embedding string
	// Record makes the candidate's record (tenant 1, candidate 2) hold
	// only {"id": candidate} and sets erased_at to now (3).
	Record string
	// Embedded replaces the candidate object of the other records of
	// tenant (1) that embed candidate (2) with {"id": candidate}.
	Embedded string
	// Attempts empties the response bodies of the attempts of tenant (1)
	// whose delivery's event is in the ids (2, as IDs gives them).
	Attempts string
	// Inbound drops the bodies of the inbound requests of tenant (1) that
	// became one of the events in the ids (2, as IDs gives them).
	Inbound string
	// IDsFunc is a list of event ids as an argument of Attempts and Inbound.
	IDsFunc func([]string) any
	// Lock ends the select of the events about the candidate: " FOR
	// UPDATE" where other transactions may write them meanwhile (a
	// retention purge on another node), "" where there is one writer.
	Lock string
}

// CheckErase refuses the arguments of a CandidateErase that cannot name a
// candidate, with EINVALID.
func CheckErase(p hirehook.CandidateEraseParams) error {
	if p.TenantID == "" || p.CandidateID == "" {
		return hirehook.Errorf(hirehook.EINVALID, "A tenant and a candidate id are required.")
	}
	return nil
}

// erasedEvent is an event CandidateErase rewrites.
type erasedEvent struct {
	seq     int64
	id      string
	payload []byte
	purged  bool
}

// CandidateErase is the rule of hirehook.Store.CandidateErase (see there),
// in tx, which the dialect begins and commits: what it must do to its
// files around the transaction is its own (SQLite zeroes and truncates;
// PostgreSQL leaves old row versions to VACUUM). ENOTFOUND if the tenant
// has neither a record of nor an event about the candidate.
func CandidateErase(ctx context.Context, d *Dialect, tx *sql.Tx, p hirehook.CandidateEraseParams) (hirehook.CandidateEraseResult, error) {
	var res hirehook.CandidateEraseResult
	id := p.CandidateID

	var hasRecord bool
	if err := tx.QueryRowContext(ctx, d.Rebind(`SELECT EXISTS (SELECT 1 FROM records WHERE tenant_id = ? AND entity = 'candidate' AND id = ?)`),
		p.TenantID, id).Scan(&hasRecord); err != nil {
		return res, fmt.Errorf("select candidate record %s: %w", id, err)
	}
	// (a) Events about the candidate, through events_subject.
	about, err := selectErased(ctx, tx, d.Rebind(`SELECT seq, id, payload, purged_at IS NOT NULL FROM events
		WHERE tenant_id = ? AND subject_entity = 'candidate' AND subject_id = ? ORDER BY seq`+d.Erase.Lock), p.TenantID, id)
	if err != nil {
		return res, fmt.Errorf("select events of candidate %s: %w", id, err)
	}
	// (b) Events about something else that embed the candidate. This scans
	// the tenant's payloads: erasures are rare, and an index on a JSON
	// path would cost every ingest. Purged payloads hold no data.
	embedding, err := selectErased(ctx, tx, d.Erase.Embedding, p.TenantID, id)
	if err != nil {
		return res, fmt.Errorf("select events embedding candidate %s: %w", id, err)
	}
	if !hasRecord && len(about) == 0 && len(embedding) == 0 {
		return res, hirehook.Errorf(hirehook.ENOTFOUND, "No candidate %q: no record and no event names them.", id)
	}

	now := d.TimeFunc(p.Now)
	var aboutIDs, touched []string
	for _, e := range about {
		payload := e.payload
		if !e.purged {
			if payload, err = erasure.About(e.payload, id); err != nil {
				return res, fmt.Errorf("erase event %s: %w", e.id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, d.Rebind(`UPDATE events SET payload = ?, erased_at = ? WHERE seq = ?`), payload, now, e.seq); err != nil {
			return res, fmt.Errorf("erase event %s: %w", e.id, err)
		}
		aboutIDs = append(aboutIDs, e.id)
		touched = append(touched, e.id)
	}
	// What is left of an event about them is a tombstone: it is not sent
	// to anyone who has not had the event yet (they get
	// candidate.anonymized instead).
	if len(aboutIDs) > 0 {
		if err := d.CancelUnsentFunc(ctx, tx, CancelParams{TenantID: p.TenantID, Now: p.Now, IDs: aboutIDs, Reason: ReasonErased}); err != nil {
			return res, fmt.Errorf("cancel deliveries of erased events: %w", err)
		}
	}
	for _, e := range embedding {
		payload, err := erasure.Embedded(e.payload, id)
		if err != nil {
			return res, fmt.Errorf("erase candidate from event %s: %w", e.id, err)
		}
		if _, err := tx.ExecContext(ctx, d.Rebind(`UPDATE events SET payload = ? WHERE seq = ?`), payload, e.seq); err != nil {
			return res, fmt.Errorf("erase candidate from event %s: %w", e.id, err)
		}
		touched = append(touched, e.id)
	}
	res.Events = len(touched)

	// (c) The candidate's record keeps its id, version and history; the
	// records that embed a summary of them keep all but the summary.
	r, err := tx.ExecContext(ctx, d.Erase.Record, p.TenantID, id, now)
	if err != nil {
		return res, fmt.Errorf("erase record of candidate %s: %w", id, err)
	}
	n, _ := r.RowsAffected()
	res.Records += int(n)
	r, err = tx.ExecContext(ctx, d.Erase.Embedded, p.TenantID, id)
	if err != nil {
		return res, fmt.Errorf("erase candidate %s from records: %w", id, err)
	}
	n, _ = r.RowsAffected()
	res.Records += int(n)

	// (d) Receivers often echo the payload in their answer.
	r, err = tx.ExecContext(ctx, d.Erase.Attempts, p.TenantID, d.Erase.IDsFunc(touched))
	if err != nil {
		return res, fmt.Errorf("erase attempts of candidate %s: %w", id, err)
	}
	n, _ = r.RowsAffected()
	res.Attempts = int(n)

	// (e) The raw requests the touched events came from hold the
	// candidate as the vendor sent them.
	r, err = tx.ExecContext(ctx, d.Erase.Inbound, p.TenantID, d.Erase.IDsFunc(touched))
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
