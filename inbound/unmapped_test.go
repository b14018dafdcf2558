package inbound

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/greenhouse"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/connector/smartrecruiters"
	"github.com/hirehook/hirehook/connector/workable"
)

// srRequest is a SmartRecruiters event as SmartRecruiters sends it: the
// link header in the RFC 8288 form, signed with key at at.
func srRequest(name, eventID, link string, body []byte, key string, at time.Time) http.Header {
	h := http.Header{}
	h.Set(smartrecruiters.HeaderEventName, name)
	h.Set(smartrecruiters.HeaderEventVersion, "v201910")
	h.Set(smartrecruiters.HeaderEventID, eventID)
	h.Set(smartrecruiters.HeaderLink, link)
	h.Set(smartrecruiters.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(smartrecruiters.HeaderSignature, smartrecruiters.Sign(h, body, key))
	return h
}

// TestSmartRecruitersDocumentedBody: SmartRecruiters' own example of
// application.created has the body {"job_id":…,"candidate_id":…} and no
// id. It becomes application.created for the application
// "<candidate>:<job>". Before, the hub answered 202 {"status":"failed"},
// emitted nothing, and SmartRecruiters, having its 202, never retried.
func TestSmartRecruitersDocumentedBody(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, KindSmartRecruiters, map[string]any{"signing_secret": "sr-key"})
	body := []byte(`{"job_id":"jid","candidate_id":"cid"}`)
	h := srRequest("application.created", "123", "<https://api.smartrecruiters.com/candidates/cid/jobs/jid>; rel=self", body, "sr-key", time.Now())
	code, ans := r.post(t, src.ID, h, body)
	if code != http.StatusAccepted || ans["status"] != hirehook.InboundProcessed {
		t.Fatalf("answer %d %v, want 202 processed", code, ans)
	}
	ids, _ := ans["event_ids"].([]any)
	if len(ids) != 1 {
		t.Fatalf("event ids %v", ids)
	}
	e, err := r.st.EventGet(context.Background(), hirehook.DefaultTenantID, ids[0].(string))
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.Unmarshal(e.Data, &d)
	if e.Type != "application.created" || d["id"] != "sr_cid:jid" || d["candidate_id"] != "sr_cid" || d["job_id"] != "sr_jid" || !e.Partial {
		t.Fatalf("event %s %s partial %v", e.Type, e.Data, e.Partial)
	}
}

// TestUnmappableAnswered422: a verified body the hub cannot map is
// answered 422 (SmartRecruiters retries anything but 202) and is in the
// request log as failed, saying why; the vendor's retry is answered 422
// again while it still cannot be mapped. Before, it was answered 202
// {"status":"failed"}, so the vendor never retried.
func TestUnmappableAnswered422(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, KindSmartRecruiters, map[string]any{"signing_secret": "sr-key"})
	body := []byte(`{"name":"no ids here"}`)
	link := "<https://api.smartrecruiters.com/candidates/x>; rel=self"
	code, ans := r.post(t, src.ID, srRequest("application.created", "evt-9", link, body, "sr-key", time.Now()), body)
	e, _ := ans["error"].(map[string]any)
	if code != http.StatusUnprocessableEntity || e["code"] != hirehook.EINVALID || !strings.Contains(e["message"].(string), "could not be mapped") {
		t.Fatalf("answer %d %v, want 422 invalid", code, ans)
	}
	reqs := r.requests(t, src.ID)
	if len(reqs) != 1 || reqs[0].Status != hirehook.InboundFailed || !strings.Contains(reqs[0].Error, "application.created body has neither") {
		t.Fatalf("request log %+v", reqs)
	}
	// SmartRecruiters' retry: the same event, signed again later.
	code, _ = r.post(t, src.ID, srRequest("application.created", "evt-9", link, body, "sr-key", time.Now().Add(time.Minute)), body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("retry answered %d, want 422", code)
	}
	if n := r.eventCount(t); n != 0 {
		t.Fatalf("%d events emitted", n)
	}
	st, err := r.st.InboundStats(context.Background(), hirehook.DefaultTenantID)
	if err != nil {
		t.Fatal(err)
	}
	if got := st[src.ID].ByStatus[hirehook.InboundFailed]; got != 1 {
		t.Fatalf("stats %+v, want 1 failed", st[src.ID].ByStatus)
	}
}

// brokenUntil holds the ids of the sources whose "brokenmap" kind has its
// mapping fixed.
var brokenUntil sync.Map

const kindBroken = "brokenmap"

func init() {
	gh := Kinds[KindGreenhouse]
	Kinds[kindBroken] = &Kind{Name: kindBroken, Title: "Broken mapping", Status: http.StatusOK, verify: gh.verify, key: gh.key,
		parse: func(c *Config, h http.Header, body []byte, opts push.Options) (*parsed, error) {
			if _, ok := brokenUntil.Load(opts.SourceID); ok {
				return gh.parse(c, h, body, opts)
			}
			return nil, errors.New("brokenmap: payload.application is not where the mapping looks")
		}}
}

// TestUnmappableRetryAfterFix: once the mapping is fixed, the vendor's
// retry of a request answered 422 goes through: the stored original is
// mapped, its events emitted, and the retry answered 2xx.
func TestUnmappableRetryAfterFix(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, kindBroken, map[string]any{"signing_secret": "bk"})
	body := fixture(t, "greenhouse", "hire_candidate.json")
	h := http.Header{"Signature": {greenhouse.Sign(body, "bk")}}
	code, ans := r.post(t, src.ID, h, body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("first: %d %v, want 422", code, ans)
	}
	brokenUntil.Store(src.ID, true)
	code, ans = r.post(t, src.ID, h, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundDuplicate {
		t.Fatalf("retry after the fix: %d %v, want 200 duplicate", code, ans)
	}
	if ids, _ := ans["event_ids"].([]any); len(ids) != 2 {
		t.Fatalf("retry answer %v, want the original's 2 events", ans)
	}
	var orig *hirehook.InboundRequest
	for _, q := range r.requests(t, src.ID) {
		if q.Status != hirehook.InboundDuplicate {
			orig = q
		}
	}
	if orig == nil || orig.Status != hirehook.InboundProcessed || len(orig.EventIDs) != 2 {
		t.Fatalf("original %+v, want processed with 2 events", orig)
	}
	if n := r.eventCount(t); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
	// A further copy is an ordinary duplicate.
	code, ans = r.post(t, src.ID, h, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundDuplicate || r.eventCount(t) != 2 {
		t.Fatalf("third copy: %d %v", code, ans)
	}
}

// TestWorkableBase64: Workable's docs say only "HMAC SHA256", not how it
// is written; a base64 X-Workable-Signature verifies like a hex one.
// Before, only hex did and a base64 signature was answered 401.
func TestWorkableBase64(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, KindWorkable, map[string]any{"signing_secret": "wk-token"})
	body := fixture(t, "workable", "candidate_moved.json")
	sig := base64.StdEncoding.EncodeToString(push.HMACSHA256([]byte("wk-token"), body))
	code, ans := r.post(t, src.ID, http.Header{workable.HeaderSignature: {sig}}, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundProcessed {
		t.Fatalf("answer %d %v, want 200 processed", code, ans)
	}
}
