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
// its parameters, a VDBE start, reset and halt, which made most of the cost
// of a row. Statements of chunkSizes rows are prepared at Open (a statement
// compiled inside the group transaction would need a second writer
// connection): a batch of n rows takes at most one statement per size,
// plus one per multiple of the largest, the largest first.
//
// The parameters are plain ? (the driver finds them by position): a
// numbered ?N would make it read each parameter's name on every call.
// The largest chunk holds 64 × 12 parameters, far below SQLite's limit of
// 32766 host parameters.

// chunkSizes are the rows per statement prepared for each rowsInsert, in
// decreasing order, down to 1 so that any count can be made of them.
var chunkSizes = []int{64, 32, 16, 8, 4, 2, 1}

// rowsInsert is a multi-row statement: head, then chunk rows of row joined
// by commas, then tail.
type rowsInsert struct {
	width   int      // parameters per row
	queries []string // by index in chunkSizes
}

// newRowsInsert builds the queries of a rowsInsert whose rows have width
// parameters. row is what one row's VALUES holds, with width ? in it.
func newRowsInsert(head, row, tail string) *rowsInsert {
	ins := &rowsInsert{width: strings.Count(row, "?")}
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
		ins.queries = append(ins.queries, b.String())
	}
	return ins
}

// exec writes n rows with ins, in as few statements as chunkSizes allow,
// and returns how many rows they changed. appendRow appends the width
// arguments of row i to args.
func (s *Store) execRows(ctx context.Context, tx *sql.Tx, ins *rowsInsert, n int, appendRow func(args []any, i int) []any) (int64, error) {
	var changed int64
	var args []any
	for i := 0; i < n; {
		c := 0
		for chunkSizes[c] > n-i {
			c++
		}
		size := chunkSizes[c]
		stmt, err := s.stmt(ctx, tx, ins.queries[c])
		if err != nil {
			return 0, err
		}
		if args == nil {
			args = make([]any, 0, ins.width*size)
		}
		args = args[:0]
		for j := i; j < i+size; j++ {
			args = appendRow(args, j)
		}
		if len(args) != ins.width*size {
			return 0, fmt.Errorf("rows %d to %d have %d arguments, want %d", i, i+size-1, len(args), ins.width*size)
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return 0, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		changed += k
		i += size
	}
	return changed, nil
}
