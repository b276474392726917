package controller

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

var _ = Describe("an InferenceService whose children are already in shape", func() {
	// Specs that exercise every kind of field the builders render: if one of them made
	// the operator's view of a child differ from what the API server stored (a defaulted
	// value, a normalised quantity), every resync would send writes.
	specs := map[string]func(*servingv1alpha1.InferenceService){
		"defaults": func(*servingv1alpha1.InferenceService) {},
		"fixed-with-pdb": func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Replicas = ptr.To[int32](3)
			isvc.Spec.PodDisruptionBudget = &servingv1alpha1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromString("50%"))}
			isvc.Spec.Strategy = &appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		},
		"queue-metric": func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{
				MinReplicas: ptr.To[int32](2), MaxReplicas: 20,
				Metrics: []autoscalingv2.MetricSpec{{
					Type: autoscalingv2.PodsMetricSourceType,
					Pods: &autoscalingv2.PodsMetricSource{
						Metric: autoscalingv2.MetricIdentifier{Name: "inference_queue_length"},
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("10"))},
					},
				}},
				Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
					ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](30)},
				},
			}
		},
		"podmonitor": func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Metrics = &servingv1alpha1.MetricsSpec{Port: ptr.To[int32](9090)}
			isvc.Spec.Monitoring = &servingv1alpha1.MonitoringSpec{PodMonitor: &servingv1alpha1.PodMonitorSpec{Enabled: ptr.To(true)}}
		},
		"gpu-everything": func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Resources.Requests["nvidia.com/gpu"] = resource.MustParse("1")
			isvc.Spec.Resources.Limits["nvidia.com/gpu"] = resource.MustParse("1")
			isvc.Spec.Resources.Requests[corev1.ResourceMemory] = resource.MustParse("1.5Gi")
			isvc.Spec.Resources.Limits[corev1.ResourceMemory] = resource.MustParse("2048Mi")
			isvc.Spec.Env = []corev1.EnvVar{{Name: "MODEL", Value: "resnet"}}
			isvc.Spec.Args = []string{"--model-repository=/models"}
			isvc.Spec.Port = 8000
			isvc.Spec.HealthPath = "/ready"
			isvc.Spec.NodeSelector = map[string]string{"gpu": "a100"}
			isvc.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
			isvc.Spec.Volumes = []corev1.Volume{{Name: "shm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}}}
			isvc.Spec.VolumeMounts = []corev1.VolumeMount{{Name: "shm", MountPath: "/dev/shm"}}
			isvc.Spec.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8000)}}}
			isvc.Spec.Service = servingv1alpha1.ServiceSpec{Type: "NodePort", Port: 8000, Annotations: map[string]string{"team": "vision"}}
			isvc.Spec.PodAnnotations = map[string]string{"prometheus.io/scrape": "true"}
			isvc.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](1000)}
		},
	}

	It("sends no write request when a child changes in a way the operator does not manage", func() {
		namespace := newNamespace()
		reconciles := startCountingManager(namespace)
		for name, opt := range specs {
			Expect(k8sClient.Create(ctx, newInferenceService(namespace, name, opt))).To(Succeed())
		}

		By("waiting until every InferenceService is reconciled and the writes have stopped")
		Eventually(func(g Gomega) {
			for name := range specs {
				isvc := &servingv1alpha1.InferenceService{}
				g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, isvc)).To(Succeed())
				g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			}
		}).Should(Succeed())
		settled := managerWrites.in(namespace)
		Eventually(func() (changed bool) {
			now := managerWrites.in(namespace)
			changed, settled = now != settled, now
			return changed
		}).WithPolling(time.Second).MustPassRepeatedly(3).Should(BeFalse(),
			"the writes of the first reconciles never stopped")
		reconcilesBefore := reconciles.snapshot()
		readsBefore := managerWrites.readsIn(namespace)

		By("touching every child with an annotation of another field manager, which triggers a reconcile each")
		touched := 0
		for name := range specs {
			for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}} {
				obj.SetNamespace(namespace)
				obj.SetName(name)
				patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"example.com/touched":"yes"}}}`))
				if err := k8sClient.Patch(ctx, obj, patch, client.FieldOwner("someone-else")); client.IgnoreNotFound(err) != nil {
					Fail(fmt.Sprintf("touching %T %s: %v", obj, name, err))
				} else if err == nil {
					touched++
				}
			}
		}
		// A Deployment and a Service each, an HPA each but "fixed-with-pdb", which has a PDB.
		Expect(touched).To(Equal(len(specs) * 3))

		By("checking the operator reconciled each of them again and wrote nothing")
		Eventually(func(g Gomega) {
			for name := range specs {
				key := types.NamespacedName{Namespace: namespace, Name: name}
				g.Expect(reconciles.of(key)).To(BeNumerically(">", reconcilesBefore[key]),
					"no reconcile of %s finished since its children were touched", key)
			}
		}).Should(Succeed())
		Consistently(func() int { return managerWrites.in(namespace) - settled }).Should(BeZero(),
			"the operator sent write requests for InferenceServices whose children were already in shape")
		// Every child the reconciles read, the optional kinds (ScaledObject, PodMonitor,
		// served in this suite) among them, comes from the cache: a resync of thousands of
		// InferenceServices must cost the API server no GET.
		Expect(managerWrites.readsIn(namespace)-readsBefore).To(BeZero(),
			"the operator read from the API server what its cache holds")
	})
})

// startCountingManager starts, for the rest of the spec, a second manager running the
// InferenceService controller on namespace only, and returns the count of the reconciles
// it finished, per InferenceService. Its requests are counted in managerWrites like the
// suite manager's.
//
// Why a manager of its own: the suite manager reconciles the objects of every spec, and
// its controller-wide figures (controller_runtime_reconcile_total) count other specs'
// reconciles too, so they cannot show that these objects were reconciled. This manager
// runs the same SetupWithManager, so it gets the same events; controller-runtime logs
// every reconcile it finishes at level 5 with the request's namespace and name, which the
// manager's logger counts. Both managers act on the same objects with the same code, so
// neither may write.
func startCountingManager(namespace string) *reconcileCounter {
	GinkgoHelper()
	counter := &reconcileCounter{counts: map[types.NamespacedName]int{}}
	logger := logr.New(&countingLogSink{counter: counter, forward: logf.Log.WithName("counting-manager").GetSink()})
	startManager(extraManager{namespaces: []string{namespace}, wrap: managerWrites.wrap, logger: &logger})
	return counter
}

// reconcileCounter counts finished reconciles by the request's namespace and name.
type reconcileCounter struct {
	mu     sync.Mutex
	counts map[types.NamespacedName]int
}

func (c *reconcileCounter) of(key types.NamespacedName) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[key]
}

func (c *reconcileCounter) snapshot() map[types.NamespacedName]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// reconcileDone is what controller-runtime logs (at level 5) when a reconcile returned
// neither an error nor a requeue.
const reconcileDone = "Reconcile successful"

// countingLogSink counts reconcileDone lines by their "namespace" and "name" values and
// forwards every line up to debug level to forward.
type countingLogSink struct {
	counter *reconcileCounter
	forward logr.LogSink
	values  []any
}

func (s *countingLogSink) Init(info logr.RuntimeInfo) { s.forward.Init(info) }

func (s *countingLogSink) Enabled(int) bool { return true }

func (s *countingLogSink) Info(level int, msg string, keysAndValues ...any) {
	if msg == reconcileDone {
		var key types.NamespacedName
		all := append(slices.Clone(s.values), keysAndValues...)
		for i := 0; i+1 < len(all); i += 2 {
			switch all[i] {
			case "namespace":
				key.Namespace, _ = all[i+1].(string)
			case "name":
				key.Name, _ = all[i+1].(string)
			}
		}
		s.counter.mu.Lock()
		s.counter.counts[key]++
		s.counter.mu.Unlock()
	}
	if level <= 1 && s.forward.Enabled(level) {
		s.forward.Info(level, msg, keysAndValues...)
	}
}

func (s *countingLogSink) Error(err error, msg string, keysAndValues ...any) {
	s.forward.Error(err, msg, keysAndValues...)
}

func (s *countingLogSink) WithValues(keysAndValues ...any) logr.LogSink {
	return &countingLogSink{counter: s.counter, forward: s.forward.WithValues(keysAndValues...),
		values: append(slices.Clone(s.values), keysAndValues...)}
}

func (s *countingLogSink) WithName(name string) logr.LogSink {
	return &countingLogSink{counter: s.counter, forward: s.forward.WithName(name), values: s.values}
}
