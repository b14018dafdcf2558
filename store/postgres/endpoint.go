package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

const endpointColumns = `id, tenant_id, url, description, event_types, headers, disabled, disabled_reason, secrets, created_at, updated_at, max_concurrency, rate_limit_per_second, ordered, failing_since, filter, transform, payload, redact`

// EndpointCreate implements hirehook.Store.
func (s *Store) EndpointCreate(ctx context.Context, e *hirehook.Endpoint) error {
	types, headers, secrets, err := s.marshalEndpoint(e)
	if err != nil {
		return err
	}
	redact, err := marshalRedact(e)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO endpoints (`+endpointColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		e.ID, e.TenantID, e.URL, e.Description, types, headers, e.Disabled, e.DisabledReason, secrets, e.CreatedAt, e.UpdatedAt, e.MaxConcurrency, e.RateLimitPerSecond,
		e.Ordered, e.FailingSince, e.Filter, e.Transform, e.Payload, redact)
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Endpoint %q exists already.", e.ID)
	} else if err != nil {
		return fmt.Errorf("insert endpoint %s: %w", e.ID, mapError(err))
	}
	return nil
}

// marshalEndpoint encodes the JSON columns of e; secrets and headers are
// sealed when the store has a keyring (see sealSecrets, sealHeaders).
func (s *Store) marshalEndpoint(e *hirehook.Endpoint) (types, headers, secrets string, err error) {
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	b, err := json.Marshal(e.EventTypes)
	if err != nil {
		return
	}
	types = string(b)
	if b, err = json.Marshal(e.Headers); err != nil {
		return
	}
	if headers, err = s.sealHeaders(e.TenantID, e.ID, b); err != nil {
		return
	}
	if b, err = json.Marshal(e.Secrets); err != nil {
		return
	}
	secrets, err = s.sealSecrets(e.TenantID, e.ID, b)
	return
}

func (s *Store) scanEndpoint(row scanner) (*hirehook.Endpoint, error) {
	var e hirehook.Endpoint
	var types, headers, secrets string
	var failing sql.NullTime
	var redact string
	if err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &headers, &e.Disabled, &e.DisabledReason, &secrets, &e.CreatedAt, &e.UpdatedAt, &e.MaxConcurrency, &e.RateLimitPerSecond,
		&e.Ordered, &failing, &e.Filter, &e.Transform, &e.Payload, &redact); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(redact), &e.Redact); err != nil {
		return nil, fmt.Errorf("decode endpoint %s redact: %w", e.ID, err)
	}
	e.FailingSince = ptrTime(failing)
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("decode endpoint %s event types: %w", e.ID, err)
	}
	plainHeaders, err := s.openHeaders(e.TenantID, e.ID, headers)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(plainHeaders, &e.Headers); err != nil {
		return nil, fmt.Errorf("decode endpoint %s headers: %w", e.ID, err)
	}
	plain, err := s.openSecrets(e.TenantID, e.ID, secrets)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(plain, &e.Secrets); err != nil {
		return nil, fmt.Errorf("decode endpoint %s secrets: %w", e.ID, err)
	}
	e.CreatedAt, e.UpdatedAt = utc(e.CreatedAt), utc(e.UpdatedAt)
	return &e, nil
}

// EndpointGet implements hirehook.Store.
func (s *Store) EndpointGet(ctx context.Context, tenantID, id string) (*hirehook.Endpoint, error) {
	return s.endpointGet(ctx, s.db, tenantID, id, "")
}

// endpointGet reads one endpoint; lock is "" or a locking clause.
func (s *Store) endpointGet(ctx context.Context, q querier, tenantID, id, lock string) (*hirehook.Endpoint, error) {
	e, err := s.scanEndpoint(q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE tenant_id = $1 AND id = $2 `+lock, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Endpoint %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select endpoint %s: %w", id, err)
	}
	return e, nil
}

// EndpointList implements hirehook.Store.
func (s *Store) EndpointList(ctx context.Context, f hirehook.EndpointFilter) ([]*hirehook.Endpoint, error) {
	after := int64(0)
	if f.After != "" {
		if err := s.db.QueryRowContext(ctx, `SELECT seq FROM endpoints WHERE tenant_id = $1 AND id = $2`, f.TenantID, f.After).Scan(&after); errors.Is(err, sql.ErrNoRows) {
			return nil, hirehook.FieldError("after", "No endpoint %q to list after.", f.After)
		} else if err != nil {
			return nil, fmt.Errorf("select endpoint cursor: %w", err)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		f.TenantID, after, limit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("select endpoints: %w", err)
	}
	defer rows.Close()
	out := []*hirehook.Endpoint{}
	for rows.Next() {
		e, err := s.scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EndpointUpdate implements hirehook.Store.
func (s *Store) EndpointUpdate(ctx context.Context, tenantID, id string, u hirehook.EndpointUpdate) (*hirehook.Endpoint, error) {
	var e *hirehook.Endpoint
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = s.endpointGet(ctx, tx, tenantID, id, "FOR UPDATE"); err != nil {
			return err
		}
		if u.URL != nil {
			e.URL = *u.URL
		}
		if u.Description != nil {
			e.Description = *u.Description
		}
		if u.EventTypes != nil {
			e.EventTypes = *u.EventTypes
		}
		if u.Headers != nil {
			e.Headers = *u.Headers
		}
		enabled := false // the update re-enables the endpoint: its deliveries are due
		wasDisabled := e.Disabled
		if u.Disabled != nil {
			enabled = e.Disabled && !*u.Disabled
			e.Disabled = *u.Disabled
			if !e.Disabled {
				// Enabled again: a fresh start for the failing-endpoint rule.
				e.DisabledReason, e.FailingSince = "", nil
			}
		}
		disabled := u.Disabled != nil && *u.Disabled && !wasDisabled
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
		applyRouting(e, u)
		now := u.Now
		if now.IsZero() {
			now = time.Now()
		}
		e.UpdatedAt = now.UTC().Truncate(time.Microsecond)
		if err := s.updateEndpoint(ctx, tx, e); err != nil {
			return err
		}
		if disabled || enabled {
			if err := setPaused(ctx, tx, e.ID, disabled, now); err != nil {
				return err
			}
		}
		if enabled {
			return notify(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Store) updateEndpoint(ctx context.Context, tx *sql.Tx, e *hirehook.Endpoint) error {
	types, headers, secrets, err := s.marshalEndpoint(e)
	if err != nil {
		return err
	}
	redact, err := marshalRedact(e)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE endpoints SET url = $1, description = $2, event_types = $3, headers = $4, disabled = $5,
		disabled_reason = $6, secrets = $7, updated_at = $8, max_concurrency = $9, rate_limit_per_second = $10, ordered = $11, failing_since = $12,
		filter = $13, transform = $14, payload = $15, redact = $16
		WHERE tenant_id = $17 AND id = $18`,
		e.URL, e.Description, types, headers, e.Disabled, e.DisabledReason, secrets, e.UpdatedAt, e.MaxConcurrency, e.RateLimitPerSecond,
		e.Ordered, e.FailingSince, e.Filter, e.Transform, e.Payload, redact, e.TenantID, e.ID)
	if err != nil {
		return fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	return nil
}

// EndpointSetSecrets implements hirehook.Store.
func (s *Store) EndpointSetSecrets(ctx context.Context, tenantID, id string, secrets []hirehook.Secret) (*hirehook.Endpoint, error) {
	var e *hirehook.Endpoint
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = s.endpointGet(ctx, tx, tenantID, id, "FOR UPDATE"); err != nil {
			return err
		}
		e.Secrets = secrets
		e.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		return s.updateEndpoint(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// EndpointDelete implements hirehook.Store.
func (s *Store) EndpointDelete(ctx context.Context, tenantID, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM endpoints WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return fmt.Errorf("delete endpoint %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hirehook.Errorf(hirehook.ENOTFOUND, "Endpoint %q not found.", id)
		}
		// A delivery leased right now is cancelled too: its worker's result
		// is then ignored, as the lease is gone.
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, lease_owner = NULL,
			lease_expires_at = NULL, updated_at = $1
			WHERE endpoint_id = $2 AND state IN ('pending', 'retrying', 'delivering', 'paused')`, time.Now(), id); err != nil {
			return fmt.Errorf("cancel deliveries of endpoint %s: %w", id, err)
		}
		return nil
	})
}

// setPaused pauses the endpoint's waiting deliveries (disabled) or makes its
// paused ones due at now (enabled): pending if never attempted, else
// retrying. A delivery being attempted finishes its attempt; its result then
// pauses it if it is to be retried (see qComplete).
func setPaused(ctx context.Context, tx *sql.Tx, endpointID string, disabled bool, now time.Time) error {
	q := `UPDATE deliveries SET state = 'paused', updated_at = $2 WHERE endpoint_id = $1 AND state IN ('pending', 'retrying')`
	if !disabled {
		q = `UPDATE deliveries SET state = CASE WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END, next_attempt_at = $2, updated_at = $2
			WHERE endpoint_id = $1 AND state = 'paused'`
	}
	if _, err := tx.ExecContext(ctx, q, endpointID, now); err != nil {
		return fmt.Errorf("pause or resume deliveries of endpoint %s: %w", endpointID, err)
	}
	return nil
}

// applyRouting applies the routing fields of u to e.
func applyRouting(e *hirehook.Endpoint, u hirehook.EndpointUpdate) {
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

// marshalRedact encodes e.Redact as JSON text; an empty Payload is stored
// as full (and set so in e).
func marshalRedact(e *hirehook.Endpoint) (string, error) {
	if e.Payload == "" {
		e.Payload = hirehook.PayloadFull
	}
	if e.Redact == nil {
		e.Redact = []string{}
	}
	b, err := json.Marshal(e.Redact)
	if err != nil {
		return "", fmt.Errorf("encode endpoint %s redact: %w", e.ID, err)
	}
	return string(b), nil
}
