// Package delivery attempts the deliveries of the queue: it claims due
// deliveries from the store (or takes them straight from ingest, already
// leased), signs and POSTs them through per-endpoint lanes, and records each
// attempt, scheduling a retry or finishing the delivery.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/destination"
	"github.com/hirehook/hirehook/internal/logkey"
	"github.com/hirehook/hirehook/route"
)

// Config configures a Dispatcher. Zero fields take the defaults noted.
type Config struct {
	// Owner names this node in delivery leases; it must be unique among
	// the nodes sharing a store. Default: a new random id.
	Owner string
	// Lease is how long a claimed delivery belongs to this node before
	// another node (or this one, after a restart) may take it. It must be
	// longer than an attempt's timeout. Default 2 min.
	Lease time.Duration
	// PollInterval is how often the store is asked for due deliveries
	// when nothing woke the dispatcher. Default 1 s.
	PollInterval time.Duration
	// ClaimBatch is the most deliveries one claim takes. Default 256.
	ClaimBatch int
	// EndpointConcurrency is the most attempts in flight to an endpoint
	// that sets no max_concurrency of its own (Endpoint.MaxConcurrency 0).
	// Default 16.
	EndpointConcurrency int
	// LaneBacklog is the most deliveries one endpoint's lane holds in
	// memory. Past it, hot-handed deliveries are released back to the
	// store and the endpoint is left out of claims until the lane has
	// drained to half. Default 4096.
	LaneBacklog int
	// HoldLimit is the most deliveries held in memory across all lanes
	// (queued, being sent, or with their result on its way to the store).
	// Past it, ingest writes new deliveries pending instead of handing them
	// over (CanTake), a hand-off larger than the room left is handed back
	// to the store beyond it, and claims wait until there is room for a batch:
	// the deliveries wait in the store, where they cost no heap. A fan-out
	// of every event to a hundred endpoints otherwise fills the lanes with
	// hundreds of thousands of deliveries, and the collector spends a
	// fifth of the CPU scanning them under the hub's memory limit.
	// Default 8192.
	HoldLimit int
	// TripAfter is how many different deliveries' attempts in a row must
	// find an endpoint down (no connection, a timeout, 5xx, 408, 429)
	// before its deliveries are paused and it is probed instead (see
	// breaker.go). Default 10.
	TripAfter int
	// ProbeAfter is the first pause before a down endpoint is probed; each
	// failed probe doubles it, up to ProbeMax. Defaults 1 s and 30 s.
	ProbeAfter, ProbeMax time.Duration
	// CompleteInterval is how long the completer gathers results before
	// writing them in one transaction. Default 2 ms.
	CompleteInterval time.Duration
	// Retry decides the wait between attempts. Default: the default schedule.
	Retry hirehook.RetryPolicy
	// DisableFailingAfter disables an endpoint whose attempts have done
	// nothing but fail for this long (its Endpoint.FailingSince): its
	// unfinished deliveries are paused until an operator enables it.
	// Default DefaultDisableFailingAfter (5 days); negative: never.
	DisableFailingAfter time.Duration
	// Sender makes the HTTP attempts. Default: NewSender with defaults (no
	// private destinations).
	Sender *Sender
	// Publishers make the attempts to broker endpoints, by kind
	// (hirehook.KindKafka, ...); an endpoint of a kind without one fails
	// its attempts. Stop closes them. Their timeout should be Sender's.
	Publishers map[string]destination.Publisher
	// NowFunc returns the current time. Default time.Now.
	NowFunc func() time.Time
	// EndpointCacheTTL is how long an endpoint (with its decoded secrets)
	// is kept between loads: an edit or a secret rotation reaches the
	// deliveries within it. Measured by NowFunc. Default 1 s.
	EndpointCacheTTL time.Duration
	// HeartbeatInterval is how often the node heartbeats when its store is
	// a hirehook.NodeRegistry (shared by several nodes), and so how soon
	// the nodes learn that one started or stopped; a node silent for three
	// intervals is taken for dead, and its leases end then (see
	// hirehook.NodeRegistry). Default: a quarter of Lease, at most 5 s, so
	// that a dead node is forgotten (its share of the endpoints' limits
	// passed on, its deliveries taken by the live nodes) well before its
	// leases would expire.
	HeartbeatInterval time.Duration
	// Logger receives lifecycle and failure logs. Default: discard.
	Logger *slog.Logger
	// OnResultFunc, if set, is called after each attempt's result is stored.
	OnResultFunc func(d *hirehook.Delivery, r hirehook.DeliveryResult)
	// Routes compiles and keeps the endpoints' routes (transform, payload,
	// redact) applied to each body before it is signed. Default: a cache
	// with route's default options. Filters are applied at ingest, not
	// here (see ingest.FilterFunc).
	Routes *route.Cache
}

// DefaultDisableFailingAfter is how long an endpoint may fail every
// attempt before it is disabled (as Svix does).
const DefaultDisableFailingAfter = 5 * 24 * time.Hour

// Dispatcher delivers webhooks. Create it with New, then Start and Stop.
type Dispatcher struct {
	store  Store
	cfg    Config
	logger *slog.Logger

	wake     chan struct{}
	results  chan completion
	endpoint *endpointCache

	mu    sync.Mutex
	lanes map[string]*lane
	// ledger holds the deliveries this node holds in memory, their states
	// and their endpoints' queues (see ledger.go).
	ledger   *ledger
	breakers map[string]*breaker
	breaking atomic.Int32 // len(breakers), read without mu on every attempt
	flights  flights      // attempts in flight, by endpoint (breaker.go)
	// beat is when (UnixNano) this node's last successful heartbeat
	// started; 0 without a node registry (see lapsing).
	beat atomic.Int64
	// gaveUp is set while this node's heartbeat fails and it has handed
	// back its queue for it (see heartbeatLoop and quiet).
	gaveUp atomic.Bool
	// claimWaits is set when a claim was skipped for want of room under
	// HoldLimit: the completer wakes the claimer once there is room.
	claimWaits     bool
	overflowSignal chan struct{}
	// members divides the endpoints' limits among the nodes sharing the
	// store; notMine holds endpoints whose share is another node's.
	members membership
	notMine map[string]bool
	hbDone  chan struct{}
	started bool
	stopped bool

	runCtx    context.Context // lives until Stop; cancels attempts on hard stop
	runCancel context.CancelFunc
	// waitCtx ends when Stop begins: workers waiting on a lane's rate
	// limiter give their delivery back rather than hold Stop up.
	waitCtx    context.Context
	waitCancel context.CancelFunc
	// stopCtx is for the store writes Stop still makes once its context
	// is done (the last results, the release of what is held): it ends
	// stopGrace after Stop's context does. Set by Stop under mu.
	stopCtx   context.Context
	claimStop context.CancelFunc
	claimDone chan struct{}
	relDone   chan struct{}
	workers   sync.WaitGroup
	compDone  chan struct{}
}

// completion is one attempt result on its way to the store.
type completion struct {
	d *hirehook.Delivery
	r hirehook.DeliveryResult
}

// New returns a Dispatcher for store.
func New(store Store, cfg Config) *Dispatcher {
	if cfg.Owner == "" {
		cfg.Owner = hirehook.NewID("node")
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.ClaimBatch <= 0 {
		cfg.ClaimBatch = 256
	}
	if cfg.EndpointConcurrency <= 0 {
		cfg.EndpointConcurrency = 16
	}
	if cfg.LaneBacklog <= 0 {
		cfg.LaneBacklog = 4096
	}
	if cfg.TripAfter <= 0 {
		cfg.TripAfter = 10
	}
	if cfg.ProbeAfter <= 0 {
		cfg.ProbeAfter = time.Second
	}
	if cfg.ProbeMax <= 0 {
		cfg.ProbeMax = 30 * time.Second
	}
	cfg.ProbeMax = max(cfg.ProbeMax, cfg.ProbeAfter)
	if cfg.HoldLimit <= 0 {
		cfg.HoldLimit = 8192
	}
	cfg.HoldLimit = max(cfg.HoldLimit, 2*cfg.ClaimBatch)
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = min(5*time.Second, cfg.Lease/4)
	}
	if cfg.CompleteInterval <= 0 {
		cfg.CompleteInterval = 2 * time.Millisecond
	}
	if cfg.Retry == nil {
		cfg.Retry = hirehook.DefaultRetryPolicy()
	}
	if cfg.DisableFailingAfter == 0 {
		cfg.DisableFailingAfter = DefaultDisableFailingAfter
	}
	if cfg.Sender == nil {
		cfg.Sender = NewSender(SenderConfig{})
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Routes == nil {
		cfg.Routes = route.NewCache(route.Options{})
	}
	if cfg.EndpointCacheTTL <= 0 {
		cfg.EndpointCacheTTL = time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{
		store:          store,
		cfg:            cfg,
		logger:         logger.With(logkey.Component, "delivery"),
		wake:           make(chan struct{}, 1),
		results:        make(chan completion, 4096),
		endpoint:       newEndpointCache(store, cfg.EndpointCacheTTL, cfg.NowFunc),
		lanes:          map[string]*lane{},
		ledger:         newLedger(),
		breakers:       map[string]*breaker{},
		overflowSignal: make(chan struct{}, 1),
		members:        single,
		notMine:        map[string]bool{},
	}
}

// Owner returns the lease owner name of this dispatcher.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// Lease returns the lease duration, for callers that write hot leases.
func (d *Dispatcher) Lease() time.Duration { return d.cfg.Lease }

// Start starts claiming and delivering. It returns at once.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return errors.New("dispatcher already started")
	}
	d.started = true
	d.runCtx, d.runCancel = context.WithCancel(context.WithoutCancel(ctx))
	d.waitCtx, d.waitCancel = context.WithCancel(d.runCtx)
	var claimCtx context.Context
	claimCtx, d.claimStop = context.WithCancel(ctx)
	d.claimDone = make(chan struct{})
	d.compDone = make(chan struct{})
	d.relDone = make(chan struct{})
	if reg := d.store.Capabilities().Nodes; reg != nil {
		// Not yet registered, nobody can end this node's leases.
		d.beat.Store(time.Now().UnixNano())
		d.hbDone = make(chan struct{})
		go d.heartbeatLoop(claimCtx, reg)
	}
	go d.claimLoop(claimCtx)
	go d.completeLoop()
	go d.releaseLoop(claimCtx)
	d.logger.Info("dispatcher started", logkey.Owner, d.cfg.Owner, logkey.Lease, d.cfg.Lease)
	return nil
}

// Notify wakes the claimer: a delivery became due (a retry, a replay).
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// CanTake reports whether this node has room for more deliveries (see
// Config.HoldLimit): ingest hands new deliveries over only then, and
// otherwise writes them pending for a later claim.
func (d *Dispatcher) CanTake() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.holdingLocked() < d.cfg.HoldLimit
}

// holdingLocked is the number of deliveries that count against HoldLimit:
// queued, being sent, or with their result on its way to the store (the
// ones being handed back hold nothing for long). d.mu must be held.
func (d *Dispatcher) holdingLocked() int {
	return d.ledger.held() - d.ledger.count[heldReleasing]
}

// Enqueue takes deliveries that ingest wrote already leased to this node (the
// hot hand-off) and attempts them without a claim query. Past HoldLimit (one
// ingest commit can hand over more than CanTake had room for) they are
// handed back to the store, pending, for a later claim.
func (d *Dispatcher) Enqueue(ds []*hirehook.Delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started || d.stopped {
		return // the leases expire and the deliveries are claimed again
	}
	for _, dl := range ds {
		d.enqueueLocked(dl)
	}
}

// enqueueLocked adds one delivery, leased to this node, to its endpoint's
// lane, starting a worker if the lane has room for one; or hands it back
// when the lane or the node is full or another node serves its endpoint. A
// delivery already held is not queued twice (see ledger.retake). d.mu must
// be held.
func (d *Dispatcher) enqueueLocked(dl *hirehook.Delivery) {
	if d.ledger.retake(dl) {
		return
	}
	if d.stopped || d.notMine[dl.EndpointID] || d.ledger.queueLen(dl.EndpointID) >= d.cfg.LaneBacklog ||
		d.holdingLocked() >= d.cfg.HoldLimit {
		// Stopping; or another node serves this endpoint's share of its
		// limits; or a full lane (rather than hold unbounded memory for a
		// slow endpoint; it is claimed again once the lane drains); or a
		// full node: it goes back to the store.
		d.ledger.refuse(dl)
		d.signalOverflow()
		return
	}
	l := d.lanes[dl.EndpointID]
	if l == nil {
		// Until a worker has loaded the endpoint, the lane runs one worker
		// (or as many as the cached endpoint allows): never more than the
		// endpoint's max_concurrency.
		l = &lane{endpointID: dl.EndpointID, limit: 1}
		if ep := d.endpoint.peek(dl.EndpointID); ep != nil {
			l.limit = max(d.concurrencyOf(ep), 1)
		}
		d.lanes[dl.EndpointID] = l
	}
	d.ledger.queue(dl)
	if l.active < l.limit {
		l.active++
		d.workers.Add(1)
		go d.laneWorker(l)
	}
}

// lane is the workers of one endpoint's queue of deliveries held in memory
// (the queue is the ledger's). Its workers (at most the endpoint's
// max_concurrency) drain it and exit when it is empty, so an idle endpoint
// costs nothing and a slow one only slows itself. Fields are guarded by
// Dispatcher.mu.
type lane struct {
	endpointID string
	active     int
	// limit is the most workers: the endpoint's max_concurrency (or
	// Config.EndpointConcurrency when it has none), 1 until known.
	limit int
	// rate is the endpoint's rate_limit_per_second the limiter was built
	// for; 0 and a nil limiter: no limit.
	rate    float64
	limiter *rate.Limiter
}

// limitOf returns the most attempts in flight to ep from all nodes.
func (d *Dispatcher) limitOf(ep *hirehook.Endpoint) int {
	if ep.MaxConcurrency > 0 {
		return ep.MaxConcurrency
	}
	return d.cfg.EndpointConcurrency
}

// concurrencyOf returns the most attempts in flight to ep from this node:
// its share of the endpoint's limit (0 when other nodes serve it). d.mu
// must be held.
func (d *Dispatcher) concurrencyOf(ep *hirehook.Endpoint) int {
	_, n := d.members.share(ep.ID, d.limitOf(ep))
	return n
}

// configureLane applies ep's isolation settings, this node's share of
// them, to its lane: the worker limit (starting workers for queued
// deliveries when it grew) and the rate limiter, rebuilt when the rate
// changed. It returns the limiter to wait on, nil when the endpoint has no
// rate limit; serve is false when another node serves the endpoint (the
// lane's queue is then handed back to the store).
func (d *Dispatcher) configureLane(l *lane, ep *hirehook.Endpoint) (lim *rate.Limiter, serve bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	serve, n := d.members.share(ep.ID, d.limitOf(ep))
	if !serve {
		d.leaveLaneLocked(l.endpointID)
		return nil, false
	}
	l.limit = n
	r := 0.0
	if ep.RateLimitPerSecond != nil && *ep.RateLimitPerSecond > 0 {
		r = d.members.rateShare(d.limitOf(ep), *ep.RateLimitPerSecond)
	}
	if r != l.rate || (r > 0) != (l.limiter != nil) {
		l.rate, l.limiter = r, nil
		if r > 0 {
			// Burst 1: attempts are spread evenly, 1/r apart.
			l.limiter = rate.NewLimiter(rate.Limit(r), 1)
		}
	}
	for !d.stopped && l.active < l.limit && l.active < d.ledger.queueLen(l.endpointID)+1 {
		l.active++
		d.workers.Add(1)
		go d.laneWorker(l)
	}
	return l.limiter, true
}

func (d *Dispatcher) laneWorker(l *lane) {
	defer d.workers.Done()
	for {
		d.mu.Lock()
		var dl *hirehook.Delivery
		if !d.stopped && l.active <= l.limit {
			dl = d.ledger.next(l.endpointID)
		}
		if dl == nil {
			l.active--
			if l.active == 0 && d.ledger.queueLen(l.endpointID) == 0 && d.lanes[l.endpointID] == l {
				delete(d.lanes, l.endpointID) // an idle endpoint costs nothing
			}
			d.mu.Unlock()
			return
		}
		drained := d.ledger.queueLen(l.endpointID) == d.cfg.LaneBacklog/2
		d.mu.Unlock()
		if drained {
			d.Notify() // the lane takes claims again
		}
		d.attempt(l, dl)
	}
}

// attempt sends one delivery of lane l and hands its result to the
// completer. A rate-limited endpoint's delivery first waits for its turn;
// the wait is no attempt.
func (d *Dispatcher) attempt(l *lane, dl *hirehook.Delivery) {
	now := d.cfg.NowFunc()
	ep, signer, err := d.endpoint.get(d.runCtx, dl.TenantID, dl.EndpointID, now)
	if err != nil {
		if hirehook.ErrorCode(err) == hirehook.ENOTFOUND {
			d.forget(dl.ID) // endpoint deleted: its deliveries were cancelled
			return
		}
		d.logger.Error("load endpoint", logkey.EndpointID, dl.EndpointID, logkey.Error, err)
		d.handBack(dl)
		return
	}
	if ep.Disabled {
		d.handBack(dl)
		return
	}
	lim, serve := d.configureLane(l, ep)
	if !serve {
		d.handBack(dl) // with the lane's queue
		return
	}
	body, fail := d.route(dl, ep)
	if fail != nil {
		if d.runCtx.Err() != nil {
			d.handBack(dl) // hard stop cut the evaluation short
			return
		}
		d.complete(completion{d: dl, r: *fail})
		return
	}
	if lim != nil {
		if err := lim.Wait(d.waitCtx); err != nil {
			d.handBack(dl) // stopping: it is due again at once
			return
		}
	}
	// The attempt starts now, after any endpoint load or rate wait: its
	// StartedAt, signature timestamp and the retry wait all count from here.
	now = d.cfg.NowFunc()
	if !dl.LeaseExpiresAt.IsZero() && dl.LeaseExpiresAt.Sub(now) < d.cfg.Sender.Timeout() {
		// It waited in its lane for most of its lease: its lease could run
		// out during the attempt, and another node take it and send it too.
		// Hand it back instead (a no-op if another node has it already); it
		// is claimed again with a fresh lease.
		d.handBack(dl)
		return
	}
	if d.lapsing() {
		// The other nodes no longer hear this one: they may end its
		// leases and send this delivery before this attempt could end.
		d.handBack(dl)
		return
	}
	if !d.admit(dl.EndpointID, dl.ID, now) {
		// The endpoint is down and paused: the delivery waits in the store,
		// without an attempt, until a probe finds the endpoint back.
		d.handBack(dl)
		return
	}
	var resp Response
	if ep.Kind == "" || ep.Kind == hirehook.KindHTTP {
		resp = d.cfg.Sender.Send(d.runCtx, Message{URL: ep.URL, ID: dl.EventID, Body: body, Headers: ep.Headers, Signer: signer}, now)
	} else {
		resp = d.publish(ep, dl, body, signer, now)
	}
	d.landed(dl.EndpointID, dl.ID)
	if d.runCtx.Err() != nil && resp.Attempt.StatusCode == 0 {
		// Hard stop cancelled the attempt: release it, count nothing.
		d.handBack(dl)
		return
	}
	nextProbe := d.observe(dl.EndpointID, dl.ID, resp, d.cfg.NowFunc())
	r := holdUntilProbe(d.decide(dl, ep, resp), nextProbe)
	if r.DisableEndpoint != "" {
		// Deliveries queued behind this one must not be sent to an endpoint
		// that said it is gone: they are released and wait, pending, until
		// an operator re-enables it.
		d.endpoint.markDisabled(dl.EndpointID, r.DisableEndpoint)
	}
	d.complete(completion{d: dl, r: r})
}

// route makes the body of dl for ep: the event's payload through the
// endpoint's route (redact → thin → transform; the filter ran at ingest).
// The signature covers this body. When the route cannot make it, fail is
// the delivery's result, with no request sent: failed at once for a
// configuration error (its Reason in the attempt, error class
// "transform"), retrying when the evaluation ran out of time. The attempt
// holds the reason, never the body, so what was redacted stays out of the
// endpoint's attempt log (a reason quotes only redacted values).
func (d *Dispatcher) route(dl *hirehook.Delivery, ep *hirehook.Endpoint) (body []byte, fail *hirehook.DeliveryResult) {
	if ep.Transform == "" && (ep.Payload == "" || ep.Payload == hirehook.PayloadFull) && len(ep.Redact) == 0 {
		return dl.Payload, nil
	}
	start := d.cfg.NowFunc()
	result := func(reason string, retry bool) *hirehook.DeliveryResult {
		a := hirehook.Attempt{ID: hirehook.NewID("att"), DeliveryID: dl.ID, Number: dl.Attempts + 1, StartedAt: start,
			Duration: d.cfg.NowFunc().Sub(start), ErrorClass: hirehook.ErrorClassTransform, Error: reason}
		r := &hirehook.DeliveryResult{DeliveryID: dl.ID, TenantID: dl.TenantID, LeaseOwner: d.cfg.Owner, Attempt: a, State: hirehook.DeliveryFailed}
		if delay, ok := d.cfg.Retry.NextDelay(a.Number); retry && ok {
			r.State, r.NextAttemptAt = hirehook.DeliveryRetrying, start.Add(a.Duration).Add(delay)
		}
		return r
	}
	rt, err := d.cfg.Routes.Get(ep.ID, route.Spec{Transform: ep.Transform, Payload: ep.Payload, Redact: ep.Redact})
	if err != nil {
		return nil, result("route: "+hirehook.ErrorMessage(err), false)
	}
	res, err := rt.Apply(d.runCtx, dl.Payload)
	switch {
	case errors.Is(err, route.ErrTimeout):
		return nil, result("route: "+err.Error()+"; will retry", true)
	case err != nil:
		return nil, result("route: "+err.Error(), false)
	case !res.Deliver:
		return nil, result(res.Reason, false)
	}
	return res.Body, nil
}

// decide turns an attempt into the delivery's next state.
func (d *Dispatcher) decide(dl *hirehook.Delivery, ep *hirehook.Endpoint, resp Response) hirehook.DeliveryResult {
	a := resp.Attempt
	a.ID = hirehook.NewID("att")
	a.DeliveryID = dl.ID
	a.Number = dl.Attempts + 1
	r := hirehook.DeliveryResult{DeliveryID: dl.ID, TenantID: dl.TenantID, LeaseOwner: d.cfg.Owner, Attempt: a}
	switch {
	case resp.Delivered:
		r.State = hirehook.DeliveryDelivered
		return r
	case a.StatusCode == 410:
		r.State = hirehook.DeliveryFailed
		r.DisableEndpoint = "The endpoint answered 410 Gone."
		return r
	}
	if limit := d.cfg.DisableFailingAfter; limit > 0 && ep.FailingSince != nil && a.StartedAt.Sub(*ep.FailingSince) >= limit {
		// The endpoint has failed every attempt since FailingSince: it is
		// disabled and its deliveries, this one included, are paused.
		r.DisableEndpoint = fmt.Sprintf("Every attempt since %s has failed (for more than %s).",
			ep.FailingSince.UTC().Format(time.RFC3339), formatDays(limit))
	}
	delay, ok := d.cfg.Retry.NextDelay(a.Number)
	if !ok {
		r.State = hirehook.DeliveryFailed
		return r
	}
	// Retry-After only ever lengthens the wait, and never past the
	// schedule's longest step (a receiver cannot park a delivery for a year).
	delay = max(delay, min(resp.RetryAfter, d.cfg.Retry.MaxDelay()))
	r.State = hirehook.DeliveryRetrying
	r.NextAttemptAt = a.StartedAt.Add(a.Duration).Add(delay)
	return r
}

// formatDays writes a duration in days when it is a whole number of them.
func formatDays(t time.Duration) string {
	if t%(24*time.Hour) == 0 {
		if n := t / (24 * time.Hour); n == 1 {
			return "1 day"
		} else {
			return fmt.Sprintf("%d days", n)
		}
	}
	return t.String()
}

// forget drops a delivery whose endpoint is gone (deleting an endpoint
// cancels its deliveries): there is nothing to write.
func (d *Dispatcher) forget(id string) {
	d.mu.Lock()
	d.ledger.forget(id)
	d.roomLocked()
	d.mu.Unlock()
}

// handBack gives up a delivery a worker took from its lane, unattempted:
// the release loop hands it back to the store in a batch with others, due
// again at once.
func (d *Dispatcher) handBack(dl *hirehook.Delivery) {
	d.mu.Lock()
	d.ledger.handBack(dl.ID)
	d.mu.Unlock()
	d.signalOverflow()
}

// complete hands an attempt's result to the completer. On a hard stop the
// completer may be stuck on a store that is down: the result is then
// dropped rather than holding Stop up, and the delivery, still leased, is
// attempted again when its lease ends.
func (d *Dispatcher) complete(c completion) {
	d.mu.Lock()
	d.ledger.sent(c.d.ID)
	d.mu.Unlock()
	select {
	case d.results <- c: // while there is room, even after a hard stop
		return
	default:
	}
	select {
	case d.results <- c:
	case <-d.runCtx.Done():
		d.mu.Lock()
		d.ledger.completed([]string{c.d.ID}, nil)
		d.mu.Unlock()
	}
}

// claimLoop asks the store for due deliveries whenever it is woken, a
// scheduled retry comes due, or PollInterval passes.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	defer close(d.claimDone)
	timer := time.NewTimer(0)
	defer timer.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
		full, err := d.claimOnce(ctx)
		if err != nil && ctx.Err() == nil {
			backoff = min(max(2*backoff, 100*time.Millisecond), 30*time.Second)
			d.logger.Error("claim deliveries", logkey.Error, err, logkey.RetryIn, backoff)
		} else {
			backoff = 0
		}
		next := d.cfg.PollInterval
		switch {
		case backoff > 0:
			next = backoff
		case full:
			next = 0 // more may be due: claim again at once
		}
		timer.Reset(next)
	}
}

// claimOnce claims one batch and enqueues it. full reports a full batch.
func (d *Dispatcher) claimOnce(ctx context.Context) (full bool, err error) {
	if d.quiet() {
		// Not heard by the others: what it claimed now it would hand
		// back. A heartbeat that lands wakes the claimer again.
		return false, nil
	}
	var skip []string
	d.mu.Lock()
	if d.holdingLocked() > d.cfg.HoldLimit-d.cfg.ClaimBatch {
		// No room for a batch: the completer wakes the claimer again once
		// there is.
		d.claimWaits = true
		d.mu.Unlock()
		return false, nil
	}
	for id, q := range d.ledger.queues {
		if len(q) >= d.cfg.LaneBacklog/2 {
			skip = append(skip, id)
		}
	}
	for id := range d.notMine {
		skip = append(skip, id)
	}
	now := d.cfg.NowFunc()
	skip = d.pausedLocked(skip, now)
	d.mu.Unlock()
	ds, err := d.store.DeliveryClaim(ctx, hirehook.DeliveryClaimParams{
		Owner: d.cfg.Owner, Now: now, LeaseUntil: now.Add(d.cfg.Lease), Limit: d.cfg.ClaimBatch, SkipEndpoints: skip,
	})
	if err != nil {
		return false, fmt.Errorf("claim: %w", err)
	}
	if len(ds) > 0 {
		d.Enqueue(ds)
	}
	return len(ds) == d.cfg.ClaimBatch, nil
}

// releaseLoop hands the deliveries given up unattempted (by full lanes,
// workers, a lane another node serves) back to the store, in batches, so
// they are due again for a later claim.
func (d *Dispatcher) releaseLoop(ctx context.Context) {
	defer close(d.relDone)
	for {
		select {
		case <-ctx.Done():
			d.releaseOverflow() // the last ones, before Stop returns
			return
		case <-d.overflowSignal:
			d.releaseOverflow()
		}
	}
}

// signalOverflow wakes the release loop (without blocking): the ledger
// holds deliveries to hand back.
func (d *Dispatcher) signalOverflow() {
	select {
	case d.overflowSignal <- struct{}{}:
	default:
	}
}

// releaseOverflow releases what the ledger has handed back. Its store write
// ends with a hard stop (d.runCtx); one cut short by it, or made after it
// (the release loop's last one runs once Stop has stopped the claimer, which
// may be past Stop's deadline), gets one more try within Stop's grace, as
// results do (writeResults). A release is idempotent: it moves only what
// this owner still leases.
func (d *Dispatcher) releaseOverflow() {
	d.mu.Lock()
	ids := d.ledger.takeBack()
	d.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(d.runCtx, 30*time.Second)
	err := d.store.DeliveryRelease(ctx, d.cfg.Owner, ids)
	cancel()
	if err != nil && d.runCtx.Err() != nil {
		ctx, cancel := context.WithTimeout(d.stopContext(), 10*time.Second)
		err = d.store.DeliveryRelease(ctx, d.cfg.Owner, ids)
		cancel()
	}
	d.settleReleased(ids)
	if err != nil {
		// They stay leased and are claimed again when the lease runs out.
		d.logger.Error("release deliveries", logkey.Count, len(ids), logkey.Error, err)
	}
	d.Notify()
}

// settleReleased ends the hold of deliveries whose release was written or
// given up, and queues those claimed again meanwhile.
func (d *Dispatcher) settleReleased(ids []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dl := range d.ledger.released(ids) {
		d.enqueueLocked(dl)
	}
	d.roomLocked()
}

// roomLocked wakes the claimer if it waits for room under HoldLimit and
// there is room now. d.mu must be held.
func (d *Dispatcher) roomLocked() {
	if d.claimWaits && d.holdingLocked() <= d.cfg.HoldLimit-d.cfg.ClaimBatch {
		d.claimWaits = false
		d.Notify()
	}
}

// completeLoop writes attempt results in batches: whatever arrived within
// CompleteInterval of the first goes in one transaction.
func (d *Dispatcher) completeLoop() {
	defer close(d.compDone)
	batch := make([]completion, 0, 512)
	for {
		c, ok := <-d.results
		if !ok {
			return
		}
		batch = append(batch[:0], c)
		deadline := time.NewTimer(d.cfg.CompleteInterval)
	gather:
		for len(batch) < cap(batch) {
			select {
			case c, ok := <-d.results:
				if !ok {
					break gather
				}
				batch = append(batch, c)
			case <-deadline.C:
				break gather
			}
		}
		deadline.Stop()
		d.writeResults(batch)
	}
}

// writeResults stores one batch of results, retrying while the store fails:
// results are never dropped while the lease may still hold, until a hard
// stop (d.runCtx), after which one last try gets what is left of Stop's
// grace.
func (d *Dispatcher) writeResults(batch []completion) {
	rs := make([]hirehook.DeliveryResult, len(batch))
	ids := make([]string, len(batch))
	for i, c := range batch {
		rs[i], ids[i] = c.r, c.d.ID
	}
	written := false
	backoff := 50 * time.Millisecond
	for {
		last := d.runCtx.Err() != nil
		ctx, cancel := context.WithTimeout(d.runCtx, 10*time.Second)
		if last {
			ctx, cancel = context.WithTimeout(d.stopContext(), 10*time.Second)
		}
		_, err := d.store.DeliveryComplete(ctx, rs)
		cancel()
		if err == nil {
			written = true
			break
		}
		if last {
			d.logger.Error("dropping attempt results at stop; the deliveries will be attempted again", logkey.Count, len(rs), logkey.Error, err)
			break
		}
		d.logger.Error("record attempts", logkey.Count, len(rs), logkey.Error, err, logkey.RetryIn, backoff)
		wait := time.NewTimer(backoff)
		select {
		case <-wait.C:
		case <-d.runCtx.Done(): // hard stop: one last try
		}
		wait.Stop()
		backoff = min(2*backoff, 5*time.Second)
		if d.cfg.NowFunc().After(batch[0].d.LeaseExpiresAt) {
			d.logger.Error("dropping attempt results after lease expiry; the deliveries will be attempted again", logkey.Count, len(rs))
			break
		}
	}
	soonest := time.Time{}
	next := false // an ordered delivery is done: the next of its subject is due
	d.mu.Lock()
	// A delivery claimed again while its result was being written is
	// queued again, unless the result finished it (see ledger.completed).
	again := d.ledger.completed(ids, func(i int) bool { return !written || rs[i].State == hirehook.DeliveryRetrying })
	for _, dl := range again {
		d.enqueueLocked(dl)
	}
	d.roomLocked()
	d.mu.Unlock()
	if !written {
		return // logged above; OnResult sees stored results only
	}
	for _, c := range batch {
		if c.d.OrderingKey != "" && c.r.State != hirehook.DeliveryRetrying {
			next = true
		}
	}
	if next {
		d.Notify()
	}
	for _, c := range batch {
		d.log(c)
		if c.r.State == hirehook.DeliveryRetrying && (soonest.IsZero() || c.r.NextAttemptAt.Before(soonest)) {
			soonest = c.r.NextAttemptAt
		}
		if d.cfg.OnResultFunc != nil {
			d.cfg.OnResultFunc(c.d, c.r)
		}
	}
	if !soonest.IsZero() {
		if wait := soonest.Sub(d.cfg.NowFunc()); wait < d.cfg.PollInterval {
			time.AfterFunc(max(wait, 0), d.Notify)
		}
	}
}

func (d *Dispatcher) log(c completion) {
	a := c.r.Attempt
	attrs := []any{logkey.DeliveryID, c.d.ID, logkey.EventID, c.d.EventID, logkey.EndpointID, c.d.EndpointID,
		logkey.Attempt, a.Number, logkey.StatusCode, a.StatusCode, logkey.Duration, a.Duration}
	if a.ErrorClass != "" {
		attrs = append(attrs, logkey.ErrorClass, a.ErrorClass, logkey.Error, a.Error)
	}
	switch c.r.State {
	case hirehook.DeliveryDelivered:
		d.logger.Debug("delivered", attrs...)
	case hirehook.DeliveryRetrying:
		d.logger.Warn("attempt failed, will retry", append(attrs, logkey.NextAttemptAt, c.r.NextAttemptAt)...)
	case hirehook.DeliveryFailed:
		if c.r.DisableEndpoint != "" {
			attrs = append(attrs, logkey.EndpointDisabled, c.r.DisableEndpoint)
		}
		d.logger.Error("delivery failed for good", attrs...)
	}
}

// stopGrace is how long the store writes that Stop makes after its
// context is done (the last results, the release of what is held) may
// still take, together: they are worth a moment (what they miss waits for
// its lease), not an unbounded wait on a store that is down.
const stopGrace = time.Second

// Stop stops the dispatcher: no more claims; attempts in flight may finish
// until ctx is done, then they are cancelled; deliveries still held in
// memory are released to the store so they are due again at once; results
// are written. Every wait ends with ctx, even while the store is down: the
// writes left then get stopGrace more, and what they miss is attempted
// again when its lease ends. Stop may be called twice, and before Start.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.mu.Lock()
	if !d.started || d.stopped {
		d.mu.Unlock()
		return nil
	}
	d.stopped = true
	stopCtx, stopCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCancel()
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, stopCancel) })
	defer stopAfter()
	d.stopCtx = stopCtx
	d.waitCancel()
	d.ledger.leaveAll()
	d.mu.Unlock()

	d.claimStop()
	d.await(ctx, d.claimDone)
	d.await(ctx, d.relDone)
	if d.hbDone != nil {
		d.await(ctx, d.hbDone)
	}
	done := make(chan struct{})
	go func() { d.workers.Wait(); close(done) }()
	d.await(ctx, done)
	close(d.results)
	d.await(ctx, d.compDone)
	d.runCancel()

	d.mu.Lock()
	ids := d.ledger.takeBack() // handed back after the release loop ended
	d.mu.Unlock()
	relCtx, cancel := context.WithTimeout(stopCtx, 10*time.Second)
	defer cancel()
	err := d.store.DeliveryRelease(relCtx, d.cfg.Owner, ids)
	d.mu.Lock()
	d.ledger.released(ids)
	d.mu.Unlock()
	d.cfg.Sender.Close()
	for kind, p := range d.cfg.Publishers {
		if err := p.Close(); err != nil {
			d.logger.Warn("close publisher", logkey.Kind, kind, logkey.Error, err)
		}
	}
	d.logger.Info("dispatcher stopped", logkey.Released, len(ids))
	if err != nil {
		return fmt.Errorf("release deliveries at stop: %w", err)
	}
	return nil
}

// await waits for done; once ctx is done it stops hard (cancels attempts in
// flight and the store calls of the dispatcher's goroutines) and waits on.
func (d *Dispatcher) await(ctx context.Context, done <-chan struct{}) {
	select {
	case <-done:
	case <-ctx.Done():
		d.runCancel()
		<-done
	}
}

// stopContext returns the context of the store writes left once Stop's
// deadline has passed (see stopGrace).
func (d *Dispatcher) stopContext() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopCtx == nil {
		return context.WithoutCancel(d.runCtx)
	}
	return d.stopCtx
}

// endpointCache keeps endpoints (and their decoded signers) for a short TTL,
// so an attempt costs no endpoint query, while edits and rotations reach
// deliveries within the TTL.
type endpointCache struct {
	store Store
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]cachedEndpoint
}

type cachedEndpoint struct {
	ep      *hirehook.Endpoint
	signer  *hirehook.Signer
	fetched time.Time
}

func newEndpointCache(store Store, ttl time.Duration, now func() time.Time) *endpointCache {
	return &endpointCache{store: store, ttl: ttl, now: now, m: map[string]cachedEndpoint{}}
}

// markDisabled makes the cached endpoint disabled at once, ahead of the
// store write that the completer will make.
func (c *endpointCache) markDisabled(id, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ce, ok := c.m[id]
	if !ok {
		return
	}
	ep := *ce.ep
	ep.Disabled, ep.DisabledReason = true, reason
	ce.ep = &ep
	c.m[id] = ce
}

// peek returns the cached endpoint id, however old, or nil.
func (c *endpointCache) peek(id string) *hirehook.Endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ce, ok := c.m[id]; ok {
		return ce.ep
	}
	return nil
}

func (c *endpointCache) get(ctx context.Context, tenantID, id string, now time.Time) (*hirehook.Endpoint, *hirehook.Signer, error) {
	c.mu.Lock()
	ce, ok := c.m[id]
	c.mu.Unlock()
	if ok && c.now().Sub(ce.fetched) < c.ttl {
		return ce.ep, ce.signer, nil
	}
	ep, err := c.store.EndpointGet(ctx, tenantID, id)
	if err != nil {
		return nil, nil, err
	}
	signer, err := hirehook.NewSigner(ep.ActiveSecrets(now)...)
	if err != nil {
		return nil, nil, fmt.Errorf("endpoint %s secrets: %w", id, err)
	}
	c.mu.Lock()
	c.m[id] = cachedEndpoint{ep: ep, signer: signer, fetched: c.now()}
	c.mu.Unlock()
	return ep, signer, nil
}
