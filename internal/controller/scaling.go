package controller

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// Scale event reasons.
const (
	scaleUp   = "ScaleUp"
	scaleDown = "ScaleDown"
)

// scalingStatus computes status.scaling from the HorizontalPodAutoscaler's status and the
// previous status: the limiting metric now, and the previous events plus one when the
// autoscaler changed its desired count since the previous status (a newer lastScaleTime
// and another count). It reads only what the reconciler already has; no Event is listed.
//
// A scale the operator did not see (two changes between two reconciles, or changes while
// it was not running) is recorded as one event from the count it saw last.
func scalingStatus(previous servingv1alpha1.InferenceServiceStatus, specs []autoscalingv2.MetricSpec, hpa *autoscalingv2.HorizontalPodAutoscaler) *servingv1alpha1.ScalingStatus {
	scaling := &servingv1alpha1.ScalingStatus{}
	if previous.Scaling != nil {
		scaling.Events = append([]servingv1alpha1.ScaleEvent(nil), previous.Scaling.Events...)
	}
	var statuses []autoscalingv2.MetricStatus
	if hpa != nil {
		statuses = hpa.Status.CurrentMetrics
	}
	spec, ratio, ok := limitingMetric(specs, statuses)
	if ok {
		scaling.LimitingMetric = formatMetric(spec, findMetricStatus(spec, statuses))
		scaling.LimitingRatio = fmt.Sprintf("%.2f", ratio)
	}

	if from, to, ok := scaled(previous, hpa); ok {
		reason := scaleUp
		if to < from {
			reason = scaleDown
		}
		if words := hpaWords(hpa); words != "" {
			reason += ": " + words
		}
		scaling.Events = append(scaling.Events, servingv1alpha1.ScaleEvent{
			Time:   *hpa.Status.LastScaleTime.DeepCopy(),
			From:   from,
			To:     to,
			Reason: truncate(reason, 1024),
			Metric: truncate(scaling.LimitingMetric, 256),
		})
		if n := len(scaling.Events); n > servingv1alpha1.MaxScaleEvents {
			scaling.Events = scaling.Events[n-servingv1alpha1.MaxScaleEvents:]
		}
	}
	if n := len(scaling.Events); n > 0 {
		last := scaling.Events[n-1]
		scaling.LastScale = fmt.Sprintf("%d -> %d", last.From, last.To)
		if last.Metric != "" {
			scaling.LastScale += " (" + last.Metric + ")"
		}
	}
	if scaling.LimitingMetric == "" && len(scaling.Events) == 0 {
		return nil
	}
	return scaling
}

// scaled tells whether the autoscaler changed its desired count after the previous
// status (a lastScaleTime newer than the one recorded), and from what to what. A status
// never written before (observedGeneration 0) has nothing to compare with.
//
// The count before the scale is the HPA's own currentReplicas: the status the HPA
// controller writes with a rescale holds the count it read before it (and the new desired
// count). Not the previous status's desiredReplicas: the HPA scales the Deployment before
// it writes its status, so a reconcile in between may already have recorded the new
// count from the Deployment (an HPA that had no metrics before reports no desired count).
// When this status is not the rescale's own (the HPA synced again before the operator
// read it), currentReplicas is the new count too, and the previous status's count is
// the best one left.
func scaled(previous servingv1alpha1.InferenceServiceStatus, hpa *autoscalingv2.HorizontalPodAutoscaler) (from, to int32, ok bool) {
	if hpa == nil {
		return 0, 0, false
	}
	at := hpa.Status.LastScaleTime
	switch {
	case at == nil || previous.ObservedGeneration == 0:
		return 0, 0, false
	case previous.LastScaleTime != nil && !previous.LastScaleTime.Before(at):
		return 0, 0, false
	case previous.Scaling != nil && len(previous.Scaling.Events) > 0 &&
		previous.Scaling.Events[len(previous.Scaling.Events)-1].Time.Equal(at):
		return 0, 0, false
	}
	from, to = hpa.Status.CurrentReplicas, hpa.Status.DesiredReplicas
	if from == to {
		from = previous.DesiredReplicas
	}
	return from, to, from != to
}

// hpaWords are the autoscaler's own words on its last decision: its AbleToScale message
// when it rescaled, and its ScalingLimited message when a bound held the count.
func hpaWords(hpa *autoscalingv2.HorizontalPodAutoscaler) string {
	var words []string
	for _, c := range hpa.Status.Conditions {
		switch {
		case c.Type == autoscalingv2.AbleToScale && c.Reason == "SucceededRescale" && c.Message != "":
			words = append(words, c.Message)
		case c.Type == autoscalingv2.ScalingLimited && c.Status == corev1.ConditionTrue && c.Message != "":
			words = append(words, c.Message)
		}
	}
	return strings.Join(words, "; ")
}

// limitingMetric returns the metric with the highest current/target ratio: the
// autoscaler computes one replica proposal per metric, proportional to that ratio, and
// takes the largest, so this is the metric that decides. Metrics without a current value
// (not read yet, or failing) are skipped; ok is false when none has one.
func limitingMetric(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) (autoscalingv2.MetricSpec, float64, bool) {
	var best autoscalingv2.MetricSpec
	bestRatio, found := 0.0, false
	for _, spec := range specs {
		ratio, ok := metricRatio(spec, findMetricStatus(spec, statuses))
		if ok && (!found || ratio > bestRatio) {
			best, bestRatio, found = spec, ratio, true
		}
	}
	return best, bestRatio, found
}

// metricRatio is current/target of one metric in the unit of its target.
func metricRatio(spec autoscalingv2.MetricSpec, status *autoscalingv2.MetricStatus) (float64, bool) {
	if status == nil {
		return 0, false
	}
	var target *autoscalingv2.MetricTarget
	var current *autoscalingv2.MetricValueStatus
	switch {
	case spec.Resource != nil && status.Resource != nil:
		target, current = &spec.Resource.Target, &status.Resource.Current
	case spec.ContainerResource != nil && status.ContainerResource != nil:
		target, current = &spec.ContainerResource.Target, &status.ContainerResource.Current
	case spec.Pods != nil && status.Pods != nil:
		target, current = &spec.Pods.Target, &status.Pods.Current
	case spec.Object != nil && status.Object != nil:
		target, current = &spec.Object.Target, &status.Object.Current
	case spec.External != nil && status.External != nil:
		target, current = &spec.External.Target, &status.External.Current
	default:
		return 0, false
	}
	switch target.Type {
	case autoscalingv2.UtilizationMetricType:
		if target.AverageUtilization == nil || *target.AverageUtilization <= 0 || current.AverageUtilization == nil {
			return 0, false
		}
		return float64(*current.AverageUtilization) / float64(*target.AverageUtilization), true
	case autoscalingv2.AverageValueMetricType:
		return quantityRatio(current.AverageValue, target.AverageValue)
	default:
		return quantityRatio(current.Value, target.Value)
	}
}

func quantityRatio(current, target *resource.Quantity) (float64, bool) {
	if current == nil || target == nil || target.Sign() <= 0 {
		return 0, false
	}
	return current.AsApproximateFloat64() / target.AsApproximateFloat64(), true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
