package hub

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/internal/flagerr"
	"github.com/hirehook/hirehook/internal/netguard"
)

// Config is the configuration of `hirehook serve`. Each field has a flag and
// an environment variable twin (HIREHOOK_ + the flag name in upper case with
// _ for -); a flag beats the variable, the variable beats the default. A
// secret may also be read from a file named by the variable with a _FILE
// suffix (HIREHOOK_ADMIN_KEY_FILE).
type Config struct {
	Addr                     string
	DB                       string
	AdminKey                 string
	EncryptionKey            string
	PreviousEncryptionKeys   []string
	AllowPrivateDestinations bool
	// AllowBrokerHosts are the broker hosts (names, addresses or CIDR
	// prefixes) that broker endpoints may reach although private, as
	// brokers usually live on the agency's own network; webhooks are not
	// affected (netguard.AllowList).
	AllowBrokerHosts    []string
	MaxBodyBytes        int64
	DeliveryTimeout     time.Duration
	DeliveryLease       time.Duration
	EndpointConcurrency int
	DisableFailingAfter time.Duration
	APIRateLimit        float64
	RetrySchedule       []time.Duration
	ShutdownTimeout     time.Duration
	RetentionInterval   time.Duration
	LogLevel            string
	LogFormat           string
	// PublicURL is the address vendors reach the hub at, for the
	// ingest_url of push sources; empty means the API request's host.
	PublicURL string
	// SourceLease is how long a node holds a source (a Bullhorn
	// subscription it polls) before another node may take it over; the
	// lease is renewed every third of it.
	SourceLease time.Duration
	// IngestTimeout is the ingest deadline: how long an event request
	// waits for its commit before it is answered 503 (ingest.Config.Timeout).
	IngestTimeout time.Duration

	// The fields below have no flag: tests set them.

	// PollInterval is the dispatcher's polling fallback; 0 means its
	// default (1 s). Tests lengthen it to show that NOTIFY wakes a node.
	PollInterval time.Duration
	// EndpointCacheTTL is how long the dispatcher keeps an endpoint
	// between loads; 0 means its default (1 s). Tests shorten it so that
	// an edit reaches the next delivery without waiting a second.
	EndpointCacheTTL time.Duration
}

// DefaultConfig returns the configuration of a hub started with no flags:
// SQLite in ./hirehook.db, the API on 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		Addr:                flagerr.DefaultAddr,
		DB:                  "sqlite:hirehook.db",
		MaxBodyBytes:        1 << 20,
		DeliveryTimeout:     15 * time.Second,
		DeliveryLease:       2 * time.Minute,
		EndpointConcurrency: 16,
		DisableFailingAfter: 5 * 24 * time.Hour,
		APIRateLimit:        1000,
		RetrySchedule:       []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour},
		ShutdownTimeout:     30 * time.Second,
		RetentionInterval:   time.Hour,
		SourceLease:         30 * time.Second,
		IngestTimeout:       ingest.DefaultTimeout,
		LogLevel:            "info",
		LogFormat:           "text",
	}
}

// ConfigError names the flag (and its HIREHOOK_ variable) whose value is
// wrong; it is flagerr.Error, shared with the client commands.
type ConfigError = flagerr.Error

// EnvName is the variable twin of a flag name without its HIREHOOK_ prefix
// (admin-key → ADMIN_KEY).
func EnvName(flagName string) string { return flagerr.EnvName(flagName) }

// Validate checks every field and names the first wrong one.
func (c *Config) Validate() error {
	if c.PostgresURL() != "" {
		if err := c.ValidatePostgres(); err != nil {
			return err
		}
	} else if _, err := c.SQLitePath(); err != nil {
		return &ConfigError{Field: "db", Value: c.DB, Err: err}
	}
	if c.Addr == "" {
		return &ConfigError{Field: "addr", Value: c.Addr, Err: errors.New("is required")}
	}
	if c.AdminKey != "" && len(c.AdminKey) < 16 {
		return &ConfigError{Field: "admin-key", Value: Mask(c.AdminKey), Err: errors.New("must be at least 16 characters")}
	}
	if err := c.validateEncryption(); err != nil {
		return err
	}
	if _, err := netguard.ParseAllowList(c.AllowBrokerHosts); err != nil {
		return &ConfigError{Field: "allow-broker-hosts", Value: strings.Join(c.AllowBrokerHosts, ","), Err: err}
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		return &ConfigError{Field: "max-body-bytes", Value: strconv.FormatInt(c.MaxBodyBytes, 10), Err: errors.New("must be from 1024 to 67108864")}
	}
	if c.DeliveryTimeout <= 0 {
		return &ConfigError{Field: "delivery-timeout", Value: c.DeliveryTimeout.String(), Err: errors.New("must be positive")}
	}
	if c.DeliveryLease <= c.DeliveryTimeout {
		return &ConfigError{Field: "delivery-lease", Value: c.DeliveryLease.String(), Err: errors.New("must be longer than --delivery-timeout")}
	}
	if c.EndpointConcurrency < 1 || c.EndpointConcurrency > hirehook.MaxMaxConcurrency {
		return &ConfigError{Field: "endpoint-concurrency", Value: strconv.Itoa(c.EndpointConcurrency), Err: fmt.Errorf("must be from 1 to %d", hirehook.MaxMaxConcurrency)}
	}
	if c.DisableFailingAfter < 0 {
		return &ConfigError{Field: "disable-failing-after", Value: c.DisableFailingAfter.String(), Err: errors.New("must be 0 (never) or positive")}
	}
	if c.APIRateLimit < 0 {
		return &ConfigError{Field: "api-rate-limit", Value: strconv.FormatFloat(c.APIRateLimit, 'g', -1, 64), Err: errors.New("must be 0 (no limit) or more")}
	}
	if len(c.RetrySchedule) == 0 || len(c.RetrySchedule) > 50 {
		return &ConfigError{Field: "retry-schedule", Value: FormatDurations(c.RetrySchedule), Err: errors.New("must list 1 to 50 waits")}
	}
	if c.RetentionInterval <= 0 {
		return &ConfigError{Field: "retention-interval", Value: c.RetentionInterval.String(), Err: errors.New("must be positive")}
	}
	if c.IngestTimeout < 100*time.Millisecond || c.IngestTimeout > 30*time.Second {
		return &ConfigError{Field: "ingest-timeout", Value: c.IngestTimeout.String(), Err: errors.New("must be from 100ms to 30s")}
	}
	if c.SourceLease < 300*time.Millisecond {
		return &ConfigError{Field: "source-lease", Value: c.SourceLease.String(), Err: errors.New("must be at least 300ms")}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &ConfigError{Field: "log-level", Value: c.LogLevel, Err: errors.New("must be debug, info, warn or error")}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return &ConfigError{Field: "log-format", Value: c.LogFormat, Err: errors.New("must be text or json")}
	}
	return nil
}

// SQLitePath returns the file of a sqlite: database URL (PostgresURL tells
// a postgres:// one).
func (c *Config) SQLitePath() (string, error) {
	switch {
	case strings.HasPrefix(c.DB, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(c.DB, "sqlite:"), "//")
		if p == "" || strings.Contains(p, ":memory:") {
			return "", errors.New("needs a file path, as in sqlite:hirehook.db")
		}
		return p, nil
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		return "", errors.New("is a PostgreSQL database, not a SQLite file")
	}
	return "", errors.New("must be sqlite:PATH or a postgres:// URL")
}

// Mask hides a secret in errors and printouts.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

// FormatDurations writes a list of durations as --retry-schedule takes it
// (5s,5m0s).
func FormatDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}
