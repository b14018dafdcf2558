package api

import (
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
	writeJSON(w, http.StatusOK, page(srcs, limit, func(s *hirehook.Source) string { return s.ID }))
}

func (h *Handler) handleSourceGet(w http.ResponseWriter, r *http.Request) {
	src, err := h.store.SourceGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
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
		"kind": m{"type": "string", "enum": []string{hirehook.SourceBullhorn}, "description": "The connector."},
		"name": str(""),
		"config": m{"type": "object",
			"description": "The connector's configuration without its secrets (`client_secret`, `password`, `refresh_token`), which are never returned."},
		"enabled":    boolean("A disabled source is not read."),
		"health":     ref("SourceHealth"),
		"created_at": dateTime(""),
		"updated_at": dateTime(""),
	}, "id", "kind", "name", "config", "enabled", "health", "created_at", "updated_at"))
	b.list("SourceList", "Source")
	bullhornConfig := m{"type": "object", "description": "For `bullhorn`: `client_id`, `client_secret`, and `username` + `password` or a `refresh_token`; " +
		"`auth_url` and `login_url` (default Bullhorn's hosts), `subscription_id`, `poll_interval_ms` (default 2000), `confirmed_statuses` (default `[\"Approved\"]`), " +
		"`ended_statuses`, `interview_types`, `web_response_statuses`, `stage_categories`, `currency`. Secrets are write-only."}
	props := m{
		"kind":    m{"type": "string", "enum": []string{hirehook.SourceBullhorn}},
		"name":    m{"type": "string", "minLength": 1, "maxLength": 200},
		"config":  bullhornConfig,
		"enabled": m{"type": "boolean", "default": true},
	}
	b.add("SourceCreate", input("", props, "kind", "name", "config"))
	b.add("SourceUpdate", input("Fields left out are unchanged; `config` is a JSON Merge Patch of the stored configuration, so secrets need not be sent again.",
		with(props, m{"config": m{"type": "object", "description": "Fields to change; null removes one."}})))
}
