package sqlstore

import (
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	q := `UPDATE t SET a = ?, b = 'x' WHERE c = ? AND d = ?`
	if got := (&Dialect{}).Rebind(q); got != q {
		t.Errorf("SQLite Rebind = %q, want the query unchanged", got)
	}
	pg := &Dialect{Numbered: true}
	want := `UPDATE t SET a = $1, b = 'x' WHERE c = $2 AND d = $3`
	for range 2 { // the second answer comes from the cache
		if got := pg.Rebind(q); got != want {
			t.Errorf("PostgreSQL Rebind = %q, want %q", got, want)
		}
	}
}

func TestTimeScansEitherDialect(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 11, 27, 9, 30, 0, 123456000, time.UTC)
	local := at.In(time.FixedZone("x", 3600))
	for _, src := range []any{at.UnixMicro(), local} {
		var got Time
		if err := got.Scan(src); err != nil {
			t.Fatalf("Scan(%T): %v", src, err)
		}
		if !got.Time.Equal(at) || got.Time.Location() != time.UTC {
			t.Errorf("Scan(%T) = %v, want %v in UTC", src, got.Time, at)
		}
	}
	var n NullTime
	if err := n.Scan(nil); err != nil || n.Time != nil {
		t.Errorf("NullTime.Scan(nil) = %v, %v; want nil", n.Time, err)
	}
	var tt Time
	if err := tt.Scan(nil); err == nil {
		t.Error("Time.Scan(nil) succeeded, want an error (the column is NOT NULL)")
	}
	if err := n.Scan("2024-11-27"); err == nil {
		t.Error("NullTime.Scan(string) succeeded, want an error")
	}
}
