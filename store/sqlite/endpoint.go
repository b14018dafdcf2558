package sqlite

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
	_, err = s.writer.ExecContext(ctx, `INSERT INTO endpoints (`+endpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, e.URL, e.Description, types, headers, e.Disabled, e.DisabledReason, secrets, toMicros(e.CreatedAt), toMicros(e.UpdatedAt), e.MaxConcurrency, e.RateLimitPerSecond,
		e.Ordered, nullMicros(e.FailingSince), e.Filter, e.Transform, e.Payload, redact)
	if isUniqueViolation(err) {
		return hirehook.Errorf(hirehook.ECONFLICT, "Endpoint %q exists already.", e.ID)
	} else if err != nil {
		return fmt.Errorf("insert endpoint %s: %w", e.ID, err)
	}
	return nil
}

// marshalEndpoint encodes the JSON columns of e; secrets and headers are
// sealed when the store has a keyring (see sealSecrets, sealHeaders).
func (s *Store) marshalEndpoint(e *hirehook.Endpoint) (types, headers, secrets []byte, err error) {
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	if types, err = json.Marshal(e.EventTypes); err != nil {
		return
	}
	if headers, err = json.Marshal(e.Headers); err != nil {
		return
	}
	if headers, err = s.sealHeaders(e.TenantID, e.ID, headers); err != nil {
		return
	}
	if secrets, err = json.Marshal(e.Secrets); err != nil {
		return
	}
	secrets, err = s.sealSecrets(e.TenantID, e.ID, secrets)
	return
}

type scanner interface{ Scan(dest ...any) error }

func (s *Store) scanEndpoint(row scanner) (*hirehook.Endpoint, error) {
	var e hirehook.Endpoint
	var types, headers, secrets []byte
	var created, updated int64
	var failing sql.NullInt64
	var redact []byte
	if err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &headers, &e.Disabled, &e.DisabledReason, &secrets, &created, &updated, &e.MaxConcurrency, &e.RateLimitPerSecond,
		&e.Ordered, &failing, &e.Filter, &e.Transform, &e.Payload, &redact); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(redact, &e.Redact); err != nil {
		return nil, fmt.Errorf("decode endpoint %s redact: %w", e.ID, err)
	}
	e.FailingSince = ptrMicros(failing)
	if err := json.Unmarshal(types, &e.EventTypes); err != nil {
		return nil, fmt.Errorf("decode endpoint %s event types: %w", e.ID, err)
	}
	headers, err := s.openHeaders(e.TenantID, e.ID, headers)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(headers, &e.Headers); err != nil {
		return nil, fmt.Errorf("decode endpoint %s headers: %w", e.ID, err)
	}
	secrets, err = s.openSecrets(e.TenantID, e.ID, secrets)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(secrets, &e.Secrets); err != nil {
		return nil, fmt.Errorf("decode endpoint %s secrets: %w", e.ID, err)
	}
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &e, nil
}

// EndpointGet implements hirehook.Store.
func (s *Store) EndpointGet(ctx context.Context, tenantID, id string) (*hirehook.Endpoint, error) {
	return s.endpointGet(ctx, s.reader, tenantID, id)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) endpointGet(ctx context.Context, q querier, tenantID, id string) (*hirehook.Endpoint, error) {
	e, err := s.scanEndpoint(q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Endpoint %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select endpoint %s: %w", id, err)
	}
	return e, nil
}

// EndpointList implements hirehook.Store.
func (s *Store) EndpointList(ctx context.Context, f hirehook.EndpointFilter) ([]*hirehook.Endpoint, error) {
	after, err := s.cursorSeq(ctx, "endpoints", "endpoint", f.TenantID, f.After)
	if err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, f.TenantID, after, limit(f.Limit))
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
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	e, err := s.endpointGet(ctx, tx, tenantID, id)
	if err != nil {
		return nil, err
	}
	wasDisabled := e.Disabled
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
	applyRouting(e, u)
	now := u.Now
	if now.IsZero() {
		now = time.Now()
	}
	e.UpdatedAt = now.UTC().Truncate(time.Microsecond)
	if err := s.updateEndpoint(ctx, tx, e); err != nil {
		return nil, err
	}
	if e.Disabled != wasDisabled {
		if err := setPaused(ctx, tx, e.ID, e.Disabled, toMicros(now)); err != nil {
			return nil, err
		}
	}
	return e, tx.Commit()
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
	_, err = tx.ExecContext(ctx, `UPDATE endpoints SET url = ?, description = ?, event_types = ?, headers = ?, disabled = ?, disabled_reason = ?, secrets = ?, updated_at = ?,
		max_concurrency = ?, rate_limit_per_second = ?, ordered = ?, failing_since = ?, filter = ?, transform = ?, payload = ?, redact = ? WHERE tenant_id = ? AND id = ?`,
		e.URL, e.Description, types, headers, e.Disabled, e.DisabledReason, secrets, toMicros(e.UpdatedAt), e.MaxConcurrency, e.RateLimitPerSecond,
		e.Ordered, nullMicros(e.FailingSince), e.Filter, e.Transform, e.Payload, redact, e.TenantID, e.ID)
	if err != nil {
		return fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	return nil
}

// EndpointSetSecrets implements hirehook.Store.
func (s *Store) EndpointSetSecrets(ctx context.Context, tenantID, id string, secrets []hirehook.Secret) (*hirehook.Endpoint, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	e, err := s.endpointGet(ctx, tx, tenantID, id)
	if err != nil {
		return nil, err
	}
	e.Secrets = secrets
	e.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	if err := s.updateEndpoint(ctx, tx, e); err != nil {
		return nil, err
	}
	return e, tx.Commit()
}

// EndpointDelete implements hirehook.Store.
func (s *Store) EndpointDelete(ctx context.Context, tenantID, id string) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hirehook.Errorf(hirehook.ENOTFOUND, "Endpoint %q not found.", id)
	}
	now := toMicros(time.Now())
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
		WHERE endpoint_id = ? AND state IN ('pending', 'retrying', 'delivering', 'paused')`, now, id); err != nil {
		return fmt.Errorf("cancel deliveries of endpoint %s: %w", id, err)
	}
	return tx.Commit()
}

// setPaused pauses the endpoint's waiting deliveries (disabled) or makes its
// paused ones due at now (enabled): pending if never attempted, else
// retrying. A delivery being attempted finishes its attempt; its result then
// pauses it if it is to be retried (see DeliveryComplete).
func setPaused(ctx context.Context, tx *sql.Tx, endpointID string, disabled bool, now int64) error {
	q := `UPDATE deliveries SET state = 'paused', updated_at = ?2 WHERE endpoint_id = ?1 AND state IN ('pending', 'retrying')`
	if !disabled {
		q = `UPDATE deliveries SET state = CASE WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END, next_attempt_at = ?2, updated_at = ?2
			WHERE endpoint_id = ?1 AND state = 'paused'`
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

// marshalRedact encodes e.Redact as a JSON array; an empty Payload is
// stored as full (and set so in e).
func marshalRedact(e *hirehook.Endpoint) ([]byte, error) {
	if e.Payload == "" {
		e.Payload = hirehook.PayloadFull
	}
	if e.Redact == nil {
		e.Redact = []string{}
	}
	b, err := json.Marshal(e.Redact)
	if err != nil {
		return nil, fmt.Errorf("encode endpoint %s redact: %w", e.ID, err)
	}
	return b, nil
}
