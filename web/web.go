package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/ops"
	"github.com/hirehook/hirehook/route"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config holds what the dashboard needs.
type Config struct {
	Store   Store
	Catalog *catalog.Catalog
	// NotifyFunc wakes the dispatcher after a replay or a recovery made
	// deliveries due.
	NotifyFunc func()
	// Pauses, if set, reads this node's dispatcher: which down endpoints
	// it has paused and probes (delivery.Dispatcher). The endpoint page
	// and the Integrations list show the pause; nil shows none.
	Pauses hirehook.EndpointPauses
	// Ingester commits the endpoint.tested events of "Send test event",
	// the same path as POST /v1/events. Nil hides the button.
	Ingester *ingest.Ingester
	// Route holds the options routes are compiled with by the "try it"
	// box: the hub's, as the API's test-route has them.
	Route route.Options
	// PushKinds are the source kinds that take webhooks at
	// POST /in/{source_id} (package inbound, which the dashboard does not
	// import: it brings the API with it). Their sources get the push
	// health rules, an ingest URL and a request log.
	PushKinds map[string]bool
	// InboundChangedFunc, if set, wakes the inbound worker after a reprocess
	// made requests due again.
	InboundChangedFunc func()
	// SourceKinds are the kinds of source the hub runs, as the API has
	// them: the dashboard's forms connect and change sources through the
	// same operations (package ops). Nil hides "Connect a source".
	// SourcesChanged, if set, is called after a source changed.
	SourceKinds        map[string]ops.SourceKind
	SourcesChangedFunc func()
	// PublicURL is the address vendors reach the hub at, for ingest URLs;
	// empty means the scheme and host the dashboard was reached at.
	PublicURL string
	// SessionTTL is how long a sign-in lasts. Default 12 h.
	SessionTTL time.Duration
	// MaxSessions bounds the sessions held in memory; past it the oldest
	// is dropped. Default 10,000.
	MaxSessions int
	NowFunc     func() time.Time
	Logger      *slog.Logger
}

// Handler serves the dashboard. It is an http.Handler for every path the
// server does not route elsewhere.
type Handler struct {
	cfg      Config
	store    Store
	logger   *slog.Logger
	pages    map[string]*template.Template
	mux      *http.ServeMux
	sessions *sessionStore
	signIns  *signInLimiter
	origin   *http.CrossOriginProtection
	// cssURL carries a hash of the stylesheet, so browsers may cache it
	// for long and still see a new one at once.
	cssURL string
}

// pageNames are the page templates; each is parsed with layout.html.
var pageNames = []string{
	"signin", "integrations", "coverage", "sources", "source", "source_form", "source_delete", "inbound", "events", "event", "record", "endpoint", "error",
}

// New parses the templates (a broken one fails here, at start-up) and
// returns the dashboard.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: a store is required")
	}
	if cfg.Catalog == nil {
		cfg.Catalog = catalog.Default()
	}
	if cfg.NotifyFunc == nil {
		cfg.NotifyFunc = func() {}
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 10000
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg:      cfg,
		store:    cfg.Store,
		logger:   logger.With(logkey.Component, "web"),
		pages:    map[string]*template.Template{},
		sessions: newSessionStore(cfg.MaxSessions),
		signIns:  newSignInLimiter(signInEvery, signInBurst, signInAddrs),
		origin:   http.NewCrossOriginProtection(),
	}
	for _, name := range pageNames {
		files := append([]string{"templates/layout.html", "templates/" + name + ".html"}, pagePartials[name]...)
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	css, err := fs.ReadFile(staticFS, "static/style.css")
	if err != nil {
		return nil, fmt.Errorf("web: read stylesheet: %w", err)
	}
	sum := sha256.Sum256(css)
	h.cssURL = "/static/style.css?v=" + hex.EncodeToString(sum[:6])

	h.mux = http.NewServeMux()
	for _, rt := range h.RouteTable() {
		handler := rt.handler
		if !rt.Public {
			handler = h.authed(rt.Scope, rt.handler)
		}
		h.mux.Handle(rt.Method+" "+rt.Pattern, handler)
	}
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	h.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
	h.mux.HandleFunc("/", h.handleNotFound)
	return h, nil
}

// Route is one dashboard route: its method and path pattern, the scope a
// session's key needs for it, and its handler. Public routes (sign-in)
// need no session.
type Route struct {
	Method  string
	Pattern string
	Scope   hirehook.Scope
	Public  bool
	handler http.HandlerFunc
}

// RouteTable lists every dashboard route but the stylesheet. New registers
// exactly these, so a test that walks the table walks the dashboard.
func (h *Handler) RouteTable() []Route {
	const (
		admin  = hirehook.ScopeAdmin
		viewer = hirehook.ScopeViewer
	)
	return []Route{
		{"GET", "/signin", "", true, h.handleSignInForm},
		{"POST", "/signin", "", true, h.handleSignIn},
		{"POST", "/signout", viewer, false, h.handleSignOut},

		{"GET", "/{$}", viewer, false, h.handleIntegrations},
		{"GET", "/coverage", viewer, false, h.handleCoverage},
		{"GET", "/sources", viewer, false, h.handleSourceList},
		{"GET", "/sources/new", admin, false, h.handleSourceNew},
		{"POST", "/sources", admin, false, h.handleSourceCreate},
		{"GET", "/sources/{id}", viewer, false, h.handleSourceGet},
		{"GET", "/sources/{id}/edit", admin, false, h.handleSourceEdit},
		{"POST", "/sources/{id}", admin, false, h.handleSourceUpdate},
		{"POST", "/sources/{id}/enabled", admin, false, h.handleSourceEnabled},
		{"GET", "/sources/{id}/delete", admin, false, h.handleSourceDeleteConfirm},
		{"POST", "/sources/{id}/delete", admin, false, h.handleSourceDelete},
		{"GET", "/sources/{id}/requests/{request_id}", viewer, false, h.handleInboundGet},
		{"POST", "/sources/{id}/reprocess", admin, false, h.handleSourceReprocess},

		{"GET", "/events", viewer, false, h.handleEventList},
		{"GET", "/events/{id}", viewer, false, h.handleEventGet},
		{"GET", "/records/{entity}/{id}", viewer, false, h.handleRecordGet},
		{"POST", "/deliveries/{id}/replay", admin, false, h.handleDeliveryReplay},

		{"GET", "/endpoints/new", admin, false, h.handleEndpointNew},
		{"POST", "/endpoints", admin, false, h.handleEndpointCreate},
		{"POST", "/endpoints/try-route", admin, false, h.handleEndpointTryRoute},
		{"GET", "/endpoints/{id}", viewer, false, h.handleEndpointGet},
		{"POST", "/endpoints/{id}", admin, false, h.handleEndpointUpdate},
		{"POST", "/endpoints/{id}/rotate-secret", admin, false, h.handleEndpointRotateSecret},
		{"POST", "/endpoints/{id}/recover", admin, false, h.handleEndpointRecover},
		{"POST", "/endpoints/{id}/test", admin, false, h.handleEndpointTest},
		{"POST", "/endpoints/{id}/try-route", admin, false, h.handleEndpointTryRoute},
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Scripts and styles come only from the embedded static files (the one
	// script, the endpoint form's live "try it", calls back only here);
	// forms post only here; no one may frame us.
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// principal is who a dashboard request acts as.
type principal struct {
	session    *session
	keyID      string
	keyName    string
	tenantID   string
	tenantName string
	scope      hirehook.Scope
}

// CanEdit reports whether the key may change things (admin or operator).
func (p *principal) CanEdit() bool { return p.scope.Allows(hirehook.ScopeAdmin) }

// TenantName is the tenant's name for the header.
func (p *principal) TenantName() string { return p.tenantName }

// TenantID is the tenant's id for the header.
func (p *principal) TenantID() string { return p.tenantID }

// KeyName is the key's name for the header.
func (p *principal) KeyName() string { return p.keyName }

// Scope is the key's scope for the header.
func (p *principal) Scope() string { return string(p.scope) }

type principalKey struct{}

func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	return p
}

// maxFormBytes bounds a dashboard form; the largest is the endpoint form.
const maxFormBytes = 64 << 10

// authed wraps a handler: it requires a live session whose key is still
// valid and allows need; on a POST it also requires a same-origin request
// and the session's CSRF token.
func (h *Handler) authed(need hirehook.Scope, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := h.cfg.NowFunc()
		sess := h.sessionOf(r, now)
		if sess == nil {
			h.toSignIn(w, r, "")
			return
		}
		k, err := h.store.APIKeyByHash(r.Context(), sess.keyHash)
		if hirehook.ErrorCode(err) == hirehook.ENOTFOUND || (err == nil && k.Expired(now)) {
			h.sessions.delete(sess.id)
			h.clearSessionCookie(w, r)
			h.toSignIn(w, r, reasonRevoked)
			return
		} else if err != nil {
			h.error(w, r, err)
			return
		}
		p := &principal{session: sess, keyID: k.ID, keyName: k.Name, tenantID: k.TenantID, tenantName: sess.tenantName, scope: k.Scope}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if r.Method == http.MethodPost {
			if err := h.origin.Check(r); err != nil {
				h.error(w, r, hirehook.Errorf(hirehook.EFORBIDDEN, "This form was sent from another site; the dashboard accepts forms only from its own pages."))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				h.error(w, r, hirehook.Errorf(hirehook.EINVALID, "The form could not be read."))
				return
			}
			if !sess.validCSRF(r.PostForm.Get("csrf_token")) {
				h.error(w, r, hirehook.Errorf(hirehook.EFORBIDDEN, "The form's security token is missing or out of date. Reload the page and try again."))
				return
			}
		}
		if !k.Scope.Allows(need) {
			have, _ := roleOf(k.Scope)
			h.error(w, r, hirehook.Errorf(hirehook.EFORBIDDEN, "You are signed in as %s, with %s access: this needs admin access. Ask whoever runs the hub for a key that can make changes.", keyLabel(k.Name), have))
			return
		}
		next(w, r)
	}
}

// Reasons toSignIn gives the sign-in page.
const (
	reasonExpired = "expired" // the session ended (or the hub restarted)
	reasonRevoked = "revoked" // the session's key was revoked or expired
)

// toSignIn sends a request without a usable session to the sign-in page,
// remembering where a GET was going. A POST is not replayed: its form is
// dropped.
func (h *Handler) toSignIn(w http.ResponseWriter, r *http.Request, reason string) {
	q := url.Values{}
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		q.Set("next", r.URL.RequestURI())
	}
	if reason == "" {
		if _, err := r.Cookie(sessionCookie); err == nil {
			reason = reasonExpired
		}
	}
	if reason != "" {
		q.Set("reason", reason)
	}
	target := "/signin"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// view is what every page template gets: the layout's fields and the
// page's own data.
type view struct {
	Title   string
	Nav     string
	P       *principal
	CSRF    string
	Flashes []flash
	CSS     string
	Now     time.Time
	Data    any
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page, title, nav string, data any) {
	v := view{Title: title, Nav: nav, P: principalOf(r), CSS: h.cssURL, Now: h.cfg.NowFunc().UTC(), Data: data}
	if v.P != nil {
		v.CSRF = v.P.session.csrf
		// Flashes wait for a GET of a page other than the error page: the
		// page the person was going to, not a form answered in place (the
		// endpoint form's live "try it" posts in the background, and must
		// not take a flash meant for the page a click is loading).
		if page != "error" && r.Method == http.MethodGet {
			v.Flashes = h.sessions.takeFlashes(v.P.session)
		}
	}
	var buf bytes.Buffer
	if err := h.pages[page].Execute(&buf, v); err != nil {
		h.logger.Error("render page", logkey.Page, page, logkey.RequestID, r.Header.Get("X-Request-Id"), logkey.Error, err)
		http.Error(w, "Internal error rendering the page.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// redirect answers a POST with 303 See Other to a GET of target.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// errorPage is the data of the error page.
type errorPage struct {
	Status    int
	Heading   string
	Message   string
	RequestID string
}

// error renders err as the error page: the one error renderer of the
// dashboard. Internal errors are logged in full and shown as a generic
// message with the request id.
func (h *Handler) error(w http.ResponseWriter, r *http.Request, err error) {
	code := hirehook.ErrorCode(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code, err = hirehook.EUNAVAILABLE, hirehook.Errorf(hirehook.EUNAVAILABLE, "The request was cancelled or timed out.")
	}
	status := hirehook.CodeStatus(code)
	reqID := r.Header.Get("X-Request-Id")
	msg := hirehook.ErrorMessage(err)
	if code == hirehook.EINTERNAL {
		h.logger.Error("request failed", logkey.Method, r.Method, logkey.Path, r.URL.Path, logkey.RequestID, reqID, logkey.Error, err)
		msg = "Something went wrong on our side. The details are in the hub's log."
	}
	heading := map[int]string{
		http.StatusNotFound:            "Not found",
		http.StatusForbidden:           "Not allowed",
		http.StatusUnprocessableEntity: "That did not work",
		http.StatusConflict:            "That did not work",
		http.StatusServiceUnavailable:  "Unavailable",
	}[status]
	if heading == "" {
		heading = "Error"
	}
	h.render(w, r, status, "error", heading, "", errorPage{Status: status, Heading: heading, Message: msg, RequestID: reqID})
}

// handleNotFound answers paths no route takes, with the dashboard's look
// when a session is present.
func (h *Handler) handleNotFound(w http.ResponseWriter, r *http.Request) {
	if sess := h.sessionOf(r, h.cfg.NowFunc()); sess != nil {
		if k, err := h.store.APIKeyByHash(r.Context(), sess.keyHash); err == nil && !k.Expired(h.cfg.NowFunc()) {
			p := &principal{session: sess, keyID: k.ID, keyName: k.Name, tenantID: k.TenantID, tenantName: sess.tenantName, scope: k.Scope}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
	}
	h.error(w, r, hirehook.Errorf(hirehook.ENOTFOUND, "There is no page at %s.", hirehook.Truncate(r.URL.Path, 200)))
}
