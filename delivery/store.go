package delivery

import (
	"context"

	"github.com/hirehook/hirehook"
)

// Store is what the dispatcher needs of a hirehook.Store: the queue's
// claim, completion and release, the endpoints it sends to, and the
// declared capabilities (a node registry, where several nodes share the
// store).
type Store interface {
	// DeliveryClaim is hirehook.Store.DeliveryClaim.
	DeliveryClaim(ctx context.Context, p hirehook.DeliveryClaimParams) ([]*hirehook.Delivery, error)
	// DeliveryComplete is hirehook.Store.DeliveryComplete.
	DeliveryComplete(ctx context.Context, results []hirehook.DeliveryResult) (int, error)
	// DeliveryRelease is hirehook.Store.DeliveryRelease.
	DeliveryRelease(ctx context.Context, owner string, ids []string) error
	// EndpointGet is hirehook.Store.EndpointGet.
	EndpointGet(ctx context.Context, tenantID, id string) (*hirehook.Endpoint, error)
	// Capabilities is hirehook.Store.Capabilities.
	Capabilities() hirehook.Capabilities
}
