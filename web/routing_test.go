package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
)

// TestEndpointFormRouting: the form saves a route, shows a jq syntax error
// on its field with the position, and edits keep or change the route.
func TestEndpointFormRouting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	c := b.signedIn(t, adminKey)
	c.get("/endpoints/new")

	base := url.Values{"url": {"https://onboarding.example.com/h"}, "event_types": {"placement.*"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, x := range base {
			v[k] = x
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	r := c.post("/endpoints", with("filter", `.data.client.id == and`), true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="filter-error">Filter: syntax error at offset 19 (line 1, column 20)`)
	r = c.post("/endpoints", with("redact", ".data.ok, data..x"), true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="redact-error">Redact[1]: `)

	r = c.post("/endpoints", with("filter", `.data.client.id == "acme"`, "transform", "{start_date: .data.start_date}", "payload", "thin", "redact", "personal_data, .data.pay_rate"), true)
	wantRedirect(t, r, "/endpoints/ep_")
	id := strings.TrimPrefix(r.header.Get("Location"), "/endpoints/")
	ep, err := b.store.EndpointGet(ctx, hirehook.DefaultTenantID, id)
	must(t, err)
	if ep.Filter != `.data.client.id == "acme"` || ep.Transform != "{start_date: .data.start_date}" || ep.Payload != "thin" ||
		!slices.Equal(ep.Redact, []string{"personal_data", ".data.pay_rate"}) {
		t.Fatalf("created endpoint routing = %q, %q, %q, %q", ep.Filter, ep.Transform, ep.Payload, ep.Redact)
	}
	wantContains(t, c.get("/endpoints/"+id).body, `value="personal_data, .data.pay_rate"`, `<option value="thin" selected>`)

	// An edit that clears the filter keeps the rest.
	r = c.post("/endpoints/"+id, with("transform", ep.Transform, "payload", "thin", "redact", "personal_data, .data.pay_rate"), true)
	wantRedirect(t, r, "/endpoints/"+id)
	ep, err = b.store.EndpointGet(ctx, hirehook.DefaultTenantID, id)
	must(t, err)
	if ep.Filter != "" || ep.Transform == "" || ep.Payload != "thin" || len(ep.Redact) != 2 {
		t.Fatalf("after edit: %+v", ep)
	}
}
