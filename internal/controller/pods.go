package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/podcache"
)

// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch

// Pods are watched for one thing: whether the scheduler can place them. The pod cache
// (podcache.New) holds only the pods of managed InferenceServices, each as a
// podcache.Pod: what PodsSchedulable and the rollout policy read.

// podToInferenceService maps a pod to the InferenceService its label names.
func podToInferenceService(_ context.Context, pod *podcache.Pod) []reconcile.Request {
	name := pod.InferenceService()
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: pod.Namespace, Name: name}}}
}

// schedulingChanged passes only the pod events that can change what the status says
// about scheduling: a pod that appears or goes while unschedulable, and a change of
// whether, or why, a pod is unschedulable. A pod turning ready or restarting is the
// Deployment's news, which its own watch brings.
var schedulingChanged = predicate.TypedFuncs[*podcache.Pod]{
	CreateFunc:  func(e event.TypedCreateEvent[*podcache.Pod]) bool { return e.Object.Unschedulable() != nil },
	DeleteFunc:  func(e event.TypedDeleteEvent[*podcache.Pod]) bool { return e.Object.Unschedulable() != nil },
	GenericFunc: func(event.TypedGenericEvent[*podcache.Pod]) bool { return false },
	UpdateFunc: func(e event.TypedUpdateEvent[*podcache.Pod]) bool {
		before, after := e.ObjectOld.Unschedulable(), e.ObjectNew.Unschedulable()
		if before == nil || after == nil {
			return before != after
		}
		return before.Message != after.Message
	},
}

// podWatch is the watch of the pods of managed InferenceServices, from pods.
func podWatch(pods cache.Cache) source.Source {
	return source.Kind(pods, &podcache.Pod{}, handler.TypedEnqueueRequestsFromMapFunc(podToInferenceService), schedulingChanged)
}

// podsOf returns the pods of isvc (see listPods), or none without reading anything when
// the pod watch is off (NoPodWatch): there is no pod cache to read from then.
func (r *InferenceServiceReconciler) podsOf(ctx context.Context, isvc *servingv1alpha1.InferenceService) ([]podcache.Pod, error) {
	if r.NoPodWatch {
		return nil, nil
	}
	return r.listPods(ctx, isvc)
}

// listPods returns the pods of isvc that the operator reads, as the pod cache holds
// them (see podcache.Pod), oldest first.
func (r *InferenceServiceReconciler) listPods(ctx context.Context, isvc *servingv1alpha1.InferenceService) ([]podcache.Pod, error) {
	pods, err := podcache.List(ctx, r.pods, isvc.Namespace, isvc.Name)
	if err != nil {
		return nil, fmt.Errorf("listing the pods of InferenceService %s: %w", client.ObjectKeyFromObject(isvc), err)
	}
	slices.SortFunc(pods, func(a, b podcache.Pod) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return pods, nil
}

// setPodsSchedulableCondition reports whether every pod of the service found a node. When
// one did not, the message is the scheduler's own for the oldest such pod, and Ready's
// message names it too, whatever Ready's status: a rollout or a scale-out that waits for
// a node says so.
func setPodsSchedulableCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, pods []podcache.Pod) {
	cond := metav1.Condition{
		Type:               servingv1alpha1.ConditionPodsSchedulable,
		Status:             metav1.ConditionTrue,
		Reason:             servingv1alpha1.ReasonPodsScheduled,
		Message:            "No pod of the service waits for a node",
		ObservedGeneration: isvc.Generation,
	}
	var waiting []*podcache.Pod
	var first *corev1.PodCondition
	for i := range pods {
		if c := pods[i].Unschedulable(); c != nil {
			if first == nil {
				first = c
			}
			waiting = append(waiting, &pods[i])
		}
	}
	if first != nil {
		cond.Status = metav1.ConditionFalse
		cond.Reason = servingv1alpha1.ReasonUnschedulable
		cond.Message = fmt.Sprintf("%s: %s", podCount(len(waiting), "cannot be scheduled", "pod %s", waiting[0].Name), first.Message)
	}
	meta.SetStatusCondition(&status.Conditions, cond)

	if first == nil {
		return
	}
	ready := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady)
	if ready == nil {
		return
	}
	named := *ready
	named.Message = fmt.Sprintf("%s; %s: %s", ready.Message, podCount(len(waiting), "cannot be scheduled", ""), first.Message)
	meta.SetStatusCondition(&status.Conditions, named)
}

// podCount says "1 pod cannot be scheduled" or "3 pods cannot be scheduled", followed by
// the formatted detail in parentheses when one is given.
func podCount(n int, verb, detail string, args ...any) string {
	s := fmt.Sprintf("%d pods %s", n, verb)
	if n == 1 {
		s = fmt.Sprintf("1 pod %s", verb)
	}
	if detail != "" {
		s += " (" + fmt.Sprintf(detail, args...) + ")"
	}
	return s
}
