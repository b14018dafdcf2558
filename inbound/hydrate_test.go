package inbound

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/lever"
	"github.com/hirehook/hirehook/connector/smartrecruiters"
)

// srAPI plays SmartRecruiters' API: GET /jobs/{id} answers the job of the
// given fixture, with the X-SmartToken it expects; fail makes it answer 503
// that many times first.
func srAPI(t *testing.T, jobFixture string, fail int32) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	job, err := os.ReadFile(filepath.Join("..", "connector", "smartrecruiters", "testdata", "api", jobFixture))
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Header.Get("X-SmartToken") != "sr-api-key" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if n <= fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(job)
	}))
	t.Cleanup(srv.Close)
	return srv, calls
}

func srJobStatus(t *testing.T, link, key string, at time.Time) (http.Header, []byte) {
	body := []byte(`{"id":"7f3e2d1c-aaaa-bbbb-cccc-111122223333"}`)
	h := http.Header{}
	h.Set(smartrecruiters.HeaderEventName, "job.status.updated")
	h.Set(smartrecruiters.HeaderEventVersion, "1")
	h.Set(smartrecruiters.HeaderEventID, "sr-job-evt-1")
	h.Set(smartrecruiters.HeaderLink, link)
	h.Set(smartrecruiters.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(smartrecruiters.HeaderSignature, smartrecruiters.Sign(h, body, key))
	return h, body
}

// TestHydrateSmartRecruiters: job.status.updated says nothing of the new
// status; with an api_key the handler answers 202 at once, and the worker
// fetches the job (through a 503 the first time, retried) and emits
// job.closed with the job's fields. Without an api_key the same webhook
// is kept as unsupported, saying why.
func TestHydrateSmartRecruiters(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	api, calls := srAPI(t, "job_FILLED.json", 1)
	r.proc.APIOrigins = map[string][]string{KindSmartRecruiters: {api.URL}}
	src := r.source(t, KindSmartRecruiters, map[string]any{"signing_secret": "sr-key", "api_key": "sr-api-key"})
	h, body := srJobStatus(t, api.URL+"/jobs/7f3e2d1c-aaaa-bbbb-cccc-111122223333", "sr-key", time.Now())
	code, ans := r.post(t, src.ID, h, body)
	if code != http.StatusAccepted || ans["status"] != hirehook.InboundReceived {
		t.Fatalf("answer %d %v", code, ans)
	}
	reqID := ans["request_id"].(string)
	if calls.Load() != 0 {
		t.Fatal("the handler called the vendor's API before answering")
	}
	// First try: 503, so it is due again after the first backoff step.
	if took, err := r.worker.RunOnce(ctx); err != nil || took != 1 {
		t.Fatalf("worker took %d, %v", took, err)
	}
	q, _ := r.st.InboundGet(ctx, src.TenantID, src.ID, reqID)
	if q.Status != hirehook.InboundReceived || q.DueAt == nil || q.DueAt.Sub(time.Now()) < 20*time.Second || q.Error == "" {
		t.Fatalf("after a 503: %+v", q)
	}
	if took, _ := r.worker.RunOnce(ctx); took != 0 {
		t.Fatal("retried before its backoff")
	}
	// Make it due now, as time passing would.
	r.proc.NowFunc = func() time.Time { return time.Now().Add(time.Minute) }
	if took, err := r.worker.RunOnce(ctx); err != nil || took != 1 {
		t.Fatalf("worker took %d, %v", took, err)
	}
	q, _ = r.st.InboundGet(ctx, src.TenantID, src.ID, reqID)
	if q.Status != hirehook.InboundProcessed || len(q.EventIDs) != 1 {
		t.Fatalf("after hydration: %+v", q)
	}
	e, err := r.st.EventGet(ctx, src.TenantID, q.EventIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.Unmarshal(e.Data, &d)
	if e.Type != "job.closed" || e.Partial || d["title"] != "Java Developer" {
		t.Fatalf("event %s partial %v data %s", e.Type, e.Partial, e.Data)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d API calls, want 2", calls.Load())
	}

	// Without an api_key: nothing to decide the type with.
	bare := r.source(t, KindSmartRecruiters, map[string]any{"signing_secret": "sr-key"})
	code, ans = r.post(t, bare.ID, h, body)
	if code != http.StatusAccepted || ans["status"] != hirehook.InboundUnsupported {
		t.Fatalf("without api_key: %d %v", code, ans)
	}
	q, _ = r.st.InboundGet(ctx, bare.TenantID, bare.ID, ans["request_id"].(string))
	if q.Error == "" || !json.Valid(q.Body) {
		t.Fatalf("without api_key: %+v", q)
	}
}

// TestHydrateRefusedKey: a refused API key settles the request without
// the record (the thin event goes out, partial), saying why, and the key
// is in no error or log.
func TestHydrateRefusedKey(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	api, _ := srAPI(t, "job_FILLED.json", 0)
	r.proc.APIOrigins = map[string][]string{KindSmartRecruiters: {api.URL}}
	src := r.source(t, KindSmartRecruiters, map[string]any{"signing_secret": "sr-key", "api_key": "wrong-api-key"})
	body := []byte(`{"id":"c0ffee00-1111-2222-3333-444455556666"}`)
	h := http.Header{}
	h.Set(smartrecruiters.HeaderEventName, "candidate.created")
	h.Set(smartrecruiters.HeaderEventVersion, "1")
	h.Set(smartrecruiters.HeaderEventID, "sr-cand-1")
	h.Set(smartrecruiters.HeaderLink, api.URL+"/candidates/c0ffee00-1111-2222-3333-444455556666")
	h.Set(smartrecruiters.HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
	h.Set(smartrecruiters.HeaderSignature, smartrecruiters.Sign(h, body, "sr-key"))
	if code, ans := r.post(t, src.ID, h, body); code != http.StatusAccepted || ans["status"] != hirehook.InboundReceived {
		t.Fatalf("answer %d %v", code, ans)
	}
	if took, err := r.worker.RunOnce(ctx); err != nil || took != 1 {
		t.Fatalf("worker took %d, %v", took, err)
	}
	reqs := r.requests(t, src.ID)
	q := reqs[0]
	if q.Status != hirehook.InboundProcessed || len(q.EventIDs) != 1 || q.Error == "" {
		t.Fatalf("request %+v", q)
	}
	e, _ := r.st.EventGet(ctx, src.TenantID, q.EventIDs[0])
	if e.Type != "candidate.created" || !e.Partial {
		t.Fatalf("event %s partial %v", e.Type, e.Partial)
	}
	for _, s := range []string{q.Error, r.logs.String()} {
		if strings.Contains(s, "wrong-api-key") {
			t.Fatal("the API key leaked")
		}
	}
}

// TestHydrateSmartRecruitersLinkForm: SmartRecruiters sends link as
// "<url>; rel=self" (RFC 8288). The worker fetches the URL inside the
// brackets and emits job.closed with the job's fields. Before, the whole
// value was used as the URL, every hydration failed, and the event was
// left unsupported.
func TestHydrateSmartRecruitersLinkForm(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	api, calls := srAPI(t, "job_FILLED.json", 0)
	r.proc.APIOrigins = map[string][]string{KindSmartRecruiters: {api.URL}}
	src := r.source(t, KindSmartRecruiters, map[string]any{"signing_secret": "sr-key", "api_key": "sr-api-key"})
	h, body := srJobStatus(t, "<"+api.URL+"/jobs/7f3e2d1c-aaaa-bbbb-cccc-111122223333>; rel=self", "sr-key", time.Now())
	code, ans := r.post(t, src.ID, h, body)
	if code != http.StatusAccepted || ans["status"] != hirehook.InboundReceived {
		t.Fatalf("answer %d %v", code, ans)
	}
	if took, err := r.worker.RunOnce(ctx); err != nil || took != 1 {
		t.Fatalf("worker took %d, %v", took, err)
	}
	q, _ := r.st.InboundGet(ctx, src.TenantID, src.ID, ans["request_id"].(string))
	if q.Status != hirehook.InboundProcessed || len(q.EventIDs) != 1 || calls.Load() != 1 {
		t.Fatalf("after hydration (%d calls): %+v", calls.Load(), q)
	}
	e, err := r.st.EventGet(ctx, src.TenantID, q.EventIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != "job.closed" || e.Partial {
		t.Fatalf("event %s partial %v data %s", e.Type, e.Partial, e.Data)
	}
}

// TestHydrateSmartRecruitersOtherHost: the signed link names the host the
// X-SmartToken goes to; a link to a host that is not one of
// SmartRecruiters' API origins gets no request (and no key), and the
// request is settled as received, saying why. Before, the key went to
// whatever host the link named.
func TestHydrateSmartRecruitersOtherHost(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	api, calls := srAPI(t, "job_FILLED.json", 0) // not in APIOrigins
	src := r.source(t, KindSmartRecruiters, map[string]any{"signing_secret": "sr-key", "api_key": "sr-api-key"})
	h, body := srJobStatus(t, api.URL+"/jobs/7f3e2d1c-aaaa-bbbb-cccc-111122223333", "sr-key", time.Now())
	code, ans := r.post(t, src.ID, h, body)
	if code != http.StatusAccepted {
		t.Fatalf("answer %d %v", code, ans)
	}
	if took, err := r.worker.RunOnce(ctx); err != nil || took != 1 {
		t.Fatalf("worker took %d, %v", took, err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d requests reached the host the link named", n)
	}
	q, _ := r.st.InboundGet(ctx, src.TenantID, src.ID, ans["request_id"].(string))
	if q.Status != hirehook.InboundUnsupported || !strings.Contains(q.Error, "not one of the vendor's API origins") || strings.Contains(q.Error, "sr-api-key") {
		t.Fatalf("request %+v", q)
	}
}

// TestHydrateLeverAPIURLOrigin: a Lever source's api_url is configuration
// that someone who cannot read the write-only api_key may change; the key
// goes only to Lever's API origins (https://api.lever.co, its EU region
// and sandbox), so an api_url pointing elsewhere gets no request and the
// event goes out thin, saying why. With the server listed among the
// origins, the same request is hydrated. Before, the key went to whatever
// api_url named.
func TestHydrateLeverAPIURLOrigin(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	opp, err := os.ReadFile(filepath.Join("..", "connector", "lever", "testdata", "api", "opportunity_active.json"))
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if user, _, _ := r.BasicAuth(); user != "lever-api-key" || !strings.HasPrefix(r.URL.Path, "/v1/opportunities/") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(opp)
	}))
	t.Cleanup(api.Close)
	ctx := context.Background()
	post := func(r *rig) *hirehook.InboundRequest {
		t.Helper()
		src := r.source(t, KindLever, map[string]any{"signing_secret": "lv-secret", "api_key": "lever-api-key", "api_url": api.URL + "/v1"})
		var m map[string]any
		if err := json.Unmarshal(fixture(t, "lever", "applicationCreated.json"), &m); err != nil {
			t.Fatal(err)
		}
		ms := time.Now().UnixMilli()
		m["triggeredAt"] = ms
		m["signature"] = lever.Sign(m["token"].(string), ms, "lv-secret")
		body, _ := json.Marshal(m)
		code, ans := r.post(t, src.ID, nil, body)
		if code != http.StatusOK || ans["status"] != hirehook.InboundReceived {
			t.Fatalf("answer %d %v", code, ans)
		}
		if took, err := r.worker.RunOnce(ctx); err != nil || took != 1 {
			t.Fatalf("worker took %d, %v", took, err)
		}
		q, err := r.st.InboundGet(ctx, src.TenantID, src.ID, ans["request_id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return q
	}

	q := post(newRig(t))
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d requests reached the api_url that is not Lever's", n)
	}
	if q.Status != hirehook.InboundProcessed || !strings.Contains(q.Error, "not one of the vendor's API origins") || strings.Contains(q.Error, "lever-api-key") {
		t.Fatalf("request %+v", q)
	}

	r := newRig(t)
	r.proc.APIOrigins = map[string][]string{KindLever: {api.URL}}
	q = post(r)
	if calls.Load() == 0 || q.Status != hirehook.InboundProcessed || q.Error != "" {
		t.Fatalf("with the server among the origins (%d calls): %+v", calls.Load(), q)
	}
	e, err := r.st.EventGet(ctx, hirehook.DefaultTenantID, q.EventIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if e.Partial {
		t.Fatalf("event %s is still partial", e.Data)
	}
}
