package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/store/sqlstore"
)

// The CRUD of tenants, API keys, the audit log, endpoints, sources and
// backfills is the core's (sqlstore.CRUD, embedded in Store). What is left
// here serves this package's own statements.

const (
	endpointColumns = sqlstore.EndpointColumns
	sourceColumns   = sqlstore.SourceColumns
)

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// endpointGet reads one endpoint through q.
func (s *Store) endpointGet(ctx context.Context, q querier, tenantID, id string) (*hirehook.Endpoint, error) {
	return s.EndpointGetTx(ctx, q, tenantID, id, "")
}

// setPaused is sqlstore.SetPaused for DeliveryComplete, whose time is in
// microseconds; the statements need no more of the dialect than its
// placeholders and times.
func setPaused(ctx context.Context, tx *sql.Tx, endpointID string, disabled bool, now int64) error {
	return sqlstore.SetPaused(ctx, microsDialect, tx, endpointID, disabled, fromMicros(now))
}

var microsDialect = &sqlstore.Dialect{Name: "sqlite", TimeFunc: func(t time.Time) any { return toMicros(t) }}
