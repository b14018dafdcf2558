package web_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("bad key", func(t *testing.T) {
		c := b.client(t)
		c.get("/signin")
		r := c.post("/signin", url.Values{"api_key": {"hh_not_a_key_at_all_000"}}, true)
		wantStatus(t, r, http.StatusUnauthorized)
		wantContains(t, r.body, "That API key is not valid")
		if strings.Contains(r.header.Get("Set-Cookie"), "hirehook_session=") {
			t.Fatalf("a bad key got a session cookie: %s", r.header.Values("Set-Cookie"))
		}
		wantRedirect(t, c.get("/"), "/signin")
	})

	t.Run("good key", func(t *testing.T) {
		c := b.client(t)
		c.get("/signin?next=/events%3Ftype%3Djob.created")
		r := c.post("/signin", url.Values{"api_key": {adminKey}, "next": {"/events?type=job.created"}}, true)
		wantRedirect(t, r, "/events?type=job.created")
		ck := sessionCookie(t, r)
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
			t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP", ck)
		}
		if ck.MaxAge != int((12 * time.Hour).Seconds()) {
			t.Fatalf("session cookie Max-Age = %d, want 12 h", ck.MaxAge)
		}
		r = c.get("/")
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.body, "Default tenant", "ops admin", ">admin<")
	})

	t.Run("next stays on this site", func(t *testing.T) {
		c := b.client(t)
		c.get("/signin")
		r := c.post("/signin", url.Values{"api_key": {adminKey}, "next": {"//evil.example.com/x"}}, true)
		wantRedirect(t, r, "/")
		if loc := r.header.Get("Location"); loc != "/" {
			t.Fatalf("redirected to %q, want /", loc)
		}
	})

	t.Run("without the sign-in token", func(t *testing.T) {
		c := b.client(t)
		r := c.post("/signin", url.Values{"api_key": {adminKey}}, false)
		wantStatus(t, r, http.StatusForbidden)
		if strings.Contains(strings.Join(r.header.Values("Set-Cookie"), ";"), "hirehook_session=") {
			t.Fatal("a sign-in without the form's token got a session")
		}
	})

	t.Run("producer key", func(t *testing.T) {
		c := b.client(t)
		c.get("/signin")
		r := c.post("/signin", url.Values{"api_key": {producerKey}}, true)
		wantStatus(t, r, http.StatusForbidden)
		wantContains(t, r.body, "can only send events into the hub")
	})

	t.Run("already signed in", func(t *testing.T) {
		c := b.signedIn(t, viewerKey)
		wantRedirect(t, c.get("/signin"), "/")
	})
}

// htmlText is s as html/template writes it in text (a secret's "+" becomes
// "&#43;").
func htmlText(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }

func sessionCookie(tb testing.TB, r response) *http.Cookie {
	tb.Helper()
	for _, line := range r.header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err == nil && ck.Name == "hirehook_session" && ck.Value != "" {
			return ck
		}
	}
	tb.Fatalf("no session cookie in %q", r.header.Values("Set-Cookie"))
	return nil
}

// TestSignIn_TLS: over TLS the session cookie is Secure.
func TestSignIn_TLS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	get := httptest.NewRequest("GET", "https://hub.example.com/signin", nil)
	get.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, get)
	token := csrfRE.FindStringSubmatch(rec.Body.String())[1]
	post := httptest.NewRequest("POST", "https://hub.example.com/signin", strings.NewReader(url.Values{"api_key": {adminKey}, "csrf_token": {token}}.Encode()))
	post.TLS = &tls.ConnectionState{}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range rec.Result().Cookies() {
		post.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	b.handler.ServeHTTP(rec, post)
	r := response{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
	wantRedirect(t, r, "/")
	if ck := sessionCookie(t, r); !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie over TLS = %+v, want Secure, HttpOnly, SameSite=Lax", ck)
	}
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, adminKey)
	wantStatus(t, c.post("/signout", nil, false), http.StatusForbidden) // forms need the token, this one too
	wantRedirect(t, c.post("/signout", nil, true), "/signin?reason=signedout")
	wantContains(t, c.get("/signin?reason=signedout").body, "You are signed out.")
	wantRedirect(t, c.get("/"), "/signin")
}

func TestSessionEnds(t *testing.T) {
	t.Parallel()

	t.Run("expiry", func(t *testing.T) {
		b := setup(t)
		c := b.signedIn(t, viewerKey)
		b.clock.Add(12*time.Hour + time.Second)
		wantRedirect(t, c.get("/events"), "/signin?next=%2Fevents&reason=expired")
	})

	t.Run("revoked key", func(t *testing.T) {
		b := setup(t)
		c := b.signedIn(t, viewerKey)
		k, err := b.store.APIKeyByHash(context.Background(), hashKey(viewerKey))
		must(t, err)
		must(t, b.store.APIKeyDelete(context.Background(), hirehook.DefaultTenantID, k.ID))
		wantRedirect(t, c.get("/"), "/signin?reason=revoked")
		// The session is gone, not just refused once.
		wantRedirect(t, c.get("/coverage"), "/signin")
	})
}

// TestRoutesRequireSession walks the dashboard's route table: every route
// but sign-in needs a session, whatever the method, and a forged cookie is
// not one.
func TestRoutesRequireSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	param := regexp.MustCompile(`\{[a-z]+\}`)
	var public []string
	for _, rt := range b.handler.RouteTable() {
		if rt.Public {
			public = append(public, rt.Method+" "+rt.Pattern)
			continue
		}
		path := strings.ReplaceAll(param.ReplaceAllString(rt.Pattern, "x"), "{$}", "")
		for _, cookie := range []string{"", "hirehook_session=forged"} {
			req, err := http.NewRequest(rt.Method, b.server.URL+path, strings.NewReader("csrf_token=x"))
			must(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if cookie != "" {
				req.Header.Set("Cookie", cookie)
			}
			c := b.client(t)
			r := c.do(req)
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
				t.Errorf("%s %s (cookie %q) = %d to %q, want 303 to /signin", rt.Method, path, cookie, r.status, r.header.Get("Location"))
			}
		}
	}
	if got, want := strings.Join(public, ", "), "GET /signin, POST /signin"; got != want {
		t.Fatalf("public routes = %s, want %s", got, want)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	c := b.signedIn(t, adminKey)
	d := b.deliveryOf(t, evtConfirmed, epOnboarding)
	replay := "/deliveries/" + d.ID + "/replay"

	wantStatus(t, c.post(replay, nil, false), http.StatusForbidden)
	wantStatus(t, c.post(replay, url.Values{"csrf_token": {"not-the-token"}}, false), http.StatusForbidden)
	form := url.Values{"url": {"https://x.example.com/h"}, "event_types": {"*"}}
	wantStatus(t, c.post("/endpoints", form, false), http.StatusForbidden)

	// The right token from another site is refused too.
	req, err := http.NewRequest("POST", b.server.URL+replay, strings.NewReader(url.Values{"csrf_token": {c.csrf}}.Encode()))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, c.do(req), http.StatusForbidden)

	got, _, err := b.store.DeliveryGet(context.Background(), hirehook.DefaultTenantID, d.ID)
	must(t, err)
	if got.State != hirehook.DeliveryDelivered || b.notified.Load() != 0 {
		t.Fatalf("a refused replay changed the delivery: %s, notified %d", got.State, b.notified.Load())
	}
	eps, err := b.store.EndpointList(context.Background(), hirehook.EndpointFilter{TenantID: hirehook.DefaultTenantID})
	must(t, err)
	if len(eps) != 3 {
		t.Fatalf("a refused create made an endpoint: %d endpoints", len(eps))
	}
	// A session's token does not work in another session.
	other := b.signedIn(t, adminKey)
	other.csrf = c.csrf
	wantStatus(t, other.post(replay, nil, true), http.StatusForbidden)
}

func TestReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("admin", func(t *testing.T) {
		b := setup(t)
		b.seed(t)
		c := b.signedIn(t, adminKey)
		d := b.deliveryOf(t, evtConfirmed, epOnboarding)
		page := c.get("/events/" + evtConfirmed)
		wantContains(t, page.body, `action="/deliveries/`+d.ID+`/replay"`)
		r := c.post("/deliveries/"+d.ID+"/replay", nil, true)
		wantRedirect(t, r, "/events/"+evtConfirmed+"#"+d.ID)
		got, _, err := b.store.DeliveryGet(ctx, hirehook.DefaultTenantID, d.ID)
		must(t, err)
		if got.State != hirehook.DeliveryPending || b.notified.Load() != 1 {
			t.Fatalf("after replay: state %s, notified %d; want pending, 1", got.State, b.notified.Load())
		}
		wantContains(t, c.get("/events/"+evtConfirmed).body, "Replay queued")
		entries, err := b.store.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID})
		must(t, err)
		if len(entries) != 1 || entries[0].Action != "delivery.retried" || entries[0].Target != d.ID || entries[0].KeyName != "ops admin" ||
			!strings.Contains(string(entries[0].Details), `"via":"dashboard"`) {
			t.Fatalf("audit log = %+v", entries)
		}
	})

	t.Run("viewer", func(t *testing.T) {
		b := setup(t)
		b.seed(t)
		c := b.signedIn(t, viewerKey)
		d := b.deliveryOf(t, evtConfirmed, epOnboarding)
		page := c.get("/events/" + evtConfirmed)
		wantStatus(t, page, http.StatusOK)
		if strings.Contains(page.body, "/replay") {
			t.Fatal("a viewer is offered the Replay button")
		}
		r := c.post("/deliveries/"+d.ID+"/replay", nil, true)
		wantStatus(t, r, http.StatusForbidden)
		wantContains(t, r.body, "with view only access: this needs admin access")
		got, _, err := b.store.DeliveryGet(ctx, hirehook.DefaultTenantID, d.ID)
		must(t, err)
		entries, err := b.store.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID})
		must(t, err)
		if got.State != hirehook.DeliveryDelivered || len(entries) != 0 || b.notified.Load() != 0 {
			t.Fatalf("a viewer's replay did something: state %s, %d audit entries", got.State, len(entries))
		}
		// Nor may a viewer edit an endpoint.
		wantStatus(t, c.get("/endpoints/new"), http.StatusForbidden)
		wantStatus(t, c.post("/endpoints/"+epPayroll, url.Values{"url": {"https://x.example.com"}, "event_types": {"*"}}, true), http.StatusForbidden)
		wantStatus(t, c.post("/endpoints/"+epPayroll+"/rotate-secret", nil, true), http.StatusForbidden)
	})

	t.Run("not replayable", func(t *testing.T) {
		b := setup(t)
		b.seed(t)
		c := b.signedIn(t, adminKey)
		must(t, b.store.EndpointDelete(ctx, hirehook.DefaultTenantID, epPayroll)) // cancels its delivery
		d := b.deliveryOf(t, evtStarted, epPayroll)
		wantRedirect(t, c.post("/deliveries/"+d.ID+"/replay", nil, true), "/events/"+evtStarted)
		wantContains(t, c.get("/events/"+evtStarted).body, `class="flash error"`, "was cancelled")
	})
}

// TestTenantIsolation: another tenant's objects are 404, as in the API.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.seed(t)
	c := b.signedIn(t, acmeKey)
	d := b.deliveryOf(t, evtConfirmed, epOnboarding)
	for _, path := range []string{"/events/" + evtConfirmed, "/endpoints/" + epOnboarding, "/records/placement/pl_1001"} {
		r := c.get(path)
		wantStatus(t, r, http.StatusNotFound)
		wantContains(t, r.body, "Not found")
	}
	wantStatus(t, c.post("/deliveries/"+d.ID+"/replay", nil, true), http.StatusNotFound)
	wantStatus(t, c.post("/endpoints/"+epOnboarding+"/rotate-secret", nil, true), http.StatusNotFound)
	wantStatus(t, c.post("/endpoints/"+epOnboarding+"/recover", url.Values{"since": {"2026-11-26T00:00"}}, true), http.StatusNotFound)
	r := c.get("/events")
	if strings.Contains(r.body, evtConfirmed) {
		t.Fatal("acme's event list shows the default tenant's event")
	}
	wantContains(t, c.get("/").body, "No endpoints yet", "Acme Staffing", "acme admin")
	got, _, err := b.store.DeliveryGet(context.Background(), hirehook.DefaultTenantID, d.ID)
	must(t, err)
	if got.State != hirehook.DeliveryDelivered {
		t.Fatalf("another tenant's replay changed the delivery to %s", got.State)
	}
}

func TestEndpointForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	c := b.signedIn(t, adminKey)
	c.get("/endpoints/new")

	// Field errors are shown next to their fields, with what was entered.
	r := c.post("/endpoints", url.Values{"url": {"ftp://files.example.com/in"}, "description": {"Payroll"}, "patterns": {"nonsense.*"}}, true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="url-error">The URL must use http or https, not &#34;ftp&#34;.`, `id="patterns-error">&#34;nonsense.*&#34; matches no event type.`,
		`value="ftp://files.example.com/in"`, `value="Payroll"`)
	r = c.post("/endpoints", url.Values{"url": {"https://payroll.example.com/h"}}, true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="event_types-error">Choose at least one event type.`)

	// Created: a wildcard swallows the types it covers.
	r = c.post("/endpoints", url.Values{
		"url": {"https://payroll.example.com/h"}, "description": {"Payroll"},
		"event_types": {"placement.*", "placement.started", "offer.signed"}, "patterns": {"job.*"},
	}, true)
	wantRedirect(t, r, "/endpoints/ep_")
	id := strings.TrimPrefix(r.header.Get("Location"), "/endpoints/")
	ep, err := b.store.EndpointGet(ctx, hirehook.DefaultTenantID, id)
	must(t, err)
	if got, want := strings.Join(ep.EventTypes, ","), "placement.*,offer.signed,job.*"; got != want {
		t.Fatalf("event types = %s, want %s", got, want)
	}
	page := c.get("/endpoints/" + id)
	wantContains(t, page.body, "Endpoint created.", htmlText(ep.Secrets[0].Value), `value="job.*"`)
	if strings.Contains(c.get("/endpoints/"+id).body, htmlText(ep.Secrets[0].Value)) {
		t.Fatal("the signing secret is shown twice")
	}

	// Edit: disable it and change the types.
	r = c.post("/endpoints/"+id, url.Values{"url": {ep.URL}, "description": {"Payroll (paused)"}, "event_types": {"*"}, "disabled": {"on"}}, true)
	wantRedirect(t, r, "/endpoints/"+id)
	ep, err = b.store.EndpointGet(ctx, hirehook.DefaultTenantID, id)
	must(t, err)
	if !ep.Disabled || ep.Description != "Payroll (paused)" || strings.Join(ep.EventTypes, ",") != "*" {
		t.Fatalf("after edit: %+v", ep)
	}
	r = c.post("/endpoints/"+id, url.Values{"url": {"not a url"}, "event_types": {"*"}}, true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="url-error"`)

	// Rotate: the new secret is shown once; the old one keeps signing.
	old := ep.Secrets[0].Value
	wantRedirect(t, c.post("/endpoints/"+id+"/rotate-secret", nil, true), "/endpoints/"+id)
	ep, err = b.store.EndpointGet(ctx, hirehook.DefaultTenantID, id)
	must(t, err)
	if len(ep.Secrets) != 2 || ep.Secrets[1].Value != old || ep.Secrets[1].ExpiresAt == nil || !ep.Secrets[1].ExpiresAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("secrets after rotation = %+v", ep.Secrets)
	}
	wantContains(t, c.get("/endpoints/"+id).body, "New signing secret", htmlText(ep.Secrets[0].Value))

	// Recover: field errors, then a window.
	r = c.post("/endpoints/"+id+"/recover", url.Values{"since": {"yesterday"}}, true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="since-error">Enter a date and time`)
	r = c.post("/endpoints/"+id+"/recover", url.Values{"since": {"2026-11-27T09:00"}, "until": {"2026-11-27T08:00"}}, true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="until-error">This must be after the start.`)
	wantRedirect(t, c.post("/endpoints/"+id+"/recover", url.Values{"since": {"2026-11-26T09:00"}}, true), "/endpoints/"+id)
	wantContains(t, c.get("/endpoints/"+id).body, "No failed deliveries in that window")

	entries, err := b.store.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID})
	must(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if got, want := strings.Join(actions, ","), "endpoint.recovered,endpoint.secret_rotated,endpoint.updated,endpoint.created"; got != want {
		t.Fatalf("audit actions (newest first) = %s, want %s", got, want)
	}
	// The entries are the API's (package ops writes both), with "via":
	// the creation names the signing scheme and ordering, the rotation
	// its grace.
	for _, e := range entries {
		var d map[string]any
		must(t, json.Unmarshal(e.Details, &d))
		switch e.Action {
		case "endpoint.created":
			if d["signing"] != "hmac" || d["ordered"] != false || d["via"] != "dashboard" {
				t.Errorf("endpoint.created details = %s", e.Details)
			}
		case "endpoint.secret_rotated":
			if d["grace"] != "24h0m0s" || d["via"] != "dashboard" {
				t.Errorf("endpoint.secret_rotated details = %s", e.Details)
			}
		}
	}
}

// TestRecoverFailed: recovering requeues the failed deliveries of the window.
func TestRecoverFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seed(t)
	// Fail the payroll delivery for good.
	ds, err := b.store.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w", Now: now.Add(time.Hour), LeaseUntil: now.Add(2 * time.Hour), Limit: 10})
	must(t, err)
	if len(ds) != 1 {
		t.Fatalf("claimed %d", len(ds))
	}
	_, err = b.store.DeliveryComplete(ctx, []hirehook.DeliveryResult{{DeliveryID: ds[0].ID, TenantID: ds[0].TenantID, LeaseOwner: "w", State: hirehook.DeliveryFailed,
		Attempt: hirehook.Attempt{StartedAt: now, StatusCode: 500, ErrorClass: hirehook.ErrorClassStatus}}})
	must(t, err)
	c := b.signedIn(t, adminKey)
	c.get("/endpoints/" + epPayroll)
	wantRedirect(t, c.post("/endpoints/"+epPayroll+"/recover", url.Values{"since": {"2026-11-27T09:00"}}, true), "/endpoints/"+epPayroll)
	wantContains(t, c.get("/endpoints/"+epPayroll).body, "1 failed delivery queued to be sent again.")
	if got := b.deliveryOf(t, evtStarted, epPayroll); got.State != hirehook.DeliveryPending || b.notified.Load() != 1 {
		t.Fatalf("after recover: %s, notified %d", got.State, b.notified.Load())
	}
}

func TestNotFoundAndStatic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	r := c.get("/nope")
	wantStatus(t, r, http.StatusNotFound)
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP = %q", csp)
	}
	r = c.get("/static/style.css")
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Fatalf("stylesheet content type = %q", ct)
	}
	c = b.signedIn(t, viewerKey)
	r = c.get("/events/evt_nope")
	wantStatus(t, r, http.StatusNotFound)
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("pages must not be cached: Cache-Control = %q", r.header.Get("Cache-Control"))
	}
}

// TestSignIn_RateLimit: five failed sign-ins from one address are
// allowed; the sixth try is refused with 429, even with a good key, until
// the bucket refills a try 12 s later.
func TestSignIn_RateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	c.get("/signin")
	for i := range 5 {
		r := c.post("/signin", url.Values{"api_key": {"hh_wrong_key_000000"}}, true)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d = %d, want 401", i+1, r.status)
		}
	}
	r := c.post("/signin", url.Values{"api_key": {adminKey}}, true)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantContains(t, r.body, "Too many failed sign-ins from your address. Wait 12 seconds and try again.")
	if got := r.header.Get("Retry-After"); got != "12" {
		t.Fatalf("Retry-After = %q, want 12", got)
	}
	if strings.Contains(strings.Join(r.header.Values("Set-Cookie"), ";"), "hirehook_session=") {
		t.Fatal("a throttled sign-in got a session")
	}

	b.clock.Add(5 * time.Second)
	r = c.post("/signin", url.Values{"api_key": {adminKey}}, true)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantContains(t, r.body, "Wait 7 seconds")

	// 12 s after the fifth failure one try is back: a good key signs in.
	b.clock.Add(7 * time.Second)
	r = c.post("/signin", url.Values{"api_key": {adminKey}}, true)
	wantRedirect(t, r, "/")
}

// TestEndpointTestEvent: "Send test event" needs no subscription: it
// ingests an endpoint.tested event about the endpoint through the
// ingester, delivered to that endpoint only (not to the other endpoints
// that subscribe to endpoint.tested); the flash links to the event.
func TestEndpointTestEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.seed(t)
	c := b.signedIn(t, adminKey)

	// The seeded onboarding endpoint subscribes to placement.* only, and
	// payroll, here, to every type: the button is there all the same.
	_, err := b.store.EndpointUpdate(ctx, hirehook.DefaultTenantID, epPayroll, hirehook.EndpointUpdate{EventTypes: &[]string{"*"}})
	must(t, err)
	page := c.get("/endpoints/" + epOnboarding)
	if !strings.Contains(page.body, `action="/endpoints/`+epOnboarding+`/test"`) {
		t.Fatalf("an endpoint that does not subscribe to endpoint.tested is not offered the button:\n%s", page.body)
	}
	wantStatus(t, c.post("/endpoints/"+epOnboarding+"/test", nil, false), http.StatusForbidden) // no CSRF token
	wantRedirect(t, c.post("/endpoints/"+epOnboarding+"/test", nil, true), "/endpoints/"+epOnboarding)
	r := c.get("/endpoints/" + epOnboarding)
	wantContains(t, r.body, `class="flash ok"`, "Test event sent: endpoint.tested is on its way to this endpoint only.")
	m := regexp.MustCompile(`<a href="/events/(evt_[^"]+)">Follow its delivery</a>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("the flash links to no event:\n%s", r.body)
	}
	e, err := b.store.EventGet(ctx, hirehook.DefaultTenantID, m[1])
	must(t, err)
	if e.Type != "endpoint.tested" || e.Source != "hirehook" || e.Subject != (hirehook.Subject{Entity: "endpoint", ID: epOnboarding}) || e.Deliveries != 1 {
		t.Fatalf("test event = %s from %q about %+v with %d deliveries, want 1 (the endpoint tested, not payroll)", e.Type, e.Source, e.Subject, e.Deliveries)
	}
	wantContains(t, string(e.Data), `"id":"`+epOnboarding+`"`, `"url":"https://onboarding.example.com/hooks"`)
	if strings.Contains(string(e.Data), "s3cret") {
		t.Fatalf("the test event carries the URL's query: %s", e.Data)
	}
	d := b.deliveryOf(t, e.ID, epOnboarding)
	if d.State != hirehook.DeliveryPending {
		t.Fatalf("test delivery state = %s, want pending", d.State)
	}
	wantContains(t, c.get("/events/"+e.ID).body, "endpoint.tested")
	entries, err := b.store.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID})
	must(t, err)
	if len(entries) != 1 || entries[0].Action != "endpoint.test_sent" || entries[0].Target != epOnboarding || !strings.Contains(string(entries[0].Details), `"via":"dashboard"`) {
		t.Fatalf("audit = %+v, want endpoint.test_sent via the dashboard first", entries)
	}

	// A disabled endpoint is not tested, and a viewer may not test.
	must(t, func() error {
		_, err := b.store.EndpointUpdate(ctx, hirehook.DefaultTenantID, epOnboarding, hirehook.EndpointUpdate{Disabled: new(true)})
		return err
	}())
	before, err := b.store.EventList(ctx, hirehook.EventFilter{TenantID: hirehook.DefaultTenantID, Limit: 1000})
	must(t, err)
	wantRedirect(t, c.post("/endpoints/"+epOnboarding+"/test", nil, true), "/endpoints/"+epOnboarding)
	wantContains(t, c.get("/endpoints/"+epOnboarding).body, `class="flash error"`, "The endpoint is disabled", "Enable it, then send the test event.")
	after, err := b.store.EventList(ctx, hirehook.EventFilter{TenantID: hirehook.DefaultTenantID, Limit: 1000})
	must(t, err)
	if len(after) != len(before) {
		t.Fatalf("a refused test made an event: %d events, want %d", len(after), len(before))
	}
	v := b.signedIn(t, viewerKey)
	wantStatus(t, v.post("/endpoints/"+epPayroll+"/test", nil, true), http.StatusForbidden)
}
