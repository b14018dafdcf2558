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

// SendOption modifies one send.
type SendOption struct {
	// IdempotencyKey is sent as the Idempotency-Key header (at most 256
	// characters): the hub accepts the same key once and answers a repeat
	// as the first time, with Duplicate set. In a batch, event i uses
	// "<key>:<i>". An event's own id does the same job; use either.
	IdempotencyKey string
}

func sendHeader(opts []SendOption) http.Header {
	h := http.Header{}
	for _, o := range opts {
		if o.IdempotencyKey != "" {
			h.Set("Idempotency-Key", o.IdempotencyKey)
		}
	}
	return h
}

// SendEvent sends one event (POST /v1/events; producer scope). It returns
// once the event and its deliveries are committed. An invalid event fails
// with code invalid and the field to fix ("data.candidate.email").
// entity.NewEvent builds the input from a typed entity.
func (c *Client) SendEvent(ctx context.Context, in hirehook.EventInput, opts ...SendOption) (hirehook.EventAccepted, error) {
	var acc hirehook.EventAccepted
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/events", header: sendHeader(opts), in: in, out: &acc})
	return acc, err
}

// SendBatch sends up to 1000 events in one commit (POST /v1/events/batch;
// producer scope) and returns one answer per event, in order. It is all or
// nothing: if one event is invalid, nothing is stored and the error's field
// names it ("events[3].type").
func (c *Client) SendBatch(ctx context.Context, events []hirehook.EventInput, opts ...SendOption) ([]hirehook.EventAccepted, error) {
	var out struct {
		Data []hirehook.EventAccepted `json:"data"`
	}
	in := struct {
		Events []hirehook.EventInput `json:"events"`
	}{events}
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/events/batch", header: sendHeader(opts), in: in, out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// EventWithDeliveries is an event and what became of it.
type EventWithDeliveries struct {
	hirehook.Event
	DeliveryList []hirehook.Delivery `json:"delivery_list"`
}

// GetEvent returns an event and its deliveries (viewer scope). Code
// not_found if the tenant has no such event.
func (c *Client) GetEvent(ctx context.Context, id string) (*EventWithDeliveries, error) {
	var out EventWithDeliveries
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/events/" + seg(id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EventListParams selects events. Empty fields do not filter.
type EventListParams struct {
	Type      string // an exact event type, "placement.confirmed"
	SubjectID string // the id of the entity the events are about
	Entity    string // the kind of entity, "placement"
	Source    string // the events' source, "greenhouse" ("hirehook" for the hub's own)
	// ReceivedAfter and ReceivedBefore keep the events received at or
	// after, and before, these times; zero does not filter.
	ReceivedAfter  time.Time
	ReceivedBefore time.Time
	ListParams
}

func (p EventListParams) values() url.Values {
	q := url.Values{}
	if p.Type != "" {
		q.Set("type", p.Type)
	}
	if p.SubjectID != "" {
		q.Set("subject_id", p.SubjectID)
	}
	if p.Entity != "" {
		q.Set("entity", p.Entity)
	}
	if p.Source != "" {
		q.Set("source", p.Source)
	}
	if !p.ReceivedAfter.IsZero() {
		q.Set("received_after", p.ReceivedAfter.UTC().Format(time.RFC3339Nano))
	}
	if !p.ReceivedBefore.IsZero() {
		q.Set("received_before", p.ReceivedBefore.UTC().Format(time.RFC3339Nano))
	}
	return p.ListParams.query(q)
}

// ListEvents returns one page of events in the order they were received
// (viewer scope).
func (c *Client) ListEvents(ctx context.Context, p EventListParams) (*Page[hirehook.Event], error) {
	var out Page[hirehook.Event]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/events", query: p.values(), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllEvents iterates over every event p selects, from p.After on, page by
// page:
//
//	for ev, err := range c.AllEvents(ctx, client.EventListParams{Type: "placement.confirmed"}) {
//		if err != nil {
//			return err
//		}
//		...
//	}
func (c *Client) AllEvents(ctx context.Context, p EventListParams) iter.Seq2[hirehook.Event, error] {
	return all(p.After, func(after string) (*Page[hirehook.Event], error) {
		p.After = after
		return c.ListEvents(ctx, p)
	})
}

// GetRecord returns the current snapshot of one entity, such as
// ("placement", "pl_1001") (viewer scope): every event's data merged as a
// JSON Merge Patch. Code not_found for an unknown entity kind or id.
func (c *Client) GetRecord(ctx context.Context, entity, id string) (*hirehook.Record, error) {
	var out hirehook.Record
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/records/" + seg(entity) + "/" + seg(id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListRecordEvents returns one page of the events about one entity, oldest
// first (viewer scope).
func (c *Client) ListRecordEvents(ctx context.Context, entity, id string, p ListParams) (*Page[hirehook.Event], error) {
	var out Page[hirehook.Event]
	path := "/v1/records/" + seg(entity) + "/" + seg(id) + "/events"
	if err := c.do(ctx, call{method: http.MethodGet, path: path, query: p.query(nil), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// CandidateErased is what an erasure touched.
type CandidateErased struct {
	Events            int    `json:"events"`
	Records           int    `json:"records"`
	Attempts          int    `json:"attempts"`
	AnonymizedEventID string `json:"anonymized_event_id"`
}

// EraseCandidate removes a candidate's personal data from the tenant and
// emits candidate.anonymized (admin scope). Erasing again is safe.
func (c *Client) EraseCandidate(ctx context.Context, id string) (*CandidateErased, error) {
	var out CandidateErased
	if err := c.do(ctx, call{method: http.MethodPost, path: "/v1/records/candidate/" + seg(id) + "/erase", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EventType is one event type of the hub's catalog.
type EventType struct {
	Name        string `json:"name"`
	Entity      string `json:"entity"`
	Description string `json:"description"`
	Version     int    `json:"version"`
	// Schema is the JSON Schema of the type's data; EventTypes leaves it
	// out, EventType fills it.
	Schema json.RawMessage `json:"schema,omitempty"`
}

// EventTypes lists the hub's event types, sorted by name, without their
// schemas (any scope).
func (c *Client) EventTypes(ctx context.Context) ([]EventType, error) {
	var out Page[EventType]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/event-types", out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// EventType returns one event type with the JSON Schema of its data (any
// scope). Code not_found for a type the hub does not know.
func (c *Client) EventType(ctx context.Context, name string) (*EventType, error) {
	var out EventType
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/event-types/" + seg(name), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
