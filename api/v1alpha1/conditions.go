package v1alpha1

// Condition types reported in .status.conditions.
const (
	// ConditionReady summarises the others: True when every child is in place and the
	// service can take traffic from at least the replicas it asked for.
	ConditionReady = "Ready"
	// ConditionAvailable tells whether enough pods are available to serve: with a fixed
	// replica count, the Deployment's own minimum availability; while autoscaling,
	// minReplicas (or the current count when lower), so that a scale-out is never an outage.
	ConditionAvailable = "Available"
	// ConditionProgressing tells whether a rollout is under way (True, RolloutInProgress),
	// finished (True, RolloutComplete) or stuck (False, ProgressDeadlineExceeded).
	ConditionProgressing = "Progressing"
	// ConditionAbleToScale is the HorizontalPodAutoscaler's own condition, copied while
	// autoscaling is on.
	ConditionAbleToScale = "AbleToScale"
	// ConditionScalingActive is the HorizontalPodAutoscaler's own condition, copied while
	// autoscaling is on. False means the HPA cannot compute a replica count, for example
	// because no adapter serves a metric.
	ConditionScalingActive = "ScalingActive"
	// ConditionScalingLimited is the HorizontalPodAutoscaler's own condition, copied while
	// autoscaling is on. True means the desired count was clamped to minReplicas or maxReplicas.
	ConditionScalingLimited = "ScalingLimited"
	// ConditionReconciling is present, and True, while the service is on its way to Ready
	// (children being created, a rollout, pods starting, a retried error). Together with
	// Stalled it follows the kstatus convention that Flux, Argo CD and kubectl tooling read.
	ConditionReconciling = "Reconciling"
	// ConditionScaledObjectReady is KEDA's ScaledObject's Ready condition, copied while
	// engine KEDA is on: False means KEDA cannot build a scaler from a trigger.
	ConditionScaledObjectReady = "ScaledObjectReady"
	// ConditionScaledObjectActive is KEDA's Active condition: True while a trigger is above
	// its activation target (KEDA scales from zero on it).
	ConditionScaledObjectActive = "ScaledObjectActive"
	// ConditionScaledObjectFallback is KEDA's Fallback condition: True while KEDA holds
	// spec.autoscaling.keda.fallback.replicas because a trigger keeps failing.
	ConditionScaledObjectFallback = "ScaledObjectFallback"
	// ConditionScaledObjectPaused is KEDA's Paused condition (the autoscaling.keda.sh/paused
	// annotations).
	ConditionScaledObjectPaused = "ScaledObjectPaused"
	// ConditionStalled is present, and True, when the service cannot become Ready without
	// someone changing something: a stuck rollout, a child name taken by another object,
	// or a child the API server refuses.
	ConditionStalled = "Stalled"
)

// Reasons of the Ready, Available and Progressing conditions. The HPA conditions keep the
// HorizontalPodAutoscaler's own reasons.
const (
	// ReasonReady: every child is in place, the latest pod template is rolled out and at
	// least the minimum of pods is available: the service serves.
	ReasonReady = "Ready"
	// ReasonScaledToZero: replicas is 0, so nothing serves, as asked.
	ReasonScaledToZero = "ScaledToZero"
	// ReasonReplicasNotReady: fewer pods are available than the minimum needed to serve.
	ReasonReplicasNotReady = "ReplicasNotReady"
	// ReasonReplicaFailure: pods cannot be created (a quota, a Pod Security refusal, a
	// missing ServiceAccount); the message is the ReplicaSet controller's.
	ReasonReplicaFailure = "ReplicaFailure"
	// ReasonRolloutInProgress: the Deployment is rolling out a new pod template.
	ReasonRolloutInProgress = "RolloutInProgress"
	// ReasonRolloutComplete: the latest pod template runs on every replica.
	ReasonRolloutComplete = "RolloutComplete"
	// ReasonProgressDeadlineExceeded: the rollout made no progress within the Deployment's
	// progress deadline (for example an image that cannot be pulled or pods that never get ready).
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonMinimumReplicasAvailable: the Deployment has its minimum of available pods.
	ReasonMinimumReplicasAvailable = "MinimumReplicasAvailable"
	// ReasonMinimumReplicasUnavailable: the Deployment lacks its minimum of available pods.
	ReasonMinimumReplicasUnavailable = "MinimumReplicasUnavailable"
	// ReasonDeploymentPending: the Deployment has not reported status for its latest spec yet.
	ReasonDeploymentPending = "DeploymentPending"
	// ReasonResourceConflict: an object with a child's name exists and is not controlled by
	// this InferenceService; the operator leaves it alone. Rename or delete one of them.
	ReasonResourceConflict = "ResourceConflict"
	// ReasonWaitingForPreviousChildren: a child of a deleted InferenceService of the same
	// name is still there; the garbage collector removes it, then this one's is created.
	ReasonWaitingForPreviousChildren = "WaitingForPreviousChildren"
	// ReasonUnspecified: a condition copied from the HorizontalPodAutoscaler that came
	// without a reason of its own.
	ReasonUnspecified = "Unspecified"
	// ReasonKEDAMissing: engine KEDA is asked for, but KEDA's ScaledObject CRD
	// (scaledobjects.keda.sh) is not installed. The rest of the service runs, unscaled.
	ReasonKEDAMissing = "KEDAMissing"
	// ReasonApplyFailed: the API server refused a child the operator built; the message says why.
	ReasonApplyFailed = "ApplyFailed"
)
