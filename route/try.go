package route

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/hirehook/hirehook"
)

// EventGetter reads one stored event: the part of hirehook.Store that Try
// needs.
type EventGetter interface {
	EventGet(ctx context.Context, tenantID, id string) (*hirehook.Event, error)
}

// TryParams are the arguments of Try: a route and the event to try it on,
// either an envelope as webhooks carry it (Event) or a stored event of the
// tenant (EventID).
type TryParams struct {
	Spec     Spec
	TenantID string
	Event    json.RawMessage
	EventID  string
}

// Try compiles p.Spec with opts and applies it to one event, saving and
// sending nothing, so that an endpoint's owner can iterate on an expression:
// the logic of POST /v1/endpoints/test-route and of the dashboard's "try
// it" box. The Result's Body is set only when the event would be delivered.
//
// Errors are *hirehook.Error: EINVALID with Field "filter", "transform",
// "payload", "redact[i]" (the spec), "event" or "event_id"; ENOTFOUND
// when EventID names no event of the tenant; EUNAVAILABLE when the
// evaluation ran out of wall-clock time. An ended ctx is returned as is.
func Try(ctx context.Context, events EventGetter, opts Options, p TryParams) (Result, error) {
	rt, err := CompileOptions(p.Spec, opts)
	if err != nil {
		return Result{}, err
	}
	envelope := bytes.TrimSpace(p.Event)
	switch {
	case p.EventID != "" && len(envelope) > 0:
		return Result{}, hirehook.FieldError("event", "give either event or event_id, not both")
	case p.EventID != "":
		e, err := events.EventGet(ctx, p.TenantID, p.EventID)
		if err != nil {
			return Result{}, err
		} else if e.Purged {
			return Result{}, hirehook.FieldError("event_id", "names an event whose payload was purged by retention")
		}
		envelope = e.Payload
	case len(envelope) == 0 || envelope[0] != '{':
		return Result{}, hirehook.FieldError("event", "is required: an event envelope {\"id\", \"type\", \"subject\", \"data\", ...} as webhooks carry it, or give event_id")
	}
	if p.EventID == "" && !json.Valid(envelope) {
		return Result{}, hirehook.FieldError("event", "is not valid JSON")
	}
	res, err := rt.Apply(ctx, envelope)
	if errors.Is(err, ErrTimeout) {
		return Result{}, hirehook.Errorf(hirehook.EUNAVAILABLE, "Evaluating the route took too long; try again.")
	} else if err != nil {
		return Result{}, err
	}
	if !res.Deliver {
		res.Body = nil
	}
	return res, nil
}
