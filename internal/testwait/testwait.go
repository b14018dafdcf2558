// Package testwait is how hirehook's tests wait: for a condition, never
// for a fixed time. Where something signals a change (a process writing
// its output into a Buffer), the condition is checked again at each
// change and at no other time; where nothing can signal (a page that must
// be reloaded, an HTTP readiness route), it is checked on a ticker. Either
// way the test goes on the moment the condition holds, and fails with
// what it waited for, and whatever the caller's detail adds, when the
// timeout passes.
//
// Imported only from _test.go files.
package testwait

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer that goroutines (a process's output, a
// service's log) write while a test reads it, and that tells the test
// when it changed. The zero value is ready to use.
type Buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed by the next Write
}

// Write appends p and wakes whoever waits for a change.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return n, err
}

// String is what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Changed returns a channel closed at the next Write.
func (s *Buffer) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// ForOutput waits until cond holds, checking it at once and again each
// time buf is written. On timeout it fails, showing what buf holds.
func ForOutput(tb testing.TB, timeout time.Duration, what string, buf *Buffer, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		changed := buf.Changed() // taken before the check: no write is missed
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("timed out after %v waiting for %s\n--- output:\n%s", timeout, what, buf.String())
		}
	}
}

// PollInterval is how often For checks a condition that nothing signals.
const PollInterval = 20 * time.Millisecond

// For waits until cond holds, checking it at once and then every
// PollInterval, for a state that nothing signals. On timeout it fails
// with what it waited for and detail() (nil: nothing more).
func For(tb testing.TB, timeout time.Duration, what string, cond func() bool, detail func() string) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			msg := ""
			if detail != nil {
				msg = "\n" + detail()
			}
			tb.Fatalf("timed out after %v waiting for %s%s", timeout, what, msg)
		}
	}
}
