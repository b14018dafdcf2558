package workable

import (
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/push"
)

const testSecret = "workable-api-token"

var testNow = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func header(k, v string) http.Header {
	h := http.Header{}
	h.Set(k, v)
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := fixture(t, "candidate_moved.json")
	changed := append([]byte(nil), body...)
	changed[10] ^= 1
	good := header(HeaderSignature, Sign(testSecret, body))
	tests := []struct {
		name    string
		h       http.Header
		body    []byte
		secrets []string
		want    error
	}{
		{"valid", good, body, []string{testSecret}, nil},
		{"upper-case hex", header(HeaderSignature, strings.ToUpper(Sign(testSecret, body))), body, []string{testSecret}, nil},
		// Workable's docs do not say hex or base64: both verify.
		{"base64", header(HeaderSignature, base64.StdEncoding.EncodeToString(push.HMACSHA256([]byte(testSecret), body))), body, []string{testSecret}, nil},
		{"base64 unpadded", header(HeaderSignature, base64.RawStdEncoding.EncodeToString(push.HMACSHA256([]byte(testSecret), body))), body, []string{testSecret}, nil},
		{"base64url", header(HeaderSignature, base64.RawURLEncoding.EncodeToString(push.HMACSHA256([]byte(testSecret), body))), body, []string{testSecret}, nil},
		{"base64 of another body", header(HeaderSignature, base64.StdEncoding.EncodeToString(push.HMACSHA256([]byte(testSecret), changed))), body, []string{testSecret}, push.ErrMismatch},
		{"short hex", header(HeaderSignature, Sign(testSecret, body)[:62]), body, []string{testSecret}, push.ErrMalformed},
		{"second secret", good, body, []string{"oauth-app-secret", testSecret}, nil},
		{"one changed byte", good, changed, []string{testSecret}, push.ErrMismatch},
		{"wrong secret", good, body, []string{"other"}, push.ErrMismatch},
		{"missing header", http.Header{}, body, []string{testSecret}, push.ErrMissingSignature},
		{"not hex", header(HeaderSignature, "zz"), body, []string{testSecret}, push.ErrMalformed},
		{"no secret", good, body, nil, push.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tt.h, tt.body, tt.secrets...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			var ve *push.VerifyError
			if err != nil && (!errors.As(err, &ve) || strings.Contains(err.Error(), testSecret)) {
				t.Fatalf("error %q: want a *push.VerifyError without the secret", err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		types   []string
		derived bool
	}{
		{"candidate_created.json", []string{"candidate.created", "application.created"}, false},
		{"candidate_moved.json", []string{"application.stage_changed"}, false},
		{"candidate_hired.json", []string{"application.hired"}, true},
		{"candidate_disqualified.json", []string{"application.rejected"}, true},
		{"candidate_deleted.json", []string{"candidate.deleted"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := fixture(t, tt.file)
			if err := Verify(header(HeaderSignature, Sign(testSecret, body)), body, testSecret); err != nil {
				t.Fatal(err)
			}
			res, err := Parse(body, push.Options{SourceID: "src_1", Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range res.Events {
				got = append(got, e.Type)
				if e.Subject.ID != "wk_3fc9a80f" || e.Source != System || e.Derived != tt.derived {
					t.Errorf("%s: subject %s source %s derived %v", e.Type, e.Subject.ID, e.Source, e.Derived)
				}
				if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
					t.Errorf("%s fails the catalog: %v", e.Type, err)
				}
				if !strings.Contains(string(e.Data), `{"id":"3fc9a80f","system":"workable"}`) {
					t.Errorf("%s data %s lacks external_refs", e.Type, e.Data)
				}
			}
			if diff := cmp.Diff(tt.types, got); diff != "" {
				t.Fatalf("types (-want +got):\n%s", diff)
			}
			again, err := Parse(body, push.Options{SourceID: "src_1"})
			if err != nil {
				t.Fatal(err)
			}
			if again.DedupeKey != res.DedupeKey || again.Events[0].ID != res.Events[0].ID || !strings.HasPrefix(res.DedupeKey, "sha256:") {
				t.Fatalf("dedupe not stable: %s %s", res.DedupeKey, again.DedupeKey)
			}
		})
	}
}

func TestParse_fields(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "candidate_disqualified.json"), push.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"candidate_id":"wk_3fc9a80f","external_refs":[{"id":"3fc9a80f","system":"workable"}],"id":"wk_3fc9a80f","job":{"id":"wk_GROOV003"},"job_id":"wk_GROOV003","rejection_reason":"Position filled","stage":{"name":"Interview"},"status":"rejected"}`
	if got := string(res.Events[0].Data); got != want {
		t.Fatalf("data = %s\nwant   %s", got, want)
	}
	if got, want := res.Events[0].OccurredAt, time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("occurred_at = %v, want %v", got, want)
	}
}

func TestParse_unsupported(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "employee_created.json"), push.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unsupported || len(res.Events) != 0 || res.Reason == "" {
		t.Fatalf("result = %+v, want unsupported", res)
	}
}

func TestParse_malformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `null`, `[]`, `{}`, `{"event_type":"candidate_moved","data":{}}`} {
		if _, err := Parse([]byte(body), push.Options{}); err == nil {
			t.Errorf("Parse(%q) = nil error", body)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"candidate_created.json", "candidate_moved.json", "candidate_hired.json", "candidate_disqualified.json", "candidate_deleted.json", "employee_created.json"} {
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

func TestParse_badEmailDropped(t *testing.T) {
	t.Parallel()
	body := []byte(`{"event_type":"candidate_created","data":{"id":"9","firstname":"Bo","email":"bo at example"}}`)
	res, err := Parse(body, push.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(res.Events[0].Data), "email") || !strings.Contains(string(res.Events[0].Data), `"first_name":"Bo"`) {
		t.Fatalf("data = %s, want the bad email dropped and the rest kept", res.Events[0].Data)
	}
}
