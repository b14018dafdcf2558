package ops_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/ops"
)

// auditIn returns tenant's audit entries, newest first.
func auditIn(t *testing.T, st hirehook.Store, tenantID string) []*hirehook.AuditEntry {
	t.Helper()
	entries, err := st.AuditList(context.Background(), hirehook.AuditFilter{TenantID: tenantID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	if hirehook.ErrorCode(err) != code || hirehook.ErrorField(err) != field {
		t.Fatalf("err = %v (code %s, field %q), want %s on %q", err, hirehook.ErrorCode(err), hirehook.ErrorField(err), code, field)
	}
}

// TestAPIKeys: a key is created in the actor's tenant (or, by the
// operator, in another) and audited there; only the operator makes
// operator keys or keys elsewhere; revoking tells the cache and audits;
// a key of another tenant cannot be revoked.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	b := newEndpointBundle(t)
	ctx := context.Background()
	var revoked []string
	keys := &ops.APIKeys{Store: b.store, NowFunc: time.Now, RevokedFunc: func(id string) { revoked = append(revoked, id) }}
	operator := b.admin
	operator.Scope = hirehook.ScopeOperator
	if err := b.store.TenantCreate(ctx, &hirehook.Tenant{ID: "acme", Name: "Acme", RetentionDays: 30, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	_, _, err := keys.APIKeyCreate(ctx, b.admin, ops.APIKeyInput{Name: "", Scope: hirehook.ScopeViewer})
	wantCode(t, err, hirehook.EINVALID, "name")
	_, _, err = keys.APIKeyCreate(ctx, b.admin, ops.APIKeyInput{Name: "x", Scope: "root"})
	wantCode(t, err, hirehook.EINVALID, "scope")
	_, _, err = keys.APIKeyCreate(ctx, b.admin, ops.APIKeyInput{Name: "x", Scope: hirehook.ScopeOperator})
	wantCode(t, err, hirehook.EINVALID, "scope")
	_, _, err = keys.APIKeyCreate(ctx, b.admin, ops.APIKeyInput{Name: "x", Scope: hirehook.ScopeViewer, ExpiresAt: ptr(time.Now().Add(-time.Hour))})
	wantCode(t, err, hirehook.EINVALID, "expires_at")
	_, _, err = keys.APIKeyCreate(ctx, b.admin, ops.APIKeyInput{Name: "x", Scope: hirehook.ScopeViewer, TenantID: "acme"})
	wantCode(t, err, hirehook.EFORBIDDEN, "")
	viewer := b.admin
	viewer.Scope = hirehook.ScopeViewer
	_, _, err = keys.APIKeyCreate(ctx, viewer, ops.APIKeyInput{Name: "x", Scope: hirehook.ScopeViewer})
	wantCode(t, err, hirehook.EFORBIDDEN, "")
	_, _, err = keys.APIKeyCreate(ctx, operator, ops.APIKeyInput{Name: "x", Scope: hirehook.ScopeViewer, TenantID: "nope"})
	wantCode(t, err, hirehook.EINVALID, "tenant_id")
	if n := len(b.audit(t)); n != 0 {
		t.Fatalf("%d audit entries after refused creations", n)
	}

	k, key, err := keys.APIKeyCreate(ctx, b.admin, ops.APIKeyInput{Name: "ci", Scope: hirehook.ScopeProducer})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.store.APIKeyByHash(ctx, hirehook.HashAPIKey(key)); err != nil || got.ID != k.ID || got.TenantID != hirehook.DefaultTenantID {
		t.Fatalf("stored key = %+v, %v", got, err)
	}
	a := b.audit(t)
	if len(a) != 1 || a[0].Action != "api_key.created" || a[0].Target != k.ID || a[0].KeyID != "key_a" ||
		details(t, a[0])["name"] != "ci" || details(t, a[0])["scope"] != "producer" {
		t.Fatalf("audit = %+v", a)
	}

	other, _, err := keys.APIKeyCreate(ctx, operator, ops.APIKeyInput{Name: "acme admin", Scope: hirehook.ScopeAdmin, TenantID: "acme"})
	if err != nil || other.TenantID != "acme" {
		t.Fatalf("operator's key in acme = %+v, %v", other, err)
	}
	if a := auditIn(t, b.store, "acme"); len(a) != 1 || a[0].Action != "api_key.created" || a[0].Target != other.ID {
		t.Fatalf("acme's audit = %+v", a)
	}

	wantCode(t, keys.APIKeyRevoke(ctx, b.admin, other.ID), hirehook.ENOTFOUND, "")
	wantCode(t, keys.APIKeyRevoke(ctx, viewer, k.ID), hirehook.EFORBIDDEN, "")
	if err := keys.APIKeyRevoke(ctx, b.admin, k.ID); err != nil {
		t.Fatal(err)
	}
	if len(revoked) != 1 || revoked[0] != k.ID {
		t.Errorf("revoked = %v", revoked)
	}
	if a := b.audit(t); len(a) != 2 || a[0].Action != "api_key.revoked" || a[0].Target != k.ID || len(a[0].Details) != 0 {
		t.Fatalf("audit = %+v", a[0])
	}
}

// TestTenants: only the operator creates, changes and deletes tenants;
// each is audited in the operator's tenant; the operator's own tenant
// cannot be deleted; a deletion tells the key cache.
func TestTenants(t *testing.T) {
	t.Parallel()
	b := newEndpointBundle(t)
	ctx := context.Background()
	var deleted []string
	tenants := &ops.Tenants{Store: b.store, NowFunc: time.Now, DeletedFunc: func(id string) { deleted = append(deleted, id) }}
	operator := b.admin
	operator.Scope = hirehook.ScopeOperator

	_, err := tenants.TenantCreate(ctx, b.admin, ops.TenantInput{Name: ptr("Acme")})
	wantCode(t, err, hirehook.EFORBIDDEN, "")
	_, err = tenants.TenantCreate(ctx, operator, ops.TenantInput{ID: ptr("Acme!"), Name: ptr("Acme")})
	wantCode(t, err, hirehook.EINVALID, "id")
	_, err = tenants.TenantCreate(ctx, operator, ops.TenantInput{})
	wantCode(t, err, hirehook.EINVALID, "name")
	_, err = tenants.TenantCreate(ctx, operator, ops.TenantInput{Name: ptr("Acme"), RetentionDays: ptr(0)})
	wantCode(t, err, hirehook.EINVALID, "retention_days")

	tn, err := tenants.TenantCreate(ctx, operator, ops.TenantInput{ID: ptr("acme"), Name: ptr("Acme")})
	if err != nil || tn.ID != "acme" || tn.RetentionDays != hirehook.DefaultRetentionDays {
		t.Fatalf("created %+v, %v", tn, err)
	}
	_, err = tenants.TenantCreate(ctx, operator, ops.TenantInput{ID: ptr("acme"), Name: ptr("Acme")})
	wantCode(t, err, hirehook.ECONFLICT, "")

	_, err = tenants.TenantUpdate(ctx, operator, "acme", ops.TenantInput{ID: ptr("acme2")})
	wantCode(t, err, hirehook.EINVALID, "id")
	_, err = tenants.TenantUpdate(ctx, operator, "acme", ops.TenantInput{Name: ptr("")})
	wantCode(t, err, hirehook.EINVALID, "name")
	_, err = tenants.TenantUpdate(ctx, b.admin, "acme", ops.TenantInput{RetentionDays: ptr(7)})
	wantCode(t, err, hirehook.EFORBIDDEN, "")
	tn, err = tenants.TenantUpdate(ctx, operator, "acme", ops.TenantInput{RetentionDays: ptr(7)})
	if err != nil || tn.RetentionDays != 7 || tn.Name != "Acme" {
		t.Fatalf("updated %+v, %v", tn, err)
	}

	wantCode(t, tenants.TenantDelete(ctx, operator, hirehook.DefaultTenantID), hirehook.EINVALID, "id")
	wantCode(t, tenants.TenantDelete(ctx, b.admin, "acme"), hirehook.EFORBIDDEN, "")
	if err := tenants.TenantDelete(ctx, operator, "acme"); err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 1 || deleted[0] != "acme" {
		t.Errorf("deleted = %v", deleted)
	}
	wantCode(t, tenants.TenantDelete(ctx, operator, "acme"), hirehook.ENOTFOUND, "")

	a := b.audit(t)
	if len(a) != 3 || a[2].Action != "tenant.created" || a[1].Action != "tenant.updated" || a[0].Action != "tenant.deleted" {
		t.Fatalf("audit = %+v", a)
	}
	if got := string(a[1].Details); got != `{"name":null,"retention_days":7}` {
		t.Errorf("tenant.updated details = %s", got)
	}
	if d := details(t, a[2]); d["name"] != "Acme" || d["retention_days"] != float64(30) || a[2].Target != "acme" {
		t.Errorf("tenant.created = %+v", a[2])
	}
}

// TestCandidateErase: an erasure rewrites the tenant's rows, emits
// candidate.anonymized and audits the counts with the event's id; it
// needs admin scope and touches only the actor's tenant.
func TestCandidateErase(t *testing.T) {
	t.Parallel()
	b := newEndpointBundle(t)
	ctx := context.Background()
	ing := ingest.New(b.store, ingest.Config{})
	if err := ing.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ing.Stop(ctx)
	})
	data, _ := json.Marshal(map[string]any{"id": "cand_1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
	e, err := ing.Prepare(hirehook.DefaultTenantID, &hirehook.EventInput{Type: "candidate.created", Source: "ats", Data: data}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ing.Commit(ctx, []*hirehook.Event{e}); err != nil {
		t.Fatal(err)
	}
	erasures := &ops.Erasures{Store: b.store, Ingester: ing, NowFunc: time.Now}

	viewer := b.admin
	viewer.Scope = hirehook.ScopeViewer
	_, err = erasures.CandidateErase(ctx, viewer, "cand_1")
	wantCode(t, err, hirehook.EFORBIDDEN, "")
	long := make([]byte, 129)
	for i := range long {
		long[i] = 'a'
	}
	_, err = erasures.CandidateErase(ctx, b.admin, string(long))
	wantCode(t, err, hirehook.EINVALID, "id")
	other := b.admin
	other.TenantID = "acme"
	if err := b.store.TenantCreate(ctx, &hirehook.Tenant{ID: "acme", Name: "Acme", RetentionDays: 30, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err = erasures.CandidateErase(ctx, other, "cand_1") // the candidate is not acme's
	wantCode(t, err, hirehook.ENOTFOUND, "")
	if n := len(b.audit(t)) + len(auditIn(t, b.store, "acme")); n != 0 {
		t.Fatalf("%d audit entries after refused erasures", n)
	}

	res, err := erasures.CandidateErase(ctx, b.admin, "cand_1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 1 || res.Records != 1 || res.AnonymizedEventID == "" {
		t.Fatalf("erased %+v", res)
	}
	ev, err := b.store.EventGet(ctx, hirehook.DefaultTenantID, res.AnonymizedEventID)
	if err != nil || ev.Type != "candidate.anonymized" || string(ev.Data) != `{"id":"cand_1"}` {
		t.Fatalf("anonymized event = %+v, %v", ev, err)
	}
	a := b.audit(t)
	if len(a) != 1 || a[0].Action != "candidate.erased" || a[0].Target != "cand_1" || a[0].KeyName != "ops admin" {
		t.Fatalf("audit = %+v", a)
	}
	if d := details(t, a[0]); d["events"] != float64(1) || d["records"] != float64(1) || d["anonymized_event_id"] != res.AnonymizedEventID {
		t.Errorf("candidate.erased details = %v", d)
	}
}

// TestBackfills: a backfill is validated in the order the API always
// answered (entities, each known then not repeated, the filter, the rate),
// stored for an endpoint of the actor's tenant, wakes the runner and is
// audited on the endpoint; cancelling is audited with what was sent.
func TestBackfills(t *testing.T) {
	t.Parallel()
	b := newEndpointBundle(t)
	ctx := context.Background()
	changed := 0
	backfills := &ops.Backfills{Store: b.store, ChangedFunc: func() { changed++ }, NowFunc: time.Now}
	ep, _, err := b.endpoints.EndpointCreate(ctx, b.admin, ops.EndpointInput{URL: ptr("https://hr.example/hook"), EventTypes: &[]string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in    ops.BackfillInput
		field string
	}{
		{ops.BackfillInput{Filter: ptr("(")}, "entities"},
		{ops.BackfillInput{Entities: []string{"candidate", "candidate", "nope"}}, "entities[1]"},
		{ops.BackfillInput{Entities: []string{"candidate", "nope", "candidate"}}, "entities[1]"},
		{ops.BackfillInput{Entities: []string{"candidate"}, Filter: ptr("("), RatePerSecond: ptr(0)}, "filter"},
		{ops.BackfillInput{Entities: []string{"candidate"}, RatePerSecond: ptr(hirehook.MaxBackfillRate + 1)}, "rate_per_second"},
	} {
		_, err := backfills.BackfillCreate(ctx, b.admin, ep.ID, c.in)
		if hirehook.ErrorCode(err) != hirehook.EINVALID || hirehook.ErrorField(err) != c.field {
			t.Errorf("%+v: err = %v (field %q), want %q", c.in, err, hirehook.ErrorField(err), c.field)
		}
	}
	viewer := b.admin
	viewer.Scope = hirehook.ScopeViewer
	_, err = backfills.BackfillCreate(ctx, viewer, ep.ID, ops.BackfillInput{Entities: []string{"candidate"}})
	wantCode(t, err, hirehook.EFORBIDDEN, "")
	other := b.admin
	other.TenantID = "acme"
	if err := b.store.TenantCreate(ctx, &hirehook.Tenant{ID: "acme", Name: "Acme", RetentionDays: 30, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err = backfills.BackfillCreate(ctx, other, ep.ID, ops.BackfillInput{Entities: []string{"candidate"}})
	wantCode(t, err, hirehook.ENOTFOUND, "")
	if changed != 0 {
		t.Fatalf("runner woken %d times by refused backfills", changed)
	}

	bf, err := backfills.BackfillCreate(ctx, b.admin, ep.ID, ops.BackfillInput{Entities: []string{"candidate", "placement"}, Filter: ptr(".data.id != null"), RatePerSecond: ptr(5)})
	if err != nil {
		t.Fatal(err)
	}
	if bf.RatePerSecond != 5 || bf.State != hirehook.BackfillRunning || changed != 1 {
		t.Fatalf("backfill %+v, runner woken %d times", bf, changed)
	}
	a := b.audit(t)
	if a[0].Action != "endpoint.backfill_started" || a[0].Target != ep.ID {
		t.Fatalf("audit = %+v", a[0])
	}
	if d := details(t, a[0]); d["backfill_id"] != bf.ID || d["filter"] != ".data.id != null" || d["rate_per_second"] != float64(5) {
		t.Errorf("endpoint.backfill_started details = %v", d)
	}

	_, err = backfills.BackfillCancel(ctx, other, bf.ID)
	wantCode(t, err, hirehook.ENOTFOUND, "")
	_, err = backfills.BackfillCancel(ctx, viewer, bf.ID)
	wantCode(t, err, hirehook.EFORBIDDEN, "")
	got, err := backfills.BackfillCancel(ctx, b.admin, bf.ID)
	if err != nil || got.State != hirehook.BackfillCancelled {
		t.Fatalf("cancelled %+v, %v", got, err)
	}
	a = b.audit(t)
	if a[0].Action != "endpoint.backfill_cancelled" || a[0].Target != ep.ID || string(a[0].Details) != `{"backfill_id":"`+bf.ID+`","sent":0}` {
		t.Fatalf("audit = %+v %s", a[0], a[0].Details)
	}
}
