package storetest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// newInbound stores a request of src received at at; a received one is due
// at due.
func newInbound(tb testing.TB, s hirehook.Store, src *hirehook.Source, status, key, body string, at time.Time, due *time.Time) *hirehook.InboundRequest {
	tb.Helper()
	r := &hirehook.InboundRequest{
		TenantID:   src.TenantID,
		ID:         hirehook.NewID("inr"),
		SourceID:   src.ID,
		ReceivedAt: at,
		Status:     status,
		DedupeKey:  key,
		Header:     http.Header{"Content-Type": {"application/json"}, "X-Delivery": {"d-" + key}},
		BodySize:   len(body),
		DueAt:      due,
	}
	if status != hirehook.InboundRejected {
		r.Body = []byte(body)
	}
	must(tb, s.InboundCreate(context.Background(), r))
	return r
}

// processInbound records a request as processed into eventIDs.
func processInbound(tb testing.TB, s hirehook.Store, r *hirehook.InboundRequest, now time.Time, eventIDs ...string) {
	tb.Helper()
	must(tb, s.InboundUpdate(context.Background(), hirehook.InboundUpdateParams{TenantID: r.TenantID, ID: r.ID,
		Status: hirehook.InboundProcessed, VendorEvent: "vendor.event", EventIDs: eventIDs, Now: now}))
}

func inboundIDs(rs []*hirehook.InboundRequest) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func at(d time.Duration) *time.Time {
	t := t0.Add(d)
	return &t
}

func testInbound(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	must(t, s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30, CreatedAt: t0, UpdatedAt: t0}))
	a := newSource(t, s, tenant, true)
	b := newSource(t, s, tenant, true)
	idle := newSource(t, s, tenant, true)
	c := newSource(t, s, "tenant_b", true)

	// Create: only into a source of the request's tenant.
	wantCode(t, s.InboundCreate(ctx, &hirehook.InboundRequest{TenantID: "tenant_b", ID: hirehook.NewID("inr"), SourceID: a.ID,
		ReceivedAt: t0, Status: hirehook.InboundReceived, DueAt: at(0)}), hirehook.ENOTFOUND)
	wantCode(t, s.InboundCreate(ctx, &hirehook.InboundRequest{TenantID: tenant, ID: hirehook.NewID("inr"), SourceID: "src_404",
		ReceivedAt: t0, Status: hirehook.InboundReceived, DueAt: at(0)}), hirehook.ENOTFOUND)
	wantCode(t, s.InboundCreate(ctx, &hirehook.InboundRequest{TenantID: tenant, ID: hirehook.NewID("inr"), SourceID: a.ID,
		ReceivedAt: t0, Status: hirehook.InboundProcessed}), hirehook.EINVALID)

	r1 := newInbound(t, s, a, hirehook.InboundReceived, "k1", `{"id":1,"name":"Zebulon"}`, t0, at(0))
	want1 := &hirehook.InboundRequest{TenantID: tenant, ID: r1.ID, SourceID: a.ID, ReceivedAt: t0, Status: hirehook.InboundReceived,
		DedupeKey: "k1", Header: http.Header{"Content-Type": {"application/json"}, "X-Delivery": {"d-k1"}},
		Body: []byte(`{"id":1,"name":"Zebulon"}`), BodySize: 25, EventIDs: []string{}, DueAt: at(0)}
	if diff := cmp.Diff(want1, r1); diff != "" {
		t.Fatalf("InboundCreate result (-want +got):\n%s", diff)
	}
	got, err := s.InboundGet(ctx, tenant, a.ID, r1.ID)
	must(t, err)
	if diff := cmp.Diff(want1, got); diff != "" {
		t.Fatalf("InboundGet (-want +got):\n%s", diff)
	}
	// The vendor's retry is a duplicate: no body, not due, naming r1.
	r2 := newInbound(t, s, a, hirehook.InboundReceived, "k1", `{"id":1,"name":"Zebulon"}`, t0.Add(time.Second), at(time.Second))
	want2 := &hirehook.InboundRequest{TenantID: tenant, ID: r2.ID, SourceID: a.ID, ReceivedAt: t0.Add(time.Second), Status: hirehook.InboundDuplicate,
		DedupeKey: "k1", DuplicateOf: r1.ID, Header: http.Header{"Content-Type": {"application/json"}, "X-Delivery": {"d-k1"}},
		BodySize: 25, EventIDs: []string{}}
	if diff := cmp.Diff(want2, r2); diff != "" {
		t.Fatalf("InboundCreate of a duplicate (-want +got):\n%s", diff)
	}
	got, err = s.InboundGet(ctx, tenant, a.ID, r2.ID)
	must(t, err)
	if diff := cmp.Diff(want2, got); diff != "" {
		t.Fatalf("InboundGet of a duplicate (-want +got):\n%s", diff)
	}
	// An id is stored once.
	dupID := *r1
	dupID.DedupeKey, dupID.Status, dupID.DuplicateOf = "k-other", hirehook.InboundReceived, ""
	wantCode(t, s.InboundCreate(ctx, &dupID), hirehook.ECONFLICT)

	rej := &hirehook.InboundRequest{TenantID: tenant, ID: hirehook.NewID("inr"), SourceID: a.ID, ReceivedAt: t0.Add(2 * time.Second),
		Status: hirehook.InboundRejected, Error: "signature mismatch", BodySize: 10}
	must(t, s.InboundCreate(ctx, rej))
	rej2 := &hirehook.InboundRequest{TenantID: tenant, ID: hirehook.NewID("inr"), SourceID: a.ID, ReceivedAt: t0.Add(3 * time.Second),
		Status: hirehook.InboundRejected, Error: "timestamp out of tolerance", BodySize: 12}
	must(t, s.InboundCreate(ctx, rej2))
	got, err = s.InboundGet(ctx, tenant, a.ID, rej2.ID)
	must(t, err)
	if got.Status != hirehook.InboundRejected || got.Error != "timestamp out of tolerance" || got.Body != nil || got.BodySize != 12 || got.DueAt != nil {
		t.Fatalf("rejected request = %+v", got)
	}
	hs := newInbound(t, s, a, hirehook.InboundHandshake, "", `{"challenge":"x"}`, t0.Add(4*time.Second), nil)
	rA := newInbound(t, s, a, hirehook.InboundReceived, "kA", `{"id":"A"}`, t0.Add(5*time.Second), at(20*time.Second))
	rB := newInbound(t, s, a, hirehook.InboundReceived, "kB", `{"id":"B"}`, t0.Add(6*time.Second), at(10*time.Second))
	// Keys are per source and per tenant.
	b1 := newInbound(t, s, b, hirehook.InboundReceived, "k1", `{"id":"b1"}`, t0.Add(7*time.Second), at(7*time.Second))
	c1 := newInbound(t, s, c, hirehook.InboundReceived, "k1", `{"id":"c1"}`, t0, at(time.Second))
	for _, r := range []*hirehook.InboundRequest{hs, rA, rB, b1, c1} {
		if r.Status == hirehook.InboundDuplicate {
			t.Fatalf("request %s stored as a duplicate of %s", r.ID, r.DuplicateOf)
		}
	}

	// Get and List stay within the tenant and the source.
	_, err = s.InboundGet(ctx, "tenant_b", a.ID, r1.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
	_, err = s.InboundGet(ctx, tenant, b.ID, r1.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
	list := func(f hirehook.InboundFilter) []string {
		t.Helper()
		rs, err := s.InboundList(ctx, f)
		must(t, err)
		for _, r := range rs {
			if r.Body != nil {
				t.Fatalf("InboundList returned the body of %s", r.ID)
			}
		}
		return inboundIDs(rs)
	}
	if diff := cmp.Diff([]string{rB.ID, rA.ID, hs.ID, rej2.ID, rej.ID, r2.ID, r1.ID}, list(hirehook.InboundFilter{TenantID: tenant, SourceID: a.ID})); diff != "" {
		t.Fatalf("InboundList (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{rB.ID, rA.ID, hs.ID}, list(hirehook.InboundFilter{TenantID: tenant, SourceID: a.ID, Limit: 3})); diff != "" {
		t.Fatalf("InboundList page 1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{rej2.ID, rej.ID, r2.ID}, list(hirehook.InboundFilter{TenantID: tenant, SourceID: a.ID, Before: hs.ID, Limit: 3})); diff != "" {
		t.Fatalf("InboundList page 2 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{rej2.ID, rej.ID}, list(hirehook.InboundFilter{TenantID: tenant, SourceID: a.ID, Status: hirehook.InboundRejected})); diff != "" {
		t.Fatalf("InboundList rejected (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{rA.ID, r1.ID}, list(hirehook.InboundFilter{TenantID: tenant, SourceID: a.ID, Status: hirehook.InboundReceived, Before: rB.ID})); diff != "" {
		t.Fatalf("InboundList received before rB (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, list(hirehook.InboundFilter{TenantID: "tenant_b", SourceID: a.ID})); diff != "" {
		t.Fatalf("InboundList of another tenant (-want +got):\n%s", diff)
	}
	rs, err := s.InboundList(ctx, hirehook.InboundFilter{TenantID: tenant, SourceID: a.ID})
	must(t, err)
	wantList1 := *want1
	wantList1.Body = nil
	if diff := cmp.Diff(&wantList1, rs[len(rs)-1]); diff != "" {
		t.Fatalf("InboundList entry (-want +got):\n%s", diff)
	}
	for _, before := range []string{"inr_404", b1.ID} {
		_, err = s.InboundList(ctx, hirehook.InboundFilter{TenantID: tenant, SourceID: a.ID, Before: before})
		wantCode(t, err, hirehook.EINVALID)
	}

	// Claims: oldest due first, with bodies, never two live claims.
	claim := func(owner string, now, until time.Duration, n int) []*hirehook.InboundRequest {
		t.Helper()
		rs, err := s.InboundClaim(ctx, hirehook.InboundClaimParams{Owner: owner, Now: t0.Add(now), Until: t0.Add(until), Limit: n})
		must(t, err)
		return rs
	}
	claimed := claim("node-1", time.Minute, 2*time.Minute, 2)
	if diff := cmp.Diff([]string{r1.ID, c1.ID}, inboundIDs(claimed)); diff != "" {
		t.Fatalf("node-1 claim (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want1, claimed[0]); diff != "" {
		t.Fatalf("claimed request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{b1.ID, rB.ID, rA.ID}, inboundIDs(claim("node-2", time.Minute, time.Hour, 10))); diff != "" {
		t.Fatalf("node-2 claim (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, inboundIDs(claim("node-2", time.Minute, time.Hour, 10))); diff != "" {
		t.Fatalf("node-2 claim again (-want +got):\n%s", diff)
	}
	// node-1's claims run out at 2m; node-3 takes them then.
	if diff := cmp.Diff([]string{}, inboundIDs(claim("node-3", 2*time.Minute-time.Microsecond, time.Hour, 10))); diff != "" {
		t.Fatalf("node-3 claim before expiry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{r1.ID, c1.ID}, inboundIDs(claim("node-3", 2*time.Minute, time.Hour, 10))); diff != "" {
		t.Fatalf("node-3 claim after expiry (-want +got):\n%s", diff)
	}

	// Updates.
	update := func(p hirehook.InboundUpdateParams) error {
		if p.TenantID == "" {
			p.TenantID = tenant
		}
		return s.InboundUpdate(ctx, p)
	}
	wantCode(t, update(hirehook.InboundUpdateParams{ID: r1.ID, Status: hirehook.InboundDuplicate, Now: t0}), hirehook.EINVALID)
	wantCode(t, update(hirehook.InboundUpdateParams{ID: r1.ID, Status: hirehook.InboundRejected, Now: t0}), hirehook.EINVALID)
	wantCode(t, update(hirehook.InboundUpdateParams{ID: r1.ID, Status: hirehook.InboundReceived, Now: t0}), hirehook.EINVALID)
	wantCode(t, update(hirehook.InboundUpdateParams{ID: "inr_404", Status: hirehook.InboundProcessed, Now: t0}), hirehook.ENOTFOUND)
	wantCode(t, update(hirehook.InboundUpdateParams{TenantID: "tenant_b", ID: r1.ID, Status: hirehook.InboundProcessed, Now: t0}), hirehook.ENOTFOUND)

	must(t, update(hirehook.InboundUpdateParams{ID: r1.ID, Status: hirehook.InboundProcessed, VendorEvent: "candidate.created",
		EventIDs: []string{"evt_a", "evt_b"}, Now: t0.Add(3 * time.Minute)}))
	want1.Status, want1.VendorEvent, want1.EventIDs, want1.Attempts = hirehook.InboundProcessed, "candidate.created", []string{"evt_a", "evt_b"}, 1
	want1.ProcessedAt, want1.DueAt = at(3*time.Minute), nil
	got, err = s.InboundGet(ctx, tenant, a.ID, r1.ID)
	must(t, err)
	if diff := cmp.Diff(want1, got); diff != "" {
		t.Fatalf("InboundGet after update (-want +got):\n%s", diff)
	}
	must(t, update(hirehook.InboundUpdateParams{TenantID: "tenant_b", ID: c1.ID, Status: hirehook.InboundProcessed,
		EventIDs: []string{"evt_c"}, Now: t0.Add(3 * time.Minute)}))
	// A retry: received again, due later, the error kept for the operator.
	must(t, update(hirehook.InboundUpdateParams{ID: b1.ID, Status: hirehook.InboundReceived, VendorEvent: "application.created",
		Error: "hydration failed: 503", DueAt: at(10 * time.Minute), Now: t0.Add(3 * time.Minute)}))
	got, err = s.InboundGet(ctx, tenant, b.ID, b1.ID)
	must(t, err)
	if got.Status != hirehook.InboundReceived || got.Attempts != 1 || got.Error != "hydration failed: 503" || got.ProcessedAt != nil ||
		got.DueAt == nil || !got.DueAt.Equal(t0.Add(10*time.Minute)) || got.VendorEvent != "application.created" {
		t.Fatalf("request after a retry = %+v", got)
	}
	// The update released node-2's claim on b1; it is due at 10m.
	if diff := cmp.Diff([]string{}, inboundIDs(claim("node-1", 10*time.Minute-time.Microsecond, time.Hour, 10))); diff != "" {
		t.Fatalf("claim before the retry is due (-want +got):\n%s", diff)
	}
	claimed = claim("node-1", 10*time.Minute, time.Hour, 10)
	if diff := cmp.Diff([]string{b1.ID}, inboundIDs(claimed)); diff != "" {
		t.Fatalf("claim of the retry (-want +got):\n%s", diff)
	}
	if string(claimed[0].Body) != `{"id":"b1"}` || claimed[0].Attempts != 1 {
		t.Fatalf("claimed retry = %+v", claimed[0])
	}
	// An empty vendor event keeps the one known.
	must(t, update(hirehook.InboundUpdateParams{ID: b1.ID, Status: hirehook.InboundProcessed, EventIDs: []string{"evt_d"}, Now: t0.Add(11 * time.Minute)}))
	got, err = s.InboundGet(ctx, tenant, b.ID, b1.ID)
	must(t, err)
	if got.Status != hirehook.InboundProcessed || got.Attempts != 2 || got.Error != "" || got.VendorEvent != "application.created" ||
		got.ProcessedAt == nil || !got.ProcessedAt.Equal(t0.Add(11*time.Minute)) || got.DueAt != nil || !slices.Equal(got.EventIDs, []string{"evt_d"}) {
		t.Fatalf("request after processing = %+v", got)
	}
	must(t, update(hirehook.InboundUpdateParams{ID: rB.ID, Status: hirehook.InboundUnsupported, VendorEvent: "candidate.merged",
		Error: "no mapping for candidate.merged", Now: t0.Add(4 * time.Minute)}))
	must(t, update(hirehook.InboundUpdateParams{ID: rA.ID, Status: hirehook.InboundFailed, Error: "body is not JSON", Now: t0.Add(4 * time.Minute)}))
	got, err = s.InboundGet(ctx, tenant, a.ID, rB.ID)
	must(t, err)
	if got.Status != hirehook.InboundUnsupported || got.Error != "no mapping for candidate.merged" || got.Attempts != 1 || !slices.Equal(got.EventIDs, []string{}) {
		t.Fatalf("unsupported request = %+v", got)
	}
	if diff := cmp.Diff([]string{}, inboundIDs(claim("node-1", time.Hour, 2*time.Hour, 10))); diff != "" {
		t.Fatalf("claim with nothing received (-want +got):\n%s", diff)
	}

	// Reprocess: the final requests received in [From, To).
	_, err = s.InboundReprocess(ctx, hirehook.InboundReprocessParams{TenantID: tenant, SourceID: "src_404", From: t0, To: t0.Add(time.Hour), Now: t0})
	wantCode(t, err, hirehook.ENOTFOUND)
	_, err = s.InboundReprocess(ctx, hirehook.InboundReprocessParams{TenantID: "tenant_b", SourceID: a.ID, From: t0, To: t0.Add(time.Hour), Now: t0})
	wantCode(t, err, hirehook.ENOTFOUND)
	n, err := s.InboundReprocess(ctx, hirehook.InboundReprocessParams{TenantID: tenant, SourceID: a.ID, From: t0, To: t0.Add(6 * time.Second), Now: t0.Add(20 * time.Minute)})
	must(t, err)
	if n != 2 { // r1 (processed) and rA (failed); rB at 6s is outside
		t.Fatalf("InboundReprocess = %d, want 2", n)
	}
	got, err = s.InboundGet(ctx, tenant, a.ID, r1.ID)
	must(t, err)
	want1.Status, want1.DueAt = hirehook.InboundReceived, at(20*time.Minute)
	if diff := cmp.Diff(want1, got); diff != "" {
		t.Fatalf("InboundGet after reprocess (-want +got):\n%s", diff)
	}
	claimed = claim("node-2", 20*time.Minute, time.Hour, 10)
	ids := inboundIDs(claimed)
	slices.Sort(ids)
	wantIDs := []string{r1.ID, rA.ID}
	slices.Sort(wantIDs)
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Fatalf("claim after reprocess (-want +got):\n%s", diff)
	}
	processInbound(t, s, r1, t0.Add(21*time.Minute), "evt_a", "evt_b")
	must(t, update(hirehook.InboundUpdateParams{ID: rA.ID, Status: hirehook.InboundFailed, Error: "body is not JSON", Now: t0.Add(21 * time.Minute)}))
	n, err = s.InboundReprocess(ctx, hirehook.InboundReprocessParams{TenantID: tenant, SourceID: idle.ID, From: t0, To: t0.Add(time.Hour), Now: t0})
	must(t, err)
	if n != 0 {
		t.Fatalf("InboundReprocess of an idle source = %d", n)
	}

	// Stats, per source, leaving out the idle one.
	stats, err := s.InboundStats(ctx, tenant)
	must(t, err)
	wantStats := map[string]*hirehook.InboundStats{
		a.ID: {
			ByStatus: map[string]int64{hirehook.InboundProcessed: 1, hirehook.InboundDuplicate: 1, hirehook.InboundRejected: 2,
				hirehook.InboundHandshake: 1, hirehook.InboundFailed: 1, hirehook.InboundUnsupported: 1},
			Events:          2,
			LastReceivedAt:  at(6 * time.Second),
			LastVerifiedAt:  at(6 * time.Second),
			LastHandshakeAt: at(4 * time.Second),
			LastRejectedAt:  at(3 * time.Second),
			LastRejection:   "timestamp out of tolerance",
		},
		b.ID: {
			ByStatus:       map[string]int64{hirehook.InboundProcessed: 1},
			Events:         1,
			LastReceivedAt: at(7 * time.Second),
			LastVerifiedAt: at(7 * time.Second),
		},
	}
	if diff := cmp.Diff(wantStats, stats); diff != "" {
		t.Fatalf("InboundStats (-want +got):\n%s", diff)
	}
	stats, err = s.InboundStats(ctx, "tenant_b")
	must(t, err)
	wantStats = map[string]*hirehook.InboundStats{c.ID: {ByStatus: map[string]int64{hirehook.InboundProcessed: 1}, Events: 1,
		LastReceivedAt: at(0), LastVerifiedAt: at(0)}}
	if diff := cmp.Diff(wantStats, stats); diff != "" {
		t.Fatalf("InboundStats of tenant_b (-want +got):\n%s", diff)
	}
	stats, err = s.InboundStats(ctx, "tenant_404")
	must(t, err)
	if len(stats) != 0 {
		t.Fatalf("InboundStats of an unknown tenant = %v", stats)
	}

	// Deleting a source deletes its log; deleting a tenant deletes all of
	// its sources' logs.
	must(t, s.SourceDelete(ctx, tenant, a.ID))
	for _, r := range []*hirehook.InboundRequest{r1, r2, rej, hs, rA} {
		_, err = s.InboundGet(ctx, tenant, a.ID, r.ID)
		wantCode(t, err, hirehook.ENOTFOUND)
	}
	if _, err := s.InboundGet(ctx, tenant, b.ID, b1.ID); err != nil {
		t.Fatalf("another source's request after SourceDelete: %v", err)
	}
	stats, err = s.InboundStats(ctx, tenant)
	must(t, err)
	if len(stats) != 1 || stats[b.ID] == nil {
		t.Fatalf("InboundStats after SourceDelete = %v", stats)
	}
	must(t, s.TenantDelete(ctx, "tenant_b"))
	_, err = s.InboundGet(ctx, "tenant_b", c.ID, c1.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
	if _, err := s.InboundGet(ctx, tenant, b.ID, b1.ID); err != nil {
		t.Fatalf("another tenant's request after TenantDelete: %v", err)
	}
	if got := claim("node-9", 24*time.Hour, 25*time.Hour, 10); len(got) != 0 {
		t.Fatalf("claimed %d requests after the deletes", len(got))
	}
}

// testInboundClaimConcurrent races creates of one dedupe key, and claims of
// two nodes.
func testInboundClaimConcurrent(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	src := newSource(t, s, tenant, true)

	const racers = 8
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for range racers {
		wg.Go(func() {
			r := &hirehook.InboundRequest{TenantID: tenant, ID: hirehook.NewID("inr"), SourceID: src.ID, ReceivedAt: t0,
				Status: hirehook.InboundReceived, DedupeKey: "sha256:same", Body: []byte(`{}`), BodySize: 2, DueAt: at(0)}
			errs <- s.InboundCreate(ctx, r)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	all, err := s.InboundList(ctx, hirehook.InboundFilter{TenantID: tenant, SourceID: src.ID})
	must(t, err)
	if len(all) != racers {
		t.Fatalf("%d requests stored, want %d", len(all), racers)
	}
	var first string
	for _, r := range all {
		if r.Status == hirehook.InboundReceived {
			if first != "" {
				t.Fatalf("two received requests with one key: %s and %s", first, r.ID)
			}
			first = r.ID
		}
	}
	if first == "" {
		t.Fatal("no received request")
	}
	for _, r := range all {
		if r.ID != first && (r.Status != hirehook.InboundDuplicate || r.DuplicateOf != first || r.DueAt != nil) {
			t.Fatalf("request %s: status %s, duplicate of %q, due %v; want a duplicate of %s", r.ID, r.Status, r.DuplicateOf, r.DueAt, first)
		}
	}

	const distinct = 60
	for i := range distinct {
		newInbound(t, s, src, hirehook.InboundReceived, fmt.Sprintf("key-%d", i), `{}`, t0.Add(time.Duration(i)*time.Millisecond), at(0))
	}
	// A list without a limit gives 50.
	page, err := s.InboundList(ctx, hirehook.InboundFilter{TenantID: tenant, SourceID: src.ID})
	must(t, err)
	if len(page) != 50 {
		t.Fatalf("InboundList without a limit = %d requests, want 50", len(page))
	}

	var mu sync.Mutex
	seen := map[string]string{}
	errs = make(chan error, 2)
	for _, owner := range []string{"node-1", "node-2"} {
		wg.Go(func() {
			for {
				rs, err := s.InboundClaim(ctx, hirehook.InboundClaimParams{Owner: owner, Now: t0.Add(time.Minute), Until: t0.Add(time.Hour), Limit: 3})
				if err != nil {
					errs <- err
					return
				}
				if len(rs) == 0 {
					errs <- nil
					return
				}
				mu.Lock()
				for _, r := range rs {
					if prev, ok := seen[r.ID]; ok {
						mu.Unlock()
						errs <- fmt.Errorf("request %s claimed by %s and %s", r.ID, prev, owner)
						return
					}
					seen[r.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	if len(seen) != distinct+1 {
		t.Fatalf("claimed %d requests, want %d", len(seen), distinct+1)
	}
}

// testInboundDedupeHeld: the dedupe key is what makes a replayed vendor
// request a duplicate (Lever's token, Greenhouse's body digest), so a
// request holds its key in every state it can reach, received, processed,
// unsupported, failed, due again, reprocessed, for as long as the request
// log keeps it (retention, a day at least, far beyond any vendor's
// 5-minute timestamp window): only its purge frees the key. Duplicates and
// rejections never hold one.
func testInboundDedupeHeld(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	src := newSource(t, s, tenant, true)
	days := hirehook.DefaultRetentionDays
	wantDup := func(key string, of *hirehook.InboundRequest, at time.Time) {
		t.Helper()
		r := newInbound(t, s, src, hirehook.InboundReceived, key, `{"replay":true}`, at, &at)
		if r.Status != hirehook.InboundDuplicate || r.DuplicateOf != of.ID || r.Body != nil {
			t.Fatalf("key %s at %v: stored %s (duplicate of %q), want a duplicate of %s", key, at, r.Status, r.DuplicateOf, of.ID)
		}
	}
	update := func(r *hirehook.InboundRequest, status string, due *time.Time) {
		t.Helper()
		must(t, s.InboundUpdate(ctx, hirehook.InboundUpdateParams{TenantID: r.TenantID, ID: r.ID, Status: status,
			Error: "why", DueAt: due, Now: t0.Add(time.Second)}))
	}
	held := map[string]*hirehook.InboundRequest{}
	for _, st := range []string{hirehook.InboundReceived, hirehook.InboundProcessed, hirehook.InboundUnsupported, hirehook.InboundFailed, "due again"} {
		key := "token:" + st
		r := newInbound(t, s, src, hirehook.InboundReceived, key, `{"token":"`+st+`"}`, t0, at(0))
		switch st {
		case hirehook.InboundReceived:
		case "due again":
			update(r, hirehook.InboundReceived, at(time.Hour))
		default:
			update(r, st, nil)
		}
		held[key] = r
		// Within the vendor's window, and long after.
		wantDup(key, r, t0.Add(4*time.Minute))
		wantDup(key, r, t0.Add(time.Duration(days)*24*time.Hour-time.Minute))
	}
	// A rejected request (a bad signature) holds nothing: the genuine
	// request with the same key is taken.
	rej := &hirehook.InboundRequest{TenantID: tenant, ID: hirehook.NewID("inr"), SourceID: src.ID, ReceivedAt: t0,
		Status: hirehook.InboundRejected, DedupeKey: "token:rejected", Error: "signature mismatch"}
	must(t, s.InboundCreate(ctx, rej))
	if r := newInbound(t, s, src, hirehook.InboundReceived, "token:rejected", `{}`, t0.Add(time.Second), at(time.Second)); r.Status != hirehook.InboundReceived {
		t.Fatalf("a rejected request held its key: %+v", r)
	}

	// Reprocessing keeps the keys where they are.
	n, err := s.InboundReprocess(ctx, hirehook.InboundReprocessParams{TenantID: tenant, SourceID: src.ID, From: t0, To: t0.Add(time.Second), Now: t0.Add(time.Hour)})
	must(t, err)
	if n != 3 {
		t.Fatalf("InboundReprocess = %d, want the processed, unsupported and failed requests", n)
	}
	for key, r := range held {
		wantDup(key, r, t0.Add(2*time.Hour))
	}

	// A purge within retention keeps them; past it, the purged request
	// frees its key.
	_, err = s.RetentionPurge(ctx, hirehook.RetentionPurgeParams{Now: t0.Add(time.Duration(days)*24*time.Hour - time.Hour), Limit: 1000})
	must(t, err)
	wantDup("token:processed", held["token:processed"], t0.Add(time.Duration(days)*24*time.Hour-time.Minute))
	res, err := s.RetentionPurge(ctx, hirehook.RetentionPurgeParams{Now: t0.Add(time.Duration(days)*24*time.Hour + time.Hour), Limit: 1000})
	must(t, err)
	if res.InboundRequests == 0 {
		t.Fatal("RetentionPurge past retention purged no request")
	}
	if r := newInbound(t, s, src, hirehook.InboundReceived, "token:processed", `{}`, t0.Add(time.Duration(days)*24*time.Hour+2*time.Hour), at(0)); r.Status != hirehook.InboundReceived {
		t.Fatalf("a purged request still holds its key: %+v", r)
	}
}
