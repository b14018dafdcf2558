package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/catalog"
)

// FuzzPrepare decodes a request body as the API does and prepares it:
// whatever Prepare accepts must render as JSON that encoding/json decodes
// (numbers into float64, as a receiver's JavaScript would) and that a
// strict reading, independent of the code under test, finds
// unambiguous: valid UTF-8, no lone surrogate, no duplicate key, every
// number finite as a float64. The seeds are the inputs issue 16 found
// accepted; they run with the normal tests.
func FuzzPrepare(f *testing.F) {
	for _, seed := range []string{
		`{"type":"candidate.created","data":{"id":"cand_1","first_name":"Amara","last_name":"Okafor"}}`,
		`{"id":"evt_1","type":"application.stage_changed","source":"ats","occurred_at":"2026-11-27T09:30:00Z","subject":{"id":"app_1"},"data":{"id":"app_1","candidate_id":"c","job_id":"j","stage":"offer"},"changes":{"stage":{"from":"interview","to":"offer"}}}`,
		"{\"type\":\"candidate.created\",\"data\":{\"id\":\"cand_1\",\"first_name\":\"A\xffB\"}}",
		`{"type":"candidate.created","data":{"id":"cand_1","first_name":"\ud800"}}`,
		`{"type":"candidate.created","data":{"id":"cand_1","first_name":"\udc00\ud800"}}`,
		`{"type":"candidate.created","data":{"id":"cand\u00001"}}`,
		`{"type":"candidate.created","subject":{"id":"s\u0000"},"data":{"id":"cand_1"}}`,
		`{"type":"candidate.created","data":{"id":"cand_1","x":1e400}}`,
		`{"type":"candidate.created","data":{"id":"cand_1","x":-1E309}}`,
		`{"type":"candidate.created","data":{"id":"cand_1","first_name":"A","first_name":"B"}}`,
		`{"type":"candidate.created","data":{"id":"cand_1","\u0069d":"cand_2"}}`,
		`{"id":"","type":"candidate.created","data":{"id":"cand_1"}}`,
		`{"type":"candidate.updated","data":{"id":"cand_1"},"changes":{"score":{"from":1e400,"to":{"a":1,"a":2}}}}`,
		`{"type":"candidate.updated","data":{"id":"cand_1"},"changes":{"n":{"from":"\ud800","to":"\u0000"}}}`,
		`{"type":"candidate.created","data":{"id":"cand_1","x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}}`,
		`{"type":"candidate.created","source":"a\u0000","data":{"id":"cand_1"}}`,
	} {
		f.Add([]byte(seed))
	}
	in := New(nil, Config{Catalog: catalog.Default()})
	f.Fuzz(func(t *testing.T, body []byte) {
		var input hirehook.EventInput
		if json.Unmarshal(body, &input) != nil {
			return
		}
		e, err := in.Prepare(tenant, &input, "")
		if err != nil {
			var herr *hirehook.Error
			if !errors.As(err, &herr) || herr.Code != hirehook.EINVALID || herr.Field == "" {
				t.Fatalf("Prepare: %v, want an invalid error naming a field", err)
			}
			return
		}
		for name, b := range map[string][]byte{"payload": e.Payload, "data": e.Data, "changes": e.Changes} {
			if len(b) == 0 && name == "changes" {
				continue
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("accepted %q, but encoding/json cannot decode its %s: %v", body, name, err)
			}
			if err := strictCheck(b); err != nil {
				t.Fatalf("accepted %q, but its %s is not strict JSON: %v\n%s", body, name, err, b)
			}
		}
		var p hirehook.WebhookPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			t.Fatalf("accepted %q, but its payload does not decode as a WebhookPayload: %v", body, err)
		}
	})
}

// strictCheck reads b with encoding/json's tokenizer and checks what it
// lets through: valid UTF-8 (the tokenizer replaces invalid bytes), lone
// surrogates (replaced too; found in the raw text), duplicate keys (it
// keeps both) and numbers beyond float64.
func strictCheck(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("invalid UTF-8")
	}
	if err := surrogates(b); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) != 0 {
				return errors.New("ends early")
			}
			return nil
		} else if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return fmt.Errorf("duplicate key %q", k)
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case json.Number:
			if _, err := strconv.ParseFloat(string(tok), 64); err != nil {
				return fmt.Errorf("number %s: %w", tok, err)
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}

// surrogates finds a \uD800–\uDFFF escape in a string of b that is not a
// high surrogate followed by a low one.
func surrogates(b []byte) error {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(b) && b[i+1] == 'u' && i+6 <= len(b) {
				u, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
				if err == nil && u >= 0xD800 && u <= 0xDFFF {
					lo := uint64(0)
					if i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
						lo, _ = strconv.ParseUint(string(b[i+8:i+12]), 16, 16)
					}
					if u > 0xDBFF || lo < 0xDC00 || lo > 0xDFFF {
						return fmt.Errorf("lone surrogate \\u%04x", u)
					}
					i += 6
				}
				i += 5
			} else {
				i++
			}
		}
	}
	return nil
}
