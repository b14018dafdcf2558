package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletePlans holds each chunk's completion to one seek of a
// delivery by id per result, however many deliveries the table holds.
func TestCompletePlans(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for c, n := range chunkSizes {
		args := make([]any, n*qCompleteDeliveries.width)
		rows, err := s.reader.Query("EXPLAIN QUERY PLAN "+qCompleteDeliveries.queries[c], args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		t.Logf("%d: %s", n, p)
		if !strings.Contains(p, "SEARCH deliveries USING INDEX sqlite_autoindex_deliveries_1 (id=?)") || strings.Contains(p, "SCAN deliveries") {
			t.Errorf("plan of the completion of %d: %s", n, p)
		}
	}
}
