package controller

import (
	"context"
	"errors"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/metrics"
	"github.com/inferenceops/inference-operator/internal/podcache"
	"github.com/inferenceops/inference-operator/internal/render"
)

const (
	// conflictRecheckInterval is how often a child name conflict is looked at again. The
	// conflicting object is not labelled for this operator, so no watch event announces its
	// removal.
	conflictRecheckInterval = time.Minute
	// previousChildRecheckInterval is how often a child of a deleted InferenceService of
	// the same name is looked at again while the garbage collector removes it. Its
	// deletion also triggers a reconcile; this bounds the wait if that event is missed.
	previousChildRecheckInterval = 2 * time.Second
)

// InferenceServiceReconciler turns an InferenceService into a Deployment, a Service, a
// HorizontalPodAutoscaler and optionally a PodDisruptionBudget, and reports their state
// on the InferenceService's status.
type InferenceServiceReconciler struct {
	client.Client
	// APIReader reads from the API server, bypassing the cache: only when a create finds
	// a child's name taken, and before the first apply or a repair of a child, which need
	// its managedFields.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	// Config holds the settings of the cluster the builders need (its DNS domain).
	Config render.Config
	// MaxConcurrentReconciles is the number of InferenceServices reconciled in parallel.
	MaxConcurrentReconciles int
	// Metrics receives each computed status for the per-InferenceService Prometheus
	// figures; nil records nothing.
	Metrics *metrics.Recorder
	// NoPodWatch turns the pod watch off (the manager's --watch-pods=false): no pod
	// informer, no pod read. PodsSchedulable is then not reported, and the rollout
	// policy Auto, which cannot see a surge pod starved of a GPU, rolls out as Surge.
	NoPodWatch bool
	// Namespaces are the namespaces the manager's cache is limited to (its
	// --watch-namespaces); empty means all. The pod cache is limited to them too.
	Namespaces []string
	// MetricStatusInterval is the shortest time between two status writes of one
	// InferenceService that change only its metric values (the manager's
	// --metric-status-interval); 0 writes every change. See writeStatus.
	MetricStatusInterval time.Duration
	// Clock tells the time of status writes; nil is the real clock.
	Clock clock.PassiveClock

	// written remembers the last status this reconciler wrote for each InferenceService.
	written statusMemo
	// optional watches the children whose CRDs may be missing (keda.go).
	optional optionalKinds
	// pods reads the pod cache (podcache.New); unset when the pod watch is off.
	pods client.Reader
}

// NewInferenceServiceReconciler wires a reconciler to the manager's cached client, its
// uncached reader, scheme and event recorder.
func NewInferenceServiceReconciler(mgr ctrl.Manager, cfg render.Config, maxConcurrentReconciles int) *InferenceServiceReconciler {
	return &InferenceServiceReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder(FieldOwner),
		Config:                  cfg,
		MaxConcurrentReconciles: maxConcurrentReconciles,
		optional:                optionalKinds{mapper: mgr.GetRESTMapper(), cache: mgr.GetCache()},
	}
}

// +kubebuilder:rbac:groups=serving.inferenceops.dev,resources=inferenceservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.inferenceops.dev,resources=inferenceservices/status,verbs=get;patch
// +kubebuilder:rbac:groups=serving.inferenceops.dev,resources=inferenceservices/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings the children of one InferenceService in line with its spec and
// writes its status.
//
// The update verb on inferenceservices/finalizers is what the
// OwnerReferencesPermissionEnforcement admission plugin (on by default in OpenShift)
// requires to create children whose owner reference blocks the owner's deletion. The
// operator sets no finalizer.
func (r *InferenceServiceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	isvc := &servingv1alpha1.InferenceService{}
	if err := r.Get(ctx, req.NamespacedName, isvc); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.forget(req.NamespacedName)
			r.Metrics.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !isvc.DeletionTimestamp.IsZero() {
		// The garbage collector removes the children through their owner references.
		return ctrl.Result{}, nil
	}

	obs, reconcileErr := r.syncChildren(ctx, isvc)

	status := computeStatus(isvc, obs, r.Config)
	r.Metrics.Observe(req.NamespacedName, &status, render.Autoscaling(isvc) != nil)
	heldBack, err := r.writeStatus(ctx, isvc, status)
	if err != nil {
		return ctrl.Result{}, errors.Join(reconcileErr, err)
	}

	var previous *errPreviousChild
	switch {
	case obs.blocked != nil && (obs.blocked.reason == servingv1alpha1.ReasonResourceConflict || obs.blocked.reason == servingv1alpha1.ReasonKEDAMissing):
		// Neither the conflicting object nor a CRD installed later sends this operator an event.
		return ctrl.Result{RequeueAfter: sooner(conflictRecheckInterval, heldBack)}, nil
	case errors.As(reconcileErr, &previous):
		return ctrl.Result{RequeueAfter: sooner(previousChildRecheckInterval, heldBack)}, nil
	case refused(reconcileErr):
		// The API server refused a child built from this spec; retrying the same spec
		// cannot help, and a spec change triggers a new reconcile anyway.
		return ctrl.Result{}, reconcile.TerminalError(reconcileErr)
	case reconcileErr != nil:
		return ctrl.Result{}, reconcileErr
	}
	return ctrl.Result{RequeueAfter: heldBack}, nil
}

// sooner returns the shorter of two requeue delays, where 0 means none.
func sooner(a, b time.Duration) time.Duration {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

func (r *InferenceServiceReconciler) clock() clock.PassiveClock {
	if r.Clock == nil {
		return clock.RealClock{}
	}
	return r.Clock
}

// reconcileChildren reads every child from the cache, then deletes those the spec no
// longer asks for and creates or applies the others, the Deployment first. It stops at
// the first error. The children it returns are those it read, replaced by what it wrote,
// so the status always shows what runs, whatever failed.
func (r *InferenceServiceReconciler) reconcileChildren(ctx context.Context, isvc *servingv1alpha1.InferenceService, desired render.Children) (observed, error) {
	var obs observed
	slots := desired.Slots()
	live := make([]client.Object, len(slots))
	// unserved marks the optional kinds whose CRD is not installed: neither read nor written.
	unserved := make([]bool, len(slots))
	var missing error
	for i, slot := range slots {
		if gvk, ok := isOptional(slot.Kind); ok {
			// An optional kind is looked up again only when the spec asks for it: a lookup
			// of a kind the API server does not serve is a discovery request each time, and
			// while it is not served no child of that kind can exist to be deleted.
			if slot.Desired == nil && !r.watching(gvk) {
				unserved[i] = true
				continue
			}
			served, err := r.served(ctx, gvk)
			if err != nil {
				return obs, obs.block(err)
			}
			if !served {
				unserved[i] = true
				if slot.Desired != nil && gvk == render.ScaledObjectGVK {
					missing = errKEDAMissing{}
				}
				continue
			}
		}
		obj, err := r.readChild(ctx, isvc, slot.Kind)
		if err != nil {
			return obs, obs.block(err)
		}
		live[i] = obj
		obs.record(obj)
	}
	if render.UsesKEDA(isvc) && missing == nil {
		hpa, err := r.readKEDAHPA(ctx, isvc)
		if err != nil {
			return obs, obs.block(err)
		}
		obs.kedaHPA = hpa
	}
	if desired.Err != nil {
		return obs, obs.block(desired.Err)
	}

	for i, slot := range slots {
		if slot.Desired != nil || live[i] == nil || deferDeletion(isvc, slot.Kind, obs) {
			continue
		}
		if err := r.deleteChild(ctx, live[i]); err != nil {
			return obs, obs.block(err)
		}
		obs.forget(slot.Kind)
		r.recordDeleted(isvc, slot.Kind)
	}

	for i, slot := range slots {
		if slot.Desired == nil || unserved[i] {
			continue
		}
		var (
			written client.Object
			err     error
		)
		if live[i] == nil {
			written, err = r.createChild(ctx, isvc, slot.Desired)
		} else {
			written, err = r.updateChild(ctx, isvc, slot.Desired, live[i])
		}
		if err != nil {
			return obs, obs.block(err)
		}
		obs.record(written)
	}
	if missing != nil {
		// Reported, not returned: retrying cannot install KEDA.
		_ = obs.block(missing)
	}
	return obs, nil
}

// updateChild applies desired over live. A Deployment whose spec.replicas the operator
// stops setting (autoscaling takes over from a fixed count) first has the field handed over.
func (r *InferenceServiceReconciler) updateChild(ctx context.Context, isvc *servingv1alpha1.InferenceService, desired, live client.Object) (client.Object, error) {
	if dep, ok := live.(*appsv1.Deployment); ok && desired.(*appsv1.Deployment).Spec.Replicas == nil {
		if as := render.Autoscaling(isvc); as != nil {
			if err := r.handOffReplicas(ctx, dep, *as.MinReplicas, as.MaxReplicas); err != nil {
				return nil, err
			}
		}
		if err := r.wakeFromZero(ctx, isvc, dep); err != nil {
			return nil, err
		}
	}
	return r.applyChild(ctx, desired, live)
}

// recordDeleted records an event for a child removed because the spec stopped asking for it.
func (r *InferenceServiceReconciler) recordDeleted(isvc *servingv1alpha1.InferenceService, kind client.Object) {
	switch kind.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		r.Recorder.Eventf(isvc, nil, corev1.EventTypeNormal, "AutoscalingDisabled", "Delete",
			"Deleted HorizontalPodAutoscaler %s: spec.replicas fixes the count at %d", isvc.Name, ptr.Deref(isvc.Spec.Replicas, 0))
	case *policyv1.PodDisruptionBudget:
		r.Recorder.Eventf(isvc, nil, corev1.EventTypeNormal, "PodDisruptionBudgetRemoved", "Delete",
			"Deleted PodDisruptionBudget %s: spec.podDisruptionBudget was removed", isvc.Name)
	case *unstructured.Unstructured:
		r.Recorder.Eventf(isvc, nil, corev1.EventTypeNormal, "ChildRemoved", "Delete",
			"Deleted %s %s: the spec no longer asks for it", kind.GetObjectKind().GroupVersionKind().Kind, isvc.Name)
	}
}

// SetupWithManager watches InferenceServices and every kind of child they own.
//
// Spec changes of the InferenceService trigger a reconcile (its own status writes do not),
// and so does its owner opting in to the current defaults (render.UpgradeDefaultsAnnotation);
// any change of an owned child does, because the child's status feeds the CR's status and
// a hand edit must be undone.
//
// The HPA that KEDA makes is controlled by its ScaledObject; it is mapped to its
// InferenceService by label. KEDA's ScaledObject and the PodMonitor are watched once their
// CRDs are served (keda.go): the check runs here and again when a spec asks for them.
func (r *InferenceServiceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.InferenceService{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, upgradeDefaultsChanged))).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{})
	if !r.NoPodWatch {
		pods, err := podcache.New(mgr, namespaceConfigs(r.Namespaces), managedSelector())
		if err != nil {
			return err
		}
		r.pods = pods
		b = b.WatchesRawSource(podWatch(pods))
	}
	c, err := b.
		Watches(&autoscalingv2.HorizontalPodAutoscaler{}, enqueueByInferenceServiceLabel()).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("inferenceservice").
		Build(r)
	if err != nil {
		return err
	}
	r.optional.mu.Lock()
	r.optional.controller = c
	r.optional.mu.Unlock()
	ctx := context.Background()
	for _, gvk := range optionalGVKs {
		if _, err := r.served(ctx, gvk); err != nil {
			return err
		}
	}
	return nil
}

// upgradeDefaultsChanged passes the updates of an InferenceService that set or remove
// render.UpgradeDefaultsAnnotation: it changes the rendering without a new generation.
var upgradeDefaultsChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetAnnotations()[render.UpgradeDefaultsAnnotation] !=
			e.ObjectNew.GetAnnotations()[render.UpgradeDefaultsAnnotation]
	},
}
