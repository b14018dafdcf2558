package route_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hirehook/hirehook/route"
)

// The benchmarks run one placement.confirmed envelope (about 1 KB) through a
// route, as a dispatcher would for one event and one endpoint.

func benchApply(b *testing.B, spec route.Spec, wantDeliver bool) {
	env := envelope(b, "placement.confirmed", placementData("acme"), "")
	r := mustCompile(b, spec)
	ctx := context.Background()
	b.SetBytes(int64(len(env)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := r.Apply(ctx, env)
		if err != nil || res.Deliver != wantDeliver {
			b.Fatalf("apply: %+v %v", res, err)
		}
	}
}

// BenchmarkNoRoute is the baseline: an endpoint without a route gets the
// envelope as it is. json_roundtrip is what merely decoding and re-encoding
// the envelope with encoding/json costs, for scale.
func BenchmarkNoRoute(b *testing.B) {
	b.Run("passthrough", func(b *testing.B) {
		benchApply(b, route.Spec{}, true)
	})
	b.Run("json_roundtrip", func(b *testing.B) {
		env := envelope(b, "placement.confirmed", placementData("acme"), "")
		b.SetBytes(int64(len(env)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(env, &v); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFilter(b *testing.B) {
	const filter = `.type == "placement.confirmed" and .data.client.id == "acme"`
	b.Run("pass", func(b *testing.B) {
		benchApply(b, route.Spec{Filter: filter}, true)
	})
	b.Run("reject", func(b *testing.B) {
		benchApply(b, route.Spec{Filter: `.type == "placement.confirmed" and .data.client.id == "globex"`}, false)
	})
}

func BenchmarkTransform(b *testing.B) {
	b.Run("onboarding", func(b *testing.B) {
		benchApply(b, route.Spec{Transform: onboardingTransform}, true)
	})
	b.Run("filter_and_transform", func(b *testing.B) {
		benchApply(b, route.Spec{
			Filter:    `.type == "placement.confirmed" and .data.client.id == "acme"`,
			Transform: onboardingTransform,
		}, true)
	})
}

func BenchmarkRedact(b *testing.B) {
	b.Run("paths", func(b *testing.B) {
		benchApply(b, route.Spec{Redact: []string{".data.candidate.email", ".data.candidate.phone", ".data.pay_rate"}}, true)
	})
	b.Run("personal_data", func(b *testing.B) {
		benchApply(b, route.Spec{Redact: []string{route.RedactPersonalData}}, true)
	})
}

func BenchmarkThin(b *testing.B) {
	benchApply(b, route.Spec{Payload: route.PayloadThin}, true)
}

// BenchmarkFanOut routes one event to 100 endpoints whose filters pass half
// of them (every other endpoint wants another client), decoding the
// envelope once; ns/op is per event, for all 100 endpoints.
func BenchmarkFanOut(b *testing.B) {
	env := envelope(b, "placement.confirmed", placementData("acme"), "")
	routes := make([]*route.Route, 100)
	for i := range routes {
		client := "acme"
		if i%2 == 1 {
			client = "globex"
		}
		routes[i] = mustCompile(b, route.Spec{Filter: `.type == "placement.confirmed" and .data.client.id == "` + client + `"`})
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		e, err := route.ParseEnvelope(env)
		if err != nil {
			b.Fatal(err)
		}
		delivered := 0
		for _, r := range routes {
			res, err := r.ApplyEnvelope(ctx, e)
			if err != nil {
				b.Fatal(err)
			} else if res.Deliver {
				delivered++
			}
		}
		if delivered != 50 {
			b.Fatalf("delivered to %d endpoints, want 50", delivered)
		}
	}
}

// BenchmarkParseEnvelope is the decoding that every route but the empty one
// pays once per event: most of the cost of the benchmarks above.
func BenchmarkParseEnvelope(b *testing.B) {
	env := envelope(b, "placement.confirmed", placementData("acme"), "")
	b.SetBytes(int64(len(env)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := route.ParseEnvelope(env); err != nil {
			b.Fatal(err)
		}
	}
}
