package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook/internal/testwait"
)

// TestDemo runs the demo's flow with three placements and checks that each
// step happened exactly once per placement, in order, and that the output
// holds the timeline and the percentiles.
func TestDemo(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := demo(context.Background(), demoOptions{
		Addr: "127.0.0.1:0", Placements: 3, PollInterval: 100 * time.Millisecond, Spacing: 20 * time.Millisecond,
		Timeout: 15 * time.Second, Exit: true, TempDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Traces) != 3 || res.Events != 3 || res.Deliveries != 3 || res.NewHires != 3 || res.Mails != 3 {
		t.Fatalf("for 3 placements: %d traces, %d events, %d deliveries, %d new hires, %d emails",
			len(res.Traces), res.Events, res.Deliveries, res.NewHires, res.Mails)
	}
	seen := map[string]bool{}
	for _, tr := range res.Traces {
		if seen[tr.Placement] {
			t.Errorf("placement %s traced twice", tr.Placement)
		}
		seen[tr.Placement] = true
		if tr.Attempts != 1 || tr.AttemptStatus != 200 || len(tr.Packet) == 0 || tr.MailTo == "" {
			t.Errorf("placement %s: %d attempts, status %d, packet %v, mail to %q", tr.Placement, tr.Attempts, tr.AttemptStatus, tr.Packet, tr.MailTo)
		}
		// Each step after the one before (the hub stores times to the
		// microsecond, Bullhorn's event to the millisecond).
		steps := []time.Time{tr.Approved, tr.Read, tr.Ingested, tr.AttemptAt, tr.Created, tr.MailAt, tr.WelcomeSent}
		for i := 1; i < len(steps); i++ {
			if steps[i].Before(steps[i-1].Add(-time.Millisecond)) {
				t.Errorf("placement %s: step %d at %v is before step %d at %v", tr.Placement, i, steps[i], i-1, steps[i-1])
			}
		}
	}
	if res.Traces[0].Name != "Amara Okafor" || !slices.Contains(res.Traces[0].Packet, "IR35 status determination") {
		t.Errorf("first placement: %s, packet %v", res.Traces[0].Name, res.Traces[0].Packet)
	}
	for _, want := range []string{
		"placement approved in Bullhorn", "event read by the Bullhorn source", "placement.confirmed ingested by the hub",
		"delivered to the onboarding receiver (attempt 1 sent; answered 200", "new-hire record created", "compliance packet queued",
		"welcome email received by the SMTP sink (to candidate1@example.com)", "3 placements, approved 20ms apart",
		"end to end (approved in Bullhorn → welcome email received by the SMTP sink) over 3 placements: p50 ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "keeps running") {
		t.Error("with Exit the demo says it keeps running")
	}
}

// callKey GETs path with key and decodes the answer into out.
func callKey(tb testing.TB, base, key, path string, out any) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode
}

// TestDemoKeepsRunning runs `hirehook demo` without --exit: it prints the
// dashboard URL and the key, serves them, and stops cleanly, leaving no
// temporary files, when its context ends (Ctrl-C).
func TestDemoKeepsRunning(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &testwait.Buffer{}
	done := make(chan error, 1)
	go func() {
		_, err := demo(ctx, demoOptions{Addr: "127.0.0.1:0", Placements: 1, PollInterval: 100 * time.Millisecond, Timeout: 15 * time.Second, TempDir: tmp}, out)
		done <- err
	}()
	testwait.ForOutput(t, 15*time.Second, "the demo to say it keeps running", out, func() bool { return strings.Contains(out.String(), "Ctrl-C stops everything") })
	var dashboard, key string
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "dashboard" {
			dashboard = f[1]
		} else if len(f) == 3 && f[0] == "API" && f[1] == "key" {
			key = f[2]
		}
	}
	if !strings.HasPrefix(dashboard, "http://127.0.0.1:") || !strings.HasPrefix(key, "hh_") {
		t.Fatalf("dashboard %q, key %q in\n%s", dashboard, key, out.String())
	}
	// The key works against the running hub.
	base := strings.TrimSuffix(dashboard, "/")
	var page struct{ Data []struct{ Type string } }
	if st := callKey(t, base, key, "/v1/events?type=placement.confirmed", &page); st != 200 || len(page.Data) != 1 {
		t.Fatalf("GET /v1/events with the printed key: status %d, %d events", st, len(page.Data))
	}
	// The printed curl approves one more placement; the demo follows it.
	approve := out.String()[strings.Index(out.String(), "curl -X PATCH"):]
	simURL := strings.Fields(approve[:strings.Index(approve, "\n")])[5]
	req, _ := http.NewRequest(http.MethodPatch, simURL, strings.NewReader(`{"status":"Approved"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH %s: %s", simURL, resp.Status)
	}
	testwait.ForOutput(t, 15*time.Second, "the demo to follow the second placement", out, func() bool {
		return strings.Contains(out.String(), "placement bh_2 (Liam Byrne) approved in Bullhorn → ingested +")
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the demo did not stop")
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Fatalf("the demo left %d files in its temporary directory", len(ents))
	}
}
