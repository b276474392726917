//go:build realnode

package realnode

import (
	"fmt"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/inferenceops/inference-operator/test/framework"
)

// The specs build on the node the suite set up, one after the other; each removes what it
// made, but the last two run on the sample the autoscaling spec leaves.
var _ = Describe("inference-operator on a real node", Ordered, func() {
	It("lets a model load for 30 s without the startup probe killing it, and sends it no request before it is ready", func() {
		const name = "slow-load"
		isvc := modelService(name, 1, "--load-delay=30s", "--workers=2")
		// A budget the 30 s load fits in, but not by much: 60 s, the probe every 10 s.
		isvc.Spec.StartupTimeoutSeconds = 60
		created := time.Now()
		Expect(cluster.Client.Create(ctx(), isvc)).To(Succeed())

		By("sending requests through the Service from the moment it exists")
		var url string
		Eventually(func() error {
			svc := &corev1.Service{}
			if err := cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, svc); err != nil {
				return err
			}
			url = serviceURL(name)
			return nil
		}).Should(Succeed())
		load := &framework.Load{URL: url, Clients: 2, Timeout: 2 * time.Second, FailurePause: 50 * time.Millisecond}
		load.Start()
		DeferCleanup(load.Stop)

		By("waiting until the pod is Ready")
		var pod corev1.Pod
		Eventually(func(g Gomega) {
			pods := modelPods(name)
			g.Expect(pods).To(HaveLen(1))
			pod = pods[0]
			g.Expect(podReady(&pod)).To(BeTrue())
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		// Keep the load on a while after Ready, so the pod does serve.
		time.Sleep(5 * time.Second)
		load.Stop()

		status := pod.Status.ContainerStatuses[0]
		Expect(status.State.Running).NotTo(BeNil())
		startedAt := status.State.Running.StartedAt.Time
		var readySince time.Time
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady {
				readySince = c.LastTransitionTime.Time
			}
		}
		report("slow load: container started %s after the apply, Ready %.0fs after the container started (load delay 30 s, startup budget 60 s), restartCount %d",
			startedAt.Sub(created).Round(time.Second), readySince.Sub(startedAt).Seconds(), status.RestartCount)
		Expect(status.RestartCount).To(BeZero(), "the startup probe killed the loading model")
		Expect(readySince.Sub(startedAt)).To(BeNumerically(">=", 29*time.Second), "Ready before the model could have loaded")

		By("the kubelet's events: startup probe failures while loading, and no kill")
		events, err := cluster.Clientset.CoreV1().Events(appNamespace).List(ctx(), metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + pod.Name})
		Expect(err).NotTo(HaveOccurred())
		probeFailures, kills := 0, 0
		for _, e := range events.Items {
			if e.Reason == "Unhealthy" && strings.Contains(e.Message, "Startup probe failed") {
				probeFailures += int(max(e.Count, 1))
			}
			if e.Reason == "Killing" {
				kills++
			}
		}
		report("slow load: %d startup probe failures (503 while loading), %d kill events", probeFailures, kills)
		Expect(probeFailures).To(BeNumerically(">=", 1), "the startup probe never saw the model loading")
		Expect(kills).To(BeZero())

		By("the server's own counters: every request it received, it answered with a result")
		m, err := serverMetrics(&pod, "")
		Expect(err).NotTo(HaveOccurred())
		var success, failure, non200 float64
		for k, v := range m {
			switch {
			case strings.HasPrefix(k, "model_infer_request_success_total"):
				success += v
			case strings.HasPrefix(k, "model_infer_request_failure_total"):
				failure += v
			case strings.HasPrefix(k, "rest_server_requests_total") && !strings.Contains(k, `status_code="200"`):
				non200 += v
			}
		}
		client := framework.Summarize(load.Results(time.Time{}, time.Time{}))
		before := framework.Summarize(load.Results(time.Time{}, readySince))
		report("slow load: clients sent %d requests (%d before the pod was Ready, all refused by the Service without endpoints: %v); the server counted %.0f inferences answered, %.0f failed, %.0f non-200 answers",
			client.Requests, before.Requests, before.ByOutcome, success, failure, non200)
		Expect(failure).To(BeZero(), "the server answered an inference it could not serve (a request before it was ready)")
		Expect(non200).To(BeZero(), "the server answered a request with an error (503 while loading)")
		Expect(success).To(BeNumerically(">", 0), "the ready pod got no traffic")
		Expect(before.OK).To(BeZero(), "a request succeeded before the only pod was Ready")

		By("its log: the model loaded after 30 s, once")
		out, err := cluster.Kubectl("-n", appNamespace, "logs", pod.Name)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(out, "Model loaded, ready")).To(Equal(1), out)
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "Model loaded, ready") {
				report("slow load: server log: %s", line)
			}
		}
	})

	It("enforces the CR's requests and limits as the container's cgroup limits on the node", func() {
		const name = "slow-load"
		isvc, err := cluster.InferenceService(ctx(), appNamespace, name)
		Expect(err).NotTo(HaveOccurred())
		pods := modelPods(name)
		Expect(pods).To(HaveLen(1))
		pid, err := framework.ContainerPID(&pods[0], pods[0].Spec.Containers[0].Name)
		Expect(err).NotTo(HaveOccurred())
		limits, err := framework.ReadCgroupLimits(pid)
		Expect(err).NotTo(HaveOccurred())
		res := isvc.Spec.Resources
		report("cgroup v%d of the container (host pid %d): cpu quota %d us per %d us = %dm (CR limit %s), cpu shares %d (CR request %s), memory limit %d bytes (CR limit %s); files %v",
			limits.Version, pid, limits.CPUQuotaMicros, limits.CPUPeriodMicros, limits.CPUMillis(), res.Limits.Cpu(),
			limits.CPUShares, res.Requests.Cpu(), limits.MemoryBytes, res.Limits.Memory(), limits.Files)
		Expect(limits.CPUMillis()).To(Equal(res.Limits.Cpu().MilliValue()))
		Expect(limits.MemoryBytes).To(Equal(res.Limits.Memory().Value()))
		if limits.Version == 1 {
			// The kubelet's conversion of a request to shares: milli * 1024 / 1000.
			Expect(limits.CPUShares).To(Equal(res.Requests.Cpu().MilliValue() * 1024 / 1000))
		}
		deleteAndWait(name)
	})

	It("drops no request during an image rollout and a scale-in under steady load", func() {
		const name = "steady"
		isvc := modelService(name, 3, "--load-delay=2s", "--workers=2")
		Expect(cluster.Client.Create(ctx(), isvc)).To(Succeed())
		DeferCleanup(deleteAndWait, name)
		Eventually(cluster.ConditionIs(ctx(), appNamespace, name, "Ready", metav1.ConditionTrue)).Should(Succeed())
		Eventually(func() int { return len(modelPods(name)) }).Should(Equal(3))
		d := deployment(name)
		pod := d.Spec.Template.Spec
		report("rendered for a stopping pod: preStop %v, terminationGracePeriodSeconds %d",
			pod.Containers[0].Lifecycle.PreStop.Sleep, ptr.Deref(pod.TerminationGracePeriodSeconds, -1))

		load := &framework.Load{URL: serviceURL(name), Clients: 6, Timeout: 5 * time.Second}
		load.Start()
		DeferCleanup(load.Stop)
		time.Sleep(5 * time.Second)
		warm := framework.Summarize(load.Results(time.Time{}, time.Time{}))
		report("steady load before the rollout: %s", warm)
		Expect(warm.Failed).To(BeZero())

		By("rolling the pods to a second tag of the image: " + rolloutImage)
		oldUIDs := map[types.UID]bool{}
		for _, p := range modelPods(name) {
			oldUIDs[p.UID] = true
		}
		patch := client.MergeFrom(isvc.DeepCopy())
		isvc.Spec.Image = rolloutImage
		rolloutStart := time.Now()
		Expect(cluster.Client.Patch(ctx(), isvc, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			pods := modelPods(name)
			g.Expect(pods).To(HaveLen(3))
			for _, p := range pods {
				g.Expect(oldUIDs).NotTo(HaveKey(p.UID), "an old pod is still there (terminating or not)")
				g.Expect(p.Spec.Containers[0].Image).To(Equal(rolloutImage))
				g.Expect(podReady(&p)).To(BeTrue())
			}
		}).WithTimeout(4 * time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())
		rolloutEnd := time.Now()
		// Enough requests through the window: keep the window open until 2,000 were sent,
		// the rollout being over by then (the pods are all new and ready).
		Eventually(func() int { return len(load.Results(rolloutStart, time.Time{})) }).WithTimeout(2 * time.Minute).Should(BeNumerically(">=", 2000))
		during := framework.Summarize(load.Results(rolloutStart, rolloutEnd))
		window := framework.Summarize(load.Results(rolloutStart, time.Time{}))
		report("image rollout of 3 pods: %.1fs until every old pod was gone; during it %s; from its start until 2,000 requests %s",
			rolloutEnd.Sub(rolloutStart).Seconds(), during, window)
		Expect(cluster.ConditionIs(ctx(), appNamespace, name, "Ready", metav1.ConditionTrue)()).To(Succeed())

		By("scaling to 4, then in to 1")
		isvc, err := cluster.InferenceService(ctx(), appNamespace, name)
		Expect(err).NotTo(HaveOccurred())
		patch = client.MergeFrom(isvc.DeepCopy())
		isvc.Spec.Replicas = ptr.To[int32](4)
		Expect(cluster.Client.Patch(ctx(), isvc, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			pods := modelPods(name)
			g.Expect(pods).To(HaveLen(4))
			for _, p := range pods {
				g.Expect(podReady(&p)).To(BeTrue())
			}
		}).Should(Succeed())
		time.Sleep(3 * time.Second) // the fourth pod's endpoint reaches kube-proxy
		patch = client.MergeFrom(isvc.DeepCopy())
		isvc.Spec.Replicas = ptr.To[int32](1)
		scaleStart := time.Now()
		Expect(cluster.Client.Patch(ctx(), isvc, patch)).To(Succeed())
		Eventually(func() int { return len(modelPods(name)) }).WithPolling(250 * time.Millisecond).Should(Equal(1))
		scaleEnd := time.Now()
		Eventually(func() int { return len(load.Results(scaleStart, time.Time{})) }).WithTimeout(2 * time.Minute).Should(BeNumerically(">=", 2000))
		load.Stop()
		scaleDuring := framework.Summarize(load.Results(scaleStart, scaleEnd))
		scaleWindow := framework.Summarize(load.Results(scaleStart, time.Time{}))
		report("scale-in 4 -> 1: %.1fs until the 3 pods were gone; during it %s; from its start until 2,000 requests %s",
			scaleEnd.Sub(scaleStart).Seconds(), scaleDuring, scaleWindow)
		all := framework.Summarize(load.Results(time.Time{}, time.Time{}))
		report("steady load in all: %s", all)

		Expect(window.Requests).To(BeNumerically(">=", 2000))
		Expect(window.Failed).To(BeZero(), "requests failed during the rollout: %s", window)
		Expect(scaleWindow.Requests).To(BeNumerically(">=", 2000))
		Expect(scaleWindow.Failed).To(BeZero(), "requests failed during the scale-in: %s", scaleWindow)
		Expect(all.Failed).To(BeZero(), "requests failed: %s", all)
	})

	It("scales out and in on real CPU load, the CR's status following the HPA and Ready staying True", func() {
		isvc := sample()
		name := isvc.Name
		Expect(cluster.Client.Create(ctx(), isvc)).To(Succeed())
		Eventually(cluster.ConditionIs(ctx(), appNamespace, name, "Ready", metav1.ConditionTrue)).Should(Succeed())
		isvc, err := cluster.InferenceService(ctx(), appNamespace, name)
		Expect(err).NotTo(HaveOccurred())
		readySince := meta.FindStatusCondition(isvc.Status.Conditions, "Ready").LastTransitionTime

		// Ready is sampled every second for the whole spec.
		notReady := []string{}
		stopWatch := make(chan struct{})
		watchDone := make(chan struct{})
		go func() {
			defer close(watchDone)
			for {
				select {
				case <-stopWatch:
					return
				case <-time.After(time.Second):
				}
				cur, err := cluster.InferenceService(ctx(), appNamespace, name)
				if err != nil {
					continue
				}
				if c := meta.FindStatusCondition(cur.Status.Conditions, "Ready"); c == nil || c.Status != metav1.ConditionTrue || !c.LastTransitionTime.Equal(&readySince) {
					notReady = append(notReady, fmt.Sprintf("%s %v", time.Now().Format("15:04:05"), c))
				}
			}
		}()
		stopWatching := func() {
			select {
			case <-stopWatch:
			default:
				close(stopWatch)
			}
			<-watchDone
		}
		DeferCleanup(stopWatching)

		load := &framework.Load{URL: serviceURL(name), Clients: 8, Timeout: 5 * time.Second}
		start := time.Now()
		load.Start()
		DeferCleanup(load.Stop)
		By("scale-out under load to the maximum, 4")
		Eventually(func(g Gomega) { statusFollowsHPA(g, name, 4) }).WithTimeout(4 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		outAt := time.Since(start)
		loadOut := framework.Summarize(load.Results(time.Time{}, time.Time{}))
		printStatus(name, fmt.Sprintf("scaled out %.0fs after the load began", outAt.Seconds()))
		load.Stop()
		report("autoscaling: load %s", loadOut)
		stopped := time.Now()
		By("scale-in to 1 after the load stops")
		Eventually(func(g Gomega) { statusFollowsHPA(g, name, 1) }).WithTimeout(4 * time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		inAt := time.Since(stopped)
		printStatus(name, fmt.Sprintf("scaled in %.0fs after the load stopped", inAt.Seconds()))
		stopWatching()

		By("the scaling story on the CR: the scale-out to 4, the scale-in to 1, each with the metric that drove it")
		Eventually(func(g Gomega) {
			cur, err := cluster.InferenceService(ctx(), appNamespace, name)
			g.Expect(err).NotTo(HaveOccurred())
			sc := cur.Status.Scaling
			g.Expect(sc).NotTo(BeNil())
			g.Expect(sc.Events).NotTo(BeEmpty())
			reachedMax, downs := false, 0
			for _, e := range sc.Events {
				if e.To > e.From {
					g.Expect(e.Reason).To(HavePrefix("ScaleUp"))
					reachedMax = reachedMax || e.To == 4
				} else {
					g.Expect(e.Reason).To(HavePrefix("ScaleDown"))
					downs++
				}
				g.Expect(e.Metric).To(HavePrefix("cpu: "))
			}
			g.Expect(reachedMax).To(BeTrue(), "a ScaleUp event to 4")
			g.Expect(downs).To(BeNumerically(">=", 1))
			last := sc.Events[len(sc.Events)-1]
			g.Expect(last.To).To(Equal(int32(1)))
			g.Expect(sc.LastScale).To(HavePrefix(fmt.Sprintf("%d -> 1 (cpu: ", last.From)))
			g.Expect(sc.LimitingMetric).To(HavePrefix("cpu: "))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		isvc, err = cluster.InferenceService(ctx(), appNamespace, name)
		Expect(err).NotTo(HaveOccurred())
		for _, e := range isvc.Status.Scaling.Events {
			report("scaling story: %s %d -> %d %s (%s)", e.Time.Format("15:04:05"), e.From, e.To, e.Metric, e.Reason)
		}
		report("autoscaling: out to 4 pods %.0fs after the load began, in to 1 pod %.0fs after it stopped (30 s stabilization); Ready not True (or changed) in %d samples: %v",
			outAt.Seconds(), inAt.Seconds(), len(notReady), notReady)
		Expect(notReady).To(BeEmpty(), "Ready left True (or its lastTransitionTime changed) while the HPA scaled")
	})

	It("survives a SIGKILL of the operator's process and of the node's kubelet, restarting no model pod, and reconciles afterwards", func() {
		name := sample().Name
		modelBefore := podStates(modelPods(name))
		Expect(modelBefore).NotTo(BeEmpty())
		op, err := release.ManagerPod(ctx())
		Expect(err).NotTo(HaveOccurred())
		opRestarts := op.Status.ContainerStatuses[0].RestartCount

		By("SIGKILL of the manager process in its container")
		pid, err := framework.ContainerPID(op, "manager")
		Expect(err).NotTo(HaveOccurred())
		Expect(syscallKill(pid)).To(Succeed())
		killed := time.Now()
		Eventually(func(g Gomega) {
			cur, err := release.ManagerPod(ctx())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cur.UID).To(Equal(op.UID), "the manager pod was replaced")
			g.Expect(cur.Status.ContainerStatuses[0].RestartCount).To(Equal(opRestarts + 1))
			g.Expect(podReady(cur)).To(BeTrue())
			op = cur
		}).Should(Succeed())
		report("operator: manager process (host pid %d) SIGKILLed; the kubelet restarted the container in pod %s (same UID), Ready again %.1fs later, restartCount %d -> %d",
			pid, op.Name, time.Since(killed).Seconds(), opRestarts, op.Status.ContainerStatuses[0].RestartCount)
		opRestarts = op.Status.ContainerStatuses[0].RestartCount

		By("SIGKILL of the kubelet, then a new kubelet (hack/real-node.sh restart-kubelet KILL)")
		oldKubelet, err := node.KubeletPID()
		Expect(err).NotTo(HaveOccurred())
		killed = time.Now()
		out, err := node.RestartKubelet("KILL")
		Expect(err).NotTo(HaveOccurred(), out)
		newKubelet, err := node.KubeletPID()
		Expect(err).NotTo(HaveOccurred())
		Expect(newKubelet).NotTo(Equal(oldKubelet))
		report("kubelet pid %d SIGKILLed, pid %d healthy and the node Ready %.1fs later", oldKubelet, newKubelet, time.Since(killed).Seconds())
		// The new kubelet syncs every pod; give it time to restart anything it would.
		time.Sleep(20 * time.Second)
		cur, err := release.ManagerPod(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(cur.UID).To(Equal(op.UID))
		Expect(cur.Status.ContainerStatuses[0].RestartCount).To(Equal(opRestarts), "the kubelet restart restarted the manager")
		Expect(podReady(cur)).To(BeTrue())
		modelAfter := podStates(modelPods(name))
		report("model pods before the kills %v, after %v", modelBefore, modelAfter)
		Expect(modelAfter).To(Equal(modelBefore), "a model pod was replaced or restarted")

		By("a spec change converges: a Service annotation")
		isvc, err := cluster.InferenceService(ctx(), appNamespace, name)
		Expect(err).NotTo(HaveOccurred())
		patch := client.MergeFrom(isvc.DeepCopy())
		isvc.Spec.Service.Annotations = map[string]string{"realnode.test/after-kills": "yes"}
		changed := time.Now()
		Expect(cluster.Client.Patch(ctx(), isvc, patch)).To(Succeed())
		Eventually(func(g Gomega) {
			svc := &corev1.Service{}
			g.Expect(cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, svc)).To(Succeed())
			g.Expect(svc.Annotations).To(HaveKeyWithValue("realnode.test/after-kills", "yes"))
			g.Expect(cluster.ConditionIs(ctx(), appNamespace, name, "Ready", metav1.ConditionTrue)()).To(Succeed())
		}).WithTimeout(time.Minute).Should(Succeed())
		report("operator reconciling after both kills: the Service annotation applied and the status current %.1fs after the change", time.Since(changed).Seconds())
		Expect(podStates(modelPods(name))).To(Equal(modelBefore))
	})

	It("let no packet out of the node's network namespace (guard counter 0)", func() {
		dropped, out, err := node.Guard()
		report("isolation: %s", strings.TrimSpace(out))
		Expect(err).NotTo(HaveOccurred())
		Expect(dropped).To(BeZero())
	})
})

// statusFollowsHPA checks the CR's status against its HPA and the Deployment once the HPA
// settled on want replicas.
func statusFollowsHPA(g Gomega, name string, want int32) {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	g.Expect(cluster.Client.Get(ctx(), types.NamespacedName{Namespace: appNamespace, Name: name}, hpa)).To(Succeed())
	g.Expect(hpa.Status.DesiredReplicas).To(Equal(want), "HPA desired")
	g.Expect(hpa.Status.CurrentReplicas).To(Equal(want), "HPA current")
	isvc, err := cluster.InferenceService(ctx(), appNamespace, name)
	g.Expect(err).NotTo(HaveOccurred())
	st := isvc.Status
	g.Expect(st.DesiredReplicas).To(Equal(hpa.Status.DesiredReplicas), "status.desiredReplicas")
	g.Expect(st.Replicas).To(Equal(want), "status.replicas")
	g.Expect(st.ReadyReplicas).To(Equal(want), "status.readyReplicas")
	g.Expect(st.MinReplicas).To(Equal(*hpa.Spec.MinReplicas))
	g.Expect(st.MaxReplicas).To(Equal(hpa.Spec.MaxReplicas))
	g.Expect(hpa.Status.CurrentMetrics).NotTo(BeEmpty())
	g.Expect(equality.Semantic.DeepEqual(st.CurrentMetrics, hpa.Status.CurrentMetrics)).To(BeTrue(),
		"status.currentMetrics %+v, the HPA's %+v", st.CurrentMetrics, hpa.Status.CurrentMetrics)
	cpu := hpa.Status.CurrentMetrics[0].Resource.Current.AverageUtilization
	g.Expect(cpu).NotTo(BeNil())
	g.Expect(st.Targets).To(Equal(fmt.Sprintf("cpu: %d%%/50%%", *cpu)), "status.targets")
	// The HPA's conditions the operator copies (the README's table); newer HPAs have more
	// (ScaledToZero), which it does not.
	for _, c := range hpa.Status.Conditions {
		switch c.Type {
		case autoscalingv2.AbleToScale, autoscalingv2.ScalingActive, autoscalingv2.ScalingLimited:
		default:
			continue
		}
		mine := meta.FindStatusCondition(st.Conditions, string(c.Type))
		g.Expect(mine).NotTo(BeNil(), "condition %s", c.Type)
		g.Expect(string(mine.Status)).To(Equal(string(c.Status)), "condition %s", c.Type)
		g.Expect(mine.Reason).To(Equal(c.Reason), "condition %s", c.Type)
	}
	g.Expect(framework.ConditionStatus(st.Conditions, "Ready")).To(Equal(metav1.ConditionTrue))
	g.Expect(st.ObservedGeneration).To(Equal(isvc.Generation))
}

func printStatus(name, what string) {
	out, _ := cluster.Kubectl("-n", appNamespace, "get", "infsvc/"+name, "hpa/"+name, "-o", "wide")
	report("autoscaling: %s:\n%s", what, out)
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
