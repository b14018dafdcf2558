package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/hirehook/hirehook"
)

// Endpoints' and sources' secrets are sealed at rest by the core
// (sqlstore.Sealer, see there); these name its functions for this
// package's import and export.

func (s *Store) sealSecrets(tenantID, id string, plain []byte) (string, error) {
	return s.Sealer().SealSecrets(tenantID, id, plain)
}

func (s *Store) openSecrets(tenantID, id string, stored []byte) ([]byte, error) {
	return s.Sealer().OpenSecrets(tenantID, id, stored)
}

func (s *Store) sealHeaders(tenantID, id string, plain []byte) (string, error) {
	return s.Sealer().SealHeaders(tenantID, id, plain)
}

func (s *Store) openHeaders(tenantID, id string, stored []byte) ([]byte, error) {
	return s.Sealer().OpenHeaders(tenantID, id, stored)
}

func (s *Store) sealSourceSecrets(tenantID, id string, secrets map[string]string) (string, error) {
	return s.Sealer().SealSourceSecrets(tenantID, id, secrets)
}

func (s *Store) openSourceSecrets(tenantID, id string, stored []byte) (map[string]string, error) {
	return s.Sealer().OpenSourceSecrets(tenantID, id, stored)
}

// The store seals secrets at rest with its keyring.
var _ hirehook.Encrypted = (*Store)(nil)

// CheckEncryption fails with seal.ErrUnknownKey when secrets are sealed
// with a key the keyring lacks, naming the missing key ids (never a key).
// A hub calls it at start: with the wrong key it would otherwise run,
// unable to sign a single delivery.
func (s *Store) CheckEncryption(ctx context.Context) error {
	return s.CheckKeys(ctx, s.path)
}

// RotateEncryption re-seals the secrets of every endpoint (and every
// source, and the hub's) with the keyring's primary key, in one
// transaction (sqlstore.CRUD.Reseal), and returns how many endpoints it
// rewrote. Afterwards only the primary key is needed.
func (s *Store) RotateEncryption(ctx context.Context) (int, error) {
	if s.keyring == nil {
		return 0, errors.New("rotate encryption: the store has no keyring")
	}
	// The old values must not survive in the file: SQLite leaves the bytes
	// of replaced rows in free space unless secure_delete is on, and old
	// pages in the WAL until it is checkpointed and truncated. Both are done
	// on the one writer connection; secure_delete is forced on for this
	// rotation and then set back to what it was, so the rotation does not
	// depend on how Open configured the writer.
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("rotate encryption: %w", err)
	}
	defer conn.Close()
	var secureDelete int
	if err := conn.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&secureDelete); err != nil {
		return 0, fmt.Errorf("rotate encryption: read secure_delete: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return 0, fmt.Errorf("rotate encryption: secure_delete: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA secure_delete = %d`, secureDelete))
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	n, err := s.Reseal(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	// Best effort: with readers on the file (a hub still running) the
	// checkpoint may not finish; the WAL is then truncated at a later one.
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return n, fmt.Errorf("rotate encryption: checkpoint: %w", err)
	}
	return n, nil
}
