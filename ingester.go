package hirehook

import "context"

// Ingester is the one way events enter the hub (package ingest implements
// it): POST /v1/events, the test sends of the API and the dashboard, push
// sources (package inbound), polled sources and the hub's operational
// events all go through it, so every event is validated, deduplicated by
// id, recorded and delivered the same way.
type Ingester interface {
	// Prepare validates one input and turns it into an event of tenantID.
	// Errors are EINVALID, naming the field.
	Prepare(tenantID string, input *EventInput, idempotencyKey string) (*Event, error)
	// Commit writes prepared events in the next group commit and returns
	// their results once they are durable: EUNAVAILABLE if the commit is
	// not confirmed in time (the events may or may not be stored; send
	// them again with the same ids).
	Commit(ctx context.Context, events []*Event) ([]EventIngestResult, error)
}
