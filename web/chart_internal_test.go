package web

import (
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

func TestNewLatencyChart(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)
	st := &hirehook.DeliveryStats{Timeline: []hirehook.AttemptBucket{
		{Start: since, Succeeded: 3, LatencyP50: 40 * time.Millisecond, LatencyP99: 400 * time.Millisecond},
		{Start: since.Add(23 * time.Hour), Succeeded: 1, Failed: 1, LatencyP50: 100 * time.Millisecond, LatencyP99: 100 * time.Millisecond},
		{Start: since.Add(2 * time.Hour), Failed: 5},                        // a dead hour: no success, no latency
		{Start: since.Add(-time.Hour), Succeeded: 9, LatencyP99: time.Hour}, // outside: ignored
	}}
	c := newLatencyChart(st, since, time.Hour, 24)
	if len(c.Bars) != 24 || c.Total != 4 || c.Failed != 6 {
		t.Fatalf("bars %d, total %d, failed %d; want 24, 4 successes, 6 failed", len(c.Bars), c.Total, c.Failed)
	}
	if c.Grid[0].Label != "500 ms" || c.Grid[2].Label != "0" {
		t.Fatalf("axis = %+v, want 500 ms at the top", c.Grid)
	}
	// p50 40 ms of 500 is 9 units of 110; p99 400 ms is 88.
	if b := c.Bars[0]; b.OKH != 9 || b.OKH+b.FailH != 88 || b.OKY != c.PlotBottom-9 || b.FailY != c.PlotBottom-88 {
		t.Fatalf("first bar = %+v", b)
	}
	if b := c.Bars[1]; b.OKH != 0 || b.FailH != 0 || !strings.Contains(b.Title, "no attempts") {
		t.Fatalf("an empty hour = %+v", b)
	}
	if b := c.Bars[23]; b.FailH != 0 || b.OKH != 22 || !strings.Contains(b.Title, "p50 100 ms, p99 100 ms over 1 successful attempt (1 failed, not counted)") {
		t.Fatalf("last bar = %+v", b)
	}
	if b := c.Bars[2]; b.OKH != 0 || b.FailH != 0 || !strings.Contains(b.Title, "no successful attempt, 5 failed") {
		t.Fatalf("an hour of failures only = %+v, want no bar and a title saying so", b)
	}
	// As wide as the attempts chart, whatever the number of buckets.
	if wide := newChart(nil, since, time.Minute, 60); c.PlotRight != wide.PlotRight {
		t.Fatalf("plot ends at %d, the attempts chart's at %d", c.PlotRight, wide.PlotRight)
	}

	// Sub-millisecond answers count in microseconds; no attempts, no bars.
	fast := newLatencyChart(&hirehook.DeliveryStats{Timeline: []hirehook.AttemptBucket{{Start: since, Succeeded: 1, LatencyP50: 300 * time.Microsecond, LatencyP99: 700 * time.Microsecond}}}, since, time.Hour, 24)
	if fast.Grid[0].Label != "1 ms" {
		t.Fatalf("fast axis top = %q, want 1 ms (1000 µs)", fast.Grid[0].Label)
	}
	empty := newLatencyChart(&hirehook.DeliveryStats{}, since, time.Hour, 24)
	if empty.Total != 0 || empty.Grid[0].Label == "" {
		t.Fatalf("empty chart = %+v", empty)
	}
}
