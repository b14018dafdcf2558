package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ingest"
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
	MaxBodyBytes             int64
	DeliveryTimeout          time.Duration
	DeliveryLease            time.Duration
	EndpointConcurrency      int
	DisableFailingAfter      time.Duration
	APIRateLimit             float64
	RetrySchedule            []time.Duration
	ShutdownTimeout          time.Duration
	RetentionInterval        time.Duration
	LogLevel                 string
	LogFormat                string
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

	// pollInterval is the dispatcher's polling fallback; 0 means its
	// default (1 s). Tests lengthen it to show that NOTIFY wakes a node.
	pollInterval time.Duration
	// endpointCacheTTL is how long the dispatcher keeps an endpoint
	// between loads; 0 means its default (1 s). Tests shorten it so that
	// an edit reaches the next delivery without waiting a second.
	endpointCacheTTL time.Duration
}

// DefaultConfig returns the configuration of a hub started with no flags:
// SQLite in ./hirehook.db, the API on 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		Addr:                "127.0.0.1:8080",
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

// ConfigError names the setting that is wrong.
type ConfigError struct {
	Field string // the flag name, e.g. "db"
	Value string // the offending value, masked for secrets
	Err   error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("--%s (HIREHOOK_%s) %q: %v", e.Field, envName(e.Field), e.Value, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

func envName(flagName string) string {
	return strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// secretFlags are masked in errors and in `hirehook config`.
var secretFlags = map[string]bool{"admin-key": true, "encryption-key": true, "previous-encryption-keys": true}

// durations is a flag.Value for a comma-separated list of durations.
type durations struct{ d *[]time.Duration }

func (v durations) String() string {
	if v.d == nil {
		return ""
	}
	parts := make([]string, len(*v.d))
	for i, d := range *v.d {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}

func (v durations) Set(s string) error {
	var out []time.Duration
	for _, p := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration such as 5s or 2h", p)
		}
		out = append(out, d)
	}
	*v.d = out
	return nil
}

// flagSet declares the serve flags on cfg, or of them only those named in
// only (a command that needs a few, such as rotate-encryption-key). Its
// --help, written to out, is that of the command name ("hirehook serve").
func (c *Config) flagSet(name string, out io.Writer, only []string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", c.Addr, "address the API listens on")
	fs.StringVar(&c.DB, "db", c.DB, "database: sqlite:PATH, or postgres://user@host:5432/dbname (then --encryption-key is required)")
	fs.StringVar(&c.AdminKey, "admin-key", c.AdminKey, "bootstrap API key (if unset on first start, one is generated and printed once)")
	fs.StringVar(&c.EncryptionKey, "encryption-key", c.EncryptionKey, "base64 of 32 bytes that encrypts endpoint secrets at rest (if unset, a key file next to the SQLite database, generated on first start; required with PostgreSQL)")
	fs.Var(stringList{&c.PreviousEncryptionKeys}, "previous-encryption-keys", "older encryption keys, comma-separated, that still decrypt during a rotation")
	fs.BoolVar(&c.AllowPrivateDestinations, "allow-private-destinations", c.AllowPrivateDestinations, "allow deliveries to private, loopback and link-local addresses (development)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body in bytes (a batch may be 10 times larger)")
	fs.DurationVar(&c.DeliveryTimeout, "delivery-timeout", c.DeliveryTimeout, "timeout of one delivery attempt")
	fs.DurationVar(&c.DeliveryLease, "delivery-lease", c.DeliveryLease, "how long a node holds a delivery before another may take it")
	fs.IntVar(&c.EndpointConcurrency, "endpoint-concurrency", c.EndpointConcurrency, "max_concurrency of endpoints created without one: the most attempts in flight to each at once (1 to 256)")
	fs.DurationVar(&c.DisableFailingAfter, "disable-failing-after", c.DisableFailingAfter, "disable an endpoint whose attempts have all failed for this long, pausing its deliveries (0: never)")
	fs.Float64Var(&c.APIRateLimit, "api-rate-limit", c.APIRateLimit, "most API requests a second per key, with bursts of twice that (0: no limit)")
	fs.Var(durations{&c.RetrySchedule}, "retry-schedule", "waits between attempts, comma-separated")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long shutdown waits for requests and deliveries in flight")
	fs.DurationVar(&c.IngestTimeout, "ingest-timeout", c.IngestTimeout, "ingest deadline: an event request whose commit the database has not confirmed by then is answered 503 (send it again with the same id)")
	fs.DurationVar(&c.SourceLease, "source-lease", c.SourceLease, "how long a node holds a source it polls before another node may take it over (renewed every third of it)")
	fs.DurationVar(&c.RetentionInterval, "retention-interval", c.RetentionInterval, "how often expired event payloads and response bodies are purged (each tenant keeps its retention_days)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "address vendors reach the hub at, e.g. https://hooks.example.com: push sources show their ingest_url under it (unset: the host of each API request)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
	if only != nil {
		all := fs
		fs = flag.NewFlagSet(name, flag.ContinueOnError)
		for _, n := range only {
			f := all.Lookup(n)
			usage := f.Usage
			if u, ok := flagUsage[name+" --"+n]; ok {
				usage = u
			}
			fs.Var(f.Value, f.Name, usage)
		}
	}
	setHelp(fs, strings.TrimPrefix(name, "hirehook "), out, configEnv(fs))
	return fs
}

// flagUsage holds what a serve flag means in another command ("hirehook
// rotate-encryption-key --encryption-key"), where that differs.
var flagUsage = map[string]string{
	"hirehook rotate-encryption-key --encryption-key":           "the new key (base64 of 32 bytes) to re-encrypt with; unset: a new key is generated into the key file next to the SQLite database",
	"hirehook rotate-encryption-key --previous-encryption-keys": "the keys the secrets are encrypted with now, comma-separated (the key file's are read too)",
}

// configEnv lists the variable twin of each of fs's flags (and the _FILE
// twin of a secret's), for --help.
func configEnv(fs *flag.FlagSet) []envVar {
	var env []envVar
	fs.VisitAll(func(f *flag.Flag) {
		v := "HIREHOOK_" + envName(f.Name)
		env = append(env, envVar{v, "--" + f.Name})
		if secretFlags[f.Name] {
			env = append(env, envVar{v + "_FILE", "a file holding --" + f.Name})
		}
	})
	return env
}

// Load fills cfg from the environment, then from args (flags win). getenv
// is os.Getenv outside tests; --help is written to out.
func (c *Config) Load(name string, args []string, getenv func(string) string, out io.Writer) error {
	return c.load(name, nil, args, getenv, out)
}

// load is Load with only the flags (and variables) named in only, or all
// of them if only is nil.
func (c *Config) load(name string, only, args []string, getenv func(string) string, out io.Writer) error {
	fs := c.flagSet(name, out, only)
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := "HIREHOOK_" + envName(f.Name)
		v := getenv(env)
		if path := getenv(env + "_FILE"); v == "" && path != "" && secretFlags[f.Name] {
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, &ConfigError{Field: f.Name, Value: path, Err: fmt.Errorf("read %s_FILE: %w", env, err)})
				return
			}
			v = strings.TrimSpace(string(b))
		}
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			shown := v
			if secretFlags[f.Name] {
				shown = mask(v)
			}
			errs = append(errs, &ConfigError{Field: f.Name, Value: shown, Err: fmt.Errorf("from %s: %w", env, err)})
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see %s --help)", fs.Arg(0), name)
	}
	return c.Validate()
}

// Validate checks every field and names the first wrong one.
func (c *Config) Validate() error {
	if c.PostgresURL() != "" {
		if err := c.validatePostgres(); err != nil {
			return err
		}
	} else if _, err := c.SQLitePath(); err != nil {
		return &ConfigError{Field: "db", Value: c.DB, Err: err}
	}
	if c.Addr == "" {
		return &ConfigError{Field: "addr", Value: c.Addr, Err: errors.New("is required")}
	}
	if c.AdminKey != "" && len(c.AdminKey) < 16 {
		return &ConfigError{Field: "admin-key", Value: mask(c.AdminKey), Err: errors.New("must be at least 16 characters")}
	}
	if err := c.validateEncryption(); err != nil {
		return err
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
		return &ConfigError{Field: "retry-schedule", Value: durations{&c.RetrySchedule}.String(), Err: errors.New("must list 1 to 50 waits")}
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

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

// Print writes the effective configuration, secrets masked.
func (c *Config) Print(w io.Writer) {
	cp := *c
	fs := cp.flagSet("config", io.Discard, nil)
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		if secretFlags[f.Name] {
			v = mask(v)
		}
		if f.Name == "db" {
			v = redactDB(v)
		}
		fmt.Fprintf(w, "%-28s %-40s %s\n", "--"+f.Name, v, "HIREHOOK_"+envName(f.Name))
	})
}
