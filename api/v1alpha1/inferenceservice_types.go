package v1alpha1

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Defaults applied by the API server (through the CRD schema) or, where a whole object is
// left out, by the operator. They are the documented behaviour of an omitted field.
const (
	DefaultPort                  int32 = 8080
	DefaultHealthPath                  = "/v2/health/ready"
	DefaultStartupTimeoutSeconds int32 = 600
	DefaultMinReplicas           int32 = 1
	DefaultMaxReplicas           int32 = 10
	DefaultCPUUtilization        int32 = 50
	DefaultServicePort           int32 = 80
)

// InferenceServiceSpec describes the model server to run and how to scale and expose it.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.replicas) && has(self.autoscaling))",message="spec.replicas and spec.autoscaling are mutually exclusive: set replicas for a fixed count, or autoscaling for a HorizontalPodAutoscaler",fieldPath=".replicas"
type InferenceServiceSpec struct {
	// image is the container image of the model server, for example
	// "nvcr.io/nvidia/tritonserver:24.08-py3" or "kserve/sklearnserver:v0.14.0".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.trim() == self",message="spec.image must not start or end with spaces"
	Image string `json:"image"`

	// imagePullPolicy is the container's image pull policy: Always, IfNotPresent or Never.
	// Left out, Kubernetes picks Always for a ":latest" or untagged image and IfNotPresent otherwise.
	// +optional
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// imagePullSecrets name Secrets in the same namespace that hold credentials for a
	// private registry. The operator passes the names to the pod and never reads the Secrets.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// command overrides the image's ENTRYPOINT.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Command []string `json:"command,omitempty"`

	// args overrides the image's CMD, for example the model repository and server flags.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	Args []string `json:"args,omitempty"`

	// env sets environment variables of the model server container.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=256
	Env []corev1.EnvVar `json:"env,omitempty"`

	// envFrom fills environment variables from ConfigMaps or Secrets.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	EnvFrom []corev1.EnvFromSource `json:"envFrom,omitempty"`

	// port is the container port that serves inference requests (HTTP). The Service
	// forwards to it and the default probes call it. Default 8080.
	// +optional
	// +kubebuilder:default=8080
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// resources are the container's compute requests and limits. requests.cpu and
	// requests.memory are required: without them the scheduler cannot place inference
	// pods sensibly and CPU autoscaling cannot compute utilization. Each limit, when set,
	// must be at least its request. Extended resources such as nvidia.com/gpu pass through
	// (for those Kubernetes requires the request to equal the limit).
	// +required
	// +kubebuilder:validation:XValidation:rule="has(self.requests) && 'cpu' in self.requests",message="spec.resources.requests.cpu is required"
	// +kubebuilder:validation:XValidation:rule="has(self.requests) && 'memory' in self.requests",message="spec.resources.requests.memory is required"
	// +kubebuilder:validation:XValidation:rule="!has(self.limits) || !has(self.requests) || !('cpu' in self.limits) || !('cpu' in self.requests) || quantity(string(self.limits['cpu'])).compareTo(quantity(string(self.requests['cpu']))) >= 0",message="spec.resources.limits.cpu must be greater than or equal to spec.resources.requests.cpu",reason=FieldValueInvalid
	// +kubebuilder:validation:XValidation:rule="!has(self.limits) || !has(self.requests) || !('memory' in self.limits) || !('memory' in self.requests) || quantity(string(self.limits['memory'])).compareTo(quantity(string(self.requests['memory']))) >= 0",message="spec.resources.limits.memory must be greater than or equal to spec.resources.requests.memory",reason=FieldValueInvalid
	// +kubebuilder:validation:XValidation:rule="!has(self.limits) || !has(self.requests) || !('ephemeral-storage' in self.limits) || !('ephemeral-storage' in self.requests) || quantity(string(self.limits['ephemeral-storage'])).compareTo(quantity(string(self.requests['ephemeral-storage']))) >= 0",message="spec.resources.limits.ephemeral-storage must be greater than or equal to spec.resources.requests.ephemeral-storage",reason=FieldValueInvalid
	// +kubebuilder:validation:XValidation:rule="!has(self.limits) || !has(self.requests) || !('nvidia.com/gpu' in self.limits) || !('nvidia.com/gpu' in self.requests) || quantity(string(self.limits['nvidia.com/gpu'])).compareTo(quantity(string(self.requests['nvidia.com/gpu']))) == 0",message="spec.resources.requests['nvidia.com/gpu'] must equal spec.resources.limits['nvidia.com/gpu'] (Kubernetes does not overcommit extended resources; setting only the limit is enough)",reason=FieldValueInvalid
	// +kubebuilder:validation:XValidation:rule="!has(self.limits) || !has(self.requests) || !('amd.com/gpu' in self.limits) || !('amd.com/gpu' in self.requests) || quantity(string(self.limits['amd.com/gpu'])).compareTo(quantity(string(self.requests['amd.com/gpu']))) == 0",message="spec.resources.requests['amd.com/gpu'] must equal spec.resources.limits['amd.com/gpu'] (Kubernetes does not overcommit extended resources; setting only the limit is enough)",reason=FieldValueInvalid
	Resources corev1.ResourceRequirements `json:"resources"`

	// healthPath is the HTTP path of the default readiness and startup probes.
	// Default "/v2/health/ready", the Open Inference Protocol (KServe v2, Triton) readiness endpoint.
	// Ignored for a probe given explicitly.
	// +optional
	// +kubebuilder:default="/v2/health/ready"
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	HealthPath string `json:"healthPath,omitempty"`

	// readinessProbe decides when a pod receives traffic. Left out, the operator sets an
	// HTTP GET of healthPath on the inference port every 5 seconds.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.httpGet) ? 1 : 0) + (has(self.tcpSocket) ? 1 : 0) + (has(self.exec) ? 1 : 0) + (has(self.grpc) ? 1 : 0) == 1",message="spec.readinessProbe must set exactly one handler: httpGet, tcpSocket, exec or grpc"
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`

	// startupProbe holds back the readiness and liveness probes while the model loads.
	// Left out, the operator uses the readiness check with a budget of startupTimeoutSeconds,
	// so slow model loads are not killed.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.httpGet) ? 1 : 0) + (has(self.tcpSocket) ? 1 : 0) + (has(self.exec) ? 1 : 0) + (has(self.grpc) ? 1 : 0) == 1",message="spec.startupProbe must set exactly one handler: httpGet, tcpSocket, exec or grpc"
	StartupProbe *corev1.Probe `json:"startupProbe,omitempty"`

	// livenessProbe restarts a container that stops answering. Off unless given: a busy
	// model server that answers slowly should not be restarted mid-request.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.httpGet) ? 1 : 0) + (has(self.tcpSocket) ? 1 : 0) + (has(self.exec) ? 1 : 0) + (has(self.grpc) ? 1 : 0) == 1",message="spec.livenessProbe must set exactly one handler: httpGet, tcpSocket, exec or grpc"
	LivenessProbe *corev1.Probe `json:"livenessProbe,omitempty"`

	// startupTimeoutSeconds is how long a pod may take to load its model and pass the
	// default startup probe before it is restarted. Default 600.
	// +optional
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	StartupTimeoutSeconds int32 `json:"startupTimeoutSeconds,omitempty"`

	// replicas runs a fixed number of pods and turns autoscaling off. Mutually exclusive
	// with autoscaling; when both are left out, autoscaling is on with its defaults.
	// Also written by "kubectl scale infsvc".
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Replicas *int32 `json:"replicas,omitempty"`

	// autoscaling configures the HorizontalPodAutoscaler. Mutually exclusive with replicas.
	// When both are left out the operator scales between 1 and 10 replicas on 50% CPU utilization.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// service configures the Service that exposes the inference port.
	// +optional
	// +kubebuilder:default={}
	Service ServiceSpec `json:"service,omitempty"`

	// podDisruptionBudget, when set, creates a PodDisruptionBudget that limits voluntary
	// evictions (node drains) of this service's pods. Removed from the spec, it is deleted.
	// +optional
	PodDisruptionBudget *PodDisruptionBudgetSpec `json:"podDisruptionBudget,omitempty"`

	// nodeSelector restricts pods to nodes with these labels, for example a GPU node pool.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations let pods run on tainted nodes, for example nodes tainted nvidia.com/gpu.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// affinity sets node and pod (anti-)affinity rules for the pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// topologySpreadConstraints spread the pods across zones or nodes.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// serviceAccountName is the ServiceAccount the pods run as. Default: the namespace's "default".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// priorityClassName sets the pods' PriorityClass.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// podAnnotations are added to every pod, for example for a metrics scraper.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`

	// podLabels are added to every pod. The operator's own labels
	// (app.kubernetes.io/* and serving.inferenceops.dev/*) win over these.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	PodLabels map[string]string `json:"podLabels,omitempty"`

	// volumes are added to the pod, for example a model cache or a shared-memory emptyDir.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Volumes []corev1.Volume `json:"volumes,omitempty"`

	// volumeMounts mount volumes into the model server container.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	VolumeMounts []corev1.VolumeMount `json:"volumeMounts,omitempty"`

	// automountServiceAccountToken mounts the service account's API token into the pods.
	// Default false: a model server rarely talks to the Kubernetes API, and a token it
	// does not need is only a risk.
	// +optional
	AutomountServiceAccountToken *bool `json:"automountServiceAccountToken,omitempty"`

	// securityContext is the pod-level security context. Fields left unset get hardened
	// defaults that work with common images: seccompProfile RuntimeDefault. Set
	// runAsNonRoot: true (with an image that runs as a non-root user) to meet the
	// "restricted" Pod Security Standard.
	// +optional
	SecurityContext *corev1.PodSecurityContext `json:"securityContext,omitempty"`

	// containerSecurityContext is the model server container's security context. Fields
	// left unset get hardened defaults that work with common images:
	// allowPrivilegeEscalation false and all capabilities dropped.
	// +optional
	ContainerSecurityContext *corev1.SecurityContext `json:"containerSecurityContext,omitempty"`

	// terminationGracePeriodSeconds is how long a pod may take to finish in-flight
	// requests after it is asked to stop. Default 30 (Kubernetes' default).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=86400
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`

	// strategy is the Deployment's update strategy. RollingUpdate (default) keeps serving
	// during a rollout; Recreate stops old pods first, which a GPU-bound service with no
	// spare GPU needs.
	// +optional
	Strategy *appsv1.DeploymentStrategy `json:"strategy,omitempty"`
}

// AutoscalingSpec configures the HorizontalPodAutoscaler that scales the model server.
//
// +kubebuilder:validation:XValidation:rule="self.minReplicas <= self.maxReplicas",message="spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas (default 10)",fieldPath=".minReplicas"
type AutoscalingSpec struct {
	// minReplicas is the lowest replica count the autoscaler keeps. Default 1, at least 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	MinReplicas int32 `json:"minReplicas,omitempty"`

	// maxReplicas is the highest replica count the autoscaler may reach. Leave headroom
	// for load peaks. Default 10.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	MaxReplicas int32 `json:"maxReplicas,omitempty"`

	// metrics are the autoscaling/v2 metrics to scale on, passed to the HPA unchanged.
	// Default: one Resource metric, cpu at 50% average utilization. Scale on what reflects
	// inference load where an adapter serves it: a Pods metric such as a queue length or an
	// External metric such as requests per second. A Resource or ContainerResource metric
	// must name cpu or memory: the resource metrics API serves only those.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type in ['Resource', 'Pods', 'Object', 'External', 'ContainerResource'])",message="spec.autoscaling.metrics[*].type must be one of Resource, Pods, Object, External, ContainerResource"
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type != 'Resource' || (has(m.resource) && m.resource.name in ['cpu', 'memory']))",message="spec.autoscaling.metrics[*].resource.name must be cpu or memory for a Resource metric (the resource metrics API serves only those)"
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type != 'ContainerResource' || (has(m.containerResource) && m.containerResource.name in ['cpu', 'memory']))",message="spec.autoscaling.metrics[*].containerResource.name must be cpu or memory for a ContainerResource metric (the resource metrics API serves only those)"
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type != 'Pods' || has(m.pods))",message="spec.autoscaling.metrics[*].pods is required for a metric of type Pods"
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type != 'Object' || has(m.object))",message="spec.autoscaling.metrics[*].object is required for a metric of type Object"
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type != 'External' || has(m.external))",message="spec.autoscaling.metrics[*].external is required for a metric of type External"
	Metrics []autoscalingv2.MetricSpec `json:"metrics,omitempty"`

	// behavior tunes how fast the HPA scales up and down (autoscaling/v2
	// HorizontalPodAutoscalerBehavior), passed to the HPA unchanged.
	// +optional
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
}

// ServiceType is the type of the Service that exposes an InferenceService.
// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
type ServiceType string

// ServiceSpec configures the Service in front of the model server.
type ServiceSpec struct {
	// type is ClusterIP (default, reachable inside the cluster), NodePort or LoadBalancer.
	// +optional
	// +kubebuilder:default=ClusterIP
	Type ServiceType `json:"type,omitempty"`

	// port is the port the Service listens on; it forwards to spec.port. Default 80.
	// +optional
	// +kubebuilder:default=80
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// annotations are set on the Service, for example a cloud load balancer's options.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`
}

// PodDisruptionBudgetSpec sets exactly one of minAvailable or maxUnavailable of the
// PodDisruptionBudget, as a number of pods or a percentage such as "50%".
//
// +kubebuilder:validation:XValidation:rule="has(self.minAvailable) != has(self.maxUnavailable)",message="spec.podDisruptionBudget must set exactly one of minAvailable or maxUnavailable"
type PodDisruptionBudgetSpec struct {
	// minAvailable is how many pods must stay up during voluntary disruptions.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",message="spec.podDisruptionBudget.minAvailable must be a non-negative number or a percentage such as \"50%\""
	MinAvailable *intstr.IntOrString `json:"minAvailable,omitempty"`

	// maxUnavailable is how many pods may be down during voluntary disruptions.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",message="spec.podDisruptionBudget.maxUnavailable must be a non-negative number or a percentage such as \"50%\""
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// InferenceServiceStatus is how the service is doing, recomputed from its children on
// every reconcile.
type InferenceServiceStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (the summary), Available, Progressing, and while autoscaling is
	// on the HorizontalPodAutoscaler's AbleToScale, ScalingActive and ScalingLimited.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// replicas is the number of pods the Deployment runs (any template version).
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// readyReplicas is the number of pods that pass their readiness probe and get traffic.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// updatedReplicas is the number of pods that run the latest pod template.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`

	// availableReplicas is the number of pods ready for at least minReadySeconds.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`

	// desiredReplicas is the replica count the autoscaler last chose, or spec.replicas
	// when autoscaling is off.
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas,omitempty"`

	// minReplicas is the autoscaler's lower bound in effect (spec.replicas when autoscaling is off).
	// +optional
	MinReplicas int32 `json:"minReplicas,omitempty"`

	// maxReplicas is the autoscaler's upper bound in effect (spec.replicas when autoscaling is off).
	// +optional
	MaxReplicas int32 `json:"maxReplicas,omitempty"`

	// currentMetrics are the metric values the autoscaler last read.
	// +optional
	// +listType=atomic
	CurrentMetrics []autoscalingv2.MetricStatus `json:"currentMetrics,omitempty"`

	// targets summarises the first metric as current/target, the way "kubectl get hpa"
	// shows it, for example "cpu: 30%/50%" or "inference_queue_length: 30/10".
	// +optional
	Targets string `json:"targets,omitempty"`

	// lastScaleTime is when the autoscaler last changed the replica count.
	// +optional
	LastScaleTime *metav1.Time `json:"lastScaleTime,omitempty"`

	// selector is the label selector of the pods, in string form (used by the scale subresource).
	// +optional
	Selector string `json:"selector,omitempty"`

	// url is the in-cluster address of the service:
	// http://NAME.NAMESPACE.svc.cluster.local:PORT.
	// +optional
	URL string `json:"url,omitempty"`

	// externalURL is the address of a LoadBalancer Service once the cloud assigned one.
	// +optional
	ExternalURL string `json:"externalURL,omitempty"`
}

// InferenceService serves a model: the operator runs it as a Deployment with
// requests, limits and probes, exposes it with a Service, scales it with a
// HorizontalPodAutoscaler, and reports back here how it is doing.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=infsvc,categories=inference
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.status.readyReplicas`,description="Ready replicas"
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desiredReplicas`
// +kubebuilder:printcolumn:name="Min",type=integer,JSONPath=`.status.minReplicas`
// +kubebuilder:printcolumn:name="Max",type=integer,JSONPath=`.status.maxReplicas`
// +kubebuilder:printcolumn:name="Targets",type=string,JSONPath=`.status.targets`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: the Service is named after the InferenceService and must fit a DNS label"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter): the Service is named after the InferenceService"
type InferenceService struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the object's metadata. The name names every child (Deployment, Service,
	// HPA, PDB), so it must be a DNS-1035 label of at most 63 characters.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what to serve and how.
	// +required
	Spec InferenceServiceSpec `json:"spec"`

	// status is how it is doing, written by the operator. Until the operator's first
	// write it reads observedGeneration 0, so that health checks (kstatus, Flux, Argo CD)
	// see a new InferenceService as in progress rather than current.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status InferenceServiceStatus `json:"status,omitempty"`
}

// InferenceServiceList is a list of InferenceServices.
//
// +kubebuilder:object:root=true
type InferenceServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []InferenceService `json:"items"`
}
