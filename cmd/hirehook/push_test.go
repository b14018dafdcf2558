package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/connector/greenhouse"
)

// TestPushSourceEndToEnd follows the README's "Connect a push ATS" through
// a whole hub: a Greenhouse source created through the API shows its
// ingest_url; a signed stage change posted there reaches a real receiver
// as application.stage_changed, signed by the hub; the vendor's retry is
// a duplicate; a tampered request is refused and counted; the second move
// of the application carries its previous stage, derived; the request log
// and reprocess answer through the API.
func TestPushSourceEndToEnd(t *testing.T) {
	t.Parallel()
	hub := startHub(t, func(c *Config) { c.PublicURL = "https://hooks.example.com/" })
	base := hub.URL()
	rc := newReceiver(t, nil)
	ep := createEndpoint(t, base, rc.URL, "application.*")

	var src struct {
		ID        string         `json:"id"`
		IngestURL string         `json:"ingest_url"`
		Config    map[string]any `json:"config"`
		Requests  struct {
			ByStatus      map[string]int `json:"by_status"`
			LastRejection string         `json:"last_rejection"`
		} `json:"requests"`
	}
	if st := call(t, base, "POST", "/v1/sources", map[string]any{"kind": "greenhouse", "name": "Acme Greenhouse",
		"config": map[string]any{"signing_secret": "gh-demo-secret", "account": "acme"}}, &src); st != 201 {
		t.Fatalf("create source: %d", st)
	}
	if src.IngestURL != "https://hooks.example.com/in/"+src.ID || fmt.Sprint(src.Config) == "" || strings.Contains(fmt.Sprint(src.Config), "gh-demo-secret") {
		t.Fatalf("source %+v", src)
	}
	ingest := base + "/in/" + src.ID
	post := func(body, sig, eventID string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", ingest, strings.NewReader(body))
		req.Header.Set("Signature", sig)
		req.Header.Set("Greenhouse-Event-ID", eventID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	// The README's body.
	body := `{"action":"candidate_stage_change","payload":{"application":{"id":265293,"status":"active","current_stage":{"id":767358,"name":"Phone Screen"},"candidate":{"id":265772,"first_name":"Amara","last_name":"Okafor"},"jobs":[{"id":107761,"name":"Java Developer"}]}}}`
	sig := greenhouse.Sign([]byte(body), "gh-demo-secret")
	if st, ans := post(body, sig, "demo-1"); st != 200 || ans["status"] != "processed" {
		t.Fatalf("genuine: %d %v", st, ans)
	}
	if st, ans := post(body, sig, "demo-1"); st != 200 || ans["status"] != "duplicate" {
		t.Fatalf("retry: %d %v", st, ans)
	}
	tampered := strings.Replace(body, "Amara", "Amarb", 1)
	if st, ans := post(tampered, sig, "demo-x"); st != 401 {
		t.Fatalf("tampered: %d %v", st, ans)
	}
	moved := strings.Replace(body, `"id":767358,"name":"Phone Screen"`, `"id":767359,"name":"Onsite"`, 1)
	if st, ans := post(moved, greenhouse.Sign([]byte(moved), "gh-demo-secret"), "demo-2"); st != 200 || ans["status"] != "processed" {
		t.Fatalf("second move: %d %v", st, ans)
	}

	waitFor(t, 10*time.Second, "two webhooks", func() bool { return len(rc.got()) >= 2 })
	// A third would be a duplicate: two deliveries, both final, are all
	// the receiver will get.
	if n := deliveriesSettled(t, base); n != 2 {
		t.Fatalf("%d deliveries, want 2", n)
	}
	ws := webhooks(t, rc, ep.Secret)
	if len(ws) != 2 || ws[0].Type != "application.stage_changed" || ws[0].Source != "greenhouse" || ws[1].Type != "application.stage_changed" {
		t.Fatalf("webhooks %+v", ws)
	}
	var second struct {
		Derived bool `json:"derived"`
		Changes map[string]struct {
			From map[string]any `json:"from"`
			To   map[string]any `json:"to"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(rc.got()[1].body, &second); err != nil {
		t.Fatal(err)
	}
	if !second.Derived || second.Changes["stage"].From["name"] != "Phone Screen" || second.Changes["stage"].To["name"] != "Onsite" {
		t.Fatalf("second webhook %s", rc.got()[1].body)
	}

	// The request log and the source's sums.
	if st := call(t, base, "GET", "/v1/sources/"+src.ID, nil, &src); st != 200 {
		t.Fatal(st)
	}
	if src.Requests.ByStatus["processed"] != 2 || src.Requests.ByStatus["duplicate"] != 1 || src.Requests.ByStatus["rejected"] != 1 || src.Requests.LastRejection == "" {
		t.Fatalf("requests %+v", src.Requests)
	}
	var list struct {
		Data []struct {
			ID       string   `json:"id"`
			Status   string   `json:"status"`
			EventIDs []string `json:"event_ids"`
		} `json:"data"`
	}
	if st := call(t, base, "GET", "/v1/sources/"+src.ID+"/requests?status=processed", nil, &list); st != 200 || len(list.Data) != 2 {
		t.Fatalf("list: %d %+v", st, list)
	}
	var detail struct {
		Body   json.RawMessage     `json:"body"`
		Header map[string][]string `json:"header"`
	}
	firstID := list.Data[1].ID
	if st := call(t, base, "GET", "/v1/sources/"+src.ID+"/requests/"+firstID, nil, &detail); st != 200 {
		t.Fatal(st)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, detail.Body)
	if compact.String() != body || detail.Header["Greenhouse-Event-Id"][0] != "demo-1" {
		t.Fatalf("detail body %s header %v", detail.Body, detail.Header)
	}
	// Reprocessing the window sends nothing twice.
	var rep struct{ Requests int }
	if st := call(t, base, "POST", "/v1/sources/"+src.ID+"/reprocess", map[string]any{"from": time.Now().Add(-time.Hour)}, &rep); st != 202 || rep.Requests != 2 {
		t.Fatalf("reprocess: %d %+v", st, rep)
	}
	waitFor(t, 10*time.Second, "reprocessed", func() bool {
		call(t, base, "GET", "/v1/sources/"+src.ID+"/requests?status=received", nil, &list)
		return len(list.Data) == 0
	})
	if n := deliveriesSettled(t, base); n != 2 {
		t.Fatalf("%d deliveries after reprocessing, want 2", n)
	}
	if n := len(rc.got()); n != 2 {
		t.Fatalf("%d webhooks after reprocessing, want 2", n)
	}
	// The same through the Go SDK.
	c, err := client.New(base, testKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rejected, err := c.ListSourceRequests(ctx, src.ID, client.SourceRequestListParams{Status: hirehook.InboundRejected})
	if err != nil || len(rejected.Data) != 1 || rejected.Data[0].Error == "" || rejected.Data[0].BodySize != len(tampered) {
		t.Fatalf("SDK list: %v %+v", err, rejected)
	}
	one, err := c.GetSourceRequest(ctx, src.ID, firstID)
	if err != nil || one.Status != hirehook.InboundProcessed || len(one.Body) == 0 || len(one.EventIDs) != 1 {
		t.Fatalf("SDK get: %v %+v", err, one)
	}
	if n, err := c.ReprocessSource(ctx, src.ID, time.Now().Add(-time.Hour), time.Time{}); err != nil || n != 2 {
		t.Fatalf("SDK reprocess: %d %v", n, err)
	}
	// And through the CLI, once the worker has normalised them again.
	waitFor(t, 10*time.Second, "reprocessed through the SDK", func() bool {
		call(t, base, "GET", "/v1/sources/"+src.ID+"/requests?status=received", nil, &list)
		return len(list.Data) == 0
	})
	env := map[string]string{"HIREHOOK_URL": base, "HIREHOOK_API_KEY": testKey}
	res := runCLI(t, env, "sources", "list")
	if res.code != 0 || !strings.Contains(res.stdout, src.ID) || !strings.Contains(res.stdout, "processed 2, rejected 1") || !strings.Contains(res.stdout, "https://hooks.example.com/in/"+src.ID) {
		t.Fatalf("sources list: %+v", res)
	}
	res = runCLI(t, env, "sources", "requests", src.ID, "--status", "rejected")
	if res.code != 0 || strings.Count(res.stdout, "rejected") != 1 || !strings.Contains(res.stdout, "signature") {
		t.Fatalf("sources requests: %+v", res)
	}
	res = runCLI(t, env, "sources", "reprocess", src.ID, "--since", "1h")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "2 requests made due again") {
		t.Fatalf("sources reprocess: %+v", res)
	}
	if res = runCLI(t, env, "sources", "reprocess", src.ID); res.code == 0 || !strings.Contains(res.stderr, "--since") {
		t.Fatalf("sources reprocess without a window: %+v", res)
	}
	var bad map[string]any
	if st := call(t, base, "POST", "/v1/sources/"+src.ID+"/reprocess", map[string]any{}, &bad); st != 422 {
		t.Fatalf("reprocess without from: %d %v", st, bad)
	}
}
