package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestDemoCommand runs the command line: flags, --exit, and a bad flag.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"demo", "--exit", "--addr", "127.0.0.1:0", "--poll-interval", "100ms"}, os.Getenv, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "end to end, approved in Bullhorn → welcome email received: ") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"demo", "--placements", "0"}, os.Getenv, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "--placements") {
		t.Fatalf("--placements 0: exit %d, stderr %q", code, stderr.String())
	}
}
