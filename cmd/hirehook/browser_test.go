package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

// waitEventState loads the event page until its deliveries read want,
// polling at most timeout.
func (b *browserSession) waitEventState(eventID, want string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b.run("load event "+eventID,
			chromedp.Navigate(b.base+"/events/"+eventID),
			chromedp.WaitVisible(chromedp.CSS(`h1`)),
		)
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](deliveryStates))
		if err != nil {
			b.t.Fatalf("browser: read the deliveries of event %s: %v", eventID, err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			b.screenshot("timeout-" + eventID)
			b.t.Fatalf("event %s: deliveries %q after %v, want %q", eventID, got, timeout, want)
		}
		// A poll interval, not a wait for something to happen.
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserDashboard drives the dashboard in a real headless Chromium:
// sign in, create an endpoint through the form, watch an event delivered,
// watch one fail while the receiver answers 500, replay it and see it
// delivered, then send a test event from the endpoint page and see it
// delivered, signed.
func TestBrowserDashboard(t *testing.T) {
	chrome := findBrowser()
	if chrome == "" {
		msg := "no Chromium found in PATH (chromium, chromium-browser, google-chrome): install Debian's chromium package to run the browser test"
		if os.Getenv("HIREHOOK_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " (HIREHOOK_REQUIRE_BROWSER=1)")
		}
		t.Skip(msg)
	}
	start := time.Now()

	var status atomic.Int32
	status.Store(http.StatusOK)
	rc := newReceiver(t, func(int) int { return int(status.Load()) })
	hub := startHub(t, func(cfg *Config) {
		cfg.RetrySchedule = []time.Duration{20 * time.Millisecond, 20 * time.Millisecond}
	})
	base := hub.URL()

	userData := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
		chromedp.UserDataDir(userData),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	b := &browserSession{t: t, ctx: tabCtx, base: base, dir: screenshotDir(t)}

	// Sign in: the dashboard sends a visitor without a session there.
	b.run("open sign-in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID(`api_key`)),
	)
	b.screenshot("signin")
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
	loc, err := chromedp.Run(tabCtx, chromedp.Location())
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
	href, err := chromedp.Run(tabCtx, chromedp.Evaluate[string](`document.querySelector('.flash.ok a[href^="/events/"]').getAttribute('href')`))
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
		chromedp.SendKeys(chromedp.ID(`transform`), `{placement: .subject.id}`),
		chromedp.SetValue(chromedp.ID(`try_event_id`), ok1.ID),
		chromedp.Click(chromedp.CSS(`button[formaction$="/try-route#try"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.try-result .badge.ok`)),
	)
	b.screenshot("endpoint-try-route")
	tried, err := chromedp.Run(tabCtx, chromedp.Evaluate[string](`document.querySelector('.try-result details pre').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if tried != `{"placement":"p_browser_1"}` {
		t.Errorf("try it shows the body %s", tried)
	}

	// Wide tables: an endpoint with a long address subscribed to every
	// type (a wide coverage matrix), a polled and a push source.
	// They answer on a receiver of their own, so the one above keeps its
	// count.
	other := newReceiver(t, func(int) int { return http.StatusOK })
	wide := createEndpoint(t, base, other.URL+"/hooks/onboarding/eu-west/acme-staffing-group/candidates-and-placements", "*").ID
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

	// The other pages, as they look after all this, at the widths an
	// operator's screen has: every cell of every table is on screen or
	// in a container that scrolls to it.
	for _, width := range []int64{1024, 1280, 1920} {
		b.run(fmt.Sprintf("resize to %d px", width), chromedp.EmulateViewport(width, 900))
		for _, page := range []struct{ name, path, sel string }{
			{"events", "/events", `h1`},
			{"endpoint", "/endpoints/" + endpointID, `h1`},
			{"endpoint-wide", "/endpoints/" + wide, `h1`},
			{"event", "/events/" + ok2.ID, `h1`},
			{"integrations", "/", `a[href="/endpoints/new"]`},
			{"coverage", "/coverage", `h1`},
			{"sources", "/sources", `h1`},
			{"source-polled", "/sources/" + sourceIDs[0], `h1`},
			{"source-push", "/sources/" + sourceIDs[1], `h1`},
		} {
			b.run("open "+page.name,
				chromedp.Navigate(base+page.path),
				chromedp.WaitVisible(chromedp.CSS(page.sel)),
			)
			b.screenshot(fmt.Sprintf("%s-%d", page.name, width))
			cut, err := chromedp.Run(tabCtx, chromedp.Evaluate[[]string](unreachableCells))
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
			lost, err := chromedp.Run(tabCtx, chromedp.Evaluate[string](matrixHeadOnScreen))
			if err != nil {
				t.Fatalf("scroll the coverage matrix: %v", err)
			}
			b.screenshot(fmt.Sprintf("coverage-scrolled-%d", width))
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
