package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
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
	wantContains(t, r.body, "No sources yet", "#connect-bullhorn")
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
