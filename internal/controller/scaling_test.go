package controller

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// These tests replay what the HPA controller writes during scales through computeStatus,
// each status fed back as the previous one, and check status.scaling the way a user reads
// it with "kubectl get infsvc -o wide" or "-o yaml".

// hpaScaledTo is the HPA just after it rescaled from one count to replicas at t, reading
// cpu at percent.
func hpaScaledTo(from, replicas int32, t time.Time, percent int32) *autoscalingv2.HorizontalPodAutoscaler {
	return hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) {
		lastScale := metav1.NewTime(t)
		// The status the HPA controller writes with a rescale: the count it read
		// before, and the new one.
		h.Status.CurrentReplicas = from
		h.Status.DesiredReplicas = replicas
		h.Status.LastScaleTime = &lastScale
		h.Status.CurrentMetrics = metricStatuses(resourceStatus("cpu", utilizationCurrent(percent)))
		h.Status.Conditions[0] = autoscalingv2.HorizontalPodAutoscalerCondition{
			Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "SucceededRescale",
			Message: fmt.Sprintf("the HPA controller was able to update the target scale to %d", replicas),
		}
	})
}

// replayHPA computes the status after each HPA state, starting from a service that was
// reconciled once at 3 replicas (the HPA fixture's last scale).
func replayHPA(isvc *servingv1alpha1.InferenceService, hpas ...*autoscalingv2.HorizontalPodAutoscaler) servingv1alpha1.InferenceServiceStatus {
	isvc.Status = computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpaFixture()}, render.Config{})
	for _, hpa := range hpas {
		isvc.Status = computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpa}, render.Config{})
	}
	return isvc.Status
}

func TestScalingStoryRecordsEachScaleOnce(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	out, in := hpaScaledTo(3, 7, t0, 140), hpaScaledTo(7, 2, t0.Add(5*time.Minute), 12)

	// The scale-out is seen by three reconciles (the HPA's status, the Deployment's, a
	// resync) before the scale-in: one event each.
	status := replayHPA(isvcFixture(), out, out, out, in, in)

	g.Expect(status.Scaling).NotTo(BeNil())
	g.Expect(status.Scaling.Events).To(HaveLen(2))
	g.Expect(status.Scaling.Events[0]).To(Equal(servingv1alpha1.ScaleEvent{
		Time: metav1.NewTime(t0), From: 3, To: 7,
		Reason: "ScaleUp: the HPA controller was able to update the target scale to 7",
		Metric: "cpu: 140%/50%",
	}))
	g.Expect(status.Scaling.Events[1].From).To(Equal(int32(7)))
	g.Expect(status.Scaling.Events[1].To).To(Equal(int32(2)))
	g.Expect(status.Scaling.Events[1].Reason).To(HavePrefix("ScaleDown: "))
	g.Expect(status.Scaling.LastScale).To(Equal("7 -> 2 (cpu: 12%/50%)"))
	g.Expect(status.Scaling.LimitingMetric).To(Equal("cpu: 12%/50%"))
	g.Expect(status.Scaling.LimitingRatio).To(Equal("0.24"))
}

func TestScalingStoryKeepsTheLastTenEvents(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	hpas := make([]*autoscalingv2.HorizontalPodAutoscaler, 0, 14)
	for i := range 14 {
		hpas = append(hpas, hpaScaledTo(int32(4+(i+1)%2), int32(4+i%2), t0.Add(time.Duration(i)*time.Minute), 60))
	}

	status := replayHPA(isvcFixture(), hpas...)

	g.Expect(status.Scaling.Events).To(HaveLen(servingv1alpha1.MaxScaleEvents))
	g.Expect(status.Scaling.Events[0].Time.Time).To(Equal(t0.Add(4 * time.Minute)))
	g.Expect(status.Scaling.Events[9].Time.Time).To(Equal(t0.Add(13 * time.Minute)))
}

func TestScalingStoryNoEventWithoutAScale(t *testing.T) {
	g := NewWithT(t)

	// The HPA's last scale happened before the operator first wrote a status (for
	// example before an operator upgrade): it is not news.
	status := replayHPA(isvcFixture(), hpaFixture(), hpaFixture())
	g.Expect(status.Scaling).NotTo(BeNil())
	g.Expect(status.Scaling.Events).To(BeEmpty())
	g.Expect(status.Scaling.LastScale).To(BeEmpty())
	g.Expect(status.Scaling.LimitingMetric).To(Equal("cpu: 30%/50%"))

	// Autoscaling off: nothing to tell.
	fixed := computeStatus(isvcFixture(withFixedReplicas(3)), observed{deployment: deploymentFixture(), service: serviceFixture()}, render.Config{})
	g.Expect(fixed.Scaling).To(BeNil())
}

func TestScalingStoryLimitingMetricIsTheHighestRatio(t *testing.T) {
	g := NewWithT(t)
	isvc := isvcFixture(func(isvc *servingv1alpha1.InferenceService) {
		isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{Metrics: metricSpecs(
			resourceSpec("cpu", utilizationTarget(80)),
			podsSpec("queue_depth", averageValueTarget("5")),
		)}
	})
	hpa := hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) {
		h.Status.CurrentMetrics = metricStatuses(
			resourceStatus("cpu", utilizationCurrent(90)),
			podsStatus("queue_depth", averageValueCurrent("12")),
		)
	})

	status := computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpa}, render.Config{})

	// kubectl's Targets column shows the first metric; the story names the one that decides.
	g.Expect(status.Targets).To(Equal("cpu: 90%/80% + 1 more..."))
	g.Expect(status.Scaling.LimitingMetric).To(Equal("queue_depth: 12/5"))
	g.Expect(status.Scaling.LimitingRatio).To(Equal("2.40"))

	// A metric the HPA cannot read is skipped, not taken as zero.
	hpa.Status.CurrentMetrics = metricStatuses(resourceStatus("cpu", utilizationCurrent(90)))
	status = computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpa}, render.Config{})
	g.Expect(status.Scaling.LimitingMetric).To(Equal("cpu: 90%/80%"))
	g.Expect(status.Scaling.LimitingRatio).To(Equal("1.12"))
}

// The HPA scales the Deployment before it writes its status, and an HPA that had no
// metrics until this scale reported no desired count: a reconcile in between takes the
// new count from the Deployment. The scale is still told, from the HPA's own count before it.
func TestScalingStoryAScaleSeenOnTheDeploymentFirst(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	isvc := isvcFixture()
	noMetricsYet := hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) {
		h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 1}
	})
	at := func(replicas int32) *appsv1.Deployment {
		return deploymentFixture(func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To(replicas) })
	}
	isvc.Status = computeStatus(isvc, observed{deployment: at(1), service: serviceFixture(), hpa: noMetricsYet}, render.Config{})
	isvc.Status = computeStatus(isvc, observed{deployment: at(4), service: serviceFixture(), hpa: noMetricsYet}, render.Config{})
	g.Expect(isvc.Status.DesiredReplicas).To(Equal(int32(4)), "taken from the Deployment the HPA just scaled")

	rescaled := hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) {
		lastScale := metav1.NewTime(t0)
		h.Status.CurrentReplicas, h.Status.DesiredReplicas, h.Status.LastScaleTime = 1, 4, &lastScale
		h.Status.CurrentMetrics = metricStatuses(resourceStatus("cpu", utilizationCurrent(160)))
	})
	isvc.Status = computeStatus(isvc, observed{deployment: at(4), service: serviceFixture(), hpa: rescaled}, render.Config{})

	g.Expect(isvc.Status.Scaling.Events).To(HaveLen(1))
	g.Expect(isvc.Status.Scaling.Events[0].From).To(Equal(int32(1)))
	g.Expect(isvc.Status.Scaling.Events[0].To).To(Equal(int32(4)))
	g.Expect(isvc.Status.Scaling.LastScale).To(Equal("1 -> 4 (cpu: 160%/50%)"))
}
