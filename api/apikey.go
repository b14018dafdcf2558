package api

import (
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/ops"
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
func NewAPIKey() string { return ops.NewAPIKey() }

func (h *Handler) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) {
	var in APIKeyInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &in); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	k, key, err := h.apiKeys().APIKeyCreate(r.Context(), actor(r), ops.APIKeyInput(in))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
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
	if err := h.apiKeys().APIKeyRevoke(r.Context(), actor(r), r.PathValue("id")); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
