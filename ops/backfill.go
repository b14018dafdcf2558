package ops

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/route"
)

// BackfillStore is what the backfill operations need of the Store.
type BackfillStore interface {
	AuditStore
	BackfillCreate(ctx context.Context, b *hirehook.Backfill) error
	BackfillCancel(ctx context.Context, tenantID, id string, now time.Time) (*hirehook.Backfill, error)
}

// BackfillInput is what a person gives to start a backfill.
type BackfillInput struct {
	// Entities are the entities whose records are sent, in this order.
	Entities []string
	// Filter is a jq expression on each snapshot's envelope (nil: none).
	Filter *string
	// RatePerSecond is nil for hirehook.DefaultBackfillRate.
	RatePerSecond *int
}

// Backfills start and cancel backfills. Each needs an admin-scoped actor,
// validates ((*hirehook.Backfill).Validate; the catalog's entities and the
// filter are checked here), stores, wakes the backfill runner
// (ChangedFunc) and writes one audit entry on the endpoint:
// endpoint.backfill_started or endpoint.backfill_cancelled.
type Backfills struct {
	Store BackfillStore
	// Catalog holds the entities that have records (catalog.Default()).
	Catalog *catalog.Catalog
	// Route are the options the filter is compiled with.
	Route route.Options
	// ChangedFunc, if set, is called after a backfill was created, so the
	// hub starts it at once rather than at its next poll.
	ChangedFunc func()
	NowFunc     func() time.Time
	Logger      *slog.Logger
}

func (s *Backfills) auditor() auditor {
	return auditor{store: s.Store, nowFunc: s.NowFunc, logger: s.Logger}
}

// check validates b, whose filter is filter (nil: none). The errors come
// in the order the fields are read: the entities, each for whether it has
// records and then whether it repeats an earlier one, then the filter,
// then the rate.
func (s *Backfills) check(b *hirehook.Backfill, filter *string) error {
	verr := b.Validate()
	if hirehook.ErrorField(verr) == "entities" {
		return verr // none
	}
	for i, e := range b.Entities {
		if _, ok := catalogOr(s.Catalog).Lookup(hirehook.SnapshotType(e)); !ok {
			return hirehook.FieldError(fmt.Sprintf("entities[%d]", i), "%q is not an entity with records (for example candidate, job, application, placement)", e)
		}
		if hirehook.ErrorField(verr) == fmt.Sprintf("entities[%d]", i) {
			return verr // listed twice
		}
	}
	if filter != nil {
		opts := s.Route
		if opts.Catalog == nil {
			opts.Catalog = catalogOr(s.Catalog)
		}
		if _, err := route.CompileOptions(route.Spec{Filter: *filter}, opts); err != nil {
			return err // names "filter" and the position of a syntax error
		}
	}
	return verr // the rate, or nil
}

// BackfillCreate starts a backfill of the actor's tenant to endpoint
// endpointID. Errors: EFORBIDDEN, EINVALID naming the field, ENOTFOUND
// (no such endpoint), ECONFLICT.
func (s *Backfills) BackfillCreate(ctx context.Context, a Actor, endpointID string, in BackfillInput) (*hirehook.Backfill, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, err
	}
	now := now(s.NowFunc).UTC().Truncate(time.Microsecond)
	b := &hirehook.Backfill{TenantID: a.TenantID, ID: hirehook.NewID("bf"), EndpointID: endpointID,
		Entities: in.Entities, RatePerSecond: hirehook.DefaultBackfillRate, State: hirehook.BackfillRunning,
		CreatedAt: now, UpdatedAt: now}
	set(&b.Filter, in.Filter)
	set(&b.RatePerSecond, in.RatePerSecond)
	if err := s.check(b, in.Filter); err != nil {
		return nil, err
	}
	if err := s.Store.BackfillCreate(ctx, b); err != nil {
		return nil, err
	}
	call(s.ChangedFunc)
	s.auditor().audit(ctx, a, "endpoint.backfill_started", b.EndpointID, map[string]any{"backfill_id": b.ID, "entities": b.Entities,
		"filter": b.Filter, "rate_per_second": b.RatePerSecond})
	return b, nil
}

// BackfillCancel stops backfill id of the actor's tenant. Errors:
// EFORBIDDEN, ENOTFOUND, ECONFLICT (it has finished).
func (s *Backfills) BackfillCancel(ctx context.Context, a Actor, id string) (*hirehook.Backfill, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, err
	}
	b, err := s.Store.BackfillCancel(ctx, a.TenantID, id, now(s.NowFunc).UTC())
	if err != nil {
		return nil, err
	}
	s.auditor().audit(ctx, a, "endpoint.backfill_cancelled", b.EndpointID, map[string]any{"backfill_id": b.ID, "sent": b.Sent})
	return b, nil
}
