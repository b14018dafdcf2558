package lever

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
	"time"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/internal/value"
	"github.com/hirehook/hirehook/connector/push"
	"github.com/hirehook/hirehook/ingest"
)

// The fixtures are signed with this token at triggeredAt 1774950000000.
const secret = "lv-test-secret"

var fixtureTime = time.UnixMilli(1774950000000)

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := fixture(t, "candidateStageChange.json")
	now := fixtureTime.Add(30 * time.Second)

	if err := Verify(nil, body, now, secret); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	// Lever signs token + triggeredAt only: a changed byte in either is
	// refused. (A changed byte in data is not detectable: Lever does not
	// sign it.)
	changed := []byte(strings.Replace(string(body), "1774950000000", "1774950000001", 1))
	if err := Verify(nil, changed, now, secret); !errors.Is(err, ErrBadSignature) {
		t.Errorf("triggeredAt changed: got %v, want ErrBadSignature", err)
	}
	changed = []byte(strings.Replace(string(body), `"token": "tok01`, `"token": "tok02`, 1))
	if string(changed) == string(body) {
		t.Fatal("token not found in fixture")
	}
	if err := Verify(nil, changed, now, secret); !errors.Is(err, ErrBadSignature) {
		t.Errorf("token changed: got %v, want ErrBadSignature", err)
	}
	if err := Verify(nil, body, now, "other"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong secret: got %v, want ErrBadSignature", err)
	}
	if err := Verify(nil, body, fixtureTime.Add(6*time.Minute), secret); !errors.Is(err, ErrTooOld) {
		t.Errorf("old request: got %v, want ErrTooOld", err)
	}
	if err := Verify(nil, body, fixtureTime.Add(-6*time.Minute), secret); !errors.Is(err, ErrTooOld) {
		t.Errorf("request from the future: got %v, want ErrTooOld", err)
	}
	if err := Verify(nil, []byte(`{"event":"candidateHired","data":{}}`), now, secret); !errors.Is(err, ErrMissingSignature) {
		t.Errorf("unsigned: got %v, want ErrMissingSignature", err)
	}
	if err := Verify(nil, body, now, ""); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secret: got %v, want ErrNoSecret", err)
	}
	if err := Verify(nil, body, now); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secrets: got %v, want ErrNoSecret", err)
	}
	// A rotation: the fixture is signed with secret, which verifies as
	// the previous secret too; the time is still checked.
	if err := Verify(nil, body, now, "current", secret); err != nil {
		t.Errorf("signed with the previous secret: %v", err)
	}
	if err := Verify(nil, body, now, "current", "previous"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("signed with neither: got %v, want ErrBadSignature", err)
	}
	if err := Verify(nil, body, fixtureTime.Add(6*time.Minute), "current", secret); !errors.Is(err, ErrTooOld) {
		t.Errorf("old request signed with the previous secret: got %v, want ErrTooOld", err)
	}
	if err := Verify(http.Header{}, body, now, "other"); strings.Contains(err.Error(), "other") {
		t.Errorf("error %q contains the secret", err)
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	var env struct {
		Token, Signature string
		TriggeredAt      int64
	}
	if err := json.Unmarshal(fixture(t, "candidateHired.json"), &env); err != nil {
		t.Fatal(err)
	}
	if got := Sign(env.Token, env.TriggeredAt, secret); got != env.Signature {
		t.Errorf("Sign = %s, want %s", got, env.Signature)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, typ string
	}{
		{"candidateStageChange.json", "application.stage_changed"},
		{"candidateHired.json", "application.hired"},
		{"applicationCreated.json", "application.created"},
		{"candidateArchiveChange.json", "application.rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			res, err := Parse(fixture(t, tt.file), push.Options{SourceID: "src_1"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 1 || res.Unsupported || !res.Thin {
				t.Fatalf("got %+v", res)
			}
			e := res.Events[0]
			if e.Type != tt.typ || e.Source != System || e.Derived {
				t.Errorf("type %q source %q derived %v", e.Type, e.Source, e.Derived)
			}
			if !strings.HasPrefix(res.DedupeKey, "token:tok0") {
				t.Errorf("dedupe key %q is not the signed token", res.DedupeKey)
			}
			if want := eventIDOf("src_1", res.DedupeKey, e.Type); e.ID != want {
				t.Errorf("id %q, want %q (derived from the signed token)", e.ID, want)
			}
			if got := e.OccurredAt.Format(time.RFC3339Nano); got != "2026-03-31T09:40:00Z" {
				t.Errorf("occurred_at %q", got)
			}
			if _, _, err := catalog.Default().ValidateEvent(e.Type, e.Data); err != nil {
				t.Error(err)
			}
			var d struct {
				ID           string `json:"id"`
				CandidateID  string `json:"candidate_id"`
				ExternalRefs []struct {
					System string `json:"system"`
					ID     string `json:"id"`
				} `json:"external_refs"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.ID != "lv_250d8f03-738a-4bba-a671-8a3d73477145" || d.CandidateID != "lv_7f8a1c2e-1111-4bba-a671-8a3d73477145" {
				t.Errorf("ids %+v", d)
			}
			if len(d.ExternalRefs) != 1 || d.ExternalRefs[0].System != "lever" || d.ExternalRefs[0].ID != "250d8f03-738a-4bba-a671-8a3d73477145" {
				t.Errorf("external_refs %+v", d.ExternalRefs)
			}
		})
	}
}

func TestParseStageChange(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "candidateStageChange.json"), push.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := stageChange(t, res.Events[0])
	if string(ch.From) != `{"id":"lv_lead-new"}` || string(ch.To) != `{"id":"lv_00922a60-7c15-4d29-9f64-1a2b3c4d5e6f"}` {
		t.Errorf("changes.stage = %s → %s", ch.From, ch.To)
	}
}

func TestParseUnsupported(t *testing.T) {
	t.Parallel()
	res, err := Parse(fixture(t, "unknown.json"), push.Options{})
	if err != nil {
		t.Fatalf("unknown event is an error: %v", err)
	}
	if !res.Unsupported || res.Reason == "" || len(res.Events) != 0 {
		t.Errorf("got %+v", res)
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `[]`, `{}`, `{"event":"candidateHired","data":{}}`} {
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
		_ = Verify(nil, body, fixtureTime, secret)
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

// eventIDOf is the id a Lever event has had since before the connector
// moved onto push: the source and value.EventID("lv", key, type), hashed.
// Ids must not change, or a retry across an upgrade is taken as new.
func eventIDOf(sourceID, key, typ string) string {
	sum := sha256.Sum256([]byte(sourceID + "\x00" + value.EventID("lv", key, typ)))
	return System + ":" + hex.EncodeToString(sum[:16])
}

// stageChange is the event's changes.stage.
func stageChange(t *testing.T, e push.Event) hirehook.Change {
	t.Helper()
	var ch map[string]hirehook.Change
	if err := json.Unmarshal(e.Changes, &ch); err != nil {
		t.Fatalf("changes %s: %v", e.Changes, err)
	}
	return ch["stage"]
}
