package controller

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

func TestDigestKeyFollowsTheOperatorsEntriesOnly(t *testing.T) {
	g := NewWithT(t)
	m := newDigestMemo(10)
	base := deploymentOwning()
	base.UID = "uid-1"
	base.ManagedFields[0].Time = ptr.To(metav1.NewTime(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)))
	key, ok := m.keyOf(base)
	g.Expect(ok).To(BeTrue())

	same := base.DeepCopy()
	same.ResourceVersion = "43"
	same.Status = appsv1.DeploymentStatus{ReadyReplicas: 3}
	same.Spec.Replicas = ptr.To[int32](5) // a value only: see the memo's comment
	same.ManagedFields = append(same.ManagedFields, metav1.ManagedFieldsEntry{Manager: "kube-controller-manager",
		Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)})
	sameKey, _ := m.keyOf(same)
	g.Expect(sameKey).To(Equal(key), "a status update or another manager's entry leaves the key")

	for name, change := range map[string]func(*appsv1.Deployment){
		"another object": func(d *appsv1.Deployment) { d.UID = "uid-2" },
		"a field taken by someone else": func(d *appsv1.Deployment) {
			d.ManagedFields[0].FieldsV1 = metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`)
		},
		"the operator's apply changed a value": func(d *appsv1.Deployment) {
			d.ManagedFields[0].Time = ptr.To(metav1.NewTime(d.ManagedFields[0].Time.Add(time.Second)))
		},
		"an Update entry of the operator's": func(d *appsv1.Deployment) {
			d.ManagedFields = append(d.ManagedFields, metav1.ManagedFieldsEntry{Manager: FieldOwner,
				Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{}}`)})
		},
	} {
		changed := base.DeepCopy()
		change(changed)
		other, ok := m.keyOf(changed)
		g.Expect(ok).To(BeTrue(), name)
		g.Expect(other).NotTo(Equal(key), name)
	}

	noUID := base.DeepCopy()
	noUID.UID = ""
	_, ok = m.keyOf(noUID)
	g.Expect(ok).To(BeFalse(), "an object not from the API server is not remembered")
	notOwned := base.DeepCopy()
	notOwned.ManagedFields[0].Manager = "kubectl"
	_, ok = m.keyOf(notOwned)
	g.Expect(ok).To(BeFalse(), "nor one the operator owns no field of")
}

func TestDigestMemoKeepsTwoGenerations(t *testing.T) {
	g := NewWithT(t)
	m := newDigestMemo(2)
	k := func(b byte) digestKey { return digestKey{b} }
	m.put(k(1), "one")
	m.put(k(2), "two")
	m.put(k(3), "three") // the first generation is full: 1 and 2 move to the older one
	get := func(key digestKey) string { d, _ := m.get(key); return d }
	g.Expect(get(k(1))).To(Equal("one"), "a hit in the older generation")
	// 1 moved to the newer one, which is now full (3, 1): 4 starts a new one and 2 goes.
	m.put(k(4), "four")
	_, ok := m.get(k(2))
	g.Expect(ok).To(BeFalse(), "an entry not asked for in two generations is gone")
	g.Expect(get(k(1))).To(Equal("one"))
	g.Expect(get(k(3))).To(Equal("three"))
	g.Expect(len(m.current) + len(m.previous)).To(BeNumerically("<=", 4))
}

func TestOwnedFieldsUseTheRememberedDigest(t *testing.T) {
	g := NewWithT(t)
	dep := deploymentOwning()
	dep.UID = "uid-remembered"
	extracted := extractOwnedDigest(dep)
	g.Expect(computeOwnedFields(dep).digest).To(Equal(extracted))

	// The memo answers for the same state of the operator's entries: a copy whose value
	// differs (which the API server would never store under the same entries) shows it.
	changed := dep.DeepCopy()
	changed.Spec.Template.Spec.Containers[0].Image = "model:2"
	g.Expect(extractOwnedDigest(changed)).NotTo(Equal(extracted))
	g.Expect(computeOwnedFields(changed).digest).To(Equal(extracted), "remembered, not extracted again")
	g.Expect(computeOwnedFields(changed).replicas).To(BeTrue(), "the marks still come from managedFields")
}

var _ = Describe("the owned-fields digests remembered from the operator's applies", func() {
	It("are those extracted from the stored children, of every kind", func() {
		namespace := newNamespace()
		services := map[string]func(*servingv1alpha1.InferenceService){
			"hpa": func(*servingv1alpha1.InferenceService) {},
			"fixed-pdb": func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Replicas = ptr.To[int32](3)
				isvc.Spec.PodDisruptionBudget = &servingv1alpha1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromString("50%"))}
			},
			"keda-podmonitor": func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{Engine: servingv1alpha1.EngineKEDA,
					MinReplicas: ptr.To[int32](1), MaxReplicas: 5, Signals: []servingv1alpha1.AutoscalingSignal{{
						Type: servingv1alpha1.SignalQueueDepth, Server: servingv1alpha1.ServerGeneric, Target: intstr.FromString("5")}}}
				isvc.Spec.Metrics = &servingv1alpha1.MetricsSpec{Port: ptr.To[int32](9090)}
				isvc.Spec.Monitoring = &servingv1alpha1.MonitoringSpec{PodMonitor: &servingv1alpha1.PodMonitorSpec{Enabled: ptr.To(true)}}
			},
		}
		children := map[string][]client.Object{
			"hpa":             {&appsv1.Deployment{}, &corev1.Service{}, &autoscalingv2.HorizontalPodAutoscaler{}},
			"fixed-pdb":       {&appsv1.Deployment{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}},
			"keda-podmonitor": {&appsv1.Deployment{}, &corev1.Service{}, unstructuredOf(render.ScaledObjectGVK), unstructuredOf(render.PodMonitorGVK)},
		}
		for name, opt := range services {
			Expect(k8sClient.Create(ctx, newInferenceService(namespace, name, opt))).To(Succeed())
		}
		for name, kinds := range children {
			for _, kind := range kinds {
				Eventually(func(g Gomega) {
					obj := kind.DeepCopyObject().(client.Object)
					if u, ok := obj.(*unstructured.Unstructured); ok {
						obj = unstructuredOf(u.GroupVersionKind())
					}
					// k8sClient reads the API server, managedFields included.
					g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj)).To(Succeed())
					key, ok := ownedDigests.keyOf(obj)
					g.Expect(ok).To(BeTrue(), "%s %T has an entry of the operator's", name, obj)
					remembered, found := ownedDigests.lookup(key)
					g.Expect(found).To(BeTrue(), "%s %T: the stored state is the one the operator's apply returned", name, obj)
					g.Expect(remembered.applied).To(BeTrue(), "%s %T: remembered from the apply, not extracted", name, obj)
					g.Expect(remembered.digest).To(Equal(extractOwnedDigest(obj)),
						"%s %T: what the apply sent is what an extraction from the stored object finds", name, obj)
				}).Should(Succeed())
			}
		}
	})
})

// TestPodMonitorOwnedFieldsMatchWhatWasApplied: the API server records a field its schema
// calls atomic, such as the PodMonitor's label selector, as one leaf. The extraction of
// the operator's fields from a custom resource once read it as empty, so the digest of a
// PodMonitor in shape never matched what the operator applies, and every reconcile of a
// service with a PodMonitor sent an apply of it.
func TestPodMonitorOwnedFieldsMatchWhatWasApplied(t *testing.T) {
	g := NewWithT(t)
	isvc := newInferenceService("ml", "llm", func(i *servingv1alpha1.InferenceService) {
		i.UID = "isvc-uid"
		i.Spec.Metrics = &servingv1alpha1.MetricsSpec{Port: ptr.To[int32](9090)}
		i.Spec.Monitoring = &servingv1alpha1.MonitoringSpec{PodMonitor: &servingv1alpha1.PodMonitorSpec{Enabled: ptr.To(true)}}
	})
	content, err := ApplyContent(render.PodMonitor(isvc, render.Config{}))
	g.Expect(err).NotTo(HaveOccurred())

	// The stored object as the API server returns it: what was applied, what the server
	// added, and the operator's Apply entry with the field set it records for that CRD.
	stored := content.DeepCopy()
	stored.SetResourceVersion("7")
	stored.SetGeneration(1)
	stored.SetManagedFields([]metav1.ManagedFieldsEntry{{
		Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply, APIVersion: "monitoring.coreos.com/v1", FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:app.kubernetes.io/component":{},"f:app.kubernetes.io/instance":{},` +
			`"f:app.kubernetes.io/managed-by":{},"f:app.kubernetes.io/name":{},"f:serving.inferenceops.dev/inferenceservice":{}},` +
			`"f:ownerReferences":{"k:{\"uid\":\"isvc-uid\"}":{}}},"f:spec":{"f:podMetricsEndpoints":{},"f:selector":{}}}`),
	}, {
		Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "monitoring.coreos.com/v1", FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:annotations":{"f:team":{}}}}`),
	}})
	stored.SetAnnotations(map[string]string{"team": "vision"})

	g.Expect(computeOwnedFields(stored).digest).To(Equal(digestOfContent(content)),
		"a PodMonitor holding what the operator applies needs no apply")

	edited := stored.DeepCopy()
	g.Expect(unstructured.SetNestedField(edited.Object, map[string]any{"app": "other"}, "spec", "selector", "matchLabels")).To(Succeed())
	g.Expect(computeOwnedFields(edited).digest).NotTo(Equal(digestOfContent(content)),
		"a selector changed under the operator's entry shows")
}
