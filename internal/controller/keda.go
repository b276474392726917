package controller

import (
	"context"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=podmonitors,verbs=get;list;watch;create;patch;delete

// optionalKinds are the children whose CRDs another project installs (KEDA's
// ScaledObject, the Prometheus Operator's PodMonitor). The operator watches one only once
// its CRD is served: checked at start and again whenever a spec asks for the kind, so a
// CRD installed later is picked up without a restart, and a cluster without it costs no
// failing informer and no watch error loop.
type optionalKinds struct {
	mapper meta.RESTMapper
	cache  cache.Cache

	mu         sync.Mutex
	controller controller.Controller
	watched    map[schema.GroupVersionKind]bool
}

// optionalGVKs are the kinds of optionalKinds.
var optionalGVKs = []schema.GroupVersionKind{render.ScaledObjectGVK, render.PodMonitorGVK}

// isOptional tells whether kind is one of the optional kinds, and which.
func isOptional(kind client.Object) (schema.GroupVersionKind, bool) {
	u, ok := kind.(*unstructured.Unstructured)
	if !ok {
		return schema.GroupVersionKind{}, false
	}
	return u.GroupVersionKind(), true
}

// served tells whether the API server serves gvk, and starts watching it the first time
// it does. A kind that is not served is not an error.
func (r *InferenceServiceReconciler) served(ctx context.Context, gvk schema.GroupVersionKind) (bool, error) {
	k := &r.optional
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.watched[gvk] {
		return true, nil
	}
	if k.controller == nil || k.mapper == nil {
		return false, nil
	}
	if _, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
		if meta.IsNoMatchError(err) {
			return false, nil
		}
		return false, fmt.Errorf("looking up %s: %w", gvk.Kind, err)
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	src := source.Kind(k.cache, client.Object(obj),
		handler.EnqueueRequestForOwner(r.Scheme, k.mapper, &servingv1alpha1.InferenceService{}, handler.OnlyControllerOwner()))
	if err := k.controller.Watch(src); err != nil {
		return false, fmt.Errorf("watching %s: %w", gvk.Kind, err)
	}
	// The watch starts its informer in the background; the reconciles read the kind from
	// the cache right after this, so wait until the informer exists and has synced.
	if _, err := k.cache.GetInformer(ctx, obj); err != nil {
		return false, fmt.Errorf("starting the informer of %s: %w", gvk.Kind, err)
	}
	if k.watched == nil {
		k.watched = map[schema.GroupVersionKind]bool{}
	}
	k.watched[gvk] = true
	logf.FromContext(ctx).Info("Watching an optional child kind, its CRD is installed", "kind", gvk.String())
	return true, nil
}

// watching tells whether the operator already watches gvk, without asking the API server.
func (r *InferenceServiceReconciler) watching(gvk schema.GroupVersionKind) bool {
	r.optional.mu.Lock()
	defer r.optional.mu.Unlock()
	return r.optional.watched[gvk]
}

// errKEDAMissing reports an InferenceService with engine KEDA on a cluster without
// KEDA's ScaledObject CRD.
type errKEDAMissing struct{}

func (errKEDAMissing) Error() string {
	return "spec.autoscaling.engine KEDA needs KEDA: the CRD scaledobjects.keda.sh (keda.sh/v1alpha1 ScaledObject) " +
		"is not installed. Install KEDA (v2.21), or set spec.autoscaling.engine HPA"
}

// enqueueByInferenceServiceLabel maps an HPA to the InferenceService its label names.
// KEDA's HPA is controlled by the ScaledObject, not by the InferenceService, but KEDA
// copies the ScaledObject's labels onto it, so it carries the operator's labels.
func enqueueByInferenceServiceLabel() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		name := obj.GetLabels()[render.LabelInferenceService]
		if name == "" || metav1.GetControllerOf(obj) == nil || metav1.GetControllerOf(obj).Kind != render.ScaledObjectGVK.Kind {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}}}
	})
}

// readKEDAHPA returns the HPA KEDA made for the ScaledObject of isvc, from the cache, or
// nil. It is KEDA's only when the ScaledObject controls it.
func (r *InferenceServiceReconciler) readKEDAHPA(ctx context.Context, isvc *servingv1alpha1.InferenceService) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	key := client.ObjectKey{Namespace: isvc.Namespace, Name: render.KEDAHPAName(isvc)}
	if err := r.Get(ctx, key, hpa); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("reading KEDA's HorizontalPodAutoscaler %s: %w", key, err)
	}
	if ref := metav1.GetControllerOf(hpa); ref == nil || ref.Kind != render.ScaledObjectGVK.Kind || ref.Name != isvc.Name {
		return nil, nil
	}
	return hpa, nil
}

// scaledObjectCondition returns the ScaledObject's condition of type t, or nil.
func scaledObjectCondition(so *unstructured.Unstructured, t string) map[string]any {
	if so == nil {
		return nil
	}
	conditions, _, _ := unstructured.NestedSlice(so.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == t {
			return m
		}
	}
	return nil
}

// kedaHoldsScaleTarget tells whether KEDA has taken over the Deployment: its ScaledObject
// is Ready and the HPA it made exists. Only then is the operator's own HPA deleted on a
// switch from engine HPA to KEDA, so that the Deployment is never without an autoscaler.
func kedaHoldsScaleTarget(so *unstructured.Unstructured, kedaHPA *autoscalingv2.HorizontalPodAutoscaler) bool {
	ready := scaledObjectCondition(so, "Ready")
	return kedaHPA != nil && ready != nil && ready["status"] == string(metav1.ConditionTrue)
}

// deferDeletion tells whether a child the spec no longer asks for is kept for now,
// during a switch of engine: the operator's HPA until KEDA holds the scale target, the
// ScaledObject until the operator's HPA exists.
func deferDeletion(isvc *servingv1alpha1.InferenceService, kind client.Object, obs observed) bool {
	as := render.Autoscaling(isvc)
	if as == nil {
		return false
	}
	switch kind.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		return as.Engine == servingv1alpha1.EngineKEDA && !kedaHoldsScaleTarget(obs.scaledObject, obs.kedaHPA)
	case *unstructured.Unstructured:
		gvk, _ := isOptional(kind)
		return gvk == render.ScaledObjectGVK && as.Engine == servingv1alpha1.EngineHPA && obs.hpa == nil
	}
	return false
}

// wakeFromZero gives a Deployment that KEDA left at zero replicas minReplicas again when
// engine HPA takes over: an HPA leaves a target at zero alone ("scaling disabled"), so
// the service would otherwise stay at zero for ever. The count is applied by a field
// manager of its own, which the HPA's first scale replaces, as in handOffReplicas.
func (r *InferenceServiceReconciler) wakeFromZero(ctx context.Context, isvc *servingv1alpha1.InferenceService, live *appsv1.Deployment) error {
	as := render.Autoscaling(isvc)
	if as == nil || as.Engine != servingv1alpha1.EngineHPA || live.Spec.Replicas == nil || *live.Spec.Replicas != 0 {
		return nil
	}
	if err := r.applyHandoffReplicas(ctx, live, max(*as.MinReplicas, 1)); err != nil {
		return fmt.Errorf("scaling Deployment %s from zero for its HorizontalPodAutoscaler: %w", client.ObjectKeyFromObject(live), err)
	}
	return nil
}

// scaledObjectConditionTypes map KEDA's ScaledObject conditions to the CR's.
var scaledObjectConditionTypes = []struct{ keda, ours string }{
	{"Ready", servingv1alpha1.ConditionScaledObjectReady},
	{"Active", servingv1alpha1.ConditionScaledObjectActive},
	{"Fallback", servingv1alpha1.ConditionScaledObjectFallback},
	{"Paused", servingv1alpha1.ConditionScaledObjectPaused},
}

// setScaledObjectConditions copies KEDA's ScaledObject conditions while engine KEDA is on,
// and removes them otherwise, the way setHPAConditions copies the HPA's.
func setScaledObjectConditions(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, so *unstructured.Unstructured) {
	for _, t := range scaledObjectConditionTypes {
		var found map[string]any
		if render.UsesKEDA(isvc) {
			found = scaledObjectCondition(so, t.keda)
		}
		if found == nil {
			meta.RemoveStatusCondition(&status.Conditions, t.ours)
			continue
		}
		cond := metav1.Condition{
			Type:               t.ours,
			Status:             metav1.ConditionStatus(fmt.Sprint(found["status"])),
			Reason:             fmt.Sprint(found["reason"]),
			Message:            fmt.Sprint(found["message"]),
			ObservedGeneration: isvc.Generation,
		}
		if found["message"] == nil {
			cond.Message = ""
		}
		// KEDA initialises its conditions Unknown without a reason; the CR's schema needs one.
		if cond.Status != metav1.ConditionTrue && cond.Status != metav1.ConditionFalse {
			cond.Status = metav1.ConditionUnknown
		}
		if found["reason"] == nil || cond.Reason == "" {
			cond.Reason = servingv1alpha1.ReasonUnspecified
		}
		meta.SetStatusCondition(&status.Conditions, cond)
	}
}

// scaledToZero tells whether KEDA scaled the service to zero, as minReplicas 0 allows.
func scaledToZero(isvc *servingv1alpha1.InferenceService, dep *appsv1.Deployment) bool {
	as := render.Autoscaling(isvc)
	return as != nil && as.Engine == servingv1alpha1.EngineKEDA && *as.MinReplicas == 0 &&
		dep != nil && dep.Spec.Replicas != nil && *dep.Spec.Replicas == 0 && dep.Status.Replicas == 0
}

// kedaTargets is the Targets column in KEDA mode, from the HPA KEDA made: its first
// metric as current/target, named after the signal or metric it comes from (KEDA names
// the External metric of trigger i "s<i>-<scaler>"), for example "queue_depth: 12/5".
func kedaTargets(isvc *servingv1alpha1.InferenceService, hpa *autoscalingv2.HorizontalPodAutoscaler) string {
	if hpa == nil || len(hpa.Spec.Metrics) == 0 {
		return ""
	}
	names := render.TriggerNames(isvc)
	specs := make([]autoscalingv2.MetricSpec, len(hpa.Spec.Metrics))
	statuses := make([]autoscalingv2.MetricStatus, len(hpa.Status.CurrentMetrics))
	for i := range hpa.Spec.Metrics {
		specs[i] = *hpa.Spec.Metrics[i].DeepCopy()
	}
	for i := range hpa.Status.CurrentMetrics {
		statuses[i] = *hpa.Status.CurrentMetrics[i].DeepCopy()
	}
	first := specs[0]
	if first.External == nil {
		return formatTargets(specs, statuses)
	}
	// The target of a per-pod signal is per pod already; "(avg)" would only repeat it.
	name := displayName(first.External.Metric.Name, names)
	var current *autoscalingv2.MetricValueStatus
	for i := range statuses {
		if s := statuses[i].External; s != nil && s.Metric.Name == first.External.Metric.Name {
			current = &s.Current
		}
	}
	summary := name + ": " + formatTarget(first.External.Target, current)
	if len(specs) > 1 {
		summary += fmt.Sprintf(" + %d more...", len(specs)-1)
	}
	return summary
}

// displayName maps KEDA's "s<i>-<scaler>" metric name to the name of trigger i.
func displayName(metric string, names []string) string {
	var i int
	if _, err := fmt.Sscanf(metric, "s%d-", &i); err == nil && i >= 0 && i < len(names) {
		return names[i]
	}
	return metric
}
