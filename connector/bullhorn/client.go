package bullhorn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/netguard"
)

// Bullhorn's public hosts. A corporation's own data centre is learned at
// login, from the redirect and from restUrl.
const (
	DefaultAuthURL  = "https://auth.bullhornstaffing.com"
	DefaultLoginURL = "https://rest.bullhornstaffing.com"
)

// Credentials are what a source is configured with. Either Username and
// Password (for the authorize step) or a RefreshToken is needed, or both:
// the refresh token is tried first.
type Credentials struct {
	ClientID     string
	ClientSecret string
	Username     string
	Password     string
	RefreshToken string
}

// Token is an OAuth token pair.
type Token struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
}

// ClientConfig configures a Client.
type ClientConfig struct {
	Credentials Credentials
	// AuthURL is the OAuth server's base URL; default DefaultAuthURL.
	AuthURL string
	// LoginURL is the REST login host's base URL; default DefaultLoginURL.
	LoginURL string
	// RedirectURI is sent with authorize and the code grant when the
	// OAuth client was registered with one.
	RedirectURI string
	// HTTPClient makes the calls; default netguard's client (30 s
	// timeout, private addresses refused).
	// Redirects are never followed automatically: the client follows the
	// login's data-centre redirect itself and reads the code from the
	// authorize redirect.
	HTTPClient *http.Client
	// TokenFunc, if set, is called with every new token pair. Bullhorn's
	// refresh tokens are single-use, so a source must persist the new one
	// to survive a restart without the password.
	TokenFunc func(ctx context.Context, t Token) error
	// RefreshMargin is how long before expiry the access token is
	// refreshed; default 60 s.
	RefreshMargin time.Duration
	NowFunc       func() time.Time
	Logger        *slog.Logger
}

// Client talks to one Bullhorn corporation. It logs in on first use,
// refreshes the access token before it expires and logs in again when a
// session is refused with 401. It is safe for concurrent use.
type Client struct {
	cfg  ClientConfig
	http *http.Client

	mu       sync.Mutex
	token    Token
	loginURL string // the data centre's login URL once a redirect named it
	restURL  string // ends in "/"
	bhToken  string
}

// NewClient returns a client. It does no I/O.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Credentials.ClientID == "" || cfg.Credentials.ClientSecret == "" {
		return nil, errors.New("bullhorn: client id and secret are required")
	}
	if cfg.Credentials.RefreshToken == "" && (cfg.Credentials.Username == "" || cfg.Credentials.Password == "") {
		return nil, errors.New("bullhorn: a refresh token or a username and password are required")
	}
	if cfg.AuthURL == "" {
		cfg.AuthURL = DefaultAuthURL
	}
	if cfg.LoginURL == "" {
		cfg.LoginURL = DefaultLoginURL
	}
	if cfg.RefreshMargin <= 0 {
		cfg.RefreshMargin = time.Minute
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc = *netguard.Client(netguard.Options{})
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{
		cfg:      cfg,
		http:     &hc,
		token:    Token{RefreshToken: cfg.Credentials.RefreshToken},
		loginURL: strings.TrimRight(cfg.LoginURL, "/"),
	}, nil
}

// APIError is an answer from Bullhorn other than success.
type APIError struct {
	StatusCode int
	Message    string // Bullhorn's errorMessage, or the status text
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("bullhorn: %d %s", e.StatusCode, e.Message)
}

// IsNotFound reports whether err is a 404 from Bullhorn.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// RestURL returns the corporation's REST base URL, empty before login.
func (c *Client) RestURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restURL
}

// Login gets a valid access token (refreshing it or going through authorize
// as needed) and opens a REST session. It is called by every other method
// when there is no session.
func (c *Client) Login(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loginLocked(ctx)
}

func (c *Client) loginLocked(ctx context.Context) error {
	if err := c.ensureAccessLocked(ctx); err != nil {
		return err
	}
	err := c.restLoginLocked(ctx)
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
		// The access token was refused before its expiry (revoked, or
		// the clocks differ): get a new one and try once more.
		c.token.AccessToken = ""
		if err := c.ensureAccessLocked(ctx); err != nil {
			return err
		}
		err = c.restLoginLocked(ctx)
	}
	return err
}

// ensureAccessLocked makes sure c.token holds an access token that is not
// about to expire.
func (c *Client) ensureAccessLocked(ctx context.Context) error {
	now := c.cfg.NowFunc()
	if c.token.AccessToken != "" && now.Add(c.cfg.RefreshMargin).Before(c.token.Expiry) {
		return nil
	}
	if c.token.RefreshToken != "" {
		err := c.grantLocked(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.token.RefreshToken}})
		if err == nil {
			return nil
		}
		// Only a refused refresh token is worth a new authorize; a
		// network error or a 5xx would fail there too.
		var ae *APIError
		if c.cfg.Credentials.Username == "" || !errors.As(err, &ae) || ae.StatusCode >= 500 {
			return fmt.Errorf("refresh bullhorn token: %w", err)
		}
		c.cfg.Logger.Warn("bullhorn refresh token refused; authorizing again", logkey.Error, err)
	}
	code, err := c.authorizeLocked(ctx)
	if err != nil {
		return err
	}
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	if c.cfg.RedirectURI != "" {
		v.Set("redirect_uri", c.cfg.RedirectURI)
	}
	if err := c.grantLocked(ctx, v); err != nil {
		return fmt.Errorf("exchange bullhorn authorization code: %w", err)
	}
	return nil
}

// authorizeLocked runs Bullhorn's headless authorize (action=Login) and
// returns the code from the redirect's Location.
func (c *Client) authorizeLocked(ctx context.Context) (string, error) {
	cr := c.cfg.Credentials
	q := url.Values{
		"client_id":     {cr.ClientID},
		"response_type": {"code"},
		"action":        {"Login"},
		"username":      {cr.Username},
		"password":      {cr.Password},
	}
	if c.cfg.RedirectURI != "" {
		q.Set("redirect_uri", c.cfg.RedirectURI)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.cfg.AuthURL, "/")+"/oauth/authorize?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("authorize bullhorn: %w", err)
	}
	resp, err := c.send(req)
	if err != nil {
		return "", fmt.Errorf("authorize bullhorn: %w", err)
	}
	defer drain(resp)
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		// Bullhorn shows its login form again on bad credentials.
		return "", fmt.Errorf("authorize bullhorn: no code (status %d): check the username, password and client id", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("authorize bullhorn: bad redirect: %w", err)
	}
	code := loc.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("authorize bullhorn: redirect carries no code (error %q)", loc.Query().Get("error"))
	}
	return code, nil
}

// grantLocked calls the token endpoint with v plus the client credentials.
// Bullhorn documents the parameters in the query string of a POST.
func (c *Client) grantLocked(ctx context.Context, v url.Values) error {
	v.Set("client_id", c.cfg.Credentials.ClientID)
	v.Set("client_secret", c.cfg.Credentials.ClientSecret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.cfg.AuthURL, "/")+"/oauth/token?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer drain(resp)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		msg := out.Error
		if out.Description != "" {
			msg += ": " + out.Description
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &APIError{StatusCode: resp.StatusCode, Message: msg}
	}
	c.token = Token{AccessToken: out.AccessToken, RefreshToken: out.RefreshToken, Expiry: c.cfg.NowFunc().Add(time.Duration(out.ExpiresIn) * time.Second)}
	if c.token.RefreshToken == "" {
		c.token.RefreshToken = v.Get("refresh_token")
	}
	if c.cfg.TokenFunc != nil {
		if err := c.cfg.TokenFunc(ctx, c.token); err != nil {
			return fmt.Errorf("save bullhorn token: %w", err)
		}
	}
	return nil
}

// restLoginLocked exchanges the access token for a BhRestToken and restUrl,
// following the login host's redirect to the corporation's data centre
// (and remembering it for the next login).
func (c *Client) restLoginLocked(ctx context.Context) error {
	target := c.loginURL + "/rest-services/login?" + url.Values{"version": {"*"}, "access_token": {c.token.AccessToken}}.Encode()
	for hops := 0; ; hops++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
		if err != nil {
			return fmt.Errorf("bullhorn login: %w", err)
		}
		resp, err := c.send(req)
		if err != nil {
			return fmt.Errorf("bullhorn login: %w", err)
		}
		if isRedirect(resp.StatusCode) && hops < 3 {
			drain(resp)
			next, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				return fmt.Errorf("bullhorn login: bad redirect: %w", err)
			}
			target = next.String()
			if i := strings.Index(next.Path, "/rest-services/login"); i >= 0 {
				dc := *next
				dc.Path, dc.RawQuery = next.Path[:i], ""
				c.loginURL = strings.TrimRight(dc.String(), "/")
			}
			continue
		}
		var out struct {
			BhRestToken string `json:"BhRestToken"`
			RestURL     string `json:"restUrl"`
		}
		err = decodeResponse(resp, &out)
		if err != nil {
			return fmt.Errorf("bullhorn login: %w", err)
		}
		if out.BhRestToken == "" || out.RestURL == "" {
			return errors.New("bullhorn login: answer lacks BhRestToken or restUrl")
		}
		c.bhToken = out.BhRestToken
		c.restURL = strings.TrimRight(out.RestURL, "/") + "/"
		c.cfg.Logger.Info("bullhorn login", logkey.RestURL, c.restURL)
		return nil
	}
}

// do calls the REST API at path (relative to restUrl) and decodes a JSON
// answer into out. An empty body leaves out untouched and returns
// errEmpty. A 401 logs in again and retries once.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, out any) error {
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		if c.bhToken == "" || c.sessionStale() {
			if err := c.loginLocked(ctx); err != nil {
				c.mu.Unlock()
				return err
			}
		}
		u, bh := c.restURL+path, c.bhToken
		c.mu.Unlock()
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("BhRestToken", bh)
		resp, err := c.send(req)
		if err != nil {
			return err
		}
		err = decodeResponse(resp, out)
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized && attempt == 0 {
			c.mu.Lock()
			if c.bhToken == bh {
				c.bhToken = ""
			}
			c.mu.Unlock()
			c.cfg.Logger.Info("bullhorn session refused; logging in again")
			continue
		}
		return err
	}
}

// sessionStale reports whether the access token behind the session is about
// to expire. Refreshing it then, rather than on the first 401, keeps a
// refresh token in use: Bullhorn retires one that goes unused too long.
func (c *Client) sessionStale() bool {
	return !c.token.Expiry.IsZero() && !c.cfg.NowFunc().Add(c.cfg.RefreshMargin).Before(c.token.Expiry)
}

var errEmpty = errors.New("empty answer")

func decodeResponse(resp *http.Response, out any) error {
	defer drain(resp)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &APIError{StatusCode: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
		var e struct {
			ErrorMessage string `json:"errorMessage"`
		}
		if json.Unmarshal(body, &e) == nil && e.ErrorMessage != "" {
			ae.Message = e.ErrorMessage
		}
		if s := resp.Header.Get("Retry-After"); s != "" {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 {
				ae.RetryAfter = time.Duration(n) * time.Second
			} else if t, err := http.ParseTime(s); err == nil {
				ae.RetryAfter = time.Until(t)
			}
		}
		return ae
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errEmpty
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode bullhorn answer: %w", err)
	}
	return nil
}

// send does req. A transport error names the URL as hirehook.RedactURL
// shows it, without the query, which carries credentials (client_secret,
// password, access_token): the error ends up in the source's health and in
// logs.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = hirehook.RedactURL(req.URL.String())
	}
	return resp, err
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// Subscription is Bullhorn's answer to creating a subscription.
type Subscription struct {
	SubscriptionID string `json:"subscriptionId"`
	LastRequestID  int64  `json:"lastRequestId"`
	CreatedOn      int64  `json:"createdOn"`
	JMSSelector    string `json:"jmsSelector"`
}

// Subscribe creates (or replaces) entity subscription id for names and
// eventTypes (INSERTED, UPDATED, DELETED).
func (c *Client) Subscribe(ctx context.Context, id string, names, eventTypes []string) (*Subscription, error) {
	q := url.Values{"type": {"entity"}, "names": {strings.Join(names, ",")}, "eventTypes": {strings.Join(eventTypes, ",")}}
	var out Subscription
	if err := c.do(ctx, http.MethodPut, "event/subscription/"+url.PathEscape(id), q, &out); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", id, err)
	}
	return &out, nil
}

// LastRequestID returns the requestId of the subscription's last batch. A
// subscription that does not exist is an *APIError with status 404.
func (c *Client) LastRequestID(ctx context.Context, id string) (int64, error) {
	var out struct {
		Result int64 `json:"result"`
	}
	if err := c.do(ctx, http.MethodGet, "event/subscription/"+url.PathEscape(id)+"/lastRequestId", nil, &out); err != nil {
		return 0, fmt.Errorf("last request id of %s: %w", id, err)
	}
	return out.Result, nil
}

// EnsureSubscription reuses subscription id when it exists, and creates it
// otherwise. Reuse matters: the events queued on it since the last poll are
// the ones not yet read. It reports whether it created the subscription.
func (c *Client) EnsureSubscription(ctx context.Context, id string, names, eventTypes []string) (created bool, err error) {
	_, err = c.LastRequestID(ctx, id)
	if err == nil {
		return false, nil
	}
	if !IsNotFound(err) {
		return false, err
	}
	if _, err := c.Subscribe(ctx, id, names, eventTypes); err != nil {
		return false, err
	}
	return true, nil
}

// Unsubscribe deletes subscription id and the events queued on it.
func (c *Client) Unsubscribe(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "event/subscription/"+url.PathEscape(id), nil, nil); err != nil && !errors.Is(err, errEmpty) {
		return fmt.Errorf("unsubscribe %s: %w", id, err)
	}
	return nil
}

// Event is one entity event from a subscription.
type Event struct {
	EventID           string            `json:"eventId"`
	EventType         string            `json:"eventType"`
	EventTimestamp    int64             `json:"eventTimestamp"` // epoch milliseconds
	EventMetadata     map[string]string `json:"eventMetadata,omitempty"`
	EntityName        string            `json:"entityName"`
	EntityID          int64             `json:"entityId"`
	EntityEventType   string            `json:"entityEventType"` // INSERTED, UPDATED or DELETED
	UpdatedProperties []string          `json:"updatedProperties,omitempty"`
}

// Batch is one answer of a subscription: RequestID names it for a re-read.
// An empty answer is a Batch with RequestID 0 and no events.
type Batch struct {
	RequestID int64   `json:"requestId"`
	Events    []Event `json:"events"`
}

// Events reads up to maxEvents (at most 100) from subscription id. Bullhorn
// deletes what it returns, so the caller must record the batch's RequestID
// before processing it. With requestID > 0 it re-reads that past batch.
func (c *Client) Events(ctx context.Context, id string, maxEvents int, requestID int64) (*Batch, error) {
	q := url.Values{"maxEvents": {strconv.Itoa(maxEvents)}}
	if requestID > 0 {
		q.Set("requestId", strconv.FormatInt(requestID, 10))
	}
	var out Batch
	err := c.do(ctx, http.MethodGet, "event/subscription/"+url.PathEscape(id), q, &out)
	if errors.Is(err, errEmpty) {
		return &Batch{RequestID: requestID}, nil
	} else if err != nil {
		return nil, fmt.Errorf("read events of %s: %w", id, err)
	}
	return &out, nil
}

// MaxIDsPerGet is how many ids the connector puts in one entity GET.
const MaxIDsPerGet = 100

// Entities fetches records of entity by id with Bullhorn's fields syntax,
// MaxIDsPerGet ids a request. Records that no longer exist are left out.
func (c *Client) Entities(ctx context.Context, entity string, ids []int64, fields string) ([]map[string]any, error) {
	var all []map[string]any
	for len(ids) > 0 {
		n := min(len(ids), MaxIDsPerGet)
		chunk := ids[:n]
		ids = ids[n:]
		parts := make([]string, len(chunk))
		for i, id := range chunk {
			parts[i] = strconv.FormatInt(id, 10)
		}
		path := "entity/" + url.PathEscape(entity) + "/" + strings.Join(parts, ",")
		q := url.Values{"fields": {fields}}
		if len(chunk) == 1 {
			var out struct {
				Data map[string]any `json:"data"`
			}
			err := c.do(ctx, http.MethodGet, path, q, &out)
			if IsNotFound(err) {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("get %s %s: %w", entity, parts[0], err)
			}
			all = append(all, out.Data)
			continue
		}
		var out struct {
			Data []map[string]any `json:"data"`
		}
		if err := c.do(ctx, http.MethodGet, path, q, &out); err != nil {
			return nil, fmt.Errorf("get %d %s: %w", len(chunk), entity, err)
		}
		all = append(all, out.Data...)
	}
	return all, nil
}
