package bullhorn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/bullhorn"
	"github.com/hirehook/hirehook/connector/bullhorn/bullhornsim"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/internal/testwait"
)

const subID = "hirehook-test"

type bundle struct {
	sim    *bullhornsim.Sim
	srv    *httptest.Server
	client *bullhorn.Client
	mapper *bullhorn.Mapper
	state  *bullhorn.MemoryState
	cp     *bullhorn.MemoryCheckpoint
	poller *bullhorn.Poller

	mu      sync.Mutex
	emitted []*hirehook.Event
	emitErr error // returned by Emit while set
	tokens  []bullhorn.Token
}

func (b *bundle) events() []*hirehook.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*hirehook.Event(nil), b.emitted...)
}

func (b *bundle) setEmitErr(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.emitErr = err
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// setup starts a simulator and a client, mapper and poller against it.
func setup(t *testing.T, simCfg bullhornsim.Config) *bundle {
	t.Helper()
	b := &bundle{sim: bullhornsim.New(simCfg), state: &bullhorn.MemoryState{}, cp: &bullhorn.MemoryCheckpoint{}}
	b.srv = httptest.NewServer(b.sim)
	t.Cleanup(b.srv.Close)
	b.client = newClient(t, b)
	b.mapper = bullhorn.NewMapper(b.client, bullhorn.MapperConfig{SourceID: "src1", Tenant: "e999", Currency: "GBP", State: b.state, Logger: testLogger(t)})
	b.poller = newPoller(t, b, b.client)
	return b
}

func newClient(t *testing.T, b *bundle) *bullhorn.Client {
	t.Helper()
	sc := b.sim.Config()
	c, err := bullhorn.NewClient(bullhorn.ClientConfig{
		Credentials: bullhorn.Credentials{ClientID: sc.ClientID, ClientSecret: sc.ClientSecret, Username: sc.Username, Password: sc.Password},
		AuthURL:     b.srv.URL,
		LoginURL:    b.srv.URL,
		HTTPClient:  b.srv.Client(), // the default client refuses loopback
		TokenFunc: func(_ context.Context, tok bullhorn.Token) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.tokens = append(b.tokens, tok)
			return nil
		},
		Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newPoller(t *testing.T, b *bundle, c *bullhorn.Client) *bullhorn.Poller {
	t.Helper()
	p, err := bullhorn.NewPoller(bullhorn.PollerConfig{
		Client:         c,
		Mapper:         b.mapper,
		SubscriptionID: subID,
		Checkpoint:     b.cp,
		Emit: func(_ context.Context, evs []*hirehook.Event) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.emitErr != nil {
				return b.emitErr
			}
			b.emitted = append(b.emitted, evs...)
			return nil
		},
		Interval:   time.Hour, // tests call PollOnce, or Start with full batches
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
		Logger:     testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pollOnce(t *testing.T, p *bullhorn.Poller) {
	t.Helper()
	if _, err := p.PollOnce(context.Background()); err != nil {
		t.Fatalf("poll: %v", err)
	}
}

func mustCreate(t *testing.T, s *bullhornsim.Sim, entity string, f map[string]any) int {
	t.Helper()
	id, err := s.Create(entity, f)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustUpdate(t *testing.T, s *bullhornsim.Sim, entity string, id int, f map[string]any) {
	t.Helper()
	if err := s.Update(entity, id, f); err != nil {
		t.Fatal(err)
	}
}

type agency struct{ client, contact, job, candidate, submission int }

// seed creates a client, a contact, a job order, a candidate and a
// submission of the candidate to the job.
func seed(t *testing.T, s *bullhornsim.Sim) agency {
	t.Helper()
	var a agency
	a.client = mustCreate(t, s, "ClientCorporation", map[string]any{"name": "Acme Insurance plc", "status": "Active"})
	a.contact = mustCreate(t, s, "ClientContact", map[string]any{"firstName": "Tom", "lastName": "Reed", "email": "tom.reed@acme.example", "clientCorporation": map[string]any{"id": a.client}})
	a.job = mustCreate(t, s, "JobOrder", map[string]any{
		"title": "Java Developer (contract)", "status": "Accepting Candidates", "isOpen": true, "isPublic": 0,
		"employmentType": "Contract", "numOpenings": 1, "clientCorporation": map[string]any{"id": a.client},
		"clientContact": map[string]any{"id": a.contact}, "payRate": 450, "clientBillRate": 560, "salaryUnit": "Per Day",
	})
	a.candidate = mustCreate(t, s, "Candidate", map[string]any{
		"firstName": "Amara", "lastName": "Okafor", "email": "amara.okafor@example.com", "mobile": "+447700900123", "status": "Active",
		"address": map[string]any{"city": "Leeds", "countryCode": "GB"},
	})
	a.submission = mustCreate(t, s, "JobSubmission", map[string]any{"candidate": map[string]any{"id": a.candidate}, "jobOrder": map[string]any{"id": a.job}, "status": "Submitted"})
	return a
}

func newPlacement(t *testing.T, s *bullhornsim.Sim, a agency) int {
	t.Helper()
	begin := time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC).UnixMilli()
	return mustCreate(t, s, "Placement", map[string]any{
		"candidate": map[string]any{"id": a.candidate}, "jobOrder": map[string]any{"id": a.job}, "jobSubmission": map[string]any{"id": a.submission},
		"status": "Placed", "dateBegin": begin, "employmentType": "Contract", "payRate": 450, "clientBillRate": 560, "salaryUnit": "Per Day",
		"hoursPerDay": 7.5, "fee": 0.2,
	})
}

// checkValid validates every event against the catalog and its subject.
func checkValid(t *testing.T, evs []*hirehook.Event) {
	t.Helper()
	for _, e := range evs {
		entity, id, err := catalog.Default().ValidateEvent(e.Type, e.Data)
		if err != nil {
			t.Errorf("%s %s: %v\n%s", e.Type, e.ID, err, e.Data)
			continue
		}
		if e.Subject.Entity != entity || e.Subject.ID != id || e.Source != "bullhorn" || !hirehook.ValidEventID(e.ID) {
			t.Errorf("%s: subject %+v source %q id %q", e.Type, e.Subject, e.Source, e.ID)
		}
	}
}

func types(evs []*hirehook.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func dataOf(t *testing.T, e *hirehook.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPlacementApprovedIsConfirmed(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	a := seed(t, b.sim)
	pollOnce(t, b.poller) // subscribes; the seed predates it

	plc := newPlacement(t, b.sim, a)
	pollOnce(t, b.poller)
	mustUpdate(t, b.sim, "Placement", plc, map[string]any{"status": "Approved"})
	pollOnce(t, b.poller)

	evs := b.events()
	checkValid(t, evs)
	if got, want := strings.Join(types(evs), ","), "placement.created,placement.confirmed"; got != want {
		t.Fatalf("types = %s, want %s", got, want)
	}
	e := evs[1]
	// placement.confirmed is inferred from the status; placement.created
	// follows from Bullhorn's INSERTED alone.
	if !e.Derived || evs[0].Derived {
		t.Fatalf("derived: created %v, confirmed %v; want false, true", evs[0].Derived, e.Derived)
	}
	if in, err := bullhorn.ToInput(e); err != nil || !in.Derived {
		t.Fatalf("ToInput: %v, derived %v", err, in != nil && in.Derived)
	}
	d := dataOf(t, e)
	cand, _ := d["candidate"].(map[string]any)
	job, _ := d["job"].(map[string]any)
	client, _ := d["client"].(map[string]any)
	if cand["first_name"] != "Amara" || cand["email"] != "amara.okafor@example.com" || job["title"] != "Java Developer (contract)" || client["name"] != "Acme Insurance plc" {
		t.Errorf("summaries not embedded: %s", e.Data)
	}
	if d["status"] != "Approved" || d["confirmed_at"] == nil || d["start_date"] != "2026-04-06" || d["employment_type"] != "contract" {
		t.Errorf("data = %s", e.Data)
	}
	if pay, _ := d["pay_rate"].(map[string]any); pay["amount"] != 450.0 || pay["currency"] != "GBP" || pay["unit"] != "day" {
		t.Errorf("pay_rate = %v", d["pay_rate"])
	}
	if got, want := string(e.Changes), `{"status":{"from":"Placed","to":"Approved"}}`; got != want {
		t.Errorf("changes = %s, want %s", got, want)
	}
	// What the hub's ingest makes of it.
	in, err := bullhorn.ToInput(e)
	if err != nil {
		t.Fatal(err)
	}
	prepared, err := ingest.New(nil, ingest.Config{}).Prepare(hirehook.DefaultTenantID, in, "")
	if err != nil {
		t.Fatalf("ingest refuses the event: %v", err)
	}
	if prepared.ID != e.ID || prepared.Subject != e.Subject || !prepared.OccurredAt.Equal(e.OccurredAt) || string(prepared.Changes) != string(e.Changes) {
		t.Errorf("prepared = %+v", prepared)
	}
	if e.Subject.Entity != "placement" || e.Subject.ID != "bh_1" || !strings.HasPrefix(e.ID, "bh:src1:ID:JBM-") {
		t.Errorf("subject %+v id %s", e.Subject, e.ID)
	}

	// Ended, and an ordinary update.
	mustUpdate(t, b.sim, "Placement", plc, map[string]any{"status": "Completed"})
	mustUpdate(t, b.sim, "Placement", plc, map[string]any{"payRate": 475})
	pollOnce(t, b.poller)
	evs = b.events()[2:]
	checkValid(t, evs)
	if got, want := strings.Join(types(evs), ","), "placement.ended,placement.updated"; got != want {
		t.Fatalf("types = %s, want %s", got, want)
	}
	if d := dataOf(t, evs[0]); d["end_reason"] != "completed" || d["ended_at"] == nil {
		t.Errorf("ended data = %s", evs[0].Data)
	}
}

// A placement whose status was never seen (created before the
// subscription) still confirms; the change's from is null.
func TestPlacementConfirmedWithoutLastState(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	a := seed(t, b.sim)
	plc := newPlacement(t, b.sim, a)
	pollOnce(t, b.poller)
	mustUpdate(t, b.sim, "Placement", plc, map[string]any{"status": "Approved"})
	pollOnce(t, b.poller)
	evs := b.events()
	if len(evs) != 1 || evs[0].Type != "placement.confirmed" {
		t.Fatalf("types = %v", types(evs))
	}
	if got, want := string(evs[0].Changes), `{"status":{"from":null,"to":"Approved"}}`; got != want {
		t.Errorf("changes = %s, want %s", got, want)
	}
}

func TestConfiguredStatuses(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	b.mapper = bullhorn.NewMapper(b.client, bullhorn.MapperConfig{ConfirmedStatuses: []string{"Confirmed by client"}, State: b.state})
	b.poller = newPoller(t, b, b.client)
	a := seed(t, b.sim)
	plc := newPlacement(t, b.sim, a)
	pollOnce(t, b.poller)
	mustUpdate(t, b.sim, "Placement", plc, map[string]any{"status": "Approved"})
	mustUpdate(t, b.sim, "Placement", plc, map[string]any{"status": "Confirmed by client"})
	pollOnce(t, b.poller)
	// Both events hydrate to the current record, so the first already
	// sees the final status; the second is then no status change.
	if got, want := strings.Join(types(b.events()), ","), "placement.confirmed,placement.updated"; got != want {
		t.Fatalf("types = %s, want %s", got, want)
	}
}

func TestMappingOfOtherEntities(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	a := seed(t, b.sim)
	pollOnce(t, b.poller)
	mustUpdate(t, b.sim, "JobSubmission", a.submission, map[string]any{"status": "Interview Scheduled"})
	appt := mustCreate(t, b.sim, "Appointment", map[string]any{"type": "Interview", "subject": "First interview",
		"dateBegin": time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC).UnixMilli(), "dateEnd": time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC).UnixMilli(),
		"candidateReference": map[string]any{"id": a.candidate}, "jobOrder": map[string]any{"id": a.job}, "location": "Leeds office"})
	mustCreate(t, b.sim, "Appointment", map[string]any{"type": "Meeting", "subject": "Lunch"})
	pollOnce(t, b.poller)
	mustUpdate(t, b.sim, "Appointment", appt, map[string]any{"dateBegin": time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC).UnixMilli()})
	pollOnce(t, b.poller)
	mustUpdate(t, b.sim, "JobOrder", a.job, map[string]any{"isPublic": 1})
	mustUpdate(t, b.sim, "JobOrder", a.job, map[string]any{"isOpen": false, "status": "Filled", "isPublic": 0})
	mustUpdate(t, b.sim, "ClientCorporation", a.client, map[string]any{"phone": "+441130000000"})
	mustUpdate(t, b.sim, "Candidate", a.candidate, map[string]any{"email": "not an email"})
	if err := b.sim.Delete("Appointment", appt); err != nil {
		t.Fatal(err)
	}
	if err := b.sim.Delete("Candidate", a.candidate); err != nil {
		t.Fatal(err)
	}
	pollOnce(t, b.poller)

	evs := b.events()
	checkValid(t, evs)
	want := []string{
		"client.created", "contact.created", "job.created", "candidate.created", "application.created",
		"application.stage_changed", "interview.scheduled",
		"interview.rescheduled",
		// isPublic 0→1 then (isOpen, status, isPublic) in one event; the
		// first hydrates to the final record, isPublic 0.
		"job.unposted",
		"job.closed", "job.unposted", "job.updated",
		"client.updated",
		// The candidate was deleted before the update was hydrated.
		"interview.cancelled", "candidate.deleted",
	}
	if got := strings.Join(types(evs), ","); got != strings.Join(want, ",") {
		t.Fatalf("types =\n%s\nwant\n%s", got, strings.Join(want, ","))
	}
	for _, e := range evs {
		switch e.Type {
		case "application.stage_changed":
			d := dataOf(t, e)
			stage, _ := d["stage"].(map[string]any)
			prev, _ := d["previous_stage"].(map[string]any)
			if stage["name"] != "Interview Scheduled" || stage["category"] != "interview" || prev["name"] != "Submitted" {
				t.Errorf("stage_changed data = %s", e.Data)
			}
			if got, want := string(e.Changes), `{"status":{"from":"Submitted","to":"Interview Scheduled"}}`; got != want {
				t.Errorf("changes = %s, want %s", got, want)
			}
			if c, _ := d["client"].(map[string]any); c["name"] != "Acme Insurance plc" {
				t.Errorf("application client = %v", d["client"])
			}
		case "interview.scheduled":
			d := dataOf(t, e)
			if d["start_at"] != "2026-05-01T09:00:00Z" || d["title"] != "First interview" {
				t.Errorf("interview data = %s", e.Data)
			}
		case "job.closed":
			if d := dataOf(t, e); d["close_reason"] != "filled" {
				t.Errorf("job.closed data = %s", e.Data)
			}
		}
	}
	if s := b.poller.Stats(); s.Skipped != 2 { // the meeting, and the update of the deleted candidate
		t.Errorf("skipped = %d, want 2", s.Skipped)
	}
}

// A crash after a batch was read and before it was processed: the events
// are gone from Bullhorn's queue, and a new poller re-reads the batch by
// the requestId the checkpoint holds.
func TestCrashBetweenReadAndProcessLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	a := seed(t, b.sim)
	newPlacement(t, b.sim, a)

	crash := errors.New("crash")
	b.setEmitErr(crash)
	if _, err := b.poller.PollOnce(context.Background()); !errors.Is(err, crash) {
		t.Fatalf("poll err = %v, want the crash", err)
	}
	if n := b.sim.Queued(subID); n != 0 {
		t.Fatalf("queued = %d: the read should have consumed the events", n)
	}
	st, _ := b.cp.Load(context.Background())
	if !st.Pending || st.RequestID == 0 {
		t.Fatalf("checkpoint = %+v, want the batch pending", st)
	}

	// A new process: new client (new login), new poller, same checkpoint.
	b.setEmitErr(nil)
	p2 := newPoller(t, b, newClient(t, b))
	pollOnce(t, p2)
	if got, want := strings.Join(types(b.events()), ","), "client.created,contact.created,job.created,candidate.created,application.created,placement.created"; got != want {
		t.Fatalf("types = %s, want %s", got, want)
	}
	if s := b.sim.Stats(); s.Rereads != 1 {
		t.Errorf("rereads = %d, want 1", s.Rereads)
	}
	st, _ = b.cp.Load(context.Background())
	if st.Pending || len(st.Seen) != 6 {
		t.Errorf("checkpoint = %+v, want not pending with 6 seen", st)
	}

	// The next poll reads new events, not the old batch again.
	mustUpdate(t, b.sim, "Candidate", a.candidate, map[string]any{"phone": "0113 000"})
	pollOnce(t, p2)
	if n := len(b.events()); n != 7 {
		t.Errorf("events = %d, want 7", n)
	}
}

func TestDuplicatesDropped(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	a := seed(t, b.sim)
	pollOnce(t, b.poller)
	first := len(b.events())

	// Bullhorn returns an event again, alone and twice in one batch.
	old := b.sim.Batch(subID, 1)
	if len(old) == 0 {
		t.Fatal("no batch 1")
	}
	_ = b.sim.Requeue(subID, old[0])
	pollOnce(t, b.poller)
	mustUpdate(t, b.sim, "Candidate", a.candidate, map[string]any{"status": "Placed"})
	ev := b.sim.Batch(subID, 1)[0]
	_ = b.sim.Requeue(subID, ev)
	pollOnce(t, b.poller)

	evs := b.events()
	if len(evs)-first != 1 || evs[len(evs)-1].Type != "candidate.updated" {
		t.Fatalf("new events = %v, want one candidate.updated", types(evs[first:]))
	}
	if s := b.poller.Stats(); s.Duplicates != 2 {
		t.Errorf("duplicates = %d, want 2", s.Duplicates)
	}

	// Duplicates are remembered across a restart, through the checkpoint.
	_ = b.sim.Requeue(subID, ev)
	p2 := newPoller(t, b, b.client)
	pollOnce(t, p2)
	if len(b.events()) != len(evs) {
		t.Errorf("a restarted poller emitted a duplicate")
	}
}

func TestLoginFollowsDataCentreAndReloginsOn401(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	if s := b.sim.Stats(); s.Redirects != 1 || s.Logins != 1 || s.CodeGrants != 1 {
		t.Fatalf("stats = %+v", s)
	}
	if !strings.Contains(b.client.RestURL(), "/dc/rest-services/e999/") {
		t.Errorf("rest url = %s", b.client.RestURL())
	}

	// The session times out: one 401, then a login at the data centre
	// directly (no second redirect) with the same access token.
	b.sim.ExpireSessions()
	a := seed(t, b.sim)
	pollOnce(t, b.poller)
	if s := b.sim.Stats(); s.Unauthorized != 1 || s.Logins != 2 || s.Redirects != 1 || s.RefreshGrants != 0 {
		t.Errorf("after session expiry: stats = %+v", s)
	}

	// The access token has expired too: refresh, then log in.
	b.sim.ExpireSessions()
	b.sim.ExpireAccessTokens()
	mustUpdate(t, b.sim, "Candidate", a.candidate, map[string]any{"status": "Placed"})
	pollOnce(t, b.poller)
	if s := b.sim.Stats(); s.RefreshGrants != 1 || s.Logins != 3 {
		t.Errorf("after token expiry: stats = %+v", s)
	}

	// The refresh token is revoked as well: authorize with the password.
	b.sim.ExpireSessions()
	b.sim.ExpireAccessTokens()
	b.sim.RevokeRefreshTokens()
	mustUpdate(t, b.sim, "Candidate", a.candidate, map[string]any{"status": "Active"})
	pollOnce(t, b.poller)
	if s := b.sim.Stats(); s.CodeGrants != 2 || s.Logins != 4 {
		t.Errorf("after revocation: stats = %+v", s)
	}
	if n := len(b.events()); n != 7 {
		t.Errorf("events = %d, want 7: none lost to the expiries", n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.tokens) != 3 || b.tokens[1].RefreshToken == b.tokens[0].RefreshToken {
		t.Errorf("TokenFunc saw %d tokens; each refresh must hand over the rotated refresh token", len(b.tokens))
	}
}

// A client given only a refresh token (what a source stores) works, and the
// access token is refreshed before it expires rather than after a 401.
func TestRefreshTokenOnlyAndRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	b := setup(t, bullhornsim.Config{NowFunc: clock, SessionTTL: time.Hour})
	pollOnce(t, b.poller) // authorizes with the password
	b.mu.Lock()
	rt := b.tokens[0].RefreshToken
	b.mu.Unlock()

	sc := b.sim.Config()
	c, err := bullhorn.NewClient(bullhorn.ClientConfig{
		Credentials: bullhorn.Credentials{ClientID: sc.ClientID, ClientSecret: sc.ClientSecret, RefreshToken: rt},
		AuthURL:     b.srv.URL, LoginURL: b.srv.URL, NowFunc: clock, HTTPClient: b.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LastRequestID(context.Background(), subID); err != nil {
		t.Fatal(err)
	}
	if s := b.sim.Stats(); s.RefreshGrants != 1 || s.CodeGrants != 1 {
		t.Fatalf("stats = %+v", s)
	}
	advance(9*time.Minute + 30*time.Second) // within the minute before expiry
	if _, err := c.LastRequestID(context.Background(), subID); err != nil {
		t.Fatal(err)
	}
	if s := b.sim.Stats(); s.RefreshGrants != 2 || s.Unauthorized != 0 {
		t.Errorf("stats = %+v, want a refresh and no 401", s)
	}
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	c, err := bullhorn.NewClient(bullhorn.ClientConfig{
		Credentials: bullhorn.Credentials{ClientID: "hirehook", ClientSecret: "secret", Username: "api.user", Password: "wrong"},
		AuthURL:     b.srv.URL, LoginURL: b.srv.URL, HTTPClient: b.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background()); err == nil || !strings.Contains(err.Error(), "no code") {
		t.Errorf("login err = %v", err)
	}
}

func TestEmptyAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	if _, err := b.client.Subscribe(context.Background(), subID, bullhorn.SubscriptionNames, bullhorn.SubscriptionEventTypes); err != nil {
		t.Fatal(err)
	}
	// The raw answer is an empty body...
	res, err := http.Get(b.client.RestURL() + "event/subscription/" + subID + "?maxEvents=100&BhRestToken=x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	batch, err := b.client.Events(context.Background(), subID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Events) != 0 || batch.RequestID != 0 {
		t.Errorf("batch = %+v", batch)
	}
	full, err := b.poller.PollOnce(context.Background())
	if err != nil || full || len(b.events()) != 0 {
		t.Errorf("poll: full %v err %v events %d", full, err, len(b.events()))
	}
	if st, _ := b.cp.Load(context.Background()); st.Pending || st.RequestID != 0 {
		t.Errorf("checkpoint = %+v", st)
	}
}

func TestUnknownSubscriptionIsRecreated(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	if _, err := b.client.Events(context.Background(), "nope", 10, 0); !bullhorn.IsNotFound(err) {
		t.Fatalf("err = %v, want 404", err)
	}
	pollOnce(t, b.poller)
	if err := b.client.Unsubscribe(context.Background(), subID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.poller.PollOnce(context.Background()); !bullhorn.IsNotFound(err) {
		t.Fatalf("poll err = %v, want 404", err)
	}
	pollOnce(t, b.poller) // subscribes again
	seed(t, b.sim)
	pollOnce(t, b.poller)
	if n := len(b.events()); n != 5 {
		t.Errorf("events = %d, want 5", n)
	}
}

func TestRateLimitAndServerErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	seed(t, b.sim)

	b.sim.Fail(http.StatusTooManyRequests, 1, 2*time.Second)
	_, err := b.poller.PollOnce(context.Background())
	var ae *bullhorn.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != 2*time.Second {
		t.Fatalf("err = %v, want 429 with Retry-After 2s", err)
	}
	b.sim.Fail(http.StatusInternalServerError, 1, 0)
	if _, err := b.poller.PollOnce(context.Background()); !errors.As(err, &ae) || ae.StatusCode != 500 {
		t.Fatalf("err = %v, want 500", err)
	}
	if n := b.sim.Queued(subID); n != 5 {
		t.Fatalf("queued = %d: failed reads must not consume events", n)
	}

	// The loop backs off through three 500s and recovers, nothing lost.
	b.sim.Fail(http.StatusInternalServerError, 3, 0)
	if err := b.poller.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.poller.Stop(context.Background()) })
	testwait.For(t, 10*time.Second, "5 events", func() bool { return len(b.events()) == 5 }, nil)
	if s := b.poller.Stats(); s.Errors < 5 || s.EventsEmitted != 5 {
		t.Errorf("stats = %+v", s)
	}
}

// Full batches are read back to back; only a short one waits the interval
// (an hour here).
func TestFullBatchesBackToBack(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	for i := range 250 {
		mustCreate(t, b.sim, "Candidate", map[string]any{"firstName": "C", "lastName": string(rune('a' + i%26))})
	}
	if err := b.poller.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.poller.Stop(context.Background()) })
	testwait.For(t, 10*time.Second, "250 events", func() bool { return len(b.events()) == 250 }, nil)
	if err := b.poller.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.poller.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := b.sim.Stats(); s.EntityGets != 3 {
		t.Errorf("entity gets = %d, want 3 (one per batch: ids are batched)", s.EntityGets)
	}
}

func TestSimAdminAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	do := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("%s %s = %d, want %d", method, path, res.StatusCode, want)
		}
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return out
	}
	out := do("POST", "/admin/entity/Candidate", `{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com"}`, 200)
	id := int(out["changedEntityId"].(float64))
	do("PATCH", "/admin/entity/Candidate/"+strconv.Itoa(id), `{"status":"Placed"}`, 200)
	do("PATCH", "/admin/entity/Candidate/999", `{"status":"Placed"}`, 404)
	do("POST", "/admin/entity/Candidate", `{"nope":1}`, 400)
	do("POST", "/admin/fail", `{"status":503,"count":1}`, 204)
	if _, err := b.poller.PollOnce(context.Background()); err == nil {
		t.Fatal("want the injected 503")
	}
	pollOnce(t, b.poller)
	do("DELETE", "/admin/entity/Candidate/"+strconv.Itoa(id), "", 200)
	do("POST", "/admin/expire?what=sessions", "", 204)
	pollOnce(t, b.poller)
	if got, want := strings.Join(types(b.events()), ","), "candidate.created,candidate.updated,candidate.deleted"; got != want {
		t.Errorf("types = %s, want %s", got, want)
	}

	// Entity GET: fields are checked, several ids answer a list.
	if _, err := b.sim.Create("Candidate", map[string]any{"firstName": "B"}); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(b.client.RestURL() + "entity/Candidate/1,2,3?fields=id,firstName&BhRestToken=bad")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("bad token status = %d", res.StatusCode)
	}
	got, err := b.client.Entities(context.Background(), "Candidate", []int64{1, 2, 3}, "id,firstName")
	if err != nil || len(got) != 1 {
		t.Errorf("entities = %v, %v", got, err)
	}
	if _, err := b.client.Entities(context.Background(), "Candidate", []int64{2}, "id,shoeSize"); err == nil {
		t.Error("an unknown field must be refused")
	}
}

func TestSeedDemoMapsValid(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	d, err := b.sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	pollOnce(t, b.poller)
	mustUpdate(t, b.sim, "Placement", d.Placements[0], map[string]any{"status": "Approved"})
	pollOnce(t, b.poller)
	evs := b.events()
	checkValid(t, evs)
	// 2 clients, 2 contacts, 3 jobs (+3 postings), 5 candidates, 5
	// applications, 1 placement, then the confirmation.
	if len(evs) != 22 || evs[len(evs)-1].Type != "placement.confirmed" {
		t.Errorf("types = %v", types(evs))
	}
	if s := b.poller.Stats(); s.Invalid != 0 || s.Skipped != 0 {
		t.Errorf("stats = %+v", s)
	}
}

// A hydration GET fails after the batch was read (and so deleted by
// Bullhorn): the batch stays pending and is re-read on the next poll.
func TestHydrationFailureRereadsBatch(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	a := seed(t, b.sim)
	newPlacement(t, b.sim, a)
	b.sim.FailPath("entity/", http.StatusServiceUnavailable, 1, 0)
	if _, err := b.poller.PollOnce(context.Background()); err == nil {
		t.Fatal("want the injected 503")
	}
	if n := b.sim.Queued(subID); n != 0 || len(b.events()) != 0 {
		t.Fatalf("queued %d, emitted %d: want the batch read and nothing emitted", n, len(b.events()))
	}
	pollOnce(t, b.poller)
	evs := b.events()
	checkValid(t, evs)
	if len(evs) != 6 || b.sim.Stats().Rereads != 1 {
		t.Errorf("events %v, rereads %d", types(evs), b.sim.Stats().Rereads)
	}
}

// A placement approved before the poller read its insert (or created
// approved) still confirms, once.
func TestPlacementCreatedAndApprovedInOneBatch(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	a := seed(t, b.sim)
	pollOnce(t, b.poller)
	n := len(b.events())
	plc := newPlacement(t, b.sim, a)
	mustUpdate(t, b.sim, "Placement", plc, map[string]any{"status": "Approved"})
	pollOnce(t, b.poller)
	evs := b.events()[n:]
	checkValid(t, evs)
	if got, want := strings.Join(types(evs), ","), "placement.created,placement.confirmed,placement.updated"; got != want {
		t.Fatalf("types = %s, want %s", got, want)
	}
	if evs[0].ID == evs[1].ID {
		t.Error("two events of one Bullhorn event share an id")
	}
}

// DELETED events of placements, submissions, clients and contacts map onto
// the catalog's .deleted types, and an interview's other changes onto
// interview.updated.
func TestDeletedAndInterviewUpdated(t *testing.T) {
	t.Parallel()
	b := setup(t, bullhornsim.Config{})
	pollOnce(t, b.poller)
	a := seed(t, b.sim)
	pl := newPlacement(t, b.sim, a)
	appt := mustCreate(t, b.sim, "Appointment", map[string]any{"type": "Interview", "subject": "First interview",
		"candidateReference": map[string]any{"id": a.candidate}, "jobOrder": map[string]any{"id": a.job}})
	pollOnce(t, b.poller)
	n := len(b.events())
	mustUpdate(t, b.sim, "Appointment", appt, map[string]any{"subject": "First interview (video)"})
	for _, d := range []struct {
		entity string
		id     int
	}{{"Placement", pl}, {"JobSubmission", a.submission}, {"ClientContact", a.contact}, {"ClientCorporation", a.client}} {
		if err := b.sim.Delete(d.entity, d.id); err != nil {
			t.Fatal(err)
		}
	}
	pollOnce(t, b.poller)
	evs := b.events()[n:]
	checkValid(t, evs)
	want := "interview.updated,placement.deleted,application.deleted,contact.deleted,client.deleted"
	if got := strings.Join(types(evs), ","); got != want {
		t.Fatalf("types =\n%s\nwant\n%s", got, want)
	}
	for _, e := range evs[1:] {
		if d := dataOf(t, e); d["id"] != e.Subject.ID {
			t.Errorf("%s data = %s", e.Type, e.Data)
		}
	}
}

// A transport error never shows the credentials that Bullhorn takes in
// query strings: it goes into the source's health and the logs.
func TestTransportErrorsHideCredentials(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	dead, hc := srv.URL, srv.Client()
	srv.Close() // connection refused from now on
	c, err := bullhorn.NewClient(bullhorn.ClientConfig{
		Credentials: bullhorn.Credentials{ClientID: "id", ClientSecret: "the-client-secret", Username: "u", Password: "the-password"},
		AuthURL:     dead, LoginURL: dead, HTTPClient: hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Events(t.Context(), "sub", 10, 0)
	if err == nil {
		t.Fatal("no error from a dead server")
	}
	if msg := err.Error(); strings.Contains(msg, "the-client-secret") || strings.Contains(msg, "the-password") {
		t.Fatalf("error shows a credential: %s", msg)
	}
}

// A poller stopped while Bullhorn answers a read of new events: Bullhorn
// has handed the batch out (it is gone from the queue), so the read and
// the save of its requestId finish before the poller stops, and the next
// poller re-reads the batch. Before, the cancelled read dropped the answer
// and the batch was lost (TestBullhornSourceEndToEnd flaked on it when a
// PATCH restarted the poller).
func TestStopDuringReadLosesNothing(t *testing.T) {
	t.Parallel()
	b := &bundle{sim: bullhornsim.New(bullhornsim.Config{}), state: &bullhorn.MemoryState{}, cp: &bullhorn.MemoryCheckpoint{}}
	var slow atomic.Bool
	answered := make(chan struct{}, 1)
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slow.Load() || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/event/subscription/") {
			b.sim.ServeHTTP(w, r)
			return
		}
		// Bullhorn takes the events off the queue, then the answer
		// is slow to arrive.
		rec := httptest.NewRecorder()
		b.sim.ServeHTTP(rec, r)
		answered <- struct{}{}
		time.Sleep(300 * time.Millisecond)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(b.srv.Close)
	b.client = newClient(t, b)
	b.mapper = bullhorn.NewMapper(b.client, bullhorn.MapperConfig{SourceID: "src1", Tenant: "e999", Currency: "GBP", State: b.state, Logger: testLogger(t)})
	b.poller = newPoller(t, b, b.client)
	pollOnce(t, b.poller) // subscribes

	a := seed(t, b.sim)
	slow.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := b.poller.PollOnce(ctx); errc <- err }()
	<-answered
	cancel() // what Stop does
	<-errc
	if n := b.sim.Queued(subID); n != 0 {
		t.Fatalf("queued = %d: the read should have taken the events", n)
	}
	st, _ := b.cp.Load(context.Background())
	if !st.Pending || st.RequestID == 0 {
		t.Fatalf("checkpoint = %+v, want the batch pending", st)
	}
	slow.Store(false)
	p2 := newPoller(t, b, newClient(t, b))
	pollOnce(t, p2)
	found := false
	for _, e := range b.events() {
		if e.Type == "candidate.created" && strings.HasSuffix(e.Subject.ID, fmt.Sprint(a.candidate)) {
			found = true
		}
	}
	if !found {
		t.Fatalf("the batch taken during the stop was lost: %v", types(b.events()))
	}
}
