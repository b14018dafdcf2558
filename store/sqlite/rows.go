package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// A batch's events, records and deliveries are written by multi-row
// statements (INSERT … VALUES (…), (…), …), not a statement per row: in
// process a statement costs no round trip, but each one still pays
// database/sql's and the driver's call, the argument conversion, a bind of
// its parameters, a VDBE start, reset and halt: a large part of the cost
// of a row (BenchmarkEventIngest, batch=64/fresh: 297k instructions an
// event with a statement per row, 194k with these). Statements of chunkSizes rows are prepared at Open (a statement
// compiled inside the group transaction would need a second writer
// connection): a batch of n rows takes at most one statement per size,
// plus one per multiple of the largest, the largest first.
//
// The parameters are plain ? (the driver finds them by position): a
// numbered ?N would make it read each parameter's name on every call.
// The largest chunk holds 64 × 12 parameters, far below SQLite's limit of
// 32766 host parameters.

// chunkSizes are the rows per statement prepared for each rowsStmt, in
// decreasing order, down to 1 so that any count can be made of them.
var chunkSizes = []int{64, 32, 16, 8, 4, 2, 1}

// rowsStmt is a multi-row statement: head, then chunk rows of row joined
// by commas, then tail (an INSERT, or a query over a VALUES list).
type rowsStmt struct {
	width   int      // parameters per row
	queries []string // by index in chunkSizes
}

// newRowsStmt builds the queries of a rowsStmt whose rows have width
// parameters. row is what one row's VALUES holds, with width ? in it.
func newRowsStmt(head, row, tail string) *rowsStmt {
	rs := &rowsStmt{width: strings.Count(row, "?")}
	for _, n := range chunkSizes {
		var b strings.Builder
		b.Grow(len(head) + n*(len(row)+2) + len(tail))
		b.WriteString(head)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
		}
		b.WriteString(tail)
		rs.queries = append(rs.queries, b.String())
	}
	return rs
}

// execRows writes n rows with rs, in as few statements as chunkSizes
// allow, and returns how many rows they changed. appendRow appends the
// width arguments of row i to args.
func (s *Store) execRows(ctx context.Context, tx *sql.Tx, rs *rowsStmt, n int, appendRow func(args []any, i int) []any) (int64, error) {
	var changed int64
	err := s.eachChunk(ctx, tx, rs, n, appendRow, func(stmt *sql.Stmt, args []any) error {
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		changed += k
		return err
	})
	return changed, err
}

// queryRows runs the query rs over n rows, in as few statements as
// chunkSizes allow, and calls scan for each row of their results.
func (s *Store) queryRows(ctx context.Context, tx *sql.Tx, rs *rowsStmt, n int, appendRow func(args []any, i int) []any, scan func(*sql.Rows) error) error {
	return s.eachChunk(ctx, tx, rs, n, appendRow, func(stmt *sql.Stmt, args []any) error {
		rows, err := stmt.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// eachChunk splits n rows into chunks of chunkSizes, the largest first,
// and calls run with each chunk's statement and arguments.
func (s *Store) eachChunk(ctx context.Context, tx *sql.Tx, rs *rowsStmt, n int, appendRow func(args []any, i int) []any, run func(*sql.Stmt, []any) error) error {
	var args []any
	for i := 0; i < n; {
		c := 0
		for chunkSizes[c] > n-i {
			c++
		}
		size := chunkSizes[c]
		stmt, err := s.stmt(ctx, tx, rs.queries[c])
		if err != nil {
			return err
		}
		if args == nil {
			args = make([]any, 0, rs.width*size)
		}
		args = args[:0]
		for j := i; j < i+size; j++ {
			args = appendRow(args, j)
		}
		if len(args) != rs.width*size {
			return fmt.Errorf("rows %d to %d have %d arguments, want %d", i, i+size-1, len(args), rs.width*size)
		}
		if err := run(stmt, args); err != nil {
			return err
		}
		i += size
	}
	return nil
}
