package route_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hirehook/hirehook"
	"github.com/hirehook/hirehook/route"
)

// TestTry covers the pasted-envelope paths of Try; api's test-route tests
// cover stored events on a real store.
func TestTry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := json.RawMessage(`{"id":"evt_1","type":"placement.confirmed","subject":{"entity":"placement","id":"pl_1"},"data":{"client":{"id":"acme"},"pay_rate":50}}`)
	for _, tc := range []struct {
		name      string
		p         route.TryParams
		wantField string
		deliver   bool
		body      string
	}{
		{"pass through", route.TryParams{Event: env}, "", true, string(env)},
		{"transformed", route.TryParams{Spec: route.Spec{Transform: "{c: .data.client.id}"}, Event: env}, "", true, `{"c":"acme"}`},
		{"filtered out", route.TryParams{Spec: route.Spec{Filter: `.data.client.id == "other"`}, Event: env}, "", false, ""},
		{"bad filter", route.TryParams{Spec: route.Spec{Filter: ".a =="}, Event: env}, "filter", false, ""},
		{"no event", route.TryParams{}, "event", false, ""},
		{"not an object", route.TryParams{Event: json.RawMessage(`[1]`)}, "event", false, ""},
		{"not JSON", route.TryParams{Event: json.RawMessage(`{"id": `)}, "event", false, ""},
		{"both", route.TryParams{Event: env, EventID: "evt_1"}, "event", false, ""},
	} {
		res, err := route.Try(ctx, nil, route.Options{}, tc.p)
		if tc.wantField != "" {
			if hirehook.ErrorCode(err) != hirehook.EINVALID || hirehook.ErrorField(err) != tc.wantField {
				t.Errorf("%s: err = %v (field %q), want invalid %s", tc.name, err, hirehook.ErrorField(err), tc.wantField)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Deliver != tc.deliver || string(res.Body) != tc.body {
			t.Errorf("%s: deliver %v body %s, want %v %s", tc.name, res.Deliver, res.Body, tc.deliver, tc.body)
		}
	}
}
