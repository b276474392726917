package oip

import (
	"context"
	"errors"
	"sync/atomic"
)

// errQueueFull is returned when a request would exceed the queue's bound.
var errQueueFull = errors.New("the inference queue is full")

// workerPool admits at most `workers` inferences at a time; the others wait in its queue
// in arrival order (goroutines blocked on a channel send are woken first in, first out).
type workerPool struct {
	slots    chan struct{}
	maxQueue int64
	queued   atomic.Int64
}

func newWorkerPool(workers, maxQueue int) *workerPool {
	return &workerPool{slots: make(chan struct{}, workers), maxQueue: int64(maxQueue)}
}

// acquire waits for a worker. onQueued runs when the request starts waiting (only if no
// worker is free) and onDequeued when it stops waiting, whether it got a worker or not.
// The returned release frees the worker.
func (p *workerPool) acquire(ctx context.Context, onQueued, onDequeued func()) (release func(), err error) {
	release = func() { <-p.slots }
	select {
	case p.slots <- struct{}{}:
		return release, nil
	default:
	}
	if n := p.queued.Add(1); p.maxQueue > 0 && n > p.maxQueue {
		p.queued.Add(-1)
		return nil, errQueueFull
	}
	onQueued()
	defer func() {
		p.queued.Add(-1)
		onDequeued()
	}()
	select {
	case p.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
