package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

func kedaISVC(signals ...servingv1alpha1.AutoscalingSignal) *servingv1alpha1.InferenceService {
	return &servingv1alpha1.InferenceService{
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "ml", Generation: 2},
		Spec: servingv1alpha1.InferenceServiceSpec{Autoscaling: &servingv1alpha1.AutoscalingSpec{
			Engine: servingv1alpha1.EngineKEDA, MinReplicas: ptr.To[int32](0), MaxReplicas: 5, Signals: signals}},
	}
}

func externalHPA(current *resource.Quantity, names ...string) *autoscalingv2.HorizontalPodAutoscaler {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	for _, n := range names {
		hpa.Spec.Metrics = append(hpa.Spec.Metrics, autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType,
			External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: n},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("5"))}}})
	}
	if current != nil {
		hpa.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ExternalMetricSourceType,
			External: &autoscalingv2.ExternalMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: names[0]},
				Current: autoscalingv2.MetricValueStatus{AverageValue: current}}}}
	}
	return hpa
}

func TestKEDATargets(t *testing.T) {
	queue := servingv1alpha1.AutoscalingSignal{Type: servingv1alpha1.SignalQueueDepth, Server: servingv1alpha1.ServerVLLM, Target: intstr.FromInt32(5)}
	p95 := servingv1alpha1.AutoscalingSignal{Type: servingv1alpha1.SignalLatency, Server: servingv1alpha1.ServerVLLM, Target: intstr.FromString("1"), Quantile: ptr.To(0.95)}
	tests := []struct {
		name string
		isvc *servingv1alpha1.InferenceService
		hpa  *autoscalingv2.HorizontalPodAutoscaler
		want string
	}{
		{"no HPA yet", kedaISVC(queue), nil, ""},
		{"a queue signal", kedaISVC(queue), externalHPA(ptr.To(resource.MustParse("12")), "s0-prometheus"), "queue_depth: 12/5"},
		{"not read yet", kedaISVC(queue), externalHPA(nil, "s0-prometheus"), "queue_depth: <unknown>/5"},
		{"two signals", kedaISVC(p95, queue), externalHPA(ptr.To(resource.MustParse("1500m")), "s0-prometheus", "s1-prometheus"), "latency_p95: 1500m/5 + 1 more..."},
		{"a name KEDA did not number", kedaISVC(queue), externalHPA(ptr.To(resource.MustParse("3")), "custom-name"), "custom-name: 3/5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(kedaTargets(tt.isvc, tt.hpa)).To(Equal(tt.want))
		})
	}
}

func TestScaledObjectConditions(t *testing.T) {
	g := NewWithT(t)
	so := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"conditions": []any{
		map[string]any{"type": "Ready", "status": "False", "reason": "ScaledObjectCheckFailed", "message": "no scaler"},
		// KEDA initialises its conditions Unknown without a reason.
		map[string]any{"type": "Active", "status": "Unknown"},
		map[string]any{"type": "Fallback", "status": "True", "reason": "FallbackExists", "message": "At least one trigger is falling back"},
	}}}}
	status := servingv1alpha1.InferenceServiceStatus{}
	setScaledObjectConditions(&status, kedaISVC(), so)
	ready := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionScaledObjectReady)
	g.Expect(ready).To(HaveField("Status", metav1.ConditionFalse))
	g.Expect(ready).To(HaveField("Reason", "ScaledObjectCheckFailed"))
	g.Expect(ready).To(HaveField("ObservedGeneration", int64(2)))
	active := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionScaledObjectActive)
	g.Expect(active).To(HaveField("Reason", servingv1alpha1.ReasonUnspecified), "the CR's schema needs a reason")
	g.Expect(active).To(HaveField("Message", ""))
	g.Expect(meta.IsStatusConditionTrue(status.Conditions, servingv1alpha1.ConditionScaledObjectFallback)).To(BeTrue())
	g.Expect(meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionScaledObjectPaused)).To(BeNil())

	hpaEngine := kedaISVC()
	hpaEngine.Spec.Autoscaling.Engine = servingv1alpha1.EngineHPA
	setScaledObjectConditions(&status, hpaEngine, so)
	g.Expect(status.Conditions).To(BeEmpty(), "removed with engine HPA")
}
