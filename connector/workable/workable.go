package workable

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hirehook/hirehook/connector/push"
)

// System is the name hirehook gives Workable: the events' source and the
// system of their external_refs.
const System = "workable"

// HeaderSignature is the header Workable signs with.
const HeaderSignature = "X-Workable-Signature"

// IDPrefix starts the hirehook id of every Workable entity.
const IDPrefix = "wk_"

// ReplyStatus is the status Workable needs: anything but 200 is an error
// that Workable replays.
const ReplyStatus = http.StatusOK

// Verify checks X-Workable-Signature: the HMAC-SHA256 of the raw body,
// keyed with the account's API access token or the OAuth app's secret.
// Workable's docs do not say how the digest is written, so both hex (as
// integrators' code reads it, either case) and base64 (standard or URL
// alphabet, padded or not) are accepted: the length tells them apart (64
// hex digits, 43 or 44 base64 characters for 32 bytes). Any of secrets
// may match; the comparison is constant-time. Workable signs no
// timestamp, so there is no replay window: dedupe on the body hash
// (DedupKey).
func Verify(h http.Header, body []byte, secrets ...string) error {
	fail := func(err error) error {
		return &push.VerifyError{System: System, Header: HeaderSignature, Err: err}
	}
	if len(secrets) == 0 {
		return fail(push.ErrNoSecret)
	}
	raw := strings.TrimSpace(h.Get(HeaderSignature))
	if raw == "" {
		return fail(push.ErrMissingSignature)
	}
	got, ok := decodeDigest(raw)
	if !ok {
		return fail(push.ErrMalformed)
	}
	for _, s := range secrets {
		if s != "" && hmac.Equal(got, push.HMACSHA256([]byte(s), body)) {
			return nil
		}
	}
	return fail(push.ErrMismatch)
}

// decodeDigest reads a 32-byte digest written in hex or in base64.
func decodeDigest(s string) ([]byte, bool) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == sha256.Size {
		return b, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b, true
		}
	}
	return nil, false
}

// Sign returns the X-Workable-Signature value of body, in hex. For tests
// and simulators.
func Sign(secret string, body []byte) string {
	return hex.EncodeToString(push.HMACSHA256([]byte(secret), body))
}

// DedupKey returns the key to deduplicate a request on: "sha256:" and the
// hex SHA-256 of the body, which is what Workable signs. Workable documents
// no event id (reference §16) and signs no timestamp; its replays of a
// failed delivery carry the same body, so they are duplicates, and so is
// anyone's re-send of a captured request.
func DedupKey(body []byte) string { return push.BodyKey(body) }

// Parse maps a verified Workable webhook body onto the catalog. The dedupe
// key is DedupKey(body).
func Parse(body []byte, opts push.Options) (*push.Result, error) {
	res := &push.Result{System: System, DedupeKey: DedupKey(body)}
	m, err := push.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", System, err)
	}
	name := push.Str(m, "event_type")
	res.VendorEvent = name
	d := push.Map(m, "data")
	id := push.Str(d, "id")
	if name == "" || id == "" {
		return nil, fmt.Errorf("%s: body has no event_type or data.id", System)
	}
	b := &push.Builder{System: System, Prefix: IDPrefix, Key: res.DedupeKey, Options: opts}
	occurred := timeField(d, "updated_at")

	emit := func(typ string, data map[string]any, derived bool) error {
		ev, err := b.Event(typ, data, occurred, derived)
		if err != nil {
			return err
		}
		res.Events = append(res.Events, ev)
		return nil
	}
	switch name {
	case "candidate_created":
		// A Workable candidate belongs to one job: it is both the person
		// and their application, under the same Workable id.
		if err := emit("candidate.created", candidate(b, id, d), false); err != nil {
			return nil, err
		}
		if err := emit("application.created", application(b, id, d), false); err != nil {
			return nil, err
		}
	case "candidate_moved":
		app := application(b, id, d)
		typ, derived := "application.stage_changed", false
		switch {
		case d["disqualified"] == true:
			typ, derived = "application.rejected", true
			app["status"] = "rejected"
			if r := push.Str(d, "disqualification_reason"); r != "" {
				app["rejection_reason"] = r
			}
		case strings.EqualFold(stageName(d), "hired"):
			typ, derived = "application.hired", true
			app["status"] = "hired"
		}
		if err := emit(typ, app, derived); err != nil {
			return nil, err
		}
	case "candidate_deleted":
		if err := emit("candidate.deleted", map[string]any{"id": b.ID(id), "external_refs": b.Ref(id)}, false); err != nil {
			return nil, err
		}
	default:
		// employee_*, onboarding_completed, timeoff_updated: the catalog
		// has no onboarding or employee types.
		res.Unsupported = true
		res.Reason = fmt.Sprintf("workable event %q has no catalog mapping", name)
	}
	return res, nil
}

func candidate(b *push.Builder, id string, d map[string]any) map[string]any {
	c := map[string]any{"id": b.ID(id), "external_refs": b.Ref(id)}
	for _, f := range [][2]string{{"firstname", "first_name"}, {"lastname", "last_name"}, {"name", "name"}, {"email", "email"}, {"phone", "phone"}} {
		v := push.Str(d, f[0])
		if f[1] == "email" {
			v = push.Email(v)
		}
		if v != "" {
			c[f[1]] = v
		}
	}
	if t := timeField(d, "created_at"); !t.IsZero() {
		c["created_at"] = t.UTC().Format(time.RFC3339)
	}
	return c
}

func application(b *push.Builder, id string, d map[string]any) map[string]any {
	a := map[string]any{"id": b.ID(id), "external_refs": b.Ref(id), "candidate_id": b.ID(id)}
	if s := stageName(d); s != "" {
		a["stage"] = map[string]any{"name": s}
	}
	if j := push.Map(d, "job"); j != nil {
		if sc := push.Str(j, "shortcode"); sc != "" {
			job := map[string]any{"id": b.ID(sc)}
			if t := push.Str(j, "title"); t != "" {
				job["title"] = t
			}
			a["job_id"], a["job"] = b.ID(sc), job
		}
	}
	return a
}

// stageName reads the candidate's stage: a name, or an object with one.
func stageName(d map[string]any) string {
	if s := push.Str(d, "stage"); s != "" {
		return s
	}
	return push.Str(push.Map(d, "stage"), "name")
}

func timeField(m map[string]any, k string) time.Time {
	t, err := time.Parse(time.RFC3339, push.Str(m, k))
	if err != nil {
		return time.Time{}
	}
	return t
}
