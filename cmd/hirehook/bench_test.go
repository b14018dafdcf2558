package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hirehook/hirehook/internal/testbroker"
)

func TestBenchFanoutRuns(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "fanout", "--events", "40", "--endpoints", "5", "--concurrency", "4"}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"40 events × 5 endpoints = 200 deliveries", "delivered:     200 deliveries", "(0 duplicates)", "hub CPU:", "µs/delivery", "baseline:"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBenchHubProcessRuns runs a small burst with the hub and the relay in
// child processes (the default; under go test they are this test binary,
// see TestMain): both report their CPU per event, the hub's CPU profile is
// written, and the run's admin key, which the child gets through its
// environment, shows nowhere.
func TestBenchHubProcessRuns(t *testing.T) {
	t.Parallel()
	profile := filepath.Join(t.TempDir(), "hub.pprof")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "burst", "--events", "200", "--concurrency", "4", "--cpuprofile", profile}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s\n%s", code, errOut.String(), out.String())
	}
	for _, want := range []string{"burst: 200 events", "delivered:    200 events", "(0 duplicates)", "in the hub's process from the first POST to the last receipt",
		"the bench's producer and receiver:", "through a bare relay in a process of its own", "relay CPU:", "the hub used"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bench output lacks %q:\n%s", want, out.String())
		}
	}
	// The figures are whatever the machine gives, but a hub that delivered
	// 200 events used some CPU.
	for _, line := range []string{"hub CPU:", "relay CPU:"} {
		m := regexp.MustCompile(regexp.QuoteMeta(line) + `\s+(\d+) µs/event \(user \d+, system \d+;`).FindStringSubmatch(out.String())
		if m == nil || m[1] == "0" {
			t.Errorf("bench output has no %s with a positive µs/event:\n%s", line, out.String())
		}
	}
	if strings.Contains(out.String()+errOut.String(), "hh_bench_") {
		t.Errorf("bench output shows its admin key:\n%s\n%s", out.String(), errOut.String())
	}
	// The hub wrote its profile when it stopped: a gzipped protobuf.
	b, err := os.ReadFile(profile)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("the hub's CPU profile %s: %d bytes, %v; want a gzipped pprof profile", profile, len(b), err)
	}
}

// TestBenchInProcessRuns runs the burst with --hub-process=false: the hub
// in the bench's process, as before, and no CPU figures.
func TestBenchInProcessRuns(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "burst", "--events", "100", "--concurrency", "4", "--hub-process=false"}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s\n%s", code, errOut.String(), out.String())
	}
	if !strings.Contains(out.String(), "delivered:    100 events") || !strings.Contains(out.String(), "bare relay in this process") {
		t.Fatalf("bench output:\n%s", out.String())
	}
	if strings.Contains(out.String(), "CPU:") {
		t.Fatalf("bench --hub-process=false reports a CPU figure it cannot have:\n%s", out.String())
	}
}

func TestBenchBacklogRuns(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "backlog", "--backlog", "500", "--batch", "10", "--concurrency", "4"}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"backlog: 500 deliveries", "500 deliveries unfinished", "empty-hub rate", "peak", "the probe that found it back); 500 deliveries in", "(0 duplicates)", "baseline:"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBenchBacklogControlRuns(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "backlog", "--backlog", "500", "--batch", "10", "--concurrency", "4", "--endpoint-up"}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"backlog control: 500 events", "with 450 stored", "empty-hub rate", "delivered: 500 of 500 (0 duplicates)"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBenchBrokerModesRun runs each broker mode with a small burst: the
// hub's deliveries must all reach the broker and the direct run must
// report its rate and the ratio. RabbitMQ and NATS are the machine's
// (failing when they are not there, unless HIREHOOK_SKIP_BROKERS=1);
// Kafka and Pub/Sub run in the bench's process.
func TestBenchBrokerModesRun(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"kafka", "rabbitmq", "nats", "gcp_pubsub"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			if mode == "rabbitmq" || mode == "nats" {
				testbroker.Dial(t, mode, map[string]string{"rabbitmq": testbroker.RabbitMQAddr(), "nats": testbroker.NATS}[mode])
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"bench", "--mode", mode, "--events", "60", "--concurrency", "4", "--endpoint-concurrency", "4"}, func(string) string { return "" }, &out, &errOut)
			if code != 0 {
				t.Fatalf("bench --mode %s exited %d: %s\n%s", mode, code, errOut.String(), out.String())
			}
			for _, want := range []string{mode + ": 60 events through the hub to one endpoint", "max_concurrency 4", "(0 requests failed)",
				"delivered:     60 messages held by the broker", "direct:        60 messages (the hub's body", "from 4 goroutines", "ratio:"} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("bench output lacks %q:\n%s", want, out.String())
				}
			}
			if strings.Contains(out.String()+errOut.String(), "guest:guest") {
				t.Fatalf("bench output shows the RabbitMQ credentials:\n%s\n%s", out.String(), errOut.String())
			}
		})
	}
}

func TestBenchBrokerModeErrorHidesCredentials(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: the error must name the address, never
	// the AMQP URL with its password.
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "rabbitmq", "--rabbitmq-address", "127.0.0.1:1", "--events", "5"}, func(string) string { return "" }, &out, &errOut)
	if code == 0 {
		t.Fatalf("bench against a dead RabbitMQ address exited 0:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "127.0.0.1:1") {
		t.Fatalf("the error does not name the address: %s", errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), "guest:guest") || strings.Contains(out.String()+errOut.String(), "amqp://") {
		t.Fatalf("the error shows the AMQP URL or its credentials: %s", errOut.String())
	}
}
