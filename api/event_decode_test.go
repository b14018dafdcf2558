package api

import (
	"reflect"
	"testing"

	"github.com/hirehook/hirehook/internal/strictjson"
)

// FuzzDecodeValid checks decodeValid against decodeChecked (encoding/json)
// on every body that strictjson.Check passes: when it reads a body, it
// reads what encoding/json reads; when it declines, it has changed nothing.
func FuzzDecodeValid(f *testing.F) {
	for _, s := range []string{
		`{"id":"evt_1","type":"placement.confirmed","source":"bench","data":{"id":"pl_1","a":[1,{"b":"}"}],"s":"x\"y"},"changes":{"status":{"from":"a","to":"b"}}}`,
		` { "type" : "t" , "occurred_at":"2026-01-01T00:00:00Z", "subject": {"entity":"e","id":"s"}, "data" : 5 , "derived": true, "partial": false } `,
		`{"id":"","data":"x","changes":{}}`,
		`{"ID":"x","data":{}}`,
		`{"id":null,"data":{}}`,
		`{"type":"a\u0062","data":{}}`,
		`{"data":null}`,
		`{"data":[1,2],"changes":{"a":{}, "b":{"from":null}}}`,
		`{"data":{},"unknown":1}`,
		`{"subject":{"id":"x","extra":1},"data":{}}`,
		`{"derived":1,"data":{}}`,
		`[]`, `{}`, `"x"`, `{"changes":{"a":5},"data":{}}`, `{"data":-1.5e3}`, `{"data":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if strictjson.Check(b, bodyLimits) != nil {
			t.Skip()
		}
		var want eventInput
		werr := decodeChecked(b, &want)
		var got eventInput
		if !got.decodeValid(b) {
			if !reflect.DeepEqual(got, eventInput{}) {
				t.Fatalf("decodeValid(%s) declined but changed its input: %#v", b, got)
			}
			return
		}
		if werr != nil {
			t.Fatalf("decodeValid(%s) read a body that decodeChecked refuses: %v", b, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeValid(%s) = %#v\ndecodeChecked      = %#v", b, got, want)
		}
	})
}

// TestDecodeValidReads checks that the bench's body takes the one-pass
// path (the fuzz test checks that what it reads is right).
func TestDecodeValidReads(t *testing.T) {
	t.Parallel()
	var in eventInput
	if !in.decodeValid(benchBody) {
		t.Fatal("decodeValid declined the bench's event")
	}
}
