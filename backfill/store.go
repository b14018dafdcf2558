package backfill

import (
	"context"

	"github.com/hirehook/hirehook"
)

// Store is what the backfill runner needs of a hirehook.Store: the
// backfills' leases and progress, and the records it replays.
type Store interface {
	// BackfillLease is hirehook.Store.BackfillLease.
	BackfillLease(ctx context.Context, p hirehook.BackfillLeaseParams) ([]*hirehook.Backfill, error)
	// BackfillEnqueue is hirehook.Store.BackfillEnqueue.
	BackfillEnqueue(ctx context.Context, p hirehook.BackfillEnqueueParams) error
	// BackfillFinish is hirehook.Store.BackfillFinish.
	BackfillFinish(ctx context.Context, p hirehook.BackfillFinishParams) error
	// RecordList is hirehook.Store.RecordList.
	RecordList(ctx context.Context, p hirehook.RecordListParams) ([]*hirehook.Record, error)
}
