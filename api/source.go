package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
)

// SourceKind validates the configuration of one kind of source, as an API
// client sends it (secrets included), and splits it into what may be shown
// and the secrets by name, which are write-only: ops.SourceKind, where
// source operations live.
type SourceKind = ops.SourceKind

// SourceInput is the body of POST /v1/sources and PATCH /v1/sources/{id}
// (where every field is optional, and config is a JSON Merge Patch of the
// stored configuration): ops.SourceInput.
type SourceInput = ops.SourceInput

func (h *Handler) handleSourceCreate(w http.ResponseWriter, r *http.Request) {
	var in SourceInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	src, err := h.sources().SourceCreate(r.Context(), actor(r), in)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := h.withInbound(r, src); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	w.Header().Set("Location", "/v1/sources/"+src.ID)
	writeJSON(w, http.StatusCreated, src)
}

func (h *Handler) handleSourceList(w http.ResponseWriter, r *http.Request) {
	after, limit, err := listQuery(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	srcs, err := h.store.SourceList(r.Context(), hirehook.SourceFilter{TenantID: tenantOf(r), After: after, Limit: limit + 1})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := h.withInbound(r, srcs...); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, page(srcs, limit, func(s *hirehook.Source) string { return s.ID }))
}

func (h *Handler) handleSourceGet(w http.ResponseWriter, r *http.Request) {
	src, err := h.store.SourceGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := h.withInbound(r, src); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, src)
}

func (h *Handler) handleSourceUpdate(w http.ResponseWriter, r *http.Request) {
	var in SourceInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	src, err := h.sources().SourceUpdate(r.Context(), actor(r), r.PathValue("id"), in)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := h.withInbound(r, src); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, src)
}

func (h *Handler) handleSourceDelete(w http.ResponseWriter, r *http.Request) {
	if err := h.sources().SourceDelete(r.Context(), actor(r), r.PathValue("id")); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sourceSchemas adds the schemas of the sources resource.
func (b *docBuilder) sourceSchemas() {
	ts := func(desc string) m {
		return m{"type": []string{"string", "null"}, "format": "date-time", "description": desc}
	}
	b.add("SourceHealth", b.object("How the source is doing, as the node running it last reported; counters add up over restarts.", m{
		"last_poll_at":    ts("The last read of the source, successful or not."),
		"last_success_at": ts("The last successful read."),
		"events_read":     integer("The vendor's events read."),
		"events_emitted":  integer("Catalog events ingested from them."),
		"errors":          integer("Failed reads."),
		"last_error":      str("Why the latest read failed."),
		"last_error_at":   ts("When it failed."),
		"lag_ms":          integer("Milliseconds between the vendor's timestamp of the newest event and its ingest."),
		"node":            str("The hub node running the source; absent when none does."),
	}, "last_poll_at", "last_success_at", "events_read", "events_emitted", "errors", "lag_ms"))
	b.add("Source", b.object("An inbound connection: a recruiting system whose events the hub takes in.", m{
		"id":   str("The source's id, `src_…`."),
		"kind": m{"type": "string", "enum": b.sourceKinds, "description": "The connector: `bullhorn` is polled; the others are push sources that take webhooks at their `ingest_url`."},
		"name": str(""),
		"config": m{"type": "object",
			"description": "The connector's configuration without its secrets (`client_secret`, `password`, `refresh_token`, `signing_secret`, `previous_signing_secret`, `api_key`), which are never returned."},
		"ingest_url": str("Push sources: the URL to give the vendor as the webhook address (`POST /in/{id}`), under `--public-url`."),
		"requests":   ref("InboundStats"),
		"enabled":    boolean("A disabled source is not read."),
		"health":     ref("SourceHealth"),
		"created_at": dateTime(""),
		"updated_at": dateTime(""),
	}, "id", "kind", "name", "config", "enabled", "health", "created_at", "updated_at"))
	b.list("SourceList", "Source")
	b.add("InboundStats", b.object("Push sources: the sums of the request log (over what retention keeps).", m{
		"by_status":         m{"type": "object", "additionalProperties": m{"type": "integer"}, "description": "Requests by state."},
		"events":            integer("Catalog events the processed requests became."),
		"last_received_at":  ts("The last request, verified or not."),
		"last_verified_at":  ts("The last request whose signature verified (or handshake): the vendor reaches the hub with the right secret."),
		"last_handshake_at": ts("The last handshake or ping (connection verified)."),
		"last_rejected_at":  ts("The last rejected request."),
		"last_rejection":    str("Why it was rejected."),
	}, "by_status", "events", "last_received_at", "last_verified_at", "last_handshake_at", "last_rejected_at"))
	requestProps := m{
		"id":           str("The request's id, `inr_…`."),
		"source_id":    str(""),
		"received_at":  dateTime(""),
		"status":       m{"type": "string", "enum": inboundStates, "description": "received (waiting for the worker), processed, unsupported (no catalog mapping yet), failed, duplicate (the vendor's retry), rejected (bad signature; no body kept) or handshake."},
		"dedupe_key":   str("The vendor's event id, or `sha256:` and the body's hash."),
		"duplicate_of": str("The request a duplicate repeats."),
		"vendor_event": str("The vendor's event name."),
		"header":       m{"type": "object", "additionalProperties": m{"type": "array", "items": m{"type": "string"}}, "description": "The request headers, without Authorization, Cookie and X-Hook-Secret."},
		"body_size":    integer("Bytes received."),
		"event_ids":    array(m{"type": "string"}, "The events the request became."),
		"error":        str("Why it was rejected, failed or unsupported."),
		"attempts":     integer("Times it was normalised."),
		"processed_at": ts("When it reached its state."),
		"due_at":       ts("When a received request is next normalised."),
	}
	requestRequired := []string{"id", "source_id", "received_at", "status", "body_size", "event_ids", "attempts"}
	b.add("InboundRequest", b.object("One webhook a push source received.", requestProps, requestRequired...))
	b.list("InboundRequestList", "InboundRequest")
	b.add("InboundRequestDetail", b.object("One webhook with its raw body.", with(requestProps, m{
		"body":        m{"description": "The body exactly as received, when it is JSON."},
		"body_base64": str("The body in base64, when it is not JSON."),
	}), requestRequired...))
	b.add("InboundResponse", b.object("The answer to a vendor's webhook.", m{
		"request_id": str("The request's id in the source's log."),
		"status":     m{"type": "string", "enum": inboundStates},
		"event_ids":  array(m{"type": "string"}, "The events it became, when processed."),
	}, "request_id", "status", "event_ids"))
	b.add("ReprocessInput", input("", m{
		"from": m{"type": "string", "format": "date-time", "description": "Start of the window of received times (inclusive)."},
		"to":   m{"type": "string", "format": "date-time", "description": "End of the window (exclusive); default now."},
	}, "from"))
	b.add("ReprocessResult", b.object("", m{"requests": integer("Requests made due again.")}, "requests"))
	bullhornConfig := m{"type": "object", "description": "For `bullhorn`: `client_id`, `client_secret`, and `username` + `password` or a `refresh_token`; " +
		"`auth_url` and `login_url` (default Bullhorn's hosts), `subscription_id`, `poll_interval_ms` (default 2000), `confirmed_statuses` (default `[\"Approved\"]`), " +
		"`ended_statuses`, `interview_types`, `web_response_statuses`, `stage_categories`, `currency`. " +
		"For push sources: `signing_secret` (required: the secret the vendor signs with; `whsec_…` or `whpk_…` for generic Standard Webhooks), " +
		"`previous_signing_secret` (also verifies, during a rotation), `account` (named in external_refs), `api_key` and for Lever `api_url` " +
		"(SmartRecruiters and Lever: fetch the records of their thin webhooks), and for `generic`: `scheme` (`standard_webhooks` or `hmac`), " +
		"with hmac `header`, `encoding` (`hex` or `base64`) and `prefix`. Secrets are write-only."}
	props := m{
		"kind":    m{"type": "string", "enum": b.sourceKinds},
		"name":    m{"type": "string", "minLength": 1, "maxLength": 200},
		"config":  bullhornConfig,
		"enabled": m{"type": "boolean", "default": true},
	}
	b.add("SourceCreate", input("", props, "kind", "name", "config"))
	b.add("SourceUpdate", input("Fields left out are unchanged; `config` is a JSON Merge Patch of the stored configuration, so secrets need not be sent again.",
		with(props, m{"config": m{"type": "object", "description": "Fields to change; null removes one."}})))
}

// inboundStates are the states of an inbound request.
var inboundStates = []string{hirehook.InboundReceived, hirehook.InboundProcessed, hirehook.InboundUnsupported, hirehook.InboundFailed,
	hirehook.InboundDuplicate, hirehook.InboundRejected, hirehook.InboundHandshake}

// withInbound fills in what the API shows of push sources beside what is
// stored: the ingest URL and the sums of the request log.
func (h *Handler) withInbound(r *http.Request, srcs ...*hirehook.Source) error {
	var stats map[string]*hirehook.InboundStats
	for _, src := range srcs {
		if !h.cfg.PushKinds[src.Kind] {
			continue
		}
		if stats == nil {
			var err error
			if stats, err = h.store.InboundStats(r.Context(), tenantOf(r)); err != nil {
				return err
			}
		}
		src.IngestURL = h.publicURL(r) + "/in/" + src.ID
		src.Requests = stats[src.ID]
		if src.Requests == nil {
			src.Requests = &hirehook.InboundStats{ByStatus: map[string]int64{}}
		}
	}
	return nil
}

// publicURL is the hub's address as vendors reach it: --public-url, else
// the scheme and host this request came in on.
func (h *Handler) publicURL(r *http.Request) string {
	if h.cfg.PublicURL != "" {
		return strings.TrimSuffix(h.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// pushSource returns the push source named in the path, or ENOTFOUND.
func (h *Handler) pushSource(r *http.Request) (*hirehook.Source, error) {
	src, err := h.store.SourceGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if !h.cfg.PushKinds[src.Kind] {
		return nil, hirehook.Errorf(hirehook.ENOTFOUND, "Source %q is a %s source, which the hub polls; it has no request log.", src.ID, src.Kind)
	}
	return src, nil
}

func (h *Handler) handleInboundList(w http.ResponseWriter, r *http.Request) {
	after, limit, err := listQuery(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", hirehook.InboundReceived, hirehook.InboundProcessed, hirehook.InboundUnsupported, hirehook.InboundFailed,
		hirehook.InboundDuplicate, hirehook.InboundRejected, hirehook.InboundHandshake:
	default:
		Error(w, r, h.logger, hirehook.FieldError("status", "must be one of: received, processed, unsupported, failed, duplicate, rejected, handshake"))
		return
	}
	src, err := h.pushSource(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	reqs, err := h.store.InboundList(r.Context(), hirehook.InboundFilter{TenantID: src.TenantID, SourceID: src.ID, Status: status, Before: after, Limit: limit + 1})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, page(reqs, limit, func(q *hirehook.InboundRequest) string { return q.ID }))
}

// InboundRequestDetail is one request of a push source's log with its body:
// as JSON when the body is JSON (as every supported vendor sends), else in
// base64.
type InboundRequestDetail struct {
	*hirehook.InboundRequest
	Body       json.RawMessage `json:"body,omitempty"`
	BodyBase64 string          `json:"body_base64,omitempty"`
}

func (h *Handler) handleInboundGet(w http.ResponseWriter, r *http.Request) {
	src, err := h.pushSource(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	req, err := h.store.InboundGet(r.Context(), src.TenantID, src.ID, r.PathValue("request_id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	d := InboundRequestDetail{InboundRequest: req}
	switch {
	case len(req.Body) == 0:
	case json.Valid(req.Body):
		d.Body = req.Body
	default:
		d.BodyBase64 = base64.StdEncoding.EncodeToString(req.Body)
	}
	writeJSON(w, http.StatusOK, d)
}

// ReprocessInput is the body of POST /v1/sources/{id}/reprocess.
type ReprocessInput struct {
	// From and To bound the requests' received time: from ≤ t < to. To
	// defaults to now.
	From *time.Time `json:"from"`
	To   *time.Time `json:"to"`
}

// ReprocessResult answers POST /v1/sources/{id}/reprocess.
type ReprocessResult struct {
	// Requests counts the requests made due again: processed,
	// unsupported and failed ones in the window.
	Requests int `json:"requests"`
}

func (h *Handler) handleSourceReprocess(w http.ResponseWriter, r *http.Request) {
	var in ReprocessInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	if in.From == nil {
		Error(w, r, h.logger, hirehook.FieldError("from", "is required: the start of the window (RFC 3339)"))
		return
	}
	to := now.Add(time.Microsecond)
	if in.To != nil {
		to = *in.To
	}
	// The window is checked before the source, as it was read first.
	if err := (hirehook.InboundReprocessParams{From: *in.From, To: to}).Validate(); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	src, err := h.pushSource(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	n, err := h.sources().SourceReprocess(r.Context(), actor(r), src.ID, *in.From, to)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, ReprocessResult{Requests: n})
}
