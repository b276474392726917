package oip

import (
	"context"
	"runtime"
	"time"
)

// burnCPU repeats work (the request's own inference) until it has used d of CPU time on
// this thread, so that a CPU-based autoscaler sees real load, and a CPU limit slows it as
// it slows real inference. Where the thread's CPU time cannot be read it counts wall time.
// It stops early when ctx ends (the client went away).
func burnCPU(ctx context.Context, d time.Duration, work func()) {
	if d <= 0 {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpuStart, useCPU := threadCPUTime()
	wallStart := time.Now()
	for {
		for range 64 {
			work()
		}
		if ctx.Err() != nil {
			return
		}
		if useCPU {
			if now, ok := threadCPUTime(); ok {
				if now-cpuStart >= d {
					return
				}
				continue
			}
		}
		if time.Since(wallStart) >= d {
			return
		}
	}
}

// sleepCtx sleeps d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
