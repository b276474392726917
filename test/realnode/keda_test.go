//go:build realnode

package realnode

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
	"github.com/inferenceops/inference-operator/test/framework"
)

// prometheusURL is where hack/autoscaling-stack.sh serves Prometheus inside the node
// (hack/test-real-e2e.sh starts the stack after the node); the chart is installed with it
// as prometheusAddress, so the operator's ScaledObjects query it.
const prometheusURL = "http://10.250.0.1:9090"

// The KEDA specs: the model server's real queue (a bounded worker pool, requests waiting
// for a worker) and its latency histogram (the queue wait included) scraped by Prometheus,
// read by KEDA's prometheus trigger, turned by KEDA's HPA into replicas. Each spec builds
// on the one before.
var _ = Describe("autoscaling on inference load with KEDA and Prometheus", Ordered, func() {
	It("scales out on the model server's real queue depth and back in when the load stops, the CR following KEDA's HPA and Ready staying True", func() {
		isvc := kedaSample()
		name := isvc.Name
		trigger := createKEDAService(isvc)
		report("queue depth: ScaledObject %s triggers %v", name, trigger)

		// 24 closed-loop clients against 2 workers per pod at 300 ms an inference: at one
		// pod 22 requests wait, far over the target of 5 per pod.
		w, load, start := watchUnderLoad(name, 24)

		By("the CR's Targets show the queue over its target of 5 per pod")
		var highTargets string
		Eventually(func(g Gomega) {
			cur, err := cluster.InferenceService(ctx(), appNamespace, name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(targetValue(cur.Status.Targets)).To(BeNumerically(">", 5), "status.targets %q", cur.Status.Targets)
			highTargets = cur.Status.Targets
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		report("queue depth: the CR's Targets read %q %.1fs after the load began", highTargets, time.Since(start).Seconds())

		By("KEDA scales out to at least 3 pods, all Ready, and the CR's status follows KEDA's HPA")
		outHPA, outBegan, outAll := w.scaledOut(3)
		printKEDAStatus(name, fmt.Sprintf("queue depth: scaled out to %d pods %.0fs after the load began", outHPA.Status.CurrentReplicas, outAll.Seconds()))
		// A little longer under load: the queue target oscillates (fewer pods, longer queue).
		time.Sleep(10 * time.Second)
		load.Stop()
		loadSummary := framework.Summarize(load.Results(time.Time{}, time.Time{}))
		report("queue depth: load of 24 clients, a new connection per request: %s", loadSummary)
		stopped := time.Now()

		By("the load stops: KEDA scales back in to 1, the queue reads 0 and KEDA's Active goes False")
		w.scaledIn("queue_depth: 0/5")
		inAt := time.Since(stopped)
		printKEDAStatus(name, fmt.Sprintf("queue depth: scaled in to 1 pod %.0fs after the load stopped", inAt.Seconds()))
		samples := w.stop()
		_, maxReplica := w.read()
		report("queue depth: scale-out began %.1fs after the load began (Deployment replicas > 1), %d pods Ready and the CR current %.1fs after; at most %d replicas; scale-in to 1 pod %.1fs after the load stopped (30 s stabilization); Ready not True (or changed) in %d of %d samples: %v",
			outBegan.Seconds(), outHPA.Status.CurrentReplicas, outAll.Seconds(), maxReplica, inAt.Seconds(), len(w.notReady()), samples, w.notReady())
		Expect(outBegan).To(BeNumerically(">", 0))
		Expect(w.notReady()).To(BeEmpty(), "Ready left True (or its lastTransitionTime changed) while KEDA scaled")
		Expect(samples).To(BeNumerically(">=", 30), "Ready was hardly sampled")
		Expect(loadSummary.Failed).To(BeZero(), "requests failed while KEDA scaled: %s", loadSummary)
	})

	// Latency: the p95 of the model server's own histogram of arrival-to-answer times
	// (model_infer_request_duration_seconds, queue wait included), over the last minute.
	// With 2 workers of 300 ms per pod a closed loop of 16 clients waits about 16/2 x 0.3 s
	// = 2.4 s at one pod, and a pod with a free worker answers in 0.3 s: the p95 crosses a
	// target of 1 s only because requests queue, and more pods bring it down.
	It("scales out on the model server's p95 latency (its histogram, queue wait included) over the target under load and back in when the load stops, the CR following KEDA's HPA and Ready staying True", func() {
		const name, target, quantile = "keda-latency", 1.0, 0.95
		isvc := kedaSample()
		isvc.Name = name
		isvc.Spec.Autoscaling.Signals = []servingv1alpha1.AutoscalingSignal{{Type: servingv1alpha1.SignalLatency,
			Server: servingv1alpha1.ServerGeneric, Target: intstr.FromString("1"), Quantile: ptr.To(quantile)}}
		triggers := createKEDAService(isvc)
		Expect(triggers).To(HaveLen(1))
		query, _, _ := unstructured.NestedString(triggers[0].(map[string]any), "metadata", "query")
		Expect(query).To(HavePrefix("histogram_quantile(0.95, "))
		report("latency: ScaledObject %s triggers %v", name, triggers)

		w, load, start := watchUnderLoad(name, 16)

		By("the CR's Targets show the p95 over its target of 1 s, as Prometheus reads it with the ScaledObject's query")
		var highTargets string
		var highP95 float64
		Eventually(func(g Gomega) {
			cur := mustISVC(g, name)
			g.Expect(targetValue(cur.Status.Targets)).To(BeNumerically(">", target), "status.targets %q", cur.Status.Targets)
			highTargets = cur.Status.Targets
			v, err := promQuery(query)
			g.Expect(err).NotTo(HaveOccurred())
			highP95 = v
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		highAt := time.Since(start)
		Expect(highTargets).To(HavePrefix("latency_p95: "))
		Expect(highP95).To(BeNumerically(">", target), "Prometheus' p95 while the CR read %q", highTargets)
		report("latency: the CR's Targets read %q %.1fs after the load began (Prometheus, the ScaledObject's query: p95 %.2fs; the clients' p95 %s)",
			highTargets, highAt.Seconds(), highP95, latencyQuantile(load.Results(time.Time{}, time.Time{}), quantile).Round(time.Millisecond))

		By("KEDA scales out past 1 pod, all Ready, and the CR's status follows KEDA's HPA")
		outHPA, outBegan, outAll := w.scaledOut(2)
		printKEDAStatus(name, fmt.Sprintf("latency: scaled out to %d pods %.0fs after the load began", outHPA.Status.CurrentReplicas, outAll.Seconds()))

		// The query's p95 against the clients' over the same minute (the load's requests so
		// far): a histogram quantile lies in the bucket of the true one, and no bucket of
		// the server's spans more than a factor of 2.5 (1 s to 2.5 s).
		p95, err := promQuery(query)
		Expect(err).NotTo(HaveOccurred())
		clientP95 := latencyQuantile(load.Results(time.Now().Add(-time.Minute), time.Time{}), quantile).Seconds()
		load.Stop()
		loadSummary := framework.Summarize(load.Results(time.Time{}, time.Time{}))
		stopped := time.Now()
		report("latency: over the last minute the query's p95 %.2fs, the clients' %.2fs; load of 16 clients, a new connection per request: %s", p95, clientP95, loadSummary)
		Expect(p95).To(And(BeNumerically(">=", clientP95/2.5), BeNumerically("<=", clientP95*2.5)),
			"the p95 Prometheus reads from the server's histogram is far from the clients' (%.2fs)", clientP95)

		By("the load stops: KEDA scales back in to 1, the latency reads 0 (no requests in the window) and KEDA's Active goes False")
		w.scaledIn("latency_p95: 0/1")
		inAt := time.Since(stopped)
		// With no request in the window the quantile is NaN, which KEDA reads as 0.
		idle, err := promQuery(query)
		printKEDAStatus(name, fmt.Sprintf("latency: scaled in to 1 pod %.0fs after the load stopped (the query reads %v, %v)", inAt.Seconds(), idle, err))
		samples := w.stop()
		_, maxReplica := w.read()
		report("latency: p95 over its target of 1 s %.1fs after the load began, scale-out began %.1fs after (Deployment replicas > 1), %d pods Ready and the CR current %.1fs after; at most %d replicas; scale-in to 1 pod %.1fs after the load stopped (1 min rate window, 30 s stabilization); Ready not True (or changed) in %d of %d samples: %v",
			highAt.Seconds(), outBegan.Seconds(), outHPA.Status.CurrentReplicas, outAll.Seconds(), maxReplica, inAt.Seconds(), len(w.notReady()), samples, w.notReady())
		Expect(outBegan).To(BeNumerically(">", 0))
		Expect(w.notReady()).To(BeEmpty(), "Ready left True (or its lastTransitionTime changed) while KEDA scaled")
		Expect(samples).To(BeNumerically(">=", 30), "Ready was hardly sampled")
		Expect(loadSummary.Failed).To(BeZero(), "requests failed while KEDA scaled: %s", loadSummary)
	})

	// The service of the last two specs burns some CPU per inference as well as waiting,
	// so that a CPU target (engine HPA) and the queue (engine KEDA) both ask for the
	// maximum under the same load: a drop at the switch can only come from the switch.
	const switchName = "keda-switch"
	var switchLoad *framework.Load

	It("switches engine KEDA -> HPA -> KEDA under load without the Deployment's replicas ever dropping", func() {
		isvc := kedaSample()
		isvc.Name = switchName
		isvc.Spec.Args = []string{"--load-delay=5s", "--workers=2", "--infer-sleep=200ms", "--infer-cpu=25ms"}
		isvc.Spec.Autoscaling.MaxReplicas = 3
		Expect(cluster.Client.Create(ctx(), isvc)).To(Succeed())
		Eventually(cluster.ConditionIs(ctx(), appNamespace, switchName, "Ready", metav1.ConditionTrue)).Should(Succeed())
		switchLoad = &framework.Load{URL: serviceURL(switchName), Clients: 24, Timeout: 15 * time.Second}
		switchLoad.Start()
		By("KEDA scales out to the maximum, 3")
		Eventually(func(g Gomega) {
			hpa := statusFollowsKEDA(g, switchName)
			g.Expect(hpa.Status.CurrentReplicas).To(Equal(int32(3)))
		}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())

		var (
			mu      sync.Mutex
			lowest  int32 = 1 << 30
			changes []string
			last    int32 = -1
		)
		stop := everySecond(func() {
			d := &appsv1.Deployment{}
			if err := cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: switchName}, d); err != nil {
				return
			}
			r := ptr.Deref(d.Spec.Replicas, 0)
			mu.Lock()
			defer mu.Unlock()
			lowest = min(lowest, r)
			if r != last {
				changes = append(changes, fmt.Sprintf("%s %d", time.Now().Format("15:04:05"), r))
				last = r
			}
		})
		DeferCleanup(stop)
		resetLowest := func() int32 {
			mu.Lock()
			defer mu.Unlock()
			l := lowest
			lowest = 1 << 30
			return l
		}

		// switchTo patches the engine and waits until the old autoscaler is gone and the new
		// one holds the Deployment; then holds the load for longer than the scale-down
		// stabilization window (30 s) so that a wrong count would show.
		switchTo := func(engine servingv1alpha1.AutoscalingEngine) {
			cur, err := cluster.InferenceService(ctx(), appNamespace, switchName)
			Expect(err).NotTo(HaveOccurred())
			at := ptr.Deref(deployment(switchName).Spec.Replicas, 0)
			resetLowest()
			patch := client.MergeFrom(cur.DeepCopy())
			as := cur.Spec.Autoscaling
			if engine == servingv1alpha1.EngineHPA {
				as.Engine, as.Signals, as.KEDA = servingv1alpha1.EngineHPA, nil, nil
				as.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}}}
			} else {
				sample := kedaSample().Spec.Autoscaling
				as.Engine, as.Signals, as.KEDA, as.Metrics = servingv1alpha1.EngineKEDA, sample.Signals, sample.KEDA, nil
			}
			switched := time.Now()
			Expect(cluster.Client.Patch(ctx(), cur, patch)).To(Succeed())
			By(fmt.Sprintf("switched to %s at %d replicas: waiting until the old autoscaler is gone", engine, at))
			Eventually(func(g Gomega) {
				own := &autoscalingv2.HorizontalPodAutoscaler{}
				ownErr := cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: switchName}, own)
				_, kedaErr := kedaHPA(switchName)
				soErr := cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: switchName}, emptyScaledObject())
				cur := mustISVC(g, switchName)
				if engine == servingv1alpha1.EngineHPA {
					g.Expect(ownErr).NotTo(HaveOccurred(), "the operator's HPA")
					g.Expect(apierrors.IsNotFound(soErr)).To(BeTrue(), "the ScaledObject is still there (%v)", soErr)
					g.Expect(apierrors.IsNotFound(kedaErr)).To(BeTrue(), "KEDA's HPA is still there (%v)", kedaErr)
					g.Expect(meta.FindStatusCondition(cur.Status.Conditions, servingv1alpha1.ConditionScaledObjectReady)).To(BeNil())
				} else {
					g.Expect(apierrors.IsNotFound(ownErr)).To(BeTrue(), "the operator's HPA is still there (%v)", ownErr)
					g.Expect(soErr).NotTo(HaveOccurred(), "the ScaledObject")
					g.Expect(kedaErr).NotTo(HaveOccurred(), "KEDA's HPA")
					g.Expect(framework.ConditionStatus(cur.Status.Conditions, servingv1alpha1.ConditionScaledObjectReady)).To(Equal(metav1.ConditionTrue))
				}
			}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
			handedOver := time.Since(switched)
			time.Sleep(45 * time.Second)
			Eventually(func(g Gomega) {
				var hpa *autoscalingv2.HorizontalPodAutoscaler
				if engine == servingv1alpha1.EngineKEDA {
					hpa = statusFollowsKEDA(g, switchName)
				} else {
					hpa = &autoscalingv2.HorizontalPodAutoscaler{}
					g.Expect(cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: switchName}, hpa)).To(Succeed())
					st := mustISVC(g, switchName).Status
					g.Expect(st.DesiredReplicas).To(Equal(hpa.Status.DesiredReplicas))
					g.Expect(st.Targets).To(HavePrefix("cpu: "))
				}
				g.Expect(hpa.Status.DesiredReplicas).To(Equal(int32(3)), "under the same load the new engine wants the maximum too")
			}).WithTimeout(time.Minute).Should(Succeed())
			low := resetLowest()
			out, _ := cluster.Kubectl("-n", appNamespace, "get", "infsvc,hpa,scaledobject", "-o", "wide")
			mu.Lock()
			report("engine switch to %s under load: at %d replicas; old autoscaler gone and the new one in place %.1fs after the patch; lowest Deployment replicas sampled each second in the %.0fs after: %d; changes %v\n%s",
				engine, at, handedOver.Seconds(), time.Since(switched).Seconds(), low, changes, out)
			mu.Unlock()
			Expect(low).To(BeNumerically(">=", at), "the Deployment's replicas dropped below %d after the switch to %s", at, engine)
		}
		switchTo(servingv1alpha1.EngineHPA)
		switchTo(servingv1alpha1.EngineKEDA)
		s := framework.Summarize(switchLoad.Results(time.Time{}, time.Time{}))
		report("engine switch: load during both switches %s", s)
		Expect(s.Failed).To(BeZero(), "requests failed during the engine switches: %s", s)
	})

	It("keeps the Deployment's replicas when the ScaledObject cannot read its metric (Prometheus stopped), the CR showing KEDA's condition", func() {
		Expect(switchLoad).NotTo(BeNil(), "the engine switch spec left no service under load")
		DeferCleanup(deleteAndWait, switchName)
		DeferCleanup(switchLoad.Stop)
		Eventually(func(g Gomega) {
			hpa := statusFollowsKEDA(g, switchName)
			g.Expect(hpa.Status.CurrentReplicas).To(Equal(int32(3)))
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
		before := ptr.Deref(deployment(switchName).Spec.Replicas, 0)

		By("stopping the stack's Prometheus (SIGTERM to the pid hack/autoscaling-stack.sh recorded)")
		pid := stackPID("prometheus")
		Expect(syscall.Kill(pid, syscall.SIGTERM)).To(Succeed())
		stoppedAt := time.Now()
		restarted := false
		DeferCleanup(func() {
			if !restarted {
				_ = restartStack()
			}
		})
		Eventually(func() bool { return !procAlive(pid) }).WithTimeout(30*time.Second).Should(BeTrue(), "Prometheus (pid %d) did not stop", pid)
		// No load either: with the metric readable, KEDA would now scale in to 1.
		switchLoad.Stop()

		var lowest int32 = 1 << 30
		var mu sync.Mutex
		stop := everySecond(func() {
			d := &appsv1.Deployment{}
			if err := cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: switchName}, d); err != nil {
				return
			}
			mu.Lock()
			lowest = min(lowest, ptr.Deref(d.Spec.Replicas, 0))
			mu.Unlock()
		})
		DeferCleanup(stop)

		By("the CR shows the ScaledObject's Ready condition as KEDA sets it")
		var soReady map[string]any
		Eventually(func(g Gomega) {
			so := scaledObject(switchName)
			soReady = soCondition(so, "Ready")
			g.Expect(soReady).NotTo(BeNil())
			g.Expect(soReady["status"]).NotTo(Equal("True"), "KEDA still reports the ScaledObject Ready")
			statusMirrorsScaledObject(g, mustISVC(g, switchName), so)
		}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
		failedAfter := time.Since(stoppedAt)
		// Longer than the stabilization window (30 s) and KEDA's cooldown (20 s) past the
		// failure: a KEDA that read the missing metric as 0 would have scaled in by now.
		time.Sleep(60 * time.Second)
		cur, err := cluster.InferenceService(ctx(), appNamespace, switchName)
		Expect(err).NotTo(HaveOccurred())
		hpa, err := kedaHPA(switchName)
		Expect(err).NotTo(HaveOccurred())
		so := scaledObject(switchName)
		stop()
		hpaConds := make([]string, 0, len(hpa.Status.Conditions))
		for _, c := range hpa.Status.Conditions {
			hpaConds = append(hpaConds, fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
		}
		crConds := make([]string, 0, len(cur.Status.Conditions))
		for _, c := range cur.Status.Conditions {
			crConds = append(crConds, fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Reason))
		}
		mu.Lock()
		low := lowest
		mu.Unlock()
		report("Prometheus stopped: KEDA's ScaledObject Ready=%v reason %v (%v) %.1fs after; the CR's conditions %v; KEDA's HPA %v; Deployment replicas %d before, lowest %d in the %.0fs after (load stopped too), Targets %q",
			soReady["status"], soReady["reason"], soReady["message"], failedAfter.Seconds(), crConds, hpaConds, before, low, time.Since(stoppedAt).Seconds(), cur.Status.Targets)
		Expect(low).To(Equal(before), "the Deployment lost replicas while the metric could not be read")
		Eventually(func(g Gomega) { statusMirrorsScaledObject(g, mustISVC(g, switchName), so) }).WithTimeout(30 * time.Second).Should(Succeed())

		By("starting the stack again (hack/autoscaling-stack.sh up): KEDA reads the metric again and scales in to 1")
		upAt := time.Now()
		Expect(restartStack()).To(Succeed())
		restarted = true
		Eventually(func(g Gomega) {
			hpa := statusFollowsKEDA(g, switchName)
			g.Expect(hpa.Status.CurrentReplicas).To(Equal(int32(1)))
			g.Expect(framework.ConditionStatus(mustISVC(g, switchName).Status.Conditions, servingv1alpha1.ConditionScaledObjectReady)).To(Equal(metav1.ConditionTrue))
		}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())
		report("Prometheus back: ScaledObjectReady True and scaled in to 1 %.1fs after hack/autoscaling-stack.sh up began", time.Since(upAt).Seconds())
	})

	// At zero pods the pods' own series (the queue) are gone: a signal that exists at zero
	// must live outside them. Here it is the clients' own demand: the test's clients count
	// the requests they want answered and have not had answered yet (refused ones being
	// retried included), and serve that count on the node's address, where KEDA's
	// metrics-api scaler reads it, as it would read a gateway's or an interceptor's queue.
	It("scales to zero when idle and back from zero on the clients' pending-request count, a signal that exists at zero", func() {
		const name = "keda-zero"
		var pending atomic.Int64
		ln, err := net.Listen("tcp", "10.250.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"pending":%d}`, pending.Load())
		})}
		go func() { _ = srv.Serve(ln) }()
		DeferCleanup(srv.Close)
		demandURL := "http://" + ln.Addr().String() + "/demand"

		isvc := kedaSample()
		isvc.Name = name
		as := isvc.Spec.Autoscaling
		as.MinReplicas, as.MaxReplicas = ptr.To[int32](0), 2
		as.KEDA.Triggers = []servingv1alpha1.KEDATrigger{{Type: "metrics-api", Name: "client-pending", Metadata: map[string]string{
			"url": demandURL, "format": "json", "valueLocation": "pending", "targetValue": "5", "activationTargetValue": "0"}}}
		Expect(cluster.Client.Create(ctx(), isvc)).To(Succeed())
		DeferCleanup(deleteAndWait, name)
		created := time.Now()

		By("idle from the start: KEDA scales to zero (its cooldown counts from the last activity, and a new ScaledObject had none); the CR stays Ready, reason ScaledToZero")
		Eventually(func(g Gomega) {
			d := &appsv1.Deployment{}
			g.Expect(cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, d)).To(Succeed())
			g.Expect(ptr.Deref(d.Spec.Replicas, -1)).To(BeZero())
			g.Expect(modelPods(name)).To(BeEmpty())
			cur := mustISVC(g, name)
			ready := meta.FindStatusCondition(cur.Status.Conditions, "Ready")
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(ready.Reason).To(Equal(servingv1alpha1.ReasonScaledToZero))
			g.Expect(cur.Status.DesiredReplicas).To(BeZero())
		}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())
		printKEDAStatus(name, fmt.Sprintf("from zero: at zero %.0fs after the apply", time.Since(created).Seconds()))

		By("demand at zero: 4 clients, each retrying a refused request every 250 ms")
		url := serviceURL(name)
		httpClient := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		type answer struct {
			ok       time.Time
			tries    int
			firstErr string
		}
		answers := make([]answer, 4)
		var wg sync.WaitGroup
		demand := time.Now()
		for i := range answers {
			wg.Go(func() {
				pending.Add(1)
				defer pending.Add(-1)
				a := &answers[i]
				for time.Since(demand) < 3*time.Minute {
					a.tries++
					resp, err := httpClient.Post(url, "application/json", strings.NewReader(framework.IrisRequest))
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							a.ok = time.Now()
							return
						}
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
					if a.firstErr == "" {
						a.firstErr = err.Error()
					}
					time.Sleep(250 * time.Millisecond)
				}
			})
		}
		var firstReady time.Time
		Eventually(func(g Gomega) {
			pods := modelPods(name)
			g.Expect(pods).NotTo(BeEmpty())
			g.Expect(podReady(&pods[0])).To(BeTrue())
			firstReady = time.Now()
		}).WithTimeout(3 * time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		wg.Wait()
		var lastOK time.Time
		for i, a := range answers {
			report("from zero: client %d answered after %.1fs and %d tries; its first try saw: %s", i, a.ok.Sub(demand).Seconds(), a.tries, a.firstErr)
			Expect(a.ok.IsZero()).To(BeFalse(), "client %d was never answered", i)
			if a.ok.After(lastOK) {
				lastOK = a.ok
			}
		}
		printKEDAStatus(name, "from zero: back from zero")
		report("from zero: first pod Ready %.1fs after the demand began (KEDA pollingInterval 5 s, model load 10 s), every client answered %.1fs after",
			firstReady.Sub(demand).Seconds(), lastOK.Sub(demand).Seconds())
		Eventually(cluster.ConditionIs(ctx(), appNamespace, name, servingv1alpha1.ConditionScaledObjectReady, metav1.ConditionTrue)).Should(Succeed())
	})
})

// kedaSample reads the KEDA queue-depth sample into the app namespace.
func kedaSample() *servingv1alpha1.InferenceService {
	b, err := os.ReadFile(filepath.Join(projectDir, "config", "samples", "serving_v1alpha1_inferenceservice_keda_queue.yaml"))
	Expect(err).NotTo(HaveOccurred())
	isvc := &servingv1alpha1.InferenceService{}
	Expect(yaml.UnmarshalStrict(b, isvc)).To(Succeed())
	isvc.Namespace = appNamespace
	Expect(isvc.Spec.Image).To(Equal(modelImage), "the sample runs the model server image built here")
	Expect(isvc.Spec.Autoscaling.Signals).To(HaveLen(1))
	Expect(isvc.Spec.Autoscaling.Signals[0].Target).To(Equal(intstr.FromString("5")))
	return isvc
}

func mustISVC(g Gomega, name string) *servingv1alpha1.InferenceService {
	isvc, err := cluster.InferenceService(ctx(), appNamespace, name)
	g.Expect(err).NotTo(HaveOccurred())
	return isvc
}

func kedaHPA(name string) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	err := cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: render.KEDAHPAPrefix + name}, hpa)
	return hpa, err
}

func emptyScaledObject() *unstructured.Unstructured {
	so := &unstructured.Unstructured{}
	so.SetGroupVersionKind(render.ScaledObjectGVK)
	return so
}

func scaledObject(name string) *unstructured.Unstructured {
	so := emptyScaledObject()
	Expect(cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, so)).To(Succeed())
	return so
}

func soCondition(so *unstructured.Unstructured, t string) map[string]any {
	conditions, _, _ := unstructured.NestedSlice(so.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == t {
			return m
		}
	}
	return nil
}

// createKEDAService creates an InferenceService with engine KEDA (deleted when the spec
// ends), waits until it is Ready, its ScaledObject Ready and KEDA's HPA made, and returns
// the ScaledObject's triggers.
func createKEDAService(isvc *servingv1alpha1.InferenceService) []any {
	name := isvc.Name
	Expect(cluster.Client.Create(ctx(), isvc)).To(Succeed())
	DeferCleanup(deleteAndWait, name)
	Eventually(func(g Gomega) {
		g.Expect(cluster.ConditionIs(ctx(), appNamespace, name, "Ready", metav1.ConditionTrue)()).To(Succeed())
		g.Expect(cluster.ConditionIs(ctx(), appNamespace, name, servingv1alpha1.ConditionScaledObjectReady, metav1.ConditionTrue)()).To(Succeed())
		_, err := kedaHPA(name)
		g.Expect(err).NotTo(HaveOccurred())
	}).Should(Succeed())
	triggers, _, _ := unstructured.NestedSlice(scaledObject(name).Object, "spec", "triggers")
	return triggers
}

// scaleWatch samples, every second until stop, an InferenceService's Ready condition
// (watchReady) and its Deployment's spec.replicas: when they first went over 1, and the
// most they were.
type scaleWatch struct {
	name         string
	start        time.Time
	mu           sync.Mutex
	firstOut     time.Time
	most         int32
	bad          *[]string
	stopReady    func() int
	stopReplicas func()
}

// watchUnderLoad starts a scaleWatch on the InferenceService, then a closed-loop load of
// clients through its Service, a new connection per request; both stop when the spec ends.
func watchUnderLoad(name string, clients int) (*scaleWatch, *framework.Load, time.Time) {
	w := &scaleWatch{name: name}
	w.bad, w.stopReady = watchReady(name)
	w.stopReplicas = everySecond(func() {
		d := &appsv1.Deployment{}
		if err := cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, d); err != nil {
			return
		}
		r := ptr.Deref(d.Spec.Replicas, 0)
		w.mu.Lock()
		defer w.mu.Unlock()
		if r > 1 && w.firstOut.IsZero() {
			w.firstOut = time.Now()
		}
		w.most = max(w.most, r)
	})
	DeferCleanup(w.stop)
	load := &framework.Load{URL: serviceURL(name), Clients: clients, Timeout: 15 * time.Second}
	w.start = time.Now()
	load.Start()
	DeferCleanup(load.Stop)
	return w, load, w.start
}

// scaledOut waits until KEDA's HPA has settled at atLeast pods or more, all Ready, with
// the CR's status following it and KEDA's Active True. It returns that HPA, and how long
// after the load began the scale-out began (replicas > 1) and was done.
func (w *scaleWatch) scaledOut(atLeast int32) (*autoscalingv2.HorizontalPodAutoscaler, time.Duration, time.Duration) {
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	Eventually(func(g Gomega) {
		hpa = statusFollowsKEDA(g, w.name)
		g.Expect(hpa.Status.CurrentReplicas).To(BeNumerically(">=", atLeast))
		g.Expect(framework.ConditionStatus(mustISVC(g, w.name).Status.Conditions, servingv1alpha1.ConditionScaledObjectActive)).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())
	done := time.Since(w.start)
	firstOut, _ := w.read()
	return hpa, firstOut.Sub(w.start), done
}

// scaledIn waits until KEDA's HPA is back at 1 pod, the CR following it, its Targets
// reading targets and KEDA's Active False.
func (w *scaleWatch) scaledIn(targets string) {
	Eventually(func(g Gomega) {
		hpa := statusFollowsKEDA(g, w.name)
		g.Expect(hpa.Status.CurrentReplicas).To(Equal(int32(1)))
		g.Expect(modelPods(w.name)).To(HaveLen(1))
		cur := mustISVC(g, w.name)
		g.Expect(cur.Status.Targets).To(Equal(targets))
		g.Expect(framework.ConditionStatus(cur.Status.Conditions, servingv1alpha1.ConditionScaledObjectActive)).To(Equal(metav1.ConditionFalse))
	}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())
}

// stop ends the sampling (idempotent) and returns how often Ready was sampled.
func (w *scaleWatch) stop() int {
	w.stopReplicas()
	return w.stopReady()
}

// read returns when the replicas first went over 1 (zero: not yet) and the most seen.
func (w *scaleWatch) read() (time.Time, int32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.firstOut, w.most
}

// notReady lists the samples in which Ready was not True, or True since another time.
func (w *scaleWatch) notReady() []string {
	w.stop()
	return *w.bad
}

// promQuery evaluates an instant PromQL query on the stack's Prometheus and returns its
// one sample's value (NaN stays NaN); a result of other than one sample is an error.
func promQuery(query string) (float64, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(prometheusURL + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	var answer struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return 0, fmt.Errorf("query %s: HTTP %d: %w", query, resp.StatusCode, err)
	}
	if answer.Status != "success" {
		return 0, fmt.Errorf("query %s: %s %s", query, answer.Status, answer.Error)
	}
	if n := len(answer.Data.Result); n != 1 {
		return 0, fmt.Errorf("query %s: %d samples, not 1", query, n)
	}
	v := answer.Data.Result[0].Value
	if len(v) != 2 {
		return 0, fmt.Errorf("query %s: a sample of %d fields", query, len(v))
	}
	str, ok := v[1].(string)
	if !ok {
		return 0, fmt.Errorf("query %s: value %v is not a string", query, v[1])
	}
	return strconv.ParseFloat(str, 64)
}

// latencyQuantile is the q-quantile of the latencies of the requests answered 200 (0 when
// none was).
func latencyQuantile(results []framework.LoadResult, q float64) time.Duration {
	var lat []time.Duration
	for _, r := range results {
		if r.OK() {
			lat = append(lat, r.Latency)
		}
	}
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[min(len(lat)-1, int(q*float64(len(lat))))]
}

// statusMirrorsScaledObject checks the CR's copies of KEDA's four ScaledObject conditions.
func statusMirrorsScaledObject(g Gomega, isvc *servingv1alpha1.InferenceService, so *unstructured.Unstructured) {
	for kedaType, ours := range map[string]string{"Ready": servingv1alpha1.ConditionScaledObjectReady, "Active": servingv1alpha1.ConditionScaledObjectActive,
		"Fallback": servingv1alpha1.ConditionScaledObjectFallback, "Paused": servingv1alpha1.ConditionScaledObjectPaused} {
		c := soCondition(so, kedaType)
		if c == nil {
			continue
		}
		mine := meta.FindStatusCondition(isvc.Status.Conditions, ours)
		g.Expect(mine).NotTo(BeNil(), "condition %s", ours)
		g.Expect(string(mine.Status)).To(Equal(fmt.Sprint(c["status"])), "condition %s", ours)
		if r, ok := c["reason"].(string); ok && r != "" {
			g.Expect(mine.Reason).To(Equal(r), "condition %s", ours)
		}
	}
}

// statusFollowsKEDA checks the CR's status against the HPA KEDA made and the ScaledObject,
// once KEDA's HPA is settled (desired = current = ready pods), and returns that HPA.
func statusFollowsKEDA(g Gomega, name string) *autoscalingv2.HorizontalPodAutoscaler {
	hpa, err := kedaHPA(name)
	g.Expect(err).NotTo(HaveOccurred())
	so := emptyScaledObject()
	g.Expect(cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, so)).To(Succeed())
	isvc := mustISVC(g, name)
	st := isvc.Status
	g.Expect(hpa.Status.DesiredReplicas).To(Equal(hpa.Status.CurrentReplicas), "KEDA's HPA desired vs current")
	g.Expect(ptr.Deref(deployment(name).Spec.Replicas, -1)).To(Equal(hpa.Status.DesiredReplicas), "Deployment spec.replicas")
	g.Expect(st.DesiredReplicas).To(Equal(hpa.Status.DesiredReplicas), "status.desiredReplicas")
	g.Expect(st.Replicas).To(Equal(hpa.Status.CurrentReplicas), "status.replicas")
	g.Expect(st.ReadyReplicas).To(Equal(hpa.Status.CurrentReplicas), "status.readyReplicas")
	g.Expect(st.MinReplicas).To(Equal(*hpa.Spec.MinReplicas))
	g.Expect(st.MaxReplicas).To(Equal(hpa.Spec.MaxReplicas))
	g.Expect(hpa.Status.CurrentMetrics).NotTo(BeEmpty())
	g.Expect(equality.Semantic.DeepEqual(st.CurrentMetrics, hpa.Status.CurrentMetrics)).To(BeTrue(),
		"status.currentMetrics %+v, KEDA's HPA's %+v", st.CurrentMetrics, hpa.Status.CurrentMetrics)
	spec := hpa.Spec.Metrics[0].External
	g.Expect(spec).NotTo(BeNil(), "KEDA's HPA's first metric is External")
	var current *autoscalingv2.MetricValueStatus
	for _, m := range hpa.Status.CurrentMetrics {
		if m.External != nil && m.External.Metric.Name == spec.Metric.Name {
			current = &m.External.Current
		}
	}
	g.Expect(current).NotTo(BeNil())
	// A count is per pod (AverageValue); a latency is what it is, whatever the pods (Value).
	signal := isvc.Spec.Autoscaling.Signals[0]
	wantType, cur, target := autoscalingv2.AverageValueMetricType, current.AverageValue, spec.Target.AverageValue
	if signal.Type == servingv1alpha1.SignalLatency {
		wantType, cur, target = autoscalingv2.ValueMetricType, current.Value, spec.Target.Value
	}
	g.Expect(spec.Target.Type).To(Equal(wantType))
	g.Expect(cur).NotTo(BeNil())
	g.Expect(st.Targets).To(Equal(fmt.Sprintf("%s: %s/%s", render.SignalName(signal), cur, target)), "status.targets")
	statusMirrorsScaledObject(g, isvc, so)
	g.Expect(framework.ConditionStatus(st.Conditions, servingv1alpha1.ConditionScaledObjectReady)).To(Equal(metav1.ConditionTrue))
	g.Expect(framework.ConditionStatus(st.Conditions, "Ready")).To(Equal(metav1.ConditionTrue))
	g.Expect(st.ObservedGeneration).To(Equal(isvc.Generation))
	return hpa
}

// targetValue is the current value of a Targets column "name: current/target", or -1.
func targetValue(targets string) float64 {
	_, rest, ok := strings.Cut(targets, ": ")
	cur, _, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return -1
	}
	q, err := resource.ParseQuantity(cur)
	if err != nil {
		return -1
	}
	return q.AsApproximateFloat64()
}

// printKEDAStatus reports what happened (a figure's text) with kubectl's view of the CR,
// KEDA's HPA and the ScaledObject.
func printKEDAStatus(name, what string) {
	out, _ := cluster.Kubectl("-n", appNamespace, "get", "infsvc/"+name, "hpa/"+render.KEDAHPAPrefix+name, "scaledobject/"+name, "-o", "wide")
	report("%s:\n%s", what, out)
}

// watchReady samples the CR's Ready condition every second until the returned stop
// (which returns the number of samples): each sample not True, or True with another
// lastTransitionTime than at the start, is recorded.
func watchReady(name string) (*[]string, func() int) {
	isvc, err := cluster.InferenceService(ctx(), appNamespace, name)
	Expect(err).NotTo(HaveOccurred())
	since := meta.FindStatusCondition(isvc.Status.Conditions, "Ready").LastTransitionTime
	bad := []string{}
	n := 0
	var mu sync.Mutex
	stop := everySecond(func() {
		cur, err := cluster.InferenceService(ctx(), appNamespace, name)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		n++
		if c := meta.FindStatusCondition(cur.Status.Conditions, "Ready"); c == nil || c.Status != metav1.ConditionTrue || !c.LastTransitionTime.Equal(&since) {
			bad = append(bad, fmt.Sprintf("%s %v", time.Now().Format("15:04:05"), c))
		}
	})
	return &bad, func() int {
		stop()
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// everySecond runs f every second until the returned stop is called (idempotent; it
// waits for a running f).
func everySecond(f func()) func() {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Second):
			}
			f()
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// stackDir is hack/autoscaling-stack.sh's state folder.
func stackDir() string {
	d := os.Getenv("REAL_NODE_DIR")
	if d == "" {
		d = filepath.Join(projectDir, ".real-node")
	}
	if !filepath.IsAbs(d) {
		d = filepath.Join(projectDir, d)
	}
	return filepath.Join(d, "autoscaling")
}

// stackPID reads the pid the stack recorded for one of its processes ("pid binary" in
// pids/NAME.pid) and checks that the process is still that binary.
func stackPID(name string) int {
	b, err := os.ReadFile(filepath.Join(stackDir(), "pids", name+".pid"))
	Expect(err).NotTo(HaveOccurred())
	fields := strings.Fields(string(b))
	Expect(fields).To(HaveLen(2), "pid file %q", b)
	pid, err := strconv.Atoi(fields[0])
	Expect(err).NotTo(HaveOccurred())
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	Expect(err).NotTo(HaveOccurred())
	Expect(exe).To(Equal(fields[1]), "pid %d is no longer the stack's %s", pid, name)
	return pid
}

// restartStack runs hack/autoscaling-stack.sh up, which starts what is missing again
// (it cleans up the half-stopped stack first).
func restartStack() error {
	cmd := exec.Command(filepath.Join(projectDir, "hack", "autoscaling-stack.sh"), "up")
	cmd.Dir = projectDir
	out, err := cmd.CombinedOutput()
	_, _ = fmt.Fprintf(GinkgoWriter, "hack/autoscaling-stack.sh up:\n%s\n", out)
	if err != nil {
		return fmt.Errorf("hack/autoscaling-stack.sh up: %w\n%s", err, out)
	}
	return nil
}

// procAlive tells whether pid runs (a zombie does not), as hack/autoscaling-stack.sh checks.
func procAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && rest != "" && rest[0] != 'Z' && rest[0] != 'X'
}
