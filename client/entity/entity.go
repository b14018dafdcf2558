// Package entity holds Go types for the entities of hirehook's event
// catalog (Candidate, Job, JobPosting, Application, Interview, Offer,
// Placement, Client, Contact), their nested types (Money, User, Location,
// ...), and the names of the event types (EventPlacementConfirmed, ...).
//
// The types are generated from the catalog's JSON Schemas. Every field is
// optional except ID: nullable strings are plain strings (empty when
// absent or null), numbers and booleans are pointers (nil when absent or
// null), times are time.Time (zero when absent). Properties the catalog
// does not list, such as a source's own fields, are kept in Extra, so
// decoding and encoding an entity loses nothing at its top level.
//
// A producer builds an event from a typed value:
//
//	in, err := entity.NewEvent(entity.EventPlacementConfirmed, entity.Placement{
//		ID: "pl_1001", Status: "confirmed", StartDate: "2026-12-07",
//		PayRate: &entity.Money{Amount: 42.5, Currency: "USD", Unit: "hour"},
//	})
//	in.Source = "bullhorn"
//	acc, err := c.SendEvent(ctx, in)
//
// and a receiver reads one with receiver.Event's accessors (Placement(),
// Candidate(), ...).
package entity

//go:generate go run ../internal/codegen/gencatalog -entity entities_gen.go -receiver ../receiver/entities_gen.go

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hirehook/hirehook"
)

// Entity is implemented by every entity type of the package.
type Entity interface {
	// EntityName is the catalog's name of the entity: "placement",
	// "job_posting", ...
	EntityName() string
	// EntityID is the entity's id, the subject of its events.
	EntityID() string
}

// EntityOf returns the entity of a catalog event type ("placement" for
// "placement.confirmed"), and false for a type this package does not know.
func EntityOf(eventType string) (string, bool) {
	e, ok := eventEntities[eventType]
	return e, ok
}

// NewEvent returns the input of an event of type eventType about data. It
// fails when data has no ID, or when eventType is a catalog type of another
// entity. A type this package does not know (from a newer hub) is let
// through: the hub checks it. Set the input's ID (for idempotency), Source,
// OccurredAt and Changes as needed.
func NewEvent(eventType string, data Entity) (hirehook.EventInput, error) {
	if want, ok := eventEntities[eventType]; ok && want != data.EntityName() {
		return hirehook.EventInput{}, hirehook.FieldError("data", "%s events are about a %s, not a %s", eventType, want, data.EntityName())
	}
	if data.EntityID() == "" {
		return hirehook.EventInput{}, hirehook.FieldError("data.id", "is required")
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return hirehook.EventInput{}, fmt.Errorf("encode %s data: %w", data.EntityName(), err)
	}
	return hirehook.EventInput{Type: eventType, Data: raw}, nil
}

// marshalWithExtra encodes v (a struct without methods) and adds the
// properties of extra, which win over v's fields of the same name.
func marshalWithExtra(v any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	for k, raw := range extra {
		if !json.Valid(raw) {
			return nil, fmt.Errorf("extra property %q is not valid JSON", k)
		}
		fields[k] = raw
	}
	return json.Marshal(fields)
}

// extraProperties returns the properties of the JSON object data that are
// not known fields, or nil if there are none.
func extraProperties(data []byte, known map[string]bool) (map[string]json.RawMessage, error) {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	for k := range all {
		if known[k] {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}
