package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// Namespaces of the figures. Each figure counts only its own objects, so none shares a
// namespace with another.
const (
	floorNamespace     = "bench-floor"
	convergeNamespace  = "bench-converge"
	latencyNamespace   = "bench-latency"
	memoryNamespace    = "bench-memory"
	unrelatedNamespace = "bench-unrelated"
	knobNamespace      = "bench-knob"
)

// Waits that are part of the method, not of what is measured.
const (
	// idleStable is how long the manager's queue must stay empty, with no reconcile
	// running, for it to count as idle (its resync done).
	idleStable = 2 * time.Second
	// memorySettle lets a converged manager's heap settle before its memory is read.
	memorySettle = 3 * time.Second
	// unrelatedSettle lets the unrelated objects reach the manager, if they ever would.
	unrelatedSettle = 5 * time.Second
)

// bench runs the figures and holds what they measured.
type bench struct {
	opts    options
	scheme  *runtime.Scheme
	logDir  string
	results *Results

	managerRuns int
	// running are the manager processes and control planes to stop on the way out.
	managers []*managerProcess
	clusters []*cluster
}

func newBench(opts options) (*bench, error) {
	if info, err := os.Stat(opts.managerPath); err != nil || info.IsDir() {
		return nil, fmt.Errorf("no manager binary at %s (build it with 'go build -o bin/manager ./cmd')", opts.managerPath)
	}
	// logs/ is the benchmark's own: it starts empty so that every log in it is this run's.
	logDir := filepath.Join(opts.outDir, "logs")
	if err := os.RemoveAll(logDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	benchLog, err := os.Create(filepath.Join(logDir, "bench.log"))
	if err != nil {
		return nil, err
	}
	// controller-runtime's clients and caches in this process log here, not on stdout.
	ctrl.SetLogger(zap.New(zap.WriteTo(benchLog)))

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(servingv1alpha1.AddToScheme(scheme))

	results := &Results{Started: time.Now(), Machine: describeMachine(), Settings: runSettings{
		N: opts.n, Tries: opts.tries, Operator: opts.operator, MemoryPoints: opts.memoryPoints,
		Unrelated: opts.unrelated, KnobSettings: opts.settings, Timeout: opts.timeout.String(),
		CreateWorkers: opts.createWorkers, Smoke: opts.smoke, Manager: opts.managerPath,
		ServiceCIDR: serviceClusterIPRange, PodWatchRuns: opts.podWatchRuns, UnrelatedPods: opts.unrelatedPods,
		PodWatchOnly: opts.podWatchOnly, AutoscalerN: opts.autoscalerN, AutoscalerMinutes: opts.autoscalerMinutes,
		AutoscalerBaselineMinutes: opts.autoscalerBaselineMinutes, AutoscalerOnly: opts.autoscalerOnly,
		ScaleN: opts.scaleN, ScaleOnly: opts.scaleOnly,
	}}
	return &bench{opts: opts, scheme: scheme, logDir: logDir, results: results}, nil
}

// run measures the figures in the order that converges the fewest objects:
//
//   - on the main API server: the floor, then figure 1 (which is also figure 5's point at
//     the default setting, and figure 4's point at N when N is one of its points), then a
//     restart for figure 3, then figure 2 into the idle manager, then the memory points
//     above what the server holds by then, topped up, and the unrelated objects;
//   - memory points below that, on a fresh API server of their own;
//   - figure 6 (the pod watch), on a fresh API server with the simulated cluster's
//     controllers, scheduler and kwok, which make pods;
//   - figure 7 (the live autoscaler), on a fresh API server with the same components, the
//     HPA controller and the metrics adapter;
//   - every other setting of figure 5, each on a fresh API server, so that each converges
//     exactly N InferenceServices and no other;
//   - figure 8 (scale), on a fresh API server: scale-n InferenceServices, then a restart.
func (b *bench) run(ctx context.Context) error {
	if b.opts.podWatchOnly {
		progressf("Figure 6: the pod watch's memory at %d InferenceServices, %d unrelated pods", b.opts.n, b.opts.unrelatedPods)
		return b.podWatch(ctx)
	}
	if b.opts.autoscalerOnly {
		progressf("Figure 7: %d InferenceServices under the live autoscaler", b.opts.autoscalerN)
		return b.autoscaler(ctx)
	}
	if b.opts.scaleOnly {
		progressf("Figure 8: scale, %d InferenceServices", b.opts.scaleN)
		return b.scale(ctx)
	}
	main, err := b.startCluster("main")
	if err != nil {
		return err
	}
	b.results.Memory = &memoryFigure{}

	progressf("Figure 1: floor and convergence of %d InferenceServices at %s", b.opts.n, b.opts.operator)
	m, err := b.convergence(ctx, main)
	if err != nil {
		return err
	}
	progressf("Figure 3: no-op restart with %d InferenceServices", b.opts.n)
	if m, err = b.noOpRestart(ctx, main, m); err != nil {
		return err
	}
	progressf("Figure 2: %d InferenceServices applied one at a time", b.opts.tries)
	if err := b.latency(ctx, main, m); err != nil {
		return err
	}
	progressf("Figure 4: memory at %v InferenceServices, then %d unrelated objects of each kind", b.opts.memoryPoints, b.opts.unrelated)
	if err := b.memory(ctx, main, m); err != nil {
		return err
	}
	b.stopAll()

	if b.opts.podWatchRuns > 0 {
		progressf("Figure 6: the pod watch's memory at %d InferenceServices, %d unrelated pods", b.opts.n, b.opts.unrelatedPods)
		if err := b.podWatch(ctx); err != nil {
			return err
		}
	}

	if b.opts.autoscalerMinutes > 0 {
		progressf("Figure 7: %d InferenceServices under the live autoscaler", b.opts.autoscalerN)
		if err := b.autoscaler(ctx); err != nil {
			return err
		}
	}

	progressf("Figure 5: convergence of %d InferenceServices at %v", b.opts.n, b.opts.settings)
	if err := b.knobs(ctx); err != nil {
		return err
	}

	if b.opts.scaleN > 0 {
		progressf("Figure 8: scale, %d InferenceServices", b.opts.scaleN)
		return b.scale(ctx)
	}
	return nil
}

// convergence measures figure 1 on c: the floor, then a fresh manager converging N new
// InferenceServices. It returns the manager, still running.
func (b *bench) convergence(ctx context.Context, c *cluster) (*managerProcess, error) {
	if err := createNamespace(ctx, c.client, floorNamespace); err != nil {
		return nil, err
	}
	floor, err := runFloor(ctx, c.config, c.client, floorNamespace, b.opts.n, b.opts.operator)
	if err != nil {
		return nil, err
	}
	progressf("  floor: %d x 3 objects in %.1f s", b.opts.n, floor.Seconds())

	run, m, err := b.converge(ctx, c, convergeNamespace, "converge", b.opts.n, b.opts.operator, "figure1")
	if err != nil {
		run.Error = err.Error()
	}
	b.results.Convergence = &convergenceFigure{FloorSeconds: floor.Seconds(), Operator: run,
		Ratio: run.Seconds / floor.Seconds()}
	if err != nil {
		return nil, err
	}
	if slices.Contains(b.opts.memoryPoints, b.opts.n) {
		if err := b.readMemoryPoint(ctx, c, m, b.opts.n); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// converge creates n InferenceServices in a new namespace while no manager runs, starts a
// fresh manager with setting s and times it from process start until every one of them
// reported its generation; then it checks that each has its three children. It returns
// the manager, still running (also on error, so that it can be stopped).
func (b *bench) converge(ctx context.Context, c *cluster, namespace, prefix string, n int, s setting, label string) (convergenceRun, *managerProcess, error) {
	run := convergenceRun{Setting: s, N: n}
	if err := createNamespace(ctx, c.client, namespace); err != nil {
		return run, nil, err
	}
	if err := createInferenceServices(ctx, c.client, namespace, prefix, 0, n, b.opts.createWorkers); err != nil {
		return run, nil, err
	}
	watch, err := watchNamespace(ctx, c.config, b.scheme, namespace, false)
	if err != nil {
		return run, nil, err
	}
	defer watch.stop()

	machineBefore, err := readMachineCPUSeconds()
	if err != nil {
		return run, nil, err
	}
	m, err := b.startManager(c, s, label)
	if err != nil {
		return run, nil, err
	}
	if b.opts.profile {
		path := filepath.Join(b.logDir, "cpu-"+label+".pprof")
		go func() {
			// The endpoint is up a moment after the process starts.
			time.Sleep(200 * time.Millisecond)
			if err := m.profileCPU(ctx, 10, path); err != nil {
				progressf("  CPU profile of %s: %v", label, err)
			}
		}()
	}
	waitCtx, cancel := b.waitContext(ctx, m)
	defer cancel()
	last, err := watch.waitConverged(waitCtx, n)
	if err != nil {
		return run, m, err
	}
	run.Seconds = last.Sub(m.started).Seconds()
	run.CPUSeconds, _ = m.cpuSeconds()
	if machineAfter, err := readMachineCPUSeconds(); err == nil {
		run.MachineCPUSeconds = machineAfter - machineBefore
	}
	scraped, err := m.scrape(ctx)
	if err != nil {
		return run, m, fmt.Errorf("reading the manager's metrics: %w", err)
	}
	run.Requests = countRequests(scraped.requests())
	if run.Children, err = countChildren(ctx, c.client, namespace); err != nil {
		return run, m, err
	}
	if run.Children != (childCounts{n, n, n}) {
		b.results.fail("%s at %s: %d InferenceServices converged but %s exist", label, s, n, run.Children)
	}
	progressf("  %s: %d converged in %.1f s at %s (%d requests, %d writes)", label, n, run.Seconds, s,
		run.Requests.Total, run.Requests.Writes)
	return run, m, nil
}

// noOpRestart measures figure 3: it stops the manager, starts a new one with the same
// flags and waits until it has reconciled every InferenceService and gone idle. Nothing
// changed, so every write it sent is a defect. It returns the new manager.
func (b *bench) noOpRestart(ctx context.Context, c *cluster, m *managerProcess) (*managerProcess, error) {
	m, fig, err := b.restart(ctx, c, m, "figure3-restart")
	b.results.NoOp = fig
	return m, err
}

// restart stops m, starts a new manager with the same flags and measures its resync of
// every InferenceService on c; a write it sends fails the run. It returns the new
// manager, still running (also on error, so that it can be stopped).
func (b *bench) restart(ctx context.Context, c *cluster, m *managerProcess, label string) (*managerProcess, *noOpFigure, error) {
	if err := b.stopManager(m); err != nil {
		return nil, nil, err
	}
	crs, err := countInferenceServices(ctx, c.client)
	if err != nil {
		return nil, nil, err
	}
	m, err = b.startManager(c, b.opts.operator, label)
	if err != nil {
		return nil, nil, err
	}
	waitCtx, cancel := b.waitContext(ctx, m)
	defer cancel()
	idleAt, scraped, err := waitIdle(waitCtx, m, crs, idleStable, 200*time.Millisecond)
	if err != nil {
		return m, nil, err
	}
	fig := &noOpFigure{CRs: crs, ResyncSeconds: idleAt.Sub(m.started).Seconds(), Reconciles: scraped.reconciles(),
		Requests: countRequests(scraped.requests())}
	if fig.Requests.Writes > 0 {
		b.results.fail("%s: a restart with nothing changed sent %d write requests (%s)", label, fig.Requests.Writes, fig.Requests.writesByMethod())
	}
	progressf("  resync of %d in %.1f s, %d writes (%s)", crs, fig.ResyncSeconds, fig.Requests.Writes, fig.Requests.writesByMethod())
	return m, fig, nil
}

// latency measures figure 2: one at a time, into the idle manager m, it applies an
// InferenceService and times until its Deployment, Service and HPA all exist.
func (b *bench) latency(ctx context.Context, c *cluster, m *managerProcess) error {
	if err := createNamespace(ctx, c.client, latencyNamespace); err != nil {
		return err
	}
	watch, err := watchNamespace(ctx, c.config, b.scheme, latencyNamespace, true)
	if err != nil {
		return err
	}
	defer watch.stop()
	waitCtx, cancel := b.waitContext(ctx, m)
	defer cancel()

	fig := &latencyFigure{Tries: b.opts.tries}
	for i := range b.opts.tries {
		// Idle: the previous try's reconciles (its status, its children's events) are done.
		if _, _, err := waitIdle(waitCtx, m, 0, 0, 20*time.Millisecond); err != nil {
			return err
		}
		isvc := newInferenceService(latencyNamespace, inferenceServiceName("latency", i))
		applied := time.Now()
		if err := c.client.Create(waitCtx, isvc); err != nil {
			return fmt.Errorf("creating %s: %w", client.ObjectKeyFromObject(isvc), err)
		}
		last, err := watch.waitChildren(waitCtx, isvc.Name)
		if err != nil {
			return err
		}
		fig.Seconds = append(fig.Seconds, last.Sub(applied).Seconds())
		if err := watch.waitConvergedName(waitCtx, isvc.Name); err != nil {
			return err
		}
	}
	fig.P50, fig.P99 = percentile(fig.Seconds, 50), percentile(fig.Seconds, 99)
	fig.Max = slices.Max(fig.Seconds)
	b.results.Latency = fig
	progressf("  p50 %.3f s, p99 %.3f s", fig.P50, fig.P99)
	return nil
}

// memory measures figure 4. A point at N was read after figure 1. Points at or above what
// the main API server holds now are topped up there; smaller ones need a fresh API server
// of their own. The unrelated objects then go to the main API server, with the manager
// of its last point running.
func (b *bench) memory(ctx context.Context, main *cluster, m *managerProcess) error {
	held, err := countInferenceServices(ctx, main.client)
	if err != nil {
		return err
	}
	var onMain, onFresh []int
	for _, p := range b.opts.memoryPoints {
		switch {
		case p == b.opts.n: // read after figure 1
		case p >= held:
			onMain = append(onMain, p)
		default:
			onFresh = append(onFresh, p)
		}
	}
	if len(onFresh) > 0 {
		if err := b.memoryOnFreshCluster(ctx, onFresh); err != nil {
			return err
		}
	}
	for _, p := range onMain {
		if m, err = b.memoryPoint(ctx, main, m, p); err != nil {
			return err
		}
	}
	slices.SortFunc(b.results.Memory.Points, func(a, b memoryPoint) int { return a.CRs - b.CRs })
	b.results.Memory.GrowthPerCRKiB, b.results.Memory.HeapGrowthPerCRKiB = growthPerCR(b.results.Memory.Points)
	return b.unrelated(ctx, main, m)
}

func (b *bench) memoryOnFreshCluster(ctx context.Context, points []int) error {
	c, err := b.startCluster("memory")
	if err != nil {
		return err
	}
	var m *managerProcess
	for _, p := range points {
		if m, err = b.memoryPoint(ctx, c, m, p); err != nil {
			return err
		}
	}
	if err := b.stopManager(m); err != nil {
		return err
	}
	return b.stopCluster(c)
}

// memoryPoint stops m (if any), tops the cluster up to crs InferenceServices, starts a
// fresh manager, waits until every InferenceService has reported its generation and the
// manager is idle, and reads its memory. It returns the new manager, still running.
func (b *bench) memoryPoint(ctx context.Context, c *cluster, m *managerProcess, crs int) (*managerProcess, error) {
	if m != nil {
		if err := b.stopManager(m); err != nil {
			return nil, err
		}
	}
	if err := createNamespace(ctx, c.client, memoryNamespace); err != nil {
		return nil, err
	}
	held, err := countInferenceServices(ctx, c.client)
	if err != nil {
		return nil, err
	}
	heldHere, err := countInferenceServicesIn(ctx, c.client, memoryNamespace)
	if err != nil {
		return nil, err
	}
	want := heldHere + crs - held
	if err := createInferenceServices(ctx, c.client, memoryNamespace, "memory", heldHere, want, b.opts.createWorkers); err != nil {
		return nil, err
	}
	watch, err := watchNamespace(ctx, c.config, b.scheme, memoryNamespace, false)
	if err != nil {
		return nil, err
	}
	defer watch.stop()

	m, err = b.startManager(c, b.opts.operator, fmt.Sprintf("figure4-%d", crs))
	if err != nil {
		return nil, err
	}
	waitCtx, cancel := b.waitContext(ctx, m)
	defer cancel()
	if _, err := watch.waitConverged(waitCtx, want); err != nil {
		return m, err
	}
	return m, b.readMemoryPoint(ctx, c, m, crs)
}

// readMemoryPoint waits until m is idle with crs InferenceServices reconciled, lets it
// settle, and records its memory.
func (b *bench) readMemoryPoint(ctx context.Context, c *cluster, m *managerProcess, crs int) error {
	point, _, err := b.idleMemory(ctx, c, m, crs)
	if err != nil {
		return err
	}
	b.results.Memory.Points = append(b.results.Memory.Points, point)
	progressf("  %d CRs: peak RSS %.1f MiB, RSS %.1f MiB, heap in use %.1f MiB", crs, mib(point.PeakRSS), mib(point.RSS), mib(point.HeapInuse))
	return nil
}

// idleMemory waits until m is idle with crs InferenceServices reconciled, lets it settle,
// and reads its memory and its metrics.
func (b *bench) idleMemory(ctx context.Context, c *cluster, m *managerProcess, crs int) (memoryPoint, metrics, error) {
	waitCtx, cancel := b.waitContext(ctx, m)
	defer cancel()
	idleAt, _, err := waitIdle(waitCtx, m, crs, idleStable, 200*time.Millisecond)
	if err != nil {
		return memoryPoint{}, nil, err
	}
	if err := sleep(waitCtx, memorySettle); err != nil {
		return memoryPoint{}, nil, err
	}
	mem, err := m.memory()
	if err != nil {
		return memoryPoint{}, nil, err
	}
	scraped, err := m.scrape(ctx)
	if err != nil {
		return memoryPoint{}, nil, err
	}
	inuse, alloc := scraped.heap()
	return memoryPoint{CRs: crs, Cluster: c.name, IdleSeconds: idleAt.Sub(m.started).Seconds(),
		PeakRSS: mem.PeakRSS, RSS: mem.RSS, HeapInuse: int64(inuse), HeapAlloc: int64(alloc),
		SettleMillis: memorySettle.Milliseconds()}, scraped, nil
}

// growthPerCR is the RSS and heap growth per InferenceService, in KiB, between the first
// and the last point.
func growthPerCR(points []memoryPoint) (rss, heap float64) {
	if len(points) < 2 {
		return 0, 0
	}
	first, last := points[0], points[len(points)-1]
	crs := float64(last.CRs - first.CRs)
	return float64(last.RSS-first.RSS) / 1024 / crs, float64(last.HeapInuse-first.HeapInuse) / 1024 / crs
}

// unrelated measures the end of figure 4: the manager's RSS before and after objects it
// does not manage appear in the cluster.
func (b *bench) unrelated(ctx context.Context, c *cluster, m *managerProcess) error {
	crs, err := countInferenceServices(ctx, c.client)
	if err != nil {
		return err
	}
	before, err := m.memory()
	if err != nil {
		return err
	}
	scraped, err := m.scrape(ctx)
	if err != nil {
		return err
	}
	heapBefore, _ := scraped.heap()
	if err := createNamespace(ctx, c.client, unrelatedNamespace); err != nil {
		return err
	}
	start := time.Now()
	if err := createUnrelated(ctx, c.client, unrelatedNamespace, b.opts.unrelated, b.opts.createWorkers); err != nil {
		return err
	}
	created := time.Since(start)
	waitCtx, cancel := b.waitContext(ctx, m)
	defer cancel()
	if err := sleep(waitCtx, unrelatedSettle); err != nil {
		return err
	}
	after, err := m.memory()
	if err != nil {
		return err
	}
	if scraped, err = m.scrape(ctx); err != nil {
		return err
	}
	heapAfter, _ := scraped.heap()
	fig := &unrelatedFigure{Each: b.opts.unrelated, CRs: crs, RSSBefore: before.RSS, RSSAfter: after.RSS,
		HeapBefore: int64(heapBefore), HeapAfter: int64(heapAfter), CreateSeconds: created.Seconds(),
		GrowthPercent: 100 * float64(after.RSS-before.RSS) / float64(before.RSS)}
	b.results.Memory.Unrelated = fig
	progressf("  %d unrelated objects in %.1f s: RSS %.1f -> %.1f MiB (%+.1f %%)", 3*fig.Each, fig.CreateSeconds,
		mib(fig.RSSBefore), mib(fig.RSSAfter), fig.GrowthPercent)
	return nil
}

// knobs measures figure 5: one fresh API server per setting, N InferenceServices each.
// The operator's own setting was measured by figure 1 on a fresh manager already. A
// setting that fails to converge is recorded and the next one runs.
func (b *bench) knobs(ctx context.Context) error {
	for i, s := range b.opts.settings {
		if fig := b.results.Convergence; fig != nil && fig.Operator.Error == "" && s == b.opts.operator {
			b.results.Knobs = append(b.results.Knobs, knobRun{convergenceRun: fig.Operator, FloorSeconds: fig.FloorSeconds, Source: "figure 1 (main)"})
			continue
		}
		name := fmt.Sprintf("knob%d", i+1)
		run, floor, err := b.knob(ctx, name, s)
		b.results.Knobs = append(b.results.Knobs, knobRun{convergenceRun: run, FloorSeconds: floor.Seconds(), Source: name})
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			b.results.Knobs[len(b.results.Knobs)-1].Error = err.Error()
			b.results.fail("figure 5 at %s: %v", s, err)
		}
	}
	return nil
}

// knob measures one setting of figure 5 on a fresh API server: the floor with the same
// setting, then the operator.
func (b *bench) knob(ctx context.Context, name string, s setting) (convergenceRun, time.Duration, error) {
	run := convergenceRun{Setting: s, N: b.opts.n}
	c, err := b.startCluster(name)
	if err != nil {
		return run, 0, err
	}
	if err := createNamespace(ctx, c.client, floorNamespace); err != nil {
		return run, 0, errors.Join(err, b.stopCluster(c))
	}
	floor, err := runFloor(ctx, c.config, c.client, floorNamespace, b.opts.n, s)
	if err != nil {
		return run, 0, errors.Join(err, b.stopCluster(c))
	}
	progressf("  floor at %v: %d x 3 objects in %.1f s", s, b.opts.n, floor.Seconds())
	run, m, err := b.converge(ctx, c, knobNamespace, "knob", b.opts.n, s, "figure5-"+name)
	if m != nil {
		err = errors.Join(err, b.stopManager(m))
	}
	return run, floor, errors.Join(err, b.stopCluster(c))
}

// startCluster starts a fresh control plane and keeps it for close.
func (b *bench) startCluster(name string) (*cluster, error) {
	return b.startClusterWith(name, nil)
}

// startClusterWith starts a fresh control plane with further kube-apiserver flags.
func (b *bench) startClusterWith(name string, apiServerFlags map[string]string) (*cluster, error) {
	start := time.Now()
	c, err := startCluster(name, b.logDir, b.opts.crdDir, b.scheme, apiServerFlags)
	if err != nil {
		return nil, err
	}
	b.clusters = append(b.clusters, c)
	if b.results.Machine.KubeAPIServer == "" {
		b.results.Machine.KubeAPIServer = c.version
	}
	progressf("  API server %q up in %.1f s", name, time.Since(start).Seconds())
	return c, nil
}

func (b *bench) stopCluster(c *cluster) error {
	b.clusters = slices.DeleteFunc(b.clusters, func(other *cluster) bool { return other == c })
	return c.stop()
}

// startManager starts a manager process on c with setting s and any further flags; its
// log is logs/NN-LABEL.log.
func (b *bench) startManager(c *cluster, s setting, label string, extraFlags ...string) (*managerProcess, error) {
	b.managerRuns++
	logPath := filepath.Join(b.logDir, fmt.Sprintf("manager-%02d-%s.log", b.managerRuns, label))
	m, err := startManager(b.opts.managerPath, c.kubeconfig, logPath, s, extraFlags...)
	if err != nil {
		return nil, err
	}
	b.managers = append(b.managers, m)
	return m, nil
}

func (b *bench) stopManager(m *managerProcess) error {
	b.managers = slices.DeleteFunc(b.managers, func(other *managerProcess) bool { return other == m })
	return m.stop()
}

// waitContext bounds a wait on m by -timeout and by m's life.
func (b *bench) waitContext(ctx context.Context, m *managerProcess) (context.Context, context.CancelFunc) {
	alive, stopAlive := m.alive(ctx)
	timed, stopTimer := context.WithTimeoutCause(alive, b.opts.timeout,
		fmt.Errorf("timed out after %s (-timeout)", b.opts.timeout))
	return timed, func() { stopTimer(); stopAlive() }
}

// stopAll stops every manager and control plane still running.
func (b *bench) stopAll() {
	for _, m := range slices.Clone(b.managers) {
		_ = b.stopManager(m)
	}
	for _, c := range slices.Clone(b.clusters) {
		if err := b.stopCluster(c); err != nil {
			progressf("stopping control plane %s: %v", c.name, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(d):
		return nil
	}
}

// progressf prints a progress line on stderr, so that stdout holds the report only.
func progressf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
