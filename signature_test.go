package hirehook_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
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
