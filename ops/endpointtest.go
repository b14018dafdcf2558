package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/hirehook/hirehook"
)

// EndpointTestType is the event type a test send ingests. It is an
// operational type (the hub emits it; producers may not send it), not a
// recruiting one, so a test never tells an onboarding or payroll system
// about a made-up hire nor changes a candidate's or placement's record.
const EndpointTestType = "endpoint.tested"

// EndpointTestStore is what a test send needs of the Store.
type EndpointTestStore interface {
	AuditStore
	EndpointGet(ctx context.Context, tenantID, id string) (*hirehook.Endpoint, error)
}

// EndpointTests sends test events to endpoints: the one operation behind
// the dashboard's "Send test event" button and POST
// /v1/endpoints/{id}/test.
type EndpointTests struct {
	Store EndpointTestStore
	// Ingester is the same door and group commit as POST /v1/events, so
	// the test event is validated, stored, signed, delivered, retried and
	// logged like any other.
	Ingester hirehook.Ingester
	// NowFunc stamps the audit entry. Default time.Now.
	NowFunc func() time.Time
	// Logger receives the failure to write an audit entry (the test was
	// sent by then). Default: discard.
	Logger *slog.Logger
}

// EndpointTestResult answers a test send; it is also the body of the
// answer to POST /v1/endpoints/{id}/test.
type EndpointTestResult struct {
	// EventID is the test event's id; EventType is EndpointTestType.
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	// EndpointID is the endpoint tested, the only one the event goes to.
	EndpointID string `json:"endpoint_id"`
	// EventURL is the API path of the event with its delivery
	// (GET /v1/events/{id}), to follow the attempt.
	EventURL string `json:"event_url"`
}

// Send sends one test event to the endpoint, and to no other endpoint,
// whatever its event types and filter: an endpoint.tested event whose data
// names the endpoint (its id, its URL without query or credentials, its
// description). Its transform and payload mode apply as to any event, so
// the receiver sees what it would see. Steps: authorise (admin scope),
// validate (the endpoint exists in the tenant and is enabled), ingest
// (committed before Send returns), audit (endpoint.test_sent).
//
// Errors: EFORBIDDEN below admin scope; ENOTFOUND for an unknown endpoint;
// ECONFLICT for a disabled one (nothing is sent; the message says to
// enable it); EUNAVAILABLE when the hub takes no events now.
func (t *EndpointTests) Send(ctx context.Context, a Actor, endpointID string) (*EndpointTestResult, error) {
	if err := a.allow(hirehook.ScopeAdmin); err != nil {
		return nil, err
	}
	if t.Ingester == nil {
		return nil, hirehook.Errorf(hirehook.EUNAVAILABLE, "This hub cannot send events.")
	}
	ep, err := t.Store.EndpointGet(ctx, a.TenantID, endpointID)
	if err != nil {
		return nil, err
	}
	if ep.Disabled {
		return nil, hirehook.Errorf(hirehook.ECONFLICT, "The endpoint is disabled, so it gets no events, tests included. Enable it, then send the test event.")
	}
	data, err := json.Marshal(map[string]any{"id": ep.ID, "url": ep.Target(), "description": ep.Description})
	if err != nil {
		return nil, fmt.Errorf("test endpoint %s: %w", ep.ID, err)
	}
	e, err := t.Ingester.Prepare(a.TenantID, &hirehook.EventInput{Type: EndpointTestType, Source: "hirehook", Data: data}, "")
	if err != nil {
		return nil, fmt.Errorf("test endpoint %s: %w", ep.ID, err)
	}
	e.TargetEndpointID = ep.ID
	res, err := t.Ingester.Commit(ctx, []*hirehook.Event{e})
	if err == nil && len(res) != 1 {
		err = errors.New("the ingester answered no result")
	}
	if err != nil {
		return nil, fmt.Errorf("send test event to endpoint %s: %w", ep.ID, err)
	}
	if res[0].Deliveries != 1 {
		// Disabled or deleted between the read and the commit: the event
		// is stored, with no delivery.
		return nil, hirehook.Errorf(hirehook.ECONFLICT, "The endpoint was disabled or deleted while the test event was sent; nothing went to it.")
	}
	auditor{store: t.Store, nowFunc: t.NowFunc, logger: t.Logger}.audit(ctx, a, "endpoint.test_sent", ep.ID, map[string]any{"event_id": e.ID})
	return &EndpointTestResult{EventID: e.ID, EventType: EndpointTestType, EndpointID: ep.ID, EventURL: "/v1/events/" + url.PathEscape(e.ID)}, nil
}
