package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// Figure 7 is issue 14's figure 4: the cost of the operator under a live autoscaler.
const (
	autoscalerNamespace = "bench-autoscaler"
	// autoscalerMetric is the External metric every InferenceService scales on, one
	// series per service (label autoscalerMetricLabel = its name), served by the metrics
	// adapter and written by the benchmark every metricStep.
	autoscalerMetric      = "bench_requests_waiting"
	autoscalerMetricLabel = "inferenceservice"
	// hpaSyncPeriod is kube-controller-manager's default --horizontal-pod-autoscaler-sync-period,
	// which the figure leaves as it is.
	hpaSyncPeriod = 15 * time.Second
	// metricStep is how often each metric takes a new value: a third of the HPA's sync
	// period, so that every sync of every HPA reads a value the previous one did not.
	metricStep = 5 * time.Second
	// autoscalerWarmup runs between a manager's first reconcile of every InferenceService
	// and the measured window: the writes of its start (a restarted manager writes
	// every status whose metrics moved while no manager ran) are not measured.
	autoscalerWarmup = time.Minute
	// The goals of issue 14's figure 4.
	goalMetricWritesPerMinute = 1.0
	goalMetricStaleness       = 60 * time.Second
)

// autoscalerTarget is the HPA's AverageValue target of every service. The values written
// stay within 5 % of it, inside the HPA's 10 % tolerance, so that no HPA rescales.
var autoscalerTarget = resource.MustParse("10")

// metricValue is the value of service i's metric in step k, in thousandths: 9.5 to 10.49,
// a step of 0.01 each metricStep, wrapping after 100 steps; services are spread over the
// range so that they do not all read the same value. Step 0, while the cluster converges,
// is 9.5 for every service: an HPA whose first sync comes before its Deployment reports
// a replica divides by 0 replicas and scales to ceil(value / target), which is 1 only
// for a value at or below the target.
func metricValue(i, k int) int64 {
	if k == 0 {
		return 9500
	}
	return 9500 + 10*int64((i+k)%100)
}

// autoscalerFigure is figure 7.
type autoscalerFigure struct {
	CRs               int     `json:"crs"`
	SyncPeriodSeconds float64 `json:"hpaSyncPeriodSeconds"`
	MetricStepSeconds float64 `json:"metricStepSeconds"`
	WarmupSeconds     float64 `json:"warmupSeconds"`
	Metric            string  `json:"metric"`
	SetupSeconds      float64 `json:"setupSeconds"`
	// FlagSupported tells whether the manager has --metric-status-interval; without it
	// only the baseline (every change written) is measured.
	FlagSupported bool              `json:"metricStatusIntervalFlag"`
	Phases        []autoscalerPhase `json:"phases"`
	// MetricWrites counts the values written to the adapter; MetricWriteErrors the
	// writes that failed, with the last error.
	MetricWrites int `json:"metricWrites"`
	// ScaleEvents counts every HPA rescale the watch saw in the whole figure, setup included.
	ScaleEvents          int    `json:"scaleEvents"`
	MetricWriteErrors    int    `json:"metricWriteErrors"`
	LastMetricWriteError string `json:"lastMetricWriteError,omitempty"`
}

// autoscalerPhase is one manager measured over a window of the live autoscaler.
type autoscalerPhase struct {
	Label        string   `json:"label"`
	ManagerFlags []string `json:"managerFlags"`
	// Default is the manager at its shipped --metric-status-interval.
	Default        bool    `json:"default"`
	WindowSeconds  float64 `json:"windowSeconds"`
	WindowStart    string  `json:"windowStart"`
	WarmupSeconds  float64 `json:"warmupSeconds"`
	ReconcileAllAt float64 `json:"reconciledAllAfterSeconds"`
	// StatusWrites are the manager's InferenceService status write requests in the window
	// (audit log); StatusUpdates the InferenceService changes the watch saw (a write that
	// changes nothing does not show there); ManagerWrites the write requests of the
	// manager's own client metrics, every resource.
	StatusWrites          int     `json:"statusWrites"`
	StatusUpdates         int     `json:"statusUpdates"`
	ManagerWrites         int     `json:"managerClientWrites"`
	WritesPerCRPerMinute  float64 `json:"statusWritesPerCRPerMinute"`
	UpdatesPerCRPerMinute float64 `json:"statusUpdatesPerCRPerMinute"`
	// HPAChanges are the HPA status changes with new currentMetrics in the window.
	HPAChanges           int     `json:"hpaMetricChanges"`
	HPAChangesPerCRPerMi float64 `json:"hpaMetricChangesPerCRPerMinute"`
	// Staleness is, for each HPA metric change in the window, the time until the
	// InferenceService showed that value or a newer one (Unshown: not by the window's
	// end, counted with their age then).
	StalenessMaxSeconds float64 `json:"stalenessMaxSeconds"`
	StalenessP99Seconds float64 `json:"stalenessP99Seconds"`
	StalenessP50Seconds float64 `json:"stalenessP50Seconds"`
	Unshown             int     `json:"unshown"`
	// TargetsMismatch counts InferenceService updates whose currentMetrics equalled one of
	// the HPA's while status.targets did not say the same value.
	TargetsMismatch int `json:"targetsMismatch"`
	// Writes are the manager's write requests in the window by resource (audit log);
	// ChildWrites those to Deployments, Services and HPAs.
	Writes      map[string]int `json:"writesByResource"`
	ChildWrites int            `json:"childWrites"`
	ScaleEvents int            `json:"scaleEvents"`
	CPUSeconds  float64        `json:"managerCPUSeconds"`
}

// childResources are the resources of the operator's children, as the audit log names them.
var childResources = []string{"deployments", "services", "horizontalpodautoscalers"}

// metricStatusIntervalSupported tells whether the manager binary has --metric-status-interval.
func metricStatusIntervalSupported(managerPath string) bool {
	out, _ := exec.Command(managerPath, "--help").CombinedOutput()
	return strings.Contains(string(out), "metric-status-interval")
}

// autoscaler measures figure 7 on a fresh API server with the simulated cluster's
// kube-controller-manager (Deployment, ReplicaSet, node lifecycle and, here, the HPA
// controller at its default sync period), kube-scheduler, kwok and the metrics adapter:
//
//  1. -autoscaler-n InferenceServices, each scaling on its own External metric, whose
//     value the benchmark changes every metricStep, within the HPA's tolerance;
//  2. a manager with --metric-status-interval=0 (today's behaviour: every change
//     written) converges them; once every pod runs and every status shows the HPA's
//     metrics, and a warm-up, its writes and staleness are measured for
//     -autoscaler-baseline-minutes;
//  3. a manager at the shipped default, started on the same cluster, measured the same
//     way for -autoscaler-minutes.
//
// Without --metric-status-interval in the manager, step 2 runs without the flag and step
// 3 is left out.
func (b *bench) autoscaler(ctx context.Context) error {
	start := time.Now()
	n := b.opts.autoscalerN
	fig := &autoscalerFigure{CRs: n, SyncPeriodSeconds: hpaSyncPeriod.Seconds(), MetricStepSeconds: metricStep.Seconds(),
		WarmupSeconds: autoscalerWarmup.Seconds(), FlagSupported: metricStatusIntervalSupported(b.opts.managerPath),
		Metric: fmt.Sprintf("External %s, AverageValue target %s, values %.2f-%.2f", autoscalerMetric, autoscalerTarget.String(),
			float64(metricValue(0, 0))/1000, float64(metricValue(0, 99))/1000)}
	b.results.Autoscaler = fig

	flags, auditLog, err := autoscalerAPIServerFlags(filepath.Join(b.logDir, "autoscaler-pki"))
	if err != nil {
		return err
	}
	c, err := b.startClusterWith("autoscaler", flags)
	if err != nil {
		return err
	}
	defer func() { _ = b.stopCluster(c) }()
	if b.results.Machine.KubeAPIServer == "" {
		b.results.Machine.KubeAPIServer = c.version
	}
	// The simulated cluster's components have a user of their own, so that the audit
	// log's writes of operatorUser are the manager's alone.
	simKubeconfig, err := c.writeUserKubeconfig(b.logDir, "bench-sim")
	if err != nil {
		return err
	}
	sim, err := startSim(c.name, b.logDir, simKubeconfig, b.opts.kubeBin, b.opts.kwokPath, b.opts.kwokStages,
		"horizontal-pod-autoscaler-controller")
	if err != nil {
		return err
	}
	defer func() { _ = sim.stop() }()
	adapter, err := startMetricsAdapter(ctx, c, b.opts.adapterPath, simKubeconfig, b.logDir)
	if adapter != nil {
		sim.procs = append(sim.procs, adapter.process)
	}
	if err != nil {
		return err
	}
	for i := range n/(fakeNodePods/2) + 1 {
		if err := createIgnoringExisting(ctx, c.client, newFakeNode(i)); err != nil {
			return fmt.Errorf("creating fake node %d: %w", i, err)
		}
	}
	if err := createNamespace(ctx, c.client, autoscalerNamespace); err != nil {
		return err
	}
	names := make([]string, n)
	for i := range names {
		names[i] = inferenceServiceName("autoscaler", i)
	}
	// The metrics exist before the HPAs do, so that no HPA starts with a failed read.
	writer := &metricWriter{baseURL: adapter.writeURL, namespace: autoscalerNamespace, names: names,
		client: &http.Client{Timeout: 10 * time.Second}, fig: fig}
	if err := writer.round(ctx, 0); err != nil {
		return err
	}
	// The values start changing once the cluster has converged (startWriter).
	writerCtx, cancelWriter := context.WithCancel(ctx)
	writerDone := make(chan struct{})
	startWriter := func() { go func() { writer.run(writerCtx); close(writerDone) }() }
	stopWriter := sync.OnceFunc(func() {
		cancelWriter()
		if writer.started {
			<-writerDone
		}
	})
	defer stopWriter()

	err = parallel(ctx, n, b.opts.createWorkers, func(ctx context.Context, i int) error {
		return createIgnoringExisting(ctx, c.client, newAutoscaledInferenceService(autoscalerNamespace, names[i]))
	})
	if err != nil {
		return fmt.Errorf("creating InferenceServices in %s: %w", autoscalerNamespace, err)
	}
	watch, err := watchAutoscaler(ctx, c, b)
	if err != nil {
		return err
	}
	defer watch.stop()

	phases := []struct {
		label     string
		flags     []string
		minutes   float64
		isDefault bool
	}{{"baseline (--metric-status-interval=0: every change written)", []string{"--metric-status-interval=0"}, b.opts.autoscalerBaselineMinutes, false},
		{"shipped default (--metric-status-interval not set)", nil, b.opts.autoscalerMinutes, true}}
	if !fig.FlagSupported {
		phases = phases[:1]
		phases[0].label, phases[0].flags = "this manager (it has no --metric-status-interval: every change written)", nil
	}
	for i, p := range phases {
		var converged func()
		if i == 0 {
			converged = func() { writer.started = true; startWriter() }
		}
		phase, err := b.autoscalerPhase(ctx, c, sim, watch, auditLog, p.label, p.flags, p.minutes, p.isDefault, converged, start)
		fig.Phases = append(fig.Phases, phase)
		if err != nil {
			return err
		}
		if i == 0 {
			fig.SetupSeconds = time.Since(start).Seconds() - phase.WarmupSeconds - phase.WindowSeconds
		}
	}
	stopWriter()
	fig.ScaleEvents = watch.scaleEvents()
	return errors.Join(sim.failed(), sim.stop())
}

// autoscalerPhase runs one manager: on the first phase (converged not nil) it waits for
// the cluster to converge (every InferenceService at its generation and showing its
// HPA's metrics, every pod Ready) and calls converged; then, once the manager has
// reconciled every InferenceService, a warm-up and the measured window.
func (b *bench) autoscalerPhase(ctx context.Context, c *cluster, sim *simComponents, watch *autoscalerWatch, auditLog,
	label string, flags []string, minutes float64, isDefault bool, converged func(), figureStart time.Time) (autoscalerPhase, error) {
	phase := autoscalerPhase{Label: label, ManagerFlags: flags, Default: isDefault, WarmupSeconds: autoscalerWarmup.Seconds()}
	n := b.opts.autoscalerN
	m, err := b.startManager(c, b.opts.operator, "figure7-"+map[bool]string{true: "default", false: "baseline"}[isDefault], flags...)
	if err != nil {
		return phase, err
	}
	defer func() { _ = b.stopManager(m) }()
	waitCtx, cancel := b.waitContext(ctx, m)
	defer cancel()
	if converged != nil {
		if err := b.waitAutoscalerConverged(waitCtx, c, sim, watch, n); err != nil {
			return phase, err
		}
		converged()
		progressf("  %d InferenceServices converged with their pods Ready and their HPAs' metrics shown, %.1f s after the figure began",
			n, time.Since(figureStart).Seconds())
	}
	for {
		scraped, err := m.scrape(waitCtx)
		if err == nil && scraped.reconciles() >= n {
			break
		}
		if err := sleep(waitCtx, time.Second); err != nil {
			return phase, fmt.Errorf("waiting for the manager to reconcile %d InferenceServices: %w", n, err)
		}
	}
	phase.ReconcileAllAt = time.Since(m.started).Seconds()
	if err := sleep(waitCtx, autoscalerWarmup); err != nil {
		return phase, err
	}
	before, err := m.scrape(waitCtx)
	if err != nil {
		return phase, err
	}
	cpuBefore, _ := m.cpuSeconds()
	from := time.Now()
	phase.WindowStart = from.UTC().Format(time.RFC3339)
	progressf("  %s: measuring %.0f minutes from %s", label, minutes, from.Format("15:04:05"))
	window := time.Duration(minutes * float64(time.Minute))
	for elapsed := time.Duration(0); elapsed < window; elapsed += time.Minute {
		if err := sleep(waitCtx, min(time.Minute, window-elapsed)); err != nil {
			return phase, err
		}
		if err := sim.failed(); err != nil {
			return phase, err
		}
	}
	to := time.Now()
	after, err := m.scrape(waitCtx)
	if err != nil {
		return phase, err
	}
	cpuAfter, _ := m.cpuSeconds()
	phase.CPUSeconds = cpuAfter - cpuBefore
	phase.ManagerWrites = countRequests(after.requests()).Writes - countRequests(before.requests()).Writes
	phase.WindowSeconds = to.Sub(from).Seconds()
	// The audit log backend writes each event as its request completes; give the last
	// ones a moment.
	if err := sleep(ctx, time.Second); err != nil {
		return phase, err
	}
	if phase.Writes, err = auditWrites(auditLog, from, to); err != nil {
		return phase, err
	}
	phase.StatusWrites = phase.Writes["inferenceservices/status"]
	for res, count := range phase.Writes {
		if slices.Contains(childResources, strings.SplitN(res, "/", 2)[0]) {
			phase.ChildWrites += count
		}
	}
	watch.summarize(&phase, from, to, n)
	if phase.ChildWrites > 0 {
		b.results.fail("figure 7, %s: the manager wrote its children %d times under the live autoscaler (%v)", label, phase.ChildWrites, phase.Writes)
	}
	progressf("  %s: %.2f status writes per InferenceService per minute (%d; the watch saw %d updates), HPA metrics changed %.2f times per minute each; staleness max %.1f s, p99 %.1f s (%d unshown); %d child writes, %d scale events",
		label, phase.WritesPerCRPerMinute, phase.StatusWrites, phase.StatusUpdates, phase.HPAChangesPerCRPerMi,
		phase.StalenessMaxSeconds, phase.StalenessP99Seconds, phase.Unshown, phase.ChildWrites, phase.ScaleEvents)
	return phase, nil
}

// waitAutoscalerConverged waits until every InferenceService reports its generation,
// Ready, and the metrics of its HPA, every HPA has read its metric, and every pod runs.
func (b *bench) waitAutoscalerConverged(ctx context.Context, c *cluster, sim *simComponents, watch *autoscalerWatch, n int) error {
	for {
		if err := sim.failed(); err != nil {
			return err
		}
		pods, err := countPods(ctx, c, autoscalerNamespace)
		if err != nil {
			return err
		}
		converged, ready, hpas, shown := watch.progress()
		if pods.ready == n && converged == n && ready == n && hpas == n && shown == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for figure 7 to converge: %d of %d pods ready, %d InferenceServices at their generation, %d Ready, %d HPAs with metrics, %d showing them: %w",
				pods.ready, n, converged, ready, hpas, shown, context.Cause(ctx))
		case <-time.After(2 * time.Second):
		}
	}
}

// newAutoscaledInferenceService is figure 7's InferenceService: the benchmark's usual
// one, scaling on its own series of the External metric.
func newAutoscaledInferenceService(namespace, name string) *servingv1alpha1.InferenceService {
	isvc := newInferenceService(namespace, name)
	target := autoscalerTarget.DeepCopy()
	isvc.Spec.Autoscaling.Metrics = []autoscalingv2.MetricSpec{{
		Type: autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: autoscalerMetric,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{autoscalerMetricLabel: name}}},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &target},
		},
	}}
	return isvc
}

// metricWriter writes every service's metric value to the adapter, every metricStep.
type metricWriter struct {
	baseURL   string
	namespace string
	names     []string
	client    *http.Client
	mu        sync.Mutex
	fig       *autoscalerFigure
	started   bool
}

// round writes step k's value of every service; it fails only when every write failed.
func (w *metricWriter) round(ctx context.Context, k int) error {
	var failed, written int
	_ = parallel(ctx, len(w.names), 8, func(ctx context.Context, i int) error {
		err := w.write(ctx, w.names[i], metricValue(i, k))
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			failed++
			w.fig.MetricWriteErrors++
			w.fig.LastMetricWriteError = err.Error()
		} else {
			written++
			w.fig.MetricWrites++
		}
		return nil
	})
	if written == 0 && failed > 0 {
		return fmt.Errorf("writing the metrics to the adapter: %s", w.fig.LastMetricWriteError)
	}
	return ctx.Err()
}

func (w *metricWriter) write(ctx context.Context, name string, milli int64) error {
	u := fmt.Sprintf("%s/write-external-metrics/namespaces/%s/%s?labels=%s", w.baseURL, w.namespace, autoscalerMetric,
		url.QueryEscape(autoscalerMetricLabel+"="+name))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(fmt.Sprintf("%q", fmt.Sprintf("%dm", milli))))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return nil
}

// run writes a new value every metricStep until ctx ends.
func (w *metricWriter) run(ctx context.Context) {
	ticker := time.NewTicker(metricStep)
	defer ticker.Stop()
	for k := 1; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		_ = w.round(ctx, k)
	}
}

// autoscalerWatch follows the figure's InferenceServices and HPAs through informers and
// records, per service, every HPA metric change and when the InferenceService showed it.
type autoscalerWatch struct {
	stop     context.CancelFunc
	mu       sync.Mutex
	services map[string]*serviceTrack
}

type serviceTrack struct {
	// versions are the HPA's successive currentMetrics, in the order seen; shown is the
	// index of the newest one the InferenceService has shown (-1: none).
	versions []metricVersion
	shown    int
	// hpaScale is the HPA's lastScaleTime seen last; scaleEvents the times it changed.
	hpaScale    *metav1.Time
	scaleEvents []time.Time
	hpaSeen     bool

	isvc            *servingv1alpha1.InferenceService
	updates         []time.Time
	targetsMismatch []time.Time
}

// metricVersion is one HPA status with new currentMetrics: when the watch saw it, and
// what the InferenceService shows for it (currentMetrics unchanged and status.targets
// as the operator formats it, kubectl's TARGETS column).
type metricVersion struct {
	at      time.Time
	metrics []autoscalingv2.MetricStatus
	targets string
	shownAt time.Time
}

func watchAutoscaler(ctx context.Context, c *cluster, b *bench) (*autoscalerWatch, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &autoscalerWatch{stop: cancel, services: map[string]*serviceTrack{}}
	informers, err := cache.New(c.config, cache.Options{Scheme: b.scheme, DefaultNamespaces: map[string]cache.Config{autoscalerNamespace: {}}})
	if err != nil {
		cancel()
		return nil, err
	}
	for obj, observe := range map[client.Object]func(obj any){
		&servingv1alpha1.InferenceService{}:      w.observeInferenceService,
		&autoscalingv2.HorizontalPodAutoscaler{}: w.observeHPA,
	} {
		informer, err := informers.GetInformer(ctx, obj)
		if err != nil {
			cancel()
			return nil, err
		}
		if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: observe, UpdateFunc: func(_, obj any) { observe(obj) },
		}); err != nil {
			cancel()
			return nil, err
		}
	}
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(ctx) {
		cancel()
		return nil, fmt.Errorf("the watches on namespace %s did not sync", autoscalerNamespace)
	}
	return w, nil
}

func (w *autoscalerWatch) track(name string) *serviceTrack {
	t := w.services[name]
	if t == nil {
		t = &serviceTrack{shown: -1}
		w.services[name] = t
	}
	return t
}

// expectedTargets is status.targets for the HPA's currentMetrics, as the operator writes
// it for an External AverageValue metric ("name: current/target (avg)").
func expectedTargets(metrics []autoscalingv2.MetricStatus) string {
	current := "<unknown>"
	for _, m := range metrics {
		if m.External != nil && m.External.Metric.Name == autoscalerMetric && m.External.Current.AverageValue != nil {
			current = m.External.Current.AverageValue.String()
		}
	}
	return autoscalerMetric + ": " + current + "/" + autoscalerTarget.String() + " (avg)"
}

func (w *autoscalerWatch) observeHPA(obj any) {
	hpa, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.track(hpa.Name)
	if t.hpaSeen && hpa.Status.LastScaleTime != nil && (t.hpaScale == nil || !t.hpaScale.Equal(hpa.Status.LastScaleTime)) {
		t.scaleEvents = append(t.scaleEvents, now)
	}
	t.hpaSeen, t.hpaScale = true, hpa.Status.LastScaleTime
	if len(hpa.Status.CurrentMetrics) == 0 {
		return
	}
	if last := len(t.versions) - 1; last >= 0 && equality.Semantic.DeepEqual(t.versions[last].metrics, hpa.Status.CurrentMetrics) {
		return
	}
	v := metricVersion{at: now, metrics: hpa.Status.CurrentMetrics, targets: expectedTargets(hpa.Status.CurrentMetrics)}
	t.versions = append(t.versions, v)
	// The operator's watch may have been quicker than the benchmark's.
	if t.isvc != nil {
		t.match(now)
	}
}

func (w *autoscalerWatch) observeInferenceService(obj any) {
	isvc, ok := obj.(*servingv1alpha1.InferenceService)
	if !ok {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.track(isvc.Name)
	if t.isvc != nil && t.isvc.ResourceVersion != isvc.ResourceVersion {
		t.updates = append(t.updates, now)
	}
	t.isvc = isvc
	t.match(now)
}

// match marks the HPA versions up to the newest one the InferenceService shows now.
func (t *serviceTrack) match(now time.Time) {
	status := t.isvc.Status
	for j := len(t.versions) - 1; j > t.shown; j-- {
		v := &t.versions[j]
		if !equality.Semantic.DeepEqual(v.metrics, status.CurrentMetrics) {
			continue
		}
		if status.Targets != v.targets {
			t.targetsMismatch = append(t.targetsMismatch, now)
			return
		}
		for i := t.shown + 1; i <= j; i++ {
			t.versions[i].shownAt = now
		}
		t.shown = j
		return
	}
}

// scaleEvents counts the HPA rescales seen so far.
func (w *autoscalerWatch) scaleEvents() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	total := 0
	for _, t := range w.services {
		total += len(t.scaleEvents)
	}
	return total
}

// progress counts the InferenceServices at their generation, Ready, the HPAs that read
// their metric and the InferenceServices showing its newest value.
func (w *autoscalerWatch) progress() (converged, ready, hpas, shown int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.services {
		if t.isvc != nil && t.isvc.Status.ObservedGeneration == t.isvc.Generation {
			converged++
			if meta.IsStatusConditionTrue(t.isvc.Status.Conditions, servingv1alpha1.ConditionReady) {
				ready++
			}
		}
		if len(t.versions) > 0 {
			hpas++
			if t.shown >= 0 {
				shown++
			}
		}
	}
	return converged, ready, hpas, shown
}

// summarize fills the watch's figures of the window [from, to) into phase.
func (w *autoscalerWatch) summarize(phase *autoscalerPhase, from, to time.Time, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	var staleness []float64
	for _, t := range w.services {
		for _, at := range t.updates {
			if in(at) {
				phase.StatusUpdates++
			}
		}
		for _, at := range t.scaleEvents {
			if in(at) {
				phase.ScaleEvents++
			}
		}
		for _, at := range t.targetsMismatch {
			if in(at) {
				phase.TargetsMismatch++
			}
		}
		for _, v := range t.versions {
			if !in(v.at) {
				continue
			}
			phase.HPAChanges++
			shownAt := v.shownAt
			if shownAt.IsZero() || shownAt.After(to) {
				phase.Unshown++
				shownAt = to
			}
			staleness = append(staleness, shownAt.Sub(v.at).Seconds())

		}
	}
	perCRPerMinute := func(count int) float64 {
		if n == 0 || !to.After(from) {
			return 0
		}
		return float64(count) / float64(n) / to.Sub(from).Minutes()
	}
	phase.WritesPerCRPerMinute = perCRPerMinute(phase.StatusWrites)
	phase.UpdatesPerCRPerMinute = perCRPerMinute(phase.StatusUpdates)
	phase.HPAChangesPerCRPerMi = perCRPerMinute(phase.HPAChanges)
	if len(staleness) > 0 {
		phase.StalenessMaxSeconds = slices.Max(staleness)
		phase.StalenessP99Seconds = percentile(staleness, 99)
		phase.StalenessP50Seconds = percentile(staleness, 50)
	}
}

// autoscalerRows are figure 7's lines of the summary table.
func (r *Results) autoscalerRows(notMeasured string) []row {
	f := r.Autoscaler
	title := "7. live autoscaler (issue 14 fig. 4)"
	if f == nil || len(f.Phases) == 0 || f.Phases[0].WindowSeconds == 0 {
		return []row{{title, notMeasured, "", ""}}
	}
	var rows []row
	var judged *autoscalerPhase
	for i := range f.Phases {
		if f.Phases[i].Default && f.Phases[i].WindowSeconds > 0 {
			judged = &f.Phases[i]
		}
	}
	if judged != nil {
		p := judged
		rows = append(rows,
			row{fmt.Sprintf("%s: status writes per CR per minute, default (%d CRs, %.1f min)", title, f.CRs, p.WindowSeconds/60),
				fmt.Sprintf("%.2f (%d status writes; the watch saw %d updates; each HPA's metrics changed %.2f times per minute)",
					p.WritesPerCRPerMinute, p.StatusWrites, p.StatusUpdates, p.HPAChangesPerCRPerMi),
				fmt.Sprintf("<= %g", goalMetricWritesPerMinute), goalVerdict(p.WritesPerCRPerMinute <= goalMetricWritesPerMinute)},
			row{"   currentMetrics/targets behind the HPA's, max / p99, default",
				fmt.Sprintf("%.1f s / %.1f s (%d HPA changes, %d not shown by the window's end)", p.StalenessMaxSeconds, p.StalenessP99Seconds, p.HPAChanges, p.Unshown),
				fmt.Sprintf("<= %g s", goalMetricStaleness.Seconds()), goalVerdict(p.StalenessMaxSeconds <= goalMetricStaleness.Seconds())})
	} else {
		reason := "not measured (the run ended early)"
		if !f.FlagSupported {
			reason = "not measured: this manager has no --metric-status-interval"
		}
		rows = append(rows, row{title + ": status writes per CR per minute, default", reason, fmt.Sprintf("<= %g", goalMetricWritesPerMinute), ""})
	}
	for _, p := range f.Phases {
		if p.Default || p.WindowSeconds == 0 {
			continue
		}
		rows = append(rows, row{fmt.Sprintf("   baseline, every change written (%.1f min)", p.WindowSeconds/60),
			fmt.Sprintf("%.2f status writes per CR per minute (%d); behind the HPA max %.1f s, p99 %.1f s", p.WritesPerCRPerMinute,
				p.StatusWrites, p.StalenessMaxSeconds, p.StalenessP99Seconds), "stated", ""})
	}
	childWrites, scaleEvents, parts := 0, 0, []string{}
	for _, p := range f.Phases {
		childWrites += p.ChildWrites
		scaleEvents += p.ScaleEvents
		parts = append(parts, fmt.Sprintf("%d %s", p.ChildWrites, phaseShortName(p)))
	}
	rows = append(rows,
		row{"   writes to Deployments, Services, HPAs", strings.Join(parts, ", "), "0", invariantVerdict(childWrites == 0)},
		row{"   scale events in the windows", fmt.Sprintf("%d (metrics kept within the HPA's 10 %% tolerance; %d in the whole figure)", scaleEvents, f.ScaleEvents), "", ""})
	if f.MetricWriteErrors > 0 {
		rows = append(rows, row{"   metric writes that failed", fmt.Sprintf("%d of %d (%s)", f.MetricWriteErrors,
			f.MetricWrites+f.MetricWriteErrors, f.LastMetricWriteError), "", ""})
	}
	return rows
}

func phaseShortName(p autoscalerPhase) string {
	if p.Default {
		return "default"
	}
	return "baseline"
}

// autoscalerTable lists figure 7's phases.
func (r *Results) autoscalerTable() table {
	t := table{header: []string{"manager", "window min", "status writes", "per CR per min", "watch updates", "HPA changes",
		"behind HPA max s", "p99 s", "p50 s", "unshown", "writes by resource (audit log)", "manager client writes", "manager CPU s"}}
	if r.Autoscaler == nil {
		return t
	}
	for _, p := range r.Autoscaler.Phases {
		if p.WindowSeconds == 0 {
			continue
		}
		var resources []string
		for res, count := range p.Writes {
			resources = append(resources, fmt.Sprintf("%s %d", res, count))
		}
		sort.Strings(resources)
		t.rows = append(t.rows, []string{p.Label, fmt.Sprintf("%.1f", p.WindowSeconds/60), fmt.Sprint(p.StatusWrites),
			fmt.Sprintf("%.2f", p.WritesPerCRPerMinute), fmt.Sprint(p.StatusUpdates), fmt.Sprint(p.HPAChanges),
			fmt.Sprintf("%.1f", p.StalenessMaxSeconds), fmt.Sprintf("%.1f", p.StalenessP99Seconds), fmt.Sprintf("%.1f", p.StalenessP50Seconds),
			fmt.Sprint(p.Unshown), strings.Join(resources, ", "), fmt.Sprint(p.ManagerWrites), fmt.Sprintf("%.1f", p.CPUSeconds)})
	}
	return t
}

func autoscalerCaption(f *autoscalerFigure) string {
	return fmt.Sprintf("Live autoscaler (figure 7, issue 14's figure 4): %d InferenceServices, the real HPA controller (sync %.0f s, "+
		"kube-controller-manager's default), %s through the metrics adapter, a new value every %.0f s; each manager measured after "+
		"it reconciled every InferenceService and a %.0f s warm-up; setup %.0f s", f.CRs, f.SyncPeriodSeconds, f.Metric,
		f.MetricStepSeconds, f.WarmupSeconds, f.SetupSeconds)
}
