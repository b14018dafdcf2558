package greenhouse

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

const secret = "gh-test-secret"

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
	h.Set("Signature", Sign(body, secret))
	h.Set("Greenhouse-Event-ID", "4b3e6f2a-0001")
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := fixture(t, "candidate_stage_change.json")

	if err := Verify(signed(body, secret), body, secret); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	changed := []byte(strings.Replace(string(body), "265293", "265294", 1))
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
	h.Set("Signature", strings.Replace(Sign(body, secret), "sha256 ", "sha256=", 1))
	if err := Verify(h, body, secret); !errors.Is(err, ErrMalformedSignature) {
		t.Errorf("sha256= form: got %v, want ErrMalformedSignature", err)
	}
	if err := Verify(signed(body, secret), body, ""); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secret: got %v, want ErrNoSecret", err)
	}
	if err := Verify(signed(body, secret), body); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secrets: got %v, want ErrNoSecret", err)
	}
	// A rotation: the current secret and the previous one both verify,
	// whichever the request was signed with.
	if err := Verify(signed(body, "previous"), body, secret, "previous"); err != nil {
		t.Errorf("signed with the previous secret: %v", err)
	}
	if err := Verify(signed(body, secret), body, secret, "previous"); err != nil {
		t.Errorf("signed with the current secret: %v", err)
	}
	if err := Verify(signed(body, "other"), body, secret, "previous"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("signed with neither: got %v, want ErrBadSignature", err)
	}
	// The secret never appears in an error.
	err := Verify(signed(body, "other"), body, secret)
	if strings.Contains(err.Error(), secret) {
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
		{"candidate_stage_change.json", []string{"application.stage_changed"}, []bool{true}},
		{"hire_candidate.json", []string{"application.hired", "offer.accepted"}, []bool{false, true}},
		{"new_candidate_application.json", []string{"application.created"}, []bool{false}},
		{"job_post_created.json", []string{"job.posted"}, []bool{false}},
		{"offer_updated_accepted.json", []string{"offer.accepted"}, []bool{true}},
		{"delete_candidate.json", []string{"candidate.deleted"}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body := fixture(t, tt.file)
			res, err := Parse(body, push.Options{SourceID: "src_1"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Ping || res.Unsupported {
				t.Fatalf("ping %v, unsupported %v (%s)", res.Ping, res.Unsupported, res.Reason)
			}
			if len(res.Events) != len(tt.types) {
				t.Fatalf("got %d events, want %d", len(res.Events), len(tt.types))
			}
			for i, e := range res.Events {
				if e.Type != tt.types[i] {
					t.Errorf("event %d: type %q, want %q", i, e.Type, tt.types[i])
				}
				if e.Derived != tt.derived[i] {
					t.Errorf("event %d: derived %v, want %v", i, e.Derived, tt.derived[i])
				}
				if e.Source != System {
					t.Errorf("event %d: source %q", i, e.Source)
				}
				if want := eventIDOf("src_1", push.BodyKey(body), e.Type); e.ID != want {
					t.Errorf("event %d: id %q, want %q (derived from the signed body)", i, e.ID, want)
				}
				if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
					t.Errorf("event %d: %v", i, err)
				}
			}
		})
	}
}

func TestParseStageChange(t *testing.T) {
	t.Parallel()
	body := fixture(t, "candidate_stage_change.json")
	res, err := Parse(body, push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := res.Events[0].Input()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		ID           string                        `json:"id"`
		CandidateID  string                        `json:"candidate_id"`
		JobID        string                        `json:"job_id"`
		ExternalRefs []struct{ System, ID string } `json:"external_refs"`
		Stage        struct{ ID, Name string }
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != "gh_265293" || d.CandidateID != "gh_265772" || d.JobID != "gh_107761" {
		t.Errorf("ids: %+v", d)
	}
	if len(d.ExternalRefs) != 1 || d.ExternalRefs[0].System != "greenhouse" || d.ExternalRefs[0].ID != "265293" {
		t.Errorf("external_refs: %+v", d.ExternalRefs)
	}
	if d.Stage.Name != "Phone Screen <b>" || d.Stage.ID != "gh_767358" {
		t.Errorf("stage: %+v", d.Stage)
	}
	ch, ok := e.Changes["stage"]
	if !ok {
		t.Fatal("no changes.stage")
	}
	// Absent: the changes travel as JSON in push.Event, where a from
	// that was never set reads back as null (ingest stores it so anyway).
	if ch.From != nil && string(ch.From) != "null" {
		t.Errorf("changes.stage.from = %s, want absent", ch.From)
	}
	if !strings.Contains(string(ch.To), `"Phone Screen \u003cb\u003e"`) && !strings.Contains(string(ch.To), `Phone Screen <b>`) {
		t.Errorf("changes.stage.to = %s", ch.To)
	}
}

func TestParsePing(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"ping.json", "ping_configuration.json"} {
		res, err := Parse(fixture(t, file), push.Options{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !res.Ping || len(res.Events) != 0 {
			t.Errorf("%s: %+v", file, res)
		}
	}
}

func TestParseUnsupported(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "unknown.json"), push.Options{})
	if err != nil {
		t.Fatalf("unsupported action is an error: %v", err)
	}
	if !res.Unsupported || res.Reason == "" || len(res.Events) != 0 {
		t.Errorf("got %+v, want Unsupported with a reason", res)
	}
	if !strings.HasPrefix(res.DedupeKey, "sha256:") {
		t.Errorf("dedup key %q, want a body hash", res.DedupeKey)
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `[]`, `{}`, `{"action":"candidate_stage_change","payload":{}}`} {
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

// eventIDOf is the id a Greenhouse event has had since before the
// connector moved onto push: the source and value.EventID("gh", key,
// type), hashed. Ids must not change, or a retry across an upgrade is
// taken as new.
func eventIDOf(sourceID, key, typ string) string {
	sum := sha256.Sum256([]byte(sourceID + "\x00" + value.EventID("gh", key, typ)))
	return System + ":" + hex.EncodeToString(sum[:16])
}
