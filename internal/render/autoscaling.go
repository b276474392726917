package render

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// Autoscaling returns the autoscaling settings in effect, with every default filled in
// (minReplicas is never nil),
// or nil when spec.replicas turns autoscaling off. When both replicas and autoscaling are
// left out, autoscaling is on with its defaults.
func Autoscaling(isvc *servingv1alpha1.InferenceService) *servingv1alpha1.AutoscalingSpec {
	if isvc.Spec.Replicas != nil {
		return nil
	}
	as := servingv1alpha1.AutoscalingSpec{}
	if isvc.Spec.Autoscaling != nil {
		as = *isvc.Spec.Autoscaling.DeepCopy()
	}
	if as.Engine == "" {
		as.Engine = servingv1alpha1.EngineHPA
	}
	// 0 is kept only where it can work: KEDA scales from zero, an HPA never does (and
	// admission refuses minReplicas 0 with engine HPA).
	if as.MinReplicas == nil || (*as.MinReplicas < 1 && as.Engine != servingv1alpha1.EngineKEDA) {
		as.MinReplicas = ptr.To(servingv1alpha1.DefaultMinReplicas)
	}
	if as.MaxReplicas < 1 {
		as.MaxReplicas = max(servingv1alpha1.DefaultMaxReplicas, *as.MinReplicas)
	}
	// With KEDA, signals and triggers are what to scale on: cpu is the default only
	// without them, as it is with the HPA.
	kedaTriggers := len(as.Signals) > 0 || (as.KEDA != nil && len(as.KEDA.Triggers) > 0)
	if len(as.Metrics) == 0 && (as.Engine != servingv1alpha1.EngineKEDA || !kedaTriggers) {
		as.Metrics = []autoscalingv2.MetricSpec{DefaultMetric()}
	}
	return &as
}

// DefaultMetric is the metric used when spec.autoscaling.metrics is empty: average CPU
// utilization of 50% of the request.
func DefaultMetric() autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name: "cpu",
			Target: autoscalingv2.MetricTarget{
				Type:               autoscalingv2.UtilizationMetricType,
				AverageUtilization: ptr.To(servingv1alpha1.DefaultCPUUtilization),
			},
		},
	}
}
