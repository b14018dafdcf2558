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

	// The other pages, as they look after all this.
	for _, page := range []struct{ name, path, sel string }{
		{"events", "/events", `h1`},
		{"endpoint", "/endpoints/" + endpointID, `h1`},
		{"integrations", "/", `a[href="/endpoints/new"]`},
		{"coverage", "/coverage", `h1`},
		{"sources", "/sources", `h1`},
	} {
		b.run("open "+page.name,
			chromedp.Navigate(base+page.path),
			chromedp.WaitVisible(chromedp.CSS(page.sel)),
		)
		b.screenshot(page.name)
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
