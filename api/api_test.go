package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/store/sqlite"
)

// testAPI is the JSON API running under httptest, wired as cmd/hirehook
// wires it: a real SQLite store on a file, an ingester and one API key. No
// dispatcher runs, so deliveries stay pending and tests read the stored state
// back through the API.
type testAPI struct {
	URL   string
	Key   string
	Store hirehook.Store
}

// startAPI starts the API with cfg; Store and Ingester are filled in.
// Everything it starts is stopped in tb's cleanup.
// testIngestTimeout is the ingest deadline of these tests' hubs: the
// deadline itself is tested in package ingest; here a loaded machine running
// -race must not turn a slow commit of a 1000-event batch into a 503.
const testIngestTimeout = time.Minute

func startAPI(tb testing.TB, cfg api.Config) *testAPI {
	tb.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "hirehook.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := store.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})

	key := "hh_test_" + randomHex(tb, 24)
	if err := store.APIKeyCreate(ctx, &hirehook.APIKey{
		ID:        hirehook.NewID("key"),
		TenantID:  hirehook.DefaultTenantID,
		Name:      "t",
		Scope:     hirehook.ScopeOperator,
		Hash:      api.HashKey(key),
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}); err != nil {
		tb.Fatalf("create api key: %v", err)
	}

	ing := ingest.New(store, ingest.Config{Logger: logger, Timeout: testIngestTimeout})
	if err := ing.Start(ctx); err != nil {
		tb.Fatalf("start ingester: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ing.Stop(ctx); err != nil {
			tb.Errorf("stop ingester: %v", err)
		}
	})

	cfg.Store, cfg.Ingester = store, ing
	if cfg.Logger == nil {
		cfg.Logger = logger
	}
	mux := http.NewServeMux()
	api.New(cfg).Routes(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)

	return &testAPI{URL: srv.URL, Key: key, Store: store}
}

// tbWriter sends log output to the test log.
type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// response is a whole HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// newRequest builds a request carrying the API key. A string or []byte body
// is sent as it is, nil sends none, anything else is sent as JSON.
func (a *testAPI) newRequest(tb testing.TB, method, path string, body any) *http.Request {
	tb.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("marshal request body: %v", err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.URL+path, r)
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.Key)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send makes one request. It reports problems as errors rather than failing
// the test, so goroutines may use it. Whatever the request, the API key must
// never appear in an answer.
func (a *testAPI) send(req *http.Request) (*response, error) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	if bytes.Contains(body, []byte(a.Key)) {
		return nil, fmt.Errorf("%s %s: the answer contains the API key: %s", req.Method, req.URL.Path, body)
	}
	if err := checkOpenAPI(req, res.StatusCode, res.Header, body); err != nil {
		return nil, err
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: body}, nil
}

// roundTrip sends req and fails the test if that does not work.
func (a *testAPI) roundTrip(tb testing.TB, req *http.Request) *response {
	tb.Helper()
	res, err := a.send(req)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// do sends one authenticated request.
func (a *testAPI) do(tb testing.TB, method, path string, body any) *response {
	tb.Helper()
	return a.roundTrip(tb, a.newRequest(tb, method, path, body))
}

// doJSON sends one authenticated request, requires wantStatus and decodes
// the answer into out (unless out is nil), refusing fields out lacks.
func (a *testAPI) doJSON(tb testing.TB, method, path string, body any, wantStatus int, out any) *response {
	tb.Helper()
	res := a.do(tb, method, path, body)
	if res.Status != wantStatus {
		tb.Fatalf("%s %s: status = %d, want %d; body: %s", method, path, res.Status, wantStatus, res.Body)
	}
	if out != nil {
		decodeStrict(tb, res, out)
	}
	return res
}

func decodeStrict(tb testing.TB, res *response, out any) {
	tb.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(res.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		tb.Fatalf("decode %T: %v; body: %s", out, err, res.Body)
	}
}

// wantError checks that res is an error answer with this status, code and
// field, and returns its detail.
func wantError(tb testing.TB, res *response, status int, code, field string) api.ErrorDetail {
	tb.Helper()
	if res.Status != status {
		tb.Fatalf("status = %d, want %d; body: %s", res.Status, status, res.Body)
	}
	var body api.ErrorBody
	decodeStrict(tb, res, &body)
	if got := body.Error.Code; got != code {
		tb.Errorf("error code = %q, want %q; body: %s", got, code, res.Body)
	}
	if got := body.Error.Field; got != field {
		tb.Errorf("error field = %q, want %q; body: %s", got, field, res.Body)
	}
	if body.Error.Message == "" {
		tb.Errorf("error message is empty; body: %s", res.Body)
	}
	return body.Error
}

// listAll reads every page of a list route (path may carry a query).
func listAll[T any](tb testing.TB, a *testAPI, path string) []T {
	tb.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []T
	after := ""
	for range 100 {
		p := path + sep + "limit=1000"
		if after != "" {
			p += "&after=" + after
		}
		var page api.List[T]
		a.doJSON(tb, http.MethodGet, p, nil, http.StatusOK, &page)
		all = append(all, page.Data...)
		if !page.HasMore {
			return all
		}
		after = page.NextAfter
	}
	tb.Fatalf("GET %s: more than 100 pages", path)
	return nil
}

// wantStored checks how many events and deliveries the API lists.
func wantStored(tb testing.TB, a *testAPI, events, deliveries int) {
	tb.Helper()
	if got := len(listAll[*hirehook.Event](tb, a, "/v1/events")); got != events {
		tb.Errorf("GET /v1/events lists %d events, want %d", got, events)
	}
	if got := len(listAll[*hirehook.Delivery](tb, a, "/v1/deliveries")); got != deliveries {
		tb.Errorf("GET /v1/deliveries lists %d deliveries, want %d", got, deliveries)
	}
}

// createEndpoint creates an endpoint through the API.
func createEndpoint(tb testing.TB, a *testAPI, in map[string]any) api.EndpointWithSecret {
	tb.Helper()
	var ep api.EndpointWithSecret
	a.doJSON(tb, http.MethodPost, "/v1/endpoints", in, http.StatusCreated, &ep)
	return ep
}

// postEvent sends one event and requires 202.
func postEvent(tb testing.TB, a *testAPI, body any) hirehook.EventAccepted {
	tb.Helper()
	var acc hirehook.EventAccepted
	a.doJSON(tb, http.MethodPost, "/v1/events", body, http.StatusAccepted, &acc)
	return acc
}

func TestAuth(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		a := startAPI(t, api.Config{})
		createEndpoint(t, a, map[string]any{"url": "https://ats.example.com/hooks", "event_types": []string{"*"}})
		return &bundle{api: a}
	}

	const unknownKey = "hh_test_0123456789abcdef0123456789abcdef"
	tests := []struct {
		name          string
		authorization func(key string) string // "" sends no header
	}{
		{name: "MissingHeader", authorization: func(string) string { return "" }},
		{name: "EmptyBearer", authorization: func(string) string { return "Bearer " }},
		{name: "BasicScheme", authorization: func(key string) string { return "Basic " + key }},
		{name: "TokenScheme", authorization: func(key string) string { return "Token " + key }},
		{name: "KeyWithoutScheme", authorization: func(key string) string { return key }},
		{name: "UnknownKey", authorization: func(string) string { return "Bearer " + unknownKey }},
		{name: "KeyWithSuffix", authorization: func(key string) string { return "Bearer " + key + "x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			for _, r := range []struct {
				method, path string
				body         any
			}{
				{http.MethodGet, "/v1/events", nil},
				{http.MethodPost, "/v1/events", `{"type":"placement.confirmed","data":{"id":"plc_1"}}`},
				{http.MethodPost, "/v1/events/batch", `{"events":[{"type":"placement.confirmed","data":{"id":"plc_1"}}]}`},
				{http.MethodGet, "/v1/endpoints", nil},
				{http.MethodPost, "/v1/endpoints", `{"url":"https://x.example.com/","event_types":["*"]}`},
				{http.MethodGet, "/v1/event-types", nil},
				{http.MethodGet, "/v1/deliveries", nil},
			} {
				req := b.api.newRequest(t, r.method, r.path, r.body)
				req.Header.Del("Authorization")
				if h := tt.authorization(b.api.Key); h != "" {
					req.Header.Set("Authorization", h)
				}
				res := b.api.roundTrip(t, req)
				wantError(t, res, http.StatusUnauthorized, hirehook.EUNAUTHORIZED, "")
				if got := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
					t.Errorf("%s %s: WWW-Authenticate = %q, want a Bearer challenge", r.method, r.path, got)
				}
				if bytes.Contains(res.Body, []byte(unknownKey)) {
					t.Errorf("%s %s: the answer echoes the key sent: %s", r.method, r.path, res.Body)
				}
			}
			// Nothing the unauthorized requests sent was stored.
			wantStored(t, b.api, 0, 0)
			if eps := listAll[*hirehook.Endpoint](t, b.api, "/v1/endpoints"); len(eps) != 1 {
				t.Errorf("%d endpoints, want the 1 from setup", len(eps))
			}
		})
	}

	t.Run("ValidKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acc := postEvent(t, b.api, `{"type":"placement.confirmed","data":{"id":"plc_1"}}`)
		if acc.Deliveries != 1 {
			t.Errorf("deliveries = %d, want 1", acc.Deliveries)
		}
		// A second request is answered from the key cache; it must still
		// be the same tenant.
		var got api.EventWithDeliveries
		b.api.doJSON(t, http.MethodGet, "/v1/events/"+acc.ID, nil, http.StatusOK, &got)
		if got.ID != acc.ID {
			t.Errorf("GET event id = %q, want %q", got.ID, acc.ID)
		}
		wantStored(t, b.api, 1, 1)
	})

	t.Run("SchemeIsCaseInsensitive", func(t *testing.T) {
		// RFC 9110 §11.1: the authentication scheme is case-insensitive.
		t.Parallel()
		b := setup(t)
		for _, scheme := range []string{"bearer", "BEARER"} {
			req := b.api.newRequest(t, http.MethodGet, "/v1/events", nil)
			req.Header.Set("Authorization", scheme+" "+b.api.Key)
			if res := b.api.roundTrip(t, req); res.Status != http.StatusOK {
				t.Errorf("%q scheme: status = %d, want 200; body: %s", scheme, res.Status, res.Body)
			}
		}
	})

	t.Run("KeyNeverInAnswers", func(t *testing.T) {
		// send checks every answer of every test; this walks each route
		// once, with good and bad input, to make that explicit. (Input
		// that holds the key would be echoed in field errors, as any
		// input is; that is not a leak.)
		t.Parallel()
		b := setup(t)
		ep := createEndpoint(t, b.api, map[string]any{"url": "https://ats.example.com/2", "event_types": []string{"placement.*"}})
		acc := postEvent(t, b.api, `{"type":"placement.confirmed","data":{"id":"plc_1"}}`)
		var ev api.EventWithDeliveries
		b.api.doJSON(t, http.MethodGet, "/v1/events/"+acc.ID, nil, http.StatusOK, &ev)
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/v1/event-types?include_schemas=true", nil},
			{http.MethodGet, "/v1/event-types/placement.confirmed", nil},
			{http.MethodPost, "/v1/events", `{"type":"placement.confirmed","data":{"id":"plc_2"}}`},
			{http.MethodPost, "/v1/events", `{"type":"nope","data":{}}`},
			{http.MethodPost, "/v1/events/batch", `{"events":[{"type":"placement.confirmed","data":{"id":"plc_3"}}]}`},
			{http.MethodPost, "/v1/events/batch", `{"events":[{"type":"nope"}]}`},
			{http.MethodGet, "/v1/events", nil},
			{http.MethodGet, "/v1/events?after=evt_unknown", nil},
			{http.MethodGet, "/v1/events/" + acc.ID, nil},
			{http.MethodGet, "/v1/events/evt_unknown", nil},
			{http.MethodGet, "/v1/records/placement/plc_1", nil},
			{http.MethodGet, "/v1/records/placement/plc_1/events", nil},
			{http.MethodGet, "/v1/endpoints", nil},
			{http.MethodGet, "/v1/endpoints/" + ep.ID, nil},
			{http.MethodGet, "/v1/endpoints/" + ep.ID + "/secret", nil},
			{http.MethodPatch, "/v1/endpoints/" + ep.ID, `{"description":"x"}`},
			{http.MethodPost, "/v1/endpoints/" + ep.ID + "/rotate-secret", nil},
			{http.MethodPost, "/v1/endpoints/" + ep.ID + "/recover", `{"since":"2020-01-01T00:00:00Z"}`},
			{http.MethodGet, "/v1/deliveries", nil},
			{http.MethodGet, "/v1/deliveries/" + ev.DeliveryList[0].ID, nil},
			{http.MethodPost, "/v1/deliveries/" + ev.DeliveryList[0].ID + "/retry", nil},
			{http.MethodGet, "/v1/nope", nil},
		} {
			b.api.do(t, r.method, r.path, r.body) // fails the test if the key shows
		}
	})
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{api: startAPI(t, api.Config{})}
	}

	b := setup(t)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/v1/"},
		{http.MethodGet, "/v1/nope"},
		{http.MethodGet, "/v1/events/evt_1/extra"},
		{http.MethodPost, "/v1/records/placement/plc_1/nope"},
		// A known path asked with another method: TestMethodNotAllowed.
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			t.Parallel()
			res := b.api.do(t, r.method, r.path, nil)
			wantError(t, res, http.StatusNotFound, hirehook.ENOTFOUND, "")
		})
	}
}

func TestEventTypes(t *testing.T) {
	t.Parallel()

	type bundle struct {
		api *testAPI
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{api: startAPI(t, api.Config{})}
	}

	b := setup(t)

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		var list api.List[api.EventTypeView]
		b.api.doJSON(t, http.MethodGet, "/v1/event-types", nil, http.StatusOK, &list)
		if len(list.Data) == 0 {
			t.Fatal("no event types")
		}
		found := false
		for _, et := range list.Data {
			if et.Schema != nil {
				t.Errorf("%s: schema without ?include_schemas=true", et.Name)
			}
			if et.Name == "placement.confirmed" {
				found = true
				if et.Entity != "placement" {
					t.Errorf("placement.confirmed entity = %q, want placement", et.Entity)
				}
			}
		}
		if !found {
			t.Error("placement.confirmed is not listed")
		}

		var withSchemas api.List[api.EventTypeView]
		b.api.doJSON(t, http.MethodGet, "/v1/event-types?include_schemas=true", nil, http.StatusOK, &withSchemas)
		for _, et := range withSchemas.Data {
			if !json.Valid(et.Schema) {
				t.Errorf("%s: schema %q is not JSON", et.Name, et.Schema)
			}
		}
	})

	t.Run("Get", func(t *testing.T) {
		t.Parallel()
		var et api.EventTypeView
		b.api.doJSON(t, http.MethodGet, "/v1/event-types/placement.confirmed", nil, http.StatusOK, &et)
		if et.Name != "placement.confirmed" || et.Entity != "placement" || et.Version != 1 {
			t.Errorf("got %s/%s v%d, want placement.confirmed/placement v1", et.Name, et.Entity, et.Version)
		}
		var schema map[string]any
		if err := json.Unmarshal(et.Schema, &schema); err != nil {
			t.Errorf("schema is not a JSON object: %v", err)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		t.Parallel()
		wantError(t, b.api.do(t, http.MethodGet, "/v1/event-types/placement.approved", nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
	})
}
