package controller

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// A live HPA rewrites its currentMetrics at every sync (15 s). The operator mirrors a
// change of metric values alone at most once per --metric-status-interval, and at once
// anything else: a replica count, a metric that appears or goes, a condition.
func TestMetricValuesAreWrittenAtMostOncePerInterval(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c, patches := statusPatchCounter(g)
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC))
	r := &InferenceServiceReconciler{Client: c, Recorder: events.NewFakeRecorder(100), MetricStatusInterval: time.Minute, Clock: clk}

	key := client.ObjectKeyFromObject(isvcFixture())
	// reconcile computes the status from the cached InferenceService and an HPA reading
	// cpu at percent, as Reconcile does, and returns when the reconciler asks to come back.
	reconcile := func(percent int32, hpaOpts ...func(*autoscalingv2.HorizontalPodAutoscaler)) time.Duration {
		t.Helper()
		isvc := &servingv1alpha1.InferenceService{}
		g.Expect(c.Get(ctx, key, isvc)).To(Succeed())
		hpa := hpaFixture(append([]func(*autoscalingv2.HorizontalPodAutoscaler){func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Status.CurrentMetrics = metricStatuses(resourceStatus("cpu", utilizationCurrent(percent)))
		}}, hpaOpts...)...)
		status := computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpa}, render.Config{})
		wait, err := r.writeStatus(ctx, isvc, status)
		g.Expect(err).NotTo(HaveOccurred())
		return wait
	}
	shown := func() servingv1alpha1.InferenceServiceStatus {
		isvc := &servingv1alpha1.InferenceService{}
		g.Expect(c.Get(ctx, key, isvc)).To(Succeed())
		return isvc.Status
	}
	after := func(d time.Duration) { clk.SetTime(clk.Now().Add(d)) }

	g.Expect(reconcile(50)).To(BeZero())
	g.Expect(shown().Targets).To(Equal("cpu: 50%/50%"), "the first status is written at once")
	g.Expect(*patches).To(Equal(1))

	after(15 * time.Second)
	g.Expect(reconcile(60)).To(Equal(58*time.Second), "the next metric value waits, at most until 2 s before it is a minute old")
	after(15 * time.Second)
	g.Expect(reconcile(70)).To(Equal(43*time.Second), "a later value does not move the deadline of the first one held back")
	g.Expect(shown().Targets).To(Equal("cpu: 50%/50%"))
	g.Expect(*patches).To(Equal(1), "no write for metric values within the interval")

	after(30 * time.Second)
	g.Expect(reconcile(70)).To(BeZero())
	g.Expect(shown().Targets).To(Equal("cpu: 70%/50%"), "the newest value with the first change seen once the interval is over")
	g.Expect(shown().Scaling.LimitingRatio).To(Equal("1.40"))
	g.Expect(*patches).To(Equal(2))

	after(time.Second)
	g.Expect(reconcile(75, func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.DesiredReplicas = 4 })).To(BeZero())
	g.Expect(shown().DesiredReplicas).To(Equal(int32(4)), "a new desired count is written at once")
	g.Expect(shown().Targets).To(Equal("cpu: 75%/50%"), "with the metric value of the moment")
	g.Expect(*patches).To(Equal(3))

	after(time.Second)
	g.Expect(reconcile(0, func(h *autoscalingv2.HorizontalPodAutoscaler) {
		h.Status.DesiredReplicas = 4
		h.Status.CurrentMetrics = nil
	})).To(BeZero())
	g.Expect(shown().Targets).To(Equal("cpu: <unknown>/50%"), "a metric gone is written at once")
	g.Expect(*patches).To(Equal(4))

	after(time.Second)
	g.Expect(reconcile(40, func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.DesiredReplicas = 4 })).To(BeZero())
	g.Expect(shown().Targets).To(Equal("cpu: 40%/50%"), "and one that comes back")
	g.Expect(*patches).To(Equal(5))

	r.MetricStatusInterval = 0
	after(time.Second)
	g.Expect(reconcile(41, func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.DesiredReplicas = 4 })).To(BeZero())
	g.Expect(shown().Targets).To(Equal("cpu: 41%/50%"), "an interval of 0 writes every change")
	g.Expect(*patches).To(Equal(6))

	// A value that comes just after a write, with no change after it, is written at its
	// deadline: a margin (a thirtieth of the interval) before it is an interval old.
	r.MetricStatusInterval = time.Minute
	after(time.Second)
	g.Expect(reconcile(42, func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.DesiredReplicas = 4 })).To(Equal(58*time.Second),
		"due 2 s before the held-back value is a minute old")
	after(20 * time.Second)
	g.Expect(reconcile(43, func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.DesiredReplicas = 4 })).To(Equal(38 * time.Second))
	after(38 * time.Second)
	g.Expect(reconcile(43, func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.DesiredReplicas = 4 })).To(BeZero())
	g.Expect(shown().Targets).To(Equal("cpu: 43%/50%"))
	g.Expect(*patches).To(Equal(7))
}

// The same on a real API server, with the HPA's status written by hand the way the HPA
// controller rewrites it at each sync: a cluster of its own, so that the suite's manager
// (which writes every change) does not answer for this one.
var _ = Describe("Status writes under a live autoscaler (--metric-status-interval)", Ordered, func() {
	const interval = 3 * time.Second
	var (
		c      client.Client
		writes = &writeCounter{byNamespace: map[string]int{}}
	)
	BeforeAll(func() {
		var env *envtest.Environment
		env, c = startCluster()
		startManager(extraManager{config: env.Config, wrap: writes.wrap,
			reconciler: func(r *InferenceServiceReconciler) { r.MetricStatusInterval = interval }})
	})

	It("mirrors changing metric values at most once per interval, the newest one, and a new replica count at once", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "metric-status-"}}
		Expect(c.Create(ctx, ns)).To(Succeed())
		isvc := newInferenceService(ns.Name, "llm")
		Expect(c.Create(ctx, isvc)).To(Succeed())
		key := client.ObjectKeyFromObject(isvc)
		Eventually(func(g Gomega) {
			g.Expect(c.Get(ctx, key, isvc)).To(Succeed())
			g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
			g.Expect(c.Get(ctx, key, &autoscalingv2.HorizontalPodAutoscaler{})).To(Succeed())
		}).Should(Succeed())
		targets := func() string {
			got := &servingv1alpha1.InferenceService{}
			Expect(c.Get(ctx, key, got)).To(Succeed())
			return got.Status.Targets
		}
		hpaReads := func(percent, desired int32) {
			GinkgoHelper()
			Eventually(func(g Gomega) {
				hpa := &autoscalingv2.HorizontalPodAutoscaler{}
				g.Expect(c.Get(ctx, key, hpa)).To(Succeed())
				hpa.Status.CurrentReplicas, hpa.Status.DesiredReplicas = 1, desired
				hpa.Status.CurrentMetrics = metricStatuses(resourceStatus(corev1.ResourceCPU, utilizationCurrent(percent)))
				g.Expect(c.Status().Update(ctx, hpa)).To(Succeed())
			}).Should(Succeed())
		}

		By("the HPA's first metric value, shown at once")
		hpaReads(50, 1)
		Eventually(targets, time.Second).Should(HavePrefix("cpu: 50%/"))

		By("a new value every 250 ms for 4 s, as a busy HPA's syncs would give")
		before := writes.in(ns.Name)
		start := time.Now()
		for percent := int32(51); percent <= 66; percent++ {
			hpaReads(percent, 1)
			time.Sleep(250 * time.Millisecond)
		}
		elapsed := time.Since(start)
		statusWrites := writes.in(ns.Name) - before
		Expect(statusWrites).To(BeNumerically(">=", 1), "the values are mirrored, later")
		Expect(statusWrites).To(BeNumerically("<=", int(elapsed/interval)+1),
			"at most one write per %s in %s of changing values", interval, elapsed)

		By("the newest value within the interval after the last change")
		Eventually(targets, interval+time.Second).Should(HavePrefix("cpu: 66%/"))

		By("a new desired count, written at once although the last write is recent")
		hpaReads(67, 2)
		Eventually(func(g Gomega) {
			got := &servingv1alpha1.InferenceService{}
			g.Expect(c.Get(ctx, key, got)).To(Succeed())
			g.Expect(got.Status.DesiredReplicas).To(Equal(int32(2)))
			g.Expect(got.Status.Targets).To(HavePrefix("cpu: 67%/"))
		}, time.Second).Should(Succeed())
	})
})
