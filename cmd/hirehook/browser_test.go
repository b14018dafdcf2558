package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hirehook/hirehook/internal/testwait"
)

// findBrowser returns the path of a Chromium or Chrome binary in PATH, or
// "" when there is none.
func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is where the browser test saves its screenshots:
// $HIREHOOK_SCREENSHOT_DIR if set (CI sets it to a gitignored folder in
// the checkout), else a temporary folder of the test.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HIREHOOK_SCREENSHOT_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserSession is one headless Chromium tab on a hub, saving a numbered
// screenshot of each page it looks at.
type browserSession struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	shot int
}

func (b *browserSession) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.screenshot("failure-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// screenshot saves the whole page as NN-name.png.
func (b *browserSession) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.shot++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// shotWidths are the window widths every page is photographed at.
var shotWidths = []int64{1280, 1920}

// pageOverflow says which element makes the page wider than the window
// ("" when none does): a long id or a wide form must wrap or scroll inside
// its own box, not push the page sideways. Tables are measured apart
// (unreachableCells), so elements inside a scrolling box are skipped.
const pageOverflow = `(() => {
  const viewport = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= viewport + 1) return '';
  let widest = null, right = 0;
  for (const e of document.body.querySelectorAll('*')) {
    let scrolled = false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox !== 'visible') { scrolled = true; break; }
    }
    if (scrolled) continue;
    const r = e.getBoundingClientRect();
    if (r.right > right) { right = r.right; widest = e; }
  }
  const what = widest ? widest.tagName.toLowerCase() + (widest.className ? '.' + String(widest.className).trim().replace(/ +/g, '.') : '') + ' "' + widest.textContent.trim().replace(/\s+/g, ' ').slice(0, 60) + '"' : 'something';
  return 'the page is ' + document.documentElement.scrollWidth + ' px wide in a ' + viewport + ' px window: ' + what + ' ends at ' + Math.round(right) + ' px';
})()`

// deliveryStates reads the state badge of every delivery on an event page.
const deliveryStates = `Array.from(document.querySelectorAll('article.delivery .card-head .badge')).map(e => e.textContent.trim()).join(',')`

// unreachableCells lists each table cell that a person cannot bring on
// screen: a cell is reachable when it lies inside every box that clips it
// (overflow hidden or clip) up to the nearest box that scrolls sideways,
// and that box, or the cell itself when no box scrolls, lies within the
// window's width (the page itself must not need a sideways scroll).
const unreachableCells = `(() => {
  const cut = new Map();
  const viewport = document.documentElement.clientWidth;
  const tables = Array.from(document.querySelectorAll('table'));
  const squash = (s) => s.trim().replace(/\s+/g, ' ').slice(0, 48);
  for (const c of document.querySelectorAll('table th, table td')) {
    const r = c.getBoundingClientRect();
    if (r.width === 0) continue;
    let right = r.right + window.scrollX, left = r.left + window.scrollX;
    let what = '';
    for (let a = c.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === 'visible') continue;
      const b = a.getBoundingClientRect();
      if (ox === 'auto' || ox === 'scroll') {
        // Reachable by scrolling this box; the box itself must be on screen.
        right = b.right + window.scrollX; left = b.left + window.scrollX;
        break;
      }
      if (r.right > b.right + 0.5 || r.left < b.left - 0.5) {
        what = a.tagName.toLowerCase() + '.' + a.className.trim().replace(/ +/g, '.') + ' (overflow-x: ' + ox + ', ' + Math.round(b.width) + ' px wide)';
        break;
      }
    }
    if (!what && (right > viewport + 0.5 || left < -0.5)) {
      what = 'the window (' + viewport + ' px wide: the page scrolls sideways)';
    }
    if (!what) continue;
    const t = c.closest('table');
    const head = t.querySelector('thead tr:first-child > :nth-child(' + (c.cellIndex + 1) + ')');
    const key = 'table ' + (tables.indexOf(t) + 1) + ', column "' + squash(head ? head.textContent : c.textContent) + '", cut off by ' + what;
    cut.set(key, Math.max(cut.get(key) || 0, Math.round(r.right)));
  }
  return Array.from(cut, ([k, v]) => k + ': cells end at ' + v + ' px');
})()`

// matrixHeadOnScreen brings a row two thirds down the coverage matrix to
// the middle of the window, as a person scrolling down to it would, and
// says what is
// wrong if the matrix's endpoint headers are then not on screen, or are
// covered by the rows ("" when they show).
const matrixHeadOnScreen = `(() => {
  const table = document.querySelector('table.matrix');
  const rows = table.querySelectorAll('tbody tr');
  const row = rows[Math.floor(rows.length * 2 / 3)];
  row.scrollIntoView({block: 'center', inline: 'nearest'});
  const head = table.querySelector('thead th.col');
  const r = head.getBoundingClientRect();
  if (r.bottom <= 0 || r.top >= window.innerHeight) {
    return 'the header "' + head.textContent.trim().replace(/\s+/g, ' ') + '" is at ' + Math.round(r.top) + ' px, off the ' + window.innerHeight + ' px window';
  }
  const x = r.left + Math.min(r.width / 2, 20), y = r.top + r.height / 2;
  const at = document.elementFromPoint(x, y);
  if (!at || !head.contains(at)) {
    return 'the header is covered by ' + (at ? at.tagName.toLowerCase() + '.' + at.className : 'nothing');
  }
  return '';
})()`

// waitJS evaluates expr in the page until it yields want, for at most 20
// seconds (the page itself polls, so no round trip per look), and returns
// its last value.
func (b *browserSession) waitJS(expr, want string) string {
	b.t.Helper()
	wait := fmt.Sprintf(`new Promise((resolve) => {
  const until = Date.now() + 20000;
  const look = () => {
    let v;
    try { v = String((%s) ?? ''); } catch (e) { v = 'error: ' + e.message; }
    if (v === %q || Date.now() > until) { resolve(v); return; }
    setTimeout(look, 50);
  };
  look();
})`, expr, want)
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](wait, chromedp.EvalAwaitPromise))
	if err != nil {
		b.screenshot("failure-wait")
		b.t.Fatalf("browser: wait for %s to be %q: %v", expr, want, err)
	}
	return got
}

// waitEventState loads the event page until its deliveries read want,
// for at most timeout (a page shows no change until it is loaded again,
// so this polls).
func (b *browserSession) waitEventState(eventID, want string, timeout time.Duration) {
	b.t.Helper()
	var got string
	testwait.For(b.t, timeout, fmt.Sprintf("event %s: deliveries to read %q", eventID, want), func() bool {
		b.run("load event "+eventID,
			chromedp.Navigate(b.base+"/events/"+eventID),
			chromedp.WaitVisible(chromedp.CSS(`h1`)),
		)
		var err error
		got, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](deliveryStates))
		if err != nil {
			b.t.Fatalf("browser: read the deliveries of event %s: %v", eventID, err)
		}
		return got == want
	}, func() string {
		b.screenshot("timeout-" + eventID)
		return fmt.Sprintf("they read %q", got)
	})
}

// newBrowser starts a headless Chromium tab on base that lives at most
// timeout, or skips the test when there is none (fails with
// HIREHOOK_REQUIRE_BROWSER=1).
func newBrowser(t *testing.T, base string, timeout time.Duration) *browserSession {
	t.Helper()
	chrome := findBrowser()
	if chrome == "" {
		msg := "no Chromium found in PATH (chromium, chromium-browser, google-chrome): install Debian's chromium package to run the browser test"
		if os.Getenv("HIREHOOK_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " (HIREHOOK_REQUIRE_BROWSER=1)")
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	return &browserSession{t: t, ctx: tabCtx, base: base, dir: screenshotDir(t)}
}

// TestBrowserDashboard drives the dashboard in a real headless Chromium:
// sign in, create an endpoint through the form, watch an event delivered,
// watch one fail while the receiver answers 500, replay it and see it
// delivered, then send a test event from the endpoint page and see it
// delivered, signed.
func TestBrowserDashboard(t *testing.T) {
	start := time.Now()

	var status atomic.Int32
	status.Store(http.StatusOK)
	rc := newReceiver(t, func(int) int { return int(status.Load()) })
	hub := startHub(t, func(cfg *Config) {
		cfg.RetrySchedule = []time.Duration{20 * time.Millisecond, 20 * time.Millisecond}
	})
	base := hub.URL()

	// Generous: two widths of every page, on a CI machine shared with
	// other builds.
	b := newBrowser(t, base, 5*time.Minute)

	// Sign in: the dashboard sends a visitor without a session there.
	for _, width := range shotWidths {
		b.run("open sign-in",
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.ID(`api_key`)),
		)
		b.screenshot(fmt.Sprintf("signin-%d", width))
	}
	b.run("back to 1280 px", chromedp.EmulateViewport(1280, 900))
	b.run("sign in",
		chromedp.SendKeys(chromedp.ID(`api_key`), testKey),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/endpoints/new"]`)),
	)
	b.screenshot("integrations-empty")

	// Create an endpoint through the form.
	b.run("open new endpoint",
		chromedp.Click(chromedp.CSS(`a[href="/endpoints/new"]`)),
		chromedp.WaitVisible(chromedp.ID(`url`)),
	)
	b.screenshot("endpoint-new")
	b.run("create endpoint",
		chromedp.SendKeys(chromedp.ID(`url`), rc.URL+"/hooks"),
		chromedp.SendKeys(chromedp.ID(`description`), "Onboarding service (browser test)"),
		chromedp.Click(chromedp.CSS(`input[name="event_types"][value="placement.confirmed"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/endpoints"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash code.secret`)),
	)
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	b.screenshot("endpoint-created")
	endpointID, ok := strings.CutPrefix(loc, base+"/endpoints/")
	if !ok || endpointID == "" {
		t.Fatalf("after creating the endpoint the browser is at %s", loc)
	}

	// An event, delivered.
	ok1 := sendEvent(t, base, placement("p_browser_1"))
	if ok1.Deliveries != 1 {
		t.Fatalf("first event: %d deliveries, want 1", ok1.Deliveries)
	}
	b.waitEventState(ok1.ID, "delivered", 20*time.Second)
	b.screenshot("event-delivered")

	// The receiver fails: the next event's delivery runs out of attempts.
	status.Store(http.StatusInternalServerError)
	ok2 := sendEvent(t, base, placement("p_browser_2"))
	b.waitEventState(ok2.ID, "failed", 20*time.Second)
	b.screenshot("event-failed")

	// The receiver is back: replay from the event page.
	status.Store(http.StatusOK)
	b.run("replay",
		chromedp.Click(chromedp.CSS(`article.delivery form[action$="/replay"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)),
	)
	b.screenshot("event-replay-queued")
	b.waitEventState(ok2.ID, "delivered", 20*time.Second)
	b.screenshot("event-replayed")

	// Send a test event: subscribe the endpoint to endpoint.tested, press
	// the button, follow the flash's link to the event, see it delivered.
	b.run("subscribe to endpoint.tested",
		chromedp.Navigate(base+"/endpoints/"+endpointID),
		chromedp.Click(chromedp.CSS(`details.hub-types > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="event_types"][value="endpoint.tested"]`)),
		chromedp.Click(chromedp.CSS(`input[name="event_types"][value="endpoint.tested"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/endpoints/`+endpointID+`"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/test"] button[type=submit]`)),
	)
	b.run("send test event",
		chromedp.Click(chromedp.CSS(`form[action$="/test"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok a[href^="/events/"]`)),
	)
	b.screenshot("endpoint-test-sent")
	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('.flash.ok a[href^="/events/"]').getAttribute('href')`))
	if err != nil {
		t.Fatal(err)
	}
	b.waitEventState(strings.TrimPrefix(href, "/events/"), "delivered", 20*time.Second)
	b.screenshot("event-test-delivered")

	// Try a route on the first event: nothing is saved, the verdict and
	// the body show.
	b.run("try a route",
		chromedp.Navigate(base+"/endpoints/"+endpointID),
		chromedp.WaitVisible(chromedp.ID(`try_event_id`)),
		chromedp.Click(chromedp.CSS(`details.routing > summary`)),
		chromedp.SendKeys(chromedp.ID(`transform`), `{placement: .subject.id}`),
		chromedp.SetValue(chromedp.ID(`try_event_id`), ok1.ID),
		chromedp.Click(chromedp.CSS(`button[formaction$="/try-route#try"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.try-result .badge.ok`)),
	)
	b.screenshot("endpoint-try-route")
	tried, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('.try-result details pre').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if tried != `{"placement":"p_browser_1"}` {
		t.Errorf("try it shows the body %s", tried)
	}

	// The same box, live: no button pressed, the result follows what is
	// typed (a script posts the form to the same try-route handler).
	b.run("try a route live",
		chromedp.Navigate(base+"/endpoints/"+endpointID),
		chromedp.WaitVisible(chromedp.ID(`try-live`)),
		chromedp.Click(chromedp.CSS(`details.routing > summary`)),
		chromedp.SetValue(chromedp.ID(`try_event_id`), ok1.ID),
		chromedp.SendKeys(chromedp.ID(`transform`), `{who: .data.candidate.first_name}`),
	)
	const liveBody = `(document.querySelector('#try-output details pre') || {}).textContent`
	if got := b.waitJS(liveBody, `{"who":"Ada"}`); got != `{"who":"Ada"}` {
		t.Errorf("the live try shows the body %q, want the transform of everything typed", got)
	}
	b.screenshot("endpoint-try-live")
	// A filter that leaves the event out: the verdict changes, still
	// without a button.
	b.run("filter live",
		chromedp.SendKeys(chromedp.ID(`filter`), `.data.client.name == "Someone else"`),
	)
	const liveVerdict = `(document.querySelector('#try-output .verdict .badge') || {}).textContent`
	if got := b.waitJS(liveVerdict, "not delivered"); got != "not delivered" {
		t.Errorf("after a filter that leaves the event out, the live try says %q", got)
	}
	b.screenshot("endpoint-try-live-filtered")

	// A broker endpoint through the same form: choosing NATS JetStream
	// shows its fields (the others hide, by CSS alone); the page then
	// shows the kind and the destination, never the token.
	b.run("create a NATS endpoint",
		chromedp.Navigate(base+"/endpoints/new"),
		chromedp.WaitVisible(chromedp.ID(`url`)),
		chromedp.Click(chromedp.CSS(`input[name="kind"][value="nats"]`)),
		chromedp.WaitVisible(chromedp.ID(`nats-servers`)),
		chromedp.WaitNotVisible(chromedp.ID(`url`)),
		chromedp.SendKeys(chromedp.ID(`nats-servers`), "127.0.0.1:4222"),
		chromedp.SendKeys(chromedp.ID(`nats-subject`), "hub.browser"),
		chromedp.SendKeys(chromedp.ID(`nats-credential-token`), "tok-browser-secret"),
		chromedp.SendKeys(chromedp.ID(`description`), "Data platform (NATS)"),
		chromedp.Click(chromedp.CSS(`input[name="event_types"][value="job.created"]`)),
	)
	b.screenshot("endpoint-new-nats")
	b.run("save the NATS endpoint",
		chromedp.Click(chromedp.CSS(`form[action="/endpoints"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash code.secret`)),
	)
	b.screenshot("endpoint-nats-created")
	natsPage, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(natsPage, "NATS JetStream") || !strings.Contains(natsPage, "nats://127.0.0.1:4222/hub.browser.") || strings.Contains(natsPage, "tok-browser-secret") {
		t.Errorf("the NATS endpoint's page lacks its kind or destination, or shows its token")
	}

	// Wide tables: an endpoint with a long address subscribed to most
	// types (a wide coverage matrix; jobs, postings and interviews left as
	// gaps), a polled and a push source.
	// They answer on a receiver of their own, so the one above keeps its
	// count.
	other := newReceiver(t, func(int) int { return http.StatusOK })
	wide := createEndpoint(t, base, other.URL+"/hooks/onboarding/eu-west/acme-staffing-group/candidates-and-placements",
		"candidate.*", "application.*", "offer.*", "placement.*", "client.*", "contact.*", "endpoint.*", "delivery.*").ID
	for _, name := range []string{"payroll", "background-checks", "crm-sync", "analytics-warehouse", "slack-alerts", "timesheets"} {
		createEndpoint(t, base, other.URL+"/hooks/"+name, "candidate.*", "placement.*")
	}
	var sourceIDs []string
	for _, src := range []map[string]any{
		{"kind": "bullhorn", "name": "Acme Staffing Group Bullhorn (EU production)", "enabled": false,
			"config": map[string]any{"client_id": "acme", "client_secret": "cs-browser", "refresh_token": "rt-browser"}},
		{"kind": "greenhouse", "name": "Acme Staffing Group Greenhouse",
			"config": map[string]any{"signing_secret": "gh-browser", "account": "acme"}},
	} {
		var created struct {
			ID string `json:"id"`
		}
		if st := call(t, base, "POST", "/v1/sources", src, &created); st != http.StatusCreated {
			t.Fatalf("create source %s: %d", src["name"], st)
		}
		sourceIDs = append(sourceIDs, created.ID)
	}
	// An unsigned webhook, so the push source's request log has a row.
	resp, err := http.Post(base+"/in/"+sourceIDs[1], "application/json", strings.NewReader(`{"action":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// An event with an id as long as Bullhorn's (source, vendor event id,
	// type), about a candidate: its page must wrap the id.
	long := sendEvent(t, base, map[string]any{
		"id": "bh:src_01jqz5w8k2m4n6p8r0t2v4x6z8:ID:9c1f3e7a-52d4-4b8e-a1f0-7d2c6b9e4a13:candidate_updated", "type": "candidate.updated", "source": "bullhorn",
		"data": map[string]any{"id": "bh-candidate-4815162342-northwind-eu", "first_name": "Grace", "last_name": "Hopper"},
	})
	// The request log of the push source, for the page of one request.
	var requests struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if st := call(t, base, "GET", "/v1/sources/"+sourceIDs[1]+"/requests", nil, &requests); st != http.StatusOK || len(requests.Data) == 0 {
		t.Fatalf("list the push source's requests: %d, %d requests", st, len(requests.Data))
	}

	// Every page, as it looks after all this, at the widths an operator's
	// screen has (screenshots at 1280 and 1920 px): every cell of every
	// table is on screen or in a container that scrolls to it, and nothing
	// else makes the page scroll sideways.
	for _, width := range []int64{1024, 1280, 1920} {
		b.run(fmt.Sprintf("resize to %d px", width), chromedp.EmulateViewport(width, 900))
		for _, page := range []struct{ name, path, sel string }{
			{"integrations", "/", `a[href="/endpoints/new"]`},
			{"endpoint-new", "/endpoints/new", `h1`},
			{"endpoint", "/endpoints/" + endpointID, `h1`},
			{"endpoint-wide", "/endpoints/" + wide, `h1`},
			{"events", "/events", `h1`},
			{"event", "/events/" + ok2.ID, `h1`},
			{"event-long-id", "/events/" + long.ID, `h1`},
			{"record", "/records/placement/p_browser_1", `h1`},
			{"coverage", "/coverage", `h1`},
			{"coverage-gaps", "/coverage?gaps=1", `h1`},
			{"sources", "/sources", `h1`},
			{"source-polled", "/sources/" + sourceIDs[0], `h1`},
			{"source-push", "/sources/" + sourceIDs[1], `h1`},
			{"inbound-request", "/sources/" + sourceIDs[1] + "/requests/" + requests.Data[0].ID, `h1`},
			{"not-found", "/no/such/page", `h1`},
		} {
			b.run("open "+page.name,
				chromedp.Navigate(base+page.path),
				chromedp.WaitVisible(chromedp.CSS(page.sel)),
			)
			if slices.Contains(shotWidths, width) {
				b.screenshot(fmt.Sprintf("%s-%d", page.name, width))
			}
			wider, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](pageOverflow))
			if err != nil {
				t.Fatalf("measure the width of %s: %v", page.name, err)
			}
			if wider != "" {
				t.Errorf("%s at %d px: %s", page.name, width, wider)
			}
			cut, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](unreachableCells))
			if err != nil {
				t.Fatalf("measure the tables of %s: %v", page.name, err)
			}
			for _, c := range cut {
				t.Errorf("%s at %d px: %s", page.name, width, c)
			}
			if page.name != "coverage" {
				continue
			}
			// Scrolled far down the event types, the matrix still
			// shows which endpoint each column is.
			lost, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](matrixHeadOnScreen))
			if err != nil {
				t.Fatalf("scroll the coverage matrix: %v", err)
			}
			if slices.Contains(shotWidths, width) {
				b.screenshot(fmt.Sprintf("coverage-scrolled-%d", width))
			}
			if lost != "" {
				t.Errorf("coverage at %d px, scrolled down: %s", width, lost)
			}
		}
	}

	// The receiver saw the first event, the failed attempts and the replay.
	got := rc.got()
	if len(got) < 4 {
		t.Errorf("receiver got %d requests, want at least 4", len(got))
	} else if last := got[len(got)-1]; !strings.Contains(string(last.body), `"type":"endpoint.tested"`) || last.header.Get("Webhook-Signature") == "" {
		t.Errorf("the last webhook is not a signed endpoint.tested event: %s", last.body)
	}
	t.Logf("browser test: %d screenshots in %s, %v", b.shot, b.dir, time.Since(start).Round(time.Millisecond))
}
