package ops

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
)

// SourceKind validates the configuration of one kind of source, as a
// person sends it (secrets included), and splits it into what may be shown
// and the secrets by name, which are write-only. Errors are
// *hirehook.Error naming the field under "config" (bullhorn.SplitConfig,
// inbound.SplitConfig). Secrets are top-level string fields of the
// configuration: an update merges its config over the stored one with its
// secrets, so a person need not send the secrets again to change another
// field.
type SourceKind func(config json.RawMessage) (public json.RawMessage, secrets map[string]string, err error)

// SourceInput is what a person gives to connect a source (SourceCreate) or
// change one (SourceUpdate, where every field is optional, and Config is a
// JSON Merge Patch of the stored configuration, secrets included). It is
// also the body of POST /v1/sources and PATCH /v1/sources/{id}.
type SourceInput struct {
	Kind    *string         `json:"kind"`
	Name    *string         `json:"name"`
	Config  json.RawMessage `json:"config"`
	Enabled *bool           `json:"enabled"`
}

// SourceStore is what the source operations need of the Store.
type SourceStore interface {
	AuditStore
	SourceCreate(ctx context.Context, s *hirehook.Source) error
	SourceGet(ctx context.Context, tenantID, id string) (*hirehook.Source, error)
	SourceUpdate(ctx context.Context, tenantID, id string, u hirehook.SourceUpdate) (*hirehook.Source, error)
	SourceDelete(ctx context.Context, tenantID, id string) error
	InboundReprocess(ctx context.Context, p hirehook.InboundReprocessParams) (int, error)
}

// Sources are the operations on a tenant's sources: connect, change
// (including enable and disable) and delete. Each needs an admin-scoped
// actor, validates, stores, wakes the source manager (Changed) and writes
// one audit entry: source.created, source.updated or source.deleted.
type Sources struct {
	Store SourceStore
	// Kinds are the kinds of source the hub runs, by name ("bullhorn",
	// "greenhouse", …).
	Kinds map[string]SourceKind
	// ChangedFunc, if set, is called after a source was created, changed or
	// deleted, so the node running sources picks it up at once.
	ChangedFunc func()
	// InboundChangedFunc, if set, is called after a reprocess made requests
	// due again, so the inbound worker takes them at once.
	InboundChangedFunc func()
	NowFunc            func() time.Time
	Logger             *slog.Logger
}

// KindNames are the kinds of source, sorted.
func (s *Sources) KindNames() []string { return slices.Sorted(maps.Keys(s.Kinds)) }

func (s *Sources) auditor() auditor {
	return auditor{store: s.Store, nowFunc: s.NowFunc, logger: s.Logger}
}

func (s *Sources) now() time.Time { return now(s.NowFunc) }

func (s *Sources) changed() { call(s.ChangedFunc) }

func (s *Sources) kind(kind string) (SourceKind, error) {
	split, ok := s.Kinds[kind]
	if !ok {
		return nil, hirehook.FieldError("kind", "must be one of: %s", strings.Join(s.KindNames(), ", "))
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

// SourceCreate connects a source in the actor's tenant. It is enabled
// unless in.Enabled says otherwise. Errors: EFORBIDDEN (not admin),
// EINVALID naming the field (kind, name, config.…), ECONFLICT.
func (s *Sources) SourceCreate(ctx context.Context, a Actor, in SourceInput) (*hirehook.Source, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, err
	}
	if in.Kind == nil {
		return nil, hirehook.FieldError("kind", "is required")
	}
	split, err := s.kind(*in.Kind)
	if err != nil {
		return nil, err
	}
	if err := validateSourceName(in.Name, true); err != nil {
		return nil, err
	}
	if _, err := configObject(in.Config); err != nil {
		return nil, err
	}
	public, secrets, err := split(in.Config)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	src := &hirehook.Source{
		TenantID:  a.TenantID,
		ID:        hirehook.NewID("src"),
		Kind:      *in.Kind,
		Name:      *in.Name,
		Config:    public,
		Secrets:   secrets,
		Enabled:   in.Enabled == nil || *in.Enabled,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := s.Store.SourceCreate(ctx, src); err != nil {
		return nil, err
	}
	s.auditor().audit(ctx, a, "source.created", src.ID, map[string]any{"kind": src.Kind, "name": src.Name, "enabled": src.Enabled})
	s.changed()
	return src, nil
}

// SourceUpdate changes source id of the actor's tenant: its name, whether
// it is enabled, and its configuration, which in.Config patches (a JSON
// Merge Patch over the stored configuration with its secrets: a secret
// left out keeps its value, null removes a field). The kind cannot change.
// The audit entry names the configuration fields changed, never their
// values. Errors: EFORBIDDEN, ENOTFOUND, EINVALID naming the field.
func (s *Sources) SourceUpdate(ctx context.Context, a Actor, id string, in SourceInput) (*hirehook.Source, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, err
	}
	if err := validateSourceName(in.Name, false); err != nil {
		return nil, err
	}
	cur, err := s.Store.SourceGet(ctx, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	if in.Kind != nil && *in.Kind != cur.Kind {
		return nil, hirehook.FieldError("kind", "cannot be changed after creation; create a new source")
	}
	u := hirehook.SourceUpdate{Name: in.Name, Enabled: in.Enabled, Now: s.now()}
	changed := map[string]any{}
	if in.Config != nil {
		patch, err := configObject(in.Config)
		if err != nil {
			return nil, err
		}
		split, err := s.kind(cur.Kind)
		if err != nil {
			return nil, err
		}
		// The stored configuration with its secrets, patched.
		full, err := configObject(cur.Config)
		if err != nil {
			return nil, err
		}
		for k, v := range cur.Secrets {
			full[k] = v
		}
		merged, err := json.Marshal(mergePatch(full, patch))
		if err != nil {
			return nil, err
		}
		public, secrets, err := split(merged)
		if err != nil {
			return nil, err
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
	src, err := s.Store.SourceUpdate(ctx, a.TenantID, cur.ID, u)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		changed["name"] = *in.Name
	}
	if in.Enabled != nil {
		changed["enabled"] = *in.Enabled
	}
	s.auditor().audit(ctx, a, "source.updated", src.ID, changed)
	s.changed()
	return src, nil
}

// SourceDelete deletes source id of the actor's tenant. Errors:
// EFORBIDDEN, ENOTFOUND.
func (s *Sources) SourceDelete(ctx context.Context, a Actor, id string) error {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return err
	}
	if err := s.Store.SourceDelete(ctx, a.TenantID, id); err != nil {
		return err
	}
	s.auditor().audit(ctx, a, "source.deleted", id, nil)
	s.changed()
	return nil
}

// SourceReprocess makes the processed, unsupported and failed requests
// that push source id received from from until to (from ≤ t < to) due
// again, for after a mapping was fixed; wakes the inbound worker
// (InboundChanged) when there are any, and audits source.reprocessed
// with the window and the count. The caller has checked that the source
// is a push source (a polled one has no requests). Errors: EFORBIDDEN,
// EINVALID ("to" not after "from").
func (s *Sources) SourceReprocess(ctx context.Context, a Actor, id string, from, to time.Time) (int, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return 0, err
	}
	p := hirehook.InboundReprocessParams{TenantID: a.TenantID, SourceID: id, From: from.UTC(), To: to.UTC(), Now: s.now().UTC().Truncate(time.Microsecond)}
	if err := p.Validate(); err != nil {
		return 0, err
	}
	n, err := s.Store.InboundReprocess(ctx, p)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		call(s.InboundChangedFunc)
	}
	s.auditor().audit(ctx, a, "source.reprocessed", id, map[string]any{"from": p.From, "to": p.To, "requests": n})
	return n, nil
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
