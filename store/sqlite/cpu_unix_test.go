//go:build unix

package sqlite_test

import (
	"syscall"
	"time"
)

// processCPU returns the user and system CPU time the test process has
// used so far, every thread together (the group writer's goroutine and the
// garbage collector included), or 0 where it cannot be read.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
