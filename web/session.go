package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Cookie names.
const (
	// sessionCookie holds the session id.
	sessionCookie = "hirehook_session"
	// signinCookie holds the sign-in form's CSRF token, before there is a
	// session (so that no other site can sign a browser in to its key).
	signinCookie = "hirehook_signin"
)

// session is one sign-in. The key itself is never kept: its hash is, and
// each request looks the key up by it, so a revoked key ends the session
// at the next click.
type session struct {
	id         string
	csrf       string
	keyHash    string
	tenantName string
	created    time.Time
	expires    time.Time

	// flashes are messages for the next page, guarded by the store's mutex.
	flashes []flash
}

// validCSRF compares a form's token with the session's in constant time.
func (s *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// flash is a one-time message shown on the next page: the outcome of a
// POST after its redirect. Secret, when set, is shown once in a copyable
// box (a new endpoint's or a rotated signing secret).
type flash struct {
	Kind    string // "ok" or "error"
	Message string
	Secret  string
	// Link and LinkText add a link after the message.
	Link, LinkText string
}

// sessionStore holds sessions in memory. Sessions end with the process: a
// restart signs everyone out, which is acceptable for an operations
// console and keeps session secrets out of the database.
type sessionStore struct {
	mu  sync.Mutex
	m   map[string]*session // by SHA-256 of the id, so lookups do not time the id
	max int
}

func newSessionStore(max int) *sessionStore {
	return &sessionStore{m: map[string]*session{}, max: max}
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func lookupKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return string(sum[:])
}

// create stores a new session for a key, dropping expired sessions and,
// when full, the oldest one.
func (st *sessionStore) create(keyHash, tenantName string, now time.Time, ttl time.Duration) *session {
	s := &session{id: randomToken(), csrf: randomToken(), keyHash: keyHash, tenantName: tenantName, created: now, expires: now.Add(ttl)}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.m) >= st.max {
		var oldestKey string
		var oldest *session
		for k, v := range st.m {
			if !now.Before(v.expires) {
				delete(st.m, k)
				continue
			}
			if oldest == nil || v.created.Before(oldest.created) {
				oldestKey, oldest = k, v
			}
		}
		if len(st.m) >= st.max && oldest != nil {
			delete(st.m, oldestKey)
		}
	}
	st.m[lookupKey(s.id)] = s
	return s
}

// get returns the live session with that id, or nil.
func (st *sessionStore) get(id string, now time.Time) *session {
	if id == "" {
		return nil
	}
	k := lookupKey(id)
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[k]
	if s == nil {
		return nil
	}
	if !now.Before(s.expires) {
		delete(st.m, k)
		return nil
	}
	return s
}

// delete ends a session.
func (st *sessionStore) delete(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, lookupKey(id))
}

// addFlash queues a message for the session's next page.
func (st *sessionStore) addFlash(s *session, f flash) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(s.flashes) < 10 {
		s.flashes = append(s.flashes, f)
	}
}

// takeFlashes returns and clears the session's messages.
func (st *sessionStore) takeFlashes(s *session) []flash {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := s.flashes
	s.flashes = nil
	return f
}

// sessionOf returns the request's live session, or nil.
func (h *Handler) sessionOf(r *http.Request, now time.Time) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	return h.sessions.get(c.Value, now)
}

// flash queues a message for the request's session.
func (h *Handler) flash(r *http.Request, kind, msg string) {
	if p := principalOf(r); p != nil {
		h.sessions.addFlash(p.session, flash{Kind: kind, Message: msg})
	}
}

// flashLink queues a success message with a link (a local path).
func (h *Handler) flashLink(r *http.Request, msg, link, text string) {
	if p := principalOf(r); p != nil {
		h.sessions.addFlash(p.session, flash{Kind: "ok", Message: msg, Link: link, LinkText: text})
	}
}

// flashSecret queues a signing secret to show once.
func (h *Handler) flashSecret(r *http.Request, msg, secret string) {
	if p := principalOf(r); p != nil {
		h.sessions.addFlash(p.session, flash{Kind: "ok", Message: msg, Secret: secret})
	}
}

// setSessionCookie sends the session cookie: HttpOnly (no script reads
// it), SameSite=Lax (other sites' forms and fetches do not carry it; links
// to the dashboard still work), Secure when the request came over TLS.
func (h *Handler) setSessionCookie(w http.ResponseWriter, r *http.Request, s *session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.id, Path: "/",
		Expires: s.expires, MaxAge: int(s.expires.Sub(s.created).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
}

func (h *Handler) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}
