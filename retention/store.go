package retention

import (
	"context"

	"github.com/hirehook/hirehook"
)

// Store is what the purger needs of a hirehook.Store.
type Store interface {
	// RetentionPurge is hirehook.Store.RetentionPurge.
	RetentionPurge(ctx context.Context, p hirehook.RetentionPurgeParams) (hirehook.RetentionPurgeResult, error)
}
