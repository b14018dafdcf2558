// Package hub assembles one hirehook hub: it opens the store (SQLite with
// its key file, or PostgreSQL), and starts the dispatcher, the ingester,
// the retention purger, the source manager (sources.go), the backfill
// runner, the inbound worker, the operational-event emitter (opevents.go)
// and the HTTP server, and stops them in order. `hirehook serve`
// (cmd/hirehook), the bench, the demo and internal/hubtest all start the
// hub through New and Open, so tests run what production runs.
package hub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"log/slog"
	"net"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/backfill"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/delivery"
	"github.com/hirehook/hirehook/inbound"
	"github.com/hirehook/hirehook/ingest"
	"github.com/hirehook/hirehook/metrics"
	"github.com/hirehook/hirehook/retention"
	"github.com/hirehook/hirehook/route"
	"github.com/hirehook/hirehook/server"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/sqlite"
	"github.com/hirehook/hirehook/web"
)

// Hub is one running hirehook: store, dispatcher, ingester and HTTP server,
// wired together. Tests start it on :0 with a temporary database.
type Hub struct {
	Config Config
	Logger *slog.Logger
	// OnResultFunc, if set before Open, sees every stored attempt result.
	OnResultFunc func(d *hirehook.Delivery, r hirehook.DeliveryResult)

	Store      hirehook.Store
	Dispatcher *delivery.Dispatcher
	Ingester   *ingest.Ingester
	Purger     *retention.Purger
	Server     *server.Server
	// Metrics counts ingest and attempts and serves GET /metrics.
	Metrics *metrics.Metrics
	// Sources runs the sources (Bullhorn pollers) this node holds.
	Sources *sourceManager
	// Backfills runs the backfills this node leases.
	Backfills *backfill.Runner
	// Inbound normalises the webhooks of push sources that are due on
	// this node (hydration, retries, reprocessing).
	Inbound *inbound.Worker

	// GeneratedKey is the admin key generated at first start, if any.
	GeneratedKey string

	// On PostgreSQL, the listener that wakes the dispatcher when another
	// node makes deliveries due (see postgres.Store.Listen).
	listenStop context.CancelFunc
	listenDone chan struct{}

	// opEvents emits the operational events (endpoint.disabled,
	// delivery.failing, ...) from stored attempt results; see opevents.go.
	opEvents *opEmitter
}

// New returns a Hub for cfg; Open starts it.
func New(cfg Config, logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{Config: cfg, Logger: logger}
}

// Open opens the store, makes sure an admin key exists, and starts
// delivering and serving.
func (h *Hub) Open(ctx context.Context) (err error) {
	// The port first: a taken one fails the start before the database
	// and the key file are created, so nothing is left half-made.
	ln, err := net.Listen("tcp", h.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", h.Config.Addr, err)
	}
	defer func() {
		if err != nil {
			ln.Close() // the server, if it got it, is not serving it
		}
	}()
	var st hirehook.Store
	var pg *postgres.Store
	var path string // of the SQLite file; "" with PostgreSQL
	if h.Config.PostgresURL() != "" {
		if pg, err = OpenPostgres(ctx, h.Config, h.Logger); err != nil {
			return err
		}
		st = pg
	} else {
		if path, err = h.Config.SQLitePath(); err != nil {
			return &ConfigError{Field: "db", Value: h.Config.DB, Err: err}
		}
		ring, err := LoadKeyring(h.Config, path, h.Logger)
		if err != nil {
			return err
		}
		lite, err := sqlite.OpenWithOptions(ctx, path, sqlite.Options{Keyring: ring, Exclusive: true})
		if err != nil {
			return fmt.Errorf("open store: %w", KeyHint(err, h.Config, path))
		}
		st = lite
		// This hub is the file's one process (Exclusive: a second hub, or
		// rotate-encryption-key or migrate-store, is refused while it
		// runs): a delivery still leased was
		// left by a hub that ended mid-attempt (kill -9, power cut). It is
		// due now, not when its lease runs out. (With PostgreSQL, the live
		// nodes release a dead node's leases when its heartbeat lapses.)
		n, err := lite.DeliveryReleaseAll(ctx, time.Now())
		if err != nil {
			lite.Close()
			return fmt.Errorf("open store: %w", err)
		}
		if n > 0 {
			h.Logger.Info("released the deliveries a previous run left leased", logkey.Count, n)
		}
	}
	h.Store = st
	defer func() {
		if err != nil {
			h.Close(context.WithoutCancel(ctx))
		}
	}()
	// The wrong key stops the hub here rather than failing every delivery.
	enc := st.Capabilities().Encryption
	if enc == nil {
		return errors.New("open store: the store does not seal secrets at rest")
	}
	if err := enc.CheckEncryption(ctx); err != nil {
		return fmt.Errorf("open store: %w", KeyHint(err, h.Config, path))
	}
	// Before serving: a key stored the old way must work from the first
	// request, which looks keys up by their keyed hash only.
	if n, err := enc.UpgradeSecrets(ctx); err != nil {
		return fmt.Errorf("open store: %w", err)
	} else if n > 0 {
		h.Logger.Info("sealed custom headers and rehashed API keys stored by an older hub", logkey.Rows, n)
	}
	if err := h.bootstrapKey(ctx); err != nil {
		return err
	}

	cat := catalog.Default()
	h.Metrics = metrics.New(metrics.Config{Store: st, Logger: h.Logger,
		// Read at scrape time: the source manager starts later in Open.
		SourcesFunc: func() []metrics.SourceStats { return h.Sources.Metrics() }})
	onResult := func(d *hirehook.Delivery, r hirehook.DeliveryResult) {
		h.Metrics.ObserveResult(d, r)
		h.opEvents.Observe(d, r)
		if h.OnResultFunc != nil {
			h.OnResultFunc(d, r)
		}
	}
	// Routes: the filters run at ingest, the rest (redact, thin,
	// transform) at send; each side keeps its own compiled routes.
	routeOpts := route.Options{Catalog: cat}
	publishers, err := h.Config.publishers()
	if err != nil {
		return err
	}
	h.Dispatcher = delivery.New(st, delivery.Config{
		Publishers:          publishers,
		Routes:              route.NewCache(routeOpts),
		Lease:               h.Config.DeliveryLease,
		EndpointConcurrency: h.Config.EndpointConcurrency,
		DisableFailingAfter: disableAfter(h.Config.DisableFailingAfter),
		Retry:               &hirehook.ScheduleRetryPolicy{Schedule: h.Config.RetrySchedule, Jitter: 0.2},
		Sender: delivery.NewSender(delivery.SenderConfig{
			Timeout:      h.Config.DeliveryTimeout,
			AllowPrivate: h.Config.AllowPrivateDestinations,
		}),
		PollInterval:     h.Config.PollInterval,
		EndpointCacheTTL: h.Config.EndpointCacheTTL,
		Logger:           h.Logger,
		OnResultFunc:     onResult,
	})
	h.Ingester = ingest.New(st, ingest.Config{
		Catalog:        cat,
		HandoffFunc:    h.Dispatcher.Enqueue,
		CanHandoffFunc: h.Dispatcher.CanTake,
		LeaseOwner:     h.Dispatcher.Owner(),
		Lease:          h.Dispatcher.Lease(),
		NotifyFunc:     h.Dispatcher.Notify,
		OnCommitFunc:   h.Metrics.ObserveIngest,
		MatchFunc:      ingest.FilterFunc(route.NewCache(routeOpts), h.Logger),
		Timeout:        h.Config.IngestTimeout,
		Logger:         h.Logger,
	})
	h.opEvents = newOpEmitter(st, h.Ingester, h.Logger)
	if err := h.Dispatcher.Start(ctx); err != nil {
		return err
	}
	if wake := st.Capabilities().Wake; wake != nil {
		// Other nodes wake this one through LISTEN/NOTIFY; the dispatcher's
		// poll stays as the fallback.
		listenCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		h.listenStop, h.listenDone = stop, make(chan struct{})
		go func() {
			defer close(h.listenDone)
			_ = wake.Listen(listenCtx, h.Dispatcher.Notify)
		}()
	}
	h.Purger = &retention.Purger{Store: st, Interval: h.Config.RetentionInterval, Logger: h.Logger}
	if err := h.Purger.Start(ctx); err != nil {
		return err
	}
	if err := h.Ingester.Start(ctx); err != nil {
		return err
	}
	h.opEvents.Start() // after the ingester: it commits through it
	// Sources emit through the ingester too.
	h.Sources = newSourceManager(st, h.Ingester, h.Dispatcher.Owner(), h.Config.SourceLease, h.Config.AllowPrivateDestinations, h.Logger)
	h.Sources.Start(ctx)
	// Backfills: leased like sources, so one node runs each, and resumed
	// from their cursors at start.
	h.Backfills = &backfill.Runner{Store: st, Owner: h.Dispatcher.Owner(), NotifyFunc: h.Dispatcher.Notify, Route: routeOpts,
		LeaseTTL: h.Config.SourceLease, Logger: h.Logger.With(logkey.Component, "backfill")}
	h.Backfills.Start(ctx)
	processor := &inbound.Processor{Store: st, Ingest: h.Ingester, HTTPClient: sourceHTTPClient(h.Config.AllowPrivateDestinations),
		Logger: h.Logger.With(logkey.Component, "inbound")}
	h.Inbound = &inbound.Worker{Processor: processor, Owner: h.Dispatcher.Owner()}
	h.Inbound.Start(ctx)
	dashboard, err := web.New(web.Config{Store: st, Catalog: cat, Route: routeOpts, NotifyFunc: h.Dispatcher.Notify, Ingester: h.Ingester, Pauses: h.Dispatcher,
		PushKinds: pushKinds, InboundChangedFunc: h.Inbound.Nudge, PublicURL: h.Config.PublicURL, Logger: h.Logger,
		SourceKinds: sourceKinds, SourcesChangedFunc: h.Sources.Changed})
	if err != nil {
		return err
	}
	h.Server = &server.Server{
		Addr:     h.Config.Addr,
		Listener: ln,
		Store:    st,
		Web:      dashboard,
		Metrics:  h.Metrics.Handler(),
		Inbound: &inbound.Handler{Store: st, Processor: processor, MaxBodyBytes: h.Config.MaxBodyBytes,
			NudgeFunc: h.Inbound.Nudge, ObserveFunc: h.Metrics.ObserveInbound, Logger: h.Logger.With(logkey.Component, "inbound")},
		API: api.New(api.Config{
			Store:        st,
			Ingester:     h.Ingester,
			Catalog:      cat,
			Route:        routeOpts,
			NotifyFunc:   h.Dispatcher.Notify,
			MaxBodyBytes: h.Config.MaxBodyBytes,
			RateLimit:    h.Config.APIRateLimit,
			// Endpoints created without a max_concurrency get the hub's.
			DefaultMaxConcurrency: h.Config.EndpointConcurrency,
			OnRejectedFunc:        h.Metrics.ObserveRejected,
			Logger:                h.Logger,
			SourceKinds:           sourceKinds,
			SourcesChangedFunc:    h.Sources.Changed,
			PushKinds:             pushKinds,
			InboundChangedFunc:    h.Inbound.Nudge,
			PublicURL:             h.Config.PublicURL,
			BackfillsChangedFunc:  h.Backfills.Poke,
		}),
		Logger: h.Logger,
	}
	if err := h.Server.Open(); err != nil {
		return err
	}
	h.Logger.Info("hirehook listening", logkey.URL, h.Server.URL(), logkey.DB, RedactDB(h.Config.DB), logkey.Version, hirehook.Version,
		"allow_private_destinations", h.Config.AllowPrivateDestinations)
	return nil
}

// bootstrapKey stores the hash of --admin-key, or on a first start without
// one generates a key that Open's caller prints once.
func (h *Hub) bootstrapKey(ctx context.Context) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if h.Config.AdminKey != "" {
		_, err := h.Store.APIKeyByHash(ctx, api.HashKey(h.Config.AdminKey))
		if hirehook.ErrorCode(err) != hirehook.ENOTFOUND {
			return err
		}
		return h.Store.APIKeyCreate(ctx, &hirehook.APIKey{
			ID: hirehook.NewID("key"), TenantID: hirehook.DefaultTenantID, Name: "operator (--admin-key)",
			Scope: hirehook.ScopeOperator, Hash: api.HashKey(h.Config.AdminKey), CreatedAt: now,
		})
	}
	n, err := h.Store.APIKeyCount(ctx)
	if err != nil || n > 0 {
		return err
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	key := "hh_" + base64.RawURLEncoding.EncodeToString(b[:])
	if err := h.Store.APIKeyCreate(ctx, &hirehook.APIKey{
		ID: hirehook.NewID("key"), TenantID: hirehook.DefaultTenantID, Name: "operator (generated)",
		Scope: hirehook.ScopeOperator, Hash: api.HashKey(key), CreatedAt: now,
	}); err != nil {
		return err
	}
	h.GeneratedKey = key
	return nil
}

// OpEventCounts returns the operational-event emitter's counts (see
// opEmitter.Counts); tests wait on them.
func (h *Hub) OpEventCounts() (observed, queued, emitted int64) { return h.opEvents.Counts() }

// URL returns the base URL of the API.
func (h *Hub) URL() string { return h.Server.URL() }

// Close shuts down in order: stop taking requests, commit what ingest has
// queued, let deliveries in flight finish (or cancel them at the deadline)
// and release what was not attempted, then close the store. It may be
// called twice.
func (h *Hub) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.Config.ShutdownTimeout)
	defer cancel()
	var errs []error
	if h.Server != nil {
		errs = append(errs, h.Server.Close(ctx))
	}
	// The purger stops at once (between or inside a batch); stopping it
	// before the dispatcher keeps it clear of the dispatcher's deadline.
	if h.Purger != nil {
		errs = append(errs, h.Purger.Stop(ctx))
	}
	// Sources emit through the ingester: stop them first; a batch in
	// flight is re-read by whichever node runs the source next.
	if h.Sources != nil {
		errs = append(errs, h.Sources.Stop(ctx))
	}
	// The inbound worker emits through the ingester too; a request in
	// hand is finished, the others wait for their claims to run out.
	if h.Inbound != nil {
		errs = append(errs, h.Inbound.Stop(ctx))
	}
	// Backfills stop between pages; each resumes from its cursor.
	if h.Backfills != nil {
		errs = append(errs, h.Backfills.Stop(ctx))
	}
	// Operational events go through the ingester: commit the queued ones
	// before it stops. Results stored later (the dispatcher stops last)
	// are dropped.
	if h.opEvents != nil {
		errs = append(errs, h.opEvents.Stop(ctx))
	}
	if h.Ingester != nil {
		errs = append(errs, h.Ingester.Stop(ctx))
	}
	if h.Dispatcher != nil {
		errs = append(errs, h.Dispatcher.Stop(ctx))
	}
	if h.listenStop != nil {
		h.listenStop()
		<-h.listenDone
	}
	if h.Store != nil {
		errs = append(errs, h.Store.Close())
	}
	err := errors.Join(errs...)
	if err == nil {
		h.Logger.Info("hirehook stopped")
	}
	return err
}

// disableAfter turns --disable-failing-after (0: never) into the
// dispatcher's setting (negative: never).
func disableAfter(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
