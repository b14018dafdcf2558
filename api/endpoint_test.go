package api_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

// wantSecret checks the form of a signing secret: "whsec_" and the base64 of
// 32 random bytes.
func wantSecret(tb testing.TB, secret string) {
	tb.Helper()
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		tb.Fatalf("secret %q does not start with whsec_", secret)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		tb.Fatalf("secret after whsec_ is not base64: %v", err)
	}
	if len(key) != 32 {
		tb.Fatalf("secret holds %d bytes, want 32", len(key))
	}
}

// wantNoSecret checks that an answer carries no signing secret.
func wantNoSecret(tb testing.TB, res *response, secrets ...string) {
	tb.Helper()
	if bytes.Contains(res.Body, []byte("whsec_")) {
		tb.Errorf("answer carries a secret: %s", res.Body)
	}
	for _, s := range secrets {
		if bytes.Contains(res.Body, []byte(strings.TrimPrefix(s, "whsec_"))) {
			tb.Errorf("answer carries the secret: %s", res.Body)
		}
	}
}

func TestEndpointCreate(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{api: startAPI(t, api.Config{})}
	}

	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		before := time.Now().UTC().Truncate(time.Microsecond)
		res := b.api.do(t, http.MethodPost, "/v1/endpoints", map[string]any{
			"url":         "https://payroll.example.com/hooks?source=hirehook",
			"description": "Payroll onboarding",
			"event_types": []string{"placement.*", "offer.signed"},
			"headers":     map[string]string{"X-Agency": "acme"},
		})
		if res.Status != http.StatusCreated {
			t.Fatalf("status = %d, want 201; body: %s", res.Status, res.Body)
		}
		var created api.EndpointWithSecret
		decodeStrict(t, res, &created)
		wantSecret(t, created.Secret)
		if !strings.HasPrefix(created.ID, "ep_") {
			t.Errorf("id = %q, want an ep_ id", created.ID)
		}
		if got, want := res.Header.Get("Location"), "/v1/endpoints/"+created.ID; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
		if created.CreatedAt.Before(before) || !created.UpdatedAt.Equal(created.CreatedAt) {
			t.Errorf("created_at = %v, updated_at = %v; want both the same, after %v", created.CreatedAt, created.UpdatedAt, before)
		}
		want := &hirehook.Endpoint{
			ID:          created.ID,
			Kind:        hirehook.KindHTTP,
			URL:         "https://payroll.example.com/hooks?source=hirehook",
			Description: "Payroll onboarding",
			EventTypes:  []string{"placement.*", "offer.signed"},
			// Header values are write-only.
			Headers:   map[string]string{"X-Agency": hirehook.Masked},
			Signing:   hirehook.SigningHMAC,
			CreatedAt: created.CreatedAt,
			UpdatedAt: created.UpdatedAt,
			// The isolation defaults: 16 in flight, no rate limit.
			MaxConcurrency: hirehook.DefaultMaxConcurrency,
			// No routing: the full envelope, nothing redacted.
			Payload: hirehook.PayloadFull, Redact: []string{},
		}
		if diff := cmp.Diff(want, created.Endpoint); diff != "" {
			t.Errorf("created endpoint (-want +got):\n%s", diff)
		}

		// GET (at the Location) and the list show it, without the secret.
		var got hirehook.Endpoint
		res = b.api.doJSON(t, http.MethodGet, res.Header.Get("Location"), nil, http.StatusOK, &got)
		wantNoSecret(t, res, created.Secret)
		if diff := cmp.Diff(want, &got); diff != "" {
			t.Errorf("GET endpoint (-want +got):\n%s", diff)
		}
		var list api.List[*hirehook.Endpoint]
		res = b.api.doJSON(t, http.MethodGet, "/v1/endpoints", nil, http.StatusOK, &list)
		wantNoSecret(t, res, created.Secret)
		if diff := cmp.Diff([]*hirehook.Endpoint{want}, list.Data); diff != "" {
			t.Errorf("endpoint list (-want +got):\n%s", diff)
		}
	})

	t.Run("Minimal", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ep := createEndpoint(t, b.api, map[string]any{"url": "http://localhost:8080/hooks", "event_types": []string{"*"}})
		if ep.Description != "" || ep.Disabled || ep.Headers == nil || len(ep.Headers) != 0 {
			t.Errorf("got description %q, disabled %t, headers %v; want empty, false, {}", ep.Description, ep.Disabled, ep.Headers)
		}
	})

	t.Run("EachGetsItsOwnSecret", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}}
		e1, e2 := createEndpoint(t, b.api, in), createEndpoint(t, b.api, in)
		if e1.ID == e2.ID || e1.Secret == e2.Secret {
			t.Errorf("two endpoints share an id or a secret")
		}
	})

	tests := []struct {
		name      string
		body      string
		wantField string
	}{
		{name: "URLFTP", body: `{"url":"ftp://x","event_types":["*"]}`, wantField: "url"},
		{name: "URLNotAURL", body: `{"url":"not a url","event_types":["*"]}`, wantField: "url"},
		{name: "URLRelative", body: `{"url":"/hooks","event_types":["*"]}`, wantField: "url"},
		{name: "URLEmpty", body: `{"url":"","event_types":["*"]}`, wantField: "url"},
		{name: "URLNoHost", body: `{"url":"http://","event_types":["*"]}`, wantField: "url"},
		{name: "URLNoHostWithPath", body: `{"url":"https:///hooks","event_types":["*"]}`, wantField: "url"},
		{name: "URLJavascript", body: `{"url":"javascript:alert(1)","event_types":["*"]}`, wantField: "url"},
		{name: "URLFragment", body: `{"url":"https://a.example.com/hooks#x","event_types":["*"]}`, wantField: "url"},
		{name: "URLTooLong", body: `{"url":"https://a.example.com/` + strings.Repeat("p", 2048) + `","event_types":["*"]}`, wantField: "url"},
		{name: "URLMissing", body: `{"event_types":["*"]}`, wantField: "url"},
		{name: "URLNull", body: `{"url":null,"event_types":["*"]}`, wantField: "url"},
		{name: "URLNotString", body: `{"url":42,"event_types":["*"]}`, wantField: "url"},
		{name: "EventTypesEmpty", body: `{"url":"https://a.example.com/","event_types":[]}`, wantField: "event_types"},
		{name: "EventTypesMissing", body: `{"url":"https://a.example.com/"}`, wantField: "event_types"},
		{name: "EventTypesNull", body: `{"url":"https://a.example.com/","event_types":null}`, wantField: "event_types"},
		{name: "EventTypesNotArray", body: `{"url":"https://a.example.com/","event_types":"*"}`, wantField: "event_types"},
		{name: "EventTypesTooMany", body: `{"url":"https://a.example.com/","event_types":[` + strings.TrimSuffix(strings.Repeat(`"*",`, 201), ",") + `]}`, wantField: "event_types"},
		{name: "PatternMatchesNothing", body: `{"url":"https://a.example.com/","event_types":["nope.*"]}`, wantField: "event_types[0]"},
		{name: "PatternUpperCase", body: `{"url":"https://a.example.com/","event_types":["Placement.confirmed"]}`, wantField: "event_types[0]"},
		{name: "PatternUnknownType", body: `{"url":"https://a.example.com/","event_types":["placement.*","placement.approved"]}`, wantField: "event_types[1]"},
		{name: "PatternNoDot", body: `{"url":"https://a.example.com/","event_types":["placement"]}`, wantField: "event_types[0]"},
		{name: "PatternEmpty", body: `{"url":"https://a.example.com/","event_types":[""]}`, wantField: "event_types[0]"},
		{name: "PatternInnerStar", body: `{"url":"https://a.example.com/","event_types":["*.confirmed"]}`, wantField: "event_types[0]"},
		{name: "ReservedHeaderLowerCase", body: `{"url":"https://a.example.com/","event_types":["*"],"headers":{"webhook-id":"x"}}`, wantField: "headers.webhook-id"},
		{name: "ReservedHeaderSignature", body: `{"url":"https://a.example.com/","event_types":["*"],"headers":{"Webhook-Signature":"v1,x"}}`, wantField: "headers.Webhook-Signature"},
		{name: "ReservedHeaderContentType", body: `{"url":"https://a.example.com/","event_types":["*"],"headers":{"content-type":"text/plain"}}`, wantField: "headers.content-type"},
		{name: "ReservedHeaderHost", body: `{"url":"https://a.example.com/","event_types":["*"],"headers":{"Host":"internal"}}`, wantField: "headers.Host"},
		{name: "HeaderBadName", body: `{"url":"https://a.example.com/","event_types":["*"],"headers":{"X Agency":"acme"}}`, wantField: "headers"},
		{name: "HeaderValueNewline", body: `{"url":"https://a.example.com/","event_types":["*"],"headers":{"X-Agency":"acme\r\nX-Evil: 1"}}`, wantField: "headers.X-Agency"},
		{name: "DescriptionTooLong", body: `{"url":"https://a.example.com/","event_types":["*"],"description":"` + strings.Repeat("d", 1001) + `"}`, wantField: "description"},
		{name: "UnknownField", body: `{"url":"https://a.example.com/","event_types":["*"],"secret":"whsec_AAAA"}`, wantField: "secret"},
		{name: "MaxConcurrencyZero", body: `{"url":"https://a.example.com/","event_types":["*"],"max_concurrency":0}`, wantField: "max_concurrency"},
		{name: "MaxConcurrencyTooHigh", body: `{"url":"https://a.example.com/","event_types":["*"],"max_concurrency":257}`, wantField: "max_concurrency"},
		{name: "MaxConcurrencyFraction", body: `{"url":"https://a.example.com/","event_types":["*"],"max_concurrency":1.5}`, wantField: "max_concurrency"},
		{name: "MaxConcurrencyString", body: `{"url":"https://a.example.com/","event_types":["*"],"max_concurrency":"4"}`, wantField: "max_concurrency"},
		{name: "RateZero", body: `{"url":"https://a.example.com/","event_types":["*"],"rate_limit_per_second":0}`, wantField: "rate_limit_per_second"},
		{name: "RateNegative", body: `{"url":"https://a.example.com/","event_types":["*"],"rate_limit_per_second":-1}`, wantField: "rate_limit_per_second"},
		{name: "RateTooHigh", body: `{"url":"https://a.example.com/","event_types":["*"],"rate_limit_per_second":10001}`, wantField: "rate_limit_per_second"},
		{name: "RateString", body: `{"url":"https://a.example.com/","event_types":["*"],"rate_limit_per_second":"5"}`, wantField: "rate_limit_per_second"},
		{name: "OrderedString", body: `{"url":"https://a.example.com/","event_types":["*"],"ordered":"yes"}`, wantField: "ordered"},
		{name: "Malformed", body: `{"url":"https://a.example.com/"`, wantField: ""},
		{name: "Empty", body: ``, wantField: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints", tt.body), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.wantField)
			if eps := listAll[*hirehook.Endpoint](t, b.api, "/v1/endpoints"); len(eps) != 0 {
				t.Errorf("%d endpoints stored, want 0", len(eps))
			}
		})
	}
}

func TestEndpointUpdateDelete(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
		ep  api.EndpointWithSecret
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		ep := createEndpoint(t, a, map[string]any{
			"url":         "https://payroll.example.com/hooks",
			"description": "Payroll",
			"event_types": []string{"placement.*"},
			"headers":     map[string]string{"X-Agency": "acme"},
		})
		return &bundle{api: a, ep: ep}
	}

	t.Run("Patch", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var got hirehook.Endpoint
		res := b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+b.ep.ID, map[string]any{
			"url":         "https://payroll.example.com/v2/hooks",
			"description": "Payroll v2",
			"event_types": []string{"placement.*", "offer.*"},
			"headers":     map[string]string{"X-Region": "eu"},
			"disabled":    true,
		}, http.StatusOK, &got)
		wantNoSecret(t, res, b.ep.Secret)
		want := *b.ep.Endpoint
		want.URL = "https://payroll.example.com/v2/hooks"
		want.Description = "Payroll v2"
		want.EventTypes = []string{"placement.*", "offer.*"}
		want.Headers = map[string]string{"X-Region": hirehook.Masked}
		want.Disabled = true
		if got.UpdatedAt.Before(b.ep.UpdatedAt) {
			t.Errorf("updated_at went back: %v, was %v", got.UpdatedAt, b.ep.UpdatedAt)
		}
		want.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PATCH answer (-want +got):\n%s", diff)
		}
		var stored hirehook.Endpoint
		b.api.doJSON(t, http.MethodGet, "/v1/endpoints/"+b.ep.ID, nil, http.StatusOK, &stored)
		if diff := cmp.Diff(want, stored); diff != "" {
			t.Errorf("GET after PATCH (-want +got):\n%s", diff)
		}

		// Absent fields keep their values.
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+b.ep.ID, `{"disabled":false}`, http.StatusOK, &got)
		want.Disabled = false
		want.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("second PATCH answer (-want +got):\n%s", diff)
		}

		// The secret did not change.
		var sv api.SecretView
		b.api.doJSON(t, http.MethodGet, "/v1/endpoints/"+b.ep.ID+"/secret", nil, http.StatusOK, &sv)
		if sv.Secret != b.ep.Secret {
			t.Error("PATCH changed the secret")
		}
	})

	t.Run("PatchedTypesRouteEvents", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if acc := postEvent(t, b.api, event("offer.signed", `{"id":"off_1"}`)); acc.Deliveries != 0 {
			t.Fatalf("before PATCH: %d deliveries, want 0", acc.Deliveries)
		}
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+b.ep.ID, `{"event_types":["offer.signed"]}`, http.StatusOK, nil)
		if acc := postEvent(t, b.api, event("offer.signed", `{"id":"off_1"}`)); acc.Deliveries != 1 {
			t.Errorf("after PATCH: %d deliveries, want 1", acc.Deliveries)
		}
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+b.ep.ID, `{"disabled":true}`, http.StatusOK, nil)
		if acc := postEvent(t, b.api, event("offer.signed", `{"id":"off_1"}`)); acc.Deliveries != 0 {
			t.Errorf("after disabling: %d deliveries, want 0", acc.Deliveries)
		}
	})

	t.Run("PatchLimits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if b.ep.MaxConcurrency != hirehook.DefaultMaxConcurrency || b.ep.RateLimitPerSecond != nil {
			t.Fatalf("created with %d, %v; want the defaults 16, null", b.ep.MaxConcurrency, b.ep.RateLimitPerSecond)
		}
		var got hirehook.Endpoint
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+b.ep.ID, map[string]any{"max_concurrency": 2, "rate_limit_per_second": 0.5}, http.StatusOK, &got)
		if got.MaxConcurrency != 2 || got.RateLimitPerSecond == nil || *got.RateLimitPerSecond != 0.5 {
			t.Fatalf("after setting: %d, %v", got.MaxConcurrency, got.RateLimitPerSecond)
		}
		// Absent fields keep the limits; null max_concurrency too.
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+b.ep.ID, map[string]any{"description": "x", "max_concurrency": nil}, http.StatusOK, &got)
		if got.MaxConcurrency != 2 || got.RateLimitPerSecond == nil || *got.RateLimitPerSecond != 0.5 {
			t.Fatalf("after a PATCH without them: %d, %v", got.MaxConcurrency, got.RateLimitPerSecond)
		}
		// null removes the rate limit.
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+b.ep.ID, map[string]any{"rate_limit_per_second": nil}, http.StatusOK, &got)
		if got.MaxConcurrency != 2 || got.RateLimitPerSecond != nil {
			t.Fatalf("after removing the rate: %d, %v", got.MaxConcurrency, got.RateLimitPerSecond)
		}
		b.api.doJSON(t, http.MethodGet, "/v1/endpoints/"+b.ep.ID, nil, http.StatusOK, &got)
		if got.MaxConcurrency != 2 || got.RateLimitPerSecond != nil {
			t.Fatalf("GET after removing the rate: %d, %v", got.MaxConcurrency, got.RateLimitPerSecond)
		}
		// Created with both.
		ep := createEndpoint(t, b.api, map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}, "max_concurrency": 256, "rate_limit_per_second": 10000})
		if ep.MaxConcurrency != 256 || ep.RateLimitPerSecond == nil || *ep.RateLimitPerSecond != 10000 {
			t.Fatalf("created with %d, %v", ep.MaxConcurrency, ep.RateLimitPerSecond)
		}
	})

	t.Run("Ordered", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if b.ep.Ordered || b.ep.FailingSince != nil {
			t.Fatalf("created ordered %v, failing since %v; want false, null", b.ep.Ordered, b.ep.FailingSince)
		}
		ep := createEndpoint(t, b.api, map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}, "ordered": true})
		if !ep.Ordered {
			t.Fatal("created with ordered: true, answer says false")
		}
		var got hirehook.Endpoint
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+ep.ID, map[string]any{"description": "x"}, http.StatusOK, &got)
		if !got.Ordered {
			t.Fatal("a PATCH without ordered changed it")
		}
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+ep.ID, map[string]any{"ordered": false}, http.StatusOK, &got)
		b.api.doJSON(t, http.MethodGet, "/v1/endpoints/"+ep.ID, nil, http.StatusOK, &got)
		if got.Ordered {
			t.Fatal("ordered still true after PATCH false")
		}
	})

	for _, tt := range []struct {
		name, body, field string
	}{
		{"URL", `{"url":"ftp://x"}`, "url"},
		{"MaxConcurrency", `{"max_concurrency":300}`, "max_concurrency"},
		{"RateZero", `{"rate_limit_per_second":0}`, "rate_limit_per_second"},
		{"Ordered", `{"ordered":1}`, "ordered"},
		{"URLEmpty", `{"url":""}`, "url"},
		{"EventTypesEmpty", `{"event_types":[]}`, "event_types"},
		{"Pattern", `{"event_types":["Placement.confirmed"]}`, "event_types[0]"},
		{"ReservedHeader", `{"headers":{"webhook-timestamp":"1"}}`, "headers.webhook-timestamp"},
		{"UnknownField", `{"secrets":[]}`, "secrets"},
		{"OneBadFieldAmongGood", `{"description":"changed","url":"/relative"}`, "url"},
	} {
		t.Run("PatchInvalid"+tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			wantError(t, b.api.do(t, http.MethodPatch, "/v1/endpoints/"+b.ep.ID, tt.body), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.field)
			var got hirehook.Endpoint
			b.api.doJSON(t, http.MethodGet, "/v1/endpoints/"+b.ep.ID, nil, http.StatusOK, &got)
			if diff := cmp.Diff(b.ep.Endpoint, &got); diff != "" {
				t.Errorf("a refused PATCH changed the endpoint (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.api.do(t, http.MethodDelete, "/v1/endpoints/"+b.ep.ID, nil)
		if res.Status != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("DELETE: status %d, body %q; want 204 and no body", res.Status, res.Body)
		}
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, "/v1/endpoints/" + b.ep.ID, ""},
			{http.MethodDelete, "/v1/endpoints/" + b.ep.ID, ""},
			{http.MethodPatch, "/v1/endpoints/" + b.ep.ID, `{"description":"x"}`},
			{http.MethodGet, "/v1/endpoints/" + b.ep.ID + "/secret", ""},
			{http.MethodPost, "/v1/endpoints/" + b.ep.ID + "/rotate-secret", ""},
			{http.MethodPost, "/v1/endpoints/" + b.ep.ID + "/recover", `{"since":"2020-01-01T00:00:00Z"}`},
		} {
			var body any
			if r.body != "" {
				body = r.body
			}
			wantError(t, b.api.do(t, r.method, r.path, body), http.StatusNotFound, hirehook.ENOTFOUND, "")
		}
		if eps := listAll[*hirehook.Endpoint](t, b.api, "/v1/endpoints"); len(eps) != 0 {
			t.Errorf("%d endpoints listed after DELETE, want 0", len(eps))
		}
		if acc := postEvent(t, b.api, event("placement.created", `{"id":"plc_1"}`)); acc.Deliveries != 0 {
			t.Errorf("a deleted endpoint got %d deliveries", acc.Deliveries)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		wantError(t, b.api.do(t, http.MethodGet, "/v1/endpoints/ep_unknown", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
		wantError(t, b.api.do(t, http.MethodPatch, "/v1/endpoints/ep_unknown", `{"description":"x"}`), http.StatusNotFound, hirehook.ENOTFOUND, "")
		wantError(t, b.api.do(t, http.MethodDelete, "/v1/endpoints/ep_unknown", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
	})

	t.Run("ListPaging", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		want := []string{b.ep.ID}
		for range 4 {
			want = append(want, createEndpoint(t, b.api, map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}}).ID)
		}
		var got []string
		after := ""
		for range len(want) + 1 {
			path := "/v1/endpoints?limit=2"
			if after != "" {
				path += "&after=" + after
			}
			var page api.List[*hirehook.Endpoint]
			res := b.api.doJSON(t, http.MethodGet, path, nil, http.StatusOK, &page)
			wantNoSecret(t, res)
			for _, e := range page.Data {
				got = append(got, e.ID)
			}
			if !page.HasMore {
				break
			}
			after = page.NextAfter
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("endpoints over all pages (-want +got):\n%s", diff)
		}
		wantError(t, b.api.do(t, http.MethodGet, "/v1/endpoints?limit=abc", nil), http.StatusUnprocessableEntity, hirehook.EINVALID, "limit")
		wantError(t, b.api.do(t, http.MethodGet, "/v1/endpoints?after=ep_unknown", nil), http.StatusUnprocessableEntity, hirehook.EINVALID, "after")
	})
}

func TestEndpointSecret(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
		ep  api.EndpointWithSecret
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		return &bundle{api: a, ep: createEndpoint(t, a, map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}})}
	}

	t.Run("Get", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var sv api.SecretView
		b.api.doJSON(t, http.MethodGet, "/v1/endpoints/"+b.ep.ID+"/secret", nil, http.StatusOK, &sv)
		if diff := cmp.Diff(api.SecretView{Secret: b.ep.Secret, Previous: []api.PreviousSecret{}}, sv); diff != "" {
			t.Errorf("secret (-want +got):\n%s", diff)
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		before := time.Now().UTC().Truncate(time.Microsecond)
		var rot api.EndpointWithSecret
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints/"+b.ep.ID+"/rotate-secret", nil, http.StatusOK, &rot)
		after := time.Now().UTC()
		wantSecret(t, rot.Secret)
		if rot.Secret == b.ep.Secret {
			t.Fatal("rotation kept the old secret")
		}
		if rot.ID != b.ep.ID || rot.URL != b.ep.URL {
			t.Errorf("rotation answered endpoint %s %s, want %s %s", rot.ID, rot.URL, b.ep.ID, b.ep.URL)
		}

		var sv api.SecretView
		b.api.doJSON(t, http.MethodGet, "/v1/endpoints/"+b.ep.ID+"/secret", nil, http.StatusOK, &sv)
		if sv.Secret != rot.Secret {
			t.Errorf("secret is not the rotated one")
		}
		if len(sv.Previous) != 1 {
			t.Fatalf("%d previous secrets, want 1", len(sv.Previous))
		}
		prev := sv.Previous[0]
		if prev.Value != b.ep.Secret || !prev.CreatedAt.Equal(b.ep.CreatedAt) {
			t.Errorf("previous = %s created %v, want the first secret, created %v", prev.Value, prev.CreatedAt, b.ep.CreatedAt)
		}
		if prev.ExpiresAt == nil {
			t.Fatal("previous secret has no expires_at")
		}
		if lo, hi := before.Add(24*time.Hour), after.Add(24*time.Hour); prev.ExpiresAt.Before(lo) || prev.ExpiresAt.After(hi) {
			t.Errorf("previous expires_at = %v, want 24h after the rotation, in [%v, %v]", prev.ExpiresAt, lo, hi)
		}

		// A second rotation keeps both older secrets, newest first, and
		// does not extend the first one's grace.
		var rot2 api.EndpointWithSecret
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints/"+b.ep.ID+"/rotate-secret", nil, http.StatusOK, &rot2)
		var sv2 api.SecretView
		b.api.doJSON(t, http.MethodGet, "/v1/endpoints/"+b.ep.ID+"/secret", nil, http.StatusOK, &sv2)
		var got []string
		for _, s := range sv2.Previous {
			got = append(got, s.Value)
		}
		if diff := cmp.Diff([]string{rot.Secret, b.ep.Secret}, got); diff != "" {
			t.Errorf("previous secrets after a second rotation (-want +got):\n%s", diff)
		}
		if sv2.Secret != rot2.Secret {
			t.Error("secret is not the second rotation's")
		}
		if len(sv2.Previous) == 2 && !sv2.Previous[1].ExpiresAt.Equal(*prev.ExpiresAt) {
			t.Errorf("first secret expires_at moved from %v to %v", prev.ExpiresAt, sv2.Previous[1].ExpiresAt)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		wantError(t, b.api.do(t, http.MethodGet, "/v1/endpoints/ep_unknown/secret", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
		wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints/ep_unknown/rotate-secret", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
	})
}

func TestEndpointRecover(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
		ep  api.EndpointWithSecret
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		return &bundle{api: a, ep: createEndpoint(t, a, map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}})}
	}

	b := setup(t)
	for _, tt := range []struct {
		name, body, field string
	}{
		{"MissingSince", `{}`, "since"},
		{"EmptySince", `{"since":""}`, "since"},
		{"BadSince", `{"since":"yesterday"}`, "since"},
		{"SinceWithoutZone", `{"since":"2026-11-27T00:00:00"}`, "since"},
		{"SinceDate", `{"since":"2026-11-27"}`, "since"},
		{"SinceNotString", `{"since":1764201600}`, "since"},
		{"BadUntil", `{"since":"2026-11-27T00:00:00Z","until":"tomorrow"}`, "until"},
		{"UntilBeforeSince", `{"since":"2026-11-27T00:00:00Z","until":"2026-11-26T00:00:00Z"}`, "until"},
		{"UnknownField", `{"since":"2026-11-27T00:00:00Z","state":"failed"}`, "state"},
		{"EmptyBody", ``, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints/"+b.ep.ID+"/recover", tt.body), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.field)
		})
	}

	t.Run("NothingFailed", func(t *testing.T) {
		t.Parallel()
		var got api.RecoverAccepted
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints/"+b.ep.ID+"/recover", `{"since":"2020-01-01T00:00:00Z"}`, http.StatusAccepted, &got)
		if got.Recovered != 0 {
			t.Errorf("recovered = %d, want 0", got.Recovered)
		}
	})

	t.Run("UnknownEndpoint", func(t *testing.T) {
		t.Parallel()
		wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints/ep_unknown/recover", `{"since":"2020-01-01T00:00:00Z"}`), http.StatusNotFound, hirehook.ENOTFOUND, "")
	})
}

func TestEndpointEd25519(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	ep := createEndpoint(t, a, map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}, "signing": "ed25519"})
	if ep.Signing != hirehook.SigningEd25519 || ep.Secret != "" || !strings.HasPrefix(ep.PublicKey, hirehook.PublicKeyPrefix) {
		t.Fatalf("create answer: signing %q secret %q public_key %q", ep.Signing, ep.Secret, ep.PublicKey)
	}
	var got hirehook.Endpoint
	a.doJSON(t, http.MethodGet, "/v1/endpoints/"+ep.ID, nil, http.StatusOK, &got)
	if got.Signing != hirehook.SigningEd25519 {
		t.Fatalf("GET signing = %q", got.Signing)
	}
	var sv api.SecretView
	res := a.doJSON(t, http.MethodGet, "/v1/endpoints/"+ep.ID+"/secret", nil, http.StatusOK, &sv)
	if sv.PublicKey != ep.PublicKey || sv.Secret != "" || strings.Contains(string(res.Body), "whsk_") {
		t.Fatalf("GET secret = %s", res.Body)
	}

	// PATCH may repeat the scheme, not change it.
	a.doJSON(t, http.MethodPatch, "/v1/endpoints/"+ep.ID, map[string]any{"signing": "ed25519"}, http.StatusOK, nil)
	wantError(t, a.do(t, http.MethodPatch, "/v1/endpoints/"+ep.ID, map[string]any{"signing": "hmac"}), http.StatusUnprocessableEntity, hirehook.EINVALID, "signing")
	wantError(t, a.do(t, http.MethodPost, "/v1/endpoints", map[string]any{"url": "https://a.example.com/", "event_types": []string{"*"}, "signing": "rsa"}), http.StatusUnprocessableEntity, hirehook.EINVALID, "signing")

	// Rotation: a new key, the old public key among previous for 1 h.
	var rot api.EndpointWithSecret
	res = a.doJSON(t, http.MethodPost, "/v1/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"grace": "1h"}, http.StatusOK, &rot)
	if rot.Secret != "" || !strings.HasPrefix(rot.PublicKey, hirehook.PublicKeyPrefix) || rot.PublicKey == ep.PublicKey || strings.Contains(string(res.Body), "whsk_") {
		t.Fatalf("rotate answer = %s", res.Body)
	}
	res = a.doJSON(t, http.MethodGet, "/v1/endpoints/"+ep.ID+"/secret", nil, http.StatusOK, &sv)
	if sv.PublicKey != rot.PublicKey || len(sv.Previous) != 1 || sv.Previous[0].PublicKey != ep.PublicKey || sv.Previous[0].Value != "" ||
		sv.Previous[0].ExpiresAt == nil || sv.Previous[0].ExpiresAt.Sub(sv.Previous[0].CreatedAt) < 59*time.Minute || strings.Contains(string(res.Body), "whsk_") {
		t.Fatalf("GET secret after rotation = %s", res.Body)
	}
	// Grace 0 (as seconds): the old keys stop at once.
	a.doJSON(t, http.MethodPost, "/v1/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"grace": 0}, http.StatusOK, &rot)
	a.doJSON(t, http.MethodGet, "/v1/endpoints/"+ep.ID+"/secret", nil, http.StatusOK, &sv)
	if sv.PublicKey != rot.PublicKey || len(sv.Previous) != 0 {
		t.Fatalf("after a rotation with grace 0: %+v", sv)
	}
	for _, bad := range []any{"8d", "169h", "-1s", -1, 604801, "later", true, map[string]any{}} {
		wantError(t, a.do(t, http.MethodPost, "/v1/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"grace": bad}), http.StatusUnprocessableEntity, hirehook.EINVALID, "grace")
	}
	wantError(t, a.do(t, http.MethodPost, "/v1/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"graze": "1h"}), http.StatusUnprocessableEntity, hirehook.EINVALID, "graze")
	a.doJSON(t, http.MethodPost, "/v1/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"grace": "168h"}, http.StatusOK, nil)
	a.doJSON(t, http.MethodPost, "/v1/endpoints/"+ep.ID+"/rotate-secret", map[string]any{"grace": 90}, http.StatusOK, nil)
}
