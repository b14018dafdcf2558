package testwait

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestForOutputWakesOnWrite: the wait ends at the write that makes the
// condition true, with no poll in between.
func TestForOutputWakesOnWrite(t *testing.T) {
	var buf Buffer
	var checks atomic.Int32
	go func() {
		for i := range 3 {
			fmt.Fprintf(&buf, "line %d\n", i)
		}
	}()
	ForOutput(t, 10*time.Second, "line 2", &buf, func() bool {
		checks.Add(1)
		return strings.Contains(buf.String(), "line 2")
	})
	// One check before any write, at most one per write after it.
	if n := checks.Load(); n > 4 {
		t.Errorf("the condition was checked %d times for 3 writes", n)
	}
}

// TestForTimesOut: a condition that never holds fails the test with what
// it waited for and the detail.
func TestForTimesOut(t *testing.T) {
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		For(ft, 50*time.Millisecond, "nothing", func() bool { return false }, func() string { return "the detail" })
	}()
	<-done
	if !strings.Contains(ft.msg, "waiting for nothing") || !strings.Contains(ft.msg, "the detail") {
		t.Errorf("failure = %q", ft.msg)
	}
}

type fakeTB struct {
	testing.TB
	msg string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit() // as testing.T.Fatalf does
}
