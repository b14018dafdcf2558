package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
