package api

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/hirehook/hirehook"
)

// The API key check hashes on its stack; the digest must stay the one the
// store is searched by everywhere else (hirehook.HashAPIKey).
func TestHashKeyIntoIsHashAPIKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "hh_test_x", "hh_" + hirehook.NewSecret(), "ключ ✓"} {
		var got [64]byte
		hashKeyInto(&got, key)
		if want := hirehook.HashAPIKey(key); string(got[:]) != want {
			t.Errorf("hashKeyInto(%q) = %s, want %s", key, got[:], want)
		}
	}
}

// writeAccepted writes by hand what writeJSON writes, byte for byte, and
// leaves ids that need escaping to it.
func TestWriteAcceptedIsWriteJSON(t *testing.T) {
	t.Parallel()
	for _, a := range []hirehook.EventAccepted{
		{ID: hirehook.NewID("evt"), Deliveries: 1},
		{ID: "evt_1", Deliveries: 0, Duplicate: true},
		{ID: "", Deliveries: 12345},
		{ID: "a-b.c:d/e~f", Deliveries: -1},
		{ID: `quote"back\slash`, Deliveries: 2},
		{ID: "<script>&amp;", Deliveries: 3},
		{ID: "tab\tnl\ndel\x7f", Deliveries: 4},
		{ID: "é\u2028✓\xff", Deliveries: 5},
	} {
		got, want := httptest.NewRecorder(), httptest.NewRecorder()
		writeAccepted(got, a)
		writeJSON(want, http.StatusAccepted, a)
		if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), want.Header()) {
			t.Errorf("writeAccepted(%+v) = %d %v %q, want %d %v %q", a, got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
	}
}
