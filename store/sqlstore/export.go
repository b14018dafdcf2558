package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hirehook/hirehook/internal/storecopy"
)

// Openers open what a store seals with its keyring, for an export: the
// dialect's own functions (the column types of the sealed values differ).
type Openers struct {
	// SecretsFunc opens an endpoint's signing secrets to their plain JSON.
	SecretsFunc func(tenantID, id string, stored []byte) ([]byte, error)
	// HeadersFunc opens an endpoint's custom headers to their plain JSON.
	HeadersFunc func(tenantID, id string, stored []byte) ([]byte, error)
	// SourceSecretsFunc opens a source's secrets.
	SourceSecretsFunc func(tenantID, id string, stored []byte) (map[string]string, error)
	// DestinationFunc opens a broker endpoint's config and credentials.
	DestinationFunc func(tenantID, id string, stored []byte) (config, credentials map[string]string, err error)
}

// Export streams every row of the store to fn, table by table in the order
// of storecopy.Tables, in batches of at most storecopy.BatchSize rows, all
// read in one snapshot (Dialect.SnapshotTx). Sealed values are opened with
// open; deliveries being attempted are given as due now
// (storecopy.Requeue); the API key pepper goes with every batch of keys.
// It is the source side of `hirehook migrate-store`: stop the hubs first.
func Export(ctx context.Context, d *Dialect, hub *HubSecrets, open Openers, fn func(storecopy.Batch) error) error {
	tx, err := d.SnapshotTxFunc(ctx)
	if err != nil {
		return fmt.Errorf("export: begin: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	pepper, err := hub.ReadPepper(ctx, tx)
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
				var c, u Time
				if err := r.Scan(&t.Seq, &t.ID, &t.Name, &t.RetentionDays, &c, &u); err != nil {
					return err
				}
				t.CreatedAt, t.UpdatedAt = c.Time, u.Time
				b.Tenants = append(b.Tenants, t)
				return nil
			}},
		{"api_keys", `SELECT id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at FROM api_keys ORDER BY created_at, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var k storecopy.APIKey
				var c Time
				var e, l NullTime
				if err := r.Scan(&k.ID, &k.TenantID, &k.Name, &k.Scope, &k.Hash, &c, &e, &l); err != nil {
					return err
				}
				k.CreatedAt, k.ExpiresAt, k.LastUsedAt = c.Time, e.Time, l.Time
				b.APIKeys, b.APIKeyPepper = append(b.APIKeys, k), pepper
				return nil
			}},
		{"endpoints", `SELECT seq, id, tenant_id, url, description, event_types, headers, disabled, disabled_reason, secrets, created_at, updated_at, max_concurrency, rate_limit_per_second, ordered, failing_since, filter, transform, payload, redact, kind, destination FROM endpoints ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var e storecopy.Endpoint
				var stored, destination []byte
				var c, u Time
				var f NullTime
				if err := r.Scan(&e.Seq, &e.ID, &e.TenantID, &e.URL, &e.Description, &e.EventTypes, &e.Headers, &e.Disabled, &e.DisabledReason, &stored, &c, &u, &e.MaxConcurrency, &e.RateLimitPerSecond,
					&e.Ordered, &f, &e.Filter, &e.Transform, &e.Payload, &e.Redact, &e.Kind, &destination); err != nil {
					return err
				}
				if e.Config, e.Credentials, err = open.DestinationFunc(e.TenantID, e.ID, destination); err != nil {
					return err
				}
				plain, err := open.SecretsFunc(e.TenantID, e.ID, stored)
				if err != nil {
					return err
				}
				headers, err := open.HeadersFunc(e.TenantID, e.ID, []byte(e.Headers))
				if err != nil {
					return err
				}
				e.Secrets, e.Headers, e.CreatedAt, e.UpdatedAt, e.FailingSince = plain, string(headers), c.Time, u.Time, f.Time
				b.Endpoints = append(b.Endpoints, e)
				return nil
			}},
		{"events", `SELECT seq, tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload, purged_at, erased_at FROM events ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var e storecopy.Event
				var o, rc Time
				var idem sql.NullString
				var p, er NullTime
				if err := r.Scan(&e.Seq, &e.TenantID, &e.ID, &e.Type, &o, &rc, &e.Source, &e.SubjectEntity, &e.SubjectID, &idem, &e.Deliveries, &e.Payload, &p, &er); err != nil {
					return err
				}
				e.OccurredAt, e.ReceivedAt, e.PurgedAt, e.ErasedAt = o.Time, rc.Time, p.Time, er.Time
				if idem.Valid {
					e.IdempotencyKey = &idem.String
				}
				if e.Payload == nil {
					e.Payload = []byte{}
				}
				b.Events = append(b.Events, e)
				return nil
			}},
		{"records", `SELECT tenant_id, entity, id, version, deleted, ` + d.TextFunc("data") + `, last_event_id, created_at, updated_at, erased_at FROM records ORDER BY tenant_id, entity, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Record
				var c, u Time
				var er NullTime
				if err := r.Scan(&x.TenantID, &x.Entity, &x.ID, &x.Version, &x.Deleted, &x.Data, &x.LastEventID, &c, &u, &er); err != nil {
					return err
				}
				x.CreatedAt, x.UpdatedAt, x.ErasedAt = c.Time, u.Time, er.Time
				b.Records = append(b.Records, x)
				return nil
			}},
		{"deliveries", `SELECT seq, id, tenant_id, event_id, event_type, endpoint_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, updated_at, coalesce(ordering_key, '') FROM deliveries ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Delivery
				var n, l NullTime
				var c, u Time
				if err := r.Scan(&x.Seq, &x.ID, &x.TenantID, &x.EventID, &x.EventType, &x.EndpointID, &x.State, &x.Attempts, &n, &l, &x.LastStatus, &x.LastError, &c, &u, &x.OrderingKey); err != nil {
					return err
				}
				x.NextAttemptAt, x.LastAttemptAt, x.CreatedAt, x.UpdatedAt = n.Time, l.Time, c.Time, u.Time
				b.Deliveries = append(b.Deliveries, storecopy.Requeue(x, now))
				return nil
			}},
		{"attempts", d.ExportAttempts,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var a storecopy.Attempt
				var st Time
				if err := r.Scan(&a.DeliveryID, &a.Number, &a.ID, &a.TenantID, &a.EndpointID, &st, &a.DurationMicros, &a.StatusCode, &a.ResponseBody, &a.ErrorClass, &a.Error); err != nil {
					return err
				}
				a.StartedAt = st.Time
				if a.ResponseBody == nil {
					a.ResponseBody = []byte{}
				}
				b.Attempts = append(b.Attempts, a)
				return nil
			}},
		{"audit_log", `SELECT seq, id, tenant_id, at, key_id, key_name, action, target, details FROM audit_log ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var a storecopy.AuditEntry
				var at Time
				var details sql.NullString
				if err := r.Scan(&a.Seq, &a.ID, &a.TenantID, &at, &a.KeyID, &a.KeyName, &a.Action, &a.Target, &details); err != nil {
					return err
				}
				a.At = at.Time
				if details.Valid {
					a.Details = &details.String
				}
				b.Audit = append(b.Audit, a)
				return nil
			}},
		{"sources", `SELECT seq, id, tenant_id, kind, name, config, secrets, enabled, health, checkpoint, created_at, updated_at FROM sources ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Source
				var stored []byte
				var cp sql.NullString
				var c, u Time
				if err := r.Scan(&x.Seq, &x.ID, &x.TenantID, &x.Kind, &x.Name, &x.Config, &stored, &x.Enabled, &x.Health, &cp, &c, &u); err != nil {
					return err
				}
				secrets, err := open.SourceSecretsFunc(x.TenantID, x.ID, stored)
				if err != nil {
					return err
				}
				if x.Secrets, err = json.Marshal(secrets); err != nil {
					return err
				}
				if cp.Valid {
					x.Checkpoint = &cp.String
				}
				x.CreatedAt, x.UpdatedAt = c.Time, u.Time
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
		{"backfills", `SELECT id, tenant_id, endpoint_id, ` + d.TextFunc("entities") + `, filter, rate_per_second, state, cursor_entity, cursor_id, scanned, sent, skipped, error, created_at, updated_at, finished_at FROM backfills ORDER BY created_at, id`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.Backfill
				var c, u Time
				var f NullTime
				if err := r.Scan(&x.ID, &x.TenantID, &x.EndpointID, &x.Entities, &x.Filter, &x.RatePerSecond, &x.State, &x.CursorEntity, &x.CursorID,
					&x.Scanned, &x.Sent, &x.Skipped, &x.Error, &c, &u, &f); err != nil {
					return err
				}
				x.CreatedAt, x.UpdatedAt, x.FinishedAt = c.Time, u.Time, f.Time
				b.Backfills = append(b.Backfills, x)
				return nil
			}},
		// Seq keeps the log's order, newest first in lists and cursors;
		// body IS NULL tells a body not kept from an empty one.
		{"inbound_requests", `SELECT seq, id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of, vendor_event, header, body, body IS NULL, body_size,
			event_ids, events, error, attempts, processed_at, due_at, claim_owner, claim_until FROM inbound_requests ORDER BY seq`,
			func(r *sql.Rows, b *storecopy.Batch) error {
				var x storecopy.InboundRequest
				var rc Time
				var noBody bool
				var p, due, cu NullTime
				if err := r.Scan(&x.Seq, &x.ID, &x.TenantID, &x.SourceID, &rc, &x.Status, &x.DedupeKey, &x.DuplicateOf, &x.VendorEvent, &x.Header, &x.Body, &noBody, &x.BodySize,
					&x.EventIDs, &x.Events, &x.Error, &x.Attempts, &p, &due, &x.ClaimOwner, &cu); err != nil {
					return err
				}
				switch {
				case noBody:
					x.Body = nil
				case x.Body == nil:
					x.Body = []byte{}
				}
				x.ReceivedAt, x.ProcessedAt, x.DueAt, x.ClaimUntil = rc.Time, p.Time, due.Time, cu.Time
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
