package sqlstore

// The inbound request log (hirehook.InboundRequest). Dedupe rests on the
// partial unique index inbound_requests_dedupe of both schemas: a received
// request is inserted with ON CONFLICT DO NOTHING on it (which, on
// PostgreSQL, waits for a concurrent insert of the same key to commit or
// roll back); one that finds its key taken reads the request holding it
// (visible to the next statement at READ COMMITTED) and is stored as its
// duplicate. The index, not the lookup, keeps the log right under
// concurrent creates; SQLite's one writer only makes them take turns.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// inboundColumns are the columns scanInbound reads; body is the expression
// read as the body ("NULL" for lists, which leave bodies out).
func inboundColumns(body string) string {
	return `id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of, vendor_event, header, ` + body +
		`, body_size, event_ids, error, attempts, processed_at, due_at`
}

func scanInbound(row interface{ Scan(...any) error }) (*hirehook.InboundRequest, error) {
	var r hirehook.InboundRequest
	var header, eventIDs string
	var received Time
	var processed, due NullTime
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
	r.ReceivedAt, r.ProcessedAt, r.DueAt = received.Time, processed.Time, due.Time
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

// qInsertInbound inserts one request; a received request whose dedupe key
// is taken inserts nothing (RowsAffected 0).
const qInsertInbound = `INSERT INTO inbound_requests (id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of,
	header, body, body_size, due_at, vendor_event, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (tenant_id, source_id, dedupe_key) WHERE dedupe_key <> '' AND status NOT IN ('duplicate', 'rejected') DO NOTHING`

// InboundCreate is hirehook.Store.InboundCreate, in one write transaction.
// r is changed (to the duplicate it was stored as) only once that commits.
func (q *Queue) InboundCreate(ctx context.Context, r *hirehook.InboundRequest) error {
	d := q.d
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
	err = d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		first = ""
		if err := sourceExists(ctx, d, tx, r.TenantID, r.SourceID); err != nil {
			return err
		}
		insert := func(status, duplicateOf string, body []byte, due *time.Time) (int64, error) {
			res, err := tx.ExecContext(ctx, d.Rebind(qInsertInbound), r.ID, r.TenantID, r.SourceID, d.TimeFunc(r.ReceivedAt), status, r.DedupeKey, duplicateOf,
				string(header), nullBytes(body), r.BodySize, d.NullTime(due), d.clean(r.VendorEvent), d.clean(r.Error))
			if d.IsUniqueFunc(err) {
				return 0, hirehook.Errorf(hirehook.ECONFLICT, "Inbound request %q exists already.", r.ID)
			} else if err != nil {
				return 0, fmt.Errorf("insert inbound request %s: %w", r.ID, err)
			}
			return res.RowsAffected()
		}
		// The holder of the key may be deleted (by retention, on another
		// node) between the insert and the select; the key is free then,
		// so insert again.
		for try := 1; ; try++ {
			n, err := insert(r.Status, r.DuplicateOf, r.Body, r.DueAt)
			if err != nil || n > 0 {
				return err
			}
			err = tx.QueryRowContext(ctx, d.Rebind(`SELECT id FROM inbound_requests WHERE tenant_id = ? AND source_id = ? AND dedupe_key = ?
				AND dedupe_key <> '' AND status NOT IN ('duplicate', 'rejected')`), r.TenantID, r.SourceID, r.DedupeKey).Scan(&first)
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
		_, err := insert(hirehook.InboundDuplicate, first, nil, nil)
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

// sourceExists answers ENOTFOUND unless the tenant has the source; where
// other writers may delete it meanwhile (Dialect.ForKeyShare) it stays
// until tx ends.
func sourceExists(ctx context.Context, d *Dialect, tx *sql.Tx, tenantID, sourceID string) error {
	var one int
	err := tx.QueryRowContext(ctx, d.Rebind(`SELECT 1 FROM sources WHERE tenant_id = ? AND id = ?`+d.ForKeyShare), tenantID, sourceID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", sourceID)
	} else if err != nil {
		return fmt.Errorf("select source %s: %w", sourceID, err)
	}
	return nil
}

// clean is Dialect.CleanText, if the dialect has one.
func (d *Dialect) clean(s string) string {
	if d.CleanTextFunc == nil {
		return s
	}
	return d.CleanTextFunc(s)
}

// nullBytes is b as an argument, NULL when b is nil (a driver may store a
// nil slice as an empty BLOB).
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// InboundGet is hirehook.Store.InboundGet.
func (q *Queue) InboundGet(ctx context.Context, tenantID, sourceID, id string) (*hirehook.InboundRequest, error) {
	d := q.d
	r, err := scanInbound(d.Reader.QueryRowContext(ctx, d.Rebind(`SELECT `+inboundColumns("body")+` FROM inbound_requests
		WHERE tenant_id = ? AND source_id = ? AND id = ?`), tenantID, sourceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Inbound request %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select inbound request %s: %w", id, err)
	}
	return r, nil
}

// InboundList is hirehook.Store.InboundList: newest first, without bodies,
// 50 by default and 10,000 at most.
func (q *Queue) InboundList(ctx context.Context, f hirehook.InboundFilter) ([]*hirehook.InboundRequest, error) {
	d := q.d
	where, args := []string{"tenant_id = ?", "source_id = ?"}, []any{f.TenantID, f.SourceID}
	if f.Before != "" {
		var before int64
		err := d.Reader.QueryRowContext(ctx, d.Rebind(`SELECT seq FROM inbound_requests WHERE tenant_id = ? AND source_id = ? AND id = ?`),
			f.TenantID, f.SourceID, f.Before).Scan(&before)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("before", "No inbound request %q to list before.", f.Before)
		} else if err != nil {
			return nil, fmt.Errorf("select inbound request cursor: %w", err)
		}
		where, args = append(where, "seq < ?"), append(args, before)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	n := 50
	if f.Limit > 0 {
		n = PageLimit(f.Limit)
	}
	rows, err := d.Reader.QueryContext(ctx, d.Rebind(`SELECT `+inboundColumns("NULL")+` FROM inbound_requests
		WHERE `+strings.Join(where, " AND ")+` ORDER BY seq DESC LIMIT ?`), append(args, n)...)
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

// InboundUpdate is hirehook.Store.InboundUpdate, one statement: the
// outcome of a normalisation (processed_at set to p.Now), or the request
// made due again at p.DueAt; either way its claim ends.
func (q *Queue) InboundUpdate(ctx context.Context, p hirehook.InboundUpdateParams) error {
	d := q.d
	if err := checkInboundUpdate(p); err != nil {
		return err
	}
	ids := p.EventIDs
	if ids == nil {
		ids = []string{}
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("encode inbound request %s event ids: %w", p.ID, err)
	}
	var processed, due any // NULL
	if p.Status == hirehook.InboundReceived {
		due = d.TimeFunc(*p.DueAt)
	} else {
		processed = d.TimeFunc(p.Now)
	}
	vendor := d.clean(p.VendorEvent)
	res, err := d.DB.ExecContext(ctx, d.Rebind(`UPDATE inbound_requests SET status = ?,
		vendor_event = CASE WHEN ? <> '' THEN ? ELSE vendor_event END,
		event_ids = ?, events = ?, error = ?, attempts = attempts + 1,
		processed_at = coalesce(?, processed_at), due_at = ?, claim_owner = '', claim_until = NULL
		WHERE tenant_id = ? AND id = ?`),
		p.Status, vendor, vendor, string(idsJSON), len(p.EventIDs), d.clean(p.Error), processed, due, p.TenantID, p.ID)
	if err != nil {
		return fmt.Errorf("update inbound request %s: %w", p.ID, d.mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Inbound request %q not found.", p.ID)
	}
	return nil
}

// InboundClaim is hirehook.Store.InboundClaim: one UPDATE … RETURNING of
// the oldest due requests whose claim is free or ran out. SKIP LOCKED
// (Dialect.SkipLocked) lets the nodes claiming at once share the due
// requests instead of queueing on (or taking twice) the same rows; SQLite's
// one writer makes the select and the update one step. RETURNING gives no
// order, so the claimed requests are sorted here, oldest due first (ids
// sort in creation order).
func (q *Queue) InboundClaim(ctx context.Context, p hirehook.InboundClaimParams) ([]*hirehook.InboundRequest, error) {
	d := q.d
	var out []*hirehook.InboundRequest
	now := d.TimeFunc(p.Now)
	err := d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, d.Rebind(`UPDATE inbound_requests SET claim_owner = ?, claim_until = ? WHERE seq IN (
			SELECT seq FROM inbound_requests WHERE status = 'received' AND due_at <= ? AND (claim_owner = '' OR claim_until <= ?)
			ORDER BY due_at, seq LIMIT ?`+d.SkipLocked+`)
			RETURNING `+inboundColumns("body")), p.Owner, d.TimeFunc(p.Until), now, now, PageLimit(p.Limit))
		if err != nil {
			return err
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

// InboundReprocess is hirehook.Store.InboundReprocess: the finished
// requests of a source received in [p.From, p.To) are received again,
// due at p.Now.
func (q *Queue) InboundReprocess(ctx context.Context, p hirehook.InboundReprocessParams) (int, error) {
	d := q.d
	var n int64
	err := d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		if err := sourceExists(ctx, d, tx, p.TenantID, p.SourceID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, d.Rebind(`UPDATE inbound_requests SET status = 'received', due_at = ?, claim_owner = '', claim_until = NULL
			WHERE tenant_id = ? AND source_id = ? AND status IN ('processed', 'unsupported', 'failed') AND received_at >= ? AND received_at < ?`),
			d.TimeFunc(p.Now), p.TenantID, p.SourceID, d.TimeFunc(p.From), d.TimeFunc(p.To))
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

// InboundStats is hirehook.Store.InboundStats: one pass grouped by source
// and status, and one for the reason of each source's latest rejection.
func (q *Queue) InboundStats(ctx context.Context, tenantID string) (map[string]*hirehook.InboundStats, error) {
	d := q.d
	rows, err := d.Reader.QueryContext(ctx, d.Rebind(`SELECT source_id, status, count(*), coalesce(sum(events), 0), max(received_at)
		FROM inbound_requests WHERE tenant_id = ? GROUP BY source_id, status`), tenantID)
	if err != nil {
		return nil, fmt.Errorf("select inbound stats: %w", err)
	}
	defer rows.Close()
	out := map[string]*hirehook.InboundStats{}
	for rows.Next() {
		var source, status string
		var n, events int64
		var last Time
		if err := rows.Scan(&source, &status, &n, &events, &last); err != nil {
			return nil, fmt.Errorf("select inbound stats: %w", err)
		}
		addInboundStats(out, source, status, n, events, last.Time)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select inbound stats: %w", err)
	}
	rows.Close()
	rej, err := d.Reader.QueryContext(ctx, d.Rebind(`SELECT source_id, error FROM (
		SELECT source_id, error, row_number() OVER (PARTITION BY source_id ORDER BY received_at DESC, seq DESC) AS n
		FROM inbound_requests WHERE tenant_id = ? AND status = 'rejected') AS latest WHERE n = 1`), tenantID)
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
