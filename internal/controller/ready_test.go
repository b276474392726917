package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// Ready means "serving". These tests replay what the Deployment controller reports, step by
// step, during an autoscaler's scale-out and scale-in and during a rollout of a new pod
// template, and check Ready the way a user (and kstatus, and Argo CD) reads it.

// step is one moment of the Deployment as the cache holds it.
type step struct {
	name string
	dep  func(*appsv1.Deployment)
}

// replay computes the status of each step over the previous one, as successive reconciles
// do, and returns the Ready condition after each.
func replay(isvc *servingv1alpha1.InferenceService, steps []step) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(steps))
	for _, s := range steps {
		status := computeStatus(isvc, observed{deployment: deploymentFixture(s.dep), service: serviceFixture(), hpa: hpaFixture()}, render.Config{})
		isvc = isvc.DeepCopy()
		isvc.Status = status
		out = append(out, *meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady))
	}
	return out
}

// servingIsvc is an autoscaled InferenceService (1..10) that was reported Ready an hour ago.
func servingIsvc() *servingv1alpha1.InferenceService {
	isvc := isvcFixture()
	isvc.Status = computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpaFixture()}, render.Config{})
	for i := range isvc.Status.Conditions {
		isvc.Status.Conditions[i].LastTransitionTime = anHourAgo
	}
	return isvc
}

func TestReadyStaysTrueThroughAScaleOutAndIn(t *testing.T) {
	g := NewWithT(t)
	steps := []step{
		{"the HPA raised spec.replicas 3 -> 5; the Deployment controller has not seen it yet", func(d *appsv1.Deployment) {
			d.Generation, d.Spec.Replicas = 8, ptr.To[int32](5)
			// The Deployment controller's Available condition turns False during a
			// scale-out (25% maxUnavailable of 5 rounds down to 0): not ours to follow.
		}},
		{"two new pods created, not ready yet", func(d *appsv1.Deployment) {
			d.Generation, d.Spec.Replicas, d.Status.ObservedGeneration = 8, ptr.To[int32](5), 8
			d.Status.Replicas, d.Status.UpdatedReplicas = 5, 5
			failDeploymentCondition(d, appsv1.DeploymentAvailable, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
		}},
		{"every pod ready", func(d *appsv1.Deployment) {
			d.Generation, d.Spec.Replicas, d.Status.ObservedGeneration = 8, ptr.To[int32](5), 8
			d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 5, 5, 5, 5
		}},
		{"the HPA lowered spec.replicas 5 -> 1; not seen yet, 5 pods still ready", func(d *appsv1.Deployment) {
			d.Generation, d.Spec.Replicas, d.Status.ObservedGeneration = 9, ptr.To[int32](1), 8
			d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 5, 5, 5, 5
		}},
		{"scaled in", func(d *appsv1.Deployment) {
			d.Generation, d.Spec.Replicas, d.Status.ObservedGeneration = 9, ptr.To[int32](1), 9
			d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 1, 1, 1, 1
		}},
	}

	readies := replay(servingIsvc(), steps)

	for i, ready := range readies {
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready at step %q: %s", steps[i].name, ready.Message)
		g.Expect(ready.Reason).To(Equal(servingv1alpha1.ReasonReady), "step %q", steps[i].name)
		g.Expect(ready.LastTransitionTime).To(Equal(anHourAgo), "lastTransitionTime at step %q", steps[i].name)
		g.Expect(ready.Message).NotTo(MatchRegexp(`(\d+) of (\d+)`), "no 'N of M' count that can read '5 of 1'")
	}
	g.Expect(readies[3].Message).To(ContainSubstring("from 5 ready replicas"), "the message says what serves")
}

func TestReadyDuringARolloutOfANewPodTemplate(t *testing.T) {
	rollingUpdated := func(d *appsv1.Deployment) {
		for i := range d.Status.Conditions {
			if d.Status.Conditions[i].Type == appsv1.DeploymentProgressing {
				d.Status.Conditions[i].Reason = "ReplicaSetUpdated"
				d.Status.Conditions[i].Message = `ReplicaSet "llm-5d4f8b7c9" is progressing.`
			}
		}
	}
	tests := []struct {
		name        string
		isvc        *servingv1alpha1.InferenceService
		dep         func(*appsv1.Deployment)
		wantReady   metav1.ConditionStatus
		wantReason  string
		wantMessage string
	}{
		{
			name: "the image changed; the Deployment controller has not seen it yet",
			isvc: specChanged(servingIsvc()),
			dep:  func(d *appsv1.Deployment) { d.Generation = 8 },
			// The spec changed since the last status: a rollout may be coming.
			wantReady: metav1.ConditionFalse, wantReason: servingv1alpha1.ReasonRolloutInProgress,
			wantMessage: "Waiting for the Deployment controller to observe the latest spec",
		},
		{
			name: "one new pod, three old ones",
			isvc: servingIsvc(),
			dep: func(d *appsv1.Deployment) {
				rollingUpdated(d)
				d.Status.Replicas, d.Status.UpdatedReplicas = 4, 1
			},
			wantReady: metav1.ConditionFalse, wantReason: servingv1alpha1.ReasonRolloutInProgress,
			wantMessage: "1 of 3 replicas run the latest pod template",
		},
		{
			// "kubectl rollout status" still waits here; the old pods are gone but one
			// new pod is not available yet.
			name: "4 of 4 updated, 3 available",
			isvc: servingIsvc(),
			dep: func(d *appsv1.Deployment) {
				rollingUpdated(d)
				d.Spec.Replicas = ptr.To[int32](4)
				d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 4, 4, 3, 3
			},
			wantReady: metav1.ConditionFalse, wantReason: servingv1alpha1.ReasonRolloutInProgress,
			wantMessage: "3 of 4 updated replicas are available",
		},
		{
			name: "the Deployment controller reports the rollout finished",
			isvc: servingIsvc(),
			dep: func(d *appsv1.Deployment) {
				d.Spec.Replicas = ptr.To[int32](4)
				d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 4, 4, 4, 4
			},
			wantReady: metav1.ConditionTrue, wantReason: servingv1alpha1.ReasonReady,
		},
		{
			name: "pods cannot be created during a rollout: said at once, in the controller's words",
			isvc: servingIsvc(),
			dep: func(d *appsv1.Deployment) {
				rollingUpdated(d)
				d.Status.Replicas, d.Status.UpdatedReplicas = 3, 0
				d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{
					Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
					Message: `pods "llm-5d4f8b7c9-x2k8q" is forbidden: exceeded quota: gpu, requested: nvidia.com/gpu=1, used: nvidia.com/gpu=2, limited: nvidia.com/gpu=2`,
				})
			},
			wantReady: metav1.ConditionFalse, wantReason: servingv1alpha1.ReasonReplicaFailure,
			wantMessage: `pods "llm-5d4f8b7c9-x2k8q" is forbidden: exceeded quota: gpu, requested: nvidia.com/gpu=1, used: nvidia.com/gpu=2, limited: nvidia.com/gpu=2`,
		},
		{
			name: "no pod can be created at all (a missing ServiceAccount)",
			isvc: servingIsvc(),
			dep: func(d *appsv1.Deployment) {
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: 7, Conditions: []appsv1.DeploymentCondition{
					{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetCreated"},
					{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
						Message: `pods "llm-5d4f8b7c9-" is forbidden: error looking up service account ml/model-reader: serviceaccount "model-reader" not found`},
				}}
			},
			wantReady: metav1.ConditionFalse, wantReason: servingv1alpha1.ReasonReplicaFailure,
			wantMessage: `pods "llm-5d4f8b7c9-" is forbidden: error looking up service account ml/model-reader: serviceaccount "model-reader" not found`,
		},
		{
			name: "serving, but a scale-out hits a quota: still serving, and said so",
			isvc: servingIsvc(),
			dep: func(d *appsv1.Deployment) {
				d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{
					Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
					Message: `exceeded quota: pods`,
				})
			},
			wantReady: metav1.ConditionTrue, wantReason: servingv1alpha1.ReasonReady,
			wantMessage: "Serving at http://llm.ml.svc.cluster.local:80 from 3 ready replicas; more cannot be created: exceeded quota: pods",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)

			ready := replay(tt.isvc, []step{{tt.name, tt.dep}})[0]

			g.Expect(ready.Status).To(Equal(tt.wantReady), ready.Message)
			g.Expect(ready.Reason).To(Equal(tt.wantReason))
			if tt.wantMessage != "" {
				g.Expect(ready.Message).To(Equal(tt.wantMessage))
			}
		})
	}
}

// Scaled to zero is what spec.replicas: 0 asks for, nothing else: an autoscaled service
// whose Deployment is at 0 (just handed over from a fixed count of 0) is not serving.
func TestScaledToZeroOnlyWhenSpecReplicasIsZero(t *testing.T) {
	atZero := func(d *appsv1.Deployment) {
		d.Spec.Replicas = ptr.To[int32](0)
		d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0, 0, 0
	}
	g := NewWithT(t)

	fixed := replay(isvcFixture(withFixedReplicas(0)), []step{{"fixed at 0", atZero}})[0]
	autoscaled := replay(isvcFixture(), []step{{"autoscaled, at 0", atZero}})[0]

	g.Expect(fixed.Reason).To(Equal(servingv1alpha1.ReasonScaledToZero))
	g.Expect(fixed.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(autoscaled.Reason).NotTo(Equal(servingv1alpha1.ReasonScaledToZero))
	g.Expect(autoscaled.Status).To(Equal(metav1.ConditionFalse), autoscaled.Message)
}
