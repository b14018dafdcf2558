//go:build !unix

package storetest

import "time"

// ProcessCPU is zero where the kernel's count is not read.
func ProcessCPU() time.Duration { return 0 }
