package ashby

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/internal/value"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/ingest"
)

const secret = "ab-test-secret"

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func signed(body []byte, secret string) http.Header {
	h := http.Header{}
	h.Set("Ashby-Signature", Sign(body, secret))
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := fixture(t, "candidateStageChange.json")
	if err := Verify(signed(body, secret), body, secret); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	changed := []byte(strings.Replace(string(body), "Technical", "Technicam", 1))
	if err := Verify(signed(body, secret), changed, secret); !errors.Is(err, ErrBadSignature) {
		t.Errorf("one byte changed: got %v, want ErrBadSignature", err)
	}
	if err := Verify(signed(body, "other"), body, secret); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong secret: got %v, want ErrBadSignature", err)
	}
	if err := Verify(http.Header{}, body, secret); !errors.Is(err, ErrMissingSignature) {
		t.Errorf("no header: got %v, want ErrMissingSignature", err)
	}
	h := http.Header{}
	h.Set("Ashby-Signature", strings.Replace(Sign(body, secret), "sha256=", "sha256 ", 1))
	if err := Verify(h, body, secret); !errors.Is(err, ErrMalformedSignature) {
		t.Errorf("greenhouse form: got %v, want ErrMalformedSignature", err)
	}
	if err := Verify(signed(body, secret), body, ""); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secret: got %v, want ErrNoSecret", err)
	}
	if err := Verify(signed(body, secret), body); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secrets: got %v, want ErrNoSecret", err)
	}
	// A rotation: the current secret and the previous one both verify.
	if err := Verify(signed(body, "previous"), body, secret, "previous"); err != nil {
		t.Errorf("signed with the previous secret: %v", err)
	}
	if err := Verify(signed(body, "other"), body, secret, "previous"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("signed with neither: got %v, want ErrBadSignature", err)
	}
	if err := Verify(signed(body, "other"), body, secret); strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the secret", err)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		types   []string
		derived []bool
	}{
		{"applicationSubmit.json", []string{"application.created"}, []bool{false}},
		{"candidateStageChange.json", []string{"application.stage_changed"}, []bool{true}},
		{"candidateHire.json", []string{"application.hired", "offer.accepted"}, []bool{false, true}},
		{"signatureRequestUpdate.json", []string{"offer.signed"}, []bool{false}},
		{"jobPostingPublish.json", []string{"job.posted"}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := fixture(t, tt.file)
			res, err := Parse(body, push.Options{SourceID: "src_1"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Ping || res.Unsupported || len(res.Events) != len(tt.types) {
				t.Fatalf("got %+v", res)
			}
			for i, e := range res.Events {
				if e.Type != tt.types[i] || e.Derived != tt.derived[i] || e.Source != System {
					t.Errorf("event %d: type %q derived %v source %q", i, e.Type, e.Derived, e.Source)
				}
				if !strings.HasPrefix(res.DedupeKey, "6c1b2a3d-") {
					t.Errorf("dedupe key %q not the webhookActionId", res.DedupeKey)
				}
				if want := eventIDOf("src_1", res.DedupeKey, e.Type); e.ID != want {
					t.Errorf("event %d: id %q, want %q (derived from webhookActionId)", i, e.ID, want)
				}
				if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
					t.Errorf("event %d: %v", i, err)
				}
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "candidateStageChange.json"), push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := res.Events[0].Input()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		ID           string `json:"id"`
		CandidateID  string `json:"candidate_id"`
		JobID        string `json:"job_id"`
		ExternalRefs []struct {
			System string `json:"system"`
			ID     string `json:"id"`
		} `json:"external_refs"`
		Stage struct {
			Name     string `json:"name"`
			Category string `json:"category"`
			Order    int    `json:"order"`
		} `json:"stage"`
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != "ab_f1e2d3c4-aaaa-4bbb-8ccc-000000000001" || d.CandidateID != "ab_c0ffee00-bbbb-4ccc-8ddd-000000000001" || d.JobID != "ab_a1b2c3d4-dddd-4eee-8fff-000000000001" {
		t.Errorf("ids %+v", d)
	}
	if len(d.ExternalRefs) != 1 || d.ExternalRefs[0].System != "ashby" || d.ExternalRefs[0].ID != "f1e2d3c4-aaaa-4bbb-8ccc-000000000001" {
		t.Errorf("external_refs %+v", d.ExternalRefs)
	}
	if d.Stage.Name != "Technical Interview" || d.Stage.Category != "interview" || d.Stage.Order != 2 {
		t.Errorf("stage %+v", d.Stage)
	}
	ch := e.Changes["stage"]
	// Absent: the changes travel as JSON in push.Event, where a from
	// that was never set reads back as null (ingest stores it so anyway).
	if (ch.From != nil && string(ch.From) != "null") || !strings.Contains(string(ch.To), "Technical Interview") {
		t.Errorf("changes.stage = %s → %s, want from absent", ch.From, ch.To)
	}
	if e.OccurredAt != "2026-03-05T12:30:00Z" {
		t.Errorf("occurred_at %q", e.OccurredAt)
	}

	res, err = Parse(fixture(t, "signatureRequestUpdate.json"), push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Events[0].Data), `"id":"ab_0ffe0000-eeee-4fff-8aaa-000000000001"`) {
		t.Errorf("offer.signed data %s does not name the offer", res.Events[0].Data)
	}
}

func TestDedupKey(t *testing.T) {
	t.Parallel()
	a := DedupKey(nil, fixture(t, "candidateHire.json"))
	if a != "6c1b2a3d-0003-4a5b-8c9d-0e1f2a3b4c5d:candidateHire" {
		t.Errorf("DedupKey = %q", a)
	}
	if k := DedupKey(nil, []byte(`{}`)); !strings.HasPrefix(k, "sha256:") {
		t.Errorf("DedupKey without id = %q", k)
	}
}

func TestParsePing(t *testing.T) {
	t.Parallel()
	for _, body := range []string{string(fixture(t, "ping.json")), `{"data":{"webhookActionType":"ping"}}`} {
		res, err := Parse([]byte(body), push.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Ping || len(res.Events) != 0 {
			t.Errorf("%s: got %+v", body, res)
		}
	}
}

func TestParseUnsupported(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "unknown.json"), push.Options{})
	if err != nil {
		t.Fatalf("unknown action is an error: %v", err)
	}
	if !res.Unsupported || res.Reason == "" || len(res.Events) != 0 {
		t.Errorf("got %+v", res)
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `[]`, `{}`, `{"action":"applicationSubmit","data":{}}`} {
		if _, err := Parse([]byte(body), push.Options{}); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: got %v, want ErrMalformed", body, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Parse(body, push.Options{})
		if err != nil {
			return
		}
		for _, e := range res.Events {
			if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
				t.Fatalf("Parse returned an invalid %s: %v", e.Type, err)
			}
		}
	})
}

// TestPrepareAndDedup runs every mapped event through ingest's Prepare,
// which is what the inbound route will do, and checks that a retried
// delivery (the same request again) maps to the same event ids, so that
// ingest accepts it once.
func TestPrepareAndDedup(t *testing.T) {
	t.Parallel()
	in := ingest.New(nil, ingest.Config{})
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		body := fixture(t, filepath.Base(file))
		first, err := Parse(body, push.Options{SourceID: "src_1"})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		again, err := Parse(body, push.Options{SourceID: "src_1"})
		if err != nil {
			t.Fatalf("%s again: %v", file, err)
		}
		if first.DedupeKey != again.DedupeKey || len(first.Events) != len(again.Events) {
			t.Fatalf("%s: a retry parses differently", file)
		}
		for i, e := range first.Events {
			if again.Events[i].ID != e.ID {
				t.Errorf("%s: event %d id %q, retry %q", file, i, e.ID, again.Events[i].ID)
			}
			input, err := e.Input()
			if err != nil {
				t.Fatal(err)
			}
			ev, err := in.Prepare("tenant", input, "")
			if err != nil {
				t.Errorf("%s: prepare %s: %v", file, e.Type, err)
				continue
			}
			if ev.ID != e.ID || ev.Source != System {
				t.Errorf("%s: prepared id %q source %q", file, ev.ID, ev.Source)
			}
		}
	}
}

// eventIDOf is the id an Ashby event has had since before the connector
// moved onto push: the source and value.EventID("ab", key, type), hashed.
// Ids must not change, or a retry across an upgrade is taken as new.
func eventIDOf(sourceID, key, typ string) string {
	sum := sha256.Sum256([]byte(sourceID + "\x00" + value.EventID("ab", key, typ)))
	return System + ":" + hex.EncodeToString(sum[:16])
}
