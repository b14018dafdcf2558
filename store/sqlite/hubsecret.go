package sqlite

import (
	"context"
	"fmt"
)

// The hub's own secrets (the API key pepper) are kept by the core
// (sqlstore.HubSecrets); what is SQLite's is only the truncation of the WAL
// after secrets were rewritten.

// UpgradeSecrets implements sqlstore.HubSecrets.Upgrade for this store
// (see there); after a rewrite it truncates the WAL: the writer zeroes what
// it overwrites (secure_delete), but the WAL still holds the pages as they
// were until a checkpoint (best effort: a reader still on an old snapshot
// keeps it).
func (s *Store) UpgradeSecrets(ctx context.Context) (int, error) {
	n, err := s.hub.Upgrade(ctx, func(tenantID, id string, plain []byte) (any, error) {
		return s.Sealer().SealHeaders(tenantID, id, plain)
	})
	if err != nil {
		return n, err
	}
	if n > 0 {
		if _, err := s.writer.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return n, fmt.Errorf("upgrade secrets: checkpoint: %w", err)
		}
	}
	return n, nil
}
