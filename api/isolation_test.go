package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
)

// isolationBundle holds two tenants with objects in the first and keys of
// every scope.
type isolationBundle struct {
	api *testAPI
	// keys by name: "a_admin", "a_viewer", "a_producer", "b_admin", ...
	keys map[string]string
	// objects of tenant A
	endpointID, secret, eventID, deliveryID, keyID string
	sourceID, backfillID                           string
}

func setupIsolation(t *testing.T) *isolationBundle {
	t.Helper()
	b := &isolationBundle{api: startAPI(t, api.Config{SourceKinds: sourceKinds}), keys: map[string]string{}}
	op := b.api.Key
	for _, tenant := range []string{"agency_a", "agency_b"} {
		b.api.doJSONKey(t, op, http.MethodPost, "/v1/tenants", `{"id":"`+tenant+`","name":"`+tenant+`"}`, http.StatusCreated, nil)
		for _, scope := range []string{"admin", "viewer", "producer"} {
			var k api.APIKeyCreated
			b.api.doJSONKey(t, op, http.MethodPost, "/v1/api-keys", `{"name":"`+scope+`","scope":"`+scope+`","tenant_id":"`+tenant+`"}`, http.StatusCreated, &k)
			b.keys[tenant[len(tenant)-1:]+"_"+scope] = k.Key
			if tenant == "agency_a" && scope == "viewer" {
				b.keyID = k.ID
			}
		}
	}
	var ep api.EndpointWithSecret
	b.api.doJSONKey(t, b.keys["a_admin"], http.MethodPost, "/v1/endpoints", `{"url":"https://onboarding.example.com/a","event_types":["*"]}`, http.StatusCreated, &ep)
	b.endpointID, b.secret = ep.ID, ep.Secret
	var acc hirehook.EventAccepted
	b.api.doJSONKey(t, b.keys["a_producer"], http.MethodPost, "/v1/events", `{"type":"placement.confirmed","data":{"id":"pl_AAA","candidate":{"id":"c_AAA","email":"secret.person@example.com"}}}`, http.StatusAccepted, &acc)
	b.eventID = acc.ID
	var ev api.EventWithDeliveries
	b.api.doJSONKey(t, b.keys["a_viewer"], http.MethodGet, "/v1/events/"+acc.ID, "", http.StatusOK, &ev)
	if len(ev.DeliveryList) != 1 {
		t.Fatalf("tenant A's event has %d deliveries", len(ev.DeliveryList))
	}
	b.deliveryID = ev.DeliveryList[0].ID
	var src hirehook.Source
	b.api.doJSONKey(t, b.keys["a_admin"], http.MethodPost, "/v1/sources", `{"kind":"bullhorn","name":"A","enabled":false,"config":{"client_id":"a","client_secret":"secret-of-a","refresh_token":"rt-of-a"}}`, http.StatusCreated, &src)
	b.sourceID = src.ID
	var bf hirehook.Backfill
	b.api.doJSONKey(t, b.keys["a_admin"], http.MethodPost, "/v1/endpoints/"+ep.ID+"/backfill", `{"entities":["placement"],"filter":".data.id == \"pl_AAA\""}`, http.StatusAccepted, &bf)
	b.backfillID = bf.ID
	return b
}

// pathFor fills a route pattern with tenant A's objects.
func (b *isolationBundle) pathFor(pattern string) string {
	r := strings.NewReplacer("{name}", "placement.confirmed", "{entity}", "placement")
	p := r.Replace(pattern)
	switch {
	case strings.HasPrefix(pattern, "/v1/endpoints/"):
		p = strings.Replace(p, "{id}", b.endpointID, 1)
	case strings.HasPrefix(pattern, "/v1/events/"):
		p = strings.Replace(p, "{id}", b.eventID, 1)
	case strings.HasPrefix(pattern, "/v1/deliveries/"):
		p = strings.Replace(p, "{id}", b.deliveryID, 1)
	case strings.HasPrefix(pattern, "/v1/api-keys/"):
		p = strings.Replace(p, "{id}", b.keyID, 1)
	case strings.HasPrefix(pattern, "/v1/backfills/"):
		p = strings.Replace(p, "{id}", b.backfillID, 1)
	case strings.HasPrefix(pattern, "/v1/sources/"):
		p = strings.Replace(p, "{id}", b.sourceID, 1)
	case strings.HasPrefix(pattern, "/v1/tenants/"):
		p = strings.Replace(p, "{id}", "agency_a", 1)
	case strings.HasPrefix(pattern, "/v1/records/"):
		p = strings.Replace(p, "{id}", "pl_AAA", 1)
	}
	return p
}

// bodyFor is a valid body for each writing route, so that an answer is
// about who asks, not about what was sent.
func bodyFor(method, pattern string) string {
	switch method + " " + pattern {
	case "POST /v1/events":
		return `{"type":"candidate.created","data":{"id":"c_new"}}`
	case "POST /v1/events/batch":
		return `{"events":[{"type":"candidate.created","data":{"id":"c_new2"}}]}`
	case "POST /v1/endpoints":
		return `{"url":"https://crm.example.com/b","event_types":["candidate.*"]}`
	case "PATCH /v1/endpoints/{id}":
		return `{"description":"changed"}`
	case "POST /v1/endpoints/test-route":
		return `{"filter":".type == \"candidate.created\"","event":{"id":"evt_x","type":"candidate.created","subject":{"entity":"candidate","id":"c_x"},"data":{"id":"c_x"}}}`
	case "POST /v1/endpoints/{id}/recover":
		return `{"since":"2020-01-01T00:00:00Z"}`
	case "POST /v1/endpoints/{id}/backfill":
		return `{"entities":["candidate"]}`
	case "POST /v1/sources":
		return `{"kind":"bullhorn","name":"B","enabled":false,"config":{"client_id":"b","client_secret":"s","refresh_token":"r"}}`
	case "PATCH /v1/sources/{id}":
		return `{"name":"changed"}`
	case "POST /v1/sources/{id}/reprocess":
		return `{"from":"2020-01-01T00:00:00Z"}`
	case "POST /v1/api-keys":
		return `{"name":"another","scope":"viewer"}`
	case "POST /v1/tenants":
		return `{"name":"Agency C"}`
	case "PATCH /v1/tenants/{id}":
		return `{"name":"renamed"}`
	}
	return ""
}

// TestIsolationEveryRoute walks every route of the router with a key of
// another tenant and with each lesser scope: the answer is 404 (another
// tenant's objects do not exist for you) or 403 (scope), and never carries
// tenant A's data.
func TestIsolationEveryRoute(t *testing.T) {
	t.Parallel()
	routes := api.New(api.Config{}).RouteTable()
	if len(routes) < 25 {
		t.Fatalf("the route table has only %d routes", len(routes))
	}
	for _, rt := range routes {
		t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
			t.Parallel()
			b := setupIsolation(t)
			path := b.pathFor(rt.Pattern)
			body := bodyFor(rt.Method, rt.Pattern)
			secretsOfA := []string{b.endpointID, b.secret, b.eventID, b.deliveryID, b.keyID, "pl_AAA", "secret.person@example.com", "onboarding.example.com", b.sourceID, "secret-of-a", "rt-of-a"}
			never := func(t *testing.T, who string, res *response) {
				t.Helper()
				for _, s := range secretsOfA {
					// A 404 may repeat the id the caller asked for; that
					// tells nothing. Anything else of A's must not appear.
					if strings.Contains(string(res.Body), s) && !strings.Contains(path, s) {
						t.Fatalf("%s got tenant A's %q in a %d answer: %s", who, s, res.Status, res.Body)
					}
				}
			}

			// Another tenant's admin.
			res := b.api.doKey(t, b.keys["b_admin"], rt.Method, path, body)
			switch {
			case rt.Scope == hirehook.ScopeOperator:
				wantStatus(t, res, http.StatusForbidden)
			case strings.Contains(rt.Pattern, "{id}"):
				wantStatus(t, res, http.StatusNotFound)
			default:
				if res.Status >= 400 {
					t.Fatalf("tenant B's admin: %d %s", res.Status, res.Body)
				}
			}
			if rt.Scope != hirehook.ScopeAny || !strings.Contains(rt.Pattern, "event-types") {
				never(t, "tenant B's admin", res)
			}

			// Lesser scopes of tenant A itself.
			for _, scope := range []hirehook.Scope{hirehook.ScopeViewer, hirehook.ScopeProducer, hirehook.ScopeAdmin} {
				res := b.api.doKey(t, b.keys["a_"+string(scope)], rt.Method, path, body)
				if scope.Allows(rt.Scope) {
					if res.Status == http.StatusForbidden || res.Status == http.StatusUnauthorized {
						t.Fatalf("tenant A's %s key refused: %d %s", scope, res.Status, res.Body)
					}
					continue
				}
				wantStatus(t, res, http.StatusForbidden)
				never(t, "tenant A's "+string(scope)+" key", res)
			}
		})
	}
}

func wantStatus(tb testing.TB, res *response, status int) {
	tb.Helper()
	if res.Status != status {
		tb.Fatalf("status = %d, want %d; body: %s", res.Status, status, res.Body)
	}
}

func TestAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	var k api.APIKeyCreated
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	a.doJSONKey(t, a.Key, http.MethodPost, "/v1/api-keys", `{"name":"ci producer","scope":"producer","expires_at":"`+exp+`"}`, http.StatusCreated, &k)
	if !strings.HasPrefix(k.Key, "hh_") || k.Scope != hirehook.ScopeProducer || k.ExpiresAt == nil || k.TenantID != hirehook.DefaultTenantID {
		t.Fatalf("created key = %+v", k)
	}
	a.doJSONKey(t, k.Key, http.MethodPost, "/v1/events", `{"type":"candidate.created","data":{"id":"c_1"}}`, http.StatusAccepted, nil)

	// Listed with its last use, never with the key or its hash.
	res := a.doKey(t, a.Key, http.MethodGet, "/v1/api-keys", "")
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(string(res.Body), k.Key) || strings.Contains(string(res.Body), api.HashKey(k.Key)) {
		t.Fatalf("key list shows the key or its hash: %s", res.Body)
	}
	var list struct{ Data []hirehook.APIKey }
	if err := json.Unmarshal(res.Body, &list); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, x := range list.Data {
		if x.ID == k.ID {
			found = x.LastUsedAt != nil
		}
	}
	if !found {
		t.Fatalf("the producer key is not listed with a last use: %s", res.Body)
	}

	// Revoked: refused at once.
	wantStatus(t, a.doKey(t, a.Key, http.MethodDelete, "/v1/api-keys/"+k.ID, ""), http.StatusNoContent)
	wantError(t, a.doKey(t, k.Key, http.MethodPost, "/v1/events", `{"type":"candidate.created","data":{"id":"c_2"}}`), http.StatusUnauthorized, hirehook.EUNAUTHORIZED, "")

	// Bad input.
	for body, field := range map[string]string{
		`{"scope":"viewer"}`:          "name",
		`{"name":"x","scope":"root"}`: "scope",
		`{"name":"x","scope":"viewer","expires_at":"2001-01-01T00:00:00Z"}`: "expires_at",
		`{"name":"x","scope":"viewer","tenant_id":"nope"}`:                  "tenant_id",
	} {
		wantError(t, a.doKey(t, a.Key, http.MethodPost, "/v1/api-keys", body), http.StatusUnprocessableEntity, hirehook.EINVALID, field)
	}

	// The audit log says who did it.
	res = a.doKey(t, a.Key, http.MethodGet, "/v1/audit-log", "")
	wantStatus(t, res, http.StatusOK)
	for _, action := range []string{"api_key.created", "api_key.revoked"} {
		if !strings.Contains(string(res.Body), action) {
			t.Fatalf("audit log lacks %s: %s", action, res.Body)
		}
	}
}

func TestExpiredKeyRefused(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	key := api.NewAPIKey()
	past := time.Now().Add(-time.Minute).UTC()
	if err := a.Store.APIKeyCreate(t.Context(), &hirehook.APIKey{ID: "key_old", TenantID: hirehook.DefaultTenantID, Name: "old", Scope: hirehook.ScopeAdmin,
		Hash: api.HashKey(key), CreatedAt: past.Add(-time.Hour), ExpiresAt: &past}); err != nil {
		t.Fatal(err)
	}
	wantError(t, a.doKey(t, key, http.MethodGet, "/v1/endpoints", ""), http.StatusUnauthorized, hirehook.EUNAUTHORIZED, "")
}

func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	// The limiter reads the API's clock: frozen here, the fourth request
	// finds the burst spent however slowly the three before it ran (on the
	// wall clock a loaded -race run refilled a token between them).
	at := time.Now()
	a := startAPI(t, api.Config{RateLimit: 1, RateBurst: 3, NowFunc: func() time.Time { return at }})
	for range 3 {
		wantStatus(t, a.doKey(t, a.Key, http.MethodGet, "/v1/event-types", ""), http.StatusOK)
	}
	res := a.doKey(t, a.Key, http.MethodGet, "/v1/event-types", "")
	wantError(t, res, http.StatusTooManyRequests, hirehook.ERATELIMITED, "")
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q", ra)
	}
	// Another key has its own budget.
	key := api.NewAPIKey()
	if err := a.Store.APIKeyCreate(t.Context(), &hirehook.APIKey{ID: "key_2", TenantID: hirehook.DefaultTenantID, Name: "second", Scope: hirehook.ScopeViewer,
		Hash: api.HashKey(key), CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, a.doKey(t, key, http.MethodGet, "/v1/event-types", ""), http.StatusOK)
}

func TestTenants(t *testing.T) {
	t.Parallel()
	a := startAPI(t, api.Config{})
	var tn hirehook.Tenant
	a.doJSONKey(t, a.Key, http.MethodPost, "/v1/tenants", `{"name":"Acme Staffing","retention_days":14}`, http.StatusCreated, &tn)
	if !strings.HasPrefix(tn.ID, "tnt_") || tn.RetentionDays != 14 {
		t.Fatalf("tenant = %+v", tn)
	}
	wantError(t, a.doKey(t, a.Key, http.MethodPost, "/v1/tenants", `{"name":""}`), http.StatusUnprocessableEntity, hirehook.EINVALID, "name")
	wantError(t, a.doKey(t, a.Key, http.MethodPost, "/v1/tenants", `{"id":"Bad Id","name":"x"}`), http.StatusUnprocessableEntity, hirehook.EINVALID, "id")
	wantError(t, a.doKey(t, a.Key, http.MethodPatch, "/v1/tenants/"+tn.ID, `{"retention_days":0}`), http.StatusUnprocessableEntity, hirehook.EINVALID, "retention_days")
	wantError(t, a.doKey(t, a.Key, http.MethodDelete, "/v1/tenants/"+hirehook.DefaultTenantID, ""), http.StatusUnprocessableEntity, hirehook.EINVALID, "id")

	// A key of the tenant works until the tenant is deleted.
	var k api.APIKeyCreated
	a.doJSONKey(t, a.Key, http.MethodPost, "/v1/api-keys", `{"name":"acme admin","scope":"admin","tenant_id":"`+tn.ID+`"}`, http.StatusCreated, &k)
	wantStatus(t, a.doKey(t, k.Key, http.MethodGet, "/v1/endpoints", ""), http.StatusOK)
	wantStatus(t, a.doKey(t, a.Key, http.MethodDelete, "/v1/tenants/"+tn.ID, ""), http.StatusNoContent)
	wantError(t, a.doKey(t, k.Key, http.MethodGet, "/v1/endpoints", ""), http.StatusUnauthorized, hirehook.EUNAUTHORIZED, "")
	wantError(t, a.doKey(t, a.Key, http.MethodGet, "/v1/tenants/"+tn.ID, ""), http.StatusNotFound, hirehook.ENOTFOUND, "")
}

// doKey sends one request with another API key than the bundle's own.
func (a *testAPI) doKey(tb testing.TB, key, method, path string, body any) *response {
	tb.Helper()
	req := a.newRequest(tb, method, path, body)
	req.Header.Set("Authorization", "Bearer "+key)
	return a.roundTrip(tb, req)
}

// doJSONKey is doJSON with another API key.
func (a *testAPI) doJSONKey(tb testing.TB, key, method, path string, body any, want int, out any) *response {
	tb.Helper()
	res := a.doKey(tb, key, method, path, body)
	if res.Status != want {
		tb.Fatalf("%s %s: status = %d, want %d; body: %s", method, path, res.Status, want, res.Body)
	}
	if out != nil {
		decodeStrict(tb, res, out)
	}
	return res
}
