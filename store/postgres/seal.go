package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hirehook/hirehook"
)

// Endpoints' and sources' secrets are sealed at rest by the core
// (sqlstore.Sealer, see there), with the SQLite store's additional data,
// byte for byte, so that a value sealed by one store opens in the other.
// These name its functions for this package's import and export.

func (s *Store) sealSecrets(tenantID, id string, plain []byte) (string, error) {
	return s.Sealer().SealSecrets(tenantID, id, plain)
}

func (s *Store) openSecrets(tenantID, id, stored string) ([]byte, error) {
	return s.Sealer().OpenSecrets(tenantID, id, []byte(stored))
}

func (s *Store) sealHeaders(tenantID, id string, plain []byte) (string, error) {
	return s.Sealer().SealHeaders(tenantID, id, plain)
}

func (s *Store) openHeaders(tenantID, id, stored string) ([]byte, error) {
	return s.Sealer().OpenHeaders(tenantID, id, []byte(stored))
}

func (s *Store) sealSourceSecrets(tenantID, id string, secrets map[string]string) (string, error) {
	return s.Sealer().SealSourceSecrets(tenantID, id, secrets)
}

func (s *Store) openSourceSecrets(tenantID, id, stored string) (map[string]string, error) {
	return s.Sealer().OpenSourceSecrets(tenantID, id, []byte(stored))
}

// The store seals secrets at rest with its keyring.
var _ hirehook.Encrypted = (*Store)(nil)

// CheckEncryption fails with seal.ErrUnknownKey when secrets are sealed
// with a key the keyring lacks, naming the missing key ids (never a key).
// A hub calls it at start: with the wrong key it would otherwise run,
// unable to sign a single delivery.
func (s *Store) CheckEncryption(ctx context.Context) error {
	return s.CheckKeys(ctx, "database "+s.name)
}

// RotateEncryption re-seals the secrets of every endpoint (and every
// source, and the hub's) with the keyring's primary key, in one
// transaction (sqlstore.CRUD.Reseal, whose rows are locked so that a hub
// still running cannot write a value sealed with the old key meanwhile),
// and returns how many endpoints it rewrote. Afterwards only the primary
// key is needed.
//
// The old values stay in the table file as dead row versions until VACUUM
// removes them, and in the WAL until it is recycled (see the package doc):
// run VACUUM endpoints (VACUUM FULL endpoints to rewrite the file) after a
// rotation that retires a compromised key.
func (s *Store) RotateEncryption(ctx context.Context) (int, error) {
	if s.keyring == nil {
		return 0, errors.New("rotate encryption: the store has no keyring")
	}
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = s.Reseal(ctx, tx)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
