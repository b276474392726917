package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// The operator's --default-pod-monitor (render.Config.DefaultPodMonitor), on a cluster of
// its own with the Prometheus Operator's PodMonitor CRD: services reconciled with the flag
// off, then the operator restarted with it on, as a helm upgrade that sets the chart value
// defaultPodMonitor does.
var _ = Describe("The operator's default PodMonitor (--default-pod-monitor)", Ordered, func() {
	var (
		env       *envtest.Environment
		c         client.Client
		namespace string
	)
	// startOperator runs the controller with cfg until the returned function stops it
	// (and waits until it has stopped, so that two never run at once).
	startOperator := func(cfg render.Config) (stop func()) {
		return startManager(extraManager{config: env.Config, optional: []schema.GroupVersionKind{render.ScaledObjectGVK, render.PodMonitorGVK}, render: cfg})
	}
	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: name} }
	getPodMonitor := func(name string) (*unstructured.Unstructured, error) {
		pm := &unstructured.Unstructured{}
		pm.SetGroupVersionKind(render.PodMonitorGVK)
		return pm, c.Get(ctx, key(name), pm)
	}
	podMonitorErr := func(name string) func() error {
		return func() error { _, err := getPodMonitor(name); return err }
	}
	// reconciled waits until the operator has written the status of the current spec.
	reconciled := func(name string) {
		GinkgoHelper()
		Eventually(func(g Gomega) {
			isvc := &servingv1alpha1.InferenceService{}
			g.Expect(c.Get(ctx, key(name), isvc)).To(Succeed())
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			g.Expect(c.Get(ctx, key(name), &appsv1.Deployment{})).To(Succeed())
		}).Should(Succeed())
	}
	getDeployment := func(name string) *appsv1.Deployment {
		GinkgoHelper()
		dep := &appsv1.Deployment{}
		Expect(c.Get(ctx, key(name), dep)).To(Succeed())
		return dep
	}
	enabled := func(on bool) func(*servingv1alpha1.InferenceService) {
		return func(i *servingv1alpha1.InferenceService) {
			i.Spec.Monitoring = &servingv1alpha1.MonitoringSpec{PodMonitor: &servingv1alpha1.PodMonitorSpec{Enabled: ptr.To(on)}}
		}
	}

	BeforeAll(func() {
		env, c = startCluster("test/crds")
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "default-pod-monitor-"}}
		Expect(c.Create(ctx, ns)).To(Succeed())
		namespace = ns.Name
	})

	It("renders none with the flag off, one where enabled is left out once it is on, none where enabled is false, and rolls no pod", func() {
		By("running the operator without the flag")
		stop := startOperator(render.Config{})
		Expect(c.Create(ctx, newInferenceService(namespace, "plain"))).To(Succeed())
		Expect(c.Create(ctx, newInferenceService(namespace, "off", enabled(false)))).To(Succeed())
		Expect(c.Create(ctx, newInferenceService(namespace, "on", enabled(true)))).To(Succeed())
		for _, name := range []string{"plain", "off", "on"} {
			reconciled(name)
		}
		Eventually(podMonitorErr("on")).Should(Succeed(), "enabled: true needs no flag")
		Consistently(podMonitorErr("plain")).Should(Satisfy(apierrors.IsNotFound), "no PodMonitor by default")
		Expect(podMonitorErr("off")()).To(Satisfy(apierrors.IsNotFound))
		before := map[string]*appsv1.Deployment{}
		for _, name := range []string{"plain", "off", "on"} {
			before[name] = getDeployment(name)
		}
		stop()

		By("restarting the operator with --default-pod-monitor")
		DeferCleanup(startOperator(render.Config{DefaultPodMonitor: true}))
		Eventually(podMonitorErr("plain")).Should(Succeed(), "enabled left out: the operator's default turns the PodMonitor on")
		pm, err := getPodMonitor("plain")
		Expect(err).NotTo(HaveOccurred())
		isvc := &servingv1alpha1.InferenceService{}
		Expect(c.Get(ctx, key("plain"), isvc)).To(Succeed())
		Expect(metav1.IsControlledBy(pm, isvc)).To(BeTrue())
		Expect(pm.Object["spec"]).To(HaveKeyWithValue("podMetricsEndpoints",
			[]any{map[string]any{"portNumber": int64(servingv1alpha1.DefaultPort), "path": "/metrics"}}))
		Consistently(podMonitorErr("off")).Should(Satisfy(apierrors.IsNotFound), "enabled: false wins over the default")
		Expect(podMonitorErr("on")()).To(Succeed())

		By("leaving every Deployment as it was: no pod template change, no rollout")
		for name, was := range before {
			dep := getDeployment(name)
			Expect(dep.Generation).To(Equal(was.Generation), "Deployment %s was changed", name)
			Expect(dep.Spec.Template).To(Equal(was.Spec.Template), "the pod template of %s changed", name)
		}

		By("turning it off again with enabled: false")
		Eventually(func(g Gomega) {
			got := &servingv1alpha1.InferenceService{}
			g.Expect(c.Get(ctx, key("plain"), got)).To(Succeed())
			enabled(false)(got)
			g.Expect(c.Update(ctx, got)).To(Succeed())
		}).Should(Succeed())
		Eventually(podMonitorErr("plain")).Should(Satisfy(apierrors.IsNotFound))
	})
})
