package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

const deliveryColumns = `id, tenant_id, event_id, event_type, endpoint_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, updated_at, coalesce(ordering_key, '') AS ordering_key`

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
const qClaim = `WITH expired AS (
		SELECT seq FROM deliveries
		WHERE state = 'delivering' AND lease_expires_at <= $3
		AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE disabled)
		AND NOT (endpoint_id = ANY ($5::text[]))
		ORDER BY lease_expires_at LIMIT $4
		FOR UPDATE SKIP LOCKED
	), due AS (
		SELECT seq FROM deliveries
		WHERE state IN ('pending', 'retrying') AND next_attempt_at <= $3
		AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE disabled)
		AND NOT (endpoint_id = ANY ($5::text[]))
		AND (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries p
			WHERE p.endpoint_id = deliveries.endpoint_id AND p.ordering_key = deliveries.ordering_key AND p.seq < deliveries.seq
			AND p.ordering_key IS NOT NULL AND p.state IN ('pending', 'retrying', 'delivering', 'paused')))
		ORDER BY next_attempt_at LIMIT $4
		FOR UPDATE SKIP LOCKED
	), claimed AS (
		UPDATE deliveries SET state = 'delivering', lease_owner = $1, lease_expires_at = $2, updated_at = $3
		WHERE seq IN (SELECT seq FROM (SELECT seq FROM expired UNION ALL SELECT seq FROM due) AS taken LIMIT $4)
		RETURNING seq, ` + deliveryColumns + `
	)
	SELECT c.id, c.tenant_id, c.event_id, c.event_type, c.endpoint_id, c.state, c.attempts, c.next_attempt_at, c.last_attempt_at,
		c.last_status, c.last_error, c.created_at, c.updated_at, c.ordering_key, e.payload
	FROM claimed c JOIN events e ON e.tenant_id = c.tenant_id AND e.id = c.event_id
	ORDER BY c.seq`

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

// deliveryViewColumns are deliveryColumns and the last attempt's latency
// and the start of its body, for DeliveryList and DeliveryGet: two lookups
// by the attempts' primary key (delivery_id, number) per row. A few bytes
// more than hirehook.ResponseExcerptBytes are read, so that ResponseExcerpt
// can tell a body cut in a character from one that ends there.
const deliveryViewColumns = deliveryColumns + `,
	coalesce((SELECT duration_us FROM attempts WHERE delivery_id = deliveries.id AND number = deliveries.attempts), 0),
	coalesce((SELECT substring(response_body FROM 1 FOR 204) FROM attempts WHERE delivery_id = deliveries.id AND number = deliveries.attempts), '')`

// scanDeliveryView scans a row of deliveryViewColumns.
func scanDeliveryView(row scanner) (*hirehook.Delivery, error) {
	var dur int64
	var body []byte
	d, err := scanDelivery(row, &dur, &body)
	if err != nil {
		return nil, err
	}
	d.LastLatency = hirehook.Milliseconds(time.Duration(dur) * time.Microsecond)
	d.LastResponseExcerpt = hirehook.ResponseExcerpt(string(body))
	return d, nil
}

func scanDelivery(row scanner, extra ...any) (*hirehook.Delivery, error) {
	var d hirehook.Delivery
	var next, last sql.NullTime
	dest := append([]any{&d.ID, &d.TenantID, &d.EventID, &d.EventType, &d.EndpointID, &d.State, &d.Attempts, &next, &last,
		&d.LastStatus, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &d.OrderingKey}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.LastAttemptAt = ptrTime(next), ptrTime(last)
	d.CreatedAt, d.UpdatedAt = utc(d.CreatedAt), utc(d.UpdatedAt)
	return &d, nil
}

// DeliveryGet implements hirehook.Store.
func (s *Store) DeliveryGet(ctx context.Context, tenantID, id string) (*hirehook.Delivery, []*hirehook.Attempt, error) {
	d, err := scanDeliveryView(s.db.QueryRowContext(ctx, `SELECT `+deliveryViewColumns+` FROM deliveries WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, hirehook.Errorf(hirehook.ENOTFOUND, "Delivery %q not found.", id)
	} else if err != nil {
		return nil, nil, fmt.Errorf("select delivery %s: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, delivery_id, number, started_at, duration_us, status_code, response_body, error_class, error
		FROM attempts WHERE delivery_id = $1 ORDER BY number`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("select attempts of delivery %s: %w", id, err)
	}
	defer rows.Close()
	attempts := []*hirehook.Attempt{}
	for rows.Next() {
		var a hirehook.Attempt
		var dur int64
		var body []byte
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &a.StartedAt, &dur, &a.StatusCode, &body, &a.ErrorClass, &a.Error); err != nil {
			return nil, nil, err
		}
		a.StartedAt, a.Duration, a.ResponseBody = utc(a.StartedAt), time.Duration(dur)*time.Microsecond, string(body)
		attempts = append(attempts, &a)
	}
	return d, attempts, rows.Err()
}

// DeliveryList implements hirehook.Store.
func (s *Store) DeliveryList(ctx context.Context, f hirehook.DeliveryFilter) ([]*hirehook.Delivery, error) {
	where := []string{"tenant_id = $1"}
	args := []any{f.TenantID}
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.After != "" {
		var seq int64
		err := s.db.QueryRowContext(ctx, `SELECT seq FROM deliveries WHERE tenant_id = $1 AND id = $2`, f.TenantID, f.After).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("after", "No delivery %q to list after.", f.After)
		} else if err != nil {
			return nil, fmt.Errorf("select delivery cursor: %w", err)
		}
		add("seq < $%d", seq)
	}
	if f.EndpointID != nil {
		add("endpoint_id = $%d", *f.EndpointID)
	}
	if f.EventID != nil {
		add("event_id = $%d", *f.EventID)
	}
	if f.State != nil {
		add("state = $%d", string(*f.State))
	}
	args = append(args, limit(f.Limit))
	q := fmt.Sprintf(`SELECT %s FROM deliveries WHERE %s ORDER BY seq DESC LIMIT $%d`, deliveryViewColumns, strings.Join(where, " AND "), len(args))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select deliveries: %w", err)
	}
	defer rows.Close()
	out := []*hirehook.Delivery{}
	for rows.Next() {
		d, err := scanDeliveryView(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeliveryClaim implements hirehook.Store with one statement (qClaim), its
// own transaction. It never waits for a row lock (SKIP LOCKED), so it
// cannot deadlock.
func (s *Store) DeliveryClaim(ctx context.Context, p hirehook.DeliveryClaimParams) ([]*hirehook.Delivery, error) {
	if p.Limit < 1 {
		return nil, nil
	}
	skip := p.SkipEndpoints
	if skip == nil {
		skip = []string{}
	}
	rows, err := s.db.QueryContext(ctx, qClaim, p.Owner, p.LeaseUntil, p.Now, p.Limit, skip)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []*hirehook.Delivery
	for rows.Next() {
		var payload []byte
		d, err := scanDelivery(rows, &payload)
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
// for the whole batch, in its own transaction, whatever its size.
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
	applied := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		applied = 0
		for _, a := range args {
			var n int
			if err := tx.QueryRowContext(ctx, qComplete, a.ids, a.owners, a.states, a.next, a.started, a.statuses, a.lastErrors,
				a.updated, a.attemptIDs, a.durations, a.bodies, a.errorClasses, a.errors, a.disable).Scan(&n); err != nil {
				return fmt.Errorf("complete %d deliveries: %w", len(a.ids), err)
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
		lastErr := a.Error
		if lastErr == "" && a.ErrorClass == hirehook.ErrorClassStatus {
			lastErr = fmt.Sprintf("HTTP %d", a.StatusCode)
		}
		id := a.ID
		if id == "" {
			id = hirehook.NewID("att")
		}
		c.ids[i], c.owners[i], c.states[i], c.lastErrors[i] = r.DeliveryID, r.LeaseOwner, string(r.State), cleanText(lastErr)
		c.attemptIDs[i], c.errorClasses[i], c.errors[i] = id, cleanText(string(a.ErrorClass)), cleanText(a.Error)
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
		UPDATE deliveries SET state = CASE
			WHEN EXISTS (SELECT 1 FROM endpoints WHERE endpoints.id = deliveries.endpoint_id AND endpoints.disabled) THEN 'paused'
			WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END,
		next_attempt_at = $1, lease_owner = NULL, lease_expires_at = NULL, updated_at = $1
		WHERE id = ANY ($2::text[]) AND state = 'delivering' AND lease_owner = $3
		RETURNING 1
	) `+qNotify+` WHERE EXISTS (SELECT 1 FROM released)`, now, ids, owner); err != nil {
		return fmt.Errorf("release %d deliveries: %w", len(ids), err)
	}
	return nil
}

// DeliveryRetry implements hirehook.Store.
func (s *Store) DeliveryRetry(ctx context.Context, tenantID, id string, now time.Time) (*hirehook.Delivery, error) {
	var d *hirehook.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		// FOR UPDATE: a claimer cannot take the delivery between the check
		// of its state and the update.
		d, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tenantID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Delivery %q not found.", id)
		} else if err != nil {
			return fmt.Errorf("select delivery %s: %w", id, err)
		}
		if err := checkResendable(ctx, tx, d); err != nil {
			return err
		}
		switch d.State {
		case hirehook.DeliveryCancelled:
			return hirehook.Errorf(hirehook.EINVALID, "Delivery %q was cancelled (its endpoint was deleted) and cannot be retried.", id)
		case hirehook.DeliveryDelivering:
			return hirehook.Errorf(hirehook.ECONFLICT, "Delivery %q is being attempted right now.", id)
		}
		var disabled bool
		if err := tx.QueryRowContext(ctx, `SELECT disabled FROM endpoints WHERE id = $1`, d.EndpointID).Scan(&disabled); err != nil {
			return fmt.Errorf("select endpoint of delivery %s: %w", id, err)
		}
		state := resumedState(disabled)
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = $3, next_attempt_at = $1, updated_at = $1 WHERE id = $2`, now, id, string(state)); err != nil {
			return fmt.Errorf("retry delivery %s: %w", id, err)
		}
		if err := notify(ctx, tx); err != nil {
			return err
		}
		n := now.UTC()
		d.State, d.NextAttemptAt, d.UpdatedAt = state, &n, n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// DeliveryRecover implements hirehook.Store.
func (s *Store) DeliveryRecover(ctx context.Context, p hirehook.DeliveryRecoverParams) (int, error) {
	var until any
	if !p.Until.IsZero() {
		until = p.Until
	}
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var disabled bool
		err := tx.QueryRowContext(ctx, `SELECT disabled FROM endpoints WHERE tenant_id = $1 AND id = $2`, p.TenantID, p.EndpointID).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Endpoint %q not found.", p.EndpointID)
		} else if err != nil {
			return fmt.Errorf("select endpoint %s: %w", p.EndpointID, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries d SET state = $6, next_attempt_at = $1, updated_at = $1
			WHERE d.tenant_id = $2 AND d.endpoint_id = $3 AND d.state = 'failed'
			AND d.created_at >= $4 AND ($5::timestamptz IS NULL OR d.created_at < $5)
			AND NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = d.tenant_id AND e.id = d.event_id
				AND (e.purged_at IS NOT NULL OR e.erased_at IS NOT NULL))`, p.Now, p.TenantID, p.EndpointID, p.Since, until, string(resumedState(disabled)))
		if err != nil {
			return fmt.Errorf("recover deliveries of endpoint %s: %w", p.EndpointID, err)
		}
		if n, _ = res.RowsAffected(); n > 0 {
			return notify(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// resumedState is the state of a delivery an operator makes due again:
// pending, or paused while its endpoint is disabled.
func resumedState(endpointDisabled bool) hirehook.DeliveryState {
	if endpointDisabled {
		return hirehook.DeliveryPaused
	}
	return hirehook.DeliveryPending
}
