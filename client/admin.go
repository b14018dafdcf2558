package client

import (
	"context"
	"iter"
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
)

// APIKeyParams is a new API key.
type APIKeyParams struct {
	Name string `json:"name"`
	// Scope is admin, producer or viewer (operator only from an operator
	// key).
	Scope hirehook.Scope `json:"scope"`
	// ExpiresAt, if set, must be in the future.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// TenantID creates the key in another tenant: operator keys only.
	TenantID string `json:"tenant_id,omitempty"`
}

// APIKeyCreated is a new key: the only time the hub shows it.
type APIKeyCreated struct {
	hirehook.APIKey
	Key string `json:"key"`
}

// CreateAPIKey creates an API key (admin scope).
func (c *Client) CreateAPIKey(ctx context.Context, p APIKeyParams) (*APIKeyCreated, error) {
	var out APIKeyCreated
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/api-keys", in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAPIKeys lists the tenant's keys, never the keys themselves (admin
// scope).
func (c *Client) ListAPIKeys(ctx context.Context) ([]hirehook.APIKey, error) {
	var out Page[hirehook.APIKey]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/api-keys", out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// RevokeAPIKey revokes a key at once (admin scope).
func (c *Client) RevokeAPIKey(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/api-keys/" + seg(id)})
}

// ListAuditLog returns one page of the tenant's audit log, newest first
// (admin scope).
func (c *Client) ListAuditLog(ctx context.Context, p ListParams) (*Page[hirehook.AuditEntry], error) {
	var out Page[hirehook.AuditEntry]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/audit-log", query: p.query(nil), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllAuditLog iterates over the whole audit log, newest first.
func (c *Client) AllAuditLog(ctx context.Context, p ListParams) iter.Seq2[hirehook.AuditEntry, error] {
	return all(p.After, func(after string) (*Page[hirehook.AuditEntry], error) {
		p.After = after
		return c.ListAuditLog(ctx, p)
	})
}

// TenantCreateParams is a new tenant; Name is required.
type TenantCreateParams struct {
	// ID is 1–64 of a-z, 0-9, '_' and '-'; empty makes a "tnt_…" id.
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	// RetentionDays is how long payloads are kept; 0 means the default (30).
	RetentionDays int `json:"retention_days,omitempty"`
}

// TenantUpdateParams changes a tenant: nil fields are left as they are.
type TenantUpdateParams struct {
	Name          *string `json:"name,omitempty"`
	RetentionDays *int    `json:"retention_days,omitempty"`
}

// CreateTenant creates a tenant (operator scope). Code conflict if the id
// is taken.
func (c *Client) CreateTenant(ctx context.Context, p TenantCreateParams) (*hirehook.Tenant, error) {
	var out hirehook.Tenant
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/tenants", in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTenants returns one page of tenants (operator scope).
func (c *Client) ListTenants(ctx context.Context, p ListParams) (*Page[hirehook.Tenant], error) {
	var out Page[hirehook.Tenant]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/tenants", query: p.query(nil), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetTenant returns a tenant (operator scope).
func (c *Client) GetTenant(ctx context.Context, id string) (*hirehook.Tenant, error) {
	var out hirehook.Tenant
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/tenants/" + seg(id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateTenant changes a tenant (operator scope).
func (c *Client) UpdateTenant(ctx context.Context, id string, p TenantUpdateParams) (*hirehook.Tenant, error) {
	var out hirehook.Tenant
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/tenants/" + seg(id), in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteTenant deletes a tenant and everything it owns, for good
// (operator scope).
func (c *Client) DeleteTenant(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/tenants/" + seg(id)})
}
