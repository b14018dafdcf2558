package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/hirehook/hirehook"
)

// DeliveryListParams selects deliveries. Empty fields do not filter.
type DeliveryListParams struct {
	EndpointID string
	EventID    string
	State      hirehook.DeliveryState
	ListParams
}

func (p DeliveryListParams) values() url.Values {
	q := url.Values{}
	if p.EndpointID != "" {
		q.Set("endpoint_id", p.EndpointID)
	}
	if p.EventID != "" {
		q.Set("event_id", p.EventID)
	}
	if p.State != "" {
		q.Set("state", string(p.State))
	}
	return p.ListParams.query(q)
}

// Attempt is one HTTP try of a delivery. Its Duration is the latency the
// hub measured.
type Attempt struct {
	hirehook.Attempt
}

// UnmarshalJSON reads the API's latency_ms into Duration.
func (a *Attempt) UnmarshalJSON(b []byte) error {
	type plain hirehook.Attempt
	var v struct {
		plain
		LatencyMS float64 `json:"latency_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.Attempt = hirehook.Attempt(v.plain)
	a.Duration = time.Duration(v.LatencyMS * float64(time.Millisecond))
	return nil
}

// DeliveryWithAttempts is a delivery and every attempt, oldest first.
type DeliveryWithAttempts struct {
	hirehook.Delivery
	AttemptList []Attempt `json:"attempt_list"`
}

// ListDeliveries returns one page of deliveries, newest first (viewer
// scope).
func (c *Client) ListDeliveries(ctx context.Context, p DeliveryListParams) (*Page[hirehook.Delivery], error) {
	var out Page[hirehook.Delivery]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/deliveries", query: p.values(), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllDeliveries iterates over every delivery p selects, page by page.
func (c *Client) AllDeliveries(ctx context.Context, p DeliveryListParams) iter.Seq2[hirehook.Delivery, error] {
	return all(p.After, func(after string) (*Page[hirehook.Delivery], error) {
		p.After = after
		return c.ListDeliveries(ctx, p)
	})
}

// GetDelivery returns a delivery and its attempts (viewer scope).
func (c *Client) GetDelivery(ctx context.Context, id string) (*DeliveryWithAttempts, error) {
	var out DeliveryWithAttempts
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/deliveries/" + seg(id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetryDelivery makes a delivery due now, whatever its state: a delivered
// one is sent again (a replay). It returns the delivery (admin scope). Code
// invalid when the event's payload was purged by retention.
func (c *Client) RetryDelivery(ctx context.Context, id string) (*hirehook.Delivery, error) {
	var out hirehook.Delivery
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/deliveries/" + seg(id) + "/retry", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
