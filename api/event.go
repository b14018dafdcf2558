package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/ingest"
)

// handleEventCreate accepts one event: 202 once it, its record snapshot and
// its deliveries are committed.
func (h *Handler) handleEventCreate(w http.ResponseWriter, r *http.Request) {
	var body eventInput
	if err := decode(w, r, h.cfg.MaxBodyBytes, &body); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	in, err := body.input()
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	key, err := idempotencyKey(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if err := hubOnlyType(in.Type); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	e, err := h.cfg.Ingester.Prepare(tenantOf(r), in, key)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	res, err := h.cfg.Ingester.Commit(r.Context(), []*hirehook.Event{e})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeAccepted(w, accepted(res[0]))
}

// writeAccepted answers 202 with a as writeJSON would, writing the JSON
// itself when a's id needs no escaping (every id the hub makes, and most
// that producers send): encoding/json's reflection is most of an answer's
// cost on the ingest path.
func writeAccepted(w http.ResponseWriter, a hirehook.EventAccepted) {
	for i := 0; i < len(a.ID); i++ {
		if c := a.ID[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			writeJSON(w, http.StatusAccepted, a)
			return
		}
	}
	b := make([]byte, 0, len(a.ID)+64)
	b = append(b, `{"id":"`...)
	b = append(b, a.ID...)
	b = append(b, `","deliveries":`...)
	b = strconv.AppendInt(b, int64(a.Deliveries), 10)
	b = append(b, `,"duplicate":`...)
	b = strconv.AppendBool(b, a.Duplicate)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(b)
}

// eventInput is an EventInput as a body carries it, with the id a pointer
// so that "id": "" is told from no id: a producer whose id came out empty
// would otherwise get a new event from each retry, never a duplicate.
type eventInput struct {
	hirehook.EventInput
	ID *string `json:"id,omitempty"`
}

// input returns the EventInput, refusing an empty id.
func (in *eventInput) input() (*hirehook.EventInput, error) {
	if in.ID != nil {
		if *in.ID == "" {
			return nil, hirehook.FieldError("id", "must not be empty; leave it out for the hub to make one")
		}
		in.EventInput.ID = *in.ID
	}
	return &in.EventInput, nil
}

func accepted(r hirehook.EventIngestResult) hirehook.EventAccepted {
	return hirehook.EventAccepted{ID: r.EventID, Deliveries: r.Deliveries, Duplicate: r.Duplicate}
}

func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if len(k) > 256 {
		return "", hirehook.FieldError("Idempotency-Key", "must be at most 256 characters")
	}
	return k, nil
}

// EventBatch is the body of POST /v1/events/batch.
type EventBatch struct {
	Events []hirehook.EventInput `json:"events"`
}

// eventBatchRaw is EventBatch with each event kept raw, so that a decoding
// error can name the event it is in ("events[3].occurred_at").
type eventBatchRaw struct {
	Events []json.RawMessage `json:"events"`
}

// EventBatchAccepted answers a batch: one item per event, in order.
type EventBatchAccepted struct {
	Data []hirehook.EventAccepted `json:"data"`
}

// handleEventBatch accepts up to ingest.MaxBatch events in one commit. The
// batch is all or nothing: if any event is invalid, the answer names it
// (field "events[i]....") and nothing is stored. With an Idempotency-Key
// header, event i uses the key "<key>:<i>", so the same batch sent again is
// answered as the first time.
func (h *Handler) handleEventBatch(w http.ResponseWriter, r *http.Request) {
	var raw eventBatchRaw
	if err := decode(w, r, 10*h.cfg.MaxBodyBytes, &raw); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	in := EventBatch{Events: make([]hirehook.EventInput, len(raw.Events))}
	if len(raw.Events) <= ingest.MaxBatch {
		for i, ev := range raw.Events {
			// decode has checked the whole body, these events with it.
			var body eventInput
			err := decodeChecked(ev, &body)
			if err == nil {
				var input *hirehook.EventInput
				if input, err = body.input(); err == nil {
					in.Events[i] = *input
				}
			}
			if err != nil {
				Error(w, r, h.logger, prefixField(err, fmt.Sprintf("events[%d]", i)))
				return
			}
		}
	}
	if len(in.Events) == 0 {
		Error(w, r, h.logger, hirehook.FieldError("events", "must hold at least one event"))
		return
	}
	if len(in.Events) > ingest.MaxBatch {
		Error(w, r, h.logger, hirehook.FieldError("events", "must hold at most %d events", ingest.MaxBatch))
		return
	}
	key, err := idempotencyKey(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	events := make([]*hirehook.Event, len(in.Events))
	for i := range in.Events {
		if int64(len(in.Events[i].Data)) > h.cfg.MaxBodyBytes {
			Error(w, r, h.logger, &hirehook.Error{Code: hirehook.ETOOLARGE, Field: fmt.Sprintf("events[%d].data", i),
				Message: fmt.Sprintf("An event's data may be at most %d bytes.", h.cfg.MaxBodyBytes)})
			return
		}
		itemKey := ""
		if key != "" {
			itemKey = fmt.Sprintf("%s:%d", key, i)
		}
		if err := hubOnlyType(in.Events[i].Type); err != nil {
			Error(w, r, h.logger, prefixField(err, fmt.Sprintf("events[%d]", i)))
			return
		}
		e, err := h.cfg.Ingester.Prepare(tenantOf(r), &in.Events[i], itemKey)
		if err != nil {
			Error(w, r, h.logger, prefixField(err, fmt.Sprintf("events[%d]", i)))
			return
		}
		events[i] = e
	}
	res, err := h.cfg.Ingester.Commit(r.Context(), events)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	out := EventBatchAccepted{Data: make([]hirehook.EventAccepted, len(res))}
	for i, x := range res {
		out.Data[i] = accepted(x)
	}
	writeJSON(w, http.StatusAccepted, out)
}

// hubOnlyType refuses the operational event types (endpoint.*, delivery.*)
// and the snapshot types (<entity>.snapshot, sent by backfills) from
// producers: only the hub emits them, so a subscriber can trust them.
func hubOnlyType(typ string) error {
	if catalog.HubOnly(typ) {
		return hirehook.FieldError("type", "%q is emitted by the hub itself and cannot be sent", typ)
	}
	return nil
}

// prefixField puts prefix before the field of a *hirehook.Error.
func prefixField(err error, prefix string) error {
	he, ok := err.(*hirehook.Error)
	if !ok {
		return err
	}
	field := prefix
	if he.Field != "" {
		field += "." + he.Field
	}
	return &hirehook.Error{Code: he.Code, Field: field, Message: he.Message}
}

// EventWithDeliveries is GET /v1/events/{id}: the event and what became of it.
type EventWithDeliveries struct {
	*hirehook.Event
	DeliveryList []*hirehook.Delivery `json:"delivery_list"`
}

func (h *Handler) handleEventGet(w http.ResponseWriter, r *http.Request) {
	e, err := h.store.EventGet(r.Context(), tenantOf(r), r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	ds, err := h.store.DeliveryList(r.Context(), hirehook.DeliveryFilter{TenantID: tenantOf(r), EventID: &e.ID, Limit: 1000})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, EventWithDeliveries{Event: e, DeliveryList: ds})
}

func (h *Handler) handleEventList(w http.ResponseWriter, r *http.Request) {
	after, limit, err := listQuery(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	f := hirehook.EventFilter{TenantID: tenantOf(r), After: after, Limit: limit + 1}
	q := r.URL.Query()
	if t := q.Get("type"); t != "" {
		if _, ok := h.cfg.Catalog.Lookup(t); !ok {
			Error(w, r, h.logger, hirehook.FieldError("type", "unknown event type %q", t))
			return
		}
		f.Type = &t
	}
	if s := q.Get("subject_id"); s != "" {
		f.SubjectID = &s
	}
	if s := q.Get("entity"); s != "" {
		f.Entity = &s
	}
	if q.Has("source") {
		s := q.Get("source") // source= (empty) asks for events sent without one
		f.Source = &s
	}
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"received_after", &f.ReceivedAfter}, {"received_before", &f.ReceivedBefore}} {
		if s := q.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				Error(w, r, h.logger, hirehook.FieldError(p.name, "must be an RFC 3339 time such as 2026-11-27T09:30:00Z"))
				return
			}
			t = t.UTC()
			*p.dst = &t
		}
	}
	events, err := h.store.EventList(r.Context(), f)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, page(events, limit, func(e *hirehook.Event) string { return e.ID }))
}

func (h *Handler) handleRecordGet(w http.ResponseWriter, r *http.Request) {
	entity := r.PathValue("entity")
	if err := h.checkEntity(entity); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	rec, err := h.store.RecordGet(r.Context(), tenantOf(r), entity, r.PathValue("id"))
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (h *Handler) handleRecordEvents(w http.ResponseWriter, r *http.Request) {
	entity, id := r.PathValue("entity"), r.PathValue("id")
	if err := h.checkEntity(entity); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	after, limit, err := listQuery(r)
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	if _, err := h.store.RecordGet(r.Context(), tenantOf(r), entity, id); err != nil {
		Error(w, r, h.logger, err)
		return
	}
	events, err := h.store.RecordEvents(r.Context(), hirehook.EventFilter{TenantID: tenantOf(r), Entity: &entity, SubjectID: &id, After: after, Limit: limit + 1})
	if err != nil {
		Error(w, r, h.logger, err)
		return
	}
	writeJSON(w, http.StatusOK, page(events, limit, func(e *hirehook.Event) string { return e.ID }))
}

func (h *Handler) checkEntity(entity string) error {
	for _, e := range h.cfg.Catalog.Entities() {
		if e == entity {
			return nil
		}
	}
	return hirehook.Errorf(hirehook.ENOTFOUND, "No entity %q; entities are those of GET /v1/event-types.", entity)
}

func (h *Handler) handleEventTypeList(w http.ResponseWriter, r *http.Request) {
	types := h.cfg.Catalog.Types()
	if r.URL.Query().Get("include_schemas") != "true" {
		for i := range types {
			types[i].Schema = nil
		}
	}
	writeJSON(w, http.StatusOK, List[EventTypeView]{Data: eventTypeViews(types)})
}

func (h *Handler) handleEventTypeGet(w http.ResponseWriter, r *http.Request) {
	t, ok := h.cfg.Catalog.Lookup(r.PathValue("name"))
	if !ok {
		Error(w, r, h.logger, hirehook.Errorf(hirehook.ENOTFOUND, "No event type %q.", r.PathValue("name")))
		return
	}
	writeJSON(w, http.StatusOK, eventTypeViews([]catalogType{t})[0])
}

type catalogType = catalog.EventType

// EventTypeView is one catalog event type in the API. Schema is the JSON
// Schema of data; lists leave it out unless ?include_schemas=true.
type EventTypeView struct {
	Name        string          `json:"name"`
	Entity      string          `json:"entity"`
	Description string          `json:"description"`
	Version     int             `json:"version"`
	Schema      json.RawMessage `json:"schema,omitempty"`
}

func eventTypeViews(types []catalogType) []EventTypeView {
	out := make([]EventTypeView, len(types))
	for i, t := range types {
		out[i] = EventTypeView{Name: t.Name, Entity: t.Entity, Description: t.Description, Version: t.Version, Schema: t.Schema}
	}
	return out
}
