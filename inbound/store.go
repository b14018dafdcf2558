package inbound

import (
	"context"

	"github.com/hirehook/hirehook"
)

// HandlerStore is what the receiving Handler needs of a hirehook.Store:
// the source a request is for, and the request log it writes and dedupes
// against.
type HandlerStore interface {
	// SourceGet is hirehook.Store.SourceGet.
	SourceGet(ctx context.Context, tenantID, id string) (*hirehook.Source, error)
	// SourceTenant is hirehook.Store.SourceTenant.
	SourceTenant(ctx context.Context, id string) (string, error)
	// InboundCreate is hirehook.Store.InboundCreate.
	InboundCreate(ctx context.Context, r *hirehook.InboundRequest) error
	// InboundGet is hirehook.Store.InboundGet.
	InboundGet(ctx context.Context, tenantID, sourceID, id string) (*hirehook.InboundRequest, error)
}

// Store is what the Processor and the Worker need of a hirehook.Store:
// the requests that are due and their outcome, the source each is for,
// and the sources' saved state (hydration tokens).
type Store interface {
	// SourceGet is hirehook.Store.SourceGet.
	SourceGet(ctx context.Context, tenantID, id string) (*hirehook.Source, error)
	// SourceStateGet is hirehook.Store.SourceStateGet.
	SourceStateGet(ctx context.Context, p hirehook.SourceStateParams) (string, error)
	// SourceStateSet is hirehook.Store.SourceStateSet.
	SourceStateSet(ctx context.Context, p hirehook.SourceStateParams) error
	// InboundClaim is hirehook.Store.InboundClaim.
	InboundClaim(ctx context.Context, p hirehook.InboundClaimParams) ([]*hirehook.InboundRequest, error)
	// InboundUpdate is hirehook.Store.InboundUpdate.
	InboundUpdate(ctx context.Context, p hirehook.InboundUpdateParams) error
}
