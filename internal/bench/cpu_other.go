//go:build !linux

package bench

import (
	"errors"
	"syscall"
)

func processCPU(int) (cpuTime, error) { return cpuTime{}, errNoProcessCPU }

func childSysProcAttr() *syscall.SysProcAttr { return nil }

// errNoProcessCPU says that this OS gives no other process's CPU time.
var errNoProcessCPU = errors.New("a process's CPU time is read from Linux's /proc and CPU clocks only")
