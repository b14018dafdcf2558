package web

import (
	"context"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// Store is what the dashboard needs of the hub's store: what its
// operations write through (package ops) and the reads of its pages.
// hirehook.Store has it all; a test may hand a smaller fake.
type Store interface {
	ops.SourceStore
	ops.EndpointStore
	ops.DeliveryStore
	ops.EndpointTestStore
	APIKeyByHash(ctx context.Context, hash string) (*hirehook.APIKey, error)
	APIKeyTouch(ctx context.Context, id string, t time.Time) error
	BackfillList(ctx context.Context, tenantID, endpointID string) ([]*hirehook.Backfill, error)
	DeliveryGet(ctx context.Context, tenantID, id string) (*hirehook.Delivery, []*hirehook.Attempt, error)
	DeliveryList(ctx context.Context, f hirehook.DeliveryFilter) ([]*hirehook.Delivery, error)
	DeliveryStats(ctx context.Context, p hirehook.DeliveryStatsParams) ([]*hirehook.DeliveryStats, error)
	EndpointList(ctx context.Context, f hirehook.EndpointFilter) ([]*hirehook.Endpoint, error)
	EventGet(ctx context.Context, tenantID, id string) (*hirehook.Event, error)
	EventList(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error)
	InboundGet(ctx context.Context, tenantID, sourceID, id string) (*hirehook.InboundRequest, error)
	InboundList(ctx context.Context, f hirehook.InboundFilter) ([]*hirehook.InboundRequest, error)
	InboundStats(ctx context.Context, tenantID string) (map[string]*hirehook.InboundStats, error)
	RecordGet(ctx context.Context, tenantID, entity, id string) (*hirehook.Record, error)
	SourceList(ctx context.Context, f hirehook.SourceFilter) ([]*hirehook.Source, error)
	TenantGet(ctx context.Context, id string) (*hirehook.Tenant, error)
}
