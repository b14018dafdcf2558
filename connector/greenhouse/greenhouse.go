package greenhouse

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/internal/value"
	"github.com/hirehook/hirehook/connector/push"
)

// System is the name hirehook gives Greenhouse: the events' source and the
// system of their external_refs.
const System = "greenhouse"

// IDPrefix starts every entity id hirehook derives from a Greenhouse id.
const IDPrefix = "gh_"

// Errors returned by Verify. None of them carries the secret or the
// signature received.
var (
	ErrMissingSignature   = errors.New("greenhouse: missing Signature header")
	ErrMalformedSignature = errors.New("greenhouse: Signature header is not \"sha256 <hex>\"")
	ErrBadSignature       = errors.New("greenhouse: signature does not match")
	ErrNoSecret           = errors.New("greenhouse: no secret configured")
)

// Verify checks the Signature header ("sha256 <hex>", the hex HMAC-SHA256
// of the raw body keyed with the webhook's secret key). body must be the
// bytes exactly as received: Greenhouse signs its own escaping. Greenhouse
// sends no timestamp, so there is no replay window to check; replays are
// caught by deduplicating on DedupKey. Any of secrets may match (the
// current and the previous one, during a rotation); the comparison is
// constant-time.
func Verify(h http.Header, body []byte, secrets ...string) error {
	if !push.HasSecret(secrets) {
		return ErrNoSecret
	}
	v := strings.TrimSpace(h.Get("Signature"))
	if v == "" {
		return ErrMissingSignature
	}
	alg, sig, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(alg, "sha256") {
		return ErrMalformedSignature
	}
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return ErrMalformedSignature
	}
	for _, s := range secrets {
		if s != "" && hmac.Equal(got, push.HMACSHA256([]byte(s), body)) {
			return nil
		}
	}
	return ErrBadSignature
}

// Sign returns the Signature header value Greenhouse would send for body.
// Tests and simulators use it.
func Sign(body []byte, secret string) string {
	return "sha256 " + hex.EncodeToString(push.HMACSHA256([]byte(secret), body))
}

// DedupKey returns the key to deduplicate a delivery on: "sha256:" and
// the hex SHA-256 of the body, the only thing Greenhouse signs. The
// Greenhouse-Event-ID header is not signed: keying on it let anyone who
// saw one signed request re-send it with a new id (or none) and have it
// taken again, since Greenhouse signs no timestamp either. A retry carries
// the same body, so it is a duplicate too.
func DedupKey(body []byte) string {
	return push.BodyKey(body)
}

// ErrMalformed is wrapped by Parse for a body that is not a Greenhouse
// webhook: not JSON, no action, or a payload without the ids it needs.
var ErrMalformed = errors.New("greenhouse: malformed webhook")

type envelope struct {
	Action  string          `json:"action"`
	Payload json.RawMessage `json:"payload"`
}

// Parse maps a verified webhook body onto the catalog. The dedupe key is
// DedupKey(body), and the event ids derive from it (push.Builder with
// EventIDTag "gh"), so ingest accepts a retried delivery once. An unknown
// action is not an error: the Result says Unsupported, with a Reason.
func Parse(body []byte, opts push.Options) (*push.Result, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if env.Action == "" && isConfigPing(body) {
		env.Action = "ping"
	}
	if env.Action == "" {
		return nil, fmt.Errorf("%w: no action", ErrMalformed)
	}
	res := &push.Result{System: System, VendorEvent: env.Action, DedupeKey: DedupKey(body)}
	if env.Action == "ping" {
		res.Ping = true
		return res, nil
	}
	var p map[string]any
	if len(env.Payload) > 0 && string(env.Payload) != "null" {
		if err := json.Unmarshal(env.Payload, &p); err != nil {
			return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
		}
	}
	if p == nil {
		p = map[string]any{}
	}
	outs, why := mapAction(env.Action, p)
	if why != "" {
		res.Unsupported, res.Reason = true, why
		return res, nil
	}
	b := &push.Builder{System: System, Prefix: IDPrefix, Key: res.DedupeKey, Options: opts, EventIDTag: "gh"}
	for _, o := range outs {
		ev, err := b.EventWith(ErrMalformed, o.typ, o.data, o.changes, o.at, o.derived)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Action, err)
		}
		res.Events = append(res.Events, ev)
	}
	return res, nil
}

// isConfigPing reports whether body looks like the ping when it carries no
// action: Greenhouse documents the ping only as "a payload containing some
// configuration settings", and a third-party receiver's fixture has a
// top-level "configuration" object and no action.
func isConfigPing(body []byte) bool {
	var v struct {
		Configuration json.RawMessage `json:"configuration"`
		Payload       json.RawMessage `json:"payload"`
	}
	return json.Unmarshal(body, &v) == nil && len(v.Configuration) > 0 && len(v.Payload) == 0
}

type out struct {
	typ     string
	data    map[string]any
	changes map[string]hirehook.Change
	at      string
	derived bool
}

func mapAction(action string, p map[string]any) ([]out, string) {
	switch action {
	case "new_candidate_application", "new_prospect_application":
		a := application(obj(p["application"]))
		if action == "new_prospect_application" {
			a["kind"] = "prospect"
		}
		return []out{{typ: "application.created", data: a, at: str(a["applied_at"])}}, ""
	case "candidate_stage_change":
		app := obj(p["application"])
		a := application(app)
		// Greenhouse sends only the new stage: from is left out (null) and
		// the event marked derived, for a last-state lookup to fill in.
		to, _ := json.Marshal(a["stage"])
		ch := map[string]hirehook.Change{"stage": {To: to}}
		return []out{{typ: "application.stage_changed", data: a, changes: ch, derived: true}}, ""
	case "application_updated":
		return []out{{typ: "application.updated", data: application(obj(p["application"]))}}, ""
	case "reject_candidate":
		app := obj(p["application"])
		a := application(app)
		a["rejected_at"] = rfc3339(app["rejected_at"])
		if r := obj(app["rejection_reason"]); r != nil {
			a["rejection_reason"] = nullable(str(r["name"]))
		}
		return []out{{typ: "application.rejected", data: a, at: str(a["rejected_at"])}}, ""
	case "unreject_candidate":
		return []out{{typ: "application.reactivated", data: application(obj(p["application"]))}}, ""
	case "hire_candidate":
		app := obj(p["application"])
		a := application(app)
		a["status"] = "hired"
		outs := []out{{typ: "application.hired", data: a}}
		if off := obj(app["offer"]); off != nil && off["id"] != nil {
			o := offer(off)
			o["application_id"] = a["id"]
			o["status"] = "accepted"
			outs = append(outs, out{typ: "offer.accepted", data: o, derived: true})
		}
		return outs, ""
	case "delete_application":
		a := application(obj(p["application"]))
		if a["id"] == nil {
			a = map[string]any{"id": ref(p["application_id"])}
		}
		return []out{{typ: "application.deleted", data: a}}, ""
	case "update_candidate":
		return []out{{typ: "candidate.updated", data: candidate(obj(p["candidate"]))}}, ""
	case "delete_candidate":
		// The documented payload is {person: {id}}; candidate and a flat id
		// are accepted too.
		c := candidate(obj(p["candidate"]))
		if c["id"] == nil {
			c = withRefs(firstNonNil(obj(p["person"])["id"], p["id"]), map[string]any{})
		}
		return []out{{typ: "candidate.deleted", data: c}}, ""
	case "candidate_anonymized":
		c := candidate(obj(p["candidate"]))
		if c["id"] == nil {
			c = withRefs(p["id"], map[string]any{})
		}
		return []out{{typ: "candidate.anonymized", data: c}}, ""
	case "offer_created":
		return []out{{typ: "offer.created", data: offer(p)}}, ""
	case "offer_approved":
		return []out{{typ: "offer.approved", data: offer(p)}}, ""
	case "offer_deleted":
		return []out{{typ: "offer.withdrawn", data: offer(p)}}, ""
	case "offer_updated":
		// The catalog has no offer.updated: an update is reported only when
		// its offer_status says what happened.
		o := offer(p)
		switch strings.ToLower(str(p["offer_status"])) {
		case "accepted":
			return []out{{typ: "offer.accepted", data: o, derived: true}}, ""
		case "rejected", "declined":
			return []out{{typ: "offer.declined", data: o, derived: true}}, ""
		case "deprecated":
			return []out{{typ: "offer.withdrawn", data: o, derived: true}}, ""
		}
		return nil, "offer_updated with offer_status " + strconv.Quote(str(p["offer_status"])) + " has no catalog type"
	case "interview_deleted":
		iv := obj(p["interview"])
		if iv == nil {
			iv = p
		}
		d := withRefs(iv["id"], map[string]any{"status": "cancelled"})
		if app := iv["application_id"]; app != nil {
			d["application_id"] = ref(app)
		}
		return []out{{typ: "interview.cancelled", data: d}}, ""
	case "job_created", "job_updated", "job_approved", "job_deleted":
		typ := map[string]string{"job_created": "job.created", "job_updated": "job.updated", "job_approved": "job.approved", "job_deleted": "job.deleted"}[action]
		j := obj(p["job"])
		if j == nil {
			j = p
		}
		return []out{{typ: typ, data: job(j)}}, ""
	case "job_post_created", "job_post_updated", "job_post_deleted":
		jp := obj(p["job_post"])
		if jp == nil {
			jp = p
		}
		d := posting(jp)
		switch action {
		case "job_post_created":
			if live, _ := jp["live"].(bool); !live {
				return nil, "job_post_created for a post that is not live"
			}
			return []out{{typ: "job.posted", data: d}}, ""
		case "job_post_updated":
			return []out{{typ: "job.posting_updated", data: d}}, ""
		default:
			return []out{{typ: "job.unposted", data: d}}, ""
		}
	}
	return nil, "action " + strconv.Quote(action) + " has no catalog type"
}

// ---- entities ----

func application(app map[string]any) map[string]any {
	if app == nil {
		return map[string]any{}
	}
	d := withRefs(app["id"], map[string]any{})
	d["kind"] = "application"
	if b, _ := app["prospect"].(bool); b {
		d["kind"] = "prospect"
	}
	d["status"] = nullable(str(app["status"]))
	d["applied_at"] = rfc3339(app["applied_at"])
	d["updated_at"] = rfc3339(app["last_activity_at"])
	if s := obj(app["current_stage"]); s != nil && str(s["name"]) != "" {
		d["stage"] = map[string]any{"id": ref(s["id"]), "name": str(s["name"])}
	}
	if c := obj(app["candidate"]); c != nil && c["id"] != nil {
		d["candidate_id"] = ref(c["id"])
		sum := map[string]any{"id": ref(c["id"]), "first_name": nullable(str(c["first_name"])), "last_name": nullable(str(c["last_name"]))}
		if es, ok := c["email_addresses"].([]any); ok && len(es) > 0 {
			sum["email"] = email(obj(es[0])["value"])
		}
		d["candidate"] = sum
	}
	if jobs, ok := app["jobs"].([]any); ok && len(jobs) > 0 {
		if j := obj(jobs[0]); j != nil && j["id"] != nil {
			d["job_id"] = ref(j["id"])
			d["job"] = map[string]any{"id": ref(j["id"]), "title": nullable(str(j["name"]))}
		}
	}
	if s := str(obj(app["source"])["public_name"]); s != "" {
		d["source"] = s
	}
	if cf := obj(app["custom_fields"]); cf != nil {
		d["custom_fields"] = cf
	}
	return d
}

func candidate(c map[string]any) map[string]any {
	if c == nil {
		return map[string]any{}
	}
	d := withRefs(c["id"], map[string]any{})
	d["first_name"] = nullable(str(c["first_name"]))
	d["last_name"] = nullable(str(c["last_name"]))
	d["company"] = nullable(str(c["company"]))
	d["headline"] = nullable(str(c["title"]))
	if es, ok := c["email_addresses"].([]any); ok && len(es) > 0 {
		d["email"] = email(obj(es[0])["value"])
	}
	d["created_at"] = rfc3339(c["created_at"])
	d["updated_at"] = rfc3339(c["updated_at"])
	return d
}

func offer(p map[string]any) map[string]any {
	d := withRefs(p["id"], map[string]any{})
	if v := p["application_id"]; v != nil {
		d["application_id"] = ref(v)
	}
	if v := p["job_id"]; v != nil {
		d["job_id"] = ref(v)
	}
	if v, ok := p["version"].(float64); ok && v == float64(int64(v)) {
		d["version"] = int64(v)
	}
	d["status"] = nullable(strings.ToLower(str(p["offer_status"])))
	d["start_date"] = date(firstNonEmpty(str(p["start_date"]), str(p["starts_at"])))
	d["sent_at"] = dateTimeOrDate(p["sent_on"])
	if cf := obj(p["custom_fields"]); cf != nil {
		d["custom_fields"] = cf
	}
	return d
}

func job(j map[string]any) map[string]any {
	d := withRefs(j["id"], map[string]any{})
	d["title"] = nullable(str(j["name"]))
	d["code"] = nullable(str(j["requisition_id"]))
	d["status"] = nullable(str(j["status"]))
	d["opened_at"] = rfc3339(j["opened_at"])
	d["closed_at"] = rfc3339(j["closed_at"])
	d["created_at"] = rfc3339(j["created_at"])
	d["updated_at"] = rfc3339(j["updated_at"])
	return d
}

func posting(jp map[string]any) map[string]any {
	d := withRefs(jp["id"], map[string]any{})
	if v := jp["job_id"]; v != nil {
		d["job_id"] = ref(v)
	}
	d["title"] = nullable(str(jp["title"]))
	if b, ok := jp["internal"].(bool); ok {
		d["internal"] = b
	}
	if b, ok := jp["live"].(bool); ok {
		if b {
			d["status"] = "live"
		} else {
			d["status"] = "offline"
		}
	}
	d["created_at"] = rfc3339(jp["created_at"])
	d["updated_at"] = rfc3339(jp["updated_at"])
	return d
}

// ---- helpers: shared with the other push connectors (connector/internal/value) ----

var (
	firstNonNil    = value.FirstNonNil
	obj            = value.Object
	str            = value.String
	nullable       = value.Nullable
	firstNonEmpty  = value.FirstNonEmpty
	rfc3339        = value.RFC3339
	date           = value.Date
	dateTimeOrDate = value.DateTimeOrDate
	email          = value.Email
)

// ref returns hirehook's id for a vendor id, or nil if there is none.
func ref(v any) any { return value.Ref(IDPrefix, v) }

// withRefs sets id and external_refs from a vendor id; without one, d
// gets no id and the event is refused as malformed.
func withRefs(v any, d map[string]any) map[string]any { return value.WithRefs(System, IDPrefix, v, d) }
