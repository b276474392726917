package controller

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// The status patch must give the same status whatever stale copy it lands on: a field
// set by an earlier write and empty now (replicas scaled to 0, a URL gone) is removed.
func TestStatusPatchReplacesTheWholeStatus(t *testing.T) {
	now := metav1.Now()
	earlier := servingv1alpha1.InferenceServiceStatus{
		ObservedGeneration: 3, Replicas: 2, ReadyReplicas: 2, DesiredReplicas: 2,
		URL: "http://llm.ml.svc.cluster.local:80", Targets: "cpu: 80%/50%", LastScaleTime: &now,
		Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready", LastTransitionTime: now}},
	}
	next := servingv1alpha1.InferenceServiceStatus{
		ObservedGeneration: 4,
		Conditions:         []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "ScaledToZero", LastTransitionTime: now}},
	}
	patch, err := statusPatch(next)
	if err != nil {
		t.Fatal(err)
	}
	for _, stale := range []servingv1alpha1.InferenceServiceStatus{{}, earlier, next} {
		doc, _ := json.Marshal(map[string]any{"status": stale})
		patched, err := jsonpatch.MergePatch(doc, patch)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Status servingv1alpha1.InferenceServiceStatus `json:"status"`
		}
		if err := json.Unmarshal(patched, &got); err != nil {
			t.Fatal(err)
		}
		if digestStatus(got.Status) != digestStatus(next) {
			t.Errorf("patching %+v gave %+v, want %+v", stale, got.Status, next)
		}
	}
}

// A service at zero replicas shows 0 in kubectl's columns, not an empty cell: the counts
// are written even when they are 0 (KEDA scaled to zero, or spec.replicas 0).
func TestStatusPatchWritesZeroCounts(t *testing.T) {
	patch, err := statusPatch(servingv1alpha1.InferenceServiceStatus{ObservedGeneration: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"replicas", "readyReplicas", "updatedReplicas", "availableReplicas", "desiredReplicas", "minReplicas", "maxReplicas"} {
		if !strings.Contains(string(patch), `"`+field+`":0`) {
			t.Errorf("status.%s at zero is not written as 0 (kubectl shows an empty cell): %s", field, patch)
		}
	}
}

// Every child the operator creates triggers a reconcile while the cache may still show the
// status before the operator's first write. Computed from that stale copy, the conditions
// are new again and carry the time of that second reconcile: when it falls in the next
// second, the same status was written twice (a tenth of the new InferenceServices in the
// benchmark, figure 1's 4.1 writes per service).
func TestStatusNotWrittenAgainOverAStaleCopyForANewerTimestamp(t *testing.T) {
	g := NewWithT(t)
	c, patches := statusPatchCounter(g)
	r := &InferenceServiceReconciler{Client: c, Recorder: events.NewFakeRecorder(100)}
	ctx := context.Background()
	stale := &servingv1alpha1.InferenceService{}
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(isvcFixture()), stale)).To(Succeed())

	first := computeStatus(stale.DeepCopy(), observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpaFixture()}, render.Config{})
	_, err := r.writeStatus(ctx, stale.DeepCopy(), first)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(*patches).To(Equal(1))

	second := *first.DeepCopy()
	for i := range second.Conditions {
		second.Conditions[i].LastTransitionTime = metav1.NewTime(second.Conditions[i].LastTransitionTime.Add(time.Second))
	}
	_, err = r.writeStatus(ctx, stale.DeepCopy(), second)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(*patches).To(Equal(1), "the same status over the same stale copy, one second later, is not written again")

	third := *second.DeepCopy()
	third.ReadyReplicas--
	_, err = r.writeStatus(ctx, stale.DeepCopy(), third)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(*patches).To(Equal(2), "a status that says something else is written")
}

// statusPatchCounter returns a fake client holding isvcFixture() and the count of the
// status patches sent through it.
func statusPatchCounter(g Gomega) (client.Client, *int) {
	s := runtime.NewScheme()
	g.Expect(servingv1alpha1.AddToScheme(s)).To(Succeed())
	patches := 0
	c := fake.NewClientBuilder().WithScheme(s).
		WithObjects(isvcFixture()).WithStatusSubresource(&servingv1alpha1.InferenceService{}).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				patches++
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		}).Build()
	return c, &patches
}
