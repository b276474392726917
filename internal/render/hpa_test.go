package render_test

import (
	"testing"

	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

func TestHorizontalPodAutoscaler(t *testing.T) {
	scaleTarget := autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "llm"}
	cpuAt50Percent := autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   "cpu",
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)},
		},
	}
	requestsPerSecond := autoscalingv2.MetricSpec{
		Type: autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "requests_per_second"},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("30"))},
		},
	}

	tests := []struct {
		name string
		opts func(*servingv1alpha1.InferenceService)
		want *autoscalingv2.HorizontalPodAutoscalerSpec // nil: no HPA
	}{
		{
			name: "spec.replicas turns autoscaling off",
			opts: withReplicas(3),
			want: nil,
		},
		{
			name: "spec.replicas 0 turns autoscaling off",
			opts: withReplicas(0),
			want: nil,
		},
		{
			name: "neither replicas nor autoscaling: 1 to 10 replicas on 50% CPU",
			opts: func(*servingv1alpha1.InferenceService) {},
			want: &autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: scaleTarget, MinReplicas: ptr.To[int32](1), MaxReplicas: 10,
				Metrics: []autoscalingv2.MetricSpec{cpuAt50Percent},
			},
		},
		{
			name: "empty autoscaling: the same defaults",
			opts: func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{}
			},
			want: &autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: scaleTarget, MinReplicas: ptr.To[int32](1), MaxReplicas: 10,
				Metrics: []autoscalingv2.MetricSpec{cpuAt50Percent},
			},
		},
		{
			name: "bounds without metrics keep the CPU default",
			opts: func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 4}
			},
			want: &autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: scaleTarget, MinReplicas: ptr.To[int32](2), MaxReplicas: 4,
				Metrics: []autoscalingv2.MetricSpec{cpuAt50Percent},
			},
		},
		{
			name: "custom metrics and behavior pass through unchanged",
			opts: func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{
					MinReplicas: ptr.To[int32](2),
					MaxReplicas: 8,
					Metrics:     []autoscalingv2.MetricSpec{queueLengthMetric(), requestsPerSecond},
					Behavior:    scaleDownSlowly(),
				}
			},
			want: &autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: scaleTarget, MinReplicas: ptr.To[int32](2), MaxReplicas: 8,
				Metrics:  []autoscalingv2.MetricSpec{queueLengthMetric(), requestsPerSecond},
				Behavior: scaleDownSlowly(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)

			hpa := render.HorizontalPodAutoscaler(newInferenceService(tt.opts))

			if tt.want == nil {
				g.Expect(hpa).To(BeNil())
				return
			}
			g.Expect(hpa).NotTo(BeNil())
			g.Expect(hpa.Spec).To(Equal(*tt.want))
		})
	}
}
