//go:build !unix

package storetest

import "time"

// processCPU is zero where the kernel's count is not read.
func processCPU() time.Duration { return 0 }
