package postgres

import "context"

// The hub's own secrets (the API key pepper) are kept by the core
// (sqlstore.HubSecrets).

// UpgradeSecrets implements sqlstore.HubSecrets.Upgrade for this store
// (see there).
func (s *Store) UpgradeSecrets(ctx context.Context) (int, error) {
	return s.hub.Upgrade(ctx, func(tenantID, id string, plain []byte) (any, error) {
		return s.sealHeaders(tenantID, id, plain)
	})
}
