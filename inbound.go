package hirehook

import (
	"net/http"
	"time"
)

// InboundRequest is one request a push source received at
// POST /in/{source_id}: the raw log that package inbound writes before it
// answers the vendor, and re-reads to normalise the request again after a
// mapping was fixed (Store.InboundReprocess).
//
// The body is kept exactly as received (several vendors sign bytes that a
// JSON round trip would change) and only once verified: a rejected request
// keeps its reason and no body, and a duplicate names the request it
// repeats and keeps no body either.
type InboundRequest struct {
	TenantID string `json:"-"`
	// ID is "inr_" and a sortable suffix.
	ID         string    `json:"id"`
	SourceID   string    `json:"source_id"`
	ReceivedAt time.Time `json:"received_at"`
	// Status is one of the Inbound* states.
	Status string `json:"status"`
	// DedupeKey identifies the vendor's delivery across its retries, made
	// from what the vendor signed only (never an unsigned header or
	// field): the vendor's event id where its signature covers one,
	// Lever's token, else "sha256:" and the hex SHA-256 of the signed
	// body. A request keeps it for as long as the log keeps the request,
	// so a replay is a duplicate. Empty for rejected requests and
	// handshakes.
	DedupeKey string `json:"dedupe_key,omitempty"`
	// DuplicateOf is the request a duplicate repeats.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// VendorEvent is the vendor's event name, once parsed.
	VendorEvent string `json:"vendor_event,omitempty"`
	// Header holds the request's headers, the value of every
	// credential-bearing one (IsCredentialHeader: API tokens, signatures,
	// cookies) replaced by Masked: the log shows that it came, never what
	// it held.
	Header http.Header `json:"header,omitempty"`
	// Body is the raw body; InboundList leaves it out.
	Body []byte `json:"-"`
	// BodySize is len(Body) as received, also when Body is not loaded.
	BodySize int `json:"body_size"`
	// EventIDs are the catalog events the request became, in order, new
	// or already ingested (a reprocessed request lists the same ids).
	EventIDs []string `json:"event_ids"`
	// Error says why a request was rejected, failed or had no mapping
	// (safe to show: it never holds secrets or signatures).
	Error string `json:"error,omitempty"`
	// Attempts counts the times the request was normalised.
	Attempts int `json:"attempts"`
	// ProcessedAt is when the request reached its latest final status.
	ProcessedAt *time.Time `json:"processed_at,omitempty"`
	// DueAt is when a received request is next taken by InboundClaim;
	// nil for the other states.
	DueAt *time.Time `json:"due_at,omitempty"`
}

// The states of an InboundRequest.
const (
	// InboundReceived: verified and stored, not yet normalised (or being
	// normalised again, or waiting for a retry after hydration failed).
	InboundReceived = "received"
	// InboundProcessed: normalised; EventIDs lists what it became.
	InboundProcessed = "processed"
	// InboundUnsupported: valid, but the vendor event has no catalog
	// mapping (yet); Error says why. Reprocess once a mapping exists.
	InboundUnsupported = "unsupported"
	// InboundFailed: verified, but the body is not what the vendor
	// documents (or its events failed the catalog); Error says why. When
	// normalised as it came in, the vendor was answered 422, so it
	// retries; its retry, a duplicate, normalises this request again.
	InboundFailed = "failed"
	// InboundDuplicate: the vendor's retry of a request already stored
	// (same DedupeKey); DuplicateOf names it.
	InboundDuplicate = "duplicate"
	// InboundRejected: the signature did not verify (or was missing, or
	// its timestamp was out of tolerance); Error says which. Nothing was
	// emitted and no body is kept.
	InboundRejected = "rejected"
	// InboundHandshake: a subscription handshake or ping, answered as the
	// vendor requires; it is source health (the vendor can reach the
	// hub), not a recruiting event.
	InboundHandshake = "handshake"
)

// InboundFilter selects requests for InboundList, newest first. Before is
// the id of the last request of the previous page.
type InboundFilter struct {
	TenantID string
	SourceID string
	// Status keeps one state only.
	Status string
	Before string
	Limit  int
}

// InboundUpdateParams are the arguments of InboundUpdate: the outcome of
// one normalisation of a request.
type InboundUpdateParams struct {
	TenantID string
	ID       string
	// Status is the new state. InboundReceived with DueAt schedules a
	// retry (hydration failed and will be tried again).
	Status      string
	VendorEvent string
	EventIDs    []string
	Error       string
	DueAt       *time.Time
	Now         time.Time
}

// InboundClaimParams are the arguments of InboundClaim.
type InboundClaimParams struct {
	// Owner names the node; a claim lasts until Until.
	Owner string
	Now   time.Time
	Until time.Time
	Limit int
}

// InboundReprocessParams are the arguments of InboundReprocess.
type InboundReprocessParams struct {
	TenantID string
	SourceID string
	// From and To bound received_at: From ≤ received_at < To.
	From, To time.Time
	Now      time.Time
}

// InboundStats sums one source's requests, over the requests retention has
// kept.
type InboundStats struct {
	// ByStatus counts requests per state.
	ByStatus map[string]int64 `json:"by_status"`
	// Events counts the events the processed requests became.
	Events         int64      `json:"events"`
	LastReceivedAt *time.Time `json:"last_received_at"`
	// LastVerifiedAt is the last handshake or verified request.
	LastVerifiedAt *time.Time `json:"last_verified_at"`
	// LastHandshakeAt is the last handshake or ping.
	LastHandshakeAt *time.Time `json:"last_handshake_at"`
	LastRejectedAt  *time.Time `json:"last_rejected_at"`
	// LastRejection is the reason of the last rejection.
	LastRejection string `json:"last_rejection,omitempty"`
}
