package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/hub"
)

// benchCounter counts distinct receipts in a bitset indexed by slot (the
// number in a "bench-<mode>-<n>" event id, times the endpoint count plus
// the endpoint number in the fanout mode). A bitset rather than a map of
// ids: the backlog mode reports the RSS of this process, which holds the
// receiver too, and a million ids in a map would be most of it.
type benchCounter struct {
	mu       sync.Mutex
	bits     []uint64
	received atomic.Int64
	dupes    atomic.Int64
	unknown  atomic.Int64 // receipts whose id or path did not parse
	first    atomic.Int64 // unix nanos of the first receipt
	last     atomic.Int64 // unix nanos of the latest receipt
}

func newBenchCounter(slots int) *benchCounter {
	return &benchCounter{bits: make([]uint64, (slots+63)/64)}
}

// mark records a receipt of slot at now.
func (c *benchCounter) mark(slot int, now time.Time) {
	if slot < 0 || slot >= len(c.bits)*64 {
		c.unknown.Add(1)
		return
	}
	c.mu.Lock()
	dup := c.bits[slot/64]&(1<<(slot%64)) != 0
	c.bits[slot/64] |= 1 << (slot % 64)
	c.mu.Unlock()
	if dup {
		c.dupes.Add(1)
		return
	}
	c.first.CompareAndSwap(0, now.UnixNano())
	c.received.Add(1)
	c.last.Store(now.UnixNano())
}

// benchSlot returns the number at the end of a "bench-<mode>-<n>" id, or -1.
func benchSlot(id string) int {
	i := strings.LastIndexByte(id, '-')
	n, err := strconv.Atoi(id[i+1:])
	if i < 0 || err != nil {
		return -1
	}
	return n
}

// fanoutReceiver is the fanout mode's receiver: one server, one path per
// endpoint (/ep/<n>), each receipt counted once per (endpoint, event).
type fanoutReceiver struct {
	events int
	c      *benchCounter
}

func (f *fanoutReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	now := time.Now()
	ep, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/ep/"))
	ev := benchSlot(r.Header.Get("webhook-id"))
	if err != nil || ev < 0 || ev >= f.events {
		f.c.unknown.Add(1)
	} else {
		f.c.mark(ep*f.events+ev, now)
	}
	w.WriteHeader(http.StatusNoContent)
}

// benchFanout is `hirehook bench --mode fanout`: one event type subscribed
// by bc.Endpoints endpoints, bc.Events events, every event delivered to
// every endpoint.
func benchFanout(ctx context.Context, bc benchConfig, stdout, stderr io.Writer) error {
	env, cleanup, err := benchSetup(ctx, bc, stderr, nil)
	if err != nil {
		return err
	}
	defer cleanup()
	total := bc.Events * bc.Endpoints
	rc := &fanoutReceiver{events: bc.Events, c: newBenchCounter(total)}
	rbase, rstop, err := startBenchServer(rc)
	if err != nil {
		return err
	}
	defer rstop()
	for i := range bc.Endpoints {
		body, _ := json.Marshal(map[string]any{"url": fmt.Sprintf("%s/ep/%d", rbase, i), "event_types": []string{"placement.confirmed"}, "max_concurrency": bc.EndpointConcurrency})
		if st, b, err := env.p.post("/v1/endpoints", body); err != nil || st != 201 {
			return fmt.Errorf("create bench endpoint %d: status %d %s %v", i, st, b, err)
		}
	}
	fmt.Fprintf(stdout, "fanout: %d events × %d endpoints = %d deliveries (one receiver on loopback, a path per endpoint), %d producer connections, %d event(s) per request\n",
		bc.Events, bc.Endpoints, total, bc.Concurrency, bc.Batch)

	cpu := startCPUSpan(env)
	start := time.Now()
	accepted, failed, ingestDur := env.p.run("fanout", bc.Events, 0, func(string, time.Time) {})
	want := int64(accepted * bc.Endpoints)
	deadline := time.Now().Add(5 * time.Minute)
	for rc.c.received.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	got := rc.c.received.Load()
	deliverDur := time.Duration(rc.c.last.Load() - start.UnixNano())
	deliverRate := float64(got) / deliverDur.Seconds()
	cpuOut := &bytes.Buffer{}
	cpu.report(cpuOut, got, "delivery")
	fmt.Fprintf(stdout, "  ingested:  %7d events in %7.3fs = %8.0f events/s (%d requests failed)\n",
		accepted, ingestDur.Seconds(), float64(accepted)/ingestDur.Seconds(), failed)
	fmt.Fprintf(stdout, "  delivered: %7d deliveries in %7.3fs from the first POST to the last receipt = %8.0f deliveries/s (%d duplicates)\n",
		got, deliverDur.Seconds(), deliverRate, rc.c.dupes.Load())
	_, _ = cpuOut.WriteTo(stdout)
	if got < want {
		return fmt.Errorf("bench: only %d of %d deliveries arrived", got, want)
	}

	n, d, err := benchRawBaseline(ctx, bc, min(total, 200000), func(i int) string { return fmt.Sprintf("/ep/%d", i%bc.Endpoints) },
		func() http.Handler { return &fanoutReceiver{events: bc.Events, c: newBenchCounter(total)} })
	if err != nil {
		return err
	}
	rate := float64(n) / d.Seconds()
	fmt.Fprintf(stdout, "  baseline:  %7d webhooks posted straight to the same receiver (no hub, %d connections) in %7.3fs = %8.0f/s; hirehook delivered at %.2f× of it\n",
		n, bc.Concurrency, d.Seconds(), rate, deliverRate/rate)
	return nil
}

// benchRawBaseline posts n webhook-sized bodies, from bc.Concurrency
// connections, straight to a fresh receiver made by newHandler, at the
// path pathOf(i): the rate loopback HTTP allows that receiver on this
// machine with no hub in between. It returns the requests answered 2xx and
// the time they took.
func benchRawBaseline(ctx context.Context, bc benchConfig, n int, pathOf func(i int) string, newHandler func() http.Handler) (int, time.Duration, error) {
	base, stop, err := startBenchServer(newHandler())
	if err != nil {
		return 0, 0, err
	}
	defer stop()
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: bc.Concurrency, MaxIdleConns: bc.Concurrency},
		Timeout:   60 * time.Second,
	}
	defer client.CloseIdleConnections()
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range bc.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				id := fmt.Sprintf("bench-baseline-%d", i)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+pathOf(i), bytes.NewReader(benchEvent(id)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("webhook-id", id)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(ok.Load()), time.Since(start), ctx.Err()
}

// backlogReceiver answers 503 (Retry-After: 1) while down and counts
// receipts while up.
type backlogReceiver struct {
	up      atomic.Bool
	refused atomic.Int64
	c       *benchCounter
}

func (b *backlogReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if !b.up.Load() {
		b.refused.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	b.c.mark(benchSlot(r.Header.Get("webhook-id")), time.Now())
	w.WriteHeader(http.StatusNoContent)
}

// rssSampler reads this process's resident set size from /proc/self/status
// every interval and keeps the largest.
type rssSampler struct {
	peak atomic.Int64 // kB
	stop chan struct{}
	done chan struct{}
}

func startRSSSampler(every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if kb := procStatusKB("VmRSS"); kb > s.peak.Load() {
				s.peak.Store(kb)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// reset starts a new peak from now.
func (s *rssSampler) reset() { s.peak.Store(procStatusKB("VmRSS")) }

func (s *rssSampler) Stop() {
	close(s.stop)
	<-s.done
}

// procStatusKB returns a "kB" field of /proc/self/status (VmRSS, VmHWM),
// or 0 where there is none (not Linux).
func procStatusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if ok && name == field {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

// benchBacklogRetry is the retry schedule of the backlog mode: a wait of 1 s
// after every failed attempt, 50 times. With the default schedule (5 s,
// 5 min, 30 min, 2 h, ...) deliveries that failed a few times wait hours
// for their next attempt, so a drain measured right after the endpoint
// comes back would measure the schedule, not the hub. 50 attempts keep
// every delivery alive through the backlog: the dispatcher attempts the
// whole backlog over and over, bounded by its own speed, as it would for a
// dead endpoint whose deliveries are all due.
var benchBacklogRetry = slices.Repeat([]time.Duration{time.Second}, 50)

// backlogPhases ingests bc.Backlog events in three phases: a probe into the
// empty hub, the fill, and the same probe again once the rest is in. It
// returns the probes' rates and the events accepted.
func backlogPhases(ctx context.Context, bc benchConfig, env *benchEnv, what string, stdout io.Writer) (empty, full float64, accepted int, err error) {
	probe := min(50000, max(bc.Backlog/10, 1))
	fill := bc.Backlog - 2*probe
	phase := func(name string, n int) (float64, error) {
		env.p.idOffset = accepted
		a, failed, d := env.p.run("backlog", n, 0, func(string, time.Time) {})
		accepted += a
		rate := float64(a) / d.Seconds()
		fmt.Fprintf(stdout, "  ingest %-28s %8d events in %7.3fs = %8.0f events/s (%d requests failed; RSS now %.0f MB)\n",
			name+":", a, d.Seconds(), rate, failed, mb(procStatusKB("VmRSS")))
		if failed > 0 {
			return rate, fmt.Errorf("bench: %d ingest requests failed", failed)
		}
		return rate, ctx.Err()
	}
	if empty, err = phase("into the empty hub", probe); err != nil {
		return
	}
	if fill > 0 {
		if _, err = phase("fill", fill); err != nil {
			return
		}
	}
	full, err = phase(fmt.Sprintf("with %d %s", accepted, what), probe)
	return
}

// benchBacklogControl is `--mode backlog --endpoint-up`: the same events to
// an endpoint that answers throughout, so that the ingest probes compare the
// same table sizes with no backlog.
func benchBacklogControl(ctx context.Context, bc benchConfig, env *benchEnv, rc *backlogReceiver, stdout io.Writer) error {
	fmt.Fprintf(stdout, "backlog control: %d events to an endpoint answering 204 throughout, %d producer connections, %d event(s) per request\n",
		bc.Backlog, bc.Concurrency, bc.Batch)
	empty, full, accepted, err := backlogPhases(ctx, bc, env, "stored", stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  with the events stored and no backlog: ingest ran at %.2f× its empty-hub rate\n", full/empty)
	deadline := time.Now().Add(5 * time.Minute)
	for rc.c.received.Load() < int64(accepted) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(stdout, "  delivered: %d of %d (%d duplicates)\n", rc.c.received.Load(), accepted, rc.c.dupes.Load())
	if rc.c.received.Load() < int64(accepted) {
		return fmt.Errorf("bench: only %d of %d deliveries arrived", rc.c.received.Load(), accepted)
	}
	return ctx.Err()
}

// benchBacklog is `hirehook bench --mode backlog`: bc.Backlog deliveries
// to an endpoint that answers 503, then the endpoint comes back.
func benchBacklog(ctx context.Context, bc benchConfig, stdout, stderr io.Writer) error {
	bc.quietHub = true
	rss := startRSSSampler(100 * time.Millisecond)
	defer rss.Stop()
	env, cleanup, err := benchSetup(ctx, bc, stderr, func(c *hub.Config) { c.RetrySchedule = benchBacklogRetry })
	if err != nil {
		return err
	}
	defer cleanup()
	rc := &backlogReceiver{c: newBenchCounter(bc.Backlog)}
	rc.up.Store(bc.EndpointUp)
	rbase, rstop, err := startBenchServer(rc)
	if err != nil {
		return err
	}
	defer rstop()
	epBody, _ := json.Marshal(map[string]any{"url": rbase + "/hooks", "event_types": []string{"placement.*"}, "max_concurrency": bc.EndpointConcurrency})
	if st, b, err := env.p.post("/v1/endpoints", epBody); err != nil || st != 201 {
		return fmt.Errorf("create bench endpoint: status %d %s %v", st, b, err)
	}

	// Three phases of ingest (backlogPhases): the ratio of the probes'
	// rates is what the backlog costs ingest.
	if bc.EndpointUp {
		return benchBacklogControl(ctx, bc, env, rc, stdout)
	}
	fmt.Fprintf(stdout, "backlog: %d deliveries to an endpoint answering 503 (Retry-After: 1), %d producer connections, %d event(s) per request\n",
		bc.Backlog, bc.Concurrency, bc.Batch)
	fmt.Fprintf(stdout, "  retry schedule for this run: 1s × %d (the default's hours-long waits would make the drain wait for the schedule); once attempts find the endpoint down the hub pauses its deliveries and probes it, at most 30 s apart; hub logs are formatted but discarded\n",
		len(benchBacklogRetry))
	rss.reset()
	baseRSS := procStatusKB("VmRSS")
	empty, full, accepted, err := backlogPhases(ctx, bc, env, "pending", stdout)
	if err != nil {
		return err
	}
	var unfinished int
	stats, err := env.hub.Store.DeliveryStats(ctx, hirehook.DeliveryStatsParams{})
	if err != nil {
		return err
	}
	for _, s := range stats {
		unfinished += s.Unfinished()
	}
	backlogPeak, hwm := rss.peak.Load(), procStatusKB("VmHWM")
	fmt.Fprintf(stdout, "  with the backlog: %d deliveries unfinished, %d attempts answered 503 so far; ingest ran at %.2f× its empty-hub rate\n",
		unfinished, rc.refused.Load(), full/empty)
	fmt.Fprintf(stdout, "  RSS of this process (hub, producer and receiver), sampled every 100ms: %.0f MB at start, peak %.0f MB during the backlog (VmHWM %.0f MB)\n",
		mb(baseRSS), mb(backlogPeak), mb(hwm))

	// The endpoint comes back.
	rss.reset()
	up := time.Now()
	rc.up.Store(true)
	// Wait for every delivery, or until none arrives for a minute (one
	// that failed for good never will).
	lastN, lastProgress := int64(-1), time.Now()
	for n := rc.c.received.Load(); n < int64(accepted) && time.Since(lastProgress) < time.Minute && ctx.Err() == nil; n = rc.c.received.Load() {
		if n != lastN {
			lastN, lastProgress = n, time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := rc.c.received.Load()
	// The first receipt is the probe that found the endpoint back; the
	// drain runs from it to the last.
	found := time.Duration(rc.c.first.Load() - up.UnixNano())
	drain := time.Duration(rc.c.last.Load() - rc.c.first.Load())
	drainRate := float64(got) / drain.Seconds()
	fmt.Fprintf(stdout, "  drain: the first delivery arrived %.1fs after the endpoint's return (the probe that found it back); %d deliveries in %7.3fs from it to the last receipt = %8.0f deliveries/s (%d duplicates); peak RSS while draining %.0f MB\n",
		found.Seconds(), got, drain.Seconds(), drainRate, rc.c.dupes.Load(), mb(rss.peak.Load()))
	if got < int64(accepted) {
		return fmt.Errorf("bench: only %d of %d backlogged deliveries arrived", got, accepted)
	}
	n, d, err := benchRawBaseline(ctx, bc, min(accepted, 200000), func(int) string { return "/hooks" }, func() http.Handler {
		b := &backlogReceiver{c: newBenchCounter(accepted)}
		b.up.Store(true)
		return b
	})
	if err != nil {
		return err
	}
	rate := float64(n) / d.Seconds()
	fmt.Fprintf(stdout, "  baseline: %d webhooks posted straight to the same receiver (no hub, %d connections) in %7.3fs = %8.0f/s; the drain ran at %.2f× of it\n",
		n, bc.Concurrency, d.Seconds(), rate, drainRate/rate)
	return nil
}
