package web

import (
	"fmt"
	"time"

	"github.com/hirehook/hirehook"
)

// chart is a bar chart of attempts per bucket, succeeded and failed
// stacked, laid out here in SVG user units so that the template only
// places rectangles: no JavaScript, no image files, crisp at any zoom.
type chart struct {
	Width, Height int
	// PlotLeft, PlotTop, PlotBottom and PlotRight frame the bars.
	PlotLeft, PlotTop, PlotBottom, PlotRight int
	PlotHeight                               int
	Bars                                     []bar
	// Grid holds the horizontal lines with their value labels.
	Grid []gridLine
	// XLabels are the time labels under the bars.
	XLabels []axisLabel
	// AxisX is where the value labels end; LabelY where the time labels sit.
	AxisX, LabelY int
	// CenterX and CenterY place the "no attempts" note.
	CenterX, CenterY int
	// Total and Failed count every attempt in the chart.
	Total, Failed int
	Summary       string
}

type bar struct {
	X, W         int
	OKY, OKH     int
	FailY, FailH int
	Title        string
}

type gridLine struct {
	Y     int
	Label string
}

type axisLabel struct {
	X      int
	Anchor string
	Text   string
}

// Chart geometry, in SVG user units.
const (
	chartBarWidth = 10
	chartBarGap   = 2
	chartLeft     = 40
	chartTop      = 10
	chartPlotH    = 110
	chartBottomH  = 24
)

// newChart sums the endpoints' timelines into n buckets of width from
// since and lays out the bars.
func newChart(stats []*hirehook.DeliveryStats, since time.Time, width time.Duration, n int) chart {
	ok, failed := make([]int, n), make([]int, n)
	c := chart{}
	for _, st := range stats {
		for _, b := range st.Timeline {
			i := int(b.Start.Sub(since) / width)
			if i < 0 || i >= n {
				continue
			}
			ok[i] += b.Succeeded
			failed[i] += b.Failed
			c.Total += b.Succeeded + b.Failed
			c.Failed += b.Failed
		}
	}
	peak := 0
	for i := range n {
		peak = max(peak, ok[i]+failed[i])
	}
	top := niceCeil(peak)
	c.PlotLeft, c.PlotTop = chartLeft, chartTop
	c.PlotBottom, c.PlotHeight = chartTop+chartPlotH, chartPlotH
	c.PlotRight = chartLeft + n*(chartBarWidth+chartBarGap)
	c.Width, c.Height = c.PlotRight+8, c.PlotBottom+chartBottomH
	c.AxisX, c.LabelY = c.PlotLeft-6, c.PlotBottom+16
	c.CenterX, c.CenterY = (c.PlotLeft+c.PlotRight)/2, c.PlotTop+chartPlotH/2
	scale := func(v int) int { return (v*chartPlotH + top/2) / top }
	for i := range n {
		x := chartLeft + i*(chartBarWidth+chartBarGap) + chartBarGap/2
		okH, failH := scale(ok[i]), scale(failed[i])
		if ok[i] > 0 && okH == 0 {
			okH = 1 // a single attempt stays visible next to thousands
		}
		if failed[i] > 0 && failH == 0 {
			failH = 1
		}
		start := since.Add(time.Duration(i) * width).UTC()
		b := bar{X: x, W: chartBarWidth, OKY: c.PlotBottom - okH, OKH: okH, FailY: c.PlotBottom - okH - failH, FailH: failH,
			Title: fmt.Sprintf("%s UTC: %d delivered, %d failed", start.Format("15:04"), ok[i], failed[i])}
		c.Bars = append(c.Bars, b)
	}
	c.Grid = []gridLine{
		{Y: c.PlotTop, Label: fmt.Sprint(top)},
		{Y: c.PlotTop + chartPlotH/2, Label: halfLabel(top)},
		{Y: c.PlotBottom, Label: "0"},
	}
	minutes := int(width*time.Duration(n)) / int(time.Minute)
	c.XLabels = []axisLabel{
		{X: c.PlotLeft, Anchor: "start", Text: fmt.Sprintf("%d min ago", minutes)},
		{X: (c.PlotLeft + c.PlotRight) / 2, Anchor: "middle", Text: fmt.Sprintf("%d min ago", minutes/2)},
		{X: c.PlotRight, Anchor: "end", Text: "now"},
	}
	c.Summary = fmt.Sprintf("Attempts per minute over the last %d minutes: %d in all, %d failed.", minutes, c.Total, c.Failed)
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1), so
// the axis reads in round numbers.
func niceCeil(v int) int {
	if v <= 1 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
	}
}

// halfLabel labels the middle line; attempts are whole, so an odd top
// leaves it unlabelled rather than show "2.5".
func halfLabel(top int) string {
	if top%2 == 0 {
		return fmt.Sprint(top / 2)
	}
	return ""
}

// newLatencyChart lays out an endpoint's latency per bucket: for each of
// the n buckets of width from since, a pale bar up to its p99 with a dark
// one up to its p50 (the same stacked bars as newChart: p50 below, the
// p99 - p50 spread above). Latency is the successful attempts' (see
// hirehook.AttemptBucket): a bucket without a success stays empty, and
// says how many attempts failed in it; Total counts the successes.
func newLatencyChart(st *hirehook.DeliveryStats, since time.Time, width time.Duration, n int) chart {
	p50, p99 := make([]time.Duration, n), make([]time.Duration, n)
	counts, failed := make([]int, n), make([]int, n)
	c := chart{}
	var peak time.Duration
	for _, b := range st.Timeline {
		i := int(b.Start.Sub(since) / width)
		if i < 0 || i >= n {
			continue
		}
		p50[i], p99[i] = b.LatencyP50, b.LatencyP99
		counts[i], failed[i] = b.Succeeded, b.Failed
		c.Total += counts[i]
		c.Failed += b.Failed
		peak = max(peak, b.LatencyP99)
	}
	// The axis counts whole milliseconds, or microseconds when every
	// answer took under one.
	unit := time.Millisecond
	if peak < time.Millisecond {
		unit = time.Microsecond
	}
	top := niceCeil(int((peak + unit - 1) / unit))
	c.PlotLeft, c.PlotTop = chartLeft, chartTop
	c.PlotBottom, c.PlotHeight = chartTop+chartPlotH, chartPlotH
	// Fewer, wider bars than the attempts chart, so that both charts are
	// as wide and their labels the same size on the page.
	barW, gap := chartBarWidth, chartBarGap
	if n > 0 && n < 60 {
		step := 60 * (chartBarWidth + chartBarGap) / n
		gap = max(step/5, chartBarGap)
		barW = step - gap
	}
	c.PlotRight = chartLeft + n*(barW+gap)
	c.Width, c.Height = c.PlotRight+8, c.PlotBottom+chartBottomH
	c.AxisX, c.LabelY = c.PlotLeft-6, c.PlotBottom+16
	c.CenterX, c.CenterY = (c.PlotLeft+c.PlotRight)/2, c.PlotTop+chartPlotH/2
	scale := func(d time.Duration) int {
		h := int((int64(d)*chartPlotH + int64(top)*int64(unit)/2) / (int64(top) * int64(unit)))
		if d > 0 && h == 0 {
			h = 1 // a fast bucket stays visible next to a slow one
		}
		return h
	}
	for i := range n {
		x := chartLeft + i*(barW+gap) + gap/2
		start := since.Add(time.Duration(i) * width).UTC()
		b := bar{X: x, W: barW, Title: fmt.Sprintf("%s UTC: no attempts", start.Format("15:04"))}
		if counts[i] == 0 && failed[i] > 0 {
			b.Title = fmt.Sprintf("%s UTC: no successful attempt, %d failed", start.Format("15:04"), failed[i])
		}
		if counts[i] > 0 {
			lo, hi := scale(p50[i]), scale(p99[i])
			b.OKY, b.OKH = c.PlotBottom-lo, lo
			b.FailY, b.FailH = c.PlotBottom-hi, hi-lo
			b.Title = fmt.Sprintf("%s UTC: p50 %s, p99 %s over %s", start.Format("15:04"),
				formatDuration(p50[i]), formatDuration(p99[i]), countNoun(counts[i], "successful attempt", "successful attempts"))
			if failed[i] > 0 {
				b.Title += fmt.Sprintf(" (%d failed, not counted)", failed[i])
			}
		}
		c.Bars = append(c.Bars, b)
	}
	label := func(v int) string {
		if v == 0 {
			return "0"
		}
		return formatDuration(time.Duration(v) * unit)
	}
	c.Grid = []gridLine{
		{Y: c.PlotTop, Label: label(top)},
		{Y: c.PlotTop + chartPlotH/2, Label: ""},
		{Y: c.PlotBottom, Label: "0"},
	}
	if top%2 == 0 {
		c.Grid[1].Label = label(top / 2)
	}
	hours := int(width*time.Duration(n)) / int(time.Hour)
	c.XLabels = []axisLabel{
		{X: c.PlotLeft, Anchor: "start", Text: fmt.Sprintf("%d h ago", hours)},
		{X: (c.PlotLeft + c.PlotRight) / 2, Anchor: "middle", Text: fmt.Sprintf("%d h ago", hours/2)},
		{X: c.PlotRight, Anchor: "end", Text: "now"},
	}
	c.Summary = fmt.Sprintf("Latency per hour over the last %d hours, p50 and p99, from %s.", hours, countNoun(c.Total, "successful attempt", "successful attempts"))
	return c
}
