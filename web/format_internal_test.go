package web

import (
	"testing"
	"time"

	"github.com/hirehook/hirehook"
)

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "—"},
		{-time.Second, "—"},
		{850 * time.Microsecond, "850 µs"},
		{4200 * time.Microsecond, "4.2 ms"},
		{4 * time.Millisecond, "4 ms"},
		{200 * time.Millisecond, "200 ms"},
		{999 * time.Millisecond, "999 ms"},
		{time.Second, "1 s"},
		{1250 * time.Millisecond, "1.25 s"},
		{1500 * time.Millisecond, "1.5 s"},
		{2 * time.Second, "2 s"},
		{42 * time.Second, "42 s"},
		{5*time.Minute + 30*time.Second, "5 min"},
		{3*time.Hour + 10*time.Minute, "3 h 10 min"},
		{12 * time.Hour, "12 h"},
		{25 * time.Hour, "1 day"},
		{50 * time.Hour, "2 days"},
	} {
		if got := formatDuration(tc.in); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// An age or an interval may be zero, and a short one is not zero.
	for in, want := range map[time.Duration]string{0: "0 s", 200 * time.Millisecond: "200 ms", 90 * time.Second: "1 min"} {
		if got := span(in); got != want {
			t.Errorf("span(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestSourceHealthShortInterval: a source polled every 200 ms said
// "Polled every 0 s" on the Integrations, Sources and source pages.
func TestSourceHealthShortInterval(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	last := now.Add(-100 * time.Millisecond)
	src := hirehook.Source{Enabled: true, Config: []byte(`{"poll_interval_ms":200}`), CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour),
		Health: hirehook.SourceHealth{LastPollAt: &last, LastSuccessAt: &last}}
	got := sourceHealthOf(&src, now)
	if want := "Polled every 200 ms; the last success was just now."; got.Reason != want {
		t.Errorf("reason = %q, want %q", got.Reason, want)
	}
}

// TestAgo: ages read in whole seconds, past and future.
func TestAgo(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(-7830 * time.Millisecond), "8 s ago"},
		{now.Add(-2 * time.Second), "just now"},
		{now.Add(-90 * time.Second), "1 min ago"},
		{now.Add(4200 * time.Millisecond), "in 4 s"},
		{time.Time{}, "never"},
	} {
		if got := ago(now, c.at); got != c.want {
			t.Errorf("ago(%v before now) = %q, want %q", now.Sub(c.at), got, c.want)
		}
	}
}
