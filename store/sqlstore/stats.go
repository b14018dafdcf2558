package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hirehook/hirehook"
)

// DeliveryStats is hirehook.Store.DeliveryStats. It reads in one read-only
// snapshot (Dialect.SnapshotTx: SQLite's reader pool, PostgreSQL's
// REPEATABLE READ), so its queries agree with each other and it neither
// waits for the writers nor blocks them:
//   - the queue figures read only unfinished deliveries, through the
//     partial indexes the claim query uses, so their cost follows the
//     backlog, not the history;
//   - the attempt figures read the window's attempts in one range of
//     attempts_tenant_started (Dialect.StatsAttempts) and compute the
//     counts, exact percentiles and timeline in Go: measured on 100,000
//     attempts, ranking them in SQL with window functions took several
//     times as long as reading the rows, on SQLite and on PostgreSQL.
func (q *Queue) DeliveryStats(ctx context.Context, p hirehook.DeliveryStatsParams) ([]*hirehook.DeliveryStats, error) {
	d := q.d
	if p.TenantID == "" && (!p.Since.IsZero() || p.Bucket != 0) {
		return nil, hirehook.Errorf(hirehook.EINVALID, "Attempt figures are computed for one tenant at a time.")
	}
	if p.Bucket < 0 || (p.Bucket > 0 && p.Since.IsZero()) {
		return nil, hirehook.Errorf(hirehook.EINVALID, "A timeline needs a positive bucket and a start.")
	}
	tx, err := d.SnapshotTxFunc(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin delivery stats: %w", err)
	}
	defer tx.Rollback()

	// Every endpoint, zero-filled, in creation order.
	query, args := `SELECT tenant_id, id FROM endpoints ORDER BY seq`, []any{}
	if p.TenantID != "" {
		query, args = `SELECT tenant_id, id FROM endpoints WHERE tenant_id = ? ORDER BY seq`, []any{p.TenantID}
	}
	rows, err := tx.QueryContext(ctx, d.Rebind(query), args...)
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
	if err := queueStats(ctx, d, tx, p.TenantID, byID); err != nil {
		return nil, err
	}
	if !p.Since.IsZero() {
		if err := attemptStats(ctx, d, tx, p, byID); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// queueStats counts unfinished deliveries per endpoint and state. The three
// parts are written with exactly the WHERE terms of the partial indexes
// deliveries_due, deliveries_leased and deliveries_paused, and name them
// (Dialect.IndexedBy), so that the database reads only those indexes' rows.
func queueStats(ctx context.Context, d *Dialect, tx *sql.Tx, tenantID string, byID map[string]*hirehook.DeliveryStats) error {
	tenantTerm, args := "", []any{}
	if tenantID != "" {
		tenantTerm, args = " AND tenant_id = ?", []any{tenantID, tenantID, tenantID}
	}
	rows, err := tx.QueryContext(ctx, d.Rebind(`
		SELECT endpoint_id, state, count(*), min(created_at) FROM deliveries`+d.hint("deliveries_due")+`
		WHERE state IN ('pending', 'retrying')`+tenantTerm+` GROUP BY endpoint_id, state
		UNION ALL
		SELECT endpoint_id, state, count(*), min(created_at) FROM deliveries`+d.hint("deliveries_leased")+`
		WHERE state = 'delivering'`+tenantTerm+` GROUP BY endpoint_id, state
		UNION ALL
		SELECT endpoint_id, state, count(*), min(created_at) FROM deliveries`+d.hint("deliveries_paused")+`
		WHERE state = 'paused'`+tenantTerm+` GROUP BY endpoint_id, state`), args...)
	if err != nil {
		return fmt.Errorf("select queue stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var endpointID, state string
		var n int
		var oldest Time
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
		if t := oldest.Time; st.OldestUnfinishedAt == nil || t.Before(*st.OldestUnfinishedAt) {
			st.OldestUnfinishedAt = &t
		}
	}
	return rows.Err()
}

// hint is Dialect.IndexedBy, if the dialect has one.
func (d *Dialect) hint(index string) string {
	if d.IndexedByFunc == nil {
		return ""
	}
	return d.IndexedByFunc(index)
}

// attemptStats reads the window's attempts (Dialect.StatsAttempts) and
// computes each endpoint's counts, the exact nearest-rank percentiles of
// its successful attempts' durations (rank ceil(p·n/100) of the sorted
// durations) and, for a positive p.Bucket, its timeline: buckets of
// p.Bucket (at least a microsecond, the stores' precision) from p.Since,
// each with its counts and percentiles.
func attemptStats(ctx context.Context, d *Dialect, tx *sql.Tx, p hirehook.DeliveryStatsParams, byID map[string]*hirehook.DeliveryStats) error {
	rows, err := tx.QueryContext(ctx, d.Rebind(d.StatsAttempts), p.TenantID, d.TimeFunc(p.Since))
	if err != nil {
		return fmt.Errorf("select attempts for stats: %w", err)
	}
	defer rows.Close()
	since := p.Since.UnixMicro()
	var width int64
	if p.Bucket > 0 {
		width = max(p.Bucket.Microseconds(), 1)
	}
	durations := map[string][]int64{}
	buckets := map[string]map[int64]*hirehook.AttemptBucket{}
	// bucketDurations holds each bucket's durations for its percentiles;
	// every attempt sits in exactly one, so this at most doubles the
	// window's slices.
	bucketDurations := map[*hirehook.AttemptBucket][]int64{}
	for rows.Next() {
		var endpointID string
		var at Time
		var dur int64
		var status int
		if err := rows.Scan(&endpointID, &at, &dur, &status); err != nil {
			return err
		}
		st := byID[endpointID]
		if st == nil {
			continue // its endpoint was deleted
		}
		started := at.UnixMicro()
		ok := status >= 200 && status <= 299
		st.Attempts++
		if ok {
			// Latency is the successful attempts' only (see
			// hirehook.DeliveryStats.LatencyP50).
			durations[endpointID] = append(durations[endpointID], dur)
			st.Succeeded++
			if t := at.Time; st.LastSuccessAt == nil || t.After(*st.LastSuccessAt) {
				st.LastSuccessAt = &t
			}
		}
		if width > 0 {
			b := (started - since) / width
			m := buckets[endpointID]
			if m == nil {
				m = map[int64]*hirehook.AttemptBucket{}
				buckets[endpointID] = m
			}
			ab := m[b]
			if ab == nil {
				ab = &hirehook.AttemptBucket{Start: time.UnixMicro(since + b*width).UTC()}
				m[b] = ab
			}
			if ok {
				ab.Succeeded++
				bucketDurations[ab] = append(bucketDurations[ab], dur)
			} else {
				ab.Failed++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for endpointID, ds := range durations {
		slices.Sort(ds)
		st := byID[endpointID]
		st.LatencyP50 = time.Duration(nearestRank(ds, 50)) * time.Microsecond
		st.LatencyP99 = time.Duration(nearestRank(ds, 99)) * time.Microsecond
	}
	for ab, ds := range bucketDurations {
		slices.Sort(ds)
		ab.LatencyP50 = time.Duration(nearestRank(ds, 50)) * time.Microsecond
		ab.LatencyP99 = time.Duration(nearestRank(ds, 99)) * time.Microsecond
	}
	for endpointID, m := range buckets {
		st := byID[endpointID]
		for _, b := range slices.Sorted(maps.Keys(m)) {
			st.Timeline = append(st.Timeline, *m[b])
		}
	}
	return nil
}

// nearestRank returns the p-th percentile of sorted: the value at rank
// ceil(p·n/100), counting from 1.
func nearestRank(sorted []int64, p int) int64 {
	k := (p*len(sorted) + 99) / 100
	return sorted[max(k, 1)-1]
}
