//go:build !unix

package sqlite_test

import "time"

// processCPU is 0 where getrusage(2) is missing: the benchmarks then
// report no CPU per event.
func processCPU() time.Duration { return 0 }
