// Package api serves hirehook's JSON API under /v1. Handlers are methods on
// Handler; the whole route table is in Routes, read top to bottom. Every
// error is rendered by Error with one code→status table.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
)

// EventIngester validates and durably commits events (package ingest).
type EventIngester interface {
	Prepare(tenantID string, input *hirehook.EventInput, idempotencyKey string) (*hirehook.Event, error)
	Commit(ctx context.Context, events []*hirehook.Event) ([]hirehook.EventIngestResult, error)
}

// Config holds what the handlers need.
type Config struct {
	Store    hirehook.Store
	Ingester EventIngester
	Catalog  *catalog.Catalog
	// Notify wakes the dispatcher after a retry or recover made deliveries due.
	Notify func()
	// MaxBodyBytes limits a request body; a batch may be 10 times larger.
	// Default 1 MiB.
	MaxBodyBytes int64
	NowFunc      func() time.Time
	Logger       *slog.Logger
}

// Handler serves the API.
type Handler struct {
	cfg    Config
	store  hirehook.Store
	logger *slog.Logger
	keys   keyCache
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Catalog == nil {
		cfg.Catalog = catalog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, store: cfg.Store, logger: logger.With("component", "api"), keys: keyCache{m: map[string]cachedKey{}}}
}

// Routes registers every API route on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle("GET /v1/event-types", h.auth(h.handleEventTypeList))
	mux.Handle("GET /v1/event-types/{name}", h.auth(h.handleEventTypeGet))

	mux.Handle("POST /v1/events", h.auth(h.handleEventCreate))
	mux.Handle("POST /v1/events/batch", h.auth(h.handleEventBatch))
	mux.Handle("GET /v1/events", h.auth(h.handleEventList))
	mux.Handle("GET /v1/events/{id}", h.auth(h.handleEventGet))

	mux.Handle("GET /v1/records/{entity}/{id}", h.auth(h.handleRecordGet))
	mux.Handle("GET /v1/records/{entity}/{id}/events", h.auth(h.handleRecordEvents))

	mux.Handle("POST /v1/endpoints", h.auth(h.handleEndpointCreate))
	mux.Handle("GET /v1/endpoints", h.auth(h.handleEndpointList))
	mux.Handle("GET /v1/endpoints/{id}", h.auth(h.handleEndpointGet))
	mux.Handle("PATCH /v1/endpoints/{id}", h.auth(h.handleEndpointUpdate))
	mux.Handle("DELETE /v1/endpoints/{id}", h.auth(h.handleEndpointDelete))
	mux.Handle("GET /v1/endpoints/{id}/secret", h.auth(h.handleEndpointSecret))
	mux.Handle("POST /v1/endpoints/{id}/rotate-secret", h.auth(h.handleEndpointRotateSecret))
	mux.Handle("POST /v1/endpoints/{id}/recover", h.auth(h.handleEndpointRecover))

	mux.Handle("GET /v1/deliveries", h.auth(h.handleDeliveryList))
	mux.Handle("GET /v1/deliveries/{id}", h.auth(h.handleDeliveryGet))
	mux.Handle("POST /v1/deliveries/{id}/retry", h.auth(h.handleDeliveryRetry))

	mux.Handle("/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Error(w, r, h.logger, hirehook.Errorf(hirehook.ENOTFOUND, "No route %s %s.", r.Method, r.URL.Path))
	}))
}

// HashKey returns the stored form of an API key: hex SHA-256. Keys are
// random and long, so a fast hash is enough; it is never reversible.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// tenantKey is the context key of the authenticated tenant.
type tenantKey struct{}

// tenantOf returns the tenant that the request's key belongs to.
func tenantOf(r *http.Request) string {
	t, _ := r.Context().Value(tenantKey{}).(string)
	return t
}

// keyCache remembers recently seen key hashes for a few seconds, so that
// ingest at thousands of requests a second does not read the key table for
// each one.
type keyCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	tenantID string
	until    time.Time
}

const keyCacheTTL = 5 * time.Second

// auth wraps a handler: it requires "Authorization: Bearer <key>" with a
// known key and puts the key's tenant in the request context.
func (h *Handler) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme is case-insensitive (RFC 9110 §11.1): "bearer" works too.
		scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		key = strings.TrimSpace(key)
		if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hirehook"`)
			Error(w, r, h.logger, hirehook.Errorf(hirehook.EUNAUTHORIZED, "Send an API key as \"Authorization: Bearer <key>\"."))
			return
		}
		hash := HashKey(key)
		now := time.Now()
		h.keys.mu.Lock()
		ck, hit := h.keys.m[hash]
		h.keys.mu.Unlock()
		if !hit || now.After(ck.until) {
			k, err := h.store.APIKeyByHash(r.Context(), hash)
			if hirehook.ErrorCode(err) == hirehook.ENOTFOUND {
				w.Header().Set("WWW-Authenticate", `Bearer realm="hirehook", error="invalid_token"`)
				Error(w, r, h.logger, hirehook.Errorf(hirehook.EUNAUTHORIZED, "The API key is not valid."))
				return
			} else if err != nil {
				Error(w, r, h.logger, err)
				return
			}
			ck = cachedKey{tenantID: k.TenantID, until: now.Add(keyCacheTTL)}
			h.keys.mu.Lock()
			if len(h.keys.m) > 10000 {
				clear(h.keys.m)
			}
			h.keys.m[hash] = ck
			h.keys.mu.Unlock()
		}
		next(w, r.WithContext(context.WithValue(r.Context(), tenantKey{}, ck.tenantID)))
	})
}

// statusOf maps error codes to HTTP statuses.
var statusOf = map[string]int{
	hirehook.EINVALID:      http.StatusUnprocessableEntity,
	hirehook.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	hirehook.ENOTFOUND:     http.StatusNotFound,
	hirehook.ECONFLICT:     http.StatusConflict,
	hirehook.EUNAUTHORIZED: http.StatusUnauthorized,
	hirehook.EFORBIDDEN:    http.StatusForbidden,
	hirehook.EUNAVAILABLE:  http.StatusServiceUnavailable,
	hirehook.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status of err.
func ErrorStatus(err error) int {
	if s, ok := statusOf[hirehook.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

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
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", reqID, "error", err)
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

// decode reads a JSON body of at most limit bytes into v, refusing unknown
// fields and trailing data, and turns decoder errors into field errors.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err, limit)
		}
		return hirehook.FieldError("", "The body must hold one JSON value.")
	}
	return nil
}

// decodeValue decodes one JSON value already read (an element of a batch)
// with the same rules as decode.
func decodeValue(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, 0)
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
			return hirehook.FieldError("", "The body must be a JSON %s.", jsonKind(typeErr.Type.Kind().String()))
		}
		return hirehook.FieldError(field, "must be %s", jsonKind(typeErr.Type.Kind().String()))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return hirehook.FieldError(name, "is not a known field")
	}
	return hirehook.FieldError("", "The body could not be read as JSON.")
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
