package smartrecruiters

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/push"
)

const testKey = "sr-secret-key-1"

var testNow = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// request returns the headers SmartRecruiters sends for body, signed with
// keys at t.
func request(name, eventID string, body []byte, t time.Time, keys ...string) http.Header {
	h := http.Header{}
	h.Set(HeaderEventName, name)
	h.Set(HeaderEventVersion, "1")
	h.Set(HeaderEventID, eventID)
	h.Set(HeaderLink, "https://api.smartrecruiters.com/resource/1")
	h.Set(HeaderTimestamp, strconv.FormatInt(t.Unix(), 10))
	h.Set(HeaderSignature, Sign(h, body, keys...))
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := fixture(t, "application_status_updated.json")
	changed := append([]byte(nil), body...)
	changed[7] ^= 1
	good := request("application.status.updated", "evt-1", body, testNow, testKey)
	twoKeys := request("application.status.updated", "evt-1", body, testNow, "old-key", testKey)
	withFuture := good.Clone()
	withFuture.Set(HeaderSignature, "v2=abcdef;"+good.Get(HeaderSignature))
	otherName := good.Clone()
	otherName.Set(HeaderEventName, "application.created")
	noTS := good.Clone()
	noTS.Del(HeaderTimestamp)
	tests := []struct {
		name string
		h    http.Header
		body []byte
		keys []string
		want error
	}{
		{"valid", good, body, []string{testKey}, nil},
		{"several signatures", twoKeys, body, []string{testKey}, nil},
		{"several keys", good, body, []string{"new-key", testKey}, nil},
		{"unknown scheme skipped", withFuture, body, []string{testKey}, nil},
		{"one changed byte", good, changed, []string{testKey}, push.ErrMismatch},
		{"signed header changed", otherName, body, []string{testKey}, push.ErrMismatch},
		{"wrong secret", good, body, []string{"other"}, push.ErrMismatch},
		{"old timestamp", request("application.status.updated", "evt-1", body, testNow.Add(-6*time.Minute), testKey), body, []string{testKey}, push.ErrTimestampTooOld},
		{"missing timestamp", noTS, body, []string{testKey}, push.ErrInvalidTimestamp},
		{"missing signature", http.Header{}, body, []string{testKey}, push.ErrMissingSignature},
		{"no v1 entry", header(HeaderSignature, "v2=00"), body, []string{testKey}, push.ErrMalformed},
		{"no key", good, body, nil, push.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tt.h, tt.body, testNow, tt.keys...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			var ve *push.VerifyError
			if err != nil && (!errors.As(err, &ve) || strings.Contains(err.Error(), testKey)) {
				t.Fatalf("error %q: want a *push.VerifyError without the secret", err)
			}
		})
	}
}

func header(k, v string) http.Header {
	h := http.Header{}
	h.Set(k, v)
	return h
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	hs, ok := Handshake(header("x-hook-secret", "s3cr3t-handshake"))
	if !ok || hs.Status != http.StatusOK || hs.Header.Get("X-Hook-Secret") != "s3cr3t-handshake" {
		t.Fatalf("Handshake = %+v, %v; want 200 echoing X-Hook-Secret", hs, ok)
	}
	if _, ok := Handshake(request("candidate.created", "e", []byte("{}"), testNow, testKey)); ok {
		t.Fatal("an event was taken for a handshake")
	}
	if ReplyStatus != http.StatusAccepted {
		t.Fatalf("ReplyStatus = %d, want 202", ReplyStatus)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, name, typ, subject string
	}{
		{"application_status_updated.json", "application.status.updated", "application.stage_changed", "sr_3a9e1b2c-0d4f-4b8e-9f61-2c7d5a1e8f00"},
		{"candidate_created.json", "candidate.created", "candidate.created", "sr_c0ffee00-1111-2222-3333-444455556666"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := fixture(t, tt.file)
			h := request(tt.name, "evt-42", body, testNow, testKey)
			if err := Verify(h, body, testNow, testKey); err != nil {
				t.Fatal(err)
			}
			res, err := Parse(h, body, push.Options{SourceID: "src_1", Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Thin || res.DedupeKey != "event-id:evt-42" || res.Link == "" || len(res.Events) != 1 {
				t.Fatalf("result = %+v", res)
			}
			e := res.Events[0]
			if e.Type != tt.typ || e.Subject.ID != tt.subject || e.Source != System || !e.OccurredAt.Equal(testNow) {
				t.Fatalf("event = %s %s %s %v", e.Type, e.Subject.ID, e.Source, e.OccurredAt)
			}
			if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
				t.Fatalf("event fails the catalog: %v", err)
			}
			if !strings.Contains(string(e.Data), `"system":"smartrecruiters"`) {
				t.Fatalf("data %s lacks external_refs", e.Data)
			}
			again, err := Parse(h, body, push.Options{SourceID: "src_1"})
			if err != nil {
				t.Fatal(err)
			}
			if again.Events[0].ID != e.ID {
				t.Fatalf("event id not stable: %s vs %s", e.ID, again.Events[0].ID)
			}
		})
	}
}

func TestParse_thinFields(t *testing.T) {
	t.Parallel()
	body := fixture(t, "application_status_updated.json")
	res, err := Parse(request("application.status.updated", "e1", body, testNow), body, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"candidate_id":"sr_c0ffee00-1111-2222-3333-444455556666","external_refs":[{"id":"3a9e1b2c-0d4f-4b8e-9f61-2c7d5a1e8f00","system":"smartrecruiters"}],"id":"sr_3a9e1b2c-0d4f-4b8e-9f61-2c7d5a1e8f00","job_id":"sr_7f3e2d1c-aaaa-bbbb-cccc-111122223333"}`
	if got := string(res.Events[0].Data); got != want {
		t.Fatalf("data = %s\nwant   %s", got, want)
	}
}

func TestParse_dedupeWithoutEventID(t *testing.T) {
	t.Parallel()
	body := fixture(t, "candidate_created.json")
	h := request("candidate.created", "", body, testNow)
	a, err := Parse(h, body, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(h, body, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.DedupeKey, "sha256:") || a.DedupeKey != b.DedupeKey {
		t.Fatalf("dedupe keys %q, %q", a.DedupeKey, b.DedupeKey)
	}
}

func TestParse_needsHydration(t *testing.T) {
	t.Parallel()
	body := fixture(t, "job_status_updated.json")
	res, err := Parse(request("job.status.updated", "e2", body, testNow), body, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NeedsHydration || res.Unsupported || len(res.Events) != 0 || res.Link == "" {
		t.Fatalf("result = %+v, want needs hydration and no events", res)
	}
}

func TestParse_unsupported(t *testing.T) {
	t.Parallel()
	body := fixture(t, "review_created.json")
	res, err := Parse(request("review.created", "e3", body, testNow), body, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unsupported || len(res.Events) != 0 || res.Reason == "" {
		t.Fatalf("result = %+v, want unsupported", res)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range [][2]string{
		{"application_status_updated.json", "application.status.updated"},
		{"candidate_created.json", "candidate.created"},
		{"job_status_updated.json", "job.status.updated"},
		{"review_created.json", "review.created"},
		{"job_status_updated.json", "job.created"},
	} {
		f.Add(fixture(f, s[0]), s[1], "evt-1", "1780000000")
	}
	f.Fuzz(func(t *testing.T, body []byte, name, id, ts string) {
		h := http.Header{}
		h.Set(HeaderEventName, name)
		h.Set(HeaderEventID, id)
		h.Set(HeaderTimestamp, ts)
		res, err := Parse(h, body, push.Options{Now: testNow})
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
