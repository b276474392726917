package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// formatTargets fills the TARGETS column of "kubectl get infsvc", which should read like
// the one of "kubectl get hpa".
func TestFormatTargets(t *testing.T) {
	tests := []struct {
		name     string
		specs    []autoscalingv2.MetricSpec
		statuses []autoscalingv2.MetricStatus
		want     string
	}{
		{
			name:     "Resource utilization",
			specs:    metricSpecs(resourceSpec("cpu", utilizationTarget(50))),
			statuses: metricStatuses(resourceStatus("cpu", utilizationCurrent(30))),
			want:     "cpu: 30%/50%",
		},
		{
			name:  "Resource utilization not read yet",
			specs: metricSpecs(resourceSpec("cpu", utilizationTarget(50))),
			want:  "cpu: <unknown>/50%",
		},
		{
			name:     "Resource average value",
			specs:    metricSpecs(resourceSpec("memory", averageValueTarget("1Gi"))),
			statuses: metricStatuses(resourceStatus("memory", averageValueCurrent("900Mi"))),
			want:     "memory: 900Mi/1Gi",
		},
		{
			name:     "Pods",
			specs:    metricSpecs(podsSpec("inference_queue_length", averageValueTarget("10"))),
			statuses: metricStatuses(podsStatus("inference_queue_length", averageValueCurrent("30"))),
			want:     "inference_queue_length: 30/10",
		},
		{
			name:     "External value",
			specs:    metricSpecs(externalSpec("queue_depth", valueTarget("100"))),
			statuses: metricStatuses(externalStatus("queue_depth", valueCurrent("120"))),
			want:     "queue_depth: 120/100",
		},
		{
			name:     "External average value",
			specs:    metricSpecs(externalSpec("requests_per_second", averageValueTarget("10"))),
			statuses: metricStatuses(externalStatus("requests_per_second", averageValueCurrent("30"))),
			want:     "requests_per_second: 30/10 (avg)",
		},
		{
			name:     "Object value",
			specs:    metricSpecs(objectSpec("requests_per_second", valueTarget("2k"))),
			statuses: metricStatuses(objectStatus("requests_per_second", valueCurrent("1500"))),
			want:     "requests_per_second: 1500/2k",
		},
		{
			name:     "Object average value",
			specs:    metricSpecs(objectSpec("requests_per_second", averageValueTarget("100"))),
			statuses: metricStatuses(objectStatus("requests_per_second", averageValueCurrent("80"))),
			want:     "requests_per_second: 80/100 (avg)",
		},
		{
			name:     "ContainerResource",
			specs:    metricSpecs(containerResourceSpec("cpu", "inference-server", utilizationTarget(60))),
			statuses: metricStatuses(containerResourceStatus("cpu", "inference-server", utilizationCurrent(45))),
			want:     "cpu (inference-server): 45%/60%",
		},
		{
			name:     "ContainerResource of another container is not this metric",
			specs:    metricSpecs(containerResourceSpec("cpu", "inference-server", utilizationTarget(60))),
			statuses: metricStatuses(containerResourceStatus("cpu", "sidecar", utilizationCurrent(5))),
			want:     "cpu (inference-server): <unknown>/60%",
		},
		{
			name: "status listed in another order than spec is matched by name",
			specs: metricSpecs(
				podsSpec("inference_queue_length", averageValueTarget("10")),
				resourceSpec("cpu", utilizationTarget(50)),
			),
			statuses: metricStatuses(
				resourceStatus("cpu", utilizationCurrent(30)),
				podsStatus("inference_queue_length", averageValueCurrent("30")),
			),
			want: "inference_queue_length: 30/10 + 1 more...",
		},
		{
			name:     "a metric of the same kind with another name is not this metric",
			specs:    metricSpecs(externalSpec("queue_depth", valueTarget("100"))),
			statuses: metricStatuses(externalStatus("requests_per_second", valueCurrent("500"))),
			want:     "queue_depth: <unknown>/100",
		},
		{
			name: "more metrics are counted",
			specs: metricSpecs(
				resourceSpec("cpu", utilizationTarget(50)),
				resourceSpec("memory", averageValueTarget("1Gi")),
				podsSpec("time_to_first_token_seconds", averageValueTarget("500m")),
			),
			statuses: metricStatuses(resourceStatus("cpu", utilizationCurrent(30))),
			want:     "cpu: 30%/50% + 2 more...",
		},
		{
			name: "no metrics",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(formatTargets(tt.specs, tt.statuses)).To(Equal(tt.want))
		})
	}
}

func metricSpecs(s ...autoscalingv2.MetricSpec) []autoscalingv2.MetricSpec        { return s }
func metricStatuses(s ...autoscalingv2.MetricStatus) []autoscalingv2.MetricStatus { return s }

func utilizationTarget(percent int32) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(percent)}
}

func averageValueTarget(q string) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse(q))}
}

func valueTarget(q string) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr.To(resource.MustParse(q))}
}

func utilizationCurrent(percent int32) autoscalingv2.MetricValueStatus {
	return autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To(percent)}
}

func averageValueCurrent(q string) autoscalingv2.MetricValueStatus {
	return autoscalingv2.MetricValueStatus{AverageValue: ptr.To(resource.MustParse(q))}
}

func valueCurrent(q string) autoscalingv2.MetricValueStatus {
	return autoscalingv2.MetricValueStatus{Value: ptr.To(resource.MustParse(q))}
}

func resourceSpec(name corev1.ResourceName, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type:     autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{Name: name, Target: target},
	}
}

func resourceStatus(name corev1.ResourceName, current autoscalingv2.MetricValueStatus) autoscalingv2.MetricStatus {
	return autoscalingv2.MetricStatus{
		Type:     autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricStatus{Name: name, Current: current},
	}
}

func containerResourceSpec(name corev1.ResourceName, container string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type:              autoscalingv2.ContainerResourceMetricSourceType,
		ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: name, Container: container, Target: target},
	}
}

func containerResourceStatus(name corev1.ResourceName, container string, current autoscalingv2.MetricValueStatus) autoscalingv2.MetricStatus {
	return autoscalingv2.MetricStatus{
		Type:              autoscalingv2.ContainerResourceMetricSourceType,
		ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: name, Container: container, Current: current},
	}
}

func podsSpec(metric string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.PodsMetricSourceType,
		Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: metric}, Target: target},
	}
}

func podsStatus(metric string, current autoscalingv2.MetricValueStatus) autoscalingv2.MetricStatus {
	return autoscalingv2.MetricStatus{
		Type: autoscalingv2.PodsMetricSourceType,
		Pods: &autoscalingv2.PodsMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: metric}, Current: current},
	}
}

func externalSpec(metric string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type:     autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: metric}, Target: target},
	}
}

func externalStatus(metric string, current autoscalingv2.MetricValueStatus) autoscalingv2.MetricStatus {
	return autoscalingv2.MetricStatus{
		Type:     autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: metric}, Current: current},
	}
}

var ingressObject = autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "llm"}

func objectSpec(metric string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ObjectMetricSourceType,
		Object: &autoscalingv2.ObjectMetricSource{
			DescribedObject: ingressObject, Metric: autoscalingv2.MetricIdentifier{Name: metric}, Target: target,
		},
	}
}

func objectStatus(metric string, current autoscalingv2.MetricValueStatus) autoscalingv2.MetricStatus {
	return autoscalingv2.MetricStatus{
		Type: autoscalingv2.ObjectMetricSourceType,
		Object: &autoscalingv2.ObjectMetricStatus{
			DescribedObject: ingressObject, Metric: autoscalingv2.MetricIdentifier{Name: metric}, Current: current,
		},
	}
}
