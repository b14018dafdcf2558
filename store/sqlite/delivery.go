package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// Hot statements, prepared once at Open (see hotQueries).
const (
	qSelectPayload = `SELECT payload FROM events WHERE tenant_id = ? AND id = ?`
	// qFailingSet and qFailingStart keep endpoints.failing_since (see
	// failingRuns): set outright (NULL after a success), or set only if
	// the endpoint was not failing yet. Neither writes an unchanged row.
	qFailingSet      = `UPDATE endpoints SET failing_since = ?2 WHERE id = ?1 AND failing_since IS NOT ?2`
	qFailingStart    = `UPDATE endpoints SET failing_since = ?2 WHERE id = ?1 AND failing_since IS NULL`
	qReleaseDelivery = `UPDATE deliveries SET state = ` + sqlstore.ReleasedState + `,
		next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
		WHERE id = ? AND state = 'delivering' AND lease_owner = ?`
)

// qClaimDue picks the due deliveries of a claim that skips no endpoint:
// the first ?4 of deliveries_due (?3 now), but for the disabled endpoints'
// and those that wait behind an unfinished one of their subject at an
// ordered endpoint.
const qClaimDue = `SELECT seq FROM deliveries
	WHERE state IN ('pending', 'retrying') AND next_attempt_at <= ?3
	AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE disabled = 1)
	AND endpoint_id NOT IN (SELECT value FROM json_each(?5))
	AND (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries p
		WHERE p.endpoint_id = deliveries.endpoint_id AND p.ordering_key = deliveries.ordering_key AND p.seq < deliveries.seq
		AND p.ordering_key IS NOT NULL AND p.state IN ('pending', 'retrying', 'delivering', 'paused')))
	ORDER BY next_attempt_at LIMIT ?4`

const (
	// qDueHeads lists the enabled endpoints not skipped (?1, a JSON
	// array) that have a delivery due at ?2, the earliest due first,
	// each found with one seek of deliveries_due_endpoint: a claim that
	// skips endpoints reads no delivery of theirs.
	qDueHeads = `SELECT id FROM (
		SELECT e.id, (SELECT min(d.next_attempt_at) FROM deliveries d INDEXED BY deliveries_due_endpoint
			WHERE d.endpoint_id = e.id AND d.state IN ('pending', 'retrying')) AS head
		FROM endpoints e WHERE e.disabled = 0 AND e.id NOT IN (SELECT value FROM json_each(?1))
	) WHERE head <= ?2 ORDER BY head`
	// qDueOfEndpoint picks up to ?3 due deliveries (at ?2) of endpoint
	// ?1, in due order, as qClaimDue does.
	qDueOfEndpoint = `SELECT seq FROM deliveries INDEXED BY deliveries_due_endpoint
		WHERE endpoint_id = ?1 AND state IN ('pending', 'retrying') AND next_attempt_at <= ?2
		AND (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries p
			WHERE p.endpoint_id = deliveries.endpoint_id AND p.ordering_key = deliveries.ordering_key AND p.seq < deliveries.seq
			AND p.ordering_key IS NOT NULL AND p.state IN ('pending', 'retrying', 'delivering', 'paused')))
		ORDER BY next_attempt_at LIMIT ?3`
)

// dueSkipping picks up to limit due deliveries (their seqs) of the
// enabled endpoints not in skip, reading the endpoints in the order of
// their earliest due delivery and taking each one's due deliveries in due
// order until limit is reached. Its cost follows the endpoints and the
// deliveries taken, not the backlog of the skipped endpoints. Within an
// endpoint the order is deliveries_due's; across endpoints an endpoint's
// batch may come before another's slightly earlier delivery (the next
// claim starts with that one).
func (s *Store) dueSkipping(ctx context.Context, tx *sql.Tx, now int64, limit int, skip []byte) ([]int64, error) {
	heads, err := s.stmt(ctx, tx, qDueHeads)
	if err != nil {
		return nil, err
	}
	rows, err := heads.QueryContext(ctx, skip, now)
	if err != nil {
		return nil, fmt.Errorf("select endpoints with due deliveries: %w", err)
	}
	var endpoints []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("select endpoints with due deliveries: %w", err)
		}
		endpoints = append(endpoints, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select endpoints with due deliveries: %w", err)
	}
	seqs := []int64{}
	if len(endpoints) == 0 {
		return seqs, nil
	}
	dueOf, err := s.stmt(ctx, tx, qDueOfEndpoint)
	if err != nil {
		return nil, err
	}
	for _, id := range endpoints {
		if len(seqs) >= limit {
			break
		}
		rows, err := dueOf.QueryContext(ctx, id, now, limit-len(seqs))
		if err != nil {
			return nil, fmt.Errorf("select due deliveries of endpoint %s: %w", id, err)
		}
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("select due deliveries of endpoint %s: %w", id, err)
			}
			seqs = append(seqs, seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("select due deliveries of endpoint %s: %w", id, err)
		}
	}
	return seqs, nil
}

// DeliveryClaim implements hirehook.Store. One UPDATE … RETURNING takes the
// due rows through the two partial indexes (due by next_attempt_at, and
// expired leases), then one SELECT reads their events' payloads.
func (s *Store) DeliveryClaim(ctx context.Context, p hirehook.DeliveryClaimParams) ([]*hirehook.Delivery, error) {
	var out []*hirehook.Delivery
	err := s.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) (func(), error) {
		var err error
		out, err = s.deliveryClaim(context.WithoutCancel(ctx), tx, p)
		return nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

// deliveryClaim claims in tx, a group transaction (see group.go). ctx
// cannot be cancelled (as in eventIngest).
func (s *Store) deliveryClaim(ctx context.Context, tx *sql.Tx, p hirehook.DeliveryClaimParams) ([]*hirehook.Delivery, error) {
	now := toMicros(p.Now)
	skip, err := json.Marshal(p.SkipEndpoints)
	if err != nil {
		return nil, err
	}
	if p.SkipEndpoints == nil {
		skip = []byte("[]")
	}
	// Without endpoints to skip, the due deliveries are the first of
	// deliveries_due. With some, that walk would read every due delivery
	// of the skipped endpoints before the others' (a dead endpoint's
	// backlog, on every claim): the due ones are then picked endpoint by
	// endpoint (dueSkipping) and named to the claim by seq.
	due := qClaimDue
	args := []any{p.Owner, toMicros(p.LeaseUntil), now, p.Limit, skip}
	if len(p.SkipEndpoints) > 0 {
		seqs, err := s.dueSkipping(ctx, tx, now, p.Limit, skip)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(seqs)
		if err != nil {
			return nil, err
		}
		due, args = `SELECT value AS seq FROM json_each(?6)`, append(args, b)
	}
	rows, err := tx.QueryContext(ctx, `UPDATE deliveries
		SET state = 'delivering', lease_owner = ?1, lease_expires_at = ?2, updated_at = ?3
		WHERE seq IN (
			SELECT seq FROM (
				SELECT seq FROM deliveries
				WHERE state = 'delivering' AND lease_expires_at <= ?3
				AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE disabled = 1)
				AND endpoint_id NOT IN (SELECT value FROM json_each(?5))
				ORDER BY lease_expires_at LIMIT ?4
			)
			UNION ALL
			SELECT seq FROM (`+due+`)
			LIMIT ?4
		)
		RETURNING `+sqlstore.DeliveryColumns, args...)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	var out []*hirehook.Delivery
	for rows.Next() {
		d, err := sqlstore.ScanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		d.LeaseExpiresAt = p.LeaseUntil
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	stmt, err := s.stmt(ctx, tx, qSelectPayload)
	if err != nil {
		return nil, fmt.Errorf("prepare payload select: %w", err)
	}
	// One read, and one copy in memory, per event: a fan-out claims many
	// deliveries of each.
	payloads := map[string][]byte{}
	for _, d := range out {
		key := d.TenantID + "\x00" + d.EventID
		if b, ok := payloads[key]; ok {
			d.Payload = b
			continue
		}
		if err := stmt.QueryRowContext(ctx, d.TenantID, d.EventID).Scan(&d.Payload); err != nil {
			return nil, fmt.Errorf("select payload of event %s: %w", d.EventID, err)
		}
		payloads[key] = d.Payload
	}
	return out, nil
}

// DeliveryComplete implements hirehook.Store.
func (s *Store) DeliveryComplete(ctx context.Context, results []hirehook.DeliveryResult) (int, error) {
	var applied int
	err := s.inGroup(ctx, func(ctx context.Context, tx *sql.Tx) (func(), error) {
		var after func()
		var err error
		applied, after, err = s.deliveryComplete(ctx, tx, results)
		return after, err
	})
	if err != nil {
		return 0, fmt.Errorf("complete: %w", err)
	}
	return applied, nil
}

// deliveryComplete writes results in tx, a group transaction (see
// group.go); after keeps notFailing in step once tx is committed.
//
// The results go in multi-row statements (rows.go): UPDATE … FROM
// (VALUES …) RETURNING of their deliveries, then one INSERT of the
// attempts applied, instead of two statements per result: the statements'
// fixed cost (binding, stepping, resetting, database/sql's round) was most
// of a result's. When the batch names a delivery twice or disables an
// endpoint, the results are written one after another, in order, as if
// each came alone (completeChunks).
func (s *Store) deliveryComplete(ctx context.Context, tx *sql.Tx, results []hirehook.DeliveryResult) (applied int, after func(), err error) {
	// Statements under sctx, as in eventIngest: no interrupt goroutine per
	// statement.
	sctx := context.WithoutCancel(ctx)
	runs := failingRuns{}
	type done struct {
		number               int
		endpointID, tenantID string
	}
	got := make(map[string]done, len(results))
	for _, chunk := range completeChunks(results) {
		clear(got)
		err := s.queryRows(sctx, tx, qCompleteDeliveries, len(chunk), func(args []any, i int) []any {
			r := chunk[i]
			a := r.Attempt
			var next any
			if r.State == hirehook.DeliveryRetrying {
				next = toMicros(r.NextAttemptAt)
			}
			return append(args, r.DeliveryID, r.LeaseOwner, string(r.State), next, toMicros(a.StartedAt), a.StatusCode, sqlstore.LastError(a),
				toMicros(a.StartedAt.Add(a.Duration)))
		}, func(rows *sql.Rows) error {
			var id string
			var d done
			if err := rows.Scan(&id, &d.number, &d.endpointID, &d.tenantID); err != nil {
				return err
			}
			got[id] = d
			return nil
		})
		if err != nil {
			return 0, nil, fmt.Errorf("complete %d deliveries: %w", len(chunk), err)
		}
		// The attempts of the results applied (a result whose lease was
		// lost has none: another worker owns its delivery now).
		var ok []hirehook.DeliveryResult
		for _, r := range chunk {
			if d, applied := got[r.DeliveryID]; applied {
				ok = append(ok, r)
				runs.add(d.endpointID, r.State == hirehook.DeliveryDelivered, r.Attempt.StartedAt)
			}
		}
		_, err = s.execRows(sctx, tx, insAttempts, len(ok), func(args []any, i int) []any {
			r := ok[i]
			a, d := r.Attempt, got[r.DeliveryID]
			return append(args, r.DeliveryID, d.number, sqlstore.AttemptID(a), toMicros(a.StartedAt), a.Duration.Microseconds(),
				a.StatusCode, a.ResponseBody, string(a.ErrorClass), a.Error, d.tenantID, d.endpointID)
		})
		if err != nil {
			return 0, nil, fmt.Errorf("insert %d attempts: %w", len(ok), err)
		}
		applied += len(got)
		for _, r := range chunk {
			d, ok := got[r.DeliveryID]
			if !ok || r.DisableEndpoint == "" {
				continue
			}
			at := r.Attempt.StartedAt
			if _, err := tx.ExecContext(sctx, `UPDATE endpoints SET disabled = 1, disabled_reason = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
				r.DisableEndpoint, toMicros(at), d.tenantID, d.endpointID); err != nil {
				return 0, nil, fmt.Errorf("disable endpoint %s: %w", d.endpointID, err)
			}
			if err := sqlstore.SetPaused(sctx, s.dialect, tx, d.endpointID, true, at); err != nil {
				return 0, nil, err
			}
		}
	}
	for _, run := range runs {
		clean := run.reset && run.failingSince.IsZero()
		if _, known := s.notFailing.Load(run.endpointID); clean && known {
			continue // successes only, to an endpoint not failing: nothing changes
		}
		q, since := qFailingStart, nullMicros(&run.failingSince)
		if run.reset {
			q = qFailingSet
		}
		stmt, err := s.stmt(sctx, tx, q)
		if err != nil {
			return 0, nil, fmt.Errorf("prepare failing update: %w", err)
		}
		if _, err := stmt.ExecContext(sctx, run.endpointID, since); err != nil {
			return 0, nil, fmt.Errorf("update failing_since of endpoint %s: %w", run.endpointID, err)
		}
	}
	after = func() {
		for _, run := range runs {
			if run.reset && run.failingSince.IsZero() {
				s.notFailing.Store(run.endpointID, true)
			} else {
				s.notFailing.Delete(run.endpointID)
			}
		}
	}
	return applied, after, nil
}

// qCompleteDeliveries records the outcomes of attempts, one row of VALUES
// per result: (delivery id, lease owner, state, next attempt, started,
// status, last error, updated). It updates only the deliveries still
// leased to the result's owner and returns them. A delivery to be retried
// whose endpoint is disabled meanwhile is paused instead. (The deliveries
// must be distinct: of several rows that join one delivery, SQLite takes
// any.)
//
// insAttempts writes attempts (delivery id, number, id, started, duration
// µs, status, response body, error class, error, tenant, endpoint).
var (
	qCompleteDeliveries = newRowsStmt(`UPDATE deliveries SET state = CASE WHEN r.column3 = 'retrying'
			AND EXISTS (SELECT 1 FROM endpoints WHERE id = deliveries.endpoint_id AND disabled = 1) THEN 'paused' ELSE r.column3 END,
		attempts = attempts + 1, next_attempt_at = r.column4, last_attempt_at = r.column5, last_status = r.column6, last_error = r.column7,
		lease_owner = NULL, lease_expires_at = NULL, updated_at = r.column8
		FROM (VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?)`, `) AS r
		WHERE deliveries.id = r.column1 AND deliveries.state = 'delivering' AND deliveries.lease_owner = r.column2
		RETURNING id, attempts, endpoint_id, tenant_id`)
	insAttempts = newRowsStmt(`INSERT INTO attempts
		(delivery_id, number, id, started_at, duration_us, status_code, response_body, error_class, error, tenant_id, endpoint_id)
		VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``)
)

// completeChunks splits results into the runs written together, in order:
// all of them, or one result each when a delivery is named twice or an
// endpoint is disabled (see deliveryComplete).
func completeChunks(results []hirehook.DeliveryResult) [][]hirehook.DeliveryResult {
	seen := make(map[string]struct{}, len(results))
	for _, r := range results {
		if _, dup := seen[r.DeliveryID]; dup || r.DisableEndpoint != "" {
			chunks := make([][]hirehook.DeliveryResult, len(results))
			for i := range results {
				chunks[i] = results[i : i+1]
			}
			return chunks
		}
		seen[r.DeliveryID] = struct{}{}
	}
	return [][]hirehook.DeliveryResult{results}
}

// failingRuns sums up, per endpoint, what a batch of attempts does to the
// endpoint's run of failures: a success ends it (reset); failures after
// the batch's last success start a new one at the first of them; failures
// alone extend the run the endpoint is in, or start one.
type failingRuns map[string]*failingRun

type failingRun struct {
	endpointID   string
	reset        bool      // a success was in the batch: set failing_since outright
	failingSince time.Time // first failure after the last success; zero: none
}

func (fr failingRuns) add(endpointID string, ok bool, at time.Time) {
	run := fr[endpointID]
	if run == nil {
		run = &failingRun{endpointID: endpointID}
		fr[endpointID] = run
	}
	switch {
	case ok:
		run.reset, run.failingSince = true, time.Time{}
	case run.failingSince.IsZero() || at.Before(run.failingSince):
		run.failingSince = at
	}
}

// DeliveryRelease implements hirehook.Store.
func (s *Store) DeliveryRelease(ctx context.Context, owner string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin release: %w", err)
	}
	defer tx.Rollback()
	stmt, err := s.stmt(ctx, tx, qReleaseDelivery)
	if err != nil {
		return fmt.Errorf("prepare release: %w", err)
	}
	now := toMicros(time.Now())
	for _, id := range ids {
		if _, err := stmt.ExecContext(ctx, now, now, id, owner); err != nil {
			return fmt.Errorf("release delivery %s: %w", id, err)
		}
	}
	return tx.Commit()
}

// DeliveryReleaseAll releases every delivery leased in the file, whoever
// its owner, as DeliveryRelease does (due at once, in
// sqlstore.ReleasedState), and returns how many. A SQLite file is served by one hub
// (one process; see the package doc), so when that hub starts, every lease
// in the file is one a hub that has ended left behind (killed in the middle
// of attempts): its deliveries are due now, not when the lease runs out.
// Only the serving hub calls it, before it hands out leases of its own.
func (s *Store) DeliveryReleaseAll(ctx context.Context, now time.Time) (int, error) {
	at := toMicros(now)
	res, err := s.writer.ExecContext(ctx, `UPDATE deliveries SET state = `+sqlstore.ReleasedState+`,
		next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
		WHERE state = 'delivering'`, at, at)
	if err != nil {
		return 0, fmt.Errorf("release leased deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("release leased deliveries: %w", err)
	}
	return int(n), nil
}
