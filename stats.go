package hirehook

import "time"

// DeliveryStatsParams are the arguments of Store.DeliveryStats.
type DeliveryStatsParams struct {
	// TenantID limits the figures to one tenant's endpoints. Empty covers
	// every tenant; then only the queue figures are computed and Since and
	// Bucket must be zero.
	TenantID string
	// Since starts the window of the attempt figures (Attempts, Succeeded,
	// the latencies, LastSuccessAt and Timeline): attempts started at or
	// after Since count. The zero time leaves them out, so that a caller
	// that needs only the queue (the metrics collector) pays only for it.
	Since time.Time
	// Bucket is the width of the Timeline's buckets, counted from Since.
	// Zero leaves the timeline out.
	Bucket time.Duration
}

// DeliveryStats are one endpoint's queue and recent-attempt figures: what
// the dashboard shows as its health and what /metrics exports as the queue.
type DeliveryStats struct {
	TenantID   string
	EndpointID string

	// Pending, Retrying, Delivering and Paused count the endpoint's
	// unfinished deliveries by state (Delivering includes deliveries handed
	// to a worker's lane and not yet attempted; Paused, those waiting for
	// the disabled endpoint to be enabled).
	Pending    int
	Retrying   int
	Delivering int
	Paused     int
	// OldestUnfinishedAt is when the oldest of those deliveries was
	// created; nil when there is none.
	OldestUnfinishedAt *time.Time

	// Attempts counts the attempts started at or after Since; Succeeded
	// those answered with a 2xx status.
	Attempts  int
	Succeeded int
	// LatencyP50 and LatencyP99 are nearest-rank percentiles of those
	// attempts' durations (the smallest duration d such that at least 50%,
	// or 99%, of the attempts took d or less); zero without attempts.
	LatencyP50 time.Duration
	LatencyP99 time.Duration
	// LastSuccessAt is when the latest of those attempts that succeeded
	// started; nil when none did.
	LastSuccessAt *time.Time
	// Timeline counts those attempts per Bucket, oldest first; only
	// buckets with at least one attempt are listed.
	Timeline []AttemptBucket
}

// Unfinished returns the number of deliveries the endpoint still owes:
// pending, retrying, delivering and paused.
func (s *DeliveryStats) Unfinished() int { return s.Pending + s.Retrying + s.Delivering + s.Paused }

// AttemptBucket counts the attempts that started in [Start, Start+Bucket)
// and gives their latency: nearest-rank percentiles of their durations,
// as DeliveryStats.LatencyP50 and LatencyP99 are for the whole window.
type AttemptBucket struct {
	Start      time.Time
	Succeeded  int
	Failed     int
	LatencyP50 time.Duration
	LatencyP99 time.Duration
}
