package teamtailor

import (
	"encoding/base64"
	"encoding/hex"
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

const testKey = "tt-signature-key"

var testNow = time.Date(2026, 6, 1, 10, 0, 5, 0, time.UTC)

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func signed(body []byte, key string, t time.Time) http.Header {
	h := http.Header{}
	h.Set(HeaderSignature, Sign(key, t, body))
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := fixture(t, "job_application_update.json")
	changed := []byte(strings.Replace(string(body), "Interview", "Interviev", 1))
	pretty := []byte("{\n  \"payload\": {\n    \"event_name\": \"job.update\",\n    \"data\": {\"id\": \"2\", \"type\": \"jobs\", \"attributes\": {\"title\": \"IT Designer 1\"}}\n  },\n  \"signature\": \"x\"\n}\n")
	compact := `{"event_name":"job.update","data":{"id":"2","type":"jobs","attributes":{"title":"IT Designer 1"}}}`
	stringified := http.Header{}
	stringified.Set(HeaderSignature, Sign(testKey, testNow, []byte(`{"payload":`+compact+`}`)))
	wholeBody := http.Header{}
	wholeBody.Set(HeaderSignature, base64.StdEncoding.EncodeToString([]byte(
		"t="+strconv.FormatInt(testNow.Unix(), 10)+",v2="+hex.EncodeToString(push.HMACSHA256([]byte(testKey), []byte(strconv.FormatInt(testNow.Unix(), 10)+"."), body)))))
	v1 := http.Header{}
	v1.Set(HeaderSignature, base64.StdEncoding.EncodeToString([]byte("t=1,v1=abcd")))
	tests := []struct {
		name string
		h    http.Header
		body []byte
		keys []string
		want error
	}{
		{"valid", signed(body, testKey, testNow), body, []string{testKey}, nil},
		{"rotated key", signed(body, testKey, testNow), body, []string{"old", testKey}, nil},
		{"pretty body, JSON.stringify'd payload signed", stringified, pretty, []string{testKey}, nil},
		{"whole raw body signed", wholeBody, body, []string{testKey}, nil},
		{"signature field changed", signed(body, testKey, testNow), []byte(strings.Replace(string(body), "ignored", "ignoreD", 1)), []string{testKey}, nil},
		{"one changed byte", signed(body, testKey, testNow), changed, []string{testKey}, push.ErrMismatch},
		{"wrong secret", signed(body, "other", testNow), body, []string{testKey}, push.ErrMismatch},
		{"old timestamp", signed(body, testKey, testNow.Add(-6*time.Minute)), body, []string{testKey}, push.ErrTimestampTooOld},
		{"future timestamp", signed(body, testKey, testNow.Add(6*time.Minute)), body, []string{testKey}, push.ErrTimestampTooNew},
		{"missing header", http.Header{}, body, []string{testKey}, push.ErrMissingSignature},
		{"not base64", header(HeaderSignature, "%%%"), body, []string{testKey}, push.ErrMalformed},
		{"v1 only", v1, body, []string{testKey}, push.ErrMalformed},
		{"no key", signed(body, testKey, testNow), body, nil, push.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tt.h, tt.body, testNow, tt.keys...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil {
				var ve *push.VerifyError
				if !errors.As(err, &ve) || ve.System != System {
					t.Fatalf("error %v is not a teamtailor *push.VerifyError", err)
				}
				for _, k := range tt.keys {
					if k != "" && strings.Contains(err.Error(), k) {
						t.Fatalf("error %q contains the secret", err)
					}
				}
			}
		})
	}
}

func header(k, v string) http.Header {
	h := http.Header{}
	h.Set(k, v)
	return h
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, typ, subject string
		derived            bool
	}{
		{"job_application_update.json", "application.stage_changed", "tt_8123", false},
		{"job_application_rejected.json", "application.rejected", "tt_8123", true},
		{"candidate_create.json", "candidate.created", "tt_9001", false},
		{"job_destroy.json", "job.deleted", "tt_441", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := fixture(t, tt.file)
			if err := Verify(signed(body, testKey, testNow), body, testNow, testKey); err != nil {
				t.Fatal(err)
			}
			res, err := Parse(body, push.Options{SourceID: "src_1", Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 1 {
				t.Fatalf("got %d events, want 1", len(res.Events))
			}
			e := res.Events[0]
			if e.Type != tt.typ || e.Subject.ID != tt.subject || e.Source != System || e.Derived != tt.derived {
				t.Fatalf("event = %s %s %s derived=%v, want %s %s %s derived=%v", e.Type, e.Subject.ID, e.Source, e.Derived, tt.typ, tt.subject, System, tt.derived)
			}
			if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
				t.Fatalf("event fails the catalog: %v", err)
			}
			if !strings.Contains(string(e.Data), `"external_refs":[{"id":"`) || !strings.Contains(string(e.Data), `"system":"teamtailor"`) {
				t.Fatalf("data %s lacks external_refs", e.Data)
			}
			again, err := Parse(body, push.Options{SourceID: "src_1", Now: testNow.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if again.DedupeKey != res.DedupeKey || again.Events[0].ID != e.ID {
				t.Fatalf("dedupe key or event id not stable: %s/%s vs %s/%s", res.DedupeKey, e.ID, again.DedupeKey, again.Events[0].ID)
			}
		})
	}
}

func TestParse_stageChangedFields(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "job_application_update.json"), push.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"candidate_id":"tt_9001","external_refs":[{"id":"8123","system":"teamtailor"}],"id":"tt_8123","job_id":"tt_441","stage":{"name":"Interview"}}`
	if got := string(res.Events[0].Data); got != want {
		t.Fatalf("data = %s\nwant   %s", got, want)
	}
	if got, want := res.Events[0].OccurredAt, time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("occurred_at = %v, want %v", got, want)
	}
}

func TestParse_unsupported(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "unknown.json"), push.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unsupported || len(res.Events) != 0 || res.Reason == "" || res.VendorEvent != "custom_field_value.create" {
		t.Fatalf("result = %+v, want unsupported with a reason and no events", res)
	}
}

func TestParse_malformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `[]`, `{}`, `{"payload":{}}`, `{"payload":{"event_name":"job.create","data":{}}}`} {
		if _, err := Parse([]byte(body), push.Options{}); err == nil {
			t.Errorf("Parse(%q) = nil error", body)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"job_application_update.json", "job_application_rejected.json", "candidate_create.json", "job_destroy.json", "unknown.json"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Parse(body, push.Options{Now: testNow})
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
