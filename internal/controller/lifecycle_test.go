package controller

import (
	"context"
	"sync/atomic"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// What a live service goes through over its life: strategy switches, scale handovers,
// delete and re-create, hand edits and removed fields, and errors while it serves.
var _ = Describe("a live InferenceService", func() {
	var namespace string
	BeforeEach(func() { namespace = newNamespace() })

	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: name} }
	deployment := func(name string) func(Gomega) *appsv1.Deployment {
		return func(g Gomega) *appsv1.Deployment {
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, key(name), dep)).To(Succeed())
			return dep
		}
	}
	isvcNamed := func(name string) func(Gomega) *servingv1alpha1.InferenceService {
		return func(g Gomega) *servingv1alpha1.InferenceService {
			isvc := &servingv1alpha1.InferenceService{}
			g.Expect(k8sClient.Get(ctx, key(name), isvc)).To(Succeed())
			return isvc
		}
	}
	condition := func(name, conditionType string) func(Gomega) *metav1.Condition {
		return func(g Gomega) *metav1.Condition {
			return meta.FindStatusCondition(isvcNamed(name)(g).Status.Conditions, conditionType)
		}
	}
	update := func(name string, mutate func(*servingv1alpha1.InferenceService)) {
		Eventually(func(g Gomega) {
			isvc := isvcNamed(name)(g)
			mutate(isvc)
			g.Expect(k8sClient.Update(ctx, isvc)).To(Succeed())
		}).Should(Succeed())
	}
	// settled waits until the operator reported on the latest spec, and nothing is stalled.
	settled := func(name string) {
		Eventually(func(g Gomega) {
			isvc := isvcNamed(name)(g)
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			g.Expect(meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionStalled)).To(BeNil(),
				"Stalled: %v", meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionStalled))
			ready := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).NotTo(Equal(servingv1alpha1.ReasonApplyFailed), ready.Message)
		}).Should(Succeed())
	}

	It("switches RollingUpdate -> Recreate -> RollingUpdate -> Recreate, each applied to the Deployment", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "gpu"))).To(Succeed())
		Eventually(func(g Gomega) *appsv1.RollingUpdateDeployment {
			return deployment("gpu")(g).Spec.Strategy.RollingUpdate
		}).ShouldNot(BeNil(), "the API server defaults rollingUpdate (25%/25%), owned by no one")

		recreate := &appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		surgeOne := &appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0)),
		}}
		for i, strategy := range []*appsv1.DeploymentStrategy{recreate, surgeOne, recreate, nil, recreate} {
			By("setting spec.strategy to " + strategyName(strategy))
			update("gpu", func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Strategy = strategy })
			settled("gpu")
			Eventually(func(g Gomega) {
				got := deployment("gpu")(g).Spec.Strategy
				switch {
				case strategy == nil:
					g.Expect(got.Type).To(Equal(appsv1.RollingUpdateDeploymentStrategyType))
				case strategy.Type == appsv1.RecreateDeploymentStrategyType:
					g.Expect(got).To(Equal(*recreate), "switch %d", i)
				default:
					g.Expect(got.Type).To(Equal(strategy.Type))
					g.Expect(got.RollingUpdate.MaxSurge).To(Equal(strategy.RollingUpdate.MaxSurge))
					g.Expect(got.RollingUpdate.MaxUnavailable).To(Equal(strategy.RollingUpdate.MaxUnavailable))
				}
			}).Should(Succeed())
		}
		Expect(managersOf(deployment("gpu")(Default))).To(And(
			Not(ContainElement(repairOwner+"/Update")), Not(ContainElement(FieldOwner+"/Update"))),
			"the repair leaves no field-ownership entry behind")
	})

	It("hands a fixed count of 0 over to autoscaling at minReplicas, and reports ScaledToZero only while spec.replicas is 0", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "idle", func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Replicas = ptr.To[int32](0)
		}))).To(Succeed())
		Eventually(func(g Gomega) *int32 { return deployment("idle")(g).Spec.Replicas }).Should(HaveValue(BeZero()))

		By("switching to autoscaling between 2 and 5")
		update("idle", func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Replicas = nil
			isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 5}
		})
		Eventually(func(g Gomega) *int32 { return deployment("idle")(g).Spec.Replicas }).Should(HaveValue(Equal(int32(2))),
			"an HPA never scales a target it finds at 0; the handover starts it at minReplicas")
		Eventually(condition("idle", servingv1alpha1.ConditionReady)).Should(HaveField("Reason", Not(Equal(servingv1alpha1.ReasonScaledToZero))))
	})

	It("waits for the children of a deleted InferenceService of the same name instead of reporting a conflict", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "again"))).To(Succeed())
		Eventually(deployment("again")).ShouldNot(BeNil())
		Eventually(func() error { return k8sClient.Get(ctx, key("again"), &corev1.Service{}) }).Should(Succeed())

		By("deleting it and creating it again at once; envtest has no garbage collector, so the old children stay")
		Expect(k8sClient.Delete(ctx, isvcNamed("again")(Default))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key("again"), &servingv1alpha1.InferenceService{}))
		}).Should(BeTrue())
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "again"))).To(Succeed())

		Eventually(condition("again", servingv1alpha1.ConditionReconciling)).Should(And(
			HaveField("Status", metav1.ConditionTrue),
			HaveField("Reason", servingv1alpha1.ReasonWaitingForPreviousChildren)))
		Consistently(func(g Gomega) {
			g.Expect(condition("again", servingv1alpha1.ConditionStalled)(g)).To(BeNil(), "waiting is not stalled")
			g.Expect(condition("again", servingv1alpha1.ConditionReady)(g).Reason).NotTo(Equal(servingv1alpha1.ReasonResourceConflict))
			g.Expect(warningEvents(namespace, "again")(g)).To(BeEmpty(), "no Warning event about its own previous children")
		}).Should(Succeed())

		By("playing the garbage collector: the old children go")
		for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &autoscalingv2.HorizontalPodAutoscaler{}} {
			Expect(k8sClient.Get(ctx, key("again"), obj)).To(Succeed())
			Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		}
		Eventually(func(g Gomega) {
			g.Expect(metav1.IsControlledBy(deployment("again")(g), isvcNamed("again")(g))).To(BeTrue(), "the new InferenceService's own Deployment")
			g.Expect(condition("again", servingv1alpha1.ConditionReady)(g).Reason).NotTo(Equal(servingv1alpha1.ReasonWaitingForPreviousChildren))
		}).Should(Succeed())
	})

	It("removes env vars, tolerations, volumes and ports dropped from the spec, also after repairing a hand edit", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "lean", func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Env = []corev1.EnvVar{{Name: "KEEP", Value: "1"}, {Name: "DROP", Value: "2"}}
			isvc.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
			isvc.Spec.Volumes = []corev1.Volume{{Name: "shm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}}}
			isvc.Spec.VolumeMounts = []corev1.VolumeMount{{Name: "shm", MountPath: "/dev/shm"}}
			isvc.Spec.Port = 8000
		}))).To(Succeed())
		Eventually(func(g Gomega) []corev1.EnvVar { return deployment("lean")(g).Spec.Template.Spec.Containers[0].Env }).Should(HaveLen(2))

		By("a hand edit the operator's apply cannot undo alone: the container port renumbered, keeping its name")
		dep := deployment("lean")(Default)
		patch := []byte(`[{"op":"replace","path":"/spec/template/spec/containers/0/ports","value":[{"name":"http","containerPort":9000,"protocol":"TCP"}]}]`)
		Expect(k8sClient.Patch(ctx, dep, client.RawPatch(types.JSONPatchType, patch), client.FieldOwner("kubectl-edit"))).To(Succeed())
		Eventually(func(g Gomega) []corev1.ContainerPort {
			return deployment("lean")(g).Spec.Template.Spec.Containers[0].Ports
		}).Should(ConsistOf(HaveField("ContainerPort", int32(8000))), "repaired: the operator's port only")
		// The repair's own entry is removed by a request after the apply that restores the
		// port, so it may still be there when the port is seen restored.
		Eventually(func(g Gomega) []string { return managersOf(deployment("lean")(g)) }).Should(And(
			ContainElement(FieldOwner+"/Apply"),
			Not(ContainElement(FieldOwner+"/Update")),
			Not(ContainElement(repairOwner+"/Update"))),
			"the repair leaves no entry of the operator's but its Apply entry")

		By("removing an env var, the toleration, the volume and its mount, and changing the port")
		update("lean", func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Env = []corev1.EnvVar{{Name: "KEEP", Value: "1"}}
			isvc.Spec.Tolerations, isvc.Spec.Volumes, isvc.Spec.VolumeMounts = nil, nil, nil
			isvc.Spec.Port = 8080
		})
		Eventually(func(g Gomega) {
			pod := deployment("lean")(g).Spec.Template.Spec
			g.Expect(pod.Containers[0].Env).To(Equal([]corev1.EnvVar{{Name: "KEEP", Value: "1"}}))
			g.Expect(pod.Tolerations).To(BeEmpty())
			g.Expect(pod.Volumes).To(BeEmpty())
			g.Expect(pod.Containers[0].VolumeMounts).To(BeEmpty())
			g.Expect(pod.Containers[0].Ports).To(ConsistOf(HaveField("ContainerPort", int32(8080))))
		}).Should(Succeed())
	})

	It("keeps reporting what runs when writing a child fails", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "serving"))).To(Succeed())
		Eventually(deployment("serving")).ShouldNot(BeNil())
		Eventually(func() error { return k8sClient.Get(ctx, key("serving"), &autoscalingv2.HorizontalPodAutoscaler{}) }).Should(Succeed())
		Eventually(func(g Gomega) {
			dep := deployment("serving")(g)
			dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
				}}
			g.Expect(k8sClient.Status().Update(ctx, dep)).To(Succeed())
		}).Should(Succeed())

		By("reconciling a spec change with an API server that refuses connections for every write")
		refused := &connectionRefused{}
		r := reconcilerWith(interceptor.Funcs{
			Apply: func(context.Context, client.WithWatch, runtime.ApplyConfiguration, ...client.ApplyOption) error {
				return refused
			},
			Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
				return refused
			},
		}, nil)
		isvc := isvcNamed("serving")(Default)
		isvc.Spec.Env = []corev1.EnvVar{{Name: "NEW", Value: "1"}}

		obs, err := r.reconcileChildren(ctx, isvc, render.Desired(isvc, render.Config{}))
		status := computeStatus(isvc, obs, render.Config{})

		Expect(err).To(MatchError(refused))
		Expect(status.ReadyReplicas).To(Equal(int32(1)), "the pod still serves")
		Expect(status.AvailableReplicas).To(Equal(int32(1)))
		Expect(status.URL).To(Equal("http://serving." + namespace + ".svc.cluster.local:80"))
		Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionAvailable)).To(HaveField("Status", metav1.ConditionTrue))
		Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady)).To(And(
			HaveField("Reason", servingv1alpha1.ReasonApplyFailed),
			HaveField("Message", ContainSubstring("connection refused"))))
	})

	It("never adopts an object someone created between the read and the write", func() {
		theirs := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "raced"},
			Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "theirs"}, Ports: []corev1.ServicePort{{Name: "web", Port: 9000}}},
		}
		isvc := newInferenceService(namespace, "raced")
		// Not created on the API server, so the suite's manager leaves the name alone;
		// this reconciler works on it directly.
		isvc.UID = "4b825dc6-42f5-4e4e-9c7a-0f5b0f8f7e11"

		By("a reconciler whose reads all miss it, as if it was created right after them")
		var created atomic.Bool
		r := reconcilerWith(interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				if _, ok := obj.(*corev1.Service); ok && !created.Load() {
					created.Store(true)
					Expect(k8sClient.Create(ctx, theirs)).To(Succeed())
					return apierrors.NewNotFound(corev1.Resource("services"), key.Name)
				}
				return c.Get(ctx, key, obj, opts...)
			},
		}, nil)

		_, err := r.reconcileChildren(ctx, isvc, render.Desired(isvc, render.Config{}))

		Expect(err).To(MatchError(ContainSubstring(`a Service named "raced" already exists`)))
		svc := &corev1.Service{}
		Expect(k8sClient.Get(ctx, key("raced"), svc)).To(Succeed())
		Expect(svc.OwnerReferences).To(BeEmpty(), "not adopted")
		Expect(svc.Spec.Ports).To(ConsistOf(HaveField("Port", int32(9000))), "not overwritten")
	})
})

// connectionRefused is a "connection refused" as the client sees it.
type connectionRefused struct{}

func (*connectionRefused) Error() string {
	return "dial tcp 127.0.0.1:6443: connect: connection refused"
}
func (*connectionRefused) Unwrap() error { return syscall.ECONNREFUSED }

// reconcilerWith returns a reconciler that talks to the test API server directly (no
// cache) through funcs, and reads uncached through apiFuncs (the plain client when nil).
func reconcilerWith(funcs interceptor.Funcs, apiFuncs *interceptor.Funcs) *InferenceServiceReconciler {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	var reader client.Reader = c
	if apiFuncs != nil {
		reader = interceptor.NewClient(c, *apiFuncs)
	}
	return &InferenceServiceReconciler{
		Client:    interceptor.NewClient(c, funcs),
		APIReader: reader,
		Scheme:    scheme,
		Recorder:  events.NewFakeRecorder(100),
	}
}

var _ reconcile.Reconciler = &InferenceServiceReconciler{}

// managersOf lists an object's field managers as manager/operation.
func managersOf(obj client.Object) []string {
	var out []string
	for _, e := range obj.GetManagedFields() {
		if e.Subresource == "" {
			out = append(out, e.Manager+"/"+string(e.Operation))
		}
	}
	return out
}

func strategyName(s *appsv1.DeploymentStrategy) string {
	switch {
	case s == nil:
		return "nothing (the default)"
	case s.RollingUpdate != nil:
		return string(s.Type) + " with maxSurge 1, maxUnavailable 0"
	}
	return string(s.Type)
}
