package bullhorn

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// SourceConfig is a Bullhorn source's configuration, as the sources resource
// stores it ({kind: "bullhorn", config: ...}). ClientSecret, Password and
// RefreshToken are write-only: Public blanks them for answers and logs.
type SourceConfig struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	Username     string `json:"username,omitempty"`
	Password     string `json:"password,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// AuthURL and LoginURL default to Bullhorn's public hosts; the
	// simulator's address goes here in tests and demos.
	AuthURL  string `json:"auth_url,omitempty"`
	LoginURL string `json:"login_url,omitempty"`
	// SubscriptionID defaults to "hirehook-" + the source's id.
	SubscriptionID string `json:"subscription_id,omitempty"`
	// PollIntervalMS defaults to 2000.
	PollIntervalMS      int               `json:"poll_interval_ms,omitempty"`
	ConfirmedStatuses   []string          `json:"confirmed_statuses,omitempty"`
	EndedStatuses       []string          `json:"ended_statuses,omitempty"`
	InterviewTypes      []string          `json:"interview_types,omitempty"`
	WebResponseStatuses []string          `json:"web_response_statuses,omitempty"`
	StageCategories     map[string]string `json:"stage_categories,omitempty"`
	Currency            string            `json:"currency,omitempty"`
}

// Validate checks the configuration; errors are *hirehook.Error naming the
// field under "config".
func (c *SourceConfig) Validate() error {
	switch {
	case c.ClientID == "":
		return hirehook.FieldError("config.client_id", "is required")
	case c.ClientSecret == "":
		return hirehook.FieldError("config.client_secret", "is required")
	case c.RefreshToken == "" && (c.Username == "" || c.Password == ""):
		return hirehook.FieldError("config.password", "username and password, or refresh_token, are required")
	case c.PollIntervalMS < 0 || c.PollIntervalMS > 0 && c.PollIntervalMS < 100:
		return hirehook.FieldError("config.poll_interval_ms", "must be at least 100")
	case c.Currency != "" && !isCurrency(c.Currency):
		return hirehook.FieldError("config.currency", "must be a 3-letter ISO 4217 currency code in upper case, such as USD")
	}
	for _, u := range []struct{ field, v string }{{"config.auth_url", c.AuthURL}, {"config.login_url", c.LoginURL}} {
		if u.v == "" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return hirehook.FieldError(u.field, "must be an http or https URL")
		}
	}
	for cat := range c.StageCategories {
		switch c.StageCategories[cat] {
		case "new", "screening", "submitted", "interview", "offer", "hired", "rejected", "withdrawn", "other":
		default:
			return hirehook.FieldError("config.stage_categories", "values must be new, screening, submitted, interview, offer, hired, rejected, withdrawn or other")
		}
	}
	return nil
}

// Public returns the configuration without its secrets.
func (c SourceConfig) Public() SourceConfig {
	c.ClientSecret, c.Password, c.RefreshToken = "", "", ""
	return c
}

func isCurrency(s string) bool {
	return len(s) == 3 && strings.ToUpper(s) == s && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// SourceDeps are what the hub supplies to run a source.
type SourceDeps struct {
	// SourceID is the source's id; it names the subscription and goes into
	// event ids.
	SourceID   string
	Checkpoint Checkpoint
	State      LastState // default a MemoryState
	Emit       EmitFunc
	// TokenFunc persists rotated refresh tokens (see ClientConfig).
	TokenFunc  func(ctx context.Context, t Token) error
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// NewSource builds the client, mapper and poller of one source. The poller
// does no I/O until Start.
func NewSource(cfg SourceConfig, deps SourceDeps) (*Poller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(logkey.Component, "bullhorn", logkey.SourceID, deps.SourceID)
	client, err := NewClient(ClientConfig{
		Credentials: Credentials{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Username: cfg.Username, Password: cfg.Password, RefreshToken: cfg.RefreshToken},
		AuthURL:     cfg.AuthURL,
		LoginURL:    cfg.LoginURL,
		HTTPClient:  deps.HTTPClient,
		TokenFunc:   deps.TokenFunc,
		Logger:      logger,
	})
	if err != nil {
		return nil, err
	}
	mapper := NewMapper(client, MapperConfig{
		SourceID:            deps.SourceID,
		ConfirmedStatuses:   cfg.ConfirmedStatuses,
		EndedStatuses:       cfg.EndedStatuses,
		InterviewTypes:      cfg.InterviewTypes,
		WebResponseStatuses: cfg.WebResponseStatuses,
		StageCategories:     cfg.StageCategories,
		Currency:            cfg.Currency,
		State:               deps.State,
		Logger:              logger,
	})
	sub := cfg.SubscriptionID
	if sub == "" {
		sub = "hirehook-" + deps.SourceID
	}
	return NewPoller(PollerConfig{
		Client:         client,
		Mapper:         mapper,
		SubscriptionID: sub,
		Checkpoint:     deps.Checkpoint,
		Emit:           deps.Emit,
		Interval:       time.Duration(cfg.PollIntervalMS) * time.Millisecond,
		Logger:         logger,
	})
}

// SplitConfig decodes a source's whole configuration, as an API client
// sends it (secrets included; unknown fields refused), validates it and
// splits it into the configuration without secrets and the secrets by name
// (client_secret, password, refresh_token). Errors are *hirehook.Error
// naming the field under "config".
func SplitConfig(raw json.RawMessage) (public json.RawMessage, secrets map[string]string, err error) {
	var c SourceConfig
	if err := hirehook.DecodeSourceConfig(raw, &c, "bullhorn"); err != nil {
		return nil, nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	secrets = map[string]string{}
	for name, v := range map[string]string{"client_secret": c.ClientSecret, "password": c.Password, "refresh_token": c.RefreshToken} {
		if v != "" {
			secrets[name] = v
		}
	}
	public, err = json.Marshal(c.Public())
	if err != nil {
		return nil, nil, err
	}
	return public, secrets, nil
}

// JoinConfig puts a stored source's configuration and secrets back
// together.
func JoinConfig(public json.RawMessage, secrets map[string]string) (SourceConfig, error) {
	var c SourceConfig
	if err := json.Unmarshal(public, &c); err != nil {
		return c, fmt.Errorf("decode bullhorn source config: %w", err)
	}
	c.ClientSecret, c.Password, c.RefreshToken = secrets["client_secret"], secrets["password"], secrets["refresh_token"]
	return c, nil
}
