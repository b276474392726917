// Command bench measures the inference operator the way issue #6 asks: it starts a fresh
// local control plane (envtest's etcd and kube-apiserver), runs the real manager binary
// against it as a child process, and prints eight figures side by side with their goals:
//
//  1. convergence of N InferenceServices against a raw client-go floor on the same API server;
//  2. per-CR latency (p50, p99) into an idle operator with N already converged;
//  3. the cost of a no-op restart: resync time and write requests (must be 0);
//  4. memory (peak RSS, RSS, Go heap) at several N, and RSS growth under unrelated objects;
//  5. convergence time for several client QPS/burst and worker settings;
//  6. the memory the pod watch costs (issue #13): peak RSS of the manager with and without
//     --watch-pods, on a cluster that runs the services' pods and unrelated ones (sim.go);
//  7. the cost under a live autoscaler (issue #14's figure 4): the status writes and the
//     staleness of the metric values with the real HPA controller and a metrics adapter
//     (autoscaler.go), at the manager's default and with --metric-status-interval=0;
//  8. scale (issue #14's figure 6): 10,000 InferenceServices converged by a fresh manager on
//     an API server of their own, its memory once idle and a no-op restart over all of them
//     (scale.go).
//
// It writes the figures as Markdown and JSON under bin/bench/ and exits non-zero only when
// a hard invariant breaks (convergence not reached in time, children missing, writes on a
// no-op restart, a write to a child under the live autoscaler). A goal that is missed
// prints MISS and does not fail the run.
//
// Run it through the Makefile, which builds the manager and points envtest at the
// control-plane binaries:
//
//	make bench              # N=1000 (BENCH_N)
//	make bench-smoke        # small N, about two minutes, for CI
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	opts, err := parseOptions(os.Args[0], os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, opts)
	stop()
	os.Exit(code)
}

// run measures every figure, prints and writes the results, and returns the exit code.
func run(ctx context.Context, opts options) int {
	b, err := newBench(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	runErr := b.run(ctx)
	b.stopAll()
	b.results.finish(runErr)

	fmt.Print(b.results.text())
	if err := b.results.write(opts.outDir); err != nil {
		fmt.Fprintln(os.Stderr, "bench: writing results:", err)
		return 1
	}
	fmt.Printf("\nResults: %s/results.md, %s/results.json; logs in %s\n", opts.outDir, opts.outDir, b.logDir)
	if runErr != nil || len(b.results.Failures) > 0 {
		return 1
	}
	return 0
}
