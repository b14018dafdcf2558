package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// getJSON returns the answer to GET path with key as a JSON tree whose
// timestamps are time.Time, so that two stores' answers compare equal
// whatever their formatting of the same instant.
func getJSON(tb testing.TB, key, base, path string) any {
	tb.Helper()
	var v any
	if st := callAs(tb, key, base, "GET", path, nil, &v); st != 200 {
		tb.Fatalf("GET %s: status %d: %v", path, st, v)
	}
	return normTimes(v)
}

func normTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normTimes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normTimes(e)
		}
	case string:
		if len(x) >= 20 && x[4] == '-' && x[10] == 'T' {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.UTC()
			}
		}
	}
	return v
}

// hubAnswers is what the test compares between the two hubs.
func hubAnswers(tb testing.TB, base string, tenantKey string, deliveryIDs, recordIDs []string, endpointIDs []string, sourceID string, requestIDs []string) map[string]any {
	tb.Helper()
	out := map[string]any{}
	for _, p := range []string{"/v1/events?limit=1000", "/v1/deliveries?limit=1000", "/v1/endpoints?limit=1000", "/v1/api-keys", "/v1/audit-log?limit=1000", "/v1/tenants?limit=1000", "/v1/sources?limit=1000"} {
		out[p] = getJSON(tb, testKey, base, p)
	}
	out["t2 /v1/events"] = getJSON(tb, tenantKey, base, "/v1/events?limit=1000")
	out["t2 /v1/endpoints"] = getJSON(tb, tenantKey, base, "/v1/endpoints?limit=1000")
	for _, id := range deliveryIDs {
		out["/v1/deliveries/"+id] = getJSON(tb, testKey, base, "/v1/deliveries/"+id)
	}
	for _, id := range recordIDs {
		out["/v1/records/placement/"+id] = getJSON(tb, testKey, base, "/v1/records/placement/"+id)
		out["/v1/records/placement/"+id+"/events"] = getJSON(tb, testKey, base, "/v1/records/placement/"+id+"/events")
	}
	for _, id := range endpointIDs {
		out["/v1/endpoints/"+id+"/secret"] = getJSON(tb, testKey, base, "/v1/endpoints/"+id+"/secret")
		out["/v1/endpoints/"+id+"/backfills"] = getJSON(tb, testKey, base, "/v1/endpoints/"+id+"/backfills")
	}
	// The source's request log, newest first, and each request with its body.
	out["/v1/sources/"+sourceID+"/requests"] = getJSON(tb, testKey, base, "/v1/sources/"+sourceID+"/requests?limit=1000")
	for _, id := range requestIDs {
		out["/v1/sources/"+sourceID+"/requests/"+id] = getJSON(tb, testKey, base, "/v1/sources/"+sourceID+"/requests/"+id)
	}
	return out
}

// TestMigrateStoreSQLiteToPostgres copies a SQLite hub's database into
// PostgreSQL and checks through the API that the new hub answers as the old
// one did, and carries on with the delivery the old one left.
func TestMigrateStoreSQLiteToPostgresAndBack(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hirehook.db")
	// One retry, an hour later: a delivery to a receiver that is down stays
	// retrying, and 410 fails at once.
	edit := func(c *Config) { c.DB = "sqlite:" + path; c.RetrySchedule = []time.Duration{time.Hour} }
	a := startHub(t, edit)

	ok := newReceiver(t, nil)
	gone := newReceiver(t, func(int) int { return 410 })
	// The down receiver: an address nothing listens on (until later).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := l.Addr().String()
	l.Close()

	epOK := createEndpoint(t, a.URL(), ok.URL+"/hooks", "placement.*")
	epGone := createEndpoint(t, a.URL(), gone.URL, "placement.*")
	// A source (disabled: nothing polls it), with secrets and state.
	var src hirehook.Source
	if st := call(t, a.URL(), "POST", "/v1/sources", map[string]any{"kind": "bullhorn", "name": "Acme Bullhorn", "enabled": false,
		"config": map[string]any{"client_id": "acme", "client_secret": "cs-migrated", "refresh_token": "rt-migrated"}}, &src); st != 201 {
		t.Fatalf("create source: %d", st)
	}
	stateKey := hirehook.SourceStateParams{TenantID: hirehook.DefaultTenantID, SourceID: src.ID, Key: "status/JobSubmission/7", Value: "Submitted"}
	if err := a.Store.SourceStateSet(ctx, stateKey); err != nil {
		t.Fatal(err)
	}
	// A push source (Greenhouse), with its request log.
	var push hirehook.Source
	if st := call(t, a.URL(), "POST", "/v1/sources", map[string]any{"kind": "greenhouse", "name": "Acme Greenhouse", "enabled": false,
		"config": map[string]any{"signing_secret": "gh-migrated", "account": "acme"}}, &push); st != 201 {
		t.Fatalf("create push source: %d", st)
	}
	requestIDs := createInboundRequests(t, a.Store, push.ID)
	var viewer struct {
		Key string `json:"key"`
	}
	if st := call(t, a.URL(), "POST", "/v1/api-keys", map[string]any{"name": "dashboard", "scope": "viewer"}, &viewer); st != 201 {
		t.Fatalf("create key: %d", st)
	}
	if st := call(t, a.URL(), "POST", "/v1/tenants", map[string]any{"id": "acme", "name": "Acme Staffing", "retention_days": 90}, nil); st != 201 {
		t.Fatalf("create tenant: %d", st)
	}
	var acme struct {
		Key string `json:"key"`
	}
	if st := call(t, a.URL(), "POST", "/v1/api-keys", map[string]any{"name": "acme admin", "scope": "admin", "tenant_id": "acme"}, &acme); st != 201 {
		t.Fatalf("create acme key: %d", st)
	}
	var epAcme endpointCreated
	if st := callAs(t, acme.Key, a.URL(), "POST", "/v1/endpoints", map[string]any{"url": ok.URL + "/acme", "event_types": []string{"*"},
		// A route, to carry across: it changes nothing these events show.
		"filter": `.type != "job.posted"`, "redact": []string{".data.custom_fields", "personal_data"}}, &epAcme); st != 201 {
		t.Fatalf("create acme endpoint: %d", st)
	}

	// Event 1: delivered to ok, failed at gone (which is disabled).
	ev1 := sendEvent(t, a.URL(), placement("pl_m_1"))
	waitFor(t, 10*time.Second, "event 1's deliveries", func() bool {
		var e eventView
		call(t, a.URL(), "GET", "/v1/events/"+ev1.ID, nil, &e)
		done := 0
		for _, d := range e.DeliveryList {
			if d.State == hirehook.DeliveryDelivered || d.State == hirehook.DeliveryFailed {
				done++
			}
		}
		return done == 2
	})
	// Disabling gone emitted an endpoint.disabled event (the fifth event).
	waitFor(t, 10*time.Second, "endpoint.disabled", func() bool {
		var list struct {
			Data []json.RawMessage `json:"data"`
		}
		call(t, a.URL(), "GET", "/v1/events?type=endpoint.disabled", nil, &list)
		return len(list.Data) == 1
	})
	epDown := createEndpoint(t, a.URL(), "http://"+downAddr+"/hooks", "placement.*")
	sendEvent(t, a.URL(), placement("pl_m_2"))
	sendEvent(t, a.URL(), placement("pl_m_1")) // a second version of the record
	var acmeAcc hirehook.EventAccepted
	if st := callAs(t, acme.Key, a.URL(), "POST", "/v1/events", placement("pl_acme_1"), &acmeAcc); st != 202 {
		t.Fatalf("acme event: %d", st)
	}
	// A backfill, to carry across: its filter selects nothing, so it
	// makes no deliveries.
	var bf hirehook.Backfill
	if st := call(t, a.URL(), "POST", "/v1/endpoints/"+epOK.ID+"/backfill", map[string]any{"entities": []string{"placement"}, "filter": `.data.id == "none"`}, &bf); st != 202 {
		t.Fatalf("backfill: %d", st)
	}
	if done := waitBackfill(t, a.URL(), bf.ID); done.State != hirehook.BackfillCompleted || done.Skipped != 2 {
		t.Fatalf("backfill = %+v", done)
	}
	var deliveryIDs []string
	var downIDs []string
	waitFor(t, 10*time.Second, "every delivery to settle", func() bool {
		var list struct {
			Data []struct {
				ID         string `json:"id"`
				State      string `json:"state"`
				EndpointID string `json:"endpoint_id"`
			} `json:"data"`
		}
		call(t, a.URL(), "GET", "/v1/deliveries?limit=1000", nil, &list)
		deliveryIDs, downIDs = nil, nil
		for _, d := range list.Data {
			deliveryIDs = append(deliveryIDs, d.ID)
			if d.EndpointID == epDown.ID {
				downIDs = append(downIDs, d.ID)
				if d.State != string(hirehook.DeliveryRetrying) {
					return false
				}
			} else if d.State != string(hirehook.DeliveryDelivered) && d.State != string(hirehook.DeliveryFailed) {
				return false
			}
		}
		return len(deliveryIDs) == 6 && len(downIDs) == 2
	})
	// acme's delivery settles too before the answers are taken.
	waitFor(t, 10*time.Second, "acme's delivery to settle", func() bool {
		var list struct {
			Data []struct {
				State string `json:"state"`
			} `json:"data"`
		}
		callAs(t, acme.Key, a.URL(), "GET", "/v1/deliveries?limit=1000", nil, &list)
		return len(list.Data) == 1 && list.Data[0].State == string(hirehook.DeliveryDelivered)
	})
	acmeDeliveries := getJSON(t, acme.Key, a.URL(), "/v1/deliveries?limit=1000")
	records := []string{"pl_m_1", "pl_m_2"}
	endpoints := []string{epOK.ID, epGone.ID, epDown.ID}
	want := hubAnswers(t, a.URL(), acme.Key, deliveryIDs, records, endpoints, push.ID, requestIDs)
	want["acme /v1/deliveries"] = acmeDeliveries
	wantInbound := inboundRows(t, a.Store, push.ID, requestIDs)
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// A hub killed in the middle of attempting the first down delivery
	// left it leased for an hour: the copy must make it due now.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	hour := time.Now().Add(time.Hour).UnixMicro()
	if _, err := db.Exec(`UPDATE deliveries SET state = 'delivering', lease_owner = 'dead-node', lease_expires_at = ?, next_attempt_at = NULL WHERE id = ?`, hour, downIDs[0]); err != nil {
		t.Fatal(err)
	}
	// The received request is claimed by that node too: the claim is
	// copied as it is and lapses on its own.
	if _, err := db.Exec(`UPDATE inbound_requests SET claim_owner = 'dead-node', claim_until = ? WHERE id = ?`, hour, requestIDs[2]); err != nil {
		t.Fatal(err)
	}
	wantClaims := inboundClaims(t, db, "?", requestIDs)
	db.Close()
	if wantClaims[requestIDs[1]] != (inboundClaim{BodyNull: true}) || wantClaims[requestIDs[2]] != (inboundClaim{"dead-node", hour, false}) {
		t.Fatalf("claims before the copy: %v", wantClaims)
	}

	key := seal.NewKey()
	args := []string{"migrate-store", "--from", "sqlite:" + path, "--to", dsn, "--encryption-key", key}
	var out, errOut bytes.Buffer
	if code := run(ctx, args, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("migrate-store exited %d: %s", code, errOut.String())
	}
	t.Log(out.String())
	if !strings.Contains(out.String(), "7 deliveries") || !strings.Contains(out.String(), "2 tenants") || !strings.Contains(out.String(), "3 inbound_requests") {
		t.Fatalf("migrate-store output:\n%s", out.String())
	}
	// A second run refuses: the target is no longer empty, and says what
	// it holds.
	errOut.Reset()
	if code := run(ctx, args, noEnv, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "not empty") || !strings.Contains(errOut.String(), "5 events") {
		t.Fatalf("second migrate-store: exit %d: %s", code, errOut.String())
	}

	// The down receiver comes up, then the PostgreSQL hub.
	var downMu sync.Mutex
	var downGot []received
	dl, err := net.Listen("tcp", downAddr)
	if err != nil {
		t.Fatalf("reopen the down receiver's address: %v", err)
	}
	downSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		downMu.Lock()
		downGot = append(downGot, received{header: r.Header.Clone(), body: body})
		downMu.Unlock()
	})}
	go downSrv.Serve(dl)
	t.Cleanup(func() { downSrv.Close() })
	b := startPostgresHub(t, dsn, key)

	// The old keys authenticate.
	if st := callAs(t, viewer.Key, b.URL(), "GET", "/v1/events", nil, nil); st != 200 {
		t.Fatalf("the viewer key on the new hub: %d", st)
	}
	// The leased delivery is delivered at once by the new hub, signed with
	// the endpoint's secret as before.
	waitFor(t, 10*time.Second, "the new hub to deliver the leased delivery", func() bool {
		var d deliveryView
		call(t, b.URL(), "GET", "/v1/deliveries/"+downIDs[0], nil, &d)
		return d.State == hirehook.DeliveryDelivered
	})
	var d deliveryView
	call(t, b.URL(), "GET", "/v1/deliveries/"+downIDs[0], nil, &d)
	if d.Attempts != 2 || len(d.AttemptList) != 2 || d.AttemptList[0].StatusCode != 0 || d.AttemptList[1].StatusCode != 200 {
		t.Fatalf("the leased delivery on the new hub: %+v", d)
	}
	downMu.Lock()
	defer downMu.Unlock()
	if len(downGot) == 0 {
		t.Fatal("the down receiver got nothing")
	}
	if err := hirehook.Verify(downGot[0].header, downGot[0].body, time.Now(), epDown.Secret); err != nil {
		t.Fatalf("the new hub's signature: %v", err)
	}

	got := hubAnswers(t, b.URL(), acme.Key, deliveryIDs, records, endpoints, push.ID, requestIDs)
	got["acme /v1/deliveries"] = getJSON(t, acme.Key, b.URL(), "/v1/deliveries?limit=1000")
	// The leased delivery moved on; everything else is as it was.
	skipLeased := cmp.FilterPath(func(p cmp.Path) bool {
		m, ok := p.Last().(cmp.MapIndex)
		if !ok {
			return false
		}
		switch m.Key().String() {
		case "last_used_at":
			return true // the test's own requests to the new hub used the keys
		case "failing_since":
			// The down endpoint's first success on the new hub ends its
			// run of failures.
			parent, _ := p.Index(-2).Values()
			obj, _ := parent.Interface().(map[string]any)
			return obj != nil && obj["id"] == epDown.ID
		case "state", "attempts", "attempt_list", "next_attempt_at", "last_attempt_at", "last_status_code", "last_error", "last_latency_ms", "last_response_excerpt", "updated_at":
		default:
			return false
		}
		parent, _ := p.Index(-2).Values()
		if !parent.IsValid() || !parent.CanInterface() {
			return false
		}
		obj, _ := parent.Interface().(map[string]any)
		return obj != nil && obj["id"] == downIDs[0]
	}, cmp.Ignore())
	// The down delivery recovers on the PostgreSQL hub, which emits a
	// delivery.recovered event the SQLite hub never had.
	skipRecovered := cmpopts.IgnoreSliceElements(func(v any) bool {
		e, _ := v.(map[string]any)
		return e["type"] == "delivery.recovered" && e["source"] == "hirehook"
	})
	// A push source's ingest URL names the hub it is read from.
	skipIngestURL := cmp.FilterPath(func(p cmp.Path) bool {
		m, ok := p.Last().(cmp.MapIndex)
		return ok && m.Key().String() == "ingest_url"
	}, cmp.Ignore())
	if diff := cmp.Diff(want, got, skipLeased, skipRecovered, skipIngestURL); diff != "" {
		t.Fatalf("the PostgreSQL hub answers differently (-sqlite +postgres):\n%s", diff)
	}
	// (The secrets were compared above, as every endpoint's GET .../secret.)
	for _, ep := range []endpointCreated{epOK, epGone, epDown} {
		if got := secretOf(t, b.URL(), ep.ID); got != ep.Secret {
			t.Fatalf("secret of endpoint %s = %q, want the original", ep.ID, got)
		}
	}
	var sec struct {
		Secret string `json:"secret"`
	}
	if st := callAs(t, acme.Key, b.URL(), "GET", "/v1/endpoints/"+epAcme.ID+"/secret", nil, &sec); st != 200 || sec.Secret != epAcme.Secret {
		t.Fatalf("acme's endpoint secret: %d %q", st, sec.Secret)
	}
	if got, err := b.Store.SourceGet(ctx, hirehook.DefaultTenantID, src.ID); err != nil || got.Secrets["client_secret"] != "cs-migrated" || got.Secrets["refresh_token"] != "rt-migrated" {
		t.Fatalf("source after the copy: %v", err)
	}
	if v, err := b.Store.SourceStateGet(ctx, stateKey); err != nil || v != stateKey.Value {
		t.Fatalf("source state after the copy: %q, %v", v, err)
	}
	if diff := cmp.Diff(wantInbound, inboundRows(t, b.Store, push.ID, requestIDs)); diff != "" {
		t.Fatalf("inbound requests after the copy (-sqlite +postgres):\n%s", diff)
	}
	pg, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if diff := cmp.Diff(wantClaims, inboundClaims(t, pg, "$1", requestIDs)); diff != "" {
		t.Fatalf("inbound claims after the copy (-sqlite +postgres):\n%s", diff)
	}

	// And back: PostgreSQL → a new SQLite file, sealed with a generated key
	// file, answers as the PostgreSQL hub did.
	pgAnswers := hubAnswers(t, b.URL(), acme.Key, deliveryIDs, records, endpoints, push.ID, requestIDs)
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(t.TempDir(), "back.db")
	out.Reset()
	errOut.Reset()
	if code := run(ctx, []string{"migrate-store", "--from", dsn, "--from-encryption-key", key, "--to", "sqlite:" + back}, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("migrate-store back to SQLite exited %d: %s", code, errOut.String())
	}
	c := startHub(t, func(c *Config) { c.DB = "sqlite:" + back })
	backAnswers := hubAnswers(t, c.URL(), acme.Key, deliveryIDs, records, endpoints, push.ID, requestIDs)
	onlyKeyUse := cmp.FilterPath(func(p cmp.Path) bool {
		m, ok := p.Last().(cmp.MapIndex)
		return ok && m.Key().String() == "last_used_at"
	}, cmp.Ignore())
	if diff := cmp.Diff(pgAnswers, backAnswers, onlyKeyUse, skipIngestURL); diff != "" {
		t.Fatalf("the SQLite hub copied back answers differently (-postgres +sqlite):\n%s", diff)
	}
	if !strings.Contains(out.String(), "3 inbound_requests") {
		t.Fatalf("migrate-store back to SQLite output:\n%s", out.String())
	}
	if diff := cmp.Diff(wantInbound, inboundRows(t, c.Store, push.ID, requestIDs)); diff != "" {
		t.Fatalf("inbound requests copied back (-sqlite +sqlite again):\n%s", diff)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	backDB, err := sql.Open("sqlite", back)
	if err != nil {
		t.Fatal(err)
	}
	defer backDB.Close()
	if diff := cmp.Diff(wantClaims, inboundClaims(t, backDB, "?", requestIDs)); diff != "" {
		t.Fatalf("inbound claims copied back (-sqlite +sqlite again):\n%s", diff)
	}
	// The PostgreSQL import moved the log's seq past the copied rows, so
	// that a request received next lists first.
	var next, last int64
	if err := pg.QueryRow(`SELECT nextval(pg_get_serial_sequence('inbound_requests', 'seq')), (SELECT max(seq) FROM inbound_requests)`).Scan(&next, &last); err != nil || next <= last {
		t.Fatalf("inbound_requests seq after the copy: next %d, max %d, %v", next, last, err)
	}
}

// TestMigrateStoreRefuses checks the refusals that need no copy.
func TestMigrateStoreRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	var errOut bytes.Buffer
	code := run(ctx, []string{"migrate-store", "--from", "sqlite:" + filepath.Join(dir, "missing.db"), "--to", "postgres://localhost/x", "--encryption-key", seal.NewKey()}, noEnv, io.Discard, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "no database to copy") {
		t.Fatalf("missing source: exit %d: %s", code, errOut.String())
	}
	errOut.Reset()
	code = run(ctx, []string{"migrate-store", "--from", "sqlite:" + filepath.Join(dir, "a.db"), "--to", "postgres://localhost/x"}, noEnv, io.Discard, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "encryption-key") {
		t.Fatalf("no target key: exit %d: %s", code, errOut.String())
	}
}

// createInboundRequests logs three requests of source sourceID: one
// processed, with a body and the events it became; one rejected, without a
// body; and one received, due in an hour (so that no hub takes it during
// the test). It returns their ids, oldest first.
func createInboundRequests(tb testing.TB, st hirehook.Store, sourceID string) []string {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	due := now.Add(time.Hour)
	reqs := []*hirehook.InboundRequest{
		{ID: "inr_m_1", Status: hirehook.InboundReceived, DedupeKey: "evt-1001", ReceivedAt: now.Add(-3 * time.Minute),
			Header: http.Header{"Content-Type": {"application/json"}, "X-Signature": {"sha256=abc"}}, Body: []byte(`{"id":1001,"event":"placement.created"}`), DueAt: &due},
		{ID: "inr_m_2", Status: hirehook.InboundRejected, ReceivedAt: now.Add(-2 * time.Minute),
			Header: http.Header{"X-Signature": {"sha256=bad"}}, BodySize: 42, Error: "The signature does not match the body."},
		{ID: "inr_m_3", Status: hirehook.InboundReceived, DedupeKey: "sha256:00ff", ReceivedAt: now.Add(-time.Minute),
			Header: http.Header{"Content-Type": {"text/xml"}}, Body: []byte("<event id=\"1002\"/>"), DueAt: &due},
	}
	for _, r := range reqs {
		r.TenantID, r.SourceID = hirehook.DefaultTenantID, sourceID
		if r.Body != nil {
			r.BodySize = len(r.Body)
		}
		if err := st.InboundCreate(ctx, r); err != nil {
			tb.Fatalf("create inbound request %s: %v", r.ID, err)
		}
	}
	if err := st.InboundUpdate(ctx, hirehook.InboundUpdateParams{TenantID: hirehook.DefaultTenantID, ID: "inr_m_1", Status: hirehook.InboundProcessed,
		VendorEvent: "placement.created", EventIDs: []string{"evt_m_a", "evt_m_b"}, Now: now.Add(-150 * time.Second)}); err != nil {
		tb.Fatal(err)
	}
	return []string{"inr_m_1", "inr_m_2", "inr_m_3"}
}

// inboundRows reads source sourceID's request log from st: the list
// (newest first, without bodies) and each request by id (with its body).
func inboundRows(tb testing.TB, st hirehook.Store, sourceID string, ids []string) map[string]any {
	tb.Helper()
	ctx := context.Background()
	list, err := st.InboundList(ctx, hirehook.InboundFilter{TenantID: hirehook.DefaultTenantID, SourceID: sourceID, Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]any{"list": list}
	for _, id := range ids {
		r, err := st.InboundGet(ctx, hirehook.DefaultTenantID, sourceID, id)
		if err != nil {
			tb.Fatal(err)
		}
		out[id] = r
	}
	// The shape the test set up, so that the comparisons compare something.
	if len(list) != 3 || list[0].ID != ids[2] || list[2].ID != ids[0] {
		tb.Fatalf("inbound list: %d requests, not newest first", len(list))
	}
	p, rj, rc := out[ids[0]].(*hirehook.InboundRequest), out[ids[1]].(*hirehook.InboundRequest), out[ids[2]].(*hirehook.InboundRequest)
	if p.Status != hirehook.InboundProcessed || len(p.Body) == 0 || len(p.EventIDs) != 2 || p.ProcessedAt == nil ||
		rj.Status != hirehook.InboundRejected || rj.Body != nil || rj.Error == "" ||
		rc.Status != hirehook.InboundReceived || rc.DueAt == nil || len(rc.Body) == 0 {
		tb.Fatalf("inbound requests: %+v, %+v, %+v", p, rj, rc)
	}
	return out
}

// inboundClaim is what the API does not show of a request: its claim
// (owner, and until in microseconds) and whether its body is NULL.
type inboundClaim struct {
	Owner    string
	Until    int64
	BodyNull bool
}

// inboundClaims reads those of requests ids from db, where param is the
// dialect's first placeholder.
func inboundClaims(tb testing.TB, db *sql.DB, param string, ids []string) map[string]inboundClaim {
	tb.Helper()
	out := map[string]inboundClaim{}
	for _, id := range ids {
		var c inboundClaim
		var until any
		if err := db.QueryRow(`SELECT claim_owner, claim_until, body IS NULL FROM inbound_requests WHERE id = `+param, id).Scan(&c.Owner, &until, &c.BodyNull); err != nil {
			tb.Fatal(err)
		}
		switch u := until.(type) {
		case int64:
			c.Until = u
		case time.Time:
			c.Until = u.UnixMicro()
		}
		out[id] = c
	}
	return out
}
