package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hirehook/hirehook/internal/cli"
	"github.com/hirehook/hirehook/internal/hub"
)

// The flags and variables of hub.Config: each field has a flag and an
// environment variable twin (HIREHOOK_ + the flag name in upper case with _
// for -); a flag beats the variable, the variable beats the default. A
// secret may also be read from a file named by the variable with a _FILE
// suffix (HIREHOOK_ADMIN_KEY_FILE).

var envName = hub.EnvName

// secretFlags are masked in errors and in `hirehook config`.
var secretFlags = map[string]bool{"admin-key": true, "encryption-key": true, "previous-encryption-keys": true}

// durations is a flag.Value for a comma-separated list of durations.
type durations struct{ d *[]time.Duration }

func (v durations) String() string {
	if v.d == nil {
		return ""
	}
	return hub.FormatDurations(*v.d)
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

// stringList is a flag.Value for a comma-separated list of strings.
type stringList struct{ s *[]string }

func (v stringList) String() string {
	if v.s == nil {
		return ""
	}
	return strings.Join(*v.s, ",")
}

func (v stringList) Set(s string) error {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	*v.s = out
	return nil
}

// configFlags declares the serve flags on cfg, or of them only those named in
// only (a command that needs a few, such as rotate-encryption-key). Its
// --help, written to out, is that of the command name ("hirehook serve").
func configFlags(c *hub.Config, name string, out io.Writer, only []string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", c.Addr, "address the API listens on")
	fs.StringVar(&c.DB, "db", c.DB, "database: sqlite:PATH, or postgres://user@host:5432/dbname (then --encryption-key is required)")
	fs.StringVar(&c.AdminKey, "admin-key", c.AdminKey, "bootstrap API key (if unset on first start, one is generated and printed once)")
	fs.StringVar(&c.EncryptionKey, "encryption-key", c.EncryptionKey, "base64 of 32 bytes that encrypts endpoint secrets at rest (if unset, a key file next to the SQLite database, generated on first start; required with PostgreSQL)")
	fs.Var(stringList{&c.PreviousEncryptionKeys}, "previous-encryption-keys", "older encryption keys, comma-separated, that still decrypt during a rotation")
	fs.BoolVar(&c.AllowPrivateDestinations, "allow-private-destinations", c.AllowPrivateDestinations, "allow deliveries to private, loopback and link-local addresses (development)")
	fs.Var(stringList{&c.AllowBrokerHosts}, "allow-broker-hosts", "broker hosts that broker endpoints may reach although private: host names, IP addresses or CIDR prefixes, comma-separated (webhooks are not affected)")
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
	cli.SetHelp(fs, strings.TrimPrefix(name, "hirehook "), out, configEnv(fs))
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
func configEnv(fs *flag.FlagSet) []cli.EnvVar {
	var env []cli.EnvVar
	fs.VisitAll(func(f *flag.Flag) {
		v := "HIREHOOK_" + envName(f.Name)
		env = append(env, cli.EnvVar{Name: v, Usage: "--" + f.Name})
		if secretFlags[f.Name] {
			env = append(env, cli.EnvVar{Name: v + "_FILE", Usage: "a file holding --" + f.Name})
		}
	})
	return env
}

// loadConfig fills c from the environment, then from args (flags win). getenv
// is os.Getenv outside tests; --help is written to out.
func loadConfig(c *hub.Config, name string, args []string, getenv func(string) string, out io.Writer) error {
	return loadConfigOnly(c, name, nil, args, getenv, out)
}

// loadConfigOnly is loadConfig with only the flags (and variables) named in only, or all
// of them if only is nil.
func loadConfigOnly(c *hub.Config, name string, only, args []string, getenv func(string) string, out io.Writer) error {
	fs := configFlags(c, name, out, only)
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := "HIREHOOK_" + envName(f.Name)
		v := getenv(env)
		if path := getenv(env + "_FILE"); v == "" && path != "" && secretFlags[f.Name] {
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, &hub.ConfigError{Field: f.Name, Value: path, Err: fmt.Errorf("read %s_FILE: %w", env, err)})
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
				shown = hub.Mask(v)
			}
			errs = append(errs, &hub.ConfigError{Field: f.Name, Value: shown, Err: fmt.Errorf("from %s: %w", env, err)})
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see %s --help)", fs.Arg(0), name)
	}
	return c.Validate()
}

// printConfig writes the effective configuration, secrets masked.
func printConfig(c *hub.Config, w io.Writer) {
	cp := *c
	fs := configFlags(&cp, "config", io.Discard, nil)
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		if secretFlags[f.Name] {
			v = hub.Mask(v)
		}
		if f.Name == "db" {
			v = hub.RedactDB(v)
		}
		fmt.Fprintf(w, "%-28s %-40s %s\n", "--"+f.Name, v, "HIREHOOK_"+envName(f.Name))
	})
}
