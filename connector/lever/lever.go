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
// DedupKey): the signature does not cover the rest of the body. Any of
// secrets may match (the current and the previous one, during a rotation);
// the time is checked once one does.
func Verify(h http.Header, body []byte, now time.Time, secrets ...string) error {
	if !push.HasSecret(secrets) {
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
	match := false
	for _, s := range secrets {
		if s != "" && hmac.Equal(got, push.HMACSHA256([]byte(s), []byte(env.Token+env.TriggeredAt.String()))) {
			match = true
			break
		}
	}
	if !match {
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

// Parse maps a verified webhook body onto the catalog. The dedupe key is
// DedupKey(nil, body), and the event ids derive from it (push.Builder with
// EventIDTag "lv"). Every Result is Thin: Lever sends ids only, so the
// events carry ids and whatever the ids imply until Hydrate fetches the
// records. Lever has no ping (its test request is an ordinary event, sent
// with User-Agent Lever-Webhooks). An unknown event is not an error: the
// Result says Unsupported, with a Reason (answer 2xx anyway, or Lever
// retries for nothing).
func Parse(body []byte, opts push.Options) (*push.Result, error) {
	env, err := decode(body)
	if err != nil {
		return nil, err
	}
	if env.Event == "" {
		return nil, fmt.Errorf("%w: no event", ErrMalformed)
	}
	res := &push.Result{System: System, VendorEvent: env.Event, DedupeKey: DedupKey(nil, body), Thin: true}
	var d map[string]any
	if len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return nil, fmt.Errorf("%w: data: %v", ErrMalformed, err)
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
		res.Unsupported, res.Reason = true, why
		return res, nil
	}
	b := builder(res.DedupeKey, opts)
	for _, o := range outs {
		ev, err := b.EventWith(ErrMalformed, o.typ, o.data, o.changes, at, o.derived)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Event, err)
		}
		res.Events = append(res.Events, ev)
	}
	return res, nil
}

// builder names the events of the request with dedupe key key.
func builder(key string, opts push.Options) *push.Builder {
	return &push.Builder{System: System, Prefix: IDPrefix, Key: key, Options: opts, EventIDTag: "lv"}
}

type out struct {
	typ     string
	data    map[string]any
	changes map[string]hirehook.Change
	derived bool
}

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
