package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hirehook/hirehook"
)

// Ingest is EventIngest written once for both dialects: the rules of an
// ingest batch (in-batch dedupe by id and idempotency key, the
// subscription match, the endpoints' filters through MatchFunc, ordered
// holds, hot leases, the record snapshots) over IngestSQL, the statements
// that differ. A dialect package builds one at Open and keeps it: it holds
// the cache of each tenant's enabled endpoints.
//
// A batch is planned before its write transaction and written in it:
//
//   - plan, outside any transaction: validate the batch (EINVALID), render
//     the payloads, read the enabled endpoints of its tenants as of one
//     endpoint version (from the cache, or read version first and then
//     the endpoints, so that the endpoints are never older than the
//     version says), match each event (Event.Recipients) and run MatchFunc
//     (users' filters) on the subscribers. On SQLite the write transaction
//     holds the single writer, which must not wait on user code;
//   - write, in one transaction: read the endpoint version. If it moved
//     since the plan, read the batch's tenants' endpoints again in the
//     transaction: when they are the ones planned against (the change was
//     another tenant's), the plan stands; when not, the transaction is
//     given up and the batch planned again, outside it. After MaxReplans
//     plans again that went stale too, EventIngest gives up with
//     EUNAVAILABLE (the producer tries again later) rather than run
//     MatchFunc inside the transaction: user code never runs while the
//     write is held (on SQLite a MatchFunc that reached the store would
//     wait for itself), and only endpoints of the batch's tenants that
//     change between every plan and its write get there;
//   - then, in the same transaction: the stored events that share an id or
//     key with the batch (their first answers), the final dedupe, the
//     inserts of the new events, their records, the holds of ordered
//     endpoints and the deliveries, written leased for the hot hand-off.
type Ingest struct {
	SQL IngestSQL
	// WriteTxFunc runs fn in one write transaction and commits it, then runs
	// the func fn returned (nil: none). fn may run more than once (SQLite's
	// group commit, PostgreSQL's retry of a lost deadlock or
	// ErrIngestRace): it builds its results afresh each time. ctx is what
	// statements run under.
	WriteTxFunc func(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) (after func(), err error)) error

	cache endpointCache
}

// MaxReplans bounds how many times a batch is planned again after its
// plan went stale before the write (see Ingest).
const MaxReplans = 3

// ErrIngestRace is returned from a write whose new events were committed
// by another writer since Stored read them (PostgreSQL's several nodes);
// the dialect's WriteTx runs the transaction again.
var ErrIngestRace = errors.New("ingest: an event of the batch was stored concurrently")

// errStalePlan gives up a write transaction whose plan was made against
// endpoints that have changed since.
var errStalePlan = errors.New("ingest: the endpoints changed since the batch was matched")

// IngestSQL holds the statements of an ingest that differ between the
// dialects. They take no lock a claim would wait on, except PostgreSQL's
// Held (see there). A nil tx means outside any transaction (a dialect may
// read from a reader connection then).
type IngestSQL struct {
	// EndpointVersionFunc reads the endpoint_version counter, which triggers
	// on the endpoints table bump on every change to what ingest reads.
	EndpointVersionFunc func(ctx context.Context, tx *sql.Tx) (int64, error)
	// EndpointsFunc reads a tenant's enabled endpoints in seq order, with ID,
	// EventTypes, Ordered, Filter and Redact.
	EndpointsFunc func(ctx context.Context, tx *sql.Tx, tenantID string) ([]*hirehook.Endpoint, error)
	// StoredFunc returns the stored events that share an id, or an
	// idempotency key, with an event of the batch (same tenant).
	StoredFunc func(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) ([]StoredEvent, error)
	// InsertEventsFunc inserts the new events, in order, with their
	// ReceivedAt and Deliveries set; one that conflicts is skipped. It
	// returns how many were written.
	InsertEventsFunc func(ctx context.Context, tx *sql.Tx, events []*hirehook.Event) (int, error)
	// UpsertRecordsFunc merges each event's data into its subject's snapshot
	// (RFC 7396), in event order: version + 1, deleted, last_event_id.
	UpsertRecordsFunc func(ctx context.Context, tx *sql.Tx, events []*hirehook.Event, now time.Time) error
	// HeldFunc returns, of the (endpoint, ordering key) pairs given, those
	// with an unfinished delivery stored (pending, retrying, delivering,
	// paused). PostgreSQL first takes a transaction lock per pair, so that
	// two nodes ingesting one subject at once take turns.
	HeldFunc func(ctx context.Context, tx *sql.Tx, pairs []OrderPair) (map[OrderPair]bool, error)
	// InsertDeliveriesFunc writes the deliveries, each in its State (pending,
	// or delivering: leased to p.LeaseOwner until p.LeaseUntil), due at
	// and created at now, in order.
	InsertDeliveriesFunc func(ctx context.Context, tx *sql.Tx, ds []*hirehook.Delivery, p hirehook.EventIngestParams) error
}

// StoredEvent is an event stored already, with what its first ingest
// answered.
type StoredEvent struct {
	TenantID, ID   string
	IdempotencyKey string // "" for none
	Deliveries     int
}

// ScanStoredEvents reads the rows of an IngestSQL.Stored query: tenant_id,
// id, idempotency_key (NULL for none), deliveries.
func ScanStoredEvents(rows *sql.Rows, err error) ([]StoredEvent, error) {
	if err != nil {
		return nil, fmt.Errorf("select stored events of the batch: %w", err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		var st StoredEvent
		var key sql.NullString
		if err := rows.Scan(&st.TenantID, &st.ID, &key, &st.Deliveries); err != nil {
			return nil, fmt.Errorf("select stored events of the batch: %w", err)
		}
		st.IdempotencyKey = key.String
		out = append(out, st)
	}
	return out, rows.Err()
}

// Querier is a *sql.DB or a *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// EnabledEndpoints reads a tenant's enabled endpoints through q, as
// IngestSQL.Endpoints does.
func (d *Dialect) EnabledEndpoints(ctx context.Context, q Querier, tenantID string) ([]*hirehook.Endpoint, error) {
	rows, err := q.QueryContext(ctx, d.Rebind(`SELECT id, event_types, ordered, filter, redact FROM endpoints
		WHERE tenant_id = ? AND NOT disabled ORDER BY seq`), tenantID)
	if err != nil {
		return nil, fmt.Errorf("select endpoints of tenant %s: %w", tenantID, err)
	}
	defer rows.Close()
	var out []*hirehook.Endpoint
	for rows.Next() {
		var ep hirehook.Endpoint
		var types, redact []byte
		if err := rows.Scan(&ep.ID, &types, &ep.Ordered, &ep.Filter, &redact); err != nil {
			return nil, fmt.Errorf("select endpoints of tenant %s: %w", tenantID, err)
		}
		if err := json.Unmarshal(redact, &ep.Redact); err != nil {
			return nil, fmt.Errorf("decode endpoint %s redact: %w", ep.ID, err)
		}
		if err := json.Unmarshal(types, &ep.EventTypes); err != nil {
			return nil, fmt.Errorf("decode endpoint %s event types: %w", ep.ID, err)
		}
		out = append(out, &ep)
	}
	return out, rows.Err()
}

// OrderPair is an ordered endpoint and an ordering key (a subject).
type OrderPair struct{ EndpointID, Key string }

// plan is a batch matched against the endpoints of one version.
type plan struct {
	version   int64
	endpoints map[string][]*hirehook.Endpoint // by tenant
	// matched holds each event's recipients after MatchFunc; planned
	// tells the events matched (not a repeat of an earlier event).
	matched [][]*hirehook.Endpoint
	planned []bool
}

// EventIngest implements hirehook.Store's EventIngest.
func (in *Ingest) EventIngest(ctx context.Context, p hirehook.EventIngestParams) ([]hirehook.EventIngestResult, error) {
	if err := prepareBatch(p); err != nil {
		return nil, err
	}
	var results []hirehook.EventIngestResult
	for replans := 0; ; replans++ {
		version, eps, err := in.endpoints(ctx, p.Events)
		if err != nil {
			return nil, err
		}
		pl, err := match(ctx, p, version, eps)
		if err != nil {
			return nil, err
		}
		err = in.WriteTxFunc(ctx, func(ctx context.Context, tx *sql.Tx) (func(), error) {
			version, err := in.SQL.EndpointVersionFunc(ctx, tx)
			if err != nil {
				return nil, err
			}
			var after func()
			if version != pl.version {
				eps := make(map[string][]*hirehook.Endpoint, len(pl.endpoints))
				for tenantID := range pl.endpoints {
					if eps[tenantID], err = in.SQL.EndpointsFunc(ctx, tx, tenantID); err != nil {
						return nil, err
					}
				}
				if !sameEndpoints(pl.endpoints, eps) {
					return nil, errStalePlan
				}
				after = func() { in.cache.put(version, eps) }
			}
			results, err = write(ctx, tx, in.SQL, p, pl)
			return after, err
		})
		if errors.Is(err, errStalePlan) {
			in.cache.reset()
			if replans < MaxReplans {
				continue
			}
			return nil, fmt.Errorf("%w: %w", hirehook.Errorf(hirehook.EUNAVAILABLE,
				"The endpoints changed while the events were being matched, %d times; try again.", replans+1), err)
		}
		if err != nil {
			return nil, err
		}
		return results, nil
	}
}

// prepareBatch checks the arguments (EINVALID) and renders the payloads
// of events that have none.
func prepareBatch(p hirehook.EventIngestParams) error {
	if p.LeaseOwner != "" && p.LeaseUntil.IsZero() {
		return hirehook.Errorf(hirehook.EINVALID, "A batch ingested leased needs the time its leases end.")
	}
	for i, e := range p.Events {
		if e == nil {
			return hirehook.Errorf(hirehook.EINVALID, "Event %d of the batch is missing.", i)
		}
		if e.ID == "" || e.TenantID == "" || e.Subject.Entity == "" || e.Subject.ID == "" {
			return hirehook.Errorf(hirehook.EINVALID, "Event %d of the batch needs an id, a tenant and a subject.", i)
		}
		if !json.Valid(e.Data) {
			return hirehook.Errorf(hirehook.EINVALID, "Event %d of the batch (%s) needs data that is JSON.", i, e.ID)
		}
		if e.Payload == nil {
			var err error
			if e.Payload, err = e.RenderPayload(); err != nil {
				return fmt.Errorf("%w: %w", hirehook.Errorf(hirehook.EINVALID, "Event %d of the batch (%s) cannot be rendered.", i, e.ID), err)
			}
		}
	}
	return nil
}

// endpoints returns the enabled endpoints of the batch's tenants as of
// one endpoint version, from the cache where it holds them.
func (in *Ingest) endpoints(ctx context.Context, events []*hirehook.Event) (int64, map[string][]*hirehook.Endpoint, error) {
	version, eps, missing := in.cache.get(events)
	if len(missing) == 0 {
		return version, eps, nil
	}
	// The version first: endpoints read after it are at least as new as
	// it says, so a write that finds it unchanged may trust them.
	v, err := in.SQL.EndpointVersionFunc(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	if v != version {
		eps, missing = map[string][]*hirehook.Endpoint{}, nil
		for _, e := range events {
			if _, ok := eps[e.TenantID]; !ok {
				eps[e.TenantID] = nil
				missing = append(missing, e.TenantID)
			}
		}
	}
	read := make(map[string][]*hirehook.Endpoint, len(missing))
	for _, tenantID := range missing {
		if read[tenantID], err = in.SQL.EndpointsFunc(ctx, nil, tenantID); err != nil {
			return 0, nil, err
		}
		eps[tenantID] = read[tenantID]
	}
	in.cache.put(v, read)
	return v, eps, nil
}

// match plans the batch against eps: each event that is not a repeat of
// an earlier one (same tenant, id and key) gets its recipients, narrowed
// by MatchFunc where the endpoints' filters apply. An event may turn out
// a duplicate of a stored one at the write: MatchFunc may have been called
// for it.
func match(ctx context.Context, p hirehook.EventIngestParams, version int64, eps map[string][]*hirehook.Endpoint) (*plan, error) {
	pl := &plan{version: version, endpoints: eps, matched: make([][]*hirehook.Endpoint, len(p.Events)), planned: make([]bool, len(p.Events))}
	seen := map[[3]string]bool{}
	for i, e := range p.Events {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("match event %d: %w", i, err)
		}
		k := [3]string{e.TenantID, e.ID, e.IdempotencyKey}
		if seen[k] {
			continue
		}
		seen[k] = true
		matched, filter := e.Recipients(eps[e.TenantID])
		if p.MatchFunc != nil && filter && len(matched) > 0 {
			var err error
			if matched, err = p.MatchFunc(ctx, e, matched); err != nil {
				return nil, fmt.Errorf("match endpoints of event %s: %w", e.ID, err)
			}
		}
		pl.matched[i], pl.planned[i] = matched, true
	}
	return pl, nil
}

// sameEndpoints reports whether two reads of tenants' enabled endpoints
// hold the same endpoints with the same subscriptions, order, filters and
// redactions (what a plan depends on).
func sameEndpoints(a, b map[string][]*hirehook.Endpoint) bool {
	for tenantID, x := range b {
		y := a[tenantID]
		if !slices.EqualFunc(x, y, func(x, y *hirehook.Endpoint) bool {
			return x.ID == y.ID && x.Ordered == y.Ordered && x.Filter == y.Filter &&
				slices.Equal(x.EventTypes, y.EventTypes) && slices.Equal(x.Redact, y.Redact)
		}) {
			return false
		}
	}
	return true
}

// write writes a planned batch in tx. An event whose id or idempotency key
// is stored, or appeared earlier in the batch as a new event, is a
// duplicate with the first answer (by key before id); every other event
// is new.
func write(ctx context.Context, tx *sql.Tx, q IngestSQL, p hirehook.EventIngestParams, pl *plan) ([]hirehook.EventIngestResult, error) {
	now := p.Now.UTC()
	stored, err := q.StoredFunc(ctx, tx, p.Events)
	if err != nil {
		return nil, err
	}
	byID, byKey := map[string]StoredEvent{}, map[string]StoredEvent{}
	for _, st := range stored {
		byID[st.TenantID+"\x00id\x00"+st.ID] = st
		if st.IdempotencyKey != "" {
			byKey[st.TenantID+"\x00key\x00"+st.IdempotencyKey] = st
		}
	}
	state := hirehook.DeliveryPending
	if p.LeaseOwner != "" {
		state = hirehook.DeliveryDelivering
	}
	seen := map[string]int{} // tenant+id / tenant+key → index in results
	results := make([]hirehook.EventIngestResult, len(p.Events))
	var fresh []*hirehook.Event
	var deliveries []*hirehook.Delivery
	type orderedDelivery struct {
		d      *hirehook.Delivery
		result int
	}
	var ordered []orderedDelivery
	for i, e := range p.Events {
		idKey := e.TenantID + "\x00id\x00" + e.ID
		idemKey := ""
		if e.IdempotencyKey != "" {
			idemKey = e.TenantID + "\x00key\x00" + e.IdempotencyKey
		}
		if j, ok := seen[idemKey]; ok && idemKey != "" {
			results[i] = hirehook.EventIngestResult{EventID: results[j].EventID, Deliveries: results[j].Deliveries, Duplicate: true}
			continue
		}
		if j, ok := seen[idKey]; ok {
			results[i] = hirehook.EventIngestResult{EventID: results[j].EventID, Deliveries: results[j].Deliveries, Duplicate: true}
			continue
		}
		if first, ok := byKey[idemKey]; ok && idemKey != "" {
			results[i] = hirehook.EventIngestResult{EventID: first.ID, Deliveries: first.Deliveries, Duplicate: true}
			continue
		}
		if first, ok := byID[idKey]; ok {
			results[i] = hirehook.EventIngestResult{EventID: first.ID, Deliveries: first.Deliveries, Duplicate: true}
			continue
		}
		if !pl.planned[i] {
			// match skips only repeats of an earlier event, which the
			// checks above answer.
			return nil, fmt.Errorf("ingest: event %d (%s) was not matched", i, e.ID)
		}
		seen[idKey] = i
		if idemKey != "" {
			seen[idemKey] = i
		}
		matched := pl.matched[i]
		fresh = append(fresh, e)
		result := hirehook.EventIngestResult{EventID: e.ID, Deliveries: len(matched)}
		for _, ep := range matched {
			d := &hirehook.Delivery{
				TenantID:   e.TenantID,
				ID:         hirehook.NewID("dlv"),
				EventID:    e.ID,
				EventType:  e.Type,
				EndpointID: ep.ID,
				State:      state,
				CreatedAt:  now,
				UpdatedAt:  now,
			}
			if ep.Ordered {
				d.OrderingKey = e.Subject.Key()
				ordered = append(ordered, orderedDelivery{d: d, result: i})
			}
			deliveries = append(deliveries, d)
			if state == hirehook.DeliveryDelivering {
				d.Payload = e.Payload
				d.LeaseExpiresAt = p.LeaseUntil
				result.Leased = append(result.Leased, d)
			}
		}
		results[i] = result
	}
	if len(fresh) == 0 {
		return results, nil
	}

	for i, r := range results {
		if !r.Duplicate {
			p.Events[i].ReceivedAt, p.Events[i].Deliveries = now, r.Deliveries
		}
	}
	n, err := q.InsertEventsFunc(ctx, tx, fresh)
	if err != nil {
		return nil, err
	}
	if n != len(fresh) {
		return nil, ErrIngestRace
	}
	if err := q.UpsertRecordsFunc(ctx, tx, fresh, now); err != nil {
		return nil, err
	}

	// Ordered holds: a delivery to an ordered endpoint waits, pending and
	// unleased, while an earlier one of its subject there is unfinished,
	// stored or earlier in the batch.
	if len(ordered) > 0 {
		var pairs []OrderPair
		known := map[OrderPair]bool{}
		for _, o := range ordered {
			k := OrderPair{o.d.EndpointID, o.d.OrderingKey}
			if _, ok := known[k]; !ok {
				known[k] = false
				pairs = append(pairs, k)
			}
		}
		held, err := q.HeldFunc(ctx, tx, pairs)
		if err != nil {
			return nil, err
		}
		for _, o := range ordered {
			k := OrderPair{o.d.EndpointID, o.d.OrderingKey}
			if !held[k] {
				if held == nil {
					held = map[OrderPair]bool{}
				}
				held[k] = true // the later ones of the pair in this batch wait for this one
				continue
			}
			if o.d.State == hirehook.DeliveryDelivering {
				o.d.State, o.d.Payload, o.d.LeaseExpiresAt = hirehook.DeliveryPending, nil, time.Time{}
				r := &results[o.result]
				r.Leased = slices.DeleteFunc(r.Leased, func(d *hirehook.Delivery) bool { return d == o.d })
			}
		}
	}
	if len(deliveries) > 0 {
		if err := q.InsertDeliveriesFunc(ctx, tx, deliveries, p); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// endpointCache holds the enabled endpoints of recently seen tenants as of
// one endpoint version. It is filled only with what was read committed: by
// a plan outside a transaction, or by a write after its commit. The
// endpoints in it are shared and must not be modified.
type endpointCache struct {
	mu       sync.Mutex
	version  int64
	byTenant map[string][]*hirehook.Endpoint
}

// maxCachedTenants bounds the cache; past it the cache starts over.
const maxCachedTenants = 10000

// get returns the cache's version and the endpoints it holds of the
// events' tenants, and the tenants it does not hold.
func (c *endpointCache) get(events []*hirehook.Event) (int64, map[string][]*hirehook.Endpoint, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	eps := map[string][]*hirehook.Endpoint{}
	var missing []string
	for _, e := range events {
		if _, ok := eps[e.TenantID]; ok {
			continue
		}
		got, ok := c.byTenant[e.TenantID]
		eps[e.TenantID] = got
		if !ok {
			missing = append(missing, e.TenantID)
		}
	}
	if c.byTenant == nil {
		return -1, eps, missing
	}
	return c.version, eps, missing
}

// put adds endpoints read as of version; a newer version starts the cache
// over, an older one is not kept.
func (c *endpointCache) put(version int64, eps map[string][]*hirehook.Endpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byTenant == nil || version > c.version || len(c.byTenant) >= maxCachedTenants {
		c.byTenant, c.version = map[string][]*hirehook.Endpoint{}, version
	} else if version < c.version {
		return
	}
	for tenantID, list := range eps {
		c.byTenant[tenantID] = list
	}
}

// reset empties the cache.
func (c *endpointCache) reset() {
	c.mu.Lock()
	c.byTenant = nil
	c.mu.Unlock()
}
