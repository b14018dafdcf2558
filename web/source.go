package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
)

// Source health thresholds. A source is polled every interval (the
// connector's poll_interval_ms, 2 s by default), backing off up to 2 min
// after errors, and the node that runs it writes its health every 10 s (a
// third of the default 30 s source lease). The rules, first match wins:
//
//   - disabled: the source is disabled.
//   - failing: no successful poll for sourceStale (at least 2 min, or 10
//     intervals when the interval is longer): events from the vendor are
//     not reaching the hub. A source younger than that (or enabled again
//     since) that has not been polled yet waits for its first poll.
//   - degraded: the latest poll failed (a success came before it, within
//     sourceStale), or the lag from the vendor's event time to ingest is
//     over sourceLagDegraded.
//   - healthy: otherwise.
const (
	sourceDefaultInterval = 2 * time.Second
	sourceStaleMin        = 2 * time.Minute
	sourceStaleIntervals  = 10
	sourceLagDegraded     = 5 * time.Minute
)

// sourceInterval reads the poll interval from a source's public config
// (poll_interval_ms, as the Bullhorn connector names it).
func sourceInterval(src *hirehook.Source) time.Duration {
	var c struct {
		PollIntervalMS int64 `json:"poll_interval_ms"`
	}
	if json.Unmarshal(src.Config, &c) == nil && c.PollIntervalMS > 0 {
		return time.Duration(c.PollIntervalMS) * time.Millisecond
	}
	return sourceDefaultInterval
}

// sourceStale is how long a source may go without a successful poll before
// it counts as failing.
func sourceStale(interval time.Duration) time.Duration {
	return max(sourceStaleMin, sourceStaleIntervals*interval)
}

// sourceHealthOf applies the thresholds above.
func sourceHealthOf(src *hirehook.Source, now time.Time) Health {
	if !src.Enabled {
		return Health{HealthDisabled, "Disabled: the hub does not poll it."}
	}
	hl := src.Health
	interval := sourceInterval(src)
	stale := sourceStale(interval)
	since := src.CreatedAt
	if src.UpdatedAt.After(since) {
		since = src.UpdatedAt
	}
	lastErr := ""
	if hl.LastError != "" {
		lastErr = " Last error: " + excerpt(hl.LastError, 160)
	}
	switch {
	case hl.LastSuccessAt == nil && hl.LastPollAt == nil:
		if now.Sub(since) >= stale {
			return Health{HealthFailing, fmt.Sprintf("Never polled in %s: is a hub node running it?", span(now.Sub(since)))}
		}
		return Health{HealthHealthy, "Waiting for its first poll."}
	case hl.LastSuccessAt == nil:
		if now.Sub(since) >= stale {
			return Health{HealthFailing, "No poll has succeeded yet." + lastErr}
		}
		return Health{HealthDegraded, "Its first polls failed." + lastErr}
	case now.Sub(*hl.LastSuccessAt) >= stale:
		return Health{HealthFailing, fmt.Sprintf("No successful poll for %s.", span(now.Sub(*hl.LastSuccessAt))) + lastErr}
	case hl.LastErrorAt != nil && hl.LastErrorAt.After(*hl.LastSuccessAt):
		return Health{HealthDegraded, "The latest poll failed." + lastErr}
	case time.Duration(hl.LagMS)*time.Millisecond > sourceLagDegraded:
		return Health{HealthDegraded, fmt.Sprintf("Events reach the hub %s after they happen.", span(time.Duration(hl.LagMS)*time.Millisecond))}
	}
	return Health{HealthHealthy, fmt.Sprintf("Polled every %s; the last success was %s.", span(interval), ago(now, hl.LastSuccessAt))}
}

// sourceRow is one source on the Sources and Integrations pages.
type sourceRow struct {
	Source *hirehook.Source
	Health Health
	// Lag is Health.LagMS as a duration.
	Lag time.Duration
}

// sourcesPage is the data of the Sources page.
type sourcesPage struct {
	Rows   []sourceRow
	Counts map[string]int
	// Read, Emitted and Errors total the sources' counters.
	Read, Emitted, Errors int64
	// Origin is the hub's address as the browser reached it, for the
	// empty state's curl.
	Origin string
}

// sourceRows reads the tenant's sources and rates their health. Secrets are
// dropped at once: no page shows them.
func (h *Handler) sourceRows(ctx context.Context, tenantID string, now time.Time) ([]sourceRow, error) {
	list, err := h.store.SourceList(ctx, hirehook.SourceFilter{TenantID: tenantID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	rows := make([]sourceRow, 0, len(list))
	for _, src := range list {
		src.Secrets, src.Checkpoint = nil, nil
		rows = append(rows, sourceRow{Source: src, Health: sourceHealthOf(src, now), Lag: time.Duration(src.Health.LagMS) * time.Millisecond})
	}
	return rows, nil
}

func (h *Handler) handleSourceList(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	rows, err := h.sourceRows(r.Context(), p.tenantID, h.cfg.NowFunc().UTC())
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := sourcesPage{Rows: rows, Counts: map[string]int{}, Origin: originOf(r)}
	for _, row := range rows {
		page.Counts[string(row.Health.State)]++
		page.Read += row.Source.Health.EventsRead
		page.Emitted += row.Source.Health.EventsEmitted
		page.Errors += row.Source.Health.Errors
	}
	h.render(w, r, http.StatusOK, "sources", "Sources", "sources", page)
}

// originOf is the scheme and host the request came to.
func originOf(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
