package hirehook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
)

// The Standard Webhooks specification's published test vector, the same in
// its Go, JavaScript and Python reference suites.
const (
	vecSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID      = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS      = 1614265330
	vecPayload = `{"test": 2432232314}`
	vecSig     = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecVector(t *testing.T) {
	t.Parallel()
	got, err := hirehook.Sign(vecSecret, vecID, vecTS, []byte(vecPayload))
	if err != nil {
		t.Fatal(err)
	}
	if got != vecSig {
		t.Fatalf("Sign = %q, want %q", got, vecSig)
	}
}

func TestSignRotationDerivedVector(t *testing.T) {
	t.Parallel()
	// Derived vectors from shared/reference/standard-webhooks.md.
	payload := `{"type":"candidate.applied","timestamp":"2024-01-15T09:30:00Z","data":{"application_id":"app_123","candidate_id":"cand_456","requisition_id":"req_789"}}`
	s, err := hirehook.NewSigner(vecSecret, "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Sign("evt_0001", 1705311000, []byte(payload))
	want := "v1,//2aYk3NNjIGBGxiuKEvU+DFv+/pEbPEk/Gl9CWS/dU= v1,AR96NqO75heNA6HEMJFDavgC/ypyug5eUWYcS9Oo7VQ="
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(vecTS, 0)
	headers := func(id, ts, sig string) http.Header {
		h := http.Header{}
		if id != "" {
			h.Set(hirehook.HeaderWebhookID, id)
		}
		if ts != "" {
			h.Set(hirehook.HeaderWebhookTimestamp, ts)
		}
		if sig != "" {
			h.Set(hirehook.HeaderWebhookSignature, sig)
		}
		return h
	}
	ts := strconv.Itoa(vecTS)
	tests := []struct {
		name string
		h    http.Header
		now  time.Time
		want error
	}{
		{"valid", headers(vecID, ts, vecSig), now, nil},
		{"valid among others", headers(vecID, ts, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc "+vecSig+" v1,bad"), now, nil},
		{"last char changed", headers(vecID, ts, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), now, hirehook.ErrNoMatchingSignature},
		{"other signature", headers(vecID, ts, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="), now, hirehook.ErrNoMatchingSignature},
		{"partial", headers(vecID, ts, "v1,"), now, hirehook.ErrNoMatchingSignature},
		{"missing id", headers("", ts, vecSig), now, hirehook.ErrMissingHeaders},
		{"missing timestamp", headers(vecID, "", vecSig), now, hirehook.ErrMissingHeaders},
		{"missing signature", headers(vecID, ts, ""), now, hirehook.ErrMissingHeaders},
		{"bad timestamp", headers(vecID, "hello", vecSig), now, hirehook.ErrInvalidTimestamp},
		{"too old", headers(vecID, ts, vecSig), now.Add(5*time.Minute + time.Second), hirehook.ErrTimestampTooOld},
		{"too new", headers(vecID, ts, vecSig), now.Add(-5*time.Minute - time.Second), hirehook.ErrTimestampTooNew},
		{"changed id", headers("msg_other", ts, vecSig), now, hirehook.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := hirehook.Verify(tt.h, []byte(vecPayload), tt.now, vecSecret)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	if _, err := hirehook.NewSigner("whsec_"); !errors.Is(err, hirehook.ErrEmptySecret) {
		t.Fatalf("empty secret: err = %v", err)
	}
	s := hirehook.NewSecret()
	if len(s) != len("whsec_")+44 {
		t.Fatalf("NewSecret length = %d", len(s))
	}
	if _, err := hirehook.NewSigner(s); err != nil {
		t.Fatal(err)
	}
	if s == hirehook.NewSecret() {
		t.Fatal("two secrets are equal")
	}
}

func TestNewIDSortsAndIsValid(t *testing.T) {
	t.Parallel()
	a := hirehook.NewID("evt")
	time.Sleep(2 * time.Millisecond) // ids sort to the millisecond
	b := hirehook.NewID("evt")
	if !(a < b) {
		t.Fatalf("ids do not sort: %s !< %s", a, b)
	}
	if len(a) != 30 || !hirehook.ValidEventID(a) {
		t.Fatalf("bad id %q", a)
	}
}

func TestMatchEventType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, typ string
		want   bool
	}{
		{"*", "placement.confirmed", true},
		{"placement.*", "placement.confirmed", true},
		{"placement.*", "placements.confirmed", false},
		{"placement.confirmed", "placement.confirmed", true},
		{"offer.signed", "offer.declined", false},
		{"job.*", "job.posting_updated", true},
	}
	for _, tt := range tests {
		if got := hirehook.MatchEventType(tt.p, tt.typ); got != tt.want {
			t.Errorf("MatchEventType(%q, %q) = %v, want %v", tt.p, tt.typ, got, tt.want)
		}
	}
	for _, p := range []string{"", "placement", "placement.", ".x", "Placement.*", "a.*.b", "a b.c"} {
		if hirehook.ValidEventTypePattern(p) {
			t.Errorf("ValidEventTypePattern(%q) = true", p)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	p := hirehook.DefaultRetryPolicy()
	var total time.Duration
	for i := 1; ; i++ {
		d, ok := p.NextDelay(i)
		if !ok {
			if i != 8 {
				t.Fatalf("retries end after attempt %d, want 8", i)
			}
			break
		}
		base := hirehook.DefaultRetrySchedule[i-1]
		if d < base*8/10 || d > base*12/10 {
			t.Fatalf("delay %d = %v, outside ±20%% of %v", i, d, base)
		}
		total += base
	}
	if h := total.Hours(); h < 27.5 || h > 27.7 {
		t.Fatalf("schedule spans %.2f h, want about 27.6", h)
	}
}

// The derived ed25519 vector of shared/reference/standard-webhooks.md: seed
// 32 × 0x07, Svix layout (seed‖public key).
const (
	vecEdPayload = `{"type":"candidate.applied","timestamp":"2024-01-15T09:30:00Z","data":{"application_id":"app_123","candidate_id":"cand_456","requisition_id":"req_789"}}`
	vecEdSK      = "whsk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwfqSmxj4pxSCr71UHsTLsX5lUd2rr6+e5JCHuppFEbSLA=="
	vecEdPK      = "whpk_6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw="
	vecEdSig     = "v1a,Kj5K03YLSYglrlNxEjjuiVXym2/yVB95a0PJeI0AohEobqnoEgawkFQoXeh4SXG4oAgfuZGh+8lxNk+J6OxdBg=="
)

func TestSignEd25519DerivedVector(t *testing.T) {
	t.Parallel()
	s, err := hirehook.NewSigner(vecEdSK)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Sign("evt_0001", 1705311000, []byte(vecEdPayload)); got != vecEdSig {
		t.Fatalf("Sign = %q, want %q", got, vecEdSig)
	}
	if pk, err := hirehook.PublicKey(vecEdSK); err != nil || pk != vecEdPK {
		t.Fatalf("PublicKey = %q, %v; want %q", pk, err, vecEdPK)
	}
	// A rotation mixing schemes signs once per key, newest first.
	both, err := hirehook.NewSigner(vecEdSK, "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := both.Sign("evt_0001", 1705311000, []byte(vecEdPayload)), vecEdSig+" v1,AR96NqO75heNA6HEMJFDavgC/ypyug5eUWYcS9Oo7VQ="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}

	// Verify accepts the signature with the public key, at its time.
	h := http.Header{}
	h.Set(hirehook.HeaderWebhookID, "evt_0001")
	h.Set(hirehook.HeaderWebhookTimestamp, "1705311000")
	h.Set(hirehook.HeaderWebhookSignature, "v1,AAAA v1a,AAAA "+vecEdSig)
	now := time.Unix(1705311000, 0)
	if err := hirehook.Verify(h, []byte(vecEdPayload), now, vecEdPK); err != nil {
		t.Fatalf("Verify with the public key: %v", err)
	}
	if err := hirehook.Verify(h, []byte(vecEdPayload+" "), now, vecEdPK); !errors.Is(err, hirehook.ErrNoMatchingSignature) {
		t.Fatalf("Verify of a changed body = %v", err)
	}
	if err := hirehook.Verify(h, []byte(vecEdPayload), now, vecSecret); !errors.Is(err, hirehook.ErrNoMatchingSignature) {
		t.Fatalf("Verify of a v1a header with an HMAC secret = %v", err)
	}
	if err := hirehook.Verify(h, []byte(vecEdPayload), now, vecEdSK); !errors.Is(err, hirehook.ErrSigningKeyVerify) {
		t.Fatalf("Verify with the private key = %v, want ErrSigningKeyVerify", err)
	}
	if err := hirehook.Verify(h, []byte(vecEdPayload), now, "whpk_AAAA"); !errors.Is(err, hirehook.ErrInvalidPublicKey) {
		t.Fatalf("Verify with a short public key = %v", err)
	}
}

func TestSigningKeys(t *testing.T) {
	t.Parallel()
	a, b := hirehook.NewSigningKey(), hirehook.NewSigningKey()
	if a == b || !strings.HasPrefix(a, hirehook.SigningKeyPrefix) {
		t.Fatalf("NewSigningKey = %q, %q", a, b)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, hirehook.SigningKeyPrefix))
	if err != nil || len(raw) != 64 {
		t.Fatalf("whsk_ is not the base64 of 64 bytes: %d, %v", len(raw), err)
	}
	// Round trip: whsk_ → whpk_ is the public half of the key's layout, and
	// what the key signs verifies with it.
	pk, err := hirehook.PublicKey(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := hirehook.PublicKeyPrefix + base64.StdEncoding.EncodeToString(raw[32:]); pk != want {
		t.Fatalf("PublicKey = %q, want %q", pk, want)
	}
	if hirehook.SigningOf(a) != hirehook.SigningEd25519 || hirehook.SigningOf(hirehook.NewSecret()) != hirehook.SigningHMAC {
		t.Fatal("SigningOf")
	}
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	sig, err := hirehook.Sign(a, "evt_1", now.Unix(), []byte(`{}`))
	if err != nil || !strings.HasPrefix(sig, "v1a,") {
		t.Fatalf("Sign = %q, %v", sig, err)
	}
	h := http.Header{}
	h.Set(hirehook.HeaderWebhookID, "evt_1")
	h.Set(hirehook.HeaderWebhookTimestamp, ts)
	h.Set(hirehook.HeaderWebhookSignature, sig)
	if err := hirehook.Verify(h, []byte(`{}`), now, pk); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	rv := receiver.Verifier{Secrets: []string{pk}, NowFunc: func() time.Time { return now }}
	if err := rv.VerifyBody(h, []byte(`{}`)); err != nil {
		t.Fatalf("client/receiver verify: %v", err)
	}
	otherPK, _ := hirehook.PublicKey(b)
	if err := hirehook.Verify(h, []byte(`{}`), now, otherPK); !errors.Is(err, hirehook.ErrNoMatchingSignature) {
		t.Fatalf("Verify with another key = %v", err)
	}

	// A whsk_ whose public half does not match its seed is refused.
	bad := append([]byte(nil), raw...)
	bad[63] ^= 1
	if _, err := hirehook.NewSigner(hirehook.SigningKeyPrefix + base64.StdEncoding.EncodeToString(bad)); !errors.Is(err, hirehook.ErrInvalidSigningKey) {
		t.Fatalf("NewSigner with a mismatched key = %v", err)
	}
	if _, err := hirehook.NewSigner("whsk_AAAA"); !errors.Is(err, hirehook.ErrInvalidSigningKey) {
		t.Fatalf("NewSigner with a short key = %v", err)
	}
}

func TestRotateSecretsGrace(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := []hirehook.Secret{{Value: hirehook.NewSigningKey(), CreatedAt: now.Add(-time.Hour)}}
	got, until := hirehook.RotateSecrets(old, now, 0)
	if len(got) != 1 || !until.Equal(now) || hirehook.SigningOf(got[0].Value) != hirehook.SigningEd25519 || got[0].Value == old[0].Value {
		t.Fatalf("grace 0: %+v until %v", got, until)
	}
	got, until = hirehook.RotateSecrets(old, now, time.Hour)
	if len(got) != 2 || !until.Equal(now.Add(time.Hour)) || got[1].Value != old[0].Value || !got[1].ExpiresAt.Equal(until) {
		t.Fatalf("grace 1h: %+v until %v", got, until)
	}
	if hirehook.SigningOf(got[0].Value) != hirehook.SigningEd25519 {
		t.Fatal("an ed25519 endpoint's rotation made a whsec_ secret")
	}
	ep := hirehook.Endpoint{Secrets: got}
	if n := len(ep.ActiveSecrets(now)); n != 2 {
		t.Fatalf("%d active keys during the grace, want 2", n)
	}
	got, _ = hirehook.RotateSecrets([]hirehook.Secret{{Value: hirehook.NewSecret(), CreatedAt: now}}, now, hirehook.SecretRotationGrace)
	if hirehook.SigningOf(got[0].Value) != hirehook.SigningHMAC || len(got) != 2 {
		t.Fatalf("HMAC rotation: %+v", got)
	}
}

// A Signer reuses its HMAC states: signing again, other messages between,
// and from many goroutines at once, gives each message its own signature
// (the spec's vector), never a state left over from another.
func TestSignerReusesItsHMAC(t *testing.T) {
	t.Parallel()
	s, err := hirehook.NewSigner(vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if got := s.Sign(vecID, vecTS, []byte(vecPayload)); got != vecSig {
					t.Errorf("goroutine %d, signature %d = %q, want %q", g, i, got, vecSig)
					return
				}
				body := strings.Repeat("y", i*37)
				other := s.Sign(vecID+"x", vecTS+int64(i), []byte(body))
				if want := refSign(t, vecSecret, vecID+"x", vecTS+int64(i), body); other != want {
					t.Errorf("goroutine %d, other signature %d = %q, want %q", g, i, other, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// refSign is a v1 signature made without Signer: HMAC-SHA256 of
// id.timestamp.body under the secret's key.
func refSign(tb testing.TB, secret, id string, ts int64, body string) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, hirehook.SecretPrefix))
	if err != nil {
		tb.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// BenchmarkSign signs a 700-byte body with one secret, as every attempt of
// an endpoint with one secret does.
func BenchmarkSign(b *testing.B) {
	s, err := hirehook.NewSigner(vecSecret)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(strings.Repeat("x", 700))
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(vecID, vecTS, body)
	}
}
