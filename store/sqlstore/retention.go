package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

// ReasonPurged is the last_error of deliveries cancelled because their
// event's payload was purged.
const ReasonPurged = "cancelled: the event's payload was purged by retention"

// The purge queries take (tenant, cutoff, limit) and read only the partial
// indexes events_retention and attempts_retention of both dialects' schemas:
// rows already purged are not in them, so a batch costs the same however
// long the log has grown.
const (
	qPurgeSelectEvents = `SELECT seq, id, type, occurred_at, source, subject_entity, subject_id FROM events
		WHERE tenant_id = ? AND purged_at IS NULL AND received_at < ? ORDER BY received_at LIMIT ?`
	qPurgeAttempts = `UPDATE attempts SET response_body = '' WHERE (delivery_id, number) IN (
		SELECT delivery_id, number FROM attempts
		WHERE tenant_id = ? AND response_body <> '' AND started_at < ?
		ORDER BY started_at LIMIT ?`
	qPurgeInbound = `DELETE FROM inbound_requests WHERE seq IN (
		SELECT seq FROM inbound_requests WHERE tenant_id = ? AND received_at < ?
		ORDER BY received_at LIMIT ?`
)

// RetentionPurge is hirehook.Store.RetentionPurge (see there), in one
// write transaction: each tenant's cutoff is p.Now less its RetentionDays
// (a tenant with less than one day keeps everything); events are purged up
// to p.Limit across the tenants in creation order, then attempts' bodies,
// then inbound requests, each up to p.Limit. A purged event keeps its row
// with a tombstone payload (the webhook body with data null and purged
// true), and its unsent deliveries are cancelled.
func RetentionPurge(ctx context.Context, d *Dialect, p hirehook.RetentionPurgeParams) (hirehook.RetentionPurgeResult, error) {
	if p.Limit < 1 {
		return hirehook.RetentionPurgeResult{}, hirehook.Errorf(hirehook.EINVALID, "The purge limit must be at least 1.")
	}
	var res hirehook.RetentionPurgeResult
	err := d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		res = hirehook.RetentionPurgeResult{}
		type tenantCutoff struct {
			id     string
			cutoff time.Time
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, retention_days FROM tenants ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("select tenants: %w", err)
		}
		var tenants []tenantCutoff
		for rows.Next() {
			var id string
			var days int
			if err := rows.Scan(&id, &days); err != nil {
				rows.Close()
				return fmt.Errorf("select tenants: %w", err)
			}
			if days < 1 {
				continue // not a retention the API accepts: keep everything
			}
			tenants = append(tenants, tenantCutoff{id, p.Now.Add(-time.Duration(days) * 24 * time.Hour)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select tenants: %w", err)
		}
		for _, t := range tenants {
			if res.Events >= p.Limit {
				break
			}
			n, err := purgeEvents(ctx, d, tx, t.id, t.cutoff, p.Now, p.Limit-res.Events)
			if err != nil {
				return err
			}
			res.Events += n
		}
		for _, t := range tenants {
			if res.Attempts >= p.Limit {
				break
			}
			r, err := tx.ExecContext(ctx, d.Rebind(qPurgeAttempts+d.SkipLocked+`)`), t.id, d.TimeFunc(t.cutoff), p.Limit-res.Attempts)
			if err != nil {
				return fmt.Errorf("purge attempts of tenant %s: %w", t.id, err)
			}
			n, _ := r.RowsAffected()
			res.Attempts += int(n)
		}
		// Raw requests go whole: their bodies are the vendor's payloads,
		// and their rows say nothing the events do not.
		for _, t := range tenants {
			if res.InboundRequests >= p.Limit {
				break
			}
			r, err := tx.ExecContext(ctx, d.Rebind(qPurgeInbound+d.SkipLocked+`)`), t.id, d.TimeFunc(t.cutoff), p.Limit-res.InboundRequests)
			if err != nil {
				return fmt.Errorf("purge inbound requests of tenant %s: %w", t.id, err)
			}
			n, _ := r.RowsAffected()
			res.InboundRequests += int(n)
		}
		return nil
	})
	if err != nil {
		return hirehook.RetentionPurgeResult{}, fmt.Errorf("purge: %w", err)
	}
	return res, nil
}

// purgeEvents replaces the payloads of up to limit events of one tenant
// received before cutoff with tombstones, cancels their unsent deliveries,
// and returns how many events it purged.
func purgeEvents(ctx context.Context, d *Dialect, tx *sql.Tx, tenantID string, cutoff, now time.Time, limit int) (int, error) {
	rows, err := tx.QueryContext(ctx, d.Rebind(qPurgeSelectEvents+d.SkipLocked), tenantID, d.TimeFunc(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("select events to purge of tenant %s: %w", tenantID, err)
	}
	tp := TombstoneParams{Now: now}
	cp := CancelParams{TenantID: tenantID, Now: now, Reason: ReasonPurged}
	for rows.Next() {
		var seq int64
		var occurred Time
		var body hirehook.WebhookPayload
		if err := rows.Scan(&seq, &body.ID, &body.Type, &occurred, &body.Source, &body.Subject.Entity, &body.Subject.ID); err != nil {
			rows.Close()
			return 0, fmt.Errorf("select events to purge of tenant %s: %w", tenantID, err)
		}
		body.Timestamp, body.Purged = occurred.Time, true
		tombstone, err := json.Marshal(body) // data: null, purged: true
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("render tombstone of event %s: %w", body.ID, err)
		}
		tp.Seqs, tp.Payloads, cp.IDs = append(tp.Seqs, seq), append(tp.Payloads, tombstone), append(cp.IDs, body.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("select events to purge of tenant %s: %w", tenantID, err)
	}
	if len(tp.Seqs) == 0 {
		return 0, nil
	}
	if err := d.TombstoneFunc(ctx, tx, tp); err != nil {
		return 0, fmt.Errorf("purge %d events of tenant %s: %w", len(tp.Seqs), tenantID, err)
	}
	if err := d.CancelUnsentFunc(ctx, tx, cp); err != nil {
		return 0, fmt.Errorf("cancel deliveries of %d purged events of tenant %s: %w", len(cp.IDs), tenantID, err)
	}
	return len(tp.Seqs), nil
}

// PurgeQueries returns the queries of one retention batch in d's form, by
// the index each must use, for a dialect's test to EXPLAIN.
func PurgeQueries(d *Dialect) map[string]string {
	return map[string]string{
		"events_retention":   d.Rebind(qPurgeSelectEvents + d.SkipLocked),
		"attempts_retention": d.Rebind(qPurgeAttempts + d.SkipLocked + `)`),
	}
}
