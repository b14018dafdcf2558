package inbound

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/ashby"
	"github.com/hirehook/hirehook/connector/generic"
	"github.com/hirehook/hirehook/connector/greenhouse"
	"github.com/hirehook/hirehook/connector/lever"
	"github.com/hirehook/hirehook/connector/smartrecruiters"
	"github.com/hirehook/hirehook/connector/teamtailor"
	"github.com/hirehook/hirehook/connector/workable"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/store/sqlite"
)

// rig is a hub's inbound side on a real SQLite file: the store, the
// ingester, the handler behind a real HTTP server, and the worker (run by
// hand with RunOnce).
type rig struct {
	st     hirehook.Store
	srv    *httptest.Server
	proc   *Processor
	worker *Worker
	logs   *bytes.Buffer
}

func newRig(t testing.TB) *rig {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hirehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newRigOn(t, st)
}

// newRigOn is a hub's inbound side on st: one node, when several share a
// database.
func newRigOn(t testing.TB, st hirehook.Store) *rig {
	t.Helper()
	ctx := context.Background()
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ing := ingest.New(st, ingest.Config{Logger: logger, Timeout: time.Minute})
	if err := ing.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ing.Stop(context.Background()) })
	proc := &Processor{Store: st, Ingest: ing, HTTPClient: &http.Client{Timeout: 5 * time.Second}, Logger: logger}
	h := &Handler{Store: st, Processor: proc, MaxBodyBytes: 64 << 10, Logger: logger}
	mux := http.NewServeMux()
	mux.Handle("POST /in/{source_id}", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &rig{st: st, srv: srv, proc: proc, worker: &Worker{Processor: proc, Owner: "node-test"}, logs: logs}
}

type lockedWriter struct {
	mu chan struct{}
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	if l.mu == nil {
		l.mu = make(chan struct{}, 1)
	}
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.w.Write(p)
}

// source creates a source of kind through SplitConfig, as the API does.
func (r *rig) source(t testing.TB, kind string, cfg map[string]any) *hirehook.Source {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	pub, secrets, err := SplitConfig(kind)(raw)
	if err != nil {
		t.Fatalf("SplitConfig(%s): %v", kind, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	src := &hirehook.Source{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("src"), Kind: kind, Name: kind + " test",
		Config: pub, Secrets: secrets, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := r.st.SourceCreate(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	return src
}

// post sends a webhook to the source's ingest URL and decodes the answer.
func (r *rig) post(t *testing.T, srcID string, h http.Header, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/in/"+srcID, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, b)
		}
	}
	return resp.StatusCode, m
}

func (r *rig) eventCount(t *testing.T) int {
	t.Helper()
	evs, err := r.st.EventList(context.Background(), hirehook.EventFilter{TenantID: hirehook.DefaultTenantID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func (r *rig) requests(t *testing.T, srcID string) []*hirehook.InboundRequest {
	t.Helper()
	reqs, err := r.st.InboundList(context.Background(), hirehook.InboundFilter{TenantID: hirehook.DefaultTenantID, SourceID: srcID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

func fixture(t *testing.T, vendor, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "connector", vendor, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func standardSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// vendorCase is one vendor's webhook as it would send it.
type vendorCase struct {
	kind string
	cfg  map[string]any // signing_secret is added
	body []byte
	// sign returns the headers and body the vendor sends for body at t.
	sign func(secret string, at time.Time, body []byte) (http.Header, []byte)
	// flip is a substring of the signed bytes; its last byte is changed.
	flip string
	// types are the catalog events the request becomes.
	types []string
	// status is the vendor's expected success status.
	status int
	// stamped is set when the vendor signs a timestamp (replay window).
	stamped bool
	partial bool
}

func vendorCases(t *testing.T) []vendorCase {
	gen := standardSecret()
	return []vendorCase{
		{kind: KindGreenhouse, cfg: map[string]any{"account": "acme"}, body: fixture(t, "greenhouse", "candidate_stage_change.json"),
			sign: func(s string, _ time.Time, b []byte) (http.Header, []byte) {
				return http.Header{"Signature": {greenhouse.Sign(b, s)}, "Greenhouse-Event-Id": {"gh-evt-1"}}, b
			}, flip: "Amara", types: []string{"application.stage_changed"}, status: 200},
		{kind: KindLever, body: fixture(t, "lever", "candidateStageChange.json"),
			sign: func(s string, at time.Time, b []byte) (http.Header, []byte) {
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				ms := at.UnixMilli()
				m["triggeredAt"] = ms
				m["signature"] = lever.Sign(m["token"].(string), ms, s)
				out, _ := json.Marshal(m)
				return http.Header{"User-Agent": {"Lever-Webhooks"}}, out
			},
			// Lever signs token + triggeredAt, not the body.
			flip: "tok01abcdefgh", types: []string{"application.stage_changed"}, status: 200, stamped: true, partial: true},
		{kind: KindAshby, body: fixture(t, "ashby", "candidateStageChange.json"),
			sign: func(s string, _ time.Time, b []byte) (http.Header, []byte) {
				return http.Header{"Ashby-Signature": {ashby.Sign(b, s)}}, b
			}, flip: "Amara", types: []string{"application.stage_changed"}, status: 200},
		{kind: KindWorkable, body: fixture(t, "workable", "candidate_moved.json"),
			sign: func(s string, _ time.Time, b []byte) (http.Header, []byte) {
				return http.Header{workable.HeaderSignature: {workable.Sign(s, b)}}, b
			}, flip: "Lovelace", types: []string{"application.stage_changed"}, status: 200},
		{kind: KindSmartRecruiters, body: fixture(t, "smartrecruiters", "application_status_updated.json"),
			sign: func(s string, at time.Time, b []byte) (http.Header, []byte) {
				h := http.Header{}
				h.Set(smartrecruiters.HeaderEventName, "application.status.updated")
				h.Set(smartrecruiters.HeaderEventVersion, "1")
				h.Set(smartrecruiters.HeaderEventID, "sr-evt-1")
				h.Set(smartrecruiters.HeaderLink, "https://api.smartrecruiters.com/applications/1")
				h.Set(smartrecruiters.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
				h.Set(smartrecruiters.HeaderSignature, smartrecruiters.Sign(h, b, s))
				return h, b
			}, flip: "2c7d5a1e8f00", types: []string{"application.stage_changed"}, status: 202, stamped: true, partial: true},
		{kind: KindTeamtailor, body: fixture(t, "teamtailor", "job_application_update.json"),
			sign: func(s string, at time.Time, b []byte) (http.Header, []byte) {
				return http.Header{teamtailor.HeaderSignature: {teamtailor.Sign(s, at, b)}}, b
			}, flip: "Interview", types: []string{"application.stage_changed"}, status: 200, stamped: true},
		{kind: KindGeneric, cfg: map[string]any{"signing_secret": gen}, body: fixture(t, "generic", "application_hired.json"),
			sign: func(s string, at time.Time, b []byte) (http.Header, []byte) {
				sig, err := hirehook.Sign(s, "msg_1", at.Unix(), b)
				if err != nil {
					t.Fatal(err)
				}
				return http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {strconv.FormatInt(at.Unix(), 10)}, "Webhook-Signature": {sig}}, b
			}, flip: "cand_456", types: []string{"application.hired"}, status: 200, stamped: true},
		{kind: KindGeneric, cfg: map[string]any{"scheme": "hmac", "header": "X-Signature", "prefix": "sha256=", "encoding": "base64"},
			body: fixture(t, "generic", "application_hired.json"),
			sign: func(s string, _ time.Time, b []byte) (http.Header, []byte) {
				c := generic.HMACConfig{Header: "X-Signature", Prefix: "sha256=", Encoding: "base64"}
				return http.Header{"X-Signature": {c.Sign(s, b)}}, b
			}, flip: "cand_456", types: []string{"application.hired"}, status: 200},
	}
}

func flipLast(t *testing.T, b []byte, sub string) []byte {
	t.Helper()
	i := bytes.Index(b, []byte(sub))
	if i < 0 {
		t.Fatalf("%q not in body", sub)
	}
	out := append([]byte(nil), b...)
	out[i+len(sub)-1] ^= 0x01
	return out
}

// TestVendors sends each vendor's webhook as the vendor signs it: accepted
// and mapped; one changed byte, a wrong secret and (where signed) an old
// timestamp rejected with nothing emitted; the vendor's retry dropped.
func TestVendors(t *testing.T) {
	t.Parallel()
	for _, vc := range vendorCases(t) {
		name := vc.kind
		if s, _ := vc.cfg["scheme"].(string); s != "" {
			name += "_" + s
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			cfg := map[string]any{"signing_secret": "shh-" + vc.kind + "-secret"}
			for k, v := range vc.cfg {
				cfg[k] = v
			}
			secret := cfg["signing_secret"].(string)
			src := r.source(t, vc.kind, cfg)
			now := time.Now()

			// Rejections first: nothing is emitted and no body is kept.
			h, body := vc.sign(secret, now, vc.body)
			bad := map[string]func() (http.Header, []byte){
				"changed byte": func() (http.Header, []byte) { return h, flipLast(t, body, vc.flip) },
				"wrong secret": func() (http.Header, []byte) {
					other := "shh-wrong"
					if strings.HasPrefix(secret, "whsec_") {
						other = standardSecret()
					}
					return vc.sign(other, now, vc.body)
				},
				"no signature": func() (http.Header, []byte) {
					if vc.kind != KindLever {
						return http.Header{}, body
					}
					var m map[string]any // Lever signs in the body
					_ = json.Unmarshal(body, &m)
					delete(m, "signature")
					b, _ := json.Marshal(m)
					return http.Header{}, b
				},
			}
			if vc.stamped {
				bad["old timestamp"] = func() (http.Header, []byte) { return vc.sign(secret, now.Add(-6*time.Minute), vc.body) }
			}
			for what, mk := range bad {
				bh, bb := mk()
				code, ans := r.post(t, src.ID, bh, bb)
				if code != http.StatusUnauthorized {
					t.Fatalf("%s: status %d, want 401 (%v)", what, code, ans)
				}
				e, _ := ans["error"].(map[string]any)
				if e["code"] != "unauthorized" || !strings.Contains(e["message"].(string), "Signature rejected") {
					t.Fatalf("%s: answer %v", what, ans)
				}
				if strings.Contains(fmt.Sprint(ans), secret) {
					t.Fatalf("%s: the answer holds the secret", what)
				}
			}
			if n := r.eventCount(t); n != 0 {
				t.Fatalf("%d events after rejected requests", n)
			}
			reqs := r.requests(t, src.ID)
			if len(reqs) != len(bad) {
				t.Fatalf("%d requests logged, want %d", len(reqs), len(bad))
			}
			for _, q := range reqs {
				full, err := r.st.InboundGet(context.Background(), src.TenantID, src.ID, q.ID)
				if err != nil {
					t.Fatal(err)
				}
				if full.Status != hirehook.InboundRejected || full.Error == "" || len(full.Body) != 0 {
					t.Fatalf("rejected request logged as %+v", full)
				}
			}

			// The genuine request.
			code, ans := r.post(t, src.ID, h, body)
			if code != vc.status {
				t.Fatalf("status %d, want %d (%v)", code, vc.status, ans)
			}
			if ans["status"] != hirehook.InboundProcessed {
				t.Fatalf("answer %v", ans)
			}
			ids, _ := ans["event_ids"].([]any)
			if len(ids) != len(vc.types) {
				t.Fatalf("event ids %v, want %d", ids, len(vc.types))
			}
			for i, id := range ids {
				e, err := r.st.EventGet(context.Background(), hirehook.DefaultTenantID, id.(string))
				if err != nil {
					t.Fatal(err)
				}
				if e.Type != vc.types[i] || e.Partial != vc.partial {
					t.Fatalf("event %d: type %s partial %v, want %s partial %v", i, e.Type, e.Partial, vc.types[i], vc.partial)
				}
				var d struct {
					ID   string           `json:"id"`
					Refs []map[string]any `json:"external_refs"`
				}
				if err := json.Unmarshal(e.Data, &d); err != nil || d.ID == "" || e.Subject.ID != d.ID {
					t.Fatalf("event data %s subject %v", e.Data, e.Subject)
				}
				if acct, _ := vc.cfg["account"].(string); acct != "" && (len(d.Refs) == 0 || d.Refs[0]["tenant"] != acct) {
					t.Fatalf("external_refs %v do not name account %s", d.Refs, acct)
				}
			}
			q, err := r.st.InboundGet(context.Background(), src.TenantID, src.ID, ans["request_id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if q.Status != hirehook.InboundProcessed || !bytes.Equal(q.Body, body) || len(q.EventIDs) != len(ids) || q.VendorEvent == "" {
				t.Fatalf("logged request %+v", q)
			}

			// The vendor's retry of the same delivery: acknowledged, dropped.
			before := r.eventCount(t)
			code, ans = r.post(t, src.ID, h, body)
			if code != vc.status || ans["status"] != hirehook.InboundDuplicate {
				t.Fatalf("retry: %d %v", code, ans)
			}
			if n := r.eventCount(t); n != before {
				t.Fatalf("retry emitted: %d events, was %d", n, before)
			}
			if strings.Contains(r.logs.String(), secret) {
				t.Fatal("the log holds the signing secret")
			}
		})
	}
}

// TestHandshakes: SmartRecruiters' X-Hook-Secret is echoed with 200 before
// any signature exists; Greenhouse's signed ping is answered 200. Both are
// source health (handshake in the log), never events.
func TestHandshakes(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	sr := r.source(t, KindSmartRecruiters, map[string]any{"signing_secret": "sr-key"})
	code, ans := r.post(t, sr.ID, http.Header{"X-Hook-Secret": {"hook-secret-123"}}, nil)
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/in/"+sr.ID, nil)
	req.Header.Set("X-Hook-Secret", "hook-secret-456")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code != http.StatusOK || resp.StatusCode != http.StatusOK || resp.Header.Get("X-Hook-Secret") != "hook-secret-456" {
		t.Fatalf("SmartRecruiters handshake: %d %v, echo %q", resp.StatusCode, ans, resp.Header.Get("X-Hook-Secret"))
	}
	gh := r.source(t, KindGreenhouse, map[string]any{"signing_secret": "gh-secret"})
	ping := fixture(t, "greenhouse", "ping.json")
	code, ans = r.post(t, gh.ID, http.Header{"Signature": {greenhouse.Sign(ping, "gh-secret")}}, ping)
	if code != http.StatusOK || ans["status"] != hirehook.InboundHandshake {
		t.Fatalf("Greenhouse ping: %d %v", code, ans)
	}
	// An unsigned ping is refused like any request.
	if code, _ := r.post(t, gh.ID, nil, ping); code != http.StatusUnauthorized {
		t.Fatalf("unsigned ping: %d", code)
	}
	if n := r.eventCount(t); n != 0 {
		t.Fatalf("%d events from handshakes", n)
	}
	for _, src := range []*hirehook.Source{sr, gh} {
		reqs := r.requests(t, src.ID)
		if reqs[len(reqs)-1].Status != hirehook.InboundHandshake {
			t.Fatalf("%s: first request logged as %s", src.Kind, reqs[len(reqs)-1].Status)
		}
		for _, q := range reqs {
			if v := q.Header.Get("X-Hook-Secret"); v != "" && v != hirehook.Masked {
				t.Fatal("the handshake secret was logged")
			}
		}
	}
	stats, err := r.st.InboundStats(context.Background(), hirehook.DefaultTenantID)
	if err != nil {
		t.Fatal(err)
	}
	if s := stats[sr.ID]; s == nil || s.ByStatus[hirehook.InboundHandshake] != 2 || s.LastHandshakeAt == nil {
		t.Fatalf("SmartRecruiters stats %+v", s)
	}
	if s := stats[gh.ID]; s == nil || s.ByStatus[hirehook.InboundHandshake] != 1 || s.ByStatus[hirehook.InboundRejected] != 1 || s.LastRejection == "" {
		t.Fatalf("Greenhouse stats %+v", s)
	}
}

// TestStageFromLastState: Greenhouse sends only the new stage; the second
// move of an application gets changes.stage.from from the first, marked
// derived.
func TestStageFromLastState(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, KindGreenhouse, map[string]any{"signing_secret": "gh-secret"})
	first := fixture(t, "greenhouse", "candidate_stage_change.json")
	second := bytes.Replace(first, []byte(`"id":767358,"name":"Phone Screen \u003cb\u003e"`), []byte(`"id":767359,"name":"Onsite"`), 1)
	if bytes.Equal(first, second) {
		t.Fatal("fixture changed; the stage was not replaced")
	}
	var events []*hirehook.Event
	for i, body := range [][]byte{first, second} {
		code, ans := r.post(t, src.ID, http.Header{"Signature": {greenhouse.Sign(body, "gh-secret")}, "Greenhouse-Event-Id": {fmt.Sprint("evt-", i)}}, body)
		if code != http.StatusOK || ans["status"] != hirehook.InboundProcessed {
			t.Fatalf("request %d: %d %v", i, code, ans)
		}
		e, err := r.st.EventGet(context.Background(), hirehook.DefaultTenantID, ans["event_ids"].([]any)[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	var ch map[string]hirehook.Change
	if err := json.Unmarshal(events[0].Changes, &ch); err != nil {
		t.Fatal(err)
	}
	if from := ch["stage"].From; (len(from) != 0 && string(from) != "null") || events[0].Derived {
		t.Fatalf("first move: from %s derived %v, want none and not derived", from, events[0].Derived)
	}
	if err := json.Unmarshal(events[1].Changes, &ch); err != nil {
		t.Fatal(err)
	}
	var from, to map[string]any
	_ = json.Unmarshal(ch["stage"].From, &from)
	_ = json.Unmarshal(ch["stage"].To, &to)
	if from["name"] != "Phone Screen <b>" || to["name"] != "Onsite" || !events[1].Derived {
		t.Fatalf("second move: from %v to %v derived %v", from, to, events[1].Derived)
	}
	var payload map[string]any
	_ = json.Unmarshal(events[1].Payload, &payload)
	if payload["derived"] != true {
		t.Fatalf("the webhook body does not say derived: %s", events[1].Payload)
	}
}

// TestLimitsAndLookups: unknown source, polled source, disabled source and
// an oversized body are refused with a clear error and nothing logged.
func TestLimitsAndLookups(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, KindAshby, map[string]any{"signing_secret": "a-secret"})
	if code, ans := r.post(t, "src_nope", nil, []byte(`{}`)); code != http.StatusNotFound {
		t.Fatalf("unknown source: %d %v", code, ans)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	bh := &hirehook.Source{TenantID: hirehook.DefaultTenantID, ID: hirehook.NewID("src"), Kind: hirehook.SourceBullhorn, Name: "bh",
		Config: json.RawMessage(`{}`), Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := r.st.SourceCreate(context.Background(), bh); err != nil {
		t.Fatal(err)
	}
	if code, ans := r.post(t, bh.ID, nil, []byte(`{}`)); code != http.StatusNotFound || !strings.Contains(fmt.Sprint(ans), "polls") {
		t.Fatalf("bullhorn source: %d %v", code, ans)
	}
	big := bytes.Repeat([]byte("x"), 65<<10)
	if code, ans := r.post(t, src.ID, http.Header{"Ashby-Signature": {ashby.Sign(big, "a-secret")}}, big); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d %v", code, ans)
	}
	off := false
	if _, err := r.st.SourceUpdate(context.Background(), src.TenantID, src.ID, hirehook.SourceUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	body := fixture(t, "ashby", "candidateStageChange.json")
	if code, ans := r.post(t, src.ID, http.Header{"Ashby-Signature": {ashby.Sign(body, "a-secret")}}, body); code != http.StatusServiceUnavailable {
		t.Fatalf("disabled source: %d %v", code, ans)
	}
	if reqs := r.requests(t, src.ID); len(reqs) != 0 {
		t.Fatalf("%d requests logged", len(reqs))
	}
}

// TestConfigErrors: bad source configurations name the field.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind, cfg, field string
	}{
		{KindGreenhouse, `{}`, "config.signing_secret"},
		{KindGreenhouse, `{"signing_secret":"s","api_key":"k"}`, "config.api_key"},
		{KindGreenhouse, `{"signing_secret":"s","header":"X"}`, "config.header"},
		{KindLever, `{"signing_secret":"s","bogus":1}`, "config.bogus"},
		{KindLever, `{"signing_secret":"s","api_url":"ftp://x"}`, "config.api_url"},
		{KindGeneric, `{"signing_secret":"plain"}`, "config.signing_secret"},
		{KindGeneric, `{"signing_secret":"s","scheme":"hmac"}`, "config.header"},
		{KindGeneric, `{"signing_secret":"s","scheme":"rsa"}`, "config.scheme"},
		{KindGeneric, `{"signing_secret":"s","scheme":"hmac","header":"X","encoding":"b32"}`, "config.encoding"},
	} {
		_, _, err := SplitConfig(c.kind)(json.RawMessage(c.cfg))
		if hirehook.ErrorField(err) != c.field {
			t.Errorf("%s %s: error %v, want field %s", c.kind, c.cfg, err, c.field)
		}
	}
	pub, secrets, err := SplitConfig(KindLever)(json.RawMessage(`{"signing_secret":"s1","previous_signing_secret":"s0","api_key":"k","account":"acme"}`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(pub), "s1") || strings.Contains(string(pub), `"k"`) || secrets["signing_secret"] != "s1" || secrets["previous_signing_secret"] != "s0" || secrets["api_key"] != "k" {
		t.Fatalf("public %s secrets %v", pub, secrets)
	}
	if !strings.Contains(string(pub), `"has_api_key":true`) {
		t.Fatalf("public %s does not say it has an API key", pub)
	}
	// What the API shows can be sent back (a PATCH merges it).
	full := strings.TrimSuffix(string(pub), "}") + `,"signing_secret":"s1"}`
	if _, _, err := SplitConfig(KindLever)(json.RawMessage(full)); err != nil {
		t.Fatalf("shown configuration refused: %v", err)
	}
}

// TestPreviousSecretVerifies: during a rotation both secrets verify.
func TestPreviousSecretVerifies(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, KindWorkable, map[string]any{"signing_secret": "new", "previous_signing_secret": "old"})
	body := fixture(t, "workable", "candidate_moved.json")
	for _, s := range []string{"new", "old"} {
		b := bytes.Replace(body, []byte(`"wh_124"`), []byte(`"wh_`+s+`"`), 1)
		if code, ans := r.post(t, src.ID, http.Header{workable.HeaderSignature: {workable.Sign(s, b)}}, b); code != http.StatusOK || ans["status"] != hirehook.InboundProcessed {
			t.Fatalf("signed with %s: %d %v", s, code, ans)
		}
	}
}

// TestRejectionFloodNotStored: anyone can post to an ingest URL, so a
// flood of bad signatures is answered 401 every time but only the first
// rejectLogBurst are kept in the source's log.
func TestRejectionFloodNotStored(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, KindAshby, map[string]any{"signing_secret": "a-secret"})
	body := []byte(`{"action":"ping"}`)
	for i := range rejectLogBurst + 100 {
		if code, _ := r.post(t, src.ID, http.Header{"Ashby-Signature": {"sha256=00"}}, body); code != http.StatusUnauthorized {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	reqs, err := r.st.InboundList(context.Background(), hirehook.InboundFilter{TenantID: src.TenantID, SourceID: src.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// The limiter refills one a second: a slow run may keep a few more.
	if n := len(reqs); n < rejectLogBurst || n > rejectLogBurst+30 {
		t.Fatalf("%d rejections logged, want about %d", n, rejectLogBurst)
	}
	// Another source has its own allowance.
	other := r.source(t, KindAshby, map[string]any{"signing_secret": "a-secret"})
	if code, _ := r.post(t, other.ID, http.Header{"Ashby-Signature": {"sha256=00"}}, body); code != http.StatusUnauthorized {
		t.Fatal(code)
	}
	if reqs := r.requests(t, other.ID); len(reqs) != 1 {
		t.Fatalf("other source: %d logged", len(reqs))
	}
}
