package render

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// HorizontalPodAutoscaler builds the HPA that scales the Deployment, or returns nil when
// autoscaling is off (spec.replicas is set) or KEDA scales (engine KEDA: KEDA makes its
// own HPA). Metrics and behavior pass through unchanged.
//
// It carries validations.keda.sh/hpa-ownership "false", so that KEDA's admission webhook
// admits the ScaledObject of a switch to engine KEDA while this HPA still holds the
// Deployment: the operator deletes it only once KEDA's HPA is there.
func HorizontalPodAutoscaler(isvc *servingv1alpha1.InferenceService) *autoscalingv2.HorizontalPodAutoscaler {
	as := Autoscaling(isvc)
	if as == nil || as.Engine == servingv1alpha1.EngineKEDA {
		return nil
	}
	meta := objectMeta(isvc)
	meta.Annotations = map[string]string{AnnotationKEDAHPAOwnership: "false"}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: autoscalingv2.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: meta,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: "apps/v1",
				Kind:       deploymentKind,
				Name:       isvc.Name,
			},
			MinReplicas: ptr.To(*as.MinReplicas),
			MaxReplicas: as.MaxReplicas,
			Metrics:     as.Metrics,
			Behavior:    as.Behavior,
		},
	}
}
