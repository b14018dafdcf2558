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

// importer writes what another store exported (storecopy) into this one,
// in one transaction: nothing is visible, and nothing is left behind on
// failure, until Commit. It is the target side of `hirehook migrate-store`.
type importer struct {
	s  *Store
	tx *sql.Tx
	// pepper is set once the import replaced the API key pepper, which the
	// store then reads again.
	pepper bool
}

// BeginImport starts an import (see storecopy.Importer and
// sqlstore.PrepareImport). It first locks every table against other
// writers (EXCLUSIVE: a hub still running on the database waits, and
// readers do not).
func (s *Store) BeginImport(ctx context.Context) (storecopy.Import, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("import: begin: %w", err)
	}
	fail := func(err error) (storecopy.Import, error) {
		tx.Rollback()
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE `+strings.Join(storecopy.Tables, ", ")+` IN EXCLUSIVE MODE`); err != nil {
		return fail(fmt.Errorf("import: lock tables: %w", err))
	}
	if err := sqlstore.PrepareImport(ctx, tx); err != nil {
		return fail(err)
	}
	return &importer{s: s, tx: tx}, nil
}

// Write inserts the rows of b, keeping their seq. Endpoint secrets are
// sealed with the store's keyring.
func (im *importer) Write(ctx context.Context, b storecopy.Batch) error {
	if len(b.Tenants) > 0 {
		rows := make([][]any, len(b.Tenants))
		for i, t := range b.Tenants {
			rows[i] = []any{t.Seq, t.ID, t.Name, t.RetentionDays, t.CreatedAt, t.UpdatedAt}
		}
		if err := im.insert(ctx, `tenants (seq, id, name, retention_days, created_at, updated_at) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.APIKeys) > 0 {
		rows := make([][]any, len(b.APIKeys))
		for i, k := range b.APIKeys {
			rows[i] = []any{k.ID, k.TenantID, k.Name, k.Scope, k.Hash, k.CreatedAt, nullTime(k.ExpiresAt), nullTime(k.LastUsedAt)}
		}
		if err := im.insert(ctx, `api_keys (id, tenant_id, name, scope, hash, created_at, expires_at, last_used_at)`, rows); err != nil {
			return err
		}
	}
	if b.APIKeyPepper != nil {
		// The keys' hashes are keyed with the source's pepper: adopt it.
		if err := im.s.hub.AdoptPepper(ctx, im.tx, b.APIKeyPepper); err != nil {
			return err
		}
		im.pepper = true
	}
	if len(b.Endpoints) > 0 {
		rows := make([][]any, len(b.Endpoints))
		for i, e := range b.Endpoints {
			sealed, err := im.s.sealSecrets(e.TenantID, e.ID, e.Secrets)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			headers, err := im.s.sealHeaders(e.TenantID, e.ID, []byte(e.Headers))
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			rows[i] = []any{e.Seq, e.ID, e.TenantID, e.URL, e.Description, e.EventTypes, headers, e.Disabled, e.DisabledReason, sealed, e.CreatedAt, e.UpdatedAt, e.MaxConcurrency, e.RateLimitPerSecond,
				e.Ordered, nullTime(e.FailingSince), e.Filter, e.Transform, e.Payload, e.Redact}
		}
		if err := im.insert(ctx, `endpoints (seq, id, tenant_id, url, description, event_types, headers, disabled, disabled_reason, secrets, created_at, updated_at, max_concurrency, rate_limit_per_second, ordered, failing_since, filter, transform, payload, redact) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.Events) > 0 {
		rows := make([][]any, len(b.Events))
		for i, e := range b.Events {
			rows[i] = []any{e.Seq, e.TenantID, e.ID, e.Type, e.OccurredAt, e.ReceivedAt, e.Source, e.SubjectEntity, e.SubjectID,
				nullString(e.IdempotencyKey), e.Deliveries, nonNil(e.Payload), nullTime(e.PurgedAt), nullTime(e.ErasedAt)}
		}
		if err := im.insert(ctx, `events (seq, tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, idempotency_key, deliveries, payload, purged_at, erased_at) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.Records) > 0 {
		rows := make([][]any, len(b.Records))
		for i, r := range b.Records {
			rows[i] = []any{r.TenantID, r.Entity, r.ID, r.Version, r.Deleted, string(r.Data), r.LastEventID, r.CreatedAt, r.UpdatedAt, nullTime(r.ErasedAt)}
		}
		if err := im.insert(ctx, `records (tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at, erased_at)`, rows); err != nil {
			return err
		}
	}
	if len(b.Deliveries) > 0 {
		rows := make([][]any, len(b.Deliveries))
		for i, d := range b.Deliveries {
			rows[i] = []any{d.Seq, d.ID, d.TenantID, d.EventID, d.EventType, d.EndpointID, d.State, d.Attempts,
				nullTime(d.NextAttemptAt), nullTime(d.LastAttemptAt), d.LastStatus, d.LastError, d.CreatedAt, d.UpdatedAt, nullIfEmpty(d.OrderingKey)}
		}
		if err := im.insert(ctx, `deliveries (seq, id, tenant_id, event_id, event_type, endpoint_id, state, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at, updated_at, ordering_key) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.Attempts) > 0 {
		rows := make([][]any, len(b.Attempts))
		for i, a := range b.Attempts {
			rows[i] = []any{a.DeliveryID, a.Number, a.ID, a.TenantID, a.StartedAt, a.DurationMicros, a.StatusCode, nonNil(a.ResponseBody), a.ErrorClass, a.Error}
		}
		if err := im.insert(ctx, `attempts (delivery_id, number, id, tenant_id, started_at, duration_us, status_code, response_body, error_class, error)`, rows); err != nil {
			return err
		}
	}
	if len(b.Audit) > 0 {
		rows := make([][]any, len(b.Audit))
		for i, a := range b.Audit {
			rows[i] = []any{a.Seq, a.ID, a.TenantID, a.At, a.KeyID, a.KeyName, a.Action, a.Target, nullString(a.Details)}
		}
		if err := im.insert(ctx, `audit_log (seq, id, tenant_id, at, key_id, key_name, action, target, details) OVERRIDING SYSTEM VALUE`, rows); err != nil {
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
			sealed, err := im.s.sealSourceSecrets(x.TenantID, x.ID, secrets)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			rows[i] = []any{x.Seq, x.ID, x.TenantID, x.Kind, x.Name, x.Config, sealed, x.Enabled, x.Health, nullString(x.Checkpoint), x.CreatedAt, x.UpdatedAt}
		}
		if err := im.insert(ctx, `sources (seq, id, tenant_id, kind, name, config, secrets, enabled, health, checkpoint, created_at, updated_at) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	if len(b.States) > 0 {
		rows := make([][]any, len(b.States))
		for i, x := range b.States {
			rows[i] = []any{x.SourceID, x.Key, x.Value}
		}
		if err := im.insert(ctx, `source_state (source_id, key, value)`, rows); err != nil {
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
		if err := im.insert(ctx, `backfills (id, tenant_id, endpoint_id, entities, filter, rate_per_second, state, cursor_entity, cursor_id, scanned, sent, skipped, error, created_at, updated_at, finished_at)`, rows); err != nil {
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
		if err := im.insert(ctx, `inbound_requests (seq, id, tenant_id, source_id, received_at, status, dedupe_key, duplicate_of, vendor_event, header, body, body_size, event_ids, events, error, attempts, processed_at, due_at, claim_owner, claim_until) OVERRIDING SYSTEM VALUE`, rows); err != nil {
			return err
		}
	}
	return nil
}

// insert inserts rows with one multi-row statement; into is what follows
// INSERT INTO.
func (im *importer) insert(ctx context.Context, into string, rows [][]any) error {
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
	if _, err := im.tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("import %s: %w", strings.Fields(into)[0], mapError(err))
	}
	return nil
}

// Commit moves each identity sequence past the copied seqs and commits.
func (im *importer) Commit(ctx context.Context) error {
	for _, t := range []string{"tenants", "endpoints", "events", "deliveries", "audit_log", "sources", "inbound_requests"} {
		if _, err := im.tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'seq'), coalesce(max(seq), 0) + 1, false) FROM `+t); err != nil {
			return fmt.Errorf("import: advance %s seq: %w", t, err)
		}
	}
	if _, err := im.tx.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("import: analyze: %w", err)
	}
	if err := im.tx.Commit(); err != nil {
		return fmt.Errorf("import: commit: %w", err)
	}
	if im.pepper {
		im.s.hub.Forget()
	}
	return nil
}

// Rollback abandons the import; after Commit it does nothing.
func (im *importer) Rollback() error { return im.tx.Rollback() }

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
		Secrets: func(tenantID, id string, stored []byte) ([]byte, error) {
			return s.openSecrets(tenantID, id, string(stored))
		},
		Headers: func(tenantID, id string, stored []byte) ([]byte, error) {
			return s.openHeaders(tenantID, id, string(stored))
		},
		SourceSecrets: func(tenantID, id string, stored []byte) (map[string]string, error) {
			return s.openSourceSecrets(tenantID, id, string(stored))
		},
	}, fn)
}
