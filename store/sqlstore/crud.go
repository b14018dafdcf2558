package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
)

// CRUD holds the rules of the stores' own records, written once for both
// dialects: tenants, API keys and the audit log (tenant.go), endpoints
// (endpoint.go), sources (source.go), record lists and backfills
// (backfill.go), and the sealing of endpoints' and sources' secrets
// (seal.go). Its methods are hirehook.Store's; a dialect package embeds the
// *CRUD that NewCRUD makes, so that they are its Store's.
//
// Reads outside a transaction go to Dialect.Reader; writes to Dialect.DB
// or through Dialect.WriteTx, whose fn may run more than once (results are
// built afresh in it).
type CRUD struct {
	d      *Dialect
	sealer Sealer
	hub    *HubSecrets
}

// NewCRUD returns the rules over d; keyring seals endpoints' and sources'
// secrets (nil keeps them in plain JSON), and hub keys the API keys.
func NewCRUD(d *Dialect, keyring *seal.Keyring, hub *HubSecrets) *CRUD {
	return &CRUD{d: d, sealer: Sealer{Keyring: keyring}, hub: hub}
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// rowQuerier reads one row outside or inside a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exec runs a write outside a transaction.
func (c *CRUD) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.d.DB.ExecContext(ctx, c.d.Rebind(q), args...)
}

// afterSeq is AfterSeq on c's dialect.
func (c *CRUD) afterSeq(ctx context.Context, table, noun, tenantID, after string) (int64, error) {
	return AfterSeq(ctx, c.d, table, noun, tenantID, after)
}

// AfterSeq returns the seq of the row with id after in table, within
// tenantID (except for tenants), for keyset paging; 0 when after is empty.
// An unknown id is an EINVALID error on the "after" field. It reads
// through Dialect.Reader.
func AfterSeq(ctx context.Context, d *Dialect, table, noun, tenantID, after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	q, args := `SELECT seq FROM `+table+` WHERE tenant_id = ? AND id = ?`, []any{tenantID, after}
	if table == "tenants" {
		q, args = `SELECT seq FROM tenants WHERE id = ?`, []any{after}
	}
	var seq int64
	err := d.Reader.QueryRowContext(ctx, d.Rebind(q), args...).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, hirehook.FieldError("after", "No %s %q to list after.", noun, after)
	} else if err != nil {
		return 0, fmt.Errorf("select %s cursor: %w", noun, err)
	}
	return seq, nil
}

// PageLimit clamps a list limit to [1, 10000], 100 by default. (The API
// allows 1000 a page and asks for one more row to learn whether a next
// page exists.)
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 10000:
		return 10000
	}
	return n
}

// scanAll reads every row of rows with scan, closing rows; the list is
// empty, not nil, without rows.
func scanAll[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
