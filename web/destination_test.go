package web_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
)

// wantLacks fails when the page contains any of subs (a credential's
// value, say).
func wantLacks(tb testing.TB, body string, subs ...string) {
	tb.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) || strings.Contains(body, htmlEscaped(s)) {
			tb.Fatalf("page contains %q", s)
		}
	}
}

// endpointCount counts the default tenant's endpoints.
func (b *bundle) endpointCount(tb testing.TB) int {
	tb.Helper()
	eps, err := b.store.EndpointList(context.Background(), hirehook.EndpointFilter{TenantID: hirehook.DefaultTenantID, Limit: 1000})
	must(tb, err)
	return len(eps)
}

// TestEndpointFormDestinationKinds: the new-endpoint form offers every
// broker kind of hirehook.DestinationKinds with each of its config and
// credentials fields, the credentials as password inputs.
func TestEndpointFormDestinationKinds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.signedIn(t, adminKey).get("/endpoints/new")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, `<input type="radio" name="kind" value="http" checked>`, "Webhook (HTTP)")
	for _, k := range hirehook.DestinationKinds {
		wantContains(t, r.body, `<input type="radio" name="kind" value="`+k.Name+`">`, "<strong>"+k.Title+"</strong>")
		for _, f := range k.Config {
			wantContains(t, r.body, `name="config.`+k.Name+`.`+f.Name+`" value=""`, htmlEscaped(f.Help))
		}
		for _, f := range k.Credentials {
			wantContains(t, r.body, `name="credentials.`+k.Name+`.`+f.Name+`" type="password"`, htmlEscaped(f.Help))
		}
	}
}

// TestEndpointFormBroker creates a NATS endpoint through the form, shows
// it without its credential, refuses wrong fields without storing
// anything, and edits it: empty credentials are kept, given ones replace.
func TestEndpointFormBroker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	c := b.signedIn(t, adminKey)
	c.get("/endpoints/new")

	const token = "tok-do-not-show-4711"
	form := url.Values{
		"kind":                   {"nats"},
		"description":            {"Data platform"},
		"config.nats.servers":    {" 127.0.0.1:4222 "},
		"config.nats.subject":    {"hub.events"},
		"credentials.nats.token": {token},
		"event_types":            {"placement.*"},
		// Another kind's fields, and a URL: not read for kind nats.
		"config.kafka.topic": {"ignored"},
		"url":                {"https://ignored.example.com"},
	}
	with := func(kv ...string) url.Values {
		v := maps.Clone(form)
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	t.Run("wrong fields store nothing", func(t *testing.T) {
		for _, tc := range []struct {
			form url.Values
			want []string
		}{
			{with("config.nats.subject", "hub events!"), []string{`id="nats-subject-error">Subject: &#34;hub events!&#34; is not a valid NATS subject`, `value="hub events!"`}},
			{with("config.nats.servers", ""), []string{`id="nats-servers-error">Servers is required for kind nats`}},
			{with("config.nats.servers", "nats.internal"), []string{`id="nats-servers-error">Servers: `, "must be host:port"}},
			{with("credentials.nats.username", "hub"), []string{`id="nats-credential-password-error">Password and credentials.username go together.`}},
			{with("kind", "carrier-pigeon"), []string{`id="kind-error">The destination kind must be one of http, kafka, rabbitmq, nats, gcp_pubsub.`}},
		} {
			r := c.post("/endpoints", tc.form, true)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r.body, tc.want...)
			wantLacks(t, r.body, token)
		}
		// The other form errors show beside the destination's.
		r := c.post("/endpoints", with("config.nats.subject", "a..b", "patterns", "nonsense.*"), true)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.body, `id="nats-subject-error"`, `id="patterns-error"`, "<strong>Enter them again</strong>")
		wantLacks(t, r.body, token)
		if n := b.endpointCount(t); n != 0 {
			t.Fatalf("%d endpoints stored after wrong forms, want 0", n)
		}
	})
	if t.Failed() {
		return
	}

	r := c.post("/endpoints", form, true)
	wantRedirect(t, r, "/endpoints/ep_")
	id := strings.TrimPrefix(r.header.Get("Location"), "/endpoints/")
	ep, err := b.store.EndpointGet(ctx, hirehook.DefaultTenantID, id)
	must(t, err)
	if ep.Kind != hirehook.KindNATS || ep.Target() != "nats://127.0.0.1:4222/hub.events.{event_type}" {
		t.Errorf("kind %q, url %q", ep.Kind, ep.Target())
	}
	if diff := cmp.Diff(map[string]string{"servers": "127.0.0.1:4222", "subject": "hub.events"}, ep.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"token": token}, ep.Credentials); diff != "" {
		t.Errorf("credentials (-want +got):\n%s", diff)
	}

	page := c.get("/endpoints/" + id)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.body, "Endpoint created.",
		`<span class="badge muted">NATS JetStream</span> <span class="mono">nats://127.0.0.1:4222/hub.events.{event_type}</span>`,
		`servers: <span class="mono">127.0.0.1:4222</span>`, `credentials: <span class="mono">token</span> (values hidden)`,
		`name="config.nats.subject" value="hub.events"`,
		`name="credentials.nats.token" type="password" autocomplete="new-password" spellcheck="false" placeholder="•••••••• saved: leave empty to keep it"`)
	wantLacks(t, page.body, token, `name="kind"`)
	for _, c := range []*client{c, b.signedIn(t, viewerKey)} {
		for _, path := range []string{"/", "/endpoints/" + id, "/coverage"} {
			r := c.get(path)
			wantStatus(t, r, http.StatusOK)
			wantLacks(t, r.body, token)
		}
	}
	wantContains(t, c.get("/").body, `<span class="badge muted">NATS JetStream</span><div class="sub mono">nats://127.0.0.1:4222/hub.events.{event_type}</div>`)

	// The "try it" box posts the whole form, credentials too: its page
	// does not send them back.
	r = c.post("/endpoints/"+id+"/try-route", with("credentials.nats.token", "tok-typed-in-try", "try_event", `{"type":"placement.started"}`), true)
	wantLacks(t, r.body, "tok-typed-in-try", token)

	edit := func(kv ...string) {
		t.Helper()
		v := with(kv...)
		v.Del("kind") // the edit form has none: the kind is fixed
		wantRedirect(t, c.post("/endpoints/"+id, v, true), "/endpoints/"+id)
		ep, err = b.store.EndpointGet(ctx, hirehook.DefaultTenantID, id)
		must(t, err)
	}

	// Empty credentials keep the saved ones; the config changes.
	edit("credentials.nats.token", "", "config.nats.subject", "hub.recruiting")
	if ep.Config["subject"] != "hub.recruiting" || ep.Target() != "nats://127.0.0.1:4222/hub.recruiting.{event_type}" {
		t.Errorf("after the config edit: config %v, url %q", ep.Config, ep.Target())
	}
	if diff := cmp.Diff(map[string]string{"token": token}, ep.Credentials); diff != "" {
		t.Errorf("credentials after an edit leaving them empty (-want +got):\n%s", diff)
	}
	// A value replaces.
	edit("credentials.nats.token", "tok-new-0815", "config.nats.subject", "hub.recruiting")
	if diff := cmp.Diff(map[string]string{"token": "tok-new-0815"}, ep.Credentials); diff != "" {
		t.Errorf("credentials after a new token (-want +got):\n%s", diff)
	}
	wantLacks(t, c.get("/endpoints/"+id).body, "tok-new-0815", token)
	// A kind posted to the edit form changes nothing.
	edit("kind", "kafka", "config.nats.subject", "hub.recruiting", "credentials.nats.token", "")
	if ep.Kind != hirehook.KindNATS {
		t.Errorf("kind after an edit posting another = %q", ep.Kind)
	}
	// A wrong edit shows the field error and keeps the endpoint.
	r = c.post("/endpoints/"+id, with("config.nats.subject", "", "credentials.nats.token", "tok-not-saved"), true)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.body, `id="nats-subject-error">Subject is required for kind nats`)
	wantLacks(t, r.body, "tok-not-saved", "tok-new-0815")
	ep, err = b.store.EndpointGet(ctx, hirehook.DefaultTenantID, id)
	must(t, err)
	if ep.Config["subject"] != "hub.recruiting" || ep.Credentials["token"] != "tok-new-0815" {
		t.Errorf("after a refused edit: config %v, credentials %v", ep.Config, slices.Collect(maps.Keys(ep.Credentials)))
	}

	// The audit log names the credentials, never their values.
	entries, err := b.store.AuditList(ctx, hirehook.AuditFilter{TenantID: hirehook.DefaultTenantID})
	must(t, err)
	for _, e := range entries {
		if s := string(e.Details); strings.Contains(s, "tok-") {
			t.Errorf("audit entry %s holds a credential: %s", e.Action, s)
		}
	}
}

// TestEndpointPageBrokerFailure: the endpoint page shows a broker
// endpoint's latest failed attempt, its class first, with what to check,
// until an attempt succeeds.
func TestEndpointPageBrokerFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	c := b.signedIn(t, adminKey)
	c.get("/endpoints/new")
	const password = "pw-do-not-show-9931"
	r := c.post("/endpoints", url.Values{
		"kind":                          {"rabbitmq"},
		"config.rabbitmq.address":       {"127.0.0.1:5672"},
		"config.rabbitmq.exchange":      {"hirehook"},
		"credentials.rabbitmq.username": {"hub"},
		"credentials.rabbitmq.password": {password},
		"event_types":                   {"*"},
	}, true)
	wantRedirect(t, r, "/endpoints/ep_")
	id := strings.TrimPrefix(r.header.Get("Location"), "/endpoints/")

	page := c.get("/endpoints/" + id)
	wantLacks(t, page.body, "Latest failed attempt")

	at := now.Add(-10 * time.Minute)
	e := &hirehook.Event{TenantID: hirehook.DefaultTenantID, ID: "evt_rabbit", Type: "placement.started", OccurredAt: at, Source: "bullhorn",
		Subject: hirehook.Subject{Entity: "placement", ID: "pl_1"}, Data: json.RawMessage(`{"id":"pl_1"}`)}
	var err error
	e.Payload, err = e.RenderPayload()
	must(t, err)
	res, err := b.store.EventIngest(ctx, hirehook.EventIngestParams{Events: []*hirehook.Event{e}, Now: at, LeaseOwner: "w", LeaseUntil: at.Add(time.Minute)})
	must(t, err)
	if len(res[0].Leased) != 1 {
		t.Fatalf("%d deliveries leased, want 1", len(res[0].Leased))
	}
	d := res[0].Leased[0]
	complete := func(state hirehook.DeliveryState, at time.Time, class hirehook.ErrorClass, msg string) {
		t.Helper()
		r := hirehook.DeliveryResult{DeliveryID: d.ID, TenantID: d.TenantID, LeaseOwner: "w", State: state,
			Attempt: hirehook.Attempt{StartedAt: at, Duration: 30 * time.Millisecond, ErrorClass: class, Error: msg}}
		if state == hirehook.DeliveryRetrying {
			r.NextAttemptAt = at.Add(5 * time.Minute)
		}
		n, err := b.store.DeliveryComplete(ctx, []hirehook.DeliveryResult{r})
		must(t, err)
		if n != 1 {
			t.Fatal("result not applied")
		}
	}
	complete(hirehook.DeliveryRetrying, at, hirehook.ErrorClassAuth, `rabbitmq: authentication failed for user "hub"`)

	page = c.get("/endpoints/" + id)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.body, "<h2>Latest failed attempt</h2>",
		`<p class="failure mono" role="status">auth: rabbitmq: authentication failed for user &#34;hub&#34;</p>`,
		"The broker refused the endpoint&#39;s credentials",
		`<span class="badge muted">RabbitMQ</span>`, `credentials: <span class="mono">password</span>, <span class="mono">username</span> (values hidden)`)
	wantLacks(t, page.body, password)

	// Once an attempt succeeds, the failure is history.
	ds, err := b.store.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{Owner: "w", Now: at.Add(5 * time.Minute), LeaseUntil: at.Add(6 * time.Minute), Limit: 1})
	must(t, err)
	if len(ds) != 1 {
		t.Fatalf("claimed %d, want 1", len(ds))
	}
	complete(hirehook.DeliveryDelivered, at.Add(5*time.Minute), "", "")
	wantLacks(t, c.get("/endpoints/"+id).body, "Latest failed attempt")
}
