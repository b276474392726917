package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/podcache"
	"github.com/inferenceops/inference-operator/internal/render"
)

const gpuStarved = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."

// podOf returns a pod of the InferenceService name as the API server holds it, with opts applied.
func podOf(namespace, name, hash string, opts ...func(*corev1.Pod)) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: name + "-" + hash + "-x",
			Labels: map[string]string{
				render.LabelManagedBy: render.ManagedByValue, render.LabelInferenceService: name,
				"pod-template-hash": hash, "team": "a",
			},
			Annotations: map[string]string{"note": "dropped by the cache"},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "inference-server", Image: "ghcr.io/example/model-server:1.0",
			Env: []corev1.EnvVar{{Name: "MODEL", Value: "tiny"}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), "nvidia.com/gpu": resource.MustParse("1")},
				Limits:   corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")},
			},
		}}},
	}
	for _, opt := range opts {
		opt(pod)
	}
	return pod
}

func withScheduled(status corev1.ConditionStatus, reason, message string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = append(p.Status.Conditions,
			corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse},
			corev1.PodCondition{Type: corev1.PodScheduled, Status: status, Reason: reason, Message: message})
	}
}

// cachedOf returns pods as the pod cache holds them: encoded to JSON as the API server
// sends them and decoded by the pod cache's own decoder. It panics on an error, which
// only a broken decoder gives.
func cachedOf(pods ...corev1.Pod) []podcache.Pod {
	s, err := podcache.Scheme()
	if err != nil {
		panic(err)
	}
	decoder := serializer.NewCodecFactory(s).UniversalDeserializer()
	out := make([]podcache.Pod, 0, len(pods))
	for _, p := range pods {
		p.APIVersion, p.Kind = "v1", "Pod"
		data, err := json.Marshal(p)
		if err != nil {
			panic(err)
		}
		obj, _, err := decoder.Decode(data, nil, nil)
		if err != nil {
			panic(fmt.Sprintf("decoding pod %s: %v", p.Name, err))
		}
		out = append(out, *obj.(*podcache.Pod))
	}
	return out
}

func cachedOne(pod *corev1.Pod) *podcache.Pod { return &cachedOf(*pod)[0] }

func TestCachedPodKeepsWhatTheStatusReads(t *testing.T) {
	g := NewWithT(t)
	full := podOf("ns", "llm", "abc", withScheduled(corev1.ConditionFalse, corev1.PodReasonUnschedulable, gpuStarved))
	full.UID, full.ResourceVersion = "uid-1", "42"
	full.CreationTimestamp = metav1.NewTime(time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC))
	full.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
		FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{}}}`)}}
	full.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "llm-abc", UID: "rs"}}
	full.Spec.Containers = append(full.Spec.Containers, corev1.Container{Name: "sidecar", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1"), "example.com/fpga": resource.MustParse("0")}}})

	pod := cachedOne(full)
	g.Expect(pod.Name).To(Equal(full.Name))
	g.Expect(pod.Namespace).To(Equal("ns"))
	g.Expect(pod.UID).To(BeEquivalentTo("uid-1"))
	g.Expect(pod.ResourceVersion).To(Equal("42"))
	g.Expect(pod.CreationTimestamp.Equal(&full.CreationTimestamp)).To(BeTrue())
	g.Expect(pod.Labels).To(Equal(map[string]string{render.LabelInferenceService: "llm", "pod-template-hash": "abc"}),
		"the InferenceService and template labels only")
	g.Expect(pod.Annotations).To(BeNil())
	g.Expect(pod.ManagedFields).To(BeNil())
	g.Expect(pod.OwnerReferences).To(BeNil())
	g.Expect(pod.ExtendedRequests).To(Equal([]corev1.ResourceName{"nvidia.com/gpu"}),
		"extended resources requested, each once, none of zero")
	g.Expect(pod.Phase).To(Equal(corev1.PodPending))
	g.Expect(pod.Scheduled).NotTo(BeNil())
	g.Expect(pod.Unschedulable()).NotTo(BeNil())
	g.Expect(pod.Unschedulable().Message).To(Equal(gpuStarved))
	g.Expect(pod.DeepCopy()).To(Equal(pod))

	deleting := full.DeepCopy()
	deleting.DeletionTimestamp = ptr.To(metav1.NewTime(time.Now()))
	g.Expect(cachedOne(deleting).DeletionTimestamp).NotTo(BeNil())
	g.Expect(cachedOne(deleting).Unschedulable()).To(BeNil(), "a pod being deleted waits for nothing")
}

// A streamed initial list ends with a bookmark that carries the initial-events-end
// annotation; an informer that lost it would wait for the end of its list forever.
func TestCachedPodKeepsTheInitialEventsEndMark(t *testing.T) {
	g := NewWithT(t)
	bookmark := corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "7",
		Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true", "other": "x"}}}
	g.Expect(cachedOne(&bookmark).Annotations).To(Equal(map[string]string{metav1.InitialEventsAnnotationKey: "true"}))
}

// A pod placed on a node that asks for no extended resource, most pods, is read by
// neither PodsSchedulable nor the rollout policy: the cache keeps its identity alone
// (which its watch needs), and no service lists it.
func TestPodCacheKeepsAPlacedPodWithoutExtendedResourcesByIdentityOnly(t *testing.T) {
	g := NewWithT(t)
	cpuOnly := func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
	}
	placed := podOf("ns", "llm", "abc", cpuOnly, withScheduled(corev1.ConditionTrue, "", ""))
	placed.UID, placed.ResourceVersion = "uid-2", "43"
	pod := cachedOne(placed)
	g.Expect(pod.Name).To(Equal(placed.Name))
	g.Expect(pod.Namespace).To(Equal("ns"))
	g.Expect(pod.UID).To(BeEquivalentTo("uid-2"))
	g.Expect(pod.ResourceVersion).To(Equal("43"))
	g.Expect(pod.Labels).To(BeNil(), "no label: the index leaves it out")
	g.Expect(pod.InferenceService()).To(BeEmpty())
	g.Expect(pod.Scheduled).To(BeNil())
	g.Expect(pod.Unschedulable()).To(BeNil())

	waiting := cachedOne(podOf("ns", "llm", "abc", cpuOnly,
		withScheduled(corev1.ConditionFalse, corev1.PodReasonUnschedulable, "0/3 nodes are available: 3 Insufficient cpu.")))
	g.Expect(waiting.InferenceService()).To(Equal("llm"), "a pod not placed is read")
	g.Expect(waiting.Unschedulable()).NotTo(BeNil())
	g.Expect(cachedOne(podOf("ns", "llm", "abc", cpuOnly)).InferenceService()).To(Equal("llm"),
		"a pod the scheduler has not looked at yet is read")
	g.Expect(cachedOne(podOf("ns", "llm", "abc", withScheduled(corev1.ConditionTrue, "", ""))).TemplateHash()).To(Equal("abc"),
		"a placed pod that holds a GPU is read: a starved surge pod may wait for it")

	// The pod that gets placed: its old state names the service, whose status must change.
	update := event.TypedUpdateEvent[*podcache.Pod]{ObjectOld: waiting, ObjectNew: pod}
	g.Expect(schedulingChanged.Update(update)).To(BeTrue())
	g.Expect(podToInferenceService(context.Background(), update.ObjectOld)).To(HaveLen(1))
}

// The list kind decodes its items with podcache.Pod's decoder.
func TestCachedPodListDecodesItsItems(t *testing.T) {
	g := NewWithT(t)
	s, err := podcache.Scheme()
	g.Expect(err).NotTo(HaveOccurred())
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: metav1.ListMeta{ResourceVersion: "9"},
		Items: []corev1.Pod{*podOf("ns", "llm", "abc"), *podOf("ns", "llm", "def")}}
	data, err := json.Marshal(list)
	g.Expect(err).NotTo(HaveOccurred())
	obj, _, err := serializer.NewCodecFactory(s).UniversalDeserializer().Decode(data, nil, nil)
	g.Expect(err).NotTo(HaveOccurred())
	decoded := obj.(*podcache.PodList)
	g.Expect(decoded.ResourceVersion).To(Equal("9"))
	g.Expect(decoded.Items).To(HaveLen(2))
	g.Expect(decoded.Items[1].Labels).To(HaveKeyWithValue("pod-template-hash", "def"))
	g.Expect(decoded.Items[1].ExtendedRequests).To(Equal([]corev1.ResourceName{"nvidia.com/gpu"}))
	g.Expect(decoded.DeepCopyObject()).To(Equal(decoded))
}

func TestSchedulingChangedPassesOnlySchedulingNews(t *testing.T) {
	g := NewWithT(t)
	pending := cachedOne(podOf("ns", "llm", "abc"))
	starved := cachedOne(podOf("ns", "llm", "abc", withScheduled(corev1.ConditionFalse, corev1.PodReasonUnschedulable, gpuStarved)))
	starvedOther := cachedOne(podOf("ns", "llm", "abc", withScheduled(corev1.ConditionFalse, corev1.PodReasonUnschedulable, "0/3 nodes are available: 3 Insufficient memory.")))
	scheduled := cachedOne(podOf("ns", "llm", "abc", withScheduled(corev1.ConditionTrue, "", "")))
	running := scheduled.DeepCopy()
	running.Phase = corev1.PodRunning
	deleting := starved.DeepCopy()
	deleting.DeletionTimestamp = ptr.To(metav1.NewTime(time.Now()))
	type (
		create = event.TypedCreateEvent[*podcache.Pod]
		remove = event.TypedDeleteEvent[*podcache.Pod]
		update = event.TypedUpdateEvent[*podcache.Pod]
	)

	g.Expect(schedulingChanged.Create(create{Object: pending})).To(BeFalse())
	g.Expect(schedulingChanged.Create(create{Object: starved})).To(BeTrue())
	g.Expect(schedulingChanged.Delete(remove{Object: starved})).To(BeTrue())
	g.Expect(schedulingChanged.Delete(remove{Object: running})).To(BeFalse())
	g.Expect(schedulingChanged.Update(update{ObjectOld: pending, ObjectNew: starved})).To(BeTrue())
	g.Expect(schedulingChanged.Update(update{ObjectOld: starved, ObjectNew: starvedOther})).To(BeTrue())
	g.Expect(schedulingChanged.Update(update{ObjectOld: starved, ObjectNew: scheduled})).To(BeTrue())
	g.Expect(schedulingChanged.Update(update{ObjectOld: starved, ObjectNew: deleting})).To(BeTrue())
	g.Expect(schedulingChanged.Update(update{ObjectOld: scheduled, ObjectNew: running})).To(BeFalse(),
		"a pod starting is the Deployment's news")
	g.Expect(schedulingChanged.Update(update{ObjectOld: starved, ObjectNew: starved.DeepCopy()})).To(BeFalse())
}

func TestPodsSchedulableNamesTheSchedulersMessageInReady(t *testing.T) {
	g := NewWithT(t)
	isvc := newInferenceService("ns", "llm", func(i *servingv1alpha1.InferenceService) { i.Spec.Replicas = ptr.To[int32](2) })
	isvc.Generation = 1
	old := podOf("ns", "llm", "old", withScheduled(corev1.ConditionTrue, "", ""))
	surge := podOf("ns", "llm", "new", withScheduled(corev1.ConditionFalse, corev1.PodReasonUnschedulable, gpuStarved))

	status := computeStatus(isvc, observed{deployment: rollingOut(2, 2), pods: cachedOf(*old, *surge)}, render.Config{})
	cond := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionPodsSchedulable)
	g.Expect(cond).NotTo(BeNil())
	g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(cond.Reason).To(Equal(servingv1alpha1.ReasonUnschedulable))
	g.Expect(cond.Message).To(Equal("1 pod cannot be scheduled (pod " + surge.Name + "): " + gpuStarved))
	ready := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady)
	g.Expect(ready.Reason).To(Equal(servingv1alpha1.ReasonRolloutInProgress), "Ready keeps describing the rollout")
	g.Expect(ready.Message).To(HaveSuffix("; 1 pod cannot be scheduled: " + gpuStarved))
	reconciling := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReconciling)
	g.Expect(reconciling.Message).To(Equal(ready.Message))

	status = computeStatus(isvc, observed{deployment: rollingOut(2, 2), pods: cachedOf(*old)}, render.Config{})
	cond = meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionPodsSchedulable)
	g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(cond.Reason).To(Equal(servingv1alpha1.ReasonPodsScheduled))
	g.Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady).Message).NotTo(ContainSubstring("scheduled"))
}

// The pod watch, against a real API server: envtest runs no scheduler, so the spec
// writes the scheduler's verdict on a pod itself.
var _ = Describe("pods that cannot be scheduled", func() {
	It("are reported on the InferenceService within seconds, in the scheduler's words, and cleared once scheduled", func() {
		namespace := newNamespace()
		key := client.ObjectKey{Namespace: namespace, Name: "llm"}
		Expect(k8sClient.Create(ctx, newInferenceService(namespace, "llm"))).To(Succeed())
		condition := func(t string) func(Gomega) *metav1.Condition {
			return func(g Gomega) *metav1.Condition {
				isvc := &servingv1alpha1.InferenceService{}
				g.Expect(k8sClient.Get(ctx, key, isvc)).To(Succeed())
				return meta.FindStatusCondition(isvc.Status.Conditions, t)
			}
		}
		Eventually(condition(servingv1alpha1.ConditionPodsSchedulable)).Should(HaveField("Status", metav1.ConditionTrue))

		pod := podOf(namespace, "llm", "abc")
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: gpuStarved, LastTransitionTime: metav1.Now()}}
		Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())
		Eventually(condition(servingv1alpha1.ConditionPodsSchedulable), 5*time.Second).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", servingv1alpha1.ReasonUnschedulable),
			HaveField("Message", ContainSubstring(gpuStarved))))
		Expect(condition(servingv1alpha1.ConditionReady)(Default).Message).To(ContainSubstring("1 pod cannot be scheduled: " + gpuStarved))

		By("the scheduler placing the pod")
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())
		Eventually(condition(servingv1alpha1.ConditionPodsSchedulable), 5*time.Second).Should(HaveField("Status", metav1.ConditionTrue))
		Expect(condition(servingv1alpha1.ConditionReady)(Default).Message).NotTo(ContainSubstring("cannot be scheduled"))
	})
})

// rollingOut is the live Deployment of a rollout under way: replicas desired, total pods
// of which one runs the new template and is not yet available, the old ones are.
func rollingOut(replicas, total int32) *appsv1.Deployment {
	return deploymentFixture(func(d *appsv1.Deployment) {
		d.Spec.Replicas = ptr.To(replicas)
		d.Status.Replicas, d.Status.UpdatedReplicas = total, 1
		d.Status.ReadyReplicas, d.Status.AvailableReplicas = total-1, total-1
		d.Status.Conditions[1].Reason = "ReplicaSetUpdated"
	})
}

// With --watch-pods=false the manager has no pod informer: a pod read would fail (the
// cache refuses reads of kinds it has no informer for), so none may happen, and a
// PodsSchedulable written while pods were watched must go rather than go stale.
func TestWithoutThePodWatchNoPodIsReadAndPodsSchedulableGoes(t *testing.T) {
	g := NewWithT(t)
	isvc := newInferenceService("ns", "llm")
	isvc.Generation = 1
	reads := 0
	c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			reads++
			return errors.New("no informer for pods")
		},
	}).Build()
	r := &InferenceServiceReconciler{pods: c, NoPodWatch: true}
	pods, err := r.podsOf(context.Background(), isvc)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pods).To(BeEmpty())
	g.Expect(reads).To(BeZero())
	r.NoPodWatch = false
	_, err = r.podsOf(context.Background(), isvc)
	g.Expect(err).To(MatchError(ContainSubstring("no informer for pods")), "with the watch on, the pods are read")

	starved := podOf("ns", "llm", "new", withScheduled(corev1.ConditionFalse, corev1.PodReasonUnschedulable, gpuStarved))
	isvc.Status = computeStatus(isvc, observed{deployment: rollingOut(1, 2), pods: cachedOf(*starved)}, render.Config{})
	g.Expect(meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionPodsSchedulable)).To(HaveField("Status", metav1.ConditionFalse))
	status := computeStatus(isvc, observed{deployment: rollingOut(1, 2), podsUnwatched: true}, render.Config{})
	g.Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionPodsSchedulable)).To(BeNil())
	g.Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady).Message).NotTo(ContainSubstring("cannot be scheduled"))
}
