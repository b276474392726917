package controller

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/podcache"
	"github.com/inferenceops/inference-operator/internal/render"
)

// observed is what a reconcile found and did: the live children it read, replaced by
// what it wrote, and the problem, if any, that kept a child from being written.
type observed struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	hpa        *autoscalingv2.HorizontalPodAutoscaler
	// pods are the service's pods the operator reads, as the pod cache holds them (see
	// podcache.Pod), oldest first.
	pods []podcache.Pod
	// podsUnwatched is set when the manager runs without the pod watch (--watch-pods=false):
	// pods is empty because nobody read them, not because there are none.
	podsUnwatched bool
	// rollout is what the rollout policy decided (see planRollout).
	rollout rolloutPlan
	// scaledObject is KEDA's ScaledObject, and kedaHPA the HPA KEDA made from it.
	scaledObject *unstructured.Unstructured
	kedaHPA      *autoscalingv2.HorizontalPodAutoscaler

	// blocked is set when a child could not be written; its reason is one of
	// ReasonResourceConflict, ReasonWaitingForPreviousChildren or ReasonApplyFailed.
	blocked *blocker
}

type blocker struct {
	reason  string
	message string
	// stalled is true when retrying cannot help until someone changes something (a name
	// conflict, a child the API server refuses); false for errors worth retrying.
	stalled bool
}

// record keeps obj, a child read or written, for the status. A nil obj changes nothing.
func (o *observed) record(obj client.Object) {
	switch obj := obj.(type) {
	case *appsv1.Deployment:
		o.deployment = obj
	case *corev1.Service:
		o.service = obj
	case *autoscalingv2.HorizontalPodAutoscaler:
		o.hpa = obj
	case *unstructured.Unstructured:
		if obj.GroupVersionKind() == render.ScaledObjectGVK {
			o.scaledObject = obj
		}
	}
}

// forget drops the child of kind's kind, once deleted.
func (o *observed) forget(kind client.Object) {
	switch kind.(type) {
	case *appsv1.Deployment:
		o.deployment = nil
	case *corev1.Service:
		o.service = nil
	case *autoscalingv2.HorizontalPodAutoscaler:
		o.hpa = nil
	case *unstructured.Unstructured:
		if kind.GetObjectKind().GroupVersionKind() == render.ScaledObjectGVK {
			o.scaledObject = nil
		}
	}
}

// block records why a child could not be written, so that the Ready condition says it,
// and returns err. A name conflict and a child the API server refuses as invalid stall the
// service: retrying the same spec cannot help. A child of a deleted InferenceService of the
// same name is only waited for.
func (o *observed) block(err error) error {
	var previous *errPreviousChild
	switch conflict, isConflict := asConflict(err); {
	case errors.As(err, &errKEDAMissing{}):
		o.blocked = &blocker{reason: servingv1alpha1.ReasonKEDAMissing, message: err.Error(), stalled: true}
	case isConflict:
		o.blocked = &blocker{reason: servingv1alpha1.ReasonResourceConflict, message: conflict.Error(), stalled: true}
	case errors.As(err, &previous):
		o.blocked = &blocker{reason: servingv1alpha1.ReasonWaitingForPreviousChildren, message: previous.Error()}
	default:
		o.blocked = &blocker{reason: servingv1alpha1.ReasonApplyFailed, message: err.Error(), stalled: refused(err)}
	}
	return err
}

// refused tells whether the API server refused a child as it was built: invalid, or an
// apply it cannot even turn into an object (duplicate list keys, such as two volume
// mounts at one path, which admission cannot check within its CEL cost budget). Sending
// the same child again cannot help.
func refused(err error) bool {
	// The API server reports an apply it cannot turn into a typed object as an internal
	// error, recognisable only by its message.
	return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) ||
		(err != nil && strings.Contains(err.Error(), "failed to create typed patch object"))
}

func asConflict(err error) (*errConflict, bool) {
	var c *errConflict
	ok := errors.As(err, &c)
	return c, ok
}

// hpaConditionTypes are the HorizontalPodAutoscaler conditions copied onto the CR.
var hpaConditionTypes = []autoscalingv2.HorizontalPodAutoscalerConditionType{
	autoscalingv2.AbleToScale, autoscalingv2.ScalingActive, autoscalingv2.ScalingLimited,
}

// computeStatus recomputes the whole status from the spec and the live children. Only
// the conditions' transition times are carried over from the previous status, and the
// verdict on the rollout while the Deployment controller has not yet looked at a change
// it cannot tell apart from a scale (see setProgressingCondition).
func computeStatus(isvc *servingv1alpha1.InferenceService, obs observed, cfg render.Config) servingv1alpha1.InferenceServiceStatus {
	status := servingv1alpha1.InferenceServiceStatus{
		ObservedGeneration: isvc.Generation,
		Conditions:         append([]metav1.Condition(nil), isvc.Status.Conditions...),
		Selector:           labels.SelectorFromSet(render.SelectorLabels(isvc)).String(),
		URL:                render.URL(isvc, cfg),
		RenderRevision:     render.RevisionFor(isvc),
	}

	autoscaling := render.Autoscaling(isvc)
	if autoscaling != nil {
		status.MinReplicas = *autoscaling.MinReplicas
		status.MaxReplicas = autoscaling.MaxReplicas
	} else {
		status.MinReplicas = *isvc.Spec.Replicas
		status.MaxReplicas = *isvc.Spec.Replicas
		status.DesiredReplicas = *isvc.Spec.Replicas
	}

	if dep := obs.deployment; dep != nil {
		status.Replicas = dep.Status.Replicas
		status.ReadyReplicas = dep.Status.ReadyReplicas
		status.UpdatedReplicas = dep.Status.UpdatedReplicas
		status.AvailableReplicas = dep.Status.AvailableReplicas
		if autoscaling != nil {
			status.DesiredReplicas = ptr.Deref(dep.Spec.Replicas, 1)
		}
	}
	scaler := obs.hpa
	if render.UsesKEDA(isvc) && obs.kedaHPA != nil {
		scaler = obs.kedaHPA
	}
	if hpa := scaler; autoscaling != nil && hpa != nil {
		if hpa.Status.DesiredReplicas > 0 || hpa.Status.LastScaleTime != nil {
			status.DesiredReplicas = hpa.Status.DesiredReplicas
		}
		status.CurrentMetrics = hpa.Status.CurrentMetrics
		status.LastScaleTime = hpa.Status.LastScaleTime
	}
	if scaledToZero(isvc, obs.deployment) {
		// KEDA scales to and from zero itself; its HPA only works above zero.
		status.DesiredReplicas = 0
	}
	switch {
	case render.UsesKEDA(isvc):
		status.Targets = kedaTargets(isvc, obs.kedaHPA)
	case autoscaling != nil:
		status.Targets = formatTargets(autoscaling.Metrics, status.CurrentMetrics)
		status.Scaling = scalingStatus(isvc.Status, autoscaling.Metrics, obs.hpa)
	}
	status.ExternalURL = externalURL(obs.service)

	setAvailableCondition(&status, isvc, obs.deployment, autoscaling)
	setProgressingCondition(&status, isvc, obs.deployment)
	noteRolloutPlan(&status, isvc, obs.rollout)
	setHPAConditions(&status, isvc, autoscaling != nil, scaler)
	setScaledObjectConditions(&status, isvc, obs.scaledObject)
	setReadyCondition(&status, isvc, obs)
	setPausedCondition(&status, isvc, obs)
	if obs.podsUnwatched {
		// Nobody reads the pods: a PodsSchedulable written before would go stale.
		meta.RemoveStatusCondition(&status.Conditions, servingv1alpha1.ConditionPodsSchedulable)
	} else {
		setPodsSchedulableCondition(&status, isvc, obs.pods)
	}
	setStalledCondition(&status, isvc, obs.blocked)
	setReconcilingCondition(&status, isvc)
	return status
}

// minimumAvailable is the number of available pods below which the service counts as not
// serving. With a fixed count it is the Deployment's own minimum availability (its
// Available condition); while autoscaling it is minReplicas, or the current count when
// that is lower: pods an autoscaler adds are capacity on the way, and a scale-out is
// normal operation, not an outage.
func minimumAvailable(dep *appsv1.Deployment, autoscaling *servingv1alpha1.AutoscalingSpec) (int32, bool) {
	replicas := ptr.Deref(dep.Spec.Replicas, 1)
	if autoscaling == nil {
		c := deploymentCondition(dep, appsv1.DeploymentAvailable)
		return 0, c != nil && c.Status == corev1.ConditionTrue
	}
	need := max(min(*autoscaling.MinReplicas, replicas), 1)
	if *autoscaling.MinReplicas == 0 {
		// Scaled to zero, as minReplicas 0 (KEDA) allows, nothing is missing.
		need = min(1, replicas)
	}
	return need, dep.Status.AvailableReplicas >= need
}

func setAvailableCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, dep *appsv1.Deployment, autoscaling *servingv1alpha1.AutoscalingSpec) {
	cond := metav1.Condition{
		Type:               servingv1alpha1.ConditionAvailable,
		Status:             metav1.ConditionFalse,
		Reason:             servingv1alpha1.ReasonDeploymentPending,
		Message:            "The Deployment has not reported availability yet",
		ObservedGeneration: isvc.Generation,
	}
	if dep != nil && (dep.Status.ObservedGeneration > 0 || deploymentCondition(dep, appsv1.DeploymentAvailable) != nil) {
		need, ok := minimumAvailable(dep, autoscaling)
		cond.Reason = servingv1alpha1.ReasonMinimumReplicasUnavailable
		if ok {
			cond.Status = metav1.ConditionTrue
			cond.Reason = servingv1alpha1.ReasonMinimumReplicasAvailable
		}
		cond.Message = fmt.Sprintf("%d replicas available, %d desired", dep.Status.AvailableReplicas, ptr.Deref(dep.Spec.Replicas, 1))
		if autoscaling != nil {
			cond.Message += fmt.Sprintf("; at least %d needed to serve", need)
		}
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// setProgressingCondition reads the rollout of a new pod template the way "kubectl
// rollout status" does, step by step, and tells it apart from a scale, which is not a
// rollout:
//   - the Deployment controller reports a finished rollout with its Progressing reason
//     NewReplicaSetAvailable, which it sets only once every replica of the new template
//     is updated and available, and keeps through later scales;
//   - a new pod template makes it move off that reason at once (new ReplicaSet created or
//     found), so anything else, with old pods left or new ones not yet available, is a
//     rollout in progress;
//   - until the controller has seen the latest Deployment spec, a new template and a scale
//     look alike. If the InferenceService's spec changed since its last status, that is
//     taken as a rollout to come; otherwise (an autoscaler scaled the Deployment) the
//     previous verdict holds.
func setProgressingCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, dep *appsv1.Deployment) {
	cond := metav1.Condition{
		Type:               servingv1alpha1.ConditionProgressing,
		Status:             metav1.ConditionTrue,
		Reason:             servingv1alpha1.ReasonRolloutInProgress,
		ObservedGeneration: isvc.Generation,
	}
	previous := meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionProgressing)
	specUnchanged := isvc.Status.ObservedGeneration == isvc.Generation
	switch {
	case dep == nil:
		cond.Message = "Waiting for the Deployment to be created"
	case dep.Status.ObservedGeneration < dep.Generation && specUnchanged && previous != nil:
		cond.Status, cond.Reason, cond.Message = previous.Status, previous.Reason, previous.Message
	case dep.Status.ObservedGeneration < dep.Generation:
		// Checked before the deadline, as kubectl does: until its controller sees the new
		// spec, the Deployment still carries the verdict on the previous one.
		cond.Message = "Waiting for the Deployment controller to observe the latest spec"
	case rolloutStuck(dep):
		c := deploymentCondition(dep, appsv1.DeploymentProgressing)
		cond.Status = metav1.ConditionFalse
		cond.Reason = servingv1alpha1.ReasonProgressDeadlineExceeded
		cond.Message = c.Message
	case rolloutComplete(dep):
		cond.Reason = servingv1alpha1.ReasonRolloutComplete
		cond.Message = "Every replica runs the latest pod template"
	case dep.Status.UpdatedReplicas < ptr.Deref(dep.Spec.Replicas, 1):
		cond.Message = fmt.Sprintf("%d of %d replicas run the latest pod template",
			dep.Status.UpdatedReplicas, ptr.Deref(dep.Spec.Replicas, 1))
	case dep.Status.Replicas > dep.Status.UpdatedReplicas:
		cond.Message = fmt.Sprintf("%d old replicas are pending termination",
			dep.Status.Replicas-dep.Status.UpdatedReplicas)
	default:
		cond.Message = fmt.Sprintf("%d of %d updated replicas are available",
			dep.Status.AvailableReplicas, dep.Status.UpdatedReplicas)
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// setHPAConditions copies the autoscaler's own conditions while autoscaling is on, and
// removes them when it is off.
func setHPAConditions(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, enabled bool, hpa *autoscalingv2.HorizontalPodAutoscaler) {
	for _, t := range hpaConditionTypes {
		var found *autoscalingv2.HorizontalPodAutoscalerCondition
		if enabled && hpa != nil {
			for i := range hpa.Status.Conditions {
				if hpa.Status.Conditions[i].Type == t {
					found = &hpa.Status.Conditions[i]
				}
			}
		}
		if found == nil {
			meta.RemoveStatusCondition(&status.Conditions, string(t))
			continue
		}
		cond := metav1.Condition{
			Type:               string(t),
			Status:             metav1.ConditionStatus(found.Status),
			Reason:             found.Reason,
			Message:            found.Message,
			ObservedGeneration: isvc.Generation,
		}
		// The HPA's conditions are free-form; the CR's must have a status and a reason,
		// or the API server refuses the whole status write.
		if cond.Status != metav1.ConditionTrue && cond.Status != metav1.ConditionFalse {
			cond.Status = metav1.ConditionUnknown
		}
		if cond.Reason == "" {
			cond.Reason = servingv1alpha1.ReasonUnspecified
		}
		meta.SetStatusCondition(&status.Conditions, cond)
	}
}

// setReadyCondition sums the others up. Ready means "serving": True once the children
// are in place, the latest pod template is rolled out and at least the minimum of pods is
// available (see minimumAvailable). Autoscaling is normal operation: a scale-out or
// scale-in keeps Ready True, its reason and its lastTransitionTime.
func setReadyCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, obs observed) {
	cond := metav1.Condition{
		Type:               servingv1alpha1.ConditionReady,
		Status:             metav1.ConditionFalse,
		ObservedGeneration: isvc.Generation,
	}
	progressing := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionProgressing)
	available := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionAvailable)
	dep := obs.deployment
	failure := replicaFailure(dep)
	serving := progressing.Reason == servingv1alpha1.ReasonRolloutComplete && available.Status == metav1.ConditionTrue
	switch {
	case obs.blocked != nil:
		cond.Reason, cond.Message = obs.blocked.reason, obs.blocked.message
	case dep == nil:
		cond.Reason, cond.Message = servingv1alpha1.ReasonDeploymentPending, "Waiting for the Deployment to be created"
	case progressing.Reason == servingv1alpha1.ReasonProgressDeadlineExceeded:
		cond.Reason, cond.Message = progressing.Reason, progressing.Message
	case failure != nil && !serving:
		// Pods cannot be created (quota, Pod Security, a missing ServiceAccount): said at
		// once, in the ReplicaSet controller's words, rather than after the deadline.
		cond.Reason, cond.Message = servingv1alpha1.ReasonReplicaFailure, failure.Message
	case progressing.Reason != servingv1alpha1.ReasonRolloutComplete:
		cond.Reason, cond.Message = progressing.Reason, progressing.Message
	case isvc.Spec.Replicas != nil && *isvc.Spec.Replicas == 0:
		cond.Status = metav1.ConditionTrue
		cond.Reason, cond.Message = servingv1alpha1.ReasonScaledToZero, "Scaled to zero replicas, as spec.replicas asks"
	case scaledToZero(isvc, dep):
		cond.Status = metav1.ConditionTrue
		cond.Reason, cond.Message = servingv1alpha1.ReasonScaledToZero,
			"Scaled to zero replicas by KEDA (minReplicas 0); a trigger above its activation target brings the service back"
	case available.Status != metav1.ConditionTrue:
		cond.Reason, cond.Message = servingv1alpha1.ReasonReplicasNotReady, available.Message
	default:
		cond.Status = metav1.ConditionTrue
		cond.Reason = servingv1alpha1.ReasonReady
		cond.Message = fmt.Sprintf("Serving at %s from %d ready replicas", status.URL, dep.Status.ReadyReplicas)
		if failure != nil {
			cond.Message += "; more cannot be created: " + failure.Message
		}
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// setStalledCondition marks a service that cannot become Ready without a change: a stuck
// rollout or a child that cannot be applied. The condition is removed otherwise.
func setStalledCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, blocked *blocker) {
	cond := metav1.Condition{
		Type:               servingv1alpha1.ConditionStalled,
		Status:             metav1.ConditionTrue,
		ObservedGeneration: isvc.Generation,
	}
	progressing := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionProgressing)
	switch {
	case blocked != nil && blocked.stalled:
		cond.Reason, cond.Message = blocked.reason, blocked.message
	case progressing.Reason == servingv1alpha1.ReasonProgressDeadlineExceeded:
		cond.Reason, cond.Message = progressing.Reason, progressing.Message
	default:
		meta.RemoveStatusCondition(&status.Conditions, servingv1alpha1.ConditionStalled)
		return
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// setReconcilingCondition marks a service on its way to Ready, with Ready's reason. It is
// removed once Ready is True or the service is stalled.
func setReconcilingCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService) {
	ready := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady)
	if ready.Status == metav1.ConditionTrue || meta.IsStatusConditionTrue(status.Conditions, servingv1alpha1.ConditionStalled) {
		meta.RemoveStatusCondition(&status.Conditions, servingv1alpha1.ConditionReconciling)
		return
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type:               servingv1alpha1.ConditionReconciling,
		Status:             metav1.ConditionTrue,
		Reason:             ready.Reason,
		Message:            ready.Message,
		ObservedGeneration: isvc.Generation,
	})
}

// rolloutComplete tells whether the Deployment controller reported the latest rollout
// finished (every replica of the new template updated and available) and no pod of an
// older template is left.
func rolloutComplete(dep *appsv1.Deployment) bool {
	c := deploymentCondition(dep, appsv1.DeploymentProgressing)
	return c != nil && c.Status == corev1.ConditionTrue && c.Reason == "NewReplicaSetAvailable" &&
		dep.Status.Replicas <= dep.Status.UpdatedReplicas
}

// replicaFailure is the Deployment's ReplicaFailure condition when pods cannot be created.
func replicaFailure(dep *appsv1.Deployment) *appsv1.DeploymentCondition {
	if dep == nil {
		return nil
	}
	if c := deploymentCondition(dep, appsv1.DeploymentReplicaFailure); c != nil && c.Status == corev1.ConditionTrue {
		return c
	}
	return nil
}

func rolloutStuck(dep *appsv1.Deployment) bool {
	c := deploymentCondition(dep, appsv1.DeploymentProgressing)
	return c != nil && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded"
}

func deploymentCondition(dep *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range dep.Status.Conditions {
		if dep.Status.Conditions[i].Type == t {
			return &dep.Status.Conditions[i]
		}
	}
	return nil
}

// externalURL is the address of a LoadBalancer Service once the cloud has assigned one.
func externalURL(svc *corev1.Service) string {
	if svc == nil || svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Status.LoadBalancer.Ingress) == 0 {
		return ""
	}
	ingress := svc.Status.LoadBalancer.Ingress[0]
	host := ingress.IP
	if host == "" {
		host = ingress.Hostname
	}
	if host == "" || len(svc.Spec.Ports) == 0 {
		return ""
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(int(svc.Spec.Ports[0].Port)))
}
