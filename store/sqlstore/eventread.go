package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hirehook/hirehook"
)

// The reads of events and records, written once for both dialects. They go
// to Dialect.Reader (SQLite's read-only pool), outside a transaction.

// eventColumns are the columns scanEvent reads.
const eventColumns = `tenant_id, id, type, occurred_at, received_at, source, subject_entity, subject_id, deliveries, payload`

// scanEvent reads an event of eventColumns, with the fields its stored
// payload carries (data, changes, purged, derived, partial).
func scanEvent(row rowScanner) (*hirehook.Event, error) {
	var e hirehook.Event
	var occurred, received Time
	if err := row.Scan(&e.TenantID, &e.ID, &e.Type, &occurred, &received, &e.Source, &e.Subject.Entity, &e.Subject.ID, &e.Deliveries, &e.Payload); err != nil {
		return nil, err
	}
	e.OccurredAt, e.ReceivedAt = occurred.Time, received.Time
	var body hirehook.WebhookPayload
	if err := json.Unmarshal(e.Payload, &body); err != nil {
		return nil, fmt.Errorf("decode payload of event %s: %w", e.ID, err)
	}
	e.Data, e.Changes, e.Purged = body.Data, body.Changes, body.Purged
	e.Derived, e.Partial = body.Derived, body.Partial
	return &e, nil
}

// EventGet implements hirehook.Store.
func (c *CRUD) EventGet(ctx context.Context, tenantID, id string) (*hirehook.Event, error) {
	e, err := scanEvent(c.d.Reader.QueryRowContext(ctx, c.d.Rebind(`SELECT `+eventColumns+` FROM events WHERE tenant_id = ? AND id = ?`), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Event %q not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("select event %s: %w", id, err)
	}
	return e, nil
}

// EventList implements hirehook.Store. Events are listed by seq (newest
// first with f.Descending), the order in which their inserts began; with
// several nodes ingesting into one PostgreSQL at once, an event may commit
// after one with a higher seq was already listed.
func (c *CRUD) EventList(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error) {
	return c.eventList(ctx, f)
}

// RecordEvents implements hirehook.Store.
func (c *CRUD) RecordEvents(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error) {
	if f.Entity == nil || f.SubjectID == nil {
		return nil, hirehook.Errorf(hirehook.EINVALID, "Listing a record's events needs its entity and subject id.")
	}
	return c.eventList(ctx, f)
}

// eventList is EventList and RecordEvents: a keyset page of a tenant's
// events in seq order, narrowed by f.
func (c *CRUD) eventList(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error) {
	where := []string{"tenant_id = ?"}
	args := []any{f.TenantID}
	add := func(cond string, arg any) {
		where, args = append(where, cond), append(args, arg)
	}
	if f.After != "" {
		seq, err := c.afterSeq(ctx, "events", "event", f.TenantID, f.After)
		if err != nil {
			return nil, err
		}
		if f.Descending {
			add("seq < ?", seq)
		} else {
			add("seq > ?", seq)
		}
	}
	if f.Type != nil {
		add("type = ?", *f.Type)
	}
	if f.Entity != nil {
		add("subject_entity = ?", *f.Entity)
	}
	if f.SubjectID != nil {
		add("subject_id = ?", *f.SubjectID)
	}
	// Source and time narrow the scan of seq order; received_at follows
	// seq (both are set at commit), so a range stops the walk early.
	if f.Source != nil {
		add("source = ?", *f.Source)
	}
	if f.ReceivedAfter != nil {
		add("received_at >= ?", c.d.TimeFunc(*f.ReceivedAfter))
	}
	if f.ReceivedBefore != nil {
		add("received_at < ?", c.d.TimeFunc(*f.ReceivedBefore))
	}
	args = append(args, PageLimit(f.Limit))
	order := "seq"
	if f.Descending {
		order = "seq DESC"
	}
	q := `SELECT ` + eventColumns + ` FROM events WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + order + ` LIMIT ?`
	rows, err := c.d.Reader.QueryContext(ctx, c.d.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("select events: %w", err)
	}
	return scanAll(rows, scanEvent)
}

// RecordGet implements hirehook.Store.
func (c *CRUD) RecordGet(ctx context.Context, tenantID, entity, id string) (*hirehook.Record, error) {
	var r hirehook.Record
	var data []byte
	var created, updated Time
	err := c.d.Reader.QueryRowContext(ctx, c.d.Rebind(`SELECT tenant_id, entity, id, version, deleted, data, last_event_id, created_at, updated_at
		FROM records WHERE tenant_id = ? AND entity = ? AND id = ?`), tenantID, entity, id).
		Scan(&r.TenantID, &r.Entity, &r.ID, &r.Version, &r.Deleted, &data, &r.LastEventID, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "No %s record %q.", entity, id)
	} else if err != nil {
		return nil, fmt.Errorf("select record %s/%s: %w", entity, id, err)
	}
	r.Data = data
	r.CreatedAt, r.UpdatedAt = created.Time, updated.Time
	return &r, nil
}
