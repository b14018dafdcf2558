package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/logkey"
	"github.com/hirehook/hirehook/route"
)

// FilterFunc returns the hirehook.EventIngestParams.MatchFunc that applies
// the endpoints' content filters (Endpoint.Filter, on the envelope redacted
// by Endpoint.Redact) at ingest, so that an event an endpoint's filter
// does not select creates no delivery for it: no row, no claim, no
// attempt. Filters are compiled once per endpoint and spec (routes), each
// event is decoded once for all of its endpoints, and endpoints with the
// same filter and redaction share one evaluation per event.
//
// An event a filter cannot judge is not delivered (fail closed, as in
// package route): an error, a value that is not true, too many steps. The
// same holds when the evaluation runs out of wall-clock time (a starved
// machine, route.ErrTimeout): there is no delivery yet to retry, so it is
// logged at Error level for an operator, with the event and endpoint,
// rather than failing the whole commit (which holds other producers'
// events). The end of ctx fails the commit.
func FilterFunc(routes *route.Cache, logger *slog.Logger) func(ctx context.Context, e *hirehook.Event, subscribed []*hirehook.Endpoint) ([]*hirehook.Endpoint, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, e *hirehook.Event, subscribed []*hirehook.Endpoint) ([]*hirehook.Endpoint, error) {
		var env *route.Envelope
		var seen map[string]bool // filter and redaction → the filter's answer
		out := subscribed[:0:0]
		for _, ep := range subscribed {
			if !route.HasFilter(ep.Filter) {
				out = append(out, ep)
				continue
			}
			key := strconv.Itoa(len(ep.Filter)) + ":" + ep.Filter + strings.Join(ep.Redact, "\x00")
			if ok, done := seen[key]; done {
				if ok {
					out = append(out, ep)
				}
				continue
			}
			r, err := routes.Get(ep.ID, route.Spec{Filter: ep.Filter, Redact: ep.Redact})
			if err != nil {
				// Saved specs compiled when saved; one that no longer does
				// (an older hub's syntax) selects nothing until it is fixed.
				logger.Error("endpoint filter does not compile; event not delivered to it", logkey.EndpointID, ep.ID, logkey.EventID, e.ID, logkey.Error, err)
				continue
			}
			if env == nil {
				if env, err = route.ParseEnvelope(e.Payload); err != nil {
					return nil, fmt.Errorf("filter event %s: %w", e.ID, err)
				}
			}
			ok, _, err := r.Match(ctx, env)
			if errors.Is(err, route.ErrTimeout) && ctx.Err() == nil {
				logger.Error("endpoint filter timed out; event not delivered to it", logkey.EndpointID, ep.ID, logkey.EventID, e.ID, logkey.Error, err)
				continue
			} else if err != nil {
				return nil, fmt.Errorf("filter event %s for endpoint %s: %w", e.ID, ep.ID, err)
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[key] = ok
			if ok {
				out = append(out, ep)
			}
		}
		return out, nil
	}
}
