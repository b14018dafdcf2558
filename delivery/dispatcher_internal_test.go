package delivery

import (
	"fmt"
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
				Delivered:  tt.status >= 200 && tt.status <= 299, // as Sender.Send sets it
				RetryAfter: tt.retryAfter,
			}
			got := d.decide(dl, &hirehook.Endpoint{}, resp)
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
	got := d.decide(&hirehook.Delivery{ID: "dlv_1"}, &hirehook.Endpoint{}, Response{
		Attempt:    hirehook.Attempt{StartedAt: started, StatusCode: 429, ErrorClass: hirehook.ErrorClassStatus},
		RetryAfter: time.Hour,
	})
	if min := started.Add(1200 * time.Millisecond); got.NextAttemptAt.Before(min) {
		t.Errorf("NextAttemptAt = %v after Retry-After: 3600, want at least the policy's %v (Retry-After shortened the wait)",
			got.NextAttemptAt.Sub(started), min.Sub(started))
	}
}

// An endpoint that has failed every attempt for DisableFailingAfter is
// disabled by the next failure, which is still to be retried (and is
// paused by the store); a success, or a shorter run, disables nothing.
func TestDecideDisablesEndpointFailingTooLong(t *testing.T) {
	t.Parallel()
	d := New(nil, Config{Owner: "node_test", DisableFailingAfter: 5 * 24 * time.Hour})
	since := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	ep := &hirehook.Endpoint{FailingSince: &since}
	attempt := func(at time.Time, status int) hirehook.DeliveryResult {
		class := hirehook.ErrorClassStatus
		if status < 300 {
			class = ""
		}
		return d.decide(&hirehook.Delivery{ID: "dlv_1", Attempts: 3}, ep, Response{
			Attempt: hirehook.Attempt{StartedAt: at, StatusCode: status, ErrorClass: class}, Delivered: status < 300})
	}
	if r := attempt(since.Add(5*24*time.Hour-time.Second), 500); r.DisableEndpoint != "" {
		t.Errorf("disabled after less than 5 days: %q", r.DisableEndpoint)
	}
	r := attempt(since.Add(5*24*time.Hour), 500)
	if want := "Every attempt since 2025-03-01T09:00:00Z has failed (for more than 5 days)."; r.DisableEndpoint != want {
		t.Errorf("DisableEndpoint = %q, want %q", r.DisableEndpoint, want)
	}
	if r.State != hirehook.DeliveryRetrying {
		t.Errorf("state = %s, want retrying (the store pauses it)", r.State)
	}
	if r := attempt(since.Add(6*24*time.Hour), 204); r.DisableEndpoint != "" {
		t.Errorf("a success disabled the endpoint: %q", r.DisableEndpoint)
	}
	never := New(nil, Config{Owner: "node_test", DisableFailingAfter: -1})
	if r := never.decide(&hirehook.Delivery{ID: "dlv_1"}, ep, Response{Attempt: hirehook.Attempt{StartedAt: since.Add(365 * 24 * time.Hour), StatusCode: 500}}); r.DisableEndpoint != "" {
		t.Errorf("DisableFailingAfter < 0 disabled the endpoint: %q", r.DisableEndpoint)
	}
}

// The shares of an endpoint's max_concurrency add up to exactly the limit
// over the live nodes, and exactly min(limit, nodes) nodes serve it; the
// rate is divided among those.
func TestMembershipShare(t *testing.T) {
	t.Parallel()
	for nodes := 1; nodes <= 7; nodes++ {
		for c := 1; c <= 20; c++ {
			for _, ep := range []string{"ep_a", "ep_b", "ep_c", "ep_01m8dxyx901w4c93xgn9j0y45y"} {
				total, serving := 0, 0
				for rank := range nodes {
					serve, n := membership{nodes: nodes, rank: rank}.share(ep, c)
					if serve != (n > 0) {
						t.Fatalf("nodes %d rank %d c %d: serve %v with share %d", nodes, rank, c, serve, n)
					}
					total += n
					if serve {
						serving++
					}
				}
				if total != c {
					t.Errorf("nodes %d, max_concurrency %d, %s: shares add up to %d", nodes, c, ep, total)
				}
				if serving != min(c, nodes) {
					t.Errorf("nodes %d, max_concurrency %d, %s: %d nodes serve it, want %d", nodes, c, ep, serving, min(c, nodes))
				}
				if got, want := (membership{nodes: nodes}).rateShare(c, 30)*float64(serving), 30.0; got < want-1e-9 || got > want+1e-9 {
					t.Errorf("nodes %d, max_concurrency %d: rate shares add up to %v, want 30", nodes, c, got)
				}
			}
		}
	}
	// Endpoints with a limit below the node count spread over the nodes.
	first := map[int]int{}
	for i := range 300 {
		for rank := range 3 {
			if serve, _ := (membership{nodes: 3, rank: rank}).share(fmt.Sprintf("ep_%d", i), 1); serve {
				first[rank]++
			}
		}
	}
	for rank := range 3 {
		if first[rank] < 50 {
			t.Errorf("rank %d serves %d of 300 single-slot endpoints, want a fair part", rank, first[rank])
		}
	}
}
