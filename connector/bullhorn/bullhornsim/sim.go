// Package bullhornsim is an in-memory Bullhorn: the parts of its REST API that
// hirehook's Bullhorn connector uses, served over HTTP by one http.Handler.
//
// It covers OAuth 2 (authorize with action=Login → a code by redirect; the
// token endpoint's authorization_code and refresh_token grants, with expiring
// access tokens and single-use refresh tokens), the REST login (a first
// answer that redirects to the "data centre" that holds the corporation,
// which returns BhRestToken and restUrl), sessions that time out (401), the
// event subscription API (PUT to create, GET with maxEvents that deletes what
// it returns, re-read of a past batch with requestId, an empty body when
// nothing is queued, lastRequestId, DELETE, 404 for an unknown
// subscription), and entity GETs by one or several ids with Bullhorn's fields
// syntax.
//
// An admin API changes the agency's records and queues the events Bullhorn
// would: POST /admin/entity/{Entity} creates (INSERTED), PATCH
// /admin/entity/{Entity}/{id} updates (UPDATED with updatedProperties),
// DELETE removes (DELETED). POST /admin/expire and POST /admin/fail turn on
// failure modes; the same operations are methods on Sim for Go tests.
package bullhornsim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Sim. Zero values take the defaults noted.
type Config struct {
	ClientID     string // default "hirehook"
	ClientSecret string // default "secret"
	Username     string // default "api.user"
	Password     string // default "password"
	// CorpToken is the corporation's path segment in restUrl; default "e999".
	CorpToken string
	// AccessTokenTTL is the life of an OAuth access token; default 10m, as
	// Bullhorn's.
	AccessTokenTTL time.Duration
	// SessionTTL is how long a BhRestToken stays valid without use;
	// default 10m. Each call extends it.
	SessionTTL time.Duration
	// MaxBatches is how many past batches of a subscription stay
	// re-readable by requestId; default 100.
	MaxBatches int
	NowFunc    func() time.Time
}

// Event is one event as Bullhorn's subscription API returns it.
type Event struct {
	EventID           string            `json:"eventId"`
	EventType         string            `json:"eventType"`
	EventTimestamp    int64             `json:"eventTimestamp"`
	EventMetadata     map[string]string `json:"eventMetadata"`
	EntityName        string            `json:"entityName"`
	EntityID          int               `json:"entityId"`
	EntityEventType   string            `json:"entityEventType"`
	UpdatedProperties []string          `json:"updatedProperties,omitempty"`
}

// Stats counts what the simulator was asked.
type Stats struct {
	Authorizes    int // codes issued
	CodeGrants    int // authorization_code grants
	RefreshGrants int // refresh_token grants
	Logins        int // successful REST logins
	Redirects     int // logins redirected to the data centre
	Unauthorized  int // REST calls refused with 401
	Polls         int // event GETs (including re-reads)
	Rereads       int // event GETs with requestId
	EntityGets    int // entity GETs
	Faults        int // injected failures served
}

// Sim is the simulator. It is safe for concurrent use.
type Sim struct {
	cfg Config
	mux *http.ServeMux

	mu       sync.Mutex
	codes    map[string]time.Time // code -> expiry
	access   map[string]time.Time // access token -> expiry
	refresh  map[string]bool      // live refresh tokens
	sessions map[string]time.Time // BhRestToken -> expiry
	records  map[string]map[int]map[string]any
	nextID   map[string]int
	subs     map[string]*subscription
	eventSeq int64
	txSeq    int64
	faults   []fault
	stats    Stats
}

type subscription struct {
	id            string
	names, types  map[string]bool
	createdOn     int64
	queue         []Event
	lastRequestID int64
	batches       map[int64][]Event
	order         []int64
}

type fault struct {
	status     int
	retryAfter time.Duration
	path       string // only calls whose path contains it; "" for any
}

// New returns a simulator with an empty agency.
func New(cfg Config) *Sim {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.ClientID, "hirehook")
	def(&cfg.ClientSecret, "secret")
	def(&cfg.Username, "api.user")
	def(&cfg.Password, "password")
	def(&cfg.CorpToken, "e999")
	if cfg.AccessTokenTTL <= 0 {
		cfg.AccessTokenTTL = 10 * time.Minute
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 10 * time.Minute
	}
	if cfg.MaxBatches <= 0 {
		cfg.MaxBatches = 100
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	s := &Sim{
		cfg:      cfg,
		codes:    map[string]time.Time{},
		access:   map[string]time.Time{},
		refresh:  map[string]bool{},
		sessions: map[string]time.Time{},
		records:  map[string]map[int]map[string]any{},
		nextID:   map[string]int{},
		subs:     map[string]*subscription{},
	}
	for name := range entities {
		s.records[name] = map[int]map[string]any{}
	}
	s.routes()
	return s
}

// Config returns the simulator's configuration with defaults applied, so a
// test can read the credentials it accepts.
func (s *Sim) Config() Config { return s.cfg }

func (s *Sim) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /oauth/authorize", s.handleAuthorize)
	m.HandleFunc("POST /oauth/token", s.handleToken)
	// The generic login host sends every corporation to its data centre.
	m.HandleFunc("/rest-services/login", s.handleLoginRedirect)
	m.HandleFunc("/dc/rest-services/login", s.handleLogin)

	rest := "/dc/rest-services/{corp}/"
	m.HandleFunc("PUT "+rest+"event/subscription/{sub}", s.rest(s.handleSubscribe))
	m.HandleFunc("GET "+rest+"event/subscription/{sub}", s.rest(s.handleEvents))
	m.HandleFunc("DELETE "+rest+"event/subscription/{sub}", s.rest(s.handleUnsubscribe))
	m.HandleFunc("GET "+rest+"event/subscription/{sub}/lastRequestId", s.rest(s.handleLastRequestID))
	m.HandleFunc("GET "+rest+"entity/{entity}/{ids}", s.rest(s.handleEntityGet))

	m.HandleFunc("POST /admin/entity/{entity}", s.handleAdminCreate)
	m.HandleFunc("GET /admin/entity/{entity}/{id}", s.handleAdminGet)
	m.HandleFunc("PATCH /admin/entity/{entity}/{id}", s.handleAdminUpdate)
	m.HandleFunc("DELETE /admin/entity/{entity}/{id}", s.handleAdminDelete)
	m.HandleFunc("POST /admin/expire", s.handleAdminExpire)
	m.HandleFunc("POST /admin/fail", s.handleAdminFail)
	m.HandleFunc("GET /admin/stats", s.handleAdminStats)
	s.mux = m
}

// ServeHTTP serves Bullhorn's API and the admin API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ---- OAuth ----

func (s *Sim) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.cfg.ClientID || q.Get("response_type") != "code" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "unknown client_id or response_type"})
		return
	}
	if q.Get("action") != "Login" || q.Get("username") != s.cfg.Username || q.Get("password") != s.cfg.Password {
		// Bullhorn shows its login form again; there is no code.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "<html><body><form>Invalid credentials. Please try again.</form></body></html>")
		return
	}
	code := "22" + token()
	s.mu.Lock()
	s.codes[code] = s.cfg.NowFunc().Add(2 * time.Minute)
	s.stats.Authorizes++
	s.mu.Unlock()
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		redirect = "/oauth/landing"
	}
	u, err := url.Parse(redirect)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "bad redirect_uri"})
		return
	}
	uq := u.Query()
	uq.Set("code", code)
	if st := q.Get("state"); st != "" {
		uq.Set("state", st)
	}
	u.RawQuery = uq.Encode()
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request) {
	// Bullhorn takes the parameters in the query string; a form body works too.
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	f := r.Form
	if f.Get("client_id") != s.cfg.ClientID || f.Get("client_secret") != s.cfg.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Invalid client credentials"})
		return
	}
	now := s.cfg.NowFunc()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.Get("grant_type") {
	case "authorization_code":
		exp, ok := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code"))
		if !ok || now.After(exp) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Invalid, expired, or revoked authorization code."})
			return
		}
		s.stats.CodeGrants++
	case "refresh_token":
		rt := f.Get("refresh_token")
		if !s.refresh[rt] {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Invalid, expired, or revoked refresh token."})
			return
		}
		// Bullhorn's refresh tokens are single-use: each grant returns a
		// new one and retires the old.
		delete(s.refresh, rt)
		s.stats.RefreshGrants++
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	at, rt := "91:"+token(), "91:"+token()
	s.access[at] = now.Add(s.cfg.AccessTokenTTL)
	s.refresh[rt] = true
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    int(s.cfg.AccessTokenTTL / time.Second),
		"refresh_token": rt,
	})
}

// ---- REST login ----

func (s *Sim) handleLoginRedirect(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Redirects++
	s.mu.Unlock()
	w.Header().Set("Location", "/dc/rest-services/login?"+r.URL.RawQuery)
	w.WriteHeader(http.StatusTemporaryRedirect)
}

func (s *Sim) handleLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if q.Get("version") == "" {
		writeError(w, http.StatusBadRequest, "Missing required parameter: version")
		return
	}
	now := s.cfg.NowFunc()
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[q.Get("access_token")]
	if !ok || now.After(exp) {
		writeError(w, http.StatusUnauthorized, "Invalid or expired OAuth access token.")
		return
	}
	bh := token()
	s.sessions[bh] = now.Add(s.cfg.SessionTTL)
	s.stats.Logins++
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"BhRestToken": bh,
		"restUrl":     fmt.Sprintf("%s://%s/dc/rest-services/%s/", scheme, r.Host, s.cfg.CorpToken),
	})
}

// rest wraps a REST handler with the checks every call passes: an injected
// fault, the corporation token and a live session.
func (s *Sim) rest(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if i := slices.IndexFunc(s.faults, func(f fault) bool { return strings.Contains(r.URL.Path, f.path) }); i >= 0 {
			f := s.faults[i]
			s.faults = slices.Delete(s.faults, i, i+1)
			s.stats.Faults++
			s.mu.Unlock()
			if f.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.retryAfter+time.Second-1)/time.Second)))
			}
			writeError(w, f.status, http.StatusText(f.status))
			return
		}
		if r.PathValue("corp") != s.cfg.CorpToken {
			s.mu.Unlock()
			writeError(w, http.StatusNotFound, "Unknown corporation")
			return
		}
		bh := r.Header.Get("BhRestToken")
		if bh == "" {
			bh = r.URL.Query().Get("BhRestToken")
		}
		if bh == "" {
			if c, err := r.Cookie("BhRestToken"); err == nil {
				bh = c.Value
			}
		}
		now := s.cfg.NowFunc()
		exp, ok := s.sessions[bh]
		if !ok || now.After(exp) {
			delete(s.sessions, bh)
			s.stats.Unauthorized++
			s.mu.Unlock()
			writeError(w, http.StatusUnauthorized, "Bad 'BhRestToken' or timed-out.")
			return
		}
		s.sessions[bh] = now.Add(s.cfg.SessionTTL)
		s.mu.Unlock()
		h(w, r)
	}
}

// ---- event subscriptions ----

func (s *Sim) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("type") != "entity" {
		writeError(w, http.StatusBadRequest, "type must be entity (fieldMapChange and jobMatchSearch are not simulated)")
		return
	}
	names, types := splitSet(q.Get("names")), splitSet(q.Get("eventTypes"))
	if len(names) == 0 || len(types) == 0 {
		writeError(w, http.StatusBadRequest, "names and eventTypes are required with type entity")
		return
	}
	for t := range types {
		if t != "INSERTED" && t != "UPDATED" && t != "DELETED" {
			writeError(w, http.StatusBadRequest, "Invalid event type: "+t)
			return
		}
	}
	id := r.PathValue("sub")
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[id]
	if sub == nil {
		sub = &subscription{id: id, createdOn: s.cfg.NowFunc().UnixMilli(), batches: map[int64][]Event{}}
		s.subs[id] = sub
	}
	// A PUT to an existing subscription replaces its selector and keeps
	// what is queued.
	sub.names, sub.types = names, types
	writeJSON(w, http.StatusOK, map[string]any{
		"lastRequestId":  sub.lastRequestID,
		"subscriptionId": id,
		"createdOn":      sub.createdOn,
		"jmsSelector": fmt.Sprintf("JMSType='ENTITY' AND BhCorpId=44 AND BhEntityName IN (%s) AND BhEntityEventType IN (%s)",
			quoteSet(names), quoteSet(types)),
	})
}

func (s *Sim) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	max, err := strconv.Atoi(q.Get("maxEvents"))
	if err != nil || max < 1 {
		writeError(w, http.StatusBadRequest, "maxEvents is required and must be a positive integer")
		return
	}
	if max > 100 {
		max = 100 // Bullhorn returns at most 100 events a request
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Polls++
	sub := s.subs[r.PathValue("sub")]
	if sub == nil {
		writeError(w, http.StatusNotFound, "Subscription not found: "+r.PathValue("sub"))
		return
	}
	var batch []Event
	var reqID int64
	if v := q.Get("requestId"); v != "" {
		s.stats.Rereads++
		reqID, err = strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "requestId must be an integer")
			return
		}
		batch = sub.batches[reqID]
	} else if len(sub.queue) > 0 {
		n := min(max, len(sub.queue))
		batch = slices.Clone(sub.queue[:n])
		sub.queue = slices.Delete(sub.queue, 0, n)
		sub.lastRequestID++
		reqID = sub.lastRequestID
		sub.batches[reqID] = batch
		sub.order = append(sub.order, reqID)
		if len(sub.order) > s.cfg.MaxBatches {
			delete(sub.batches, sub.order[0])
			sub.order = sub.order[1:]
		}
	}
	if len(batch) == 0 {
		// Bullhorn answers an empty poll with an empty body.
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"requestId": reqID, "events": batch})
}

func (s *Sim) handleLastRequestID(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[r.PathValue("sub")]
	if sub == nil {
		writeError(w, http.StatusNotFound, "Subscription not found: "+r.PathValue("sub"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": sub.lastRequestID})
}

func (s *Sim) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs[r.PathValue("sub")] == nil {
		writeError(w, http.StatusNotFound, "Subscription not found: "+r.PathValue("sub"))
		return
	}
	delete(s.subs, r.PathValue("sub"))
	writeJSON(w, http.StatusOK, map[string]any{"result": true})
}

// ---- entities ----

func (s *Sim) handleEntityGet(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("entity")
	kinds, ok := entities[name]
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid entity type: "+name)
		return
	}
	fieldsParam := r.URL.Query().Get("fields")
	if fieldsParam == "" {
		writeError(w, http.StatusBadRequest, "Either fields or layout must be specified")
		return
	}
	var fields []fieldSpec
	if fieldsParam != "*" {
		var err error
		if fields, err = parseFields(fieldsParam); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid fields: "+err.Error())
			return
		}
		for _, f := range fields {
			if _, ok := kinds[f.name]; !ok {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid field '%s' for entity %s", f.name, name))
				return
			}
		}
	}
	var ids []int
	for _, p := range strings.Split(r.PathValue("ids"), ",") {
		id, err := strconv.Atoi(p)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid entity id: "+p)
			return
		}
		ids = append(ids, id)
	}
	if len(ids) > 500 {
		writeError(w, http.StatusBadRequest, "Too many ids: at most 500")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.EntityGets++
	var out []map[string]any
	for _, id := range ids {
		rec := s.records[name][id]
		if rec == nil {
			continue
		}
		out = append(out, s.render(name, rec, fields))
	}
	if len(ids) == 1 {
		if len(out) == 0 {
			writeError(w, http.StatusNotFound, fmt.Sprintf("Entity '%s' with id %d not found.", name, ids[0]))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": out[0]})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// associations names the entity a to-one field points at, so that sub-field
// selections can be filled in.
var associations = map[string]string{
	"candidate": "Candidate", "candidateReference": "Candidate",
	"jobOrder": "JobOrder", "jobSubmission": "JobSubmission",
	"clientCorporation": "ClientCorporation", "clientContact": "ClientContact",
	"clientContactReference": "ClientContact",
}

// render returns the fields of rec that fields asks for (all when nil).
// Must be called with s.mu held.
func (s *Sim) render(name string, rec map[string]any, fields []fieldSpec) map[string]any {
	if fields == nil {
		for f := range entities[name] {
			fields = append(fields, fieldSpec{name: f})
		}
	}
	out := map[string]any{}
	for _, f := range fields {
		v, ok := rec[f.name]
		if !ok {
			v = nil
		}
		if entities[name][f.name] == toOne {
			ref, _ := v.(map[string]any)
			if ref == nil {
				out[f.name] = nil
				continue
			}
			id, _ := toInt(ref["id"])
			assoc := map[string]any{"id": id}
			target := s.records[associations[f.name]][id]
			for _, sf := range f.sub {
				if target != nil {
					if tv, ok := target[sf.name]; ok {
						assoc[sf.name] = tv
					}
				}
			}
			out[f.name] = assoc
			continue
		}
		out[f.name] = v
	}
	return out
}

// ---- admin: changing the agency ----

// Create adds a record of entity with fields and queues INSERTED. An "id" in
// fields is used if free; otherwise the next id is taken. Associations are
// given as {"id": n}.
func (s *Sim) Create(entity string, fields map[string]any) (int, error) {
	kinds, ok := entities[entity]
	if !ok {
		return 0, fmt.Errorf("unknown entity %q", entity)
	}
	if err := checkFields(entity, kinds, fields); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := toInt(fields["id"])
	if id <= 0 || s.records[entity][id] != nil {
		s.nextID[entity]++
		id = s.nextID[entity]
		for s.records[entity][id] != nil {
			s.nextID[entity]++
			id = s.nextID[entity]
		}
	}
	now := s.cfg.NowFunc().UnixMilli()
	rec := map[string]any{}
	for k, v := range fields {
		rec[k] = normalize(v)
	}
	rec["id"] = id
	rec["dateAdded"] = now
	rec["dateLastModified"] = now
	if entity == "Candidate" || entity == "ClientContact" {
		if _, ok := fields["name"]; !ok {
			rec["name"] = strings.TrimSpace(fmt.Sprint(str(rec["firstName"]), " ", str(rec["lastName"])))
		}
	}
	s.records[entity][id] = rec
	s.queueEvent(entity, id, "INSERTED", nil)
	return id, nil
}

// Update changes fields of a record and queues UPDATED naming the fields
// whose values changed. Setting a field to its current value changes nothing
// and queues nothing, as in Bullhorn.
func (s *Sim) Update(entity string, id int, fields map[string]any) error {
	kinds, ok := entities[entity]
	if !ok {
		return fmt.Errorf("unknown entity %q", entity)
	}
	if err := checkFields(entity, kinds, fields); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[entity][id]
	if rec == nil {
		return fmt.Errorf("%s %d: %w", entity, id, ErrNotFound)
	}
	var changed []string
	for k, v := range fields {
		if k == "id" {
			continue
		}
		v = normalize(v)
		if !reflect.DeepEqual(rec[k], v) {
			rec[k] = v
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	sort.Strings(changed)
	rec["dateLastModified"] = s.cfg.NowFunc().UnixMilli()
	s.queueEvent(entity, id, "UPDATED", changed)
	return nil
}

// Delete removes a record and queues DELETED.
func (s *Sim) Delete(entity string, id int) error {
	if _, ok := entities[entity]; !ok {
		return fmt.Errorf("unknown entity %q", entity)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records[entity][id] == nil {
		return fmt.Errorf("%s %d: %w", entity, id, ErrNotFound)
	}
	delete(s.records[entity], id)
	s.queueEvent(entity, id, "DELETED", nil)
	return nil
}

// Get returns a copy of a record, or nil.
func (s *Sim) Get(entity string, id int) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.records[entity][id]
	if rec == nil {
		return nil
	}
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		out[k] = v
	}
	return out
}

// ErrNotFound is returned by Update and Delete for a missing record.
var ErrNotFound = errors.New("not found")

// queueEvent appends one event to every subscription that selects it. Must
// be called with s.mu held.
func (s *Sim) queueEvent(entity string, id int, typ string, props []string) {
	s.eventSeq++
	s.txSeq++
	ev := Event{
		EventID:        fmt.Sprintf("ID:JBM-%08d", 40000000+s.eventSeq),
		EventType:      "ENTITY",
		EventTimestamp: s.cfg.NowFunc().UnixMilli(),
		EventMetadata: map[string]string{
			"PERSON_ID":      "1",
			"TRANSACTION_ID": fmt.Sprintf("tx-%d", s.txSeq),
		},
		EntityName:        entity,
		EntityID:          id,
		EntityEventType:   typ,
		UpdatedProperties: props,
	}
	for _, sub := range s.subs {
		if sub.names[entity] && sub.types[typ] {
			sub.queue = append(sub.queue, ev)
		}
	}
}

// Requeue puts ev on subscription sub again, as Bullhorn may deliver an
// event twice; tests use it to check that duplicates are dropped.
func (s *Sim) Requeue(sub string, ev Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	su := s.subs[sub]
	if su == nil {
		return fmt.Errorf("subscription %s: %w", sub, ErrNotFound)
	}
	su.queue = append(su.queue, ev)
	return nil
}

// Queued returns the number of events waiting on subscription sub.
func (s *Sim) Queued(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if su := s.subs[sub]; su != nil {
		return len(su.queue)
	}
	return 0
}

// Batch returns a past batch of subscription sub by requestId.
func (s *Sim) Batch(sub string, requestID int64) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if su := s.subs[sub]; su != nil {
		return slices.Clone(su.batches[requestID])
	}
	return nil
}

// ExpireSessions ends every REST session now: the next call with a
// BhRestToken answers 401.
func (s *Sim) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// ExpireAccessTokens expires every OAuth access token now, so a login needs
// a refresh first.
func (s *Sim) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

// RevokeRefreshTokens retires every refresh token, so a client has to go
// through authorize again.
func (s *Sim) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refresh)
}

// Fail makes the next n REST calls (not OAuth or login) answer status: 429
// with Retry-After when retryAfter > 0, 500, 503... They count against the
// calls in the order they arrive.
func (s *Sim) Fail(status, n int, retryAfter time.Duration) {
	s.FailPath("", status, n, retryAfter)
}

// FailPath is Fail for the REST calls whose path contains path, such as
// "entity/" (the GETs that hydrate events) or "event/subscription".
func (s *Sim) FailPath(path string, status, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, retryAfter: retryAfter, path: path})
	}
}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Sim) handleAdminCreate(w http.ResponseWriter, r *http.Request) {
	var fields map[string]any
	if !decode(w, r, &fields) {
		return
	}
	id, err := s.Create(r.PathValue("entity"), fields)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changedEntityId": id, "changeType": "INSERT", "data": s.Get(r.PathValue("entity"), id)})
}

func (s *Sim) handleAdminGet(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	rec := s.Get(r.PathValue("entity"), id)
	if rec == nil {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": rec})
}

func (s *Sim) handleAdminUpdate(w http.ResponseWriter, r *http.Request) {
	var fields map[string]any
	if !decode(w, r, &fields) {
		return
	}
	id, _ := strconv.Atoi(r.PathValue("id"))
	if err := s.Update(r.PathValue("entity"), id, fields); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrNotFound) {
			status = http.StatusNotFound
		}
		writeError(w, status, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changedEntityId": id, "changeType": "UPDATE", "data": s.Get(r.PathValue("entity"), id)})
}

func (s *Sim) handleAdminDelete(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	if err := s.Delete(r.PathValue("entity"), id); err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changedEntityId": id, "changeType": "DELETE"})
}

// handleAdminExpire expires ?what=sessions (default), access or refresh.
func (s *Sim) handleAdminExpire(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("what") {
	case "", "sessions":
		s.ExpireSessions()
	case "access":
		s.ExpireAccessTokens()
	case "refresh":
		s.RevokeRefreshTokens()
	default:
		writeError(w, http.StatusBadRequest, "what must be sessions, access or refresh")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleAdminFail takes {"status": 429, "count": 3, "retry_after_seconds": 1,
// "path": "entity/"}; path is optional.
func (s *Sim) handleAdminFail(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status            int    `json:"status"`
		Count             int    `json:"count"`
		RetryAfterSeconds int    `json:"retry_after_seconds"`
		Path              string `json:"path"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Status < 400 || in.Status > 599 || in.Count < 1 {
		writeError(w, http.StatusBadRequest, "status must be 400-599 and count at least 1")
		return
	}
	s.FailPath(in.Path, in.Status, in.Count, time.Duration(in.RetryAfterSeconds)*time.Second)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) handleAdminStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

// ---- helpers ----

func checkFields(entity string, kinds map[string]fieldKind, fields map[string]any) error {
	for k, v := range fields {
		kind, ok := kinds[k]
		if !ok {
			return fmt.Errorf("invalid field '%s' for entity %s", k, entity)
		}
		if kind == toOne && v != nil {
			m, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("field %s of %s must be {\"id\": n}", k, entity)
			}
			if _, ok := toInt(m["id"]); !ok {
				return fmt.Errorf("field %s of %s must be {\"id\": n}", k, entity)
			}
		}
	}
	return nil
}

// normalize stores values as JSON decoding would give them back, so that
// a Go caller's int and a JSON caller's float64 compare equal.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	if m, ok := out.(map[string]any); ok {
		if id, ok := toInt(m["id"]); ok && len(m) == 1 {
			return map[string]any{"id": id}
		}
	}
	return out
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), x == float64(int(x))
	case json.Number:
		n, err := x.Int64()
		return int(n), err == nil
	}
	return 0, false
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func splitSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out[p] = true
		}
	}
	return out
}

func quoteSet(m map[string]bool) string {
	var parts []string
	for k := range m {
		parts = append(parts, "'"+k+"'")
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers as Bullhorn's REST API does: errorMessage and errorCode.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errorMessage": msg, "errorCode": status})
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
