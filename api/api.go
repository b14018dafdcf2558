// Package api serves hirehook's JSON API under /v1. Handlers are methods on
// Handler; the whole route table is in Routes, read top to bottom. Every
// error is rendered by Error with one code→status table.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/internal/strictjson"
	"github.com/hirehook/hirehook/ops"
	"github.com/hirehook/hirehook/route"
	"golang.org/x/time/rate"
)

// Config holds what the handlers need.
type Config struct {
	Store    Store
	Ingester hirehook.Ingester
	Catalog  *catalog.Catalog
	// Route holds the options routes are compiled with (test-route); its
	// zero value takes route's defaults and Catalog.
	Route route.Options
	// NotifyFunc wakes the dispatcher after a retry or recover made deliveries due.
	NotifyFunc func()
	// MaxBodyBytes limits a request body; a batch may be 10 times larger.
	// Default 1 MiB.
	MaxBodyBytes int64
	// OnRejectedFunc, if set, is told of every event request (POST /v1/events
	// and /v1/events/batch) answered with an error, with its HTTP status:
	// the metrics count inbound rejections by reason.
	OnRejectedFunc func(status int)
	// DefaultMaxConcurrency is the max_concurrency of endpoints created
	// without one (the hub's --endpoint-concurrency). Default
	// hirehook.DefaultMaxConcurrency.
	DefaultMaxConcurrency int
	// RateLimit is the most requests a second one API key may make (0: no
	// limit); RateBurst is how many it may make at once. Over it → 429
	// with Retry-After.
	RateLimit float64
	RateBurst int
	// SourceKinds are the kinds of source the hub runs, by name
	// ("bullhorn"); SourcesChanged, if set, is called after a source was
	// created, changed or deleted, so the hub starts or stops it at once.
	SourceKinds        map[string]SourceKind
	SourcesChangedFunc func()
	// PushKinds are the source kinds that take webhooks at
	// POST /in/{source_id} (package inbound): their sources show an
	// ingest_url and their request log. InboundChanged, if set, is called
	// after requests were made due again (reprocess).
	PushKinds          map[string]bool
	InboundChangedFunc func()
	// PublicURL is the address vendors reach the hub at
	// ("https://hooks.example.com"), for ingest_url; empty means the
	// scheme and host of the API request.
	PublicURL string
	// BackfillsChangedFunc, if set, is called after a backfill was created, so
	// the hub starts it at once rather than at its next poll.
	BackfillsChangedFunc func()
	NowFunc              func() time.Time
	Logger               *slog.Logger
}

// Handler serves the API.
type Handler struct {
	cfg    Config
	store  Store
	logger *slog.Logger
	keys   keyCache
	doc    openAPICache
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Catalog == nil {
		cfg.Catalog = catalog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.DefaultMaxConcurrency <= 0 {
		cfg.DefaultMaxConcurrency = hirehook.DefaultMaxConcurrency
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.NotifyFunc == nil {
		cfg.NotifyFunc = func() {}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = max(1, int(2*cfg.RateLimit))
	}
	return &Handler{cfg: cfg, store: cfg.Store, logger: logger.With(logkey.Component, "api"),
		keys: keyCache{m: map[string]cachedKey{}, limiters: map[string]*rate.Limiter{}}}
}

// Route is one API route: its method and path pattern, the scope a key
// needs for it, and its handler.
type Route struct {
	Method  string
	Pattern string
	Scope   hirehook.Scope
	handler http.HandlerFunc
}

// RouteTable lists every API route. Routes registers exactly these, so a
// test that walks the table walks the whole API.
func (h *Handler) RouteTable() []Route {
	const (
		anyKey   = hirehook.ScopeAny
		operator = hirehook.ScopeOperator
		admin    = hirehook.ScopeAdmin
		producer = hirehook.ScopeProducer
		viewer   = hirehook.ScopeViewer
	)
	return []Route{
		{"GET", "/v1/event-types", anyKey, h.handleEventTypeList},
		{"GET", "/v1/event-types/{name}", anyKey, h.handleEventTypeGet},
		{"GET", "/v1/destination-kinds", anyKey, h.handleDestinationKindList},

		{"POST", "/v1/events", producer, h.handleEventCreate},
		{"POST", "/v1/events/batch", producer, h.handleEventBatch},
		{"GET", "/v1/events", viewer, h.handleEventList},
		{"GET", "/v1/events/{id}", viewer, h.handleEventGet},

		{"GET", "/v1/records/{entity}/{id}", viewer, h.handleRecordGet},
		{"GET", "/v1/records/{entity}/{id}/events", viewer, h.handleRecordEvents},
		{"POST", "/v1/records/candidate/{id}/erase", admin, h.handleCandidateErase},

		{"POST", "/v1/endpoints", admin, h.handleEndpointCreate},
		{"POST", "/v1/endpoints/test-route", admin, h.handleTestRoute},
		{"GET", "/v1/endpoints", viewer, h.handleEndpointList},
		{"GET", "/v1/endpoints/{id}", viewer, h.handleEndpointGet},
		{"PATCH", "/v1/endpoints/{id}", admin, h.handleEndpointUpdate},
		{"DELETE", "/v1/endpoints/{id}", admin, h.handleEndpointDelete},
		{"GET", "/v1/endpoints/{id}/secret", admin, h.handleEndpointSecret},
		{"POST", "/v1/endpoints/{id}/rotate-secret", admin, h.handleEndpointRotateSecret},
		{"POST", "/v1/endpoints/{id}/recover", admin, h.handleEndpointRecover},
		{"POST", "/v1/endpoints/{id}/test", admin, h.handleEndpointTest},
		{"POST", "/v1/endpoints/{id}/backfill", admin, h.handleBackfillCreate},
		{"GET", "/v1/endpoints/{id}/backfills", viewer, h.handleBackfillList},
		{"GET", "/v1/backfills/{id}", viewer, h.handleBackfillGet},
		{"POST", "/v1/backfills/{id}/cancel", admin, h.handleBackfillCancel},

		{"POST", "/v1/sources", admin, h.handleSourceCreate},
		{"GET", "/v1/sources", viewer, h.handleSourceList},
		{"GET", "/v1/sources/{id}", viewer, h.handleSourceGet},
		{"PATCH", "/v1/sources/{id}", admin, h.handleSourceUpdate},
		{"DELETE", "/v1/sources/{id}", admin, h.handleSourceDelete},
		{"GET", "/v1/sources/{id}/requests", viewer, h.handleInboundList},
		{"GET", "/v1/sources/{id}/requests/{request_id}", viewer, h.handleInboundGet},
		{"POST", "/v1/sources/{id}/reprocess", admin, h.handleSourceReprocess},

		{"GET", "/v1/deliveries", viewer, h.handleDeliveryList},
		{"GET", "/v1/deliveries/{id}", viewer, h.handleDeliveryGet},
		{"POST", "/v1/deliveries/{id}/retry", admin, h.handleDeliveryRetry},

		{"POST", "/v1/api-keys", admin, h.handleAPIKeyCreate},
		{"GET", "/v1/api-keys", admin, h.handleAPIKeyList},
		{"DELETE", "/v1/api-keys/{id}", admin, h.handleAPIKeyDelete},

		{"GET", "/v1/audit-log", admin, h.handleAuditList},

		{"POST", "/v1/tenants", operator, h.handleTenantCreate},
		{"GET", "/v1/tenants", operator, h.handleTenantList},
		{"GET", "/v1/tenants/{id}", operator, h.handleTenantGet},
		{"PATCH", "/v1/tenants/{id}", operator, h.handleTenantUpdate},
		{"DELETE", "/v1/tenants/{id}", operator, h.handleTenantDelete},
	}
}

// Routes registers every API route on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	for _, rt := range h.RouteTable() {
		var handler http.Handler = h.auth(rt.Scope, rt.handler)
		if h.cfg.OnRejectedFunc != nil && rt.Method == http.MethodPost && strings.HasPrefix(rt.Pattern, "/v1/events") {
			handler = h.countRejections(handler)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, handler)
	}
	// Public, outside the route table: it describes the API, not a tenant.
	mux.Handle("GET /v1/openapi.json", http.HandlerFunc(h.handleOpenAPI))
	// The catch-all answers every path under /v1/ that no route took,
	// which hides the mux's own 405: a probe mux of the same patterns
	// tells a known path asked with another method from an unknown path.
	probe := http.NewServeMux()
	for _, rt := range h.RouteTable() {
		probe.Handle(rt.Method+" "+rt.Pattern, http.NotFoundHandler())
	}
	probe.Handle("GET /v1/openapi.json", http.NotFoundHandler())
	mux.Handle("/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := AllowedMethods(probe, r); len(allow) > 0 {
			MethodNotAllowed(w, r, h.logger, allow)
			return
		}
		Error(w, r, h.logger, hirehook.Errorf(hirehook.ENOTFOUND, "No route %s %s.", r.Method, r.URL.Path))
	}))
}

// AllowedMethods returns the methods for which routes has a route of r's
// path (GET brings HEAD), in a fixed order: nil if the path is unknown.
func AllowedMethods(routes *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := routes.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// MethodNotAllowed answers 405 method_not_allowed with the Allow header.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request, logger *slog.Logger, allow []string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	Error(w, r, logger, hirehook.Errorf(hirehook.EMETHOD, "%s takes %s, not %s.", r.URL.Path, strings.Join(allow, ", "), r.Method))
}

// countRejections tells OnRejected of the error answers of next
// (authentication included: it wraps the auth check).
func (h *Handler) countRejections(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if sw.status >= 400 {
			h.cfg.OnRejectedFunc(sw.status)
		}
	})
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// HashKey returns the digest by which an API key is looked up
// (hirehook.HashAPIKey); the store keeps only a keyed MAC of it.
func HashKey(key string) string {
	return hirehook.HashAPIKey(key)
}

// hashKeyInto writes HashKey(key) into dst, which the caller may keep on
// its stack: HashKey's string is made only when the key cache misses.
func hashKeyInto(dst *[2 * sha256.Size]byte, key string) {
	sum := sha256.Sum256([]byte(key))
	hex.Encode(dst[:], sum[:])
}

// principal is who a request acts as: the key, its tenant and scope.
type principal struct {
	keyID    string
	keyName  string
	tenantID string
	scope    hirehook.Scope
}

// principalKey is the context key of the request's principal.
type principalKey struct{}

func principalOf(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// tenantOf returns the tenant that the request's key belongs to.
func tenantOf(r *http.Request) string { return principalOf(r).tenantID }

// keyCache remembers recently seen keys for a few seconds, so that ingest at
// thousands of requests a second does not read the key table for each one.
// A revocation through this hub evicts at once; through another node it
// takes effect within keyCacheTTL.
type keyCache struct {
	mu       sync.Mutex
	m        map[string]cachedKey     // by key hash
	limiters map[string]*rate.Limiter // by key id
}

type cachedKey struct {
	key   *hirehook.APIKey
	until time.Time
}

const keyCacheTTL = 5 * time.Second

// evict forgets cached keys that match.
func (c *keyCache) evict(match func(*hirehook.APIKey) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, ck := range c.m {
		if match(ck.key) {
			delete(c.m, h)
		}
	}
}

// lookup returns the key whose digest (HashKey) is hexHash, from the cache
// or the store; it records the key's use in the store when it refreshes the
// cache entry. The digest is a byte slice so that a cache hit makes no
// string of it.
func (h *Handler) lookup(ctx context.Context, hexHash []byte, now time.Time) (*hirehook.APIKey, *rate.Limiter, error) {
	h.keys.mu.Lock()
	ck, hit := h.keys.m[string(hexHash)]
	h.keys.mu.Unlock()
	if !hit || now.After(ck.until) {
		hash := string(hexHash)
		k, err := h.store.APIKeyByHash(ctx, hash)
		if err != nil {
			return nil, nil, err
		}
		// The index lookup above compares hashes in the database; compare
		// again in constant time so no timing of ours depends on the key.
		if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 {
			return nil, nil, hirehook.Errorf(hirehook.ENOTFOUND, "API key not found.")
		}
		if err := h.store.APIKeyTouch(ctx, k.ID, now.UTC().Truncate(time.Microsecond)); err != nil {
			h.logger.Warn("record api key use", logkey.KeyID, k.ID, logkey.Error, err)
		}
		ck = cachedKey{key: k, until: now.Add(keyCacheTTL)}
		h.keys.mu.Lock()
		if len(h.keys.m) > 10000 {
			clear(h.keys.m)
		}
		h.keys.m[hash] = ck
		h.keys.mu.Unlock()
	}
	var lim *rate.Limiter
	if h.cfg.RateLimit > 0 {
		h.keys.mu.Lock()
		lim = h.keys.limiters[ck.key.ID]
		if lim == nil {
			lim = rate.NewLimiter(rate.Limit(h.cfg.RateLimit), h.cfg.RateBurst)
			h.keys.limiters[ck.key.ID] = lim
		}
		h.keys.mu.Unlock()
	}
	return ck.key, lim, nil
}

// auth wraps a handler: it requires "Authorization: Bearer <key>" with a
// known, unexpired key whose scope allows the route, applies the key's rate
// limit, and puts the key's principal in the request context.
func (h *Handler) auth(need hirehook.Scope, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme is case-insensitive (RFC 9110 §11.1).
		scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		key = strings.TrimSpace(key)
		if !strings.EqualFold(scheme, "Bearer") || key == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hirehook"`)
			Error(w, r, h.logger, hirehook.Errorf(hirehook.EUNAUTHORIZED, "Send an API key as \"Authorization: Bearer <key>\"."))
			return
		}
		now := h.cfg.NowFunc()
		var hexHash [2 * sha256.Size]byte
		hashKeyInto(&hexHash, key)
		k, lim, err := h.lookup(r.Context(), hexHash[:], now)
		if (err != nil && hirehook.ErrorCode(err) == hirehook.ENOTFOUND) || (err == nil && k.Expired(now)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hirehook", error="invalid_token"`)
			Error(w, r, h.logger, hirehook.Errorf(hirehook.EUNAUTHORIZED, "The API key is not valid (unknown, revoked or expired)."))
			return
		} else if err != nil {
			Error(w, r, h.logger, err)
			return
		}
		if lim != nil {
			if res := lim.ReserveN(now, 1); !res.OK() || res.DelayFrom(now) > 0 {
				delay := res.DelayFrom(now)
				res.CancelAt(now)
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(delay.Seconds())))))
				Error(w, r, h.logger, hirehook.Errorf(hirehook.ERATELIMITED, "This API key is over its rate limit of %g requests a second; retry later.", h.cfg.RateLimit))
				return
			}
		}
		if !k.Scope.Allows(need) {
			Error(w, r, h.logger, hirehook.Errorf(hirehook.EFORBIDDEN, "This API key's scope (%s) does not allow this; it needs %s.", k.Scope, need))
			return
		}
		p := principal{keyID: k.ID, keyName: k.Name, tenantID: k.TenantID, scope: k.Scope}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// actor is the request's key as ops sees it. The handlers that change
// something call an operation of package ops, shared with the dashboard
// where it offers it too, which authorises, validates, stores, notifies and
// writes the audit entry; the values below wire them to the Config.
func actor(r *http.Request) ops.Actor {
	p := principalOf(r)
	return ops.Actor{TenantID: p.tenantID, KeyID: p.keyID, KeyName: p.keyName, Scope: p.scope}
}

// sources are the source operations, shared with the dashboard.
func (h *Handler) sources() *ops.Sources {
	return &ops.Sources{Store: h.store, Kinds: h.cfg.SourceKinds, ChangedFunc: h.cfg.SourcesChangedFunc, InboundChangedFunc: h.cfg.InboundChangedFunc,
		NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// endpoints are the endpoint operations (package ops), shared with the
// dashboard.
func (h *Handler) endpoints() *ops.Endpoints {
	return &ops.Endpoints{Store: h.store, Catalog: h.cfg.Catalog, Route: h.routeOptions(), DefaultMaxConcurrency: h.cfg.DefaultMaxConcurrency,
		NotifyFunc: h.cfg.NotifyFunc, NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// deliveries are the delivery operations (package ops), shared with the
// dashboard.
func (h *Handler) deliveries() *ops.Deliveries {
	return &ops.Deliveries{Store: h.store, NotifyFunc: h.cfg.NotifyFunc, NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// endpointTests send test events (POST /v1/endpoints/{id}/test).
func (h *Handler) endpointTests() *ops.EndpointTests {
	return &ops.EndpointTests{Store: h.store, Ingester: h.cfg.Ingester, NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// apiKeys create and revoke keys; a revoked key leaves the cache at once.
func (h *Handler) apiKeys() *ops.APIKeys {
	return &ops.APIKeys{Store: h.store, NowFunc: h.cfg.NowFunc, Logger: h.logger,
		RevokedFunc: func(id string) { h.keys.evict(func(k *hirehook.APIKey) bool { return k.ID == id }) }}
}

// tenants are the operator's; a deleted tenant's keys leave the cache at
// once.
func (h *Handler) tenants() *ops.Tenants {
	return &ops.Tenants{Store: h.store, NowFunc: h.cfg.NowFunc, Logger: h.logger,
		DeletedFunc: func(id string) { h.keys.evict(func(k *hirehook.APIKey) bool { return k.TenantID == id }) }}
}

// erasures erase candidates and emit candidate.anonymized.
func (h *Handler) erasures() *ops.Erasures {
	return &ops.Erasures{Store: h.store, Ingester: h.cfg.Ingester, NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// backfills start and cancel backfills, waking the runner.
func (h *Handler) backfills() *ops.Backfills {
	return &ops.Backfills{Store: h.store, Catalog: h.cfg.Catalog, Route: h.routeOptions(), ChangedFunc: h.cfg.BackfillsChangedFunc,
		NowFunc: h.cfg.NowFunc, Logger: h.logger}
}

// ErrorStatus returns the HTTP status of err.
func ErrorStatus(err error) int { return hirehook.CodeStatus(hirehook.ErrorCode(err)) }

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error: a stable code, a message for people, the
// request field that was wrong, and the request id to quote in a report.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// RequestIDFunc returns the id of a request (set by the server middleware).
var RequestIDFunc = func(r *http.Request) string { return r.Header.Get("X-Request-Id") }

// UnavailableRetryAfter is the Retry-After, in seconds, of every 503
// (EUNAVAILABLE) answer.
const UnavailableRetryAfter = 2

// Error renders err as JSON. Internal errors are logged in full and shown as
// a generic message with the request id.
func Error(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := hirehook.ErrorCode(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = hirehook.EUNAVAILABLE
		err = hirehook.Errorf(code, "The request was cancelled or timed out.")
	}
	reqID := RequestIDFunc(r)
	if code == hirehook.EINTERNAL && logger != nil {
		logger.Error("request failed", logkey.Method, r.Method, logkey.Path, r.URL.Path, logkey.RequestID, reqID, logkey.Error, err)
	}
	if code == hirehook.EUNAVAILABLE {
		// The store (or the hub) cannot take the request now; the same
		// request later can succeed. An event sent again with the same
		// id or Idempotency-Key is answered as the first was.
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", strconv.Itoa(UnavailableRetryAfter))
		}
		var e *hirehook.Error
		if logger != nil && errors.As(err, &e) && error(e) != err {
			// It carries its cause (a store error): say what it was.
			logger.Warn("request unavailable", logkey.Method, r.Method, logkey.Path, r.URL.Path, logkey.RequestID, reqID, logkey.Error, err)
		}
	}
	msg := hirehook.ErrorMessage(err)
	if code == hirehook.EINTERNAL {
		msg = "Internal error; quote request id " + reqID + " when reporting it."
	}
	writeJSON(w, ErrorStatus(err), ErrorBody{Error: ErrorDetail{Code: code, Message: msg, Field: hirehook.ErrorField(err), RequestID: reqID}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// decode reads a JSON body of at most limit bytes into v, refusing a body
// sent as another media type, JSON that parsers read differently (see
// checkError), unknown fields and trailing data, and turns decoder errors
// into field errors.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if err := jsonContentType(r); err != nil {
		return err
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= limit {
		buf.Grow(int(r.ContentLength) + 1) // +1: ReadFrom wants room to see EOF
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		return decodeError(err, limit)
	}
	return decodeValue(buf.Bytes(), v)
}

// jsonContentType refuses a body whose Content-Type says it is not JSON
// (415). A request without one is read as JSON.
func jsonContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" || ct == "application/json" {
		return nil // the common case, without parsing it
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	return &hirehook.Error{Code: hirehook.EUNSUPPORTEDMEDIA, Field: "Content-Type",
		Message: "The body must be JSON in UTF-8, sent with Content-Type: application/json."}
}

// bodyLimits hold a whole body to the JSON every parser reads alike. The
// size is the caller's limit; the depth is encoding/json's, and an event's
// data is held to its own limits (catalog.MaxData*) by Prepare, which
// names them.
var bodyLimits = strictjson.Limits{NoNUL: true}

// decodeValue decodes one JSON value read whole with the same rules as
// decode, Content-Type aside.
func decodeValue(data []byte, v any) error {
	cerr := strictjson.Check(data, bodyLimits)
	if err := checkError(cerr); err != nil {
		return err
	}
	if in, ok := v.(*eventInput); ok && cerr == nil && in.decodeValid(data) {
		return nil
	}
	return decodeChecked(data, v)
}

// checkError is the answer for strictjson.Check's error err: it refuses,
// naming the field, JSON that parsers read differently: invalid UTF-8 and
// lone surrogates (encoding/json turns them into U+FFFD in a string and
// keeps them in a RawMessage), duplicate keys (it keeps the last), numbers
// beyond float64 and U+0000 (no store can hold it). Bytes that are not
// JSON at all are left to the decoder, whose messages say where.
func checkError(err error) error {
	var serr *strictjson.Error
	if errors.As(err, &serr) && !serr.Syntax {
		return hirehook.FieldError(serr.Field(""), "%s", serr.Message)
	}
	return nil
}

// decodeChecked decodes data, already through strictjson.Check, into v.
func decodeChecked(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, 0)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err, 0)
		}
		return hirehook.FieldError("", "The body must hold one JSON value.")
	}
	return nil
}

func decodeError(err error, limit int64) error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return &hirehook.Error{Code: hirehook.ETOOLARGE, Message: fmt.Sprintf("The body is larger than %d bytes.", limit)}
	case errors.Is(err, io.EOF):
		return hirehook.FieldError("", "The body is empty; send a JSON object.")
	case errors.As(err, &syntaxErr):
		return hirehook.FieldError("", "The body is not valid JSON (error at byte %d).", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return hirehook.FieldError("", "The body is not valid JSON (it ends early).")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return hirehook.FieldError("", "The body must be a JSON %s.", jsonNoun(typeErr.Type.Kind().String()))
		}
		// eventInput embeds EventInput, whose name encoding/json puts in
		// the path; the body has no such level.
		field = strings.ReplaceAll(field, "EventInput.", "")
		return hirehook.FieldError(field, "must be %s", jsonKind(typeErr.Type.Kind().String()))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return hirehook.FieldError(name, "is not a known field")
	}
	return hirehook.FieldError("", "The body could not be read as JSON.")
}

// jsonNoun names the JSON type of a Go kind: "object", "array", ...
func jsonNoun(goKind string) string {
	switch k := jsonKind(goKind); k {
	case "true or false":
		return "boolean"
	case "of another type":
		return "value of another type"
	default:
		_, noun, _ := strings.Cut(k, " ")
		return noun
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "float64", "uint", "int32":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// listQuery reads the paging parameters ?after=&limit=.
func listQuery(r *http.Request) (after string, limit int, err error) {
	after = r.URL.Query().Get("after")
	limit = 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return "", 0, hirehook.FieldError("limit", "must be a whole number from 1 to 1000")
		}
		limit = n
	}
	return after, limit, nil
}

// List is the JSON shape of every list answer. Pass next_after as ?after=
// to get the next page; has_more says whether there is one.
type List[T any] struct {
	Data      []T    `json:"data"`
	HasMore   bool   `json:"has_more"`
	NextAfter string `json:"next_after,omitempty"`
}

// page trims a result fetched with limit+1 rows into a List.
func page[T any](items []T, limit int, id func(T) string) List[T] {
	l := List[T]{Data: items}
	if len(items) > limit {
		l.Data, l.HasMore = items[:limit], true
	}
	if l.HasMore {
		l.NextAfter = id(l.Data[len(l.Data)-1])
	}
	if l.Data == nil {
		l.Data = []T{}
	}
	return l
}
