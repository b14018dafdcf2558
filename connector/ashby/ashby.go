package ashby

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

// System is the name hirehook gives Ashby: the events' source and the
// system of their external_refs.
const System = "ashby"

// IDPrefix starts every entity id hirehook derives from an Ashby id.
const IDPrefix = "ab_"

// Errors returned by Verify. None of them carries the secret or the
// signature received.
var (
	ErrMissingSignature   = errors.New("ashby: missing Ashby-Signature header")
	ErrMalformedSignature = errors.New("ashby: Ashby-Signature header is not \"sha256=<hex>\"")
	ErrBadSignature       = errors.New("ashby: signature does not match")
	ErrNoSecret           = errors.New("ashby: no secret token configured")
	ErrMalformed          = errors.New("ashby: malformed webhook")
)

// Verify checks the Ashby-Signature header ("sha256=<hex>", the hex
// HMAC-SHA256 of the raw body keyed with the webhook's secretToken),
// compared with hmac.Equal. Ashby sends no timestamp, so there is no
// replay window; replays are dropped by deduplicating on DedupKey. Any of
// secrets may match (the current and the previous one, during a rotation).
func Verify(h http.Header, body []byte, secrets ...string) error {
	if !push.HasSecret(secrets) {
		return ErrNoSecret
	}
	v := strings.TrimSpace(h.Get("Ashby-Signature"))
	if v == "" {
		return ErrMissingSignature
	}
	alg, sig, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(alg, "sha256") {
		return ErrMalformedSignature
	}
	got, err := hex.DecodeString(sig)
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

// Sign returns the Ashby-Signature header value Ashby would send for body.
func Sign(body []byte, secret string) string {
	return "sha256=" + hex.EncodeToString(push.HMACSHA256([]byte(secret), body))
}

type envelope struct {
	WebhookActionID string          `json:"webhookActionId"`
	Action          string          `json:"action"`
	Data            json.RawMessage `json:"data"`
}

// DedupKey returns "<webhookActionId>:<action>", else a body hash. Ashby
// keeps webhookActionId across retries, and gives cascaded hooks (a
// candidateHire that also fires candidateStageChange and applicationUpdate)
// the same id; the action is part of the key so that the cascade's hooks,
// which map to different catalog types, are not dropped as duplicates of
// each other. h is unused: Ashby puts the id in the body.
func DedupKey(h http.Header, body []byte) string {
	var env envelope
	if err := json.Unmarshal(body, &env); err == nil && env.WebhookActionID != "" {
		return env.WebhookActionID + ":" + env.Action
	}
	return push.BodyKey(body)
}

// Parse maps a verified webhook body onto the catalog. The dedupe key is
// DedupKey(nil, body), and the event ids derive from it (push.Builder with
// EventIDTag "ab"). A ping gives Result.Ping: answer 2xx (else Ashby
// creates the webhook disabled) and record the source as verified. An
// unknown action is not an error: the Result says Unsupported, with a
// Reason (answer 2xx anyway, or Ashby retries for nothing).
func Parse(body []byte, opts push.Options) (*push.Result, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var d map[string]any
	if len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return nil, fmt.Errorf("%w: data: %v", ErrMalformed, err)
		}
	}
	if d == nil {
		d = map[string]any{}
	}
	if env.Action == "" && str(d["webhookActionType"]) == "ping" {
		env.Action = "ping"
	}
	if env.Action == "" {
		return nil, fmt.Errorf("%w: no action", ErrMalformed)
	}
	res := &push.Result{System: System, VendorEvent: env.Action, DedupeKey: DedupKey(nil, body)}
	if env.Action == "ping" {
		res.Ping = true
		return res, nil
	}
	outs, why := mapAction(env.Action, d)
	if why != "" {
		res.Unsupported, res.Reason = true, why
		return res, nil
	}
	b := &push.Builder{System: System, Prefix: IDPrefix, Key: res.DedupeKey, Options: opts, EventIDTag: "ab"}
	for _, o := range outs {
		ev, err := b.EventWith(ErrMalformed, o.typ, o.data, o.changes, str(o.at), o.derived)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", env.Action, err)
		}
		res.Events = append(res.Events, ev)
	}
	return res, nil
}

type out struct {
	typ     string
	data    map[string]any
	changes map[string]hirehook.Change
	at      any
	derived bool
}

// stageCategories maps Ashby's interview stage types onto the catalog's
// stage categories.
var stageCategories = map[string]string{
	"Lead":               "new",
	"PreInterviewScreen": "screening",
	"Active":             "interview",
	"Offer":              "offer",
	"Hired":              "hired",
	"Archived":           "rejected",
}

func mapAction(action string, d map[string]any) ([]out, string) {
	switch action {
	case "applicationSubmit":
		a := application(obj(d["application"]))
		return []out{{typ: "application.created", data: a, at: a["created_at"]}}, ""
	case "applicationUpdate":
		a := application(obj(d["application"]))
		return []out{{typ: "application.updated", data: a, at: a["updated_at"]}}, ""
	case "candidateStageChange":
		app := obj(d["application"])
		a := application(app)
		// Ashby sends only the new stage: from is left out and the event
		// marked derived, for a last-state lookup to fill in.
		to, _ := json.Marshal(a["stage"])
		outs := []out{{typ: "application.stage_changed", data: a, at: a["updated_at"],
			changes: map[string]hirehook.Change{"stage": {To: to}}, derived: true}}
		if str(app["status"]) == "Archived" {
			outs = append(outs, out{typ: "application.rejected", data: a, at: a["updated_at"], derived: true})
		}
		return outs, ""
	case "candidateHire":
		a := application(obj(d["application"]))
		a["status"] = "hired"
		outs := []out{{typ: "application.hired", data: a, at: a["updated_at"]}}
		if off := obj(d["offer"]); off != nil && off["id"] != nil {
			o := offer(off)
			o["application_id"] = a["id"]
			o["status"] = "accepted"
			outs = append(outs, out{typ: "offer.accepted", data: o, derived: true})
		}
		return outs, ""
	case "candidateDelete":
		c := obj(d["candidate"])
		if c == nil {
			c = d
		}
		return []out{{typ: "candidate.deleted", data: withRefs(c["id"], map[string]any{})}}, ""
	case "interviewScheduleCreate", "interviewScheduleUpdate":
		iv := obj(d["interviewSchedule"])
		s := interview(iv)
		if action == "interviewScheduleCreate" {
			return []out{{typ: "interview.scheduled", data: s}}, ""
		}
		switch str(iv["status"]) {
		case "Cancelled":
			return []out{{typ: "interview.cancelled", data: s}}, ""
		case "Complete", "Completed":
			return []out{{typ: "interview.completed", data: s}}, ""
		}
		return []out{{typ: "interview.rescheduled", data: s, derived: true}}, ""
	case "offerCreate":
		return []out{{typ: "offer.created", data: offer(obj(d["offer"]))}}, ""
	case "offerDelete":
		return []out{{typ: "offer.withdrawn", data: offer(obj(d["offer"]))}}, ""
	case "offerUpdate":
		// The catalog has no offer.updated: an update is reported only when
		// the offer's status says what happened.
		off := obj(d["offer"])
		o := offer(off)
		switch {
		case str(off["acceptanceStatus"]) == "Accepted":
			return []out{{typ: "offer.accepted", data: o, derived: true}}, ""
		case str(off["acceptanceStatus"]) == "Declined":
			return []out{{typ: "offer.declined", data: o, derived: true}}, ""
		case str(off["offerStatus"]) == "OfferCancelled":
			return []out{{typ: "offer.withdrawn", data: o, derived: true}}, ""
		}
		return nil, "offerUpdate with offerStatus " + strconv.Quote(str(off["offerStatus"])) + " has no catalog type"
	case "signatureRequestUpdate":
		sr := obj(d["signatureRequest"])
		if !strings.EqualFold(str(sr["relatedEntityType"]), "offer") {
			return nil, "signatureRequestUpdate not about an offer"
		}
		o := withRefs(sr["relatedEntityId"], map[string]any{})
		switch strings.ToLower(str(sr["status"])) {
		case "completed":
			o["status"] = "signed"
			o["signed_at"] = rfc3339(sr["updatedAt"])
			return []out{{typ: "offer.signed", data: o, at: o["signed_at"]}}, ""
		case "sent":
			o["status"] = "extended"
			o["sent_at"] = rfc3339(sr["updatedAt"])
			return []out{{typ: "offer.extended", data: o, at: o["sent_at"]}}, ""
		}
		return nil, "signatureRequestUpdate with status " + strconv.Quote(str(sr["status"])) + " has no catalog type"
	case "jobCreate", "jobUpdate":
		typ := "job.created"
		if action == "jobUpdate" {
			typ = "job.updated"
		}
		return []out{{typ: typ, data: job(obj(d["job"]))}}, ""
	case "jobPostingPublish", "jobPostingUnpublish", "jobPostingUpdate":
		typ := map[string]string{"jobPostingPublish": "job.posted", "jobPostingUnpublish": "job.unposted", "jobPostingUpdate": "job.posting_updated"}[action]
		return []out{{typ: typ, data: posting(obj(d["jobPosting"]))}}, ""
	case "pushToHRIS":
		return nil, "pushToHRIS is covered by candidateHire (application.hired)"
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
	status := str(app["status"])
	switch status {
	case "Lead":
		d["kind"] = "prospect"
		d["status"] = "active"
	case "Archived":
		d["status"] = "rejected"
	case "":
		d["status"] = nil
	default:
		d["status"] = strings.ToLower(status)
	}
	d["created_at"] = rfc3339(app["createdAt"])
	d["applied_at"] = d["created_at"]
	d["updated_at"] = rfc3339(app["updatedAt"])
	if s := obj(app["currentInterviewStage"]); s != nil && str(s["title"]) != "" {
		st := map[string]any{"id": ref(s["id"]), "name": str(s["title"])}
		if c, ok := stageCategories[str(s["type"])]; ok {
			st["category"] = c
		}
		if n, ok := s["orderInInterviewPlan"].(float64); ok && n >= 0 && n == float64(int64(n)) && n < 1<<31 {
			st["order"] = int64(n)
		}
		d["stage"] = st
	}
	if c := obj(app["candidate"]); c != nil && ref(c["id"]) != nil {
		d["candidate_id"] = ref(c["id"])
		first, last, _ := strings.Cut(str(c["name"]), " ")
		d["candidate"] = map[string]any{"id": ref(c["id"]), "first_name": nullable(first), "last_name": nullable(last),
			"email": email(obj(c["primaryEmailAddress"])["value"])}
	}
	if j := obj(app["job"]); j != nil && ref(j["id"]) != nil {
		d["job_id"] = ref(j["id"])
		d["job"] = map[string]any{"id": ref(j["id"]), "title": nullable(str(j["title"]))}
	}
	if s := str(obj(app["source"])["title"]); s != "" {
		d["source"] = s
	}
	if r := str(obj(app["archiveReason"])["text"]); r != "" {
		d["rejection_reason"] = r
	}
	return d
}

func interview(iv map[string]any) map[string]any {
	d := withRefs(iv["id"], map[string]any{})
	if v := iv["applicationId"]; v != nil {
		d["application_id"] = ref(v)
	}
	d["status"] = nullable(strings.ToLower(str(iv["status"])))
	if evs, ok := iv["interviewEvents"].([]any); ok && len(evs) > 0 {
		ev := obj(evs[0])
		d["start_at"] = rfc3339(ev["startTime"])
		d["end_at"] = rfc3339(ev["endTime"])
	}
	return d
}

func offer(off map[string]any) map[string]any {
	d := withRefs(off["id"], map[string]any{})
	if v := off["applicationId"]; v != nil {
		d["application_id"] = ref(v)
	}
	d["status"] = nullable(str(off["offerStatus"]))
	if lv := obj(off["latestVersion"]); lv != nil {
		d["start_date"] = date(str(lv["startDate"]))
		d["created_at"] = rfc3339(lv["createdAt"])
	}
	return d
}

func job(j map[string]any) map[string]any {
	d := withRefs(j["id"], map[string]any{})
	d["title"] = nullable(str(j["title"]))
	d["status"] = nullable(strings.ToLower(str(j["status"])))
	d["opened_at"] = rfc3339(j["openedAt"])
	d["closed_at"] = rfc3339(j["closedAt"])
	d["created_at"] = rfc3339(j["createdAt"])
	d["updated_at"] = rfc3339(j["updatedAt"])
	return d
}

func posting(p map[string]any) map[string]any {
	d := withRefs(p["id"], map[string]any{})
	if v := p["jobId"]; v != nil {
		d["job_id"] = ref(v)
	}
	d["title"] = nullable(str(p["title"]))
	if b, ok := p["isListed"].(bool); ok {
		d["internal"] = !b
	}
	d["url"] = nullable(str(p["externalLink"]))
	d["updated_at"] = rfc3339(p["updatedAt"])
	return d
}

// ---- helpers: shared with the other push connectors (connector/internal/value) ----

var (
	obj      = value.Object
	str      = value.String
	nullable = value.Nullable
	rfc3339  = value.RFC3339
	date     = value.Date
	email    = value.Email
)

// ref returns hirehook's id for a vendor id, or nil if there is none.
func ref(v any) any { return value.Ref(IDPrefix, v) }

// withRefs sets id and external_refs from a vendor id; without one, d
// gets no id and the event is refused as malformed.
func withRefs(v any, d map[string]any) map[string]any { return value.WithRefs(System, IDPrefix, v, d) }
