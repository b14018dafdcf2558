//go:build !windows

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hirehook/hirehook/internal/testwait"
)

// TestQuickstart runs the README's quickstart as written, so that the two
// cannot drift: the shell block between <!-- quickstart-hub --> and
// <!-- /quickstart-hub --> starts the hub (on a free port, through
// HIREHOOK_URL, as a newcomer on a port other than 8080 would), and the
// blocks between <!-- quickstart --> and <!-- /quickstart --> run in one
// bash, with the hirehook binary built from this checkout first on PATH.
// Every command must succeed (set -e; curl fails on an HTTP error) and the
// receiver the quickstart starts must print the placement with a valid
// signature.
//
// Only the receiver's port is changed (9000 in the README, a free port
// here), so that the test never collides with whatever holds 9000.
func TestQuickstart(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "grep", "tee"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("HIREHOOK_REQUIRE_QUICKSTART") == "1" {
				t.Fatalf("the quickstart needs %s on PATH: %v (HIREHOOK_REQUIRE_QUICKSTART=1)", tool, err)
			}
			t.Skipf("the quickstart needs %s on PATH: %v", tool, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	hubScript := markedShell(t, string(readme), "quickstart-hub")
	script := markedShell(t, string(readme), "quickstart")
	if !strings.Contains(script, "9000") {
		t.Fatal("the quickstart no longer puts its receiver on port 9000; update this test's port substitution")
	}
	script = strings.ReplaceAll(script, "9000", strconv.Itoa(freePort(t)))

	binDir := buildHirehook(t)
	dir := t.TempDir()
	hubURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	env := []string{"HIREHOOK_URL=" + hubURL, "PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		// The README's commands must work without anything the test's
		// environment happens to carry (HIREHOOK_API_KEY, HIREHOOK_DB, …).
		if !strings.HasPrefix(kv, "HIREHOOK_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}

	hubOut := startShell(t, "the quickstart's hub", hubScript, dir, env)
	testwait.For(t, 2*time.Minute, "the hub to answer "+hubURL+"/readyz", func() bool {
		resp, err := http.Get(hubURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, func() string { return "--- the hub printed:\n" + hubOut.String() })

	// set -e and pipefail stop at the first failing command; curl fails on
	// an HTTP error status, as it would not by default.
	prelude := "set -euo pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n"
	out := startShell(t, "the quickstart", prelude+script, dir, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	select {
	case err := <-out.done:
		if err != nil {
			t.Fatalf("the quickstart failed: %v\n--- its output:\n%s\n--- the hub's:\n%s", err, out.String(), hubOut.String())
		}
	case <-ctx.Done():
		t.Fatalf("the quickstart did not finish in 2 minutes\n--- its output:\n%s", out.String())
	}
	if !regexp.MustCompile(`"deliveries":\s*1\b`).MatchString(out.String()) {
		t.Errorf("the event's answer should say \"deliveries\": 1\n--- output:\n%s", out.String())
	}
	for _, want := range []string{"secret", "pl_1001", "placement.confirmed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the quickstart's output lacks %q\n--- output:\n%s", want, out.String())
		}
	}
	// The receiver runs in the background: what it prints may come after
	// the script ends (a first attempt that found it not yet listening is
	// retried 5 s later).
	testwait.ForOutput(t, time.Minute, "the receiver to print the placement with a valid signature", &out.Buffer, func() bool {
		s := out.String()
		return strings.Contains(s, "POST /onboarding  placement.confirmed") && strings.Contains(s, "signature valid")
	})
	if strings.Contains(out.String(), "signature INVALID") {
		t.Errorf("the receiver saw an invalid signature\n--- output:\n%s", out.String())
	}
}

// TestFirstStartPrintsExports checks the message of a first start without
// --admin-key: it gives the export lines that the README's commands use,
// and they work.
func TestFirstStartPrintsExports(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout testwait.Buffer
	done := make(chan int, 1)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(t.TempDir(), "hirehook.db")}
	go func() { done <- run(ctx, args, func(string) string { return "" }, &stdout, tbWriter{t}) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	exports := regexp.MustCompile(`(?m)^ +export HIREHOOK_URL=(http://127\.0\.0\.1:\d+)\n +export HIREHOOK_API_KEY=(hh_\S+)$`)
	testwait.ForOutput(t, time.Minute, "the first-start message", &stdout, func() bool {
		return strings.Contains(stdout.String(), "/v1/event-types")
	})
	m := exports.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("the first-start message should give the export lines of HIREHOOK_URL and HIREHOOK_API_KEY\n--- it printed:\n%s", stdout.String())
	}
	if want := `curl -H "Authorization: Bearer $HIREHOOK_API_KEY" "$HIREHOOK_URL/v1/event-types"`; !strings.Contains(stdout.String(), want) {
		t.Errorf("the message should show %s\n--- it printed:\n%s", want, stdout.String())
	}
	req, _ := http.NewRequest("GET", m[1]+"/v1/event-types", nil)
	req.Header.Set("Authorization", "Bearer "+m[2])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/event-types with the printed URL and key: %s, want 200", resp.Status)
	}
}

// markedShell returns the fenced sh blocks between <!-- name --> and
// <!-- /name --> in a Markdown document, joined into one script.
func markedShell(tb testing.TB, doc, name string) string {
	tb.Helper()
	open, closing := "<!-- "+name+" -->", "<!-- /"+name+" -->"
	start := strings.Index(doc, open)
	end := strings.Index(doc, closing)
	if start < 0 || end < start {
		tb.Fatalf("README.md has no %s … %s section", open, closing)
	}
	var script strings.Builder
	blocks := 0
	in := false
	for _, line := range strings.Split(doc[start+len(open):end], "\n") {
		switch {
		case !in && (line == "```sh" || line == "```bash"):
			in = true
			blocks++
		case in && line == "```":
			in = false
		case in:
			script.WriteString(line + "\n")
		}
	}
	if blocks == 0 || in {
		tb.Fatalf("README.md's %s section should hold whole ```sh blocks (found %d, unclosed %t)", name, blocks, in)
	}
	return script.String()
}

// buildHirehook builds this package's binary into a temporary folder and
// returns the folder. It builds with -race when the test binary has it, so
// that the packages the test build compiled are reused from the cache.
func buildHirehook(tb testing.TB) string {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("building hirehook needs the go command: %v", err)
	}
	dir := tb.TempDir()
	args := []string{"build", "-o", filepath.Join(dir, "hirehook")}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	out, err := exec.Command(goBin, append(args, ".")...).CombinedOutput()
	if err != nil {
		tb.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return dir
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// shellRun is a bash script started by startShell: what it (and anything
// it left in the background) printed, and its exit.
type shellRun struct {
	testwait.Buffer
	done chan error
}

// startShell runs script with bash in its own process group, which is
// killed at cleanup (with whatever the script left running).
func startShell(tb testing.TB, what, script, dir string, env []string) *shellRun {
	tb.Helper()
	// A pipe rather than a file: `tee /dev/stderr` reopens its stderr,
	// which on a file would truncate it. The pipe's write end goes to the
	// script only, so Wait returns when bash exits even while a background
	// job still writes.
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w.Close()
	run := &shellRun{done: make(chan error, 1)}
	copied := make(chan struct{})
	go func() {
		io.Copy(&run.Buffer, r)
		close(copied)
	}()
	go func() { run.done <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-copied:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-copied
		}
		r.Close()
		tb.Logf("%s printed:\n%s", what, run.String())
	})
	return run
}
