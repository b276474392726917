package controller

import (
	"encoding/json"
	"strings"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
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
