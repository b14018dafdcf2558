package dbfault

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/hirehook/hirehook"
)

// TestCheck: availability errors become EUNAVAILABLE with the driver error
// kept, and are recorded; database/sql's sentinels, context errors and
// other errors pass unchanged and are not recorded.
func TestCheck(t *testing.T) {
	t.Parallel()
	errDialect := errors.New("dialect says unavailable")
	classify := func(err error) (string, bool) {
		if errors.Is(err, errDialect) {
			return "The database is gone.", true
		}
		return "", false
	}
	for _, tt := range []struct {
		name     string
		err      error
		code     string // "" for err returned unchanged
		recorded bool
	}{
		{name: "Refused", err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, code: hirehook.EUNAVAILABLE, recorded: true},
		{name: "Reset", err: fmt.Errorf("read: %w", syscall.ECONNRESET), code: hirehook.EUNAVAILABLE, recorded: true},
		{name: "CutMidMessage", err: fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), code: hirehook.EUNAVAILABLE, recorded: true},
		{name: "NoSpace", err: fmt.Errorf("write: %w", syscall.ENOSPC), code: hirehook.EUNAVAILABLE, recorded: true},
		{name: "ReadOnlyFS", err: fmt.Errorf("open: %w", syscall.EROFS), code: hirehook.EUNAVAILABLE, recorded: true},
		{name: "Dialect", err: fmt.Errorf("exec: %w", errDialect), code: hirehook.EUNAVAILABLE, recorded: true},
		// database/sql retries a bad connection on another: marked, not recorded.
		{name: "BadConn", err: driver.ErrBadConn, code: hirehook.EUNAVAILABLE},
		{name: "EOF", err: io.EOF},
		{name: "Skip", err: driver.ErrSkip},
		{name: "Cancelled", err: fmt.Errorf("query: %w", context.Canceled)},
		{name: "Deadline", err: fmt.Errorf("query: %w", context.DeadlineExceeded)},
		{name: "Other", err: errors.New("syntax error")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h Health
			f := &faults{classify: classify, health: &h}
			got := f.check(tt.err)
			if tt.code == "" {
				if got != tt.err {
					t.Errorf("check(%v) = %v, want it unchanged", tt.err, got)
				}
			} else {
				if hirehook.ErrorCode(got) != tt.code || !errors.Is(got, tt.err) {
					t.Errorf("check(%v) = %v, want code %s wrapping it", tt.err, got, tt.code)
				}
			}
			if recorded := h.Err() != nil; recorded != tt.recorded {
				t.Errorf("recorded = %v, want %v", recorded, tt.recorded)
			}
		})
	}
}

// TestHealthClearSince: a probe that began before a newer failure does not
// clear it.
func TestHealthClearSince(t *testing.T) {
	t.Parallel()
	var h Health
	h.Fail(errors.New("disk full"))
	gen := h.Gen()
	h.Fail(errors.New("disk full again"))
	h.ClearSince(gen)
	if h.Err() == nil {
		t.Fatal("a probe older than the last failure cleared it")
	}
	h.ClearSince(h.Gen())
	if err := h.Err(); err != nil {
		t.Fatalf("Err after a clear = %v", err)
	}
}
