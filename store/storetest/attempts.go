package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// testAttemptView pins what an operator sees of attempts (the API's,
// the CLI's and the dashboard's reads: DeliveryGet, DeliveryList,
// DeliveryStats, retention and erasure of response bodies) through the
// paths an attempt is recorded by: a first-try success handed off hot, a
// failure then a retried success, a worker killed with its lease (its
// late result ignored, the expired lease rescued by another), and a
// batch that mixes them. However a store lays its attempts out, these
// reads stay exactly these.
func testAttemptView(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	ms := time.Millisecond
	evFirst := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
	evRetry := newEvent(tenant, "candidate.created", "c2", `{"id":"c2"}`)
	evKilled := newEvent(tenant, "candidate.created", "c3", `{"id":"c3"}`)
	evBatch := newEvent(tenant, "candidate.created", "c4", `{"id":"c4"}`)
	// Hot hand-off: written leased to n1.
	res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{evFirst, evRetry}, Now: t0, LeaseOwner: "n1", LeaseUntil: t0.Add(time.Minute)})
	must(t, err)
	first, retry := res[0].Leased[0], res[1].Leased[0]
	ingestAt(t, s, t0, evKilled, evBatch)
	pending := claim(t, s, "n1", t0, 10) // leased until t0+1m
	if len(pending) != 2 {
		t.Fatalf("claimed %d, want 2", len(pending))
	}
	killed, batch := pending[0], pending[1]
	if killed.EventID != evKilled.ID {
		killed, batch = batch, killed
	}

	apply := func(want int, rs ...hirehook.DeliveryResult) {
		t.Helper()
		n, err := s.DeliveryComplete(ctx, rs)
		must(t, err)
		if n != want {
			t.Fatalf("applied %d results, want %d", n, want)
		}
	}
	result := func(d *hirehook.Delivery, owner string, state hirehook.DeliveryState, a hirehook.Attempt) hirehook.DeliveryResult {
		r := hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: owner, State: state, Attempt: a}
		if state == hirehook.DeliveryRetrying {
			r.NextAttemptAt = a.StartedAt.Add(time.Minute)
		}
		return r
	}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	att := map[string]hirehook.Attempt{
		"first":  {ID: "att_first", StartedAt: at(1), Duration: 1500 * time.Microsecond, StatusCode: 200, ResponseBody: `{"ok":true}`},
		"fail":   {ID: "att_fail", StartedAt: at(1), Duration: 30 * ms, StatusCode: 503, ResponseBody: "busy", ErrorClass: hirehook.ErrorClassStatus},
		"batch":  {ID: "att_batch", StartedAt: at(2), Duration: 4 * ms, StatusCode: 500, ResponseBody: "oops", ErrorClass: hirehook.ErrorClassStatus},
		"late":   {ID: "att_late", StartedAt: at(3), Duration: 2 * ms, StatusCode: 200, ResponseBody: "too late"},
		"rescue": {ID: "att_rescue", StartedAt: at(180), Duration: 10 * time.Second, ErrorClass: hirehook.ErrorClassTimeout, Error: "timeout awaiting response headers"},
		"retry":  {ID: "att_retry", StartedAt: at(121), Duration: 2 * ms, StatusCode: 204},
		"batch2": {ID: "att_batch2", StartedAt: at(122), Duration: 3 * ms, StatusCode: 200, ResponseBody: "fine"},
	}

	// A first-try success, a failure and another delivery's failure in one batch.
	apply(3, result(first, "n1", hirehook.DeliveryDelivered, att["first"]), result(retry, "n1", hirehook.DeliveryRetrying, att["fail"]),
		result(batch, "n1", hirehook.DeliveryRetrying, att["batch"]))
	// n1 dies holding killed's lease; n2 rescues it when the lease runs
	// out (with the two retries, due by then), and n1's late result (as
	// if it had come back) is ignored.
	retried := claim(t, s, "n2", at(120), 10)
	if len(retried) != 3 {
		t.Fatalf("claimed %d, want the killed worker's delivery and 2 retries", len(retried))
	}
	apply(0, result(killed, "n1", hirehook.DeliveryDelivered, att["late"]))
	// The retries succeed in one batch with the rescued one's timeout, which is final.
	var rs []hirehook.DeliveryResult
	for _, d := range retried {
		a, state, attempts := att["retry"], hirehook.DeliveryDelivered, 1
		switch d.ID {
		case batch.ID:
			a = att["batch2"]
		case killed.ID:
			a, state, attempts = att["rescue"], hirehook.DeliveryFailed, 0
		}
		if d.Attempts != attempts {
			t.Fatalf("%s claimed with %d attempts, want %d", d.ID, d.Attempts, attempts)
		}
		rs = append(rs, result(d, "n2", state, a))
	}
	apply(3, rs...)

	numbered := func(d *hirehook.Delivery, names ...string) []*hirehook.Attempt {
		var out []*hirehook.Attempt
		for i, n := range names {
			a := att[n]
			a.DeliveryID, a.Number = d.ID, i+1
			out = append(out, &a)
		}
		return out
	}
	type view struct {
		State      hirehook.DeliveryState
		Attempts   int
		LastAt     time.Time
		LastStatus int
		LastError  string
		Latency    hirehook.Milliseconds
		Excerpt    string
		List       []*hirehook.Attempt
	}
	last := func(state hirehook.DeliveryState, list []*hirehook.Attempt, lastErr string) view {
		a := list[len(list)-1]
		return view{State: state, Attempts: len(list), LastAt: a.StartedAt, LastStatus: a.StatusCode, LastError: lastErr,
			Latency: hirehook.Milliseconds(a.Duration), Excerpt: hirehook.ResponseExcerpt(a.ResponseBody), List: list}
	}
	want := map[string]view{
		first.ID:  last(hirehook.DeliveryDelivered, numbered(first, "first"), ""),
		retry.ID:  last(hirehook.DeliveryDelivered, numbered(retry, "fail", "retry"), ""),
		batch.ID:  last(hirehook.DeliveryDelivered, numbered(batch, "batch", "batch2"), ""),
		killed.ID: last(hirehook.DeliveryFailed, numbered(killed, "rescue"), "timeout awaiting response headers"),
	}
	viewOf := func(d *hirehook.Delivery, list []*hirehook.Attempt) view {
		var lastAt time.Time
		if d.LastAttemptAt != nil {
			lastAt = *d.LastAttemptAt
		}
		return view{State: d.State, Attempts: d.Attempts, LastAt: lastAt, LastStatus: d.LastStatus, LastError: d.LastError,
			Latency: d.LastLatency, Excerpt: d.LastResponseExcerpt, List: list}
	}
	check := func(stage string, want map[string]view) {
		t.Helper()
		got := map[string]view{}
		for id := range want {
			d, list, err := s.DeliveryGet(ctx, tenant, id)
			must(t, err)
			got[id] = viewOf(d, list)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: DeliveryGet (-want +got):\n%s", stage, diff)
		}
		listed, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, Limit: 100})
		must(t, err)
		got = map[string]view{}
		for _, d := range listed {
			got[d.ID] = viewOf(d, want[d.ID].List)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: DeliveryList (-want +got):\n%s", stage, diff)
		}
	}
	check("after the attempts", want)

	// The dashboard's figures: 6 attempts (n1's late one is not), 3
	// succeeded (1.5, 2 and 3 ms), in the minutes they started.
	st := statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant, Since: t0, Bucket: time.Minute}, ep.ID)[ep.ID]
	wantStats := &hirehook.DeliveryStats{TenantID: tenant, EndpointID: ep.ID, Attempts: 6, Succeeded: 3, LatencyP50: 2 * ms, LatencyP99: 3 * ms,
		LastSuccessAt: ptr(at(122)), Timeline: []hirehook.AttemptBucket{
			{Start: t0, Succeeded: 1, Failed: 2, LatencyP50: 1500 * time.Microsecond, LatencyP99: 1500 * time.Microsecond},
			{Start: at(120), Succeeded: 2, LatencyP50: 2 * ms, LatencyP99: 3 * ms},
			{Start: at(180), Failed: 1},
		}}
	if diff := cmp.Diff(wantStats, st); diff != "" {
		t.Errorf("DeliveryStats (-want +got):\n%s", diff)
	}

	// Erasure clears the bodies of the erased candidate's attempts (c2:
	// "busy"; its retry had none).
	er, err := s.CandidateErase(ctx, hirehook.CandidateEraseParams{TenantID: tenant, CandidateID: "c2", Now: at(300)})
	must(t, err)
	if er.Attempts != 1 {
		t.Errorf("erasure cleared %d attempts' bodies, want 1", er.Attempts)
	}
	v := want[retry.ID]
	v.List[0].ResponseBody = ""
	want[retry.ID] = v
	check("after the erasure", want)

	// Retention clears the others' bodies, a batch at a time.
	purged := 0
	for {
		pr, err := s.RetentionPurge(ctx, hirehook.RetentionPurgeParams{Now: t0.Add(40 * 24 * time.Hour), Limit: 2})
		must(t, err)
		purged += pr.Attempts
		if pr.Attempts < 2 {
			break
		}
	}
	if purged != 3 {
		t.Errorf("retention cleared %d attempts' bodies, want 3 (first, batch, batch2)", purged)
	}
	for id, v := range want {
		for _, a := range v.List {
			a.ResponseBody = ""
		}
		v.Excerpt = ""
		want[id] = v
	}
	check("after retention", want)
}

func ptr[T any](v T) *T { return &v }
