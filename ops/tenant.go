package ops

import (
	"context"
	"log/slog"
	"time"

	"github.com/hirehook/hirehook"
)

// TenantStore is what the tenant operations need of the Store.
type TenantStore interface {
	AuditStore
	TenantCreate(ctx context.Context, t *hirehook.Tenant) error
	TenantUpdate(ctx context.Context, id string, u hirehook.TenantUpdate) (*hirehook.Tenant, error)
	TenantDelete(ctx context.Context, id string) error
}

// TenantInput is what a person gives to create a tenant (Name required)
// or to change one (every field optional; ID cannot change).
type TenantInput struct {
	// ID is optional on create (a "tnt_…" id is made):
	// hirehook.ValidateTenantID.
	ID            *string
	Name          *string
	RetentionDays *int
}

// Tenants are the operator's operations on tenants: create, change and
// delete. Each needs an operator-scoped actor, validates
// (hirehook.ValidateTenantID, hirehook.TenantUpdate.Validate), stores,
// tells the key caches of a deleted tenant (DeletedFunc) and writes one
// audit entry in the operator's tenant: tenant.created, tenant.updated or
// tenant.deleted.
type Tenants struct {
	Store TenantStore
	// DeletedFunc, if set, is told of a deleted tenant's id, so that a
	// cache of keys forgets that tenant's keys at once.
	DeletedFunc func(tenantID string)
	NowFunc     func() time.Time
	Logger      *slog.Logger
}

func (s *Tenants) auditor() auditor {
	return auditor{store: s.Store, nowFunc: s.NowFunc, logger: s.Logger}
}

// TenantCreate creates a tenant with in's id (or a new one), name and
// retention (default hirehook.DefaultRetentionDays). Errors: EFORBIDDEN,
// EINVALID naming the field, ECONFLICT (the id is taken).
func (s *Tenants) TenantCreate(ctx context.Context, a Actor, in TenantInput) (*hirehook.Tenant, error) {
	if err := a.allow(hirehook.ScopeOperator); err != nil {
		return nil, err
	}
	if in.ID != nil {
		if err := hirehook.ValidateTenantID(*in.ID); err != nil {
			return nil, err
		}
	}
	if in.Name == nil {
		return nil, hirehook.FieldError("name", "is required")
	}
	if err := (hirehook.TenantUpdate{Name: in.Name, RetentionDays: in.RetentionDays}).Validate(); err != nil {
		return nil, err
	}
	now := now(s.NowFunc).UTC().Truncate(time.Microsecond)
	t := &hirehook.Tenant{ID: hirehook.NewID("tnt"), Name: *in.Name, RetentionDays: hirehook.DefaultRetentionDays, CreatedAt: now, UpdatedAt: now}
	set(&t.ID, in.ID)
	set(&t.RetentionDays, in.RetentionDays)
	if err := s.Store.TenantCreate(ctx, t); err != nil {
		return nil, err
	}
	s.auditor().audit(ctx, a, "tenant.created", t.ID, map[string]any{"name": t.Name, "retention_days": t.RetentionDays})
	return t, nil
}

// TenantUpdate changes the name or retention of tenant id. Errors:
// EFORBIDDEN, EINVALID naming the field, ENOTFOUND.
func (s *Tenants) TenantUpdate(ctx context.Context, a Actor, id string, in TenantInput) (*hirehook.Tenant, error) {
	if err := a.allow(hirehook.ScopeOperator); err != nil {
		return nil, err
	}
	if in.ID != nil {
		return nil, hirehook.FieldError("id", "cannot change")
	}
	u := hirehook.TenantUpdate{Name: in.Name, RetentionDays: in.RetentionDays}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	t, err := s.Store.TenantUpdate(ctx, id, u)
	if err != nil {
		return nil, err
	}
	s.auditor().audit(ctx, a, "tenant.updated", t.ID, map[string]any{"name": in.Name, "retention_days": in.RetentionDays})
	return t, nil
}

// TenantDelete deletes tenant id and everything it owns, at once and for
// good. The actor's own tenant cannot be deleted. Errors: EFORBIDDEN,
// EINVALID (its own tenant), ENOTFOUND.
func (s *Tenants) TenantDelete(ctx context.Context, a Actor, id string) error {
	if err := a.allow(hirehook.ScopeOperator); err != nil {
		return err
	}
	if id == a.TenantID {
		return hirehook.FieldError("id", "The operator's own tenant cannot be deleted.")
	}
	if err := s.Store.TenantDelete(ctx, id); err != nil {
		return err
	}
	if s.DeletedFunc != nil {
		s.DeletedFunc(id)
	}
	s.auditor().audit(ctx, a, "tenant.deleted", id, nil)
	return nil
}
