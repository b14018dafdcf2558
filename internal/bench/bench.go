// Package bench is `hirehook bench`: it starts hubs, as child processes
// running `hirehook serve` (burst, steady, fanout; their CPU time is read
// from the kernel) or in this process (package hub: backlog and the broker
// modes, or --hub-process=false), and measures ingest and delivery
// throughput, latency and the hub's CPU per event. It is a package of its
// own so that the hub's serve path does not link it.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/internal/cli"
	"github.com/hirehook/hirehook/internal/hub"
	"github.com/hirehook/hirehook/seal"
	"github.com/jackc/pgx/v5"
)

// benchConfig are the flags of `hirehook bench`.
type benchConfig struct {
	Mode                string
	Events              int
	Rate                int
	Duration            time.Duration
	Concurrency         int
	Batch               int
	DB                  string
	CPUProfile          string
	EndpointConcurrency int
	Trace               string
	// Nodes is how many hubs share the PostgreSQL database; the producer
	// spreads its requests round-robin across them.
	Nodes int
	// Endpoints is how many endpoints subscribe to the one event type in
	// the fanout mode.
	Endpoints int
	// Backlog is how many deliveries the backlog mode leaves pending to a
	// dead endpoint.
	Backlog int
	// EndpointUp makes the backlog mode's endpoint answer throughout: a
	// control run that fills the tables without a backlog.
	EndpointUp bool
	// KafkaBrokers, NATSServers and RabbitMQAddress are the brokers of
	// the broker modes; no KafkaBrokers starts a kfake cluster in this
	// process.
	KafkaBrokers    string
	NATSServers     string
	RabbitMQAddress string

	// HubProcess runs each hub (and the bare relay) in a child process,
	// whose CPU time the bench reads from the kernel; the burst, steady
	// and fanout modes only.
	HubProcess bool
	// HubBinary is the hirehook binary whose `serve` runs the hub with
	// HubProcess (default: this one), e.g. an older build to compare.
	HubBinary string

	// quietHub discards the hub's log lines (after formatting them).
	quietHub bool
}

// Run is `hirehook bench`: it starts a hub on a fresh SQLite file and a
// receiver on loopback, sends events over HTTP as producers would, and
// reports ingest and delivery rates and the latency from POST to receipt.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The producers' goroutines and the hubs' loggers all write warnings
	// here at once; a caller's writer (a test's bytes.Buffer) need not be
	// safe for that.
	stderr = &lockedWriter{w: stderr}
	bc := benchConfig{}
	fs := cli.NewFlags("bench", stdout)
	fs.StringVar(&bc.Mode, "mode", "both", "burst, steady, both (burst then steady), fanout, backlog, or a broker kind (kafka, rabbitmq, nats, gcp_pubsub): a burst to one endpoint of that kind against the same messages published straight to the broker")
	fs.IntVar(&bc.Events, "events", 20000, "events in the burst (fanout: default 2000)")
	fs.IntVar(&bc.Endpoints, "endpoints", 100, "fanout: endpoints subscribed to the one event type")
	fs.IntVar(&bc.Backlog, "backlog", 1000000, "backlog: deliveries left pending to the dead endpoint")
	fs.BoolVar(&bc.EndpointUp, "endpoint-up", false, "backlog: a control run whose endpoint answers throughout (the same table sizes, no backlog)")
	fs.IntVar(&bc.Rate, "rate", 1000, "events per second in the steady run")
	fs.DurationVar(&bc.Duration, "duration", 30*time.Second, "length of the steady run")
	fs.IntVar(&bc.Concurrency, "concurrency", 64, "producer connections")
	fs.IntVar(&bc.Batch, "batch", 1, "events per request (1 uses POST /v1/events, more uses /v1/events/batch)")
	fs.StringVar(&bc.DB, "db", "", "SQLite file to use (default: a new temporary file), or a postgres:// server on which each run creates and drops a database of its own")
	fs.IntVar(&bc.EndpointConcurrency, "endpoint-concurrency", hub.DefaultConfig().EndpointConcurrency, "max_concurrency of the bench's endpoints (attempts in flight to each)")
	fs.StringVar(&bc.Trace, "trace", "", "write an execution trace of the whole run to this file (go tool trace)")
	fs.IntVar(&bc.Nodes, "nodes", 1, "hubs in this process sharing the --db postgres:// database, each receiving the producer's requests in turn")
	fs.StringVar(&bc.KafkaBrokers, "kafka-brokers", "", "kafka: seed brokers (host:port, comma-separated) of a Kafka cluster on which the bench creates and deletes its topics (default: an in-process kfake cluster)")
	fs.StringVar(&bc.NATSServers, "nats-servers", "127.0.0.1:4222", "nats: NATS JetStream servers (host:port, comma-separated, no auth) on which the bench creates and deletes its streams")
	fs.StringVar(&bc.RabbitMQAddress, "rabbitmq-address", "127.0.0.1:5672", "rabbitmq: the RabbitMQ broker (host:port, user guest/guest) on which the bench declares and deletes its queues")
	fs.StringVar(&bc.CPUProfile, "cpuprofile", "", "write a CPU profile to this file (go tool pprof): of the hub's process with --hub-process (of the whole serve, start and shutdown included; --mode both writes FILE.burst and FILE.steady, --nodes N FILE.node2 … for the others), else of the whole run")
	fs.BoolVar(&bc.HubProcess, "hub-process", true, "burst, steady, fanout: run the hub (and the bare relay) in a child process, `hirehook serve` on the run's database, and report its CPU time per event, read from the kernel (Linux); false runs it in this process, as the other modes do")
	fs.StringVar(&bc.HubBinary, "hub-binary", "", "with --hub-process: the hirehook binary whose serve runs the hub, e.g. another build to compare under the same producer and receiver (default: this one; the relay always runs from this one)")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if bc.Mode == "fanout" && !set["events"] {
		bc.Events = 2000 // each makes --endpoints deliveries
	}
	if bc.Mode == "backlog" && !set["batch"] {
		bc.Batch = 100 // a million events one by one would take minutes
	}
	if !slices.Contains([]string{"burst", "steady", "both", "fanout"}, bc.Mode) {
		// backlog and the broker modes read the hub's store.
		bc.HubProcess = false
	}
	if bc.HubProcess && bc.HubBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this binary to start the hub: %w", err)
		}
		bc.HubBinary = exe
	}
	if bc.CPUProfile != "" && !bc.HubProcess {
		f, err := os.Create(bc.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if bc.Trace != "" {
		f, err := os.Create(bc.Trace)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	switch {
	case !slices.Contains([]string{"burst", "steady", "both", "fanout", "backlog"}, bc.Mode) && !slices.Contains(brokerModes, bc.Mode):
		return &hub.ConfigError{Field: "mode", Value: bc.Mode, Err: errors.New("must be burst, steady, both, fanout, backlog, kafka, rabbitmq, nats or gcp_pubsub")}
	case bc.Endpoints < 1 || bc.Endpoints > 10000:
		return &hub.ConfigError{Field: "endpoints", Value: fmt.Sprint(bc.Endpoints), Err: errors.New("must be from 1 to 10000")}
	case bc.EndpointConcurrency < 1 || bc.EndpointConcurrency > hirehook.MaxMaxConcurrency:
		return &hub.ConfigError{Field: "endpoint-concurrency", Value: fmt.Sprint(bc.EndpointConcurrency), Err: fmt.Errorf("must be from 1 to %d", hirehook.MaxMaxConcurrency)}
	case bc.Backlog < 10:
		return &hub.ConfigError{Field: "backlog", Value: fmt.Sprint(bc.Backlog), Err: errors.New("must be at least 10")}
	case bc.Events < 1:
		return &hub.ConfigError{Field: "events", Value: fmt.Sprint(bc.Events), Err: errors.New("must be positive")}
	case bc.Rate < 1:
		return &hub.ConfigError{Field: "rate", Value: fmt.Sprint(bc.Rate), Err: errors.New("must be positive")}
	case bc.Concurrency < 1:
		return &hub.ConfigError{Field: "concurrency", Value: fmt.Sprint(bc.Concurrency), Err: errors.New("must be positive")}
	case bc.Nodes < 1 || bc.Nodes > 16:
		return &hub.ConfigError{Field: "nodes", Value: fmt.Sprint(bc.Nodes), Err: errors.New("must be from 1 to 16")}
	case bc.Nodes > 1 && (&hub.Config{DB: bc.DB}).PostgresURL() == "":
		return &hub.ConfigError{Field: "nodes", Value: fmt.Sprint(bc.Nodes), Err: errors.New("more than one node needs --db postgres://…")}
	case bc.Batch < 1 || bc.Batch > 1000:
		return &hub.ConfigError{Field: "batch", Value: fmt.Sprint(bc.Batch), Err: errors.New("must be from 1 to 1000")}
	}
	switch bc.Mode {
	case "fanout":
		return benchFanout(ctx, bc, stdout, stderr)
	case "backlog":
		return benchBacklog(ctx, bc, stdout, stderr)
	}
	if slices.Contains(brokerModes, bc.Mode) {
		return benchBrokerRun(ctx, bc, stdout, stderr)
	}
	for _, mode := range []string{"burst", "steady"} {
		if bc.Mode != mode && bc.Mode != "both" {
			continue
		}
		run := bc
		if bc.Mode == "both" && bc.HubProcess && bc.CPUProfile != "" {
			run.CPUProfile += "." + mode // a hub process each
		}
		if err := benchRun(ctx, run, mode, stdout, stderr); err != nil {
			return err
		}
	}
	return nil
}

// benchReceiver counts webhooks and the latency of each since its POST.
type benchReceiver struct {
	sent      sync.Map // event id → time the producer started its POST
	mu        sync.Mutex
	latencies []time.Duration
	received  atomic.Int64
	dupes     atomic.Int64
	last      atomic.Int64 // unix nanos of the latest receipt
	seen      sync.Map
}

func (b *benchReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	now := time.Now()
	id := r.Header.Get("webhook-id")
	if _, dup := b.seen.LoadOrStore(id, true); dup {
		b.dupes.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if t, ok := b.sent.Load(id); ok {
		b.mu.Lock()
		b.latencies = append(b.latencies, now.Sub(t.(time.Time)))
		b.mu.Unlock()
	}
	b.received.Add(1)
	b.last.Store(now.UnixNano())
	w.WriteHeader(http.StatusNoContent)
}

// benchEnv is one bench run's hub (or hubs) on a fresh database and a
// producer that posts to them with the run's admin key.
type benchEnv struct {
	hub *hub.Hub // the first hub, if in this process
	// procs are the hubs' processes, with --hub-process.
	procs []*child
	key   string
	p     *producer
}

// hubCPU returns the CPU time the hubs' processes have used so far, or an
// error if it cannot be read (not on Linux); errInProcess if the hubs run
// in this process.
func (e *benchEnv) hubCPU() (cpuTime, error) {
	if len(e.procs) == 0 {
		return cpuTime{}, errInProcess
	}
	var sum cpuTime
	for _, c := range e.procs {
		t, err := c.cpu()
		if err != nil {
			return cpuTime{}, err
		}
		sum = sum.add(t)
	}
	return sum, nil
}

// errInProcess says that the hub runs in the bench's process, whose CPU
// time holds the producer's and the receiver's too.
var errInProcess = errors.New("the hub runs in this process")

// cpuSpan reads the CPU time of the hubs' processes and of this one at
// the start of what a run measures; end gives what each used since.
type cpuSpan struct {
	env       *benchEnv
	hub, self cpuTime
	hubErr    error
	selfOK    bool
}

func startCPUSpan(env *benchEnv) *cpuSpan {
	s := &cpuSpan{env: env}
	s.hub, s.hubErr = env.hubCPU()
	self, err := processCPU(os.Getpid())
	s.self, s.selfOK = self, err == nil
	return s
}

// report writes the hubs' CPU time per unit of work (n units, named unit)
// and this process's (the producer and the receiver) since the start.
func (s *cpuSpan) report(w io.Writer, n int64, unit string) (hubPerUnit float64, ok bool) {
	hub, hubErr := s.env.hubCPU()
	self, err := processCPU(os.Getpid())
	if hubErr == nil {
		hubErr = s.hubErr
	}
	if errors.Is(hubErr, errInProcess) {
		return 0, false
	}
	if hubErr != nil {
		fmt.Fprintf(w, "  hub CPU:   not measured (%v)\n", hubErr)
		return 0, false
	}
	used := hub.sub(s.hub)
	total, user, system := used.perUnit(n)
	fmt.Fprintf(w, "  hub CPU:   %6.0f µs/%s (user %.0f, system %.0f; %.2fs of CPU in %s from the first POST to the last receipt, read from the kernel)",
		total, unit, user, system, used.Total.Seconds(), plural(len(s.env.procs), "the hub's process", "the hubs' processes"))
	if s.selfOK && err == nil {
		t, _, _ := self.sub(s.self).perUnit(n)
		fmt.Fprintf(w, "; the bench's producer and receiver: %.0f µs/%s", t, unit)
	}
	fmt.Fprintln(w)
	return total, true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// benchSetup starts the hubs of one run; edit, if not nil, changes the
// hub's configuration first. The returned func closes them.
func benchSetup(ctx context.Context, bc benchConfig, stderr io.Writer, edit func(*hub.Config)) (env *benchEnv, cleanup func(), err error) {
	var closers []func()
	cleanup = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	dir, err := os.MkdirTemp("", "hirehook-bench-")
	if err != nil {
		return nil, cleanup, err
	}
	closers = append(closers, func() { os.RemoveAll(dir) })
	cfg := hub.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = "sqlite:" + filepath.Join(dir, "bench.db")
	if pgURL := (&hub.Config{DB: bc.DB}).PostgresURL(); pgURL != "" {
		dsn, drop, err := benchDatabase(ctx, pgURL)
		if err != nil {
			return nil, cleanup, err
		}
		closers = append(closers, drop)
		cfg.DB, cfg.EncryptionKey = dsn, seal.NewKey()
	} else if bc.DB != "" {
		cfg.DB = "sqlite:" + bc.DB
	}
	var kb [24]byte
	_, _ = rand.Read(kb[:])
	key := "hh_bench_" + base64.RawURLEncoding.EncodeToString(kb[:])
	cfg.AdminKey = key
	// The receivers are on loopback, which the SSRF guard refuses unless
	// private destinations are allowed.
	cfg.AllowPrivateDestinations = true
	// Endpoints are created with max_concurrency set (the API stores 16
	// when it is absent, and the dispatcher then ignores this default);
	// this covers any endpoint without one all the same.
	cfg.EndpointConcurrency = bc.EndpointConcurrency
	cfg.APIRateLimit = 0 // the bench's one key sends far more than a producer would
	cfg.LogLevel = "warn"
	if edit != nil {
		edit(&cfg)
	}
	logOut := stderr
	if bc.quietHub {
		// Formatted all the same (the h pays for its log lines), but not
		// shown: a dead endpoint makes one warning per failed attempt.
		logOut = io.Discard
	}
	newLog := func() *slog.Logger {
		return slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if bc.HubProcess {
		env := &benchEnv{key: key}
		var bases []string
		for i := range bc.Nodes {
			profile := bc.CPUProfile
			if profile != "" && i > 0 {
				profile += fmt.Sprintf(".node%d", i+1)
			}
			c, err := startChild(ctx, "hub", "/readyz", stderr, func(addr string) *exec.Cmd {
				return hubChildCommand(bc.HubBinary, cfg, addr, profile)
			})
			if err != nil {
				return nil, cleanup, err
			}
			closers = append(closers, func() {
				if err := c.stop(); err != nil {
					fmt.Fprintf(stderr, "bench: %v\n", err)
				}
			})
			env.procs = append(env.procs, c)
			bases = append(bases, c.url)
		}
		env.p = newProducer(ctx, bc, bases[0], key, stderr)
		env.p.bases = bases
		return env, cleanup, nil
	}
	h := hub.New(cfg, newLog())
	if err := h.Open(ctx); err != nil {
		return nil, cleanup, err
	}
	closers = append(closers, func() { h.Close(context.Background()) })
	bases := []string{h.URL()}
	for range bc.Nodes - 1 {
		other := hub.New(cfg, newLog())
		if err := other.Open(ctx); err != nil {
			return nil, cleanup, err
		}
		closers = append(closers, func() { other.Close(context.Background()) })
		bases = append(bases, other.URL())
	}
	p := newProducer(ctx, bc, h.URL(), key, stderr)
	p.bases = bases
	return &benchEnv{hub: h, key: key, p: p}, cleanup, nil
}

// startBenchServer serves h on a new loopback port and returns its base URL.
func startBenchServer(h http.Handler) (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func benchRun(ctx context.Context, bc benchConfig, mode string, stdout, stderr io.Writer) error {
	env, cleanup, err := benchSetup(ctx, bc, stderr, nil)
	if err != nil {
		return err
	}
	defer cleanup()
	key, p := env.key, env.p

	rc := &benchReceiver{}
	rbase, rstop, err := startBenchServer(rc)
	if err != nil {
		return err
	}
	defer rstop()

	epBody, _ := json.Marshal(map[string]any{"url": rbase + "/hooks", "event_types": []string{"placement.*"}, "max_concurrency": bc.EndpointConcurrency})
	if st, b, err := p.post("/v1/endpoints", epBody); err != nil || st != 201 {
		return fmt.Errorf("create bench endpoint: status %d %s %v", st, b, err)
	}

	total := bc.Events
	var interval time.Duration
	if mode == "steady" {
		total = int(float64(bc.Rate) * bc.Duration.Seconds())
		interval = time.Second / time.Duration(bc.Rate)
	}
	fmt.Fprintf(stdout, "%s: %d events, %d producer connections, %d event(s) per request", mode, total, bc.Concurrency, bc.Batch)
	if bc.Nodes > 1 {
		fmt.Fprintf(stdout, ", round-robin over %d hubs on one database", bc.Nodes)
	}
	if mode == "steady" {
		fmt.Fprintf(stdout, ", %d events/s for %s", bc.Rate, bc.Duration)
	}
	fmt.Fprintln(stdout)

	cpu := startCPUSpan(env)
	start := time.Now()
	accepted, failed, ingestDur := p.run(mode, total, interval, func(id string, t time.Time) { rc.sent.Store(id, t) })

	deadline := time.Now().Add(2*time.Minute + bc.Duration)
	for rc.received.Load() < int64(accepted) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	deliverDur := time.Duration(rc.last.Load() - start.UnixNano())
	cpuOut := &bytes.Buffer{}
	hubPerEvent, hubCPUOK := cpu.report(cpuOut, rc.received.Load(), "event")

	rc.mu.Lock()
	lat := slices.Clone(rc.latencies)
	rc.mu.Unlock()
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Fprintf(stdout, "  ingested:  %6d events in %7.3fs = %8.0f events/s (every one durable before its 202; %d requests failed)\n",
		accepted, ingestDur.Seconds(), float64(accepted)/ingestDur.Seconds(), failed)
	fmt.Fprintf(stdout, "  delivered: %6d events in %7.3fs = %8.0f events/s (%d duplicates)\n",
		rc.received.Load(), deliverDur.Seconds(), float64(rc.received.Load())/deliverDur.Seconds(), rc.dupes.Load())
	fmt.Fprintf(stdout, "  POST→receipt latency: p50 %s  p99 %s  max %s\n",
		q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), q(1).Round(10*time.Microsecond))
	_, _ = cpuOut.WriteTo(stdout)
	if rc.received.Load() < int64(accepted) {
		return fmt.Errorf("bench: only %d of %d accepted events arrived", rc.received.Load(), accepted)
	}
	if mode == "burst" {
		// The baseline: the same producer against a server that answers
		// 202 without doing anything, on the same machine, right after. It
		// is the ceiling that HTTP on loopback sets for ingest here.
		bln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		bsrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{}`))
		}), ReadHeaderTimeout: 10 * time.Second}
		go bsrv.Serve(bln)
		defer bsrv.Close()
		bp := newProducer(ctx, bc, "http://"+bln.Addr().String(), key, stderr)
		n, _, d := bp.run("baseline", total, 0, func(string, time.Time) {})
		rate := float64(n) / d.Seconds()
		fmt.Fprintf(stdout, "  baseline:  %6d events to a no-op HTTP server in %7.3fs = %8.0f events/s; hirehook ingested at %.2f× and delivered at %.2f× of it\n",
			n, d.Seconds(), rate, float64(accepted)/ingestDur.Seconds()/rate, float64(rc.received.Load())/deliverDur.Seconds()/rate)
		rr, err := benchRelay(ctx, bc, total, key, stderr)
		if err != nil {
			return err
		}
		relay := float64(rr.n) / rr.dur.Seconds()
		where := "in this process"
		if bc.HubProcess {
			where = "in a process of its own"
		}
		fmt.Fprintf(stdout, "  relay:     %6d events through a bare relay %s (202 at once, then %d workers forward each to a no-op receiver; no storage, no validation, no signature) in %7.3fs = %8.0f events/s: the ceiling of two HTTP hops here; hirehook delivered at %.2f× of it\n",
			rr.n, where, bc.EndpointConcurrency, rr.dur.Seconds(), relay, float64(rc.received.Load())/deliverDur.Seconds()/relay)
		if rr.cpuOK {
			t, u, sys := rr.cpu.perUnit(int64(rr.n))
			fmt.Fprintf(stdout, "  relay CPU: %6.0f µs/event (user %.0f, system %.0f; read from the kernel for the relay's process as for the hub's)", t, u, sys)
			if hubCPUOK && t > 0 {
				fmt.Fprintf(stdout, "; the hub used %.2f× the relay's CPU per event", hubPerEvent/t)
			}
			fmt.Fprintln(stdout)
		}
	}
	return nil
}

// relay answers 202 as soon as it has read a request and forwards its body
// to a receiver from a fixed number of workers: the bench's bare relay.
type relay struct {
	queue chan []byte
	wg    sync.WaitGroup
	out   *http.Client
}

// newRelay starts workers that forward what the relay takes in to to; up
// to queue bodies wait for them. Close stops them.
func newRelay(ctx context.Context, to string, workers, queue int) *relay {
	r := &relay{queue: make(chan []byte, queue),
		out: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 60 * time.Second}}
	for range workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for body := range r.queue {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if resp, err := r.out.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	return r
}

func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.queue <- body
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{}`))
}

// Close lets the workers forward what is queued and waits for them. The
// relay must take no more requests.
func (r *relay) Close() {
	close(r.queue)
	r.wg.Wait()
	r.out.CloseIdleConnections()
}

// RunRelay is `hirehook bench-relay`, left out of the help: the bench's
// bare relay in a process of its own, which `hirehook bench` starts as it
// starts the hub, so that it reads the CPU time of both the same way. It
// serves --addr until ctx ends (SIGTERM); GET /healthz answers 200 without
// relaying anything.
func RunRelay(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(RelayCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	to := fs.String("to", "", "URL to forward each request's body to")
	workers := fs.Int("workers", 16, "requests forwarded at once")
	queue := fs.Int("queue", 20000, "bodies that may wait for a worker")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || *workers < 1 || *queue < 1 {
		return errors.New("bench-relay needs --to, and --workers and --queue of at least 1")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("bench-relay: %w", err)
	}
	r := newRelay(ctx, *to, *workers, *queue)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("/", r)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	<-ctx.Done()
	srv.Close()
	r.Close()
	return nil
}

// relayResult is what benchRelay measured: the events received, the time
// from the first POST to the last receipt, and, with --hub-process, the
// relay process's CPU time over that span (cpuOK).
type relayResult struct {
	n     int
	dur   time.Duration
	cpu   cpuTime
	cpuOK bool
}

// benchRelay sends total events from the same producer through a relay that
// answers 202 as soon as it has read a request and forwards the body from
// bc.EndpointConcurrency workers to a receiver that answers 204: what any
// hub that takes an event in over HTTP and sends it out over HTTP could do
// on this machine with no work of its own. With --hub-process the relay
// runs in a child process (`hirehook bench-relay`), as the hub does, and
// its CPU time is read the same way.
func benchRelay(ctx context.Context, bc benchConfig, total int, key string, stderr io.Writer) (relayResult, error) {
	var got, last atomic.Int64
	rbase, rstop, err := startBenchServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
		last.Store(time.Now().UnixNano())
		w.WriteHeader(http.StatusNoContent)
	}))
	if err != nil {
		return relayResult{}, err
	}
	defer rstop()
	var base string
	var proc *child
	if bc.HubProcess {
		exe, err := os.Executable()
		if err != nil {
			return relayResult{}, fmt.Errorf("find this binary to start the relay: %w", err)
		}
		proc, err = startChild(ctx, "relay", "/healthz", stderr, func(addr string) *exec.Cmd {
			cmd := exec.Command(exe, RelayCommand, "--addr", addr, "--to", rbase+"/hooks",
				"--workers", fmt.Sprint(bc.EndpointConcurrency), "--queue", fmt.Sprint(total))
			cmd.Env = childEnv()
			return cmd
		})
		if err != nil {
			return relayResult{}, err
		}
		defer proc.stop()
		base = proc.url
	} else {
		r := newRelay(ctx, rbase+"/hooks", bc.EndpointConcurrency, total)
		var stop func()
		if base, stop, err = startBenchServer(r); err != nil {
			r.Close()
			return relayResult{}, err
		}
		defer func() { stop(); r.Close() }()
	}
	p := newProducer(ctx, bc, base, key, stderr)
	var res relayResult
	var cpu0 cpuTime
	if proc != nil {
		cpu0, err = proc.cpu()
		res.cpuOK = err == nil
	}
	start := time.Now()
	n, _, _ := p.run("relay", total, 0, func(string, time.Time) {})
	for got.Load() < int64(n) && time.Since(start) < 2*time.Minute && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	if res.cpuOK {
		cpu1, err := proc.cpu()
		res.cpu, res.cpuOK = cpu1.sub(cpu0), err == nil
	}
	res.n, res.dur = int(got.Load()), time.Duration(last.Load()-start.UnixNano())
	return res, ctx.Err()
}

// producer posts bench events as a producer application would.
type producer struct {
	ctx    context.Context
	bc     benchConfig
	base   string
	bases  []string // if set, run spreads its requests round-robin over these
	key    string
	client *http.Client
	stderr io.Writer
	// idOffset is added to the number in each event id, so that several
	// runs of one mode make distinct events.
	idOffset int
}

func newProducer(ctx context.Context, bc benchConfig, base, key string, stderr io.Writer) *producer {
	return &producer{ctx: ctx, bc: bc, base: base, key: key, stderr: stderr, client: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: bc.Concurrency, MaxIdleConns: bc.Concurrency},
		Timeout:   60 * time.Second,
	}}
}

func (p *producer) post(path string, body []byte) (int, []byte, error) {
	return p.postAt(p.base, path, body)
}

func (p *producer) postAt(base, path string, body []byte) (int, []byte, error) {
	req, _ := http.NewRequestWithContext(p.ctx, http.MethodPost, base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

// run sends total events from bc.Concurrency connections, bc.Batch per
// request, one every interval (0: as fast as the server answers). sent is
// called with each event id and the time its request starts. It returns the
// events accepted, the requests that failed, and the time to the last 202.
func (p *producer) run(mode string, total int, interval time.Duration, sent func(id string, t time.Time)) (accepted int, failed int64, dur time.Duration) {
	bc := p.bc
	requests := (total + bc.Batch - 1) / bc.Batch
	var next, nfailed, lastAccepted atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range bc.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= requests || p.ctx.Err() != nil {
					return
				}
				if interval > 0 {
					time.Sleep(time.Until(start.Add(time.Duration(i*bc.Batch) * interval)))
				}
				path := "/v1/events"
				now := time.Now()
				var body []byte
				if bc.Batch == 1 {
					id := fmt.Sprintf("bench-%s-%d", mode, p.idOffset+i)
					sent(id, now)
					body = benchEvent(id)
				} else {
					path = "/v1/events/batch"
					var buf bytes.Buffer
					buf.WriteString(`{"events":[`)
					for j := 0; j < bc.Batch && i*bc.Batch+j < total; j++ {
						id := fmt.Sprintf("bench-%s-%d", mode, p.idOffset+i*bc.Batch+j)
						sent(id, now)
						if j > 0 {
							buf.WriteByte(',')
						}
						buf.Write(benchEvent(id))
					}
					buf.WriteString(`]}`)
					body = buf.Bytes()
				}
				base := p.base
				if len(p.bases) > 0 {
					base = p.bases[i%len(p.bases)]
				}
				st, b, err := p.postAt(base, path, body)
				if err != nil || st != http.StatusAccepted {
					if nfailed.Add(1) <= 3 {
						fmt.Fprintf(p.stderr, "bench: POST %s: status %d %s %v\n", path, st, bytes.TrimSpace(b), err)
					}
					continue
				}
				lastAccepted.Store(time.Now().UnixNano())
			}
		}()
	}
	wg.Wait()
	return total - int(nfailed.Load())*bc.Batch, nfailed.Load(), time.Duration(lastAccepted.Load() - start.UnixNano())
}

// benchEvent is a realistic placement.confirmed of about 700 bytes.
func benchEvent(id string) []byte {
	return []byte(`{"id":"` + id + `","type":"placement.confirmed","source":"bench","data":{"id":"pl_` + id +
		`","status":"confirmed","start_date":"2026-12-07","end_date":"2027-06-04","employment_type":"contract",` +
		`"pay_rate":{"amount":42.5,"currency":"USD","unit":"hour"},"bill_rate":{"amount":61,"currency":"USD","unit":"hour"},` +
		`"candidate":{"id":"c_42","first_name":"Ada","last_name":"Lovelace","email":"ada.lovelace@example.com","phone":"+1 555 0100"},` +
		`"job":{"id":"j_7","title":"Senior Data Engineer"},"client":{"id":"cl_3","name":"Acme Corporation"}},` +
		`"changes":{"status":{"from":"submitted","to":"confirmed"}}}`)
}

// benchDatabase creates a database of its own for one bench run on the
// PostgreSQL server of serverURL (whose database it connects to, to create
// it), so that every run starts empty, and returns its URL and a func that
// drops it.
func benchDatabase(ctx context.Context, serverURL string) (dsn string, drop func(), err error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, &hub.ConfigError{Field: "db", Value: hub.RedactDB(serverURL), Err: errors.New("must be a postgres:// URL")}
	}
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hirehook_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create bench database %s on %s: %w", name, hub.RedactDB(serverURL), err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = admin.ExecContext(dropCtx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		admin.Close()
	}, nil
}

// lockedWriter serialises the writes of several goroutines to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
