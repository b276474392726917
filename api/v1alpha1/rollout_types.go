package v1alpha1

import "k8s.io/apimachinery/pkg/util/intstr"

// RolloutPolicy says how a new pod template replaces the old one.
// +kubebuilder:validation:Enum=Auto;Surge;Recreate
type RolloutPolicy string

const (
	// RolloutAuto surges (new pods first, old ones removed once the new ones are
	// available) while that works. When a surge pod cannot be scheduled because the
	// cluster has no free unit of an extended resource it requests (a GPU) and the
	// service's old pods hold such units, the rest of that rollout replaces one pod at a
	// time, old pod first (maxSurge 0, maxUnavailable 1), unless a PodDisruptionBudget
	// allows no pod down. The next rollout surges again.
	RolloutAuto RolloutPolicy = "Auto"
	// RolloutSurge always surges with maxSurge and maxUnavailable, even when a surge pod
	// can never be scheduled; such a rollout waits and says so in PodsSchedulable and Ready.
	RolloutSurge RolloutPolicy = "Surge"
	// RolloutRecreate stops every old pod before it starts the new ones (an outage).
	RolloutRecreate RolloutPolicy = "Recreate"
)

// RolloutSpec says how a change of the pod template rolls out.
//
// +kubebuilder:validation:XValidation:rule="!has(self.policy) || self.policy != 'Recreate' || (!has(self.maxSurge) && !has(self.maxUnavailable))",message="spec.rollout.maxSurge and spec.rollout.maxUnavailable must not be set with spec.rollout.policy Recreate, which stops every old pod first"
// +kubebuilder:validation:XValidation:rule="!has(self.maxSurge) || !has(self.maxUnavailable) || !((type(self.maxSurge) == int ? self.maxSurge == 0 : self.maxSurge.matches('^0+%$')) && (type(self.maxUnavailable) == int ? self.maxUnavailable == 0 : self.maxUnavailable.matches('^0+%$')))",message="spec.rollout.maxSurge and spec.rollout.maxUnavailable must not both be 0: such a rollout can neither add nor remove a pod"
type RolloutSpec struct {
	// policy is Auto (default), Surge or Recreate. Auto surges while a surge pod can be
	// scheduled, and replaces one pod at a time (old pod first) for the rest of a rollout
	// whose surge pod cannot get an extended resource, such as nvidia.com/gpu, that the
	// old pods hold; never while a PodDisruptionBudget allows no pod down. Surge always
	// surges, with maxSurge and maxUnavailable. Recreate stops every old pod first.
	// +optional
	// +kubebuilder:default=Auto
	Policy RolloutPolicy `json:"policy,omitempty"`

	// maxSurge is how many pods above the desired count a rollout may add, a number or a
	// percentage such as "25%" (rounded up). Default: the Deployment's, 25%.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:Pattern=`^[0-9]{1,5}%$`
	// +kubebuilder:validation:XValidation:rule="type(self) != int || self >= 0",message="spec.rollout.maxSurge must not be negative"
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`

	// maxUnavailable is how many of the desired pods a rollout may take down at once, a
	// number or a percentage of at most 100% (rounded down). Default: the Deployment's, 25%.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:Pattern=`^(100|[1-9]?[0-9])%$`
	// +kubebuilder:validation:XValidation:rule="type(self) != int || self >= 0",message="spec.rollout.maxUnavailable must not be negative"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}
