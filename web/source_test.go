package web_test

import (
	"net/http"
	"strings"
	"testing"
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
