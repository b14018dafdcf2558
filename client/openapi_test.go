package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/hirehook/hirehook/api"
)

// openAPIValidator validates the SDK's traffic against the hub's OpenAPI
// document: what the SDK sends must be what the API documents.
var openAPIValidator = sync.OnceValues(func() (validator.Validator, error) {
	raw, err := api.New(api.Config{}).OpenAPI()
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return v, nil
})

var validateMu sync.Mutex

// checkedTransport sends requests and fails the test when a request the
// hub accepted, or any answer, does not match the OpenAPI document.
type checkedTransport struct{ tb testing.TB }

func (t checkedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))

	v, err := openAPIValidator()
	if err != nil {
		t.tb.Errorf("openapi validator: %v", err)
		return res, nil
	}
	vreq := r.Clone(r.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	vres := *res
	vres.Body = io.NopCloser(bytes.NewReader(resBody))
	validateMu.Lock()
	defer validateMu.Unlock()
	var problems []string
	if res.StatusCode < 400 {
		if ok, errs := v.ValidateHttpRequestSync(vreq); !ok {
			for _, e := range errs {
				problems = append(problems, "request: "+fmt.Sprint(e, e.SchemaValidationErrors))
			}
		}
	}
	if ok, errs := v.ValidateHttpResponse(vreq, &vres); !ok {
		for _, e := range errs {
			problems = append(problems, "answer: "+fmt.Sprint(e, e.SchemaValidationErrors))
		}
	}
	if len(problems) > 0 {
		t.tb.Errorf("%s %s → %d does not match the OpenAPI document:\n  %s", r.Method, r.URL.RequestURI(), res.StatusCode, strings.Join(problems, "\n  "))
	}
	return res, nil
}

func TestHubServesOpenAPI(t *testing.T) {
	t.Parallel()
	h := startHub(t)
	res, err := http.Get(h.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || res.StatusCode != http.StatusOK || doc.OpenAPI != "3.1.0" || doc.Paths["/v1/events"] == nil {
		t.Fatalf("GET /v1/openapi.json without a key: %d, %v, %+v", res.StatusCode, err, doc.OpenAPI)
	}
}
