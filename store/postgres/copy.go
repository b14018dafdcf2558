package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hirehook/hirehook/internal/storecopy"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// The store is both sides of a copy (see storecopy.Exporter).
var (
	_ storecopy.Exporter = (*Store)(nil)
	_ storecopy.Importer = (*Store)(nil)
)

// BeginImport starts an import of what another store exported
// (storecopy.Importer; sqlstore.BeginImport), in one transaction that first
// locks every table against other writers (lockTables).
func (s *Store) BeginImport(ctx context.Context) (storecopy.Import, error) {
	return sqlstore.BeginImport(ctx, s.dialect, &s.hub, sqlstore.ImportWriter{LockFunc: lockTables, RowsFunc: s.importRows, BeforeCommitFunc: advanceSeqs})
}

// lockTables is sqlstore.ImportWriter.Lock: EXCLUSIVE on every table, so a
// hub still running on the database waits, and readers do not.
func lockTables(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `LOCK TABLE `+strings.Join(storecopy.Tables, ", ")+` IN EXCLUSIVE MODE`)
	return err
}

// importRows is sqlstore.ImportWriter.Rows: one multi-row statement per
// table of the batch.
func (s *Store) importRows(ctx context.Context, tx *sql.Tx, b storecopy.Batch) error {
	if len(b.Tenants) > 0 {
		rows := make([][]any, len(b.Tenants))
		for i, t := range b.Tenants {
			rows[i] = []any{t.Seq, t.ID, t.Name, t.RetentionDays, t.CreatedAt, t.UpdatedAt}
		}
		if err := insertRows(ctx, tx, `tenants (seq, id, name, retention_days, created_at, updated_at) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.APIKeys) > 0 {
		rows := make([][]any, len(b.APIKeys))
		for i, k := range b.APIKeys {
			rows[i] = []any{k.ID, k.TenantID, k.Name, k.Scope, k.Hash, k.CreatedAt, nullTime(k.ExpiresAt), nullTime(k.LastUsedAt)}
		}
		if err := insertRows(ctx, tx, `api_keys (id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at)`, rows); err != nil {
			return err
		}
	}
	if len(b.Endpoints) > 0 {
		rows := make([][]any, len(b.Endpoints))
		for i, e := range b.Endpoints {
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
			rows[i] = []any{e.Seq, e.ID, e.TenantID, e.URL, e.Description, e.EventTypes, headers, e.Disabled, e.DisabledReason, sealed, e.CreatedAt, e.UpdatedAt, e.MaxConcurrency, e.RateLimitPerSecond,
				e.Ordered, nullTime(e.FailingSince), e.Filter, e.Transform, e.Payload, e.Redact, e.Kind, destination}
		}
		if err := insertRows(ctx, tx, `endpoints (seq, `+sqlstore.EndpointColumns+`) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.Events) > 0 {
		rows := make([][]any, len(b.Events))
		for i, e := range b.Events {
			rows[i] = []any{e.Seq, e.TenantID, e.ID, e.Type, e.OccurredAt, e.ReceivedAt, e.Source, e.SubjectEntity, e.SubjectID,
				nullString(e.IdempotencyKey), e.Deliveries, nonNil(e.Payload), nullTime(e.PurgedAt), nullTime(e.ErasedAt)}
		}
		if err := insertRows(ctx, tx, `events (seq, tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload, purged_at, erased_at) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.Records) > 0 {
		rows := make([][]any, len(b.Records))
		for i, r := range b.Records {
			rows[i] = []any{r.TenantID, r.Entity, r.ID, r.Version, r.Deleted, string(r.Data), r.LastEventID, r.CreatedAt, r.UpdatedAt, nullTime(r.ErasedAt)}
		}
		if err := insertRows(ctx, tx, `records (tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at, erased_at)`, rows); err != nil {
			return err
		}
	}
	if len(b.Deliveries) > 0 {
		rows := make([][]any, len(b.Deliveries))
		for i, d := range b.Deliveries {
			rows[i] = []any{d.Seq, d.ID, d.TenantID, d.EventID, d.EventType, d.EndpointID, d.State, d.Attempts,
				nullTime(d.NextAttemptAt), nullTime(d.LastAttemptAt), d.LastStatus, d.LastError, d.CreatedAt, d.UpdatedAt, nullIfEmpty(d.OrderingKey)}
		}
		if err := insertRows(ctx, tx, `deliveries (seq, id, tenant_id, event_id, event_type, endpoint_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, updated_at, ordering_key) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.Attempts) > 0 {
		rows := make([][]any, len(b.Attempts))
		for i, a := range b.Attempts {
			rows[i] = []any{a.DeliveryID, a.Number, a.ID, a.TenantID, a.StartedAt, a.DurationMicros, a.StatusCode, nonNil(a.ResponseBody), a.ErrorClass, a.Error}
		}
		if err := insertRows(ctx, tx, `attempts (delivery_id, number, id, tenant_id, started_at, duration_us, status_code, response_body, error_class, error)`, rows); err != nil {
			return err
		}
	}
	if len(b.Audit) > 0 {
		rows := make([][]any, len(b.Audit))
		for i, a := range b.Audit {
			rows[i] = []any{a.Seq, a.ID, a.TenantID, a.At, a.KeyID, a.KeyName, a.Action, a.Target, nullString(a.Details)}
		}
		if err := insertRows(ctx, tx, `audit_log (seq, id, tenant_id, at, key_id, key_name, action, target, details) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.Sources) > 0 {
		rows := make([][]any, len(b.Sources))
		for i, x := range b.Sources {
			var secrets map[string]string
			if err := json.Unmarshal(x.Secrets, &secrets); err != nil {
				return fmt.Errorf("import: source %s secrets: %w", x.ID, err)
			}
			sealed, err := s.sealSourceSecrets(x.TenantID, x.ID, secrets)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			rows[i] = []any{x.Seq, x.ID, x.TenantID, x.Kind, x.Name, x.Config, sealed, x.Enabled, x.Health, nullString(x.Checkpoint), x.CreatedAt, x.UpdatedAt}
		}
		if err := insertRows(ctx, tx, `sources (seq, id, tenant_id, kind, name, config, secrets, enabled, health, checkpoint, created_at, updated_at) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.States) > 0 {
		rows := make([][]any, len(b.States))
		for i, x := range b.States {
			rows[i] = []any{x.SourceID, x.Key, x.Value}
		}
		if err := insertRows(ctx, tx, `source_state (source_id, key, value)`, rows); err != nil {
			return err
		}
	}
	if len(b.Backfills) > 0 {
		rows := make([][]any, len(b.Backfills))
		for i, x := range b.Backfills {
			var finished any
			if x.FinishedAt != nil {
				finished = *x.FinishedAt
			}
			rows[i] = []any{x.ID, x.TenantID, x.EndpointID, x.Entities, x.Filter, x.RatePerSecond, x.State, x.CursorEntity, x.CursorID,
				x.Scanned, x.Sent, x.Skipped, x.Error, x.CreatedAt, x.UpdatedAt, finished}
		}
		if err := insertRows(ctx, tx, `backfills (id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, cursor_entity, cursor_id, scanned, sent, skipped, error, created_at, updated_at, finished_at)`, rows); err != nil {
			return err
		}
	}
	if len(b.Inbound) > 0 {
		rows := make([][]any, len(b.Inbound))
		for i, x := range b.Inbound {
			// A nil body is NULL (not kept); vendor_event and error are
			// cleaned as InboundCreate cleans them, since SQLite text may
			// hold a NUL that a text column refuses.
			rows[i] = []any{x.Seq, x.ID, x.TenantID, x.SourceID, x.ReceivedAt, x.Status, x.DedupeKey, x.DuplicateOf, cleanText(x.VendorEvent), x.Header, x.Body, x.BodySize,
				x.EventIDs, x.Events, cleanText(x.Error), x.Attempts, nullTime(x.ProcessedAt), nullTime(x.DueAt), x.ClaimOwner, nullTime(x.ClaimUntil)}
		}
		if err := insertRows(ctx, tx, `inbound_requests (seq, id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of, vendor_event, header, body, body_size, event_ids, events, error, attempts, processed_at, due_at, claim_owner, claim_until) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	return nil
}

// insertRows inserts rows with one multi-row statement; into is what
// follows INSERT INTO.
func insertRows(ctx context.Context, tx *sql.Tx, into string, rows [][]any) error {
	var q strings.Builder
	q.WriteString("INSERT INTO " + into + " VALUES ")
	args := make([]any, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for j, v := range r {
			if j > 0 {
				q.WriteString(", ")
			}
			args = append(args, v)
			fmt.Fprintf(&q, "$%d", len(args))
		}
		q.WriteByte(')')
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("import %s: %w", strings.Fields(into)[0], mapError(err))
	}
	return nil
}

// advanceSeqs is sqlstore.ImportWriter.BeforeCommit: it moves each
// identity sequence past the copied seqs, and analyzes the new rows.
func advanceSeqs(ctx context.Context, tx *sql.Tx) error {
	for _, t := range []string{"tenants", "endpoints", "events", "deliveries", "audit_log", "sources", "inbound_requests"} {
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'seq'), coalesce(max(seq), 0) + 1, false) FROM `+t); err != nil {
			return fmt.Errorf("import: advance %s seq: %w", t, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("import: analyze: %w", err)
	}
	return nil
}

func nullString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// nonNil returns b as a bytea argument: never nil, which would be NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nullIfEmpty stores an empty string as NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Export streams every row of the store to fn: sqlstore.Export, from one
// REPEATABLE READ, read-only transaction (one snapshot). It is the source
// side of `hirehook migrate-store`: stop the hubs first.
func (s *Store) Export(ctx context.Context, fn func(storecopy.Batch) error) error {
	return sqlstore.Export(ctx, s.dialect, &s.hub, sqlstore.Openers{
		SecretsFunc: func(tenantID, id string, stored []byte) ([]byte, error) {
			return s.openSecrets(tenantID, id, string(stored))
		},
		HeadersFunc: func(tenantID, id string, stored []byte) ([]byte, error) {
			return s.openHeaders(tenantID, id, string(stored))
		},
		SourceSecretsFunc: func(tenantID, id string, stored []byte) (map[string]string, error) {
			return s.openSourceSecrets(tenantID, id, string(stored))
		},
		DestinationFunc: s.Sealer().OpenDestination,
	}, fn)
}
