package web_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/bullhorn"
	"github.com/hirehook/hirehook/inbound"
	"github.com/hirehook/hirehook/ops"
)

// TestSources: the Sources page and the Integrations page list the
// tenant's sources with their health, never their secrets, and another
// tenant sees none of them.
func TestSources(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	for _, key := range []string{adminKey, viewerKey} {
		c := b.signedIn(t, key)
		for _, path := range []string{"/sources", "/"} {
			r := c.get(path)
			wantStatus(t, r, http.StatusOK)
			wantContains(t, r.body, "Northwind Bullhorn", "Legacy Bullhorn", "Sandbox Bullhorn", `<span class="badge bad">failing</span>`,
				"401 Unauthorized: invalid client credentials")
			if strings.Contains(r.body, "do-not-show") {
				t.Fatalf("%s shows a source's secret", path)
			}
		}
	}
	r := b.signedIn(t, acmeKey).get("/sources")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "No sources yet", `<a class="button primary" href="/sources/new">Connect a source</a>`)
	if strings.Contains(r.body, "Northwind") {
		t.Fatal("another tenant's source is listed")
	}
}

// TestPushSources: a push source is listed with its ingest URL and its own
// health, and links to its page.
func TestPushSources(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	for _, key := range []string{adminKey, viewerKey} {
		r := b.signedIn(t, key).get("/sources")
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.body, "Push sources", `<a class="strong" href="/sources/`+srcPush+`">Northwind Greenhouse</a>`,
			b.server.URL+"/in/"+srcPush, `<span class="badge warn">degraded</span><div class="sub">1 webhook failed to normalise; see the request log.</div>`)
		if strings.Contains(r.body, "Never polled") {
			t.Fatal("a push source is rated as a polled one")
		}
	}
}

// TestSourcePage: a push source's page lists its request log, filtered by
// status, and each request's page shows its body escaped; a polled
// source's page shows its health and no request log.
func TestSourcePage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	c := b.signedIn(t, viewerKey)

	r := c.get("/sources/" + srcPush)
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "Request log", b.server.URL+"/in/"+srcPush, `&#34;account&#34;: &#34;northwind&#34;`,
		"/sources/"+srcPush+"/requests/"+inrProcessed, `<a class="mono" href="/events/`+evtCandidate+`">`,
		"gh:delivery-7790", "payload.offer is missing", "candidate_stage_change", `<span class="badge muted">duplicate</span>`)
	if strings.Contains(r.body, `action="/sources/`+srcPush+`/reprocess"`) {
		t.Fatal("a viewer is offered the Reprocess form")
	}

	r = c.get("/sources/" + srcPush + "?status=failed")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, inrFailed, `<option value="failed" selected>`)
	if strings.Contains(r.body, "/requests/"+inrProcessed) {
		t.Fatal("?status=failed lists a processed request")
	}
	r = c.get("/sources/" + srcPush + "?status=handshake")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "No handshake requests.")
	wantStatus(t, c.get("/sources/"+srcPush+"?status=bogus"), http.StatusUnprocessableEntity)

	r = c.get("/sources/" + srcBroken)
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "Last poll", "401 Unauthorized: invalid client credentials", `&#34;poll_interval_ms&#34;: 5000`)
	if strings.Contains(r.body, "Request log") || strings.Contains(r.body, "/in/") {
		t.Fatal("a polled source shows a request log or an ingest URL")
	}
	wantStatus(t, c.get("/sources/src_missing"), http.StatusNotFound)
	wantStatus(t, c.get("/sources/"+srcBroken+"/requests/"+inrProcessed), http.StatusNotFound)
	wantStatus(t, c.get("/sources/"+srcPush+"/requests/inr_missing"), http.StatusNotFound)
	// Another tenant sees neither the source nor its requests.
	acme := b.signedIn(t, acmeKey)
	wantStatus(t, acme.get("/sources/"+srcPush), http.StatusNotFound)
	wantStatus(t, acme.get("/sources/"+srcPush+"/requests/"+inrProcessed), http.StatusNotFound)

	// A body with markup is shown as text; so are its headers.
	ctx := context.Background()
	body := `{"action":"</pre><script>alert(1)</script>","n":1}`
	must(t, b.store.InboundCreate(ctx, &hirehook.InboundRequest{TenantID: hirehook.DefaultTenantID, ID: "inr_0009", SourceID: srcPush,
		ReceivedAt: now.Add(-time.Minute), Status: hirehook.InboundReceived, DedupeKey: "gh:x",
		Header: http.Header{"X-Evil": {"<script>alert(2)</script>"}}, Body: []byte(body), BodySize: len(body)}))
	r = c.get("/sources/" + srcPush + "/requests/inr_0009")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(2)&lt;/script&gt;", `&#34;n&#34;: 1`)
	if strings.Contains(r.body, "<script>") {
		t.Fatal("the request page renders the body's markup")
	}
	// A body that is not JSON is shown as it came, escaped too.
	raw := "a=1&b=<b>x</b>"
	must(t, b.store.InboundCreate(ctx, &hirehook.InboundRequest{TenantID: hirehook.DefaultTenantID, ID: "inr_0010", SourceID: srcPush,
		ReceivedAt: now.Add(-time.Minute), Status: hirehook.InboundReceived, DedupeKey: "gh:y", Body: []byte(raw), BodySize: len(raw)}))
	r = c.get("/sources/" + srcPush + "/requests/inr_0010")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "a=1&amp;b=&lt;b&gt;x&lt;/b&gt;")
}

// TestSourceReprocess: Reprocess is a form like the others that change
// state: it needs the session's CSRF token and an admin key, and it makes
// the window's requests received again and wakes the inbound worker.
func TestSourceReprocess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	statusOf := func(b *bundle, id string) string {
		q, err := b.store.InboundGet(ctx, hirehook.DefaultTenantID, srcPush, id)
		must(t, err)
		return q.Status
	}
	path := "/sources/" + srcPush + "/reprocess"
	window := url.Values{"from": {now.Add(-24 * time.Hour).Format("2006-01-02T15:04")}, "to": {now.Format("2006-01-02T15:04")}}

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.seed(t)
		admin := b.signedIn(t, adminKey)
		admin.get("/sources/" + srcPush)
		wantStatus(t, admin.post(path, window, false), http.StatusForbidden)
		bad := url.Values{"from": window["from"], "to": window["to"], "csrf_token": {"not-the-token"}}
		wantStatus(t, admin.post(path, bad, false), http.StatusForbidden)

		viewer := b.signedIn(t, viewerKey)
		viewer.get("/sources/" + srcPush)
		r := viewer.post(path, window, true)
		wantStatus(t, r, http.StatusForbidden)
		wantContains(t, r.body, "needs admin")

		// A polled source has nothing to reprocess.
		wantStatus(t, admin.post("/sources/"+srcBroken+"/reprocess", window, true), http.StatusNotFound)

		if got := statusOf(b, inrFailed); got != hirehook.InboundFailed {
			t.Fatalf("a refused reprocess changed the request: %s", got)
		}
		if b.nudged.Load() != 0 {
			t.Fatalf("a refused reprocess woke the worker %d times", b.nudged.Load())
		}
		entries, err := b.store.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID})
		must(t, err)
		if len(entries) != 0 {
			t.Fatalf("a refused reprocess was audited: %+v", entries)
		}
	})

	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.seed(t)
		c := b.signedIn(t, adminKey)
		r := c.get("/sources/" + srcPush)
		wantContains(t, r.body, `action="/sources/`+srcPush+`/reprocess"`)

		r = c.post(path, url.Values{"from": {"yesterday"}}, true)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.body, "Enter a date and time", `value="yesterday"`)

		r = c.post(path, window, true)
		wantRedirect(t, r, "/sources/"+srcPush)
		for _, id := range []string{inrProcessed, inrFailed} {
			if got := statusOf(b, id); got != hirehook.InboundReceived {
				t.Fatalf("request %s is %s after reprocess, want received", id, got)
			}
		}
		if got := statusOf(b, "inr_0000"); got != hirehook.InboundRejected {
			t.Fatalf("a rejected request is %s after reprocess", got)
		}
		if b.nudged.Load() != 1 {
			t.Fatalf("InboundChanged called %d times, want 1", b.nudged.Load())
		}
		r = c.get("/sources/" + srcPush)
		wantContains(t, r.body, "2 requests made due again")
		entries, err := b.store.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID})
		must(t, err)
		if len(entries) != 1 || entries[0].Action != "source.reprocessed" || entries[0].Target != srcPush {
			t.Fatalf("audit log = %+v", entries)
		}

		// An empty window says so and wakes no one.
		r = c.post(path, url.Values{"from": {"2026-01-01T00:00"}, "to": {"2026-01-02T00:00"}}, true)
		wantRedirect(t, r, "/sources/"+srcPush)
		wantContains(t, c.get("/sources/"+srcPush).body, "nothing to reprocess")
		if b.nudged.Load() != 1 {
			t.Fatalf("an empty reprocess woke the worker")
		}
	})
}

// TestSourceSecrets: no page shows a source's secrets.
func TestSourceSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	c := b.signedIn(t, adminKey)
	for _, path := range []string{"/", "/sources", "/sources/" + srcPush, "/sources/" + srcBullhorn, "/sources/" + srcBroken, "/sources/" + srcPaused,
		"/sources/" + srcPush + "?status=rejected", "/sources/" + srcPush + "/requests/" + inrProcessed, "/sources/" + srcPush + "/requests/inr_0000"} {
		r := c.get(path)
		wantStatus(t, r, http.StatusOK)
		for _, secret := range []string{"do-not-show", "hunter2", "signing_secret", "client_secret"} {
			if strings.Contains(r.body, secret) {
				t.Fatalf("%s shows a secret (%q)", path, secret)
			}
		}
	}
}

// testSourceKinds are the source kinds of the hub (cmd/hirehook passes the
// same): Bullhorn and the push kinds of package inbound.
var testSourceKinds = func() map[string]ops.SourceKind {
	kinds := map[string]ops.SourceKind{hirehook.SourceBullhorn: bullhorn.SplitConfig}
	for _, k := range inbound.KindNames() {
		kinds[k] = inbound.SplitConfig(k)
	}
	return kinds
}()

// auditOf lists the default tenant's audit entries of action, oldest first.
func (b *bundle) auditOf(tb testing.TB, action string) []*hirehook.AuditEntry {
	tb.Helper()
	all, err := b.store.AuditList(context.Background(), hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID, Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	var out []*hirehook.AuditEntry
	for _, e := range all {
		if e.Action == action {
			out = append([]*hirehook.AuditEntry{e}, out...)
		}
	}
	return out
}

// connectGreenhouse connects a Greenhouse source through the form and
// returns its id.
func connectGreenhouse(tb testing.TB, c *client) string {
	tb.Helper()
	c.get("/sources/new?kind=greenhouse")
	r := c.post("/sources", url.Values{"kind": {"greenhouse"}, "name": {"Acme Greenhouse"}, "signing_secret": {"gh-form-secret"},
		"account": {"acme"}}, true)
	wantRedirect(tb, r, "/sources/src_")
	return strings.TrimPrefix(r.header.Get("Location"), "/sources/")
}

// TestSourceConnect: an admin connects Greenhouse through the form; its
// page then shows the full ingest URL and Greenhouse's setup steps; the
// source is stored with its secret, the source manager is told, and one
// audit entry names the key and the dashboard.
func TestSourceConnect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, adminKey)
	r := c.get("/sources")
	wantContains(t, r.body, "No sources yet", `href="/sources/new"`, `href="/sources/new?kind=greenhouse">Greenhouse</a>`)
	if strings.Contains(r.body, "curl") {
		t.Error("the empty state still says to use curl")
	}
	r = c.get("/sources/new")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, `href="/sources/new?kind=bullhorn"`, `href="/sources/new?kind=greenhouse"`, `href="/sources/new?kind=generic"`)
	r = c.get("/sources/new?kind=greenhouse")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, `<h1>Connect Greenhouse</h1>`, `name="signing_secret" type="password"`, `<input type="hidden" name="kind" value="greenhouse">`)

	id := connectGreenhouse(t, c)
	r = c.get("/sources/" + id)
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "Acme Greenhouse is connected.", `<code class="copy" id="ingest-url">`+b.server.URL+"/in/"+id+"</code>",
		"Set up Greenhouse", "Configure → Dev Center → Web Hooks", "Endpoint URL: "+b.server.URL+"/in/"+id, `action="/sources/`+id+`/enabled"`)
	if strings.Contains(r.body, "gh-form-secret") {
		t.Fatal("the source page shows the signing secret")
	}

	src, err := b.store.SourceGet(context.Background(), hirehook.DefaultTenantID, id)
	if err != nil {
		t.Fatal(err)
	}
	if src.Kind != "greenhouse" || src.Name != "Acme Greenhouse" || !src.Enabled || src.Secrets["signing_secret"] != "gh-form-secret" ||
		!strings.Contains(string(src.Config), `"account":"acme"`) {
		t.Fatalf("stored source = %+v, config %s", src, src.Config)
	}
	if n := b.sourcesChanged.Load(); n != 1 {
		t.Errorf("SourcesChanged called %d times, want 1", n)
	}
	audit := b.auditOf(t, "source.created")
	if len(audit) != 1 {
		t.Fatalf("%d source.created audit entries, want 1", len(audit))
	}
	if e := audit[0]; e.Target != id || e.KeyName != "ops admin" ||
		string(e.Details) != `{"enabled":true,"kind":"greenhouse","name":"Acme Greenhouse","via":"dashboard"}` {
		t.Fatalf("audit entry = %+v, details %s", e, e.Details)
	}
}

// TestSourceFormErrors: a form with a mistake comes back (422) naming the
// field in the form's words, with what was typed but never the secrets,
// and nothing is stored or audited.
func TestSourceFormErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, adminKey)
	for _, tc := range []struct {
		name string
		form url.Values
		want []string
	}{
		{"no signing secret", url.Values{"kind": {"greenhouse"}, "name": {"Acme Greenhouse"}, "account": {"acme-typed"}, "previous_signing_secret": {"prev-typed-secret"}},
			[]string{`<p class="field-error" id="signing_secret-error">Signing secret is required: the secret Greenhouse signs its webhooks with.</p>`,
				`value="acme-typed"`, "the secrets you typed were not sent back"}},
		{"no name", url.Values{"kind": {"lever"}, "name": {"  "}, "signing_secret": {"lever-typed-secret"}},
			[]string{`<p class="field-error" id="name-error">Name must be 1 to 200 characters.</p>`}},
		{"bullhorn without client secret", url.Values{"kind": {"bullhorn"}, "name": {"Bullhorn"}, "client_id": {"acme-client"}, "username": {"api.user"}, "password": {"typed-password"}},
			[]string{`<p class="field-error" id="client_secret-error">Client secret is required.</p>`, `value="acme-client"`, `value="api.user"`}},
		{"bullhorn without password", url.Values{"kind": {"bullhorn"}, "name": {"Bullhorn"}, "client_id": {"acme-client"}, "client_secret": {"typed-client-secret"}, "username": {"api.user"}},
			[]string{`id="password-error">API user name and API user password, or refresh token, are required.</p>`}},
		{"poll interval not a number", url.Values{"kind": {"bullhorn"}, "name": {"Bullhorn"}, "client_id": {"acme-client"}, "client_secret": {"typed-client-secret"}, "poll_interval_ms": {"often"}},
			[]string{`id="poll_interval_ms-error">Enter a number of seconds, such as 2 or 0.5.</p>`, `value="often"`, `<details class="more" open>`}},
		{"generic secret of the wrong form", url.Values{"kind": {"generic"}, "name": {"Payroll"}, "signing_secret": {"not-a-whsec"}},
			[]string{`id="signing_secret-error">Signing secret must be a Standard Webhooks secret (whsec_…) or public key (whpk_…).</p>`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.get("/sources/new?kind=" + tc.form.Get("kind"))
			r := c.post("/sources", tc.form, true)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r.body, tc.want...)
			for _, secret := range []string{"prev-typed-secret", "lever-typed-secret", "typed-password", "typed-client-secret", "not-a-whsec"} {
				if strings.Contains(r.body, secret) {
					t.Errorf("the form came back with a secret typed (%q)", secret)
				}
			}
		})
	}
	list, err := b.store.SourceList(context.Background(), hirehook.SourceFilter{TenantID: hirehook.DefaultTenantID, Limit: 10})
	if err != nil || len(list) != 0 {
		t.Fatalf("sources after the failed forms: %d, %v", len(list), err)
	}
	if a := b.auditOf(t, "source.created"); len(a) != 0 {
		t.Fatalf("%d audit entries for failed forms", len(a))
	}
}

// TestSourceFormScopes: a viewer sees no "Connect a source" nor Edit, and
// cannot connect, change, disable or delete a source by posting the forms
// anyway; nothing changes and nothing is audited.
func TestSourceFormScopes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := connectGreenhouse(t, b.signedIn(t, adminKey))
	v := b.signedIn(t, viewerKey)
	r := v.get("/sources/" + id)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, `/sources/`+id+`/edit`) || strings.Contains(r.body, `/sources/`+id+`/delete`) || strings.Contains(r.body, `/enabled"`) {
		t.Fatal("a viewer is offered edit, disable or delete")
	}
	if r := v.get("/sources"); strings.Contains(r.body, `href="/sources/new"`) {
		t.Fatal("a viewer is offered to connect a source")
	}
	for _, path := range []string{"/sources/new", "/sources/new?kind=greenhouse", "/sources/" + id + "/edit", "/sources/" + id + "/delete"} {
		wantStatus(t, v.get(path), http.StatusForbidden)
	}
	for _, p := range []struct {
		path string
		form url.Values
	}{
		{"/sources", url.Values{"kind": {"greenhouse"}, "name": {"Viewer's"}, "signing_secret": {"s"}}},
		{"/sources/" + id, url.Values{"name": {"Renamed by a viewer"}}},
		{"/sources/" + id + "/enabled", url.Values{"enabled": {"false"}}},
		{"/sources/" + id + "/delete", nil},
	} {
		r := v.post(p.path, p.form, true)
		wantStatus(t, r, http.StatusForbidden)
		wantContains(t, r.body, "this needs admin access")
	}
	// Another tenant's admin cannot reach it.
	a := b.signedIn(t, acmeKey)
	wantStatus(t, a.post("/sources/"+id+"/delete", nil, true), http.StatusNotFound)
	wantStatus(t, a.get("/sources/"+id+"/edit"), http.StatusNotFound)

	src, err := b.store.SourceGet(context.Background(), hirehook.DefaultTenantID, id)
	if err != nil || src.Name != "Acme Greenhouse" || !src.Enabled {
		t.Fatalf("source after the refused forms: %+v, %v", src, err)
	}
	list, _ := b.store.SourceList(context.Background(), hirehook.SourceFilter{TenantID: hirehook.DefaultTenantID, Limit: 10})
	if len(list) != 1 {
		t.Fatalf("%d sources, want 1", len(list))
	}
	for _, action := range []string{"source.created", "source.updated", "source.deleted"} {
		want := 0
		if action == "source.created" {
			want = 1
		}
		if n := len(b.auditOf(t, action)); n != want {
			t.Errorf("%d %s audit entries, want %d", n, action, want)
		}
	}
}

// TestSourceEditDisableDelete: the edit form shows the settings with the
// secrets masked; an empty secret keeps its value, a typed one replaces
// it, a ticked "remove" removes it; disable and enable; delete after a
// confirmation page. Each is audited once, via the dashboard, with no
// secret in the audit log.
func TestSourceEditDisableDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.signedIn(t, adminKey)
	id := connectGreenhouse(t, c)
	get := func() *hirehook.Source {
		t.Helper()
		src, err := b.store.SourceGet(ctx, hirehook.DefaultTenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}

	r := c.get("/sources/" + id + "/edit")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, `<h1>Edit Acme Greenhouse</h1>`, `value="acme"`, `placeholder="•••••••• saved: leave empty to keep it"`)
	if strings.Contains(r.body, "gh-form-secret") {
		t.Fatal("the edit form shows the signing secret")
	}
	// Empty secret: kept. The account changes, a previous secret is added.
	r = c.post("/sources/"+id, url.Values{"name": {"Acme Greenhouse EU"}, "signing_secret": {""}, "account": {"acme-eu"},
		"previous_signing_secret": {"gh-old-secret"}}, true)
	wantRedirect(t, r, "/sources/"+id)
	src := get()
	if src.Name != "Acme Greenhouse EU" || src.Secrets["signing_secret"] != "gh-form-secret" || src.Secrets["previous_signing_secret"] != "gh-old-secret" ||
		!strings.Contains(string(src.Config), `"account":"acme-eu"`) {
		t.Fatalf("after edit: %+v, config %s", src, src.Config)
	}
	// A new secret replaces it; the previous one is removed; the
	// account is cleared.
	c.get("/sources/" + id + "/edit")
	r = c.post("/sources/"+id, url.Values{"name": {"Acme Greenhouse EU"}, "signing_secret": {"gh-new-secret"}, "account": {""},
		"clear_previous_signing_secret": {"on"}}, true)
	wantRedirect(t, r, "/sources/"+id)
	src = get()
	if src.Secrets["signing_secret"] != "gh-new-secret" || src.Secrets["previous_signing_secret"] != "" || strings.Contains(string(src.Config), "acme") {
		t.Fatalf("after second edit: secrets %v, config %s", slices.Sorted(maps.Keys(src.Secrets)), src.Config)
	}
	// A mistake comes back with the stored source's form.
	c.get("/sources/" + id + "/edit")
	r = c.post("/sources/"+id, url.Values{"name": {""}, "account": {"typed-account"}}, true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="name-error">Name must be 1 to 200 characters.</p>`, `value="typed-account"`)

	// Disable, enable.
	r = c.post("/sources/"+id+"/enabled", url.Values{"enabled": {"false"}}, true)
	wantRedirect(t, r, "/sources/"+id)
	if get().Enabled {
		t.Fatal("still enabled")
	}
	r = c.get("/sources/" + id)
	wantContains(t, r.body, "is disabled: the hub refuses its webhooks", `<button type="submit" class="button primary">Enable</button>`)
	c.post("/sources/"+id+"/enabled", url.Values{"enabled": {"true"}}, true)
	if !get().Enabled {
		t.Fatal("not enabled again")
	}

	updates := b.auditOf(t, "source.updated")
	if len(updates) != 4 {
		t.Fatalf("%d source.updated entries, want 4 (two edits, disable, enable)", len(updates))
	}
	wantDetails := []string{
		`{"config":["account","previous_signing_secret"],"name":"Acme Greenhouse EU","via":"dashboard"}`,
		`{"config":["account","previous_signing_secret","signing_secret"],"name":"Acme Greenhouse EU","via":"dashboard"}`,
		`{"enabled":false,"via":"dashboard"}`,
		`{"enabled":true,"via":"dashboard"}`,
	}
	for i, e := range updates {
		if string(e.Details) != wantDetails[i] {
			t.Errorf("update %d audited %s, want %s", i, e.Details, wantDetails[i])
		}
		if strings.Contains(string(e.Details), "secret\":\"") || strings.Contains(string(e.Details), "gh-") {
			t.Errorf("an audit entry holds a secret: %s", e.Details)
		}
	}

	// Delete: a confirmation page, then the source is gone.
	r = c.get("/sources/" + id + "/delete")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "Delete Acme Greenhouse EU?", "This cannot be undone", `action="/sources/`+id+`/delete"`)
	if _, err := b.store.SourceGet(ctx, hirehook.DefaultTenantID, id); err != nil {
		t.Fatal("the confirmation page deleted the source")
	}
	r = c.post("/sources/"+id+"/delete", nil, true)
	wantRedirect(t, r, "/sources")
	if _, err := b.store.SourceGet(ctx, hirehook.DefaultTenantID, id); hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
	if d := b.auditOf(t, "source.deleted"); len(d) != 1 || d[0].Target != id || string(d[0].Details) != `{"via":"dashboard"}` {
		t.Fatalf("delete audit = %+v", d)
	}
	if n := b.sourcesChanged.Load(); n != 6 {
		t.Errorf("SourcesChanged called %d times, want 6", n)
	}
}
