package ops

import (
	"context"
	"log/slog"
	"time"

	"github.com/hirehook/hirehook"
)

// DeliveryStore is what the delivery operations need of the Store.
type DeliveryStore interface {
	AuditStore
	DeliveryRetry(ctx context.Context, tenantID, id string, now time.Time) (*hirehook.Delivery, error)
	DeliveryRecover(ctx context.Context, p hirehook.DeliveryRecoverParams) (int, error)
}

// Deliveries are the operations that send deliveries again: one
// (DeliveryRetry, the API's retry and the dashboard's replay) or an
// endpoint's failed ones in a window (DeliveryRecover). Each needs an
// admin-scoped actor, makes the deliveries due in the store, wakes the
// dispatcher (Notify) and writes one audit entry.
type Deliveries struct {
	Store DeliveryStore
	// NotifyFunc, if set, wakes the dispatcher after deliveries became due.
	NotifyFunc func()
	NowFunc    func() time.Time
	Logger     *slog.Logger
}

func (s *Deliveries) auditor() auditor {
	return auditor{store: s.Store, nowFunc: s.NowFunc, logger: s.Logger}
}

// DeliveryRetry makes delivery id of the actor's tenant due now, whatever
// its state (a delivered one is sent again: a replay), and audits
// delivery.retried. Errors: EFORBIDDEN, ENOTFOUND, EINVALID or ECONFLICT
// when it cannot be sent again (its event's payload was purged, its
// endpoint is gone).
func (s *Deliveries) DeliveryRetry(ctx context.Context, a Actor, id string) (*hirehook.Delivery, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, err
	}
	d, err := s.Store.DeliveryRetry(ctx, a.TenantID, id, now(s.NowFunc))
	if err != nil {
		return nil, err
	}
	call(s.NotifyFunc)
	s.auditor().audit(ctx, a, "delivery.retried", d.ID, map[string]any{"event_id": d.EventID, "endpoint_id": d.EndpointID})
	return d, nil
}

// DeliveryRecover makes the failed deliveries of endpoint endpointID that
// failed from since (until until, when not zero) due again, and returns
// how many. The audit entry (endpoint.recovered) has since, until (when
// set) and the count. Errors: EFORBIDDEN, EINVALID ("until" not after
// "since").
func (s *Deliveries) DeliveryRecover(ctx context.Context, a Actor, endpointID string, since, until time.Time) (int, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return 0, err
	}
	p := hirehook.DeliveryRecoverParams{TenantID: a.TenantID, EndpointID: endpointID, Since: since, Until: until, Now: now(s.NowFunc)}
	if err := p.Validate(); err != nil {
		return 0, err
	}
	n, err := s.Store.DeliveryRecover(ctx, p)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		call(s.NotifyFunc)
	}
	details := map[string]any{"since": since, "recovered": n}
	if !until.IsZero() {
		details["until"] = until
	}
	s.auditor().audit(ctx, a, "endpoint.recovered", endpointID, details)
	return n, nil
}
