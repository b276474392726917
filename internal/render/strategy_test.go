package render_test

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// How spec.rollout and spec.strategy become the Deployment's strategy, with and without
// the Auto policy's verdict that the rollout under way is starved.
func TestStrategyFromRollout(t *testing.T) {
	one, zero, half := ptr.To(intstr.FromInt32(1)), ptr.To(intstr.FromInt32(0)), ptr.To(intstr.FromString("50%"))
	rolling := func(surge, unavailable *intstr.IntOrString) appsv1.DeploymentStrategy {
		return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: surge, MaxUnavailable: unavailable}}
	}
	recreate := appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	tests := []struct {
		name          string
		rollout       *servingv1alpha1.RolloutSpec
		strategy      *appsv1.DeploymentStrategy
		policy        servingv1alpha1.RolloutPolicy
		surging       appsv1.DeploymentStrategy
		onePodAtATime appsv1.DeploymentStrategy
	}{
		{name: "nothing set: Auto, the API server's default until starved", policy: servingv1alpha1.RolloutAuto,
			surging: appsv1.DeploymentStrategy{}, onePodAtATime: rolling(zero, one)},
		{name: "Auto without numbers", rollout: &servingv1alpha1.RolloutSpec{Policy: servingv1alpha1.RolloutAuto}, policy: servingv1alpha1.RolloutAuto,
			surging: appsv1.DeploymentStrategy{}, onePodAtATime: rolling(zero, one)},
		{name: "Auto with numbers", rollout: &servingv1alpha1.RolloutSpec{Policy: servingv1alpha1.RolloutAuto, MaxSurge: one, MaxUnavailable: zero},
			policy: servingv1alpha1.RolloutAuto, surging: rolling(one, zero), onePodAtATime: rolling(zero, one)},
		{name: "Surge never goes one pod at a time", rollout: &servingv1alpha1.RolloutSpec{Policy: servingv1alpha1.RolloutSurge, MaxSurge: half},
			policy: servingv1alpha1.RolloutSurge, surging: rolling(half, nil), onePodAtATime: rolling(half, nil)},
		{name: "Surge without numbers", rollout: &servingv1alpha1.RolloutSpec{Policy: servingv1alpha1.RolloutSurge}, policy: servingv1alpha1.RolloutSurge,
			surging:       appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			onePodAtATime: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}},
		{name: "Recreate", rollout: &servingv1alpha1.RolloutSpec{Policy: servingv1alpha1.RolloutRecreate}, policy: servingv1alpha1.RolloutRecreate,
			surging: recreate, onePodAtATime: recreate},
		{name: "spec.strategy Recreate is the Recreate policy", strategy: &recreate, policy: servingv1alpha1.RolloutRecreate,
			surging: recreate, onePodAtATime: recreate},
		{name: "spec.strategy RollingUpdate is the Surge policy, passed as it is", strategy: ptr.To(rolling(one, zero)), policy: servingv1alpha1.RolloutSurge,
			surging: rolling(one, zero), onePodAtATime: rolling(one, zero)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			isvc := newInferenceService(func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Rollout, isvc.Spec.Strategy = tt.rollout, tt.strategy
			})
			g.Expect(render.RolloutPolicy(isvc)).To(Equal(tt.policy))
			g.Expect(render.Strategy(isvc, false)).To(Equal(tt.surging))
			g.Expect(render.Deployment(isvc).Spec.Strategy).To(Equal(tt.surging), "the Deployment builder surges")
			g.Expect(render.Strategy(isvc, true)).To(Equal(tt.onePodAtATime))
		})
	}
}
