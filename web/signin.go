package web

import (
	"crypto/subtle"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// signInPage is the data of the sign-in page.
type signInPage struct {
	Token  string
	Next   string
	Error  string
	Notice string
	// TTL is how long a session lasts, in words.
	TTL string
}

// safeNext keeps a post-sign-in target only if it is a path on this site,
// so the sign-in form cannot be made to send people elsewhere.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (h *Handler) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if sess := h.sessionOf(r, h.cfg.NowFunc()); sess != nil {
		redirect(w, r, next)
		return
	}
	page := signInPage{Next: next}
	switch r.URL.Query().Get("reason") {
	case reasonExpired:
		page.Notice = "Your session has ended. Sign in again to continue."
	case reasonRevoked:
		page.Notice = "Your API key was revoked or has expired. Sign in with another key."
	case "signedout":
		page.Notice = "You are signed out."
	}
	h.renderSignIn(w, r, http.StatusOK, page)
}

// renderSignIn renders the form with a fresh sign-in token, sent both in
// the form and in a cookie that only this path receives: a POST must
// carry both, equal, which another site cannot arrange.
func (h *Handler) renderSignIn(w http.ResponseWriter, r *http.Request, status int, page signInPage) {
	page.Token = randomToken()
	page.TTL = span(h.cfg.SessionTTL)
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: page.Token, Path: "/signin", MaxAge: 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	h.render(w, r, status, "signin", "Sign in", "", page)
}

func (h *Handler) handleSignIn(w http.ResponseWriter, r *http.Request) {
	now := h.cfg.NowFunc()
	if err := h.origin.Check(r); err != nil {
		h.error(w, r, hirehook.Errorf(hirehook.EFORBIDDEN, "This form was sent from another site."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.error(w, r, hirehook.Errorf(hirehook.EINVALID, "The form could not be read."))
		return
	}
	page := signInPage{Next: safeNext(r.PostForm.Get("next"))}
	c, err := r.Cookie(signinCookie)
	token := r.PostForm.Get("csrf_token")
	if err != nil || token == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(token)) != 1 {
		page.Error = "The sign-in form had expired. Enter your key again."
		h.renderSignIn(w, r, http.StatusForbidden, page)
		return
	}
	addr := clientAddr(r.RemoteAddr)
	if wait := h.signIns.wait(addr, now); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		h.logger.Warn("dashboard sign-in throttled", logkey.RemoteAddr, addr)
		page.Error = fmt.Sprintf("Too many failed sign-ins from your address. Wait %s and try again.", countNoun(secs, "second", "seconds"))
		h.renderSignIn(w, r, http.StatusTooManyRequests, page)
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("api_key"))
	if key == "" {
		page.Error = "Enter an API key."
		h.renderSignIn(w, r, http.StatusUnprocessableEntity, page)
		return
	}
	hash := hirehook.HashAPIKey(key)
	k, err := h.store.APIKeyByHash(r.Context(), hash)
	if err != nil && hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
		h.error(w, r, err)
		return
	}
	// The lookup compared hashes in the database; compare again in
	// constant time so no timing of ours depends on the key.
	if err != nil || subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 || k.Expired(now) {
		h.signIns.fail(addr, now)
		h.logger.Info("dashboard sign-in refused", logkey.RemoteAddr, r.RemoteAddr)
		page.Error = "That API key is not valid: it is unknown, revoked or expired."
		h.renderSignIn(w, r, http.StatusUnauthorized, page)
		return
	}
	if !k.Scope.Allows(hirehook.ScopeViewer) {
		page.Error = "This key can only send events into the hub; it cannot open the dashboard. Sign in with a view-only or admin key."
		h.renderSignIn(w, r, http.StatusForbidden, page)
		return
	}
	tenantName := k.TenantID
	if t, err := h.store.TenantGet(r.Context(), k.TenantID); err == nil && t.Name != "" {
		tenantName = t.Name
	}
	if err := h.store.APIKeyTouch(r.Context(), k.ID, now.UTC().Truncate(time.Microsecond)); err != nil {
		h.logger.Warn("record api key use", logkey.KeyID, k.ID, logkey.Error, err)
	}
	// A sign-in always starts a new session (never adopts an id the
	// browser brought) and ends the one it replaces.
	if old, err := r.Cookie(sessionCookie); err == nil {
		h.sessions.delete(old.Value)
	}
	sess := h.sessions.create(hash, tenantName, now, h.cfg.SessionTTL)
	h.setSessionCookie(w, r, sess)
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: "", Path: "/signin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	h.logger.Info("dashboard sign-in", logkey.KeyID, k.ID, logkey.TenantID, k.TenantID)
	redirect(w, r, page.Next)
}

func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request) {
	h.sessions.delete(principalOf(r).session.id)
	h.clearSessionCookie(w, r)
	redirect(w, r, "/signin?reason=signedout")
}
