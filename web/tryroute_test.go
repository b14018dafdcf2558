package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestEndpointTryRoute: the "try it" box runs the posted route (saved or
// not) on a stored or pasted event and shows the verdict and the exact
// body, saving and sending nothing.
func TestEndpointTryRoute(t *testing.T) {
	t.Parallel()

	type bundle2 struct {
		*bundle
		c *client
	}
	setupTry := func(t *testing.T) *bundle2 {
		t.Helper()
		b := setup(t)
		b.seed(t)
		c := b.signedIn(t, adminKey)
		c.get("/endpoints/" + epOnboarding)
		return &bundle2{b, c}
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"url": {"https://onboarding.example.com/hooks"}, "event_types": {"placement.*"}, "payload": {"full"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tryPath := "/endpoints/" + epOnboarding + "/try-route"

	t.Run("StoredEventTransformed", func(t *testing.T) {
		t.Parallel()
		b := setupTry(t)
		r := b.c.post(tryPath, form("try_event_id", evtConfirmed, "filter", `.data.client.id == "cl_3"`,
			"transform", "{start: .data.start_date, who: .data.candidate.first_name}", "redact", "personal_data"), true)
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.body, `<span class="badge ok">would be delivered</span>`, `{&#34;start&#34;:&#34;2026-12-07&#34;,&#34;who&#34;:null}`,
			`<option value="`+evtConfirmed+`" selected>`, `Body: 33 bytes`)
		// Nothing was saved.
		ep, err := b.store.EndpointGet(t.Context(), "default", epOnboarding)
		must(t, err)
		if ep.Filter != "" || ep.Transform != "" {
			t.Fatalf("trying saved the route: %q, %q", ep.Filter, ep.Transform)
		}
		golden(t, "endpoint_try", r.body)
	})

	t.Run("FilteredOut", func(t *testing.T) {
		t.Parallel()
		b := setupTry(t)
		r := b.c.post(tryPath, form("try_event_id", evtConfirmed, "filter", `.data.client.id == "acme"`), true)
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.body, `<span class="badge muted">not delivered</span>`, "filter yielded false")
		if strings.Contains(r.body, "Exact bytes") {
			t.Fatal("a body is shown for an event not delivered")
		}
	})

	t.Run("TransformFails", func(t *testing.T) {
		t.Parallel()
		b := setupTry(t)
		r := b.c.post(tryPath, form("try_event_id", evtConfirmed, "transform", `error("no")`), true)
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.body, `<span class="badge bad">would fail</span>`, "without retries")
	})

	t.Run("PastedThinNotSubscribed", func(t *testing.T) {
		t.Parallel()
		b := setupTry(t)
		env := `{"id":"evt_x","type":"candidate.created","timestamp":"2026-11-27T10:00:00Z","subject":{"entity":"candidate","id":"c_9"},"data":{"id":"c_9","email":"x@example.com"}}`
		r := b.c.post(tryPath, form("try_event_id", evtConfirmed, "try_event", env, "payload", "thin"), true)
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.body, "would be delivered", "do not include candidate.created", "/v1/records/candidate/c_9")
		if _, body, _ := strings.Cut(r.body, "Exact bytes"); strings.Contains(body, "x@example.com") {
			t.Fatal("a thin body carries the data")
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		b := setupTry(t)
		r := b.c.post(tryPath, form("try_event_id", evtConfirmed, "filter", ".data.client.id == and"), true)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.body, `id="filter-error">Filter: syntax error`, "Fix the route above first.")
		r = b.c.post(tryPath, form("try_event", "{not json"), true)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.body, "The pasted event is not valid JSON.")
		r = b.c.post(tryPath, form("try_event_id", "evt_missing"), true)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.body, "That event no longer exists")
		r = b.c.post(tryPath, form(), true)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.body, "Choose one of the latest events")
		// Another tenant's event is not found either.
		acme := b.signedIn(t, acmeKey)
		acme.get("/endpoints/new")
		r = acme.post("/endpoints/try-route", form("try_event_id", evtConfirmed), true)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.body, "That event no longer exists", "No events yet: paste one")
	})

	t.Run("NewEndpoint", func(t *testing.T) {
		t.Parallel()
		b := setupTry(t)
		b.c.get("/endpoints/new")
		r := b.c.post("/endpoints/try-route", form("try_event_id", evtStarted), true)
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.body, "<h1>New endpoint</h1>", "would be delivered", `action="/endpoints"`)
	})

	t.Run("GuardedLikeEveryForm", func(t *testing.T) {
		t.Parallel()
		b := setupTry(t)
		r := b.c.post(tryPath, form("try_event_id", evtConfirmed), false)
		wantStatus(t, r, http.StatusForbidden)
		viewer := b.signedIn(t, viewerKey)
		viewer.get("/endpoints/" + epOnboarding)
		r = viewer.post(tryPath, form("try_event_id", evtConfirmed), true)
		wantStatus(t, r, http.StatusForbidden)
	})
}
