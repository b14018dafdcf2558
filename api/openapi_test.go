package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

// openAPIChecker validates API traffic against the OpenAPI document. Every
// request an API test makes goes through it (testAPI.send), so each
// existing test also checks the document:
//
//   - an answer must be one the operation documents: its status, and a body
//     that validates against the closed document (every answer object
//     additionalProperties: false, so an undocumented field fails too);
//   - a request the API accepted (status below 400) must validate: the
//     document must not refuse what the API takes. A refused request may
//     be invalid on purpose, so it is not checked.
//
// Requests to paths that are no route (the 404 tests) are not checked.
type openAPIChecker struct {
	v      validator.Validator
	routes *http.ServeMux
	// mu serialises validations: the validator caches compiled schemas
	// and the tests run in parallel.
	mu sync.Mutex
}

var checker = sync.OnceValues(func() (*openAPIChecker, error) {
	h := api.New(api.Config{})
	raw, err := h.OpenAPIClosed()
	if err != nil {
		return nil, err
	}
	v, err := newValidator(raw)
	if err != nil {
		return nil, err
	}
	c := &openAPIChecker{v: v, routes: http.NewServeMux()}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, rt := range h.RouteTable() {
		c.routes.Handle(rt.Method+" "+rt.Pattern, noop)
	}
	c.routes.Handle("GET /v1/openapi.json", noop)
	return c, nil
})

func newValidator(raw []byte) (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		return nil, fmt.Errorf("parse openapi document: %w", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("build openapi validator: %w", errors.Join(errs...))
	}
	return v, nil
}

// checkOpenAPI validates one request and its answer (see openAPIChecker).
// The request's body is read again through GetBody.
func checkOpenAPI(req *http.Request, status int, header http.Header, body []byte) error {
	c, err := checker()
	if err != nil {
		return err
	}
	if _, pattern := c.routes.Handler(req); pattern == "" {
		return nil
	}
	vreq := req.Clone(req.Context())
	vreq.Body = http.NoBody
	if req.GetBody != nil {
		if vreq.Body, err = req.GetBody(); err != nil {
			return err
		}
	}
	res := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: vreq}

	c.mu.Lock()
	defer c.mu.Unlock()
	var problems []string
	if status < 400 {
		if ok, errs := c.v.ValidateHttpRequestSync(vreq); !ok {
			for _, e := range errs {
				problems = append(problems, "request: "+describe(e.Error(), e.SchemaValidationErrors))
			}
		}
	}
	if ok, errs := c.v.ValidateHttpResponse(vreq, res); !ok {
		for _, e := range errs {
			problems = append(problems, "answer: "+describe(e.Error(), e.SchemaValidationErrors))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s %s → %d does not match the OpenAPI document:\n  %s\nanswer body: %s",
			req.Method, req.URL.RequestURI(), status, strings.Join(problems, "\n  "), hirehook.Truncate(string(body), 2000))
	}
	return nil
}

func describe(msg string, details []*verrors.SchemaValidationFailure) string {
	var parts []string
	for _, d := range details {
		parts = append(parts, d.Error())
	}
	if len(parts) == 0 {
		return msg
	}
	return msg + " [" + strings.Join(parts, "; ") + "]"
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	h := api.New(api.Config{})
	for name, build := range map[string]func() ([]byte, error){"served": h.OpenAPI, "closed": h.OpenAPIClosed} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := build()
			if err != nil {
				t.Fatal(err)
			}
			v, err := newValidator(raw)
			if err != nil {
				t.Fatal(err)
			}
			if ok, errs := v.ValidateDocument(); !ok {
				for _, e := range errs {
					t.Errorf("%s", describe(e.Error(), e.SchemaValidationErrors))
				}
			}
			var doc struct {
				OpenAPI string `json:"openapi"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil || doc.OpenAPI != "3.1.0" {
				t.Errorf("openapi = %q (%v), want 3.1.0", doc.OpenAPI, err)
			}
		})
	}
}

// openAPIDoc is the part of the document the route test reads.
type openAPIDoc struct {
	Paths map[string]map[string]struct {
		OperationID string         `json:"operationId"`
		Security    *[]any         `json:"security"`
		Scope       string         `json:"x-hirehook-scope"`
		Responses   map[string]any `json:"responses"`
	} `json:"paths"`
	Webhooks   map[string]any `json:"webhooks"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// TestOpenAPIRoutes: every route of the route table is in the document
// with its scope, and every documented path and method is a route.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	h := api.New(api.Config{})
	raw, err := h.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}

	routes := map[string]bool{"GET /v1/openapi.json": true}
	for _, rt := range h.RouteTable() {
		key := rt.Method + " " + rt.Pattern
		routes[key] = true
		op, ok := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s is a route but not in the OpenAPI document: add it to operations in api/openapi.go", key)
			continue
		}
		wantScope := string(rt.Scope)
		if wantScope == "" {
			wantScope = "any"
		}
		if op.Scope != wantScope {
			t.Errorf("%s: x-hirehook-scope = %q, want %q", key, op.Scope, wantScope)
		}
		if op.Security != nil {
			t.Errorf("%s: needs a key but the document overrides its security", key)
		}
		for _, status := range []string{"401", "403", "429", "500"} {
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s: no %s answer documented", key, status)
			}
		}
	}
	var ids []string
	for path, item := range doc.Paths {
		for method, op := range item {
			key := strings.ToUpper(method) + " " + path
			ids = append(ids, op.OperationID)
			if !strings.HasPrefix(path, "/v1/") {
				if path != "/healthz" && path != "/readyz" && path != "/in/{source_id}" {
					t.Errorf("%s: documented outside /v1 but not a health route or the push sources' ingest URL", key)
				}
				continue
			}
			if !routes[key] {
				t.Errorf("%s is documented but is no route", key)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/v1/openapi.json"} {
		if op, ok := doc.Paths[path]["get"]; !ok || op.Security == nil || len(*op.Security) != 0 {
			t.Errorf("GET %s: not documented as a public route", path)
		}
	}
	slices.Sort(ids)
	if d := slices.Compact(slices.Clone(ids)); len(d) != len(ids) {
		t.Errorf("operation ids are not unique: %v", ids)
	}

	// The catalog's types and entities are in it.
	for _, name := range []string{"Placement", "Candidate", "JobPosting", "Money", "PlacementEventInput", "PlacementWebhook", "EventInput"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("no component schema %s", name)
		}
	}
	if _, ok := doc.Webhooks["placement.confirmed"]; !ok {
		t.Error("no webhook placement.confirmed")
	}
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	req := a.newRequest(t, http.MethodGet, "/v1/openapi.json", nil)
	req.Header.Del("Authorization")
	res := a.roundTrip(t, req)
	if res.Status != http.StatusOK {
		t.Fatalf("status = %d, want 200 without a key; body: %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	want, err := api.New(api.Config{}).OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Body, want) {
		t.Error("the served document differs from Handler.OpenAPI")
	}
}

// TestOpenAPICatchesDrift makes sure the checker would fail a test: an
// answer with an undocumented field and one with a wrong status.
func TestOpenAPICatchesDrift(t *testing.T) {
	t.Parallel()
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/v1/endpoints/ep_1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer hh_x")
	h := http.Header{"Content-Type": {"application/json"}}
	good := `{"id":"ep_1","kind":"http","url":"https://x.example.com/","description":"","event_types":["*"],"headers":{},"disabled":false,"signing":"hmac","max_concurrency":16,"rate_limit_per_second":null,"ordered":false,"failing_since":null,"filter":"","transform":"","payload":"full","redact":[],"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`
	if err := checkOpenAPI(req, 200, h, []byte(good)); err != nil {
		t.Fatalf("a documented answer fails: %v", err)
	}
	extra := strings.Replace(good, `"id":"ep_1"`, `"id":"ep_1","tenant_id":"default"`, 1)
	if err := checkOpenAPI(req, 200, h, []byte(extra)); err == nil {
		t.Error("an undocumented field passes")
	}
	if err := checkOpenAPI(req, 409, h, []byte(`{"error":{"code":"conflict","message":"x"}}`)); err == nil {
		t.Error("an undocumented status passes")
	}
	post, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/v1/events", strings.NewReader(`{"type":"placement.confirmed","data":{"id":"p"},"extra":1}`))
	post.Header.Set("Authorization", "Bearer hh_x")
	post.Header.Set("Content-Type", "application/json")
	if err := checkOpenAPI(post, 202, h, []byte(`{"id":"evt_1","deliveries":0,"duplicate":false}`)); err == nil {
		t.Error("an accepted request with an undocumented field passes")
	}
}
