package controller

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// A cluster of its own, without KEDA's or the Prometheus Operator's CRDs: the operator
// starts, runs what needs no KEDA, says plainly what is missing, and picks the CRD up
// once it is installed, without a restart.
var _ = Describe("InferenceService with engine KEDA on a cluster without KEDA", Ordered, func() {
	var (
		env    *envtest.Environment
		c      client.Client
		writes = &writeCounter{byNamespace: map[string]int{}}
	)
	BeforeAll(func() {
		env, c = startCluster()
		optional, err := ServedOptionalKinds(env.Config)
		Expect(err).NotTo(HaveOccurred())
		Expect(optional).To(BeEmpty())
		startManager(extraManager{config: env.Config, wrap: writes.wrap})
	})

	It("reconciles a service that does not ask for KEDA without asking the API server for KEDA's kinds", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "no-keda-hpa-"}}
		Expect(c.Create(ctx, ns)).To(Succeed())
		isvc := newInferenceService(ns.Name, "cpu")
		Expect(c.Create(ctx, isvc)).To(Succeed())
		key := client.ObjectKeyFromObject(isvc)
		Eventually(func(g Gomega) {
			got := &servingv1alpha1.InferenceService{}
			g.Expect(c.Get(ctx, key, got)).To(Succeed())
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(c.Get(ctx, key, &appsv1.Deployment{})).To(Succeed())
		}).Should(Succeed())
		before := writes.discoveries()

		By("a Deployment status change, which the operator reconciles and reports")
		Eventually(func(g Gomega) {
			dep := &appsv1.Deployment{}
			g.Expect(c.Get(ctx, key, dep)).To(Succeed())
			dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
			g.Expect(c.Status().Update(ctx, dep)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			got := &servingv1alpha1.InferenceService{}
			g.Expect(c.Get(ctx, key, got)).To(Succeed())
			g.Expect(got.Status.ReadyReplicas).To(Equal(int32(1)))
		}).Should(Succeed())
		// Each lookup of a kind the API server does not serve is a discovery request: at
		// one per optional kind and reconcile, a resync of 1,000 InferenceServices sent
		// 2,000 of them, 40 s at the client's 50 requests per second.
		Expect(writes.discoveries()-before).To(BeZero(),
			"the reconcile looked up KEDA's and the Prometheus Operator's kinds, which this service does not use")
	})

	It("reports KEDAMissing naming the CRD, runs the Deployment and Service, sends nothing more, and picks KEDA up once installed", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "no-keda-"}}
		Expect(c.Create(ctx, ns)).To(Succeed())
		isvc := newInferenceService(ns.Name, "llm", func(i *servingv1alpha1.InferenceService) {
			i.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{Engine: servingv1alpha1.EngineKEDA, MinReplicas: ptr.To[int32](1), MaxReplicas: 4,
				Signals: []servingv1alpha1.AutoscalingSignal{{Type: servingv1alpha1.SignalQueueDepth, Server: servingv1alpha1.ServerVLLM, Target: intstr.FromInt32(5)}}}
		})
		Expect(c.Create(ctx, isvc)).To(Succeed())
		key := client.ObjectKeyFromObject(isvc)

		Eventually(func(g Gomega) {
			got := &servingv1alpha1.InferenceService{}
			g.Expect(c.Get(ctx, key, got)).To(Succeed())
			ready := meta.FindStatusCondition(got.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(servingv1alpha1.ReasonKEDAMissing))
			g.Expect(ready.Message).To(ContainSubstring("scaledobjects.keda.sh"))
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, servingv1alpha1.ConditionStalled)).To(BeTrue())
			g.Expect(c.Get(ctx, key, &appsv1.Deployment{})).To(Succeed(), "the service itself runs")
			g.Expect(c.Get(ctx, key, &corev1.Service{})).To(Succeed())
		}).Should(Succeed())

		By("sending no more requests: no retry loop, no failing watch")
		time.Sleep(time.Second)
		settled := writes.in(ns.Name)
		Consistently(func() int { return writes.in(ns.Name) }, 5*time.Second).Should(Equal(settled))

		By("installing KEDA's ScaledObject CRD and changing the spec")
		_, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{
			Paths: []string{filepath.Join("..", "..", "test", "crds", "keda.sh_scaledobjects.yaml")}, ErrorIfPathMissing: true,
		})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			got := &servingv1alpha1.InferenceService{}
			g.Expect(c.Get(ctx, key, got)).To(Succeed())
			got.Spec.Autoscaling.MaxReplicas = 5
			g.Expect(c.Update(ctx, got)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			so := &unstructured.Unstructured{}
			so.SetGroupVersionKind(render.ScaledObjectGVK)
			g.Expect(c.Get(ctx, key, so)).To(Succeed())
			got := &servingv1alpha1.InferenceService{}
			g.Expect(c.Get(ctx, key, got)).To(Succeed())
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, servingv1alpha1.ConditionReady).Reason).NotTo(Equal(servingv1alpha1.ReasonKEDAMissing))
		}, 30*time.Second).Should(Succeed())
	})
})
