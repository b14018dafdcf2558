// Package onboarding is the reference onboarding receiver: the service at
// the end of hirehook's flagship flow. When a placement is confirmed it
// creates the new hire's record, sends the welcome email and queues the
// client's compliance packet, once, however many times the webhook comes.
//
// It takes placement.confirmed webhooks from hirehook, verified with the Go
// SDK (client/receiver), in three shapes:
//   - the full event: data is the placement, with candidate, job and client;
//   - a thin event (an endpoint with "payload": "thin"): no data, so the
//     placement is fetched from hirehook's record API
//     (GET /v1/records/placement/{id}) with an API key;
//   - the service's own shape, which an endpoint's transform can produce:
//     {"placement_id", "employee": {"given_name", "family_name", "email"},
//     "start_date", "client_code", "client_name"?, "job_title"?}.
//
// Everything lands in one SQLite transaction keyed by placement id: the new
// hire, the queued packet documents and the welcome email in an outbox.
// The outbox is sent by Run, and retried with backoff while the SMTP relay
// refuses, so a slow relay never makes hirehook retry the webhook and an
// email is never sent twice by a retried webhook.
package onboarding

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/smtp"
	"net/url"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/hirehook/hirehook/client/entity"
	"github.com/hirehook/hirehook/client/receiver"
)

// Config configures a Service. DBPath, Secrets, SMTPAddr and MailFrom are
// required.
type Config struct {
	// DBPath is the service's own SQLite file.
	DBPath string
	// Secrets verify the webhooks: the endpoint's whsec_ secret (or whpk_
	// public key), several during a rotation.
	Secrets []string
	// SMTPAddr is the mail relay, host:port (no authentication: a relay on
	// the service's own network).
	SMTPAddr string
	// MailFrom is the welcome email's sender address.
	MailFrom string
	// HubURL and HubKey read hirehook's record API, for thin events. A
	// viewer key is enough.
	HubURL, HubKey string
	// Packets maps a client id (the placement's client.id, or client_code)
	// to its compliance documents; DefaultPacket serves the others.
	Packets       map[string][]string
	DefaultPacket []string
	// RetryAfter is the wait after an email the relay refused, doubling
	// up to 10 min. Default 5 s.
	RetryAfter time.Duration
	// HTTPClient fetches records. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	NowFunc    func() time.Time
}

// Service is the onboarding receiver.
type Service struct {
	cfg      Config
	db       *sql.DB
	verifier *receiver.Verifier
	logger   *slog.Logger
	wake     chan struct{}
	// sendMu makes passes over the outbox one at a time, so that Run and a
	// caller of SendDue never both send the same due email.
	sendMu sync.Mutex
}

// NewHire is one new hire the service created.
type NewHire struct {
	PlacementID string    `json:"placement_id"`
	EventID     string    `json:"event_id"`
	GivenName   string    `json:"given_name"`
	FamilyName  string    `json:"family_name"`
	Email       string    `json:"email"`
	StartDate   string    `json:"start_date"`
	ClientID    string    `json:"client_id"`
	ClientName  string    `json:"client_name"`
	JobTitle    string    `json:"job_title"`
	CreatedAt   time.Time `json:"created_at"`
	// Packet is the compliance documents queued for the new hire.
	Packet []string `json:"packet"`
	// WelcomeSentAt is when the welcome email was accepted by the relay;
	// nil while it waits in the outbox.
	WelcomeSentAt *time.Time `json:"welcome_sent_at"`
	// WelcomeAttempts counts the tries to send it.
	WelcomeAttempts int `json:"welcome_attempts"`
}

const schema = `
CREATE TABLE IF NOT EXISTS new_hires (
	placement_id TEXT PRIMARY KEY,
	event_id     TEXT NOT NULL,
	given_name   TEXT NOT NULL,
	family_name  TEXT NOT NULL,
	email        TEXT NOT NULL,
	start_date   TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	client_name  TEXT NOT NULL,
	job_title    TEXT NOT NULL,
	created_at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS packet_items (
	placement_id TEXT NOT NULL,
	position     INTEGER NOT NULL,
	document     TEXT NOT NULL,
	queued_at    INTEGER NOT NULL,
	PRIMARY KEY (placement_id, position)
);
CREATE TABLE IF NOT EXISTS outbox (
	placement_id TEXT PRIMARY KEY,
	recipient    TEXT NOT NULL,
	message      BLOB NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_try_at  INTEGER NOT NULL,
	last_error   TEXT NOT NULL DEFAULT '',
	sent_at      INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_try_at) WHERE sent_at IS NULL;
`

// Open opens (or creates) the service's database.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	switch {
	case cfg.DBPath == "":
		return nil, errors.New("onboarding: DBPath is required")
	case len(cfg.Secrets) == 0:
		return nil, errors.New("onboarding: at least one webhook secret is required")
	case cfg.SMTPAddr == "":
		return nil, errors.New("onboarding: SMTPAddr is required")
	case cfg.MailFrom == "":
		return nil, errors.New("onboarding: MailFrom is required")
	}
	verifier := &receiver.Verifier{Secrets: cfg.Secrets}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 5 * time.Second
	}
	dsn := "file:" + cfg.DBPath + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("onboarding: open %s: %w", cfg.DBPath, err)
	}
	db.SetMaxOpenConns(1) // one writer; the service is small
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("onboarding: create tables: %w", err)
	}
	return &Service{cfg: cfg, db: db, verifier: verifier, logger: cfg.Logger, wake: make(chan struct{}, 1)}, nil
}

// Close closes the database.
func (s *Service) Close() error { return s.db.Close() }

// Handler serves POST /webhooks/hirehook (the endpoint URL to give
// hirehook) and GET /new-hires (what was created, as JSON).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/hirehook", s.handleWebhook)
	mux.HandleFunc("GET /new-hires", s.handleList)
	return mux
}

// envelope is the part of a webhook body the service reads.
type envelope struct {
	ID      string                      `json:"id"`
	Type    string                      `json:"type"`
	Subject struct{ Entity, ID string } `json:"subject"`
	Data    json.RawMessage             `json:"data"`
	// The service's own shape (a transform's output).
	PlacementID string `json:"placement_id"`
	Employee    *struct {
		GivenName  string `json:"given_name"`
		FamilyName string `json:"family_name"`
		Email      string `json:"email"`
	} `json:"employee"`
	StartDate  string `json:"start_date"`
	ClientCode string `json:"client_code"`
	ClientName string `json:"client_name"`
	JobTitle   string `json:"job_title"`
}

func (s *Service) handleWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := s.verifier.Verify(r)
	if err != nil {
		// Say why (no secret is in the message), so the operator sees it in
		// hirehook's attempt log.
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, "the body is not JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	webhookID := r.Header.Get("webhook-id")
	nh, err := s.newHireOf(r.Context(), &env, webhookID)
	switch {
	case errors.Is(err, errIgnored):
		w.WriteHeader(http.StatusNoContent) // not for us: acknowledged, nothing to do
		return
	case err != nil:
		var fe fieldError
		if errors.As(err, &fe) {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		s.logger.Error("read placement", "webhook_id", webhookID, "error", err)
		http.Error(w, err.Error(), http.StatusBadGateway) // hirehook retries
		return
	}
	created, err := s.create(r.Context(), nh)
	if err != nil {
		s.logger.Error("create new hire", "placement_id", nh.PlacementID, "error", err)
		http.Error(w, "could not store the new hire", http.StatusInternalServerError)
		return
	}
	if created {
		s.logger.Info("new hire created", "placement_id", nh.PlacementID, "client_id", nh.ClientID, "packet", len(nh.Packet))
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"placement_id": nh.PlacementID, "created": created})
}

var errIgnored = errors.New("not a placement.confirmed event")

// fieldError is a webhook that cannot make a new hire: 422, naming the field.
type fieldError struct{ field, msg string }

func (e fieldError) Error() string { return e.field + ": " + e.msg }

// newHireOf reads the new hire out of any of the three shapes.
func (s *Service) newHireOf(ctx context.Context, env *envelope, webhookID string) (*NewHire, error) {
	if env.Employee != nil {
		nh := &NewHire{PlacementID: env.PlacementID, EventID: webhookID, GivenName: env.Employee.GivenName, FamilyName: env.Employee.FamilyName,
			Email: env.Employee.Email, StartDate: env.StartDate, ClientID: env.ClientCode, ClientName: env.ClientName, JobTitle: env.JobTitle}
		return nh, s.check(nh, "placement_id", "employee.email")
	}
	if env.Type != "placement.confirmed" {
		return nil, errIgnored
	}
	data := env.Data
	if len(data) == 0 || string(data) == "null" {
		// A thin event: fetch the placement as hirehook has it now.
		id := env.Subject.ID
		if id == "" {
			return nil, fieldError{"subject.id", "a thin event must name its placement"}
		}
		var err error
		if data, err = s.fetchPlacement(ctx, id); err != nil {
			return nil, err
		}
	}
	var p entity.Placement
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fieldError{"data", "is not a placement: " + err.Error()}
	}
	nh := &NewHire{PlacementID: p.ID, EventID: env.ID, StartDate: p.StartDate, ClientID: p.ClientID}
	if p.Candidate != nil {
		nh.GivenName, nh.FamilyName, nh.Email = p.Candidate.FirstName, p.Candidate.LastName, p.Candidate.Email
	}
	if p.Client != nil {
		nh.ClientID, nh.ClientName = p.Client.ID, p.Client.Name
	}
	if p.Job != nil {
		nh.JobTitle = p.Job.Title
	}
	return nh, s.check(nh, "data.id", "data.candidate.email")
}

func (s *Service) check(nh *NewHire, idField, emailField string) error {
	if nh.PlacementID == "" {
		return fieldError{idField, "the placement id is missing"}
	}
	if !strings.Contains(nh.Email, "@") {
		return fieldError{emailField, "the new hire's email address is missing"}
	}
	return nil
}

// fetchPlacement reads a placement from hirehook's record API.
func (s *Service) fetchPlacement(ctx context.Context, id string) (json.RawMessage, error) {
	if s.cfg.HubURL == "" {
		return nil, errors.New("a thin event arrived but no hub URL is configured to fetch the placement from")
	}
	u := strings.TrimRight(s.cfg.HubURL, "/") + "/v1/records/placement/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.HubKey)
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch placement %s: %w", id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("fetch placement %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch placement %s: hirehook answered %s", id, resp.Status)
	}
	var rec struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("fetch placement %s: %w", id, err)
	}
	return rec.Data, nil
}

// create stores the new hire, its packet and its welcome email in one
// transaction, unless the placement has a new hire already.
func (s *Service) create(ctx context.Context, nh *NewHire) (created bool, err error) {
	now := s.cfg.NowFunc().UTC()
	nh.CreatedAt = now
	nh.Packet = s.cfg.Packets[nh.ClientID]
	if nh.Packet == nil {
		nh.Packet = s.cfg.DefaultPacket
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO new_hires (placement_id, event_id, given_name, family_name, email, start_date, client_id, client_name, job_title, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (placement_id) DO NOTHING`,
		nh.PlacementID, nh.EventID, nh.GivenName, nh.FamilyName, nh.Email, nh.StartDate, nh.ClientID, nh.ClientName, nh.JobTitle, now.UnixMicro())
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil // this placement's new hire exists: a retry or a replay
	}
	for i, doc := range nh.Packet {
		if _, err := tx.ExecContext(ctx, `INSERT INTO packet_items (placement_id, position, document, queued_at) VALUES (?, ?, ?, ?)`,
			nh.PlacementID, i, doc, now.UnixMicro()); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (placement_id, recipient, message, next_try_at) VALUES (?, ?, ?, ?)`,
		nh.PlacementID, nh.Email, welcomeMessage(s.cfg.MailFrom, nh, now), now.UnixMicro()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// welcomeMessage writes the welcome email. Its Message-ID names the
// placement, so a mail system can tell a duplicate.
func welcomeMessage(from string, nh *NewHire, now time.Time) []byte {
	company := nh.ClientName
	if company == "" {
		company = "your new client"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, nh.Email)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", headerSafe("Welcome aboard, "+nh.GivenName+": your start at "+company)))
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <welcome.%s@onboarding.localhost>\r\n", now.Format(time.RFC1123Z), headerSafe(nh.PlacementID))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "Hello %s,\r\n\r\nWelcome! Your placement", nh.GivenName)
	if nh.JobTitle != "" {
		fmt.Fprintf(&b, " as %s", nh.JobTitle)
	}
	fmt.Fprintf(&b, " with %s is confirmed", company)
	if nh.StartDate != "" {
		fmt.Fprintf(&b, "; you start on %s", nh.StartDate)
	}
	b.WriteString(".\r\n")
	if len(nh.Packet) > 0 {
		b.WriteString("\r\nBefore your first day, please complete:\r\n")
		for _, d := range nh.Packet {
			fmt.Fprintf(&b, "  - %s\r\n", d)
		}
	}
	b.WriteString("\r\nThe onboarding team\r\n")
	return []byte(b.String())
}

// headerSafe keeps a value on one header line.
func headerSafe(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// Run sends the outbox until ctx ends: at once when a new hire is created,
// and retrying failed sends after Config.RetryAfter, doubling up to 10 min.
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(min(time.Second, s.cfg.RetryAfter))
	defer tick.Stop()
	for {
		if err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("send outbox", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// SendDue makes one pass over the outbox now, sending every email whose
// time has come; Run calls it on every wake-up. Passes never overlap.
func (s *Service) SendDue(ctx context.Context) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	now := s.cfg.NowFunc().UTC()
	rows, err := s.db.QueryContext(ctx, `SELECT placement_id, recipient, message, attempts FROM outbox WHERE sent_at IS NULL AND next_try_at <= ? ORDER BY next_try_at LIMIT 100`, now.UnixMicro())
	if err != nil {
		return err
	}
	type mail struct {
		placement, to string
		msg           []byte
		attempts      int
	}
	var due []mail
	for rows.Next() {
		var m mail
		if err := rows.Scan(&m.placement, &m.to, &m.msg, &m.attempts); err != nil {
			rows.Close()
			return err
		}
		due = append(due, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range due {
		sendErr := smtp.SendMail(s.cfg.SMTPAddr, nil, s.cfg.MailFrom, []string{m.to}, m.msg)
		at := s.cfg.NowFunc().UTC()
		if sendErr == nil {
			_, err = s.db.ExecContext(ctx, `UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = '' WHERE placement_id = ?`, at.UnixMicro(), m.placement)
			s.logger.Info("welcome email sent", "placement_id", m.placement)
		} else {
			wait := min(s.cfg.RetryAfter<<min(m.attempts, 10), 10*time.Minute)
			_, err = s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_try_at = ?, last_error = ? WHERE placement_id = ?`,
				at.Add(wait).UnixMicro(), sendErr.Error(), m.placement)
			s.logger.Warn("welcome email not sent, will retry", "placement_id", m.placement, "error", sendErr, "retry_in", wait)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// NewHires returns every new hire, oldest first, with its packet and
// email state.
func (s *Service) NewHires(ctx context.Context) ([]NewHire, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT n.placement_id, n.event_id, n.given_name, n.family_name, n.email, n.start_date, n.client_id, n.client_name,
		n.job_title, n.created_at, o.sent_at, coalesce(o.attempts, 0)
		FROM new_hires n LEFT JOIN outbox o ON o.placement_id = n.placement_id ORDER BY n.created_at, n.placement_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []NewHire{}
	for rows.Next() {
		var nh NewHire
		var created int64
		var sent sql.NullInt64
		if err := rows.Scan(&nh.PlacementID, &nh.EventID, &nh.GivenName, &nh.FamilyName, &nh.Email, &nh.StartDate, &nh.ClientID, &nh.ClientName,
			&nh.JobTitle, &created, &sent, &nh.WelcomeAttempts); err != nil {
			return nil, err
		}
		nh.CreatedAt = time.UnixMicro(created).UTC()
		if sent.Valid {
			t := time.UnixMicro(sent.Int64).UTC()
			nh.WelcomeSentAt = &t
		}
		out = append(out, nh)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		docs, err := s.db.QueryContext(ctx, `SELECT document FROM packet_items WHERE placement_id = ? ORDER BY position`, out[i].PlacementID)
		if err != nil {
			return nil, err
		}
		out[i].Packet = []string{}
		for docs.Next() {
			var d string
			if err := docs.Scan(&d); err != nil {
				docs.Close()
				return nil, err
			}
			out[i].Packet = append(out[i].Packet, d)
		}
		docs.Close()
	}
	return out, nil
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	nhs, err := s.NewHires(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": nhs})
}
