package hirehook

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy decides when a failed delivery is tried again.
type RetryPolicy interface {
	// NextDelay returns the wait before attempt number attempts+1, after
	// attempts failed attempts, and false when no attempt is left.
	NextDelay(attempts int) (time.Duration, bool)
	// MaxDelay is the longest single wait; it caps Retry-After hints.
	MaxDelay() time.Duration
}

// DefaultRetrySchedule is the wait after each failed attempt: 5 s, 5 min,
// 30 min, 2 h, 5 h, 10 h, 10 h. With the first attempt that makes 8
// attempts spread over about 27.6 hours, which rides out a receiver's
// deploy, a lunch-time outage and a night-long one.
var DefaultRetrySchedule = []time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// ScheduleRetryPolicy retries after the waits of Schedule, each moved by a
// random jitter of up to ±Jitter (a fraction: 0.2 = ±20%) so that the
// retries of many deliveries that failed together do not arrive together.
type ScheduleRetryPolicy struct {
	Schedule []time.Duration
	Jitter   float64
}

// DefaultRetryPolicy returns the default schedule with ±20% jitter.
func DefaultRetryPolicy() *ScheduleRetryPolicy {
	return &ScheduleRetryPolicy{Schedule: DefaultRetrySchedule, Jitter: 0.2}
}

// NextDelay implements RetryPolicy.
func (p *ScheduleRetryPolicy) NextDelay(attempts int) (time.Duration, bool) {
	if attempts < 1 || attempts > len(p.Schedule) {
		return 0, false
	}
	d := p.Schedule[attempts-1]
	if p.Jitter > 0 {
		d = time.Duration(float64(d) * (1 + p.Jitter*(2*rand.Float64()-1)))
	}
	return d, true
}

// MaxDelay implements RetryPolicy.
func (p *ScheduleRetryPolicy) MaxDelay() time.Duration {
	var m time.Duration
	for _, d := range p.Schedule {
		m = max(m, d)
	}
	return m
}
