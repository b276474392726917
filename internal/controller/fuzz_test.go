package controller

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// FuzzComputeStatus feeds arbitrary specs and child states (as JSON) to the status
// computation. It must never panic, and the status must stay coherent: one Ready
// condition, never both Reconciling and Stalled, no Stalled while Ready.
//
// Run longer with: go test ./internal/controller -run '^$' -fuzz FuzzComputeStatus -fuzztime 60s
func FuzzComputeStatus(f *testing.F) {
	f.Add([]byte(`{}`), []byte(`{"spec":{"replicas":3},"status":{"replicas":3,"readyReplicas":3,"updatedReplicas":3,"availableReplicas":3,"conditions":[{"type":"Available","status":"True"}]}}`), []byte(`{}`), false, false)
	f.Add([]byte(`{"replicas":0}`), []byte(`{"spec":{"replicas":0}}`), []byte(`null`), false, true)
	f.Add([]byte(`{"autoscaling":{"metrics":[{"type":"Pods","pods":{"metric":{"name":"q"},"target":{"type":"AverageValue","averageValue":"10"}}}]}}`),
		[]byte(`{"status":{"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"}]}}`),
		[]byte(`{"status":{"desiredReplicas":4,"currentMetrics":[{"type":"Pods","pods":{"metric":{"name":"q"},"current":{"averageValue":"30"}}}],"conditions":[{"type":"ScalingActive","status":"False","reason":"FailedGetPodsMetric"}]}}`), true, false)

	f.Fuzz(func(t *testing.T, specJSON, deploymentJSON, hpaJSON []byte, conflict, invalid bool) {
		isvc := &servingv1alpha1.InferenceService{ObjectMeta: metav1.ObjectMeta{Name: "fuzz", Namespace: "ns", Generation: 2}}
		if json.Unmarshal(specJSON, &isvc.Spec) != nil {
			t.Skip()
		}
		var obs observed
		if string(deploymentJSON) != "null" {
			obs.deployment = &appsv1.Deployment{}
			if json.Unmarshal(deploymentJSON, obs.deployment) != nil {
				t.Skip()
			}
		}
		if string(hpaJSON) != "null" {
			obs.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			if json.Unmarshal(hpaJSON, obs.hpa) != nil {
				t.Skip()
			}
		}
		obs.service = &corev1.Service{}
		switch {
		case conflict:
			obs.blocked = &blocker{reason: servingv1alpha1.ReasonResourceConflict, message: "taken", stalled: true}
		case invalid:
			obs.blocked = &blocker{reason: servingv1alpha1.ReasonApplyFailed, message: "invalid", stalled: true}
		}

		status := computeStatus(isvc, obs, render.Config{})

		seen := map[string]int{}
		for _, c := range status.Conditions {
			seen[c.Type]++
			if seen[c.Type] > 1 {
				t.Fatalf("condition %s appears twice", c.Type)
			}
			if c.Reason == "" {
				t.Fatalf("condition %s has no reason", c.Type)
			}
		}
		ready := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady)
		if ready == nil {
			t.Fatal("no Ready condition")
		}
		stalled := meta.IsStatusConditionTrue(status.Conditions, servingv1alpha1.ConditionStalled)
		reconciling := meta.IsStatusConditionTrue(status.Conditions, servingv1alpha1.ConditionReconciling)
		if stalled && reconciling {
			t.Fatal("both Stalled and Reconciling")
		}
		if ready.Status == metav1.ConditionTrue && (stalled || reconciling) {
			t.Fatalf("Ready but also Stalled=%v Reconciling=%v", stalled, reconciling)
		}
		if ready.Status != metav1.ConditionTrue && !stalled && !reconciling {
			t.Fatal("not Ready, yet neither Reconciling nor Stalled: GitOps tools would read it as current")
		}
		if (conflict || invalid) && !stalled {
			t.Fatal("a blocked child must stall the service")
		}
	})
}
