package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hirehook/hirehook/internal/storecopy"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// The store is both sides of a copy (see storecopy.Exporter).
var (
	_ storecopy.Exporter = (*Store)(nil)
	_ storecopy.Importer = (*Store)(nil)
)

// BeginImport starts an import of what another store exported
// (storecopy.Importer; sqlstore.BeginImport), in one transaction on the
// writer, which holds SQLite's write lock until Commit.
func (s *Store) BeginImport(ctx context.Context) (storecopy.Import, error) {
	return sqlstore.BeginImport(ctx, s.dialect, &s.hub, sqlstore.ImportWriter{RowsFunc: s.importRows})
}

// importRows is sqlstore.ImportWriter.Rows: one statement per row.
func (s *Store) importRows(ctx context.Context, tx *sql.Tx, b storecopy.Batch) error {
	ex := func(what, q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("import %s: %w", what, err)
		}
		return nil
	}
	for _, t := range b.Tenants {
		if err := ex("tenants", `INSERT INTO tenants (seq, id, name, retention_days, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.Seq, t.ID, t.Name, t.RetentionDays, toMicros(t.CreatedAt), toMicros(t.UpdatedAt)); err != nil {
			return err
		}
	}
	for _, k := range b.APIKeys {
		if err := ex("api_keys", `INSERT INTO api_keys (id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.TenantID, k.Name, k.Scope, k.Hash, toMicros(k.CreatedAt), nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt)); err != nil {
			return err
		}
	}
	for _, e := range b.Endpoints {
		sealed, err := s.sealSecrets(e.TenantID, e.ID, e.Secrets)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		headers, err := s.sealHeaders(e.TenantID, e.ID, []byte(e.Headers))
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		destination, err := s.Sealer().SealDestination(e.TenantID, e.ID, e.Config, e.Credentials)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if err := ex("endpoints", `INSERT INTO endpoints (seq, `+sqlstore.EndpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.ID, e.TenantID, e.URL, e.Description, e.EventTypes, headers, e.Disabled, e.DisabledReason, sealed, toMicros(e.CreatedAt), toMicros(e.UpdatedAt), e.MaxConcurrency, e.RateLimitPerSecond,
			e.Ordered, nullMicros(e.FailingSince), e.Filter, e.Transform, e.Payload, e.Redact, e.Kind, destination); err != nil {
			return err
		}
	}
	for _, e := range b.Events {
		var idem any
		if e.IdempotencyKey != nil {
			idem = *e.IdempotencyKey
		}
		payload := e.Payload
		if payload == nil {
			payload = []byte{}
		}
		if err := ex("events", `INSERT INTO events (seq, tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload, purged_at, erased_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.TenantID, e.ID, e.Type, toMicros(e.OccurredAt), toMicros(e.ReceivedAt), e.Source, e.SubjectEntity, e.SubjectID,
			idem, e.Deliveries, payload, nullMicros(e.PurgedAt), nullMicros(e.ErasedAt)); err != nil {
			return err
		}
	}
	for _, r := range b.Records {
		if err := ex("records", `INSERT INTO records (tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at, erased_at)
			VALUES (?, ?, ?, ?, ?, json(?), ?, ?, ?, ?)`,
			r.TenantID, r.Entity, r.ID, r.Version, r.Deleted, string(r.Data), r.LastEventID, toMicros(r.CreatedAt), toMicros(r.UpdatedAt), nullMicros(r.ErasedAt)); err != nil {
			return err
		}
	}
	for _, d := range b.Deliveries {
		if err := ex("deliveries", `INSERT INTO deliveries (seq, id, tenant_id, event_id, event_type, endpoint_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, updated_at, ordering_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, nullif(?, ''))`,
			d.Seq, d.ID, d.TenantID, d.EventID, d.EventType, d.EndpointID, d.State, d.Attempts, nullMicros(d.NextAttemptAt), nullMicros(d.LastAttemptAt),
			d.LastStatus, d.LastError, toMicros(d.CreatedAt), toMicros(d.UpdatedAt), d.OrderingKey); err != nil {
			return err
		}
	}
	for _, a := range b.Attempts {
		if err := ex("attempts", `INSERT INTO attempts (delivery_id, number, id, tenant_id, endpoint_id, started_at, duration_us, status_code, response_body, error_class, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.DeliveryID, a.Number, a.ID, a.TenantID, a.EndpointID, toMicros(a.StartedAt), a.DurationMicros, a.StatusCode, string(a.ResponseBody), a.ErrorClass, a.Error); err != nil {
			return err
		}
	}
	for _, a := range b.Audit {
		var details any
		if a.Details != nil {
			details = *a.Details
		}
		if err := ex("audit_log", `INSERT INTO audit_log (seq, id, tenant_id, at, key_id, key_name, action, target, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Seq, a.ID, a.TenantID, toMicros(a.At), a.KeyID, a.KeyName, a.Action, a.Target, details); err != nil {
			return err
		}
	}
	for _, x := range b.Sources {
		var secrets map[string]string
		if err := json.Unmarshal(x.Secrets, &secrets); err != nil {
			return fmt.Errorf("import: source %s secrets: %w", x.ID, err)
		}
		sealed, err := s.sealSourceSecrets(x.TenantID, x.ID, secrets)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		var cp any
		if x.Checkpoint != nil {
			cp = *x.Checkpoint
		}
		if err := ex("sources", `INSERT INTO sources (seq, `+sqlstore.SourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?)`,
			x.Seq, x.ID, x.TenantID, x.Kind, x.Name, x.Config, string(sealed), x.Enabled, x.Health, cp, toMicros(x.CreatedAt), toMicros(x.UpdatedAt)); err != nil {
			return err
		}
	}
	for _, x := range b.States {
		if err := ex("source_state", `INSERT INTO source_state (source_id, key, value) VALUES (?, ?, ?)`, x.SourceID, x.Key, x.Value); err != nil {
			return err
		}
	}
	for _, x := range b.Backfills {
		var finished any
		if x.FinishedAt != nil {
			finished = toMicros(*x.FinishedAt)
		}
		if err := ex("backfills", `INSERT INTO backfills (id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, cursor_entity, cursor_id,
			scanned, sent, skipped, error, created_at, updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			x.ID, x.TenantID, x.EndpointID, x.Entities, x.Filter, x.RatePerSecond, x.State, x.CursorEntity, x.CursorID,
			x.Scanned, x.Sent, x.Skipped, x.Error, toMicros(x.CreatedAt), toMicros(x.UpdatedAt), finished); err != nil {
			return err
		}
	}
	for _, x := range b.Inbound {
		if err := ex("inbound_requests", `INSERT INTO inbound_requests (seq, id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of, vendor_event, header, body, body_size,
			event_ids, events, error, attempts, processed_at, due_at, claim_owner, claim_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			x.Seq, x.ID, x.TenantID, x.SourceID, toMicros(x.ReceivedAt), x.Status, x.DedupeKey, x.DuplicateOf, x.VendorEvent, x.Header, blob(x.Body), x.BodySize,
			x.EventIDs, x.Events, x.Error, x.Attempts, nullMicros(x.ProcessedAt), nullMicros(x.DueAt), x.ClaimOwner, nullMicros(x.ClaimUntil)); err != nil {
			return err
		}
	}
	return nil
}

// blob returns b as a BLOB argument, NULL when b is nil.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
