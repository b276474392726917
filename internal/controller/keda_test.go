package controller

import (
	"encoding/json"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
	"github.com/inferenceops/inference-operator/test/utils"
)

// These specs run with KEDA v2.21.0's real ScaledObject CRD installed (test/crds) but no
// KEDA: nothing acts on the ScaledObject. Where KEDA would act, the spec writes what KEDA
// writes and nothing more: the ScaledObject's status conditions, and the HPA keda-hpa-NAME
// KEDA creates (controlled by the ScaledObject, with its labels, External metrics named
// s<i>-prometheus) with the status the HPA controller would give it. The Deployment's
// status is written by hand, as in the other specs.
var _ = Describe("InferenceService with engine KEDA", func() {
	var namespace string
	BeforeEach(func() { namespace = newNamespace() })

	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: name} }
	getISVC := func(name string) *servingv1alpha1.InferenceService {
		isvc := &servingv1alpha1.InferenceService{}
		ExpectWithOffset(1, k8sClient.Get(ctx, key(name), isvc)).To(Succeed())
		return isvc
	}
	getScaledObject := func(name string) func(Gomega) *unstructured.Unstructured {
		return func(g Gomega) *unstructured.Unstructured {
			so := &unstructured.Unstructured{}
			so.SetGroupVersionKind(render.ScaledObjectGVK)
			g.Expect(k8sClient.Get(ctx, key(name), so)).To(Succeed())
			return so
		}
	}
	queueSignal := servingv1alpha1.AutoscalingSignal{Type: servingv1alpha1.SignalQueueDepth, Server: servingv1alpha1.ServerGeneric,
		Target: intstr.FromString("5"), ActivationTarget: ptr.To(intstr.FromString("1"))}
	withKEDA := func(minReplicas int32) func(*servingv1alpha1.InferenceService) {
		return func(i *servingv1alpha1.InferenceService) {
			i.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{Engine: servingv1alpha1.EngineKEDA,
				MinReplicas: ptr.To(minReplicas), MaxReplicas: 5, Signals: []servingv1alpha1.AutoscalingSignal{queueSignal},
				KEDA: &servingv1alpha1.KEDASpec{CooldownPeriod: ptr.To[int32](20)}}
		}
	}
	// setDeployment plays the Deployment controller (and, with replicas, the HPA's scale).
	setDeployment := func(name string, replicas *int32) {
		Eventually(func(g Gomega) {
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, key(name), dep)).To(Succeed())
			if replicas != nil && ptr.Deref(dep.Spec.Replicas, 1) != *replicas {
				// The HPA controller scales through the scale subresource.
				scale := &autoscalingv1Scale{replicas: *replicas}
				g.Expect(scale.apply(dep)).To(Succeed())
				g.Expect(k8sClient.Get(ctx, key(name), dep)).To(Succeed())
			}
			n := ptr.Deref(dep.Spec.Replicas, 1)
			dep.Status = appsv1.DeploymentStatus{
				ObservedGeneration: dep.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
				Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
						LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
						LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
				},
			}
			g.Expect(k8sClient.Status().Update(ctx, dep)).To(Succeed())
		}).Should(Succeed())
	}
	// playKEDA writes what KEDA writes once it has picked the ScaledObject up.
	playKEDA := func(name string, active bool, queue string) {
		By("writing the ScaledObject's status and creating keda-hpa-" + name + " as KEDA does")
		Eventually(func(g Gomega) {
			so := getScaledObject(name)(g)
			activeStatus := "False"
			if active {
				activeStatus = "True"
			}
			g.Expect(unstructured.SetNestedSlice(so.Object, []any{
				map[string]any{"type": "Ready", "status": "True", "reason": "ScaledObjectReady", "message": "ScaledObject is defined correctly and is ready for scaling"},
				map[string]any{"type": "Active", "status": activeStatus, "reason": "ScalerActive", "message": "Scaling is performed because triggers are active"},
				map[string]any{"type": "Fallback", "status": "False", "reason": "NoFallbackFound", "message": "No fallbacks are active on this scaled object"},
				map[string]any{"type": "Paused", "status": "False", "reason": "ScaledObjectUnpaused"},
			}, "status", "conditions")).To(Succeed())
			g.Expect(unstructured.SetNestedField(so.Object, "keda-hpa-"+name, "status", "hpaName")).To(Succeed())
			g.Expect(k8sClient.Status().Update(ctx, so)).To(Succeed())
		}).Should(Succeed())

		so := getScaledObject(name)(Default)
		labels := map[string]string{"app.kubernetes.io/managed-by": "keda-operator", "app.kubernetes.io/part-of": name}
		for k, v := range so.GetLabels() { // KEDA copies the ScaledObject's labels over its own
			labels[k] = v
		}
		metricName := "s0-prometheus"
		hpa := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "keda-hpa-" + name, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: name,
					UID: so.GetUID(), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
				MinReplicas:    ptr.To[int32](1), MaxReplicas: 5,
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: metricName, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"scaledobject.keda.sh/name": name}}},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("5"))},
				}}},
			},
		}
		existing := &autoscalingv2.HorizontalPodAutoscaler{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(hpa), existing); apierrors.IsNotFound(err) {
			Expect(k8sClient.Create(ctx, hpa)).To(Succeed())
		} else {
			Expect(err).NotTo(HaveOccurred())
			hpa = existing
		}
		hpa.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
			CurrentReplicas: 3, DesiredReplicas: 3,
			CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{
				Metric:  autoscalingv2.MetricIdentifier{Name: metricName},
				Current: autoscalingv2.MetricValueStatus{AverageValue: ptr.To(resource.MustParse(queue))},
			}}},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
				{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale", LastTransitionTime: metav1.Now()},
				{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, Reason: "ValidMetricFound", LastTransitionTime: metav1.Now()},
			},
		}
		Expect(k8sClient.Status().Update(ctx, hpa)).To(Succeed())
	}

	It("renders an owned ScaledObject with a prometheus trigger per signal, and no HPA of its own", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", withKEDA(0)))).To(Succeed())
		isvc := getISVC("llm")

		so := getScaledObject("llm")
		Eventually(so).Should(Not(BeNil()))
		got := so(Default)
		Expect(metav1.IsControlledBy(got, isvc)).To(BeTrue())
		Expect(got.Object["spec"]).To(HaveKeyWithValue("scaleTargetRef", map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "llm"}))
		Expect(got.Object["spec"]).To(HaveKeyWithValue("minReplicaCount", int64(0)))
		Expect(got.Object["spec"]).To(HaveKeyWithValue("cooldownPeriod", int64(20)))
		triggers, _, _ := unstructured.NestedSlice(got.Object, "spec", "triggers")
		Expect(triggers).To(HaveLen(1))
		Expect(triggers[0]).To(HaveKeyWithValue("metadata", HaveKeyWithValue("query",
			`sum(model_infer_requests_queued{namespace="`+namespace+`",pod=~"llm-[a-z0-9]+-[a-z0-9]+"})`)))

		Consistently(func() error {
			return k8sClient.Get(ctx, key("llm"), &autoscalingv2.HorizontalPodAutoscaler{})
		}).Should(Satisfy(apierrors.IsNotFound), "KEDA makes the HPA, not the operator")
		dep := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx, key("llm"), dep)).To(Succeed())
		Expect(dep.Spec.Template.Annotations).To(HaveKeyWithValue("prometheus.io/scrape", "true"))
		Expect(ownsField(dep.ManagedFields, FieldOwner, "f:spec", "f:replicas")).To(BeFalse(), "the operator never owns the replicas KEDA scales")
	})

	It("mirrors KEDA's conditions and its HPA's desired replicas, metrics and Targets, read through the cache", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", withKEDA(1)))).To(Succeed())
		Eventually(getScaledObject("llm")).Should(Not(BeNil()))
		setDeployment("llm", ptr.To[int32](3))
		playKEDA("llm", true, "12")

		Eventually(func(g Gomega) {
			isvc := getISVC("llm")
			st := isvc.Status
			g.Expect(st.Targets).To(Equal("queue_depth: 12/5"))
			g.Expect(st.DesiredReplicas).To(Equal(int32(3)))
			g.Expect(st.CurrentMetrics).To(HaveLen(1))
			g.Expect(meta.IsStatusConditionTrue(st.Conditions, servingv1alpha1.ConditionScaledObjectReady)).To(BeTrue())
			g.Expect(meta.IsStatusConditionTrue(st.Conditions, servingv1alpha1.ConditionScaledObjectActive)).To(BeTrue())
			g.Expect(meta.IsStatusConditionFalse(st.Conditions, servingv1alpha1.ConditionScaledObjectFallback)).To(BeTrue())
			g.Expect(meta.FindStatusCondition(st.Conditions, servingv1alpha1.ConditionScaledObjectPaused)).To(HaveField("Reason", "ScaledObjectUnpaused"))
			g.Expect(meta.IsStatusConditionTrue(st.Conditions, servingv1alpha1.ConditionScalingActive)).To(BeTrue(), "KEDA's HPA's conditions")
			g.Expect(meta.IsStatusConditionTrue(st.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
		}).Should(Succeed())
	})

	It("reports a service KEDA scaled to zero as Ready ScaledToZero, Current for kstatus and Healthy for Argo CD", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", withKEDA(0)))).To(Succeed())
		Eventually(getScaledObject("llm")).Should(Not(BeNil()))
		playKEDA("llm", false, "0")
		By("scaling the Deployment to zero, as KEDA does after cooldownPeriod")
		setDeployment("llm", ptr.To[int32](0))

		script, err := os.ReadFile(argoHealthScriptPath)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			isvc := getISVC("llm")
			ready := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), ready.Message)
			g.Expect(ready.Reason).To(Equal(servingv1alpha1.ReasonScaledToZero))
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))

			g.Expect(isvc.Status.DesiredReplicas).To(BeZero(), "at zero KEDA, not its HPA, holds the count")
			isvc.TypeMeta = metav1.TypeMeta{APIVersion: servingv1alpha1.GroupVersion.String(), Kind: "InferenceService"}
			raw, err := json.Marshal(isvc)
			g.Expect(err).NotTo(HaveOccurred())
			obj := &unstructured.Unstructured{}
			g.Expect(obj.UnmarshalJSON(raw)).To(Succeed())
			result, err := kstatus.Compute(obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(result.Status).To(Equal(kstatus.CurrentStatus), result.Message)
			health, message, err := utils.ArgoHealth(string(script), obj.Object)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(health).To(Equal(argoHealthy), message)
		}).Should(Succeed())
	})

	It("switches HPA to KEDA and back without dropping replicas, deleting the old autoscaler only once the new one holds the Deployment", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", func(i *servingv1alpha1.InferenceService) {
			i.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 5}
		}))).To(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, key("llm"), &autoscalingv2.HorizontalPodAutoscaler{}) }).Should(Succeed())
		By("letting the HPA scale to 3")
		setDeployment("llm", ptr.To[int32](3))

		By("switching to engine KEDA")
		Eventually(func(g Gomega) {
			isvc := getISVC("llm")
			withKEDA(1)(isvc)
			g.Expect(k8sClient.Update(ctx, isvc)).To(Succeed())
		}).Should(Succeed())
		Eventually(getScaledObject("llm")).Should(Not(BeNil()))
		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		Expect(k8sClient.Get(ctx, key("llm"), hpa)).To(Succeed())
		Expect(hpa.Annotations).To(HaveKeyWithValue(render.AnnotationKEDAHPAOwnership, "false"),
			"KEDA's webhook must admit the ScaledObject while this HPA still holds the Deployment")
		Consistently(func() error { return k8sClient.Get(ctx, key("llm"), &autoscalingv2.HorizontalPodAutoscaler{}) }).
			Should(Succeed(), "the operator's HPA stays until KEDA holds the Deployment")

		playKEDA("llm", true, "12")
		Eventually(func() error { return k8sClient.Get(ctx, key("llm"), &autoscalingv2.HorizontalPodAutoscaler{}) }).
			Should(Satisfy(apierrors.IsNotFound), "deleted once KEDA's ScaledObject is Ready and its HPA exists")
		dep := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx, key("llm"), dep)).To(Succeed())
		Expect(dep.Spec.Replicas).To(HaveValue(Equal(int32(3))), "no replica dropped")

		By("switching back to engine HPA")
		Eventually(func(g Gomega) {
			isvc := getISVC("llm")
			isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 5}
			g.Expect(k8sClient.Update(ctx, isvc)).To(Succeed())
		}).Should(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, key("llm"), &autoscalingv2.HorizontalPodAutoscaler{}) }).Should(Succeed())
		Eventually(func() error { _, err := getScaledObjectErr(key("llm")); return err }).
			Should(Satisfy(apierrors.IsNotFound), "the ScaledObject goes once the operator's HPA is there")
		Expect(k8sClient.Get(ctx, key("llm"), dep)).To(Succeed())
		Expect(dep.Spec.Replicas).To(HaveValue(Equal(int32(3))), "no replica dropped")
	})

	It("gives a Deployment KEDA left at zero minReplicas when engine HPA takes over, which an HPA would not", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", withKEDA(0)))).To(Succeed())
		Eventually(getScaledObject("llm")).Should(Not(BeNil()))
		setDeployment("llm", ptr.To[int32](0))
		Eventually(func(g Gomega) {
			isvc := getISVC("llm")
			isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 5}
			g.Expect(k8sClient.Update(ctx, isvc)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, key("llm"), dep)).To(Succeed())
			g.Expect(dep.Spec.Replicas).To(HaveValue(Equal(int32(2))))
		}).Should(Succeed())
	})

	It("renders a PodMonitor when asked, and deletes it when no longer asked", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", func(i *servingv1alpha1.InferenceService) {
			i.Spec.Metrics = &servingv1alpha1.MetricsSpec{Port: ptr.To[int32](9090)}
			i.Spec.Monitoring = &servingv1alpha1.MonitoringSpec{PodMonitor: &servingv1alpha1.PodMonitorSpec{Enabled: ptr.To(true)}}
		}))).To(Succeed())
		pm := &unstructured.Unstructured{}
		pm.SetGroupVersionKind(render.PodMonitorGVK)
		Eventually(func() error { return k8sClient.Get(ctx, key("llm"), pm) }).Should(Succeed())
		Expect(metav1.IsControlledBy(pm, getISVC("llm"))).To(BeTrue())
		Expect(pm.Object["spec"]).To(HaveKeyWithValue("podMetricsEndpoints", []any{map[string]any{"portNumber": int64(9090), "path": "/metrics"}}))

		Eventually(func(g Gomega) {
			isvc := getISVC("llm")
			isvc.Spec.Monitoring = nil
			g.Expect(k8sClient.Update(ctx, isvc)).To(Succeed())
		}).Should(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, key("llm"), pm) }).Should(Satisfy(apierrors.IsNotFound))
	})

	It("sends no write when nothing changed, ScaledObject included", func() {
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm", withKEDA(1)))).To(Succeed())
		Eventually(getScaledObject("llm")).Should(Not(BeNil()))
		setDeployment("llm", nil)
		Eventually(func(g Gomega) {
			g.Expect(meta.IsStatusConditionTrue(getISVC("llm").Status.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
		}).Should(Succeed())
		By("waiting for the reconciles of the set-up to settle")
		var writes int
		Eventually(func() bool {
			writes = managerWrites.in(namespace)
			time.Sleep(time.Second)
			return managerWrites.in(namespace) == writes
		}).Should(BeTrue())
		By("touching the ScaledObject's labels, which triggers a reconcile")
		Eventually(func(g Gomega) {
			so := getScaledObject("llm")(g)
			annotations := so.GetAnnotations()
			if annotations == nil {
				annotations = map[string]string{}
			}
			annotations["example.com/touched"] = "yes"
			so.SetAnnotations(annotations)
			g.Expect(k8sClient.Update(ctx, so)).To(Succeed())
		}).Should(Succeed())
		Consistently(func() int { return managerWrites.in(namespace) }).Should(Equal(writes))
	})
})

func getScaledObjectErr(key client.ObjectKey) (*unstructured.Unstructured, error) {
	so := &unstructured.Unstructured{}
	so.SetGroupVersionKind(render.ScaledObjectGVK)
	err := k8sClient.Get(ctx, key, so)
	return so, err
}

// autoscalingv1Scale scales a Deployment through its scale subresource, as the HPA
// controller and KEDA do.
type autoscalingv1Scale struct{ replicas int32 }

func (s *autoscalingv1Scale) apply(dep *appsv1.Deployment) error {
	patch := []byte(`{"spec":{"replicas":` + jsonInt(s.replicas) + `}}`)
	return k8sClient.SubResource("scale").Patch(ctx, dep, client.RawPatch("application/merge-patch+json", patch))
}

func jsonInt(n int32) string {
	raw, _ := json.Marshal(n)
	return string(raw)
}
