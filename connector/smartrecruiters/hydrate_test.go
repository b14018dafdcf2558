package smartrecruiters

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/internal/netguard"
)

const apiKey = "sr-api-key-do-not-leak-7d1f"

// api plays SmartRecruiters' Customer API: each path answers a fixture
// from testdata/api, or a bare status; a request without the API key in
// X-SmartToken or without Accept: application/json gets 401.
func api(tb testing.TB, routes map[string]any) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HeaderToken) != apiKey || r.Header.Get("Accept") != "application/json" || r.Method != http.MethodGet {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch v := routes[r.URL.Path].(type) {
		case string:
			b, err := os.ReadFile(filepath.Join("testdata", "api", v))
			if err != nil {
				tb.Error(err)
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
		case int:
			w.WriteHeader(v)
		case []byte:
			w.Write(v)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// event is the request SmartRecruiters sends for name with body, pointing
// Link at url.
func event(name, body, url string) (http.Header, []byte) {
	h := http.Header{}
	h.Set(HeaderEventName, name)
	h.Set(HeaderEventVersion, "1")
	h.Set(HeaderEventID, "evt-"+name)
	h.Set(HeaderLink, url)
	h.Set(HeaderTimestamp, strconv.FormatInt(testNow.Unix(), 10))
	return h, []byte(body)
}

func hydrateEvent(t *testing.T, srv *httptest.Server, name, body, path string) (thin, full *push.Result, err error) {
	t.Helper()
	h, b := event(name, body, srv.URL+path)
	opts := push.Options{SourceID: "src_sr", Tenant: "acme", Now: testNow}
	thin, perr := Parse(h, b, opts)
	if perr != nil {
		t.Fatalf("parse: %v", perr)
	}
	full, err = Hydrate(context.Background(), srv.Client(), apiKey, []string{srv.URL}, h, b, thin, opts)
	return thin, full, err
}

func data(t *testing.T, ev push.Event) map[string]any {
	t.Helper()
	if _, _, err := catalog.Default().ValidateEvent(ev.Type, ev.Data); err != nil {
		t.Fatalf("%s does not validate: %v", ev.Type, err)
	}
	var m map[string]any
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func refs(id string) []any {
	return []any{map[string]any{"system": "smartrecruiters", "id": id, "tenant": "acme"}}
}

func TestHydrate_candidate(t *testing.T) {
	t.Parallel()
	srv := api(t, map[string]any{"/candidates/c1": "candidate.json"})
	thin, full, err := hydrateEvent(t, srv, "candidate.updated", `{"id":"c0ffee00-1111-2222-3333-444455556666"}`, "/candidates/c1")
	if err != nil {
		t.Fatal(err)
	}
	if full.Thin || full.NeedsHydration || full.Unsupported || len(full.Events) != 1 {
		t.Fatalf("got %+v, want one full event", full)
	}
	if !thin.Thin {
		t.Error("Hydrate changed its input")
	}
	got, was := full.Events[0], thin.Events[0]
	if got.ID != was.ID || got.Type != "candidate.updated" || !got.OccurredAt.Equal(was.OccurredAt) {
		t.Errorf("got id %s type %s at %v, want id %s type candidate.updated at %v", got.ID, got.Type, got.OccurredAt, was.ID, was.OccurredAt)
	}
	want := map[string]any{
		"id":            "sr_c0ffee00-1111-2222-3333-444455556666",
		"external_refs": refs("c0ffee00-1111-2222-3333-444455556666"),
		"first_name":    "Amara",
		"last_name":     "Okafor",
		"email":         "amara.okafor@example.com",
		"phone":         "+447700900123",
		"location":      map[string]any{"city": "Manchester", "region": "ENG", "country": "GB"},
		"urls": []any{
			map[string]any{"value": "https://www.linkedin.com/in/amara-okafor", "type": "linkedin"},
			map[string]any{"value": "https://amara.example", "type": "website"},
		},
		"created_at": "2026-03-02T10:15:00Z",
		"updated_at": "2026-03-09T08:01:12Z",
	}
	if d := cmp.Diff(want, data(t, got)); d != "" {
		t.Errorf("data (-want +got):\n%s", d)
	}
}

func TestHydrate_applicationStatus(t *testing.T) {
	t.Parallel()
	srv := api(t, map[string]any{"/hired": "application_hired.json", "/review": "application_in_review.json"})
	body := `{"id":"a11ce000-0000-4000-8000-000000000001","candidateId":"c0ffee00-1111-2222-3333-444455556666","jobId":"7f3e2d1c-aaaa-bbbb-cccc-111122223333"}`

	thin, full, err := hydrateEvent(t, srv, "application.status.updated", body, "/review")
	if err != nil {
		t.Fatal(err)
	}
	got := full.Events[0]
	if got.ID != thin.Events[0].ID || got.Type != "application.stage_changed" || got.Derived {
		t.Errorf("in review: got id %s type %s derived %v, want the thin id %s, application.stage_changed, not derived", got.ID, got.Type, got.Derived, thin.Events[0].ID)
	}
	want := map[string]any{
		"id":            "sr_c0ffee00-1111-2222-3333-444455556666:7f3e2d1c-aaaa-bbbb-cccc-111122223333",
		"external_refs": refs("c0ffee00-1111-2222-3333-444455556666:7f3e2d1c-aaaa-bbbb-cccc-111122223333"),
		"kind":          "application",
		"candidate_id":  "sr_c0ffee00-1111-2222-3333-444455556666",
		"job_id":        "sr_7f3e2d1c-aaaa-bbbb-cccc-111122223333",
		"job":           map[string]any{"id": "sr_7f3e2d1c-aaaa-bbbb-cccc-111122223333", "title": "Java Developer"},
		"status":        "active",
		"stage":         map[string]any{"id": "IN_REVIEW", "name": "In review", "category": "screening"},
		"applied_at":    "2026-03-02T10:15:00Z",
		"updated_at":    "2026-03-03T09:00:00Z",
	}
	if d := cmp.Diff(want, data(t, got)); d != "" {
		t.Errorf("data (-want +got):\n%s", d)
	}

	_, full, err = hydrateEvent(t, srv, "application.status.updated", body, "/hired")
	if err != nil {
		t.Fatal(err)
	}
	got = full.Events[0]
	if got.Type != "application.hired" || !got.Derived {
		t.Errorf("hired: got type %s derived %v, want application.hired, derived", got.Type, got.Derived)
	}
	d := data(t, got)
	if d["status"] != "hired" || d["source"] != "LinkedIn" || cmp.Diff(map[string]any{"id": "HIRED", "name": "Contract signed", "category": "hired"}, d["stage"]) != "" {
		t.Errorf("hired: got status %v source %v stage %v", d["status"], d["source"], d["stage"])
	}
}

func TestHydrate_needsHydration(t *testing.T) {
	t.Parallel()
	routes := map[string]any{}
	for _, f := range []string{"job_SOURCING", "job_FILLED", "job_CREATED", "jobad_PUBLIC", "jobad_NOT_PUBLISHED", "offer_EXTENDED", "offer_ACCEPTED", "offer_DECLINED", "offer_CREATED"} {
		routes["/"+f] = f + ".json"
	}
	srv := api(t, routes)
	const (
		jobID   = "7f3e2d1c-aaaa-bbbb-cccc-111122223333"
		adID    = "ad000000-0000-4000-8000-000000000009"
		offerID = "0ff00000-0000-4000-8000-000000000042"
	)
	tests := []struct {
		event, body, path string
		wantType          string // "" → Unsupported
		wantID            string
		want              map[string]any // a subset of data
	}{
		{"job.status.updated", `{"job_id":"` + jobID + `"}`, "/job_SOURCING", "job.opened", jobID, map[string]any{"status": "sourcing", "title": "Java Developer", "code": "REF914A", "employment_type": "permanent"}},
		{"job.status.updated", `{"job_id":"` + jobID + `"}`, "/job_FILLED", "job.closed", jobID, map[string]any{"status": "filled", "close_reason": "filled"}},
		{"job.status.updated", `{"job_id":"` + jobID + `"}`, "/job_CREATED", "", "", nil},
		{"job.ad.postings.updated", `{"jobId":"` + jobID + `","jobAdId":"` + adID + `"}`, "/jobad_PUBLIC", "job.posting_updated", adID, map[string]any{"status": "public", "internal": false, "job_id": "sr_" + jobID}},
		{"job.ad.postings.updated", `{"jobId":"` + jobID + `","jobAdId":"` + adID + `"}`, "/jobad_NOT_PUBLISHED", "job.unposted", adID, map[string]any{"status": "not_published", "job_id": "sr_" + jobID}},
		{"offer.updated", `{"id":"` + offerID + `"}`, "/offer_EXTENDED", "offer.extended", offerID, map[string]any{"status": "extended", "candidate_id": "sr_c0ffee00-1111-2222-3333-444455556666", "job_id": "sr_" + jobID}},
		{"offer.updated", `{"id":"` + offerID + `"}`, "/offer_ACCEPTED", "offer.accepted", offerID, map[string]any{"status": "accepted"}},
		{"offer.updated", `{"id":"` + offerID + `"}`, "/offer_DECLINED", "offer.declined", offerID, map[string]any{"status": "declined"}},
		{"offer.updated", `{"id":"` + offerID + `"}`, "/offer_CREATED", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			thin, full, err := hydrateEvent(t, srv, tt.event, tt.body, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if !thin.NeedsHydration {
				t.Fatalf("%s: Parse did not ask for hydration", tt.event)
			}
			if full.NeedsHydration || full.Thin {
				t.Errorf("still NeedsHydration %v / Thin %v", full.NeedsHydration, full.Thin)
			}
			if tt.wantType == "" {
				if !full.Unsupported || full.Reason == "" || len(full.Events) != 0 {
					t.Errorf("got %+v, want Unsupported with a reason and no events", full)
				}
				return
			}
			if full.Unsupported || len(full.Events) != 1 {
				t.Fatalf("got %+v, want one event", full)
			}
			ev := full.Events[0]
			if ev.Type != tt.wantType || !ev.Derived || ev.Subject.ID != "sr_"+tt.wantID {
				t.Errorf("got %s derived %v subject %s, want %s derived sr_%s", ev.Type, ev.Derived, ev.Subject.ID, tt.wantType, tt.wantID)
			}
			if !ev.OccurredAt.Equal(testNow) {
				t.Errorf("occurred %v, want the signed timestamp %v", ev.OccurredAt, testNow)
			}
			d := data(t, ev)
			for k, v := range tt.want {
				if diff := cmp.Diff(v, d[k]); diff != "" {
					t.Errorf("data[%s] (-want +got):\n%s", k, diff)
				}
			}
			// Same request, same ids: a redelivery hydrated again is dropped
			// by ingest.
			_, again, err := hydrateEvent(t, srv, tt.event, tt.body, tt.path)
			if err != nil || again.Events[0].ID != ev.ID {
				t.Errorf("second hydration: id %v err %v, want %s", again, err, ev.ID)
			}
		})
	}
}

func TestHydrate_errors(t *testing.T) {
	t.Parallel()
	srv := api(t, map[string]any{
		"/gone": http.StatusNotFound, "/deleted": http.StatusGone,
		"/busy": http.StatusTooManyRequests, "/down": http.StatusServiceUnavailable, "/broken": http.StatusInternalServerError,
		"/forbidden": http.StatusForbidden, "/huge": []byte(`{"id":"` + strings.Repeat("x", MaxResponse) + `"}`),
		"/notjson": []byte(`<html>`),
	})
	tests := []struct {
		path string
		want error // nil: a plain error, neither sentinel
	}{
		{"/gone", push.ErrHydrateGone},
		{"/deleted", push.ErrHydrateGone},
		{"/busy", push.ErrHydrateTemporary},
		{"/down", push.ErrHydrateTemporary},
		{"/broken", push.ErrHydrateTemporary},
		{"/forbidden", nil},
		{"/huge", nil},
		{"/notjson", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			_, full, err := hydrateEvent(t, srv, "candidate.created", `{"id":"c1"}`, tt.path)
			if err == nil || full != nil {
				t.Fatalf("got %+v, %v; want an error", full, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if tt.want == nil && (errors.Is(err, push.ErrHydrateGone) || errors.Is(err, push.ErrHydrateTemporary)) {
				t.Errorf("got %v, want neither sentinel", err)
			}
			if strings.Contains(err.Error(), apiKey) {
				t.Errorf("error %q holds the API key", err)
			}
		})
	}
}

func TestHydrate_keyRefused(t *testing.T) {
	t.Parallel()
	srv := api(t, map[string]any{"/candidates/c1": "candidate.json"})
	h, b := event("candidate.created", `{"id":"c1"}`, srv.URL+"/candidates/c1")
	res, err := Parse(h, b, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "sr-wrong-key-0042"
	_, err = Hydrate(context.Background(), srv.Client(), wrong, []string{srv.URL}, h, b, res, push.Options{})
	if err == nil {
		t.Fatal("a refused key hydrated")
	}
	if errors.Is(err, push.ErrHydrateTemporary) || errors.Is(err, push.ErrHydrateGone) {
		t.Errorf("got %v: a refused key is neither temporary nor gone", err)
	}
	if !strings.Contains(err.Error(), "API key was refused") || !strings.Contains(err.Error(), "401") {
		t.Errorf("got %q, want it to say the API key was refused (401)", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error %q holds the API key", err)
	}
}

func TestHydrate_networkError(t *testing.T) {
	t.Parallel()
	srv := api(t, nil)
	url := srv.URL + "/candidates/c1"
	srv.Close()
	h, b := event("candidate.created", `{"id":"c1"}`, url)
	res, err := Parse(h, b, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Hydrate(context.Background(), http.DefaultClient, apiKey, []string{srv.URL}, h, b, res, push.Options{})
	if !errors.Is(err, push.ErrHydrateTemporary) {
		t.Errorf("got %v, want ErrHydrateTemporary", err)
	}
	if err != nil && strings.Contains(err.Error(), apiKey) {
		t.Errorf("error %q holds the API key", err)
	}
}

func TestHydrate_deletedNotFetched(t *testing.T) {
	t.Parallel()
	srv := api(t, map[string]any{"/candidates/c1": http.StatusNotFound})
	thin, full, err := hydrateEvent(t, srv, "candidate.deleted", `{"id":"c1"}`, "/candidates/c1")
	if err != nil {
		t.Fatal(err)
	}
	if full.Thin || len(full.Events) != 1 || full.Events[0].ID != thin.Events[0].ID || string(full.Events[0].Data) != string(thin.Events[0].Data) {
		t.Errorf("got %+v, want the thin event as it is, Thin false", full)
	}
}

func TestHydrate_timeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hang until the client gives up
	}))
	t.Cleanup(srv.Close)
	h, b := event("candidate.created", `{"id":"c1"}`, srv.URL+"/candidates/c1")
	res, err := Parse(h, b, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := Hydrate(context.Background(), c, apiKey, []string{srv.URL}, h, b, res, push.Options{}); !errors.Is(err, push.ErrHydrateTemporary) {
		t.Errorf("got %v, want ErrHydrateTemporary", err)
	}
}

func TestHydrate_noKeyToOtherHost(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HeaderToken) != "" {
			t.Error("the API key was sent to another host")
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(other.Close)
	// Same port, another host name: a redirect to another host.
	target := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/x"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	h, b := event("candidate.created", `{"id":"c1"}`, srv.URL+"/candidates/c1")
	res, err := Parse(h, b, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Hydrate(context.Background(), srv.Client(), apiKey, []string{srv.URL}, h, b, res, push.Options{}); err == nil || strings.Contains(err.Error(), apiKey) {
		t.Errorf("got %v, want an error (a 302 is not a resource) without the key", err)
	}
}

// TestHydrate_linkForm: SmartRecruiters sends link in the RFC 8288 form
// "<url>; rel=self". Hydrate fetches the URL inside the brackets; before,
// it used the whole value as the URL and every hydration failed.
func TestHydrate_linkForm(t *testing.T) {
	t.Parallel()
	srv := api(t, map[string]any{"/candidates/c1": "candidate.json"})
	for _, link := range []string{
		"<" + srv.URL + "/candidates/c1>; rel=self",
		"<" + srv.URL + "/candidates/c1>; rel=\"self\"",
		"<" + srv.URL + "/jobs/j1>; rel=\"related\", <" + srv.URL + "/candidates/c1>; rel=self",
	} {
		h, b := event("candidate.created", `{"id":"c1"}`, link)
		opts := push.Options{SourceID: "src_sr", Tenant: "acme", Now: testNow}
		thin, err := Parse(h, b, opts)
		if err != nil {
			t.Fatal(err)
		}
		full, err := Hydrate(context.Background(), srv.Client(), apiKey, []string{srv.URL}, h, b, thin, opts)
		if err != nil {
			t.Fatalf("link %q: %v", link, err)
		}
		if full.Thin || data(t, full.Events[0])["email"] == nil {
			t.Fatalf("link %q: not hydrated: %s", link, full.Events[0].Data)
		}
	}
}

// TestHydrate_onlyAPIHosts: the signed link names the host the API key
// goes to; a host that is not SmartRecruiters' API (by default
// https://api.smartrecruiters.com) gets no request at all.
func TestHydrate_onlyAPIHosts(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		if r.Header.Get(HeaderToken) != "" {
			t.Error("the API key was sent to a host the link named")
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(evil.Close)
	h, b := event("candidate.created", `{"id":"c1"}`, "<"+evil.URL+"/candidates/c1>; rel=self")
	res, err := Parse(h, b, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, origins := range [][]string{nil, {"https://api.smartrecruiters.com"}, {"http://api.example.test"}} {
		_, err := Hydrate(context.Background(), evil.Client(), apiKey, origins, h, b, res, push.Options{})
		if err == nil || errors.Is(err, push.ErrHydrateTemporary) || strings.Contains(err.Error(), apiKey) {
			t.Fatalf("origins %v: got %v, want a final error without the key", origins, err)
		}
	}
	if n := got.Load(); n != 0 {
		t.Fatalf("%d requests reached the host the link named", n)
	}
}

// TestHydrate_nilClientIsGuarded: without a client, Hydrate uses
// netguard's, so a link on loopback (allowed as an origin here) is refused
// at dial time and the server never sees the key. (It was a plain client
// that dialled anything.)
func TestHydrate_nilClientIsGuarded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the server was reached: %s", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	h, b := event("candidate.created", `{"id":"c1"}`, srv.URL+"/candidates/c1")
	res, err := Parse(h, b, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Hydrate(context.Background(), nil, apiKey, []string{srv.URL}, h, b, res, push.Options{})
	if !errors.Is(err, netguard.ErrForbidden) {
		t.Errorf("got %v, want netguard.ErrForbidden", err)
	}
}
