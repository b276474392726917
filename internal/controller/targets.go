package controller

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

const unknownValue = "<unknown>"

// formatTargets summarises the first metric as "name: current/target", the way
// "kubectl get hpa" shows its TARGETS column: "cpu: 30%/50%", "inference_queue_length: 30/10",
// "requests_per_second: 120/100 (avg)". More metrics add " + N more...".
func formatTargets(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return ""
	}
	summary := formatMetric(specs[0], findMetricStatus(specs[0], statuses))
	if len(specs) > 1 {
		summary += fmt.Sprintf(" + %d more...", len(specs)-1)
	}
	return summary
}

func formatMetric(spec autoscalingv2.MetricSpec, status *autoscalingv2.MetricStatus) string {
	switch spec.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource == nil {
			break
		}
		var current *autoscalingv2.MetricValueStatus
		if status != nil && status.Resource != nil {
			current = &status.Resource.Current
		}
		return string(spec.Resource.Name) + ": " + formatTarget(spec.Resource.Target, current)
	case autoscalingv2.ContainerResourceMetricSourceType:
		if spec.ContainerResource == nil {
			break
		}
		var current *autoscalingv2.MetricValueStatus
		if status != nil && status.ContainerResource != nil {
			current = &status.ContainerResource.Current
		}
		return string(spec.ContainerResource.Name) + " (" + spec.ContainerResource.Container + "): " +
			formatTarget(spec.ContainerResource.Target, current)
	case autoscalingv2.PodsMetricSourceType:
		if spec.Pods == nil {
			break
		}
		var current *autoscalingv2.MetricValueStatus
		if status != nil && status.Pods != nil {
			current = &status.Pods.Current
		}
		return spec.Pods.Metric.Name + ": " + formatTarget(spec.Pods.Target, current)
	case autoscalingv2.ObjectMetricSourceType:
		if spec.Object == nil {
			break
		}
		var current *autoscalingv2.MetricValueStatus
		if status != nil && status.Object != nil {
			current = &status.Object.Current
		}
		return spec.Object.Metric.Name + ": " + formatTarget(spec.Object.Target, current) + avgSuffix(spec.Object.Target)
	case autoscalingv2.ExternalMetricSourceType:
		if spec.External == nil {
			break
		}
		var current *autoscalingv2.MetricValueStatus
		if status != nil && status.External != nil {
			current = &status.External.Current
		}
		return spec.External.Metric.Name + ": " + formatTarget(spec.External.Target, current) + avgSuffix(spec.External.Target)
	}
	return string(spec.Type) + ": " + unknownValue
}

// formatTarget prints current/target in the unit of the target: a percentage for
// Utilization, a quantity for Value and AverageValue.
func formatTarget(target autoscalingv2.MetricTarget, current *autoscalingv2.MetricValueStatus) string {
	switch target.Type {
	case autoscalingv2.UtilizationMetricType:
		cur := unknownValue
		if current != nil && current.AverageUtilization != nil {
			cur = fmt.Sprintf("%d%%", *current.AverageUtilization)
		}
		tgt := "<auto>"
		if target.AverageUtilization != nil {
			tgt = fmt.Sprintf("%d%%", *target.AverageUtilization)
		}
		return cur + "/" + tgt
	case autoscalingv2.AverageValueMetricType:
		cur := unknownValue
		if current != nil {
			cur = quantityString(current.AverageValue)
		}
		return cur + "/" + quantityString(target.AverageValue)
	default:
		cur := unknownValue
		if current != nil {
			cur = quantityString(current.Value)
		}
		return cur + "/" + quantityString(target.Value)
	}
}

// avgSuffix marks an averaged target of a metric that is not per pod by nature.
func avgSuffix(target autoscalingv2.MetricTarget) string {
	if target.Type == autoscalingv2.AverageValueMetricType {
		return " (avg)"
	}
	return ""
}

func quantityString(q *resource.Quantity) string {
	if q == nil {
		return unknownValue
	}
	return q.String()
}

// findMetricStatus finds the HPA's current value of a metric by kind and name: the HPA
// lists only the metrics it could read, so positions in spec and status can differ.
func findMetricStatus(spec autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) *autoscalingv2.MetricStatus {
	for i := range statuses {
		s := &statuses[i]
		if s.Type != spec.Type {
			continue
		}
		switch {
		case spec.Resource != nil && s.Resource != nil && s.Resource.Name == spec.Resource.Name,
			spec.ContainerResource != nil && s.ContainerResource != nil &&
				s.ContainerResource.Name == spec.ContainerResource.Name &&
				s.ContainerResource.Container == spec.ContainerResource.Container,
			spec.Pods != nil && s.Pods != nil && s.Pods.Metric.Name == spec.Pods.Metric.Name,
			spec.Object != nil && s.Object != nil && s.Object.Metric.Name == spec.Object.Metric.Name,
			spec.External != nil && s.External != nil && s.External.Metric.Name == spec.External.Metric.Name:
			return s
		}
	}
	return nil
}
