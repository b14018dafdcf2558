package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hirehook/hirehook/internal/logkey"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/api"
	"github.com/hirehook/hirehook/connector/bullhorn"
	"github.com/hirehook/hirehook/inbound"
	"github.com/hirehook/hirehook/internal/netguard"
	"github.com/hirehook/hirehook/metrics"
)

// sourceKinds are the kinds of source this hub runs, for the API: Bullhorn,
// which the source manager polls, and the push kinds, whose webhooks
// package inbound takes at POST /in/{source_id}.
var sourceKinds = func() map[string]api.SourceKind {
	kinds := map[string]api.SourceKind{hirehook.SourceBullhorn: bullhorn.SplitConfig}
	for _, k := range inbound.KindNames() {
		kinds[k] = inbound.SplitConfig(k)
	}
	return kinds
}()

// pushKinds are the source kinds that take webhooks.
var pushKinds = func() map[string]bool {
	kinds := map[string]bool{}
	for _, k := range inbound.KindNames() {
		kinds[k] = true
	}
	return kinds
}()

// polledKinds are the source kinds the source manager runs.
var polledKinds = []string{hirehook.SourceBullhorn}

// sourceManager runs the sources this node holds the lease of, one
// bullhorn.Poller each. Every Lease/3 (and at once when the API changed a
// source) it takes or renews its leases (Store.SourceLease), stops the
// pollers of sources it no longer holds or that were changed or deleted,
// starts the new ones, and writes each running source's health back. With
// PostgreSQL, several nodes share the sources this way: a source runs on
// one node at a time, and a dead node's sources move to another once its
// leases expire. Everything a poller writes (checkpoint, state, rotated
// refresh tokens, health) names the lease owner, so a node that lost a
// lease cannot overwrite the new holder's checkpoint.
type sourceManager struct {
	store  hirehook.Store
	ingest hirehook.Ingester
	// owner names this node in leases (the dispatcher's owner).
	owner      string
	lease      time.Duration
	httpClient *http.Client
	logger     *slog.Logger
	// pollerLogger is the hub's logger, which the connector names itself in.
	pollerLogger *slog.Logger

	nudge   chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	running map[string]*runningSource
	once    sync.Once
}

type runningSource struct {
	src    *hirehook.Source // as started
	poller *bullhorn.Poller
	// base is the health stored when the poller started: the poller's
	// counters start at zero, the source's add up.
	base hirehook.SourceHealth
	// renewed is when the source's lease was last taken or renewed.
	renewed time.Time
}

func newSourceManager(store hirehook.Store, in hirehook.Ingester, owner string, lease time.Duration, allowPrivate bool, logger *slog.Logger) *sourceManager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &sourceManager{
		store: store, ingest: in, owner: owner, lease: lease,
		httpClient:   sourceHTTPClient(allowPrivate),
		logger:       logger.With(logkey.Component, "sources"),
		pollerLogger: logger,
		nudge:        make(chan struct{}, 1),
		running:      map[string]*runningSource{},
	}
}

// sourceHTTPClient is the client sources poll their vendors with and
// inbound hydration fetches records with. It refuses the addresses the
// webhook sender refuses, with the same guard (package netguard) at dial
// time (unless allowed), since an admin names the URLs and, for hydration,
// a vendor's payload may; Bullhorn's login redirects to the corporation's
// data centre, so redirects are followed (through the same dialer). No
// proxy from the environment is used: it would dial for us.
func sourceHTTPClient(allowPrivate bool) *http.Client {
	return netguard.Client(netguard.Options{AllowPrivate: allowPrivate, Timeout: 60 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second, MaxIdleConnsPerHost: 4})
}

// Start starts the loop; it returns at once.
func (m *sourceManager) Start(ctx context.Context) {
	ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	m.done = make(chan struct{})
	go m.loop(ctx)
}

// Changed makes the loop look at the sources now (the API changed one).
func (m *sourceManager) Changed() {
	select {
	case m.nudge <- struct{}{}:
	default:
	}
}

// Stop stops every poller, writes their health and releases the leases so
// that another node may take the sources at once. It may be called twice,
// and before Start.
func (m *sourceManager) Stop(ctx context.Context) error {
	var err error
	m.once.Do(func() {
		if m.cancel == nil {
			return
		}
		m.cancel()
		<-m.done
		m.mu.Lock()
		defer m.mu.Unlock()
		var errs []error
		for id, rs := range m.running {
			errs = append(errs, m.stopOne(ctx, rs))
			delete(m.running, id)
		}
		if e := m.store.SourceRelease(context.WithoutCancel(ctx), m.owner); e != nil {
			errs = append(errs, e)
		}
		err = errors.Join(errs...)
	})
	return err
}

func (m *sourceManager) loop(ctx context.Context) {
	defer close(m.done)
	every := m.lease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	var lastLog time.Time
	for {
		if err := m.Reconcile(ctx); err != nil && ctx.Err() == nil {
			// The log line is rate-limited; the next tick tries again,
			// and the leases outlive two missed ticks.
			if time.Since(lastLog) >= time.Minute {
				m.logger.Error("run sources", logkey.Error, err)
				lastLog = time.Now()
			}
			m.stopExpiring(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.nudge:
		}
	}
}

// stopExpiring stops the pollers whose leases were last renewed two thirds
// of a lease ago (the store is failing): another node may take their
// sources once the leases expire, and two nodes must not read one
// subscription, since Bullhorn hands each batch to one reader only.
func (m *sourceManager) stopExpiring(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, rs := range m.running {
		if time.Since(rs.renewed) > 2*m.lease/3 {
			m.logger.Warn("source lease not renewed; stopping it", logkey.SourceID, id)
			_ = m.stopOne(ctx, rs) // its report fails too, most likely
			delete(m.running, id)
		}
	}
}

// Reconcile runs one round now: lease, stop, start, report. The loop
// runs it every Lease/3; tests call it rather than wait for it.
func (m *sourceManager) Reconcile(ctx context.Context) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	held, err := m.store.SourceLease(ctx, hirehook.SourceLeaseParams{Owner: m.owner, Now: now, Until: now.Add(m.lease), Kinds: polledKinds})
	if err != nil {
		return fmt.Errorf("lease sources: %w", err)
	}
	want := make(map[string]*hirehook.Source, len(held))
	for _, src := range held {
		want[src.ID] = src
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for id, rs := range m.running {
		if src, ok := want[id]; !ok || !src.UpdatedAt.Equal(rs.src.UpdatedAt) {
			errs = append(errs, m.stopOne(ctx, rs))
			delete(m.running, id)
		}
	}
	for id, src := range want {
		if _, ok := m.running[id]; ok {
			continue
		}
		rs, err := m.startOne(ctx, src)
		if err != nil {
			// A source that cannot start says why in its health.
			h := src.Health
			h.LastError, h.LastErrorAt = hirehook.ErrorMessage(err), &now
			if hirehook.ErrorCode(err) == hirehook.EINTERNAL {
				h.LastError = "The source could not start: " + err.Error()
			}
			_ = m.store.SourceReport(ctx, hirehook.SourceReportParams{TenantID: src.TenantID, ID: src.ID, Owner: m.owner, Health: &h})
			errs = append(errs, fmt.Errorf("start source %s: %w", id, err))
			continue
		}
		m.running[id] = rs
		m.logger.Info("source started", logkey.SourceID, id, logkey.Kind, src.Kind)
	}
	for id := range want {
		if rs, ok := m.running[id]; ok {
			rs.renewed = now
		}
	}
	for _, rs := range m.running {
		if err := m.report(ctx, rs); err != nil && hirehook.ErrorCode(err) != hirehook.ECONFLICT {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *sourceManager) startOne(ctx context.Context, src *hirehook.Source) (*runningSource, error) {
	if src.Kind != hirehook.SourceBullhorn {
		return nil, hirehook.Errorf(hirehook.EINVALID, "This hub does not run sources of kind %q.", src.Kind)
	}
	cfg, err := bullhorn.JoinConfig(src.Config, src.Secrets)
	if err != nil {
		return nil, err
	}
	st := &storeSourceState{store: m.store, tenantID: src.TenantID, sourceID: src.ID, owner: m.owner}
	p, err := bullhorn.NewSource(cfg, bullhorn.SourceDeps{
		SourceID:   src.ID,
		Checkpoint: st,
		State:      st,
		Emit:       m.emitFunc(src),
		TokenFunc: func(ctx context.Context, t bullhorn.Token) error {
			if t.RefreshToken == "" {
				return nil
			}
			return m.store.SourceReport(ctx, hirehook.SourceReportParams{TenantID: src.TenantID, ID: src.ID, Owner: m.owner,
				Secrets: map[string]string{"refresh_token": t.RefreshToken}})
		},
		HTTPClient: m.httpClient,
		Logger:     m.pollerLogger,
	})
	if err != nil {
		return nil, err
	}
	// The health as stored now, after the reports of a poller this round
	// stopped (the row SourceLease returned predates them).
	cur, err := m.store.SourceGet(ctx, src.TenantID, src.ID)
	if err != nil {
		return nil, err
	}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return &runningSource{src: src, poller: p, base: cur.Health}, nil
}

// stopOne stops a poller (its in-flight batch is re-read by the next one,
// so nothing is lost) and writes its last health.
func (m *sourceManager) stopOne(ctx context.Context, rs *runningSource) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := rs.poller.Stop(ctx)
	if rerr := m.report(ctx, rs); rerr != nil && hirehook.ErrorCode(rerr) != hirehook.ECONFLICT && hirehook.ErrorCode(rerr) != hirehook.ENOTFOUND {
		err = errors.Join(err, rerr)
	}
	m.logger.Info("source stopped", logkey.SourceID, rs.src.ID)
	return err
}

// report writes a running source's health: what was stored when it started
// plus the poller's counters.
func (m *sourceManager) report(ctx context.Context, rs *runningSource) error {
	h := rs.health()
	return m.store.SourceReport(ctx, hirehook.SourceReportParams{TenantID: rs.src.TenantID, ID: rs.src.ID, Owner: m.owner, Health: &h})
}

// health is the source's health: what was stored when its poller started,
// plus the poller's counters since.
func (rs *runningSource) health() hirehook.SourceHealth {
	s := rs.poller.Stats()
	h := rs.base
	h.EventsRead += s.EventsRead
	h.EventsEmitted += s.EventsEmitted
	h.Errors += s.Errors
	if !s.LastPollAt.IsZero() {
		h.LastPollAt = new(s.LastPollAt.UTC())
	}
	if !s.LastSuccessAt.IsZero() {
		h.LastSuccessAt = new(s.LastSuccessAt.UTC())
	}
	if s.LastError != "" {
		h.LastError, h.LastErrorAt = s.LastError, new(s.LastErrorAt.UTC())
	}
	if s.Lag != 0 {
		h.LagMS = s.Lag.Milliseconds()
	}
	return h
}

// Metrics returns the health of the sources this node runs, for the
// Prometheus collector. Safe on a nil manager.
func (m *sourceManager) Metrics() []metrics.SourceStats {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]metrics.SourceStats, 0, len(m.running))
	for _, rs := range m.running {
		out = append(out, metrics.SourceStats{ID: rs.src.ID, Kind: rs.src.Kind, Health: rs.health()})
	}
	return out
}

// emitFunc commits a source's events through the ingester, in one group
// commit. An event the catalog refuses is dropped with a warning rather
// than failing the batch: the poller would re-read it for ever.
func (m *sourceManager) emitFunc(src *hirehook.Source) bullhorn.EmitFunc {
	return func(ctx context.Context, events []*hirehook.Event) error {
		prepared := make([]*hirehook.Event, 0, len(events))
		for _, e := range events {
			in, err := bullhorn.ToInput(e)
			if err != nil {
				return fmt.Errorf("source %s event %s: %w", src.ID, e.ID, err)
			}
			pe, err := m.ingest.Prepare(src.TenantID, in, "")
			if hirehook.ErrorCode(err) == hirehook.EINVALID {
				m.logger.Warn("source event refused by the catalog; dropped", logkey.SourceID, src.ID, logkey.EventID, e.ID, logkey.Type, e.Type,
					logkey.Field, hirehook.ErrorField(err), logkey.Error, hirehook.ErrorMessage(err))
				continue
			} else if err != nil {
				return fmt.Errorf("source %s event %s: %w", src.ID, e.ID, err)
			}
			prepared = append(prepared, pe)
		}
		if len(prepared) == 0 {
			return nil
		}
		_, err := m.ingest.Commit(ctx, prepared)
		return err
	}
}

// storeSourceState backs a poller's Checkpoint and LastState with the
// store: the checkpoint in the source's row, statuses in its state under
// "status/<Entity>/<id>".
type storeSourceState struct {
	store              hirehook.Store
	tenantID, sourceID string
	owner              string
}

// Load implements bullhorn.Checkpoint.
func (s *storeSourceState) Load(ctx context.Context) (bullhorn.State, error) {
	var st bullhorn.State
	src, err := s.store.SourceGet(ctx, s.tenantID, s.sourceID)
	if err != nil {
		return st, err
	}
	if len(src.Checkpoint) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(src.Checkpoint, &st); err != nil {
		return st, fmt.Errorf("decode source %s checkpoint: %w", s.sourceID, err)
	}
	return st, nil
}

// Save implements bullhorn.Checkpoint: durable when it returns (the store
// commits), and refused once this node lost the lease.
func (s *storeSourceState) Save(ctx context.Context, st bullhorn.State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.store.SourceReport(ctx, hirehook.SourceReportParams{TenantID: s.tenantID, ID: s.sourceID, Owner: s.owner, Checkpoint: b})
}

func statusKey(entity string, id int64) string {
	return "status/" + entity + "/" + strconv.FormatInt(id, 10)
}

// LastStatus implements bullhorn.LastState.
func (s *storeSourceState) LastStatus(ctx context.Context, entity string, id int64) (string, bool, error) {
	v, err := s.store.SourceStateGet(ctx, hirehook.SourceStateParams{TenantID: s.tenantID, SourceID: s.sourceID, Key: statusKey(entity, id)})
	if hirehook.ErrorCode(err) == hirehook.ENOTFOUND {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// SetStatus implements bullhorn.LastState.
func (s *storeSourceState) SetStatus(ctx context.Context, entity string, id int64, status string) error {
	return s.store.SourceStateSet(ctx, hirehook.SourceStateParams{TenantID: s.tenantID, SourceID: s.sourceID, Key: statusKey(entity, id), Value: status})
}

// Runs reports whether this node runs the source now.
func (m *sourceManager) Runs(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.running[id]
	return ok
}
