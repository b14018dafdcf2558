package receiver_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/client/receiver"
)

// The Standard Webhooks test vector, published in the Go, JS and Python
// reference libraries (shared/reference/standard-webhooks.md).
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specPayload   = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// The derived vectors of the same reference: payload P signed at
// 1705311000 as evt_0001 with two HMAC secrets and one ed25519 key.
const (
	derivedPayload    = `{"type":"candidate.applied","timestamp":"2024-01-15T09:30:00Z","data":{"application_id":"app_123","candidate_id":"cand_456","requisition_id":"req_789"}}`
	derivedID         = "evt_0001"
	derivedTimestamp  = 1705311000
	derivedSig1       = "v1,//2aYk3NNjIGBGxiuKEvU+DFv+/pEbPEk/Gl9CWS/dU=" // with specSecret
	derivedSecret2    = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	derivedSig2       = "v1,AR96NqO75heNA6HEMJFDavgC/ypyug5eUWYcS9Oo7VQ="
	derivedPublicKey  = "whpk_6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw="
	derivedSigningKey = "whsk_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwfqSmxj4pxSCr71UHsTLsX5lUd2rr6+e5JCHuppFEbSLA=="
	derivedSigV1a     = "v1a,Kj5K03YLSYglrlNxEjjuiVXym2/yVB95a0PJeI0AohEobqnoEgawkFQoXeh4SXG4oAgfuZGh+8lxNk+J6OxdBg=="
)

func webhookRequest(t *testing.T, id string, ts int64, sig, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
	if id != "" {
		r.Header.Set("webhook-id", id)
	}
	if ts != 0 {
		r.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	}
	if sig != "" {
		r.Header.Set("webhook-signature", sig)
	}
	return r
}

// at returns a verifier whose clock reads unix seconds ts.
func at(ts int64, secrets ...string) *receiver.Verifier {
	return &receiver.Verifier{Secrets: secrets, NowFunc: func() time.Time { return time.Unix(ts, 0) }}
}

func TestVerifySpecVector(t *testing.T) {
	t.Parallel()
	r := webhookRequest(t, specID, specTimestamp, specSignature, specPayload)
	body, err := at(specTimestamp, specSecret).Verify(r)
	if err != nil {
		t.Fatalf("the spec vector does not verify: %v", err)
	}
	if string(body) != specPayload {
		t.Errorf("body = %q", body)
	}
	// The body is put back for the next reader.
	again, _ := io.ReadAll(r.Body)
	if string(again) != specPayload {
		t.Errorf("body read again = %q, want the payload", again)
	}
	// hirehook's own signer makes the same signature.
	if got, _ := hirehook.Sign(specSecret, specID, specTimestamp, []byte(specPayload)); got != specSignature {
		t.Errorf("hirehook.Sign = %q, want %q", got, specSignature)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		id      string
		ts      string
		sig     string
		now     int64
		secrets []string
		want    error
	}{
		{name: "LastCharacterChanged", sig: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", want: hirehook.ErrNoMatchingSignature},
		{name: "OtherSignature", sig: "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", want: hirehook.ErrNoMatchingSignature},
		{name: "PartialSignature", sig: "v1,", want: hirehook.ErrNoMatchingSignature},
		{name: "OtherVersionOnly", sig: "v2," + strings.TrimPrefix(specSignature, "v1,"), want: hirehook.ErrNoMatchingSignature},
		{name: "NoVersion", sig: strings.TrimPrefix(specSignature, "v1,"), want: hirehook.ErrNoMatchingSignature},
		{name: "MissingID", id: "-", want: hirehook.ErrMissingHeaders},
		{name: "MissingTimestamp", ts: "-", want: hirehook.ErrMissingHeaders},
		{name: "MissingSignature", sig: "-", want: hirehook.ErrMissingHeaders},
		{name: "TimestampNotANumber", ts: "hello", want: hirehook.ErrInvalidTimestamp},
		{name: "TooOld", now: specTimestamp + 5*60 + 1, want: hirehook.ErrTimestampTooOld},
		{name: "TooNew", now: specTimestamp - 5*60 - 1, want: hirehook.ErrTimestampTooNew},
		{name: "Year2000", now: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), want: hirehook.ErrTimestampTooNew},
		{name: "WrongSecret", secrets: []string{derivedSecret2}, want: hirehook.ErrNoMatchingSignature},
		{name: "EmptySecret", secrets: []string{"whsec_"}, want: hirehook.ErrEmptySecret},
		{name: "NoSecrets", secrets: []string{}, want: hirehook.ErrEmptySecret},
		{name: "SigningKeyGiven", secrets: []string{derivedSigningKey}, want: receiver.ErrSigningKey},
		{name: "BadPublicKey", secrets: []string{"whpk_AAAA"}, want: receiver.ErrInvalidPublicKey},
		{name: "PublicKeyForHMAC", secrets: []string{derivedPublicKey}, want: hirehook.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, ts, sig := specID, strconv.Itoa(specTimestamp), specSignature
			if tt.id != "" {
				id = strings.TrimPrefix(tt.id, "-")
			}
			if tt.ts != "" {
				ts = strings.TrimPrefix(tt.ts, "-")
			}
			if tt.sig != "" {
				sig = strings.TrimPrefix(tt.sig, "-")
			}
			now := int64(specTimestamp)
			if tt.now != 0 {
				now = tt.now
			}
			secrets := []string{specSecret}
			if tt.secrets != nil {
				secrets = tt.secrets
			}
			r := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(specPayload))
			for k, v := range map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			_, err := at(now, secrets...).Verify(r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	t.Parallel()
	// Exactly 5 minutes either way still verifies.
	for _, now := range []int64{specTimestamp - 5*60, specTimestamp + 5*60} {
		r := webhookRequest(t, specID, specTimestamp, specSignature, specPayload)
		if _, err := at(now, specSecret).Verify(r); err != nil {
			t.Errorf("now = ts%+ds: %v", now-specTimestamp, err)
		}
	}
}

func TestVerifySeveralSignatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sig     string
		secrets []string
	}{
		// The reference suites' accepted case: bad ones around a good one.
		{"GoodAmongBad", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + derivedSig1 + " v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", []string{specSecret}},
		// A rotation: the hub signs with both secrets; the receiver knows either.
		{"RotationOldSecret", derivedSig1 + " " + derivedSig2, []string{specSecret}},
		{"RotationNewSecret", derivedSig1 + " " + derivedSig2, []string{derivedSecret2}},
		{"ReceiverHasBoth", derivedSig2, []string{specSecret, derivedSecret2}},
		// v1a with the public key, alone and beside v1.
		{"V1a", derivedSigV1a, []string{derivedPublicKey}},
		{"V1aBesideV1", derivedSig1 + " " + derivedSigV1a, []string{derivedPublicKey}},
		{"V1aOrHMAC", derivedSigV1a, []string{specSecret, derivedPublicKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := webhookRequest(t, derivedID, derivedTimestamp, tt.sig, derivedPayload)
			if _, err := at(derivedTimestamp, tt.secrets...).Verify(r); err != nil {
				t.Fatalf("does not verify: %v", err)
			}
		})
	}

	t.Run("DerivedVectorsMatchHirehookSign", func(t *testing.T) {
		t.Parallel()
		s, err := hirehook.NewSigner(specSecret, derivedSecret2)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Sign(derivedID, derivedTimestamp, []byte(derivedPayload)), derivedSig1+" "+derivedSig2; got != want {
			t.Errorf("Sign = %q, want %q", got, want)
		}
	})

	t.Run("V1aKeyPair", func(t *testing.T) {
		// The whsk_ key (seed ‖ public key) holds the whpk_ key, and a
		// signature made with it verifies.
		t.Parallel()
		sk, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(derivedSigningKey, "whsk_"))
		if err != nil || len(sk) != ed25519.PrivateKeySize {
			t.Fatalf("whsk_ key: %v, %d bytes", err, len(sk))
		}
		priv := ed25519.NewKeyFromSeed(sk[:32])
		if !bytes.Equal(priv, sk) {
			t.Fatal("whsk_ is not seed ‖ public key")
		}
		pub := "whpk_" + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
		if pub != derivedPublicKey {
			t.Fatalf("public key = %s, want %s", pub, derivedPublicKey)
		}
		sig := ed25519.Sign(priv, []byte(derivedID+"."+strconv.Itoa(derivedTimestamp)+"."+derivedPayload))
		if got := "v1a," + base64.StdEncoding.EncodeToString(sig); got != derivedSigV1a {
			t.Errorf("signature = %s, want the vector", got)
		}
		// A changed body does not verify.
		r := webhookRequest(t, derivedID, derivedTimestamp, derivedSigV1a, derivedPayload+" ")
		if _, err := at(derivedTimestamp, derivedPublicKey).Verify(r); !errors.Is(err, hirehook.ErrNoMatchingSignature) {
			t.Errorf("changed body: %v", err)
		}
	})
}

func TestVerifyBodyLimit(t *testing.T) {
	t.Parallel()
	v := at(specTimestamp, specSecret)
	v.MaxBodyBytes = 10
	r := webhookRequest(t, specID, specTimestamp, specSignature, specPayload)
	if _, err := v.Verify(r); !errors.Is(err, receiver.ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
	// The package-level Verify uses the real clock: the 2021 vector is old.
	r = webhookRequest(t, specID, specTimestamp, specSignature, specPayload)
	if _, err := receiver.Verify(r, specSecret); !errors.Is(err, hirehook.ErrTimestampTooOld) {
		t.Fatalf("err = %v, want ErrTimestampTooOld", err)
	}
}
