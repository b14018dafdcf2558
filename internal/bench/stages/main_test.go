package main

import (
	"strings"
	"testing"
	"time"
)

// TestClassify: each sample goes to the first stage naming a frame of its
// stack (validation before the handler's HTTP in; the attempt row's INSERT
// apart from the row update), and the stages add up to the total.
func TestClassify(t *testing.T) {
	t.Parallel()
	traces := `File: hirehook
Type: cpu
-----------+-------------------------------------------------------
      30ms   github.com/santhosh-tekuri/jsonschema/v6.(*validator).validate
             github.com/hirehook/hirehook/catalog.(*Catalog).ValidateEvent
             github.com/hirehook/hirehook/ingest.(*Ingester).Prepare
             github.com/hirehook/hirehook/api.(*Handler).handleEventCreate
             net/http.(*conn).serve
-----------+-------------------------------------------------------
      10ms   syscall.write
             net/http.(*conn).serve
-----------+-------------------------------------------------------
      20ms   modernc.org/sqlite.(*stmt).exec
             database/sql.(*Stmt).ExecContext
             github.com/hirehook/hirehook/store/sqlite.(*Store).execRows.func1
             github.com/hirehook/hirehook/store/sqlite.(*Store).eachChunk
             github.com/hirehook/hirehook/store/sqlite.(*Store).execRows
             github.com/hirehook/hirehook/store/sqlite.(*Store).deliveryComplete
             github.com/hirehook/hirehook/store/sqlite.(*Store).tryGroup
-----------+-------------------------------------------------------
      1.5s   modernc.org/sqlite.(*stmt).query
             database/sql.(*Stmt).QueryContext
             github.com/hirehook/hirehook/store/sqlite.(*Store).queryRows.func1
             github.com/hirehook/hirehook/store/sqlite.(*Store).eachChunk
             github.com/hirehook/hirehook/store/sqlite.(*Store).queryRows
             github.com/hirehook/hirehook/store/sqlite.(*Store).deliveryComplete
             github.com/hirehook/hirehook/store/sqlite.(*Store).tryGroup
-----------+-------------------------------------------------------
      40ms   github.com/jackc/pgx/v5.(*ExtendedQueryBuilder).appendParam
             database/sql.(*Tx).QueryContext
             github.com/hirehook/hirehook/store/postgres.insertEvents
             github.com/hirehook/hirehook/store/sqlstore.write
             github.com/hirehook/hirehook/store/sqlstore.(*Ingest).EventIngest.func1
             github.com/hirehook/hirehook/store/postgres.(*Store).inTx
             github.com/hirehook/hirehook/store/sqlstore.(*Ingest).EventIngest
-----------+-------------------------------------------------------
      50ms   github.com/jackc/pgx/v5/pgconn.(*PgConn).Exec
             database/sql.(*Tx).Commit
             github.com/hirehook/hirehook/store/sqlstore.InTx
             github.com/hirehook/hirehook/store/postgres.(*Store).tryTx
             github.com/hirehook/hirehook/store/postgres.(*Store).inTx
             github.com/hirehook/hirehook/store/postgres.(*Store).DeliveryComplete
-----------+-------------------------------------------------------
      60ms   github.com/jackc/pgx/v5.(*Conn).Query
             database/sql.(*Tx).QueryRowContext
             github.com/hirehook/hirehook/store/postgres.(*Store).DeliveryComplete.func1
             github.com/hirehook/hirehook/store/postgres.(*Store).tryTx
             github.com/hirehook/hirehook/store/postgres.(*Store).inTx
             github.com/hirehook/hirehook/store/postgres.(*Store).DeliveryComplete
-----------+-------------------------------------------------------
      10ms   main.somethingElse
`
	sums, total, err := classify(strings.NewReader(traces))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]time.Duration{"other": sums[len(stages)]}
	for i, s := range stages {
		byName[s.name] = sums[i]
	}
	want := map[string]time.Duration{
		"validation against the schema":        30 * time.Millisecond,
		"HTTP in (read, route, auth, respond)": 10 * time.Millisecond,
		"attempt row":                          20 * time.Millisecond,
		"other":                                10 * time.Millisecond,
		// PostgreSQL: the statements by their functions, BEGIN and
		// COMMIT apart from them.
		"commit: event row":                           40 * time.Millisecond,
		"commit: BEGIN, COMMIT (SQLite: WAL + fsync)": 50 * time.Millisecond,
		"result commit (delivery row update)":         1560 * time.Millisecond,
	}
	for name, d := range want {
		if byName[name] != d {
			t.Errorf("%s = %v, want %v", name, byName[name], d)
		}
	}
	if total != 1720*time.Millisecond {
		t.Errorf("total = %v, want 1.72s", total)
	}
	if _, _, err := classify(strings.NewReader("nothing")); err == nil {
		t.Error("classify of no samples: no error")
	}
}
