package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client"
)

// runSources is "hirehook sources": the sources of a running hub, a push
// source's request log, and reprocessing after a mapping was fixed.
func runSources(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return subcommandError("sources", args, stdout, stderr)
	}
	switch args[0] {
	case "list":
		return runSourcesList(ctx, args[1:], getenv, stdout, stderr)
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
