package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// MaxScaleEvents is how many scale events status.scaling keeps, newest last.
const MaxScaleEvents = 10

// ScalingStatus tells why the service has the replicas it has: the metric that decided
// the autoscaler's last choice and the last scale events. It is set only while
// autoscaling is on, from the HorizontalPodAutoscaler's status (no extra API request).
type ScalingStatus struct {
	// limitingMetric is the metric whose current/target ratio is the highest, which is the
	// one that decides the replica count when there are several (the autoscaler takes the
	// largest proposal), as "name: current/target", for example "cpu: 250%/80%".
	// +optional
	LimitingMetric string `json:"limitingMetric,omitempty"`

	// limitingRatio is that metric's current/target ratio, two decimals ("3.12"): above
	// 1 the autoscaler wants more pods, below 1 fewer.
	// +optional
	LimitingRatio string `json:"limitingRatio,omitempty"`

	// lastScale summarises the newest scale event, for "kubectl get -o wide":
	// "2 -> 4 (cpu: 250%/80%)".
	// +optional
	LastScale string `json:"lastScale,omitempty"`

	// events are the last scale events the operator saw, oldest first, at most 10.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	Events []ScaleEvent `json:"events,omitempty"`
}

// ScaleEvent is one change of the autoscaler's desired replica count.
type ScaleEvent struct {
	// time is when the autoscaler changed the count (its lastScaleTime).
	Time metav1.Time `json:"time"`

	// from is the desired replica count before the change.
	From int32 `json:"from"`

	// to is the desired replica count after it.
	To int32 `json:"to"`

	// reason is ScaleUp or ScaleDown, followed by the autoscaler's own words when it gave
	// some (its AbleToScale or ScalingLimited message).
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason"`

	// metric is the limiting metric's value that drove the change, as "name: current/target".
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Metric string `json:"metric,omitempty"`
}
