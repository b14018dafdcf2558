package ops

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/hirehook/hirehook"
)

// APIKeyStore is what the API key operations need of the Store.
type APIKeyStore interface {
	AuditStore
	APIKeyCreate(ctx context.Context, k *hirehook.APIKey) error
	APIKeyDelete(ctx context.Context, tenantID, id string) error
}

// APIKeyInput is what a person gives to create an API key.
type APIKeyInput struct {
	Name      string
	Scope     hirehook.Scope
	ExpiresAt *time.Time
	// TenantID creates the key in another tenant: operator actors only.
	// Empty: the actor's tenant.
	TenantID string
}

// APIKeys are the operations on API keys: create and revoke. Each needs an
// admin-scoped actor, validates ((*hirehook.APIKey).Validate; who may make
// an operator key or a key in another tenant is checked here), stores,
// tells the key caches (RevokedFunc) and writes one audit entry:
// api_key.created or api_key.revoked.
type APIKeys struct {
	Store APIKeyStore
	// RevokedFunc, if set, is told of a revoked key's id, so that a cache
	// of keys forgets it at once.
	RevokedFunc func(keyID string)
	NowFunc     func() time.Time
	Logger      *slog.Logger
}

func (s *APIKeys) auditor() auditor {
	return auditor{store: s.Store, nowFunc: s.NowFunc, logger: s.Logger}
}

// NewAPIKey returns a new random API key: "hh_" and 43 URL-safe characters
// (32 random bytes).
func NewAPIKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "hh_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// APIKeyCreate creates a key in the actor's tenant, or in in.TenantID when
// the actor is the operator, and returns it with the key itself: the only
// time the key is handed out (the store keeps its hash). Operator keys are
// made only by an operator, in its own tenant. The audit entry is written
// in the tenant the key belongs to. Errors: EFORBIDDEN, EINVALID naming the
// field ("tenant_id" for an unknown tenant).
func (s *APIKeys) APIKeyCreate(ctx context.Context, a Actor, in APIKeyInput) (*hirehook.APIKey, string, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, "", err
	}
	now := now(s.NowFunc).UTC().Truncate(time.Microsecond)
	k := &hirehook.APIKey{ID: hirehook.NewID("key"), TenantID: a.TenantID, Name: in.Name, Scope: in.Scope, CreatedAt: now}
	if err := k.Validate(); err != nil {
		return nil, "", err
	}
	otherTenant := in.TenantID != "" && in.TenantID != a.TenantID
	switch {
	case in.Scope == hirehook.ScopeOperator && (a.Scope != hirehook.ScopeOperator || otherTenant):
		return nil, "", hirehook.FieldError("scope", "operator keys are made only by an operator key, in its own tenant")
	case in.ExpiresAt != nil && !in.ExpiresAt.After(now):
		return nil, "", hirehook.FieldError("expires_at", "must be in the future")
	case otherTenant && a.Scope != hirehook.ScopeOperator:
		return nil, "", hirehook.Errorf(hirehook.EFORBIDDEN, "Only the operator key may create keys in another tenant.")
	}
	if in.TenantID != "" {
		k.TenantID = in.TenantID
	}
	key := NewAPIKey()
	k.Hash = hirehook.HashAPIKey(key)
	if in.ExpiresAt != nil {
		exp := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		k.ExpiresAt = &exp
	}
	if err := s.Store.APIKeyCreate(ctx, k); err != nil {
		if hirehook.ErrorCode(err) == hirehook.ENOTFOUND {
			err = hirehook.FieldError("tenant_id", "No tenant %q.", k.TenantID)
		}
		return nil, "", err
	}
	inTenant := a
	inTenant.TenantID = k.TenantID // the entry belongs to the key's tenant
	s.auditor().audit(ctx, inTenant, "api_key.created", k.ID, map[string]any{"name": k.Name, "scope": k.Scope, "expires_at": k.ExpiresAt})
	return k, key, nil
}

// APIKeyRevoke deletes key id of the actor's tenant: it stops working at
// once where RevokedFunc evicts it, and on other nodes within their key
// caches' lifetime. Errors: EFORBIDDEN, ENOTFOUND.
func (s *APIKeys) APIKeyRevoke(ctx context.Context, a Actor, id string) error {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return err
	}
	if err := s.Store.APIKeyDelete(ctx, a.TenantID, id); err != nil {
		return err
	}
	if s.RevokedFunc != nil {
		s.RevokedFunc(id)
	}
	s.auditor().audit(ctx, a, "api_key.revoked", id, nil)
	return nil
}
