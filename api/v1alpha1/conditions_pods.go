package v1alpha1

// Condition types and reasons of paused services and of pods that cannot be scheduled.
const (
	// ConditionPaused is present, and True, while spec.paused is true: the operator
	// applies and deletes none of the service's children, and keeps reporting their state.
	ConditionPaused = "Paused"
	// ConditionPodsSchedulable is False when a pod of the service waits for a node
	// (the scheduler found none that fits), with the scheduler's message; True otherwise.
	ConditionPodsSchedulable = "PodsSchedulable"

	// ReasonPaused: spec.paused is true.
	ReasonPaused = "Paused"
	// ReasonUnschedulable: the scheduler found no node for a pod of the service; the
	// message is the scheduler's, for example "0/3 nodes are available: 3 Insufficient nvidia.com/gpu".
	ReasonUnschedulable = "Unschedulable"
	// ReasonPodsScheduled: no pod of the service waits for a node.
	ReasonPodsScheduled = "PodsScheduled"
)
