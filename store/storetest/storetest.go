// Package storetest is the conformance suite of hirehook.Store: every
// implementation calls Run from its own tests, and passes it unchanged.
// Change this suite first whenever Store semantics change.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// NewStoreFunc opens a fresh, empty store for one test and registers its
// cleanup with tb.
type NewStoreFunc func(tb testing.TB) hirehook.Store

// Run runs the whole suite against stores made by newStore.
func Run(t *testing.T, newStore NewStoreFunc) {
	t.Run("APIKey", func(t *testing.T) { t.Parallel(); testAPIKey(t, newStore) })
	t.Run("Tenant", func(t *testing.T) { t.Parallel(); testTenant(t, newStore) })
	t.Run("Audit", func(t *testing.T) { t.Parallel(); testAudit(t, newStore) })
	t.Run("Endpoint", func(t *testing.T) { t.Parallel(); testEndpoint(t, newStore) })
	t.Run("EndpointRouting", func(t *testing.T) { t.Parallel(); testEndpointRouting(t, newStore) })
	t.Run("EndpointDestination", func(t *testing.T) { t.Parallel(); testEndpointDestination(t, newStore) })
	t.Run("EventIngestMatch", func(t *testing.T) { t.Parallel(); testEventIngestMatch(t, newStore) })
	t.Run("EndpointTenantIsolation", func(t *testing.T) { t.Parallel(); testEndpointTenantIsolation(t, newStore) })
	t.Run("EventIngest", func(t *testing.T) { t.Parallel(); testEventIngest(t, newStore) })
	t.Run("EventIngestIdempotency", func(t *testing.T) { t.Parallel(); testEventIngestIdempotency(t, newStore) })
	t.Run("EventIngestAtomic", func(t *testing.T) { t.Parallel(); testEventIngestAtomic(t, newStore) })
	t.Run("EventIngestPlan", func(t *testing.T) { t.Parallel(); testEventIngestPlan(t, newStore) })
	t.Run("EventIngestTarget", func(t *testing.T) { t.Parallel(); testEventIngestTarget(t, newStore) })
	t.Run("EventIngestBatch", func(t *testing.T) { t.Parallel(); testEventIngestBatch(t, newStore) })
	t.Run("EventList", func(t *testing.T) { t.Parallel(); testEventList(t, newStore) })
	t.Run("EventListDescending", func(t *testing.T) { t.Parallel(); testEventListDescending(t, newStore) })
	t.Run("EventListSourceAndTime", func(t *testing.T) { t.Parallel(); testEventListSourceAndTime(t, newStore) })
	t.Run("Record", func(t *testing.T) { t.Parallel(); testRecord(t, newStore) })
	t.Run("DeliveryClaim", func(t *testing.T) { t.Parallel(); testDeliveryClaim(t, newStore) })
	t.Run("DeliveryClaimSkipping", func(t *testing.T) { t.Parallel(); testDeliveryClaimSkipping(t, newStore) })
	t.Run("DeliveryClaimConcurrent", func(t *testing.T) { t.Parallel(); testDeliveryClaimConcurrent(t, newStore) })
	t.Run("DeliveryHotHandoff", func(t *testing.T) { t.Parallel(); testDeliveryHotHandoff(t, newStore) })
	t.Run("DeliveryComplete", func(t *testing.T) { t.Parallel(); testDeliveryComplete(t, newStore) })
	t.Run("DeliveryCompleteBatch", func(t *testing.T) { t.Parallel(); testDeliveryCompleteBatch(t, newStore) })
	t.Run("AttemptView", func(t *testing.T) { t.Parallel(); testAttemptView(t, newStore) })
	t.Run("DeliveryRetryRecoverRelease", func(t *testing.T) { t.Parallel(); testDeliveryRetryRecoverRelease(t, newStore) })
	t.Run("DeliveryOrdered", func(t *testing.T) { t.Parallel(); testDeliveryOrdered(t, newStore) })
	t.Run("DeliveryPaused", func(t *testing.T) { t.Parallel(); testDeliveryPaused(t, newStore) })
	t.Run("EndpointFailingSince", func(t *testing.T) { t.Parallel(); testEndpointFailingSince(t, newStore) })
	t.Run("EndpointDeleteCancels", func(t *testing.T) { t.Parallel(); testEndpointDeleteCancels(t, newStore) })
	t.Run("DeliveryStats", func(t *testing.T) { t.Parallel(); testDeliveryStats(t, newStore) })
	t.Run("DeliveryStatsPercentiles", func(t *testing.T) { t.Parallel(); testDeliveryStatsPercentiles(t, newStore) })
	t.Run("DeliveryStatsLatencySuccessOnly", func(t *testing.T) { t.Parallel(); testDeliveryStatsLatencySuccessOnly(t, newStore) })
	t.Run("DeliveryStatsFineBucket", func(t *testing.T) { t.Parallel(); testDeliveryStatsFineBucket(t, newStore) })
	t.Run("DeliveryRetryUTC", func(t *testing.T) { t.Parallel(); testDeliveryRetryUTC(t, newStore) })
	t.Run("RetentionPurge", func(t *testing.T) { t.Parallel(); testRetentionPurge(t, newStore) })
	t.Run("CandidateErase", func(t *testing.T) { t.Parallel(); testCandidateErase(t, newStore) })
	t.Run("Source", func(t *testing.T) { t.Parallel(); testSource(t, newStore) })
	t.Run("SourceLease", func(t *testing.T) { t.Parallel(); testSourceLease(t, newStore) })
	t.Run("SourceLeaseLimit", func(t *testing.T) { t.Parallel(); testSourceLeaseLimit(t, newStore) })
	t.Run("Backfill", func(t *testing.T) { t.Parallel(); testBackfill(t, newStore) })
	t.Run("BackfillEnqueueInput", func(t *testing.T) { t.Parallel(); testBackfillEnqueueInput(t, newStore) })
	t.Run("Inbound", func(t *testing.T) { t.Parallel(); testInbound(t, newStore) })
	t.Run("InboundClaimConcurrent", func(t *testing.T) { t.Parallel(); testInboundClaimConcurrent(t, newStore) })
	t.Run("InboundDedupeHeld", func(t *testing.T) { t.Parallel(); testInboundDedupeHeld(t, newStore) })
	t.Run("InboundMasksCredentials", func(t *testing.T) { t.Parallel(); testInboundMasksCredentials(t, newStore) })
	t.Run("InvalidArguments", func(t *testing.T) { t.Parallel(); testInvalidArguments(t, newStore) })
	t.Run("Capabilities", func(t *testing.T) { t.Parallel(); RunCapabilities(t, newStore) })
}

const tenant = hirehook.DefaultTenantID

// t0 is a fixed time in the past at microsecond precision, the precision
// stores keep. (Release makes deliveries due at the real now, after t0.)
var t0 = time.Date(2024, 11, 27, 9, 30, 0, 0, time.UTC)

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := hirehook.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func newEndpoint(tb testing.TB, s hirehook.Store, tenantID string, types ...string) *hirehook.Endpoint {
	tb.Helper()
	e := &hirehook.Endpoint{
		TenantID:   tenantID,
		ID:         hirehook.NewID("ep"),
		URL:        "https://onboarding.example.com/hooks",
		EventTypes: types,
		Headers:    map[string]string{"X-Agency": "acme"},
		Secrets:    []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: t0}},
		CreatedAt:  t0,
		UpdatedAt:  t0,
	}
	must(tb, s.EndpointCreate(context.Background(), e))
	return e
}

func newEvent(tenantID, typ, subjectID string, data string) *hirehook.Event {
	e := &hirehook.Event{
		TenantID:   tenantID,
		ID:         hirehook.NewID("evt"),
		Type:       typ,
		OccurredAt: t0,
		Source:     "test",
		Subject:    hirehook.Subject{Entity: entityOf(typ), ID: subjectID},
		Data:       json.RawMessage(data),
	}
	return e
}

func entityOf(typ string) string {
	for i := range typ {
		if typ[i] == '.' {
			return typ[:i]
		}
	}
	return typ
}

func ingest(tb testing.TB, s hirehook.Store, events ...*hirehook.Event) []hirehook.EventIngestResult {
	tb.Helper()
	res, err := s.EventIngest(context.Background(), hirehook.EventIngestParams{Events: events, Now: t0})
	must(tb, err)
	if len(res) != len(events) {
		tb.Fatalf("EventIngest returned %d results for %d events", len(res), len(events))
	}
	return res
}

func testAPIKey(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	n, err := s.APIKeyCount(ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("count = %d, want 0", n)
	}
	exp := t0.Add(time.Hour)
	k := &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: tenant, Name: "bootstrap", Scope: hirehook.ScopeOperator, Hash: "abc123", CreatedAt: t0, ExpiresAt: &exp}
	must(t, s.APIKeyCreate(ctx, k))
	wantCode(t, s.APIKeyCreate(ctx, &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: tenant, Name: "again", Hash: "abc123", CreatedAt: t0}), hirehook.ECONFLICT)
	got, err := s.APIKeyByHash(ctx, "abc123")
	must(t, err)
	if diff := cmp.Diff(k, got); diff != "" {
		t.Fatalf("APIKeyByHash mismatch (-want +got):\n%s", diff)
	}
	_, err = s.APIKeyByHash(ctx, "nope")
	wantCode(t, err, hirehook.ENOTFOUND)
	if n, _ := s.APIKeyCount(ctx); n != 1 {
		t.Fatalf("count = %d, want 1", n)
	}
	wantCode(t, s.APIKeyCreate(ctx, &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: "no_such_tenant", Name: "x", Scope: hirehook.ScopeAdmin, Hash: "h2", CreatedAt: t0}), hirehook.ENOTFOUND)

	used := t0.Add(time.Minute)
	must(t, s.APIKeyTouch(ctx, k.ID, used))
	keys, err := s.APIKeyList(ctx, tenant)
	must(t, err)
	if len(keys) != 1 || keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(used) || keys[0].Scope != hirehook.ScopeOperator {
		t.Fatalf("APIKeyList = %+v", keys)
	}
	if keys, _ := s.APIKeyList(ctx, "tenant_b"); len(keys) != 0 {
		t.Fatal("another tenant lists the key")
	}
	wantCode(t, s.APIKeyDelete(ctx, "tenant_b", k.ID), hirehook.ENOTFOUND)
	must(t, s.APIKeyDelete(ctx, tenant, k.ID))
	_, err = s.APIKeyByHash(ctx, "abc123")
	wantCode(t, err, hirehook.ENOTFOUND)
}

func testTenant(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	def, err := s.TenantGet(ctx, hirehook.DefaultTenantID)
	must(t, err)
	if def.RetentionDays != hirehook.DefaultRetentionDays {
		t.Fatalf("default tenant = %+v", def)
	}
	acme := &hirehook.Tenant{ID: "acme", Name: "Acme Staffing", RetentionDays: 7, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.TenantCreate(ctx, acme))
	wantCode(t, s.TenantCreate(ctx, acme), hirehook.ECONFLICT)
	got, err := s.TenantGet(ctx, "acme")
	must(t, err)
	if diff := cmp.Diff(acme, got); diff != "" {
		t.Fatalf("TenantGet mismatch (-want +got):\n%s", diff)
	}
	days := 90
	upd, err := s.TenantUpdate(ctx, "acme", hirehook.TenantUpdate{RetentionDays: &days})
	must(t, err)
	if upd.RetentionDays != 90 || upd.Name != "Acme Staffing" {
		t.Fatalf("TenantUpdate = %+v", upd)
	}
	list, err := s.TenantList(ctx, hirehook.TenantFilter{})
	must(t, err)
	if len(list) != 2 || list[0].ID != hirehook.DefaultTenantID || list[1].ID != "acme" {
		t.Fatalf("TenantList = %d tenants", len(list))
	}

	// Deleting a tenant removes everything it owns, and nothing of others.
	newEndpoint(t, s, "acme", "*")
	other := newEndpoint(t, s, tenant, "*")
	must(t, s.APIKeyCreate(ctx, &hirehook.APIKey{ID: "key_acme", TenantID: "acme", Name: "k", Scope: hirehook.ScopeAdmin, Hash: "acmehash", CreatedAt: t0}))
	ingest(t, s, newEvent("acme", "candidate.created", "c1", `{"id":"c1"}`), newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`))
	must(t, s.TenantDelete(ctx, "acme"))
	_, err = s.TenantGet(ctx, "acme")
	wantCode(t, err, hirehook.ENOTFOUND)
	_, err = s.APIKeyByHash(ctx, "acmehash")
	wantCode(t, err, hirehook.ENOTFOUND)
	_, err = s.RecordGet(ctx, "acme", "candidate", "c1")
	wantCode(t, err, hirehook.ENOTFOUND)
	if evs, _ := s.EventList(ctx, hirehook.EventFilter{TenantID: "acme"}); len(evs) != 0 {
		t.Fatalf("%d events of a deleted tenant remain", len(evs))
	}
	if ds, _ := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: "acme"}); len(ds) != 0 {
		t.Fatalf("%d deliveries of a deleted tenant remain", len(ds))
	}
	if _, err := s.EndpointGet(ctx, tenant, other.ID); err != nil {
		t.Fatalf("another tenant's endpoint went too: %v", err)
	}
	if _, err := s.RecordGet(ctx, tenant, "candidate", "c1"); err != nil {
		t.Fatalf("another tenant's record went too: %v", err)
	}
	wantCode(t, s.TenantDelete(ctx, "acme"), hirehook.ENOTFOUND)
}

func testAudit(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	for i := range 3 {
		must(t, s.AuditAppend(ctx, &hirehook.AuditEntry{ID: fmt.Sprintf("aud_%d", i), TenantID: tenant, At: t0.Add(time.Duration(i) * time.Second),
			KeyID: "key_1", KeyName: "ops", Action: "endpoint.created", Target: fmt.Sprintf("ep_%d", i), Details: json.RawMessage(`{"url":"https://x"}`)}))
	}
	must(t, s.AuditAppend(ctx, &hirehook.AuditEntry{ID: "aud_b", TenantID: "tenant_b", At: t0, KeyID: "k", KeyName: "k", Action: "endpoint.deleted", Target: "ep"}))
	list, err := s.AuditList(ctx, hirehook.AuditFilter{TenantID: tenant, Limit: 2})
	must(t, err)
	if len(list) != 2 || list[0].ID != "aud_2" || list[1].ID != "aud_1" || !list[0].At.Equal(t0.Add(2*time.Second)) || !jsonEqual(t, list[0].Details, json.RawMessage(`{"url":"https://x"}`)) {
		t.Fatalf("AuditList page 1 = %+v", list)
	}
	list, err = s.AuditList(ctx, hirehook.AuditFilter{TenantID: tenant, After: "aud_1"})
	must(t, err)
	if len(list) != 1 || list[0].ID != "aud_0" {
		t.Fatalf("AuditList page 2 = %d entries", len(list))
	}
}

func testEndpoint(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	e := newEndpoint(t, s, tenant, "placement.*", "offer.signed")
	got, err := s.EndpointGet(ctx, tenant, e.ID)
	must(t, err)
	if diff := cmp.Diff(e, got); diff != "" {
		t.Fatalf("EndpointGet mismatch (-want +got):\n%s", diff)
	}
	wantCode(t, s.EndpointCreate(ctx, e), hirehook.ECONFLICT)

	// Isolation settings round trip, and an update sets, keeps and removes
	// them.
	rate := 2.5
	limited := &hirehook.Endpoint{TenantID: tenant, ID: hirehook.NewID("ep"), URL: "https://slow.example.com/in",
		EventTypes: []string{"*"}, Headers: map[string]string{}, Secrets: []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: t0}},
		MaxConcurrency: 3, RateLimitPerSecond: &rate, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.EndpointCreate(ctx, limited))
	got, err = s.EndpointGet(ctx, tenant, limited.ID)
	must(t, err)
	if diff := cmp.Diff(limited, got); diff != "" {
		t.Fatalf("EndpointGet of a limited endpoint mismatch (-want +got):\n%s", diff)
	}
	conc, newRate := 200, 10000.0
	ratePtr := &newRate
	upd, err := s.EndpointUpdate(ctx, tenant, limited.ID, hirehook.EndpointUpdate{MaxConcurrency: &conc, RateLimitPerSecond: &ratePtr})
	must(t, err)
	if upd.MaxConcurrency != 200 || upd.RateLimitPerSecond == nil || *upd.RateLimitPerSecond != 10000 {
		t.Fatalf("EndpointUpdate of the limits = %d, %v", upd.MaxConcurrency, upd.RateLimitPerSecond)
	}
	desc := "kept limits"
	upd, err = s.EndpointUpdate(ctx, tenant, limited.ID, hirehook.EndpointUpdate{Description: &desc})
	must(t, err)
	if upd.MaxConcurrency != 200 || upd.RateLimitPerSecond == nil || *upd.RateLimitPerSecond != 10000 {
		t.Fatalf("EndpointUpdate of the description changed the limits: %d, %v", upd.MaxConcurrency, upd.RateLimitPerSecond)
	}
	var noRate *float64
	upd, err = s.EndpointUpdate(ctx, tenant, limited.ID, hirehook.EndpointUpdate{RateLimitPerSecond: &noRate})
	must(t, err)
	got, err = s.EndpointGet(ctx, tenant, limited.ID)
	must(t, err)
	if got.RateLimitPerSecond != nil || got.MaxConcurrency != 200 {
		t.Fatalf("after removing the rate limit: %d, %v", got.MaxConcurrency, got.RateLimitPerSecond)
	}
	if diff := cmp.Diff(upd, got); diff != "" {
		t.Fatalf("EndpointGet after the limits update mismatch (-want +got):\n%s", diff)
	}
	must(t, s.EndpointDelete(ctx, tenant, limited.ID))

	url, disabled := "https://crm.example.com/in", true
	types := []string{"candidate.*"}
	upd, err = s.EndpointUpdate(ctx, tenant, e.ID, hirehook.EndpointUpdate{URL: &url, Disabled: &disabled, EventTypes: &types})
	must(t, err)
	if upd.URL != url || !upd.Disabled || upd.EventTypes[0] != "candidate.*" || upd.Description != e.Description {
		t.Fatalf("EndpointUpdate = %+v", upd)
	}
	got, err = s.EndpointGet(ctx, tenant, e.ID)
	must(t, err)
	if diff := cmp.Diff(upd, got); diff != "" {
		t.Fatalf("EndpointGet after update mismatch (-want +got):\n%s", diff)
	}

	exp := t0.Add(24 * time.Hour)
	secrets := []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: t0}, {Value: e.Secrets[0].Value, CreatedAt: t0, ExpiresAt: &exp}}
	rot, err := s.EndpointSetSecrets(ctx, tenant, e.ID, secrets)
	must(t, err)
	if diff := cmp.Diff(secrets, rot.Secrets); diff != "" {
		t.Fatalf("secrets mismatch (-want +got):\n%s", diff)
	}
	if got := rot.ActiveSecrets(t0); len(got) != 2 {
		t.Fatalf("active secrets before expiry = %d, want 2", len(got))
	}
	if got := rot.ActiveSecrets(exp); len(got) != 1 || got[0] != secrets[0].Value {
		t.Fatalf("active secrets after expiry = %v", got)
	}

	e2 := newEndpoint(t, s, tenant, "*")
	e3 := newEndpoint(t, s, tenant, "*")
	list, err := s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: tenant, Limit: 2})
	must(t, err)
	if len(list) != 2 || list[0].ID != e.ID || list[1].ID != e2.ID {
		t.Fatalf("EndpointList page 1 = %v", ids(list))
	}
	list, err = s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: tenant, After: e2.ID})
	must(t, err)
	if len(list) != 1 || list[0].ID != e3.ID {
		t.Fatalf("EndpointList page 2 = %v", ids(list))
	}
	_, err = s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: tenant, After: "ep_missing"})
	wantCode(t, err, hirehook.EINVALID)

	must(t, s.EndpointDelete(ctx, tenant, e.ID))
	_, err = s.EndpointGet(ctx, tenant, e.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
	wantCode(t, s.EndpointDelete(ctx, tenant, e.ID), hirehook.ENOTFOUND)
	_, err = s.EndpointUpdate(ctx, tenant, e.ID, hirehook.EndpointUpdate{URL: &url})
	wantCode(t, err, hirehook.ENOTFOUND)
}

func ids(eps []*hirehook.Endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.ID
	}
	return out
}

func testEndpointTenantIsolation(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	e := newEndpoint(t, s, "tenant_a", "*")
	_, err := s.EndpointGet(ctx, "tenant_b", e.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
	wantCode(t, s.EndpointDelete(ctx, "tenant_b", e.ID), hirehook.ENOTFOUND)
	list, err := s.EndpointList(ctx, hirehook.EndpointFilter{TenantID: "tenant_b"})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("tenant_b sees %d endpoints", len(list))
	}
	// An event of tenant_b creates no delivery to tenant_a's endpoint.
	res := ingest(t, s, newEvent("tenant_b", "candidate.created", "c1", `{"id":"c1"}`))
	if res[0].Deliveries != 0 {
		t.Fatalf("tenant_b event made %d deliveries", res[0].Deliveries)
	}
	_, err = s.EventGet(ctx, "tenant_a", res[0].EventID)
	wantCode(t, err, hirehook.ENOTFOUND)
	_, err = s.RecordGet(ctx, "tenant_a", "candidate", "c1")
	wantCode(t, err, hirehook.ENOTFOUND)
}

func testEventIngest(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	onboarding := newEndpoint(t, s, tenant, "placement.*")
	payroll := newEndpoint(t, s, tenant, "placement.confirmed", "offer.signed")
	crm := newEndpoint(t, s, tenant, "candidate.*")
	disabled := true
	off := newEndpoint(t, s, tenant, "*")
	_, err := s.EndpointUpdate(ctx, tenant, off.ID, hirehook.EndpointUpdate{Disabled: &disabled})
	must(t, err)

	ev := newEvent(tenant, "placement.confirmed", "pl_1", `{"id":"pl_1","status":"confirmed"}`)
	ev.Changes = json.RawMessage(`{"status":{"from":"submitted","to":"confirmed"}}`)
	res := ingest(t, s, ev)
	if res[0].EventID != ev.ID || res[0].Deliveries != 2 || res[0].Duplicate {
		t.Fatalf("result = %+v, want 2 deliveries to onboarding and payroll", res[0])
	}

	got, err := s.EventGet(ctx, tenant, ev.ID)
	must(t, err)
	if got.Type != ev.Type || got.Subject != ev.Subject || !got.OccurredAt.Equal(t0) || !got.ReceivedAt.Equal(t0) || got.Deliveries != 2 || got.Source != "test" {
		t.Fatalf("EventGet = %+v", got)
	}
	if !jsonEqual(t, got.Data, ev.Data) || !jsonEqual(t, got.Changes, ev.Changes) {
		t.Fatalf("data/changes = %s / %s", got.Data, got.Changes)
	}
	var body hirehook.WebhookPayload
	must(t, json.Unmarshal(got.Payload, &body))
	if body.ID != ev.ID || body.Type != ev.Type || !body.Timestamp.Equal(t0) {
		t.Fatalf("payload = %s", got.Payload)
	}

	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, EventID: &ev.ID})
	must(t, err)
	endpoints := map[string]bool{}
	for _, d := range ds {
		endpoints[d.EndpointID] = true
		if d.State != hirehook.DeliveryPending || d.Attempts != 0 || d.EventType != ev.Type {
			t.Fatalf("new delivery = %+v", d)
		}
	}
	if len(ds) != 2 || !endpoints[onboarding.ID] || !endpoints[payroll.ID] || endpoints[crm.ID] || endpoints[off.ID] {
		t.Fatalf("deliveries go to %v", endpoints)
	}
	_, err = s.EventGet(ctx, tenant, "evt_missing")
	wantCode(t, err, hirehook.ENOTFOUND)
}

func jsonEqual(tb testing.TB, a, b json.RawMessage) bool {
	tb.Helper()
	var x, y any
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	must(tb, json.Unmarshal(a, &x))
	must(tb, json.Unmarshal(b, &y))
	return cmp.Equal(x, y)
}

func testEventIngestIdempotency(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	newEndpoint(t, s, tenant, "*")

	first := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
	first.IdempotencyKey = "key-1"
	r1 := ingest(t, s, first)

	// Same id, different content: the first answer, nothing written.
	again := newEvent(tenant, "candidate.updated", "c1", `{"id":"c1","first_name":"Ann"}`)
	again.ID = first.ID
	// Same idempotency key, new id.
	byKey := newEvent(tenant, "candidate.updated", "c1", `{"id":"c1"}`)
	byKey.IdempotencyKey = "key-1"
	// Two copies inside one batch.
	fresh := newEvent(tenant, "candidate.updated", "c2", `{"id":"c2"}`)
	copyOf := *fresh
	res := ingest(t, s, again, byKey, fresh, &copyOf)
	for i, r := range res[:2] {
		if !r.Duplicate || r.EventID != first.ID || r.Deliveries != r1[0].Deliveries {
			t.Fatalf("repeat %d = %+v, want the first answer %+v", i, r, r1[0])
		}
	}
	if res[2].Duplicate || !res[3].Duplicate || res[3].EventID != fresh.ID {
		t.Fatalf("in-batch duplicate: %+v / %+v", res[2], res[3])
	}
	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant})
	must(t, err)
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want 2 (one per distinct event)", len(ds))
	}
	evs, err := s.EventList(ctx, hirehook.EventFilter{TenantID: tenant})
	must(t, err)
	if len(evs) != 2 || evs[0].Type != "candidate.created" {
		t.Fatalf("events = %d, first %s", len(evs), evs[0].Type)
	}
	rec, err := s.RecordGet(ctx, tenant, "candidate", "c1")
	must(t, err)
	if rec.Version != 1 {
		t.Fatalf("record version = %d: a duplicate changed the snapshot", rec.Version)
	}
	// The same key in another tenant is a different key.
	other := newEvent("tenant_b", "candidate.created", "c1", `{"id":"c1"}`)
	other.IdempotencyKey = "key-1"
	if r := ingest(t, s, other); r[0].Duplicate {
		t.Fatal("idempotency key leaked across tenants")
	}
}

func testEventIngestAtomic(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	newEndpoint(t, s, tenant, "*")
	good := newEvent(tenant, "candidate.created", "c1", `{"id":"c1"}`)
	bad := newEvent(tenant, "candidate.created", "c2", `{"id":"c2"}`)
	bad.ID = "" // the store refuses an event without an id
	_, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{good, bad}, Now: t0})
	if err == nil {
		t.Fatal("EventIngest accepted an event without id")
	}
	_, err = s.EventGet(ctx, tenant, good.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant})
	must(t, err)
	if len(ds) != 0 {
		t.Fatalf("a failed batch left %d deliveries", len(ds))
	}
	_, err = s.RecordGet(ctx, tenant, "candidate", "c1")
	wantCode(t, err, hirehook.ENOTFOUND)
}

func testEventList(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	var all []*hirehook.Event
	for i := range 5 {
		typ := "candidate.created"
		if i%2 == 1 {
			typ = "job.created"
		}
		all = append(all, newEvent(tenant, typ, fmt.Sprintf("s%d", i%3), fmt.Sprintf(`{"id":"s%d"}`, i%3)))
	}
	ingest(t, s, all...)
	page, err := s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, Limit: 2})
	must(t, err)
	if len(page) != 2 || page[0].ID != all[0].ID || page[1].ID != all[1].ID {
		t.Fatalf("page 1 wrong")
	}
	page, err = s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, After: page[1].ID, Limit: 10})
	must(t, err)
	if len(page) != 3 || page[0].ID != all[2].ID {
		t.Fatalf("page 2 wrong: %d", len(page))
	}
	typ := "job.created"
	page, err = s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, Type: &typ})
	must(t, err)
	if len(page) != 2 {
		t.Fatalf("type filter: %d events, want 2", len(page))
	}
	subj := "s0"
	page, err = s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, SubjectID: &subj})
	must(t, err)
	if len(page) != 2 || page[0].ID != all[0].ID || page[1].ID != all[3].ID {
		t.Fatalf("subject filter: %d events", len(page))
	}
	_, err = s.EventList(ctx, hirehook.EventFilter{TenantID: tenant, After: "evt_nope"})
	wantCode(t, err, hirehook.EINVALID)
}

func testRecord(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	created := newEvent(tenant, "placement.created", "pl_1", `{"id":"pl_1","status":"submitted","candidate":{"id":"c1","first_name":"Ann"},"pay_rate":{"amount":30,"currency":"USD"}}`)
	confirmed := newEvent(tenant, "placement.confirmed", "pl_1", `{"id":"pl_1","status":"confirmed","candidate":{"id":"c1","email":"ann@example.com"},"pay_rate":null}`)
	other := newEvent(tenant, "placement.created", "pl_2", `{"id":"pl_2"}`)
	ingest(t, s, created, other)
	ingest(t, s, confirmed)

	rec, err := s.RecordGet(ctx, tenant, "placement", "pl_1")
	must(t, err)
	want := `{"id":"pl_1","status":"confirmed","candidate":{"id":"c1","first_name":"Ann","email":"ann@example.com"}}`
	if !jsonEqual(t, rec.Data, json.RawMessage(want)) {
		t.Fatalf("snapshot = %s, want %s (JSON merge patch)", rec.Data, want)
	}
	if rec.Version != 2 || rec.Deleted || rec.LastEventID != confirmed.ID || rec.Entity != "placement" || rec.ID != "pl_1" {
		t.Fatalf("record = %+v", rec)
	}
	ingest(t, s, newEvent(tenant, "placement.deleted", "pl_1", `{"id":"pl_1"}`))
	rec, err = s.RecordGet(ctx, tenant, "placement", "pl_1")
	must(t, err)
	if !rec.Deleted || rec.Version != 3 {
		t.Fatalf("after delete: %+v", rec)
	}
	entity, id := "placement", "pl_1"
	hist, err := s.RecordEvents(ctx, hirehook.EventFilter{TenantID: tenant, Entity: &entity, SubjectID: &id})
	must(t, err)
	if len(hist) != 3 || hist[0].ID != created.ID || hist[1].ID != confirmed.ID {
		t.Fatalf("history has %d events", len(hist))
	}
	_, err = s.RecordGet(ctx, tenant, "candidate", "pl_1")
	wantCode(t, err, hirehook.ENOTFOUND)
}

func claim(tb testing.TB, s hirehook.Store, owner string, now time.Time, n int) []*hirehook.Delivery {
	tb.Helper()
	ds, err := s.DeliveryClaim(context.Background(), hirehook.DeliveryClaimParams{Owner: owner, Now: now, LeaseUntil: now.Add(time.Minute), Limit: n})
	must(tb, err)
	return ds
}

func testDeliveryClaim(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	off := newEndpoint(t, s, tenant, "*")
	var evs []*hirehook.Event
	for i := range 3 {
		evs = append(evs, newEvent(tenant, "candidate.created", fmt.Sprint(i), fmt.Sprintf(`{"id":"%d"}`, i)))
	}
	ingest(t, s, evs...)
	disabled := true
	_, err := s.EndpointUpdate(ctx, tenant, off.ID, hirehook.EndpointUpdate{Disabled: &disabled})
	must(t, err)

	if got := claim(t, s, "w1", t0.Add(-time.Second), 10); len(got) != 0 {
		t.Fatalf("claimed %d deliveries before they were due", len(got))
	}
	got := claim(t, s, "w1", t0, 2)
	if len(got) != 2 {
		t.Fatalf("claimed %d, want 2 (limit)", len(got))
	}
	for _, d := range got {
		if d.State != hirehook.DeliveryDelivering || d.EndpointID != ep.ID || len(d.Payload) == 0 {
			t.Fatalf("claimed delivery = %+v (payload %d bytes)", d, len(d.Payload))
		}
	}
	skipped, err := s.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w2", Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 10, SkipEndpoints: []string{ep.ID}})
	must(t, err)
	if len(skipped) != 0 {
		t.Fatalf("claimed %d deliveries of a skipped endpoint", len(skipped))
	}
	rest := claim(t, s, "w2", t0, 10)
	if len(rest) != 1 {
		t.Fatalf("second claim got %d, want 1 (the disabled endpoint's are not claimed)", len(rest))
	}
	if again := claim(t, s, "w2", t0.Add(30*time.Second), 10); len(again) != 0 {
		t.Fatalf("claimed %d leased deliveries before their lease expired", len(again))
	}
	// The lease of w1 runs out: its deliveries are due again, for anyone.
	rescued := claim(t, s, "w3", t0.Add(2*time.Minute), 10)
	if len(rescued) != 3 {
		t.Fatalf("rescued %d expired leases, want 3", len(rescued))
	}
	// Re-enabling the endpoint makes its deliveries claimable (due at the
	// time of the update).
	disabled = false
	_, err = s.EndpointUpdate(ctx, tenant, off.ID, hirehook.EndpointUpdate{Disabled: &disabled, Now: t0.Add(2 * time.Minute)})
	must(t, err)
	if got := claim(t, s, "w4", t0.Add(2*time.Minute), 10); len(got) != 3 {
		t.Fatalf("after re-enable claimed %d, want 3", len(got))
	}
}

func testDeliveryClaimConcurrent(t *testing.T, newStore NewStoreFunc) {
	s := newStore(t)
	newEndpoint(t, s, tenant, "*")
	const n = 200
	var evs []*hirehook.Event
	for i := range n {
		evs = append(evs, newEvent(tenant, "candidate.created", fmt.Sprint(i), fmt.Sprintf(`{"id":"%d"}`, i)))
	}
	ingest(t, s, evs...)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("w%d", w)
			for {
				ds, err := s.DeliveryClaim(context.Background(), hirehook.DeliveryClaimParams{Owner: owner, Now: t0, LeaseUntil: t0.Add(time.Minute), Limit: 7})
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
					seen[d.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), n)
	}
}

func testDeliveryHotHandoff(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	ev := newEvent(tenant, "offer.signed", "o1", `{"id":"o1"}`)
	res, err := s.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{ev}, Now: t0, LeaseOwner: "node1", LeaseUntil: t0.Add(time.Minute)})
	must(t, err)
	if len(res[0].Leased) != 1 {
		t.Fatalf("leased %d deliveries, want 1", len(res[0].Leased))
	}
	d := res[0].Leased[0]
	if d.EndpointID != ep.ID || d.State != hirehook.DeliveryDelivering || len(d.Payload) == 0 || !d.LeaseExpiresAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("leased delivery = %+v", d)
	}
	if got := claim(t, s, "node2", t0, 10); len(got) != 0 {
		t.Fatal("another node claimed a hot-handed delivery while its lease held")
	}
	// The owner finishes it.
	n, err := s.DeliveryComplete(ctx, []hirehook.DeliveryResult{{DeliveryID: d.ID, TenantID: tenant, LeaseOwner: "node1", State: hirehook.DeliveryDelivered,
		Attempt: hirehook.Attempt{Number: 1, StartedAt: t0, Duration: time.Millisecond, StatusCode: 200}}})
	must(t, err)
	if n != 1 {
		t.Fatalf("applied %d results, want 1", n)
	}
	if got := claim(t, s, "node2", t0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatal("a delivered delivery was claimed again")
	}
}

func testDeliveryComplete(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	ingest(t, s, newEvent(tenant, "job.created", "j1", `{"id":"j1"}`))
	d := claim(t, s, "w1", t0, 1)[0]

	// A result from a worker that does not hold the lease is ignored.
	n, err := s.DeliveryComplete(ctx, []hirehook.DeliveryResult{{DeliveryID: d.ID, TenantID: tenant, LeaseOwner: "intruder", State: hirehook.DeliveryDelivered,
		Attempt: hirehook.Attempt{StartedAt: t0, StatusCode: 200}}})
	must(t, err)
	if n != 0 {
		t.Fatal("a result without the lease was applied")
	}

	next := t0.Add(5 * time.Second)
	n, err = s.DeliveryComplete(ctx, []hirehook.DeliveryResult{{DeliveryID: d.ID, TenantID: tenant, LeaseOwner: "w1", State: hirehook.DeliveryRetrying, NextAttemptAt: next,
		Attempt: hirehook.Attempt{StartedAt: t0, Duration: 1500 * time.Microsecond, StatusCode: 500, ResponseBody: "boom", ErrorClass: hirehook.ErrorClassStatus}}})
	must(t, err)
	if n != 1 {
		t.Fatalf("applied %d", n)
	}
	got, attempts, err := s.DeliveryGet(ctx, tenant, d.ID)
	must(t, err)
	if got.State != hirehook.DeliveryRetrying || got.Attempts != 1 || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(next) || got.LastStatus != 500 || got.LastError != "HTTP 500" {
		t.Fatalf("after failure: %+v", got)
	}
	if len(attempts) != 1 || attempts[0].Number != 1 || attempts[0].StatusCode != 500 || attempts[0].ResponseBody != "boom" ||
		attempts[0].Duration != 1500*time.Microsecond || !attempts[0].StartedAt.Equal(t0) || attempts[0].ErrorClass != hirehook.ErrorClassStatus || attempts[0].ID == "" {
		t.Fatalf("attempts = %+v", attempts)
	}
	if early := claim(t, s, "w1", next.Add(-time.Millisecond), 1); len(early) != 0 {
		t.Fatal("claimed a retry before its time")
	}
	d = claim(t, s, "w2", next, 1)[0]
	if d.Attempts != 1 {
		t.Fatalf("claimed retry shows %d attempts", d.Attempts)
	}
	// 410 Gone: the delivery fails and the endpoint is disabled.
	_, err = s.DeliveryComplete(ctx, []hirehook.DeliveryResult{{DeliveryID: d.ID, TenantID: tenant, LeaseOwner: "w2", State: hirehook.DeliveryFailed, DisableEndpoint: "410 Gone",
		Attempt: hirehook.Attempt{StartedAt: next, StatusCode: 410, ErrorClass: hirehook.ErrorClassStatus}}})
	must(t, err)
	got, attempts, err = s.DeliveryGet(ctx, tenant, d.ID)
	must(t, err)
	if got.State != hirehook.DeliveryFailed || got.Attempts != 2 || len(attempts) != 2 || attempts[1].Number != 2 || got.NextAttemptAt != nil {
		t.Fatalf("after 410: %+v, %d attempts", got, len(attempts))
	}
	e, err := s.EndpointGet(ctx, tenant, ep.ID)
	must(t, err)
	if !e.Disabled || e.DisabledReason != "410 Gone" {
		t.Fatalf("endpoint after 410: disabled=%v reason=%q", e.Disabled, e.DisabledReason)
	}
	state := hirehook.DeliveryFailed
	list, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant, State: &state, EndpointID: &ep.ID})
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("failed deliveries listed: %d", len(list))
	}
	_, _, err = s.DeliveryGet(ctx, "tenant_b", d.ID)
	wantCode(t, err, hirehook.ENOTFOUND)
}

func testDeliveryRetryRecoverRelease(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	ingest(t, s, newEvent(tenant, "job.created", "j1", `{"id":"j1"}`), newEvent(tenant, "job.created", "j2", `{"id":"j2"}`))
	ds := claim(t, s, "w1", t0, 2)
	var results []hirehook.DeliveryResult
	for _, d := range ds {
		results = append(results, hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: tenant, LeaseOwner: "w1", State: hirehook.DeliveryFailed,
			Attempt: hirehook.Attempt{StartedAt: t0, ErrorClass: hirehook.ErrorClassConnection, Error: "connection refused"}})
	}
	_, err := s.DeliveryComplete(ctx, results)
	must(t, err)

	later := t0.Add(time.Hour)
	d, err := s.DeliveryRetry(ctx, tenant, ds[0].ID, later)
	must(t, err)
	if d.State != hirehook.DeliveryPending {
		t.Fatalf("after retry: %s", d.State)
	}
	if got := claim(t, s, "w1", later, 10); len(got) != 1 || got[0].ID != ds[0].ID {
		t.Fatalf("claim after retry: %d", len(got))
	}
	_, err = s.DeliveryRetry(ctx, tenant, "dlv_missing", later)
	wantCode(t, err, hirehook.ENOTFOUND)

	// Recover picks the failed delivery created in the window.
	n, err := s.DeliveryRecover(ctx, hirehook.DeliveryRecoverParams{TenantID: tenant, EndpointID: ep.ID, Since: t0.Add(time.Minute), Now: later})
	must(t, err)
	if n != 0 {
		t.Fatalf("recovered %d outside the window", n)
	}
	n, err = s.DeliveryRecover(ctx, hirehook.DeliveryRecoverParams{TenantID: tenant, EndpointID: ep.ID, Since: t0.Add(-time.Minute), Until: t0.Add(time.Minute), Now: later})
	must(t, err)
	if n != 1 {
		t.Fatalf("recovered %d, want 1", n)
	}
	_, err = s.DeliveryRecover(ctx, hirehook.DeliveryRecoverParams{TenantID: tenant, EndpointID: "ep_missing", Now: later})
	wantCode(t, err, hirehook.ENOTFOUND)

	// Release returns leased deliveries without counting an attempt.
	got := claim(t, s, "w9", later, 10)
	if len(got) != 1 {
		t.Fatalf("claimed %d", len(got))
	}
	must(t, s.DeliveryRelease(ctx, "w9", []string{got[0].ID}))
	d, attempts, err := s.DeliveryGet(ctx, tenant, got[0].ID)
	must(t, err)
	if d.State != hirehook.DeliveryRetrying || d.Attempts != 1 || len(attempts) != 1 {
		t.Fatalf("after release: %+v", d)
	}
	if again := claim(t, s, "w10", time.Now().Add(time.Second), 10); len(again) != 2 {
		t.Fatalf("after release claimed %d, want 2", len(again))
	}
}

func testEndpointDeleteCancels(t *testing.T, newStore NewStoreFunc) {
	ctx := context.Background()
	s := newStore(t)
	ep := newEndpoint(t, s, tenant, "*")
	ingest(t, s, newEvent(tenant, "client.created", "cl1", `{"id":"cl1"}`))
	must(t, s.EndpointDelete(ctx, tenant, ep.ID))
	ds, err := s.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenant})
	must(t, err)
	if len(ds) != 1 || ds[0].State != hirehook.DeliveryCancelled {
		t.Fatalf("delivery after endpoint delete: %+v", ds)
	}
	if got := claim(t, s, "w", t0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatal("a cancelled delivery was claimed")
	}
	_, err = s.DeliveryRetry(ctx, tenant, ds[0].ID, t0)
	wantCode(t, err, hirehook.EINVALID)
}
