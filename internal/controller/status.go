package controller

import (
	"fmt"
	"net"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// observed is what a reconcile found and did: the live children after apply, and the
// problem, if any, that kept a child from being applied.
type observed struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	hpa        *autoscalingv2.HorizontalPodAutoscaler

	// blocked is set when a child could not be applied; its reason is one of
	// ReasonResourceConflict or ReasonApplyFailed.
	blocked *blocker
}

type blocker struct {
	reason  string
	message string
	// stalled is true when retrying cannot help until someone changes something (a name
	// conflict, a child the API server refuses); false for errors worth retrying.
	stalled bool
}

// hpaConditionTypes are the HorizontalPodAutoscaler conditions copied onto the CR.
var hpaConditionTypes = []autoscalingv2.HorizontalPodAutoscalerConditionType{
	autoscalingv2.AbleToScale, autoscalingv2.ScalingActive, autoscalingv2.ScalingLimited,
}

// computeStatus recomputes the whole status from the spec and the live children. Only
// the conditions' transition times are carried over from the previous status.
func computeStatus(isvc *servingv1alpha1.InferenceService, obs observed) servingv1alpha1.InferenceServiceStatus {
	status := servingv1alpha1.InferenceServiceStatus{
		ObservedGeneration: isvc.Generation,
		Conditions:         append([]metav1.Condition(nil), isvc.Status.Conditions...),
		Selector:           labels.SelectorFromSet(render.SelectorLabels(isvc)).String(),
		URL:                render.URL(isvc),
	}

	autoscaling := render.Autoscaling(isvc)
	if autoscaling != nil {
		status.MinReplicas = autoscaling.MinReplicas
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
	if hpa := obs.hpa; autoscaling != nil && hpa != nil {
		if hpa.Status.DesiredReplicas > 0 || hpa.Status.LastScaleTime != nil {
			status.DesiredReplicas = hpa.Status.DesiredReplicas
		}
		status.CurrentMetrics = hpa.Status.CurrentMetrics
		status.LastScaleTime = hpa.Status.LastScaleTime
	}
	if autoscaling != nil {
		status.Targets = formatTargets(autoscaling.Metrics, status.CurrentMetrics)
	}
	status.ExternalURL = externalURL(obs.service)

	setAvailableCondition(&status, isvc, obs.deployment)
	setProgressingCondition(&status, isvc, obs.deployment)
	setHPAConditions(&status, isvc, autoscaling != nil, obs.hpa)
	setReadyCondition(&status, isvc, obs)
	setStalledCondition(&status, isvc, obs.blocked)
	setReconcilingCondition(&status, isvc)
	return status
}

func setAvailableCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, dep *appsv1.Deployment) {
	cond := metav1.Condition{
		Type:               servingv1alpha1.ConditionAvailable,
		Status:             metav1.ConditionFalse,
		Reason:             servingv1alpha1.ReasonDeploymentPending,
		Message:            "The Deployment has not reported availability yet",
		ObservedGeneration: isvc.Generation,
	}
	if dep != nil {
		if c := deploymentCondition(dep, appsv1.DeploymentAvailable); c != nil {
			cond.Status = metav1.ConditionStatus(c.Status)
			cond.Reason = servingv1alpha1.ReasonMinimumReplicasUnavailable
			if c.Status == corev1.ConditionTrue {
				cond.Reason = servingv1alpha1.ReasonMinimumReplicasAvailable
			}
			cond.Message = fmt.Sprintf("%d of %d replicas available", dep.Status.AvailableReplicas, ptr.Deref(dep.Spec.Replicas, 1))
		}
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// setProgressingCondition reads the rollout like "kubectl rollout status": in progress
// until the Deployment controller has seen the latest spec, every pod runs the latest
// template and no old pod is left; stuck when the Deployment's progress deadline passed.
func setProgressingCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, dep *appsv1.Deployment) {
	cond := metav1.Condition{
		Type:               servingv1alpha1.ConditionProgressing,
		Status:             metav1.ConditionTrue,
		Reason:             servingv1alpha1.ReasonRolloutInProgress,
		ObservedGeneration: isvc.Generation,
	}
	switch {
	case dep == nil:
		cond.Message = "Waiting for the Deployment to be created"
	case dep.Status.ObservedGeneration < dep.Generation:
		// Checked before the deadline, as kubectl does: until its controller sees the new
		// spec, the Deployment still carries the verdict on the previous one.
		cond.Message = "Waiting for the Deployment controller to observe the latest spec"
	case rolloutStuck(dep):
		c := deploymentCondition(dep, appsv1.DeploymentProgressing)
		cond.Status = metav1.ConditionFalse
		cond.Reason = servingv1alpha1.ReasonProgressDeadlineExceeded
		cond.Message = c.Message
	case dep.Status.UpdatedReplicas < ptr.Deref(dep.Spec.Replicas, 1):
		cond.Message = fmt.Sprintf("%d of %d replicas run the latest pod template",
			dep.Status.UpdatedReplicas, ptr.Deref(dep.Spec.Replicas, 1))
	case dep.Status.Replicas > dep.Status.UpdatedReplicas:
		cond.Message = fmt.Sprintf("%d old replicas are pending termination",
			dep.Status.Replicas-dep.Status.UpdatedReplicas)
	default:
		cond.Reason = servingv1alpha1.ReasonRolloutComplete
		cond.Message = "Every replica runs the latest pod template"
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
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{
			Type:               string(t),
			Status:             metav1.ConditionStatus(found.Status),
			Reason:             found.Reason,
			Message:            found.Message,
			ObservedGeneration: isvc.Generation,
		})
	}
}

// setReadyCondition sums the others up. Ready is True when every child is in place, the
// rollout is complete and the Deployment is available. A scale-out in progress keeps
// Ready True: the service already serves from its available replicas.
func setReadyCondition(status *servingv1alpha1.InferenceServiceStatus, isvc *servingv1alpha1.InferenceService, obs observed) {
	cond := metav1.Condition{
		Type:               servingv1alpha1.ConditionReady,
		Status:             metav1.ConditionFalse,
		ObservedGeneration: isvc.Generation,
	}
	progressing := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionProgressing)
	available := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionAvailable)
	dep := obs.deployment
	switch {
	case obs.blocked != nil:
		cond.Reason, cond.Message = obs.blocked.reason, obs.blocked.message
	case dep == nil:
		cond.Reason, cond.Message = servingv1alpha1.ReasonDeploymentPending, "Waiting for the Deployment to be created"
	case progressing.Reason != servingv1alpha1.ReasonRolloutComplete:
		cond.Reason, cond.Message = progressing.Reason, progressing.Message
	case ptr.Deref(dep.Spec.Replicas, 1) == 0:
		cond.Status = metav1.ConditionTrue
		cond.Reason, cond.Message = servingv1alpha1.ReasonScaledToZero, "Scaled to zero replicas, as asked"
	case available.Status != metav1.ConditionTrue || dep.Status.ReadyReplicas == 0:
		cond.Reason = servingv1alpha1.ReasonReplicasNotReady
		cond.Message = fmt.Sprintf("%d of %d replicas ready", dep.Status.ReadyReplicas, ptr.Deref(dep.Spec.Replicas, 1))
	default:
		cond.Status = metav1.ConditionTrue
		cond.Reason = servingv1alpha1.ReasonReady
		cond.Message = fmt.Sprintf("%d of %d replicas ready; serving at %s", dep.Status.ReadyReplicas, ptr.Deref(dep.Spec.Replicas, 1), status.URL)
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
