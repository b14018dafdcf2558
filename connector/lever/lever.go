package lever

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/internal/value"
	"github.com/hirehook/hirehook/connector/push"
)

// System is the name hirehook gives Lever: the events' source and the
// system of their external_refs.
const System = "lever"

// IDPrefix starts every entity id hirehook derives from a Lever id.
const IDPrefix = "lv_"

// Tolerance is how far triggeredAt may be from now, either way, before
// Verify refuses the request as a replay (or a badly wrong clock).
const Tolerance = 5 * time.Minute

// Errors returned by Verify. None of them carries the secret or the
// signature received.
var (
	ErrMissingSignature = errors.New("lever: body has no signature, token or triggeredAt")
	ErrBadSignature     = errors.New("lever: signature does not match")
	ErrTooOld           = errors.New("lever: triggeredAt is outside the 5-minute tolerance")
	ErrNoSecret         = errors.New("lever: no signature token configured")
	ErrMalformed        = errors.New("lever: malformed webhook")
)

// envelope is Lever's webhook body. triggeredAt is kept as the raw number:
// the signed message is token + triggeredAt as Lever wrote it.
type envelope struct {
	ID          string          `json:"id"`
	Event       string          `json:"event"`
	TriggeredAt json.Number     `json:"triggeredAt"`
	Token       string          `json:"token"`
	Signature   string          `json:"signature"`
	Data        json.RawMessage `json:"data"`
}

func decode(body []byte) (envelope, error) {
	var env envelope
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return env, nil
}

// Verify checks a Lever webhook. Lever signs no header and not the body:
// the body's signature is hex(HMAC-SHA256(key = signature token, msg =
// token + triggeredAt)), so the data itself is protected by TLS only.
// Verify also refuses a triggeredAt more than Tolerance from now. h is
// unused (Lever sends no signature header) and kept so every push
// connector verifies with the same arguments. A receiver must also
// remember token, at least for Tolerance, and take it only once (see
// DedupKey): the signature does not cover the rest of the body.
func Verify(h http.Header, body []byte, secret string, now time.Time) error {
	if secret == "" {
		return ErrNoSecret
	}
	env, err := decode(body)
	if err != nil {
		return err
	}
	if env.Signature == "" || env.Token == "" || env.TriggeredAt == "" {
		return ErrMissingSignature
	}
	got, err := hex.DecodeString(env.Signature)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal(got, push.HMACSHA256([]byte(secret), []byte(env.Token+env.TriggeredAt.String()))) {
		return ErrBadSignature
	}
	ms, err := env.TriggeredAt.Int64()
	if err != nil {
		return fmt.Errorf("%w: triggeredAt is not an integer", ErrMalformed)
	}
	if d := now.Sub(time.UnixMilli(ms)); d > Tolerance || d < -Tolerance {
		return ErrTooOld
	}
	return nil
}

// Sign returns the signature Lever would put in a body with this token
// and triggeredAt. Tests and simulators use it.
func Sign(token string, triggeredAt int64, secret string) string {
	return hex.EncodeToString(push.HMACSHA256([]byte(secret), []byte(token+strconv.FormatInt(triggeredAt, 10))))
}

// DedupKey returns the key to deduplicate a delivery on: "token:" and the
// envelope's token, the one field of the body that Lever signs (with
// triggeredAt). Lever advises remembering tokens to refuse replays; the
// hub's request log does, so a token is taken once. The envelope's id is
// not signed and is never the key: keyed on it, a captured request re-sent
// inside the 5-minute window with a new id, event and data was taken as
// new. A body without a token (which Verify refuses) gets "sha256:<hex of
// body>". h is unused.
func DedupKey(h http.Header, body []byte) string {
	if env, err := decode(body); err == nil && env.Token != "" {
		return "token:" + env.Token
	}
	return push.BodyKey(body)
}

// Result is what Parse made of one webhook.
type Result struct {
	// Event is Lever's event name ("candidateStageChange").
	Event string
	// DedupKey is DedupKey(nil, body).
	DedupKey string
	// Ping is always false: Lever's test request is an ordinary event
	// (sent with User-Agent Lever-Webhooks) and has no marker of its own.
	Ping bool
	// Unsupported is non-empty when the event has no catalog type: it
	// says why. Answer 2xx anyway, or Lever retries for nothing.
	Unsupported string
	// Thin is true for every Lever event: Lever sends ids only, so the
	// events carry ids and whatever the ids imply until a hydration step
	// fetches the records.
	Thin bool
	// Events are the catalog events, each valid against the catalog.
	Events []*hirehook.EventInput
	// Derived[i] is true when hirehook inferred Events[i].
	Derived []bool
}

// Parse maps a verified webhook body onto the catalog. An unknown event is
// not an error: the Result says Unsupported.
func Parse(body []byte) (Result, error) {
	env, err := decode(body)
	if err != nil {
		return Result{}, err
	}
	if env.Event == "" {
		return Result{}, fmt.Errorf("%w: no event", ErrMalformed)
	}
	res := Result{Event: env.Event, DedupKey: DedupKey(nil, body), Thin: true}
	var d map[string]any
	if len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return Result{}, fmt.Errorf("%w: data: %v", ErrMalformed, err)
		}
	}
	if d == nil {
		d = map[string]any{}
	}
	at := ""
	if ms, err := env.TriggeredAt.Int64(); err == nil && ms > 0 && ms < 1<<50 {
		at = time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
	}
	outs, why := mapEvent(env.Event, d)
	if why != "" {
		res.Unsupported = why
		return res, nil
	}
	for _, o := range outs {
		in, err := o.input(res.DedupKey, at)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", env.Event, err)
		}
		res.Events = append(res.Events, in)
		res.Derived = append(res.Derived, o.derived)
	}
	return res, nil
}

type out struct {
	typ     string
	data    map[string]any
	changes map[string]hirehook.Change
	derived bool
}

func (o out) input(key, at string) (*hirehook.EventInput, error) {
	if o.data["id"] == nil {
		return nil, fmt.Errorf("%w: no id for %s", ErrMalformed, o.typ)
	}
	data, err := json.Marshal(o.data)
	if err != nil {
		return nil, fmt.Errorf("encode %s data: %w", o.typ, err)
	}
	entity, id, err := catalog.Default().ValidateEvent(o.typ, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s data: %v", ErrMalformed, o.typ, err)
	}
	return &hirehook.EventInput{
		ID:         eventID(key, o.typ),
		Type:       o.typ,
		OccurredAt: at,
		Source:     System,
		Subject:    &hirehook.SubjectInput{Entity: entity, ID: id},
		Data:       data,
		Changes:    o.changes,
	}, nil
}

// eventID is the event id of a dedup key and type (value.EventID).
func eventID(key, typ string) string { return value.EventID("lv", key, typ) }

// application is the thin application an opportunity event implies.
func application(d map[string]any) map[string]any {
	a := withRefs(d["opportunityId"], map[string]any{})
	if c := firstNonNil(d["contactId"], d["candidateId"]); c != nil {
		a["candidate_id"] = ref(c)
	}
	return a
}

func stageRef(v any) any {
	if r := ref(v); r != nil {
		return map[string]any{"id": r}
	}
	return nil
}

func mapEvent(event string, d map[string]any) ([]out, string) {
	switch event {
	case "applicationCreated":
		a := application(d)
		a["kind"] = "application"
		return []out{{typ: "application.created", data: a}}, ""
	case "candidateHired":
		a := application(d)
		a["status"] = "hired"
		return []out{{typ: "application.hired", data: a}}, ""
	case "candidateStageChange":
		// Lever sends both stage ids (not names: the catalog's stage needs a
		// name, so data.stage waits for hydration), so nothing is derived.
		from, _ := json.Marshal(stageRef(d["fromStageId"]))
		to, _ := json.Marshal(stageRef(d["toStageId"]))
		ch := map[string]hirehook.Change{"stage": {From: from, To: to}}
		return []out{{typ: "application.stage_changed", data: application(d), changes: ch}}, ""
	case "candidateArchiveChange":
		a := application(d)
		to := obj(d["toArchived"])
		if to == nil {
			return []out{{typ: "application.reactivated", data: a}}, ""
		}
		// The archive reason comes as an id; telling "hired" from a
		// rejection needs the reason's name, which hydration fetches.
		a["status"] = "rejected"
		a["rejected_at"] = msTime(to["archivedAt"])
		a["rejection_reason"] = nullable(vendorID(to["reason"]))
		return []out{{typ: "application.rejected", data: a}}, ""
	case "candidateDeleted":
		return []out{{typ: "candidate.deleted", data: withRefs(firstNonNil(d["contactId"], d["candidateId"]), map[string]any{})}}, ""
	case "contactCreated", "contactUpdated":
		typ := "candidate.created"
		if event == "contactUpdated" {
			typ = "candidate.updated"
		}
		return []out{{typ: typ, data: withRefs(d["contactId"], map[string]any{})}}, ""
	case "interviewCreated", "interviewUpdated", "interviewDeleted":
		typ := map[string]string{"interviewCreated": "interview.scheduled", "interviewUpdated": "interview.rescheduled", "interviewDeleted": "interview.cancelled"}[event]
		iv := withRefs(firstNonNil(d["interviewId"], d["id"]), map[string]any{})
		if v := d["opportunityId"]; v != nil {
			iv["application_id"] = ref(v)
		}
		if v := d["contactId"]; v != nil {
			iv["candidate_id"] = ref(v)
		}
		// interviewUpdated may change anything, not only the time; without
		// the record it is reported as a reschedule, marked derived.
		return []out{{typ: typ, data: iv, derived: event == "interviewUpdated"}}, ""
	}
	return nil, "event " + strconv.Quote(event) + " has no catalog type"
}

func firstNonNil(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func msTime(v any) any {
	f, ok := v.(float64)
	if !ok || f <= 0 || f > 1<<50 {
		return nil
	}
	return time.UnixMilli(int64(f)).UTC().Format(time.RFC3339Nano)
}

// ---- helpers: shared with the other push connectors (connector/internal/value) ----

var (
	vendorID = value.ID
	obj      = value.Object
	str      = value.String
	nullable = value.Nullable
)

// ref returns hirehook's id for a vendor id, or nil if there is none.
func ref(v any) any { return value.Ref(IDPrefix, v) }

// withRefs sets id and external_refs from a vendor id; without one, d
// gets no id and the event is refused as malformed.
func withRefs(v any, d map[string]any) map[string]any { return value.WithRefs(System, IDPrefix, v, d) }
