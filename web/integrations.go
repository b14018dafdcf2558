package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
)

// HealthState is an endpoint's health on the Integrations page.
type HealthState string

// Health states, from best to worst; disabled stands apart.
const (
	HealthHealthy  HealthState = "healthy"
	HealthDegraded HealthState = "degraded"
	HealthFailing  HealthState = "failing"
	HealthDisabled HealthState = "disabled"
)

// Health thresholds. The window is the last hour of attempts, and the
// backlog is every delivery not yet finished. The rules, first match wins:
//
//   - disabled: the endpoint is disabled (by an operator, or by the hub
//     after a 410 Gone).
//   - failing: fewer than half of at least 3 attempts succeeded, or the
//     oldest unfinished delivery is an hour old. Either means receivers
//     are missing events now: with the default schedule a delivery an
//     hour old has failed at least three times (5 s, 5 min, 30 min).
//   - degraded: under 95% of the attempts succeeded (one failure in a
//     quiet hour is enough), or a delivery has waited 5 minutes (it has
//     failed at least once and waits for its second retry), or the p99
//     latency is over 5 s (a third of the default 15 s attempt timeout:
//     the receiver is close to timing out).
//   - healthy: otherwise, including an endpoint with no traffic.
const (
	healthWindow        = time.Hour
	dayWindow           = 24 * time.Hour
	failingMinAttempts  = 3
	failingSuccessRate  = 0.50
	failingBacklogAge   = time.Hour
	degradedSuccessRate = 0.95
	degradedBacklogAge  = 5 * time.Minute
	degradedLatencyP99  = 5 * time.Second
)

// Health is an endpoint's state and the one-line reason for it.
type Health struct {
	State  HealthState
	Reason string
}

// healthOf applies the thresholds above.
func healthOf(ep *hirehook.Endpoint, st *hirehook.DeliveryStats, now time.Time) Health {
	if ep.Disabled {
		if ep.DisabledReason != "" {
			return Health{HealthDisabled, "Disabled by the hub: " + ep.DisabledReason + "."}
		}
		return Health{HealthDisabled, "Disabled by an operator."}
	}
	var oldest time.Duration
	if st.OldestUnfinishedAt != nil {
		oldest = now.Sub(*st.OldestUnfinishedAt)
	}
	failed := st.Attempts - st.Succeeded
	rate := 1.0
	if st.Attempts > 0 {
		rate = float64(st.Succeeded) / float64(st.Attempts)
	}
	switch {
	case st.Attempts >= failingMinAttempts && rate < failingSuccessRate:
		return Health{HealthFailing, fmt.Sprintf("%d of %d attempts failed in the last hour.", failed, st.Attempts)}
	case oldest >= failingBacklogAge:
		return Health{HealthFailing, fmt.Sprintf("The oldest waiting delivery is %s old.", span(oldest))}
	case st.Attempts > 0 && rate < degradedSuccessRate:
		return Health{HealthDegraded, fmt.Sprintf("%d of %d attempts failed in the last hour.", failed, st.Attempts)}
	case oldest >= degradedBacklogAge:
		return Health{HealthDegraded, fmt.Sprintf("A delivery has been waiting %s.", span(oldest))}
	case st.LatencyP99 > degradedLatencyP99:
		return Health{HealthDegraded, fmt.Sprintf("Slow answers: p99 latency %s.", formatDuration(st.LatencyP99))}
	case st.Attempts == 0 && st.Unfinished() == 0:
		return Health{HealthHealthy, "No deliveries in the last hour."}
	case failed == 0:
		return Health{HealthHealthy, fmt.Sprintf("All %s succeeded in the last hour.", countNoun(st.Attempts, "attempt", "attempts"))}
	}
	return Health{HealthHealthy, fmt.Sprintf("%s of %d attempts succeeded in the last hour.", percent(st.Succeeded, st.Attempts), st.Attempts)}
}

// integrationRow is one endpoint on the Integrations page.
type integrationRow struct {
	Endpoint *hirehook.Endpoint
	// Stats covers the health window (the last hour) and the queue; Day
	// the last 24 hours of attempts.
	Stats       *hirehook.DeliveryStats
	Day         *hirehook.DeliveryStats
	Health      Health
	LastSuccess *time.Time
	// Pause is this node's pause of the endpoint, if the endpoint is
	// down and paused (see hirehook.EndpointPause).
	Pause *hirehook.EndpointPause
}

// integrationsPage is the data of the Integrations page.
type integrationsPage struct {
	Rows   []integrationRow
	Chart  chart
	Counts map[string]int
	// Attempts and Succeeded total the window over every endpoint;
	// DayAttempts and DaySucceeded the last 24 hours.
	Attempts, Succeeded, Backlog int
	DayAttempts, DaySucceeded    int
	// Sources are the tenant's inbound sources, with their health.
	Sources []sourceRow
}

// endpointStats reads the tenant's endpoints and their figures over the
// health window, with the timeline in one-minute buckets.
func (h *Handler) endpointStats(ctx context.Context, tenantID string, now time.Time) ([]*hirehook.Endpoint, map[string]*hirehook.DeliveryStats, time.Time, error) {
	eps, err := h.store.EndpointList(ctx, hirehook.EndpointFilter{TenantID: tenantID, Limit: 1000})
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	// Sixty one-minute buckets, the last one the minute now is in.
	since := now.UTC().Truncate(time.Minute).Add(-healthWindow + time.Minute)
	list, err := h.store.DeliveryStats(ctx, hirehook.DeliveryStatsParams{TenantID: tenantID, Since: since, Bucket: time.Minute})
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	stats := map[string]*hirehook.DeliveryStats{}
	for _, st := range list {
		stats[st.EndpointID] = st
	}
	for _, ep := range eps {
		if stats[ep.ID] == nil { // created between the two reads
			stats[ep.ID] = &hirehook.DeliveryStats{TenantID: tenantID, EndpointID: ep.ID}
		}
	}
	return eps, stats, since, nil
}

// daySince starts the day window: 24 hourly buckets, the last one the hour
// now is in.
func daySince(now time.Time) time.Time {
	return now.UTC().Truncate(time.Hour).Add(-dayWindow + time.Hour)
}

// dayStats reads the tenant's attempt figures over the day window, in one
// stats query: with a timeline in buckets of bucket, or none if it is zero.
// The queue figures come again with them (they are cheap: the backlog's
// partial indexes), but callers use those of endpointStats.
func (h *Handler) dayStats(ctx context.Context, tenantID string, now time.Time, bucket time.Duration) (map[string]*hirehook.DeliveryStats, error) {
	list, err := h.store.DeliveryStats(ctx, hirehook.DeliveryStatsParams{TenantID: tenantID, Since: daySince(now), Bucket: bucket})
	if err != nil {
		return nil, err
	}
	stats := map[string]*hirehook.DeliveryStats{}
	for _, st := range list {
		stats[st.EndpointID] = st
	}
	return stats, nil
}

// lastSuccess is the latest success in the windows (the hour, then the
// day), or else the last delivery the endpoint got, whenever that was.
func (h *Handler) lastSuccess(ctx context.Context, tenantID string, st, day *hirehook.DeliveryStats) (*time.Time, error) {
	if st.LastSuccessAt != nil {
		return st.LastSuccessAt, nil
	}
	if day != nil && day.LastSuccessAt != nil {
		return day.LastSuccessAt, nil
	}
	delivered := hirehook.DeliveryDelivered
	ds, err := h.store.DeliveryList(ctx, hirehook.DeliveryFilter{TenantID: tenantID, EndpointID: &st.EndpointID, State: &delivered, Limit: 1})
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds[0].LastAttemptAt, nil
}

func (h *Handler) handleIntegrations(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	now := h.cfg.NowFunc().UTC()
	eps, stats, since, err := h.endpointStats(r.Context(), p.tenantID, now)
	if err != nil {
		h.error(w, r, err)
		return
	}
	day, err := h.dayStats(r.Context(), p.tenantID, now, 0)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := integrationsPage{Counts: map[string]int{}}
	var all []*hirehook.DeliveryStats
	for _, ep := range eps {
		st := stats[ep.ID]
		ds := day[ep.ID]
		if ds == nil { // created between the reads
			ds = &hirehook.DeliveryStats{TenantID: p.tenantID, EndpointID: ep.ID}
		}
		last, err := h.lastSuccess(r.Context(), p.tenantID, st, ds)
		if err != nil {
			h.error(w, r, err)
			return
		}
		row := integrationRow{Endpoint: ep, Stats: st, Day: ds, Health: healthOf(ep, st, now), LastSuccess: last}
		row.Pause = h.pauseOf(ep.ID)
		page.Rows = append(page.Rows, row)
		page.Counts[string(row.Health.State)]++
		page.Attempts += st.Attempts
		page.Succeeded += st.Succeeded
		page.Backlog += st.Unfinished()
		page.DayAttempts += ds.Attempts
		page.DaySucceeded += ds.Succeeded
		all = append(all, st)
	}
	page.Chart = newChart(all, since, time.Minute, 60)
	if page.Sources, err = h.sourceRows(r.Context(), p.tenantID, originOf(r), now); err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "integrations", "Integrations", "integrations", page)
}
