package sqlite

import (
	"context"

	"github.com/hirehook/hirehook/internal/storecopy"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// Export streams every row of the store to fn: sqlstore.Export, from
// one read transaction on a reader (one snapshot of the file). It is the
// source side of `hirehook migrate-store`: stop the hubs first.
func (s *Store) Export(ctx context.Context, fn func(storecopy.Batch) error) error {
	return sqlstore.Export(ctx, s.dialect, &s.hub, sqlstore.Openers{
		SecretsFunc: s.openSecrets,
		HeadersFunc: s.openHeaders,
		SourceSecretsFunc: func(tenantID, id string, stored []byte) (map[string]string, error) {
			return s.openSourceSecrets(tenantID, id, stored)
		},
		DestinationFunc: s.Sealer().OpenDestination,
	}, fn)
}
