//go:build !linux

package bench

import "syscall"

func processCPU(int) (cpuTime, error) { return cpuTime{}, errNoProcessCPU }

func childSysProcAttr() *syscall.SysProcAttr { return nil }
