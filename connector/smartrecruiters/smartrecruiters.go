package smartrecruiters

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook/connector/push"
)

// System is the name hirehook gives SmartRecruiters: the events' source and
// the system of their external_refs.
const System = "smartrecruiters"

// IDPrefix starts the hirehook id of every SmartRecruiters entity.
const IDPrefix = "sr_"

// Headers SmartRecruiters sends with every event.
const (
	HeaderSignature    = "Smartrecruiters-Signature"
	HeaderTimestamp    = "Smartrecruiters-Timestamp"
	HeaderEventID      = "Event-Id"
	HeaderEventName    = "Event-Name"
	HeaderEventVersion = "Event-Version"
	HeaderLink         = "Link"
	// HeaderHookSecret carries the activation handshake's secret.
	HeaderHookSecret = "X-Hook-Secret"
)

// ReplyStatus is what SmartRecruiters needs for an event, within 5 s:
// 202, not 200.
const ReplyStatus = http.StatusAccepted

// Handshake answers SmartRecruiters' activation handshake: a request with
// X-Hook-Secret must get 200 with the same X-Hook-Secret echoed (within
// 20 s). ok is false when the request is not a handshake. A handshake is
// source health (the subscription is now active), not a recruiting event,
// and carries no body to verify.
func Handshake(h http.Header) (hs push.Handshake, ok bool) {
	secret := h.Get(HeaderHookSecret)
	if secret == "" {
		return push.Handshake{}, false
	}
	out := http.Header{}
	out.Set(HeaderHookSecret, secret)
	return push.Handshake{Status: http.StatusOK, Header: out}, true
}

// Verify checks smartrecruiters-signature: a ";"-separated list of
// "v1=<hex>" entries (one per live key, or future schemes, which are
// skipped), each hex(HMAC-SHA256(key, timestamp "." body "." event-id "."
// event-name "." event-version "." link)) with "" for a missing header.
// Any entry may match any of keys (SmartRecruiters keeps up to 16 keys
// live, the old one for 24 h after rotation); the comparison is
// constant-time. smartrecruiters-timestamp (seconds) must be within
// push.Tolerance of now.
func Verify(h http.Header, body []byte, now time.Time, keys ...string) error {
	fail := func(err error) error {
		return &push.VerifyError{System: System, Header: HeaderSignature, Err: err}
	}
	if len(keys) == 0 {
		return fail(push.ErrNoSecret)
	}
	raw := strings.TrimSpace(h.Get(HeaderSignature))
	if raw == "" {
		return fail(push.ErrMissingSignature)
	}
	var sigs [][]byte
	for part := range strings.SplitSeq(raw, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k != "v1" {
			continue
		}
		s, err := hex.DecodeString(v)
		if err != nil {
			continue
		}
		sigs = append(sigs, s)
	}
	if len(sigs) == 0 {
		return fail(push.ErrMalformed)
	}
	tsText := h.Get(HeaderTimestamp)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return &push.VerifyError{System: System, Header: HeaderTimestamp, Err: push.ErrInvalidTimestamp}
	}
	if err := push.CheckTime(ts, now); err != nil {
		return &push.VerifyError{System: System, Header: HeaderTimestamp, Err: err}
	}
	for _, key := range keys {
		if key == "" {
			continue
		}
		want := mac(key, h, body)
		for _, s := range sigs {
			if hmac.Equal(s, want) {
				return nil
			}
		}
	}
	return fail(push.ErrMismatch)
}

func mac(key string, h http.Header, body []byte) []byte {
	dot := []byte{'.'}
	return push.HMACSHA256([]byte(key),
		[]byte(h.Get(HeaderTimestamp)), dot, body, dot,
		[]byte(h.Get(HeaderEventID)), dot,
		[]byte(h.Get(HeaderEventName)), dot,
		[]byte(h.Get(HeaderEventVersion)), dot,
		[]byte(h.Get(HeaderLink)))
}

// Sign returns the smartrecruiters-signature value for a request whose
// other headers are already in h: what SmartRecruiters sends, one v1 entry
// per key. For tests and simulators.
func Sign(h http.Header, body []byte, keys ...string) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, "v1="+hex.EncodeToString(mac(k, h, body)))
	}
	return strings.Join(parts, ";")
}

// mapping is the catalog type of each SmartRecruiters event with a fixed
// one. Events whose type depends on the resource's fetched state are in
// hydrate; everything else is unsupported.
var mapping = map[string]string{
	"application.created":        "application.created",
	"application.status.updated": "application.stage_changed",
	"candidate.created":          "candidate.created",
	"candidate.updated":          "candidate.updated",
	"candidate.deleted":          "candidate.deleted",
	"offer.created":              "offer.created",
	"offer.approval.approved":    "offer.approved",
	"job.created":                "job.created",
	"job.updated":                "job.updated",
	"job.approval.approved":      "job.approved",
	"job.ad.created":             "job.posted",
	"interview.created":          "interview.scheduled",
	"interview.updated":          "interview.rescheduled",
	"interview.canceled":         "interview.cancelled",
}

// hydrate lists the events whose catalog type is decided by the fetched
// resource: job.opened or job.closed by status, job.posting_updated or
// job.unposted by the postings, offer.extended/accepted/declined by status.
var hydrate = map[string]string{
	"job.status.updated":      "job status decides job.opened or job.closed",
	"job.ad.postings.updated": "postings decide job.posting_updated or job.unposted",
	"offer.updated":           "offer status decides offer.extended, offer.accepted or offer.declined",
}

// DedupKey returns the key to deduplicate a request on: "event-id:" and
// the event-id header, which the v1 signature covers (with the timestamp,
// body, event name and version, and link); without one, "sha256:" and the
// hex SHA-256 of the body (the signature then covers an empty event-id).
func DedupKey(h http.Header, body []byte) string {
	if id := h.Get(HeaderEventID); id != "" {
		return "event-id:" + id
	}
	return push.BodyKey(body)
}

// ParseLink returns the URL of SmartRecruiters' link header, which has
// the RFC 8288 form `<url>; rel=self` (SmartRecruiters' own signature
// example, and its own webhooks client, read it so): the target of the
// link whose rel includes "self", else of the first link. A bare URL
// without angle brackets is taken as it is, up to a ";". "" when there is
// none. The header is signed as received; only its use is parsed.
func ParseLink(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if !strings.HasPrefix(v, "<") {
		u, _, _ := strings.Cut(v, ";")
		return strings.TrimSpace(u)
	}
	first := ""
	for rest := v; ; {
		rest = strings.TrimLeft(rest, " \t,")
		end := strings.IndexByte(rest, '>')
		if !strings.HasPrefix(rest, "<") || end < 0 {
			break
		}
		target := strings.TrimSpace(rest[1:end])
		// The link's parameters run to the next "," outside quotes.
		params := rest[end+1:]
		rest = ""
		inQuote := false
		for i := 0; i < len(params); i++ {
			if params[i] == '"' {
				inQuote = !inQuote
			} else if params[i] == ',' && !inQuote {
				params, rest = params[:i], params[i+1:]
				break
			}
		}
		if first == "" {
			first = target
		}
		for p := range strings.SplitSeq(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for rel := range strings.FieldsSeq(strings.Trim(strings.TrimSpace(val), `"`)) {
				if strings.EqualFold(rel, "self") {
					return target
				}
			}
		}
	}
	return first
}

// ids reads the ids of a SmartRecruiters event body. SmartRecruiters
// documents the body as the id of the changed resource ({"id": …}) and, in
// its signature example for application.created, as {"job_id": …,
// "candidate_id": …}; both spellings (job_id and jobId, …) are read. An
// application is a candidate's application to a job, so where the body
// names both its id is "<candidate id>:<job id>" (the same for every event
// about it, whatever else the body holds), else the body's id.
type ids struct {
	id, candidate, job string
}

// bodyIDs returns the ids of event's body m, or an error naming what is
// missing: a body the hub cannot map.
func bodyIDs(event string, m map[string]any) (ids, error) {
	out := ids{candidate: first(m, "candidate_id", "candidateId"), job: first(m, "job_id", "jobId")}
	family, _, _ := strings.Cut(event, ".")
	switch family {
	case "application":
		if out.candidate != "" && out.job != "" {
			out.id = out.candidate + ":" + out.job
		} else {
			out.id = first(m, "id", "application_id", "applicationId")
		}
		if out.id == "" {
			return out, fmt.Errorf("%s: %s body has neither candidate_id and job_id nor id", System, event)
		}
	case "candidate":
		out.id = first(m, "id", "candidate_id", "candidateId")
		out.candidate = ""
	case "job":
		if strings.HasPrefix(event, "job.ad.") {
			out.id = first(m, "id", "job_ad_id", "jobAdId")
		} else {
			out.id = first(m, "id", "job_id", "jobId")
			out.job = ""
		}
	case "offer":
		out.id = first(m, "id", "offer_id", "offerId")
	case "interview":
		out.id = first(m, "id", "interview_id", "interviewId")
	default:
		out.id = first(m, "id")
	}
	if out.id == "" {
		return out, fmt.Errorf("%s: %s body has no id", System, event)
	}
	if out.job == out.id {
		out.job = ""
	}
	return out, nil
}

// Parse maps a verified SmartRecruiters event onto the catalog. The payload
// is thin (the resource's ids, and a link header to fetch it), so every
// event carries only ids and external_refs and Result.Thin is set. The
// dedupe key is DedupKey(h, body). A body without the ids its event needs
// is an error: the hub answers it non-2xx, so SmartRecruiters retries it.
func Parse(h http.Header, body []byte, opts push.Options) (*push.Result, error) {
	res := &push.Result{System: System, Thin: true, Link: ParseLink(h.Get(HeaderLink))}
	res.VendorEvent = h.Get(HeaderEventName)
	res.DedupeKey = DedupKey(h, body)
	m, err := push.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", System, err)
	}
	if res.VendorEvent == "" {
		return nil, fmt.Errorf("%s: no %s header", System, HeaderEventName)
	}
	typ, ok := mapping[res.VendorEvent]
	if !ok {
		if why, ok := hydrate[res.VendorEvent]; ok {
			// The fetched record decides the type and has the id, so
			// the body's ids are not needed here.
			res.NeedsHydration = true
			res.Reason = why
			return res, nil
		}
		res.Unsupported = true
		res.Reason = fmt.Sprintf("smartrecruiters event %q has no catalog mapping", res.VendorEvent)
		return res, nil
	}
	ids, err := bodyIDs(res.VendorEvent, m)
	if err != nil {
		return nil, err
	}
	b := &push.Builder{System: System, Prefix: IDPrefix, Key: res.DedupeKey, Options: opts}
	data := map[string]any{"id": b.ID(ids.id), "external_refs": b.Ref(ids.id)}
	if ids.job != "" {
		data["job_id"] = b.ID(ids.job)
	}
	if ids.candidate != "" {
		data["candidate_id"] = b.ID(ids.candidate)
	}
	var occurred time.Time
	if ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64); err == nil {
		occurred = time.Unix(ts, 0)
	}
	ev, err := b.Event(typ, data, occurred, false)
	if err != nil {
		return nil, err
	}
	res.Events = append(res.Events, ev)
	return res, nil
}

// first returns the first of keys that m has as a string or number.
func first(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if v := push.Str(m, k); v != "" {
			return v
		}
	}
	return ""
}
