package generic

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/push"
)

const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	hmacSecret = "plain-hmac-secret"
)

var testNow = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func standard(tb testing.TB, id string, t time.Time, body []byte, secret string) http.Header {
	tb.Helper()
	sig, err := hirehook.Sign(secret, id, t.Unix(), body)
	if err != nil {
		tb.Fatal(err)
	}
	h := http.Header{}
	h.Set(hirehook.HeaderWebhookID, id)
	h.Set(hirehook.HeaderWebhookTimestamp, strconv.FormatInt(t.Unix(), 10))
	h.Set(hirehook.HeaderWebhookSignature, sig)
	return h
}

func TestVerifyStandard_specVector(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	now := time.Unix(1614265330, 0)
	if err := VerifyStandard(h, []byte(`{"test": 2432232314}`), now, specSecret); err != nil {
		t.Fatalf("spec vector rejected: %v", err)
	}
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=")
	if err := VerifyStandard(h, []byte(`{"test": 2432232314}`), now, specSecret); !errors.Is(err, push.ErrMismatch) {
		t.Fatalf("changed signature: %v, want ErrMismatch", err)
	}
}

func TestVerifyStandard(t *testing.T) {
	t.Parallel()
	body := fixture(t, "application_hired.json")
	changed := append([]byte(nil), body...)
	changed[12] ^= 1
	good := standard(t, "evt_1", testNow, body, specSecret)
	tests := []struct {
		name    string
		h       http.Header
		body    []byte
		secrets []string
		want    error
	}{
		{"valid", good, body, []string{specSecret}, nil},
		{"one changed byte", good, changed, []string{specSecret}, push.ErrMismatch},
		{"wrong secret", good, body, []string{"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, push.ErrMismatch},
		{"old timestamp", standard(t, "evt_1", testNow.Add(-6*time.Minute), body, specSecret), body, []string{specSecret}, push.ErrTimestampTooOld},
		{"missing headers", http.Header{}, body, []string{specSecret}, push.ErrMissingSignature},
		{"no secret", good, body, nil, push.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyStandard(tt.h, tt.body, testNow, tt.secrets...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyStandard = %v, want %v", err, tt.want)
			}
			var ve *push.VerifyError
			if err != nil && (!errors.As(err, &ve) || strings.Contains(err.Error(), "MfKQ9r8G")) {
				t.Fatalf("error %q: want a *push.VerifyError without the secret", err)
			}
		})
	}
}

func TestHMACConfig_Verify(t *testing.T) {
	t.Parallel()
	body := fixture(t, "application_hired.json")
	changed := append([]byte(nil), body...)
	changed[len(changed)-2] ^= 1
	hexCfg := HMACConfig{Header: "Ashby-Signature", Prefix: "sha256="}
	b64Cfg := HMACConfig{Header: "X-Merge-Webhook-Signature", Encoding: "base64"}
	set := func(c HMACConfig, v string) http.Header {
		h := http.Header{}
		h.Set(c.Header, v)
		return h
	}
	urlSig := strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(b64Cfg.Sign(hmacSecret, body)), "=")
	tests := []struct {
		name string
		cfg  HMACConfig
		h    http.Header
		body []byte
		want error
	}{
		{"hex with prefix", hexCfg, set(hexCfg, hexCfg.Sign(hmacSecret, body)), body, nil},
		{"base64", b64Cfg, set(b64Cfg, b64Cfg.Sign(hmacSecret, body)), body, nil},
		{"base64url unpadded", b64Cfg, set(b64Cfg, urlSig), body, nil},
		{"one changed byte", hexCfg, set(hexCfg, hexCfg.Sign(hmacSecret, body)), changed, push.ErrMismatch},
		{"wrong secret", hexCfg, set(hexCfg, hexCfg.Sign("other", body)), body, push.ErrMismatch},
		{"missing prefix", hexCfg, set(hexCfg, strings.TrimPrefix(hexCfg.Sign(hmacSecret, body), "sha256=")), body, push.ErrMalformed},
		{"missing header", hexCfg, http.Header{}, body, push.ErrMissingSignature},
		{"sha1 refused", HMACConfig{Header: "X-Sig", Algorithm: "sha1"}, http.Header{}, body, push.ErrUnsupportedConfig},
		{"no header name", HMACConfig{}, http.Header{}, body, push.ErrUnsupportedConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Verify(tt.h, tt.body, hmacSecret)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), hmacSecret) {
				t.Fatalf("error %q contains the secret", err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	body := fixture(t, "application_hired.json")
	h := standard(t, "evt_1", testNow, body, specSecret)
	res, err := Parse(DedupKey(h, body, true), h, body, push.Options{SourceID: "src_1", Tenant: "acme-ats", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if res.DedupeKey != "webhook-id:evt_1" || len(res.Events) != 1 {
		t.Fatalf("result = %+v", res)
	}
	e := res.Events[0]
	if e.Type != "application.hired" || e.Subject.ID != "app_123" || e.Source != System || !e.OccurredAt.Equal(time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)) {
		t.Fatalf("event = %s %s %s %v", e.Type, e.Subject.ID, e.Source, e.OccurredAt)
	}
	if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.Data), `"external_refs":[{"id":"app_123","system":"generic","tenant":"acme-ats"}]`) {
		t.Fatalf("data %s lacks external_refs", e.Data)
	}
	again, err := Parse(DedupKey(h, body, true), h, body, push.Options{SourceID: "src_1", Tenant: "acme-ats"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Events[0].ID != e.ID {
		t.Fatalf("event id not stable")
	}
	noID, err := Parse(DedupKey(http.Header{}, body, true), http.Header{}, body, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(noID.DedupeKey, "sha256:") {
		t.Fatalf("dedupe key without webhook-id = %q, want the body hash", noID.DedupeKey)
	}
}

// TestDedupKey: the key comes from what was signed. A webhook-id header
// counts only when Standard Webhooks signed it; with a plain body HMAC it
// is ignored, and the body's id or hash is the key.
func TestDedupKey(t *testing.T) {
	t.Parallel()
	hdr := func(id string) http.Header {
		h := http.Header{}
		h.Set(hirehook.HeaderWebhookID, id)
		return h
	}
	h := hdr("msg_1")
	body := []byte(`{"type":"application.hired","data":{"id":"a"}}`)
	for _, tt := range []struct {
		h        http.Header
		body     []byte
		standard bool
		want     string
	}{
		{h, body, true, "webhook-id:msg_1"},
		{h, body, false, push.BodyKey(body)},
		{hdr("msg_2"), body, false, push.BodyKey(body)},
		{h, []byte(`{"id":"evt_9","type":"x"}`), false, "id:evt_9"},
		{h, []byte(`{"id":42,"type":"x"}`), false, "id:42"},
	} {
		if got := DedupKey(tt.h, tt.body, tt.standard); got != tt.want {
			t.Errorf("DedupKey(%v, %s, %v) = %q, want %q", tt.h, tt.body, tt.standard, got, tt.want)
		}
	}
}

func TestParse_unsupported(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"candidate_applied.json", "hub_only.json"} {
		res, err := Parse("", http.Header{}, fixture(t, f), push.Options{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !res.Unsupported || len(res.Events) != 0 || res.Reason == "" {
			t.Fatalf("%s: result = %+v, want unsupported", f, res)
		}
	}
}

func TestParse_invalidData(t *testing.T) {
	t.Parallel()
	_, err := Parse("", http.Header{}, []byte(`{"type":"candidate.created","data":{"email":"x"}}`), push.Options{})
	if hirehook.ErrorCode(err) != hirehook.EINVALID {
		t.Fatalf("Parse = %v, want an invalid error", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"application_hired.json", "candidate_applied.json", "hub_only.json"} {
		f.Add(fixture(f, name), "evt_1")
	}
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		h := http.Header{}
		h.Set(hirehook.HeaderWebhookID, id)
		res, err := Parse(DedupKey(h, body, true), h, body, push.Options{Now: testNow})
		if err != nil {
			return
		}
		for _, e := range res.Events {
			if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
				t.Fatalf("invalid event %s: %v", e.Type, err)
			}
		}
	})
}
