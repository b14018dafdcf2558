package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"

	"github.com/hirehook/hirehook"
)

// SourceCreateParams is a new source: an ATS whose events the hub reads.
// Kind, Name and Config are required.
type SourceCreateParams struct {
	// Kind names the connector: hirehook.SourceBullhorn.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Config is the connector's configuration, secrets included (for
	// bullhorn: client_id, client_secret, username and password or
	// refresh_token, ...). The secrets are write-only: answers leave them
	// out.
	Config json.RawMessage `json:"config"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// SourceUpdateParams changes a source: nil fields are left as they are.
// Config is a JSON Merge Patch of the stored configuration (null removes a
// field), so secrets need not be sent again. The hub restarts the source.
type SourceUpdateParams struct {
	Name    *string         `json:"name,omitempty"`
	Config  json.RawMessage `json:"config,omitempty"`
	Enabled *bool           `json:"enabled,omitempty"`
}

// CreateSource connects a source (admin scope); the hub starts reading it
// at once when it is enabled. Code invalid names the field (kind,
// config.client_id) when the params are wrong.
func (c *Client) CreateSource(ctx context.Context, p SourceCreateParams) (*hirehook.Source, error) {
	var out hirehook.Source
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/sources", in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListSources returns one page of the tenant's sources, with their health
// (viewer scope).
func (c *Client) ListSources(ctx context.Context, p ListParams) (*Page[hirehook.Source], error) {
	var out Page[hirehook.Source]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/sources", query: p.query(nil), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllSources iterates over every source, page by page.
func (c *Client) AllSources(ctx context.Context, p ListParams) iter.Seq2[hirehook.Source, error] {
	return all(p.After, func(after string) (*Page[hirehook.Source], error) {
		p.After = after
		return c.ListSources(ctx, p)
	})
}

// GetSource returns a source and its health, without its secrets (viewer
// scope).
func (c *Client) GetSource(ctx context.Context, id string) (*hirehook.Source, error) {
	var out hirehook.Source
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/sources/" + seg(id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateSource changes a source and returns it (admin scope).
func (c *Client) UpdateSource(ctx context.Context, id string, p SourceUpdateParams) (*hirehook.Source, error) {
	var out hirehook.Source
	if err := c.do(ctx, call{method: http.MethodPatch, path: "/v1/sources/" + seg(id), in: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteSource deletes a source; the events it emitted stay (admin scope).
func (c *Client) DeleteSource(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/v1/sources/" + seg(id)})
}

// SourceRequestListParams selects a push source's received webhooks.
type SourceRequestListParams struct {
	After string
	Limit int
	// Status keeps one state only: hirehook.InboundRejected, ...
	Status string
}

// SourceRequest is one webhook a push source received, with its raw body
// (GetSourceRequest): Body when it is JSON, else BodyBase64.
type SourceRequest struct {
	hirehook.InboundRequest
	Body       json.RawMessage `json:"body,omitempty"`
	BodyBase64 string          `json:"body_base64,omitempty"`
}

// ListSourceRequests returns one page of a push source's request log,
// newest first, without bodies (viewer scope).
func (c *Client) ListSourceRequests(ctx context.Context, sourceID string, p SourceRequestListParams) (*Page[hirehook.InboundRequest], error) {
	q := ListParams{After: p.After, Limit: p.Limit}.query(nil)
	if p.Status != "" {
		q.Set("status", p.Status)
	}
	var out Page[hirehook.InboundRequest]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/sources/" + seg(sourceID) + "/requests", query: q, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetSourceRequest returns one received webhook with its raw body and
// headers (viewer scope).
func (c *Client) GetSourceRequest(ctx context.Context, sourceID, requestID string) (*SourceRequest, error) {
	var out SourceRequest
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/sources/" + seg(sourceID) + "/requests/" + seg(requestID), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReprocessSource makes the push source's processed, unsupported and failed
// requests received in [from, to) due again, to be normalised anew (after
// a mapping was fixed), and returns how many (admin scope). A zero to means
// now.
func (c *Client) ReprocessSource(ctx context.Context, sourceID string, from, to time.Time) (int, error) {
	in := map[string]any{"from": from}
	if !to.IsZero() {
		in["to"] = to
	}
	var out struct {
		Requests int `json:"requests"`
	}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/sources/" + seg(sourceID) + "/reprocess", in: in, out: &out}); err != nil {
		return 0, err
	}
	return out.Requests, nil
}
