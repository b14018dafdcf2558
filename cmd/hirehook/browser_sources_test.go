package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hirehook/hirehook/connector/bullhorn/bullhornsim"
	"github.com/hirehook/hirehook/connector/greenhouse"
	"github.com/hirehook/hirehook/internal/testwait"
)

// sidewaysOverflow says what sticks out of the window sideways on the
// current page ("" when nothing does): the page itself must not scroll
// sideways, and no form field, code block or button may be cut off.
const sidewaysOverflow = `(() => {
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1) {
    const wide = Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > vw + 1)
      .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/ +/g, '.') : ''));
    return 'the page is ' + document.documentElement.scrollWidth + ' px wide in a ' + vw + ' px window: ' + wide.slice(0, 5).join(', ');
  }
  for (const e of document.querySelectorAll('input, select, button, code.copy, ol.steps li, .kind-card')) {
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'hidden') {
      return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' cuts off its content';
    }
  }
  return '';
})()`

// shotAt saves a screenshot of the current page at each width, checking
// that nothing sticks out sideways, and goes back to 1280 px.
func (b *browserSession) shotAt(name string, widths ...int64) {
	b.t.Helper()
	for _, w := range widths {
		b.run(fmt.Sprintf("resize to %d px", w), chromedp.EmulateViewport(w, 900))
		b.screenshot(fmt.Sprintf("%s-%d", name, w))
		over, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](sidewaysOverflow))
		if err != nil {
			b.t.Fatalf("measure %s: %v", name, err)
		}
		if over != "" {
			b.t.Errorf("%s at %d px: %s", name, w, over)
		}
		cut, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](unreachableCells))
		if err != nil {
			b.t.Fatalf("measure the tables of %s: %v", name, err)
		}
		for _, c := range cut {
			b.t.Errorf("%s at %d px: %s", name, w, c)
		}
	}
	b.run("resize to 1280 px", chromedp.EmulateViewport(1280, 900))
}

// text reads the text of the first element sel matches.
func (b *browserSession) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector(`+"`"+sel+"`"+`) || {textContent: ''}).textContent.trim()`))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// waitText reloads path until the text of sel contains want (a page
// shows no change until it is loaded again, so this polls).
func (b *browserSession) waitText(path, sel, want string, timeout time.Duration) {
	b.t.Helper()
	var got string
	testwait.For(b.t, timeout, fmt.Sprintf("%s: %s to read %q", path, sel, want), func() bool {
		b.run("load "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(`h1`)))
		got = b.text(sel)
		return strings.Contains(got, want)
	}, func() string {
		b.screenshot("timeout-" + strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"))
		return fmt.Sprintf("it reads %q", got)
	})
}

// TestBrowserConnectSources drives the "Connect a source" forms in a real
// headless Chromium: it connects Greenhouse, reads the ingest URL the page
// shows, posts a correctly signed Greenhouse webhook to it and sees the
// event arrive (on the source's page and at a receiver); then it connects
// Bullhorn against the Bullhorn simulator and sees the simulator's
// placement approval arrive. Screenshots of each form and after-save page
// at 1280 and 1920 px go to HIREHOOK_SCREENSHOT_DIR.
func TestBrowserConnectSources(t *testing.T) {
	start := time.Now()
	sim := bullhornsim.New(bullhornsim.Config{})
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	demo, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	hub := startHub(t, func(cfg *Config) { cfg.SourceLease = 600 * time.Millisecond })
	base := hub.URL()
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, base, rc.URL+"/onboarding", "application.*", "placement.*")
	b := newBrowser(t, base, 3*time.Minute)

	b.run("sign in",
		chromedp.Navigate(base+"/sources"),
		chromedp.WaitVisible(chromedp.ID(`api_key`)),
		chromedp.SendKeys(chromedp.ID(`api_key`), testKey),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.empty a[href="/sources/new"]`)),
	)
	b.shotAt("sources-empty", 1280)
	if strings.Contains(b.text(`.empty`), "curl") {
		t.Error("the empty Sources page still says to use curl")
	}

	// Greenhouse, through the form.
	b.run("choose a kind",
		chromedp.Click(chromedp.CSS(`.empty a[href="/sources/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.kind-card[href="/sources/new?kind=greenhouse"]`)),
	)
	b.shotAt("source-kinds", 1280, 1920)
	b.run("open the Greenhouse form",
		chromedp.Click(chromedp.CSS(`a.kind-card[href="/sources/new?kind=greenhouse"]`)),
		chromedp.WaitVisible(chromedp.ID(`signing_secret`)),
	)
	b.shotAt("source-form-greenhouse", 1280, 1920)
	// First without the secret: the form comes back naming the field.
	b.run("submit without a secret",
		chromedp.SetValue(chromedp.ID(`name`), "Acme Greenhouse"),
		chromedp.SendKeys(chromedp.ID(`account`), "acme"),
		chromedp.Click(chromedp.CSS(`form[action="/sources"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID(`signing_secret-error`)),
	)
	b.shotAt("source-form-greenhouse-error", 1280)
	if got := b.text(`#signing_secret-error`); !strings.HasPrefix(got, "Signing secret is required") {
		t.Errorf("the error under the signing secret reads %q", got)
	}
	const ghSecret = "gh-browser-form-secret"
	b.run("connect Greenhouse",
		chromedp.SendKeys(chromedp.ID(`signing_secret`), ghSecret),
		chromedp.Click(chromedp.CSS(`form[action="/sources"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID(`ingest-url`)),
	)
	b.shotAt("source-greenhouse-connected", 1280, 1920)
	ingest := b.text(`#ingest-url`)
	if !strings.HasPrefix(ingest, base+"/in/src_") {
		t.Fatalf("the page shows the ingest URL %q", ingest)
	}
	srcPath := "/sources/" + strings.TrimPrefix(ingest, base+"/in/")
	if steps := b.text(`ol.steps`); !strings.Contains(steps, "Configure → Dev Center → Web Hooks") || !strings.Contains(steps, "Endpoint URL: "+ingest) {
		t.Errorf("the Greenhouse steps read %q", steps)
	}

	// Greenhouse posts a signed stage change to the URL the page showed.
	event, err := os.ReadFile(filepath.Join("..", "..", "connector", "greenhouse", "testdata", "candidate_stage_change.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", ingest, bytes.NewReader(event))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Signature", greenhouse.Sign(event, ghSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the signed Greenhouse webhook = %d", resp.StatusCode)
	}
	b.waitText(srcPath, `table.data tbody`, "processed", 20*time.Second)
	b.shotAt("source-greenhouse-request", 1280)
	waitFor(t, 20*time.Second, "application.stage_changed at the receiver", func() bool {
		return countTypes(webhooks(t, rc, ep.Secret))["application.stage_changed"] == 1
	})
	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('table.data tbody a[href^="/events/"]').getAttribute('href')`))
	if err != nil {
		t.Fatalf("the request log links no event: %v", err)
	}
	b.waitEventState(strings.TrimPrefix(href, "/events/"), "delivered", 20*time.Second)

	// Bullhorn, through the form, against the simulator.
	simCfg := sim.Config()
	b.run("open the Bullhorn form",
		chromedp.Navigate(base+"/sources/new"),
		chromedp.Click(chromedp.CSS(`a.kind-card[href="/sources/new?kind=bullhorn"]`)),
		chromedp.WaitVisible(chromedp.ID(`client_id`)),
	)
	b.shotAt("source-form-bullhorn", 1280, 1920)
	b.run("fill in Bullhorn",
		chromedp.SetValue(chromedp.ID(`name`), "Acme Bullhorn (simulated)"),
		chromedp.SendKeys(chromedp.ID(`client_id`), simCfg.ClientID),
		chromedp.SendKeys(chromedp.ID(`client_secret`), simCfg.ClientSecret),
		chromedp.SendKeys(chromedp.ID(`username`), simCfg.Username),
		chromedp.SendKeys(chromedp.ID(`password`), simCfg.Password),
		chromedp.Click(chromedp.CSS(`details.more summary`)),
		chromedp.WaitVisible(chromedp.ID(`auth_url`)),
		chromedp.SendKeys(chromedp.ID(`auth_url`), simSrv.URL),
		chromedp.SendKeys(chromedp.ID(`login_url`), simSrv.URL),
		chromedp.SendKeys(chromedp.ID(`poll_interval_ms`), "0.2"),
	)
	b.shotAt("source-form-bullhorn-filled", 1280, 1920)
	b.run("connect Bullhorn",
		chromedp.Click(chromedp.CSS(`form[action="/sources"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`section.setup ol.steps`)),
	)
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	bhPath := strings.TrimPrefix(loc, base)
	if !strings.HasPrefix(bhPath, "/sources/src_") {
		t.Fatalf("after connecting Bullhorn the browser is at %s", loc)
	}
	b.shotAt("source-bullhorn-connected", 1280, 1920)
	// Bullhorn queues events only on subscriptions that exist: wait for
	// the first poll, then approve the placement in the simulator.
	waitFor(t, 20*time.Second, "the source's first poll of the simulator", func() bool { return sim.Stats().Polls > 0 })
	if err := sim.Update("Placement", demo.Placements[0], map[string]any{"status": "Approved"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "placement.confirmed at the receiver", func() bool {
		return countTypes(webhooks(t, rc, ep.Secret))["placement.confirmed"] == 1
	})
	b.waitText(bhPath, `dl.facts`, "Events emitted", 5*time.Second)
	b.waitText(bhPath, `h1 .badge`, "healthy", 20*time.Second)
	b.shotAt("source-bullhorn-events", 1280, 1920)
	b.run("open the Sources page", chromedp.Navigate(base+"/sources"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	b.shotAt("sources-connected", 1280, 1920)
	t.Logf("browser sources test: %d screenshots in %s, %v", b.shot, b.dir, time.Since(start).Round(time.Millisecond))
}
