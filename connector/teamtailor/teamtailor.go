package teamtailor

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hirehook/hirehook/connector/push"
)

// System is the name hirehook gives Teamtailor: the events' source and the
// system of their external_refs.
const System = "teamtailor"

// HeaderSignature is the header Teamtailor signs with.
const HeaderSignature = "TT-Signature"

// IDPrefix starts the hirehook id of every Teamtailor entity.
const IDPrefix = "tt_"

// Verify checks a Teamtailor v2 signature: TT-Signature is the base64 of
// "t=<unix>,v2=<hex>", and v2 is hex(HMAC-SHA256(key, t + "." + payload)),
// where payload is the body's "payload" member: Teamtailor's own examples
// sign JSON.stringify(body.payload), not the whole body (which also holds
// the signature). The member is taken from the raw bytes, never
// re-encoded: first exactly as received, then with insignificant
// whitespace removed (which is what JSON.stringify of a parsed body gives,
// key order and number spelling kept). The whole raw body is tried last,
// as reference §7 reads the scheme. t must be within push.Tolerance of now.
// Any of keys may match (rotation); comparisons are constant-time. v1,
// which signs only the resource id, is refused: it does not protect the
// body.
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
	dec, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return fail(push.ErrMalformed)
	}
	var tText string
	var sigs [][]byte
	for part := range strings.SplitSeq(string(dec), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fail(push.ErrMalformed)
		}
		switch k {
		case "t":
			tText = v
		case "v2":
			s, err := hex.DecodeString(v)
			if err != nil {
				return fail(push.ErrMalformed)
			}
			sigs = append(sigs, s)
		}
	}
	if tText == "" || len(sigs) == 0 {
		return fail(push.ErrMalformed)
	}
	ts, err := strconv.ParseInt(tText, 10, 64)
	if err != nil {
		return fail(push.ErrInvalidTimestamp)
	}
	if err := push.CheckTime(ts, now); err != nil {
		return fail(err)
	}
	msgs := signedCandidates(body)
	for _, key := range keys {
		if key == "" {
			continue
		}
		for _, msg := range msgs {
			want := push.HMACSHA256([]byte(key), []byte(tText), []byte{'.'}, msg)
			for _, s := range sigs {
				if hmac.Equal(s, want) {
					return nil
				}
			}
		}
	}
	return fail(push.ErrMismatch)
}

// signedCandidates returns the byte strings Teamtailor may have signed, most
// likely first: the raw payload member, the same compacted, the whole body.
func signedCandidates(body []byte) [][]byte {
	var env struct {
		Payload json.RawMessage `json:"payload"`
	}
	var out [][]byte
	if json.Unmarshal(body, &env) == nil && len(env.Payload) > 0 {
		out = append(out, env.Payload)
		var c bytes.Buffer
		if json.Compact(&c, env.Payload) == nil && !bytes.Equal(c.Bytes(), env.Payload) {
			out = append(out, c.Bytes())
		}
	}
	return append(out, body)
}

// Sign returns the TT-Signature value Teamtailor sends for body at t: over
// the raw payload member (the whole body if it has none). For tests and
// simulators.
func Sign(key string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	sig := push.HMACSHA256([]byte(key), []byte(ts), []byte{'.'}, signedCandidates(body)[0])
	return base64.StdEncoding.EncodeToString([]byte("t=" + ts + ",v2=" + hex.EncodeToString(sig)))
}

// DedupKey returns the key to deduplicate a request on: "sha256:" and the
// hex SHA-256 of the body's "payload" member with insignificant whitespace
// removed, which is what the v2 signature covers (with t); the whole body
// when it has no payload member (Verify then matched the whole body).
// Teamtailor sends no event id, and the rest of the body (its "signature"
// copy, anything added) is not signed: a hash of the whole body let a
// replay inside the window with that remainder changed be taken as new. t
// is left out, so that the same payload signed twice is one request.
func DedupKey(body []byte) string {
	var env struct {
		Payload json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Payload) > 0 {
		var c bytes.Buffer
		if json.Compact(&c, env.Payload) == nil {
			return push.BodyKey(c.Bytes())
		}
	}
	return push.BodyKey(body)
}

// Parse maps a verified Teamtailor webhook body onto the catalog: only the
// signed "payload" member is read. The dedupe key is DedupKey(body).
func Parse(body []byte, opts push.Options) (*push.Result, error) {
	res := &push.Result{System: System, DedupeKey: DedupKey(body)}
	m, err := push.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", System, err)
	}
	p := push.Map(m, "payload")
	if p == nil {
		return nil, fmt.Errorf("%s: body has no payload object", System)
	}
	name := push.Str(p, "event_name")
	res.VendorEvent = name
	d := push.Map(p, "data")
	id := push.Str(d, "id")
	if name == "" || id == "" {
		return nil, fmt.Errorf("%s: payload has no event_name or data.id", System)
	}
	attrs := push.Map(d, "attributes")
	b := &push.Builder{System: System, Prefix: IDPrefix, Key: res.DedupeKey, Options: opts}
	data := map[string]any{"id": b.ID(id), "external_refs": b.Ref(id)}
	occurred := timeAttr(attrs, "updated-at", "updated_at")

	var typ string
	derived := false
	switch name {
	case "candidate.create", "candidate.update":
		typ = map[string]string{"candidate.create": "candidate.created", "candidate.update": "candidate.updated"}[name]
		for _, f := range [][3]string{{"first_name", "first-name", "first_name"}, {"last_name", "last-name", "last_name"}, {"email", "email", "email"}, {"phone", "phone", "phone"}} {
			v := attr(attrs, f[1], f[2])
			if f[0] == "email" {
				v = push.Email(v)
			}
			if v != "" {
				data[f[0]] = v
			}
		}
	case "candidate.destroy":
		typ = "candidate.deleted"
	case "job_application.create":
		typ = "application.created"
		appFields(b, data, attrs)
	case "job_application.update":
		appFields(b, data, attrs)
		switch {
		case attr(attrs, "rejected-at", "rejected_at") != "":
			typ, derived = "application.rejected", true
			data["status"] = "rejected"
			if t := timeAttr(attrs, "rejected-at", "rejected_at"); !t.IsZero() {
				data["rejected_at"] = t.UTC().Format(time.RFC3339)
			}
		case data["stage"] != nil:
			typ = "application.stage_changed"
		default:
			typ = "application.updated"
		}
	case "job_application.destroy":
		typ = "application.deleted"
	case "job.create", "job.update":
		typ = map[string]string{"job.create": "job.created", "job.update": "job.updated"}[name]
		if v := attr(attrs, "title", "title"); v != "" {
			data["title"] = v
		}
	case "job.destroy":
		typ = "job.deleted"
	default:
		res.Unsupported = true
		res.Reason = fmt.Sprintf("teamtailor event %q has no catalog mapping", name)
		return res, nil
	}
	ev, err := b.Event(typ, data, occurred, derived)
	if err != nil {
		return nil, err
	}
	res.Events = append(res.Events, ev)
	return res, nil
}

// appFields copies a job application's stage and job into data.
func appFields(b *push.Builder, data, attrs map[string]any) {
	if v := attr(attrs, "stage-name", "stage_name"); v != "" {
		data["stage"] = map[string]any{"name": v}
	}
	if v := attr(attrs, "job-id", "job_id"); v != "" {
		data["job_id"] = b.ID(v)
	}
	if v := attr(attrs, "candidate-id", "candidate_id"); v != "" {
		data["candidate_id"] = b.ID(v)
	}
}

// attr reads an attribute under its kebab-case name (JSON:API, as
// documented) or its snake_case name (as in the documented sample).
func attr(attrs map[string]any, kebab, snake string) string {
	if v := push.Str(attrs, kebab); v != "" {
		return v
	}
	return push.Str(attrs, snake)
}

func timeAttr(attrs map[string]any, kebab, snake string) time.Time {
	t, err := time.Parse(time.RFC3339, attr(attrs, kebab, snake))
	if err != nil {
		return time.Time{}
	}
	return t
}
