package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

func TestEndpointRouting(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{api: startAPI(t, api.Config{})}
	}
	const filter = `.type == "placement.confirmed" and .data.client.id == "acme"`

	t.Run("CreateAndUpdate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var created api.EndpointWithSecret
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints", map[string]any{
			"url": "https://onboarding.example.com/in", "event_types": []string{"placement.*"},
			"filter": filter, "transform": "{start_date: .data.start_date}", "payload": "thin", "redact": []string{".data.pay_rate", "personal_data"},
		}, http.StatusCreated, &created)
		e := created.Endpoint
		if e.Filter != filter || e.Transform != "{start_date: .data.start_date}" || e.Payload != "thin" || !slices.Equal(e.Redact, []string{".data.pay_rate", "personal_data"}) {
			t.Fatalf("created endpoint routing = %q, %q, %q, %q", e.Filter, e.Transform, e.Payload, e.Redact)
		}
		var got hirehook.Endpoint
		b.api.doJSON(t, http.MethodPatch, "/v1/endpoints/"+e.ID, map[string]any{"filter": "", "payload": "full"}, http.StatusOK, &got)
		if got.Filter != "" || got.Payload != "full" || got.Transform != e.Transform || !slices.Equal(got.Redact, e.Redact) {
			t.Fatalf("patched endpoint routing = %q, %q, %q, %q", got.Filter, got.Transform, got.Payload, got.Redact)
		}
		// The audit log says who routed what.
		var audit api.List[hirehook.AuditEntry]
		b.api.doJSON(t, http.MethodGet, "/v1/audit-log", nil, http.StatusOK, &audit)
		var details []string
		for _, a := range audit.Data {
			if a.Target == e.ID {
				details = append(details, a.Action+" "+string(a.Details))
			}
		}
		if len(details) != 2 || !strings.Contains(strings.Join(details, "\n"), `"payload":"full"`) || !strings.Contains(strings.Join(details, "\n"), `"redact":[".data.pay_rate","personal_data"]`) {
			t.Fatalf("audit entries of the endpoint = %q", details)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		base := func(k string, v any) map[string]any {
			return map[string]any{"url": "https://a.example.com/in", "event_types": []string{"*"}, k: v}
		}
		for _, tt := range []struct {
			name, field, inMessage string
			body                   map[string]any
		}{
			{"FilterSyntax", "filter", "offset 9 (line 1, column 10)", base("filter", `.type == and .data`)},
			{"FilterSyntaxLine2", "filter", "line 2, column 5", base("filter", ".type == \"x\"\nand and")},
			{"TransformSyntax", "transform", "syntax error", base("transform", `{a: .data.`)},
			{"Payload", "payload", `"thin"`, base("payload", "skinny")},
			{"EmptyPayload", "payload", `"full"`, base("payload", "")},
			{"RedactPath", "redact[1]", "", base("redact", []string{".data.ok", "data..x"})},
		} {
			t.Run(tt.name, func(t *testing.T) {
				d := wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints", tt.body), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.field)
				if !strings.Contains(d.Message, tt.inMessage) {
					t.Errorf("message %q lacks %q", d.Message, tt.inMessage)
				}
			})
		}
		var e api.EndpointWithSecret
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints", base("description", "x"), http.StatusCreated, &e)
		d := wantError(t, b.api.do(t, http.MethodPatch, "/v1/endpoints/"+e.ID, map[string]any{"filter": ".a ||| .b"}), http.StatusUnprocessableEntity, hirehook.EINVALID, "filter")
		if !strings.Contains(d.Message, "offset") {
			t.Errorf("message %q gives no position", d.Message)
		}
	})
}

func TestTestRoute(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{api: startAPI(t, api.Config{})}
	}
	envelope := json.RawMessage(`{"id":"evt_1","type":"placement.confirmed","timestamp":"2026-03-20T09:12:44Z","subject":{"entity":"placement","id":"pl_1"},
		"data":{"id":"pl_1","client":{"id":"acme"},"start_date":"2026-04-01","pay_rate":42.5,"candidate":{"id":"c1","first_name":"Ada","email":"ada@example.com"}}}`)

	t.Run("Deliver", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var res api.TestRouteResult
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{
			"filter":    `.data.client.id == "acme"`,
			"transform": `{employee: {given_name: .data.candidate.first_name, email: .data.candidate.email}, start_date: .data.start_date, pay: .data.pay_rate}`,
			"redact":    []string{".data.pay_rate", "personal_data"},
			"event":     envelope,
		}, http.StatusOK, &res)
		want := `{"employee":{"email":null,"given_name":null},"pay":null,"start_date":"2026-04-01"}`
		if !res.Deliver || string(res.Body) != want || res.Failed || res.Reason != "" {
			t.Fatalf("test-route = %+v (body %s), want delivered with %s", res, res.Body, want)
		}
	})

	t.Run("FilteredOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var res api.TestRouteResult
		r := b.api.doJSON(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"filter": `.data.client.id == "globex"`, "event": envelope}, http.StatusOK, &res)
		if res.Deliver || res.Failed || res.Reason != "filter yielded false" || !strings.Contains(string(r.Body), `"body":null`) {
			t.Fatalf("test-route = %s", r.Body)
		}
	})

	t.Run("TransformFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var res api.TestRouteResult
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"transform": `error("no client code")`, "event": envelope}, http.StatusOK, &res)
		if res.Deliver || !res.Failed || res.Reason != "transform error: no client code" {
			t.Fatalf("test-route = %+v", res)
		}
	})

	t.Run("Thin", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var res api.TestRouteResult
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"payload": "thin", "event": envelope}, http.StatusOK, &res)
		want := `{"id":"evt_1","record_url":"/v1/records/placement/pl_1","subject":{"entity":"placement","id":"pl_1"},"timestamp":"2026-03-20T09:12:44Z","type":"placement.confirmed"}`
		if !res.Deliver || string(res.Body) != want {
			t.Fatalf("thin body = %s, want %s", res.Body, want)
		}
	})

	t.Run("StoredEvent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var accepted struct {
			ID         string `json:"id"`
			Deliveries int    `json:"deliveries"`
			Duplicate  bool   `json:"duplicate"`
		}
		b.api.doJSON(t, http.MethodPost, "/v1/events", map[string]any{"type": "candidate.created", "data": map[string]any{"id": "c_9", "first_name": "Ada", "email": "ada@example.com"}}, http.StatusAccepted, &accepted)
		var res api.TestRouteResult
		b.api.doJSON(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"transform": ".data", "redact": []string{"personal_data"}, "event_id": accepted.ID}, http.StatusOK, &res)
		if !res.Deliver || strings.Contains(string(res.Body), "ada@example.com") || !strings.Contains(string(res.Body), `"id":"c_9"`) {
			t.Fatalf("test-route on a stored event = %+v (body %s)", res, res.Body)
		}
		wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"event_id": "evt_missing"}), http.StatusNotFound, hirehook.ENOTFOUND, "")
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"filter": ".type =="}), http.StatusUnprocessableEntity, hirehook.EINVALID, "filter")
		wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"filter": ".type"}), http.StatusUnprocessableEntity, hirehook.EINVALID, "event")
		wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"event": []int{1}}), http.StatusUnprocessableEntity, hirehook.EINVALID, "event")
		wantError(t, b.api.do(t, http.MethodPost, "/v1/endpoints/test-route", map[string]any{"event": envelope, "event_id": "evt_1"}), http.StatusUnprocessableEntity, hirehook.EINVALID, "event")
	})
}
