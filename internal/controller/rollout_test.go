package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/podcache"
	"github.com/inferenceops/inference-operator/internal/render"
)

// The Auto policy's verdict on a rollout of two GPU replicas on two one-GPU nodes.
func TestPlanRollout(t *testing.T) {
	oldPod := func(i string) corev1.Pod {
		return *podOf("ns", "mixtral", "old", func(p *corev1.Pod) {
			p.Name += i
			withScheduled(corev1.ConditionTrue, "", "")(p)
		})
	}
	surgePod := func(message string) corev1.Pod {
		return *podOf("ns", "mixtral", "new", withScheduled(corev1.ConditionFalse, corev1.PodReasonUnschedulable, message))
	}
	starvedPods := cachedOf(oldPod("a"), oldPod("b"), surgePod(gpuStarved))
	onePodAtATime := func(d *appsv1.Deployment) *appsv1.Deployment {
		d.Spec.Strategy = render.OnePodAtATime()
		return d
	}
	withPDB := func(min, maxUnavailable *intstr.IntOrString) func(*servingv1alpha1.InferenceService) {
		return func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.PodDisruptionBudget = &servingv1alpha1.PodDisruptionBudgetSpec{MinAvailable: min, MaxUnavailable: maxUnavailable}
		}
	}
	withRollout := func(policy servingv1alpha1.RolloutPolicy) func(*servingv1alpha1.InferenceService) {
		return func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Rollout = &servingv1alpha1.RolloutSpec{Policy: policy}
		}
	}
	tests := []struct {
		name string
		opts []func(*servingv1alpha1.InferenceService)
		dep  *appsv1.Deployment
		pods []podcache.Pod
		want rolloutPlan
	}{
		{name: "a surge pod starved of a GPU the old pods hold: one pod at a time", dep: rollingOut(2, 3), pods: starvedPods,
			want: rolloutPlan{onePodAtATime: true}},
		{name: "Auto given explicitly", opts: []func(*servingv1alpha1.InferenceService){withRollout(servingv1alpha1.RolloutAuto)},
			dep: rollingOut(2, 3), pods: starvedPods, want: rolloutPlan{onePodAtATime: true}},
		{name: "Surge keeps surging", opts: []func(*servingv1alpha1.InferenceService){withRollout(servingv1alpha1.RolloutSurge)},
			dep: rollingOut(2, 3), pods: starvedPods},
		{name: "spec.strategy is passed as it is", opts: []func(*servingv1alpha1.InferenceService){func(isvc *servingv1alpha1.InferenceService) {
			isvc.Spec.Strategy = &appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}
		}}, dep: rollingOut(2, 3), pods: starvedPods},
		{name: "no rollout under way: a scale-out short of GPUs is not a rollout", dep: deploymentFixture(), pods: starvedPods},
		{name: "the rollout went one pod at a time and goes on so once the new pods are scheduled",
			dep: onePodAtATime(rollingOut(2, 2)), pods: cachedOf(oldPod("a"), *podOf("ns", "mixtral", "new", withScheduled(corev1.ConditionTrue, "", ""))),
			want: rolloutPlan{onePodAtATime: true}},
		{name: "the rollout that went one pod at a time is done: surge again", dep: onePodAtATime(deploymentFixture()), pods: starvedPods[:2]},
		{name: "short of memory, not of a device: removing an old pod is no answer", dep: rollingOut(2, 3),
			pods: cachedOf(oldPod("a"), oldPod("b"), surgePod("0/3 nodes are available: 3 Insufficient memory."))},
		{name: "the old pods hold no GPU (the new template adds one)", dep: rollingOut(2, 3),
			pods: cachedOf(withoutGPU(oldPod("a")), withoutGPU(oldPod("b")), surgePod(gpuStarved))},
		{name: "a PDB with minAvailable 2 of 2 allows no pod down: surge and wait",
			opts: []func(*servingv1alpha1.InferenceService){withPDB(ptr.To(intstr.FromInt32(2)), nil)},
			dep:  rollingOut(2, 3), pods: starvedPods, want: rolloutPlan{heldByPDB: true}},
		{name: "a PDB with minAvailable 1 of 2 allows one down",
			opts: []func(*servingv1alpha1.InferenceService){withPDB(ptr.To(intstr.FromInt32(1)), nil)},
			dep:  rollingOut(2, 3), pods: starvedPods, want: rolloutPlan{onePodAtATime: true}},
		{name: "a PDB with minAvailable 60% of 2 (2, rounded up) allows none",
			opts: []func(*servingv1alpha1.InferenceService){withPDB(ptr.To(intstr.FromString("60%")), nil)},
			dep:  rollingOut(2, 3), pods: starvedPods, want: rolloutPlan{heldByPDB: true}},
		{name: "a PDB with minAvailable 60% of 3 (2, rounded up) allows one",
			opts: []func(*servingv1alpha1.InferenceService){withPDB(ptr.To(intstr.FromString("60%")), nil)},
			dep:  rollingOut(3, 4), pods: starvedPods, want: rolloutPlan{onePodAtATime: true}},
		{name: "a PDB with maxUnavailable 0 allows none",
			opts: []func(*servingv1alpha1.InferenceService){withPDB(nil, ptr.To(intstr.FromInt32(0)))},
			dep:  rollingOut(2, 3), pods: starvedPods, want: rolloutPlan{heldByPDB: true}},
		{name: "a PDB with maxUnavailable 10% of 2 (1, rounded up) allows one",
			opts: []func(*servingv1alpha1.InferenceService){withPDB(nil, ptr.To(intstr.FromString("10%")))},
			dep:  rollingOut(2, 3), pods: starvedPods, want: rolloutPlan{onePodAtATime: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isvc := newInferenceService("ns", "mixtral", tt.opts...)
			NewWithT(t).Expect(planRollout(isvc, tt.dep, tt.pods)).To(Equal(tt.want))
		})
	}
}

func withoutGPU(p corev1.Pod) corev1.Pod {
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	return p
}

// What the status says while the Auto policy carries a rollout on one pod at a time, or
// cannot because of a PodDisruptionBudget.
func TestRolloutPlanInTheStatus(t *testing.T) {
	g := NewWithT(t)
	isvc := newInferenceService("ns", "mixtral", func(i *servingv1alpha1.InferenceService) {
		i.Spec.Replicas = ptr.To[int32](2)
		i.Spec.Resources.Limits["nvidia.com/gpu"] = resource.MustParse("1")
	})
	isvc.Generation = 1

	status := computeStatus(isvc, observed{deployment: rollingOut(2, 2), rollout: rolloutPlan{onePodAtATime: true}}, render.Config{})
	progressing := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionProgressing)
	g.Expect(progressing.Message).To(Equal("1 of 2 replicas run the latest pod template; " +
		"one pod at a time (maxSurge 0, maxUnavailable 1) until this rollout is done: no nvidia.com/gpu is free for a surge pod"))
	g.Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady).Message).To(Equal(progressing.Message))

	status = computeStatus(isvc, observed{deployment: rollingOut(2, 3), rollout: rolloutPlan{heldByPDB: true}}, render.Config{})
	g.Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady).Message).To(
		ContainSubstring("spec.podDisruptionBudget allows no pod down, so the rollout cannot go one pod at a time: it waits"))

	status = computeStatus(isvc, observed{deployment: deploymentFixture(), rollout: rolloutPlan{onePodAtATime: true}}, render.Config{})
	g.Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionProgressing).Message).NotTo(ContainSubstring("one pod at a time"),
		"a finished rollout says nothing of how it went")
}
