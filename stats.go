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
	// LatencyP50 and LatencyP99 are nearest-rank percentiles of the
	// durations of those attempts that succeeded (the smallest duration d
	// such that at least 50%, or 99%, of them took d or less); zero when
	// none succeeded. Failed attempts are left out: a refused connection
	// fails in microseconds, and a dead endpoint would look fast.
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
// and gives their latency: nearest-rank percentiles of the durations of
// those that succeeded (zero when none did), as DeliveryStats.LatencyP50
// and LatencyP99 are for the whole window.
type AttemptBucket struct {
	Start      time.Time
	Succeeded  int
	Failed     int
	LatencyP50 time.Duration
	LatencyP99 time.Duration
}

// EndpointPause is a down endpoint's pause as one hub node's dispatcher
// holds it (package delivery, breaker.go): after attempts of several
// different deliveries in a row found the endpoint down, the node stops
// sending to it, its deliveries wait in the store, and one probe goes when
// the pause is over; a probe that fails doubles the pause (up to a cap),
// one that succeeds sends everything again at once.
//
// The pause is kept in the memory of the node, not in the store: each node
// sharing a PostgreSQL store pauses and probes an endpoint on its own, and
// a restart forgets it (the next failures pause it again). What every node
// agrees on is in the store: each waiting delivery's next attempt, which a
// pause holds no later than the next probe, and Endpoint.FailingSince.
type EndpointPause struct {
	// Node names the node whose pause this is; Nodes is how many live
	// nodes share the store as that node last heard (1 on SQLite).
	Node  string
	Nodes int
	// Since is when the node paused the endpoint.
	Since time.Time
	// FailedInARow counts the different deliveries whose attempts in a
	// row found the endpoint down; Found says what the latest of them
	// found, in words: "answered 503", "timed out", "could not connect".
	FailedInARow int
	Found        string
	// Pause is the current pause; NextProbeAt is when the probe goes,
	// or went: while Probing, the probe is in flight.
	Pause       time.Duration
	NextProbeAt time.Time
	Probing     bool
}

// EndpointPauses reads the pauses of down endpoints, read-only: the
// dashboard's view of a node's dispatcher.
type EndpointPauses interface {
	// EndpointPause returns the pause of endpointID on this node, and
	// false when the node is sending to it.
	EndpointPause(endpointID string) (EndpointPause, bool)
	// DisableFailingAfter is how long an endpoint may fail every attempt
	// (from its FailingSince) before the hub disables it; zero: never.
	DisableFailingAfter() time.Duration
}
