//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/test/utils"
)

const sampleFile = "config/samples/serving_v1alpha1_inferenceservice.yaml"

var _ = Describe("inference-operator on a simulated cluster", Ordered, func() {
	var namespace string

	BeforeAll(func() {
		namespace = createNamespace("e2e")
	})

	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: name} }
	getISVC := func(g Gomega, name string) *servingv1alpha1.InferenceService {
		isvc := &servingv1alpha1.InferenceService{}
		g.Expect(k8sClient.Get(ctx(), key(name), isvc)).To(Succeed())
		return isvc
	}
	targetsColumn := func(name string) func(Gomega) string {
		return func(g Gomega) string {
			out, err := kubectl("get", "infsvc", name, "-n", namespace, "--no-headers",
				"-o", "custom-columns=TARGETS:.status.targets")
			g.Expect(err).NotTo(HaveOccurred())
			return strings.TrimSpace(out)
		}
	}

	It("makes the sample Ready, with requests, limits and probes, Ready pods, a URL and Targets", func() {
		_, err := kubectl("apply", "--server-side", "-n", namespace, "-f", sampleFile)
		Expect(err).NotTo(HaveOccurred())
		_, err = kubectl("wait", "--for=condition=Ready", "--timeout=180s", "-n", namespace, "infsvc/iris")
		Expect(err).NotTo(HaveOccurred())

		dep := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx(), key("iris"), dep)).To(Succeed())
		c := dep.Spec.Template.Spec.Containers[0]
		Expect(c.Resources.Requests.Cpu().String()).To(Equal("500m"))
		Expect(c.Resources.Limits.Memory().String()).To(Equal("2Gi"))
		Expect(c.ReadinessProbe).NotTo(BeNil())
		Expect(c.StartupProbe).NotTo(BeNil())

		pods := podsOf(namespace, "iris")
		Expect(pods).NotTo(BeEmpty())
		for _, p := range pods {
			Expect(p.Status.Phase).To(Equal(corev1.PodRunning))
			Expect(podReady(&p)).To(BeTrue(), "pod %s is not Ready", p.Name)
		}

		isvc := getISVC(Default, "iris")
		Expect(isvc.Status.URL).To(Equal(fmt.Sprintf("http://iris.%s.svc.cluster.local:80", namespace)))
		Expect(isvc.Status.ReadyReplicas).To(BeNumerically(">=", 1))
		Eventually(targetsColumn("iris")).Should(MatchRegexp(`^cpu: \d+%/50%$`),
			"the Targets column shows the CPU utilization once metrics-server has scraped the pods")
	})

	It("scales out under simulated CPU load and back in when it drops, with the CR following", func() {
		By("raising the CPU usage of every pod to 800m (160% of the request)")
		stopLoad := loadInBackground("cpu", "iris", "800m", "-n", namespace, "--watch")
		Eventually(func(g Gomega) {
			isvc := getISVC(g, "iris")
			g.Expect(isvc.Status.DesiredReplicas).To(BeNumerically(">", 1))
			g.Expect(isvc.Status.Replicas).To(Equal(isvc.Status.DesiredReplicas))
			g.Expect(isvc.Status.Targets).To(MatchRegexp(`^cpu: (\d{3,}|[6-9]\d)%/50%$`))
		}).Should(Succeed())
		Expect(kubectl("get", "infsvc,hpa", "-n", namespace)).To(ContainSubstring("iris"))

		By("lowering the CPU usage to 10m")
		stopLoad()
		Eventually(func() error {
			_, err := utils.Run(exec.Command("hack/load.sh", "cpu", "iris", "10m", "-n", namespace))
			return err
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			isvc := getISVC(g, "iris")
			g.Expect(isvc.Status.DesiredReplicas).To(Equal(int32(1)))
			g.Expect(isvc.Status.Replicas).To(Equal(int32(1)))
		}, 4*time.Minute).Should(Succeed())
	})

	It("scales on an inference queue length (Pods metric) and on an External metric", func() {
		fast := &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To(int32(0))},
		}
		queue := newISVC(namespace, "queue", func(i *servingv1alpha1.InferenceService) {
			i.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 4, Behavior: fast,
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "inference_queue_length"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("10"))},
				}}}}
		})
		external := newISVC(namespace, "external", func(i *servingv1alpha1.InferenceService) {
			i.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 4, Behavior: fast,
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("10"))},
				}}}}
		})
		Expect(k8sClient.Create(ctx(), queue)).To(Succeed())
		Expect(k8sClient.Create(ctx(), external)).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(podsOf(namespace, "queue")).NotTo(BeEmpty()) }).Should(Succeed())

		By("the adapter reporting a queue of 30 per pod and a queue_depth of 30")
		stopQueue := loadInBackground("queue", "queue", "30", "-n", namespace, "--watch")
		_, err := utils.Run(exec.Command("hack/load.sh", "external", "queue_depth", "30", "-n", namespace))
		Expect(err).NotTo(HaveOccurred())
		Eventually(targetsColumn("queue")).Should(Equal("inference_queue_length: 30/10"))
		Eventually(func(g Gomega) {
			g.Expect(getISVC(g, "queue").Status.DesiredReplicas).To(BeNumerically(">", 1))
			g.Expect(getISVC(g, "external").Status.DesiredReplicas).To(BeNumerically(">", 1))
		}).Should(Succeed())
		Eventually(targetsColumn("external")).Should(MatchRegexp(`^queue_depth: [\d.]+m?/10 \(avg\)$`))

		By("the adapter reporting a queue of 2 per pod and a queue_depth of 2")
		stopQueue()
		stopQueue = loadInBackground("queue", "queue", "2", "-n", namespace, "--watch")
		defer stopQueue()
		_, err = utils.Run(exec.Command("hack/load.sh", "external", "queue_depth", "2", "-n", namespace))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			g.Expect(getISVC(g, "queue").Status.DesiredReplicas).To(Equal(int32(1)))
			g.Expect(getISVC(g, "external").Status.DesiredReplicas).To(Equal(int32(1)))
			g.Expect(getISVC(g, "queue").Status.Replicas).To(Equal(int32(1)))
		}, 4*time.Minute).Should(Succeed())
		Eventually(targetsColumn("queue")).Should(Equal("inference_queue_length: 2/10"))
	})

	It("shows ScalingActive=False with the HPA's reason when no adapter serves a metric", func() {
		isvc := newISVC(namespace, "no-metric", func(i *servingv1alpha1.InferenceService) {
			i.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 3,
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "metric_nobody_serves"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("1"))},
				}}}}
		})
		Expect(k8sClient.Create(ctx(), isvc)).To(Succeed())
		Eventually(func(g Gomega) {
			c := meta.FindStatusCondition(getISVC(g, "no-metric").Status.Conditions, servingv1alpha1.ConditionScalingActive)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal("FailedGetPodsMetric"))
			g.Expect(c.Message).To(ContainSubstring("metric_nobody_serves"))
		}).Should(Succeed())
	})

	It("rolls out a new image without sending traffic to an unready pod", func() {
		isvc := newISVC(namespace, "rollout", func(i *servingv1alpha1.InferenceService) {
			i.Spec.Replicas = ptr.To(int32(3))
			// kwok's pod-ready stage honours this delay: new pods stay unready for a while.
			i.Spec.PodAnnotations = map[string]string{"pod-ready.stage.kwok.x-k8s.io/delay": "6s"}
		})
		Expect(k8sClient.Create(ctx(), isvc)).To(Succeed())
		_, err := kubectl("wait", "--for=condition=Ready", "--timeout=180s", "-n", namespace, "infsvc/rollout")
		Expect(err).NotTo(HaveOccurred())

		watch := watchEndpoints(namespace, "rollout")
		Eventually(func(g Gomega) {
			live := getISVC(g, "rollout")
			live.Spec.Image = "ghcr.io/example/model-server:2.0"
			g.Expect(k8sClient.Update(ctx(), live)).To(Succeed())
		}).Should(Succeed())

		Eventually(func(g Gomega) string {
			return meta.FindStatusCondition(getISVC(g, "rollout").Status.Conditions, servingv1alpha1.ConditionProgressing).Reason
		}, time.Minute, 200*time.Millisecond).Should(Equal(servingv1alpha1.ReasonRolloutInProgress))
		Eventually(func(g Gomega) {
			live := getISVC(g, "rollout")
			g.Expect(live.Status.ObservedGeneration).To(Equal(live.Generation))
			g.Expect(meta.FindStatusCondition(live.Status.Conditions, servingv1alpha1.ConditionProgressing)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", servingv1alpha1.ReasonRolloutComplete)))
			g.Expect(meta.IsStatusConditionTrue(live.Status.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
			g.Expect(live.Status.UpdatedReplicas).To(Equal(int32(3)))
		}).Should(Succeed())
		for _, p := range podsOf(namespace, "rollout") {
			Expect(p.Spec.Containers[0].Image).To(Equal("ghcr.io/example/model-server:2.0"))
		}
		samples, unreadyServed, unreadySeen := watch()
		_, _ = fmt.Fprintf(GinkgoWriter, "endpoint samples: %d, unready pod observations: %d, unready pods served: %d\n",
			samples, unreadySeen, len(unreadyServed))
		Expect(samples).To(BeNumerically(">", 10))
		Expect(unreadySeen).To(BeNumerically(">", 0), "new pods must have been unready for a while, or the check proves nothing")
		Expect(unreadyServed).To(BeEmpty(), "the Service's endpoints listed a pod as ready that was not")
	})

	It("removes every child through the garbage collector when the InferenceService is deleted", func() {
		isvc := newISVC(namespace, "doomed", func(i *servingv1alpha1.InferenceService) {
			i.Spec.PodDisruptionBudget = &servingv1alpha1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1))}
		})
		Expect(k8sClient.Create(ctx(), isvc)).To(Succeed())
		children := []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}}
		for _, child := range children {
			Eventually(func() error { return k8sClient.Get(ctx(), key("doomed"), child) }).Should(Succeed())
		}
		Expect(k8sClient.Delete(ctx(), isvc)).To(Succeed())
		for _, child := range children {
			Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx(), key("doomed"), child)) }).
				Should(BeTrue(), "%T was not garbage collected", child)
		}
		Eventually(func() []corev1.Pod { return podsOf(namespace, "doomed") }).Should(BeEmpty())
	})

	It("changes nothing that was already right when the operator restarts", func() {
		before := snapshot(namespace, "iris")
		all := &servingv1alpha1.InferenceServiceList{}
		Expect(k8sClient.List(ctx(), all)).To(Succeed())
		Expect(all.Items).NotTo(BeEmpty())

		By("killing the operator and starting it again")
		operator.Kill()
		logFrom := operator.LogSize()
		operator.Start()

		By(fmt.Sprintf("waiting until the new process has reconciled each of the %d InferenceServices", len(all.Items)))
		// Without this, a restarted operator that died at once, or never reconciled,
		// would leave everything unchanged too.
		Eventually(func(g Gomega) {
			if !operator.Running() {
				StopTrying("the restarted operator exited:\n" + tail(operator.LogSince(logFrom), 40)).Now()
			}
			done := utils.LoggedObjects(operator.LogSince(logFrom), utils.LogReconcileSuccessful)
			for _, isvc := range all.Items {
				g.Expect(done).To(HaveKey(client.ObjectKeyFromObject(&isvc)),
					"the restarted operator has not reconciled %s/%s", isvc.Namespace, isvc.Name)
			}
		}, time.Minute).Should(Succeed())

		Consistently(func(g Gomega) {
			g.Expect(operator.Running()).To(BeTrue(), "the restarted operator exited")
			g.Expect(snapshot(namespace, "iris")).To(Equal(before))
			g.Expect(meta.IsStatusConditionTrue(getISVC(g, "iris").Status.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
		}, 20*time.Second, time.Second).Should(Succeed())
	})
})

// childState is what must not change when the operator restarts: the specs of the
// children (their generations) and the Deployment's replica count.
type childState struct {
	DeploymentGeneration int64
	DeploymentReplicas   int32
	ServiceVersion       string
	HPAGeneration        int64
}

func snapshot(namespace, name string) childState {
	key := client.ObjectKey{Namespace: namespace, Name: name}
	dep, svc, hpa := &appsv1.Deployment{}, &corev1.Service{}, &autoscalingv2.HorizontalPodAutoscaler{}
	ExpectWithOffset(1, k8sClient.Get(ctx(), key, dep)).To(Succeed())
	ExpectWithOffset(1, k8sClient.Get(ctx(), key, svc)).To(Succeed())
	ExpectWithOffset(1, k8sClient.Get(ctx(), key, hpa)).To(Succeed())
	return childState{dep.Generation, ptr.Deref(dep.Spec.Replicas, 0), svc.ResourceVersion, hpa.Generation}
}

// watchEndpoints samples the Service's EndpointSlices and pods every 100 ms until the
// returned function is called. It reports how many samples it took, the pods the slices
// listed as ready while the pod itself was not Ready, and how many times it saw an
// unready pod at all.
func watchEndpoints(namespace, name string) func() (samples int, unreadyServed []string, unreadySeen int) {
	var (
		mu      sync.Mutex
		stop    = make(chan struct{})
		done    = make(chan struct{})
		count   int
		served  []string
		unready int
	)
	go func() {
		defer GinkgoRecover()
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			slices := &discoveryv1.EndpointSliceList{}
			if err := k8sClient.List(ctx(), slices, client.InNamespace(namespace),
				client.MatchingLabels{discoveryv1.LabelServiceName: name}); err != nil {
				continue
			}
			podReadiness := map[string]bool{}
			for _, p := range podsOf(namespace, name) {
				podReadiness[p.Name] = podReady(&p)
			}
			mu.Lock()
			count++
			for _, ready := range podReadiness {
				if !ready {
					unready++
				}
			}
			for _, s := range slices.Items {
				for _, e := range s.Endpoints {
					if e.TargetRef == nil || !ptr.Deref(e.Conditions.Ready, false) {
						continue
					}
					// A pod gone from the list was deleted after the slice was read; only
					// a pod known to be unready right now is a violation.
					if ready, known := podReadiness[e.TargetRef.Name]; known && !ready {
						served = append(served, e.TargetRef.Name)
					}
				}
			}
			mu.Unlock()
		}
	}()
	return func() (int, []string, int) {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return count, served, unready
	}
}

func podsOf(namespace, name string) []corev1.Pod {
	pods := &corev1.PodList{}
	ExpectWithOffset(1, k8sClient.List(ctx(), pods, client.InNamespace(namespace),
		client.MatchingLabels{"serving.inferenceops.dev/inferenceservice": name})).To(Succeed())
	var live []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	return live
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func createNamespace(prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	ExpectWithOffset(1, k8sClient.Create(ctx(), ns)).To(Succeed())
	return ns.Name
}

func newISVC(namespace, name string, opts ...func(*servingv1alpha1.InferenceService)) *servingv1alpha1.InferenceService {
	isvc := &servingv1alpha1.InferenceService{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: servingv1alpha1.InferenceServiceSpec{
			Image: "ghcr.io/example/model-server:1.0",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
			},
		},
	}
	for _, opt := range opts {
		opt(isvc)
	}
	return isvc
}

// loadInBackground runs hack/load.sh with args (a load kept with --watch) from the
// repository root, and returns a function that stops it.
func loadInBackground(args ...string) func() {
	cmd := exec.Command("hack/load.sh", args...)
	cmd.Dir = projectDir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout = GinkgoWriter
	cmd.Stderr = GinkgoWriter
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	ExpectWithOffset(1, cmd.Start()).To(Succeed())
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			_ = cmd.Wait()
		})
	}
	DeferCleanup(stop)
	return stop
}
