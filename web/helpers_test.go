package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/store/sqlite"
	"github.com/hirehook/hirehook/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Keys of the test tenants. Every bundle has them.
const (
	adminKey    = "hh_test_admin_key_0123456789"
	viewerKey   = "hh_test_viewer_key_0123456789"
	producerKey = "hh_test_producer_key_0123456789"
	acmeKey     = "hh_test_acme_admin_key_0123456789"
)

// now is the dashboard's clock in every test: pages that say "5 min ago"
// render the same each run.
var now = time.Date(2026, 11, 27, 10, 0, 30, 0, time.UTC)

func hashKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bundle is a dashboard under httptest on a real SQLite store, with the
// default tenant's admin, viewer and producer keys and a second tenant
// ("acme") with its own admin key.
type bundle struct {
	store    hirehook.Store
	handler  *web.Handler
	server   *httptest.Server
	clock    *clock
	notified atomic.Int32
	// pauses stands for this node's dispatcher (Config.Pauses): the
	// pauses of down endpoints a test sets.
	pauses *pauseBoard
	// nudged counts the calls of InboundChanged.
	nudged atomic.Int32
	// sourcesChanged counts the calls of SourcesChanged.
	sourcesChanged atomic.Int32
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func setup(tb testing.TB) *bundle {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "hirehook.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	b := &bundle{store: st, clock: &clock{t: now}, pauses: &pauseBoard{m: map[string]hirehook.EndpointPause{}}}
	must(tb, st.TenantCreate(ctx, &hirehook.Tenant{ID: "acme", Name: "Acme Staffing", RetentionDays: 30, CreatedAt: now, UpdatedAt: now}))
	for _, k := range []struct {
		key, tenant, name string
		scope             hirehook.Scope
	}{
		{adminKey, hirehook.DefaultTenantID, "ops admin", hirehook.ScopeAdmin},
		{viewerKey, hirehook.DefaultTenantID, "recruiting lead", hirehook.ScopeViewer},
		{producerKey, hirehook.DefaultTenantID, "bullhorn sync", hirehook.ScopeProducer},
		{acmeKey, "acme", "acme admin", hirehook.ScopeAdmin},
	} {
		must(tb, st.APIKeyCreate(ctx, &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: k.tenant, Name: k.name, Scope: k.scope,
			Hash: hashKey(k.key), CreatedAt: now}))
	}
	ing := ingest.New(st, ingest.Config{NowFunc: b.clock.Now, NotifyFunc: func() { b.notified.Add(1) }})
	must(tb, ing.Start(ctx))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		must(tb, ing.Stop(ctx))
	})
	h, err := web.New(web.Config{
		Store:      st,
		Ingester:   ing,
		Pauses:     b.pauses,
		NotifyFunc: func() { b.notified.Add(1) },
		NowFunc:    b.clock.Now,
		// The push kinds of package inbound (cmd/hirehook passes them).
		PushKinds:          map[string]bool{"greenhouse": true, "lever": true, "ashby": true, "workable": true, "smartrecruiters": true, "teamtailor": true, "generic": true},
		InboundChangedFunc: func() { b.nudged.Add(1) },
		SourceKinds:        testSourceKinds,
		SourcesChangedFunc: func() { b.sourcesChanged.Add(1) },
		Logger:             slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		tb.Fatal(err)
	}
	b.handler = h
	b.server = httptest.NewServer(h)
	tb.Cleanup(b.server.Close)
	return b
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// client is a browser without a browser: a cookie jar, no redirects
// followed (tests check each 303), and the last page's CSRF token.
type client struct {
	tb   testing.TB
	base string
	http *http.Client
	csrf string
}

func (b *bundle) client(tb testing.TB) *client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, base: b.server.URL, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) do(req *http.Request) response {
	c.tb.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		c.csrf = string(m[1])
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (c *client) get(path string) response {
	c.tb.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.tb.Fatal(err)
	}
	return c.do(req)
}

// post sends a form; withCSRF adds the token of the last page.
func (c *client) post(path string, form url.Values, withCSRF bool) response {
	c.tb.Helper()
	// A copy: callers share forms between parallel subtests, and the
	// token is this client's.
	form = maps.Clone(form)
	if form == nil {
		form = url.Values{}
	}
	if withCSRF {
		form.Set("csrf_token", c.csrf)
	}
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// signIn signs in with key through the form and expects it to work.
func (c *client) signIn(key string) {
	c.tb.Helper()
	if r := c.get("/signin"); r.status != http.StatusOK {
		c.tb.Fatalf("GET /signin = %d", r.status)
	}
	r := c.post("/signin", url.Values{"api_key": {key}}, true)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		c.tb.Fatalf("sign in = %d to %q, want 303 to /\n%s", r.status, r.header.Get("Location"), r.body)
	}
	c.get("/") // picks up the session's CSRF token
}

func (b *bundle) signedIn(tb testing.TB, key string) *client {
	tb.Helper()
	c := b.client(tb)
	c.signIn(key)
	return c
}

func wantStatus(tb testing.TB, r response, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("status = %d, want %d\n%s", r.status, want, r.body)
	}
}

func wantRedirect(tb testing.TB, r response, prefix string) {
	tb.Helper()
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), prefix) {
		tb.Fatalf("answer = %d to %q, want 303 to %s…\n%s", r.status, r.header.Get("Location"), prefix, r.body)
	}
}

func wantContains(tb testing.TB, body string, subs ...string) {
	tb.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			tb.Fatalf("page lacks %q:\n%s", s, body)
		}
	}
}

// Normalising rendered pages for golden files: generated ids, tokens and
// the stylesheet's hash change every run (or every edit of the CSS).
var (
	idRE      = regexp.MustCompile(`\b(dlv|req|ep|evt|key|aud|att)_[0-9a-hjkmnp-tv-z]{26}\b`)
	tokenRE   = regexp.MustCompile(`(name="csrf_token" value=")[^"]+"`)
	cssRE     = regexp.MustCompile(`\.(css|js)\?v=[0-9a-f]+`)
	versionRE = regexp.MustCompile(`hirehook ` + regexp.QuoteMeta(hirehook.Version) + ` ·`)
)

var originRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

func normalise(page string) string {
	page = idRE.ReplaceAllString(page, "${1}_ID")
	page = tokenRE.ReplaceAllString(page, `${1}TOKEN"`)
	page = cssRE.ReplaceAllString(page, ".${1}?v=HASH")
	page = originRE.ReplaceAllString(page, "http://127.0.0.1:PORT")
	return versionRE.ReplaceAllString(page, "hirehook VERSION ·")
}

// golden compares a page with testdata/<name>.golden, or rewrites it with
// -update.
func golden(tb testing.TB, name, page string) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden")
	got := normalise(page)
	if *update {
		must(tb, os.MkdirAll("testdata", 0o755))
		must(tb, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test ./web -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		tb.Fatalf("%s differs (-want +got); run go test ./web -update if the change is intended:\n%s", path, diff)
	}
}

// Fixture ids: the seeded data uses fixed ids so pages and links are
// stable; deliveries get generated ids (normalised in golden files).
const (
	epOnboarding = "ep_onboarding"
	epPayroll    = "ep_payroll"
	epCRM        = "ep_crm"
	evtConfirmed = "evt_0001"
	evtStarted   = "evt_0002"
	evtCandidate = "evt_0003"
	evtJob       = "evt_0004"
	srcBullhorn  = "src_northwind"
	srcBroken    = "src_legacy"
	srcPaused    = "src_sandbox"
	srcPush      = "src_greenhouse"
	inrProcessed = "inr_0001"
	inrFailed    = "inr_0003"
)

// seed fills the default tenant with a small agency's last hour:
//   - Onboarding service (placement.*): two deliveries, both delivered;
//   - Payroll (placement.started, placement.ended): three failed attempts,
//     the delivery retrying: failing;
//   - a CRM (candidate.*), disabled by the hub after a 410;
//   - a job.created event that no endpoint receives.
func (b *bundle) seed(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	st := b.store
	for _, ep := range []*hirehook.Endpoint{
		{ID: epOnboarding, URL: "https://onboarding.example.com/hooks?token=s3cret", Description: "Onboarding service", EventTypes: []string{"placement.*"},
			Headers: map[string]string{"X-Agency": "northwind"}},
		{ID: epPayroll, URL: "https://payroll.example.com/webhooks", Description: "Payroll", EventTypes: []string{"placement.started", "placement.ended"}},
		{ID: epCRM, URL: "https://crm.example.com/in", EventTypes: []string{"candidate.*"}},
	} {
		ep.TenantID = hirehook.DefaultTenantID
		ep.Secrets = []hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now.Add(-48 * time.Hour)}}
		ep.CreatedAt, ep.UpdatedAt = now.Add(-48*time.Hour), now.Add(-48*time.Hour)
		must(tb, st.EndpointCreate(ctx, ep))
	}
	// A backfill of the payroll endpoint, half-way: its progress shows on
	// the endpoint page.
	must(tb, st.BackfillCreate(ctx, &hirehook.Backfill{TenantID: hirehook.DefaultTenantID, ID: "bf_payroll", EndpointID: epPayroll,
		Entities: []string{"candidate", "placement"}, Filter: `.data.client.id == "acme"`, RatePerSecond: 100,
		State: hirehook.BackfillRunning, CreatedAt: now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute)}))
	_, err := st.EndpointUpdate(ctx, hirehook.DefaultTenantID, epCRM, hirehook.EndpointUpdate{Disabled: new(true), DisabledReason: new("410 Gone")})
	must(tb, err)

	event := func(id, typ, subject, data string, at time.Time) []*hirehook.Delivery {
		e := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: id, Type: typ, OccurredAt: at.Add(-time.Second), Source: "bullhorn",
			Subject: hirehook.Subject{Entity: strings.SplitN(typ, ".", 2)[0], ID: subject}, Data: json.RawMessage(data)}
		if strings.HasPrefix(typ, "candidate.") {
			e.Changes = json.RawMessage(`{"stage":{"from":"new","to":"screening"}}`)
		}
		var err error
		e.Payload, err = e.RenderPayload()
		must(tb, err)
		res, err := st.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{e}, Now: at, LeaseOwner: "w", LeaseUntil: at.Add(time.Minute)})
		must(tb, err)
		return res[0].Leased
	}
	// complete records one attempt; a retrying delivery waits wait.
	complete := func(d *hirehook.Delivery, state hirehook.DeliveryState, at time.Time, dur time.Duration, status int, body string, class hirehook.ErrorClass, msg string, wait time.Duration) {
		r := hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: "w", State: state,
			Attempt: hirehook.Attempt{StartedAt: at, Duration: dur, StatusCode: status, ResponseBody: body, ErrorClass: class, Error: msg}}
		if state == hirehook.DeliveryRetrying {
			r.NextAttemptAt = at.Add(wait)
		}
		n, err := st.DeliveryComplete(ctx, []hirehook.DeliveryResult{r})
		must(tb, err)
		if n != 1 {
			tb.Fatalf("result for %s not applied", d.ID)
		}
	}
	claim := func(at time.Time) *hirehook.Delivery {
		ds, err := st.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w", Now: at, LeaseUntil: at.Add(time.Minute), Limit: 10})
		must(tb, err)
		if len(ds) != 1 {
			tb.Fatalf("claimed %d deliveries at %v, want 1", len(ds), at)
		}
		return ds[0]
	}

	t1 := now.Add(-50 * time.Minute)
	ds := event(evtConfirmed, "placement.confirmed", "pl_1001",
		`{"id":"pl_1001","status":"confirmed","start_date":"2026-12-07","candidate":{"id":"c_77","first_name":"Ada","last_name":"Lovelace"},"client":{"id":"cl_3","name":"Acme Corp"}}`, t1)
	complete(ds[0], hirehook.DeliveryDelivered, t1.Add(time.Second), 120*time.Millisecond, 200, `{"received":true}`, "", "", 0)

	t2 := now.Add(-30 * time.Minute)
	ds = event(evtStarted, "placement.started", "pl_1001", `{"id":"pl_1001","status":"started"}`, t2)
	for _, d := range ds {
		if d.EndpointID == epOnboarding {
			complete(d, hirehook.DeliveryDelivered, t2.Add(time.Second), 80*time.Millisecond, 202, "", "", "", 0)
		} else {
			complete(d, hirehook.DeliveryRetrying, t2.Add(time.Second), 2100*time.Millisecond, 500, "Internal Server Error: payroll database unavailable", hirehook.ErrorClassStatus, "", 5*time.Minute)
		}
	}
	d := claim(t2.Add(time.Second + 5*time.Minute))
	complete(d, hirehook.DeliveryRetrying, t2.Add(time.Second+5*time.Minute), 40*time.Millisecond, 503, "Service Unavailable", hirehook.ErrorClassStatus, "", 5*time.Minute)
	d = claim(t2.Add(time.Second + 10*time.Minute))
	complete(d, hirehook.DeliveryRetrying, t2.Add(time.Second+10*time.Minute), 15*time.Second, 0, "", hirehook.ErrorClassTimeout, "no answer within 15s", 30*time.Minute)

	event(evtCandidate, "candidate.created", "c_77", `{"id":"c_77","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"}`, now.Add(-20*time.Minute))
	event(evtJob, "job.created", "j_12", `{"id":"j_12","title":"Data Engineer"}`, now.Add(-10*time.Minute))

	// Sources: one polling well, one whose polls fail, one disabled.
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for _, src := range []struct {
		s *hirehook.Source
		h hirehook.SourceHealth
	}{
		{&hirehook.Source{ID: srcBullhorn, Name: "Northwind Bullhorn", Config: json.RawMessage(`{"client_id":"hirehook","username":"api.user"}`), Enabled: true},
			hirehook.SourceHealth{LastPollAt: at(3 * time.Second), LastSuccessAt: at(3 * time.Second), EventsRead: 412, EventsEmitted: 398, LagMS: 2400, Node: "hub-1"}},
		{&hirehook.Source{ID: srcBroken, Name: "Legacy Bullhorn", Config: json.RawMessage(`{"client_id":"legacy","poll_interval_ms":5000}`), Enabled: true},
			hirehook.SourceHealth{LastPollAt: at(20 * time.Second), LastSuccessAt: at(3 * time.Hour), EventsRead: 40, EventsEmitted: 40, Errors: 57,
				LastError: "bullhorn: login: 401 Unauthorized: invalid client credentials", LastErrorAt: at(20 * time.Second), LagMS: 1100, Node: "hub-2"}},
		{&hirehook.Source{ID: srcPaused, Name: "Sandbox Bullhorn", Config: json.RawMessage(`{}`), Enabled: false}, hirehook.SourceHealth{}},
	} {
		src.s.TenantID, src.s.Kind = hirehook.DefaultTenantID, hirehook.SourceBullhorn
		src.s.Secrets = map[string]string{"client_secret": "sh-do-not-show", "password": "hunter2-do-not-show"}
		src.s.CreatedAt, src.s.UpdatedAt = now.Add(-72*time.Hour), now.Add(-72*time.Hour)
		must(tb, st.SourceCreate(ctx, src.s))
		h := src.h
		must(tb, st.SourceReport(ctx, hirehook.SourceReportParams{TenantID: hirehook.DefaultTenantID, ID: src.s.ID, Health: &h}))
	}
	// A node runs the enabled ones.
	// The lease is read against the real clock: it must outlast any run.
	_, err = st.SourceLease(ctx, hirehook.SourceLeaseParams{Owner: "hub-1", Now: now, Until: now.Add(100 * 365 * 24 * time.Hour)})
	must(tb, err)

	// A push source, Greenhouse: a webhook with a wrong signature two
	// hours ago (since fixed), then one processed, its vendor's retry, and
	// one that failed to normalise: degraded.
	must(tb, st.SourceCreate(ctx, &hirehook.Source{TenantID: hirehook.DefaultTenantID, ID: srcPush, Kind: "greenhouse", Name: "Northwind Greenhouse",
		Config: json.RawMessage(`{"account":"northwind"}`), Secrets: map[string]string{"signing_secret": "gh-do-not-show"}, Enabled: true,
		CreatedAt: now.Add(-72 * time.Hour), UpdatedAt: now.Add(-72 * time.Hour)}))
	hdr := http.Header{"Content-Type": {"application/json"}, "Signature": {"sha256 5f2b…"}, "User-Agent": {"Greenhouse-Webhooks"}}
	for _, q := range []struct {
		r      *hirehook.InboundRequest
		status string
		events []string
		err    string
	}{
		{&hirehook.InboundRequest{ID: "inr_0000", ReceivedAt: now.Add(-2 * time.Hour), Status: hirehook.InboundRejected, Header: hdr,
			Error: "The Signature header does not match the body: is the signing secret the one set in Greenhouse?"}, "", nil, ""},
		{&hirehook.InboundRequest{ID: inrProcessed, ReceivedAt: now.Add(-40 * time.Minute), Status: hirehook.InboundReceived, Header: hdr,
			DedupeKey: "gh:delivery-7781", VendorEvent: "candidate_stage_change",
			Body: []byte(`{"action":"candidate_stage_change","payload":{"application":{"id":7781,"candidate":{"id":77}}}}`)}, hirehook.InboundProcessed, []string{evtCandidate}, ""},
		{&hirehook.InboundRequest{ID: "inr_0002", ReceivedAt: now.Add(-39 * time.Minute), Status: hirehook.InboundReceived, Header: hdr,
			DedupeKey: "gh:delivery-7781", Body: []byte(`{}`)}, "", nil, ""},
		{&hirehook.InboundRequest{ID: inrFailed, ReceivedAt: now.Add(-15 * time.Minute), Status: hirehook.InboundReceived, Header: hdr,
			DedupeKey: "gh:delivery-7790", VendorEvent: "offer_created", Body: []byte(`{"action":"offer_created","payload":{}}`)},
			hirehook.InboundFailed, nil, "greenhouse: offer_created: payload.offer is missing"},
	} {
		q.r.TenantID, q.r.SourceID = hirehook.DefaultTenantID, srcPush
		q.r.BodySize = len(q.r.Body)
		must(tb, st.InboundCreate(ctx, q.r))
		if q.status != "" {
			must(tb, st.InboundUpdate(ctx, hirehook.InboundUpdateParams{TenantID: hirehook.DefaultTenantID, ID: q.r.ID, Status: q.status,
				VendorEvent: q.r.VendorEvent, EventIDs: q.events, Error: q.err, Now: q.r.ReceivedAt.Add(time.Second)}))
		}
	}
}

// deliveryOf returns the delivery of an event to an endpoint.
func (b *bundle) deliveryOf(tb testing.TB, eventID, endpointID string) *hirehook.Delivery {
	tb.Helper()
	ds, err := b.store.DeliveryList(context.Background(), hirehook.DeliveryFilter{TenantID: hirehook.DefaultTenantID, EventID: &eventID, EndpointID: &endpointID})
	must(tb, err)
	if len(ds) != 1 {
		tb.Fatalf("%d deliveries of %s to %s, want 1", len(ds), eventID, endpointID)
	}
	return ds[0]
}

// pauseBoard is the read-only view of a dispatcher's pauses
// (hirehook.EndpointPauses) that a test sets; package delivery's tests
// hold the dispatcher's own to the same contract.
type pauseBoard struct {
	mu sync.Mutex
	m  map[string]hirehook.EndpointPause
}

func (p *pauseBoard) set(endpointID string, pause hirehook.EndpointPause) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[endpointID] = pause
}

func (p *pauseBoard) EndpointPause(endpointID string) (hirehook.EndpointPause, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pause, ok := p.m[endpointID]
	return pause, ok
}

func (p *pauseBoard) DisableFailingAfter() time.Duration { return 5 * 24 * time.Hour }
