package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

// cliResult is what one CLI run printed.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI with env as its whole environment and fails the test
// if anything it printed holds an API key it was given.
func runCLI(tb testing.TB, env map[string]string, args ...string) cliResult {
	tb.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	res := cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
	for _, k := range []string{env["HIREHOOK_API_KEY"], testKey} {
		if k != "" && (strings.Contains(res.stdout, k) || strings.Contains(res.stderr, k)) {
			tb.Fatalf("hirehook %s printed the API key:\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.stdout, res.stderr)
		}
	}
	tb.Logf("hirehook %s → %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, res.stdout, res.stderr)
	return res
}

// field returns the value after "name" at the start of a line of a
// two-column CLI answer ("id  evt_…").
func field(tb testing.TB, out, name string) string {
	tb.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("no %q in output:\n%s", name, out)
	}
	return m[1]
}

func placementData(tb testing.TB, id string) string {
	tb.Helper()
	b, err := json.Marshal(placement(id)["data"])
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestCLIEndpointsEventsDeliveries(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil) // 3 retries 10 ms apart
	var mu sync.Mutex
	down := true
	rc := newReceiver(t, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 503
		}
		return 204
	})
	env := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey}

	// Subscribe the receiver.
	res := runCLI(t, env, "endpoints", "create", "--url", rc.URL+"/onboarding", "--event-types", "placement.*, offer.signed", "--description", "onboarding")
	if res.code != 0 {
		t.Fatalf("endpoints create: exit %d", res.code)
	}
	epID, secret := field(t, res.stdout, "id"), field(t, res.stdout, "secret")
	if !strings.HasPrefix(secret, "whsec_") || !strings.Contains(res.stdout, "Keep the secret") {
		t.Fatalf("endpoints create printed:\n%s", res.stdout)
	}

	// It is listed, as a table and as JSON.
	res = runCLI(t, env, "endpoints", "list")
	if res.code != 0 {
		t.Fatalf("endpoints list: exit %d", res.code)
	}
	row := regexp.MustCompile(`(?m)^` + epID + `\s+` + regexp.QuoteMeta(rc.URL+"/onboarding") + `\s+placement\.\*,offer\.signed\s+no$`)
	if !strings.HasPrefix(res.stdout, "ID") || !row.MatchString(res.stdout) {
		t.Fatalf("endpoints list printed:\n%s", res.stdout)
	}
	res = runCLI(t, env, "endpoints", "list", "--json")
	var eps []hirehook.Endpoint
	if err := json.Unmarshal([]byte(res.stdout), &eps); err != nil || len(eps) != 1 || eps[0].ID != epID {
		t.Fatalf("endpoints list --json: %v, %+v", err, eps)
	}

	// Send an event; the receiver fails until every attempt is spent.
	res = runCLI(t, env, "events", "send", "--type", "placement.confirmed", "--data", placementData(t, "pl_1"),
		"--source", "bullhorn", "--idempotency-key", "bullhorn:pl_1:confirmed")
	if res.code != 0 {
		t.Fatalf("events send: exit %d", res.code)
	}
	evID := field(t, res.stdout, "id")
	if field(t, res.stdout, "deliveries") != "1" || field(t, res.stdout, "duplicate") != "false" {
		t.Fatalf("events send printed:\n%s", res.stdout)
	}
	// The same idempotency key again is a duplicate of the same event.
	res = runCLI(t, env, "events", "send", "--type", "placement.confirmed", "--data", placementData(t, "pl_1"),
		"--idempotency-key", "bullhorn:pl_1:confirmed")
	if field(t, res.stdout, "id") != evID || field(t, res.stdout, "duplicate") != "true" {
		t.Fatalf("repeat send printed:\n%s", res.stdout)
	}

	var d deliveryView
	waitFor(t, 10*time.Second, "the delivery to fail", func() bool {
		d = deliveryOf(t, hub.URL(), evID)
		return d.State == hirehook.DeliveryFailed
	})
	res = runCLI(t, env, "deliveries", "list", "--state", "failed", "--endpoint-id", epID)
	if res.code != 0 || !regexp.MustCompile(`(?m)^`+d.ID+`\s+`+evID+`\s+placement\.confirmed\s+`+epID+`\s+failed\s+4\s+503\s`).MatchString(res.stdout) {
		t.Fatalf("deliveries list printed:\n%s", res.stdout)
	}

	// Retry it once the receiver is back; the flag may follow the id.
	mu.Lock()
	down = false
	mu.Unlock()
	res = runCLI(t, env, "deliveries", "retry", d.ID, "--url", hub.URL())
	if res.code != 0 || !strings.Contains(res.stdout, "delivery "+d.ID+" queued") {
		t.Fatalf("deliveries retry: exit %d", res.code)
	}
	waitFor(t, 5*time.Second, "the retried delivery", func() bool {
		return deliveryOf(t, hub.URL(), evID).State == hirehook.DeliveryDelivered
	})
	got := rc.got()
	last := got[len(got)-1]
	if err := hirehook.Verify(last.header, last.body, time.Now(), secret); err != nil {
		t.Fatalf("the delivered webhook does not verify with the printed secret: %v", err)
	}
	res = runCLI(t, env, "deliveries", "list", "--event-id", evID, "--json")
	var page struct {
		Data []hirehook.Delivery `json:"data"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &page); err != nil || len(page.Data) != 1 || page.Data[0].State != hirehook.DeliveryDelivered {
		t.Fatalf("deliveries list --json: %v, %+v", err, page.Data)
	}
}

func TestCLIEventFromFileAndKeyFile(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	rc := newReceiver(t, nil)
	createEndpoint(t, hub.URL(), rc.URL, "placement.confirmed")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ev := placement("pl_7")
	ev["id"] = "evt_from_file_7"
	b, _ := json.Marshal(ev)
	evFile := filepath.Join(dir, "event.json")
	if err := os.WriteFile(evFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// No HIREHOOK_API_KEY: the key comes from the file named by the flag.
	env := map[string]string{"HIREHOOK_URL": hub.URL()}
	res := runCLI(t, env, "events", "send", "--file", evFile, "--api-key-file", keyFile)
	if res.code != 0 || field(t, res.stdout, "id") != "evt_from_file_7" || field(t, res.stdout, "deliveries") != "1" {
		t.Fatalf("events send --file: exit %d", res.code)
	}
	waitFor(t, 5*time.Second, "the delivery", func() bool { return len(rc.got()) == 1 })

	// … or from the one HIREHOOK_API_KEY_FILE names.
	env["HIREHOOK_API_KEY_FILE"] = keyFile
	if res := runCLI(t, env, "endpoints", "list"); res.code != 0 {
		t.Fatalf("endpoints list with HIREHOOK_API_KEY_FILE: exit %d", res.code)
	}

	// A file with a field the API does not know fails before sending.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"type":"placement.confirmed","data":{},"tpye":"x"}`), 0o600)
	res = runCLI(t, env, "events", "send", "--file", bad)
	if res.code == 0 || !strings.Contains(res.stderr, `unknown field "tpye"`) {
		t.Fatalf("bad file: exit %d", res.code)
	}
}

func TestCLIErrors(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	env := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey}

	t.Run("invalid event names the field", func(t *testing.T) {
		data := strings.Replace(placementData(t, "pl_1"), "ada@example.com", "not-an-email", 1)
		res := runCLI(t, env, "events", "send", "--type", "placement.confirmed", "--data", data)
		if res.code == 0 || res.stdout != "" {
			t.Fatalf("exit %d, stdout %q", res.code, res.stdout)
		}
		if !strings.Contains(res.stderr, "invalid (HTTP 4") ||
			!regexp.MustCompile(`(?m)^  field:\s+data\.candidate\.email$`).MatchString(res.stderr) ||
			!regexp.MustCompile(`(?m)^  request id:\s+\S+$`).MatchString(res.stderr) {
			t.Fatalf("stderr:\n%s", res.stderr)
		}
	})
	t.Run("wrong key is unauthorized", func(t *testing.T) {
		wrong := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": "hh_wrong_key_9876543210abcdef"}
		res := runCLI(t, wrong, "endpoints", "list")
		if res.code == 0 || !strings.Contains(res.stderr, "unauthorized") || !strings.Contains(res.stderr, "HIREHOOK_API_KEY") {
			t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
		}
	})
	t.Run("missing key says how to set it", func(t *testing.T) {
		res := runCLI(t, map[string]string{"HIREHOOK_URL": hub.URL()}, "deliveries", "list")
		if res.code == 0 || !strings.Contains(res.stderr, "export HIREHOOK_API_KEY=") {
			t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
		}
	})
	t.Run("unknown delivery", func(t *testing.T) {
		res := runCLI(t, env, "deliveries", "retry", "dlv_nope")
		if res.code == 0 || !strings.Contains(res.stderr, "not_found") {
			t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
		}
	})
	t.Run("no hub", func(t *testing.T) {
		res := runCLI(t, env, "endpoints", "list", "--url", "http://127.0.0.1:1")
		if res.code == 0 || !strings.Contains(res.stderr, "is the hub running at http://127.0.0.1:1?") {
			t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"events"}, {"events", "send"}, {"events", "send", "--type", "x", "--data", "{"},
			{"endpoints", "nope"}, {"endpoints", "create", "--url", "http://x"}, {"deliveries", "retry"},
		} {
			if res := runCLI(t, env, args...); res.code == 0 || res.stderr == "" {
				t.Errorf("hirehook %v: exit %d, stderr %q", args, res.code, res.stderr)
			}
		}
		if res := runCLI(t, env, "deliveries", "help"); res.code != 0 || !strings.Contains(res.stdout, "deliveries retry <delivery-id>") {
			t.Errorf("deliveries help: exit %d", res.code)
		}
	})
}
