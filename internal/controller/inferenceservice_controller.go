package controller

import (
	"context"
	"errors"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// conflictRecheckInterval is how often a child name conflict is looked at again. The
// conflicting object is not labelled for this operator, so no watch event announces its
// removal.
const conflictRecheckInterval = time.Minute

// InferenceServiceReconciler turns an InferenceService into a Deployment, a Service, a
// HorizontalPodAutoscaler and optionally a PodDisruptionBudget, and reports their state
// on the InferenceService's status.
type InferenceServiceReconciler struct {
	client.Client
	// APIReader reads from the API server, bypassing the cache; used only to check that
	// a child's name is free before creating it.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	// MaxConcurrentReconciles is the number of InferenceServices reconciled in parallel.
	MaxConcurrentReconciles int

	// written remembers the last status this reconciler wrote for each InferenceService.
	written statusMemo
}

// NewInferenceServiceReconciler wires a reconciler to the manager's cached client, its
// uncached reader, scheme and event recorder.
func NewInferenceServiceReconciler(mgr ctrl.Manager, maxConcurrentReconciles int) *InferenceServiceReconciler {
	return &InferenceServiceReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder(FieldOwner),
		MaxConcurrentReconciles: maxConcurrentReconciles,
	}
}

// +kubebuilder:rbac:groups=serving.inferenceops.dev,resources=inferenceservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.inferenceops.dev,resources=inferenceservices/status,verbs=get;patch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings the children of one InferenceService in line with its spec and
// writes its status.
func (r *InferenceServiceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	isvc := &servingv1alpha1.InferenceService{}
	if err := r.Get(ctx, req.NamespacedName, isvc); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !isvc.DeletionTimestamp.IsZero() {
		// The garbage collector removes the children through their owner references.
		return ctrl.Result{}, nil
	}

	obs, reconcileErr := r.reconcileChildren(ctx, isvc)
	if reconcileErr != nil && obs.blocked == nil {
		if _, ok := asConflict(reconcileErr); !ok {
			obs.blocked = &blocker{reason: servingv1alpha1.ReasonApplyFailed, message: reconcileErr.Error()}
		}
	}

	status := computeStatus(isvc, obs)
	if err := r.writeStatus(ctx, isvc, status); err != nil {
		return ctrl.Result{}, errors.Join(reconcileErr, err)
	}

	switch {
	case obs.blocked != nil && obs.blocked.reason == servingv1alpha1.ReasonResourceConflict:
		return ctrl.Result{RequeueAfter: conflictRecheckInterval}, nil
	case apierrors.IsInvalid(reconcileErr):
		// The API server refused a child built from this spec; retrying the same spec
		// cannot help, and a spec change triggers a new reconcile anyway.
		return ctrl.Result{}, reconcile.TerminalError(reconcileErr)
	}
	return ctrl.Result{}, reconcileErr
}

// reconcileChildren removes the children the spec no longer asks for, then applies the
// Deployment, Service, HPA and PDB in that order. It stops at the first error.
func (r *InferenceServiceReconciler) reconcileChildren(ctx context.Context, isvc *servingv1alpha1.InferenceService) (observed, error) {
	var obs observed
	if err := r.deleteUnwanted(ctx, isvc); err != nil {
		return obs, err
	}

	deployment, err := r.reconcileDeployment(ctx, isvc)
	if err != nil {
		return obs, block(&obs, err)
	}
	obs.deployment = deployment

	service := &corev1.Service{}
	if err := r.reconcileChild(ctx, isvc, render.Service(isvc), service); err != nil {
		return obs, block(&obs, err)
	}
	obs.service = service

	if desired := render.HorizontalPodAutoscaler(isvc); desired != nil {
		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		if err := r.reconcileChild(ctx, isvc, desired, hpa); err != nil {
			return obs, block(&obs, err)
		}
		obs.hpa = hpa
	}

	if desired := render.PodDisruptionBudget(isvc); desired != nil {
		if err := r.reconcileChild(ctx, isvc, desired, &policyv1.PodDisruptionBudget{}); err != nil {
			return obs, block(&obs, err)
		}
	}
	return obs, nil
}

// reconcileDeployment applies the Deployment. When autoscaling is on and the operator
// still owns spec.replicas (the spec just switched from a fixed count), it first hands
// the field over so the running pods are kept while the HPA takes over.
func (r *InferenceServiceReconciler) reconcileDeployment(ctx context.Context, isvc *servingv1alpha1.InferenceService) (*appsv1.Deployment, error) {
	live := &appsv1.Deployment{}
	found, err := r.getOwned(ctx, isvc, live)
	if err != nil {
		return nil, err
	}
	desired := render.Deployment(isvc)
	if found && desired.Spec.Replicas == nil {
		if err := r.handOffReplicas(ctx, live); err != nil {
			return nil, err
		}
	}
	var current client.Object
	if found {
		current = live
	}
	applied := &appsv1.Deployment{}
	if err := r.apply(ctx, desired, current, applied); err != nil {
		return nil, err
	}
	return applied, nil
}

// reconcileChild applies desired unless an object of the same name exists that isvc does
// not control, and reads the stored object into applied.
func (r *InferenceServiceReconciler) reconcileChild(ctx context.Context, isvc *servingv1alpha1.InferenceService, desired, applied client.Object) error {
	live := newObjectLike(desired)
	found, err := r.getOwned(ctx, isvc, live)
	if err != nil {
		return err
	}
	if !found {
		live = nil
	}
	return r.apply(ctx, desired, live, applied)
}

// deleteUnwanted deletes the HPA once autoscaling is off and the PDB once it is removed
// from the spec.
func (r *InferenceServiceReconciler) deleteUnwanted(ctx context.Context, isvc *servingv1alpha1.InferenceService) error {
	if render.HorizontalPodAutoscaler(isvc) == nil {
		deleted, err := r.deleteOwned(ctx, isvc, &autoscalingv2.HorizontalPodAutoscaler{})
		if err != nil {
			return err
		}
		if deleted {
			r.Recorder.Eventf(isvc, nil, corev1.EventTypeNormal, "AutoscalingDisabled", "Delete",
				"Deleted HorizontalPodAutoscaler %s: spec.replicas fixes the count at %d", isvc.Name, *isvc.Spec.Replicas)
		}
	}
	if render.PodDisruptionBudget(isvc) == nil {
		deleted, err := r.deleteOwned(ctx, isvc, &policyv1.PodDisruptionBudget{})
		if err != nil {
			return err
		}
		if deleted {
			r.Recorder.Eventf(isvc, nil, corev1.EventTypeNormal, "PodDisruptionBudgetRemoved", "Delete",
				"Deleted PodDisruptionBudget %s: spec.podDisruptionBudget was removed", isvc.Name)
		}
	}
	return nil
}

// block records why a child could not be applied, so that the Ready condition says it. A
// name conflict and a child the API server refuses as invalid stall the service: retrying
// the same spec cannot help.
func block(obs *observed, err error) error {
	if conflict, ok := asConflict(err); ok {
		obs.blocked = &blocker{reason: servingv1alpha1.ReasonResourceConflict, message: conflict.Error(), stalled: true}
	} else {
		obs.blocked = &blocker{reason: servingv1alpha1.ReasonApplyFailed, message: err.Error(), stalled: apierrors.IsInvalid(err)}
	}
	return err
}

// SetupWithManager watches InferenceServices and every kind of child they own.
//
// Spec changes of the InferenceService trigger a reconcile (its own status writes do not);
// any change of an owned child does, because the child's status feeds the CR's status and
// a hand edit must be undone.
func (r *InferenceServiceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.InferenceService{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("inferenceservice").
		Complete(r)
}

// newObjectLike returns a new, empty object of the same Go type as obj.
func newObjectLike(obj client.Object) client.Object {
	return reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
}
