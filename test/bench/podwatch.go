package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// Namespaces of figure 6.
const (
	podsNamespace          = "bench-pods"
	unrelatedPodsNamespace = "bench-unrelated-pods"
)

// goalPodWatchPct is issue 13's bound: the pod watch may move the memory figure by at
// most 5 %.
const goalPodWatchPct = 5

// podWatchFigure is figure 6: the memory the pod watch (issue 13) costs, as the peak RSS
// of the same manager binary with and without it (--watch-pods=false), in the same run,
// on the same cluster, with the managed services' pods and unrelated pods running.
type podWatchFigure struct {
	CRs int `json:"crs"`
	// ManagedPods are the InferenceServices' pods (Running, and the one unschedulable);
	// UnrelatedPods are pods of no InferenceService, all Running.
	ManagedPods          int           `json:"managedPods"`
	ManagedUnschedulable int           `json:"managedUnschedulable"`
	UnrelatedPods        int           `json:"unrelatedPods"`
	Nodes                int           `json:"fakeNodes"`
	SetupSeconds         float64       `json:"setupSeconds"`
	Without              []podWatchRun `json:"without"`
	With                 []podWatchRun `json:"with"`
	// PeakRSSWithout and PeakRSSWith are the medians of the runs; Ratio is With/Without.
	PeakRSSWithout int64   `json:"peakRSSWithoutBytes"`
	PeakRSSWith    int64   `json:"peakRSSWithBytes"`
	Ratio          float64 `json:"ratio"`
}

// podWatchRun is one manager started on the converged cluster and read once idle.
type podWatchRun struct {
	WatchPods   bool          `json:"watchPods"`
	IdleSeconds float64       `json:"idleSeconds"`
	PeakRSS     int64         `json:"peakRSSBytes"`
	RSS         int64         `json:"rssBytes"`
	AnonRSS     int64         `json:"anonRSSBytes"`
	FileRSS     int64         `json:"fileRSSBytes"`
	HeapInuse   int64         `json:"heapInuseBytes"`
	Requests    requestCounts `json:"requests"`
}

// gpuStarvedName is the one InferenceService of figure 6 that asks for a GPU no fake node
// has: its pod stays unschedulable, which only a manager that sees its pods can report.
func gpuStarvedName() string { return inferenceServiceName("pods", 0) }

// podWatch measures figure 6 on a fresh cluster made to run pods (see simComponents):
//
//  1. N InferenceServices (one of them asking for a GPU nobody has) and -unrelated-pods
//     pods of no InferenceService are created; a manager with the pod watch converges the
//     services, and the ReplicaSets' pods turn Running (the GPU one stays unschedulable);
//  2. -pod-watch-runs managers with the pod watch, one after the other, each started on
//     that cluster (the moment every pod is listed at once) and read once idle;
//  3. one manager with --watch-pods=false, which removes PodsSchedulable (a status write
//     per service; not measured), then -pod-watch-runs managers without the pod watch.
//
// Every measured run is a no-op restart: it must send no write. The figure is the median
// peak RSS of each group. The runs are grouped, not interleaved, because each switch of
// --watch-pods rewrites every status, which would be measured instead of the watch.
func (b *bench) podWatch(ctx context.Context) error {
	start := time.Now()
	c, err := b.startCluster("pods")
	if err != nil {
		return err
	}
	defer func() { _ = b.stopCluster(c) }()
	if b.results.Machine.KubeAPIServer == "" {
		b.results.Machine.KubeAPIServer = c.version
	}
	sim, err := startSim(c.name, b.logDir, c.kubeconfig, b.opts.kubeBin, b.opts.kwokPath, b.opts.kwokStages)
	if err != nil {
		return err
	}
	defer func() { _ = sim.stop() }()

	n, unrelated := b.opts.n, b.opts.unrelatedPods
	fig := &podWatchFigure{CRs: n, UnrelatedPods: unrelated, Nodes: (n+unrelated)/(fakeNodePods/2) + 1}
	b.results.PodWatch = fig
	for i := range fig.Nodes {
		if err := createIgnoringExisting(ctx, c.client, newFakeNode(i)); err != nil {
			return fmt.Errorf("creating fake node %d: %w", i, err)
		}
	}
	for _, ns := range []string{podsNamespace, unrelatedPodsNamespace} {
		if err := createNamespace(ctx, c.client, ns); err != nil {
			return err
		}
	}
	err = parallel(ctx, n, b.opts.createWorkers, func(ctx context.Context, i int) error {
		isvc := newInferenceService(podsNamespace, inferenceServiceName("pods", i))
		if isvc.Name == gpuStarvedName() {
			gpu := resource.MustParse("1")
			isvc.Spec.Resources.Requests["nvidia.com/gpu"] = gpu
			isvc.Spec.Resources.Limits["nvidia.com/gpu"] = gpu
		}
		return createIgnoringExisting(ctx, c.client, isvc)
	})
	if err != nil {
		return fmt.Errorf("creating InferenceServices in %s: %w", podsNamespace, err)
	}
	err = parallel(ctx, unrelated, b.opts.createWorkers, func(ctx context.Context, i int) error {
		return createIgnoringExisting(ctx, c.client, newUnrelatedPod(unrelatedPodsNamespace, i, newFakeNode(i%fig.Nodes).Name))
	})
	if err != nil {
		return fmt.Errorf("creating unrelated pods: %w", err)
	}

	watch, err := watchNamespace(ctx, c.config, b.scheme, podsNamespace, false)
	if err != nil {
		return err
	}
	m, err := b.startManager(c, b.opts.operator, "figure6-setup")
	if err != nil {
		watch.stop()
		return err
	}
	waitCtx, cancel := b.waitContext(ctx, m)
	_, err = watch.waitConverged(waitCtx, n)
	watch.stop()
	if err == nil {
		err = b.waitPods(waitCtx, c, sim, fig)
	}
	if err == nil {
		_, _, err = waitIdle(waitCtx, m, n, idleStable, 200*time.Millisecond)
	}
	cancel()
	if err = errors.Join(err, b.stopManager(m)); err != nil {
		return err
	}
	fig.SetupSeconds = time.Since(start).Seconds()
	progressf("  %d InferenceServices, %d managed pods (%d unschedulable), %d unrelated pods on %d fake nodes in %.1f s",
		n, fig.ManagedPods, fig.ManagedUnschedulable, unrelated, fig.Nodes, fig.SetupSeconds)

	fig.With, err = b.podWatchGroup(ctx, c, true)
	if err != nil {
		return err
	}
	m, err = b.startManager(c, b.opts.operator, "figure6-switch-off", "--watch-pods=false")
	if err != nil {
		return err
	}
	waitCtx, cancel = b.waitContext(ctx, m)
	_, _, err = waitIdle(waitCtx, m, n, idleStable, 200*time.Millisecond)
	cancel()
	if err = errors.Join(err, b.stopManager(m)); err != nil {
		return err
	}
	fig.Without, err = b.podWatchGroup(ctx, c, false)
	if err != nil {
		return err
	}
	fig.summarize()
	progressf("  peak RSS with the pod watch %.1f MiB, without %.1f MiB: ratio %.3f", mib(fig.PeakRSSWith), mib(fig.PeakRSSWithout), fig.Ratio)
	return errors.Join(sim.failed(), sim.stop())
}

// waitPods waits until every InferenceService's pod exists, all of them ready but the
// GPU-starved one, which the scheduler must have refused, every unrelated pod is ready,
// and every InferenceService but the GPU-starved one reports Ready: nothing is left to
// change when the measured managers start.
func (b *bench) waitPods(ctx context.Context, c *cluster, sim *simComponents, fig *podWatchFigure) error {
	for {
		if err := sim.failed(); err != nil {
			return err
		}
		managed, err := countPods(ctx, c, podsNamespace)
		if err != nil {
			return err
		}
		others, err := countPods(ctx, c, unrelatedPodsNamespace)
		if err != nil {
			return err
		}
		ready, err := countReady(ctx, c)
		if err != nil {
			return err
		}
		fig.ManagedPods, fig.ManagedUnschedulable = managed.total, managed.unschedulable
		if managed.total == fig.CRs && managed.ready == fig.CRs-1 && managed.unschedulable == 1 &&
			others.ready == fig.UnrelatedPods && ready == fig.CRs-1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the pods: %d of %d managed pods ready, %d unschedulable (%s), %d of %d unrelated pods ready, %d InferenceServices Ready: %w",
				managed.ready, fig.CRs, managed.unschedulable, managed.message, others.ready, fig.UnrelatedPods, ready, context.Cause(ctx))
		case <-time.After(2 * time.Second):
		}
	}
}

// countReady counts the InferenceServices of figure 6 that report Ready=True.
func countReady(ctx context.Context, c *cluster) (int, error) {
	list := &servingv1alpha1.InferenceServiceList{}
	if err := c.client.List(ctx, list, client.InNamespace(podsNamespace)); err != nil {
		return 0, err
	}
	ready := 0
	for i := range list.Items {
		if meta.IsStatusConditionTrue(list.Items[i].Status.Conditions, servingv1alpha1.ConditionReady) {
			ready++
		}
	}
	return ready, nil
}

// podWatchGroup measures -pod-watch-runs managers with or without the pod watch, then
// checks what they reported (checkPodsSchedulable).
func (b *bench) podWatchGroup(ctx context.Context, c *cluster, watchPods bool) ([]podWatchRun, error) {
	variant := map[bool]string{true: "with", false: "without"}[watchPods]
	var runs []podWatchRun
	for i := range b.opts.podWatchRuns {
		run, err := b.podWatchRun(ctx, c, watchPods, fmt.Sprintf("figure6-%s-%d", variant, i+1))
		if err != nil {
			return runs, err
		}
		runs = append(runs, run)
	}
	return runs, b.checkPodsSchedulable(ctx, c, watchPods)
}

// podWatchRun starts a manager with or without the pod watch, waits until it has
// reconciled every InferenceService and idles, lets it settle and reads its memory.
func (b *bench) podWatchRun(ctx context.Context, c *cluster, watchPods bool, label string) (podWatchRun, error) {
	run := podWatchRun{WatchPods: watchPods}
	m, err := b.startManager(c, b.opts.operator, label, fmt.Sprintf("--watch-pods=%t", watchPods))
	if err != nil {
		return run, err
	}
	waitCtx, cancel := b.waitContext(ctx, m)
	defer cancel()
	idleAt, _, err := waitIdle(waitCtx, m, b.opts.n, idleStable, 200*time.Millisecond)
	if err == nil {
		err = sleep(waitCtx, memorySettle)
	}
	if err != nil {
		return run, errors.Join(err, b.stopManager(m))
	}
	mem, err := m.memory()
	if err != nil {
		return run, errors.Join(err, b.stopManager(m))
	}
	scraped, err := m.scrape(ctx)
	if err != nil {
		return run, errors.Join(err, b.stopManager(m))
	}
	if b.opts.profile {
		if err := m.profileHeap(ctx, filepath.Join(b.logDir, "heap-"+label+".pprof")); err != nil {
			return run, errors.Join(err, b.stopManager(m))
		}
	}
	inuse, _ := scraped.heap()
	run.IdleSeconds, run.PeakRSS, run.RSS, run.HeapInuse = idleAt.Sub(m.started).Seconds(), mem.PeakRSS, mem.RSS, int64(inuse)
	run.AnonRSS, run.FileRSS = mem.AnonRSS, mem.FileRSS
	run.Requests = countRequests(scraped.requests())
	if run.Requests.Writes > 0 {
		b.results.fail("figure 6, %s: a restart with nothing changed sent %d write requests (%s)", label,
			run.Requests.Writes, run.Requests.writesByMethod())
	}
	progressf("  %s: peak RSS %.1f MiB, RSS %.1f MiB (anonymous %.1f, files %.1f), heap in use %.1f MiB, idle after %.1f s", label,
		mib(run.PeakRSS), mib(run.RSS), mib(run.AnonRSS), mib(run.FileRSS), mib(run.HeapInuse), run.IdleSeconds)
	return run, b.stopManager(m)
}

// checkPodsSchedulable checks that the managers saw what they were meant to: with the pod
// watch, the GPU-starved service says PodsSchedulable=False in the scheduler's words and
// the others True; without it, no service carries the condition.
func (b *bench) checkPodsSchedulable(ctx context.Context, c *cluster, watched bool) error {
	list := &servingv1alpha1.InferenceServiceList{}
	if err := c.client.List(ctx, list, client.InNamespace(podsNamespace)); err != nil {
		return err
	}
	var wrong []string
	for i := range list.Items {
		isvc := &list.Items[i]
		cond := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionPodsSchedulable)
		switch {
		case !watched && cond != nil:
			wrong = append(wrong, fmt.Sprintf("%s has PodsSchedulable=%s without the pod watch", isvc.Name, cond.Status))
		case watched && isvc.Name == gpuStarvedName() && (cond == nil || cond.Reason != servingv1alpha1.ReasonUnschedulable):
			wrong = append(wrong, fmt.Sprintf("%s, whose pod waits for a GPU, reports %v", isvc.Name, cond))
		case watched && isvc.Name != gpuStarvedName() && (cond == nil || cond.Status != "True"):
			wrong = append(wrong, fmt.Sprintf("%s reports PodsSchedulable %v", isvc.Name, cond))
		}
	}
	if len(wrong) > 0 {
		b.results.fail("figure 6: %d InferenceServices report scheduling wrongly, first: %s", len(wrong), wrong[0])
	}
	return nil
}

// summarize sets the medians and their ratio from the runs measured so far.
func (f *podWatchFigure) summarize() {
	f.PeakRSSWith, f.PeakRSSWithout = medianPeakRSS(f.With), medianPeakRSS(f.Without)
	if f.PeakRSSWithout > 0 {
		f.Ratio = float64(f.PeakRSSWith) / float64(f.PeakRSSWithout)
	}
}

func medianPeakRSS(runs []podWatchRun) int64 {
	values := make([]float64, 0, len(runs))
	for _, r := range runs {
		values = append(values, float64(r.PeakRSS))
	}
	return int64(percentile(values, 50))
}

// podWatchRows are figure 6's lines of the summary table.
func (r *Results) podWatchRows(notMeasured string) []row {
	f := r.PodWatch
	if f == nil || len(f.With) == 0 || len(f.Without) == 0 {
		return []row{{"6. pod watch: peak RSS with / without", notMeasured, "", ""}}
	}
	f.summarize()
	spread := func(runs []podWatchRun) string {
		peaks := make([]float64, 0, len(runs))
		for _, run := range runs {
			peaks = append(peaks, mib(run.PeakRSS))
		}
		return fmt.Sprintf("%.1f-%.1f", slices.Min(peaks), slices.Max(peaks))
	}
	return []row{
		{fmt.Sprintf("6. pod watch: peak RSS with / without (%d CRs)", f.CRs),
			fmt.Sprintf("%.3f (%.1f / %.1f MiB, medians of %d runs each; ranges %s / %s MiB)", f.Ratio,
				mib(f.PeakRSSWith), mib(f.PeakRSSWithout), len(f.With), spread(f.With), spread(f.Without)),
			fmt.Sprintf("<= %.2f", 1+goalPodWatchPct/100.0), goalVerdict(f.Ratio <= 1+goalPodWatchPct/100.0)},
		{"   pods in the cluster",
			fmt.Sprintf("%d of the InferenceServices (%d unschedulable), %d unrelated, on %d fake nodes",
				f.ManagedPods, f.ManagedUnschedulable, f.UnrelatedPods, f.Nodes), "", ""},
	}
}

// podWatchTable lists every run of figure 6.
func (r *Results) podWatchTable() table {
	t := table{header: []string{"pod watch", "peak RSS MiB", "RSS MiB", "heap in use MiB", "idle after s", "requests", "writes"}}
	if r.PodWatch == nil {
		return t
	}
	for _, run := range append(slices.Clone(r.PodWatch.With), r.PodWatch.Without...) {
		label := "on"
		if !run.WatchPods {
			label = "off (--watch-pods=false)"
		}
		t.rows = append(t.rows, []string{label, fmt.Sprintf("%.1f", mib(run.PeakRSS)), fmt.Sprintf("%.1f", mib(run.RSS)),
			fmt.Sprintf("%.1f", mib(run.HeapInuse)), fmt.Sprintf("%.1f", run.IdleSeconds),
			fmt.Sprint(run.Requests.Total), fmt.Sprint(run.Requests.Writes)})
	}
	return t
}

func podWatchCaption(f *podWatchFigure) string {
	return fmt.Sprintf("Pod watch (figure 6): the same manager with and without --watch-pods, each run a restart on %d converged "+
		"InferenceServices with %d of their pods and %d unrelated pods running, read once idle and settled", f.CRs, f.ManagedPods, f.UnrelatedPods)
}
