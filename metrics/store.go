package metrics

import (
	"context"

	"github.com/hirehook/hirehook"
)

// Store is what the metrics need of a hirehook.Store: whether it answers,
// and the queue's figures per endpoint.
type Store interface {
	// Ping is hirehook.Store.Ping.
	Ping(ctx context.Context) error
	// DeliveryStats is hirehook.Store.DeliveryStats.
	DeliveryStats(ctx context.Context, p hirehook.DeliveryStatsParams) ([]*hirehook.DeliveryStats, error)
}
