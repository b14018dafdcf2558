package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// getText GETs a URL and returns the status and body.
func getText(tb testing.TB, c *http.Client, u string) (int, string) {
	tb.Helper()
	resp, err := c.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metricValue returns the value of one series in a scrape, or "".
func metricValue(scrape, series string) string {
	for _, line := range strings.Split(scrape, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestMetricsAfterAnEvent: an event sent through the API and delivered to
// a receiver shows in /metrics (no key needed) as ingested, delivered and
// timed, with an empty queue.
func TestMetricsAfterAnEvent(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, hub.URL(), rc.URL, "placement.*")
	sendEvent(t, hub.URL(), placement("pl_1"))
	waitFor(t, 10*time.Second, "the delivery", func() bool { return len(rc.got()) == 1 })
	// Two rejected event requests: an unknown type, and a bad key.
	if st := call(t, hub.URL(), "POST", "/v1/events", map[string]any{"type": "placement.teleported", "data": map[string]any{"id": "x"}}, nil); st != http.StatusUnprocessableEntity && st != http.StatusBadRequest {
		t.Fatalf("unknown type: %d", st)
	}
	req, _ := http.NewRequest("POST", hub.URL()+"/v1/events", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer hh_not_a_key")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad key: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	var scrape string
	want := map[string]string{
		`hirehook_events_ingested_total{source="bullhorn",type="placement.confirmed"}`: "1",
		`hirehook_deliveries_total{endpoint_id="` + ep.ID + `",outcome="delivered"}`:   "1",
		`hirehook_attempt_duration_seconds_count{endpoint_id="` + ep.ID + `"}`:         "1",
		`hirehook_queue_depth{endpoint_id="` + ep.ID + `",state="pending"}`:            "0",
		`hirehook_queue_depth{endpoint_id="` + ep.ID + `",state="retrying"}`:           "0",
		`hirehook_queue_depth{endpoint_id="` + ep.ID + `",state="delivering"}`:         "0",
		`hirehook_queue_oldest_age_seconds{endpoint_id="` + ep.ID + `"}`:               "0",
		`hirehook_store_up`: "1",
		`hirehook_events_rejected_total{reason="invalid"}`:      "1",
		`hirehook_events_rejected_total{reason="unauthorized"}`: "1",
	}
	// The receiver has the webhook a moment before the hub records it.
	waitFor(t, 10*time.Second, "the attempt to be recorded", func() bool {
		status, body := getText(t, http.DefaultClient, hub.URL()+"/metrics")
		if status != http.StatusOK {
			t.Fatalf("GET /metrics = %d", status)
		}
		scrape = body
		for series, v := range want {
			if metricValue(scrape, series) != v {
				return false
			}
		}
		return true
	})
	if metricValue(scrape, "hirehook_store_ping_seconds") == "" {
		t.Fatalf("no store ping latency in:\n%s", scrape)
	}
}

// TestDashboardMounted: the hub serves the dashboard at / beside the API,
// and the operator key (stored by api.HashKey) signs in to it.
func TestDashboardMounted(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	rc := newReceiver(t, nil)
	createEndpoint(t, hub.URL(), rc.URL, "placement.*")
	sendEvent(t, hub.URL(), placement("pl_1"))
	waitFor(t, 10*time.Second, "the delivery", func() bool { return len(rc.got()) == 1 })
	// Two rejected event requests: an unknown type, and a bad key.
	if st := call(t, hub.URL(), "POST", "/v1/events", map[string]any{"type": "placement.teleported", "data": map[string]any{"id": "x"}}, nil); st != http.StatusUnprocessableEntity && st != http.StatusBadRequest {
		t.Fatalf("unknown type: %d", st)
	}
	req, _ := http.NewRequest("POST", hub.URL()+"/v1/events", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer hh_not_a_key")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad key: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	status, body := getText(t, c, hub.URL()+"/") // redirected to /signin
	if status != http.StatusOK || !strings.Contains(body, `action="/signin"`) {
		t.Fatalf("GET / without a session = %d:\n%s", status, body)
	}
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)[1]
	resp, err := c.PostForm(hub.URL()+"/signin", url.Values{"api_key": {testKey}, "csrf_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<h1>Integrations</h1>") {
		t.Fatalf("after sign-in = %d:\n%s", resp.StatusCode, page)
	}
	waitFor(t, 10*time.Second, "the endpoint to show healthy with its attempt", func() bool {
		_, body = getText(t, c, hub.URL()+"/")
		return strings.Contains(body, `<span class="badge ok">healthy</span>`) && strings.Contains(body, "All 1 attempt succeeded")
	})
	// The API is still the API.
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if st := call(t, hub.URL(), "GET", "/v1/nope", nil, &e); st != http.StatusNotFound || e.Error.Code != hirehook.ENOTFOUND {
		t.Fatalf("GET /v1/nope = %d %+v, want the API's 404", st, e)
	}
}
