package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// qClaim leases due deliveries in one statement. Each of the two CTEs walks
// one partial index in due order (expired leases first: their worker died;
// then pending and retrying ones whose time has come) and locks what it
// takes with FOR UPDATE SKIP LOCKED, so claimers on any number of nodes
// never wait for each other and never take the same row: a row another
// claimer has locked is skipped, and one it has already claimed and
// committed fails the WHERE clause when PostgreSQL re-checks the row's
// newest version. The UPDATE then leases what the CTEs took, and the final
// SELECT joins each delivery's payload.
//
// A delivery with an ordering key is due only when no earlier delivery of
// its key to its endpoint is unfinished. That holds across nodes: the
// earlier one is visible as pending, delivering, retrying or paused to
// every claimer whether or not another claimer has it locked, so at most
// the head of each key is ever claimed.
//
// $1 owner, $2 lease until, $3 now, $4 limit, $5 endpoints to skip.
const qClaim = claimExpired + `, due AS (
		SELECT seq FROM deliveries
		WHERE state IN ('pending', 'retrying') AND next_attempt_at <= $3
		AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE disabled)
		AND NOT (endpoint_id = ANY ($5::text[]))
		AND ` + claimOrderedHead + `
		ORDER BY next_attempt_at LIMIT $4
		FOR UPDATE SKIP LOCKED
	)` + claimLease

// qClaimSkipping is qClaim for a claim that skips endpoints ($5: the
// dispatcher's full lanes and open breakers). qClaim's walk of
// deliveries_due would read, and skip, every due delivery of the skipped
// endpoints before the others' (a dead endpoint's whole backlog, on every
// claim); this one reads none of theirs. It lists the other enabled
// endpoints that have a delivery due, earliest head first (one seek of
// deliveries_due_endpoint each), and takes each one's due deliveries in due
// order through the same index until the limit: the LIMIT stops the nested
// loop, so FOR UPDATE SKIP LOCKED locks only the rows taken, and a row
// another claimer holds is passed over as in qClaim. Within an endpoint the
// order is due order; across endpoints an endpoint's batch may come before
// another's slightly earlier delivery (the next claim starts with that one).
//
// The heads subquery keeps its ORDER BY (a subquery that sorts is not
// flattened), so the nested loop comes out in head order and the outer
// ORDER BY needs no sort of its own, which would have to read and lock
// every endpoint's due rows first.
const qClaimSkipping = claimExpired + `, due AS (
		SELECT d.seq FROM (
			SELECT e.id, h.head FROM endpoints e CROSS JOIN LATERAL (SELECT min(next_attempt_at) AS head FROM deliveries
				WHERE endpoint_id = e.id AND state IN ('pending', 'retrying')) AS h
			WHERE NOT e.disabled AND NOT (e.id = ANY ($5::text[])) AND h.head <= $3
			ORDER BY h.head
		) AS heads CROSS JOIN LATERAL (
			SELECT seq FROM deliveries
			WHERE endpoint_id = heads.id AND state IN ('pending', 'retrying') AND next_attempt_at <= $3
			AND ` + claimOrderedHead + `
			ORDER BY next_attempt_at LIMIT $4
			FOR UPDATE SKIP LOCKED
		) AS d
		ORDER BY heads.head LIMIT $4
	)` + claimLease

// The parts qClaim and qClaimSkipping share: the expired leases (a
// skipped endpoint's are few, its lane's), the ordered endpoints' rule,
// and the lease with the payloads.
const (
	claimExpired = `WITH expired AS (
		SELECT seq FROM deliveries
		WHERE state = 'delivering' AND lease_expires_at <= $3
		AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE disabled)
		AND NOT (endpoint_id = ANY ($5::text[]))
		ORDER BY lease_expires_at LIMIT $4
		FOR UPDATE SKIP LOCKED
	)`
	claimOrderedHead = `(ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries p
			WHERE p.endpoint_id = deliveries.endpoint_id AND p.ordering_key = deliveries.ordering_key AND p.seq < deliveries.seq
			AND p.ordering_key IS NOT NULL AND p.state IN ('pending', 'retrying', 'delivering', 'paused')))`
	claimLease = `, claimed AS (
		UPDATE deliveries SET state = 'delivering', lease_owner = $1, lease_expires_at = $2, updated_at = $3
		WHERE seq IN (SELECT seq FROM (SELECT seq FROM expired UNION ALL SELECT seq FROM due) AS taken LIMIT $4)
		RETURNING seq, ` + sqlstore.DeliveryColumns + `
	)
	SELECT c.id, c.tenant_id, c.event_id, c.event_type, c.endpoint_id, c.state, c.attempts, c.next_attempt_at, c.last_attempt_at,
		c.last_status, c.last_error, c.created_at, c.updated_at, c.ordering_key, e.payload
	FROM claimed c JOIN events e ON e.tenant_id = c.tenant_id AND e.id = c.event_id
	ORDER BY c.seq`
)

// qComplete finishes a batch of deliveries held by their lease owners and
// records their attempts in one statement: the results come in as arrays
// (unnest, one element per result, ord its position in the batch), the
// UPDATE takes only the deliveries still leased to the result's owner
// (so a result whose lease was lost has no row in d and is not counted),
// and the attempts are written from what it returns. A delivery to be
// retried whose endpoint is disabled is paused instead.
//
// Then one UPDATE per touched endpoint (e, x) keeps its failing_since —
// cleared by a success, else set at the first failure after the batch's
// last success, or at the batch's first failure if the endpoint was not
// failing — and applies disables: when several applied results disable one
// endpoint, the last one in the batch sets the reason, as if they were
// applied one after another. Both are one statement because two
// data-modifying CTEs must not update the same row. An endpoint row is
// written only when something in it changes.
//
// $1 delivery ids, $2 lease owners, $3 states, $4 next attempts (used
// only when retrying), $5 started, $6 statuses, $7 last errors, $8
// updated, $9 attempt ids, $10 durations µs, $11 response bodies, $12
// error classes, $13 errors, $14 endpoint disable reasons (an empty
// one leaves the endpoint alone). It returns how many results were applied.
const qComplete = `WITH r AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::integer[], $7::text[],
			$8::timestamptz[], $9::text[], $10::bigint[], $11::bytea[], $12::text[], $13::text[], $14::text[])
			WITH ORDINALITY AS r(delivery_id, owner, state, next_attempt_at, started_at, status, last_error,
				updated_at, attempt_id, duration_us, response_body, error_class, error, disable, ord)
	), d AS (
		UPDATE deliveries SET state = CASE WHEN r.state = 'retrying'
				AND EXISTS (SELECT 1 FROM endpoints WHERE endpoints.id = deliveries.endpoint_id AND endpoints.disabled) THEN 'paused'
				ELSE r.state END,
			attempts = deliveries.attempts + 1,
			next_attempt_at = CASE WHEN r.state = 'retrying' THEN r.next_attempt_at END, last_attempt_at = r.started_at,
			last_status = r.status, last_error = r.last_error, lease_owner = NULL, lease_expires_at = NULL, updated_at = r.updated_at
		FROM r
		WHERE deliveries.id = r.delivery_id AND deliveries.state = 'delivering' AND deliveries.lease_owner = r.owner
		RETURNING deliveries.id, deliveries.attempts, deliveries.endpoint_id, deliveries.tenant_id, r.ord, r.attempt_id, r.started_at,
			r.duration_us, r.status, r.response_body, r.error_class, r.error, r.disable, r.state = 'delivered' AS ok
	), a AS (
		INSERT INTO attempts (delivery_id, number, id, tenant_id, started_at, duration_us, status_code, response_body, error_class, error)
		SELECT id, attempts, attempt_id, tenant_id, started_at, duration_us, status, response_body, error_class, error FROM d
	), e AS (
		SELECT tenant_id, endpoint_id, bool_or(ok) AS any_ok,
			min(started_at) FILTER (WHERE NOT ok AND (last_ok IS NULL OR started_at > last_ok)) AS failing_from,
			(array_agg(disable ORDER BY ord DESC) FILTER (WHERE disable <> ''))[1] AS disable,
			(array_agg(started_at ORDER BY ord DESC) FILTER (WHERE disable <> ''))[1] AS disabled_at
		FROM (SELECT *, max(started_at) FILTER (WHERE ok) OVER (PARTITION BY tenant_id, endpoint_id) AS last_ok FROM d) AS dd
		GROUP BY tenant_id, endpoint_id
	), x AS (
		UPDATE endpoints SET
			failing_since = CASE WHEN e.any_ok THEN e.failing_from ELSE coalesce(endpoints.failing_since, e.failing_from) END,
			disabled = endpoints.disabled OR e.disable IS NOT NULL,
			disabled_reason = coalesce(e.disable, endpoints.disabled_reason),
			updated_at = coalesce(e.disabled_at, endpoints.updated_at)
		FROM e
		WHERE endpoints.tenant_id = e.tenant_id AND endpoints.id = e.endpoint_id AND (e.disable IS NOT NULL
			OR endpoints.failing_since IS DISTINCT FROM
				CASE WHEN e.any_ok THEN e.failing_from ELSE coalesce(endpoints.failing_since, e.failing_from) END)
	)
	SELECT count(*) FROM d`

// qPauseDisabled pauses the waiting deliveries of the endpoints that the
// deliveries $1 belong to, if those are disabled: run after a batch that
// disabled endpoints.
const qPauseDisabled = `UPDATE deliveries SET state = 'paused', updated_at = now()
	WHERE state IN ('pending', 'retrying') AND endpoint_id IN (SELECT id FROM endpoints WHERE disabled
		AND id IN (SELECT endpoint_id FROM deliveries WHERE id = ANY ($1::text[])))`

// DeliveryClaim implements hirehook.Store with one statement (qClaim, or
// qClaimSkipping when it skips endpoints), its own transaction. It never
// waits for a row lock (SKIP LOCKED), so it cannot deadlock.
func (s *Store) DeliveryClaim(ctx context.Context, p hirehook.DeliveryClaimParams) ([]*hirehook.Delivery, error) {
	if p.Limit < 1 {
		return nil, nil
	}
	q, skip := qClaimSkipping, p.SkipEndpoints
	if len(skip) == 0 {
		q, skip = qClaim, []string{}
	}
	rows, err := s.db.QueryContext(ctx, q, p.Owner, p.LeaseUntil, p.Now, p.Limit, skip)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []*hirehook.Delivery
	for rows.Next() {
		var payload []byte
		d, err := sqlstore.ScanDelivery(rows, &payload)
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		d.Payload, d.LeaseExpiresAt = payload, p.LeaseUntil
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// DeliveryComplete implements hirehook.Store: one statement (qComplete)
// for the whole batch, whatever its size, sent alone (it is a transaction
// of its own) unless the batch disables endpoints, whose waiting
// deliveries are then paused in the same transaction.
//
// A batch that names a delivery more than once (the dispatcher never sends
// one) is written one result at a time, in order, in one transaction: the
// first result that holds the lease applies and the others are skipped, as
// if each had come in a batch of its own.
func (s *Store) DeliveryComplete(ctx context.Context, results []hirehook.DeliveryResult) (int, error) {
	if len(results) == 0 {
		return 0, nil
	}
	batches := [][]hirehook.DeliveryResult{results}
	seen := make(map[string]struct{}, len(results))
	for _, r := range results {
		if _, dup := seen[r.DeliveryID]; dup {
			batches = batches[:0]
			for i := range results {
				batches = append(batches, results[i:i+1])
			}
			break
		}
		seen[r.DeliveryID] = struct{}{}
	}
	args := make([]completeArgs, len(batches))
	for i, b := range batches {
		args[i] = newCompleteArgs(b)
	}
	complete := func(q interface {
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}, a completeArgs) (int, error) {
		var n int
		if err := q.QueryRowContext(ctx, qComplete, a.ids, a.owners, a.states, a.next, a.started, a.statuses, a.lastErrors,
			a.updated, a.attemptIDs, a.durations, a.bodies, a.errorClasses, a.errors, a.disable).Scan(&n); err != nil {
			return 0, fmt.Errorf("complete %d deliveries: %w", len(a.ids), err)
		}
		return n, nil
	}
	applied := 0
	if len(args) == 1 && len(args[0].disabling) == 0 {
		// The whole batch is one statement, a transaction of its own:
		// without BEGIN and COMMIT it is one round trip, not three.
		err := s.retry(ctx, func() error {
			var err error
			applied, err = complete(s.db, args[0])
			return err
		})
		if err != nil {
			return 0, err
		}
		return applied, nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		applied = 0
		for _, a := range args {
			n, err := complete(tx, a)
			if err != nil {
				return err
			}
			applied += n
			if len(a.disabling) > 0 {
				if _, err := tx.ExecContext(ctx, qPauseDisabled, a.disabling); err != nil {
					return fmt.Errorf("pause deliveries of disabled endpoints: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return applied, nil
}

// completeArgs holds the arguments of qComplete: one array per column, one
// element per result.
type completeArgs struct {
	ids, owners, states, lastErrors, attemptIDs, errorClasses, errors, disable []string
	disabling                                                                  []string // ids of the results that disable their endpoint
	next, started, updated                                                     []time.Time
	statuses, durations                                                        []int64
	bodies                                                                     [][]byte
}

func newCompleteArgs(results []hirehook.DeliveryResult) completeArgs {
	n := len(results)
	c := completeArgs{
		ids: make([]string, n), owners: make([]string, n), states: make([]string, n), lastErrors: make([]string, n),
		attemptIDs: make([]string, n), errorClasses: make([]string, n), errors: make([]string, n), disable: make([]string, n),
		next: make([]time.Time, n), started: make([]time.Time, n), updated: make([]time.Time, n),
		statuses: make([]int64, n), durations: make([]int64, n), bodies: make([][]byte, n),
	}
	for i, r := range results {
		a := r.Attempt
		c.ids[i], c.owners[i], c.states[i], c.lastErrors[i] = r.DeliveryID, r.LeaseOwner, string(r.State), cleanText(sqlstore.LastError(a))
		c.attemptIDs[i], c.errorClasses[i], c.errors[i] = sqlstore.AttemptID(a), cleanText(string(a.ErrorClass)), cleanText(a.Error)
		if r.DisableEndpoint != "" {
			c.disable[i] = cleanText(r.DisableEndpoint)
			c.disabling = append(c.disabling, r.DeliveryID)
		}
		c.next[i], c.started[i], c.updated[i] = r.NextAttemptAt, a.StartedAt, a.StartedAt.Add(a.Duration)
		c.statuses[i], c.durations[i], c.bodies[i] = int64(a.StatusCode), a.Duration.Microseconds(), bytesOf(a.ResponseBody)
	}
	return c
}

// DeliveryRelease implements hirehook.Store.
func (s *Store) DeliveryRelease(ctx context.Context, owner string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	now := time.Now()
	// One statement: the released deliveries are due now, so other nodes
	// are woken (when any row was released).
	if _, err := s.db.ExecContext(ctx, `WITH released AS (
		UPDATE deliveries SET state = `+sqlstore.ReleasedState+`,
		next_attempt_at = $1, lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
		WHERE id = ANY ($2::text[]) AND state = 'delivering' AND lease_owner = $3
		RETURNING 1
	) `+qNotify+` WHERE EXISTS (SELECT 1 FROM released)`, now, ids, owner); err != nil {
		return fmt.Errorf("release %d deliveries: %w", len(ids), err)
	}
	return nil
}
