package server

// The tests are in package server (not server_test) only so that
// TestMiddleware_panic can wrap a panicking handler in s.middleware: the
// Server has no way to add a route. Every other test goes through Open and
// real HTTP requests.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/store/sqlite"
)

// logBuffer collects log output; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newStore opens a SQLite store on a file in a temporary directory. It may
// be closed by the test; closing twice is allowed.
func newStore(tb testing.TB) hirehook.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "hirehook.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// testServer is a Server wired as cmd/hirehook wires it, without a
// dispatcher.
type testServer struct {
	*Server
	Store hirehook.Store
	Key   string
	Log   *logBuffer
}

// startServer opens a Server on a free port; everything it starts is
// stopped in tb's cleanup.
func startServer(tb testing.TB) *testServer {
	tb.Helper()
	return startServerOn(tb, newStore(tb))
}

// startServerOn is startServer on the store st.
func startServerOn(tb testing.TB, st hirehook.Store) *testServer {
	tb.Helper()
	ctx := context.Background()
	key := "hh_test_" + hirehook.NewSecret()
	if err := st.APIKeyCreate(ctx, &hirehook.APIKey{
		ID: hirehook.NewID("key"), TenantID: hirehook.DefaultTenantID, Name: "t", Scope: hirehook.ScopeAdmin,
		Hash: api.HashKey(key), CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}); err != nil {
		tb.Fatalf("create api key: %v", err)
	}

	ing := ingest.New(st, ingest.Config{})
	if err := ing.Start(ctx); err != nil {
		tb.Fatalf("start ingester: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ing.Stop(ctx); err != nil {
			tb.Errorf("stop ingester: %v", err)
		}
	})

	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	s := &Server{
		Addr:   "127.0.0.1:0",
		Store:  st,
		API:    api.New(api.Config{Store: st, Ingester: ing, Logger: logger}),
		Logger: logger,
	}
	if err := s.Open(); err != nil {
		tb.Fatalf("open server: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			tb.Errorf("close server: %v", err)
		}
		if tb.Failed() {
			tb.Logf("server log:\n%s", logs)
		}
	})
	return &testServer{Server: s, Store: st, Key: key, Log: logs}
}

// response is a whole HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request to the server and reads the whole answer. header is
// added to the request.
func (s *testServer) do(tb testing.TB, method, path string, header map[string]string) *response {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, s.URL()+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// wantJSON checks the status and content type of res and that its body is
// exactly the JSON object want.
func wantJSON(tb testing.TB, res *response, status int, want map[string]any) {
	tb.Helper()
	if res.Status != status {
		tb.Errorf("status = %d, want %d (body %s)", res.Status, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json", ct)
	}
	var got map[string]any
	if err := json.Unmarshal(res.Body, &got); err != nil {
		tb.Fatalf("body %q is not a JSON object: %v", res.Body, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// wantError checks that res is an error answer with status and code, whose
// request id is the response's X-Request-Id, and returns its detail.
func wantError(tb testing.TB, res *response, status int, code string) api.ErrorDetail {
	tb.Helper()
	if res.Status != status {
		tb.Errorf("status = %d, want %d (body %s)", res.Status, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body api.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(res.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		tb.Fatalf("body %q is not an error body: %v", res.Body, err)
	}
	if body.Error.Code != code {
		tb.Errorf("error code = %q, want %q (message %q)", body.Error.Code, code, body.Error.Message)
	}
	if id := res.Header.Get("X-Request-Id"); body.Error.RequestID != id {
		tb.Errorf("error request_id = %q, want the X-Request-Id header %q", body.Error.RequestID, id)
	}
	return body.Error
}

func TestHealth(t *testing.T) {
	t.Parallel()

	type bundle struct {
		srv *testServer
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{srv: startServer(t)}
	}

	t.Run("Healthz", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.srv.do(t, "GET", "/healthz", nil)
		wantJSON(t, res, http.StatusOK, map[string]any{"status": "ok"})
	})

	t.Run("Readyz", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.srv.do(t, "GET", "/readyz", nil)
		wantJSON(t, res, http.StatusOK, map[string]any{"status": "ready"})
	})

	t.Run("ReadyzStoreClosed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if err := b.srv.Store.Close(); err != nil {
			t.Fatalf("close store: %v", err)
		}
		res := b.srv.do(t, "GET", "/readyz", nil)
		wantError(t, res, http.StatusServiceUnavailable, hirehook.EUNAVAILABLE)
		// Liveness does not depend on the store.
		wantJSON(t, b.srv.do(t, "GET", "/healthz", nil), http.StatusOK, map[string]any{"status": "ok"})
	})

	t.Run("WrongMethod", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if res := b.srv.do(t, "POST", "/healthz", nil); res.Status != http.StatusMethodNotAllowed {
			t.Errorf("POST /healthz status = %d, want %d", res.Status, http.StatusMethodNotAllowed)
		}
	})
}

func TestAPIMounted(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	res := srv.do(t, "GET", "/v1/event-types", map[string]string{"Authorization": "Bearer " + srv.Key})
	if res.Status != http.StatusOK {
		t.Fatalf("GET /v1/event-types = %d %s, want 200", res.Status, res.Body)
	}
	res = srv.do(t, "GET", "/v1/event-types", nil)
	wantError(t, res, http.StatusUnauthorized, hirehook.EUNAUTHORIZED)
	res = srv.do(t, "GET", "/v1/no-such-route", map[string]string{"Authorization": "Bearer " + srv.Key})
	wantError(t, res, http.StatusNotFound, hirehook.ENOTFOUND)
}

func TestRequestID(t *testing.T) {
	t.Parallel()

	type bundle struct {
		srv *testServer
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{srv: startServer(t)}
	}

	t.Run("Generated", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		seen := map[string]string{}
		for _, path := range []string{"/healthz", "/readyz", "/v1/events", "/v1/no-such-route", "/no-such-page"} {
			res := b.srv.do(t, "GET", path, nil)
			id := res.Header.Get("X-Request-Id")
			if !strings.HasPrefix(id, "req_") || len(id) != len("req_")+26 {
				t.Errorf("GET %s: X-Request-Id = %q, want a generated req_ id", path, id)
			}
			if other, ok := seen[id]; ok {
				t.Errorf("GET %s and GET %s have the same request id %q", path, other, id)
			}
			seen[id] = path
		}
	})

	t.Run("ErrorBodyCarriesID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// wantError checks request_id against the header.
		wantError(t, b.srv.do(t, "GET", "/v1/events", nil), http.StatusUnauthorized, hirehook.EUNAUTHORIZED)
	})

	t.Run("ClientIDEchoed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const id = "ats-7f3a:retry-2"
		for _, path := range []string{"/healthz", "/v1/events"} {
			res := b.srv.do(t, "GET", path, map[string]string{"X-Request-Id": id})
			if got := res.Header.Get("X-Request-Id"); got != id {
				t.Errorf("GET %s: X-Request-Id = %q, want the client's %q", path, got, id)
			}
		}
		d := wantError(t, b.srv.do(t, "GET", "/v1/events", map[string]string{"X-Request-Id": id}), http.StatusUnauthorized, hirehook.EUNAUTHORIZED)
		if d.RequestID != id {
			t.Errorf("error request_id = %q, want the client's %q", d.RequestID, id)
		}
	})

	t.Run("ClientIDTooLongReplaced", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		long := strings.Repeat("r", 129)
		res := b.srv.do(t, "GET", "/healthz", map[string]string{"X-Request-Id": long})
		if got := res.Header.Get("X-Request-Id"); !strings.HasPrefix(got, "req_") {
			t.Errorf("X-Request-Id = %q, want a generated id in place of a 129-character one", got)
		}
		res = b.srv.do(t, "GET", "/healthz", map[string]string{"X-Request-Id": long[:128]})
		if got := res.Header.Get("X-Request-Id"); got != long[:128] {
			t.Errorf("X-Request-Id = %q, want the client's 128-character id", got)
		}
	})
}

func TestMiddleware_panic(t *testing.T) {
	t.Parallel()

	type bundle struct {
		s    *Server
		logs *logBuffer
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		logs := &logBuffer{}
		// Logger is set as Open sets it; the middleware logs through it.
		return &bundle{s: &Server{Logger: slog.New(slog.NewTextHandler(logs, nil))}, logs: logs}
	}

	t.Run("Recovered", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		h := b.s.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("secret detail")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/events", nil))

		res := &response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		d := wantError(t, res, http.StatusInternalServerError, hirehook.EINTERNAL)
		id := res.Header.Get("X-Request-Id")
		if id == "" {
			t.Fatal("no X-Request-Id on the panic answer")
		}
		if !strings.Contains(d.Message, id) {
			t.Errorf("message %q does not quote the request id %q", d.Message, id)
		}
		if bytes.Contains(res.Body, []byte("secret")) {
			t.Errorf("body %s shows the panic value", res.Body)
		}
		// The operator gets the details.
		if log := b.logs.String(); !strings.Contains(log, "secret detail") || !strings.Contains(log, id) {
			t.Errorf("log does not hold the panic and the request id %s:\n%s", id, log)
		}
	})

	t.Run("ClientID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		h := b.s.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic(errors.New("secret detail"))
		}))
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Request-Id", "client-1")
		h.ServeHTTP(rec, req)
		res := &response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		d := wantError(t, res, http.StatusInternalServerError, hirehook.EINTERNAL)
		if d.RequestID != "client-1" || !strings.Contains(d.Message, "client-1") {
			t.Errorf("error = %+v, want request id client-1 in request_id and message", d)
		}
		if bytes.Contains(res.Body, []byte("secret")) {
			t.Errorf("body %s shows the panic value", res.Body)
		}
	})

	t.Run("AbortHandlerRepanics", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		h := b.s.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic(http.ErrAbortHandler)
		}))
		var got any
		func() {
			defer func() { got = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}()
		if got != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler passed on to net/http", got)
		}
	})
}

func TestOpenClose(t *testing.T) {
	t.Parallel()

	type bundle struct {
		st hirehook.Store
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		return &bundle{st: newStore(t)}
	}
	newServer := func(b *bundle, addr string) *Server {
		return &Server{Addr: addr, Store: b.st, API: api.New(api.Config{Store: b.st})}
	}
	closeServer := func(t *testing.T, s *Server) error {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return s.Close(ctx)
	}

	t.Run("BusyAddress", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		addr := ln.Addr().String()

		s := newServer(b, addr)
		err = s.Open()
		if err == nil {
			closeServer(t, s)
			t.Fatalf("Open on busy %s succeeded", addr)
		}
		if !strings.Contains(err.Error(), addr) {
			t.Errorf("Open error %q does not name the address %s", err, addr)
		}
		if u := s.URL(); u != "" {
			t.Errorf("URL after a failed Open = %q, want empty", u)
		}
		if err := closeServer(t, s); err != nil {
			t.Errorf("Close after a failed Open: %v", err)
		}
	})

	t.Run("CloseTwice", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := newServer(b, "127.0.0.1:0")
		if err := s.Open(); err != nil {
			t.Fatal(err)
		}
		url := s.URL()
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Errorf("URL = %q, want http://127.0.0.1:<port>", url)
		}
		if err := closeServer(t, s); err != nil {
			t.Errorf("first Close: %v", err)
		}
		if err := closeServer(t, s); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// Closed means closed: nothing answers any more.
		req, err := http.NewRequestWithContext(t.Context(), "GET", url+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			t.Errorf("GET /healthz after Close answered %d, want a connection error", res.StatusCode)
		}
	})

	t.Run("CloseBeforeOpen", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := newServer(b, "127.0.0.1:0")
		if err := closeServer(t, s); err != nil {
			t.Errorf("Close before Open: %v", err)
		}
		if err := closeServer(t, s); err != nil {
			t.Errorf("second Close before Open: %v", err)
		}
	})

	t.Run("OpenAfterCloseBeforeOpen", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := newServer(b, "127.0.0.1:0")
		if err := closeServer(t, s); err != nil {
			t.Fatalf("Close before Open: %v", err)
		}
		if err := s.Open(); err != nil {
			t.Fatal(err)
		}
		url := s.URL()
		if err := closeServer(t, s); err != nil {
			t.Errorf("Close after Open: %v", err)
		}
		req, err := http.NewRequestWithContext(t.Context(), "GET", url+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			t.Errorf("GET /healthz after Close answered %d, want a connection error", res.StatusCode)
			s.srv.Close() // do not leak the server into other tests
		}
	})
}
