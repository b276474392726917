package v1alpha1

import (
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Defaults of spec.metrics.
const (
	// DefaultMetricsPath is where most model servers (vLLM, TGI, MLServer, Triton's metrics
	// port, this project's model server) serve Prometheus metrics.
	DefaultMetricsPath = "/metrics"
)

// AutoscalingEngine is what turns spec.autoscaling into scaling.
// +kubebuilder:validation:Enum=HPA;KEDA
type AutoscalingEngine string

const (
	// EngineHPA: the operator renders a HorizontalPodAutoscaler from spec.autoscaling.metrics.
	EngineHPA AutoscalingEngine = "HPA"
	// EngineKEDA: the operator renders a KEDA ScaledObject (keda.sh/v1alpha1); KEDA creates
	// and drives the HorizontalPodAutoscaler keda-hpa-NAME, and can scale to zero.
	EngineKEDA AutoscalingEngine = "KEDA"
)

// SignalType is an inference-load signal preset.
// +kubebuilder:validation:Enum=QueueDepth;RunningRequests;Latency;KVCacheUtilization;Custom
type SignalType string

const (
	// SignalQueueDepth: requests waiting for the model (summed over the pods); target per pod.
	SignalQueueDepth SignalType = "QueueDepth"
	// SignalRunningRequests: requests being processed now (summed over the pods); target per pod.
	SignalRunningRequests SignalType = "RunningRequests"
	// SignalLatency: the request latency at spec.autoscaling.signals[*].quantile over the
	// pods, in seconds; the target is that latency.
	SignalLatency SignalType = "Latency"
	// SignalKVCacheUtilization: the mean KV-cache utilization of the pods, from 0 to 1.
	SignalKVCacheUtilization SignalType = "KVCacheUtilization"
	// SignalCustom: a PromQL query of your own.
	SignalCustom SignalType = "Custom"
)

// ServerFamily names the model server whose own metric names a signal preset queries.
// +kubebuilder:validation:Enum=vLLM;Triton;TGI;MLServer;Generic
type ServerFamily string

const (
	// ServerVLLM is vLLM (https://docs.vllm.ai/en/stable/usage/metrics/).
	ServerVLLM ServerFamily = "vLLM"
	// ServerTriton is NVIDIA Triton Inference Server.
	ServerTriton ServerFamily = "Triton"
	// ServerTGI is Hugging Face Text Generation Inference.
	ServerTGI ServerFamily = "TGI"
	// ServerMLServer is Seldon MLServer.
	ServerMLServer ServerFamily = "MLServer"
	// ServerGeneric is this project's model server (examples/model-server), and any server
	// that exports the same names.
	ServerGeneric ServerFamily = "Generic"
)

// SignalMetricType is how KEDA's HPA compares a signal with its target.
// +kubebuilder:validation:Enum=AverageValue;Value
type SignalMetricType string

const (
	// SignalAverageValue divides the query's value by the replica count before comparing it
	// with the target: the target is per pod.
	SignalAverageValue SignalMetricType = "AverageValue"
	// SignalValue compares the query's value with the target as it is.
	SignalValue SignalMetricType = "Value"
)

// MetricsSpec says where the model server serves its Prometheus metrics.
type MetricsSpec struct {
	// port is the container port of the metrics endpoint. Default: spec.port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`

	// path is the HTTP path of the metrics endpoint. Default "/metrics".
	// +optional
	// +kubebuilder:default="/metrics"
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/[!-~]*$`
	Path string `json:"path,omitempty"`
}

// MonitoringSpec configures the Prometheus Operator objects the operator renders.
type MonitoringSpec struct {
	// podMonitor renders a monitoring.coreos.com/v1 PodMonitor that scrapes spec.metrics of
	// this service's pods, when the Prometheus Operator's CRDs are installed. Off unless
	// enabled is true, or left out while the operator runs with --default-pod-monitor.
	// +optional
	PodMonitor *PodMonitorSpec `json:"podMonitor,omitempty"`
}

// PodMonitorSpec configures the PodMonitor of an InferenceService.
type PodMonitorSpec struct {
	// enabled turns the PodMonitor on (true) or off (false). Left out, the operator's
	// --default-pod-monitor decides (chart value defaultPodMonitor; off unless set).
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// interval is the scrape interval, for example "15s". Default: Prometheus' own.
	// +optional
	// +kubebuilder:validation:Pattern=`^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`
	// +kubebuilder:validation:MaxLength=32
	Interval string `json:"interval,omitempty"`

	// labels are added to the PodMonitor, for the podMonitorSelector of your Prometheus.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	Labels map[string]string `json:"labels,omitempty"`
}

// AutoscalingSignal is an inference-load signal for KEDA: a preset query on the named
// server's own metrics, scoped to this service's pods, or a Custom PromQL query.
//
// +kubebuilder:validation:XValidation:rule="self.type == 'Latency' ? has(self.quantile) : !has(self.quantile)",message="spec.autoscaling.signals[*].quantile is required for a Latency signal (for example 0.95) and allowed only there",fieldPath=".quantile"
// +kubebuilder:validation:XValidation:rule="self.type == 'Custom' ? has(self.query) : !has(self.query)",message="spec.autoscaling.signals[*].query is required for a Custom signal and allowed only there",fieldPath=".query"
// +kubebuilder:validation:XValidation:rule="self.type == 'Custom' || has(self.server)",message="spec.autoscaling.signals[*].server is required for a preset signal: vLLM, Triton, TGI, MLServer or Generic",fieldPath=".server"
// +kubebuilder:validation:XValidation:rule="!has(self.server) || !((self.type == 'KVCacheUtilization' && self.server != 'vLLM') || (self.type == 'RunningRequests' && self.server == 'Triton') || (self.type == 'QueueDepth' && self.server == 'MLServer'))",message="spec.autoscaling.signals[*].server does not export this signal: KVCacheUtilization is vLLM only, Triton has no running-requests gauge, MLServer no queue-depth gauge (use a Custom query)",fieldPath=".server"
type AutoscalingSignal struct {
	// type is the signal: QueueDepth, RunningRequests, Latency, KVCacheUtilization or Custom.
	// +required
	Type SignalType `json:"type"`

	// target is the value KEDA's HPA holds the signal at: per pod for QueueDepth and
	// RunningRequests, seconds at the quantile for Latency, a fraction from 0 to 1 for
	// KVCacheUtilization. A positive quantity such as 5, "5" or "500m" (a decimal
	// number with an optional SI suffix or exponent).
	// +required
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[+]?([0-9]*[1-9][0-9]*([.][0-9]*)?|[0-9]*[.][0-9]*[1-9][0-9]*)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$`
	// +kubebuilder:validation:XValidation:rule="type(self) != int || self > 0",message="spec.autoscaling.signals[*].target must be a positive quantity, for example \"5\" or \"250m\""
	Target intstr.IntOrString `json:"target"`

	// activationTarget is the value above which KEDA scales from zero to minReplicas
	// (KEDA's activationThreshold). Default 0. It matters only with minReplicas 0, and only
	// a signal that still has a value at zero pods can wake the service (see the README).
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$`
	// +kubebuilder:validation:XValidation:rule="type(self) != int || self >= 0",message="spec.autoscaling.signals[*].activationTarget must be a quantity of at least 0"
	ActivationTarget *intstr.IntOrString `json:"activationTarget,omitempty"`

	// quantile is the latency quantile of a Latency signal, between 0 and 1 exclusive, for
	// example 0.95. Triton serves only the quantiles of its summary_quantiles setting.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Maximum=1
	// +kubebuilder:validation:ExclusiveMaximum=true
	Quantile *float64 `json:"quantile,omitempty"`

	// server is the model server whose metric names the preset queries: vLLM, Triton, TGI,
	// MLServer or Generic (this project's model server). Required for a preset.
	// +optional
	Server ServerFamily `json:"server,omitempty"`

	// query is the PromQL query of a Custom signal. $(NAMESPACE), $(NAME) and
	// $(POD_SELECTOR) are replaced with the namespace, the InferenceService's name and the
	// label matchers of its pods (namespace="NS",pod=~"NAME-..."), for example
	// sum(my_queue{$(POD_SELECTOR)}). A query without them is sent as it is: a metric
	// outside the pods, such as a gateway's, still has a value at zero pods.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Query string `json:"query,omitempty"`

	// metricType is how the value is compared with the target: AverageValue (divided by
	// the replica count: a per-pod target) or Value. Default: AverageValue for QueueDepth,
	// RunningRequests and Custom, Value for Latency and KVCacheUtilization.
	// +optional
	MetricType SignalMetricType `json:"metricType,omitempty"`
}

// KEDASpec holds KEDA ScaledObject settings passed through unchanged
// (https://keda.sh/docs/2.21/reference/scaledobject-spec/).
//
// +kubebuilder:validation:XValidation:rule="!has(self.triggers) || self.triggers.all(t, t.type != 'cpu' && t.type != 'memory')",message="spec.autoscaling.keda.triggers must not be cpu or memory triggers: set spec.autoscaling.metrics, which the operator turns into them",fieldPath=".triggers"
type KEDASpec struct {
	// pollingInterval is how often, in seconds, KEDA checks the triggers (and, at zero,
	// whether to activate). KEDA's default is 30.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	PollingInterval *int32 `json:"pollingInterval,omitempty"`

	// cooldownPeriod is how long, in seconds, KEDA waits after the last active trigger
	// before it scales to zero (minReplicas 0 only). KEDA's default is 300.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=86400
	CooldownPeriod *int32 `json:"cooldownPeriod,omitempty"`

	// idleReplicaCount is the replica count while no trigger is active; KEDA supports only
	// 0, below minReplicas.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=0
	IdleReplicaCount *int32 `json:"idleReplicaCount,omitempty"`

	// fallback is the replica count KEDA sets when a trigger fails failureThreshold times
	// in a row (Prometheus unreachable, a query error). KEDA applies it to AverageValue
	// triggers only, not to cpu or memory.
	// +optional
	Fallback *KEDAFallback `json:"fallback,omitempty"`

	// advanced holds KEDA's advanced settings.
	// +optional
	Advanced *KEDAAdvanced `json:"advanced,omitempty"`

	// triggers are extra KEDA triggers, added after those of signals and metrics, for
	// example a metrics-api or a prometheus trigger on a gateway metric that works at zero.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	Triggers []KEDATrigger `json:"triggers,omitempty"`
}

// KEDAFallback is KEDA's fallback setting.
type KEDAFallback struct {
	// failureThreshold is the number of failed trigger reads in a row before the fallback.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	FailureThreshold int32 `json:"failureThreshold"`

	// replicas is the replica count during the fallback.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Replicas int32 `json:"replicas"`

	// behavior is KEDA's fallback behavior: static (default), currentReplicas,
	// currentReplicasIfHigher or currentReplicasIfLower.
	// +optional
	// +kubebuilder:validation:Enum=static;currentReplicas;currentReplicasIfHigher;currentReplicasIfLower
	Behavior string `json:"behavior,omitempty"`
}

// KEDAAdvanced is KEDA's advanced section.
type KEDAAdvanced struct {
	// horizontalPodAutoscalerConfig configures the HPA KEDA creates. Its behavior is
	// spec.autoscaling.behavior.
	// +optional
	HorizontalPodAutoscalerConfig *KEDAHorizontalPodAutoscalerConfig `json:"horizontalPodAutoscalerConfig,omitempty"`

	// restoreToOriginalReplicaCount makes KEDA set the Deployment back to the replica count
	// it had before the ScaledObject when the ScaledObject is deleted (engine switched to
	// HPA or autoscaling turned off). Default false: the count stays.
	// +optional
	RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
}

// KEDAHorizontalPodAutoscalerConfig is KEDA's advanced.horizontalPodAutoscalerConfig.
type KEDAHorizontalPodAutoscalerConfig struct {
	// name is the name of the HPA KEDA creates. Default keda-hpa-NAME. It must not be the
	// InferenceService's own name, which the operator's HPA has while engine HPA is on.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name,omitempty"`
}

// KEDATrigger is a KEDA trigger passed through unchanged
// (https://keda.sh/docs/2.21/scalers/).
type KEDATrigger struct {
	// type is the KEDA scaler, for example prometheus or metrics-api.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Type string `json:"type"`

	// name names the trigger, which KEDA uses in its metric names.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// metadata is the scaler's configuration.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Metadata map[string]string `json:"metadata,omitempty"`

	// metricType is AverageValue (KEDA's default for most scalers), Value or Utilization.
	// +optional
	// +kubebuilder:validation:Enum=AverageValue;Value;Utilization
	MetricType string `json:"metricType,omitempty"`

	// authenticationRef names a TriggerAuthentication (or, with kind
	// ClusterTriggerAuthentication, a cluster one) holding the scaler's credentials.
	// +optional
	AuthenticationRef *KEDAAuthenticationRef `json:"authenticationRef,omitempty"`
}

// KEDAAuthenticationRef is a KEDA trigger's authenticationRef.
type KEDAAuthenticationRef struct {
	// name of the TriggerAuthentication.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// kind is TriggerAuthentication (default) or ClusterTriggerAuthentication.
	// +optional
	// +kubebuilder:validation:Enum=TriggerAuthentication;ClusterTriggerAuthentication
	Kind string `json:"kind,omitempty"`
}
