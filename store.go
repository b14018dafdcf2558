package hirehook

import (
	"context"
	"time"
)

// Store is the durable state of the hub: events, records, endpoints and the
// delivery queue. Every method is atomic: it takes effect whole or not at
// all, and no other caller sees it half done. (It is not always a
// transaction of its own: the SQLite store's group writer commits the
// writes of several concurrent callers in one transaction, and fails or
// retries each caller's part on its own.) store/storetest holds the
// conformance suite that every implementation passes.
//
// Errors: methods return *Error with ENOTFOUND when the object does not exist
// in the tenant, ECONFLICT when a unique value is taken, and EINVALID for
// arguments the store cannot accept; anything else is an internal error.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database. It may be called more than once.
	Close() error
	// Capabilities declares the optional capabilities the store has
	// (see Capabilities); it does no I/O.
	Capabilities() Capabilities

	// TenantCreate stores t. ECONFLICT if its id exists.
	TenantCreate(ctx context.Context, t *Tenant) error
	// TenantGet returns one tenant or ENOTFOUND.
	TenantGet(ctx context.Context, id string) (*Tenant, error)
	// TenantList returns tenants in creation order.
	TenantList(ctx context.Context, f TenantFilter) ([]*Tenant, error)
	// TenantUpdate applies u, or ENOTFOUND.
	TenantUpdate(ctx context.Context, id string, u TenantUpdate) (*Tenant, error)
	// TenantDelete removes the tenant and everything it owns (events,
	// records, endpoints, backfills, deliveries, attempts, keys, audit entries), or
	// ENOTFOUND.
	TenantDelete(ctx context.Context, id string) error

	// APIKeyCreate stores a key by its digest k.Hash (HashAPIKey), of
	// which it keeps only APIKeyMAC under the store's own pepper, never the
	// digest. ECONFLICT if the key exists, ENOTFOUND if its tenant does not.
	APIKeyCreate(ctx context.Context, k *APIKey) error
	// APIKeyByHash returns the key whose digest (HashAPIKey) is hash, with
	// Hash set to it, in one indexed query; or ENOTFOUND.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	// APIKeyCount returns the number of keys in all tenants.
	APIKeyCount(ctx context.Context) (int, error)
	// APIKeyList returns the keys of a tenant in creation order.
	APIKeyList(ctx context.Context, tenantID string) ([]*APIKey, error)
	// APIKeyDelete revokes a key of the tenant, or ENOTFOUND.
	APIKeyDelete(ctx context.Context, tenantID, id string) error
	// APIKeyTouch records that a key was used at t.
	APIKeyTouch(ctx context.Context, id string, t time.Time) error

	// AuditAppend records one audit entry.
	AuditAppend(ctx context.Context, e *AuditEntry) error
	// AuditList returns a tenant's audit entries, newest first.
	AuditList(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)

	// EndpointCreate stores e. ECONFLICT if its id exists.
	EndpointCreate(ctx context.Context, e *Endpoint) error
	// EndpointGet returns one endpoint or ENOTFOUND.
	EndpointGet(ctx context.Context, tenantID, id string) (*Endpoint, error)
	// EndpointList returns endpoints in creation order.
	EndpointList(ctx context.Context, f EndpointFilter) ([]*Endpoint, error)
	// EndpointUpdate applies u and returns the result, or ENOTFOUND.
	EndpointUpdate(ctx context.Context, tenantID, id string, u EndpointUpdate) (*Endpoint, error)
	// EndpointSetSecrets replaces the endpoint's secrets (rotation), or ENOTFOUND.
	EndpointSetSecrets(ctx context.Context, tenantID, id string, secrets []Secret) (*Endpoint, error)
	// EndpointDelete removes the endpoint and cancels its unfinished
	// deliveries, or ENOTFOUND.
	EndpointDelete(ctx context.Context, tenantID, id string) error

	// SourceCreate stores s. ECONFLICT if its id exists.
	SourceCreate(ctx context.Context, s *Source) error
	// SourceGet returns one source with its secrets and checkpoint, or
	// ENOTFOUND.
	SourceGet(ctx context.Context, tenantID, id string) (*Source, error)
	// SourceTenant returns the tenant of the source with that id, or
	// ENOTFOUND: POST /in/{source_id} names a source without its tenant.
	SourceTenant(ctx context.Context, id string) (string, error)
	// SourceList returns sources in creation order, with their secrets.
	// EINVALID if f.After names no source.
	SourceList(ctx context.Context, f SourceFilter) ([]*Source, error)
	// SourceUpdate applies u and returns the result, or ENOTFOUND.
	SourceUpdate(ctx context.Context, tenantID, id string, u SourceUpdate) (*Source, error)
	// SourceDelete removes the source and its state, or ENOTFOUND. The
	// events it emitted stay.
	SourceDelete(ctx context.Context, tenantID, id string) error
	// SourceLease leases to p.Owner, until p.Until, the enabled sources of
	// every tenant that no one holds, whose lease expired, or that p.Owner
	// holds already (renewing those), at most p.Limit in all, and returns
	// every source p.Owner now holds. Disabled sources it held are
	// released.
	SourceLease(ctx context.Context, p SourceLeaseParams) ([]*Source, error)
	// SourceRelease gives up the leases of owner, so that another node may
	// take its sources at once (used at shutdown).
	SourceRelease(ctx context.Context, owner string) error
	// SourceReport writes what a running source reports: health,
	// checkpoint, rotated secrets. ENOTFOUND if the source does not exist;
	// ECONFLICT if p.Owner is set and does not hold its lease. It does not
	// change UpdatedAt.
	SourceReport(ctx context.Context, p SourceReportParams) error
	// SourceStateGet returns the value of p.Key in the source's state, or
	// ENOTFOUND.
	SourceStateGet(ctx context.Context, p SourceStateParams) (string, error)
	// SourceStateSet writes p.Value under p.Key. ENOTFOUND if the source
	// does not exist.
	SourceStateSet(ctx context.Context, p SourceStateParams) error

	// InboundCreate stores a request a push source received (see
	// InboundRequest). A request whose DedupeKey another request of the
	// same source already has (rejected ones aside) is stored as
	// InboundDuplicate instead, without its body, naming the first in
	// DuplicateOf; r is updated to what was stored. ENOTFOUND if the source
	// does not exist in r.TenantID.
	InboundCreate(ctx context.Context, r *InboundRequest) error
	// InboundGet returns one request of a source, with its body, or
	// ENOTFOUND.
	InboundGet(ctx context.Context, tenantID, sourceID, id string) (*InboundRequest, error)
	// InboundList returns a source's requests, newest first, without
	// their bodies. EINVALID if f.Before names no request.
	InboundList(ctx context.Context, f InboundFilter) ([]*InboundRequest, error)
	// InboundUpdate writes the outcome of normalising a request: status,
	// vendor event, event ids, error; it adds one to Attempts, releases
	// any claim, and sets ProcessedAt (or, for InboundReceived, DueAt).
	// ENOTFOUND if the request does not exist.
	InboundUpdate(ctx context.Context, p InboundUpdateParams) error
	// InboundClaim claims for p.Owner, until p.Until, up to p.Limit
	// received requests of every tenant whose DueAt has come and that no
	// one else holds, oldest first, and returns them with their bodies.
	InboundClaim(ctx context.Context, p InboundClaimParams) ([]*InboundRequest, error)
	// InboundReprocess makes the processed, unsupported and failed
	// requests of a source received in [p.From, p.To) due again
	// (InboundReceived, DueAt p.Now), to be normalised anew, and returns
	// how many. ENOTFOUND if the source does not exist.
	InboundReprocess(ctx context.Context, p InboundReprocessParams) (int, error)
	// InboundStats sums the requests of each of a tenant's sources
	// (sources with none are left out).
	InboundStats(ctx context.Context, tenantID string) (map[string]*InboundStats, error)

	// EventIngest writes a batch of events atomically: each new event, the
	// snapshot of its subject and one delivery per enabled endpoint that
	// subscribes to its type, or, for an event with a TargetEndpointID, to
	// that endpoint only if enabled (Event.Recipients). An event whose id (or idempotency key) exists
	// already in its tenant writes nothing and its result carries the first
	// answer with Duplicate set. Either the whole batch commits or nothing.
	// EINVALID if an event is nil or lacks its id, tenant or subject, if
	// its data is not JSON, or if p.LeaseOwner is set without
	// p.LeaseUntil. The deliveries are those of the endpoints as they are
	// when the batch is written: p.MatchFunc runs before the write and
	// again if they changed in between; EUNAVAILABLE if they kept
	// changing (a few times in a row), with nothing written.
	EventIngest(ctx context.Context, p EventIngestParams) ([]EventIngestResult, error)
	// EventGet returns one event or ENOTFOUND.
	EventGet(ctx context.Context, tenantID, id string) (*Event, error)
	// EventList returns events in ingest order after f.After. EINVALID if
	// f.After names no event.
	EventList(ctx context.Context, f EventFilter) ([]*Event, error)

	// RecordGet returns the snapshot of one entity, or ENOTFOUND.
	RecordGet(ctx context.Context, tenantID, entity, id string) (*Record, error)
	// RecordEvents returns the events of one entity in ingest order.
	// EINVALID if f.Entity or f.SubjectID is nil.
	RecordEvents(ctx context.Context, f EventFilter) ([]*Event, error)

	// RecordList returns up to p.Limit records of p.Entity in p.TenantID
	// whose id sorts after p.After, in id order, leaving out deleted ones.
	RecordList(ctx context.Context, p RecordListParams) ([]*Record, error)

	// BackfillCreate stores b (state running). ENOTFOUND if its endpoint
	// does not exist in its tenant, ECONFLICT if its id exists.
	BackfillCreate(ctx context.Context, b *Backfill) error
	// BackfillGet returns one backfill or ENOTFOUND.
	BackfillGet(ctx context.Context, tenantID, id string) (*Backfill, error)
	// BackfillList returns the backfills of an endpoint, newest first.
	BackfillList(ctx context.Context, tenantID, endpointID string) ([]*Backfill, error)
	// BackfillCancel stops a running backfill and returns it; ENOTFOUND,
	// or ECONFLICT if it is no longer running.
	BackfillCancel(ctx context.Context, tenantID, id string, now time.Time) (*Backfill, error)
	// BackfillLease leases to p.Owner, until p.Until, the running
	// backfills of every tenant that no one holds, whose lease expired, or
	// that p.Owner holds already (renewing those), at most p.Limit in all,
	// and returns every running backfill p.Owner now holds.
	BackfillLease(ctx context.Context, p BackfillLeaseParams) ([]*Backfill, error)
	// BackfillEnqueue writes one page of a backfill in one transaction: the
	// snapshot events (no record changes), one pending delivery each to
	// the backfill's endpoint only, and the backfill's new cursor and
	// counts. So a backfill that stops resumes from its cursor and sends
	// nothing twice. ENOTFOUND if the backfill or its endpoint is gone;
	// ECONFLICT if it is no longer running or p.Owner does not hold it.
	BackfillEnqueue(ctx context.Context, p BackfillEnqueueParams) error
	// BackfillFinish moves a running backfill that p.Owner holds to
	// p.State and releases it. ENOTFOUND, or ECONFLICT if it is no longer
	// running or p.Owner does not hold it.
	BackfillFinish(ctx context.Context, p BackfillFinishParams) error

	// DeliveryGet returns one delivery with its attempts, or ENOTFOUND.
	DeliveryGet(ctx context.Context, tenantID, id string) (*Delivery, []*Attempt, error)
	// DeliveryList returns deliveries, newest first.
	DeliveryList(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// DeliveryClaim leases up to p.Limit due deliveries to p.Owner until
	// p.LeaseUntil: pending and retrying ones whose NextAttemptAt has
	// passed, and delivering ones whose lease expired (their worker died).
	// Deliveries of disabled endpoints are not claimed. The returned
	// deliveries carry their event's Payload.
	DeliveryClaim(ctx context.Context, p DeliveryClaimParams) ([]*Delivery, error)
	// DeliveryComplete records attempts and moves deliveries to their new
	// states. A result whose lease owner no longer holds the delivery is
	// skipped. It returns how many results were applied.
	DeliveryComplete(ctx context.Context, results []DeliveryResult) (int, error)
	// DeliveryRelease returns deliveries leased by owner to pending, due
	// now, without counting an attempt (used at shutdown).
	DeliveryRelease(ctx context.Context, owner string, ids []string) error
	// DeliveryRetry makes one delivery due now, whatever its state, or
	// ENOTFOUND. EINVALID if it was cancelled, or if its event's payload was
	// purged by retention or its event erased (a tombstone is never sent).
	DeliveryRetry(ctx context.Context, tenantID, id string, now time.Time) (*Delivery, error)
	// DeliveryRecover makes every failed delivery of an endpoint whose event
	// was received in [since, until) due now, and returns how many. It
	// skips deliveries whose event was purged or erased.
	DeliveryRecover(ctx context.Context, p DeliveryRecoverParams) (int, error)
	// DeliveryStats returns one entry per endpoint of p.TenantID (of
	// every tenant when it is empty), in creation order, with its
	// unfinished deliveries and, when p.Since is set, the attempts started
	// since then (see DeliveryStatsParams). Endpoints with nothing to count
	// are listed with zeros. It reads without blocking the writer, for the
	// dashboard and the metrics collector. EINVALID if p.TenantID is empty
	// and p.Since or p.Bucket is set, or if p.Bucket is negative.
	DeliveryStats(ctx context.Context, p DeliveryStatsParams) ([]*DeliveryStats, error)

	// RetentionPurge purges, in every tenant by its own RetentionDays, the
	// payloads of events received more than that many days before p.Now,
	// and the response bodies of attempts started before then: at most
	// p.Limit events and p.Limit attempts, in one short transaction, so
	// that ingest never waits long; the caller calls again while a count
	// comes back equal to p.Limit. A purged event keeps its row (id, type,
	// times, subject, deliveries) with a tombstone payload whose data is
	// null (Event.Purged); its pending and retrying deliveries are
	// cancelled. Attempts keep everything but the body. The raw requests
	// of push sources (InboundRequest) received before then are deleted,
	// at most p.Limit. EINVALID if p.Limit < 1.
	RetentionPurge(ctx context.Context, p RetentionPurgeParams) (RetentionPurgeResult, error)
	// CandidateErase removes one candidate's personal data from a tenant,
	// in one transaction: events about the candidate keep only
	// {"id": id} as data and lose their changes; events and records that
	// embed the candidate (data.candidate.id or data.candidate_id) get
	// {"id": id} as their candidate and lose the changes of candidate
	// fields; the candidate's record keeps only its id (and its version);
	// attempts of the touched events' deliveries lose their response
	// bodies; inbound requests (InboundRequest) that became one of the
	// touched events lose their bodies. Rows stay, so counts and delivery history still add up.
	// Implementations make sure no copy of the removed data survives in
	// their files. ENOTFOUND if the tenant has neither a record of nor an
	// event about the candidate; EINVALID for an empty id; EUNAVAILABLE if
	// the data was erased but old copies could not yet be dropped from the
	// files (erasing again is safe and finishes the job).
	CandidateErase(ctx context.Context, p CandidateEraseParams) (CandidateEraseResult, error)
}

// RetentionPurgeParams are the arguments of RetentionPurge.
type RetentionPurgeParams struct {
	// Now is the time retention is measured from.
	Now time.Time
	// Limit is the most events, and the most attempts, one call purges.
	Limit int
}

// RetentionPurgeResult counts what one RetentionPurge call purged.
type RetentionPurgeResult struct {
	Events   int `json:"events"`
	Attempts int `json:"attempts"`
	// InboundRequests counts the raw requests of push sources deleted.
	InboundRequests int `json:"inbound_requests"`
}

// CandidateEraseParams are the arguments of CandidateErase.
type CandidateEraseParams struct {
	TenantID    string
	CandidateID string
	// Now is written as the time of erasure.
	Now time.Time
}

// CandidateEraseResult counts the rows CandidateErase rewrote.
type CandidateEraseResult struct {
	Events   int `json:"events"`
	Records  int `json:"records"`
	Attempts int `json:"attempts"`
	// InboundRequests counts the raw requests whose bodies were removed.
	InboundRequests int `json:"inbound_requests"`
}

// EventIngestParams is a batch of events for EventIngest.
type EventIngestParams struct {
	Events []*Event
	// Now is the time written as received and created times.
	Now time.Time
	// LeaseOwner, when set, writes the new deliveries already leased to
	// this owner until LeaseUntil (the hot hand-off): the caller attempts
	// them straight from memory, without a claim query. Empty writes them
	// pending.
	LeaseOwner string
	LeaseUntil time.Time
	// MatchFunc, when set, is called for each new event with the enabled
	// endpoints that subscribe to its type, of which it returns those that
	// get a delivery (the ones whose Filter selects the event). The
	// endpoints carry ID, EventTypes, Ordered, Filter and Redact. An error
	// fails the whole batch. Nil gives a delivery to every subscriber.
	// It runs before the store's write transaction, not holding it (user
	// code must not hold SQLite's one writer), so it may be called for an
	// event that then turns out a duplicate, and again for an event when
	// the endpoints changed before the write (see store/sqlstore's Ingest).
	// It must not modify the endpoints it is given.
	MatchFunc func(ctx context.Context, e *Event, subscribed []*Endpoint) ([]*Endpoint, error)
}

// EventIngestResult is the answer for one event of an ingest batch.
type EventIngestResult struct {
	EventID string
	// Deliveries is the number of deliveries the event created (for a
	// duplicate: the number created the first time).
	Deliveries int
	// Duplicate is set when the event existed: nothing was written.
	Duplicate bool
	// Leased holds the deliveries written leased to the caller (only when
	// LeaseOwner was set), with Payload filled in.
	Leased []*Delivery
}

// DeliveryClaimParams are the arguments of DeliveryClaim.
type DeliveryClaimParams struct {
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
	// SkipEndpoints are endpoints whose deliveries are not claimed now
	// (the caller has a full lane for them).
	SkipEndpoints []string
}

// DeliveryRecoverParams are the arguments of DeliveryRecover.
type DeliveryRecoverParams struct {
	TenantID   string
	EndpointID string
	Since      time.Time
	Until      time.Time
	Now        time.Time
}

// Encrypted is the capability of a store that seals secrets at rest with a
// keyring: endpoints' signing secrets and custom headers, sources'
// credentials, and the API key pepper. Both stores declare it
// (Capabilities.Encryption); store/storetest.RunSecretsAtRest and
// RunCapabilities hold them to it.
type Encrypted interface {
	// CheckEncryption fails when stored secrets are sealed with a key the
	// store's keyring lacks, naming the missing key ids (never a key). A
	// hub calls it at start.
	CheckEncryption(ctx context.Context) error
	// UpgradeSecrets brings what older hubs wrote in the clear to the
	// current form (seals custom headers and hub secrets; rewrites API
	// keys stored as a bare digest as their APIKeyMAC) and returns how
	// many rows it rewrote. A hub calls it at start, after
	// CheckEncryption.
	UpgradeSecrets(ctx context.Context) (int, error)
	// RotateEncryption re-seals every secret with the keyring's primary
	// key, in one transaction, and returns how many endpoints it rewrote.
	RotateEncryption(ctx context.Context) (int, error)
}

// NodeRegistry is implemented by stores that several hub processes share
// (PostgreSQL). The dispatcher of each node heartbeats through it and
// divides every endpoint's max_concurrency and rate_limit_per_second among
// the live nodes, so that the limits hold for the endpoint as a whole, not
// per node. A store that only one process uses (SQLite) does not declare
// it (Capabilities.Nodes is nil).
type NodeRegistry interface {
	// NodeHeartbeat records that p.Node is alive and returns the live
	// nodes' names (those heard from within p.TTL), sorted. A node silent
	// for p.LeaseTTL is forgotten and its leases end at its last
	// heartbeat (its deliveries are claimable at once, as if the leases
	// had expired), announced as due. Silence is measured by the
	// database's clock, so the nodes' clocks need not agree; each caller's
	// p.LeaseTTL applies, so the nodes sharing a store use the same one.
	// EINVALID for an empty node or a TTL that is not positive.
	NodeHeartbeat(ctx context.Context, p NodeHeartbeatParams) ([]string, error)
	// NodeLeave forgets node at once (a clean stop). Its leases stay: a
	// stopping node still finishes its attempts and writes their results.
	NodeLeave(ctx context.Context, node string) error
}

// NodeHeartbeatParams are the arguments of NodeHeartbeat.
type NodeHeartbeatParams struct {
	Node string
	// TTL is how long a node may be silent and still count as live
	// (sharing the endpoints' limits).
	TTL time.Duration
	// LeaseTTL is how long a node may be silent before its leases end;
	// less than TTL counts as TTL. A node must start no attempt that could
	// still run LeaseTTL after its last heartbeat, or another node may
	// send the same delivery.
	LeaseTTL time.Duration
}
