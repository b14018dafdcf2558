package ops_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
	"github.com/hirehook/hirehook/store/sqlite"
)

// endpointBundle is a real SQLite store with the endpoint and delivery
// operations over it, counting the dispatcher's wake-ups.
type endpointBundle struct {
	store      hirehook.Store
	endpoints  *ops.Endpoints
	deliveries *ops.Deliveries
	notified   *int
	admin      ops.Actor
}

func newEndpointBundle(t *testing.T) *endpointBundle {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := new(int)
	notify := func() { *n++ }
	return &endpointBundle{
		store:      st,
		endpoints:  &ops.Endpoints{Store: st, DefaultMaxConcurrency: 16, NotifyFunc: notify, NowFunc: time.Now},
		deliveries: &ops.Deliveries{Store: st, NotifyFunc: notify, NowFunc: time.Now},
		notified:   n,
		admin:      ops.Actor{TenantID: hirehook.DefaultTenantID, KeyID: "key_a", KeyName: "ops admin", Scope: hirehook.ScopeAdmin},
	}
}

// audit returns the tenant's audit entries, newest first.
func (b *endpointBundle) audit(t *testing.T) []*hirehook.AuditEntry {
	t.Helper()
	entries, err := b.store.AuditList(context.Background(), hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func details(t *testing.T, e *hirehook.AuditEntry) map[string]any {
	t.Helper()
	var m map[string]any
	if len(e.Details) > 0 {
		if err := json.Unmarshal(e.Details, &m); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestEndpointLifecycle: create, update, rotate and delete each store,
// wake the dispatcher only where deliveries may become due, and write one
// audit entry with the same details whichever face acts; the dashboard's
// adds "via". The dashboard's endpoint.created entry names the signing
// scheme and ordering and its rotation the grace, as the API's always did
// (the API's rule was kept where the two faces differed).
func TestEndpointLifecycle(t *testing.T) {
	t.Parallel()
	b := newEndpointBundle(t)
	ctx := context.Background()
	dash := b.admin
	dash.Via = ops.ViaDashboard

	ep, secret, err := b.endpoints.EndpointCreate(ctx, dash, ops.EndpointInput{URL: ptr("https://user:pw@hr.example/hook?token=x"),
		EventTypes: &[]string{"placement.*"}, Headers: &map[string]string{"Authorization": "Bearer s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Secrets[0].Value != secret || hirehook.SigningOf(secret) != hirehook.SigningHMAC || ep.MaxConcurrency != 16 || ep.Payload != hirehook.PayloadFull {
		t.Fatalf("created %+v with secret %q", ep, secret)
	}
	got, err := b.store.EndpointGet(ctx, hirehook.DefaultTenantID, ep.ID)
	if err != nil || got.Headers["Authorization"] != "Bearer s3cret" {
		t.Fatalf("stored %+v, %v", got, err)
	}
	a := b.audit(t)
	if len(a) != 1 || a[0].Action != "endpoint.created" || a[0].Target != ep.ID || a[0].KeyName != "ops admin" {
		t.Fatalf("audit = %+v", a)
	}
	want := `{"disabled":false,"event_types":["placement.*"],"filter":"","ordered":false,"payload":"full","redact":[],"signing":"hmac","transform":"","url":"https://hr.example/hook","via":"dashboard"}`
	if string(a[0].Details) != want {
		t.Errorf("created details\n got %s\nwant %s", a[0].Details, want)
	}

	// Disable (no wake-up), then enable (a wake-up), keeping the masked
	// header's value.
	if _, err := b.endpoints.EndpointUpdate(ctx, b.admin, ep.ID, ops.EndpointInput{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if *b.notified != 0 {
		t.Errorf("disabling woke the dispatcher")
	}
	up, err := b.endpoints.EndpointUpdate(ctx, b.admin, ep.ID, ops.EndpointInput{Disabled: ptr(false),
		Headers: &map[string]string{"authorization": hirehook.Masked, "X-Team": "hr"}})
	if err != nil {
		t.Fatal(err)
	}
	if *b.notified != 1 || up.Disabled || up.Headers["authorization"] != "Bearer s3cret" || up.Headers["X-Team"] != "hr" {
		t.Fatalf("after enabling: %d wake-ups, %+v", *b.notified, up)
	}
	a = b.audit(t)
	if got := string(a[0].Details); a[0].Action != "endpoint.updated" || got != `{"disabled":false,"headers":"changed"}` {
		t.Errorf("update audited as %s %s", a[0].Action, got)
	}

	// The API's rotation with a grace, the dashboard's with the default.
	rot, newSecret, err := b.endpoints.EndpointRotateSecret(ctx, dash, ep.ID, hirehook.SecretRotationGrace)
	if err != nil {
		t.Fatal(err)
	}
	if newSecret == secret || rot.Secrets[0].Value != newSecret || len(rot.Secrets) != 2 {
		t.Fatalf("rotated: %d secrets", len(rot.Secrets))
	}
	a = b.audit(t)
	if d := details(t, a[0]); a[0].Action != "endpoint.secret_rotated" || d["grace"] != "24h0m0s" || d["via"] != "dashboard" || d["previous_expires_at"] == nil {
		t.Errorf("rotation audited as %s %v", a[0].Action, d)
	}

	if err := b.endpoints.EndpointDelete(ctx, b.admin, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.EndpointGet(ctx, hirehook.DefaultTenantID, ep.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
	if a = b.audit(t); a[0].Action != "endpoint.deleted" || a[0].Details != nil {
		t.Errorf("delete audited as %s %s", a[0].Action, a[0].Details)
	}
	if err := b.endpoints.EndpointDelete(ctx, b.admin, ep.ID); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Errorf("second delete: %v, want not found", err)
	}
	if n := len(b.audit(t)); n != 5 {
		t.Errorf("%d audit entries, want 5 (a failed delete is not audited)", n)
	}
}

// TestEndpointValidate: each rule answers EINVALID naming the field, and a
// refused call stores and audits nothing.
func TestEndpointValidate(t *testing.T) {
	t.Parallel()
	b := newEndpointBundle(t)
	ctx := context.Background()
	types := &[]string{"placement.confirmed"}
	url := ptr("https://hr.example/hook")
	for _, tc := range []struct {
		name  string
		in    ops.EndpointInput
		field string
	}{
		{"NoURL", ops.EndpointInput{EventTypes: types}, "url"},
		{"BadURL", ops.EndpointInput{URL: ptr("ftp://hr.example"), EventTypes: types}, "url"},
		{"NoTypes", ops.EndpointInput{URL: url}, "event_types"},
		{"EmptyTypes", ops.EndpointInput{URL: url, EventTypes: &[]string{}}, "event_types"},
		{"BadPattern", ops.EndpointInput{URL: url, EventTypes: &[]string{"placement.confirmed", "Placement"}}, "event_types[1]"},
		{"UnknownType", ops.EndpointInput{URL: url, EventTypes: &[]string{"rocket.launched"}}, "event_types[0]"},
		{"LongDescription", ops.EndpointInput{URL: url, EventTypes: types, Description: ptr(string(make([]byte, 1001)))}, "description"},
		{"ZeroConcurrency", ops.EndpointInput{URL: url, EventTypes: types, MaxConcurrency: ptr(0)}, "max_concurrency"},
		{"ZeroRate", ops.EndpointInput{URL: url, EventTypes: types, RateLimitPerSecond: ptr(ptr(0.0))}, "rate_limit_per_second"},
		{"EmptyPayload", ops.EndpointInput{URL: url, EventTypes: types, Payload: ptr("")}, "payload"},
		{"BadFilter", ops.EndpointInput{URL: url, EventTypes: types, Filter: ptr(".data |")}, "filter"},
		{"ReservedHeader", ops.EndpointInput{URL: url, EventTypes: types, Headers: &map[string]string{"webhook-id": "x"}}, "headers.webhook-id"},
		{"MaskedHeaderOnCreate", ops.EndpointInput{URL: url, EventTypes: types, Headers: &map[string]string{"X-Key": hirehook.Masked}}, "headers.X-Key"},
		{"BadSigning", ops.EndpointInput{URL: url, EventTypes: types, Signing: ptr("rsa")}, "signing"},
	} {
		_, _, err := b.endpoints.EndpointCreate(ctx, b.admin, tc.in)
		if hirehook.ErrorCode(err) != hirehook.EINVALID || hirehook.ErrorField(err) != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	ep, _, err := b.endpoints.EndpointCreate(ctx, b.admin, ops.EndpointInput{URL: url, EventTypes: types, Signing: ptr(hirehook.SigningEd25519)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		in    ops.EndpointInput
		field string
	}{
		{"EmptyTypes", ops.EndpointInput{EventTypes: &[]string{}}, "event_types"},
		{"OtherSigning", ops.EndpointInput{Signing: ptr(hirehook.SigningHMAC)}, "signing"},
		{"MaskedUnknownHeader", ops.EndpointInput{Headers: &map[string]string{"X-Key": hirehook.Masked}}, "headers.X-Key"},
	} {
		if _, err := b.endpoints.EndpointUpdate(ctx, b.admin, ep.ID, tc.in); hirehook.ErrorCode(err) != hirehook.EINVALID || hirehook.ErrorField(err) != tc.field {
			t.Errorf("update %s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}
	// Sending the scheme it has is fine.
	if _, err := b.endpoints.EndpointUpdate(ctx, b.admin, ep.ID, ops.EndpointInput{Signing: ptr(hirehook.SigningEd25519)}); err != nil {
		t.Errorf("update with its own scheme: %v", err)
	}
	if _, _, err := b.endpoints.EndpointRotateSecret(ctx, b.admin, ep.ID, 8*24*time.Hour); hirehook.ErrorField(err) != "grace" {
		t.Errorf("rotate with 8 days of grace: %v, want invalid grace", err)
	}
	if n := len(b.audit(t)); n != 2 {
		t.Errorf("%d audit entries, want 2 (one create, one update)", n)
	}
}

// TestEndpointScope: below admin, no endpoint or delivery operation runs,
// and nothing is stored, woken or audited.
func TestEndpointScope(t *testing.T) {
	t.Parallel()
	b := newEndpointBundle(t)
	ctx := context.Background()
	ep, _, err := b.endpoints.EndpointCreate(ctx, b.admin, ops.EndpointInput{URL: ptr("https://hr.example/hook"), EventTypes: &[]string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []hirehook.Scope{hirehook.ScopeViewer, hirehook.ScopeProducer, ""} {
		a := ops.Actor{TenantID: hirehook.DefaultTenantID, KeyID: "key_v", Scope: scope}
		in := ops.EndpointInput{URL: ptr("https://hr.example/other"), EventTypes: &[]string{"*"}, Disabled: ptr(false)}
		errs := map[string]error{}
		_, _, errs["create"] = b.endpoints.EndpointCreate(ctx, a, in)
		_, errs["update"] = b.endpoints.EndpointUpdate(ctx, a, ep.ID, in)
		_, _, errs["rotate"] = b.endpoints.EndpointRotateSecret(ctx, a, ep.ID, 0)
		errs["delete"] = b.endpoints.EndpointDelete(ctx, a, ep.ID)
		_, errs["retry"] = b.deliveries.DeliveryRetry(ctx, a, "dlv_1")
		_, errs["recover"] = b.deliveries.DeliveryRecover(ctx, a, ep.ID, time.Now().Add(-time.Hour), time.Time{})
		for op, err := range errs {
			if hirehook.ErrorCode(err) != hirehook.EFORBIDDEN {
				t.Errorf("%q %s: %v, want forbidden", scope, op, err)
			}
		}
	}
	got, err := b.store.EndpointGet(ctx, hirehook.DefaultTenantID, ep.ID)
	if err != nil || got.URL != "https://hr.example/hook" || len(got.Secrets) != 1 {
		t.Fatalf("after refused calls: %+v, %v", got, err)
	}
	if n := len(b.audit(t)); n != 1 || *b.notified != 0 {
		t.Errorf("after refused calls: %d audit entries, %d wake-ups; want 1, 0", n, *b.notified)
	}
}

// TestDeliveryRecover: the window's end must follow its start; the audit
// entry has "until" only when one was given, as a time like "since" (the
// dashboard's rule: the API wrote the string it was sent, "" when none).
func TestDeliveryRecover(t *testing.T) {
	t.Parallel()
	b := newEndpointBundle(t)
	ctx := context.Background()
	ep, _, err := b.endpoints.EndpointCreate(ctx, b.admin, ops.EndpointInput{URL: ptr("https://hr.example/hook"), EventTypes: &[]string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	if _, err := b.deliveries.DeliveryRecover(ctx, b.admin, ep.ID, since, since); hirehook.ErrorField(err) != "until" {
		t.Errorf("until = since: %v, want invalid until", err)
	}
	n, err := b.deliveries.DeliveryRecover(ctx, b.admin, ep.ID, since, time.Time{})
	if err != nil || n != 0 {
		t.Fatalf("recover: %d, %v", n, err)
	}
	if *b.notified != 0 {
		t.Errorf("nothing recovered, yet the dispatcher was woken")
	}
	a := b.audit(t)
	if got := string(a[0].Details); a[0].Action != "endpoint.recovered" || a[0].Target != ep.ID || got != `{"recovered":0,"since":"2026-11-27T00:00:00Z"}` {
		t.Errorf("recover audited as %s %s", a[0].Action, got)
	}
	if _, err := b.deliveries.DeliveryRecover(ctx, b.admin, ep.ID, since, since.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := string(b.audit(t)[0].Details); got != `{"recovered":0,"since":"2026-11-27T00:00:00Z","until":"2026-11-28T00:00:00Z"}` {
		t.Errorf("recover with until audited as %s", got)
	}
	// A retry of a delivery that does not exist does nothing.
	if _, err := b.deliveries.DeliveryRetry(ctx, b.admin, "dlv_nope"); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Errorf("retry of an unknown delivery: %v, want not found", err)
	}
	if n := len(b.audit(t)); n != 3 || *b.notified != 0 {
		t.Errorf("%d audit entries, %d wake-ups; want 3, 0", n, *b.notified)
	}
}
