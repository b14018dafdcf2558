package inbound

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/connector/generic"
	"github.com/hirehook/hirehook/connector/greenhouse"
	"github.com/hirehook/hirehook/connector/lever"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/connector/teamtailor"
	"github.com/hirehook/hirehook/store/postgres"
	"github.com/hirehook/hirehook/store/postgres/postgrestest"
)

// eventTypes returns the types of every event the rig's store holds.
func (r *rig) eventTypes(t *testing.T) []string {
	t.Helper()
	evs, err := r.st.EventList(context.Background(), hirehook.EventFilter{TenantID: hirehook.DefaultTenantID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// wantReplayDropped posts a replay and checks it is answered as a
// duplicate of first with nothing emitted.
func (r *rig) wantReplayDropped(t *testing.T, what, srcID, first string, status int, h http.Header, body []byte) {
	t.Helper()
	before := r.eventTypes(t)
	code, ans := r.post(t, srcID, h, body)
	if code != status || ans["status"] != hirehook.InboundDuplicate {
		t.Fatalf("%s: answer %d %v, want %d duplicate", what, code, ans, status)
	}
	q, err := r.st.InboundGet(context.Background(), hirehook.DefaultTenantID, srcID, ans["request_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if q.DuplicateOf != first {
		t.Fatalf("%s: logged as a duplicate of %q, want %q", what, q.DuplicateOf, first)
	}
	if after := r.eventTypes(t); len(after) != len(before) {
		t.Fatalf("%s: emitted %v (before %v)", what, after, before)
	}
}

// TestReplayLeverToken: Lever signs only token + triggeredAt. A captured
// request, re-sent inside the 5-minute window with a new (unsigned) id,
// another event and another opportunity, is a duplicate of the captured
// one: the token is the dedupe key, so it is used once. Before, the hub
// deduplicated on the unsigned id and emitted application.hired.
func TestReplayLeverToken(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	secret := "lever-signature-token"
	src := r.source(t, KindLever, map[string]any{"signing_secret": secret})
	now := time.Now()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, "lever", "candidateStageChange.json"), &m); err != nil {
		t.Fatal(err)
	}
	ms := now.UnixMilli()
	m["triggeredAt"] = ms
	m["signature"] = lever.Sign(m["token"].(string), ms, secret)
	body, _ := json.Marshal(m)
	code, ans := r.post(t, src.ID, nil, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundProcessed {
		t.Fatalf("genuine request: %d %v", code, ans)
	}
	first := ans["request_id"].(string)

	// The attacker keeps token, triggeredAt and signature, and rewrites
	// everything Lever does not sign.
	m["id"] = "forged-0001"
	m["event"] = "candidateHired"
	m["data"] = map[string]any{"opportunityId": "99999999-forged-opportunity", "contactId": "7f8a1c2e-1111-4bba-a671-8a3d73477145"}
	forged, _ := json.Marshal(m)
	r.wantReplayDropped(t, "forged replay", src.ID, first, http.StatusOK, nil, forged)
	for _, typ := range r.eventTypes(t) {
		if typ == "application.hired" {
			t.Fatal("the forged replay emitted application.hired")
		}
	}
	// Without an id at all, too.
	delete(m, "id")
	forged, _ = json.Marshal(m)
	r.wantReplayDropped(t, "replay without id", src.ID, first, http.StatusOK, nil, forged)
}

// TestReplayGreenhouseBody: Greenhouse signs the body and sends no
// timestamp; Greenhouse-Event-ID is not signed. The same signed body sent
// again with another Greenhouse-Event-ID, or none, is a duplicate: the
// dedupe key is the digest of the signed body. Before, each re-send with
// a new header emitted application.hired again.
func TestReplayGreenhouseBody(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	secret := "greenhouse-secret-key"
	src := r.source(t, KindGreenhouse, map[string]any{"signing_secret": secret})
	body := fixture(t, "greenhouse", "hire_candidate.json")
	sig := greenhouse.Sign(body, secret)
	code, ans := r.post(t, src.ID, http.Header{"Signature": {sig}, "Greenhouse-Event-Id": {"gh-evt-1"}}, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundProcessed {
		t.Fatalf("genuine request: %d %v", code, ans)
	}
	first := ans["request_id"].(string)
	for i, h := range []http.Header{
		{"Signature": {sig}, "Greenhouse-Event-Id": {"gh-evt-2"}},
		{"Signature": {sig}, "Greenhouse-Event-Id": {"gh-evt-" + strconv.Itoa(int(time.Now().UnixNano()))}},
		{"Signature": {sig}},
	} {
		r.wantReplayDropped(t, "replay "+strconv.Itoa(i), src.ID, first, http.StatusOK, h, body)
	}
}

// TestReplayGenericHMAC: with the hmac scheme only the body is signed, so
// a webhook-id header is not the sender's word: a replay with a new one is
// a duplicate. With Standard Webhooks the webhook-id is signed and stays
// the key.
func TestReplayGenericHMAC(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	c := generic.HMACConfig{Header: "X-Signature", Prefix: "sha256="}
	src := r.source(t, KindGeneric, map[string]any{"signing_secret": "generic-secret", "scheme": "hmac", "header": "X-Signature", "prefix": "sha256="})
	body := fixture(t, "generic", "application_hired.json")
	sig := c.Sign("generic-secret", body)
	code, ans := r.post(t, src.ID, http.Header{"X-Signature": {sig}, "Webhook-Id": {"msg_1"}}, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundProcessed {
		t.Fatalf("genuine request: %d %v", code, ans)
	}
	first := ans["request_id"].(string)
	r.wantReplayDropped(t, "new webhook-id", src.ID, first, http.StatusOK, http.Header{"X-Signature": {sig}, "Webhook-Id": {"msg_2"}}, body)
	r.wantReplayDropped(t, "no webhook-id", src.ID, first, http.StatusOK, http.Header{"X-Signature": {sig}}, body)
}

// TestReplayTeamtailorOuterBody: Teamtailor v2 signs t and the body's
// "payload" member, not the rest of the body. A replay inside the window
// with the unsigned remainder changed is a duplicate: the dedupe key is
// the digest of the signed payload.
func TestReplayTeamtailorOuterBody(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	src := r.source(t, KindTeamtailor, map[string]any{"signing_secret": "tt-key"})
	body := fixture(t, "teamtailor", "job_application_update.json")
	h := http.Header{teamtailor.HeaderSignature: {teamtailor.Sign("tt-key", time.Now(), body)}}
	code, ans := r.post(t, src.ID, h, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundProcessed {
		t.Fatalf("genuine request: %d %v", code, ans)
	}
	first := ans["request_id"].(string)
	changed := bytes.Replace(body, []byte(`"signature":"ignored"`), []byte(`"signature":"replayed","x":1`), 1)
	if bytes.Equal(changed, body) {
		t.Fatal("the fixture has no outer signature member to change")
	}
	r.wantReplayDropped(t, "changed outer body", src.ID, first, http.StatusOK, h, changed)
}

// TestReplayAcrossNodes: the token a request was taken with lives in the
// store, so two hub nodes on one PostgreSQL database share it: the genuine
// Lever request taken by one node, the forged replay sent to the other is
// a duplicate, and nothing more is emitted. Skipped without PostgreSQL
// (HIREHOOK_TEST_DATABASE_URL), as the other PostgreSQL tests are.
func TestReplayAcrossNodes(t *testing.T) {
	t.Parallel()
	dsn := postgrestest.NewDatabase(t)
	node := func() *rig {
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return newRigOn(t, st)
	}
	a, b := node(), node()
	secret := "lever-signature-token"
	src := a.source(t, KindLever, map[string]any{"signing_secret": secret})
	var m map[string]any
	if err := json.Unmarshal(fixture(t, "lever", "candidateStageChange.json"), &m); err != nil {
		t.Fatal(err)
	}
	ms := time.Now().UnixMilli()
	m["triggeredAt"] = ms
	m["signature"] = lever.Sign(m["token"].(string), ms, secret)
	body, _ := json.Marshal(m)
	code, ans := a.post(t, src.ID, nil, body)
	if code != http.StatusOK || ans["status"] != hirehook.InboundProcessed {
		t.Fatalf("genuine request on node a: %d %v", code, ans)
	}
	m["id"], m["event"] = "forged-0002", "candidateHired"
	forged, _ := json.Marshal(m)
	b.wantReplayDropped(t, "forged replay on node b", src.ID, ans["request_id"].(string), http.StatusOK, nil, forged)
	for _, typ := range b.eventTypes(t) {
		if typ == "application.hired" {
			t.Fatal("the forged replay emitted application.hired")
		}
	}
}

// TestParseKeyIsSignedKey: for every vendor, the key a parser derives its
// event ids from is the key the request is logged under (Kind.key, made
// from what the vendor signed), so a duplicate in the log is a duplicate
// at ingest too.
func TestParseKeyIsSignedKey(t *testing.T) {
	t.Parallel()
	for _, vc := range vendorCases(t) {
		k := Kinds[vc.kind]
		cfg := &Config{SigningSecret: "s"}
		if s, _ := vc.cfg["scheme"].(string); s != "" {
			cfg.Scheme, cfg.Header, cfg.Prefix, cfg.Encoding = s, "X-Signature", "sha256=", "base64"
		}
		secret := "s"
		if g, _ := vc.cfg["signing_secret"].(string); g != "" {
			secret, cfg.SigningSecret = g, g
		}
		raw, body := vc.sign(secret, time.Now(), vc.body)
		h := http.Header{} // as the server receives it: canonical names
		for name, vs := range raw {
			for _, v := range vs {
				h.Add(name, v)
			}
		}
		if err := k.verify(cfg, h, body, time.Now()); err != nil {
			t.Fatalf("%s: verify: %v", vc.kind, err)
		}
		p, err := k.parse(cfg, h, body, push.Options{SourceID: "src_1"})
		if err != nil {
			t.Fatalf("%s: parse: %v", vc.kind, err)
		}
		if key := k.key(cfg, h, body); p.DedupeKey != key || key == "" {
			t.Errorf("%s (%s): parse keyed on %q, the log on %q", vc.kind, cfg.Scheme, p.DedupeKey, key)
		}
	}
}
