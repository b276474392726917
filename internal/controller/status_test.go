package controller

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

// These tests call computeStatus with the children a reconcile would have read and check
// what "kubectl get infsvc" and "kubectl wait --for=condition=Ready" would show.

const stuckMessage = `ReplicaSet "llm-7c9f8d6b5" has timed out progressing.`

// cond is the part of a condition a user acts on.
type cond struct {
	status metav1.ConditionStatus
	reason string
}

func TestComputeStatusReadiness(t *testing.T) {
	tests := []struct {
		name      string
		isvc      *servingv1alpha1.InferenceService
		dep       *appsv1.Deployment
		blocked   *blocker
		wantReady cond
		// wantReadyMessage is checked when set.
		wantReadyMessage string
		wantProgressing  cond
		wantAvailable    cond
	}{
		{
			name:            "rolled out and available",
			isvc:            isvcFixture(),
			dep:             deploymentFixture(),
			wantReady:       cond{metav1.ConditionTrue, servingv1alpha1.ReasonReady},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutComplete},
			wantAvailable:   cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			name: "the Deployment controller has not observed the latest spec yet",
			isvc: isvcFixture(),
			dep: deploymentFixture(func(d *appsv1.Deployment) {
				d.Generation = d.Status.ObservedGeneration + 1
			}),
			wantReady:       cond{metav1.ConditionFalse, servingv1alpha1.ReasonRolloutInProgress},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress},
			wantAvailable:   cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			name: "not every replica runs the latest pod template",
			isvc: isvcFixture(),
			dep: deploymentFixture(func(d *appsv1.Deployment) {
				d.Status.Replicas, d.Status.UpdatedReplicas = 4, 1
			}),
			wantReady:       cond{metav1.ConditionFalse, servingv1alpha1.ReasonRolloutInProgress},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress},
			wantAvailable:   cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			name: "old replicas are still terminating",
			isvc: isvcFixture(),
			dep: deploymentFixture(func(d *appsv1.Deployment) {
				d.Status.Replicas, d.Status.UpdatedReplicas = 4, 3
			}),
			wantReady:       cond{metav1.ConditionFalse, servingv1alpha1.ReasonRolloutInProgress},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress},
			wantAvailable:   cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			name: "a scale-out in progress keeps serving",
			isvc: isvcFixture(),
			dep: deploymentFixture(func(d *appsv1.Deployment) {
				d.Spec.Replicas = ptr.To[int32](5)
				d.Status.Replicas, d.Status.UpdatedReplicas = 5, 5
				d.Status.ReadyReplicas, d.Status.AvailableReplicas = 3, 3
			}),
			wantReady:       cond{metav1.ConditionTrue, servingv1alpha1.ReasonReady},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutComplete},
			wantAvailable:   cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			name:             "the rollout exceeded its progress deadline",
			isvc:             isvcFixture(),
			dep:              stuckDeployment(),
			wantReady:        cond{metav1.ConditionFalse, servingv1alpha1.ReasonProgressDeadlineExceeded},
			wantReadyMessage: stuckMessage,
			wantProgressing:  cond{metav1.ConditionFalse, servingv1alpha1.ReasonProgressDeadlineExceeded},
			wantAvailable:    cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			// The Deployment keeps its ProgressDeadlineExceeded condition until its
			// controller sees the fixed spec; the fix must not be reported as stuck meanwhile.
			name: "a spec fixed after a stuck rollout is in progress, not stuck",
			isvc: isvcFixture(),
			dep: deploymentFixture(func(d *appsv1.Deployment) {
				d.Generation = d.Status.ObservedGeneration + 1
				d.Status.Replicas, d.Status.UpdatedReplicas = 4, 1
				failDeploymentCondition(d, appsv1.DeploymentProgressing, "ProgressDeadlineExceeded", stuckMessage)
			}),
			wantReady:       cond{metav1.ConditionFalse, servingv1alpha1.ReasonRolloutInProgress},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress},
			wantAvailable:   cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			name: "scaled to zero",
			isvc: isvcFixture(withFixedReplicas(0)),
			dep: deploymentFixture(func(d *appsv1.Deployment) {
				d.Spec.Replicas = ptr.To[int32](0)
				d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0, 0, 0
			}),
			wantReady:       cond{metav1.ConditionTrue, servingv1alpha1.ReasonScaledToZero},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutComplete},
			wantAvailable:   cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			name: "rolled out but no replica is ready",
			isvc: isvcFixture(),
			dep: deploymentFixture(func(d *appsv1.Deployment) {
				d.Status.ReadyReplicas, d.Status.AvailableReplicas = 0, 0
				failDeploymentCondition(d, appsv1.DeploymentAvailable, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
			}),
			wantReady:       cond{metav1.ConditionFalse, servingv1alpha1.ReasonReplicasNotReady},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutComplete},
			wantAvailable:   cond{metav1.ConditionFalse, servingv1alpha1.ReasonMinimumReplicasUnavailable},
		},
		{
			name: "the Deployment was just created and has no status",
			isvc: isvcFixture(),
			dep: deploymentFixture(func(d *appsv1.Deployment) {
				d.Generation = 1
				d.Status = appsv1.DeploymentStatus{}
			}),
			wantReady:       cond{metav1.ConditionFalse, servingv1alpha1.ReasonRolloutInProgress},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress},
			wantAvailable:   cond{metav1.ConditionFalse, servingv1alpha1.ReasonDeploymentPending},
		},
		{
			name:            "no Deployment",
			isvc:            isvcFixture(),
			dep:             nil,
			wantReady:       cond{metav1.ConditionFalse, servingv1alpha1.ReasonDeploymentPending},
			wantProgressing: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress},
			wantAvailable:   cond{metav1.ConditionFalse, servingv1alpha1.ReasonDeploymentPending},
		},
		{
			name:             "a name conflict wins over a healthy Deployment",
			isvc:             isvcFixture(),
			dep:              deploymentFixture(),
			blocked:          &blocker{reason: servingv1alpha1.ReasonResourceConflict, message: `a Service named "llm" already exists`},
			wantReady:        cond{metav1.ConditionFalse, servingv1alpha1.ReasonResourceConflict},
			wantReadyMessage: `a Service named "llm" already exists`,
			wantProgressing:  cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutComplete},
			wantAvailable:    cond{metav1.ConditionTrue, servingv1alpha1.ReasonMinimumReplicasAvailable},
		},
		{
			name:             "a refused apply wins over a missing Deployment",
			isvc:             isvcFixture(),
			dep:              nil,
			blocked:          &blocker{reason: servingv1alpha1.ReasonApplyFailed, message: "Deployment.apps \"llm\" is invalid"},
			wantReady:        cond{metav1.ConditionFalse, servingv1alpha1.ReasonApplyFailed},
			wantReadyMessage: "Deployment.apps \"llm\" is invalid",
			wantProgressing:  cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress},
			wantAvailable:    cond{metav1.ConditionFalse, servingv1alpha1.ReasonDeploymentPending},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)

			status := computeStatus(tt.isvc, observed{deployment: tt.dep, service: serviceFixture(), blocked: tt.blocked}, render.Config{})

			g.Expect(conditionOf(g, status, servingv1alpha1.ConditionReady)).To(Equal(tt.wantReady), "Ready")
			g.Expect(conditionOf(g, status, servingv1alpha1.ConditionProgressing)).To(Equal(tt.wantProgressing), "Progressing")
			g.Expect(conditionOf(g, status, servingv1alpha1.ConditionAvailable)).To(Equal(tt.wantAvailable), "Available")
			if tt.wantReadyMessage != "" {
				ready := meta.FindStatusCondition(status.Conditions, servingv1alpha1.ConditionReady)
				g.Expect(ready.Message).To(Equal(tt.wantReadyMessage))
			}
		})
	}
}

func TestComputeStatusHPAConditions(t *testing.T) {
	hpaConditions := []autoscalingv2.HorizontalPodAutoscalerCondition{
		{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale",
			Message: "recommended size matches current size"},
		{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetPodsMetric",
			Message: `the HPA was unable to compute the replica count: unable to get metric inference_queue_length: no metrics returned from custom metrics API`},
		{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionTrue, Reason: "TooFewReplicas",
			Message: "the desired replica count is less than the minimum replica count"},
	}
	previous := []metav1.Condition{
		{Type: "AbleToScale", Status: metav1.ConditionTrue, Reason: "ReadyForNewScale", LastTransitionTime: anHourAgo},
		{Type: "ScalingActive", Status: metav1.ConditionTrue, Reason: "ValidMetricFound", LastTransitionTime: anHourAgo},
		{Type: "ScalingLimited", Status: metav1.ConditionFalse, Reason: "DesiredWithinRange", LastTransitionTime: anHourAgo},
	}

	t.Run("mirrored while autoscaling", func(t *testing.T) {
		g := NewWithT(t)
		isvc := isvcFixture()
		hpa := hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.Conditions = hpaConditions })

		status := computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpa}, render.Config{})

		for _, want := range hpaConditions {
			got := meta.FindStatusCondition(status.Conditions, string(want.Type))
			g.Expect(got).NotTo(BeNil(), "condition %s", want.Type)
			g.Expect(got.Status).To(Equal(metav1.ConditionStatus(want.Status)), "condition %s", want.Type)
			g.Expect(got.Reason).To(Equal(want.Reason), "condition %s", want.Type)
			g.Expect(got.Message).To(Equal(want.Message), "condition %s", want.Type)
			g.Expect(got.ObservedGeneration).To(Equal(isvc.Generation), "condition %s", want.Type)
		}
	})

	t.Run("removed once spec.replicas turns autoscaling off", func(t *testing.T) {
		g := NewWithT(t)
		isvc := isvcFixture(withFixedReplicas(3), func(isvc *servingv1alpha1.InferenceService) {
			isvc.Status.Conditions = previous
			isvc.Status.Targets = "cpu: 30%/50%"
			isvc.Status.CurrentMetrics = hpaFixture().Status.CurrentMetrics
			isvc.Status.LastScaleTime = &anHourAgo
		})

		status := computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture()}, render.Config{})

		for _, c := range previous {
			g.Expect(meta.FindStatusCondition(status.Conditions, c.Type)).To(BeNil(), "condition %s", c.Type)
		}
		g.Expect(status.Targets).To(BeEmpty())
		g.Expect(status.CurrentMetrics).To(BeNil())
		g.Expect(status.LastScaleTime).To(BeNil())
		g.Expect(status.Conditions).To(HaveLen(4), "only Ready, Available, Progressing and PodsSchedulable are left")
	})
}

// lastTransitionTime tells a user since when a condition holds; it must move only when
// the condition's status changes.
func TestComputeStatusLastTransitionTime(t *testing.T) {
	stuck := stuckDeployment()
	rollingOut := deploymentFixture(func(d *appsv1.Deployment) { d.Status.Replicas, d.Status.UpdatedReplicas = 4, 1 })
	hpaLimited := func(s corev1.ConditionStatus, reason string) *autoscalingv2.HorizontalPodAutoscaler {
		return hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{
				{Type: autoscalingv2.ScalingLimited, Status: s, Reason: reason},
			}
		})
	}

	tests := []struct {
		name     string
		previous metav1.Condition
		obs      observed
		// wantKept: the previous lastTransitionTime is kept; otherwise it moves to now.
		wantKept bool
	}{
		{
			name:     "Ready stays True",
			previous: metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready"},
			obs:      observed{deployment: deploymentFixture()},
			wantKept: true,
		},
		{
			name:     "Ready turns False",
			previous: metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready"},
			obs:      observed{deployment: stuck},
			wantKept: false,
		},
		{
			name:     "Ready stays False with another reason",
			previous: metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "RolloutInProgress"},
			obs:      observed{deployment: stuck},
			wantKept: true,
		},
		{
			name:     "Progressing turns False",
			previous: metav1.Condition{Type: "Progressing", Status: metav1.ConditionTrue, Reason: "RolloutInProgress"},
			obs:      observed{deployment: stuck},
			wantKept: false,
		},
		{
			name:     "Progressing stays True when a new rollout starts",
			previous: metav1.Condition{Type: "Progressing", Status: metav1.ConditionTrue, Reason: "RolloutComplete"},
			obs:      observed{deployment: rollingOut},
			wantKept: true,
		},
		{
			name:     "ScalingLimited stays False",
			previous: metav1.Condition{Type: "ScalingLimited", Status: metav1.ConditionFalse, Reason: "DesiredWithinRange"},
			obs:      observed{deployment: deploymentFixture(), hpa: hpaLimited(corev1.ConditionFalse, "DesiredWithinRange")},
			wantKept: true,
		},
		{
			name:     "ScalingLimited turns True",
			previous: metav1.Condition{Type: "ScalingLimited", Status: metav1.ConditionFalse, Reason: "DesiredWithinRange"},
			obs:      observed{deployment: deploymentFixture(), hpa: hpaLimited(corev1.ConditionTrue, "TooManyReplicas")},
			wantKept: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			previous := tt.previous
			previous.LastTransitionTime = anHourAgo
			isvc := isvcFixture(func(isvc *servingv1alpha1.InferenceService) {
				isvc.Status.Conditions = []metav1.Condition{previous}
			})
			before := time.Now()

			status := computeStatus(isvc, tt.obs, render.Config{})

			got := meta.FindStatusCondition(status.Conditions, tt.previous.Type)
			g.Expect(got).NotTo(BeNil())
			if tt.wantKept {
				g.Expect(got.LastTransitionTime.Time).To(BeTemporally("==", anHourAgo.Time))
			} else {
				g.Expect(got.LastTransitionTime.Time).To(BeTemporally(">=", before.Truncate(time.Second)))
			}
			g.Expect(isvc.Status.Conditions[0].LastTransitionTime).To(Equal(anHourAgo), "the previous status must not be modified")
		})
	}
}

// The reconciler writes the status only when the new one differs from the previous one, so
// computeStatus must not change the previous status in place, or a change is never written.
func TestComputeStatusLeavesThePreviousStatusAlone(t *testing.T) {
	g := NewWithT(t)
	isvc := isvcFixture()
	isvc.Status = computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpaFixture()}, render.Config{})
	before := isvc.DeepCopy()

	status := computeStatus(isvc, observed{deployment: stuckDeployment(), service: serviceFixture(), hpa: hpaFixture(
		func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.Conditions[2].Status = corev1.ConditionTrue },
	)}, render.Config{})

	g.Expect(isvc).To(Equal(before))
	g.Expect(status).NotTo(Equal(isvc.Status), "the new status describes the stuck rollout")
}

func TestComputeStatusReplicas(t *testing.T) {
	tests := []struct {
		name        string
		isvc        *servingv1alpha1.InferenceService
		hpa         *autoscalingv2.HorizontalPodAutoscaler
		wantDesired int32
		wantMin     int32
		wantMax     int32
	}{
		{
			name:        "autoscaling: desired is what the HPA chose",
			isvc:        isvcFixture(),
			hpa:         hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.DesiredReplicas = 5 }),
			wantDesired: 5, wantMin: 1, wantMax: 10,
		},
		{
			name: "autoscaling with custom bounds",
			isvc: isvcFixture(func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 8}
			}),
			hpa:         hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Status.DesiredReplicas = 8 }),
			wantDesired: 8, wantMin: 2, wantMax: 8,
		},
		{
			name: "autoscaling, the HPA has not computed a count yet: the Deployment's count",
			isvc: isvcFixture(),
			hpa: hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
			}),
			wantDesired: 3, wantMin: 1, wantMax: 10,
		},
		{
			name:        "autoscaling, no HPA read: the Deployment's count",
			isvc:        isvcFixture(),
			hpa:         nil,
			wantDesired: 3, wantMin: 1, wantMax: 10,
		},
		{
			name:        "fixed replicas",
			isvc:        isvcFixture(withFixedReplicas(3)),
			hpa:         nil,
			wantDesired: 3, wantMin: 3, wantMax: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			dep := deploymentFixture(func(d *appsv1.Deployment) {
				d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 4, 3, 2, 1
			})

			status := computeStatus(tt.isvc, observed{deployment: dep, service: serviceFixture(), hpa: tt.hpa}, render.Config{})

			g.Expect(status.DesiredReplicas).To(Equal(tt.wantDesired), "desiredReplicas")
			g.Expect(status.MinReplicas).To(Equal(tt.wantMin), "minReplicas")
			g.Expect(status.MaxReplicas).To(Equal(tt.wantMax), "maxReplicas")
			g.Expect([]int32{status.Replicas, status.UpdatedReplicas, status.ReadyReplicas, status.AvailableReplicas}).
				To(Equal([]int32{4, 3, 2, 1}), "replicas, updatedReplicas, readyReplicas, availableReplicas from the Deployment")
		})
	}
}

func TestComputeStatusAutoscalerReadings(t *testing.T) {
	tests := []struct {
		name        string
		isvc        *servingv1alpha1.InferenceService
		hpa         *autoscalingv2.HorizontalPodAutoscaler
		wantTargets string
	}{
		{
			name:        "default CPU metric",
			isvc:        isvcFixture(),
			hpa:         hpaFixture(),
			wantTargets: "cpu: 30%/50%",
		},
		{
			name: "custom metric",
			isvc: isvcFixture(func(isvc *servingv1alpha1.InferenceService) {
				isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{
					Metrics: metricSpecs(podsSpec("inference_queue_length", averageValueTarget("10"))),
				}
			}),
			hpa: hpaFixture(func(h *autoscalingv2.HorizontalPodAutoscaler) {
				h.Status.CurrentMetrics = metricStatuses(podsStatus("inference_queue_length", averageValueCurrent("12")))
			}),
			wantTargets: "inference_queue_length: 12/10",
		},
		{
			name:        "no HPA read yet",
			isvc:        isvcFixture(),
			hpa:         nil,
			wantTargets: "cpu: <unknown>/50%",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)

			status := computeStatus(tt.isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: tt.hpa}, render.Config{})

			g.Expect(status.Targets).To(Equal(tt.wantTargets))
			if tt.hpa == nil {
				g.Expect(status.CurrentMetrics).To(BeNil())
				g.Expect(status.LastScaleTime).To(BeNil())
				return
			}
			g.Expect(status.CurrentMetrics).To(Equal(tt.hpa.Status.CurrentMetrics))
			g.Expect(status.LastScaleTime).To(Equal(tt.hpa.Status.LastScaleTime))
		})
	}
}

func TestComputeStatusAddresses(t *testing.T) {
	loadBalancer := func(port int32, ingress ...corev1.LoadBalancerIngress) *corev1.Service {
		return serviceFixture(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.Ports[0].Port = port
			s.Status.LoadBalancer.Ingress = ingress
		})
	}
	tests := []struct {
		name            string
		servicePort     int32
		service         *corev1.Service
		wantURL         string
		wantExternalURL string
	}{
		{
			name:    "ClusterIP on the default port",
			service: serviceFixture(),
			wantURL: "http://llm.ml.svc.cluster.local:80",
		},
		{
			name:        "ClusterIP on a custom port",
			servicePort: 8000,
			service:     serviceFixture(func(s *corev1.Service) { s.Spec.Ports[0].Port = 8000 }),
			wantURL:     "http://llm.ml.svc.cluster.local:8000",
		},
		{
			name:            "LoadBalancer with an IP",
			servicePort:     8000,
			service:         loadBalancer(8000, corev1.LoadBalancerIngress{IP: "203.0.113.10"}),
			wantURL:         "http://llm.ml.svc.cluster.local:8000",
			wantExternalURL: "http://203.0.113.10:8000",
		},
		{
			name:            "LoadBalancer with a hostname",
			service:         loadBalancer(80, corev1.LoadBalancerIngress{Hostname: "a1b2c3.elb.eu-west-1.amazonaws.com"}),
			wantURL:         "http://llm.ml.svc.cluster.local:80",
			wantExternalURL: "http://a1b2c3.elb.eu-west-1.amazonaws.com:80",
		},
		{
			name:            "LoadBalancer with an IPv6 address",
			service:         loadBalancer(80, corev1.LoadBalancerIngress{IP: "2001:db8::10"}),
			wantURL:         "http://llm.ml.svc.cluster.local:80",
			wantExternalURL: "http://[2001:db8::10]:80",
		},
		{
			name:    "LoadBalancer still waiting for an address",
			service: loadBalancer(80),
			wantURL: "http://llm.ml.svc.cluster.local:80",
		},
		{
			name:    "no Service read",
			service: nil,
			wantURL: "http://llm.ml.svc.cluster.local:80",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			isvc := isvcFixture(func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Service.Port = tt.servicePort })

			status := computeStatus(isvc, observed{deployment: deploymentFixture(), service: tt.service}, render.Config{})

			g.Expect(status.URL).To(Equal(tt.wantURL))
			g.Expect(status.ExternalURL).To(Equal(tt.wantExternalURL))
		})
	}
}

func TestComputeStatusIdentifiesWhatItDescribes(t *testing.T) {
	g := NewWithT(t)
	isvc := isvcFixture(func(isvc *servingv1alpha1.InferenceService) { isvc.Generation = 12 })

	status := computeStatus(isvc, observed{deployment: deploymentFixture(), service: serviceFixture(), hpa: hpaFixture()}, render.Config{})

	g.Expect(status.ObservedGeneration).To(Equal(int64(12)))
	g.Expect(status.Selector).To(Equal("serving.inferenceops.dev/inferenceservice=llm"),
		"the scale subresource and kubectl scale select pods with it")
	g.Expect(status.Conditions).NotTo(BeEmpty())
	for _, c := range status.Conditions {
		g.Expect(c.ObservedGeneration).To(Equal(int64(12)), "condition %s", c.Type)
	}
}

var anHourAgo = metav1.NewTime(time.Now().Add(-time.Hour).Truncate(time.Second))

// isvcFixture returns the InferenceService "llm" in namespace "ml" at generation 4, with
// autoscaling at its defaults (1 to 10 replicas on 50% CPU) and no status yet.
func isvcFixture(opts ...func(*servingv1alpha1.InferenceService)) *servingv1alpha1.InferenceService {
	isvc := &servingv1alpha1.InferenceService{
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "ml", UID: "0b6f3c1e-5a0f-4c7a-9f59-1b1d2f3e4a5b", Generation: 4},
		Spec: servingv1alpha1.InferenceServiceSpec{
			Image: "ghcr.io/example/model-server:1.0",
		},
	}
	for _, opt := range opts {
		opt(isvc)
	}
	return isvc
}

func withFixedReplicas(n int32) func(*servingv1alpha1.InferenceService) {
	return func(isvc *servingv1alpha1.InferenceService) { isvc.Spec.Replicas = ptr.To(n) }
}

// deploymentFixture returns the live Deployment of a finished rollout of 3 replicas: its
// controller has observed the latest spec and every replica is updated, ready and available.
func deploymentFixture(opts ...func(*appsv1.Deployment)) *appsv1.Deployment {
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "ml", Generation: 7},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 7,
			Replicas:           3,
			UpdatedReplicas:    3,
			ReadyReplicas:      3,
			AvailableReplicas:  3,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
					Message: "Deployment has minimum availability."},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
					Message: `ReplicaSet "llm-7c9f8d6b5" has successfully progressed.`},
			},
		},
	}
	for _, opt := range opts {
		opt(dep)
	}
	return dep
}

// stuckDeployment returns the live Deployment of a rollout that exceeded its progress
// deadline with one of three replicas updated, the old ones still serving.
func stuckDeployment() *appsv1.Deployment {
	return deploymentFixture(func(d *appsv1.Deployment) {
		d.Status.Replicas, d.Status.UpdatedReplicas = 4, 1
		failDeploymentCondition(d, appsv1.DeploymentProgressing, "ProgressDeadlineExceeded", stuckMessage)
	})
}

// failDeploymentCondition sets the Deployment condition t to False with reason and message.
func failDeploymentCondition(dep *appsv1.Deployment, t appsv1.DeploymentConditionType, reason, message string) {
	failed := appsv1.DeploymentCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: message}
	for i := range dep.Status.Conditions {
		if dep.Status.Conditions[i].Type == t {
			dep.Status.Conditions[i] = failed
			return
		}
	}
	dep.Status.Conditions = append(dep.Status.Conditions, failed)
}

// hpaFixture returns the live HPA of a service scaled to 3 replicas on CPU at 30%.
func hpaFixture(opts ...func(*autoscalingv2.HorizontalPodAutoscaler)) *autoscalingv2.HorizontalPodAutoscaler {
	lastScale := metav1.NewTime(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "ml"},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			CurrentReplicas: 3,
			DesiredReplicas: 3,
			LastScaleTime:   &lastScale,
			CurrentMetrics:  metricStatuses(resourceStatus("cpu", utilizationCurrent(30))),
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
				{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale"},
				{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, Reason: "ValidMetricFound"},
				{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionFalse, Reason: "DesiredWithinRange"},
			},
		},
	}
	for _, opt := range opts {
		opt(hpa)
	}
	return hpa
}

// serviceFixture returns the live ClusterIP Service on port 80.
func serviceFixture(opts ...func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "ml"},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	for _, opt := range opts {
		opt(svc)
	}
	return svc
}

func conditionOf(g Gomega, status servingv1alpha1.InferenceServiceStatus, conditionType string) cond {
	c := meta.FindStatusCondition(status.Conditions, conditionType)
	g.Expect(c).NotTo(BeNil(), "condition %s", conditionType)
	return cond{c.Status, c.Reason}
}

// TestComputeStatusReconcilingAndStalled checks the kstatus conditions GitOps tools read:
// Reconciling while the service is on its way, Stalled when it needs a change, neither
// once it is Ready.
func TestComputeStatusReconcilingAndStalled(t *testing.T) {
	absent := cond{}
	tests := []struct {
		name            string
		dep             *appsv1.Deployment
		blocked         *blocker
		wantReconciling cond
		wantStalled     cond
	}{
		{name: "ready", dep: deploymentFixture(), wantReconciling: absent, wantStalled: absent},
		{name: "no Deployment yet", dep: nil,
			wantReconciling: cond{metav1.ConditionTrue, servingv1alpha1.ReasonDeploymentPending}, wantStalled: absent},
		{name: "rollout in progress",
			dep:             deploymentFixture(func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1 }),
			wantReconciling: cond{metav1.ConditionTrue, servingv1alpha1.ReasonRolloutInProgress}, wantStalled: absent},
		{name: "stuck rollout", dep: stuckDeployment(),
			wantReconciling: absent, wantStalled: cond{metav1.ConditionTrue, servingv1alpha1.ReasonProgressDeadlineExceeded}},
		{name: "name conflict", dep: deploymentFixture(),
			blocked:         &blocker{reason: servingv1alpha1.ReasonResourceConflict, message: "taken", stalled: true},
			wantReconciling: absent, wantStalled: cond{metav1.ConditionTrue, servingv1alpha1.ReasonResourceConflict}},
		{name: "a child the API server refuses", dep: nil,
			blocked:         &blocker{reason: servingv1alpha1.ReasonApplyFailed, message: "invalid", stalled: true},
			wantReconciling: absent, wantStalled: cond{metav1.ConditionTrue, servingv1alpha1.ReasonApplyFailed}},
		{name: "an error worth retrying", dep: deploymentFixture(),
			blocked:         &blocker{reason: servingv1alpha1.ReasonApplyFailed, message: "connection refused"},
			wantReconciling: cond{metav1.ConditionTrue, servingv1alpha1.ReasonApplyFailed}, wantStalled: absent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			// Start from a status that had both, to see them removed when they no longer apply.
			isvc := isvcFixture(func(i *servingv1alpha1.InferenceService) {
				i.Status.Conditions = []metav1.Condition{
					{Type: servingv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "Old"},
					{Type: servingv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "Old"},
				}
			})

			status := computeStatus(isvc, observed{deployment: tt.dep, service: serviceFixture(), blocked: tt.blocked}, render.Config{})

			for condType, want := range map[string]cond{
				servingv1alpha1.ConditionReconciling: tt.wantReconciling,
				servingv1alpha1.ConditionStalled:     tt.wantStalled,
			} {
				got := absent
				if c := meta.FindStatusCondition(status.Conditions, condType); c != nil {
					got = cond{c.Status, c.Reason}
				}
				g.Expect(got).To(Equal(want), condType)
			}
		})
	}
}
