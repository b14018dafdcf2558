package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
)

// The commands in this file (events, endpoints, deliveries) talk to a
// running hub through the Go SDK, the way a script or an operator would.
// The key comes from HIREHOOK_API_KEY, HIREHOOK_API_KEY_FILE or
// --api-key-file, never from a flag that holds it: a flag's value lands in
// shell history and in ps.

const defaultHubURL = "http://127.0.0.1:8080"

// remote holds the flags every API command shares.
type remote struct {
	url     string
	keyFile string
	json    bool
	getenv  func(string) string
}

// newRemoteFlags returns the flag set of one API command with --url (the
// hub; urlFlag names it differently where --url means something else),
// --hub-url, --api-key-file and --json.
func newRemoteFlags(name, urlFlag string, getenv func(string) string, stderr io.Writer) (*flag.FlagSet, *remote) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	r := &remote{getenv: getenv}
	def := getenv("HIREHOOK_URL")
	if def == "" {
		def = defaultHubURL
	}
	r.url = def
	const urlUsage = "the hub's URL (or HIREHOOK_URL)"
	fs.StringVar(&r.url, "hub-url", def, urlUsage)
	if urlFlag != "hub-url" {
		fs.StringVar(&r.url, urlFlag, def, urlUsage)
	}
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
		return nil, &ConfigError{Field: "url", Value: r.url, Err: errors.New("must be an absolute http:// or https:// URL without query")}
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
	return &cliError{msg: fmt.Sprintf("%s: %s\n  is the hub running at %s? (set --url or HIREHOOK_URL)", op, msg, r.url), err: err}
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
// arguments ("deliveries retry dlv_1 --url …"), which flag.Parse alone
// stops at, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
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

const eventsUsage = `Usage:
  hirehook events send --type placement.confirmed --data '{"id":"pl_1",…}' [--id …] [--source …] [--idempotency-key …]
  hirehook events send --file event.json     (a whole event; - reads stdin)
`

// runEvents is `hirehook events`.
func runEvents(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "send" {
		return subcommandError(args, eventsUsage, stdout, stderr)
	}
	fs, r := newRemoteFlags("hirehook events send", "url", getenv, stderr)
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
		return fmt.Errorf("events send: unexpected argument %q\n\n%s", pos[0], eventsUsage)
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
			return fmt.Errorf("events send: --type and --data are required (or --file)\n\n%s", eventsUsage)
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

const endpointsUsage = `Usage:
  hirehook endpoints list [--json]
  hirehook endpoints create --url https://… --event-types placement.*,offer.signed [--description …] [--filter …] [--transform …] [--payload thin] [--redact personal_data,…] [--hub-url …]
`

// runEndpoints is `hirehook endpoints`.
func runEndpoints(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return subcommandError(args, endpointsUsage, stdout, stderr)
	}
	switch args[0] {
	case "list":
		return runEndpointsList(ctx, args[1:], getenv, stdout, stderr)
	case "create":
		return runEndpointsCreate(ctx, args[1:], getenv, stdout, stderr)
	}
	return subcommandError(args, endpointsUsage, stdout, stderr)
}

func runEndpointsList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, r := newRemoteFlags("hirehook endpoints list", "url", getenv, stderr)
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
		return r.printJSON(stdout, eps)
	}
	if len(eps) == 0 {
		fmt.Fprintln(stdout, "no endpoints (create one with: hirehook endpoints create --url … --event-types …)")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tEVENT TYPES\tDISABLED")
	for _, ep := range eps {
		disabled := "no"
		if ep.Disabled {
			disabled = "yes"
			if ep.DisabledReason != "" {
				disabled += " (" + ep.DisabledReason + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ep.ID, ep.URL, strings.Join(ep.EventTypes, ","), disabled)
	}
	return tw.Flush()
}

func runEndpointsCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// --url is the endpoint's here, so the hub's is --hub-url (or HIREHOOK_URL).
	fs, r := newRemoteFlags("hirehook endpoints create", "hub-url", getenv, stderr)
	url := fs.String("url", "", "the endpoint's URL, where the hub POSTs webhooks")
	types := fs.String("event-types", "", "comma-separated event types or patterns, e.g. placement.*,offer.signed")
	desc := fs.String("description", "", "a note for people, e.g. the system behind the URL")
	ordered := fs.Bool("ordered", false, "deliver each subject's events (one candidate, one placement, ...) in ingest order")
	filter := fs.String("filter", "", `a jq expression: deliver only events for which it yields true, e.g. '.data.client.id == "acme"'`)
	transform := fs.String("transform", "", "a jq expression whose output becomes the body, e.g. '{start_date: .data.start_date}'")
	payload := fs.String("payload", "", "full (the default) or thin (type, ids and a link to the record)")
	redact := fs.String("redact", "", "comma-separated paths and presets to remove, e.g. personal_data,.data.pay_rate")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("endpoints create: unexpected argument %q", pos[0])
	}
	if *url == "" || *types == "" {
		return fmt.Errorf("endpoints create: --url and --event-types are required\n\n%s", endpointsUsage)
	}
	p := client.EndpointCreateParams{URL: *url, Description: *desc, Ordered: *ordered, Filter: *filter, Transform: *transform, Payload: *payload}
	for t := range strings.SplitSeq(*types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			p.EventTypes = append(p.EventTypes, t)
		}
	}
	for t := range strings.SplitSeq(*redact, ",") {
		if t = strings.TrimSpace(t); t != "" {
			p.Redact = append(p.Redact, t)
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
	fmt.Fprintf(tw, "id\t%s\n", ep.ID)
	fmt.Fprintf(tw, "url\t%s\n", ep.URL)
	fmt.Fprintf(tw, "event types\t%s\n", strings.Join(ep.EventTypes, ","))
	if ep.Filter != "" {
		fmt.Fprintf(tw, "filter\t%s\n", ep.Filter)
	}
	if ep.Transform != "" {
		fmt.Fprintf(tw, "transform\t%s\n", ep.Transform)
	}
	if ep.Payload != "" && ep.Payload != hirehook.PayloadFull {
		fmt.Fprintf(tw, "payload\t%s\n", ep.Payload)
	}
	if len(ep.Redact) > 0 {
		fmt.Fprintf(tw, "redact\t%s\n", strings.Join(ep.Redact, ","))
	}
	fmt.Fprintf(tw, "secret\t%s\n", ep.Secret)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nKeep the secret: the receiver verifies signatures with it, and the hub shows it\n"+
		"again only on rotation or at GET /v1/endpoints/"+ep.ID+"/secret.")
	return nil
}

const deliveriesUsage = `Usage:
  hirehook deliveries list [--endpoint-id …] [--event-id …] [--state failed] [--limit 50] [--after …] [--json]
  hirehook deliveries retry <delivery-id>
`

// runDeliveries is `hirehook deliveries`.
func runDeliveries(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return subcommandError(args, deliveriesUsage, stdout, stderr)
	}
	switch args[0] {
	case "list":
		return runDeliveriesList(ctx, args[1:], getenv, stdout, stderr)
	case "retry":
		return runDeliveriesRetry(ctx, args[1:], getenv, stdout, stderr)
	}
	return subcommandError(args, deliveriesUsage, stdout, stderr)
}

func runDeliveriesList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, r := newRemoteFlags("hirehook deliveries list", "url", getenv, stderr)
	var p client.DeliveryListParams
	fs.StringVar(&p.EndpointID, "endpoint-id", "", "only this endpoint's deliveries")
	fs.StringVar(&p.EventID, "event-id", "", "only this event's deliveries")
	state := fs.String("state", "", "only deliveries in this state: pending, delivering, retrying, paused, delivered, failed, cancelled")
	fs.IntVar(&p.Limit, "limit", 50, "at most this many")
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
	fmt.Fprintln(tw, "ID\tEVENT\tTYPE\tENDPOINT\tSTATE\tATTEMPTS\tLAST STATUS\tLAST ERROR")
	for _, d := range page.Data {
		status := "-"
		if d.LastStatus != 0 {
			status = fmt.Sprint(d.LastStatus)
		}
		lastErr := d.LastError
		if len(lastErr) > 60 {
			lastErr = lastErr[:57] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.EventID, d.EventType, d.EndpointID, d.State, d.Attempts, status, lastErr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.HasMore {
		fmt.Fprintf(stdout, "\nmore: add --after %s\n", page.NextAfter)
	}
	return nil
}

func runDeliveriesRetry(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, r := newRemoteFlags("hirehook deliveries retry", "url", getenv, stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("deliveries retry: give one delivery id\n\n%s", deliveriesUsage)
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

// subcommandError answers a missing or unknown subcommand: the usage on
// stdout for help, else an error.
func subcommandError(args []string, usage string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing subcommand")
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown subcommand %q", args[0])
}
