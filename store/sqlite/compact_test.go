package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompactJSONIsSQLiteJSON: compactJSON, which replaced json(?) on a
// record's data, returns what SQLite's json() returns for valid JSON, byte
// for byte, and refuses what SQLite's JSON functions refuse (nesting past
// their depth).
func TestCompactJSONIsSQLiteJSON(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "json.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	sqliteJSON := func(data string) (string, error) {
		var out string
		err := db.QueryRowContext(ctx, `SELECT json(?)`, data).Scan(&out)
		return out, err
	}
	deep := func(n int) string { return `{"x":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}` }
	inputs := []string{
		`{}`, `[]`, `null`, `0`, `-0.5e+10`, `"a"`, `true`,
		`{"id":"pl_1","status":"confirmed","pay_rate":{"amount":42.5,"currency":"USD"}}`,
		" { \"id\" : \"pl 1\" ,\n\t\"tags\" : [ 1 , 2.0 , -3e2 , true , false , null ] ,\r\n \"s\":\"a b\\t\\\"c\\\" \\\\ d\" } ",
		`{"esc":"\u00e9\u2028\ud83d\ude00\/\b\f\n\r\t","html":"<a href='x'>&amp;</a>","uni":"é – 😀"}`,
		`{"a":"\\","b":"\\\"","c":" \" [ { "}`,
		"[\n  {\"k\": [ [ ], { } ] },\n  \"  spaced  \"\n]",
		`{"big":123456789012345678901234567890,"neg":-0,"exp":1E400,"frac":0.000001}`,
		`{"dup":1,"dup":2}`,
		deep(jsonMaxDepth), " " + deep(jsonMaxDepth) + " ",
		`"` + strings.Repeat("[{", 600) + `"`, // brackets inside a string are not nesting
	}
	for _, in := range inputs {
		if !json.Valid([]byte(in)) {
			t.Fatalf("test input is not JSON: %.60q", in)
		}
		want, err := sqliteJSON(in)
		if err != nil {
			t.Fatalf("json(%.60q): %v", in, err)
		}
		got, err := compactJSON([]byte(in))
		if err != nil || got != want {
			t.Errorf("compactJSON(%.60q) = %.60q, %v; SQLite's json() = %.60q", in, got, err, want)
		}
	}
	for _, in := range []string{deep(jsonMaxDepth + 1), " " + deep(jsonMaxDepth+1)} {
		if _, err := sqliteJSON(in); err == nil {
			t.Fatalf("SQLite's json() took %d levels of nesting: jsonMaxDepth is wrong", jsonMaxDepth+1)
		}
		if got, err := compactJSON([]byte(in)); err == nil {
			t.Errorf("compactJSON took %d levels of nesting (%.40q), which SQLite refuses", jsonMaxDepth+1, got)
		}
	}
}
