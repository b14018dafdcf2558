package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/testwait"
)

// TestSinkLogShowsTheMail runs the receiver as its README says (--smtp-sink)
// and sends it a signed placement.confirmed: the log must show the welcome
// mail's subject and first lines, as the README promises.
func TestSinkLogShowsTheMail(t *testing.T) {
	t.Parallel()
	secret := hirehook.NewSecret()
	addr, smtpAddr := freeAddr(t), freeAddr(t)
	var logs testwait.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := []string{"--addr", addr, "--smtp-addr", smtpAddr, "--smtp-sink", "--secret", secret,
		"--db", filepath.Join(t.TempDir(), "onboarding.db")}
	go func() { done <- run(ctx, args, func(string) string { return "" }, &logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	testwait.For(t, 30*time.Second, "the receiver to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, func() string { return "--- log:\n" + logs.String() })

	body := []byte(`{"id":"evt_1","type":"placement.confirmed","timestamp":"2026-12-01T09:00:00Z","source":"bullhorn",
		"subject":{"entity":"placement","id":"pl_1"},
		"data":{"id":"pl_1","status":"confirmed","start_date":"2026-12-07",
		"candidate":{"id":"c_1","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"},
		"client":{"id":"cl_acme","name":"Acme Corp"},"job":{"id":"j_1","title":"Data Engineer"}}}`)
	signer, err := hirehook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/hirehook", bytes.NewReader(body))
	now := time.Now().Unix()
	req.Header.Set(hirehook.HeaderWebhookID, "evt_1")
	req.Header.Set(hirehook.HeaderWebhookTimestamp, strconv.FormatInt(now, 10))
	req.Header.Set(hirehook.HeaderWebhookSignature, signer.Sign("evt_1", now, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %s, want 200", resp.Status)
	}

	testwait.ForOutput(t, 30*time.Second, "the sink's log line", &logs, func() bool { return strings.Contains(logs.String(), "SMTP sink got a mail") })
	for _, want := range []string{
		`to=ada@example.com`,
		`subject="Welcome aboard, Ada: your start at Acme Corp"`,
		`first_lines="Hello Ada, / Welcome! Your placement as Data Engineer with Acme Corp is confirmed; you start on 2026-12-07. / Before your first day, please complete:"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s\n--- it is:\n%s", want, logs.String())
		}
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
