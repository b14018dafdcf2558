package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

// DeliveryStats implements hirehook.Store, with store/sqlite's figures. It
// reads in one READ ONLY, REPEATABLE READ transaction, so its queries see
// one snapshot, and (MVCC) it neither waits for writers nor blocks them:
//   - the queue figures read only unfinished deliveries, through the two
//     partial indexes the claim query uses, so their cost follows the
//     backlog, not the history;
//   - the attempt figures read the window through attempts_tenant_started,
//     one index range, and look up each attempt's endpoint by its delivery.
//     Percentiles are exact nearest-rank values, computed with integers as
//     in SQLite (percentile_disc would agree but for float rounding at the
//     boundaries).
func (s *Store) DeliveryStats(ctx context.Context, p hirehook.DeliveryStatsParams) ([]*hirehook.DeliveryStats, error) {
	if p.TenantID == "" && (!p.Since.IsZero() || p.Bucket != 0) {
		return nil, hirehook.Errorf(hirehook.EINVALID, "Attempt figures are computed for one tenant at a time.")
	}
	if p.Bucket < 0 || (p.Bucket > 0 && p.Since.IsZero()) {
		return nil, hirehook.Errorf(hirehook.EINVALID, "A timeline needs a positive bucket and a start.")
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("begin delivery stats: %w", err)
	}
	defer tx.Rollback()

	// Every endpoint, zero-filled, in creation order.
	q, args := `SELECT tenant_id, id FROM endpoints ORDER BY seq`, []any{}
	if p.TenantID != "" {
		q, args = `SELECT tenant_id, id FROM endpoints WHERE tenant_id = $1 ORDER BY seq`, []any{p.TenantID}
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select endpoints for stats: %w", err)
	}
	var out []*hirehook.DeliveryStats
	byID := map[string]*hirehook.DeliveryStats{}
	for rows.Next() {
		st := &hirehook.DeliveryStats{}
		if err := rows.Scan(&st.TenantID, &st.EndpointID); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, st)
		byID[st.EndpointID] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		return []*hirehook.DeliveryStats{}, nil
	}
	if err := queueStats(ctx, tx, p.TenantID, byID); err != nil {
		return nil, err
	}
	if !p.Since.IsZero() {
		if err := attemptStats(ctx, tx, p, byID); err != nil {
			return nil, err
		}
	}
	if p.Bucket > 0 {
		if err := attemptTimeline(ctx, tx, p, byID); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// queueStats counts unfinished deliveries per endpoint and state. The three
// parts repeat the WHERE terms of the partial indexes deliveries_due,
// deliveries_leased and deliveries_paused, so that the planner may use them.
func queueStats(ctx context.Context, tx *sql.Tx, tenantID string, byID map[string]*hirehook.DeliveryStats) error {
	tenantTerm, args := "", []any{}
	if tenantID != "" {
		tenantTerm, args = " AND tenant_id = $1", []any{tenantID}
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT endpoint_id, state, count(*), min(created_at) FROM deliveries
		WHERE state IN ('pending', 'retrying')`+tenantTerm+` GROUP BY endpoint_id, state
		UNION ALL
		SELECT endpoint_id, state, count(*), min(created_at) FROM deliveries
		WHERE state = 'delivering'`+tenantTerm+` GROUP BY endpoint_id, state
		UNION ALL
		SELECT endpoint_id, state, count(*), min(created_at) FROM deliveries
		WHERE state = 'paused'`+tenantTerm+` GROUP BY endpoint_id, state`, args...)
	if err != nil {
		return fmt.Errorf("select queue stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var endpointID, state string
		var n int
		var oldest time.Time
		if err := rows.Scan(&endpointID, &state, &n, &oldest); err != nil {
			return err
		}
		st := byID[endpointID]
		if st == nil {
			continue // a delivery whose endpoint is gone (deleting one cancels them; defensive)
		}
		switch hirehook.DeliveryState(state) {
		case hirehook.DeliveryPending:
			st.Pending += n
		case hirehook.DeliveryRetrying:
			st.Retrying += n
		case hirehook.DeliveryDelivering:
			st.Delivering += n
		case hirehook.DeliveryPaused:
			st.Paused += n
		}
		if t := utc(oldest); st.OldestUnfinishedAt == nil || t.Before(*st.OldestUnfinishedAt) {
			st.OldestUnfinishedAt = &t
		}
	}
	return rows.Err()
}

// attemptStats computes the window's counts and exact nearest-rank
// percentiles of the successful attempts' durations: within each
// endpoint's successes, rank k = ceil(p·n/100) of the durations sorted
// ascending, which in integers is (p·n + 99) / 100. The ranking is
// partitioned by success too, so the failures' ranks are computed and
// ignored.
func attemptStats(ctx context.Context, tx *sql.Tx, p hirehook.DeliveryStatsParams, byID map[string]*hirehook.DeliveryStats) error {
	rows, err := tx.QueryContext(ctx, `
		WITH w AS (
			SELECT d.endpoint_id AS ep, a.started_at AS at, a.duration_us AS dur,
				(a.status_code BETWEEN 200 AND 299) AS ok
			FROM attempts a
			JOIN deliveries d ON d.id = a.delivery_id
			WHERE a.tenant_id = $1 AND a.started_at >= $2
		), ranked AS (
			SELECT ep, at, dur, ok,
				row_number() OVER (PARTITION BY ep, ok ORDER BY dur) AS rn,
				count(*) OVER (PARTITION BY ep, ok) AS n
			FROM w
		)
		SELECT ep, count(*), count(*) FILTER (WHERE ok),
			min(CASE WHEN ok AND rn >= (n * 50 + 99) / 100 THEN dur END),
			min(CASE WHEN ok AND rn >= (n * 99 + 99) / 100 THEN dur END),
			max(CASE WHEN ok THEN at END)
		FROM ranked GROUP BY ep`, p.TenantID, p.Since)
	if err != nil {
		return fmt.Errorf("select attempt stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var endpointID string
		var n, ok int
		var p50, p99 sql.NullInt64 // NULL when no attempt succeeded
		var lastOK sql.NullTime
		if err := rows.Scan(&endpointID, &n, &ok, &p50, &p99, &lastOK); err != nil {
			return err
		}
		st := byID[endpointID]
		if st == nil {
			continue
		}
		st.Attempts, st.Succeeded = n, ok
		st.LatencyP50, st.LatencyP99 = time.Duration(p50.Int64)*time.Microsecond, time.Duration(p99.Int64)*time.Microsecond
		st.LastSuccessAt = ptrTime(lastOK)
	}
	return rows.Err()
}

// attemptTimeline counts the window's attempts per bucket and endpoint,
// with each bucket's exact nearest-rank percentiles (ranked as in
// attemptStats, within the bucket). date_bin gives each attempt's bucket
// start exactly (PostgreSQL 14+).
func attemptTimeline(ctx context.Context, tx *sql.Tx, p hirehook.DeliveryStatsParams, byID map[string]*hirehook.DeliveryStats) error {
	width := p.Bucket.Microseconds()
	if width < 1 {
		width = 1
	}
	rows, err := tx.QueryContext(ctx, `
		WITH w AS (
			SELECT d.endpoint_id AS ep, a.duration_us AS dur,
				date_bin($3::bigint * interval '1 microsecond', a.started_at, $2::timestamptz) AS b,
				(a.status_code BETWEEN 200 AND 299) AS ok
			FROM attempts a
			JOIN deliveries d ON d.id = a.delivery_id
			WHERE a.tenant_id = $1 AND a.started_at >= $2
		), ranked AS (
			SELECT ep, b, dur, ok,
				row_number() OVER (PARTITION BY ep, b, ok ORDER BY dur) AS rn,
				count(*) OVER (PARTITION BY ep, b, ok) AS n
			FROM w
		)
		SELECT ep, b, count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok),
			min(CASE WHEN ok AND rn >= (n * 50 + 99) / 100 THEN dur END),
			min(CASE WHEN ok AND rn >= (n * 99 + 99) / 100 THEN dur END)
		FROM ranked
		GROUP BY ep, b ORDER BY ep, b`, p.TenantID, p.Since, width)
	if err != nil {
		return fmt.Errorf("select attempt timeline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var endpointID string
		var start time.Time
		var ok, failed int
		var p50, p99 sql.NullInt64 // NULL when no attempt of the bucket succeeded
		if err := rows.Scan(&endpointID, &start, &ok, &failed, &p50, &p99); err != nil {
			return err
		}
		st := byID[endpointID]
		if st == nil {
			continue
		}
		st.Timeline = append(st.Timeline, hirehook.AttemptBucket{Start: utc(start), Succeeded: ok, Failed: failed,
			LatencyP50: time.Duration(p50.Int64) * time.Microsecond, LatencyP99: time.Duration(p99.Int64) * time.Microsecond})
	}
	return rows.Err()
}
