package ingest

import (
	"context"

	"github.com/hirehook/hirehook"
)

// Store is what the ingester needs of a hirehook.Store: it only writes
// events, with their records and deliveries, in batches.
type Store interface {
	// EventIngest is hirehook.Store.EventIngest.
	EventIngest(ctx context.Context, p hirehook.EventIngestParams) ([]hirehook.EventIngestResult, error)
}
