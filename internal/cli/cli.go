// Package cli is hirehook's command line but for the hub itself: the help
// of every command (help.go: the one list of commands, their usage and
// their variables, and the flag conventions every command parses with),
// the commands that talk to a running hub through the Go SDK (events,
// endpoints, deliveries, sources), and the development tools listen and
// sim. cmd/hirehook dispatches to them; serve, config, rotate-encryption-key
// and migrate-store, which open the database, stay there beside the
// hub's flags, and bench and demo have their own packages.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/internal/flagerr"
)

// The commands in this file (events, endpoints, deliveries) talk to a
// running hub through the Go SDK, the way a script or an operator would.
// The key comes from HIREHOOK_API_KEY, HIREHOOK_API_KEY_FILE or
// --api-key-file, never from a flag that holds it: a flag's value lands in
// shell history and in ps.

// defaultHubURL is where the commands look for the hub when neither
// --hub-url nor HIREHOOK_URL says: where `hirehook serve` listens by default.
var defaultHubURL = "http://" + flagerr.DefaultAddr

// remote holds the flags every API command shares.
type remote struct {
	url     string
	keyFile string
	json    bool
	getenv  func(string) string
}

// newRemoteFlags returns the flag set of the API command name ("hirehook
// endpoints list") with the flags every one has: --hub-url (the hub's
// address; --url is an endpoint's, in the commands that take one),
// --api-key-file and --json. Its --help goes to out.
func newRemoteFlags(name string, getenv func(string) string, out io.Writer) (*flag.FlagSet, *remote) {
	fs := NewFlags(strings.TrimPrefix(name, "hirehook "), out)
	r := &remote{getenv: getenv}
	def := getenv("HIREHOOK_URL")
	if def == "" {
		def = defaultHubURL
	}
	fs.StringVar(&r.url, "hub-url", def, "the hub's address (else HIREHOOK_URL)")
	fs.StringVar(&r.keyFile, "api-key-file", "", "read the API key from this file (else HIREHOOK_API_KEY or HIREHOOK_API_KEY_FILE)")
	fs.BoolVar(&r.json, "json", false, "print the API's answer as JSON")
	return fs, r
}

// client builds the SDK client. The key is looked up only here, and never
// printed: errors name where it was looked for, not what it is.
func (r *remote) client() (*client.Client, error) {
	key, err := r.key()
	if err != nil {
		return nil, err
	}
	c, err := client.New(r.url, key, client.WithUserAgent("hirehook-cli/"+hirehook.Version))
	if err != nil {
		return nil, &flagerr.Error{Field: "hub-url", Value: r.url, Err: errors.New("must be an absolute http:// or https:// URL without query")}
	}
	return c, nil
}

func (r *remote) key() (string, error) {
	readFile := func(path, from string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read the API key (%s): %w", from, err)
		}
		k := strings.TrimSpace(string(b))
		if k == "" {
			return "", fmt.Errorf("the API key file %s (%s) is empty", path, from)
		}
		return k, nil
	}
	if r.keyFile != "" {
		return readFile(r.keyFile, "--api-key-file")
	}
	if k := strings.TrimSpace(r.getenv("HIREHOOK_API_KEY")); k != "" {
		return k, nil
	}
	if path := r.getenv("HIREHOOK_API_KEY_FILE"); path != "" {
		return readFile(path, "HIREHOOK_API_KEY_FILE")
	}
	return "", errors.New("no API key: set HIREHOOK_API_KEY (export HIREHOOK_API_KEY=hh_…), " +
		"or put the key in a file and pass --api-key-file or set HIREHOOK_API_KEY_FILE")
}

// failure turns an SDK error into what the CLI prints: the API's code,
// message, field and request id, or a hint where the hub was looked for.
func (r *remote) failure(op string, err error) error {
	if err == nil {
		return nil
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s: %s (HTTP %d): %s", op, apiErr.Err.Code, apiErr.StatusCode, apiErr.Err.Message)
		if apiErr.Err.Field != "" {
			fmt.Fprintf(&sb, "\n  field:      %s", apiErr.Err.Field)
		}
		if apiErr.RequestID != "" {
			fmt.Fprintf(&sb, "\n  request id: %s", apiErr.RequestID)
		}
		if apiErr.Err.Code == hirehook.EUNAUTHORIZED {
			sb.WriteString("\n  the key comes from HIREHOOK_API_KEY, HIREHOOK_API_KEY_FILE or --api-key-file")
		}
		return &cliError{msg: sb.String(), err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	// The SDK's transport errors start with "hirehook: ", which run adds too.
	msg := strings.TrimPrefix(err.Error(), "hirehook: ")
	return &cliError{msg: fmt.Sprintf("%s: %s\n  is the hub running at %s? (set --hub-url or HIREHOOK_URL)", op, msg, r.url), err: err}
}

// cliError is an error with a message written for the terminal; it keeps
// the SDK error for errors.As.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

func (r *remote) printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("deliveries retry dlv_1 --hub-url …"), which flag.Parse alone
// stops at, and returns the positional ones. --help is as in ParseFlags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := ParseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// RunEvents is `hirehook events`.
func RunEvents(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "send" {
		return subcommandError("events", args, stdout, stderr)
	}
	fs, r := newRemoteFlags("hirehook events send", getenv, stdout)
	typ := fs.String("type", "", "the event type, e.g. placement.confirmed")
	data := fs.String("data", "", "the event's data, a JSON object")
	file := fs.String("file", "", "read the whole event (type, data, id, source, subject, changes) from this JSON file; - for stdin")
	id := fs.String("id", "", "the event's id (the hub stores one event per id)")
	source := fs.String("source", "", "the system the event comes from, e.g. bullhorn")
	idemKey := fs.String("idempotency-key", "", "send as Idempotency-Key: the hub accepts the key once")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("events send: unexpected argument %q (see hirehook events send --help)", pos[0])
	}
	var in hirehook.EventInput
	switch {
	case *file != "" && (*typ != "" || *data != ""):
		return errors.New("events send: give either --file or --type and --data, not both")
	case *file != "":
		if in, err = readEventFile(*file, stdin); err != nil {
			return err
		}
	default:
		if *typ == "" || *data == "" {
			return errors.New("events send: --type and --data are required, or --file (see hirehook events send --help)")
		}
		if !json.Valid([]byte(*data)) {
			return errors.New("events send: --data is not valid JSON")
		}
		in.Type, in.Data = *typ, json.RawMessage(*data)
	}
	if *id != "" {
		in.ID = *id
	}
	if *source != "" {
		in.Source = *source
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	acc, err := c.SendEvent(ctx, in, client.SendOption{IdempotencyKey: *idemKey})
	if err != nil {
		return r.failure("send event", err)
	}
	if r.json {
		return r.printJSON(stdout, acc)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\n", acc.ID)
	fmt.Fprintf(tw, "deliveries\t%d\n", acc.Deliveries)
	fmt.Fprintf(tw, "duplicate\t%t\n", acc.Duplicate)
	return tw.Flush()
}

// readEventFile reads one EventInput, refusing unknown fields as the API
// does, so a typo fails here with the file's name rather than at the hub.
func readEventFile(path string, stdin io.Reader) (hirehook.EventInput, error) {
	var in hirehook.EventInput
	var b []byte
	var err error
	if path == "-" {
		path = "stdin"
		b, err = io.ReadAll(io.LimitReader(stdin, 16<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return in, fmt.Errorf("events send: read %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("events send: %s is not an event: %w", path, err)
	}
	return in, nil
}

// RunEndpoints is `hirehook endpoints`.
func RunEndpoints(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return subcommandError("endpoints", args, stdout, stderr)
	}
	switch args[0] {
	case "list":
		return runEndpointsList(ctx, args[1:], getenv, stdout)
	case "get":
		return runEndpointsGet(ctx, args[1:], getenv, stdout)
	case "create":
		return runEndpointsCreate(ctx, args[1:], getenv, stdout)
	case "update":
		return runEndpointsUpdate(ctx, args[1:], getenv, stdout)
	case "disable", "enable":
		return runEndpointsEnable(ctx, args[0] == "enable", args[1:], getenv, stdout)
	case "delete":
		return runEndpointsDelete(ctx, args[1:], getenv, stdout)
	case "test":
		return runEndpointsTest(ctx, args[1:], getenv, stdout)
	}
	return subcommandError("endpoints", args, stdout, stderr)
}

func runEndpointsList(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, r := newRemoteFlags("hirehook endpoints list", getenv, stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("endpoints list: unexpected argument %q", pos[0])
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	eps := []hirehook.Endpoint{}
	for ep, err := range c.AllEndpoints(ctx, client.ListParams{}) {
		if err != nil {
			return r.failure("list endpoints", err)
		}
		eps = append(eps, ep)
	}
	if r.json {
		out := make([]endpointJSON, len(eps))
		for i, ep := range eps {
			out[i] = asJSON(ep)
		}
		return r.printJSON(stdout, out)
	}
	if len(eps) == 0 {
		fmt.Fprintln(stdout, "no endpoints (create one with: hirehook endpoints create --url … --event-types …)")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tDESTINATION\tEVENT TYPES\tDISABLED")
	for _, ep := range eps {
		kind := ep.Kind
		if kind == "" {
			kind = hirehook.KindHTTP
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ep.ID, kind, ep.URL, strings.Join(ep.EventTypes, ","), disabledText(ep))
	}
	return tw.Flush()
}

// runEndpointsGet is `hirehook endpoints get ID`: one endpoint with every
// setting, its credentials by name only.
func runEndpointsGet(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, r := newRemoteFlags("hirehook endpoints get", getenv, stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := endpointID("get", pos)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	ep, err := c.GetEndpoint(ctx, id)
	if err != nil {
		return r.failure("get endpoint "+id, err)
	}
	if r.json {
		return r.printJSON(stdout, asJSON(*ep))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	writeEndpoint(tw, *ep)
	return tw.Flush()
}

// disabledText is "no", "yes", or "yes (the hub's reason)".
func disabledText(ep hirehook.Endpoint) string {
	if !ep.Disabled {
		return "no"
	}
	if ep.DisabledReason != "" {
		return "yes (" + ep.DisabledReason + ")"
	}
	return "yes"
}

// endpointFlags are the settings endpoints create and update share.
type endpointFlags struct {
	kind, url, types, desc, filter, transform, payload, redact, rateLimit string
	ordered                                                               bool
	maxConcurrency                                                        int
	config, credentials                                                   fieldsFlag
}

func (f *endpointFlags) declare(fs *flag.FlagSet) {
	f.config = fieldsFlag{name: "config"}
	f.credentials = fieldsFlag{name: "credential", fromFiles: true}
	fs.StringVar(&f.url, "url", "", "the endpoint's URL, where the hub POSTs webhooks (kind http)")
	fs.Var(&f.config, "config", "a broker's setting as `key=value`, e.g. topic=applications; repeat for each (GET /v1/destination-kinds lists them); on update key= removes one")
	fs.Var(&f.credentials, "credential", "a broker's secret as `key=value`, or key=@file to read the value from a file (keeps it out of shell history); repeat for each; on update key= removes one")
	fs.StringVar(&f.types, "event-types", "", "comma-separated event types or patterns, e.g. placement.*,offer.signed")
	fs.StringVar(&f.desc, "description", "", "a note for people, e.g. the system behind the URL")
	fs.BoolVar(&f.ordered, "ordered", false, "deliver each subject's events (one candidate, one placement, ...) in ingest order")
	fs.StringVar(&f.filter, "filter", "", `a jq expression: deliver only events for which it yields true, e.g. '.data.client.id == "acme"'`)
	fs.StringVar(&f.transform, "transform", "", "a jq expression whose output becomes the body, e.g. '{start_date: .data.start_date}'")
	fs.StringVar(&f.payload, "payload", "", "full (the default) or thin (type, ids and a link to the record)")
	fs.StringVar(&f.redact, "redact", "", "comma-separated paths and presets to remove, e.g. personal_data,.data.pay_rate")
	fs.IntVar(&f.maxConcurrency, "max-concurrency", 0, "the most attempts in flight to the endpoint at once, 1 to 256 (default: the hub's --endpoint-concurrency)")
	fs.StringVar(&f.rateLimit, "rate-limit", "", "the most attempts started per second, e.g. 5 or 0.5; none removes the limit")
}

// list splits a comma-separated flag value; "" is an empty, non-nil list.
func list(s string) []string {
	out := []string{}
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// rate parses --rate-limit: nil for none.
func (f *endpointFlags) rate() (*float64, error) {
	if f.rateLimit == "none" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(f.rateLimit, 64)
	if err != nil || v <= 0 {
		return nil, &flagerr.Error{Field: "rate-limit", Value: f.rateLimit, Err: errors.New("must be a number of attempts per second above 0, or none")}
	}
	return &v, nil
}

func runEndpointsCreate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, r := newRemoteFlags("hirehook endpoints create", getenv, stdout)
	var f endpointFlags
	f.declare(fs)
	// Only at creation: an endpoint's kind never changes.
	fs.StringVar(&f.kind, "kind", "", "the destination: http (a webhook to --url, the default), or a broker: "+strings.Join(hirehook.DestinationKindNames()[1:], ", ")+" (see docs/destinations.md)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("endpoints create: unexpected argument %q", pos[0])
	}
	if err := f.check(); err != nil {
		return fmt.Errorf("endpoints create: %w", err)
	}
	broker := f.kind != "" && f.kind != hirehook.KindHTTP
	switch {
	case f.types == "":
		return errors.New("endpoints create: --event-types is required (see hirehook endpoints create --help)")
	case !broker && f.url == "":
		return errors.New("endpoints create: --url is required, or --kind and --config for a broker (see hirehook endpoints create --help)")
	case broker && f.url != "":
		return fmt.Errorf("endpoints create: --url is for a webhook; a %s endpoint is configured by --config", f.kind)
	case !broker && (len(f.config.values) > 0 || len(f.credentials.values) > 0):
		return errors.New("endpoints create: --config and --credential are for a broker: give --kind (kafka, rabbitmq, nats, gcp_pubsub)")
	}
	p := client.EndpointCreateParams{Kind: f.kind, URL: f.url, Config: f.config.values, Credentials: f.credentials.values,
		EventTypes: list(f.types), Description: f.desc, Ordered: f.ordered,
		Filter: f.filter, Transform: f.transform, Payload: f.payload, MaxConcurrency: f.maxConcurrency}
	if f.redact != "" {
		p.Redact = list(f.redact)
	}
	if f.rateLimit != "" && f.rateLimit != "none" {
		if p.RateLimitPerSecond, err = f.rate(); err != nil {
			return err
		}
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	ep, err := c.CreateEndpoint(ctx, p)
	if err != nil {
		return r.failure("create endpoint", err)
	}
	if r.json {
		return r.printJSON(stdout, ep)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	writeEndpoint(tw, ep.Endpoint)
	fmt.Fprintf(tw, "secret\t%s\n", ep.Secret)
	if err := tw.Flush(); err != nil {
		return err
	}
	who := "the receiver verifies signatures"
	if broker {
		who = "consumers verify messages' signatures"
	}
	fmt.Fprintln(stdout, "\nKeep the secret: "+who+" with it, and the hub shows it\n"+
		"again only on rotation or at GET /v1/endpoints/"+ep.ID+"/secret.")
	return nil
}

// check reports a wrong --kind, --config or --credential before anything
// is sent.
func (f *endpointFlags) check() error {
	if err := f.config.err(); err != nil {
		return err
	}
	if err := f.credentials.err(); err != nil {
		return err
	}
	return checkKind(f.kind)
}

// writeEndpoint writes an endpoint as two columns, leaving out settings
// at their defaults.
func writeEndpoint(w io.Writer, ep hirehook.Endpoint) {
	fmt.Fprintf(w, "id\t%s\n", ep.ID)
	writeDestination(w, ep)
	fmt.Fprintf(w, "event types\t%s\n", strings.Join(ep.EventTypes, ","))
	if ep.Description != "" {
		fmt.Fprintf(w, "description\t%s\n", ep.Description)
	}
	fmt.Fprintf(w, "disabled\t%s\n", disabledText(ep))
	if ep.Ordered {
		fmt.Fprintf(w, "ordered\t%t\n", ep.Ordered)
	}
	if ep.Filter != "" {
		fmt.Fprintf(w, "filter\t%s\n", ep.Filter)
	}
	if ep.Transform != "" {
		fmt.Fprintf(w, "transform\t%s\n", ep.Transform)
	}
	if ep.Payload != "" && ep.Payload != hirehook.PayloadFull {
		fmt.Fprintf(w, "payload\t%s\n", ep.Payload)
	}
	if len(ep.Redact) > 0 {
		fmt.Fprintf(w, "redact\t%s\n", strings.Join(ep.Redact, ","))
	}
	if ep.MaxConcurrency != 0 {
		fmt.Fprintf(w, "concurrency\t%d\n", ep.MaxConcurrency)
	}
	if ep.RateLimitPerSecond != nil {
		fmt.Fprintf(w, "rate limit\t%g/s\n", *ep.RateLimitPerSecond)
	}
}

// endpointID returns the one positional argument of an endpoints verb.
func endpointID(verb string, pos []string) (string, error) {
	if len(pos) != 1 || pos[0] == "" {
		return "", fmt.Errorf("endpoints %s: give one endpoint id, as in: hirehook endpoints %s ep_… (see --help)", verb, verb)
	}
	return pos[0], nil
}

func runEndpointsUpdate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, r := newRemoteFlags("hirehook endpoints update", getenv, stdout)
	var f endpointFlags
	f.declare(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := endpointID("update", pos)
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return fmt.Errorf("endpoints update: %w", err)
	}
	// Only the flags given change: an empty value given ('--filter ""')
	// clears the setting, an absent flag leaves it alone.
	var p client.EndpointUpdateParams
	set := 0
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "url":
			p.URL = &f.url
		case "config", "credential":
			// Below: --config changes the fields given.
		case "event-types":
			p.EventTypes = list(f.types)
		case "description":
			p.Description = &f.desc
		case "ordered":
			p.Ordered = &f.ordered
		case "filter":
			p.Filter = &f.filter
		case "transform":
			p.Transform = &f.transform
		case "payload":
			p.Payload = &f.payload
		case "redact":
			p.Redact = list(f.redact)
		case "max-concurrency":
			p.MaxConcurrency = &f.maxConcurrency
		case "rate-limit":
			if f.rateLimit == "none" {
				p.RemoveRateLimit = true
			} else if p.RateLimitPerSecond, err = f.rate(); err != nil {
				return
			}
		default:
			return // --hub-url, --api-key-file, --json
		}
		set++
	})
	if err != nil {
		return err
	}
	if len(f.credentials.values) > 0 {
		p.Credentials = f.credentials.values // the hub changes only these; "" removes one
		set++
	}
	if set == 0 && len(f.config.values) == 0 {
		return errors.New("endpoints update: nothing to change: give the flags to change, e.g. --url or --event-types (see hirehook endpoints update --help)")
	}
	if len(f.config.values) > 0 {
		// The API replaces the whole config; the flags change only the
		// fields given, so start from the current one.
		c, err := r.client()
		if err != nil {
			return err
		}
		cur, err := c.GetEndpoint(ctx, id)
		if err != nil {
			return r.failure("update endpoint "+id, err)
		}
		p.Config = maps.Clone(cur.Config)
		if p.Config == nil {
			p.Config = map[string]string{}
		}
		for k, v := range f.config.values {
			if v == "" {
				delete(p.Config, k)
			} else {
				p.Config[k] = v
			}
		}
	}
	return updateEndpoint(ctx, r, "update endpoint "+id, id, p, stdout)
}

// updateEndpoint sends p and prints the endpoint as it now is.
func updateEndpoint(ctx context.Context, r *remote, op, id string, p client.EndpointUpdateParams, stdout io.Writer) error {
	c, err := r.client()
	if err != nil {
		return err
	}
	ep, err := c.UpdateEndpoint(ctx, id, p)
	if err != nil {
		return r.failure(op, err)
	}
	if r.json {
		return r.printJSON(stdout, ep)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	writeEndpoint(tw, *ep)
	return tw.Flush()
}

// runEndpointsEnable is `endpoints enable` and `endpoints disable`.
func runEndpointsEnable(ctx context.Context, enable bool, args []string, getenv func(string) string, stdout io.Writer) error {
	verb := "disable"
	if enable {
		verb = "enable"
	}
	fs, r := newRemoteFlags("hirehook endpoints "+verb, getenv, stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := endpointID(verb, pos)
	if err != nil {
		return err
	}
	disabled := !enable
	return updateEndpoint(ctx, r, verb+" endpoint "+id, id, client.EndpointUpdateParams{Disabled: &disabled}, stdout)
}

func runEndpointsDelete(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, r := newRemoteFlags("hirehook endpoints delete", getenv, stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := endpointID("delete", pos)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	if err := c.DeleteEndpoint(ctx, id); err != nil {
		return r.failure("delete endpoint "+id, err)
	}
	if r.json {
		return r.printJSON(stdout, map[string]any{"id": id, "deleted": true})
	}
	fmt.Fprintf(stdout, "endpoint %s deleted; its unsent deliveries are cancelled\n", id)
	return nil
}

// runEndpointsTest is `hirehook endpoints test`: POST
// /v1/endpoints/{id}/test, one endpoint.tested event to that endpoint only.
func runEndpointsTest(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, r := newRemoteFlags("hirehook endpoints test", getenv, stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := endpointID("test", pos)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	res, err := c.TestEndpoint(ctx, id)
	if err != nil {
		return r.failure("test endpoint "+id, err)
	}
	if r.json {
		return r.printJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "test event %s (%s) is on its way to endpoint %s only\nfollow it: hirehook deliveries list --event-id %s\n",
		res.EventID, res.EventType, res.EndpointID, res.EventID)
	return nil
}

// RunDeliveries is `hirehook deliveries`.
func RunDeliveries(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return subcommandError("deliveries", args, stdout, stderr)
	}
	switch args[0] {
	case "list":
		return runDeliveriesList(ctx, args[1:], getenv, stdout)
	case "retry":
		return runDeliveriesRetry(ctx, args[1:], getenv, stdout)
	}
	return subcommandError("deliveries", args, stdout, stderr)
}

func runDeliveriesList(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, r := newRemoteFlags("hirehook deliveries list", getenv, stdout)
	var p client.DeliveryListParams
	fs.StringVar(&p.EndpointID, "endpoint-id", "", "only this endpoint's deliveries")
	fs.StringVar(&p.EventID, "event-id", "", "only this event's deliveries")
	state := fs.String("state", "", "only deliveries in this state: pending, delivering, retrying, paused, delivered, failed, cancelled")
	fs.IntVar(&p.Limit, "limit", 50, "at most this many (1 to 1000)")
	fs.StringVar(&p.After, "after", "", "start after this delivery id (the next page)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("deliveries list: unexpected argument %q", pos[0])
	}
	p.State = hirehook.DeliveryState(*state)
	c, err := r.client()
	if err != nil {
		return err
	}
	page, err := c.ListDeliveries(ctx, p)
	if err != nil {
		return r.failure("list deliveries", err)
	}
	if r.json {
		return r.printJSON(stdout, page)
	}
	if len(page.Data) == 0 {
		fmt.Fprintln(stdout, "no deliveries")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEVENT\tTYPE\tENDPOINT\tSTATE\tATTEMPTS\tSTATUS\tLATENCY\tNEXT ATTEMPT\tRESPONSE")
	for _, d := range page.Data {
		status, latency, next := "-", "-", "-"
		if d.LastStatus != 0 {
			status = strconv.Itoa(d.LastStatus)
		}
		if d.Attempts > 0 {
			latency = formatLatency(time.Duration(d.LastLatency))
		}
		if d.NextAttemptAt != nil && (d.State == hirehook.DeliveryRetrying || d.State == hirehook.DeliveryPending) {
			next = d.NextAttemptAt.Local().Format(time.DateTime)
		}
		// The answer's start, or why there was none (a timeout, a
		// refused connection).
		resp := oneLine(d.LastResponseExcerpt)
		if resp != "" {
			resp = strconv.Quote(truncate(resp, 40))
		} else if d.LastError != "" {
			resp = truncate(oneLine(d.LastError), 42)
		} else {
			resp = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.ID, d.EventID, d.EventType, d.EndpointID, d.State, d.Attempts, status, latency, next, resp)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.HasMore {
		fmt.Fprintf(stdout, "\nmore: add --after %s\n", page.NextAfter)
	}
	return nil
}

// formatLatency prints a latency in the unit that fits: 850µs, 12.3ms,
// 230ms, 1.5s.
func formatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 100*time.Millisecond:
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + "ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// oneLine collapses runs of white space (new lines of a body) into one
// space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate cuts s to n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func runDeliveriesRetry(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, r := newRemoteFlags("hirehook deliveries retry", getenv, stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("deliveries retry: give one delivery id, as in: hirehook deliveries retry dlv_… (see --help)")
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	d, err := c.RetryDelivery(ctx, pos[0])
	if err != nil {
		return r.failure("retry delivery "+pos[0], err)
	}
	if r.json {
		return r.printJSON(stdout, d)
	}
	fmt.Fprintf(stdout, "delivery %s queued for another attempt (state %s, %d attempts so far)\n", d.ID, d.State, d.Attempts)
	return nil
}

// subcommandError answers a group ("endpoints") without a known
// subcommand: the group's help on stdout when asked for, else on stderr
// with an error.
func subcommandError(group string, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		writeGroupUsage(stdout, group)
		return flag.ErrHelp
	}
	writeGroupUsage(stderr, group)
	fmt.Fprintln(stderr)
	if len(args) == 0 {
		return fmt.Errorf("%s: missing command", group)
	}
	return fmt.Errorf("%s: unknown command %q", group, args[0])
}
