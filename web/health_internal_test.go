package web

import (
	"strings"
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

func TestHealthOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	enabled := &hirehook.Endpoint{}
	for _, tc := range []struct {
		name string
		ep   *hirehook.Endpoint
		st   hirehook.DeliveryStats
		want HealthState
	}{
		{"idle", enabled, hirehook.DeliveryStats{}, HealthHealthy},
		{"all good", enabled, hirehook.DeliveryStats{Attempts: 100, Succeeded: 100, LatencyP99: time.Second}, HealthHealthy},
		{"a failure in a busy hour", enabled, hirehook.DeliveryStats{Attempts: 100, Succeeded: 96}, HealthHealthy},
		{"a failure in a quiet hour", enabled, hirehook.DeliveryStats{Attempts: 2, Succeeded: 1}, HealthDegraded},
		{"two failures of two: too few to call failing", enabled, hirehook.DeliveryStats{Attempts: 2}, HealthDegraded},
		{"under 95%", enabled, hirehook.DeliveryStats{Attempts: 100, Succeeded: 94}, HealthDegraded},
		{"waiting 5 min", enabled, hirehook.DeliveryStats{Retrying: 1, OldestUnfinishedAt: ago(5 * time.Minute)}, HealthDegraded},
		{"waiting under 5 min", enabled, hirehook.DeliveryStats{Pending: 3, OldestUnfinishedAt: ago(4 * time.Minute)}, HealthHealthy},
		{"slow", enabled, hirehook.DeliveryStats{Attempts: 10, Succeeded: 10, LatencyP99: 6 * time.Second}, HealthDegraded},
		{"half failed", enabled, hirehook.DeliveryStats{Attempts: 4, Succeeded: 2}, HealthDegraded},
		{"most failed", enabled, hirehook.DeliveryStats{Attempts: 3, Succeeded: 1}, HealthFailing},
		{"waiting an hour", enabled, hirehook.DeliveryStats{Retrying: 1, OldestUnfinishedAt: ago(time.Hour)}, HealthFailing},
		{"disabled by the hub", &hirehook.Endpoint{Disabled: true, DisabledReason: "410 Gone"}, hirehook.DeliveryStats{Attempts: 1, Succeeded: 1}, HealthDisabled},
	} {
		got := healthOf(tc.ep, &tc.st, now)
		if got.State != tc.want || got.Reason == "" {
			t.Errorf("%s: health = %s (%q), want %s", tc.name, got.State, got.Reason, tc.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 5: 5, 6: 10, 11: 20, 21: 50, 51: 100, 999: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "/", "/events?type=job.created": "/events?type=job.created", "//evil.example.com": "/",
		"/\\evil.example.com": "/", "https://evil.example.com/": "/", "events": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPercent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		part, whole int
		want        string
	}{{0, 0, "—"}, {3, 3, "100%"}, {999, 1000, "99.9%"}, {9999, 10000, "99.9%"}, {1, 3, "33.3%"}, {0, 5, "0%"}} {
		if got := percent(tc.part, tc.whole); got != tc.want {
			t.Errorf("percent(%d, %d) = %q, want %q", tc.part, tc.whole, got, tc.want)
		}
	}
}

func TestSourceHealthOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	src := func(created time.Duration, config string, h hirehook.SourceHealth) *hirehook.Source {
		return &hirehook.Source{Enabled: true, Config: []byte(config), Health: h, CreatedAt: now.Add(-created), UpdatedAt: now.Add(-created)}
	}
	for _, tc := range []struct {
		name string
		src  *hirehook.Source
		want HealthState
	}{
		{"new, not polled yet", src(10*time.Second, `{}`, hirehook.SourceHealth{}), HealthHealthy},
		{"never polled", src(time.Hour, `{}`, hirehook.SourceHealth{}), HealthFailing},
		{"first polls fail", src(30*time.Second, `{}`, hirehook.SourceHealth{LastPollAt: ago(time.Second), Errors: 3, LastError: "401", LastErrorAt: ago(time.Second)}), HealthDegraded},
		{"no poll ever succeeded", src(time.Hour, `{}`, hirehook.SourceHealth{LastPollAt: ago(time.Second), Errors: 30, LastError: "401", LastErrorAt: ago(time.Second)}), HealthFailing},
		{"polling", src(time.Hour, `{}`, hirehook.SourceHealth{LastPollAt: ago(2 * time.Second), LastSuccessAt: ago(2 * time.Second), LagMS: 800}), HealthHealthy},
		{"a failed poll", src(time.Hour, `{}`, hirehook.SourceHealth{LastPollAt: ago(time.Second), LastSuccessAt: ago(20 * time.Second), LastErrorAt: ago(time.Second), LastError: "timeout"}), HealthDegraded},
		{"an old failure", src(time.Hour, `{}`, hirehook.SourceHealth{LastPollAt: ago(time.Second), LastSuccessAt: ago(time.Second), LastErrorAt: ago(time.Minute), LastError: "timeout"}), HealthHealthy},
		{"lagging", src(time.Hour, `{}`, hirehook.SourceHealth{LastPollAt: ago(time.Second), LastSuccessAt: ago(time.Second), LagMS: 6 * 60 * 1000}), HealthDegraded},
		{"no success for 2 min", src(time.Hour, `{}`, hirehook.SourceHealth{LastPollAt: ago(time.Second), LastSuccessAt: ago(2 * time.Minute)}), HealthFailing},
		{"slow interval: 2 min is fine", src(time.Hour, `{"poll_interval_ms":60000}`, hirehook.SourceHealth{LastPollAt: ago(2 * time.Minute), LastSuccessAt: ago(2 * time.Minute)}), HealthHealthy},
		{"slow interval: 10 intervals", src(time.Hour, `{"poll_interval_ms":60000}`, hirehook.SourceHealth{LastPollAt: ago(10 * time.Minute), LastSuccessAt: ago(10 * time.Minute)}), HealthFailing},
		{"disabled", &hirehook.Source{Config: []byte(`{}`)}, HealthDisabled},
	} {
		got := sourceHealthOf(tc.src, now)
		if got.State != tc.want || got.Reason == "" {
			t.Errorf("%s: health = %s (%q), want %s", tc.name, got.State, got.Reason, tc.want)
		}
	}
}

func TestPushHealthOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	src := func(created time.Duration) *hirehook.Source {
		return &hirehook.Source{Kind: "greenhouse", Enabled: true, Config: []byte(`{}`), CreatedAt: now.Add(-created), UpdatedAt: now.Add(-created)}
	}
	for _, tc := range []struct {
		name   string
		src    *hirehook.Source
		st     *hirehook.InboundStats
		want   HealthState
		reason string
	}{
		{"disabled", &hirehook.Source{Kind: "greenhouse"}, nil, HealthDisabled, "Disabled"},
		{"new, no webhook yet", src(time.Hour), nil, HealthHealthy, "Waiting for its first webhook."},
		{"new, empty stats", src(time.Hour), &hirehook.InboundStats{ByStatus: map[string]int64{}}, HealthHealthy, "Waiting for its first webhook."},
		{"a day without a webhook", src(25 * time.Hour), nil, HealthDegraded, "No webhook in 1 day"},
		{"only rejected", src(time.Hour), &hirehook.InboundStats{ByStatus: map[string]int64{"rejected": 3}, LastReceivedAt: ago(time.Minute),
			LastRejectedAt: ago(time.Minute), LastRejection: "The signature does not match."}, HealthFailing, "Webhooks are rejected: The signature does not match."},
		{"rejected after verified", src(time.Hour), &hirehook.InboundStats{ByStatus: map[string]int64{"processed": 5, "rejected": 1},
			LastReceivedAt: ago(time.Minute), LastVerifiedAt: ago(time.Hour), LastRejectedAt: ago(time.Minute), LastRejection: "bad signature"}, HealthFailing, "Webhooks are rejected: bad signature"},
		{"rejected before verified", src(time.Hour), &hirehook.InboundStats{ByStatus: map[string]int64{"processed": 5, "rejected": 1},
			LastReceivedAt: ago(time.Minute), LastVerifiedAt: ago(time.Minute), LastRejectedAt: ago(time.Hour), LastRejection: "bad signature"}, HealthHealthy, "Last webhook 1 min ago."},
		{"failed to normalise", src(time.Hour), &hirehook.InboundStats{ByStatus: map[string]int64{"processed": 5, "failed": 2},
			LastReceivedAt: ago(time.Minute), LastVerifiedAt: ago(time.Minute)}, HealthDegraded, "2 webhooks failed to normalise; see the request log."},
		{"rejected beats failed", src(time.Hour), &hirehook.InboundStats{ByStatus: map[string]int64{"failed": 2, "rejected": 1},
			LastReceivedAt: ago(time.Second), LastVerifiedAt: ago(time.Minute), LastRejectedAt: ago(time.Second)}, HealthFailing, "Webhooks are rejected"},
		{"healthy", src(48 * time.Hour), &hirehook.InboundStats{ByStatus: map[string]int64{"processed": 5, "unsupported": 1, "duplicate": 2},
			LastReceivedAt: ago(3 * time.Hour), LastVerifiedAt: ago(3 * time.Hour)}, HealthHealthy, "Last webhook 3 h ago."},
		{"handshake only", src(48 * time.Hour), &hirehook.InboundStats{ByStatus: map[string]int64{"handshake": 1},
			LastReceivedAt: ago(30 * time.Hour), LastVerifiedAt: ago(30 * time.Hour), LastHandshakeAt: ago(30 * time.Hour)}, HealthHealthy, "Last webhook 1 day ago."},
	} {
		got := pushHealthOf(tc.src, tc.st, now)
		if got.State != tc.want || !strings.HasPrefix(got.Reason, tc.reason) {
			t.Errorf("%s: health = %s (%q), want %s (%q…)", tc.name, got.State, got.Reason, tc.want, tc.reason)
		}
	}
}
