package inbound

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
	"github.com/hirehook/hirehook/connector/generic"
)

// TestDataRules sends a push source (generic, body HMAC) data that breaks
// the limits and rules of an event's data (catalog.MaxData*): the request
// fails, naming the field, and nothing is ingested. What the source's JSON
// reading already replaces is ingested as replaced: invalid UTF-8 and lone
// surrogates become U+FFFD, and of duplicate keys the last is kept.
func TestDataRules(t *testing.T) {
	t.Parallel()
	const secret = "shh-generic-secret"
	cfg := generic.HMACConfig{Header: "X-Signature", Prefix: "sha256=", Encoding: "base64"}
	body := func(data string) []byte {
		return []byte(`{"type":"candidate.created","timestamp":"2026-06-01T09:30:00Z","data":` + data + `}`)
	}
	for _, tt := range []struct {
		name, data, field string
	}{
		{"TooDeep", `{"id":"cand_1","x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`, "data.x" + strings.Repeat("[0]", catalog.MaxDataDepth-1)},
		{"NumberBeyondFloat64", `{"id":"cand_1","x":1e400}`, "data.x"},
		{"NUL", `{"id":"cand_1","first_name":"a\u0000"}`, "data.first_name"},
		{"IDControl", `{"id":"cand\u00011"}`, "data.id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			src := r.source(t, KindGeneric, map[string]any{"signing_secret": secret, "scheme": "hmac", "header": "X-Signature", "prefix": "sha256=", "encoding": "base64"})
			b := body(tt.data)
			code, ans := r.post(t, src.ID, http.Header{"X-Signature": {cfg.Sign(secret, b)}}, b)
			t.Logf("answer %d %v", code, ans)
			reqs := r.requests(t, src.ID)
			if len(reqs) != 1 || reqs[0].Status != hirehook.InboundFailed || !strings.Contains(reqs[0].Error, tt.field) {
				for _, q := range reqs {
					t.Logf("request %s: %s %q", q.ID, q.Status, q.Error)
				}
				t.Fatalf("want one failed request whose error names %s", tt.field)
			}
			if n := r.eventCount(t); n != 0 {
				t.Errorf("%d events ingested, want 0", n)
			}
		})
	}

	t.Run("Replaced", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		src := r.source(t, KindGeneric, map[string]any{"signing_secret": secret, "scheme": "hmac", "header": "X-Signature", "prefix": "sha256=", "encoding": "base64"})
		b := body("{\"id\":\"cand_1\",\"first_name\":\"A\xffB\",\"last_name\":\"\\ud800\",\"email\":\"a@example.com\",\"email\":\"b@example.com\"}")
		code, ans := r.post(t, src.ID, http.Header{"X-Signature": {cfg.Sign(secret, b)}}, b)
		if code >= 300 {
			t.Fatalf("answer %d %v", code, ans)
		}
		evs, err := r.st.EventList(context.Background(), hirehook.EventFilter{TenantID: hirehook.DefaultTenantID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		var d struct {
			FirstName string `json:"first_name"`
			LastName  string `json:"last_name"`
			Email     string `json:"email"`
		}
		if !utf8.Valid(evs[0].Data) {
			t.Fatalf("data is not valid UTF-8: %q", evs[0].Data)
		}
		if err := json.Unmarshal(evs[0].Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.FirstName != "A\uFFFDB" || d.LastName != "\uFFFD" || d.Email != "b@example.com" {
			t.Errorf("data = %+v, want U+FFFD for the invalid bytes and the lone surrogate, and the last email", d)
		}
		if strings.Contains(string(evs[0].Data), `\ud800`) {
			t.Errorf("data holds the lone surrogate: %s", evs[0].Data)
		}
	})
}
