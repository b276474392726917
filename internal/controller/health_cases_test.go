package controller

import (
	"encoding/json"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// Argo CD health statuses (github.com/argoproj/gitops-engine/pkg/health) the shipped health
// check returns.
const (
	argoHealthy     = "Healthy"
	argoProgressing = "Progressing"
	argoDegraded    = "Degraded"
)

// argoHealthFor is the Argo CD health that must go with each kstatus result, so that Flux
// and Argo CD tell a user the same thing about the same InferenceService.
var argoHealthFor = map[kstatus.Status]string{
	kstatus.CurrentStatus:     argoHealthy,
	kstatus.InProgressStatus:  argoProgressing,
	kstatus.FailedStatus:      argoDegraded,
	kstatus.TerminatingStatus: argoProgressing,
}

// healthCase is an InferenceService as a GitOps tool reads it from the API server, with the
// health kstatus and the Argo CD health check must give it.
type healthCase struct {
	name        string
	obj         *unstructured.Unstructured
	wantKstatus kstatus.Status
	wantArgo    string
}

// healthCases builds InferenceServices whose status is what computeStatus makes of the
// children a reconcile found, in the situations a user meets: serving, rolling out, being
// created, just edited, stuck, and blocked by a name conflict or an invalid child.
func healthCases(t *testing.T) []healthCase {
	t.Helper()
	ready := observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpaFixture()}
	metricUnavailable := hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) {
		h.Status.Conditions[1] = autoscalingv2.HorizontalPodAutoscalerCondition{
			Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetPodsMetric",
			Message: "the HPA was unable to compute the replica count: unable to get metric inference_queue_length: " +
				"no metrics returned from custom metrics API",
		}
	})
	invalidDeployment := apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "llm", field.ErrorList{
		field.Invalid(field.NewPath("spec", "template", "spec", "containers").Index(0).Child("image"), " ", "must not have leading or trailing whitespace"),
	})

	return []healthCase{
		{
			name:        "ready",
			obj:         servedObject(t, reconciled(ready)),
			wantKstatus: kstatus.CurrentStatus, wantArgo: argoHealthy,
		},
		{
			name:        "ready while the HPA cannot read its metric (ScalingActive=False)",
			obj:         servedObject(t, reconciled(observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: metricUnavailable})),
			wantKstatus: kstatus.CurrentStatus, wantArgo: argoHealthy,
		},
		{
			name: "ready during a scale-out",
			obj: servedObject(t, reconciled(observed{service: serviceFixture(), hpa: hpaFixture(), deployment: deploymentFixture(func(d *appsv1.Deployment) {
				d.Spec.Replicas = ptr.To[int32](5)
				d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 5, 5, 3, 3
			})})),
			wantKstatus: kstatus.CurrentStatus, wantArgo: argoHealthy,
		},
		{
			name: "scaled to zero, as asked",
			obj: servedObject(t, reconciled(observed{service: serviceFixture(), deployment: deploymentFixture(func(d *appsv1.Deployment) {
				d.Spec.Replicas = ptr.To[int32](0)
				d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0, 0, 0
			})}, withFixedReplicas(0))),
			wantKstatus: kstatus.CurrentStatus, wantArgo: argoHealthy,
		},
		{
			name: "rollout in progress",
			obj: servedObject(t, reconciled(observed{service: serviceFixture(), hpa: hpaFixture(), deployment: deploymentFixture(func(d *appsv1.Deployment) {
				d.Status.Replicas, d.Status.UpdatedReplicas = 4, 1
			})})),
			wantKstatus: kstatus.InProgressStatus, wantArgo: argoProgressing,
		},
		{
			name: "rollout started, the Deployment controller has not seen it yet",
			obj: servedObject(t, reconciled(observed{service: serviceFixture(), hpa: hpaFixture(), deployment: deploymentFixture(func(d *appsv1.Deployment) {
				d.Generation = d.Status.ObservedGeneration + 1
			})})),
			wantKstatus: kstatus.InProgressStatus, wantArgo: argoProgressing,
		},
		{
			name: "Deployment just created, no status yet",
			obj: servedObject(t, reconciled(observed{service: serviceFixture(), hpa: hpaFixture(), deployment: deploymentFixture(func(d *appsv1.Deployment) {
				d.Generation = 1
				d.Status = appsv1.DeploymentStatus{}
			})}, func(i *servingv1alpha1.InferenceService) { i.Generation = 1 })),
			wantKstatus: kstatus.InProgressStatus, wantArgo: argoProgressing,
		},
		{
			name:        "Deployment not created yet: the API server timed out, retrying",
			obj:         servedObject(t, reconciled(blockedBy(observed{}, fmt.Errorf("applying Deployment ml/llm: %w", apierrors.NewTimeoutError("request did not complete", 1))))),
			wantKstatus: kstatus.InProgressStatus, wantArgo: argoProgressing,
		},
		{
			name: "pods starting, none ready yet",
			obj: servedObject(t, reconciled(observed{service: serviceFixture(), hpa: hpaFixture(), deployment: deploymentFixture(func(d *appsv1.Deployment) {
				d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0
				failDeploymentCondition(d, appsv1.DeploymentAvailable, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
			})})),
			wantKstatus: kstatus.InProgressStatus, wantArgo: argoProgressing,
		},
		{
			// The status still describes generation 4, Ready: it must not be taken for the
			// health of the new spec.
			name:        "spec just changed: observedGeneration lags behind metadata.generation",
			obj:         servedObject(t, specChanged(reconciled(ready))),
			wantKstatus: kstatus.InProgressStatus, wantArgo: argoProgressing,
		},
		{
			// The status still says Stalled for the previous spec; the new one may fix it.
			name:        "spec changed after a stuck rollout",
			obj:         servedObject(t, specChanged(reconciled(observed{deployment: stuckDeployment(), service: serviceFixture(), hpa: hpaFixture()}))),
			wantKstatus: kstatus.InProgressStatus, wantArgo: argoProgressing,
		},
		{
			name:        "rollout stuck: ProgressDeadlineExceeded",
			obj:         servedObject(t, reconciled(observed{deployment: stuckDeployment(), service: serviceFixture(), hpa: hpaFixture()})),
			wantKstatus: kstatus.FailedStatus, wantArgo: argoDegraded,
		},
		{
			// reconcileChildren applies the Deployment first, then finds the Service's name taken.
			name:        "name conflict: a Service of that name belongs to someone else",
			obj:         servedObject(t, reconciled(blockedBy(observed{deployment: deploymentFixture()}, &errConflict{kind: "Service", name: "llm"}))),
			wantKstatus: kstatus.FailedStatus, wantArgo: argoDegraded,
		},
		{
			name:        "invalid child: the API server refuses the Deployment",
			obj:         servedObject(t, reconciled(blockedBy(observed{}, fmt.Errorf("applying Deployment ml/llm: %w", invalidDeployment)))),
			wantKstatus: kstatus.FailedStatus, wantArgo: argoDegraded,
		},
		{
			name: "being deleted",
			obj: servedObject(t, reconciled(ready, func(i *servingv1alpha1.InferenceService) {
				i.DeletionTimestamp = &anHourAgo
				i.Finalizers = []string{"foregroundDeletion"}
			})),
			wantKstatus: kstatus.TerminatingStatus, wantArgo: argoProgressing,
		},
	}
}

// reconciled returns the InferenceService llm (isvcFixture, changed by opts) with the status
// the reconciler writes after observing obs.
func reconciled(obs observed, opts ...func(*servingv1alpha1.InferenceService)) *servingv1alpha1.InferenceService {
	isvc := isvcFixture(opts...)
	isvc.Status = computeStatus(isvc, obs, render.Config{})
	return isvc
}

// specChanged is isvc right after a user changed its spec: the API server raised
// metadata.generation, the operator has not written a status for it yet.
func specChanged(isvc *servingv1alpha1.InferenceService) *servingv1alpha1.InferenceService {
	isvc.Generation++
	return isvc
}

// blockedBy records err the way the reconciler does when it cannot apply a child.
func blockedBy(obs observed, err error) observed {
	_ = obs.block(err)
	return obs
}

// servedObject is isvc as a GitOps tool receives it from the API server: JSON decoded into
// an unstructured object, numbers as int64, times as RFC 3339 strings.
func servedObject(t *testing.T, isvc *servingv1alpha1.InferenceService) *unstructured.Unstructured {
	t.Helper()
	isvc.TypeMeta = metav1.TypeMeta{APIVersion: servingv1alpha1.GroupVersion.String(), Kind: "InferenceService"}
	data, err := json.Marshal(isvc)
	if err != nil {
		t.Fatalf("encoding InferenceService: %v", err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		t.Fatalf("decoding InferenceService: %v", err)
	}
	return obj
}
