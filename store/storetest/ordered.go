package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// completeOne stores one result for d, leased by owner, started at at.
func completeOne(tb testing.TB, s hirehook.Store, d *hirehook.Delivery, owner string, state hirehook.DeliveryState, at time.Time) {
	tb.Helper()
	r := hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: owner, State: state,
		Attempt: hirehook.Attempt{StartedAt: at, Duration: time.Millisecond, StatusCode: 500, ErrorClass: hirehook.ErrorClassStatus}}
	if state == hirehook.DeliveryDelivered {
		r.Attempt.StatusCode, r.Attempt.ErrorClass = 200, ""
	}
	if state == hirehook.DeliveryRetrying {
		r.NextAttemptAt = at.Add(time.Second)
	}
	n, err := s.DeliveryComplete(context.Background(), []hirehook.DeliveryResult{r})
	must(tb, err)
	if n != 1 {
		tb.Fatalf("complete %s: applied %d", d.ID, n)
	}
}

// eventsOf returns the event ids of ds, sorted.
func eventsOf(ds []*hirehook.Delivery) []string {
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.EventID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// testDeliveryOrdered: an ordered endpoint gets one subject's deliveries one
// at a time, in ingest order, whether they are handed off hot or claimed;
// other subjects and unordered endpoints are not held back; a delivery that
// fails for good lets the next one go.
func testDeliveryOrdered(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ordered := newEndpoint(t, s, tenant, "candidate.*")
	yes := true
	_, err := s.EndpointUpdate(ctx, tenant, ordered.ID, hirehook.EndpointUpdate{Ordered: &yes})
	must(t, err)
	free := newEndpoint(t, s, tenant, "candidate.*")

	a1 := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
	a2 := newEvent(tenant, "candidate.updated", "c1", `{"id":"c1"}`)
	b1 := newEvent(tenant, "candidate.created", "c2", `{"id":"c2"}`)
	// One batch, handed off hot: only the head of each subject comes back
	// leased for the ordered endpoint; the unordered one gets all three.
	res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{a1, a2, b1}, Now: t0, LeaseOwner: "w1", LeaseUntil: t0.Add(time.Minute)})
	must(t, err)
	var hot []*hirehook.Delivery
	for _, r := range res {
		hot = append(hot, r.Leased...)
	}
	var hotOrdered []*hirehook.Delivery
	for _, d := range hot {
		if d.EndpointID == ordered.ID {
			hotOrdered = append(hotOrdered, d)
			if d.OrderingKey == "" || d.State != hirehook.DeliveryDelivering || len(d.Payload) == 0 {
				t.Fatalf("hot ordered delivery = %+v", d)
			}
		} else if d.OrderingKey != "" {
			t.Fatalf("delivery to an unordered endpoint has ordering key %q", d.OrderingKey)
		}
	}
	if got, want := eventsOf(hotOrdered), sorted(a1.ID, b1.ID); !slices.Equal(got, want) {
		t.Fatalf("hot ordered deliveries for events %v, want %v (the heads of c1 and c2)", got, want)
	}
	if len(hot) != 5 {
		t.Fatalf("%d deliveries handed off hot, want 5", len(hot))
	}
	held, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, EventID: &a2.ID, EndpointID: &ordered.ID})
	must(t, err)
	if len(held) != 1 || held[0].State != hirehook.DeliveryPending || held[0].OrderingKey != "candidate/c1" {
		t.Fatalf("held delivery = %+v", held)
	}

	// A later event of c1, ingested while its head is unfinished, waits too.
	a3 := newEvent(tenant, "candidate.stage_changed", "c1", `{"id":"c1"}`)
	res, err = s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{a3}, Now: t0, LeaseOwner: "w1", LeaseUntil: t0.Add(time.Minute)})
	must(t, err)
	if len(res[0].Leased) != 1 || res[0].Leased[0].EndpointID != free.ID {
		t.Fatalf("a3 handed off %d deliveries, want only the unordered endpoint's", len(res[0].Leased))
	}
	if got := claim(t, s, "w2", t0, 10); len(got) != 0 {
		t.Fatalf("claimed %d deliveries while their subjects' heads are leased", len(got))
	}
	// The unordered endpoint takes everything at once.
	for _, d := range append(hot, res[0].Leased...) {
		if d.EndpointID == free.ID {
			completeOne(t, s, d, "w1", hirehook.DeliveryDelivered, t0)
		}
	}

	byEvent := map[string]*hirehook.Delivery{}
	for _, d := range hotOrdered {
		byEvent[d.EventID] = d
	}
	// The head of c1 is to be retried: a2 still waits. b1 is delivered.
	completeOne(t, s, byEvent[a1.ID], "w1", hirehook.DeliveryRetrying, t0)
	completeOne(t, s, byEvent[b1.ID], "w1", hirehook.DeliveryDelivered, t0)
	got := claim(t, s, "w2", t0.Add(2*time.Second), 10)
	if ids := eventsOf(got); !slices.Equal(ids, []string{a1.ID}) {
		t.Fatalf("claimed events %v, want only c1's head (retry due)", ids)
	}
	// It fails for good: the failure no longer holds a2 back, a3 still waits for a2.
	completeOne(t, s, got[0], "w2", hirehook.DeliveryFailed, t0.Add(2*time.Second))
	got = claim(t, s, "w2", t0.Add(3*time.Second), 10)
	if ids := eventsOf(got); !slices.Equal(ids, []string{a2.ID}) {
		t.Fatalf("claimed events %v, want a2", ids)
	}
	// Released (not attempted), a2 is the head again and a3 still waits.
	must(t, s.DeliveryRelease(ctx, "w2", []string{got[0].ID}))
	got = claim(t, s, "w3", time.Now().Add(time.Second), 10)
	if ids := eventsOf(got); !slices.Equal(ids, []string{a2.ID}) {
		t.Fatalf("after release claimed events %v, want a2", ids)
	}
	completeOne(t, s, got[0], "w3", hirehook.DeliveryDelivered, t0.Add(4*time.Second))
	got = claim(t, s, "w3", time.Now().Add(time.Second), 10)
	if ids := eventsOf(got); !slices.Equal(ids, []string{a3.ID}) {
		t.Fatalf("claimed events %v, want a3", ids)
	}
}

// testDeliveryPaused: a disabled endpoint's waiting deliveries are paused,
// nothing is lost, and enabling it makes them due again; results, releases,
// retries and recoveries of a disabled endpoint's deliveries pause them.
func testDeliveryPaused(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	other := newEndpoint(t, s, tenant, "*")
	ingest(t, s, newEvent(tenant, "job.created", "j1", `{"id":"j1"}`), newEvent(tenant, "job.created", "j2", `{"id":"j2"}`),
		newEvent(tenant, "job.created", "j3", `{"id":"j3"}`), newEvent(tenant, "job.created", "j4", `{"id":"j4"}`))
	ds := claim(t, s, "w1", t0, 100)
	if len(ds) != 8 {
		t.Fatalf("claimed %d, want 8", len(ds))
	}
	var mine []*hirehook.Delivery
	for _, d := range ds {
		if d.EndpointID == ep.ID {
			mine = append(mine, d)
		} else {
			completeOne(t, s, d, "w1", hirehook.DeliveryDelivered, t0)
		}
	}
	// j1 failed for good, j2 waits for a retry, j3 is released (pending),
	// j4 stays leased (an attempt in flight).
	completeOne(t, s, mine[0], "w1", hirehook.DeliveryFailed, t0)
	completeOne(t, s, mine[1], "w1", hirehook.DeliveryRetrying, t0)
	must(t, s.DeliveryRelease(ctx, "w1", []string{mine[2].ID}))

	off := true
	_, err := s.EndpointUpdate(ctx, tenant, ep.ID, hirehook.EndpointUpdate{Disabled: &off, DisabledReason: new("maintenance"), Now: t0})
	must(t, err)
	state := func(d *hirehook.Delivery) hirehook.DeliveryState {
		t.Helper()
		got, _, err := s.DeliveryGet(ctx, tenant, d.ID)
		must(t, err)
		return got.State
	}
	for i, want := range []hirehook.DeliveryState{hirehook.DeliveryFailed, hirehook.DeliveryPaused, hirehook.DeliveryPaused, hirehook.DeliveryDelivering} {
		if got := state(mine[i]); got != want {
			t.Fatalf("delivery %d after disable: %s, want %s", i, got, want)
		}
	}
	stats, err := s.DeliveryStats(ctx, hirehook.DeliveryStatsParams{TenantID: tenant})
	must(t, err)
	if st := stats[0]; st.EndpointID != ep.ID || st.Paused != 2 || st.Pending != 0 || st.Retrying != 0 || st.Delivering != 1 {
		t.Fatalf("stats after disable = %+v", st)
	}
	// The attempt in flight comes back to be retried: paused.
	completeOne(t, s, mine[3], "w1", hirehook.DeliveryRetrying, t0)
	if got := state(mine[3]); got != hirehook.DeliveryPaused {
		t.Fatalf("retrying result on a disabled endpoint: %s, want paused", got)
	}
	// An operator retry or recovery while disabled pauses too.
	d, err := s.DeliveryRetry(ctx, tenant, mine[0].ID, t0.Add(time.Minute))
	must(t, err)
	if d.State != hirehook.DeliveryPaused || state(mine[0]) != hirehook.DeliveryPaused {
		t.Fatalf("retry while disabled: %s", d.State)
	}
	if got := claim(t, s, "w2", t0.Add(time.Hour), 100); len(got) != 0 {
		t.Fatalf("claimed %d deliveries of a disabled endpoint", len(got))
	}

	// Enabled: everything is due at the time of the update, never-attempted
	// ones pending, the others retrying.
	on := false
	later := t0.Add(2 * time.Hour)
	e, err := s.EndpointUpdate(ctx, tenant, ep.ID, hirehook.EndpointUpdate{Disabled: &on, Now: later})
	must(t, err)
	if e.Disabled || e.DisabledReason != "" {
		t.Fatalf("enabled endpoint = %+v", e)
	}
	for i, want := range []hirehook.DeliveryState{hirehook.DeliveryRetrying, hirehook.DeliveryRetrying, hirehook.DeliveryPending, hirehook.DeliveryRetrying} {
		if got := state(mine[i]); got != want {
			t.Fatalf("delivery %d after enable: %s, want %s", i, got, want)
		}
	}
	if got := claim(t, s, "w2", later.Add(-time.Second), 100); len(got) != 0 {
		t.Fatalf("claimed %d before the time of the update", len(got))
	}
	got := claim(t, s, "w2", later, 100)
	if len(got) != 4 {
		t.Fatalf("claimed %d after enable, want 4 (nothing lost)", len(got))
	}

	// A result that disables the endpoint pauses its other waiting
	// deliveries, and its own if it is to be retried.
	ingest(t, s, newEvent(tenant, "job.created", "j5", `{"id":"j5"}`))
	r := hirehook.DeliveryResult{DeliveryID: got[0].ID, TenantID: tenant, LeaseOwner: "w2", State: hirehook.DeliveryRetrying, NextAttemptAt: later.Add(time.Hour),
		DisableEndpoint: "Every attempt has failed for 5 days.", Attempt: hirehook.Attempt{StartedAt: later, StatusCode: 500, ErrorClass: hirehook.ErrorClassStatus}}
	_, err = s.DeliveryComplete(ctx, []hirehook.DeliveryResult{r})
	must(t, err)
	if st := state(got[0]); st != hirehook.DeliveryPaused {
		t.Fatalf("the disabling delivery: %s, want paused", st)
	}
	list, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, EndpointID: &ep.ID, State: new(hirehook.DeliveryPending)})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("%d deliveries still pending on the disabled endpoint", len(list))
	}
	// Released while disabled: paused.
	must(t, s.DeliveryRelease(ctx, "w2", []string{got[1].ID}))
	if st := state(got[1]); st != hirehook.DeliveryPaused {
		t.Fatalf("released on a disabled endpoint: %s, want paused", st)
	}
	// Deleting the endpoint cancels paused deliveries too.
	must(t, s.EndpointDelete(ctx, tenant, ep.ID))
	if st := state(got[1]); st != hirehook.DeliveryCancelled {
		t.Fatalf("paused delivery of a deleted endpoint: %s, want cancelled", st)
	}
	_ = other
}

// testEndpointFailingSince: the endpoint remembers when its current run of
// failed attempts began.
func testEndpointFailingSince(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	failingSince := func() *time.Time {
		t.Helper()
		e, err := s.EndpointGet(ctx, tenant, ep.ID)
		must(t, err)
		return e.FailingSince
	}
	if f := failingSince(); f != nil {
		t.Fatalf("new endpoint failing since %v", f)
	}
	var evs []*hirehook.Event
	for i := range 8 {
		evs = append(evs, newEvent(tenant, "job.created", string(rune('a'+i)), `{"id":"x"}`))
	}
	ingest(t, s, evs...)
	ds := claim(t, s, "w1", t0, 100)
	result := func(d *hirehook.Delivery, ok bool, at time.Time) hirehook.DeliveryResult {
		r := hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: tenant, LeaseOwner: "w1", State: hirehook.DeliveryRetrying, NextAttemptAt: at.Add(time.Hour),
			Attempt: hirehook.Attempt{StartedAt: at, StatusCode: 503, ErrorClass: hirehook.ErrorClassStatus}}
		if ok {
			r.State, r.Attempt.StatusCode, r.Attempt.ErrorClass = hirehook.DeliveryDelivered, 204, ""
		}
		return r
	}
	completeAll := func(rs ...hirehook.DeliveryResult) {
		t.Helper()
		n, err := s.DeliveryComplete(ctx, rs)
		must(t, err)
		if n != len(rs) {
			t.Fatalf("applied %d of %d", n, len(rs))
		}
	}
	completeAll(result(ds[0], false, t0.Add(time.Minute)), result(ds[1], false, t0.Add(2*time.Minute)))
	if f := failingSince(); f == nil || !f.Equal(t0.Add(time.Minute)) {
		t.Fatalf("failing since %v, want the first failure", f)
	}
	completeAll(result(ds[2], false, t0.Add(time.Hour)))
	if f := failingSince(); f == nil || !f.Equal(t0.Add(time.Minute)) {
		t.Fatalf("failing since %v after another failure, want unchanged", f)
	}
	// A success ends the run; failures after it in the same batch start a new one.
	completeAll(result(ds[3], false, t0.Add(2*time.Hour)), result(ds[4], true, t0.Add(3*time.Hour)), result(ds[5], false, t0.Add(4*time.Hour)))
	if f := failingSince(); f == nil || !f.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("failing since %v, want the first failure after the success", f)
	}
	completeAll(result(ds[6], true, t0.Add(5*time.Hour)))
	if f := failingSince(); f != nil {
		t.Fatalf("failing since %v after a success, want nil", f)
	}
	// Enabling a disabled endpoint starts afresh.
	completeAll(result(ds[7], false, t0.Add(6*time.Hour)))
	off, on := true, false
	_, err := s.EndpointUpdate(ctx, tenant, ep.ID, hirehook.EndpointUpdate{Disabled: &off})
	must(t, err)
	if f := failingSince(); f == nil {
		t.Fatal("disabling cleared failing_since")
	}
	_, err = s.EndpointUpdate(ctx, tenant, ep.ID, hirehook.EndpointUpdate{Disabled: &on})
	must(t, err)
	if f := failingSince(); f != nil {
		t.Fatalf("failing since %v after enable, want nil", f)
	}
}

// testDeliveryClaimSkipping: a claim that skips endpoints (the
// dispatcher's full lanes and open breakers) takes the others' due
// deliveries, each endpoint's in due order, up to its limit, holding back
// an ordered endpoint's later deliveries of a subject and the disabled
// endpoints' as a claim that skips none does.
func testDeliveryClaimSkipping(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	skipped := newEndpoint(t, s, tenant, "candidate.*")
	plain := newEndpoint(t, s, tenant, "placement.*")
	ordered := newEndpoint(t, s, tenant, "job.*")
	off := newEndpoint(t, s, tenant, "job.*")
	yes := true
	_, err := s.EndpointUpdate(ctx, tenant, ordered.ID, hirehook.EndpointUpdate{Ordered: &yes})
	must(t, err)
	_, err = s.EndpointUpdate(ctx, tenant, off.ID, hirehook.EndpointUpdate{Disabled: &yes})
	must(t, err)
	// Due one second apart: the skipped endpoint's first, then the others'
	// interleaved; the ordered endpoint's two deliveries of job j_1.
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
	for i := range 3 {
		ingestAt(t, s, at(i), newEvent(tenant, "candidate.created", fmt.Sprintf("c_%d", i), `{"id":"c"}`))
	}
	ingestAt(t, s, at(3), newEvent(tenant, "placement.created", "pl_1", `{"id":"pl_1"}`))
	ingestAt(t, s, at(4), newEvent(tenant, "job.created", "j_1", `{"id":"j_1"}`))
	ingestAt(t, s, at(5), newEvent(tenant, "placement.created", "pl_2", `{"id":"pl_2"}`))
	ingestAt(t, s, at(6), newEvent(tenant, "job.updated", "j_1", `{"id":"j_1"}`))
	ingestAt(t, s, at(7), newEvent(tenant, "job.created", "j_2", `{"id":"j_2"}`))
	ingestAt(t, s, at(8), newEvent(tenant, "placement.created", "pl_3", `{"id":"pl_3"}`))

	claimSkipping := func(now time.Time, limit int) []*hirehook.Delivery {
		t.Helper()
		ds, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w", Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit,
			SkipEndpoints: []string{skipped.ID}})
		must(t, err)
		return ds
	}
	// At 5s: pl_1 and pl_2 (plain) and j_1's first (ordered) are due.
	got := claimSkipping(at(5), 10)
	byEndpoint := map[string][]string{}
	for _, d := range got {
		if d.State != hirehook.DeliveryDelivering || len(d.Payload) == 0 {
			t.Fatalf("claimed delivery = %+v (payload %d bytes)", d, len(d.Payload))
		}
		byEndpoint[d.EndpointID] = append(byEndpoint[d.EndpointID], d.EventType)
	}
	if len(got) != 3 || len(byEndpoint[plain.ID]) != 2 || len(byEndpoint[ordered.ID]) != 1 || byEndpoint[ordered.ID][0] != "job.created" {
		t.Fatalf("claim skipping at 5s = %v, want 2 of the plain endpoint and job.created of the ordered one", byEndpoint)
	}
	// At 8s, limit 1: the earliest due of what is left is the ordered
	// endpoint's j_2 (j_1's update waits for its creation, leased).
	got = claimSkipping(at(8), 1)
	if len(got) != 1 || got[0].EndpointID != ordered.ID || got[0].EventType != "job.created" {
		t.Fatalf("claim skipping at 8s, limit 1 = %v, want the ordered endpoint's job.created of j_2", got)
	}
	got = claimSkipping(at(8), 10)
	if len(got) != 1 || got[0].EndpointID != plain.ID {
		t.Fatalf("claim skipping at 8s = %v, want pl_3 alone", got)
	}
	if got := claimSkipping(at(8), 10); len(got) != 0 {
		t.Fatalf("claim skipping with nothing else due = %d deliveries", len(got))
	}
	// The skipped endpoint's three are there for a claim that skips none,
	// in due order.
	got = claim(t, s, "w", at(8), 10)
	if len(got) != 3 {
		t.Fatalf("claim = %d deliveries, want the skipped endpoint's 3", len(got))
	}
	for i, d := range got {
		if d.EndpointID != skipped.ID || (i > 0 && d.CreatedAt.Before(got[i-1].CreatedAt)) {
			t.Fatalf("claim = %v, want the skipped endpoint's in due order", got)
		}
	}
}
