package web

import (
	"fmt"
	"testing"
	"time"
)

func TestSignInLimiter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	l := newSignInLimiter(10*time.Second, 2, 3)
	if w := l.wait("a", t0); w != 0 {
		t.Fatalf("unknown address waits %v", w)
	}
	l.fail("a", t0)
	l.fail("a", t0)
	if w := l.wait("a", t0); w != 10*time.Second {
		t.Fatalf("after 2 failures wait = %v, want 10s", w)
	}
	if w := l.wait("b", t0); w != 0 {
		t.Fatalf("another address waits %v", w)
	}
	if w := l.wait("a", t0.Add(4*time.Second)); w != 6*time.Second {
		t.Fatalf("4 s later wait = %v, want 6s", w)
	}
	if w := l.wait("a", t0.Add(10*time.Second)); w != 0 {
		t.Fatalf("10 s later wait = %v, want 0", w)
	}

	// Bounded: past 3 addresses, refilled ones go first, then the oldest.
	l.fail("b", t0.Add(time.Second))
	l.fail("c", t0.Add(2*time.Second))
	l.fail("d", t0.Add(3*time.Second)) // full: "a" is still limited, so the oldest ("a") goes
	if n := l.len(); n != 3 {
		t.Fatalf("remembers %d addresses, want 3", n)
	}
	if w := l.wait("a", t0.Add(3*time.Second)); w != 0 {
		t.Fatalf("the evicted address waits %v", w)
	}
	for i := range 100 {
		l.fail(fmt.Sprint("x", i), t0.Add(time.Hour)) // every bucket refilled by then
	}
	if n := l.len(); n > 3 {
		t.Fatalf("remembers %d addresses, want at most 3", n)
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"192.0.2.1:5123": "192.0.2.1", "[2001:db8::1]:443": "2001:db8::1", "pipe": "pipe"} {
		if got := clientAddr(in); got != want {
			t.Errorf("clientAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
