package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
)

// Every command's --help has the same shape: one sentence saying what it
// does, "Usage: hirehook <command> …", its own flags (--flag), then the
// HIREHOOK_* variables it reads. The sentences live in commands, which is
// also what `hirehook --help` lists, so the two cannot say different things.

// command describes one command for its --help and for `hirehook --help`.
type command struct {
	name    string   // as typed after "hirehook": "endpoints update"
	args    string   // what follows the name in the usage line: "ID [flags]"
	summary string   // one sentence: what the command does
	details string   // more paragraphs, after the usage line; optional
	env     []EnvVar // the HIREHOOK_* variables it reads other than its flags' twins
	// group is the heading `hirehook --help` lists the command under;
	// empty for a group of subcommands ("endpoints"), which is not listed.
	group string
}

// EnvVar is an environment variable a command reads.
type EnvVar struct{ Name, Usage string }

// Groups of `hirehook --help`, in order.
const (
	groupHub    = "Run a hub"
	groupTools  = "Try it and measure it"
	groupRemote = "Talk to a running hub"
)

// remoteEnv is what every command talking to a running hub reads.
var remoteEnv = []EnvVar{
	{"HIREHOOK_URL", "the hub's address, unless --hub-url is given (default " + defaultHubURL + ")"},
	{"HIREHOOK_API_KEY", "the API key (hh_…)"},
	{"HIREHOOK_API_KEY_FILE", "a file holding the API key, if HIREHOOK_API_KEY is unset"},
}

// commands are hirehook's commands, in the order `hirehook --help` lists them.
var commands = []command{
	{name: "serve", args: "[flags]", group: groupHub,
		summary: "Start the hub: the API, the dashboard, the delivery workers and the sources."},
	{name: "config", args: "[flags]", group: groupHub,
		summary: "Print the configuration `hirehook serve` would run with (the same flags and HIREHOOK_* variables), secrets masked."},
	{name: "rotate-encryption-key", args: "[flags]", group: groupHub,
		summary: "Re-encrypt the stored secrets with a new encryption key so the old one can be retired (stop the hub first)."},
	{name: "migrate-store", args: "--from DB --to DB [flags]", group: groupHub,
		summary: "Copy everything from one hub database into a new, empty one, SQLite or PostgreSQL (stop the hubs first).",
		details: migrateStoreDetails,
		env:     []EnvVar{{"HIREHOOK_ENCRYPTION_KEY", "the target's encryption key, unless --encryption-key is given"}}},
	{name: "version", args: "", group: groupHub,
		summary: "Print hirehook's version."},

	{name: "demo", args: "[flags]", group: groupTools,
		summary: "Run a hub, a simulated Bullhorn and an onboarding receiver in one process, approve a placement and print its timeline.",
		details: demoDetails},
	{name: "listen", args: "[flags]", group: groupTools,
		summary: "Run a local webhook receiver that prints what arrives and verifies its signatures.",
		env:     []EnvVar{{"HIREHOOK_LISTEN_SECRET", "the endpoint's whsec_ secret, unless --secret is given"}}},
	{name: "sim", args: "<vendor> [flags]",
		summary: "Serve a simulator of a vendor's API, to try a source without the vendor."},
	{name: "sim bullhorn", args: "[flags]", group: groupTools,
		summary: "Serve a simulated Bullhorn (OAuth, login, event subscriptions, records) to connect a source to."},
	{name: "bench", args: "[flags]", group: groupTools,
		summary: "Measure ingest and delivery throughput and latency on this machine, with a hub and a receiver of its own."},

	{name: "events", args: "<command> [flags]",
		summary: "Send events to a running hub."},
	{name: "events send", args: "--type TYPE --data JSON | --file FILE [flags]", group: groupRemote, env: remoteEnv,
		summary: "Send one event to a running hub and print its id and how many deliveries it made.",
		details: `Examples:
  hirehook events send --type placement.confirmed --data '{"id":"pl_1",…}' --idempotency-key bullhorn:pl_1:confirmed
  hirehook events send --file event.json     (a whole event: type, data, id, source, …; - reads stdin)
`},
	{name: "endpoints", args: "<command> [flags]",
		summary: "List, create, change and remove the endpoints (webhook URLs and brokers) of a running hub."},
	{name: "endpoints list", args: "[flags]", group: groupRemote, env: remoteEnv,
		summary: "List the endpoints of a running hub with their kind and destination."},
	{name: "endpoints get", args: "ID [flags]", group: groupRemote, env: remoteEnv,
		summary: "Print one endpoint with every setting: its kind, destination, config and the names of its credentials."},
	{name: "endpoints create", args: "--url URL | --kind KIND --config KEY=VALUE… --event-types TYPES [flags]", group: groupRemote, env: remoteEnv,
		summary: "Subscribe a URL or a broker (Kafka, RabbitMQ, NATS, Pub/Sub) to event types and print the endpoint with its signing secret.",
		details: `Examples:
  hirehook endpoints create --url https://onboarding.example.com/hooks --event-types 'placement.*,offer.signed'
  hirehook endpoints create --kind kafka --config brokers=kafka-1:9092,kafka-2:9092 --config topic=applications \
    --config sasl_mechanism=scram-sha-256 --credential username=hirehook --credential password=@kafka-password.txt \
    --event-types 'application.*'
  hirehook endpoints create --kind gcp_pubsub --config project_id=acme-analytics --config topic=hirehook-events \
    --credential service_account_json=@sa-key.json --event-types '*'

Each broker kind's --config and --credential keys are in docs/destinations.md
(and GET /v1/destination-kinds). key=@file reads a credential from a file, so
it stays out of the shell's history. Broker hosts on private addresses need
serve --allow-broker-hosts.

The secret is shown once: the receiver (or a broker's consumer) verifies
signatures with it.
`},
	{name: "endpoints update", args: "ID [flags]", group: groupRemote, env: remoteEnv,
		summary: "Change an endpoint: only the flags given change, the rest stays as it is.",
		details: `A flag given empty clears its setting (--filter '' removes the filter,
--redact '' every redaction); --rate-limit none removes the rate limit.
A broker endpoint's --config key=value and --credential key=value change
those fields only (key= removes one); its kind cannot change.
Examples:
  hirehook endpoints update ep_… --url https://new.example.com/hooks --filter ''
  hirehook endpoints update ep_… --config topic=applications-v2 --credential password=@new-password.txt
`},
	{name: "endpoints disable", args: "ID [flags]", group: groupRemote, env: remoteEnv,
		summary: "Disable an endpoint: its deliveries wait, paused, until it is enabled again."},
	{name: "endpoints enable", args: "ID [flags]", group: groupRemote, env: remoteEnv,
		summary: "Enable a disabled endpoint: its paused deliveries are sent again."},
	{name: "endpoints delete", args: "ID [flags]", group: groupRemote, env: remoteEnv,
		summary: "Delete an endpoint; its unsent deliveries are cancelled."},
	{name: "endpoints test", args: "ID [flags]", group: groupRemote, env: remoteEnv,
		summary: "Send one endpoint.tested event to this endpoint only, whatever its event types, to check that it receives and verifies webhooks."},
	{name: "deliveries", args: "<command> [flags]",
		summary: "Show and resend the deliveries of a running hub."},
	{name: "deliveries list", args: "[flags]", group: groupRemote, env: remoteEnv,
		summary: "List deliveries, newest first, with the status, latency and start of the answer of each one's last attempt.",
		details: `RESPONSE is the start of the last answer's body, or why there was none (a
timeout, a refused connection); NEXT ATTEMPT is when a waiting delivery is
due. hirehook deliveries retry ID sends one again; --json prints the API's
page, whose last_response_excerpt holds the body's first 200 bytes.
`},
	{name: "deliveries retry", args: "ID [flags]", group: groupRemote, env: remoteEnv,
		summary: "Make a delivery due now, whatever its state (a delivered one is sent again)."},
	{name: "sources", args: "<command> [flags]",
		summary: "Show and connect the sources of a running hub, a push source's request log, and reprocess requests."},
	{name: "sources list", args: "[flags]", group: groupRemote, env: remoteEnv,
		summary: "List the sources of a running hub with their activity and ingest URLs."},
	{name: "sources create", args: "--kind KIND --name NAME [flags]", group: groupRemote,
		env:     append(append([]EnvVar{}, remoteEnv...), EnvVar{"HIREHOOK_SIGNING_SECRET", "the vendor's signing secret, unless --signing-secret-file is given"}),
		summary: "Connect a push source (Greenhouse, Lever, Ashby, …) and print its ingest URL and the vendor's setup steps.",
		details: `The signing secret comes from --signing-secret-file or HIREHOOK_SIGNING_SECRET,
never from a flag value (it would show in ps and in the shell's history).
Bullhorn is polled, not pushed: connect it from the dashboard or POST /v1/sources.
Example:
  HIREHOOK_SIGNING_SECRET=… hirehook sources create --kind greenhouse --name "Acme Greenhouse"
`},
	{name: "sources requests", args: "SOURCE-ID [flags]", group: groupRemote, env: remoteEnv,
		summary: "List the requests a push source received, newest first, with what became of each."},
	{name: "sources reprocess", args: "SOURCE-ID --since 24h | --from TIME [flags]", group: groupRemote, env: remoteEnv,
		summary: "Make a push source's requests of a time window due again, to map them anew (after a fix)."},
}

const migrateStoreDetails = `Copies tenants, API keys (their hashes: every key still works), endpoints
and their signing secrets, events (payloads byte for byte, purge and erasure
marks), records, deliveries with their state, attempt counts and next attempt
times, attempts, and the audit log, keeping every list's order and every cursor.

STOP EVERY HUB on both databases first. A delivery that a hub was attempting
is copied as due now (its lease belonged to the stopped process).

The copy runs in one transaction of the target: it is all there or not at
all, and a failed run may simply be run again. The target must be empty (a
new database, or one where hubs only started); anything else is refused.

The source's secrets are opened with --from-encryption-key (and the key file
<db>.key next to a SQLite source, if any); the target's are sealed with
--encryption-key (HIREHOOK_ENCRYPTION_KEY), required for PostgreSQL: start
the new hubs with it. With a SQLite target and no --encryption-key, the
key file <db>.key next to it is used, generated if missing.

Both ways work: SQLite to PostgreSQL, and PostgreSQL to SQLite.
`

const demoDetails = `The hub runs on a temporary SQLite database. After the timeline the demo
keeps running, printing the dashboard's address, the API key and the
commands to point the CLI at it, until Ctrl-C (or --exit) stops it and
deletes the database.
`

// docPages are the reference pages `hirehook --help` points to.
var docPages = []struct{ path, about string }{
	{"docs/cli.md", "every command and flag"},
	{"docs/api.md", "the HTTP API"},
	{"docs/webhooks.md", "webhooks as receivers see them: headers, signatures, retries"},
	{"docs/configuration.md", "serve's flags and HIREHOOK_* variables"},
	{"docs/operations.md", "running the hub: starting, stopping, secrets at rest"},
	{"docs/connectors.md", "connecting Bullhorn, Greenhouse, Lever and the others"},
	{"docs/routing.md", "filters, transforms, thin payloads and redaction"},
	{"docs/tenants-and-keys.md", "tenants, API keys and scopes"},
	{"docs/personal-data.md", "candidates' personal data: retention and erasure"},
	{"docs/dashboard.md", "the dashboard and metrics"},
	{"docs/postgresql.md", "running on PostgreSQL, several hubs"},
	{"docs/scaling.md", "from one SQLite file to many hubs"},
	{"docs/performance.md", "throughput, latency and hirehook bench"},
	{"docs/architecture.md", "how the hub is built"},
}

// lookupCommand returns the command called name ("endpoints list"), or
// nil.
func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// WriteUsage writes `hirehook --help`.
func WriteUsage(w io.Writer) {
	fmt.Fprint(w, "hirehook is a real-time event hub for recruiting and staffing: it takes events from ATS\n"+
		"and VMS systems and delivers them, signed and retried, to the endpoints subscribed to them.\n\n"+
		"Usage: hirehook <command> [flags]\n")
	for _, g := range []string{groupHub, groupTools, groupRemote} {
		fmt.Fprintf(w, "\n%s:\n", g)
		if g == groupRemote {
			fmt.Fprintf(w, "  (the hub at --hub-url or HIREHOOK_URL, default %s; the key in HIREHOOK_API_KEY)\n", defaultHubURL)
		}
		for _, c := range commands {
			if c.group == g {
				fmt.Fprintf(w, "  %-24s %s\n", c.name, c.summary)
			}
		}
	}
	fmt.Fprint(w, "\n\"hirehook <command> --help\" says what a command does, its flags and the variables it reads.\n\nDocumentation (in the repository):\n")
	for _, p := range docPages {
		fmt.Fprintf(w, "  %-26s %s\n", p.path, p.about)
	}
}

// writeGroupUsage writes the help of a group of subcommands ("endpoints").
func writeGroupUsage(w io.Writer, group string) {
	c := lookupCommand(group)
	fmt.Fprintf(w, "%s\n\nUsage: hirehook %s %s\n\nCommands:\n", c.summary, c.name, c.args)
	for _, sub := range commands {
		if rest, ok := strings.CutPrefix(sub.name, group+" "); ok {
			fmt.Fprintf(w, "  %-12s %s\n", rest, sub.summary)
		}
	}
	fmt.Fprintf(w, "\n\"hirehook %s <command> --help\" shows a command's flags.\n", group)
}

// NewFlags returns the flag set of the command called name ("endpoints
// list"), whose --help is written to out. Parse it with ParseFlags or
// parseInterleaved.
func NewFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("hirehook "+name, flag.ContinueOnError)
	SetHelp(fs, name, out, nil)
	return fs
}

// SetHelp makes fs's Usage write the help of the command name to out;
// more lists variables read besides those of the command's entry in
// commands (serve's flags' twins). The flag package's own messages are
// discarded: ParseFlags returns them as errors, which run prints once.
func SetHelp(fs *flag.FlagSet, name string, out io.Writer, more []EnvVar) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() { writeHelp(out, name, fs, more) }
}

// writeHelp writes a command's help: its sentence, its usage line, its
// flags and the variables it reads.
func writeHelp(w io.Writer, name string, fs *flag.FlagSet, more []EnvVar) {
	c := lookupCommand(name)
	if c == nil { // a test's own name for a flag set
		c = &command{name: name, args: "[flags]"}
	}
	if c.summary != "" {
		fmt.Fprintf(w, "%s\n\n", c.summary)
	}
	fmt.Fprintf(w, "Usage: hirehook %s", c.name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintln(w)
	if c.details != "" {
		fmt.Fprintf(w, "\n%s", c.details)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			typ, usage := flag.UnquoteUsage(f)
			if typ == "value" { // a comma-separated list (stringList, durations)
				typ = "list"
			}
			fmt.Fprintf(w, "  --%s", f.Name)
			if typ != "" {
				fmt.Fprintf(w, " %s", typ)
			}
			fmt.Fprintf(w, "\n      %s", usage)
			if !isZeroFlag(f) {
				if typ == "string" {
					fmt.Fprintf(w, " (default %q)", f.DefValue)
				} else {
					fmt.Fprintf(w, " (default %s)", f.DefValue)
				}
			}
			fmt.Fprintln(w)
		})
	}
	env := append(append([]EnvVar(nil), c.env...), more...)
	if len(env) > 0 {
		fmt.Fprint(w, "\nEnvironment:\n")
		width := 0
		for _, e := range env {
			width = max(width, len(e.Name))
		}
		for _, e := range env {
			fmt.Fprintf(w, "  %-*s  %s\n", width, e.Name, e.Usage)
		}
	}
}

// isZeroFlag tells whether f's default is its type's zero value, which
// the help leaves unsaid (as flag.PrintDefaults does).
func isZeroFlag(f *flag.Flag) bool {
	if f.DefValue == "" {
		return true
	}
	t := reflect.TypeOf(f.Value)
	var z reflect.Value
	if t.Kind() == reflect.Pointer {
		z = reflect.New(t.Elem())
	} else {
		z = reflect.Zero(t)
	}
	if v, ok := z.Interface().(flag.Value); ok {
		defer func() { _ = recover() }() // a Value whose String needs its fields set
		return f.DefValue == v.String()
	}
	return false
}

// ParseFlags parses args with fs. --help writes the command's help (to
// where NewFlags said) and returns flag.ErrHelp; a wrong flag is an error
// that points to --help.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	help := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = help
	switch {
	case errors.Is(err, flag.ErrHelp):
		help()
		return err
	case err != nil:
		// The flag package names flags "-x"; the help says "--x".
		msg := flagDash.ReplaceAllString(err.Error(), "$1 --")
		if strings.HasSuffix(msg, "not defined: --url") && fs.Lookup("hub-url") != nil {
			msg += "; the hub's address is --hub-url (or HIREHOOK_URL)"
		}
		return fmt.Errorf("%s: %s (see %s --help)", strings.TrimPrefix(fs.Name(), "hirehook "), msg, fs.Name())
	}
	return nil
}

var flagDash = regexp.MustCompile(`(not defined:|needs an argument:|for flag) -`)

// isHelp tells whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}
