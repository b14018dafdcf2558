package lever

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/internal/netguard"
)

const apiKey = "lv-api-key-do-not-leak-93be"

const (
	oppPath    = "/opportunities/250d8f03-738a-4bba-a671-8a3d73477145"
	reasonPath = "/archive_reasons/63dd55b2-a99f-4e7b-985f-22c7bf80ab42"
	contactID  = "7f8a1c2e-1111-4bba-a671-8a3d73477145"
)

// leverAPI plays the Lever API: each path answers a fixture from
// testdata/api or a bare status. A request without basic auth (the API key
// as user, an empty password) or without Accept: application/json gets
// 401; one for the opportunity must expand stage, owner and applications.
func leverAPI(tb testing.TB, routes map[string]any) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != apiKey || pass != "" || r.Header.Get("Accept") != "application/json" || r.Method != http.MethodGet {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == oppPath {
			if got := strings.Join(r.URL.Query()["expand"], ","); got != "stage,owner,applications" {
				tb.Errorf("opportunity expand = %q", got)
			}
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
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

func hydrateFixture(t *testing.T, srv *httptest.Server, body []byte) (thin, full *push.Result, err error) {
	t.Helper()
	thin, perr := Parse(body, push.Options{})
	if perr != nil {
		t.Fatalf("parse: %v", perr)
	}
	full, err = Hydrate(context.Background(), srv.Client(), srv.URL, apiKey, []string{srv.URL}, thin, push.Options{})
	return thin, full, err
}

func decoded(t *testing.T, ev push.Event) map[string]any {
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

func TestHydrate_stageChange(t *testing.T) {
	t.Parallel()
	srv := leverAPI(t, map[string]any{oppPath: "opportunity_active.json", "/stages/lead-new": "stage_lead_new.json"})
	thin, full, err := hydrateFixture(t, srv, fixture(t, "candidateStageChange.json"))
	if err != nil {
		t.Fatal(err)
	}
	if full.Thin || !thin.Thin || len(full.Events) != 1 {
		t.Fatalf("got Thin %v (input %v), %d events", full.Thin, thin.Thin, len(full.Events))
	}
	got, was := full.Events[0], thin.Events[0]
	if got.ID != was.ID || got.Type != "application.stage_changed" || !got.OccurredAt.Equal(was.OccurredAt) || got.Derived {
		t.Errorf("got %s %s at %s derived %v, want %s application.stage_changed at %s", got.ID, got.Type, got.OccurredAt, got.Derived, was.ID, was.OccurredAt)
	}
	want := map[string]any{
		"id":               "lv_250d8f03-738a-4bba-a671-8a3d73477145",
		"external_refs":    []any{map[string]any{"system": "lever", "id": "250d8f03-738a-4bba-a671-8a3d73477145"}},
		"kind":             "application",
		"candidate_id":     "lv_" + contactID,
		"candidate":        map[string]any{"id": "lv_" + contactID, "email": "shane@exampleq3.com", "phone": "(123) 456-7891"},
		"job_id":           "lv_f2f01e16-27f8-4711-a728-7d49499795a0",
		"status":           "active",
		"stage":            map[string]any{"id": "lv_00922a60-7c15-4d29-9f64-1a2b3c4d5e6f", "name": "Phone Screen"},
		"previous_stage":   map[string]any{"id": "lv_lead-new", "name": "New lead"},
		"recruiter":        map[string]any{"id": "lv_df0adaa6-172c-4cd6-8520-49b203660fe1", "name": "Rachel Green", "email": "rachel@example.com"},
		"source":           "linkedin",
		"tags":             []any{"San Francisco", "Full-time"},
		"applied_at":       "2014-08-08T01:07:51.043Z",
		"created_at":       "2014-08-08T01:07:51.043Z",
		"updated_at":       "2026-03-31T09:39:50Z",
		"stage_changed_at": "2026-03-31T06:53:20Z",
	}
	if d := cmp.Diff(want, decoded(t, got)); d != "" {
		t.Errorf("data (-want +got):\n%s", d)
	}
	ch := stageChange(t, got)
	if string(ch.From) != `{"id":"lv_lead-new","name":"New lead"}` || string(ch.To) != `{"id":"lv_00922a60-7c15-4d29-9f64-1a2b3c4d5e6f","name":"Phone Screen"}` {
		t.Errorf("changes.stage = %s → %s", ch.From, ch.To)
	}
}

func TestHydrate_archive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reason, wantType string
		wantDerived      bool
		want             map[string]any
	}{
		{"archive_reason_underqualified.json", "application.rejected", false, map[string]any{"status": "rejected", "rejected_at": "2026-03-31T09:39:50Z", "rejection_reason": "Underqualified"}},
		{"archive_reason_hired.json", "application.hired", true, map[string]any{"status": "hired", "hired_at": "2026-03-31T09:39:50Z", "rejected_at": nil, "rejection_reason": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			t.Parallel()
			srv := leverAPI(t, map[string]any{oppPath: "opportunity_archived.json", reasonPath: tt.reason})
			thin, full, err := hydrateFixture(t, srv, fixture(t, "candidateArchiveChange.json"))
			if err != nil {
				t.Fatal(err)
			}
			got := full.Events[0]
			wantID := thin.Events[0].ID
			if tt.wantType != thin.Events[0].Type {
				wantID = eventIDOf("", thin.DedupeKey, tt.wantType)
			}
			if got.Type != tt.wantType || got.Derived != tt.wantDerived || got.ID != wantID {
				t.Errorf("got %s %s derived %v, want %s %s derived %v", got.ID, got.Type, got.Derived, wantID, tt.wantType, tt.wantDerived)
			}
			if got.ID != eventIDOf("", "token:tok04tok04tok04tok04tok04tok04tok04tok04abcdefgh", tt.wantType) {
				t.Errorf("id %s", got.ID)
			}
			d := decoded(t, got)
			for k, v := range tt.want {
				if diff := cmp.Diff(v, d[k]); diff != "" {
					t.Errorf("data[%s] (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}

func TestHydrate_contact(t *testing.T) {
	t.Parallel()
	srv := leverAPI(t, map[string]any{"/contacts/" + contactID: "contact.json"})
	body := []byte(`{"id": "e1b6a7c2-0009", "event": "contactUpdated", "triggeredAt": 1774950000000, "token": "t", "signature": "s", "data": {"contactId": "` + contactID + `"}}`)
	thin, full, err := hydrateFixture(t, srv, body)
	if err != nil {
		t.Fatal(err)
	}
	got := full.Events[0]
	if got.ID != thin.Events[0].ID || got.Type != "candidate.updated" {
		t.Errorf("got %s %s, want %s candidate.updated", got.ID, got.Type, thin.Events[0].ID)
	}
	want := map[string]any{
		"id":            "lv_" + contactID,
		"external_refs": []any{map[string]any{"system": "lever", "id": contactID}},
		"name":          "Shane Smith",
		"headline":      "Brickly LLC, Vandelay Industries, Inc, Central Perk",
		"location":      map[string]any{"name": "Oakland"},
		"email":         "shane@exampleq3.com",
		"emails":        []any{map[string]any{"value": "shane@exampleq3.com"}, map[string]any{"value": "shane.smith@example.org"}},
		"phone":         "(123) 456-7891",
		"phones":        []any{map[string]any{"value": "(123) 456-7891", "type": "mobile"}},
	}
	if d := cmp.Diff(want, decoded(t, got)); d != "" {
		t.Errorf("data (-want +got):\n%s", d)
	}
}

func TestHydrate_secondaryGone(t *testing.T) {
	t.Parallel()
	// The previous stage was deleted since: the event still hydrates.
	srv := leverAPI(t, map[string]any{oppPath: "opportunity_active.json", "/stages/lead-new": http.StatusNotFound})
	_, full, err := hydrateFixture(t, srv, fixture(t, "candidateStageChange.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := decoded(t, full.Events[0])
	if d["previous_stage"] != nil || d["stage"] == nil {
		t.Errorf("previous_stage %v stage %v, want none and the current one", d["previous_stage"], d["stage"])
	}
}

func TestHydrate_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		want   error
	}{
		{"not found", http.StatusNotFound, push.ErrHydrateGone},
		{"gone", http.StatusGone, push.ErrHydrateGone},
		{"rate limited", http.StatusTooManyRequests, push.ErrHydrateTemporary},
		{"unavailable", http.StatusServiceUnavailable, push.ErrHydrateTemporary},
		{"server error", http.StatusInternalServerError, push.ErrHydrateTemporary},
		{"forbidden", http.StatusForbidden, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := leverAPI(t, map[string]any{oppPath: tt.status})
			_, full, err := hydrateFixture(t, srv, fixture(t, "candidateHired.json"))
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
	srv := leverAPI(t, map[string]any{oppPath: "opportunity_active.json"})
	res, err := Parse(fixture(t, "candidateHired.json"), push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "lv-wrong-key-0042"
	_, err = Hydrate(context.Background(), srv.Client(), srv.URL, wrong, []string{srv.URL}, res, push.Options{})
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
	srv := leverAPI(t, nil)
	base := srv.URL
	srv.Close()
	res, err := Parse(fixture(t, "candidateHired.json"), push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Hydrate(context.Background(), http.DefaultClient, base, apiKey, []string{base}, res, push.Options{})
	if !errors.Is(err, push.ErrHydrateTemporary) {
		t.Errorf("got %v, want ErrHydrateTemporary", err)
	}
}

func TestHydrate_interview(t *testing.T) {
	t.Parallel()
	srv := leverAPI(t, map[string]any{oppPath + "/interviews/6fd6d5a9-2b3c-4a88-9f00-0a1b2c3d4e5f": "interview.json"})
	body := []byte(`{"id": "e1b6a7c2-0010", "event": "interviewCreated", "triggeredAt": 1774950000000, "token": "t", "signature": "s", "data": {"interviewId": "6fd6d5a9-2b3c-4a88-9f00-0a1b2c3d4e5f", "opportunityId": "250d8f03-738a-4bba-a671-8a3d73477145", "contactId": "` + contactID + `"}}`)
	thin, full, err := hydrateFixture(t, srv, body)
	if err != nil {
		t.Fatal(err)
	}
	got := full.Events[0]
	if got.ID != thin.Events[0].ID || got.Type != "interview.scheduled" {
		t.Errorf("got %s %s, want %s interview.scheduled", got.ID, got.Type, thin.Events[0].ID)
	}
	want := map[string]any{
		"id":             "lv_6fd6d5a9-2b3c-4a88-9f00-0a1b2c3d4e5f",
		"external_refs":  []any{map[string]any{"system": "lever", "id": "6fd6d5a9-2b3c-4a88-9f00-0a1b2c3d4e5f"}},
		"application_id": "lv_250d8f03-738a-4bba-a671-8a3d73477145",
		"candidate_id":   "lv_" + contactID,
		"title":          "On-site interview - Shane Smith",
		"timezone":       "America/Los_Angeles",
		"location":       "Room 101",
		"start_at":       "2026-04-02T09:00:00Z",
		"end_at":         "2026-04-02T09:45:00Z",
		"created_at":     "2026-03-31T06:53:20Z",
		"status":         "scheduled",
		"interviewers":   []any{map[string]any{"id": "lv_df0adaa6-172c-4cd6-8520-49b203660fe1", "name": "Rachel Green", "email": "rachel@example.com"}},
	}
	if d := cmp.Diff(want, decoded(t, got)); d != "" {
		t.Errorf("data (-want +got):\n%s", d)
	}
}

// TestHydrate_nilClientIsGuarded: without a client, Hydrate uses
// netguard's, so an api_url on loopback (allowed as an origin here) is
// refused at dial time and the server never sees the key. (It was a plain
// client that dialled anything.)
func TestHydrate_nilClientIsGuarded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the server was reached: %s", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	res, err := Parse(fixture(t, "candidateHired.json"), push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Hydrate(context.Background(), nil, srv.URL, apiKey, []string{srv.URL}, res, push.Options{})
	if !errors.Is(err, netguard.ErrForbidden) {
		t.Errorf("got %v, want netguard.ErrForbidden", err)
	}
}
