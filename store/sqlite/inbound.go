package sqlite

// The inbound request log (hirehook.InboundRequest). Dedupe rests on the
// partial unique index inbound_requests_dedupe (migration 0010): a received
// request is inserted with ON CONFLICT DO NOTHING on it, and one that finds
// its key taken is stored again as a duplicate of the request holding it.
// With one writer connection the insert and that lookup cannot interleave
// with another create, but the index would keep the log right without that.

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
	var received int64
	var processed, due sql.NullInt64
	if err := row.Scan(&r.ID, &r.TenantID, &r.SourceID, &received, &r.Status, &r.DedupeKey, &r.DuplicateOf, &r.VendorEvent,
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
	r.ReceivedAt, r.ProcessedAt, r.DueAt = fromMicros(received), ptrMicros(processed), ptrMicros(due)
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

// blob returns b as a BLOB argument, NULL when b is nil.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
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
// is taken inserts nothing (RowsAffected 0).
const qInsertInbound = `INSERT INTO inbound_requests (id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of,
	header, body, body_size, due_at, vendor_event, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sources WHERE tenant_id = ? AND id = ?)`, r.TenantID, r.SourceID).Scan(&exists); err != nil {
		return fmt.Errorf("select source %s: %w", r.SourceID, err)
	}
	if !exists {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", r.SourceID)
	}
	insert := func() (int64, error) {
		res, err := tx.ExecContext(ctx, qInsertInbound, r.ID, r.TenantID, r.SourceID, toMicros(r.ReceivedAt), r.Status, r.DedupeKey, r.DuplicateOf,
			string(header), blob(r.Body), r.BodySize, nullMicros(r.DueAt), r.VendorEvent, r.Error)
		if isUniqueViolation(err) {
			return 0, hirehook.Errorf(hirehook.ECONFLICT, "Inbound request %q exists already.", r.ID)
		} else if err != nil {
			return 0, fmt.Errorf("insert inbound request %s: %w", r.ID, err)
		}
		return res.RowsAffected()
	}
	n, err := insert()
	if err != nil {
		return err
	}
	if n == 0 {
		var first string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM inbound_requests WHERE tenant_id = ? AND source_id = ? AND dedupe_key = ?
			AND dedupe_key <> '' AND status NOT IN ('duplicate', 'rejected')`, r.TenantID, r.SourceID, r.DedupeKey).Scan(&first); err != nil {
			return fmt.Errorf("select inbound request with dedupe key of %s: %w", r.ID, err)
		}
		if r.Status != hirehook.InboundReceived {
			return hirehook.Errorf(hirehook.ECONFLICT, "Inbound request %q has the dedupe key of %q.", r.ID, first)
		}
		r.Status, r.DuplicateOf, r.Body, r.DueAt = hirehook.InboundDuplicate, first, nil, nil
		if _, err := insert(); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// InboundGet implements hirehook.Store.
func (s *Store) InboundGet(ctx context.Context, tenantID, sourceID, id string) (*hirehook.InboundRequest, error) {
	r, err := scanInbound(s.reader.QueryRowContext(ctx, `SELECT `+inboundColumns("body")+` FROM inbound_requests
		WHERE tenant_id = ? AND source_id = ? AND id = ?`, tenantID, sourceID, id))
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
		err := s.reader.QueryRowContext(ctx, `SELECT seq FROM inbound_requests WHERE tenant_id = ? AND source_id = ? AND id = ?`,
			f.TenantID, f.SourceID, f.Before).Scan(&before)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("before", "No inbound request %q to list before.", f.Before)
		} else if err != nil {
			return nil, fmt.Errorf("select inbound request cursor: %w", err)
		}
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+inboundColumns("NULL")+` FROM inbound_requests
		WHERE tenant_id = ?1 AND source_id = ?2 AND (?3 < 0 OR seq < ?3) AND (?4 = '' OR status = ?4)
		ORDER BY seq DESC LIMIT ?5`, f.TenantID, f.SourceID, before, f.Status, inboundLimit(f.Limit))
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
	var processed, due sql.NullInt64
	if p.Status == hirehook.InboundReceived {
		due = nullMicros(p.DueAt)
	} else {
		processed = sql.NullInt64{Int64: toMicros(p.Now), Valid: true}
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE inbound_requests SET status = ?1,
		vendor_event = CASE WHEN ?2 <> '' THEN ?2 ELSE vendor_event END,
		event_ids = ?3, events = ?4, error = ?5, attempts = attempts + 1,
		processed_at = coalesce(?6, processed_at), due_at = ?7, claim_owner = '', claim_until = NULL
		WHERE tenant_id = ?8 AND id = ?9`,
		p.Status, p.VendorEvent, ids, len(p.EventIDs), p.Error, processed, due, p.TenantID, p.ID)
	if err != nil {
		return fmt.Errorf("update inbound request %s: %w", p.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Inbound request %q not found.", p.ID)
	}
	return nil
}

// InboundClaim implements hirehook.Store, in one UPDATE … RETURNING: the
// single writer makes the select and the update one step. RETURNING gives
// no order, so the claimed requests are sorted here, oldest due first.
func (s *Store) InboundClaim(ctx context.Context, p hirehook.InboundClaimParams) ([]*hirehook.InboundRequest, error) {
	now := toMicros(p.Now)
	rows, err := s.writer.QueryContext(ctx, `UPDATE inbound_requests SET claim_owner = ?, claim_until = ? WHERE seq IN (
		SELECT seq FROM inbound_requests WHERE status = 'received' AND due_at <= ? AND (claim_owner = '' OR claim_until <= ?)
		ORDER BY due_at, seq LIMIT ?)
		RETURNING `+inboundColumns("body"), p.Owner, toMicros(p.Until), now, now, limit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("claim inbound requests: %w", err)
	}
	out, err := scanInbounds(rows)
	if err != nil {
		return nil, fmt.Errorf("claim inbound requests: %w", err)
	}
	sortClaimed(out)
	return out, nil
}

// sortClaimed orders claimed requests oldest due first; ids sort in
// creation order.
func sortClaimed(rs []*hirehook.InboundRequest) {
	slices.SortFunc(rs, func(a, b *hirehook.InboundRequest) int {
		if c := a.DueAt.Compare(*b.DueAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// InboundReprocess implements hirehook.Store.
func (s *Store) InboundReprocess(ctx context.Context, p hirehook.InboundReprocessParams) (int, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sources WHERE tenant_id = ? AND id = ?)`, p.TenantID, p.SourceID).Scan(&exists); err != nil {
		return 0, fmt.Errorf("select source %s: %w", p.SourceID, err)
	}
	if !exists {
		return 0, hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", p.SourceID)
	}
	res, err := tx.ExecContext(ctx, `UPDATE inbound_requests SET status = 'received', due_at = ?, claim_owner = '', claim_until = NULL
		WHERE tenant_id = ? AND source_id = ? AND status IN ('processed', 'unsupported', 'failed') AND received_at >= ? AND received_at < ?`,
		toMicros(p.Now), p.TenantID, p.SourceID, toMicros(p.From), toMicros(p.To))
	if err != nil {
		return 0, fmt.Errorf("reprocess inbound requests of source %s: %w", p.SourceID, err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return int(n), nil
}

// InboundStats implements hirehook.Store: one pass grouped by source and
// status, and one for the reason of each source's latest rejection.
func (s *Store) InboundStats(ctx context.Context, tenantID string) (map[string]*hirehook.InboundStats, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT source_id, status, count(*), coalesce(sum(events), 0), max(received_at)
		FROM inbound_requests WHERE tenant_id = ? GROUP BY source_id, status`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("select inbound stats: %w", err)
	}
	defer rows.Close()
	out := map[string]*hirehook.InboundStats{}
	for rows.Next() {
		var source, status string
		var n, events, last int64
		if err := rows.Scan(&source, &status, &n, &events, &last); err != nil {
			return nil, fmt.Errorf("select inbound stats: %w", err)
		}
		addInboundStats(out, source, status, n, events, fromMicros(last))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select inbound stats: %w", err)
	}
	rows.Close()
	rej, err := s.reader.QueryContext(ctx, `SELECT source_id, error FROM (
		SELECT source_id, error, row_number() OVER (PARTITION BY source_id ORDER BY received_at DESC, seq DESC) AS n
		FROM inbound_requests WHERE tenant_id = ? AND status = 'rejected') WHERE n = 1`, tenantID)
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
