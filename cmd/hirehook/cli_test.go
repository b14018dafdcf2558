package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/seal"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
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
	row := regexp.MustCompile(`(?m)^` + epID + `\s+http\s+` + regexp.QuoteMeta(rc.URL+"/onboarding") + `\s+placement\.\*,offer\.signed\s+no$`)
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
	res = runCLI(t, env, "deliveries", "retry", d.ID, "--hub-url", hub.URL())
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
		res := runCLI(t, env, "endpoints", "list", "--hub-url", "http://127.0.0.1:1")
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
		if res := runCLI(t, env, "deliveries", "help"); res.code != 0 || !regexp.MustCompile(`(?m)^  retry\s+Make a delivery due now`).MatchString(res.stdout) {
			t.Errorf("deliveries help: exit %d", res.code)
		}
	})
}

// TestCLIHelp walks every command's --help: one sentence saying what it
// does, then "Usage: hirehook <command>", then its own flags and no
// other's, in --flag style, then the HIREHOOK_* variables it reads. And
// `hirehook --help` lists every command and the docs pages.
func TestCLIHelp(t *testing.T) {
	t.Parallel()
	remote := []string{"api-key-file", "hub-url", "json"}
	remoteEnv := []string{"HIREHOOK_URL", "HIREHOOK_API_KEY", "HIREHOOK_API_KEY_FILE"}
	with := func(a []string, b ...string) []string { return append(append([]string(nil), a...), b...) }
	serve := []string{"addr", "admin-key", "allow-broker-hosts", "allow-private-destinations", "api-rate-limit", "db", "delivery-lease", "delivery-timeout",
		"disable-failing-after", "encryption-key", "endpoint-concurrency", "ingest-timeout", "log-format", "log-level", "max-body-bytes",
		"previous-encryption-keys", "public-url", "retention-interval", "retry-schedule", "shutdown-timeout", "source-lease"}
	twins := func(flags []string) []string {
		var env []string
		for _, f := range flags {
			v := "HIREHOOK_" + strings.ToUpper(strings.ReplaceAll(f, "-", "_"))
			env = append(env, v)
			if f == "admin-key" || strings.HasSuffix(f, "encryption-key") || strings.HasSuffix(f, "encryption-keys") {
				env = append(env, v+"_FILE")
			}
		}
		return env
	}
	rotate := []string{"db", "encryption-key", "log-format", "log-level", "previous-encryption-keys"}
	endpoint := with(remote, "config", "credential", "description", "event-types", "filter", "max-concurrency", "ordered", "payload", "rate-limit", "redact", "transform", "url")
	cases := []struct {
		cmd   string
		flags []string
		env   []string
	}{
		{"serve", serve, twins(serve)},
		{"config", serve, twins(serve)},
		{"rotate-encryption-key", rotate, twins(rotate)},
		{"migrate-store", []string{"encryption-key", "from", "from-encryption-key", "from-previous-encryption-keys", "to"}, []string{"HIREHOOK_ENCRYPTION_KEY"}},
		{"version", nil, nil},
		{"demo", []string{"addr", "exit", "placements", "poll-interval", "timeout"}, nil},
		{"listen", []string{"addr", "port", "secret", "status"}, []string{"HIREHOOK_LISTEN_SECRET"}},
		{"sim bullhorn", []string{"addr", "client-id", "client-secret", "password", "seed-demo", "username"}, nil},
		{"bench", []string{"backlog", "batch", "concurrency", "cpuprofile", "db", "duration", "endpoint-concurrency", "endpoint-up",
			"endpoints", "events", "hub-binary", "hub-process", "kafka-brokers", "mode", "nats-servers", "nodes", "rabbitmq-address", "rate", "trace"}, nil},
		{"events send", with(remote, "data", "file", "id", "idempotency-key", "source", "type"), remoteEnv},
		{"endpoints list", remote, remoteEnv},
		{"endpoints get", remote, remoteEnv},
		{"endpoints create", with(endpoint, "kind"), remoteEnv},
		{"endpoints update", endpoint, remoteEnv},
		{"endpoints disable", remote, remoteEnv},
		{"endpoints enable", remote, remoteEnv},
		{"endpoints delete", remote, remoteEnv},
		{"endpoints test", remote, remoteEnv},
		{"deliveries list", with(remote, "after", "endpoint-id", "event-id", "limit", "state"), remoteEnv},
		{"deliveries retry", remote, remoteEnv},
		{"sources list", remote, remoteEnv},
		{"sources create", with(remote, "account", "disabled", "kind", "name", "previous-signing-secret-file", "scheme", "signature-encoding",
			"signature-header", "signature-prefix", "signing-secret-file", "vendor-api-key-file", "vendor-api-url"), append(append([]string{}, remoteEnv...), "HIREHOOK_SIGNING_SECRET")},
		{"sources requests", with(remote, "after", "limit", "status"), remoteEnv},
		{"sources reprocess", with(remote, "from", "since", "to"), remoteEnv},
	}
	sentence := regexp.MustCompile(`^[A-Z][^\n]*\.$`)
	flagLine := regexp.MustCompile(`^  --([a-z0-9-]+)`)
	envName := regexp.MustCompile(`HIREHOOK_[A-Z_]+`)
	noEnv := map[string]string{}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.cmd, " ", "_"), func(t *testing.T) {
			res := runCLI(t, noEnv, append(strings.Fields(c.cmd), "--help")...)
			if res.code != 0 || res.stderr != "" {
				t.Fatalf("exit %d, stderr %q: want the help on stdout and exit 0", res.code, res.stderr)
			}
			lines := strings.Split(res.stdout, "\n")
			if len(lines) < 3 || !sentence.MatchString(lines[0]) || lines[1] != "" || !strings.HasPrefix(lines[2], "Usage: hirehook "+c.cmd) {
				t.Fatalf("want a sentence, a blank line and \"Usage: hirehook %s\" first; got:\n%s", c.cmd, res.stdout)
			}
			var flags, env []string
			section := ""
			for _, l := range lines[3:] {
				switch {
				case l == "Flags:" || l == "Environment:":
					section = l
				case regexp.MustCompile(`^\s+-[a-z]`).MatchString(l):
					t.Errorf("a flag in -flag style, want --flag: %q", l)
				case section == "Flags:" && flagLine.MatchString(l):
					flags = append(flags, flagLine.FindStringSubmatch(l)[1])
				case section == "Environment:" && strings.HasPrefix(l, "  HIREHOOK_"):
					env = append(env, envName.FindString(l))
				}
			}
			slices.Sort(flags)
			want := slices.Sorted(slices.Values(c.flags))
			if !slices.Equal(flags, want) {
				t.Errorf("flags\n got %v\nwant %v", flags, want)
			}
			slices.Sort(env)
			wantEnv := slices.Sorted(slices.Values(c.env))
			if !slices.Equal(env, wantEnv) {
				t.Errorf("environment\n got %v\nwant %v", env, wantEnv)
			}
		})
	}

	// hirehook --help: a line per command, the docs pages, nothing unknown.
	res := runCLI(t, noEnv, "--help")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "hirehook ") || !strings.Contains(res.stdout, "Usage: hirehook <command> [flags]") {
		t.Fatalf("hirehook --help: exit %d\n%s", res.code, res.stdout)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z][a-z-]*(?: [a-z-]+)?)\s{2,}[A-Z]`).FindAllStringSubmatch(res.stdout, -1) {
		listed[m[1]] = true
	}
	for _, c := range cases {
		if !listed[c.cmd] {
			t.Errorf("hirehook --help does not list %q with its sentence", c.cmd)
		}
		delete(listed, c.cmd)
	}
	if len(listed) > 0 {
		t.Errorf("hirehook --help lists commands this test does not know: %v", listed)
	}
	for _, page := range []string{"docs/cli.md", "docs/api.md", "docs/configuration.md", "docs/connectors.md", "docs/routing.md",
		"docs/tenants-and-keys.md", "docs/postgresql.md", "docs/performance.md", "docs/architecture.md"} {
		if !strings.Contains(res.stdout, page) {
			t.Errorf("hirehook --help does not point to %s", page)
		}
	}
	// A group's help lists its commands; a wrong flag points to --help.
	for _, group := range []string{"events", "endpoints", "deliveries", "sources", "sim"} {
		res := runCLI(t, noEnv, group, "--help")
		if res.code != 0 || !sentence.MatchString(strings.SplitN(res.stdout, "\n", 2)[0]) || !strings.Contains(res.stdout, "Usage: hirehook "+group+" <") {
			t.Errorf("hirehook %s --help: exit %d\n%s", group, res.code, res.stdout)
		}
	}
	res = runCLI(t, noEnv, "deliveries", "list", "--url", "http://x")
	if res.code == 0 || !strings.Contains(res.stderr, "not defined: --url; the hub's address is --hub-url (or HIREHOOK_URL) (see hirehook deliveries list --help)") {
		t.Errorf("--url on deliveries list: exit %d, stderr %q", res.code, res.stderr)
	}
}

// getMap GETs path from the hub with the test key into a map.
func getMap(tb testing.TB, base, path string) (int, map[string]any) {
	tb.Helper()
	var out map[string]any
	st := call(tb, base, "GET", path, nil, &out)
	return st, out
}

// TestCLIEndpointsUpdateDisableEnableDelete: endpoints update changes only
// the flags given, disable pauses the deliveries, enable sends them, and
// delete removes the endpoint.
func TestCLIEndpointsUpdateDisableEnableDelete(t *testing.T) {
	t.Parallel()
	// The first attempt fails and the next is an hour away, so the
	// delivery waits while the endpoint is disabled, and enabling it
	// makes it due at once.
	hub := startHub(t, func(c *Config) { c.RetrySchedule = []time.Duration{time.Hour} })
	rc := newReceiver(t, func(n int) int {
		if n == 1 {
			return 503
		}
		return 200
	})
	env := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey}
	res := runCLI(t, env, "endpoints", "create", "--url", rc.URL+"/a", "--event-types", "placement.confirmed",
		"--description", "onboarding", "--filter", `.data.id != "pl_skip"`)
	if res.code != 0 {
		t.Fatalf("endpoints create: exit %d", res.code)
	}
	id := field(t, res.stdout, "id")
	endpoint := func() map[string]any {
		t.Helper()
		st, ep := getMap(t, hub.URL(), "/v1/endpoints/"+id)
		if st != 200 {
			t.Fatalf("GET endpoint: %d", st)
		}
		return ep
	}

	// Only the flags given change; a flag given empty clears its setting.
	res = runCLI(t, env, "endpoints", "update", id, "--url", rc.URL+"/b", "--description", "", "--rate-limit", "5", "--max-concurrency", "3")
	if res.code != 0 || field(t, res.stdout, "url") != rc.URL+"/b" || field(t, res.stdout, "concurrency") != "3" || !regexp.MustCompile(`(?m)^rate limit\s+5/s$`).MatchString(res.stdout) {
		t.Fatalf("endpoints update: exit %d\n%s", res.code, res.stdout)
	}
	ep := endpoint()
	if ep["url"] != rc.URL+"/b" || ep["description"] != "" || ep["filter"] != `.data.id != "pl_skip"` ||
		fmt.Sprint(ep["event_types"]) != "[placement.confirmed]" || ep["rate_limit_per_second"] != 5.0 || ep["max_concurrency"] != 3.0 {
		t.Fatalf("after update: %v", ep)
	}
	res = runCLI(t, env, "endpoints", "update", "--filter", "", "--rate-limit", "none", id, "--json")
	var updated hirehook.Endpoint
	if err := json.Unmarshal([]byte(res.stdout), &updated); res.code != 0 || err != nil || updated.Filter != "" || updated.RateLimitPerSecond != nil || updated.URL != rc.URL+"/b" {
		t.Fatalf("update --json: exit %d, %v, %+v", res.code, err, updated)
	}

	// Wrong use fails before anything is sent, naming what is missing.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"endpoints", "update", id}, "nothing to change"},
		{[]string{"endpoints", "update", "--url", "https://x.example"}, "give one endpoint id"},
		{[]string{"endpoints", "update", id, "--rate-limit", "fast"}, "--rate-limit"},
		{[]string{"endpoints", "update", id, "--event-types", ""}, "event_types"},
		{[]string{"endpoints", "update", "ep_nope", "--description", "x"}, "not_found"},
		{[]string{"endpoints", "disable"}, "give one endpoint id"},
		{[]string{"endpoints", "enable", "ep_nope"}, "not_found"},
	} {
		if res := runCLI(t, env, c.args...); res.code == 0 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("hirehook %s: exit %d, stderr %q, want it to name %q", strings.Join(c.args, " "), res.code, res.stderr, c.want)
		}
	}
	if ep := endpoint(); ep["url"] != rc.URL+"/b" || ep["rate_limit_per_second"] != nil {
		t.Fatalf("a refused update changed the endpoint: %v", ep)
	}

	// Disabled, its waiting delivery is paused; enabled, it is sent.
	acc := sendEvent(t, hub.URL(), placement("pl_1"))
	waitFor(t, 10*time.Second, "the first attempt to fail", func() bool {
		return deliveryOf(t, hub.URL(), acc.ID).State == hirehook.DeliveryRetrying
	})
	res = runCLI(t, env, "endpoints", "disable", id, "--hub-url", hub.URL())
	if res.code != 0 || field(t, res.stdout, "disabled") != "yes" {
		t.Fatalf("endpoints disable: exit %d\n%s", res.code, res.stdout)
	}
	if st := deliveryOf(t, hub.URL(), acc.ID).State; st != hirehook.DeliveryPaused {
		t.Fatalf("after disable the delivery is %s, want paused", st)
	}
	if res := runCLI(t, env, "endpoints", "list"); !regexp.MustCompile(`(?m)^` + id + `\s+http\s+\S+\s+placement\.confirmed\s+yes$`).MatchString(res.stdout) {
		t.Fatalf("endpoints list does not show it disabled:\n%s", res.stdout)
	}
	res = runCLI(t, env, "endpoints", "enable", id)
	if res.code != 0 || field(t, res.stdout, "disabled") != "no" {
		t.Fatalf("endpoints enable: exit %d\n%s", res.code, res.stdout)
	}
	waitFor(t, 10*time.Second, "the paused delivery to be sent", func() bool {
		return deliveryOf(t, hub.URL(), acc.ID).State == hirehook.DeliveryDelivered
	})
	if got := rc.got(); len(got) != 2 {
		t.Fatalf("the receiver got %d webhooks, want 2 (the failed one and the resumed one)", len(got))
	}

	// Deleted, it is gone; deleting it again is not_found.
	res = runCLI(t, env, "endpoints", "delete", id)
	if res.code != 0 || !strings.Contains(res.stdout, "endpoint "+id+" deleted") {
		t.Fatalf("endpoints delete: exit %d\n%s", res.code, res.stdout)
	}
	if st, _ := getMap(t, hub.URL(), "/v1/endpoints/"+id); st != 404 {
		t.Fatalf("GET a deleted endpoint: %d, want 404", st)
	}
	if res := runCLI(t, env, "endpoints", "delete", id); res.code == 0 || !strings.Contains(res.stderr, "not_found") {
		t.Fatalf("delete twice: exit %d, stderr %q", res.code, res.stderr)
	}
	if res := runCLI(t, env, "endpoints", "list"); !strings.HasPrefix(res.stdout, "no endpoints") {
		t.Fatalf("endpoints list after delete:\n%s", res.stdout)
	}
}

// TestCLIDeliveriesListLastAttempt: deliveries list shows each delivery's
// last attempt: status, latency and the start of the answer (or why there
// was none), as a table and in --json; on SQLite and PostgreSQL.
func TestCLIDeliveriesListLastAttempt(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testDeliveriesListLastAttempt(t, startHub(t, nil))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testDeliveriesListLastAttempt(t, startPostgresHub(t, postgrestest.NewDatabase(t), seal.NewKey()))
	})
}

func testDeliveriesListLastAttempt(t *testing.T, hub *Hub) {
	// A receiver that is down, and says so at length: 300 bytes over three
	// lines, with a two-byte character across byte 200.
	down := "Service Unavailable\n\n  the onboarding system is down for maintenance (1h): " + strings.Repeat("é", 150)
	downSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, down)
	}))
	t.Cleanup(downSrv.Close)
	up := newReceiver(t, nil) // answers 200 "answer 1"
	env := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey}
	downEp := createEndpoint(t, hub.URL(), downSrv.URL+"/onboarding", "placement.confirmed")
	upEp := createEndpoint(t, hub.URL(), up.URL+"/payroll", "placement.confirmed")
	acc := sendEvent(t, hub.URL(), placement("pl_1"))
	waitFor(t, 20*time.Second, "both deliveries to settle", func() bool {
		_, ev := getMap(t, hub.URL(), "/v1/deliveries?event_id="+acc.ID)
		n := 0
		for _, d := range ev["data"].([]any) {
			if s := d.(map[string]any)["state"]; s == "failed" || s == "delivered" {
				n++
			}
		}
		return n == 2
	})

	res := runCLI(t, env, "deliveries", "list", "--event-id", acc.ID)
	if res.code != 0 {
		t.Fatalf("deliveries list: exit %d", res.code)
	}
	header := regexp.MustCompile(`^ID\s+EVENT\s+TYPE\s+ENDPOINT\s+STATE\s+ATTEMPTS\s+STATUS\s+LATENCY\s+NEXT ATTEMPT\s+RESPONSE\n`)
	failedRow := regexp.MustCompile(`(?m)^dlv_\S+\s+` + acc.ID + `\s+placement\.confirmed\s+` + downEp.ID +
		`\s+failed\s+4\s+503\s+[0-9.]+(µs|ms|s)\s+-\s+"Service Unavailable the onboarding syst…"$`)
	okRow := regexp.MustCompile(`(?m)^dlv_\S+\s+` + acc.ID + `\s+placement\.confirmed\s+` + upEp.ID +
		`\s+delivered\s+1\s+200\s+[0-9.]+(µs|ms|s)\s+-\s+"answer 1"$`)
	if !header.MatchString(res.stdout) || !failedRow.MatchString(res.stdout) || !okRow.MatchString(res.stdout) {
		t.Fatalf("deliveries list printed:\n%s", res.stdout)
	}

	// --json has the same as the API: last_latency_ms and the first 200
	// bytes of the answer, cut before the character that does not fit.
	res = runCLI(t, env, "deliveries", "list", "--event-id", acc.ID, "--json")
	var page struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &page); err != nil || len(page.Data) != 2 {
		t.Fatalf("deliveries list --json: %v\n%s", err, res.stdout)
	}
	for _, d := range page.Data {
		_, full := getMap(t, hub.URL(), "/v1/deliveries/"+d["id"].(string))
		attempts := full["attempt_list"].([]any)
		last := attempts[len(attempts)-1].(map[string]any)
		if d["last_latency_ms"] == nil || d["last_latency_ms"] != last["latency_ms"] || full["last_latency_ms"] != last["latency_ms"] {
			t.Errorf("delivery %s: last_latency_ms %v (GET: %v), want the last attempt's latency_ms %v", d["id"], d["last_latency_ms"], full["last_latency_ms"], last["latency_ms"])
		}
		excerpt, _ := d["last_response_excerpt"].(string)
		want := last["response_body"].(string)
		if d["endpoint_id"] == downEp.ID {
			want = down[:199] // byte 200 is the first half of an é
			if !utf8.ValidString(down[:199]) || utf8.ValidString(down[:200]) {
				t.Fatal("the test's body does not put a character across byte 200")
			}
		}
		if excerpt != want || full["last_response_excerpt"] != want {
			t.Errorf("delivery %s: last_response_excerpt %q (GET: %q), want %q", d["id"], excerpt, full["last_response_excerpt"], want)
		}
	}
}

// TestCLIEndpointsTest: endpoints test sends endpoint.tested to an endpoint
// that does not subscribe to it, and to no other endpoint.
func TestCLIEndpointsTest(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	tested, other := newReceiver(t, nil), newReceiver(t, nil)
	env := map[string]string{"HIREHOOK_URL": hub.URL(), "HIREHOOK_API_KEY": testKey}
	res := runCLI(t, env, "endpoints", "create", "--url", tested.URL, "--event-types", "placement.confirmed")
	if res.code != 0 {
		t.Fatalf("endpoints create: exit %d\n%s", res.code, res.stderr)
	}
	id := field(t, res.stdout, "id")
	if res := runCLI(t, env, "endpoints", "create", "--url", other.URL, "--event-types", "*"); res.code != 0 {
		t.Fatalf("endpoints create: exit %d\n%s", res.code, res.stderr)
	}
	res = runCLI(t, env, "endpoints", "test", id)
	if res.code != 0 || !strings.Contains(res.stdout, "is on its way to endpoint "+id+" only") {
		t.Fatalf("endpoints test: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	waitFor(t, 20*time.Second, "the test event at the tested endpoint", func() bool { return len(tested.got()) > 0 })
	if body := string(tested.got()[0].body); !strings.Contains(body, `"endpoint.tested"`) || !strings.Contains(body, id) {
		t.Fatalf("the tested endpoint got %s", body)
	}
	// The other endpoint subscribes to everything; the test was not for it.
	// Its absence is checked through the event's deliveries, which the hub
	// wrote in the same commit as the event.
	eventID := regexp.MustCompile(`test event (\S+)`).FindStringSubmatch(res.stdout)[1]
	st, ev := getMap(t, hub.URL(), "/v1/events/"+eventID)
	if st != 200 {
		t.Fatalf("GET event: %d", st)
	}
	if ds, _ := ev["delivery_list"].([]any); len(ds) != 1 {
		t.Fatalf("the test event has %d deliveries, want 1 (the tested endpoint's): %v", len(ds), ev["delivery_list"])
	}
	if res := runCLI(t, env, "endpoints", "test", "ep_nope"); res.code == 0 || !strings.Contains(res.stderr, "not_found") {
		t.Fatalf("endpoints test of an unknown endpoint: exit %d\n%s", res.code, res.stderr)
	}
}
