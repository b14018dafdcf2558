package api

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// SourceKind validates the configuration of one kind of source, as an API
// client sends it (secrets included), and splits it into what may be shown
// and the secrets by name, which are write-only. Errors are
// *hirehook.Error naming the field under "config" (bullhorn.SplitConfig).
// Secrets are top-level string fields of the configuration: a PATCH merges
// its config over the stored one with its secrets, so a client need not
// send the secrets again to change another field.
type SourceKind func(config json.RawMessage) (public json.RawMessage, secrets map[string]string, err error)

// SourceInput is the body of POST /v1/sources and PATCH /v1/sources/{id}
// (where every field is optional, and config is a JSON Merge Patch of the
// stored configuration).
type SourceInput struct {
	Kind    *string         `json:"kind"`
	Name    *string         `json:"name"`
	Config  json.RawMessage `json:"config"`
	Enabled *bool           `json:"enabled"`
}

func (h *Handler) sourceKind(kind string) (SourceKind, error) {
	split, ok := h.cfg.SourceKinds[kind]
	if !ok {
		known := slices.Sorted(maps.Keys(h.cfg.SourceKinds))
		return nil, hirehook.FieldError("kind", "must be one of: %s", strings.Join(known, ", "))
	}
	return split, nil
}

func validateSourceName(name *string, create bool) error {
	if name == nil {
		if create {
			return hirehook.FieldError("name", "is required")
		}
		return nil
	}
	if n := strings.TrimSpace(*name); n == "" || len(*name) > 200 {
		return hirehook.FieldError("name", "must be 1 to 200 characters")
	}
	return nil
}

func configObject(raw json.RawMessage) (map[string]any, error) {
	var obj map[string]any
	if len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, hirehook.FieldError("config", "must be a JSON object")
	}
	return obj, nil
}

func (h *Handler) sourcesChanged() {
	if h.cfg.SourcesChanged != nil {
		h.cfg.SourcesChanged()
	}
}

func (h *Handler) handleSourceCreate(w http.ResponseWriter, r *http.Request) {
	var in SourceInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if in.Kind == nil {
		Error(w, r, h.logger, hirehook.FieldError("kind", "is required"))
		return
	}
	split, err := h.sourceKind(*in.Kind)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := validateSourceName(in.Name, true); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if _, err := configObject(in.Config); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	public, secrets, err := split(in.Config)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	src := &hirehook.Source{
		TenantID:  tenantOf(r),
		ID:        hirehook.NewID("src"),
		Kind:      *in.Kind,
		Name:      *in.Name,
		Config:    public,
		Secrets:   secrets,
		Enabled:   in.Enabled == nil || *in.Enabled,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := h.store.SourceCreate(r.Context(), src); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, src.TenantID, "source.created", src.ID, map[string]any{"kind": src.Kind, "name": src.Name, "enabled": src.Enabled})
	h.sourcesChanged()
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
	if err := validateSourceName(in.Name, false); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	cur, err := h.store.SourceGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if in.Kind != nil && *in.Kind != cur.Kind {
		Error(w, r, h.logger, hirehook.FieldError("kind", "cannot be changed after creation; create a new source"))
		return
	}
	u := hirehook.SourceUpdate{Name: in.Name, Enabled: in.Enabled, Now: h.cfg.NowFunc()}
	changed := map[string]any{}
	if in.Config != nil {
		patch, err := configObject(in.Config)
		if err != nil {
			Error(w, r, h.logger, err)
			return
		}
		split, err := h.sourceKind(cur.Kind)
		if err != nil {
			Error(w, r, h.logger, err)
			return
		}
		// The stored configuration with its secrets, patched.
		full, err := configObject(cur.Config)
		if err != nil {
			Error(w, r, h.logger, err)
			return
		}
		for k, v := range cur.Secrets {
			full[k] = v
		}
		merged, err := json.Marshal(mergePatch(full, patch))
		if err != nil {
			Error(w, r, h.logger, err)
			return
		}
		public, secrets, err := split(merged)
		if err != nil {
			Error(w, r, h.logger, err)
			return
		}
		u.Config = &public
		// Only the secrets that changed: a refresh token the running
		// source rotated meanwhile must not be overwritten with the
		// one read above.
		u.Secrets = map[string]string{}
		for k, v := range secrets {
			if cur.Secrets[k] != v {
				u.Secrets[k] = v
			}
		}
		for k := range cur.Secrets {
			if _, ok := secrets[k]; !ok {
				u.Secrets[k] = "" // removed
			}
		}
		changed["config"] = slices.Sorted(maps.Keys(patch)) // names only: values may be secrets
	}
	src, err := h.store.SourceUpdate(r.Context(), tenantOf(r), cur.ID, u)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if in.Name != nil {
		changed["name"] = *in.Name
	}
	if in.Enabled != nil {
		changed["enabled"] = *in.Enabled
	}
	h.audit(r, src.TenantID, "source.updated", src.ID, changed)
	h.sourcesChanged()
	if err := h.withInbound(r, src); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, src)
}

func (h *Handler) handleSourceDelete(w http.ResponseWriter, r *http.Request) {
	if err := h.store.SourceDelete(r.Context(), tenantOf(r), r.PathValue("id")); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, tenantOf(r), "source.deleted", r.PathValue("id"), nil)
	h.sourcesChanged()
	w.WriteHeader(http.StatusNoContent)
}

// mergePatch applies patch to target as a JSON Merge Patch (RFC 7396):
// objects merge field by field, null removes a field, anything else
// replaces.
func mergePatch(target, patch map[string]any) map[string]any {
	if target == nil {
		target = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			tv, _ := target[k].(map[string]any)
			target[k] = mergePatch(tv, pv)
		default:
			target[k] = v
		}
	}
	return target
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
	if !in.From.Before(to) {
		Error(w, r, h.logger, hirehook.FieldError("to", "must be after from"))
		return
	}
	src, err := h.pushSource(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	n, err := h.store.InboundReprocess(r.Context(), hirehook.InboundReprocessParams{TenantID: src.TenantID, SourceID: src.ID, From: in.From.UTC(), To: to.UTC(), Now: now})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, src.TenantID, "source.reprocessed", src.ID, map[string]any{"from": in.From.UTC(), "to": to.UTC(), "requests": n})
	if n > 0 && h.cfg.InboundChanged != nil {
		h.cfg.InboundChanged()
	}
	writeJSON(w, http.StatusAccepted, ReprocessResult{Requests: n})
}
