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
		{"application_status_updated.json", "application.status.updated", "application.stage_changed", "sr_c0ffee00-1111-2222-3333-444455556666:7f3e2d1c-aaaa-bbbb-cccc-111122223333"},
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
	want := `{"candidate_id":"sr_c0ffee00-1111-2222-3333-444455556666","external_refs":[{"id":"c0ffee00-1111-2222-3333-444455556666:7f3e2d1c-aaaa-bbbb-cccc-111122223333","system":"smartrecruiters"}],"id":"sr_c0ffee00-1111-2222-3333-444455556666:7f3e2d1c-aaaa-bbbb-cccc-111122223333","job_id":"sr_7f3e2d1c-aaaa-bbbb-cccc-111122223333"}`
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

// TestVerify_documentedExample checks Verify against SmartRecruiters' own
// example ("Generate a secret key for a webhook subscription"): key
// HeBVky2bccvvkcXPimH8c, an application.created with link in the RFC 8288
// form and body {"job_id":"jid","candidate_id":"cid"}.
func TestVerify_documentedExample(t *testing.T) {
	t.Parallel()
	h, body := documentedExample()
	at := time.Unix(1574080897, 0)
	if err := Verify(h, body, at, "HeBVky2bccvvkcXPimH8c"); err != nil {
		t.Fatal(err)
	}
	if got := ParseLink(h.Get(HeaderLink)); got != "http://smartrecruiters.com/endpoint" {
		t.Fatalf("ParseLink = %q", got)
	}
}

// documentedExample is SmartRecruiters' documented signed request.
func documentedExample() (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(HeaderSignature, "v1=2e9291f10d44ca10204a4cd81b05d73b6a316b2b605d4e2e0e0b37b40198ce1f")
	h.Set(HeaderTimestamp, "1574080897")
	h.Set(HeaderEventID, "123")
	h.Set(HeaderLink, "<http://smartrecruiters.com/endpoint>; rel=self")
	h.Set(HeaderEventName, "application.created")
	h.Set(HeaderEventVersion, "v201910")
	return h, []byte(`{"job_id":"jid","candidate_id":"cid"}`)
}

// TestParse_documentedBodies: the bodies SmartRecruiters documents map
// onto catalog events. application.created's documented body has no id,
// only job_id and candidate_id: the application is "<candidate>:<job>".
// Before, it failed with "body has no id" (and the hub answered 202).
func TestParse_documentedBodies(t *testing.T) {
	t.Parallel()
	h, body := documentedExample()
	res, err := Parse(h, body, push.Options{SourceID: "src_1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Link != "http://smartrecruiters.com/endpoint" || len(res.Events) != 1 {
		t.Fatalf("result %+v", res)
	}
	e := res.Events[0]
	want := `{"candidate_id":"sr_cid","external_refs":[{"id":"cid:jid","system":"smartrecruiters"}],"id":"sr_cid:jid","job_id":"sr_jid"}`
	if e.Type != "application.created" || string(e.Data) != want {
		t.Fatalf("event %s %s\nwant data %s", e.Type, e.Data, want)
	}
	// Every subscribed event name, with the body SmartRecruiters
	// documents for it ({"id": …}) or the application form.
	for name := range mapping {
		bodies := []string{`{"id":"r1"}`, `{"id":"r1","candidate_id":"c1","job_id":"j1"}`, `{"id":"r1","candidateId":"c1","jobId":"j1"}`}
		if strings.HasPrefix(name, "application.") {
			bodies = append(bodies, `{"candidate_id":"c1","job_id":"j1"}`, `{"candidateId":"c1","jobId":"j1"}`)
		}
		for _, b := range bodies {
			res, err := Parse(request(name, "e-"+name, []byte(b), testNow), []byte(b), push.Options{})
			if err != nil || len(res.Events) != 1 {
				t.Errorf("%s %s: %v %+v", name, b, err, res)
				continue
			}
			if _, _, err := catalog.Default().ValidateEvent(res.Events[0].Type, res.Events[0].Data); err != nil {
				t.Errorf("%s %s: %v", name, b, err)
			}
		}
	}
	for name := range hydrate {
		b := []byte(`{"id":"r1"}`)
		if res, err := Parse(request(name, "e-"+name, b, testNow), b, push.Options{}); err != nil || !res.NeedsHydration {
			t.Errorf("%s: %v %+v", name, err, res)
		}
	}
	// A body without the ids is an error (the hub answers it non-2xx).
	for _, b := range []string{`{}`, `{"job_id":"j1"}`, `{"name":"x"}`} {
		if _, err := Parse(request("application.created", "e9", []byte(b), testNow), []byte(b), push.Options{}); err == nil {
			t.Errorf("application.created %s parsed", b)
		}
	}
}

func TestParseLink(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                  "",
		"https://api.smartrecruiters.com/x": "https://api.smartrecruiters.com/x",
		"https://api.smartrecruiters.com/x; rel=self":                         "https://api.smartrecruiters.com/x",
		"<https://api.smartrecruiters.com/x>; rel=self":                       "https://api.smartrecruiters.com/x",
		`<https://a/x>; rel="next", <https://a/y>; rel="self"`:                "https://a/y",
		`<https://a/x>; title="a, b"; rel=next, <https://a/y>; rel="up self"`: "https://a/y",
		"<https://a/x>; rel=next":                                             "https://a/x",
		"<https://a/x":                                                        "",
	} {
		if got := ParseLink(in); got != want {
			t.Errorf("ParseLink(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseLink: any header value parses without panicking, into a part
// of itself.
func FuzzParseLink(f *testing.F) {
	for _, s := range []string{"<https://a/x>; rel=self", `<https://a/x>; title="a, b"; rel=next, <https://a/y>; rel="up self"`, "https://a/x", "<", ">;,\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got := ParseLink(v); !strings.Contains(v, got) {
			t.Fatalf("ParseLink(%q) = %q, not part of it", v, got)
		}
	})
}
