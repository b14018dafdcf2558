package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook/api"
)

// TestMounts: /metrics and the dashboard are mounted beside the API and
// the health routes, and take nothing from them.
func TestMounts(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	marker := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "%s %s", name, r.URL.Path) })
	}
	s := &Server{Addr: "127.0.0.1:0", Store: st, API: api.New(api.Config{Store: st}), Web: marker("web"), Metrics: marker("metrics")}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	for _, tc := range []struct{ path, want string }{
		{"/metrics", "metrics /metrics"},
		{"/", "web /"},
		{"/events/evt_1", "web /events/evt_1"},
		{"/static/style.css", "web /static/style.css"},
		{"/healthz", `{"status":"ok"}` + "\n"},
		{"/v1/events", `{"error":{"code":"unauthorized"`},
	} {
		resp, err := http.Get(s.URL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := string(body); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
			t.Errorf("GET %s = %q, want %q…", tc.path, got, tc.want)
		}
	}
}

// TestMethodNotAllowed: a known path asked with another method is 405 with
// Allow, though the dashboard's catch-all takes every other path; an
// unknown path still reaches the dashboard, or is a JSON 404 without one.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	marker := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "web %s", r.URL.Path) })
	open := func(web http.Handler) *Server {
		s := &Server{Addr: "127.0.0.1:0", Store: st, API: api.New(api.Config{Store: st}), Web: web, Metrics: marker, Inbound: marker}
		if err := s.Open(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s.Close(ctx)
		})
		return s
	}
	do := func(s *Server, method, path string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	for _, web := range []http.Handler{marker, nil} {
		s := open(web)
		for _, tc := range []struct{ method, path, allow string }{
			{http.MethodPost, "/healthz", "GET, HEAD"},
			{http.MethodDelete, "/readyz", "GET, HEAD"},
			{http.MethodPut, "/metrics", "GET, HEAD"},
			{http.MethodGet, "/in/src_1", "POST"},
			{http.MethodPatch, "/v1/events", "GET, HEAD, POST"},
		} {
			resp, body := do(s, tc.method, tc.path)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("%s %s (web %v) = %d, Allow %q; want 405, Allow %q; body %s", tc.method, tc.path, web != nil, resp.StatusCode, resp.Header.Get("Allow"), tc.allow, body)
			}
			if !strings.Contains(body, `"code":"method_not_allowed"`) {
				t.Errorf("%s %s body = %s, want a JSON error method_not_allowed", tc.method, tc.path, body)
			}
		}
		resp, body := do(s, http.MethodPost, "/somewhere")
		switch {
		case web != nil && body != "web /somewhere":
			t.Errorf("POST /somewhere = %d %q, want the dashboard's answer", resp.StatusCode, body)
		case web == nil && (resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`)):
			t.Errorf("POST /somewhere without a dashboard = %d %q, want a JSON 404", resp.StatusCode, body)
		}
	}
}
