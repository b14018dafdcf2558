package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestBenchFanoutRuns(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "--mode", "fanout", "--events", "40", "--endpoints", "5", "--concurrency", "4"}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"40 events × 5 endpoints = 200 deliveries", "delivered:     200 deliveries", "(0 duplicates)", "baseline:"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("bench output lacks %q:\n%s", want, out.String())
		}
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
