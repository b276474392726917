//go:build !linux

package oip

import "time"

// threadCPUTime is not available here: burnCPU counts wall time instead.
func threadCPUTime() (time.Duration, bool) { return 0, false }
