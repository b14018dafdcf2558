package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

// EndpointColumns are the columns of an endpoint as the core reads and
// writes them, in order.
const EndpointColumns = `id, tenant_id, url, description, event_types, headers, disabled, disabled_reason, secrets, created_at, updated_at, max_concurrency, rate_limit_per_second, ordered, failing_since, filter, transform, payload, redact, kind, destination`

// endpointRow is an endpoint's JSON columns, encoded (and sealed) for a
// write.
type endpointRow struct{ types, headers, secrets, redact, destination string }

// encodeEndpoint encodes the JSON columns of e, sealing its secrets and
// headers; nil lists and maps are stored empty, and an empty Payload as
// full (and set so in e).
func (c *CRUD) encodeEndpoint(e *hirehook.Endpoint) (endpointRow, error) {
	var r endpointRow
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	if e.Payload == "" {
		e.Payload = hirehook.PayloadFull
	}
	if e.Redact == nil {
		e.Redact = []string{}
	}
	b, err := json.Marshal(e.EventTypes)
	if err != nil {
		return r, err
	}
	r.types = string(b)
	if b, err = json.Marshal(e.Headers); err != nil {
		return r, err
	}
	if r.headers, err = c.sealer.SealHeaders(e.TenantID, e.ID, b); err != nil {
		return r, err
	}
	if b, err = json.Marshal(e.Secrets); err != nil {
		return r, err
	}
	if r.secrets, err = c.sealer.SealSecrets(e.TenantID, e.ID, b); err != nil {
		return r, err
	}
	if b, err = json.Marshal(e.Redact); err != nil {
		return r, fmt.Errorf("encode endpoint %s redact: %w", e.ID, err)
	}
	r.redact = string(b)
	if e.Kind == "" {
		e.Kind = hirehook.KindHTTP
	}
	if r.destination, err = c.sealer.SealDestination(e.TenantID, e.ID, e.Config, e.Credentials); err != nil {
		return r, err
	}
	return r, nil
}

// EndpointCreate implements hirehook.Store.
func (c *CRUD) EndpointCreate(ctx context.Context, e *hirehook.Endpoint) error {
	r, err := c.encodeEndpoint(e)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO endpoints (`+EndpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, e.URL, e.Description, r.types, r.headers, e.Disabled, e.DisabledReason, r.secrets, c.d.TimeFunc(e.CreatedAt), c.d.TimeFunc(e.UpdatedAt),
		e.MaxConcurrency, e.RateLimitPerSecond, e.Ordered, c.d.NullTime(e.FailingSince), e.Filter, e.Transform, e.Payload, r.redact, e.Kind, r.destination)
	if c.d.IsUniqueFunc(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Endpoint %q exists already.", e.ID)
	} else if err != nil {
		return fmt.Errorf("insert endpoint %s: %w", e.ID, c.d.mapError(err))
	}
	return nil
}

func (c *CRUD) scanEndpoint(row rowScanner) (*hirehook.Endpoint, error) {
	var e hirehook.Endpoint
	var types, headers, secrets, redact, destination []byte
	var created, updated Time
	var failing NullTime
	if err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &headers, &e.Disabled, &e.DisabledReason, &secrets, &created, &updated,
		&e.MaxConcurrency, &e.RateLimitPerSecond, &e.Ordered, &failing, &e.Filter, &e.Transform, &e.Payload, &redact, &e.Kind, &destination); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(redact, &e.Redact); err != nil {
		return nil, fmt.Errorf("decode endpoint %s redact: %w", e.ID, err)
	}
	if err := json.Unmarshal(types, &e.EventTypes); err != nil {
		return nil, fmt.Errorf("decode endpoint %s event types: %w", e.ID, err)
	}
	headers, err := c.sealer.OpenHeaders(e.TenantID, e.ID, headers)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(headers, &e.Headers); err != nil {
		return nil, fmt.Errorf("decode endpoint %s headers: %w", e.ID, err)
	}
	if secrets, err = c.sealer.OpenSecrets(e.TenantID, e.ID, secrets); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(secrets, &e.Secrets); err != nil {
		return nil, fmt.Errorf("decode endpoint %s secrets: %w", e.ID, err)
	}
	if e.Config, e.Credentials, err = c.sealer.OpenDestination(e.TenantID, e.ID, destination); err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt, e.FailingSince = created.Time, updated.Time, failing.Time
	return &e, nil
}

// EndpointGet implements hirehook.Store.
func (c *CRUD) EndpointGet(ctx context.Context, tenantID, id string) (*hirehook.Endpoint, error) {
	return c.EndpointGetTx(ctx, c.d.Reader, tenantID, id, "")
}

// EndpointGetTx reads one endpoint through q (a transaction of the
// dialect's, or a pool); lock is "" or Dialect.ForUpdate. ENOTFOUND if it
// does not exist.
func (c *CRUD) EndpointGetTx(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, tenantID, id, lock string) (*hirehook.Endpoint, error) {
	e, err := c.scanEndpoint(q.QueryRowContext(ctx, c.d.Rebind(`SELECT `+EndpointColumns+` FROM endpoints WHERE tenant_id = ? AND id = ?`+lock), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Endpoint %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select endpoint %s: %w", id, err)
	}
	return e, nil
}

// EndpointList implements hirehook.Store.
func (c *CRUD) EndpointList(ctx context.Context, f hirehook.EndpointFilter) ([]*hirehook.Endpoint, error) {
	after, err := c.afterSeq(ctx, "endpoints", "endpoint", f.TenantID, f.After)
	if err != nil {
		return nil, err
	}
	rows, err := c.d.Reader.QueryContext(ctx, c.d.Rebind(`SELECT `+EndpointColumns+` FROM endpoints WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
		f.TenantID, after, PageLimit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select endpoints: %w", err)
	}
	return scanAll(rows, c.scanEndpoint)
}

// applyEndpointUpdate applies u to e.
func applyEndpointUpdate(e *hirehook.Endpoint, u hirehook.EndpointUpdate) {
	if u.URL != nil {
		e.URL = *u.URL
	}
	if u.Description != nil {
		e.Description = *u.Description
	}
	if u.Config != nil {
		e.Config = *u.Config
	}
	if u.Credentials != nil {
		e.Credentials = *u.Credentials
	}
	if u.EventTypes != nil {
		e.EventTypes = *u.EventTypes
	}
	if u.Headers != nil {
		e.Headers = *u.Headers
	}
	if u.Disabled != nil {
		e.Disabled = *u.Disabled
		if !e.Disabled {
			// Enabled again: a fresh start for the failing-endpoint rule.
			e.DisabledReason, e.FailingSince = "", nil
		}
	}
	if u.DisabledReason != nil {
		e.DisabledReason = *u.DisabledReason
	}
	if u.MaxConcurrency != nil {
		e.MaxConcurrency = *u.MaxConcurrency
	}
	if u.RateLimitPerSecond != nil {
		e.RateLimitPerSecond = *u.RateLimitPerSecond
	}
	if u.Ordered != nil {
		e.Ordered = *u.Ordered
	}
	if u.Filter != nil {
		e.Filter = *u.Filter
	}
	if u.Transform != nil {
		e.Transform = *u.Transform
	}
	if u.Payload != nil {
		e.Payload = *u.Payload
	}
	if u.Redact != nil {
		e.Redact = *u.Redact
	}
}

// EndpointUpdate implements hirehook.Store. Disabling the endpoint pauses
// its waiting deliveries; enabling it makes its paused ones due (and tells
// the other nodes so).
func (c *CRUD) EndpointUpdate(ctx context.Context, tenantID, id string, u hirehook.EndpointUpdate) (*hirehook.Endpoint, error) {
	var e *hirehook.Endpoint
	err := c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = c.EndpointGetTx(ctx, tx, tenantID, id, c.d.ForUpdate); err != nil {
			return err
		}
		wasDisabled := e.Disabled
		applyEndpointUpdate(e, u)
		now := u.Now
		if now.IsZero() {
			now = time.Now()
		}
		e.UpdatedAt = now.UTC().Truncate(time.Microsecond)
		if err := c.updateEndpoint(ctx, tx, e); err != nil {
			return err
		}
		if e.Disabled == wasDisabled {
			return nil
		}
		if err := SetPaused(ctx, c.d, tx, e.ID, e.Disabled, now); err != nil {
			return err
		}
		if !e.Disabled {
			return c.d.notify(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (c *CRUD) updateEndpoint(ctx context.Context, tx *sql.Tx, e *hirehook.Endpoint) error {
	r, err := c.encodeEndpoint(e)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, c.d.Rebind(`UPDATE endpoints SET url = ?, description = ?, event_types = ?, headers = ?, disabled = ?,
		disabled_reason = ?, secrets = ?, updated_at = ?, max_concurrency = ?, rate_limit_per_second = ?, ordered = ?, failing_since = ?,
		filter = ?, transform = ?, payload = ?, redact = ?, destination = ?
		WHERE tenant_id = ? AND id = ?`),
		e.URL, e.Description, r.types, r.headers, e.Disabled, e.DisabledReason, r.secrets, c.d.TimeFunc(e.UpdatedAt), e.MaxConcurrency, e.RateLimitPerSecond,
		e.Ordered, c.d.NullTime(e.FailingSince), e.Filter, e.Transform, e.Payload, r.redact, r.destination, e.TenantID, e.ID)
	if err != nil {
		return fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	return nil
}

// EndpointSetSecrets implements hirehook.Store.
func (c *CRUD) EndpointSetSecrets(ctx context.Context, tenantID, id string, secrets []hirehook.Secret) (*hirehook.Endpoint, error) {
	var e *hirehook.Endpoint
	err := c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = c.EndpointGetTx(ctx, tx, tenantID, id, c.d.ForUpdate); err != nil {
			return err
		}
		e.Secrets = secrets
		e.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		return c.updateEndpoint(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// EndpointDelete implements hirehook.Store. The endpoint's unfinished
// deliveries are cancelled; one leased right now is cancelled too: its
// worker's result is then ignored, as the lease is gone.
func (c *CRUD) EndpointDelete(ctx context.Context, tenantID, id string) error {
	return c.d.WriteTxFunc(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, c.d.Rebind(`DELETE FROM endpoints WHERE tenant_id = ? AND id = ?`), tenantID, id)
		if err != nil {
			return fmt.Errorf("delete endpoint %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Endpoint %q not found.", id)
		}
		if _, err := tx.ExecContext(ctx, c.d.Rebind(`UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, lease_owner = NULL,
			lease_expires_at = NULL, updated_at = ?
			WHERE endpoint_id = ? AND state IN ('pending', 'retrying', 'delivering', 'paused')`), c.d.TimeFunc(time.Now()), id); err != nil {
			return fmt.Errorf("cancel deliveries of endpoint %s: %w", id, err)
		}
		return nil
	})
}

// SetPaused pauses, in tx, the endpoint's waiting deliveries (disabled) or
// makes its paused ones due at now (enabled): pending if never attempted,
// else retrying. A delivery being attempted finishes its attempt; its
// result then pauses it if it is to be retried (see DeliveryComplete).
func SetPaused(ctx context.Context, d *Dialect, tx *sql.Tx, endpointID string, disabled bool, now time.Time) error {
	q, args := `UPDATE deliveries SET state = 'paused', updated_at = ? WHERE endpoint_id = ? AND state IN ('pending', 'retrying')`,
		[]any{d.TimeFunc(now), endpointID}
	if !disabled {
		q, args = `UPDATE deliveries SET state = CASE WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END, next_attempt_at = ?, updated_at = ?
			WHERE endpoint_id = ? AND state = 'paused'`, []any{d.TimeFunc(now), d.TimeFunc(now), endpointID}
	}
	if _, err := tx.ExecContext(ctx, d.Rebind(q), args...); err != nil {
		return fmt.Errorf("pause or resume deliveries of endpoint %s: %w", endpointID, err)
	}
	return nil
}
