package postgres

// The inbound request log (hirehook.InboundRequest), with store/sqlite's
// semantics. Dedupe rests on the partial unique index
// inbound_requests_dedupe (migration 0008): a received request is inserted
// with ON CONFLICT DO NOTHING on it, which waits for a concurrent insert of
// the same key to commit or roll back; one that finds its key taken reads
// the request holding it (visible to the next statement at READ COMMITTED)
// and is stored as its duplicate. Claims lock with SKIP LOCKED, so that two
// nodes never normalise the same request.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hirehook/hirehook"
)

// inboundColumns are the columns scanInbound reads; body is the expression
// read as the body ("NULL" for lists, which leave bodies out).
func inboundColumns(body string) string {
	return `id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of, vendor_event, header, ` + body +
		`, body_size, event_ids, error, attempts, processed_at, due_at`
}

func scanInbound(row scanner) (*hirehook.InboundRequest, error) {
	var r hirehook.InboundRequest
	var header, eventIDs string
	var processed, due sql.NullTime
	if err := row.Scan(&r.ID, &r.TenantID, &r.SourceID, &r.ReceivedAt, &r.Status, &r.DedupeKey, &r.DuplicateOf, &r.VendorEvent,
		&header, &r.Body, &r.BodySize, &eventIDs, &r.Error, &r.Attempts, &processed, &due); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(header), &r.Header); err != nil {
		return nil, fmt.Errorf("decode inbound request %s header: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(eventIDs), &r.EventIDs); err != nil {
		return nil, fmt.Errorf("decode inbound request %s event ids: %w", r.ID, err)
	}
	// Rows logged before credentials were masked are masked when read.
	r.Header = hirehook.MaskCredentialHeaders(r.Header)
	if r.EventIDs == nil {
		r.EventIDs = []string{}
	}
	r.ReceivedAt, r.ProcessedAt, r.DueAt = utc(r.ReceivedAt), ptrTime(processed), ptrTime(due)
	return &r, nil
}

func scanInbounds(rows *sql.Rows) ([]*hirehook.InboundRequest, error) {
	defer rows.Close()
	out := []*hirehook.InboundRequest{}
	for rows.Next() {
		r, err := scanInbound(rows)
		if err != nil {
			return nil, fmt.Errorf("scan inbound request: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// marshalIDs renders event ids as the stored JSON array, [] for none.
func marshalIDs(ids []string) (string, error) {
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(ids)
	return string(b), err
}

// qInsertInbound inserts one request; a received request whose dedupe key
// is taken inserts nothing (RowsAffected 0). body is NULL for a nil slice.
const qInsertInbound = `INSERT INTO inbound_requests (id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of,
	header, body, body_size, due_at, vendor_event, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	ON CONFLICT (tenant_id, source_id, dedupe_key) WHERE dedupe_key <> '' AND status NOT IN ('duplicate', 'rejected') DO NOTHING`

// InboundCreate implements hirehook.Store.
func (s *Store) InboundCreate(ctx context.Context, r *hirehook.InboundRequest) error {
	switch r.Status {
	case hirehook.InboundReceived, hirehook.InboundRejected, hirehook.InboundHandshake:
	default:
		return hirehook.FieldError("status", "An inbound request is created received, rejected or handshake, not %q.", r.Status)
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if r.EventIDs == nil {
		r.EventIDs = []string{}
	}
	r.ReceivedAt = r.ReceivedAt.UTC().Truncate(time.Microsecond)
	if r.Status == hirehook.InboundReceived && r.DueAt == nil {
		due := r.ReceivedAt
		r.DueAt = &due
	}
	// Credentials never reach the log, whoever built r.
	header, err := json.Marshal(hirehook.MaskCredentialHeaders(r.Header))
	if err != nil {
		return fmt.Errorf("encode inbound request %s header: %w", r.ID, err)
	}
	var first string // the request r duplicates, once found
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		first = ""
		// FOR KEY SHARE keeps the source from being deleted (with its
		// log) until the request is in.
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM sources WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE`, r.TenantID, r.SourceID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", r.SourceID)
		} else if err != nil {
			return fmt.Errorf("select source %s: %w", r.SourceID, err)
		}
		insert := func(status, duplicateOf string, body []byte, due *time.Time) (int64, error) {
			res, err := tx.ExecContext(ctx, qInsertInbound, r.ID, r.TenantID, r.SourceID, r.ReceivedAt, status, r.DedupeKey, duplicateOf,
				string(header), body, r.BodySize, nullTime(due), cleanText(r.VendorEvent), cleanText(r.Error))
			if isUniqueViolation(err) {
				return 0, hirehook.Errorf(hirehook.ECONFLICT, "Inbound request %q exists already.", r.ID)
			} else if err != nil {
				return 0, fmt.Errorf("insert inbound request %s: %w", r.ID, mapError(err))
			}
			return res.RowsAffected()
		}
		// The holder of the key may be deleted (by retention) between the
		// insert and the select; the key is free then, so insert again.
		for try := 1; ; try++ {
			n, err := insert(r.Status, r.DuplicateOf, r.Body, r.DueAt)
			if err != nil || n > 0 {
				return err
			}
			err = tx.QueryRowContext(ctx, `SELECT id FROM inbound_requests WHERE tenant_id = $1 AND source_id = $2 AND dedupe_key = $3
				AND dedupe_key <> '' AND status NOT IN ('duplicate', 'rejected')`, r.TenantID, r.SourceID, r.DedupeKey).Scan(&first)
			if errors.Is(err, sql.ErrNoRows) && try < 3 {
				continue
			} else if err != nil {
				return fmt.Errorf("select inbound request with dedupe key of %s: %w", r.ID, err)
			}
			break
		}
		if r.Status != hirehook.InboundReceived {
			return hirehook.Errorf(hirehook.ECONFLICT, "Inbound request %q has the dedupe key of %q.", r.ID, first)
		}
		_, err = insert(hirehook.InboundDuplicate, first, nil, nil)
		return err
	})
	if err != nil {
		return err
	}
	if first != "" {
		r.Status, r.DuplicateOf, r.Body, r.DueAt = hirehook.InboundDuplicate, first, nil, nil
	}
	return nil
}

// InboundGet implements hirehook.Store.
func (s *Store) InboundGet(ctx context.Context, tenantID, sourceID, id string) (*hirehook.InboundRequest, error) {
	r, err := scanInbound(s.db.QueryRowContext(ctx, `SELECT `+inboundColumns("body")+` FROM inbound_requests
		WHERE tenant_id = $1 AND source_id = $2 AND id = $3`, tenantID, sourceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Inbound request %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select inbound request %s: %w", id, err)
	}
	return r, nil
}

// inboundLimit clamps an InboundList limit to [1, 10000], 50 by default.
func inboundLimit(n int) int {
	if n <= 0 {
		return 50
	}
	return limit(n)
}

// InboundList implements hirehook.Store.
func (s *Store) InboundList(ctx context.Context, f hirehook.InboundFilter) ([]*hirehook.InboundRequest, error) {
	before := int64(-1) // no cursor
	if f.Before != "" {
		err := s.db.QueryRowContext(ctx, `SELECT seq FROM inbound_requests WHERE tenant_id = $1 AND source_id = $2 AND id = $3`,
			f.TenantID, f.SourceID, f.Before).Scan(&before)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("before", "No inbound request %q to list before.", f.Before)
		} else if err != nil {
			return nil, fmt.Errorf("select inbound request cursor: %w", err)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+inboundColumns("NULL::bytea")+` FROM inbound_requests
		WHERE tenant_id = $1 AND source_id = $2 AND ($3::bigint < 0 OR seq < $3) AND ($4::text = '' OR status = $4)
		ORDER BY seq DESC LIMIT $5`, f.TenantID, f.SourceID, before, f.Status, inboundLimit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select inbound requests: %w", err)
	}
	return scanInbounds(rows)
}

// checkInboundUpdate validates the outcome InboundUpdate writes.
func checkInboundUpdate(p hirehook.InboundUpdateParams) error {
	switch p.Status {
	case hirehook.InboundProcessed, hirehook.InboundUnsupported, hirehook.InboundFailed:
	case hirehook.InboundReceived:
		if p.DueAt == nil || p.DueAt.IsZero() {
			return hirehook.FieldError("due_at", "A request made received again needs a due time.")
		}
	default:
		return hirehook.FieldError("status", "An inbound request cannot be updated to %q.", p.Status)
	}
	return nil
}

// InboundUpdate implements hirehook.Store.
func (s *Store) InboundUpdate(ctx context.Context, p hirehook.InboundUpdateParams) error {
	if err := checkInboundUpdate(p); err != nil {
		return err
	}
	ids, err := marshalIDs(p.EventIDs)
	if err != nil {
		return fmt.Errorf("encode inbound request %s event ids: %w", p.ID, err)
	}
	var processed, due any // NULL
	if p.Status == hirehook.InboundReceived {
		due = *p.DueAt
	} else {
		processed = p.Now
	}
	res, err := s.db.ExecContext(ctx, `UPDATE inbound_requests SET status = $1,
		vendor_event = CASE WHEN $2::text <> '' THEN $2 ELSE vendor_event END,
		event_ids = $3, events = $4, error = $5, attempts = attempts + 1,
		processed_at = coalesce($6::timestamptz, processed_at), due_at = $7::timestamptz, claim_owner = '', claim_until = NULL
		WHERE tenant_id = $8 AND id = $9`,
		p.Status, cleanText(p.VendorEvent), ids, len(p.EventIDs), cleanText(p.Error), processed, due, p.TenantID, p.ID)
	if err != nil {
		return fmt.Errorf("update inbound request %s: %w", p.ID, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Inbound request %q not found.", p.ID)
	}
	return nil
}

// InboundClaim implements hirehook.Store. SKIP LOCKED lets the nodes
// claiming at once share the due requests instead of queueing on (or
// taking twice) the same rows. RETURNING gives no order, so the claimed
// requests are sorted here, oldest due first.
func (s *Store) InboundClaim(ctx context.Context, p hirehook.InboundClaimParams) ([]*hirehook.InboundRequest, error) {
	var out []*hirehook.InboundRequest
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE inbound_requests SET claim_owner = $1, claim_until = $2 WHERE seq IN (
			SELECT seq FROM inbound_requests WHERE status = 'received' AND due_at <= $3 AND (claim_owner = '' OR claim_until <= $3)
			ORDER BY due_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING `+inboundColumns("body"), p.Owner, p.Until, p.Now, limit(p.Limit))
		if err != nil {
			return fmt.Errorf("claim inbound requests: %w", err)
		}
		out, err = scanInbounds(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim inbound requests: %w", err)
	}
	slices.SortFunc(out, func(a, b *hirehook.InboundRequest) int {
		if c := a.DueAt.Compare(*b.DueAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// InboundReprocess implements hirehook.Store.
func (s *Store) InboundReprocess(ctx context.Context, p hirehook.InboundReprocessParams) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM sources WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE`, p.TenantID, p.SourceID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", p.SourceID)
		} else if err != nil {
			return fmt.Errorf("select source %s: %w", p.SourceID, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE inbound_requests SET status = 'received', due_at = $1, claim_owner = '', claim_until = NULL
			WHERE tenant_id = $2 AND source_id = $3 AND status IN ('processed', 'unsupported', 'failed') AND received_at >= $4 AND received_at < $5`,
			p.Now, p.TenantID, p.SourceID, p.From, p.To)
		if err != nil {
			return fmt.Errorf("reprocess inbound requests of source %s: %w", p.SourceID, err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// InboundStats implements hirehook.Store: one pass grouped by source and
// status, and one for the reason of each source's latest rejection.
func (s *Store) InboundStats(ctx context.Context, tenantID string) (map[string]*hirehook.InboundStats, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source_id, status, count(*), coalesce(sum(events), 0), max(received_at)
		FROM inbound_requests WHERE tenant_id = $1 GROUP BY source_id, status`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("select inbound stats: %w", err)
	}
	defer rows.Close()
	out := map[string]*hirehook.InboundStats{}
	for rows.Next() {
		var source, status string
		var n, events int64
		var last time.Time
		if err := rows.Scan(&source, &status, &n, &events, &last); err != nil {
			return nil, fmt.Errorf("select inbound stats: %w", err)
		}
		addInboundStats(out, source, status, n, events, utc(last))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select inbound stats: %w", err)
	}
	rows.Close()
	rej, err := s.db.QueryContext(ctx, `SELECT DISTINCT ON (source_id) source_id, error FROM inbound_requests
		WHERE tenant_id = $1 AND status = 'rejected' ORDER BY source_id, received_at DESC, seq DESC`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("select inbound rejections: %w", err)
	}
	defer rej.Close()
	for rej.Next() {
		var source, reason string
		if err := rej.Scan(&source, &reason); err != nil {
			return nil, fmt.Errorf("select inbound rejections: %w", err)
		}
		if st := out[source]; st != nil {
			st.LastRejection = reason
		}
	}
	if err := rej.Err(); err != nil {
		return nil, fmt.Errorf("select inbound rejections: %w", err)
	}
	return out, nil
}

// addInboundStats adds one (source, status) group to out.
func addInboundStats(out map[string]*hirehook.InboundStats, source, status string, n, events int64, last time.Time) {
	st := out[source]
	if st == nil {
		st = &hirehook.InboundStats{ByStatus: map[string]int64{}}
		out[source] = st
	}
	st.ByStatus[status] = n
	st.Events += events
	later := func(p **time.Time) {
		if *p == nil || last.After(**p) {
			t := last
			*p = &t
		}
	}
	later(&st.LastReceivedAt)
	switch status {
	case hirehook.InboundRejected:
		later(&st.LastRejectedAt)
	case hirehook.InboundHandshake:
		later(&st.LastHandshakeAt)
		later(&st.LastVerifiedAt)
	default:
		later(&st.LastVerifiedAt)
	}
}
