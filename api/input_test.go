package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

// TestBodyMediaType answers 415 to a body sent as another media type than
// JSON, and reads JSON sent with a charset of UTF-8 or a +json type.
func TestBodyMediaType(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	body := event("candidate.created", `{"id":"cand_1"}`)
	for _, tt := range []struct {
		contentType string
		status      int
	}{
		{"text/plain", http.StatusUnsupportedMediaType},
		{"text/plain; charset=utf-8", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/json; charset=iso-8859-1", http.StatusUnsupportedMediaType},
		{"nonsense", http.StatusUnsupportedMediaType},
		{"application/json", http.StatusAccepted},
		{"Application/JSON; charset=UTF-8", http.StatusAccepted},
		{"application/json;charset=utf-8", http.StatusAccepted},
	} {
		t.Run(tt.contentType, func(t *testing.T) {
			req := a.newRequest(t, http.MethodPost, "/v1/events", body)
			req.Header.Set("Content-Type", tt.contentType)
			res := a.roundTrip(t, req)
			if tt.status == http.StatusAccepted {
				if res.Status != tt.status {
					t.Fatalf("status = %d, want %d; body: %s", res.Status, tt.status, res.Body)
				}
				return
			}
			wantError(t, res, tt.status, hirehook.EUNSUPPORTEDMEDIA, "Content-Type")
		})
	}
	t.Run("OtherRoutes", func(t *testing.T) {
		req := a.newRequest(t, http.MethodPost, "/v1/endpoints", `{"url":"https://x.example.com/","event_types":["*"]}`)
		req.Header.Set("Content-Type", "text/plain")
		wantError(t, a.roundTrip(t, req), http.StatusUnsupportedMediaType, hirehook.EUNSUPPORTEDMEDIA, "Content-Type")
	})
	wantStored(t, a, 3, 0)
}

// TestMethodNotAllowed answers a known path asked with another method 405
// with Allow, and an unknown path 404.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	for _, tt := range []struct {
		method, path, allow string
	}{
		{http.MethodPut, "/v1/events", "GET, HEAD, POST"},
		{http.MethodDelete, "/v1/events/evt_1", "GET, HEAD"},
		{http.MethodPut, "/v1/endpoints/ep_1", "GET, HEAD, PATCH, DELETE"},
		{http.MethodPost, "/v1/openapi.json", "GET, HEAD"},
		{http.MethodGet, "/v1/records/candidate/c_1/erase", "POST"},
		{http.MethodPost, "/v1/records/placement/plc_1", "GET, HEAD"},
		{http.MethodPut, "/v1/endpoints", "GET, HEAD, POST"},
		{http.MethodDelete, "/v1/events", "GET, HEAD, POST"},
		{http.MethodGet, "/v1/deliveries/dlv_1/retry", "POST"},
	} {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			res := a.do(t, tt.method, tt.path, nil)
			wantError(t, res, http.StatusMethodNotAllowed, hirehook.EMETHOD, "")
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
	t.Run("UnknownPath", func(t *testing.T) {
		res := a.do(t, http.MethodGet, "/v1/nothing-here", nil)
		wantError(t, res, http.StatusNotFound, hirehook.ENOTFOUND, "")
		if got := res.Header.Get("Allow"); got != "" {
			t.Errorf("Allow = %q on a 404, want none", got)
		}
	})
}

// TestBodyRules checks the messages and fields of bodies that are JSON
// but not what the route reads, and the rules of the whole body in a batch.
func TestBodyRules(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	for _, tt := range []struct {
		name, path, body, field, message string
	}{
		{"ArrayNotObject", "/v1/events", `[]`, "", "The body must be a JSON object."},
		{"StringNotObject", "/v1/endpoints", `"x"`, "", "The body must be a JSON object."},
		{"BatchDuplicateEvents", "/v1/events/batch", `{"events":[],"events":[` + event("candidate.created", `{"id":"c"}`) + `]}`, "events", ""},
		{"BatchEmptyID", "/v1/events/batch", `{"events":[` + event("candidate.created", `{"id":"c"}`) + `,{"id":"","type":"candidate.created","data":{"id":"c"}}]}`, "events[1].id", ""},
		{"BatchInvalidUTF8", "/v1/events/batch", "{\"events\":[" + event("candidate.created", "{\"id\":\"c\",\"first_name\":\"\xe2\x82\"}") + "]}", "events[0].data.first_name", ""},
		{"BatchNUL", "/v1/events/batch", `{"events":[{"type":"candidate.created","source":"\u0000","data":{"id":"c"}}]}`, "events[0].source", ""},
		{"EndpointDuplicateKey", "/v1/endpoints", `{"url":"https://x.example.com/","url":"https://y.example.com/","event_types":["*"]}`, "url", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := wantError(t, a.do(t, http.MethodPost, tt.path, tt.body), http.StatusUnprocessableEntity, hirehook.EINVALID, tt.field)
			if tt.message != "" && d.Message != tt.message {
				t.Errorf("message = %q, want %q", d.Message, tt.message)
			}
			if strings.Contains(d.Message, "a JSON an") {
				t.Errorf("message = %q", d.Message)
			}
		})
	}
	wantStored(t, a, 0, 0)
}
