package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// statsByEndpoint calls DeliveryStats and indexes the answer, checking
// that it lists exactly wantOrder, in that order.
func statsByEndpoint(tb testing.TB, s hirehook.Store, p hirehook.DeliveryStatsParams, wantOrder ...string) map[string]*hirehook.DeliveryStats {
	tb.Helper()
	list, err := s.DeliveryStats(context.Background(), p)
	must(tb, err)
	var got []string
	m := map[string]*hirehook.DeliveryStats{}
	for _, st := range list {
		got = append(got, st.EndpointID)
		m[st.EndpointID] = st
	}
	if diff := cmp.Diff(wantOrder, got); diff != "" {
		tb.Fatalf("DeliveryStats(%+v) endpoints (-want +got):\n%s", p, diff)
	}
	return m
}

// deliveriesByEvent maps event id → the delivery of that event to endpointID.
func deliveriesByEvent(ds []*hirehook.Delivery, endpointID string) map[string]*hirehook.Delivery {
	m := map[string]*hirehook.Delivery{}
	for _, d := range ds {
		if d.EndpointID == endpointID {
			m[d.EventID] = d
		}
	}
	return m
}

func result(d *hirehook.Delivery, owner string, at time.Time, dur time.Duration, status int) hirehook.DeliveryResult {
	r := hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: owner, State: hirehook.DeliveryDelivered,
		Attempt: hirehook.Attempt{StartedAt: at, Duration: dur, StatusCode: status}}
	if status < 200 || status > 299 {
		r.State, r.NextAttemptAt = hirehook.DeliveryRetrying, at.Add(time.Hour)
		r.Attempt.ErrorClass = hirehook.ErrorClassStatus
	}
	return r
}

func testDeliveryStats(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	must(t, s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30, CreatedAt: t0, UpdatedAt: t0}))
	ep1 := newEndpoint(t, s, tenant, "*")
	ep2 := newEndpoint(t, s, tenant, "job.*")
	ep3 := newEndpoint(t, s, tenant, "*")
	_, err := s.EndpointUpdate(ctx, tenant, ep3.ID, hirehook.EndpointUpdate{Disabled: new(true)})
	must(t, err)
	epB := newEndpoint(t, s, "tenant_b", "*")

	// An empty tenant lists nothing (not nil).
	empty, err := s.DeliveryStats(ctx, hirehook.DeliveryStatsParams{TenantID: "nobody"})
	must(t, err)
	if empty == nil || len(empty) != 0 {
		t.Fatalf("stats of an empty tenant = %#v, want an empty list", empty)
	}

	e1 := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
	e2 := newEvent(tenant, "candidate.created", "c2", `{"id":"c2"}`)
	e3 := newEvent(tenant, "candidate.created", "c3", `{"id":"c3"}`)
	e4 := newEvent(tenant, "job.created", "j1", `{"id":"j1"}`)
	eB := newEvent("tenant_b", "job.created", "j9", `{"id":"j9"}`)
	ingestAt(t, s, t0, e1)
	ingestAt(t, s, t0.Add(time.Minute), e2, e3, e4, eB)

	// The queue: ep1 owes 4 (oldest at t0), ep2 1, the disabled ep3 none.
	st := statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant}, ep1.ID, ep2.ID, ep3.ID)
	want := &hirehook.DeliveryStats{TenantID: tenant, EndpointID: ep1.ID, Pending: 4, OldestUnfinishedAt: new(t0)}
	if diff := cmp.Diff(want, st[ep1.ID]); diff != "" {
		t.Fatalf("ep1 queue (-want +got):\n%s", diff)
	}
	if got := st[ep2.ID]; got.Pending != 1 || got.Unfinished() != 1 || got.OldestUnfinishedAt == nil || !got.OldestUnfinishedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("ep2 queue = %+v", got)
	}
	if diff := cmp.Diff(&hirehook.DeliveryStats{TenantID: tenant, EndpointID: ep3.ID}, st[ep3.ID]); diff != "" {
		t.Fatalf("ep3 (disabled, nothing owed) (-want +got):\n%s", diff)
	}
	// Every tenant: the queue only, tenant B's endpoint included.
	all := statsByEndpoint(t, s, hirehook.DeliveryStatsParams{}, ep1.ID, ep2.ID, ep3.ID, epB.ID)
	if got := all[epB.ID]; got.TenantID != "tenant_b" || got.Pending != 1 {
		t.Fatalf("tenant B's endpoint = %+v", got)
	}

	// Claim everything: the deliveries are now delivering.
	claimed := claim(t, s, "w1", t0.Add(2*time.Minute), 100)
	if len(claimed) != 6 {
		t.Fatalf("claimed %d deliveries, want 6", len(claimed))
	}
	st = statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant}, ep1.ID, ep2.ID, ep3.ID)
	if got := st[ep1.ID]; got.Pending != 0 || got.Delivering != 4 || got.OldestUnfinishedAt == nil || !got.OldestUnfinishedAt.Equal(t0) {
		t.Fatalf("ep1 while delivering = %+v", got)
	}

	// ep1: three successes (10, 20, 30 ms) and one 500 (400 ms) that will
	// be retried; ep2: one success before the window; B: one success in it.
	ms := time.Millisecond
	since := t0.Add(2 * time.Minute)
	d1 := deliveriesByEvent(claimed, ep1.ID)
	d2 := deliveriesByEvent(claimed, ep2.ID)
	dB := deliveriesByEvent(claimed, epB.ID)
	n, err := s.DeliveryComplete(ctx, []hirehook.DeliveryResult{
		result(d1[e1.ID], "w1", since, 10*ms, 200),
		result(d1[e2.ID], "w1", since.Add(10*time.Second), 20*ms, 204),
		result(d1[e3.ID], "w1", since.Add(time.Minute), 30*ms, 200),
		result(d1[e4.ID], "w1", since.Add(90*time.Second), 400*ms, 500),
		result(d2[e4.ID], "w1", since.Add(-time.Minute), 5*ms, 200),
		result(dB[eB.ID], "w1", since, 7*ms, 200),
	})
	must(t, err)
	if n != 6 {
		t.Fatalf("applied %d results, want 6", n)
	}

	// Without Since: the queue only, no attempt figures.
	st = statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant}, ep1.ID, ep2.ID, ep3.ID)
	if got := st[ep1.ID]; got.Attempts != 0 || got.Timeline != nil || got.Retrying != 1 || got.Unfinished() != 1 {
		t.Fatalf("ep1 queue only = %+v", got)
	}

	st = statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant, Since: since, Bucket: time.Minute}, ep1.ID, ep2.ID, ep3.ID)
	want = &hirehook.DeliveryStats{
		TenantID: tenant, EndpointID: ep1.ID,
		Retrying: 1, OldestUnfinishedAt: new(t0.Add(time.Minute)), // e4's delivery waits
		Attempts: 4, Succeeded: 3,
		// Of the three successes (the 500 does not count): ranks
		// ceil(0.5·3) = 2 and ceil(0.99·3) = 3.
		LatencyP50: 20 * ms, LatencyP99: 30 * ms,
		LastSuccessAt: new(since.Add(time.Minute)),
		Timeline: []hirehook.AttemptBucket{
			{Start: since, Succeeded: 2, LatencyP50: 10 * ms, LatencyP99: 20 * ms},
			{Start: since.Add(time.Minute), Succeeded: 1, Failed: 1, LatencyP50: 30 * ms, LatencyP99: 30 * ms},
		},
	}
	if diff := cmp.Diff(want, st[ep1.ID]); diff != "" {
		t.Fatalf("ep1 window (-want +got):\n%s", diff)
	}
	// ep2's only attempt started before the window; tenant B's does not count for A.
	if diff := cmp.Diff(&hirehook.DeliveryStats{TenantID: tenant, EndpointID: ep2.ID}, st[ep2.ID]); diff != "" {
		t.Fatalf("ep2 window (-want +got):\n%s", diff)
	}
	st = statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant, Since: t0}, ep1.ID, ep2.ID, ep3.ID)
	if got := st[ep2.ID]; got.Attempts != 1 || got.Succeeded != 1 || got.LatencyP50 != 5*ms || got.LatencyP99 != 5*ms || got.Timeline != nil {
		t.Fatalf("ep2 with an earlier window = %+v", got)
	}
	stB := statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: "tenant_b", Since: since}, epB.ID)
	if got := stB[epB.ID]; got.Attempts != 1 || got.Succeeded != 1 || got.Unfinished() != 0 {
		t.Fatalf("tenant B = %+v", got)
	}

	// Attempt figures need one tenant; a bucket must be positive.
	_, err = s.DeliveryStats(ctx, hirehook.DeliveryStatsParams{Since: since})
	wantCode(t, err, hirehook.EINVALID)
	_, err = s.DeliveryStats(ctx, hirehook.DeliveryStatsParams{TenantID: tenant, Since: since, Bucket: -time.Minute})
	wantCode(t, err, hirehook.EINVALID)
}

// testDeliveryStatsPercentiles checks the nearest-rank percentiles on a
// hundred attempts of 1 … 100 ms.
func testDeliveryStatsPercentiles(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	var events []*hirehook.Event
	for i := range 100 {
		events = append(events, newEvent(tenant, "candidate.created", fmt.Sprintf("c%d", i), fmt.Sprintf(`{"id":"c%d"}`, i)))
	}
	ingestAt(t, s, t0, events...)
	claimed := claim(t, s, "w1", t0, 100)
	var results []hirehook.DeliveryResult
	for i, d := range claimed {
		// Out of order, so that the ranking is the store's.
		dur := time.Duration((i*37)%100+1) * time.Millisecond
		results = append(results, result(d, "w1", t0.Add(time.Duration(i)*time.Second), dur, 200))
	}
	n, err := s.DeliveryComplete(ctx, results)
	must(t, err)
	if n != 100 {
		t.Fatalf("applied %d", n)
	}
	st := statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant, Since: t0}, ep.ID)[ep.ID]
	if st.Attempts != 100 || st.Succeeded != 100 || st.LatencyP50 != 50*time.Millisecond || st.LatencyP99 != 99*time.Millisecond {
		t.Fatalf("stats = attempts %d, succeeded %d, p50 %v, p99 %v; want 100, 100, 50ms, 99ms", st.Attempts, st.Succeeded, st.LatencyP50, st.LatencyP99)
	}
	if st.LastSuccessAt == nil || !st.LastSuccessAt.Equal(t0.Add(99*time.Second)) {
		t.Fatalf("last success = %v", st.LastSuccessAt)
	}
	// Per bucket, the same ranks: one hour holds all hundred; minutes
	// split them 60 (1 … 100 ms, the first 60 of the shuffle) and 40.
	st = statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant, Since: t0, Bucket: time.Hour}, ep.ID)[ep.ID]
	want := []hirehook.AttemptBucket{{Start: t0, Succeeded: 100, LatencyP50: 50 * time.Millisecond, LatencyP99: 99 * time.Millisecond}}
	if diff := cmp.Diff(want, st.Timeline); diff != "" {
		t.Fatalf("hourly timeline (-want +got):\n%s", diff)
	}
	st = statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant, Since: t0, Bucket: time.Minute}, ep.ID)[ep.ID]
	var first, second []int
	for i := range 100 {
		if i < 60 {
			first = append(first, (i*37)%100+1)
		} else {
			second = append(second, (i*37)%100+1)
		}
	}
	slices.Sort(first)
	slices.Sort(second)
	rank := func(ds []int, p int) time.Duration {
		return time.Duration(ds[(p*len(ds)+99)/100-1]) * time.Millisecond
	}
	want = []hirehook.AttemptBucket{
		{Start: t0, Succeeded: 60, LatencyP50: rank(first, 50), LatencyP99: rank(first, 99)},
		{Start: t0.Add(time.Minute), Succeeded: 40, LatencyP50: rank(second, 50), LatencyP99: rank(second, 99)},
	}
	if diff := cmp.Diff(want, st.Timeline); diff != "" {
		t.Fatalf("per-minute timeline (-want +got):\n%s", diff)
	}
}

func testEventListDescending(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	var all []*hirehook.Event
	for i := range 5 {
		typ := "candidate.created"
		if i%2 == 1 {
			typ = "job.created"
		}
		all = append(all, newEvent(tenant, typ, fmt.Sprintf("s%d", i), fmt.Sprintf(`{"id":"s%d"}`, i)))
	}
	ingest(t, s, all...)
	idsOf := func(es []*hirehook.Event) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	page, err := s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, Limit: 2, Descending: true})
	must(t, err)
	if diff := cmp.Diff([]string{all[4].ID, all[3].ID}, idsOf(page)); diff != "" {
		t.Fatalf("newest page (-want +got):\n%s", diff)
	}
	page, err = s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, After: page[1].ID, Limit: 10, Descending: true})
	must(t, err)
	if diff := cmp.Diff([]string{all[2].ID, all[1].ID, all[0].ID}, idsOf(page)); diff != "" {
		t.Fatalf("older page (-want +got):\n%s", diff)
	}
	typ := "job.created"
	page, err = s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, Type: &typ, Descending: true})
	must(t, err)
	if diff := cmp.Diff([]string{all[3].ID, all[1].ID}, idsOf(page)); diff != "" {
		t.Fatalf("type filter, newest first (-want +got):\n%s", diff)
	}
	_, err = s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, After: "evt_nope", Descending: true})
	wantCode(t, err, hirehook.EINVALID)
}

// testEventListSourceAndTime checks the source filter and the half-open
// received range, alone, together, with the other filters and paging.
func testEventListSourceAndTime(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	// Four events a minute apart: greenhouse, bullhorn, greenhouse, none.
	var all []*hirehook.Event
	for i, src := range []string{"greenhouse", "bullhorn", "greenhouse", ""} {
		e := newEvent(tenant, "candidate.created", fmt.Sprintf("r%d", i), fmt.Sprintf(`{"id":"r%d"}`, i))
		e.Source = src
		ingestAt(t, s, t0.Add(time.Duration(i)*time.Minute), e)
		all = append(all, e)
	}
	other := newEvent("tenant_b", "candidate.created", "r9", `{"id":"r9"}`)
	must(t, s.TenantCreate(ctx, &hirehook.Tenant{ID: "tenant_b", Name: "B", RetentionDays: 30, CreatedAt: t0, UpdatedAt: t0}))
	other.Source = "greenhouse"
	ingestAt(t, s, t0, other)

	list := func(f hirehook.EventFilter) []string {
		t.Helper()
		f.TenantID = tenant
		es, err := s.EventList(ctx, f)
		must(t, err)
		out := []string{}
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	str := func(v string) *string { return &v }
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	for _, tc := range []struct {
		name string
		f    hirehook.EventFilter
		want []string
	}{
		{"source", hirehook.EventFilter{Source: str("greenhouse")}, []string{all[0].ID, all[2].ID}},
		{"no source", hirehook.EventFilter{Source: str("")}, []string{all[3].ID}},
		{"unknown source", hirehook.EventFilter{Source: str("lever")}, []string{}},
		{"received after (inclusive)", hirehook.EventFilter{ReceivedAfter: at(time.Minute)}, []string{all[1].ID, all[2].ID, all[3].ID}},
		{"received before (exclusive)", hirehook.EventFilter{ReceivedBefore: at(2 * time.Minute)}, []string{all[0].ID, all[1].ID}},
		{"range", hirehook.EventFilter{ReceivedAfter: at(time.Minute), ReceivedBefore: at(3 * time.Minute)}, []string{all[1].ID, all[2].ID}},
		{"range and source, newest first", hirehook.EventFilter{Source: str("greenhouse"), ReceivedAfter: at(0), ReceivedBefore: at(time.Hour), Descending: true}, []string{all[2].ID, all[0].ID}},
		{"range and type", hirehook.EventFilter{Type: str("job.created"), ReceivedAfter: at(0)}, []string{}},
		{"paged", hirehook.EventFilter{ReceivedAfter: at(0), After: all[1].ID, Limit: 1}, []string{all[2].ID}},
		{"empty range", hirehook.EventFilter{ReceivedAfter: at(time.Minute), ReceivedBefore: at(time.Minute)}, []string{}},
	} {
		if diff := cmp.Diff(tc.want, list(tc.f)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// testDeliveryStatsLatencySuccessOnly: latency is measured on the
// attempts that succeeded. A dead endpoint fails fast (a refused
// connection takes microseconds), and counting those made it look like
// the fastest endpoint of the hub.
func testDeliveryStatsLatencySuccessOnly(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	dead := newEndpoint(t, s, tenant, "candidate.*")
	mixed := newEndpoint(t, s, tenant, "job.*")
	var events []*hirehook.Event
	for i := range 4 {
		events = append(events, newEvent(tenant, "candidate.created", fmt.Sprintf("c%d", i), fmt.Sprintf(`{"id":"c%d"}`, i)))
		events = append(events, newEvent(tenant, "job.created", fmt.Sprintf("j%d", i), fmt.Sprintf(`{"id":"j%d"}`, i)))
	}
	ingestAt(t, s, t0, events...)
	claimed := claim(t, s, "w1", t0, 100)
	var results []hirehook.DeliveryResult
	okSeen := false
	for i, d := range claimed {
		at := t0.Add(time.Duration(i) * time.Second)
		switch {
		case d.EndpointID == dead.ID: // refused at once, every time
			results = append(results, result(d, "w1", at, 300*time.Microsecond, 0))
		case !okSeen: // one real answer, 80 ms
			okSeen = true
			results = append(results, result(d, "w1", at, 80*time.Millisecond, 200))
		default: // and three quick 503s
			results = append(results, result(d, "w1", at, 2*time.Microsecond, 503))
		}
	}
	n, err := s.DeliveryComplete(ctx, results)
	must(t, err)
	if n != 8 {
		t.Fatalf("applied %d results, want 8", n)
	}
	st := statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant, Since: t0, Bucket: time.Hour}, dead.ID, mixed.ID)
	d := st[dead.ID]
	if d.Attempts != 4 || d.Succeeded != 0 || d.LatencyP50 != 0 || d.LatencyP99 != 0 {
		t.Errorf("dead endpoint: attempts %d, succeeded %d, p50 %v, p99 %v; want 4, 0 and no latency (no attempt succeeded)",
			d.Attempts, d.Succeeded, d.LatencyP50, d.LatencyP99)
	}
	if diff := cmp.Diff([]hirehook.AttemptBucket{{Start: t0, Failed: 4}}, d.Timeline); diff != "" {
		t.Errorf("dead endpoint's timeline: no latency without a success (-want +got):\n%s", diff)
	}
	m := st[mixed.ID]
	if m.Attempts != 4 || m.Succeeded != 1 || m.LatencyP50 != 80*time.Millisecond || m.LatencyP99 != 80*time.Millisecond {
		t.Errorf("mixed endpoint: attempts %d, succeeded %d, p50 %v, p99 %v; want 4, 1, 80ms, 80ms (the success only)",
			m.Attempts, m.Succeeded, m.LatencyP50, m.LatencyP99)
	}
	if diff := cmp.Diff([]hirehook.AttemptBucket{{Start: t0, Succeeded: 1, Failed: 3, LatencyP50: 80 * time.Millisecond, LatencyP99: 80 * time.Millisecond}}, m.Timeline); diff != "" {
		t.Errorf("mixed endpoint's timeline (-want +got):\n%s", diff)
	}
}
