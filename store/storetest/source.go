package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

func newSource(tb testing.TB, s hirehook.Store, tenantID string, enabled bool) *hirehook.Source {
	tb.Helper()
	src := &hirehook.Source{
		TenantID:  tenantID,
		ID:        hirehook.NewID("src"),
		Kind:      hirehook.SourceBullhorn,
		Name:      "Acme Bullhorn",
		Config:    json.RawMessage(`{"client_id":"acme","username":"api.acme"}`),
		Secrets:   map[string]string{"client_secret": "cs-1", "password": "pw-1"},
		Enabled:   enabled,
		Health:    hirehook.SourceHealth{},
		CreatedAt: t0,
		UpdatedAt: t0,
	}
	must(tb, s.SourceCreate(context.Background(), src))
	return src
}

func sourceIDs(srcs []*hirehook.Source) []string {
	out := []string{}
	for _, s := range srcs {
		out = append(out, s.ID)
	}
	return out
}

func testSource(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	src := newSource(t, s, tenant, true)
	got, err := s.SourceGet(ctx, tenant, src.ID)
	must(t, err)
	if diff := cmp.Diff(src, got); diff != "" {
		t.Fatalf("SourceGet mismatch (-want +got):\n%s", diff)
	}
	wantCode(t, s.SourceCreate(ctx, src), hirehook.ECONFLICT)
	_, err = s.SourceGet(ctx, "other", src.ID)
	wantCode(t, err, hirehook.ENOTFOUND)

	// An update merges secrets by name and keeps what it leaves out.
	name, cfg, off := "Acme (EU)", json.RawMessage(`{"client_id":"acme-eu"}`), false
	now := t0.Add(time.Minute)
	upd, err := s.SourceUpdate(ctx, tenant, src.ID, hirehook.SourceUpdate{Name: &name, Config: &cfg, Enabled: &off,
		Secrets: map[string]string{"password": "", "refresh_token": "rt-1"}, Now: now})
	must(t, err)
	want := *src
	want.Name, want.Config, want.Enabled, want.UpdatedAt = name, cfg, false, now
	want.Secrets = map[string]string{"client_secret": "cs-1", "refresh_token": "rt-1"}
	if diff := cmp.Diff(&want, upd); diff != "" {
		t.Fatalf("SourceUpdate mismatch (-want +got):\n%s", diff)
	}
	got, err = s.SourceGet(ctx, tenant, src.ID)
	must(t, err)
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Fatalf("SourceGet after update mismatch (-want +got):\n%s", diff)
	}
	_, err = s.SourceUpdate(ctx, "other", src.ID, hirehook.SourceUpdate{Name: &name})
	wantCode(t, err, hirehook.ENOTFOUND)

	// Lists page in creation order, per tenant.
	src2 := newSource(t, s, tenant, true)
	src3 := newSource(t, s, tenant, true)
	list, err := s.SourceList(ctx, hirehook.SourceFilter{TenantID: tenant, Limit: 2})
	must(t, err)
	if diff := cmp.Diff([]string{src.ID, src2.ID}, sourceIDs(list)); diff != "" {
		t.Fatalf("SourceList page 1 (-want +got):\n%s", diff)
	}
	list, err = s.SourceList(ctx, hirehook.SourceFilter{TenantID: tenant, After: src2.ID})
	must(t, err)
	if diff := cmp.Diff([]string{src3.ID}, sourceIDs(list)); diff != "" {
		t.Fatalf("SourceList page 2 (-want +got):\n%s", diff)
	}
	_, err = s.SourceList(ctx, hirehook.SourceFilter{TenantID: tenant, After: "src_missing"})
	wantCode(t, err, hirehook.EINVALID)
	list, err = s.SourceList(ctx, hirehook.SourceFilter{TenantID: "other"})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("SourceList of another tenant = %v", sourceIDs(list))
	}

	// Reports write health, checkpoint and secrets without touching
	// updated_at.
	last := t0.Add(2 * time.Minute)
	h := hirehook.SourceHealth{LastPollAt: &last, LastSuccessAt: &last, EventsRead: 7, EventsEmitted: 5, Errors: 1, LastError: "bullhorn: 503", LastErrorAt: &last, LagMS: 1200}
	must(t, s.SourceReport(ctx, hirehook.SourceReportParams{TenantID: tenant, ID: src2.ID, Health: &h,
		Checkpoint: json.RawMessage(`{"request_id":3,"pending":true}`), Secrets: map[string]string{"refresh_token": "rt-2"}}))
	got, err = s.SourceGet(ctx, tenant, src2.ID)
	must(t, err)
	if diff := cmp.Diff(h, got.Health); diff != "" {
		t.Fatalf("health after report (-want +got):\n%s", diff)
	}
	if !jsonEqual(t, got.Checkpoint, json.RawMessage(`{"request_id":3,"pending":true}`)) {
		t.Fatalf("checkpoint after report = %s", got.Checkpoint)
	}
	if diff := cmp.Diff(map[string]string{"client_secret": "cs-1", "password": "pw-1", "refresh_token": "rt-2"}, got.Secrets); diff != "" {
		t.Fatalf("secrets after report (-want +got):\n%s", diff)
	}
	if !got.UpdatedAt.Equal(t0) {
		t.Fatalf("updated_at after report = %v, want %v", got.UpdatedAt, t0)
	}
	wantCode(t, s.SourceReport(ctx, hirehook.SourceReportParams{TenantID: "other", ID: src2.ID, Health: &h}), hirehook.ENOTFOUND)

	// State: a small key-value store per source.
	key := hirehook.SourceStateParams{TenantID: tenant, SourceID: src2.ID, Key: "JobSubmission/42"}
	_, err = s.SourceStateGet(ctx, key)
	wantCode(t, err, hirehook.ENOTFOUND)
	key.Value = "Submitted"
	must(t, s.SourceStateSet(ctx, key))
	key.Value = "Interview Scheduled"
	must(t, s.SourceStateSet(ctx, key))
	v, err := s.SourceStateGet(ctx, key)
	must(t, err)
	if v != "Interview Scheduled" {
		t.Fatalf("SourceStateGet = %q", v)
	}
	wantCode(t, s.SourceStateSet(ctx, hirehook.SourceStateParams{TenantID: "other", SourceID: src2.ID, Key: "k", Value: "v"}), hirehook.ENOTFOUND)
	_, err = s.SourceStateGet(ctx, hirehook.SourceStateParams{TenantID: "other", SourceID: src2.ID, Key: key.Key})
	wantCode(t, err, hirehook.ENOTFOUND)

	// Delete takes the state along.
	must(t, s.SourceDelete(ctx, tenant, src2.ID))
	_, err = s.SourceGet(ctx, tenant, src2.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
	wantCode(t, s.SourceDelete(ctx, tenant, src2.ID), hirehook.ENOTFOUND)
	_, err = s.SourceStateGet(ctx, key)
	wantCode(t, err, hirehook.ENOTFOUND)
	wantCode(t, s.SourceStateSet(ctx, key), hirehook.ENOTFOUND)
	// A new source with the same id starts with no state.
	src2.Config = json.RawMessage(`{}`)
	must(t, s.SourceCreate(ctx, src2))
	_, err = s.SourceStateGet(ctx, key)
	wantCode(t, err, hirehook.ENOTFOUND)

	// Tenant deletion removes its sources.
	must(t, s.TenantCreate(ctx, &hirehook.Tenant{ID: "acme", Name: "Acme", RetentionDays: 30, CreatedAt: t0, UpdatedAt: t0}))
	other := newSource(t, s, "acme", true)
	must(t, s.TenantDelete(ctx, "acme"))
	_, err = s.SourceGet(ctx, "acme", other.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
}

func testSourceLease(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	a := newSource(t, s, tenant, true)
	b := newSource(t, s, tenant, true)
	off := newSource(t, s, tenant, false)
	_ = off
	now := time.Now().UTC().Truncate(time.Microsecond)
	lease := func(owner string, at time.Time, limit int) []string {
		t.Helper()
		srcs, err := s.SourceLease(ctx, hirehook.SourceLeaseParams{Owner: owner, Now: at, Until: at.Add(30 * time.Second), Limit: limit})
		must(t, err)
		for _, src := range srcs {
			if src.Health.Node != owner {
				t.Fatalf("leased source %s names node %q, want %q", src.ID, src.Health.Node, owner)
			}
			if src.Secrets["client_secret"] != "cs-1" {
				t.Fatalf("leased source %s lacks its secrets", src.ID)
			}
		}
		return sourceIDs(srcs)
	}
	// Node 1 may run one source: it takes the first; node 2 the other.
	if diff := cmp.Diff([]string{a.ID}, lease("node-1", now, 1)); diff != "" {
		t.Fatalf("node-1 lease (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{b.ID}, lease("node-2", now, 0)); diff != "" {
		t.Fatalf("node-2 lease (-want +got):\n%s", diff)
	}
	got, err := s.SourceGet(ctx, tenant, a.ID)
	must(t, err)
	if got.Health.Node != "node-1" {
		t.Fatalf("SourceGet node = %q, want node-1", got.Health.Node)
	}
	// Renewal keeps what a node holds; a held lease is not taken.
	if diff := cmp.Diff([]string{a.ID}, lease("node-1", now.Add(10*time.Second), 0)); diff != "" {
		t.Fatalf("node-1 renewal (-want +got):\n%s", diff)
	}
	// Only the holder may report.
	h := hirehook.SourceHealth{EventsRead: 1}
	wantCode(t, s.SourceReport(ctx, hirehook.SourceReportParams{TenantID: tenant, ID: a.ID, Owner: "node-2", Health: &h}), hirehook.ECONFLICT)
	must(t, s.SourceReport(ctx, hirehook.SourceReportParams{TenantID: tenant, ID: a.ID, Owner: "node-1", Health: &h}))
	// Once node-2's lease expires, node-1 takes its source too.
	if diff := cmp.Diff([]string{a.ID, b.ID}, lease("node-1", now.Add(31*time.Second), 0)); diff != "" {
		t.Fatalf("takeover (-want +got):\n%s", diff)
	}
	// Disabling a source releases it at the next renewal.
	no := false
	_, err = s.SourceUpdate(ctx, tenant, a.ID, hirehook.SourceUpdate{Enabled: &no})
	must(t, err)
	if diff := cmp.Diff([]string{b.ID}, lease("node-1", now.Add(32*time.Second), 0)); diff != "" {
		t.Fatalf("after disabling (-want +got):\n%s", diff)
	}
	got, err = s.SourceGet(ctx, tenant, a.ID)
	must(t, err)
	if got.Health.Node != "" {
		t.Fatalf("disabled source still names node %q", got.Health.Node)
	}
	// Release lets another node take it at once.
	must(t, s.SourceRelease(ctx, "node-1"))
	if diff := cmp.Diff([]string{b.ID}, lease("node-2", now.Add(33*time.Second), 0)); diff != "" {
		t.Fatalf("after release (-want +got):\n%s", diff)
	}

	// Kinds: a node running polled sources takes none of a push kind, and
	// gives up one it held of a kind it no longer runs.
	push := &hirehook.Source{TenantID: tenant, ID: hirehook.NewID("src"), Kind: "greenhouse", Name: "Acme Greenhouse",
		Config: json.RawMessage(`{}`), Secrets: map[string]string{"client_secret": "cs-1"}, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.SourceCreate(ctx, push))
	leaseKinds := func(owner string, at time.Time, kinds ...string) []string {
		t.Helper()
		srcs, err := s.SourceLease(ctx, hirehook.SourceLeaseParams{Owner: owner, Now: at, Until: at.Add(30 * time.Second), Kinds: kinds})
		must(t, err)
		return sourceIDs(srcs)
	}
	if diff := cmp.Diff([]string{b.ID}, leaseKinds("node-2", now.Add(34*time.Second), hirehook.SourceBullhorn)); diff != "" {
		t.Fatalf("lease of bullhorn sources (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{push.ID}, leaseKinds("node-3", now.Add(34*time.Second), "greenhouse", "lever")); diff != "" {
		t.Fatalf("lease of push kinds (-want +got):\n%s", diff)
	}
	// No kinds: every kind. node-2 holds b and takes nothing held.
	if diff := cmp.Diff([]string{b.ID}, leaseKinds("node-2", now.Add(35*time.Second))); diff != "" {
		t.Fatalf("lease of every kind (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, leaseKinds("node-3", now.Add(36*time.Second), "lever")); diff != "" {
		t.Fatalf("lease after narrowing kinds (-want +got):\n%s", diff)
	}
	got, err = s.SourceGet(ctx, tenant, push.ID)
	must(t, err)
	if got.Health.Node != "" {
		t.Fatalf("source of a kind node-3 dropped still names node %q", got.Health.Node)
	}
	if diff := cmp.Diff([]string{push.ID}, leaseKinds("node-1", now.Add(37*time.Second), "greenhouse")); diff != "" {
		t.Fatalf("lease of the released push source (-want +got):\n%s", diff)
	}
}
