package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// Client calls one hub's API with one API key. It is safe for concurrent
// use.
type Client struct {
	base      string // scheme://host[:port][/prefix], without a trailing slash
	key       string
	http      *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc, for
// timeouts, proxies, TLS settings or instrumentation. The default is an
// http.Client with a 30 s timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithUserAgent sets the User-Agent of every request, e.g.
// "bullhorn-sync/1.4"; the SDK's own name and version are appended.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua + " " + c.userAgent }
}

// New returns a Client for the hub at baseURL ("https://hooks.example.com"
// or "http://127.0.0.1:8080", optionally with a path prefix) that
// authenticates with apiKey. It fails only when baseURL is not an absolute
// http or https URL without query or fragment, or apiKey is empty.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hirehook: base URL %q is not an absolute http:// or https:// URL", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("hirehook: base URL %q must not have a query or fragment", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("hirehook: the API key is empty")
	}
	c := &Client{
		base:      strings.TrimRight(u.String(), "/"),
		key:       apiKey,
		http:      &http.Client{Timeout: 30 * time.Second},
		userAgent: "hirehook-go/" + hirehook.Version,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// APIError is an error answer of the hub. It wraps the *hirehook.Error of
// the body, so hirehook.ErrorCode(err), hirehook.ErrorField(err) and
// errors.As(err, &herr) work on it.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// RequestID is the hub's id of the request, to quote in a report.
	RequestID string
	// RetryAfter is the wait the hub asked for (429 and 503), or zero.
	RetryAfter time.Duration
	// Err holds the code, message and field of the error.
	Err *hirehook.Error
}

// Error implements error.
func (e *APIError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "hirehook: %d %s", e.StatusCode, e.Err.Code)
	if e.Err.Field != "" {
		fmt.Fprintf(&sb, " (field %s)", e.Err.Field)
	}
	sb.WriteString(": ")
	sb.WriteString(e.Err.Message)
	if e.RequestID != "" {
		fmt.Fprintf(&sb, " (request %s)", e.RequestID)
	}
	return sb.String()
}

// Unwrap returns the *hirehook.Error.
func (e *APIError) Unwrap() error { return e.Err }

// Retryable reports whether a call that failed with err may succeed if made
// again unchanged: the hub was unreachable or timed out, shutting down or
// unavailable (503: its database is unreachable, full or read-only, or did
// not confirm the commit within the ingest deadline), or rate-limited the
// key (429); wait APIError.RetryAfter before the next try.
// A cancelled ctx is not retryable. Send events again with the same event id
// or Idempotency-Key, so a retry of one that did arrive is not stored twice.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Err.Code {
		case hirehook.ERATELIMITED, hirehook.EUNAVAILABLE:
			return true
		}
		switch apiErr.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var transport *transportError
	return errors.As(err, &transport)
}

// transportError is a failure to get an answer at all.
type transportError struct {
	op  string
	err error
}

func (e *transportError) Error() string { return "hirehook: " + e.op + ": " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// errorBody is the JSON of every error answer (api.ErrorBody).
type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Field     string `json:"field"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

// codeOfStatus guesses a code for an answer without an error body, such
// as a proxy's 502 page.
func codeOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return hirehook.EINVALID
	case http.StatusUnauthorized:
		return hirehook.EUNAUTHORIZED
	case http.StatusForbidden:
		return hirehook.EFORBIDDEN
	case http.StatusNotFound:
		return hirehook.ENOTFOUND
	case http.StatusConflict:
		return hirehook.ECONFLICT
	case http.StatusRequestEntityTooLarge:
		return hirehook.ETOOLARGE
	case http.StatusTooManyRequests:
		return hirehook.ERATELIMITED
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return hirehook.EUNAVAILABLE
	}
	return hirehook.EINTERNAL
}

func decodeError(res *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	e := &APIError{StatusCode: res.StatusCode, RequestID: res.Header.Get("X-Request-Id")}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	var body errorBody
	if err := json.Unmarshal(raw, &body); err == nil && body.Error.Code != "" {
		e.Err = &hirehook.Error{Code: body.Error.Code, Message: body.Error.Message, Field: body.Error.Field}
		if body.Error.RequestID != "" {
			e.RequestID = body.Error.RequestID
		}
		return e
	}
	e.Err = &hirehook.Error{Code: codeOfStatus(res.StatusCode), Message: "The hub answered " + res.Status + " without an error body."}
	return e
}

// call is one API request: in (if not nil) is sent as JSON, a 2xx answer is
// decoded into out (if not nil), anything else becomes an *APIError.
type call struct {
	method, path string
	query        url.Values
	header       http.Header
	in, out      any
}

func (c *Client) do(ctx context.Context, k call) error {
	op := k.method + " " + k.path
	var body io.Reader
	if k.in != nil {
		b, err := json.Marshal(k.in)
		if err != nil {
			return fmt.Errorf("hirehook: %s: encode request: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	u := c.base + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, body)
	if err != nil {
		return fmt.Errorf("hirehook: %s: %w", op, err)
	}
	for name, vs := range k.header {
		req.Header[name] = vs
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if k.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		// The URL in a *url.Error is ours, not a secret; the key is in a
		// header and never in an error.
		return &transportError{op: op, err: err}
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return decodeError(res)
	}
	if k.out == nil || res.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(k.out); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return &transportError{op: op + ": read answer", err: err}
	}
	return nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// Page is one page of a list. Pass NextAfter as the After of the next
// call's params to get the next page, while HasMore is true.
type Page[T any] struct {
	Data      []T    `json:"data"`
	HasMore   bool   `json:"has_more"`
	NextAfter string `json:"next_after,omitempty"`
}

// ListParams pages a list: After is the NextAfter of the previous page,
// Limit the most items per page (1–1000; 0 means the hub's default, 100).
type ListParams struct {
	After string
	Limit int
}

func (p ListParams) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if p.After != "" {
		q.Set("after", p.After)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

// all iterates over every item of a paged list, fetching page after page
// from after; it stops at the first error, which it yields.
func all[T any](after string, fetch func(after string) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			p, err := fetch(after)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			if !p.HasMore || p.NextAfter == "" {
				return
			}
			after = p.NextAfter
		}
	}
}
