package render

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// RolloutPolicy is the policy in effect: spec.rollout.policy, Auto when neither rollout
// nor strategy is set, and Surge or Recreate for a spec.strategy of the matching type
// (strategy is the Deployment's own, so Auto never overrides it).
func RolloutPolicy(isvc *servingv1alpha1.InferenceService) servingv1alpha1.RolloutPolicy {
	switch spec := isvc.Spec; {
	case spec.Strategy != nil && spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType:
		return servingv1alpha1.RolloutRecreate
	case spec.Strategy != nil:
		return servingv1alpha1.RolloutSurge
	case spec.Rollout == nil || spec.Rollout.Policy == "":
		return servingv1alpha1.RolloutAuto
	default:
		return spec.Rollout.Policy
	}
}

// OnePodAtATime is the strategy of an Auto rollout whose surge pod cannot get an extended
// resource the old pods hold: no pod above the desired count, one old pod removed at a
// time, so that each frees what its replacement needs.
func OnePodAtATime() appsv1.DeploymentStrategy {
	return appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxSurge:       ptr.To(intstr.FromInt32(0)),
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
		},
	}
}

// Strategy is the Deployment strategy of isvc. onePodAtATime says that the controller
// found the current Auto rollout starved of an extended resource (see OnePodAtATime); it
// changes nothing under another policy.
//
// spec.strategy is passed as it is. Without strategy or rollout numbers the strategy is
// left out, and the API server's default (RollingUpdate, 25% / 25%) applies, as it always
// did: a service that sets none of this renders as before.
func Strategy(isvc *servingv1alpha1.InferenceService, onePodAtATime bool) appsv1.DeploymentStrategy {
	if isvc.Spec.Strategy != nil {
		return *isvc.Spec.Strategy.DeepCopy()
	}
	policy := RolloutPolicy(isvc)
	switch {
	case policy == servingv1alpha1.RolloutRecreate:
		return appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	case policy == servingv1alpha1.RolloutAuto && onePodAtATime:
		return OnePodAtATime()
	}
	rollout := isvc.Spec.Rollout
	if rollout == nil || (rollout.MaxSurge == nil && rollout.MaxUnavailable == nil) {
		if policy == servingv1alpha1.RolloutSurge {
			return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}
		}
		return appsv1.DeploymentStrategy{}
	}
	return appsv1.DeploymentStrategy{
		Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxSurge:       copyIntOrString(rollout.MaxSurge),
			MaxUnavailable: copyIntOrString(rollout.MaxUnavailable),
		},
	}
}

func copyIntOrString(v *intstr.IntOrString) *intstr.IntOrString {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}
