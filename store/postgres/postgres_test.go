package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
	"github.com/hirehook/hirehook/store/storetest"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for raw looks at the tables
)

// open opens a store on dsn and closes it when tb ends.
func open(tb testing.TB, dsn string, opts postgres.Options) *postgres.Store {
	tb.Helper()
	s, err := postgres.OpenWithOptions(context.Background(), dsn, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// newStore opens a store on a fresh database of its own.
func newStore(tb testing.TB) hirehook.Store {
	tb.Helper()
	return open(tb, postgrestest.NewDatabase(tb), postgres.Options{})
}

// rawDB is a plain connection to the database at dsn, to look past the
// store.
func rawDB(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, newStore)
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	s := open(t, dsn, postgres.Options{})
	k := &hirehook.APIKey{ID: "key_1", TenantID: hirehook.DefaultTenantID, Name: "k", Scope: hirehook.ScopeOperator, Hash: "h", CreatedAt: time.Now()}
	if err := s.APIKeyCreate(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s = open(t, dsn, postgres.Options{})
	if n, err := s.APIKeyCount(ctx); err != nil || n != 1 {
		t.Fatalf("after reopen: %d keys, %v", n, err)
	}
	if ts, err := s.TenantList(ctx, hirehook.TenantFilter{}); err != nil || len(ts) != 1 {
		t.Fatalf("after reopen: %d tenants, %v; want the one default tenant", len(ts), err)
	}
}

// TestMigrateConcurrently starts several nodes on one empty database at
// once: the advisory lock lets one migrate while the others wait, and then
// they find the schema there.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	const nodes = 6
	stores := make([]*postgres.Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = postgres.Open(ctx, dsn)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	db := rawDB(t, dsn)
	var migrations, applied, tenants int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT name) FROM schema_migrations`).Scan(&migrations, &applied); err != nil {
		t.Fatal(err)
	}
	if migrations != applied || migrations == 0 {
		t.Fatalf("schema_migrations has %d rows for %d migrations", migrations, applied)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM tenants`).Scan(&tenants); err != nil || tenants != 1 {
		t.Fatalf("%d tenants (%v), want the one default tenant", tenants, err)
	}
	// Every node works on the shared schema.
	for i, s := range stores {
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	// The lock was let go: one more node opens without waiting.
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx2, dsn)
	if err != nil {
		t.Fatalf("a node after the others: %v", err)
	}
	s.Close()
}

// TestClaimAcrossNodes runs claimers on two stores (two connection pools,
// as two nodes have) against one database: SKIP LOCKED hands every
// delivery to exactly one of them.
func TestClaimAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	nodes := []*postgres.Store{open(t, dsn, postgres.Options{MaxConns: 4}), open(t, dsn, postgres.Options{MaxConns: 4})}
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: "https://example.com/h", EventTypes: []string{"*"},
		Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, CreatedAt: now, UpdatedAt: now}
	if err := nodes[0].EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	const n = 600
	var evs []*hirehook.Event
	for i := range n {
		evs = append(evs, &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", OccurredAt: now,
			Subject: hirehook.Subject{Entity: "candidate", ID: fmt.Sprint(i)}, Data: json.RawMessage(fmt.Sprintf(`{"id":"%d"}`, i))})
	}
	if _, err := nodes[1].EventIngest(ctx, hirehook.EventIngestParams{Events: evs, Now: now}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	seen := map[string]string{}
	perNode := make([]int, len(nodes))
	var wg sync.WaitGroup
	for node, s := range nodes {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("node%d/w%d", node, w)
				for {
					ds, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: owner, Now: now, LeaseUntil: now.Add(time.Minute), Limit: 5})
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						if prev, ok := seen[d.ID]; ok {
							t.Errorf("delivery %s claimed by %s and %s", d.ID, prev, owner)
						}
						if d.State != hirehook.DeliveryDelivering || len(d.Payload) == 0 {
							t.Errorf("claimed delivery %s: state %s, %d bytes of payload", d.ID, d.State, len(d.Payload))
						}
						seen[d.ID] = owner
					}
					perNode[node] += len(ds)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), n)
	}
	t.Logf("claims per node: %v", perNode)
	// The leases are recorded: nothing is due before they expire, then
	// everything is, once.
	if ds, err := nodes[0].DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "late", Now: now.Add(30 * time.Second), LeaseUntil: now.Add(time.Hour), Limit: n}); err != nil || len(ds) != 0 {
		t.Fatalf("claimed %d leased deliveries (%v)", len(ds), err)
	}
	ds, err := nodes[1].DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "rescuer", Now: now.Add(2 * time.Minute), LeaseUntil: now.Add(time.Hour), Limit: n + 1})
	if err != nil || len(ds) != n {
		t.Fatalf("rescued %d expired leases (%v), want %d", len(ds), err, n)
	}
}

// TestMergePatchRFC7396 checks jsonb_merge_patch against the examples of
// RFC 7396, Appendix A.
func TestMergePatchRFC7396(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	open(t, dsn, postgres.Options{}) // migrates
	db := rawDB(t, dsn)
	for _, c := range []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		// Beyond the RFC's table: arrays are values (nulls inside stay),
		// nested merges keep what the patch leaves out, and a patch
		// object replaces a scalar, without its nulls.
		{`{"a":1}`, `{"b":[null,{"c":null}]}`, `{"a":1,"b":[null,{"c":null}]}`},
		{`{"a":{"b":1,"c":{"d":2,"e":3}}}`, `{"a":{"c":{"d":null,"f":4}}}`, `{"a":{"b":1,"c":{"e":3,"f":4}}}`},
		{`{"a":"x"}`, `{"a":{"b":null,"c":1}}`, `{"a":{"c":1}}`},
	} {
		var got string
		if err := db.QueryRow(`SELECT jsonb_merge_patch($1::jsonb, $2::jsonb)::text`, c.target, c.patch).Scan(&got); err != nil {
			t.Fatalf("merge %s with %s: %v", c.target, c.patch, err)
		}
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(c.want), &w); err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(g, w) {
			t.Errorf("jsonb_merge_patch(%s, %s) = %s, want %s", c.target, c.patch, got, c.want)
		}
	}
}

// TestTextPostgresCannotStore: PostgreSQL refuses NUL in text and \u0000 in
// jsonb, which SQLite takes. The store answers EINVALID (by SQLSTATE) where
// the text comes from a request, and stores what a receiver answered or an
// error said whatever bytes it holds, so one odd answer never fails the
// completion of a batch.
func TestTextPostgresCannotStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: "https://example.com/h", Description: "nul\x00here",
		EventTypes: []string{"*"}, CreatedAt: now, UpdatedAt: now}
	if err := s.EndpointCreate(ctx, ep); hirehook.ErrorCode(err) != hirehook.EINVALID {
		t.Fatalf("endpoint with NUL in its description: %v, want %s", err, hirehook.EINVALID)
	}
	ep.Description = ""
	if err := s.EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	bad := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", OccurredAt: now,
		Subject: hirehook.Subject{Entity: "candidate", ID: "c1"}, Data: json.RawMessage(`{"id":"c1","note":"a\u0000b"}`)}
	_, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{bad}, Now: now})
	if hirehook.ErrorCode(err) != hirehook.EINVALID {
		t.Fatalf("event with \\u0000 in its data: %v, want %s", err, hirehook.EINVALID)
	}

	good := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("evt"), Type: "candidate.created", OccurredAt: now,
		Subject: hirehook.Subject{Entity: "candidate", ID: "c2"}, Data: json.RawMessage(`{"id":"c2"}`)}
	if _, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{good}, Now: now}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %d, %v", len(ds), err)
	}
	body := "binary\x00answer"
	n, err := s.DeliveryComplete(ctx, []hirehook.DeliveryResult{{DeliveryID: ds[0].ID, TenantID: ds[0].TenantID, LeaseOwner: "w", State: hirehook.DeliveryFailed,
		Attempt: hirehook.Attempt{StartedAt: now, StatusCode: 500, ResponseBody: body, ErrorClass: hirehook.ErrorClassOther, Error: "tls: bad name \x00\xff"}}})
	if err != nil || n != 1 {
		t.Fatalf("complete with NUL in the answer and the error: %d, %v", n, err)
	}
	_, attempts, err := s.DeliveryGet(ctx, hirehook.DefaultTenantID, ds[0].ID)
	if err != nil || len(attempts) != 1 {
		t.Fatalf("delivery get: %d attempts, %v", len(attempts), err)
	}
	if attempts[0].ResponseBody != body || strings.ContainsRune(attempts[0].Error, 0) || !strings.HasPrefix(attempts[0].Error, "tls: bad name") {
		t.Fatalf("attempt = body %q, error %q", attempts[0].ResponseBody, attempts[0].Error)
	}
}

// TestIngestAcrossNodes has two nodes ingest at once: the same events
// (a producer retrying against another node) are stored once and answered
// once as new, and events about the same entities all merge into their
// records, whatever the interleaving.
func TestIngestAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := postgrestest.NewDatabase(t)
	nodes := []*postgres.Store{open(t, dsn, postgres.Options{MaxConns: 4}), open(t, dsn, postgres.Options{MaxConns: 4})}
	now := time.Now().UTC().Truncate(time.Microsecond)
	ep := &hirehook.Endpoint{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("ep"), URL: "https://example.com/h", EventTypes: []string{"*"},
		CreatedAt: now, UpdatedAt: now}
	if err := nodes[0].EndpointCreate(ctx, ep); err != nil {
		t.Fatal(err)
	}
	const rounds, batch, subjects = 20, 10, 5
	newBatch := func(r int) []*hirehook.Event {
		var evs []*hirehook.Event
		for i := range batch {
			subject := fmt.Sprintf("c%d", (r+i)%subjects)
			evs = append(evs, &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: fmt.Sprintf("evt_%d_%d", r, i), Type: "candidate.updated",
				OccurredAt: now, Subject: hirehook.Subject{Entity: "candidate", ID: subject},
				Data: json.RawMessage(fmt.Sprintf(`{"id":%q,"f%d_%d":true}`, subject, r, i))})
		}
		return evs
	}
	var mu sync.Mutex
	fresh := map[string]int{}
	var wg sync.WaitGroup
	for n, s := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				// Both nodes send round r; node 1 in reverse order, so
				// that their record locks would cross if taken in event
				// order.
				evs := newBatch(r)
				if n == 1 {
					slices.Reverse(evs)
				}
				res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: evs, Now: now})
				if err != nil {
					t.Errorf("node %d round %d: %v", n, r, err)
					return
				}
				mu.Lock()
				for _, x := range res {
					if !x.Duplicate {
						fresh[x.EventID]++
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(fresh) != rounds*batch {
		t.Fatalf("%d events answered as new, want %d", len(fresh), rounds*batch)
	}
	for id, n := range fresh {
		if n != 1 {
			t.Fatalf("event %s answered as new %d times", id, n)
		}
	}
	ds, err := nodes[0].DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, Limit: 10000})
	if err != nil || len(ds) != rounds*batch {
		t.Fatalf("%d deliveries (%v), want one per event, %d", len(ds), err, rounds*batch)
	}
	versions := 0
	for i := range subjects {
		rec, err := nodes[1].RecordGet(ctx, hirehook.DefaultTenantID, "candidate", fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		var data map[string]any
		if err := json.Unmarshal(rec.Data, &data); err != nil {
			t.Fatal(err)
		}
		if len(data) != 1+rec.Version {
			t.Fatalf("record c%d: version %d but %d merged fields: %s", i, rec.Version, len(data)-1, rec.Data)
		}
		versions += rec.Version
	}
	if versions != rounds*batch {
		t.Fatalf("records merged %d events, want %d", versions, rounds*batch)
	}
}

// TestIngestPoisonFailsAlone sends concurrent ingest batches, one holding
// an event whose data PostgreSQL refuses (valid JSON with \u0000, which
// jsonb cannot hold; ingest's Prepare refuses it, so the test calls the
// store directly): that batch fails, and every other batch, of another
// tenant, is committed. Each EventIngest is its own transaction; callers
// are joined in one batch only by ingest's committer, which splits a
// failed batch (TestCommit_failsAlone in package ingest).
func TestIngestPoisonFailsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	event := func(tenantID, id, data string) *hirehook.Event {
		return &hirehook.Event{TenantID: tenantID, ID: id, Type: "candidate.created", OccurredAt: now,
			Subject: hirehook.Subject{Entity: "candidate", ID: "cand_" + id}, Data: json.RawMessage(data)}
	}
	const n, poisoned = 8, 3
	errs := make([]error, n)
	batches := make([][]*hirehook.Event, n)
	for i := range batches {
		batches[i] = []*hirehook.Event{event("tenant_b", fmt.Sprintf("evt_b%d", i), fmt.Sprintf(`{"id":"cand_b%d"}`, i))}
	}
	batches[poisoned] = []*hirehook.Event{event(hirehook.DefaultTenantID, "evt_a1", `{"id":"cand_a1"}`),
		event(hirehook.DefaultTenantID, "evt_poison", `{"id":"cand_p","x":"a\u0000b"}`)}
	var wg sync.WaitGroup
	for i := range batches {
		wg.Go(func() {
			_, errs[i] = s.EventIngest(ctx, hirehook.EventIngestParams{Events: batches[i], Now: now})
		})
	}
	wg.Wait()
	for i, events := range batches {
		if failed := i == poisoned; failed != (errs[i] != nil) {
			t.Errorf("batch %d answered %v, want an error: %v", i, errs[i], failed)
		}
		for _, e := range events {
			_, err := s.EventGet(ctx, e.TenantID, e.ID)
			if stored, want := err == nil, i != poisoned; stored != want {
				t.Errorf("event %s stored: %v, want %v", e.ID, stored, want)
			}
		}
	}
}

func TestCopy(t *testing.T) {
	t.Parallel()
	storetest.RunCopy(t, func(tb testing.TB, ring *seal.Keyring) storetest.CopyStore {
		return open(tb, postgrestest.NewDatabase(tb), postgres.Options{Keyring: ring})
	})
}
