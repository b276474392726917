package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// syncChildren reads the service's pods, then brings the children in line with the spec,
// with the strategy the rollout policy chose from what runs (see planRollout), or, while
// spec.paused is true, only reads them, so that the status keeps following what runs.
func (r *InferenceServiceReconciler) syncChildren(ctx context.Context, isvc *servingv1alpha1.InferenceService) (observed, error) {
	pods, err := r.podsOf(ctx, isvc)
	if err != nil {
		return observed{}, err
	}
	desired := render.Desired(isvc, r.Config)
	var (
		obs  observed
		plan rolloutPlan
	)
	if isvc.Spec.Paused {
		obs, err = r.observeChildren(ctx, isvc, desired)
	} else {
		if live := r.liveDeployment(ctx, isvc); live != nil {
			plan = planRollout(isvc, live, pods)
			desired.Deployment.Spec.Strategy = render.Strategy(isvc, plan.onePodAtATime)
			r.recordRolloutPlan(isvc, live, plan)
		}
		obs, err = r.reconcileChildren(ctx, isvc, desired)
	}
	obs.pods, obs.podsUnwatched, obs.rollout = pods, r.NoPodWatch, plan
	return obs, err
}

// observeChildren reads every child from the cache and writes none: what a paused
// service reports on. A child of another owner is still reported as a conflict.
func (r *InferenceServiceReconciler) observeChildren(ctx context.Context, isvc *servingv1alpha1.InferenceService, desired render.Children) (observed, error) {
	var obs observed
	for _, slot := range desired.Slots() {
		obj, err := r.readChild(ctx, isvc, slot.Kind)
		if err != nil {
			return obs, obs.block(err)
		}
		obs.record(obj)
	}
	return obs, nil
}

// setPausedCondition says, while spec.paused is true, that the operator leaves the
// children alone; the condition is removed otherwise. A paused service whose Deployment
// is missing says in Ready's message why nobody creates it.
func setPausedCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, obs observed) {
	if !isvc.Spec.Paused {
		meta.RemoveStatusCondition(&status.Conditions, servingv1alpha1.ConditionPaused)
		return
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type:               servingv1alpha1.ConditionPaused,
		Status:             metav1.ConditionTrue,
		Reason:             servingv1alpha1.ReasonPaused,
		Message:            "spec.paused is true: the operator applies and deletes none of the children; the status reports them as they are",
		ObservedGeneration: isvc.Generation,
	})
	ready := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady)
	if obs.deployment == nil && obs.blocked == nil && ready != nil && ready.Reason == servingv1alpha1.ReasonDeploymentPending {
		cond := *ready
		cond.Message = "There is no Deployment, and spec.paused keeps the operator from creating it"
		meta.SetStatusCondition(&status.Conditions, cond)
	}
}
