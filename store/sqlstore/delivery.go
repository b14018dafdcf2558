package sqlstore

// The deliveries outside their claim and completion, which stay the
// dialects' (their statements differ in form, not in rule: one UPDATE …
// RETURNING on SQLite's one writer, FOR UPDATE SKIP LOCKED and set-based
// batches on PostgreSQL): the read of a delivery with its attempts, the
// list, an operator's retry and recovery, and the bits of a completion
// both dialects write the same way (LastError, AttemptID).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// DeliveryColumns are the columns ScanDelivery reads, for a dialect's
// claim statement too.
const DeliveryColumns = `id, tenant_id, event_id, event_type, endpoint_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, updated_at, coalesce(ordering_key, '') AS ordering_key`

// ReleasedState is the state a leased delivery takes when its lease is
// given back unattempted (a dialect's DeliveryRelease, and SQLite's
// release of the leases a dead hub left): paused while its endpoint is
// disabled, else pending if it was never attempted and retrying if it was.
// It is an expression of the deliveries row being updated.
const ReleasedState = `CASE
			WHEN EXISTS (SELECT 1 FROM endpoints WHERE endpoints.id = deliveries.endpoint_id AND endpoints.disabled) THEN 'paused'
			WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END`

// deliveryViewColumns are DeliveryColumns and the last attempt's latency
// and the start of its body, for DeliveryList and DeliveryGet: two lookups
// by the attempts' primary key (delivery_id, number) per row. A few bytes
// more than hirehook.ResponseExcerptBytes are read, so that ResponseExcerpt
// can tell a body cut in a character from one that ends there. (substr
// counts characters of SQLite's text and bytes of PostgreSQL's bytea.)
const deliveryViewColumns = DeliveryColumns + `,
	coalesce((SELECT duration_us FROM attempts WHERE delivery_id = deliveries.id AND number = deliveries.attempts), 0),
	coalesce((SELECT substr(response_body, 1, 204) FROM attempts WHERE delivery_id = deliveries.id AND number = deliveries.attempts), '')`

// ScanDelivery scans a row of DeliveryColumns, then extra.
func ScanDelivery(row interface{ Scan(...any) error }, extra ...any) (*hirehook.Delivery, error) {
	var d hirehook.Delivery
	var next, last NullTime
	var created, updated Time
	dest := append([]any{&d.ID, &d.TenantID, &d.EventID, &d.EventType, &d.EndpointID, &d.State, &d.Attempts, &next, &last,
		&d.LastStatus, &d.LastError, &created, &updated, &d.OrderingKey}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.LastAttemptAt = next.Time, last.Time
	d.CreatedAt, d.UpdatedAt = created.Time, updated.Time
	return &d, nil
}

// scanDeliveryView scans a row of deliveryViewColumns.
func scanDeliveryView(row interface{ Scan(...any) error }) (*hirehook.Delivery, error) {
	var dur int64
	var body []byte
	d, err := ScanDelivery(row, &dur, &body)
	if err != nil {
		return nil, err
	}
	d.LastLatency = hirehook.Milliseconds(time.Duration(dur) * time.Microsecond)
	d.LastResponseExcerpt = hirehook.ResponseExcerpt(string(body))
	return d, nil
}

// DeliveryGet is hirehook.Store.DeliveryGet: the delivery and its
// attempts in order.
func (q *Queue) DeliveryGet(ctx context.Context, tenantID, id string) (*hirehook.Delivery, []*hirehook.Attempt, error) {
	d := q.d
	del, err := scanDeliveryView(d.Reader.QueryRowContext(ctx, d.Rebind(`SELECT `+deliveryViewColumns+` FROM deliveries WHERE tenant_id = ? AND id = ?`), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, hirehook.Errorf(hirehook.ENOTFOUND, "Delivery %q not found.", id)
	} else if err != nil {
		return nil, nil, fmt.Errorf("select delivery %s: %w", id, err)
	}
	rows, err := d.Reader.QueryContext(ctx, d.Rebind(`SELECT id, delivery_id, number, started_at, duration_us, status_code, response_body, error_class, error
		FROM attempts WHERE delivery_id = ? ORDER BY number`), id)
	if err != nil {
		return nil, nil, fmt.Errorf("select attempts of delivery %s: %w", id, err)
	}
	defer rows.Close()
	attempts := []*hirehook.Attempt{}
	for rows.Next() {
		var a hirehook.Attempt
		var started Time
		var dur int64
		var body []byte
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &started, &dur, &a.StatusCode, &body, &a.ErrorClass, &a.Error); err != nil {
			return nil, nil, err
		}
		a.StartedAt, a.Duration, a.ResponseBody = started.Time, time.Duration(dur)*time.Microsecond, string(body)
		attempts = append(attempts, &a)
	}
	return del, attempts, rows.Err()
}

// DeliveryList is hirehook.Store.DeliveryList: newest first, after the
// cursor, filtered by endpoint, event and state.
func (q *Queue) DeliveryList(ctx context.Context, f hirehook.DeliveryFilter) ([]*hirehook.Delivery, error) {
	d := q.d
	where, args := []string{"tenant_id = ?"}, []any{f.TenantID}
	if f.After != "" {
		var seq int64
		err := d.Reader.QueryRowContext(ctx, d.Rebind(`SELECT seq FROM deliveries WHERE tenant_id = ? AND id = ?`), f.TenantID, f.After).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("after", "No delivery %q to list after.", f.After)
		} else if err != nil {
			return nil, fmt.Errorf("select delivery cursor: %w", err)
		}
		where, args = append(where, "seq < ?"), append(args, seq)
	}
	if f.EndpointID != nil {
		where, args = append(where, "endpoint_id = ?"), append(args, *f.EndpointID)
	}
	if f.EventID != nil {
		where, args = append(where, "event_id = ?"), append(args, *f.EventID)
	}
	if f.State != nil {
		where, args = append(where, "state = ?"), append(args, string(*f.State))
	}
	rows, err := d.Reader.QueryContext(ctx, d.Rebind(`SELECT `+deliveryViewColumns+` FROM deliveries WHERE `+strings.Join(where, " AND ")+` ORDER BY seq DESC LIMIT ?`),
		append(args, PageLimit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("select deliveries: %w", err)
	}
	defer rows.Close()
	out := []*hirehook.Delivery{}
	for rows.Next() {
		del, err := scanDeliveryView(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, del)
	}
	return out, rows.Err()
}

// DeliveryRetry is hirehook.Store.DeliveryRetry: a delivery that is not
// cancelled, not being attempted and whose event can still be sent is due
// at now (paused while its endpoint is disabled). The row is locked
// (Dialect.ForUpdate), so a claimer cannot take it between the check of
// its state and the update; the nodes are woken (Dialect.Notify).
func (q *Queue) DeliveryRetry(ctx context.Context, tenantID, id string, now time.Time) (*hirehook.Delivery, error) {
	d := q.d
	var del *hirehook.Delivery
	err := d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		var err error
		del, err = ScanDelivery(tx.QueryRowContext(ctx, d.Rebind(`SELECT `+DeliveryColumns+` FROM deliveries WHERE tenant_id = ? AND id = ?`+d.ForUpdate), tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Delivery %q not found.", id)
		} else if err != nil {
			return fmt.Errorf("select delivery %s: %w", id, err)
		}
		if err := checkResendable(ctx, d, tx, del); err != nil {
			return err
		}
		switch del.State {
		case hirehook.DeliveryCancelled:
			return hirehook.Errorf(hirehook.EINVALID, "Delivery %q was cancelled (its endpoint was deleted) and cannot be retried.", id)
		case hirehook.DeliveryDelivering:
			return hirehook.Errorf(hirehook.ECONFLICT, "Delivery %q is being attempted right now.", id)
		}
		var disabled bool
		if err := tx.QueryRowContext(ctx, d.Rebind(`SELECT disabled FROM endpoints WHERE id = ?`), del.EndpointID).Scan(&disabled); err != nil {
			return fmt.Errorf("select endpoint of delivery %s: %w", id, err)
		}
		state := resumedState(disabled)
		if _, err := tx.ExecContext(ctx, d.Rebind(`UPDATE deliveries SET state = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?`),
			string(state), d.TimeFunc(now), d.TimeFunc(now), id); err != nil {
			return fmt.Errorf("retry delivery %s: %w", id, err)
		}
		if err := d.notify(ctx, tx); err != nil {
			return err
		}
		n := now.UTC()
		del.State, del.NextAttemptAt, del.UpdatedAt = state, &n, n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return del, nil
}

// checkResendable refuses to send del again when its event's payload is a
// tombstone (purged) or was erased: a receiver would take it for the event.
func checkResendable(ctx context.Context, d *Dialect, tx *sql.Tx, del *hirehook.Delivery) error {
	var purged, erased bool
	err := tx.QueryRowContext(ctx, d.Rebind(`SELECT purged_at IS NOT NULL, erased_at IS NOT NULL FROM events WHERE tenant_id = ? AND id = ?`),
		del.TenantID, del.EventID).Scan(&purged, &erased)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("select event %s of delivery %s: %w", del.EventID, del.ID, err)
	case purged:
		return hirehook.Errorf(hirehook.EINVALID, "Delivery %q cannot be sent again: its event's payload was purged by retention.", del.ID)
	case erased:
		return hirehook.Errorf(hirehook.EINVALID, "Delivery %q cannot be sent again: its event was erased with its candidate's personal data.", del.ID)
	}
	return nil
}

// resumedState is the state of a delivery an operator makes due again:
// pending, or paused while its endpoint is disabled.
func resumedState(endpointDisabled bool) hirehook.DeliveryState {
	if endpointDisabled {
		return hirehook.DeliveryPaused
	}
	return hirehook.DeliveryPending
}

// DeliveryRecover is hirehook.Store.DeliveryRecover: the failed
// deliveries of an endpoint created in [p.Since, p.Until) (no end when
// Until is zero) whose events can still be sent are due at p.Now (paused
// while the endpoint is disabled); the nodes are woken if any was.
func (q *Queue) DeliveryRecover(ctx context.Context, p hirehook.DeliveryRecoverParams) (int, error) {
	d := q.d
	var n int64
	err := d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		var disabled bool
		err := tx.QueryRowContext(ctx, d.Rebind(`SELECT disabled FROM endpoints WHERE tenant_id = ? AND id = ?`), p.TenantID, p.EndpointID).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Endpoint %q not found.", p.EndpointID)
		} else if err != nil {
			return fmt.Errorf("select endpoint %s: %w", p.EndpointID, err)
		}
		query := `UPDATE deliveries SET state = ?, next_attempt_at = ?, updated_at = ?
			WHERE tenant_id = ? AND endpoint_id = ? AND state = 'failed' AND created_at >= ?`
		args := []any{string(resumedState(disabled)), d.TimeFunc(p.Now), d.TimeFunc(p.Now), p.TenantID, p.EndpointID, d.TimeFunc(p.Since)}
		if !p.Until.IsZero() {
			query, args = query+` AND created_at < ?`, append(args, d.TimeFunc(p.Until))
		}
		res, err := tx.ExecContext(ctx, d.Rebind(query+`
			AND NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = deliveries.tenant_id AND e.id = deliveries.event_id
				AND (e.purged_at IS NOT NULL OR e.erased_at IS NOT NULL))`), args...)
		if err != nil {
			return fmt.Errorf("recover deliveries of endpoint %s: %w", p.EndpointID, err)
		}
		if n, _ = res.RowsAffected(); n > 0 {
			return d.notify(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// LastError is what a completion writes to a delivery's last_error: the
// attempt's error, or "HTTP n" when the receiver answered a status that
// is not a success.
func LastError(a hirehook.Attempt) string {
	if a.Error == "" && a.ErrorClass == hirehook.ErrorClassStatus {
		return fmt.Sprintf("HTTP %d", a.StatusCode)
	}
	return a.Error
}

// AttemptID is the id a completion gives an attempt: its own, or a new one.
func AttemptID(a hirehook.Attempt) string {
	if a.ID == "" {
		return hirehook.NewID("att")
	}
	return a.ID
}
