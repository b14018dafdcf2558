package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
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
	body := []byte(`{"event":"candidate.created","payload":{"id":"77","type":"candidates","attributes":{"first-name":"Ada"}}}`)
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
