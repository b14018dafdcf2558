package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
	"github.com/hirehook/hirehook/ops"
)

// RunSources is "hirehook sources": the sources of a running hub,
// connecting a push source, a push source's request log, and reprocessing
// after a mapping was fixed.
func RunSources(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return subcommandError("sources", args, stdout, stderr)
	}
	switch args[0] {
	case "list":
		return runSourcesList(ctx, args[1:], getenv, stdout, stderr)
	case "create":
		return runSourcesCreate(ctx, args[1:], getenv, stdout, stderr)
	case "requests":
		return runSourcesRequests(ctx, args[1:], getenv, stdout, stderr)
	case "reprocess":
		return runSourcesReprocess(ctx, args[1:], getenv, stdout, stderr)
	}
	return subcommandError("sources", args, stdout, stderr)
}

func runSourcesList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, r := newRemoteFlags("hirehook sources list", getenv, stdout)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("sources list: unexpected argument %q", pos[0])
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	var all []hirehook.Source
	for s, err := range c.AllSources(ctx, client.ListParams{}) {
		if err != nil {
			return r.failure("list sources", err)
		}
		all = append(all, s)
	}
	if r.json {
		return r.printJSON(stdout, all)
	}
	if len(all) == 0 {
		fmt.Fprintln(stdout, "no sources")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tNAME\tENABLED\tACTIVITY\tINGEST URL")
	for _, s := range all {
		activity := fmt.Sprintf("read %d, emitted %d, errors %d", s.Health.EventsRead, s.Health.EventsEmitted, s.Health.Errors)
		url := "-"
		if s.Requests != nil {
			q := s.Requests
			activity = fmt.Sprintf("processed %d, rejected %d, failed %d, events %d", q.ByStatus[hirehook.InboundProcessed],
				q.ByStatus[hirehook.InboundRejected], q.ByStatus[hirehook.InboundFailed], q.Events)
			url = s.IngestURL
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", s.ID, s.Kind, s.Name, s.Enabled, activity, url)
	}
	return tw.Flush()
}

func runSourcesRequests(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, r := newRemoteFlags("hirehook sources requests", getenv, stdout)
	var p client.SourceRequestListParams
	fs.StringVar(&p.Status, "status", "", "only requests in this state: received, processed, unsupported, failed, duplicate, rejected, handshake")
	fs.IntVar(&p.Limit, "limit", 50, "at most this many")
	fs.StringVar(&p.After, "after", "", "start after this request id (the next page)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("sources requests: give one source id (see hirehook sources requests --help)")
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	page, err := c.ListSourceRequests(ctx, pos[0], p)
	if err != nil {
		return r.failure("list requests of source "+pos[0], err)
	}
	if r.json {
		return r.printJSON(stdout, page)
	}
	if len(page.Data) == 0 {
		fmt.Fprintln(stdout, "no requests")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tSTATUS\tVENDOR EVENT\tEVENTS\tERROR")
	for _, q := range page.Data {
		msg := q.Error
		if len(msg) > 70 {
			msg = msg[:67] + "..."
		}
		events := strings.Join(q.EventIDs, ",")
		if events == "" {
			events = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", q.ID, q.ReceivedAt.Format(time.RFC3339), q.Status, dash(q.VendorEvent), events, msg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.HasMore {
		fmt.Fprintf(stdout, "\nmore: add --after %s\n", page.NextAfter)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runSourcesReprocess(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, r := newRemoteFlags("hirehook sources reprocess", getenv, stdout)
	since := fs.Duration("since", 0, "reprocess the requests received in this last span (24h)")
	fromS := fs.String("from", "", "start of the window (RFC 3339), instead of --since")
	toS := fs.String("to", "", "end of the window (RFC 3339; default now)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("sources reprocess: give one source id (see hirehook sources reprocess --help)")
	}
	var from, to time.Time
	switch {
	case *since > 0 && *fromS != "":
		return fmt.Errorf("sources reprocess: give --since or --from, not both")
	case *since > 0:
		from = time.Now().Add(-*since)
	case *fromS != "":
		if from, err = time.Parse(time.RFC3339, *fromS); err != nil {
			return fmt.Errorf("sources reprocess: --from %q is not an RFC 3339 time", *fromS)
		}
	default:
		return errors.New("sources reprocess: give --since (24h) or --from (see hirehook sources reprocess --help)")
	}
	if *toS != "" {
		if to, err = time.Parse(time.RFC3339, *toS); err != nil {
			return fmt.Errorf("sources reprocess: --to %q is not an RFC 3339 time", *toS)
		}
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	n, err := c.ReprocessSource(ctx, pos[0], from, to)
	if err != nil {
		return r.failure("reprocess source "+pos[0], err)
	}
	if r.json {
		return r.printJSON(stdout, map[string]int{"requests": n})
	}
	fmt.Fprintf(stdout, "%d requests made due again; the hub normalises them within seconds (see: hirehook sources requests %s)\n", n, pos[0])
	return nil
}

// runSourcesCreate is "hirehook sources create": it connects a push source
// through POST /v1/sources (the same operation as the API's and the
// dashboard's: package ops) and prints the ingest URL with the vendor's
// setup steps. Secrets are read from files or the environment, never from
// flag values.
func runSourcesCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, r := newRemoteFlags("hirehook sources create", getenv, stdout)
	kind := fs.String("kind", "", "the vendor: "+strings.Join(pushGuideKinds(), ", "))
	name := fs.String("name", "", "how the hub names the source, such as \"Acme Greenhouse\"")
	account := fs.String("account", "", "your name for the vendor account, written into the events' external references (optional)")
	secretFile := fs.String("signing-secret-file", "", "read the signing secret from this file (else HIREHOOK_SIGNING_SECRET)")
	prevFile := fs.String("previous-signing-secret-file", "", "read the previous signing secret from this file, while the vendor switches to a new one (optional)")
	vendorKeyFile := fs.String("vendor-api-key-file", "", "lever, smartrecruiters: read the vendor's API key from this file, so the hub fetches whole records (optional)")
	vendorURL := fs.String("vendor-api-url", "", "lever: the API address for the EU data centre or sandbox (optional)")
	scheme := fs.String("scheme", "", "generic: standard_webhooks (default) or hmac")
	header := fs.String("signature-header", "", "generic hmac: the header that carries the signature")
	encoding := fs.String("signature-encoding", "", "generic hmac: hex (default) or base64")
	prefix := fs.String("signature-prefix", "", "generic hmac: a prefix to strip from the signature, such as sha256=")
	disabled := fs.Bool("disabled", false, "create it disabled: webhooks are refused until it is enabled")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("sources create: unexpected argument %q", pos[0])
	}
	g, ok := ops.SourceGuideOf(*kind)
	switch {
	case *kind == "":
		return fmt.Errorf("sources create: give --kind, one of %s (see hirehook sources create --help)", strings.Join(pushGuideKinds(), ", "))
	case ok && !g.Push:
		return fmt.Errorf("sources create: %s is polled by the hub, not pushed: connect it from the dashboard (Sources → Connect a source) or with POST /v1/sources", *kind)
	case !ok:
		return fmt.Errorf("sources create: --kind %q: must be one of %s", *kind, strings.Join(pushGuideKinds(), ", "))
	case strings.TrimSpace(*name) == "":
		return errors.New("sources create: --name is required: how the hub names the source, such as \"Acme Greenhouse\"")
	}
	cfg := map[string]any{}
	secret, err := secretFrom(*secretFile, "--signing-secret-file", getenv("HIREHOOK_SIGNING_SECRET"))
	if err != nil {
		return err
	}
	if secret == "" {
		return fmt.Errorf("sources create: the signing secret is required: the one %s signs its webhooks with, in a file (--signing-secret-file) or HIREHOOK_SIGNING_SECRET", g.Title)
	}
	cfg["signing_secret"] = secret
	for _, f := range []struct{ file, flag, field string }{
		{*prevFile, "--previous-signing-secret-file", "previous_signing_secret"},
		{*vendorKeyFile, "--vendor-api-key-file", "api_key"},
	} {
		v, err := secretFrom(f.file, f.flag, "")
		if err != nil {
			return err
		}
		if v != "" {
			cfg[f.field] = v
		}
	}
	for field, v := range map[string]string{"account": *account, "api_url": *vendorURL, "scheme": *scheme, "header": *header, "encoding": *encoding, "prefix": *prefix} {
		if v != "" {
			cfg[field] = v
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	p := client.SourceCreateParams{Kind: *kind, Name: *name, Config: raw}
	if *disabled {
		p.Enabled = new(bool)
	}
	src, err := c.CreateSource(ctx, p)
	if err != nil {
		return r.failure("create source", err)
	}
	if r.json {
		return r.printJSON(stdout, src)
	}
	fmt.Fprintf(stdout, "Connected %s (%s), a %s source%s.\n\n", src.Name, src.ID, g.Title, map[bool]string{true: "", false: ", disabled"}[src.Enabled])
	fmt.Fprintf(stdout, "Ingest URL: give it to %s as the webhook address\n  %s\n\n", g.Title, src.IngestURL)
	fmt.Fprintf(stdout, "In %s:\n", g.Title)
	for i, step := range g.SetupSteps(src.IngestURL) {
		fmt.Fprintf(stdout, "  %d. %s\n", i+1, step)
	}
	fmt.Fprintf(stdout, "\nThen watch its requests arrive: hirehook sources requests %s\n", src.ID)
	return nil
}

// pushGuideKinds are the kinds `sources create` connects.
func pushGuideKinds() []string {
	var out []string
	for _, g := range ops.SourceGuides {
		if g.Push {
			out = append(out, g.Kind)
		}
	}
	return out
}

// secretFrom reads a secret from path (trimmed), else returns env. Errors
// name the flag and the file, never the content.
func secretFrom(path, flagName, env string) (string, error) {
	if path == "" {
		return strings.TrimSpace(env), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("sources create: %s: %w", flagName, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("sources create: %s: %s is empty", flagName, path)
	}
	return v, nil
}
