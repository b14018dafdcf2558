package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// processCPU returns the CPU time process pid has used so far, all its
// threads together, including threads that have exited.
//
// Total is the kernel's CPU clock of the process, the one
// clock_getcpuclockid(3) names: clock_gettime on the clock id
// (^pid)<<3 | CPUCLOCK_SCHED, which Linux allows on any process and which
// counts nanoseconds of the scheduler's runtime. Not /proc/<pid>/schedstat,
// which is finer than ticks too but holds the main thread's time alone: a
// Go program runs on many threads. User and System come from
// /proc/<pid>/stat (fields 14 and 15) in USER_HZ ticks, which Linux's ABI
// fixes at 100 a second whatever the kernel's own HZ (sysconf(_SC_CLK_TCK)
// is 100 on every Linux).
func processCPU(pid int) (cpuTime, error) {
	const cpuclockSched = 2
	clock := int32(^pid)<<3 | cpuclockSched
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return cpuTime{}, fmt.Errorf("read the CPU clock of pid %d: %w", pid, errno)
	}
	t := cpuTime{Total: time.Duration(ts.Nano())}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return t, fmt.Errorf("read the CPU time of pid %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// the fields after it start with the state (field 3).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return t, fmt.Errorf("read the CPU time of pid %d: /proc/%d/stat has %d fields", pid, pid, len(f)+2)
	}
	const tick = time.Second / 100
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return t, fmt.Errorf("read the CPU time of pid %d: utime %q, stime %q", pid, f[11], f[12])
	}
	t.User, t.System = time.Duration(utime)*tick, time.Duration(stime)*tick
	return t, nil
}

// childSysProcAttr makes the kernel end a child (SIGTERM) whose bench has
// died without stopping it. (The signal follows the thread that started
// the child; the Go runtime keeps its threads, so this holds in practice.)
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
