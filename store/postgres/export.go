package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hirehook/hirehook/internal/storecopy"
)

// Export streams every row of the store to fn, table by table in the order
// of storecopy.Tables, in batches of at most storecopy.BatchSize rows, all
// read in one REPEATABLE READ, read-only transaction (one snapshot).
// Endpoint secrets are opened with the store's keyring; deliveries being
// attempted are given as due now (storecopy.Requeue). It is the source side
// of `hirehook migrate-store`: stop the hubs first.
func (s *Store) Export(ctx context.Context, fn func(storecopy.Batch) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("export: begin: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	pepper, err := s.hub.ReadPepper(ctx, tx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	type table struct {
		name, query string
		scan        func(r *sql.Rows, b *storecopy.Batch) error
	}
	tables := []table{
		{"tenants", `SELECT seq, id, name, retention_days, created_at, updated_at FROM tenants ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var t storecopy.Tenant
				if err := r.Scan(&t.Seq, &t.ID, &t.Name, &t.RetentionDays, &t.CreatedAt, &t.UpdatedAt); err != nil {
					return err
				}
				t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
				b.Tenants = append(b.Tenants, t)
				return nil
			}},
		{"api_keys", `SELECT id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at FROM api_keys ORDER BY created_at, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var k storecopy.APIKey
				var e, l sql.NullTime
				if err := r.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.Hash, &k.CreatedAt, &e, &l); err != nil {
					return err
				}
				k.CreatedAt, k.ExpiresAt, k.LastUsedAt = utc(k.CreatedAt), ptrTime(e), ptrTime(l)
				b.APIKeys, b.APIKeyPepper = append(b.APIKeys, k), pepper
				return nil
			}},
		{"endpoints", `SELECT seq, id, tenant_id, url, description, event_types, headers, disabled, disabled_reason, secrets, created_at, updated_at, max_concurrency, rate_limit_per_second, ordered, failing_since, filter, transform, payload, redact FROM endpoints ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var e storecopy.Endpoint
				var stored string
				var f sql.NullTime
				if err := r.Scan(&e.Seq, &e.ID, &e.TenantID, &e.URL, &e.Description, &e.EventTypes, &e.Headers, &e.Disabled, &e.DisabledReason, &stored, &e.CreatedAt, &e.UpdatedAt, &e.MaxConcurrency, &e.RateLimitPerSecond,
					&e.Ordered, &f, &e.Filter, &e.Transform, &e.Payload, &e.Redact); err != nil {
					return err
				}
				e.FailingSince = ptrTime(f)
				plain, err := s.openSecrets(e.TenantID, e.ID, stored)
				if err != nil {
					return err
				}
				headers, err := s.openHeaders(e.TenantID, e.ID, e.Headers)
				if err != nil {
					return err
				}
				e.Headers = string(headers)
				e.Secrets, e.CreatedAt, e.UpdatedAt = plain, utc(e.CreatedAt), utc(e.UpdatedAt)
				b.Endpoints = append(b.Endpoints, e)
				return nil
			}},
		{"events", `SELECT seq, tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload, purged_at, erased_at FROM events ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var e storecopy.Event
				var idem sql.NullString
				var p, er sql.NullTime
				if err := r.Scan(&e.Seq, &e.TenantID, &e.ID, &e.Type, &e.OccurredAt, &e.ReceivedAt, &e.Source, &e.SubjectEntity, &e.SubjectID, &idem, &e.Deliveries, &e.Payload, &p, &er); err != nil {
					return err
				}
				e.OccurredAt, e.ReceivedAt, e.PurgedAt, e.ErasedAt = utc(e.OccurredAt), utc(e.ReceivedAt), ptrTime(p), ptrTime(er)
				if idem.Valid {
					e.IdempotencyKey = &idem.String
				}
				b.Events = append(b.Events, e)
				return nil
			}},
		{"records", `SELECT tenant_id, entity, id, version, deleted, data::text, last_event_id, created_at, updated_at, erased_at FROM records ORDER BY tenant_id, entity, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Record
				var data string
				var er sql.NullTime
				if err := r.Scan(&x.TenantID, &x.Entity, &x.ID, &x.Version, &x.Deleted, &data, &x.LastEventID, &x.CreatedAt, &x.UpdatedAt, &er); err != nil {
					return err
				}
				x.Data, x.CreatedAt, x.UpdatedAt, x.ErasedAt = []byte(data), utc(x.CreatedAt), utc(x.UpdatedAt), ptrTime(er)
				b.Records = append(b.Records, x)
				return nil
			}},
		{"deliveries", `SELECT seq, id, tenant_id, event_id, event_type, endpoint_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, updated_at, coalesce(ordering_key, '') FROM deliveries ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var d storecopy.Delivery
				var n, l sql.NullTime
				if err := r.Scan(&d.Seq, &d.ID, &d.TenantID, &d.EventID, &d.EventType, &d.EndpointID, &d.State, &d.Attempts, &n, &l, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &d.OrderingKey); err != nil {
					return err
				}
				d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt, d.UpdatedAt = ptrTime(n), ptrTime(l), utc(d.CreatedAt), utc(d.UpdatedAt)
				b.Deliveries = append(b.Deliveries, storecopy.Requeue(d, now))
				return nil
			}},
		// Attempts carry their delivery's endpoint in SQLite; here it is joined.
		{"attempts", `SELECT a.delivery_id, a.number, a.id, a.tenant_id, coalesce(d.endpoint_id, ''), a.started_at, a.duration_us, a.status_code, a.response_body, a.error_class, a.error
			FROM attempts a LEFT JOIN deliveries d ON d.id = a.delivery_id ORDER BY a.delivery_id, a.number`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var a storecopy.Attempt
				if err := r.Scan(&a.DeliveryID, &a.Number, &a.ID, &a.TenantID, &a.EndpointID, &a.StartedAt, &a.DurationMicros, &a.StatusCode, &a.ResponseBody, &a.ErrorClass, &a.Error); err != nil {
					return err
				}
				a.StartedAt = utc(a.StartedAt)
				b.Attempts = append(b.Attempts, a)
				return nil
			}},
		{"audit_log", `SELECT seq, id, tenant_id, at, key_id, key_name, action, target, details FROM audit_log ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var a storecopy.AuditEntry
				var d sql.NullString
				if err := r.Scan(&a.Seq, &a.ID, &a.TenantID, &a.At, &a.KeyID, &a.KeyName, &a.Action, &a.Target, &d); err != nil {
					return err
				}
				a.At = utc(a.At)
				if d.Valid {
					a.Details = &d.String
				}
				b.Audit = append(b.Audit, a)
				return nil
			}},
		{"sources", `SELECT seq, id, tenant_id, kind, name, config, secrets, enabled, health, checkpoint, created_at, updated_at FROM sources ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Source
				var stored string
				var cp sql.NullString
				if err := r.Scan(&x.Seq, &x.ID, &x.TenantID, &x.Kind, &x.Name, &x.Config, &stored, &x.Enabled, &x.Health, &cp, &x.CreatedAt, &x.UpdatedAt); err != nil {
					return err
				}
				secrets, err := s.openSourceSecrets(x.TenantID, x.ID, stored)
				if err != nil {
					return err
				}
				if x.Secrets, err = json.Marshal(secrets); err != nil {
					return err
				}
				if cp.Valid {
					x.Checkpoint = &cp.String
				}
				x.CreatedAt, x.UpdatedAt = utc(x.CreatedAt), utc(x.UpdatedAt)
				b.Sources = append(b.Sources, x)
				return nil
			}},
		{"source_state", `SELECT source_id, key, value FROM source_state ORDER BY source_id, key`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.SourceState
				if err := r.Scan(&x.SourceID, &x.Key, &x.Value); err != nil {
					return err
				}
				b.States = append(b.States, x)
				return nil
			}},
		{"backfills", `SELECT id, tenant_id, endpoint_id, entities::text, filter, rate_per_second, state, cursor_entity, cursor_id, scanned, sent, skipped, error, created_at, updated_at, finished_at FROM backfills ORDER BY created_at, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Backfill
				var f sql.NullTime
				if err := r.Scan(&x.ID, &x.TenantID, &x.EndpointID, &x.Entities, &x.Filter, &x.RatePerSecond, &x.State, &x.CursorEntity, &x.CursorID,
					&x.Scanned, &x.Sent, &x.Skipped, &x.Error, &x.CreatedAt, &x.UpdatedAt, &f); err != nil {
					return err
				}
				x.CreatedAt, x.UpdatedAt, x.FinishedAt = utc(x.CreatedAt), utc(x.UpdatedAt), ptrTime(f)
				b.Backfills = append(b.Backfills, x)
				return nil
			}},
		// Seq keeps the log's order, newest first in lists and cursors;
		// body IS NULL tells a body not kept from an empty one.
		{"inbound_requests", `SELECT seq, id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of, vendor_event, header, body, body IS NULL, body_size,
			event_ids, events, error, attempts, processed_at, due_at, claim_owner, claim_until FROM inbound_requests ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.InboundRequest
				var noBody bool
				var p, d, cu sql.NullTime
				if err := r.Scan(&x.Seq, &x.ID, &x.TenantID, &x.SourceID, &x.ReceivedAt, &x.Status, &x.DedupeKey, &x.DuplicateOf, &x.VendorEvent, &x.Header, &x.Body, &noBody, &x.BodySize,
					&x.EventIDs, &x.Events, &x.Error, &x.Attempts, &p, &d, &x.ClaimOwner, &cu); err != nil {
					return err
				}
				switch {
				case noBody:
					x.Body = nil
				case x.Body == nil:
					x.Body = []byte{}
				}
				x.ReceivedAt, x.ProcessedAt, x.DueAt, x.ClaimUntil = utc(x.ReceivedAt), ptrTime(p), ptrTime(d), ptrTime(cu)
				b.Inbound = append(b.Inbound, x)
				return nil
			}},
	}
	for _, t := range tables {
		if err := exportTable(ctx, tx, t.query, t.scan, fn); err != nil {
			return fmt.Errorf("export %s: %w", t.name, err)
		}
	}
	return nil
}

func exportTable(ctx context.Context, tx *sql.Tx, query string, scan func(*sql.Rows, *storecopy.Batch) error, fn func(storecopy.Batch) error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	var b storecopy.Batch
	for rows.Next() {
		if err := scan(rows, &b); err != nil {
			return err
		}
		if b.Len() == storecopy.BatchSize {
			if err := fn(b); err != nil {
				return err
			}
			b = storecopy.Batch{}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if b.Len() > 0 {
		return fn(b)
	}
	return nil
}
