package delivery

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hirehook/hirehook"
)

// fixedPolicy is a RetryPolicy with one delay for every attempt up to max
// attempts, and a given MaxDelay.
type fixedPolicy struct {
	delay, maxDelay time.Duration
	attempts        int
}

func (p fixedPolicy) NextDelay(attempts int) (time.Duration, bool) {
	return p.delay, attempts >= 1 && attempts <= p.attempts
}

func (p fixedPolicy) MaxDelay() time.Duration { return p.maxDelay }

func TestDecide(t *testing.T) {
	t.Parallel()
	started := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	const took = 40 * time.Millisecond
	d := New(nil, Config{
		Owner: "node_test",
		Retry: &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute}},
	})
	for _, tt := range []struct {
		name       string
		attempts   int // before this one
		status     int
		class      hirehook.ErrorClass
		retryAfter time.Duration
		want       hirehook.DeliveryResult // without the attempt
	}{
		{name: "OK", status: 200, want: hirehook.DeliveryResult{State: hirehook.DeliveryDelivered}},
		{name: "NoContent", status: 204, want: hirehook.DeliveryResult{State: hirehook.DeliveryDelivered}},
		{name: "Gone", status: 410, class: hirehook.ErrorClassStatus, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryFailed, DisableEndpoint: "The endpoint answered 410 Gone.",
		}},
		{name: "GoneOnLastAttempt", attempts: 3, status: 410, class: hirehook.ErrorClassStatus, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryFailed, DisableEndpoint: "The endpoint answered 410 Gone.",
		}},
		{name: "ServerError", status: 500, class: hirehook.ErrorClassStatus, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryRetrying, NextAttemptAt: started.Add(took + 10*time.Second),
		}},
		{name: "SecondFailure", attempts: 1, status: 500, class: hirehook.ErrorClassStatus, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryRetrying, NextAttemptAt: started.Add(took + time.Minute),
		}},
		{name: "Redirect", status: 302, class: hirehook.ErrorClassStatus, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryRetrying, NextAttemptAt: started.Add(took + 10*time.Second),
		}},
		{name: "ConnectionRefused", class: hirehook.ErrorClassConnection, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryRetrying, NextAttemptAt: started.Add(took + 10*time.Second),
		}},
		{name: "ScheduleExhausted", attempts: 3, status: 500, class: hirehook.ErrorClassStatus, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryFailed,
		}},
		{name: "RetryAfterLengthens", status: 429, class: hirehook.ErrorClassStatus, retryAfter: 2 * time.Minute, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryRetrying, NextAttemptAt: started.Add(took + 2*time.Minute),
		}},
		{name: "RetryAfterCappedAtMaxDelay", status: 503, class: hirehook.ErrorClassStatus, retryAfter: 10 * time.Hour, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryRetrying, NextAttemptAt: started.Add(took + 5*time.Minute),
		}},
		{name: "RetryAfterShorterIgnored", status: 429, class: hirehook.ErrorClassStatus, retryAfter: time.Second, want: hirehook.DeliveryResult{
			State: hirehook.DeliveryRetrying, NextAttemptAt: started.Add(took + 10*time.Second),
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dl := &hirehook.Delivery{ID: "dlv_1", TenantID: hirehook.DefaultTenantID, Attempts: tt.attempts}
			resp := Response{
				Attempt:    hirehook.Attempt{StartedAt: started, Duration: took, StatusCode: tt.status, ErrorClass: tt.class},
				RetryAfter: tt.retryAfter,
			}
			got := d.decide(dl, resp)
			if !strings.HasPrefix(got.Attempt.ID, "att_") {
				t.Errorf("Attempt.ID = %q, want att_...", got.Attempt.ID)
			}
			want := tt.want
			want.DeliveryID, want.TenantID, want.LeaseOwner = "dlv_1", hirehook.DefaultTenantID, "node_test"
			want.Attempt = resp.Attempt
			want.Attempt.DeliveryID, want.Attempt.Number = "dlv_1", tt.attempts+1
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(hirehook.Attempt{}, "ID")); diff != "" {
				t.Errorf("decide (-want +got):\n%s", diff)
			}
		})
	}
}

// README: "Retry-After on 429/503 lengthens the wait (capped at 10 h)". With
// jitter, ScheduleRetryPolicy.NextDelay may exceed MaxDelay; a Retry-After
// hint must then not shorten the wait the schedule chose.
func TestDecideRetryAfterNeverShortensTheWait(t *testing.T) {
	t.Parallel()

	// The default kind of policy does produce delays above its MaxDelay.
	jittered := &hirehook.ScheduleRetryPolicy{Schedule: []time.Duration{time.Second}, Jitter: 0.2}
	above := false
	for range 1000 {
		if delay, _ := jittered.NextDelay(1); delay > jittered.MaxDelay() {
			above = true
			break
		}
	}
	if !above {
		t.Fatal("ScheduleRetryPolicy with jitter never exceeded MaxDelay in 1000 draws")
	}

	// The same situation, deterministic: the policy asks for 1.2 s, its
	// MaxDelay is 1 s, the receiver asks for an hour.
	d := New(nil, Config{Owner: "node_test", Retry: fixedPolicy{delay: 1200 * time.Millisecond, maxDelay: time.Second, attempts: 5}})
	started := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	got := d.decide(&hirehook.Delivery{ID: "dlv_1"}, Response{
		Attempt:    hirehook.Attempt{StartedAt: started, StatusCode: 429, ErrorClass: hirehook.ErrorClassStatus},
		RetryAfter: time.Hour,
	})
	if min := started.Add(1200 * time.Millisecond); got.NextAttemptAt.Before(min) {
		t.Errorf("NextAttemptAt = %v after Retry-After: 3600, want at least the policy's %v (Retry-After shortened the wait)",
			got.NextAttemptAt.Sub(started), min.Sub(started))
	}
}
