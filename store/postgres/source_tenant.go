package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hirehook/hirehook"
)

// SourceTenant implements hirehook.Store.
func (s *Store) SourceTenant(ctx context.Context, id string) (string, error) {
	var tenantID string
	err := s.db.QueryRowContext(ctx, `SELECT tenant_id FROM sources WHERE id = $1`, id).Scan(&tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hirehook.Errorf(hirehook.ENOTFOUND, "Source %q not found.", id)
	} else if err != nil {
		return "", fmt.Errorf("select tenant of source %s: %w", id, err)
	}
	return tenantID, nil
}
