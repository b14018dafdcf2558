package hub

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hirehook/hirehook/internal/netguard"
)

// TestSourceHTTPClientRefusesInternalRanges holds the client that sources
// poll with and inbound hydration fetches with (sourceHTTPClient, wired
// into both by the hub) to the webhook sender's guard: every range the
// sender refuses, refused at dial time, unless private destinations are
// allowed.
func TestSourceHTTPClientRefusesInternalRanges(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	clients := map[string]*http.Client{
		"sources":   newSourceManager(nil, nil, "n1", 0, false, nil).httpClient,
		"hydration": sourceHTTPClient(false),
	}
	for name, c := range clients {
		for _, u := range []string{
			srv.URL,                       // loopback
			"http://100.64.0.1/",          // carrier-grade NAT
			"http://0.1.2.3/",             // "this network"
			"http://198.18.0.1/",          // benchmarking
			"http://240.0.0.1/",           // reserved
			"http://[64:ff9b::a00:1]/",    // NAT64
			"http://[2002:a00:1::1]/",     // 6to4 around 10.0.0.1
			"http://169.254.169.254/",     // cloud metadata
			"http://[::ffff:100.64.0.1]/", // mapped carrier-grade NAT
		} {
			resp, err := c.Get(u)
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, netguard.ErrForbidden) {
				t.Errorf("%s client: GET %s: err = %v, want netguard.ErrForbidden", name, u, err)
			}
		}
	}
	resp, err := sourceHTTPClient(true).Get(srv.URL)
	if err != nil {
		t.Fatalf("with private destinations allowed: %v", err)
	}
	resp.Body.Close()
}
