// Package metrics exports the hub's Prometheus metrics at GET /metrics:
// what was ingested, how attempts ended and how long they took (counted as
// they happen, from the ingester's and the dispatcher's hooks), and the
// queue and the store's health (read from the store at scrape time).
//
// The metrics live in a registry owned by one Metrics, not in the global
// default registry, so that two hubs in one process (tests) never share or
// collide on a counter.
//
// Label values are bounded: event types by the catalog, sources by
// MaxSources, endpoint ids by the endpoints that exist.
package metrics

import (
	"context"
	"github.com/hirehook/hirehook/internal/logkey"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hirehook/hirehook"
)

// Config configures Metrics.
type Config struct {
	// Store is read at scrape time for the queue and the ping.
	Store Store
	// ScrapeTimeout bounds the store reads of one scrape. Default 2 s.
	ScrapeTimeout time.Duration
	// MaxSources is how many distinct event sources get their own label
	// value; events from further sources count as "other". Sources are
	// free text from producers, so without a bound one producer could make
	// the series grow without end. Default 64.
	MaxSources int
	// NowFunc returns the current time. Default time.Now.
	NowFunc func() time.Time
	// Logger receives scrape failures. Default: discard.
	Logger *slog.Logger
	// SourcesFunc, if set, returns the sources this node runs, read at scrape
	// time. Each source runs on one node, so summing over nodes counts
	// each once.
	SourcesFunc func() []SourceStats
}

// SourceStats is one running source's health, for the source metrics.
type SourceStats struct {
	ID, Kind string
	Health   hirehook.SourceHealth
}

// Metrics holds the hub's metrics and their registry.
type Metrics struct {
	cfg      Config
	logger   *slog.Logger
	registry *prometheus.Registry

	eventsIngested  *prometheus.CounterVec
	eventsRejected  *prometheus.CounterVec
	inbound         *prometheus.CounterVec
	deliveries      *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec

	mu      sync.Mutex
	sources map[string]bool
}

// Source label values that are not a producer's source.
const (
	// SourceNone labels events sent without a source.
	SourceNone = "none"
	// SourceOther labels events from sources past Config.MaxSources.
	SourceOther = "other"
)

// New returns Metrics with every metric registered.
func New(cfg Config) *Metrics {
	if cfg.ScrapeTimeout <= 0 {
		cfg.ScrapeTimeout = 2 * time.Second
	}
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = 64
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		cfg:      cfg,
		logger:   logger.With(logkey.Component, "metrics"),
		registry: prometheus.NewRegistry(),
		sources:  map[string]bool{},
		eventsIngested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hirehook_events_ingested_total",
			Help: "Events accepted and committed, by event type and source (duplicates are not counted).",
		}, []string{"type", "source"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hirehook_deliveries_total",
			Help: "Attempt results by endpoint and outcome: delivered (2xx, final), retrying (failed, another attempt is scheduled) or failed (no attempt left, or the endpoint is gone).",
		}, []string{"endpoint_id", "outcome"}),
		eventsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hirehook_events_rejected_total",
			Help: "Event requests (POST /v1/events and /v1/events/batch) answered with an error, by reason: invalid (bad JSON, unknown type, schema), unauthorized, too_large, rate_limited, unavailable (503: the store cannot take it now, or the hub is stopping; retry), internal (any other 5xx) or other.",
		}, []string{"reason"}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hirehook_inbound_requests_total",
			Help: "Webhooks received by push sources at /in/{source_id}, by source kind and outcome: processed, received (left to the worker), duplicate, unsupported, failed, rejected (bad signature) or handshake.",
		}, []string{"kind", "status"}),
		attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hirehook_attempt_duration_seconds",
			Help: "Duration of webhook attempts, from dial to the end of the answer (or the error), by endpoint.",
			// From a fast receiver on the same network to the 15 s
			// default attempt timeout and beyond.
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30},
		}, []string{"endpoint_id"}),
	}
	m.registry.MustRegister(
		m.eventsIngested, m.eventsRejected, m.deliveries, m.attemptDuration, m.inbound,
		&storeCollector{m: m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry the metrics are registered in.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the metrics in the Prometheus text format. A scrape that
// cannot read the store still answers, without the queue figures and with
// hirehook_store_up 0.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       2 * m.cfg.ScrapeTimeout,
	})
}

// ObserveIngest counts the events of one committed batch: results[i] is
// the answer for events[i] (ingest.Config.OnCommit). Duplicates wrote
// nothing and are not counted.
func (m *Metrics) ObserveIngest(events []*hirehook.Event, results []hirehook.EventIngestResult) {
	for i, e := range events {
		if i < len(results) && results[i].Duplicate {
			continue
		}
		m.eventsIngested.WithLabelValues(e.Type, m.sourceLabel(e.Source)).Inc()
	}
}

// sourceLabel bounds the source label's values to MaxSources.
func (m *Metrics) sourceLabel(source string) string {
	if source == "" {
		return SourceNone
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sources[source] {
		return source
	}
	if len(m.sources) >= m.cfg.MaxSources {
		return SourceOther
	}
	m.sources[source] = true
	return source
}

// ObserveRejected counts one event request answered with status (api.Config.OnRejected).
func (m *Metrics) ObserveRejected(status int) {
	reason := "other"
	switch {
	case status == 400 || status == 422 || status == 409:
		reason = "invalid"
	case status == 401 || status == 403:
		reason = "unauthorized"
	case status == 413:
		reason = "too_large"
	case status == 429:
		reason = "rate_limited"
	case status == 503:
		reason = "unavailable"
	case status >= 500:
		reason = "internal"
	}
	m.eventsRejected.WithLabelValues(reason).Inc()
}

// ObserveInbound counts one webhook a push source received
// (inbound.Handler.Observe).
func (m *Metrics) ObserveInbound(kind, status string) {
	m.inbound.WithLabelValues(kind, status).Inc()
}

// ObserveResult counts one stored attempt result (delivery.Config.OnResult).
func (m *Metrics) ObserveResult(d *hirehook.Delivery, r hirehook.DeliveryResult) {
	m.deliveries.WithLabelValues(d.EndpointID, string(r.State)).Inc()
	m.attemptDuration.WithLabelValues(d.EndpointID).Observe(r.Attempt.Duration.Seconds())
}

// storeCollector reads the queue and pings the store at scrape time.
type storeCollector struct {
	m *Metrics
}

var (
	queueDepthDesc = prometheus.NewDesc("hirehook_queue_depth",
		"Unfinished deliveries by endpoint and state: pending (due), retrying (waiting for the next attempt), delivering (leased to a worker, in flight or in its lane) or paused (the endpoint is disabled).",
		[]string{"endpoint_id", "state"}, nil)
	queueOldestDesc = prometheus.NewDesc("hirehook_queue_oldest_age_seconds",
		"Age of the endpoint's oldest unfinished delivery; 0 when it owes nothing.",
		[]string{"endpoint_id"}, nil)
	storePingDesc = prometheus.NewDesc("hirehook_store_ping_seconds",
		"How long the store took to answer a ping at this scrape.", nil, nil)
	sourceReadDesc = prometheus.NewDesc("hirehook_source_events_read_total",
		"Vendor events a source read (a Bullhorn subscription's events), by source; reported by the node running it.", []string{"source_id", "kind"}, nil)
	sourceEmittedDesc = prometheus.NewDesc("hirehook_source_events_emitted_total",
		"Catalog events a source ingested, by source.", []string{"source_id", "kind"}, nil)
	sourceErrorsDesc = prometheus.NewDesc("hirehook_source_errors_total",
		"Failed reads of a source (login, poll, fetch), by source.", []string{"source_id", "kind"}, nil)
	sourceLagDesc = prometheus.NewDesc("hirehook_source_lag_seconds",
		"Time from the vendor's timestamp of a source's newest event to its ingest, by source.", []string{"source_id", "kind"}, nil)
	sourceSuccessAgeDesc = prometheus.NewDesc("hirehook_source_last_success_age_seconds",
		"Time since a source's last successful read (-1 before its first), by source.", []string{"source_id", "kind"}, nil)
	storeUpDesc = prometheus.NewDesc("hirehook_store_up",
		"1 if the store answered this scrape's ping and queue read and its last write did not fail for want of the store (a full disk, a read-only or unreachable database), else 0.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- queueOldestDesc
	ch <- storePingDesc
	ch <- storeUpDesc
	ch <- sourceReadDesc
	ch <- sourceEmittedDesc
	ch <- sourceErrorsDesc
	ch <- sourceLagDesc
	ch <- sourceSuccessAgeDesc
}

// Collect implements prometheus.Collector. Prometheus gives Collect no
// context, so the reads carry their own short timeout: a slow store makes
// the scrape answer without queue figures rather than hang.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	if m.cfg.SourcesFunc != nil {
		now := m.cfg.NowFunc()
		for _, s := range m.cfg.SourcesFunc() {
			h := s.Health
			ch <- prometheus.MustNewConstMetric(sourceReadDesc, prometheus.CounterValue, float64(h.EventsRead), s.ID, s.Kind)
			ch <- prometheus.MustNewConstMetric(sourceEmittedDesc, prometheus.CounterValue, float64(h.EventsEmitted), s.ID, s.Kind)
			ch <- prometheus.MustNewConstMetric(sourceErrorsDesc, prometheus.CounterValue, float64(h.Errors), s.ID, s.Kind)
			ch <- prometheus.MustNewConstMetric(sourceLagDesc, prometheus.GaugeValue, float64(h.LagMS)/1000, s.ID, s.Kind)
			age := -1.0
			if h.LastSuccessAt != nil {
				age = max(0, now.Sub(*h.LastSuccessAt).Seconds())
			}
			ch <- prometheus.MustNewConstMetric(sourceSuccessAgeDesc, prometheus.GaugeValue, age, s.ID, s.Kind)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.ScrapeTimeout)
	defer cancel()
	start := time.Now()
	err := m.cfg.Store.Ping(ctx)
	if err != nil {
		m.logger.Warn("metrics: store ping failed", logkey.Error, err)
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(storePingDesc, prometheus.GaugeValue, time.Since(start).Seconds())
	stats, err := m.cfg.Store.DeliveryStats(ctx, hirehook.DeliveryStatsParams{})
	if err != nil {
		m.logger.Warn("metrics: read the delivery queue", logkey.Error, err)
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 1)
	now := m.cfg.NowFunc()
	for _, st := range stats {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Pending), st.EndpointID, string(hirehook.DeliveryPending))
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Retrying), st.EndpointID, string(hirehook.DeliveryRetrying))
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Delivering), st.EndpointID, string(hirehook.DeliveryDelivering))
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Paused), st.EndpointID, string(hirehook.DeliveryPaused))
		age := 0.0
		if st.OldestUnfinishedAt != nil {
			age = max(0, now.Sub(*st.OldestUnfinishedAt).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, age, st.EndpointID)
	}
}
