package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

// TestEndpointHeadersWriteOnly: custom header values are shown to no key,
// as signing secrets are not; a PATCH may send the masked value back to keep
// a header, and the store keeps the real values for the sender.
func TestEndpointHeadersWriteOnly(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	ctx := context.Background()
	const auth, token = "Basic cmVjZWl2ZXI6aHVudGVyMg==", "rt_0123456789abcdef"
	ep := createEndpoint(t, a, map[string]any{"url": "https://crm.example.com/hooks", "event_types": []string{"*"},
		"headers": map[string]string{"Authorization": auth, "X-Receiver-Token": token}})
	masked := map[string]string{"Authorization": hirehook.Masked, "X-Receiver-Token": hirehook.Masked}
	if diff := cmp.Diff(masked, ep.Headers); diff != "" {
		t.Errorf("create answer headers (-want +got):\n%s", diff)
	}
	var viewer api.APIKeyCreated
	a.doJSON(t, http.MethodPost, "/v1/api-keys", map[string]any{"name": "v", "scope": "viewer"}, http.StatusCreated, &viewer)
	for name, key := range map[string]string{"admin": a.Key, "viewer": viewer.Key} {
		for _, path := range []string{"/v1/endpoints/" + ep.ID, "/v1/endpoints"} {
			res := a.doKey(t, key, http.MethodGet, path, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("%s GET %s: %d %s", name, path, res.Status, res.Body)
			}
			if strings.Contains(string(res.Body), auth) || strings.Contains(string(res.Body), token) || strings.Contains(string(res.Body), "cmVjZWl2ZXI") {
				t.Errorf("%s GET %s shows a header value: %s", name, path, res.Body)
			}
			if !strings.Contains(string(res.Body), `"X-Receiver-Token":"`+hirehook.Masked+`"`) {
				t.Errorf("%s GET %s does not name the header with the mask: %s", name, path, res.Body)
			}
		}
	}
	stored := func() map[string]string {
		e, err := a.Store.EndpointGet(ctx, hirehook.DefaultTenantID, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return e.Headers
	}
	if diff := cmp.Diff(map[string]string{"Authorization": auth, "X-Receiver-Token": token}, stored()); diff != "" {
		t.Fatalf("stored headers (-want +got):\n%s", diff)
	}

	// What GET answered, sent back with one value changed and one added:
	// the masked one keeps its value.
	var got hirehook.Endpoint
	a.doJSON(t, http.MethodPatch, "/v1/endpoints/"+ep.ID, map[string]any{
		"headers": map[string]string{"authorization": hirehook.Masked, "X-Receiver-Token": "rt_new", "X-Tenant": "acme"}}, http.StatusOK, &got)
	if diff := cmp.Diff(map[string]string{"authorization": hirehook.Masked, "X-Receiver-Token": hirehook.Masked, "X-Tenant": hirehook.Masked}, got.Headers); diff != "" {
		t.Errorf("PATCH answer headers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"authorization": auth, "X-Receiver-Token": "rt_new", "X-Tenant": "acme"}, stored()); diff != "" {
		t.Errorf("stored headers after PATCH (-want +got):\n%s", diff)
	}

	// The mask stands for a value the hub has: never for a new header.
	res := a.do(t, http.MethodPatch, "/v1/endpoints/"+ep.ID, map[string]any{"headers": map[string]string{"X-Other": hirehook.Masked}})
	wantError(t, res, http.StatusUnprocessableEntity, hirehook.EINVALID, "headers.X-Other")
	res = a.do(t, http.MethodPost, "/v1/endpoints", map[string]any{"url": "https://crm.example.com/hooks", "event_types": []string{"*"},
		"headers": map[string]string{"Authorization": hirehook.Masked}})
	wantError(t, res, http.StatusUnprocessableEntity, hirehook.EINVALID, "headers.Authorization")
	if diff := cmp.Diff(map[string]string{"authorization": auth, "X-Receiver-Token": "rt_new", "X-Tenant": "acme"}, stored()); diff != "" {
		t.Errorf("stored headers after refused PATCH (-want +got):\n%s", diff)
	}
}
