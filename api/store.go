package api

import (
	"context"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// Store is what the JSON API needs of the hub's store: what its
// operations write through (package ops) and the reads its routes serve.
// hirehook.Store has it all.
type Store interface {
	ops.SourceStore
	ops.EndpointStore
	ops.DeliveryStore
	ops.EndpointTestStore
	ops.APIKeyStore
	ops.TenantStore
	ops.EraseStore
	ops.BackfillStore
	APIKeyByHash(ctx context.Context, hash string) (*hirehook.APIKey, error)
	APIKeyList(ctx context.Context, tenantID string) ([]*hirehook.APIKey, error)
	APIKeyTouch(ctx context.Context, id string, t time.Time) error
	AuditList(ctx context.Context, f hirehook.AuditFilter) ([]*hirehook.AuditEntry, error)
	BackfillGet(ctx context.Context, tenantID, id string) (*hirehook.Backfill, error)
	BackfillList(ctx context.Context, tenantID, endpointID string) ([]*hirehook.Backfill, error)
	DeliveryGet(ctx context.Context, tenantID, id string) (*hirehook.Delivery, []*hirehook.Attempt, error)
	DeliveryList(ctx context.Context, f hirehook.DeliveryFilter) ([]*hirehook.Delivery, error)
	EndpointList(ctx context.Context, f hirehook.EndpointFilter) ([]*hirehook.Endpoint, error)
	EventGet(ctx context.Context, tenantID, id string) (*hirehook.Event, error)
	EventList(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error)
	InboundGet(ctx context.Context, tenantID, sourceID, id string) (*hirehook.InboundRequest, error)
	InboundList(ctx context.Context, f hirehook.InboundFilter) ([]*hirehook.InboundRequest, error)
	InboundStats(ctx context.Context, tenantID string) (map[string]*hirehook.InboundStats, error)
	RecordEvents(ctx context.Context, f hirehook.EventFilter) ([]*hirehook.Event, error)
	RecordGet(ctx context.Context, tenantID, entity, id string) (*hirehook.Record, error)
	SourceList(ctx context.Context, f hirehook.SourceFilter) ([]*hirehook.Source, error)
	TenantGet(ctx context.Context, id string) (*hirehook.Tenant, error)
	TenantList(ctx context.Context, f hirehook.TenantFilter) ([]*hirehook.Tenant, error)
}
