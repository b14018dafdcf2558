package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/greenhouse"
)

// TestDashboardPushSource: the hub gives the dashboard its push kinds and
// the inbound worker's nudge. A Greenhouse source shows its ingest URL and
// push health (not "never polled"); a rejected webhook makes it failing;
// and Reprocess on its page has the worker normalise a request again.
func TestDashboardPushSource(t *testing.T) {
	t.Parallel()
	hub := startHub(t, nil)
	var src hirehook.Source
	if st := call(t, hub.URL(), "POST", "/v1/sources", map[string]any{"kind": "greenhouse", "name": "Acme Greenhouse",
		"config": map[string]any{"signing_secret": "gh-e2e-secret", "account": "acme"}}, &src); st != http.StatusCreated {
		t.Fatalf("create source = %d", st)
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	_, body := getText(t, c, hub.URL()+"/signin")
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	resp, err := c.PostForm(hub.URL()+"/signin", url.Values{"api_key": {testKey}, "csrf_token": {csrf.FindStringSubmatch(body)[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, body = getText(t, c, hub.URL()+"/sources")
	if !strings.Contains(body, hub.URL()+"/in/"+src.ID) || !strings.Contains(body, "Waiting for its first webhook.") || strings.Contains(body, "Never polled") {
		t.Fatalf("/sources does not show the push source as one:\n%s", body)
	}

	post := func(sig string, b []byte) int {
		req, _ := http.NewRequest("POST", hub.URL()+"/in/"+src.ID, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	event, err := os.ReadFile(filepath.Join("..", "..", "connector", "greenhouse", "testdata", "candidate_stage_change.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st := post(greenhouse.Sign(event, "gh-e2e-secret"), event); st != http.StatusOK {
		t.Fatalf("signed webhook = %d", st)
	}
	if st := post(greenhouse.Sign(event, "the-wrong-secret"), event); st == http.StatusOK {
		t.Fatal("a webhook with a wrong signature was accepted")
	}
	_, body = getText(t, c, hub.URL()+"/sources")
	if !strings.Contains(body, `<span class="badge bad">failing</span><div class="sub">Webhooks are rejected: `) {
		t.Fatalf("/sources does not show the rejections:\n%s", body)
	}

	ctx := context.Background()
	list, err := hub.Store.InboundList(ctx, hirehook.InboundFilter{TenantID: hirehook.DefaultTenantID, SourceID: src.ID, Status: hirehook.InboundProcessed})
	if err != nil || len(list) != 1 {
		t.Fatalf("processed requests = %v, %v", list, err)
	}
	id := list[0].ID
	_, body = getText(t, c, hub.URL()+"/sources/"+src.ID)
	if !strings.Contains(body, "/sources/"+src.ID+"/requests/"+id) {
		t.Fatalf("the source page does not list the request:\n%s", body)
	}
	resp, err = c.PostForm(hub.URL()+"/sources/"+src.ID+"/reprocess", url.Values{"csrf_token": {csrf.FindStringSubmatch(body)[1]},
		"from": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "1 request made due again") {
		t.Fatalf("reprocess = %d:\n%s", resp.StatusCode, page)
	}
	waitFor(t, 10*time.Second, "the request to be normalised again", func() bool {
		q, err := hub.Store.InboundGet(ctx, hirehook.DefaultTenantID, src.ID, id)
		return err == nil && q.Status == hirehook.InboundProcessed && q.Attempts == 2
	})
}
