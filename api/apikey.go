package api

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
)

// APIKeyInput is the body of POST /v1/api-keys.
type APIKeyInput struct {
	Name      string         `json:"name"`
	Scope     hirehook.Scope `json:"scope"`
	ExpiresAt *time.Time     `json:"expires_at"`
	// TenantID creates the key in another tenant: operator keys only.
	TenantID string `json:"tenant_id"`
}

// APIKeyCreated answers a key creation: the only time the key is shown.
type APIKeyCreated struct {
	*hirehook.APIKey
	Key string `json:"key"`
}

// NewAPIKey returns a new random API key: "hh_" and 43 URL-safe characters
// (32 random bytes).
func NewAPIKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "hh_" + base64.RawURLEncoding.EncodeToString(b[:])
}

func (h *Handler) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) {
	var in APIKeyInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	p := principalOf(r)
	now := h.cfg.NowFunc().UTC().Truncate(time.Microsecond)
	switch {
	case in.Name == "" || len(in.Name) > 200:
		Error(w, r, h.logger, hirehook.FieldError("name", "is required: 1 to 200 characters"))
		return
	case in.Scope == hirehook.ScopeAny || !in.Scope.Valid():
		Error(w, r, h.logger, hirehook.FieldError("scope", "must be admin, producer or viewer"))
		return
	case in.Scope == hirehook.ScopeOperator && (p.scope != hirehook.ScopeOperator || (in.TenantID != "" && in.TenantID != p.tenantID)):
		Error(w, r, h.logger, hirehook.FieldError("scope", "operator keys are made only by an operator key, in its own tenant"))
		return
	case in.ExpiresAt != nil && !in.ExpiresAt.After(now):
		Error(w, r, h.logger, hirehook.FieldError("expires_at", "must be in the future"))
		return
	case in.TenantID != "" && in.TenantID != p.tenantID && p.scope != hirehook.ScopeOperator:
		Error(w, r, h.logger, hirehook.Errorf(hirehook.EFORBIDDEN, "Only the operator key may create keys in another tenant."))
		return
	}
	tenantID := p.tenantID
	if in.TenantID != "" {
		tenantID = in.TenantID
	}
	key := NewAPIKey()
	k := &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: tenantID, Name: in.Name, Scope: in.Scope, Hash: HashKey(key), CreatedAt: now}
	if in.ExpiresAt != nil {
		exp := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		k.ExpiresAt = &exp
	}
	if err := h.store.APIKeyCreate(r.Context(), k); err != nil {
		if hirehook.ErrorCode(err) == hirehook.ENOTFOUND {
			err = hirehook.FieldError("tenant_id", "No tenant %q.", tenantID)
		}
		Error(w, r, h.logger, err)
		return
	}
	h.audit(r, tenantID, "api_key.created", k.ID, map[string]any{"name": k.Name, "scope": k.Scope, "expires_at": k.ExpiresAt})
	writeJSON(w, http.StatusCreated, APIKeyCreated{APIKey: k, Key: key})
}

func (h *Handler) handleAPIKeyList(w http.ResponseWriter, r *http.Request) {
	keys, err := h.store.APIKeyList(r.Context(), tenantOf(r))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, List[*hirehook.APIKey]{Data: keys})
}

// handleAPIKeyDelete revokes a key of the caller's tenant. It stops working
// on this node at once and on others within seconds (their key caches).
func (h *Handler) handleAPIKeyDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.store.APIKeyDelete(r.Context(), tenantOf(r), id); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	h.keys.evict(func(k *hirehook.APIKey) bool { return k.ID == id })
	h.audit(r, tenantOf(r), "api_key.revoked", id, nil)
	w.WriteHeader(http.StatusNoContent)
}
