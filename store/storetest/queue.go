package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// Tests of rules the two stores once wrote each their own way and that
// now live once in store/sqlstore: each pins the answer one of them got
// wrong.

// testDeliveryStatsFineBucket: any positive Bucket asks for a timeline
// (only zero leaves it out), so a bucket finer than the stores' precision
// (a microsecond) counts in microsecond buckets rather than dropping the
// timeline. (SQLite's store once divided by the bucket's whole
// microseconds and left the timeline out.)
func testDeliveryStatsFineBucket(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	e1 := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
	e2 := newEvent(tenant, "candidate.created", "c2", `{"id":"c2"}`)
	ingestAt(t, s, t0, e1, e2)
	ds := deliveriesByEvent(claim(t, s, "w1", t0, 10), ep.ID)
	_, err := s.DeliveryComplete(ctx, []hirehook.DeliveryResult{
		result(ds[e1.ID], "w1", t0, 10*time.Millisecond, 200),
		result(ds[e2.ID], "w1", t0.Add(3*time.Microsecond), 20*time.Millisecond, 500),
	})
	must(t, err)
	st := statsByEndpoint(t, s, hirehook.DeliveryStatsParams{TenantID: tenant, Since: t0, Bucket: 500 * time.Nanosecond}, ep.ID)
	want := []hirehook.AttemptBucket{
		{Start: t0, Succeeded: 1, LatencyP50: 10 * time.Millisecond, LatencyP99: 10 * time.Millisecond},
		{Start: t0.Add(3 * time.Microsecond), Failed: 1},
	}
	if diff := cmp.Diff(want, st[ep.ID].Timeline); diff != "" {
		t.Fatalf("timeline of 500 ns buckets (-want +got):\n%s", diff)
	}
}

// testDeliveryRetryUTC: DeliveryRetry answers the delivery as the store
// keeps it, its times in UTC whatever the zone of the now it was given (as
// DeliveryGet reads them back; the API renders them as they come). SQLite's
// store once answered the caller's now, zone and all.
func testDeliveryRetryUTC(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	newEndpoint(t, s, tenant, "*")
	ingest(t, s, newEvent(tenant, "job.created", "j1", `{"id":"j1"}`))
	ds := claim(t, s, "w1", t0, 1)
	complete(t, s, "w1", ds, hirehook.DeliveryFailed, t0)
	now := t0.Add(time.Hour).In(time.FixedZone("CET", 3600))
	d, err := s.DeliveryRetry(ctx, tenant, ds[0].ID, now)
	must(t, err)
	if d.NextAttemptAt == nil || d.NextAttemptAt.Location() != time.UTC || !d.NextAttemptAt.Equal(now) {
		t.Fatalf("DeliveryRetry's next attempt = %v, want %v in UTC", d.NextAttemptAt, now.UTC())
	}
	if d.UpdatedAt.Location() != time.UTC || !d.UpdatedAt.Equal(now) {
		t.Fatalf("DeliveryRetry's updated_at = %v, want %v in UTC", d.UpdatedAt, now.UTC())
	}
}
