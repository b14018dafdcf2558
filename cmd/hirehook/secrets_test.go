package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/teamtailor"
)

// dbFiles returns the bytes of a SQLite database and its -wal file.
func dbFiles(tb testing.TB, path string) []byte {
	tb.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestPushRequestLogMasksCredentials posts a real Teamtailor webhook
// carrying credentials in its headers to a hub: the request log keeps the
// header names with masked values, for admin and viewer keys alike, and
// the database files never hold the values.
func TestPushRequestLogMasksCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "hirehook.db")
	hub := startHub(t, func(c *Config) { c.DB = "sqlite:" + dbPath })
	base := hub.URL()
	var src struct {
		ID string `json:"id"`
	}
	if st := call(t, base, "POST", "/v1/sources", map[string]any{"kind": "teamtailor", "name": "TT",
		"config": map[string]any{"signing_secret": "tt-signing-key", "account": "acme"}}, &src); st != 201 {
		t.Fatalf("create source: %d", st)
	}
	const apiToken, apiKey, cookie = "tt-api-token-0123456789abcdef", "x-api-key-fedcba9876543210", "session=cookie-5555aaaa"
	body := []byte(`{"payload":{"event_name":"candidate.create","data":{"id":"77","type":"candidates","attributes":{"first-name":"Ada","last-name":"Lovelace","email":"ada@example.com"}}}}`)
	req, _ := http.NewRequest("POST", base+"/in/"+src.ID, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(teamtailor.HeaderSignature, teamtailor.Sign("tt-signing-key", time.Now(), body))
	req.Header.Set("Teamtailor-Api-Token", apiToken)
	req.Header.Set("X-Api-Key", apiKey)
	req.Header.Set("Cookie", cookie)
	req.Header.Set("X-Request-Id", "visible-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ans, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("post: %d %s", resp.StatusCode, ans)
	}

	var viewer struct {
		Key string `json:"key"`
	}
	if st := call(t, base, "POST", "/v1/api-keys", map[string]any{"name": "v", "scope": "viewer"}, &viewer); st != 201 {
		t.Fatalf("viewer key: %d", st)
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if st := call(t, base, "GET", "/v1/sources/"+src.ID+"/requests", nil, &list); st != 200 || len(list.Data) != 1 {
		t.Fatalf("list: %d %+v", st, list)
	}
	for name, key := range map[string]string{"admin": testKey, "viewer": viewer.Key} {
		var detail struct {
			Header map[string][]string `json:"header"`
		}
		if st := callAs(t, key, base, "GET", "/v1/sources/"+src.ID+"/requests/"+list.Data[0].ID, nil, &detail); st != 200 {
			t.Fatalf("%s: get request: %d", name, st)
		}
		for _, h := range []string{"Teamtailor-Api-Token", "X-Api-Key", "Cookie", teamtailor.HeaderSignature} {
			if got := detail.Header[http.CanonicalHeaderKey(h)]; len(got) != 1 || got[0] != hirehook.Masked {
				t.Errorf("%s: header %s = %q, want [%q]", name, h, got, hirehook.Masked)
			}
		}
		if got := detail.Header["X-Request-Id"]; len(got) != 1 || got[0] != "visible-123" {
			t.Errorf("%s: X-Request-Id = %q, want it kept", name, got)
		}
	}
	files := dbFiles(t, dbPath)
	for _, secret := range []string{apiToken, apiKey, cookie} {
		if bytes.Contains(files, []byte(secret)) {
			t.Errorf("the database files hold %q", secret)
		}
	}
	if !bytes.Contains(files, []byte("visible-123")) {
		t.Error("the database files do not hold the logged request at all; the check above proves nothing")
	}
}

// TestEndpointHeadersSecretEndToEnd: an endpoint created with an
// Authorization header through a hub's API. The database files never hold
// the value, admin and viewer keys see it masked, and the receiver gets
// the real header with every webhook.
func TestEndpointHeadersSecretEndToEnd(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "hirehook.db")
	hub := startHub(t, func(c *Config) { c.DB = "sqlite:" + dbPath })
	base := hub.URL()
	rc := newReceiver(t, nil)
	const auth, token = "Basic cmVjZWl2ZXI6czNjcjN0LXBhc3N3b3Jk", "rcv-token-a1b2c3d4e5f6a7b8"
	var ep endpointCreated
	if st := call(t, base, "POST", "/v1/endpoints", map[string]any{"url": rc.URL, "event_types": []string{"placement.*"},
		"headers": map[string]string{"Authorization": auth, "X-Receiver-Token": token}}, &ep); st != 201 {
		t.Fatalf("create endpoint: %d", st)
	}
	var viewer struct {
		Key string `json:"key"`
	}
	if st := call(t, base, "POST", "/v1/api-keys", map[string]any{"name": "v", "scope": "viewer"}, &viewer); st != 201 {
		t.Fatalf("viewer key: %d", st)
	}
	for name, key := range map[string]string{"admin": testKey, "viewer": viewer.Key} {
		var got struct {
			Headers map[string]string `json:"headers"`
		}
		if st := callAs(t, key, base, "GET", "/v1/endpoints/"+ep.ID, nil, &got); st != 200 {
			t.Fatalf("%s: GET endpoint: %d", name, st)
		}
		if got.Headers["Authorization"] != hirehook.Masked || got.Headers["X-Receiver-Token"] != hirehook.Masked || len(got.Headers) != 2 {
			t.Errorf("%s: headers %v, want both names with %q", name, got.Headers, hirehook.Masked)
		}
	}
	sendEvent(t, base, placement("pl_hdr"))
	waitFor(t, 10*time.Second, "the webhook", func() bool { return len(rc.got()) >= 1 })
	h := rc.got()[0].header
	if h.Get("Authorization") != auth || h.Get("X-Receiver-Token") != token {
		t.Errorf("receiver got Authorization %q, X-Receiver-Token %q; want the endpoint's values", h.Get("Authorization"), h.Get("X-Receiver-Token"))
	}
	files := dbFiles(t, dbPath)
	for _, v := range []string{auth, "cmVjZWl2ZXI6czNjcjN0", token} {
		if bytes.Contains(files, []byte(v)) {
			t.Errorf("the database files hold %q", v)
		}
	}
	if !bytes.Contains(files, []byte("pl_hdr")) {
		t.Error("the database files do not hold the event either; the search proves nothing")
	}
}

// TestAPIKeyStoredKeyedAndUpgraded: a hub keeps no key as its bare
// SHA-256; a key an older hub stored that way still signs in after a
// restart, which rewrites it.
func TestAPIKeyStoredKeyedAndUpgraded(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "hirehook.db")
	cfg := func(c *Config) { c.DB = "sqlite:" + dbPath }
	hub := startHub(t, cfg)
	base := hub.URL()
	var created struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if st := call(t, base, "POST", "/v1/api-keys", map[string]any{"name": "ops", "scope": "admin"}, &created); st != 201 {
		t.Fatalf("create key: %d", st)
	}
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storedHash := func(id string) string {
		t.Helper()
		var h string
		if err := raw.QueryRow(`SELECT hash FROM api_keys WHERE id = ?`, id).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	for id, key := range map[string]string{created.ID: created.Key} {
		if h := storedHash(id); h == hirehook.HashAPIKey(key) || !strings.HasPrefix(h, hirehook.APIKeyMACPrefix) {
			t.Errorf("key %s stored as %q, want a keyed hash, not SHA-256 of the key", id, h)
		}
	}
	files := dbFiles(t, dbPath)
	for _, key := range []string{testKey, created.Key} {
		if bytes.Contains(files, []byte(hirehook.HashAPIKey(key))) {
			t.Errorf("the database files hold SHA-256 of a key")
		}
	}
	// An operator-chosen key as an older hub stored it.
	const old = "operator-chosen-key-16"
	if _, err := raw.Exec(`INSERT INTO api_keys (id, tenant_id, name, scope, hash, created_at) VALUES ('key_legacy', 'default', 'legacy', 'admin', ?, 1733500000000000)`,
		hirehook.HashAPIKey(old)); err != nil {
		t.Fatal(err)
	}
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	hub = startHub(t, cfg)
	if st := callAs(t, old, hub.URL(), "GET", "/v1/endpoints", nil, nil); st != 200 {
		t.Fatalf("the legacy key after a restart: %d, want 200", st)
	}
	if st := callAs(t, created.Key, hub.URL(), "GET", "/v1/endpoints", nil, nil); st != 200 {
		t.Fatalf("the new key after a restart: %d, want 200", st)
	}
	if h := storedHash("key_legacy"); h == hirehook.HashAPIKey(old) || !strings.HasPrefix(h, hirehook.APIKeyMACPrefix) {
		t.Errorf("the legacy key is still stored as %q", h)
	}
}
