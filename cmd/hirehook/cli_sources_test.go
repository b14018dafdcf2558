package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/greenhouse"
)

// TestCLISourcesCreate: `hirehook sources create` connects a push source
// with the signing secret from the environment or a file (never a flag
// value), prints the ingest URL and the vendor's setup steps, never the
// secret; a webhook signed with that secret then gets in. Bullhorn, a
// missing secret or an unknown kind are refused with what to do.
func TestCLISourcesCreate(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	env := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey, "HIREHOOK_SIGNING_SECRET": "gh-cli-secret"}
	res := runCLI(t, env, "sources", "create", "--kind", "greenhouse", "--name", "CLI Greenhouse", "--account", "acme")
	if res.code != 0 {
		t.Fatalf("sources create = %d: %s", res.code, res.stderr)
	}
	m := regexp.MustCompile(`(?m)^  (http://\S+/in/(src_\S+))$`).FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("no ingest URL in:\n%s", res.stdout)
	}
	for _, want := range []string{"Connected CLI Greenhouse (" + m[2] + "), a Greenhouse source.", "In Greenhouse:", "Configure → Dev Center → Web Hooks",
		"Endpoint URL: " + m[1], "hirehook sources requests " + m[2]} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout+res.stderr, "gh-cli-secret") {
		t.Fatal("sources create printed the signing secret")
	}
	event, err := os.ReadFile(filepath.Join("..", "..", "connector", "greenhouse", "testdata", "candidate_stage_change.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", m[1], bytes.NewReader(event))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Signature", greenhouse.Sign(event, "gh-cli-secret"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a webhook signed with the secret given to the CLI = %d", resp.StatusCode)
	}

	// A secret from a file; the generic kind's scheme flags.
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("hmac-file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noSecretEnv := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey}
	res = runCLI(t, noSecretEnv, "sources", "create", "--kind", "generic", "--name", "Payroll", "--signing-secret-file", secretFile,
		"--scheme", "hmac", "--signature-header", "X-Signature", "--disabled", "--json")
	if res.code != 0 || !strings.Contains(res.stdout, `"scheme": "hmac"`) || !strings.Contains(res.stdout, `"enabled": false`) {
		t.Fatalf("generic create = %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}

	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--kind", "bullhorn", "--name", "B"}, env, "bullhorn is polled by the hub, not pushed"},
		{[]string{"--kind", "icims", "--name", "I"}, env, `--kind "icims": must be one of greenhouse, lever`},
		{[]string{"--kind", "lever", "--name", "L"}, noSecretEnv, "the signing secret is required: the one Lever signs its webhooks with"},
		{[]string{"--kind", "lever"}, env, "--name is required"},
		{[]string{"--kind", "generic", "--name", "G"}, env, "config.signing_secret"}, // the API's answer, naming the field
	} {
		res := runCLI(t, tc.env, append([]string{"sources", "create"}, tc.args...)...)
		if res.code == 0 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("sources create %v = %d, stderr %q; want an error with %q", tc.args, res.code, res.stderr, tc.want)
		}
	}
	list, err := hub.Store.SourceList(t.Context(), hirehook.SourceFilter{TenantID: hirehook.DefaultTenantID, Limit: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("%d sources after the CLI, want 2 (%v)", len(list), err)
	}
}
