// Package server runs hirehook's one http.Server: the listener, timeouts,
// shared middleware (request ids, panic recovery), the health routes, the
// API mounted under /v1, /metrics, and the dashboard at /.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/internal/logkey"
)

// Server is the HTTP server of a hub.
type Server struct {
	// Addr is the address to listen on ("127.0.0.1:8080"; ":0" picks a port).
	Addr string
	// Listener, if set, is served instead of binding Addr: the hub binds
	// its port before it opens the database, so a taken port fails
	// start-up before anything is written. Close closes it.
	Listener net.Listener
	API      *api.Handler
	Store    hirehook.Store
	// Web, if set, serves the dashboard at / (every path the API and the
	// health routes do not take).
	Web http.Handler
	// Metrics, if set, serves GET /metrics (no key: scrapers rarely carry
	// one; bind the hub to a private address or filter at the proxy).
	Metrics http.Handler
	// Inbound, if set, serves POST /in/{source_id}: webhooks from push
	// sources, authenticated by the vendor's signature (package inbound).
	Inbound http.Handler
	Logger  *slog.Logger

	ln     net.Listener
	srv    *http.Server
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

// Open binds the listener (so a bind error fails start-up) and starts serving.
func (s *Server) Open() error {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	ln := s.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", s.Addr, err)
		}
	}
	s.ln = ln
	mux := http.NewServeMux()
	s.routes(mux)
	s.srv = &http.Server{
		Handler:           s.middleware(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("http server stopped", logkey.Error, err)
		}
	}()
	return nil
}

// URL returns the base URL the server listens on.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops taking requests and waits for those in flight until ctx is
// done. It may be called twice, and before Open.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil || s.closed {
		return nil
	}
	s.closed = true
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	s.wg.Wait()
	return err
}

func (s *Server) routes(mux *http.ServeMux) {
	// probe holds the server's own patterns (not the API's, which answers
	// its own 405s, nor the dashboard's), for the catch-all's 405.
	probe := http.NewServeMux()
	handle := func(pattern string, h http.Handler) {
		mux.Handle(pattern, h)
		probe.Handle(pattern, h)
	}
	handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	}))
	handle("GET /readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		// The store's Ping fails also while its last write failed for want
		// of the store (a full disk answers reads): a hub that cannot write
		// is not ready. Its message says why; the cause is not logged here,
		// where a balancer asks every few seconds (the requests that failed
		// logged it).
		if err := s.Store.Ping(ctx); err != nil {
			msg := "The store is not reachable."
			if hirehook.ErrorCode(err) == hirehook.EUNAVAILABLE {
				msg = hirehook.ErrorMessage(err)
			} else if ctx.Err() != nil {
				msg = "The store did not answer within 2s."
			}
			api.Error(w, r, s.Logger, hirehook.Errorf(hirehook.EUNAVAILABLE, "%s", msg))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ready"}`)
	}))
	s.API.Routes(mux)
	if s.Inbound != nil {
		handle("POST /in/{source_id}", s.Inbound)
	}
	if s.Metrics != nil {
		handle("GET /metrics", s.Metrics)
	}
	// The catch-all (the dashboard's pages, or a 404) would hide the
	// mux's 405 for the routes above: a known path asked with another
	// method is answered 405 with Allow here.
	fallback := s.Web
	if fallback == nil {
		fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			api.Error(w, r, s.Logger, hirehook.Errorf(hirehook.ENOTFOUND, "No route %s %s.", r.Method, r.URL.Path))
		})
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := api.AllowedMethods(probe, r); len(allow) > 0 {
			api.MethodNotAllowed(w, r, s.Logger, allow)
			return
		}
		fallback.ServeHTTP(w, r)
	}))
}

// middleware gives every request an id (X-Request-Id, echoed back) and turns
// a panic into a logged 500 instead of a dropped connection.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 128 {
			id = hirehook.NewID("req")
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic serving request", logkey.Method, r.Method, logkey.Path, r.URL.Path, logkey.RequestID, id, logkey.Panic, v, logkey.Stack, string(debug.Stack()))
				api.Error(w, r, s.Logger, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
