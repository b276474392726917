package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/podcache"
	"github.com/inferenceops/inference-operator/internal/render"
)

// rolloutPlan is what the Auto rollout policy decided for the rollout under way.
type rolloutPlan struct {
	// onePodAtATime: a surge pod cannot get an extended resource that the old pods hold,
	// or could not earlier in this rollout, so the Deployment gets maxSurge 0 and
	// maxUnavailable 1 until the rollout is done.
	onePodAtATime bool
	// heldByPDB: the rollout is starved as above, but the PodDisruptionBudget allows no pod
	// down, so it keeps surging and waits for a free unit.
	heldByPDB bool
}

// planRollout decides, under the Auto policy, whether the rollout of dep (the live
// Deployment) goes on one pod at a time. It is a pure function of the spec and what runs:
//   - only while a rollout is under way: once the Deployment reports it finished, the
//     next rollout surges again;
//   - starved: a pod of the new template is unschedulable for lack of an extended
//     resource it requests (the scheduler's "Insufficient nvidia.com/gpu") while pods of
//     an older template that request it are scheduled, so removing one frees a unit;
//   - a rollout already going one pod at a time (the live strategy says so) goes on that
//     way: its new pods get scheduled once old ones are gone, which ends the starvation
//     but not the reason for it;
//   - never below a PodDisruptionBudget: one pod down must be allowed.
func planRollout(isvc *servingv1alpha1.InferenceService, dep *appsv1.Deployment, pods []podcache.Pod) rolloutPlan {
	if render.RolloutPolicy(isvc) != servingv1alpha1.RolloutAuto || dep == nil || rolloutComplete(dep) {
		return rolloutPlan{}
	}
	if !starved(pods) && !equality.Semantic.DeepEqual(dep.Spec.Strategy, render.OnePodAtATime()) {
		return rolloutPlan{}
	}
	if disruptionsAllowed(isvc.Spec.PodDisruptionBudget, ptr.Deref(dep.Spec.Replicas, 1)) < 1 {
		return rolloutPlan{heldByPDB: true}
	}
	return rolloutPlan{onePodAtATime: true}
}

// starved tells whether a pod is unschedulable for lack of an extended resource it
// requests while a scheduled pod of another template holds some of it.
func starved(pods []podcache.Pod) bool {
	for i := range pods {
		cond := pods[i].Unschedulable()
		if cond == nil {
			continue
		}
		hash := pods[i].TemplateHash()
		for _, name := range pods[i].ExtendedRequests {
			if !strings.Contains(cond.Message, "Insufficient "+string(name)) {
				continue
			}
			for j := range pods {
				other := &pods[j]
				if other.TemplateHash() != hash && other.ScheduledOnNode() && slices.Contains(other.ExtendedRequests, name) {
					return true
				}
			}
		}
	}
	return false
}

// disruptionsAllowed is how many of replicas pods the PodDisruptionBudget of the spec
// lets go down at once, rounding percentages up as the disruption controller does; a
// service without one allows all.
func disruptionsAllowed(pdb *servingv1alpha1.PodDisruptionBudgetSpec, replicas int32) int {
	switch {
	case pdb == nil:
		return int(replicas)
	case pdb.MinAvailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.MinAvailable, int(replicas), true)
		if err != nil {
			return 0
		}
		return int(replicas) - v
	case pdb.MaxUnavailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.MaxUnavailable, int(replicas), true)
		if err != nil {
			return 0
		}
		return v
	}
	return int(replicas)
}

// liveDeployment is the service's Deployment as the cache holds it, or nil when there is
// none or it is not the service's (reconcileChildren reports that).
func (r *InferenceServiceReconciler) liveDeployment(ctx context.Context, isvc *servingv1alpha1.InferenceService) *appsv1.Deployment {
	dep := &appsv1.Deployment{}
	if err := r.Get(ctx, client.ObjectKeyFromObject(isvc), dep); err != nil || !metav1.IsControlledBy(dep, isvc) {
		return nil
	}
	return dep
}

// recordRolloutPlan records an event when a rollout starts going one pod at a time.
func (r *InferenceServiceReconciler) recordRolloutPlan(isvc *servingv1alpha1.InferenceService, live *appsv1.Deployment, plan rolloutPlan) {
	if plan.onePodAtATime && !equality.Semantic.DeepEqual(live.Spec.Strategy, render.OnePodAtATime()) {
		r.Recorder.Eventf(isvc, nil, corev1.EventTypeNormal, "RolloutOnePodAtATime", "Rollout",
			"A surge pod cannot get %s, which the old pods hold: the rest of this rollout replaces one pod at a time", extendedResourcesOf(isvc))
	}
}

// noteRolloutPlan tells, in Progressing's message (which Ready repeats while rolling
// out), how the Auto policy carries the rollout on.
func noteRolloutPlan(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, plan rolloutPlan) {
	progressing := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionProgressing)
	if progressing == nil || progressing.Reason != servingv1alpha1.ReasonRolloutInProgress {
		return
	}
	cond := *progressing
	switch {
	case plan.onePodAtATime:
		cond.Message += fmt.Sprintf("; one pod at a time (maxSurge 0, maxUnavailable 1) until this rollout is done: no %s is free for a surge pod", extendedResourcesOf(isvc))
	case plan.heldByPDB:
		cond.Message += fmt.Sprintf("; no %s is free for a surge pod, and spec.podDisruptionBudget allows no pod down, so the rollout cannot go one pod at a time: it waits", extendedResourcesOf(isvc))
	default:
		return
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// extendedResourcesOf names the extended resources the service's pods ask for, for
// messages: "nvidia.com/gpu", or "an extended resource" when the spec names none.
func extendedResourcesOf(isvc *servingv1alpha1.InferenceService) string {
	var names []string
	for _, list := range []corev1.ResourceList{isvc.Spec.Resources.Limits, isvc.Spec.Resources.Requests} {
		for name := range list {
			if podcache.ExtendedResource(name) && !slices.Contains(names, string(name)) {
				names = append(names, string(name))
			}
		}
	}
	if len(names) == 0 {
		return "extended resource"
	}
	slices.Sort(names)
	return strings.Join(names, " or ")
}
