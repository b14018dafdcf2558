package sqlite

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
// read in one transaction (one snapshot of the file). Endpoint secrets are
// opened with the store's keyring; deliveries being attempted are given as
// due now (storecopy.Requeue). It is the source side of `hirehook
// migrate-store`: stop the hubs first.
func (s *Store) Export(ctx context.Context, fn func(storecopy.Batch) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
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
				var c, u int64
				if err := r.Scan(&t.Seq, &t.ID, &t.Name, &t.RetentionDays, &c, &u); err != nil {
					return err
				}
				t.CreatedAt, t.UpdatedAt = fromMicros(c), fromMicros(u)
				b.Tenants = append(b.Tenants, t)
				return nil
			}},
		{"api_keys", `SELECT id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at FROM api_keys ORDER BY created_at, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var k storecopy.APIKey
				var c int64
				var e, l sql.NullInt64
				if err := r.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.Hash, &c, &e, &l); err != nil {
					return err
				}
				k.CreatedAt, k.ExpiresAt, k.LastUsedAt = fromMicros(c), ptrMicros(e), ptrMicros(l)
				b.APIKeys, b.APIKeyPepper = append(b.APIKeys, k), pepper
				return nil
			}},
		{"endpoints", `SELECT seq, id, tenant_id, url, description, event_types, headers, disabled, disabled_reason, secrets, created_at, updated_at, max_concurrency, rate_limit_per_second, ordered, failing_since, filter, transform, payload, redact FROM endpoints ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var e storecopy.Endpoint
				var stored []byte
				var c, u int64
				var f sql.NullInt64
				if err := r.Scan(&e.Seq, &e.ID, &e.TenantID, &e.URL, &e.Description, &e.EventTypes, &e.Headers, &e.Disabled, &e.DisabledReason, &stored, &c, &u, &e.MaxConcurrency, &e.RateLimitPerSecond,
					&e.Ordered, &f, &e.Filter, &e.Transform, &e.Payload, &e.Redact); err != nil {
					return err
				}
				e.FailingSince = ptrMicros(f)
				plain, err := s.openSecrets(e.TenantID, e.ID, stored)
				if err != nil {
					return err
				}
				headers, err := s.openHeaders(e.TenantID, e.ID, []byte(e.Headers))
				if err != nil {
					return err
				}
				e.Headers = string(headers)
				e.Secrets, e.CreatedAt, e.UpdatedAt = plain, fromMicros(c), fromMicros(u)
				b.Endpoints = append(b.Endpoints, e)
				return nil
			}},
		{"events", `SELECT seq, tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload, purged_at, erased_at FROM events ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var e storecopy.Event
				var o, rc int64
				var idem sql.NullString
				var p, er sql.NullInt64
				if err := r.Scan(&e.Seq, &e.TenantID, &e.ID, &e.Type, &o, &rc, &e.Source, &e.SubjectEntity, &e.SubjectID, &idem, &e.Deliveries, &e.Payload, &p, &er); err != nil {
					return err
				}
				e.OccurredAt, e.ReceivedAt, e.PurgedAt, e.ErasedAt = fromMicros(o), fromMicros(rc), ptrMicros(p), ptrMicros(er)
				if idem.Valid {
					e.IdempotencyKey = &idem.String
				}
				if e.Payload == nil {
					e.Payload = []byte{}
				}
				b.Events = append(b.Events, e)
				return nil
			}},
		{"records", `SELECT tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at, erased_at FROM records ORDER BY tenant_id, entity, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Record
				var c, u int64
				var er sql.NullInt64
				if err := r.Scan(&x.TenantID, &x.Entity, &x.ID, &x.Version, &x.Deleted, &x.Data, &x.LastEventID, &c, &u, &er); err != nil {
					return err
				}
				x.CreatedAt, x.UpdatedAt, x.ErasedAt = fromMicros(c), fromMicros(u), ptrMicros(er)
				b.Records = append(b.Records, x)
				return nil
			}},
		{"deliveries", `SELECT seq, id, tenant_id, event_id, event_type, endpoint_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, updated_at, coalesce(ordering_key, '') FROM deliveries ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var d storecopy.Delivery
				var n, l sql.NullInt64
				var c, u int64
				if err := r.Scan(&d.Seq, &d.ID, &d.TenantID, &d.EventID, &d.EventType, &d.EndpointID, &d.State, &d.Attempts, &n, &l, &d.LastStatus, &d.LastError, &c, &u, &d.OrderingKey); err != nil {
					return err
				}
				d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt, d.UpdatedAt = ptrMicros(n), ptrMicros(l), fromMicros(c), fromMicros(u)
				b.Deliveries = append(b.Deliveries, storecopy.Requeue(d, now))
				return nil
			}},
		{"attempts", `SELECT delivery_id, number, id, tenant_id, endpoint_id, started_at, duration_us, status_code, response_body, error_class, error FROM attempts ORDER BY delivery_id, number`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var a storecopy.Attempt
				var st int64
				if err := r.Scan(&a.DeliveryID, &a.Number, &a.ID, &a.TenantID, &a.EndpointID, &st, &a.DurationMicros, &a.StatusCode, &a.ResponseBody, &a.ErrorClass, &a.Error); err != nil {
					return err
				}
				a.StartedAt = fromMicros(st)
				if a.ResponseBody == nil {
					a.ResponseBody = []byte{}
				}
				b.Attempts = append(b.Attempts, a)
				return nil
			}},
		{"audit_log", `SELECT seq, id, tenant_id, at, key_id, key_name, action, target, details FROM audit_log ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var a storecopy.AuditEntry
				var at int64
				var d sql.NullString
				if err := r.Scan(&a.Seq, &a.ID, &a.TenantID, &at, &a.KeyID, &a.KeyName, &a.Action, &a.Target, &d); err != nil {
					return err
				}
				a.At = fromMicros(at)
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
				var c, u int64
				if err := r.Scan(&x.Seq, &x.ID, &x.TenantID, &x.Kind, &x.Name, &x.Config, &stored, &x.Enabled, &x.Health, &cp, &c, &u); err != nil {
					return err
				}
				secrets, err := s.openSourceSecrets(x.TenantID, x.ID, []byte(stored))
				if err != nil {
					return err
				}
				if x.Secrets, err = json.Marshal(secrets); err != nil {
					return err
				}
				if cp.Valid {
					x.Checkpoint = &cp.String
				}
				x.CreatedAt, x.UpdatedAt = fromMicros(c), fromMicros(u)
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
		{"backfills", `SELECT id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, cursor_entity, cursor_id, scanned, sent, skipped, error, created_at, updated_at, finished_at FROM backfills ORDER BY created_at, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Backfill
				var c, u int64
				var f sql.NullInt64
				if err := r.Scan(&x.ID, &x.TenantID, &x.EndpointID, &x.Entities, &x.Filter, &x.RatePerSecond, &x.State, &x.CursorEntity, &x.CursorID,
					&x.Scanned, &x.Sent, &x.Skipped, &x.Error, &c, &u, &f); err != nil {
					return err
				}
				x.CreatedAt, x.UpdatedAt, x.FinishedAt = fromMicros(c), fromMicros(u), ptrMicros(f)
				b.Backfills = append(b.Backfills, x)
				return nil
			}},
		// Seq keeps the log's order, newest first in lists and cursors;
		// body IS NULL tells a body not kept from an empty one.
		{"inbound_requests", `SELECT seq, id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of, vendor_event, header, body, body IS NULL, body_size,
			event_ids, events, error, attempts, processed_at, due_at, claim_owner, claim_until FROM inbound_requests ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.InboundRequest
				var rc int64
				var noBody bool
				var p, d, cu sql.NullInt64
				if err := r.Scan(&x.Seq, &x.ID, &x.TenantID, &x.SourceID, &rc, &x.Status, &x.DedupeKey, &x.DuplicateOf, &x.VendorEvent, &x.Header, &x.Body, &noBody, &x.BodySize,
					&x.EventIDs, &x.Events, &x.Error, &x.Attempts, &p, &d, &x.ClaimOwner, &cu); err != nil {
					return err
				}
				switch {
				case noBody:
					x.Body = nil
				case x.Body == nil:
					x.Body = []byte{}
				}
				x.ReceivedAt, x.ProcessedAt, x.DueAt, x.ClaimUntil = fromMicros(rc), ptrMicros(p), ptrMicros(d), ptrMicros(cu)
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
