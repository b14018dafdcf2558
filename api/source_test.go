package api_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/connector/bullhorn"
)

var sourceKinds = map[string]api.SourceKind{hirehook.SourceBullhorn: bullhorn.SplitConfig}

func TestSources(t *testing.T) {
	t.Parallel()
	var changed atomic.Int32
	a := startAPI(t, api.Config{SourceKinds: sourceKinds, SourcesChangedFunc: func() { changed.Add(1) }})
	secrets := []string{"cs-very-secret", "pw-very-secret", "rt-very-secret"}
	noSecrets := func(t *testing.T, body []byte) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(body), s) {
				t.Fatalf("answer holds a secret: %s", body)
			}
		}
	}

	// Validation names the field.
	for _, c := range []struct{ body, field string }{
		{`{"name":"x","config":{}}`, "kind"},
		{`{"kind":"greenhouse","name":"x","config":{}}`, "kind"},
		{`{"kind":"bullhorn","config":{"client_id":"a"}}`, "name"},
		{`{"kind":"bullhorn","name":"x"}`, "config"},
		{`{"kind":"bullhorn","name":"x","config":{"client_secret":"s","password":"p","username":"u"}}`, "config.client_id"},
		{`{"kind":"bullhorn","name":"x","config":{"client_id":"a","client_secret":"s","refresh_token":"r","poll_interval_ms":5}}`, "config.poll_interval_ms"},
		{`{"kind":"bullhorn","name":"x","config":{"client_id":"a","client_secret":"s","refresh_token":"r","colour":"red"}}`, "config.colour"},
		{`{"kind":"bullhorn","name":"x","config":{"client_id":"a","client_secret":"s","refresh_token":"r","auth_url":"ftp://x"}}`, "config.auth_url"},
	} {
		wantError(t, a.do(t, http.MethodPost, "/v1/sources", c.body), http.StatusUnprocessableEntity, hirehook.EINVALID, c.field)
	}

	var src hirehook.Source
	res := a.doJSON(t, http.MethodPost, "/v1/sources", map[string]any{"kind": "bullhorn", "name": "Acme Bullhorn", "config": map[string]any{
		"client_id": "acme", "client_secret": secrets[0], "username": "api.acme", "password": secrets[1],
		"auth_url": "http://127.0.0.1:8090", "login_url": "http://127.0.0.1:8090", "poll_interval_ms": 500,
	}}, http.StatusCreated, &src)
	noSecrets(t, res.Body)
	if !strings.HasPrefix(src.ID, "src_") || src.Kind != "bullhorn" || !src.Enabled || res.Header.Get("Location") != "/v1/sources/"+src.ID {
		t.Fatalf("created %+v, location %q", src, res.Header.Get("Location"))
	}
	if changed.Load() != 1 {
		t.Fatalf("SourcesChanged called %d times, want 1", changed.Load())
	}
	stored, err := a.Store.SourceGet(t.Context(), hirehook.DefaultTenantID, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Secrets["client_secret"] != secrets[0] || stored.Secrets["password"] != secrets[1] || strings.Contains(string(stored.Config), "secret") {
		t.Fatalf("stored config %s secrets %d", stored.Config, len(stored.Secrets))
	}

	var got hirehook.Source
	noSecrets(t, a.doJSON(t, http.MethodGet, "/v1/sources/"+src.ID, nil, http.StatusOK, &got).Body)
	if got.ID != src.ID || got.Health.EventsRead != 0 {
		t.Fatalf("GET = %+v", got)
	}
	list := listAll[hirehook.Source](t, a, "/v1/sources")
	if len(list) != 1 || list[0].ID != src.ID {
		t.Fatalf("list = %+v", list)
	}

	// A PATCH of one field keeps the secrets; null removes one; the kind
	// is fixed.
	noSecrets(t, a.doJSON(t, http.MethodPatch, "/v1/sources/"+src.ID, `{"config":{"poll_interval_ms":1000}}`, http.StatusOK, &got).Body)
	stored, _ = a.Store.SourceGet(t.Context(), hirehook.DefaultTenantID, src.ID)
	if stored.Secrets["password"] != secrets[1] || !strings.Contains(string(stored.Config), `"poll_interval_ms":1000`) {
		t.Fatalf("after PATCH: config %s, password kept %v", stored.Config, stored.Secrets["password"] == secrets[1])
	}
	noSecrets(t, a.doJSON(t, http.MethodPatch, "/v1/sources/"+src.ID, map[string]any{"name": "Acme (EU)", "enabled": false,
		"config": map[string]any{"password": nil, "username": nil, "refresh_token": secrets[2]}}, http.StatusOK, &got).Body)
	stored, _ = a.Store.SourceGet(t.Context(), hirehook.DefaultTenantID, src.ID)
	if _, ok := stored.Secrets["password"]; ok || stored.Secrets["refresh_token"] != secrets[2] || got.Enabled || got.Name != "Acme (EU)" {
		t.Fatalf("after PATCH: %+v secrets %v", got, len(stored.Secrets))
	}
	wantError(t, a.do(t, http.MethodPatch, "/v1/sources/"+src.ID, `{"config":{"refresh_token":null}}`), http.StatusUnprocessableEntity, hirehook.EINVALID, "config.password")
	wantError(t, a.do(t, http.MethodPatch, "/v1/sources/"+src.ID, `{"kind":"greenhouse"}`), http.StatusUnprocessableEntity, hirehook.EINVALID, "kind")
	wantError(t, a.do(t, http.MethodPatch, "/v1/sources/"+src.ID, `{"name":""}`), http.StatusUnprocessableEntity, hirehook.EINVALID, "name")

	// The audit log names what changed, never a secret.
	audit := a.do(t, http.MethodGet, "/v1/audit-log", nil)
	noSecrets(t, audit.Body)
	for _, action := range []string{"source.created", "source.updated"} {
		if !strings.Contains(string(audit.Body), action) {
			t.Errorf("audit log lacks %s: %s", action, audit.Body)
		}
	}

	a.doJSON(t, http.MethodDelete, "/v1/sources/"+src.ID, nil, http.StatusNoContent, nil)
	wantError(t, a.do(t, http.MethodGet, "/v1/sources/"+src.ID, nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
	wantError(t, a.do(t, http.MethodDelete, "/v1/sources/"+src.ID, nil), http.StatusNotFound, hirehook.ENOTFOUND, "")
	if changed.Load() != 4 {
		t.Fatalf("SourcesChanged called %d times, want 4", changed.Load())
	}
}
