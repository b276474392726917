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
	DefaultDrainSeconds          int32 = 5
	// DefaultTerminationGracePeriodSeconds is Kubernetes' own default.
	DefaultTerminationGracePeriodSeconds int64 = 30
	DefaultMinReplicas                   int32 = 1
	DefaultMaxReplicas                   int32 = 10
	DefaultCPUUtilization                int32 = 50
	DefaultServicePort                   int32 = 80
)

// InferenceServiceSpec describes the model server to run and how to scale and expose it.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.replicas) && has(self.autoscaling))",message="spec.replicas and spec.autoscaling are mutually exclusive: set replicas for a fixed count, or autoscaling for a HorizontalPodAutoscaler",fieldPath=".replicas"
// +kubebuilder:validation:XValidation:rule="!has(self.volumeMounts) || self.volumeMounts.all(m, has(self.volumes) && m.name in self.volumes.map(v, v.name))",message="spec.volumeMounts[*].name must name a volume of spec.volumes",fieldPath=".volumeMounts"
// +kubebuilder:validation:XValidation:rule="!has(self.volumeMounts) || !self.volumeMounts.exists(m, has(m.mountPropagation) && m.mountPropagation == 'Bidirectional') || (has(self.containerSecurityContext) && has(self.containerSecurityContext.privileged) && self.containerSecurityContext.privileged)",message="spec.volumeMounts[*].mountPropagation Bidirectional needs spec.containerSecurityContext.privileged true",fieldPath=".volumeMounts"
// +kubebuilder:validation:XValidation:rule="!has(self.rollout) || !has(self.strategy)",message="spec.rollout and spec.strategy are mutually exclusive: set rollout (policy Auto, Surge or Recreate), or strategy for the Deployment's own",fieldPath=".rollout"
// +kubebuilder:validation:XValidation:rule="!has(self.drainSeconds) || self.drainSeconds == 0 || self.drainSeconds < (has(self.terminationGracePeriodSeconds) ? self.terminationGracePeriodSeconds : 30)",message="spec.drainSeconds must be less than spec.terminationGracePeriodSeconds (default 30): the pod is killed when the grace period ends, drained or not",fieldPath=".drainSeconds"
type InferenceServiceSpec struct {
	// image is the container image of the model server, for example
	// "nvcr.io/nvidia/tritonserver:24.08-py3" or "kserve/sklearnserver:v0.14.0".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.trim() == self",message="spec.image must not start or end with spaces"
	// +kubebuilder:validation:XValidation:rule="self.trim() != self || (self.matches('^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])([.]([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(:[0-9]+)?/|[[][a-fA-F0-9:]+[]](:[0-9]+)?/)?[a-z0-9]+(([._]|__|[-]+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|[-]+)[a-z0-9]+)*)*(:[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(@(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}))?$') && !self.matches('^[a-f0-9]{64}$'))",message="spec.image must be an image reference: [registry[:port]/]repository[:tag][@digest], with a lower-case repository path, a tag of at most 128 characters and a sha256, sha384 or sha512 digest, for example registry.example.com/team/model:1.0"
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
	// +kubebuilder:validation:XValidation:rule="self.all(e, !has(e.valueFrom) || (has(e.valueFrom.fieldRef) ? 1 : 0) + (has(e.valueFrom.resourceFieldRef) ? 1 : 0) + (has(e.valueFrom.configMapKeyRef) ? 1 : 0) + (has(e.valueFrom.secretKeyRef) ? 1 : 0) + (has(e.valueFrom.fileKeyRef) ? 1 : 0) == 1)",message="spec.env[*].valueFrom must set exactly one of fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef or fileKeyRef"
	// +kubebuilder:validation:XValidation:rule="self.all(e, !has(e.valueFrom) || !has(e.value) || e.value == '')",message="spec.env[*].value and spec.env[*].valueFrom are mutually exclusive"
	// +kubebuilder:validation:XValidation:rule="self.all(e, !has(e.valueFrom) || !has(e.valueFrom.fieldRef) || ((!has(e.valueFrom.fieldRef.apiVersion) || e.valueFrom.fieldRef.apiVersion in ['', 'v1']) && (e.valueFrom.fieldRef.fieldPath in ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'] || ((e.valueFrom.fieldRef.fieldPath.startsWith('metadata.labels[\\x27') || e.valueFrom.fieldRef.fieldPath.startsWith('metadata.annotations[\\x27')) && e.valueFrom.fieldRef.fieldPath.endsWith('\\x27]')))))",message="spec.env[*].valueFrom.fieldRef.fieldPath must be one of metadata.name, metadata.namespace, metadata.uid, spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP, status.podIPs, metadata.labels['KEY'] or metadata.annotations['KEY'], with apiVersion v1"
	// +kubebuilder:validation:XValidation:rule="self.all(e, !has(e.valueFrom) || !has(e.valueFrom.resourceFieldRef) || e.valueFrom.resourceFieldRef.resource in ['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage'] || e.valueFrom.resourceFieldRef.resource.startsWith('limits.hugepages-') || e.valueFrom.resourceFieldRef.resource.startsWith('requests.hugepages-'))",message="spec.env[*].valueFrom.resourceFieldRef.resource must be limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory, requests.ephemeral-storage or a hugepages limit or request"
	// +kubebuilder:validation:XValidation:rule="self.all(e, !has(e.valueFrom) || ((!has(e.valueFrom.configMapKeyRef) || (e.valueFrom.configMapKeyRef.key != '' && e.valueFrom.configMapKeyRef.key != '.' && !e.valueFrom.configMapKeyRef.key.startsWith('..') && size(e.valueFrom.configMapKeyRef.key) <= 253 && (has(e.valueFrom.configMapKeyRef.name) && e.valueFrom.configMapKeyRef.name != ''))) && (!has(e.valueFrom.secretKeyRef) || (e.valueFrom.secretKeyRef.key != '' && e.valueFrom.secretKeyRef.key != '.' && !e.valueFrom.secretKeyRef.key.startsWith('..') && size(e.valueFrom.secretKeyRef.key) <= 253 && (has(e.valueFrom.secretKeyRef.name) && e.valueFrom.secretKeyRef.name != '')))))",message="spec.env[*].valueFrom configMapKeyRef and secretKeyRef need a name and a key of at most 253 characters that is not '.' and does not start with '..'"
	Env []corev1.EnvVar `json:"env,omitempty"`

	// envFrom fills environment variables from ConfigMaps or Secrets.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(e, has(e.configMapRef) != has(e.secretRef))",message="spec.envFrom[*] must set exactly one of configMapRef or secretRef"
	// +kubebuilder:validation:XValidation:rule="self.all(e, (!has(e.configMapRef) || (has(e.configMapRef.name) && e.configMapRef.name != '')) && (!has(e.secretRef) || (has(e.secretRef.name) && e.secretRef.name != '')))",message="spec.envFrom[*].configMapRef.name and secretRef.name must name a ConfigMap or Secret"
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
	// +kubebuilder:validation:XValidation:rule="!has(self.requests) || self.requests.all(k, (k.contains('/') ? !k.startsWith('requests.') : (k in ['cpu', 'memory', 'ephemeral-storage'] || k.startsWith('hugepages-'))))",message="spec.resources.requests keys must be cpu, memory, ephemeral-storage, hugepages-SIZE or an extended resource with a domain prefix such as nvidia.com/gpu (not starting with requests.)"
	// +kubebuilder:validation:XValidation:rule="!has(self.limits) || self.limits.all(k, (k.contains('/') ? !k.startsWith('requests.') : (k in ['cpu', 'memory', 'ephemeral-storage'] || k.startsWith('hugepages-'))))",message="spec.resources.limits keys must be cpu, memory, ephemeral-storage, hugepages-SIZE or an extended resource with a domain prefix such as nvidia.com/gpu (not starting with requests.)"
	// +kubebuilder:validation:XValidation:rule="!has(self.requests) || self.requests.all(k, (type(self.requests[k]) == int ? self.requests[k] >= 0 : !self.requests[k].startsWith('-')))",message="spec.resources.requests must not be negative"
	// +kubebuilder:validation:XValidation:rule="!has(self.limits) || self.limits.all(k, (type(self.limits[k]) == int ? self.limits[k] >= 0 : !self.limits[k].startsWith('-')))",message="spec.resources.limits must not be negative"
	// +kubebuilder:validation:XValidation:rule="(!has(self.requests) || ((!('nvidia.com/gpu' in self.requests) || quantity(string(self.requests['nvidia.com/gpu'])).isInteger()) && (!('amd.com/gpu' in self.requests) || quantity(string(self.requests['amd.com/gpu'])).isInteger()))) && (!has(self.limits) || ((!('nvidia.com/gpu' in self.limits) || quantity(string(self.limits['nvidia.com/gpu'])).isInteger()) && (!('amd.com/gpu' in self.limits) || quantity(string(self.limits['amd.com/gpu'])).isInteger())))",message="spec.resources requests and limits of nvidia.com/gpu and amd.com/gpu must be whole numbers"
	// +kubebuilder:validation:XValidation:rule="!has(self.requests) || self.requests.all(k, ((!k.contains('/') || k.contains('kubernetes.io/')) && !k.startsWith('hugepages-')) || (has(self.limits) && k in self.limits))",message="spec.resources.limits must be set for every extended resource and hugepages size in spec.resources.requests (setting only the limit is enough)"
	// +kubebuilder:validation:XValidation:rule="(!has(self.requests) || ((!('hugepages-2Mi' in self.requests) || (quantity(string(self.requests['hugepages-2Mi'])).isInteger() && quantity(string(self.requests['hugepages-2Mi'])).asInteger() % 2097152 == 0)) && (!('hugepages-1Gi' in self.requests) || (quantity(string(self.requests['hugepages-1Gi'])).isInteger() && quantity(string(self.requests['hugepages-1Gi'])).asInteger() % 1073741824 == 0)))) && (!has(self.limits) || ((!('hugepages-2Mi' in self.limits) || (quantity(string(self.limits['hugepages-2Mi'])).isInteger() && quantity(string(self.limits['hugepages-2Mi'])).asInteger() % 2097152 == 0)) && (!('hugepages-1Gi' in self.limits) || (quantity(string(self.limits['hugepages-1Gi'])).isInteger() && quantity(string(self.limits['hugepages-1Gi'])).asInteger() % 1073741824 == 0))))",message="spec.resources requests and limits of hugepages-2Mi and hugepages-1Gi must be whole multiples of the page size"
	// +kubebuilder:validation:XValidation:rule="!has(self.requests) || !has(self.limits) || ((!('hugepages-2Mi' in self.requests) || !('hugepages-2Mi' in self.limits) || quantity(string(self.requests['hugepages-2Mi'])).compareTo(quantity(string(self.limits['hugepages-2Mi']))) == 0) && (!('hugepages-1Gi' in self.requests) || !('hugepages-1Gi' in self.limits) || quantity(string(self.requests['hugepages-1Gi'])).compareTo(quantity(string(self.limits['hugepages-1Gi']))) == 0))",message="spec.resources.requests of hugepages-2Mi and hugepages-1Gi must equal the limits"
	// +kubebuilder:validation:XValidation:rule="!has(self.claims) || size(self.claims) == 0",message="spec.resources.claims must be empty: the pod of an InferenceService declares no spec.resourceClaims for the container to use"
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
	// +kubebuilder:validation:XValidation:rule="(!has(self.initialDelaySeconds) || self.initialDelaySeconds >= 0) && (!has(self.timeoutSeconds) || self.timeoutSeconds >= 0) && (!has(self.periodSeconds) || self.periodSeconds >= 0) && (!has(self.successThreshold) || self.successThreshold >= 0) && (!has(self.failureThreshold) || self.failureThreshold >= 0)",message="spec.readinessProbe: initialDelaySeconds, timeoutSeconds, periodSeconds, successThreshold and failureThreshold must not be negative"
	// +kubebuilder:validation:XValidation:rule="(!has(self.httpGet) || (type(self.httpGet.port) == int ? self.httpGet.port >= 1 && self.httpGet.port <= 65535 : self.httpGet.port == 'http')) && (!has(self.tcpSocket) || (type(self.tcpSocket.port) == int ? self.tcpSocket.port >= 1 && self.tcpSocket.port <= 65535 : self.tcpSocket.port == 'http')) && (!has(self.grpc) || (self.grpc.port >= 1 && self.grpc.port <= 65535))",message="spec.readinessProbe port (httpGet.port, tcpSocket.port or grpc.port) must be a number from 1 to 65535 or http, the name of the container's inference port"
	// +kubebuilder:validation:XValidation:rule="!has(self.httpGet) || !has(self.httpGet.scheme) || self.httpGet.scheme in ['', 'HTTP', 'HTTPS']",message="spec.readinessProbe.httpGet.scheme must be HTTP or HTTPS"
	// +kubebuilder:validation:XValidation:rule="!has(self.exec) || (has(self.exec.command) && size(self.exec.command) > 0)",message="spec.readinessProbe.exec.command must not be empty"
	// +kubebuilder:validation:XValidation:rule="!has(self.terminationGracePeriodSeconds)",message="spec.readinessProbe.terminationGracePeriodSeconds must not be set: Kubernetes allows it only on liveness and startup probes"
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`

	// startupProbe holds back the readiness and liveness probes while the model loads.
	// Left out, the operator uses the readiness check with a budget of startupTimeoutSeconds,
	// so slow model loads are not killed.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.httpGet) ? 1 : 0) + (has(self.tcpSocket) ? 1 : 0) + (has(self.exec) ? 1 : 0) + (has(self.grpc) ? 1 : 0) == 1",message="spec.startupProbe must set exactly one handler: httpGet, tcpSocket, exec or grpc"
	// +kubebuilder:validation:XValidation:rule="(!has(self.initialDelaySeconds) || self.initialDelaySeconds >= 0) && (!has(self.timeoutSeconds) || self.timeoutSeconds >= 0) && (!has(self.periodSeconds) || self.periodSeconds >= 0) && (!has(self.successThreshold) || self.successThreshold >= 0) && (!has(self.failureThreshold) || self.failureThreshold >= 0)",message="spec.startupProbe: initialDelaySeconds, timeoutSeconds, periodSeconds, successThreshold and failureThreshold must not be negative"
	// +kubebuilder:validation:XValidation:rule="(!has(self.httpGet) || (type(self.httpGet.port) == int ? self.httpGet.port >= 1 && self.httpGet.port <= 65535 : self.httpGet.port == 'http')) && (!has(self.tcpSocket) || (type(self.tcpSocket.port) == int ? self.tcpSocket.port >= 1 && self.tcpSocket.port <= 65535 : self.tcpSocket.port == 'http')) && (!has(self.grpc) || (self.grpc.port >= 1 && self.grpc.port <= 65535))",message="spec.startupProbe port (httpGet.port, tcpSocket.port or grpc.port) must be a number from 1 to 65535 or http, the name of the container's inference port"
	// +kubebuilder:validation:XValidation:rule="!has(self.httpGet) || !has(self.httpGet.scheme) || self.httpGet.scheme in ['', 'HTTP', 'HTTPS']",message="spec.startupProbe.httpGet.scheme must be HTTP or HTTPS"
	// +kubebuilder:validation:XValidation:rule="!has(self.exec) || (has(self.exec.command) && size(self.exec.command) > 0)",message="spec.startupProbe.exec.command must not be empty"
	// +kubebuilder:validation:XValidation:rule="!has(self.terminationGracePeriodSeconds) || self.terminationGracePeriodSeconds > 0",message="spec.startupProbe.terminationGracePeriodSeconds must be greater than 0"
	// +kubebuilder:validation:XValidation:rule="!has(self.successThreshold) || self.successThreshold <= 1",message="spec.startupProbe.successThreshold must be 1"
	StartupProbe *corev1.Probe `json:"startupProbe,omitempty"`

	// livenessProbe restarts a container that stops answering. Off unless given: a busy
	// model server that answers slowly should not be restarted mid-request.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(has(self.httpGet) ? 1 : 0) + (has(self.tcpSocket) ? 1 : 0) + (has(self.exec) ? 1 : 0) + (has(self.grpc) ? 1 : 0) == 1",message="spec.livenessProbe must set exactly one handler: httpGet, tcpSocket, exec or grpc"
	// +kubebuilder:validation:XValidation:rule="(!has(self.initialDelaySeconds) || self.initialDelaySeconds >= 0) && (!has(self.timeoutSeconds) || self.timeoutSeconds >= 0) && (!has(self.periodSeconds) || self.periodSeconds >= 0) && (!has(self.successThreshold) || self.successThreshold >= 0) && (!has(self.failureThreshold) || self.failureThreshold >= 0)",message="spec.livenessProbe: initialDelaySeconds, timeoutSeconds, periodSeconds, successThreshold and failureThreshold must not be negative"
	// +kubebuilder:validation:XValidation:rule="(!has(self.httpGet) || (type(self.httpGet.port) == int ? self.httpGet.port >= 1 && self.httpGet.port <= 65535 : self.httpGet.port == 'http')) && (!has(self.tcpSocket) || (type(self.tcpSocket.port) == int ? self.tcpSocket.port >= 1 && self.tcpSocket.port <= 65535 : self.tcpSocket.port == 'http')) && (!has(self.grpc) || (self.grpc.port >= 1 && self.grpc.port <= 65535))",message="spec.livenessProbe port (httpGet.port, tcpSocket.port or grpc.port) must be a number from 1 to 65535 or http, the name of the container's inference port"
	// +kubebuilder:validation:XValidation:rule="!has(self.httpGet) || !has(self.httpGet.scheme) || self.httpGet.scheme in ['', 'HTTP', 'HTTPS']",message="spec.livenessProbe.httpGet.scheme must be HTTP or HTTPS"
	// +kubebuilder:validation:XValidation:rule="!has(self.exec) || (has(self.exec.command) && size(self.exec.command) > 0)",message="spec.livenessProbe.exec.command must not be empty"
	// +kubebuilder:validation:XValidation:rule="!has(self.terminationGracePeriodSeconds) || self.terminationGracePeriodSeconds > 0",message="spec.livenessProbe.terminationGracePeriodSeconds must be greater than 0"
	// +kubebuilder:validation:XValidation:rule="!has(self.successThreshold) || self.successThreshold <= 1",message="spec.livenessProbe.successThreshold must be 1"
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

	// autoscaling configures the HorizontalPodAutoscaler, or with engine KEDA a KEDA
	// ScaledObject. Mutually exclusive with replicas. When both are left out the operator
	// scales between 1 and 10 replicas on 50% CPU utilization.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// metrics says where the model server serves Prometheus metrics. The pods are
	// annotated with it (prometheus.io/scrape, prometheus.io/port, prometheus.io/path) for
	// annotation-based discovery, and a PodMonitor (spec.monitoring) scrapes it.
	// +optional
	Metrics *MetricsSpec `json:"metrics,omitempty"`

	// monitoring configures Prometheus Operator objects for this service.
	// +optional
	Monitoring *MonitoringSpec `json:"monitoring,omitempty"`

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
	// +kubebuilder:validation:XValidation:rule="self.all(k, ((!k.contains('/') || k.indexOf('/') <= 253) && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')))",message="spec.nodeSelector keys must be label keys: an optional DNS subdomain prefix and '/', then at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"
	// +kubebuilder:validation:XValidation:rule="self.all(k, (size(self[k]) <= 63 && !self[k].startsWith('-') && !self[k].startsWith('_') && !self[k].startsWith('.') && !self[k].endsWith('-') && !self[k].endsWith('_') && !self[k].endsWith('.')))",message="spec.nodeSelector values must be label values: at most 63 characters, starting and ending with an alphanumeric character"
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations let pods run on tainted nodes, for example nodes tainted nvidia.com/gpu.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(t, (has(t.key) && t.key != '') || (has(t.operator) && t.operator == 'Exists'))",message="spec.tolerations[*].operator must be Exists when key is empty (which tolerates every taint)"
	// +kubebuilder:validation:XValidation:rule="self.all(t, !has(t.operator) || t.operator in ['', 'Equal', 'Exists'])",message="spec.tolerations[*].operator must be Equal or Exists"
	// +kubebuilder:validation:XValidation:rule="self.all(t, (has(t.operator) && t.operator == 'Exists') ? (!has(t.value) || t.value == '') : (!has(t.value) || (size(t.value) <= 63 && !t.value.startsWith('-') && !t.value.startsWith('_') && !t.value.startsWith('.') && !t.value.endsWith('-') && !t.value.endsWith('_') && !t.value.endsWith('.'))))",message="spec.tolerations[*].value must be a label value (at most 63 characters, starting and ending with an alphanumeric character), and empty when operator is Exists"
	// +kubebuilder:validation:XValidation:rule="self.all(t, !has(t.effect) || t.effect in ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'])",message="spec.tolerations[*].effect must be NoSchedule, PreferNoSchedule or NoExecute"
	// +kubebuilder:validation:XValidation:rule="self.all(t, !has(t.tolerationSeconds) || (has(t.effect) && t.effect == 'NoExecute'))",message="spec.tolerations[*].tolerationSeconds needs effect NoExecute"
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// affinity sets node and pod (anti-)affinity rules for the pods.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!has(self.nodeAffinity) || !has(self.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) || (has(self.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms) && size(self.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms) > 0)",message="spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution needs at least one nodeSelectorTerm"
	// +kubebuilder:validation:XValidation:rule="!has(self.nodeAffinity) || !has(self.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution) || self.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution.all(p, p.weight >= 1 && p.weight <= 100)",message="spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[*].weight must be from 1 to 100"
	// +kubebuilder:validation:XValidation:rule="!has(self.podAffinity) || ((!has(self.podAffinity.requiredDuringSchedulingIgnoredDuringExecution) || self.podAffinity.requiredDuringSchedulingIgnoredDuringExecution.all(t, t.topologyKey != '')) && (!has(self.podAffinity.preferredDuringSchedulingIgnoredDuringExecution) || self.podAffinity.preferredDuringSchedulingIgnoredDuringExecution.all(w, w.weight >= 1 && w.weight <= 100 && w.podAffinityTerm.topologyKey != '')))",message="spec.affinity.podAffinity: every term needs a topologyKey, and preferred terms a weight from 1 to 100"
	// +kubebuilder:validation:XValidation:rule="!has(self.podAntiAffinity) || ((!has(self.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution) || self.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.all(t, t.topologyKey != '')) && (!has(self.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution) || self.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.all(w, w.weight >= 1 && w.weight <= 100 && w.podAffinityTerm.topologyKey != '')))",message="spec.affinity.podAntiAffinity: every term needs a topologyKey, and preferred terms a weight from 1 to 100"
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// topologySpreadConstraints spread the pods across zones or nodes.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(c, c.maxSkew >= 1)",message="spec.topologySpreadConstraints[*].maxSkew must be at least 1"
	// +kubebuilder:validation:XValidation:rule="self.all(c, c.topologyKey != '')",message="spec.topologySpreadConstraints[*].topologyKey must not be empty"
	// +kubebuilder:validation:XValidation:rule="self.all(c, c.whenUnsatisfiable in ['DoNotSchedule', 'ScheduleAnyway'])",message="spec.topologySpreadConstraints[*].whenUnsatisfiable must be DoNotSchedule or ScheduleAnyway"
	// +kubebuilder:validation:XValidation:rule="self.all(c, !has(c.minDomains) || (c.minDomains >= 1 && c.whenUnsatisfiable == 'DoNotSchedule'))",message="spec.topologySpreadConstraints[*].minDomains must be at least 1, and needs whenUnsatisfiable DoNotSchedule"
	// +kubebuilder:validation:XValidation:rule="self.all(c, (!has(c.nodeAffinityPolicy) || c.nodeAffinityPolicy in ['Honor', 'Ignore']) && (!has(c.nodeTaintsPolicy) || c.nodeTaintsPolicy in ['Honor', 'Ignore']))",message="spec.topologySpreadConstraints[*].nodeAffinityPolicy and nodeTaintsPolicy must be Honor or Ignore"
	// +kubebuilder:validation:XValidation:rule="self.all(c, !has(c.matchLabelKeys) || size(c.matchLabelKeys) == 0 || has(c.labelSelector))",message="spec.topologySpreadConstraints[*].matchLabelKeys need a labelSelector"
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// serviceAccountName is the ServiceAccount the pods run as. Default: the namespace's "default".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == '' || self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.serviceAccountName must be a ServiceAccount name (a DNS-1123 subdomain: lower-case letters, digits, '-' and '.')"
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// priorityClassName sets the pods' PriorityClass.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == '' || self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="spec.priorityClassName must be a PriorityClass name (a DNS-1123 subdomain: lower-case letters, digits, '-' and '.')"
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// podAnnotations are added to every pod, for example for a metrics scraper.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, ((!k.contains('/') || k.indexOf('/') <= 253) && k.matches('^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?([.][a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')))",message="spec.podAnnotations keys must be annotation keys: an optional DNS subdomain prefix and '/', then at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"
	// +kubebuilder:validation:XValidation:rule="self.map(k, size(k) + size(self[k])).sum() <= 262144",message="spec.podAnnotations must not be larger than 256 KiB in all (keys and values)"
	// +kubebuilder:validation:XValidation:rule="!('controller.kubernetes.io/pod-deletion-cost' in self) || (self['controller.kubernetes.io/pod-deletion-cost'].matches('^(0|-?[1-9][0-9]{0,9})$') && int(self['controller.kubernetes.io/pod-deletion-cost']) >= -2147483648 && int(self['controller.kubernetes.io/pod-deletion-cost']) <= 2147483647)",message="spec.podAnnotations['controller.kubernetes.io/pod-deletion-cost'] must be a 32-bit integer without a plus sign or leading zeros"
	// +kubebuilder:validation:XValidation:rule="!('kubernetes.io/config.mirror' in self) && !('scheduler.alpha.kubernetes.io/tolerations' in self)",message="spec.podAnnotations must not set kubernetes.io/config.mirror (for static pods only) or scheduler.alpha.kubernetes.io/tolerations (use spec.tolerations)"
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`

	// podLabels are added to every pod. The operator's own labels
	// (app.kubernetes.io/* and serving.inferenceops.dev/*) win over these.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, ((!k.contains('/') || k.indexOf('/') <= 253) && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')))",message="spec.podLabels keys must be label keys: an optional DNS subdomain prefix and '/', then at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"
	// +kubebuilder:validation:XValidation:rule="self.all(k, (size(self[k]) <= 63 && !self[k].startsWith('-') && !self[k].startsWith('_') && !self[k].startsWith('.') && !self[k].endsWith('-') && !self[k].endsWith('_') && !self[k].endsWith('.')))",message="spec.podLabels values must be label values: at most 63 characters, starting and ending with an alphanumeric character"
	PodLabels map[string]string `json:"podLabels,omitempty"`

	// volumes are added to the pod, for example a model cache or a shared-memory emptyDir.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(v, size(v.name) <= 63 && !v.name.startsWith('-') && !v.name.endsWith('-'))",message="spec.volumes[*].name must be a DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit"
	// +kubebuilder:validation:XValidation:rule="self.all(v, (has(v.hostPath) ? 1 : 0) + (has(v.emptyDir) ? 1 : 0) + (has(v.gcePersistentDisk) ? 1 : 0) + (has(v.awsElasticBlockStore) ? 1 : 0) + (has(v.gitRepo) ? 1 : 0) + (has(v.secret) ? 1 : 0) + (has(v.nfs) ? 1 : 0) + (has(v.iscsi) ? 1 : 0) + (has(v.glusterfs) ? 1 : 0) + (has(v.persistentVolumeClaim) ? 1 : 0) + (has(v.rbd) ? 1 : 0) + (has(v.flexVolume) ? 1 : 0) + (has(v.cinder) ? 1 : 0) + (has(v.cephfs) ? 1 : 0) + (has(v.flocker) ? 1 : 0) + (has(v.downwardAPI) ? 1 : 0) + (has(v.fc) ? 1 : 0) + (has(v.azureFile) ? 1 : 0) + (has(v.configMap) ? 1 : 0) + (has(v.vsphereVolume) ? 1 : 0) + (has(v.quobyte) ? 1 : 0) + (has(v.azureDisk) ? 1 : 0) + (has(v.photonPersistentDisk) ? 1 : 0) + (has(v.projected) ? 1 : 0) + (has(v.portworxVolume) ? 1 : 0) + (has(v.scaleIO) ? 1 : 0) + (has(v.storageos) ? 1 : 0) + (has(v.csi) ? 1 : 0) + (has(v.ephemeral) ? 1 : 0) + (has(v.image) ? 1 : 0) <= 1)",message="spec.volumes[*] must set only one volume source"
	// +kubebuilder:validation:XValidation:rule="self.all(v, (!has(v.secret) || (has(v.secret.secretName) && v.secret.secretName != '')) && (!has(v.configMap) || (has(v.configMap.name) && v.configMap.name != '')) && (!has(v.persistentVolumeClaim) || v.persistentVolumeClaim.claimName != '') && (!has(v.hostPath) || v.hostPath.path != '') && (!has(v.image) || (has(v.image.reference) && v.image.reference != '')))",message="spec.volumes[*] must name what it mounts: secret.secretName, configMap.name, persistentVolumeClaim.claimName, hostPath.path or image.reference"
	// +kubebuilder:validation:XValidation:rule="self.all(v, (!has(v.secret) || (!has(v.secret.defaultMode) || (v.secret.defaultMode >= 0 && v.secret.defaultMode <= 511))) && (!has(v.configMap) || (!has(v.configMap.defaultMode) || (v.configMap.defaultMode >= 0 && v.configMap.defaultMode <= 511))) && (!has(v.downwardAPI) || (!has(v.downwardAPI.defaultMode) || (v.downwardAPI.defaultMode >= 0 && v.downwardAPI.defaultMode <= 511))) && (!has(v.projected) || (!has(v.projected.defaultMode) || (v.projected.defaultMode >= 0 && v.projected.defaultMode <= 511))))",message="spec.volumes[*] defaultMode must be between 0 and 0777 (511)"
	// +kubebuilder:validation:XValidation:rule="self.all(v, !has(v.emptyDir) || !has(v.emptyDir.sizeLimit) || (type(v.emptyDir.sizeLimit) == int ? v.emptyDir.sizeLimit >= 0 : !v.emptyDir.sizeLimit.startsWith('-')))",message="spec.volumes[*].emptyDir.sizeLimit must not be negative"
	// +kubebuilder:validation:XValidation:rule="self.all(v, !has(v.hostPath) || !has(v.hostPath.type) || v.hostPath.type in ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'])",message="spec.volumes[*].hostPath.type must be DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice"
	// +kubebuilder:validation:XValidation:rule="self.all(v, !has(v.image) || !has(v.image.pullPolicy) || v.image.pullPolicy in ['', 'Always', 'IfNotPresent', 'Never'])",message="spec.volumes[*].image.pullPolicy must be Always, IfNotPresent or Never"
	Volumes []corev1.Volume `json:"volumes,omitempty"`

	// volumeMounts mount volumes into the model server container.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.mountPath != '')",message="spec.volumeMounts[*].mountPath must not be empty"
	// +kubebuilder:validation:XValidation:rule="self.all(m, (!has(m.subPath) || m.subPath == '' || (!m.subPath.startsWith('/') && m.subPath != '..' && !m.subPath.startsWith('../') && !m.subPath.endsWith('/..'))) && (!has(m.subPathExpr) || m.subPathExpr == '' || ((!m.subPathExpr.startsWith('/') && m.subPathExpr != '..' && !m.subPathExpr.startsWith('../') && !m.subPathExpr.endsWith('/..')) && (!has(m.subPath) || m.subPath == ''))))",message="spec.volumeMounts[*].subPath and subPathExpr must be relative paths without '..', and not both set"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.mountPropagation) || m.mountPropagation in ['None', 'HostToContainer', 'Bidirectional'])",message="spec.volumeMounts[*].mountPropagation must be None, HostToContainer or Bidirectional"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.recursiveReadOnly) || m.recursiveReadOnly == 'Disabled' || (m.recursiveReadOnly in ['IfPossible', 'Enabled'] && has(m.readOnly) && m.readOnly && (!has(m.mountPropagation) || m.mountPropagation == 'None')))",message="spec.volumeMounts[*].recursiveReadOnly must be Disabled, IfPossible or Enabled, and the last two need readOnly true and no mountPropagation other than None"
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
	// +kubebuilder:validation:XValidation:rule="(!has(self.runAsUser) || (self.runAsUser >= 0 && self.runAsUser <= 2147483647)) && (!has(self.runAsGroup) || (self.runAsGroup >= 0 && self.runAsGroup <= 2147483647)) && (!has(self.fsGroup) || (self.fsGroup >= 0 && self.fsGroup <= 2147483647))",message="spec.securityContext runAsUser, runAsGroup and fsGroup must be between 0 and 2147483647"
	// +kubebuilder:validation:XValidation:rule="(!has(self.seccompProfile) || (self.seccompProfile.type in ['RuntimeDefault', 'Unconfined', 'Localhost'] && (self.seccompProfile.type == 'Localhost' ? (has(self.seccompProfile.localhostProfile) && (!self.seccompProfile.localhostProfile.startsWith('/') && self.seccompProfile.localhostProfile != '..' && !self.seccompProfile.localhostProfile.startsWith('../') && !self.seccompProfile.localhostProfile.endsWith('/..'))) : !has(self.seccompProfile.localhostProfile)))) && (!has(self.appArmorProfile) || (self.appArmorProfile.type in ['RuntimeDefault', 'Unconfined', 'Localhost'] && (self.appArmorProfile.type == 'Localhost' ? (has(self.appArmorProfile.localhostProfile) && self.appArmorProfile.localhostProfile != '' && !self.appArmorProfile.localhostProfile.startsWith(' ') && !self.appArmorProfile.localhostProfile.endsWith(' ') && size(self.appArmorProfile.localhostProfile) <= 4095) : !has(self.appArmorProfile.localhostProfile))))",message="spec.securityContext seccompProfile and appArmorProfile: type must be RuntimeDefault, Unconfined or Localhost, and localhostProfile (a relative path) is set exactly when type is Localhost"
	// +kubebuilder:validation:XValidation:rule="(!has(self.fsGroupChangePolicy) || self.fsGroupChangePolicy in ['OnRootMismatch', 'Always']) && (!has(self.seLinuxChangePolicy) || self.seLinuxChangePolicy in ['MountOption', 'Recursive']) && (!has(self.supplementalGroupsPolicy) || self.supplementalGroupsPolicy in ['Merge', 'Strict'])",message="spec.securityContext: fsGroupChangePolicy must be OnRootMismatch or Always, seLinuxChangePolicy MountOption or Recursive, supplementalGroupsPolicy Merge or Strict"
	SecurityContext *corev1.PodSecurityContext `json:"securityContext,omitempty"`

	// containerSecurityContext is the model server container's security context. Fields
	// left unset get hardened defaults that work with common images:
	// allowPrivilegeEscalation false and all capabilities dropped.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(!has(self.runAsUser) || (self.runAsUser >= 0 && self.runAsUser <= 2147483647)) && (!has(self.runAsGroup) || (self.runAsGroup >= 0 && self.runAsGroup <= 2147483647))",message="spec.containerSecurityContext runAsUser and runAsGroup must be between 0 and 2147483647"
	// +kubebuilder:validation:XValidation:rule="(!has(self.seccompProfile) || (self.seccompProfile.type in ['RuntimeDefault', 'Unconfined', 'Localhost'] && (self.seccompProfile.type == 'Localhost' ? (has(self.seccompProfile.localhostProfile) && (!self.seccompProfile.localhostProfile.startsWith('/') && self.seccompProfile.localhostProfile != '..' && !self.seccompProfile.localhostProfile.startsWith('../') && !self.seccompProfile.localhostProfile.endsWith('/..'))) : !has(self.seccompProfile.localhostProfile)))) && (!has(self.appArmorProfile) || (self.appArmorProfile.type in ['RuntimeDefault', 'Unconfined', 'Localhost'] && (self.appArmorProfile.type == 'Localhost' ? (has(self.appArmorProfile.localhostProfile) && self.appArmorProfile.localhostProfile != '' && !self.appArmorProfile.localhostProfile.startsWith(' ') && !self.appArmorProfile.localhostProfile.endsWith(' ') && size(self.appArmorProfile.localhostProfile) <= 4095) : !has(self.appArmorProfile.localhostProfile))))",message="spec.containerSecurityContext seccompProfile and appArmorProfile: type must be RuntimeDefault, Unconfined or Localhost, and localhostProfile (a relative path) is set exactly when type is Localhost"
	// +kubebuilder:validation:XValidation:rule="!has(self.procMount) || self.procMount == 'Default'",message="spec.containerSecurityContext.procMount must be Default (Unmasked needs a pod without host users, which an InferenceService does not set)"
	// +kubebuilder:validation:XValidation:rule="!(has(self.privileged) && self.privileged && has(self.allowPrivilegeEscalation) && !self.allowPrivilegeEscalation)",message="spec.containerSecurityContext: a privileged container cannot set allowPrivilegeEscalation to false"
	// +kubebuilder:validation:XValidation:rule="!has(self.capabilities) || !has(self.capabilities.add) || !('CAP_SYS_ADMIN' in self.capabilities.add) || !has(self.allowPrivilegeEscalation) || self.allowPrivilegeEscalation",message="spec.containerSecurityContext: a container that adds CAP_SYS_ADMIN cannot set allowPrivilegeEscalation to false"
	ContainerSecurityContext *corev1.SecurityContext `json:"containerSecurityContext,omitempty"`

	// terminationGracePeriodSeconds is how long a pod may take to finish in-flight
	// requests after it is asked to stop. Default 30 (Kubernetes' default).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=86400
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`

	// drainSeconds is how long a pod that is asked to stop keeps serving before its model
	// server gets SIGTERM: the time it takes the Service to stop sending it new requests
	// (the endpoint removed, kube-proxy and load balancers updated). Without it a scale-in
	// or a rollout fails the requests that still arrive in that moment. It is rendered as a
	// preStop sleep hook, which needs no shell in the image, and counts against
	// terminationGracePeriodSeconds. Default 5 (at most the grace period less one second);
	// 0 turns the pause off.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	DrainSeconds *int32 `json:"drainSeconds,omitempty"`

	// strategy is the Deployment's update strategy, passed as it is. RollingUpdate keeps
	// serving during a rollout; Recreate stops old pods first. Mutually exclusive with
	// rollout, which says the same with a policy (strategy Recreate is rollout policy
	// Recreate, strategy RollingUpdate is rollout policy Surge with the same maxSurge and
	// maxUnavailable) and adds Auto; with strategy set, Auto is off.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type in ['', 'RollingUpdate', 'Recreate']",message="spec.strategy.type must be RollingUpdate or Recreate"
	// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'Recreate' || !has(self.rollingUpdate)",message="spec.strategy.rollingUpdate must not be set when spec.strategy.type is Recreate"
	// +kubebuilder:validation:XValidation:rule="!has(self.rollingUpdate) || ((!has(self.rollingUpdate.maxUnavailable) || (type(self.rollingUpdate.maxUnavailable) == int ? self.rollingUpdate.maxUnavailable >= 0 : self.rollingUpdate.maxUnavailable.matches('^[0-9]+%$'))) && (!has(self.rollingUpdate.maxSurge) || (type(self.rollingUpdate.maxSurge) == int ? self.rollingUpdate.maxSurge >= 0 : self.rollingUpdate.maxSurge.matches('^[0-9]+%$'))))",message="spec.strategy.rollingUpdate.maxUnavailable and maxSurge must each be a non-negative number or a percentage such as 25%"
	// +kubebuilder:validation:XValidation:rule="!has(self.rollingUpdate) || !has(self.rollingUpdate.maxUnavailable) || type(self.rollingUpdate.maxUnavailable) == int || !self.rollingUpdate.maxUnavailable.matches('^[0-9]+%$') || self.rollingUpdate.maxUnavailable.matches('^0*([0-9]{1,2}|100)%$')",message="spec.strategy.rollingUpdate.maxUnavailable must not be more than 100%"
	// +kubebuilder:validation:XValidation:rule="!has(self.rollingUpdate) || !has(self.rollingUpdate.maxUnavailable) || !has(self.rollingUpdate.maxSurge) || !((type(self.rollingUpdate.maxUnavailable) == int ? self.rollingUpdate.maxUnavailable == 0 : self.rollingUpdate.maxUnavailable.matches('^0+%$')) && (type(self.rollingUpdate.maxSurge) == int ? self.rollingUpdate.maxSurge == 0 : self.rollingUpdate.maxSurge.matches('^0+%$')))",message="spec.strategy.rollingUpdate.maxUnavailable and maxSurge must not both be 0"
	Strategy *appsv1.DeploymentStrategy `json:"strategy,omitempty"`

	// rollout says how a new pod template replaces the old one: policy Auto (the default
	// when neither rollout nor strategy is set), Surge or Recreate, with maxSurge and
	// maxUnavailable. Mutually exclusive with strategy.
	// +optional
	Rollout *RolloutSpec `json:"rollout,omitempty"`

	// paused, when true, stops the operator from changing the service's children: it
	// applies and deletes nothing (a hand edit or a deleted child stays as it is) and
	// keeps reporting their state, with the condition Paused. Set it back to false (or
	// remove it) and the children are brought in line with the spec again.
	// +optional
	Paused bool `json:"paused,omitempty"`
}

// AutoscalingSpec configures the autoscaler that scales the model server: a
// HorizontalPodAutoscaler (engine HPA) or a KEDA ScaledObject (engine KEDA).
//
// +kubebuilder:validation:XValidation:rule="self.minReplicas <= self.maxReplicas",message="spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas (default 10)",fieldPath=".minReplicas"
// +kubebuilder:validation:XValidation:rule="self.minReplicas != 0 || self.engine == 'KEDA'",message="spec.autoscaling.minReplicas 0 (scale to zero) needs spec.autoscaling.engine KEDA: a HorizontalPodAutoscaler cannot scale from zero",fieldPath=".minReplicas"
// +kubebuilder:validation:XValidation:rule="self.engine == 'KEDA' || (!has(self.signals) && !has(self.keda))",message="spec.autoscaling.signals and spec.autoscaling.keda need spec.autoscaling.engine KEDA",fieldPath=".engine"
// +kubebuilder:validation:XValidation:rule="self.engine != 'KEDA' || !has(self.metrics) || self.metrics.all(m, m.type == 'Resource' || m.type == 'ContainerResource')",message="spec.autoscaling.metrics with engine KEDA may hold only Resource and ContainerResource metrics (KEDA cpu and memory triggers): use spec.autoscaling.signals or spec.autoscaling.keda.triggers for the others",fieldPath=".metrics"
// +kubebuilder:validation:XValidation:rule="self.minReplicas != 0 || has(self.signals) || (has(self.keda) && has(self.keda.triggers))",message="spec.autoscaling.minReplicas 0 needs a signal or a KEDA trigger: KEDA cannot scale to zero on cpu or memory alone",fieldPath=".minReplicas"
type AutoscalingSpec struct {
	// engine is what scales the Deployment: HPA (default), a HorizontalPodAutoscaler the
	// operator renders, or KEDA, a KEDA ScaledObject (keda.sh/v1alpha1) from which KEDA
	// creates the HPA keda-hpa-NAME. KEDA must be installed for engine KEDA; it adds
	// signals and scaling to zero. Switching engine on a live service keeps its replicas.
	// +optional
	// +kubebuilder:default=HPA
	Engine AutoscalingEngine `json:"engine,omitempty"`

	// minReplicas is the lowest replica count the autoscaler keeps. Default 1. 0 (scale
	// to zero when no trigger is active) needs engine KEDA.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	MinReplicas *int32 `json:"minReplicas,omitempty"`

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
	// +kubebuilder:validation:XValidation:rule="self.all(m, (has(m.resource) ? 1 : 0) + (has(m.containerResource) ? 1 : 0) + (has(m.pods) ? 1 : 0) + (has(m.object) ? 1 : 0) + (has(m.external) ? 1 : 0) <= 1)",message="spec.autoscaling.metrics[*] must set only the source its type names (resource, containerResource, pods, object or external)"
	// +kubebuilder:validation:XValidation:rule="self.all(m, has(m.resource) ? (m.resource.target.type in ['Utilization', 'Value', 'AverageValue'] && (!has(m.resource.target.value) || (type(m.resource.target.value) == int ? m.resource.target.value > 0 : (!m.resource.target.value.startsWith('-') && !m.resource.target.value.startsWith('+') && !(m.resource.target.value.startsWith('0') && !m.resource.target.value.startsWith('0.')) && !(m.resource.target.value in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.resource.target.averageValue) || (type(m.resource.target.averageValue) == int ? m.resource.target.averageValue > 0 : (!m.resource.target.averageValue.startsWith('-') && !m.resource.target.averageValue.startsWith('+') && !(m.resource.target.averageValue.startsWith('0') && !m.resource.target.averageValue.startsWith('0.')) && !(m.resource.target.averageValue in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.resource.target.averageUtilization) || m.resource.target.averageUtilization >= 1)) : has(m.containerResource) ? (m.containerResource.target.type in ['Utilization', 'Value', 'AverageValue'] && (!has(m.containerResource.target.value) || (type(m.containerResource.target.value) == int ? m.containerResource.target.value > 0 : (!m.containerResource.target.value.startsWith('-') && !m.containerResource.target.value.startsWith('+') && !(m.containerResource.target.value.startsWith('0') && !m.containerResource.target.value.startsWith('0.')) && !(m.containerResource.target.value in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.containerResource.target.averageValue) || (type(m.containerResource.target.averageValue) == int ? m.containerResource.target.averageValue > 0 : (!m.containerResource.target.averageValue.startsWith('-') && !m.containerResource.target.averageValue.startsWith('+') && !(m.containerResource.target.averageValue.startsWith('0') && !m.containerResource.target.averageValue.startsWith('0.')) && !(m.containerResource.target.averageValue in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.containerResource.target.averageUtilization) || m.containerResource.target.averageUtilization >= 1)) : has(m.pods) ? (m.pods.target.type in ['Utilization', 'Value', 'AverageValue'] && (!has(m.pods.target.value) || (type(m.pods.target.value) == int ? m.pods.target.value > 0 : (!m.pods.target.value.startsWith('-') && !m.pods.target.value.startsWith('+') && !(m.pods.target.value.startsWith('0') && !m.pods.target.value.startsWith('0.')) && !(m.pods.target.value in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.pods.target.averageValue) || (type(m.pods.target.averageValue) == int ? m.pods.target.averageValue > 0 : (!m.pods.target.averageValue.startsWith('-') && !m.pods.target.averageValue.startsWith('+') && !(m.pods.target.averageValue.startsWith('0') && !m.pods.target.averageValue.startsWith('0.')) && !(m.pods.target.averageValue in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.pods.target.averageUtilization) || m.pods.target.averageUtilization >= 1)) : has(m.object) ? (m.object.target.type in ['Utilization', 'Value', 'AverageValue'] && (!has(m.object.target.value) || (type(m.object.target.value) == int ? m.object.target.value > 0 : (!m.object.target.value.startsWith('-') && !m.object.target.value.startsWith('+') && !(m.object.target.value.startsWith('0') && !m.object.target.value.startsWith('0.')) && !(m.object.target.value in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.object.target.averageValue) || (type(m.object.target.averageValue) == int ? m.object.target.averageValue > 0 : (!m.object.target.averageValue.startsWith('-') && !m.object.target.averageValue.startsWith('+') && !(m.object.target.averageValue.startsWith('0') && !m.object.target.averageValue.startsWith('0.')) && !(m.object.target.averageValue in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.object.target.averageUtilization) || m.object.target.averageUtilization >= 1)) : has(m.external) ? (m.external.target.type in ['Utilization', 'Value', 'AverageValue'] && (!has(m.external.target.value) || (type(m.external.target.value) == int ? m.external.target.value > 0 : (!m.external.target.value.startsWith('-') && !m.external.target.value.startsWith('+') && !(m.external.target.value.startsWith('0') && !m.external.target.value.startsWith('0.')) && !(m.external.target.value in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.external.target.averageValue) || (type(m.external.target.averageValue) == int ? m.external.target.averageValue > 0 : (!m.external.target.averageValue.startsWith('-') && !m.external.target.averageValue.startsWith('+') && !(m.external.target.averageValue.startsWith('0') && !m.external.target.averageValue.startsWith('0.')) && !(m.external.target.averageValue in ['0.', '0.0', '0.00', '0.000', '.0', '.00', '.000'])))) && (!has(m.external.target.averageUtilization) || m.external.target.averageUtilization >= 1)) : true)",message="spec.autoscaling.metrics[*] target: type must be Utilization, Value or AverageValue, value and averageValue must be positive and averageUtilization at least 1"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.resource) || has(m.resource.target.averageUtilization) != has(m.resource.target.averageValue))",message="spec.autoscaling.metrics[*].resource.target must set exactly one of averageUtilization or averageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.containerResource) || has(m.containerResource.target.averageUtilization) != has(m.containerResource.target.averageValue))",message="spec.autoscaling.metrics[*].containerResource.target must set exactly one of averageUtilization or averageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.pods) || has(m.pods.target.averageValue))",message="spec.autoscaling.metrics[*].pods.target.averageValue is required: a Pods metric is averaged over the pods"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.object) || has(m.object.target.value) || has(m.object.target.averageValue))",message="spec.autoscaling.metrics[*].object.target must set value or averageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.external) || has(m.external.target.value) != has(m.external.target.averageValue))",message="spec.autoscaling.metrics[*].external.target must set exactly one of value or averageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, (!has(m.pods) || (m.pods.metric.name != '' && m.pods.metric.name != '.' && m.pods.metric.name != '..' && !m.pods.metric.name.contains('/'))) && (!has(m.external) || (m.external.metric.name != '' && m.external.metric.name != '.' && m.external.metric.name != '..' && !m.external.metric.name.contains('/'))))",message="spec.autoscaling.metrics[*] pods.metric.name and external.metric.name must not be empty, '.' or '..', and must not contain '/'"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.object) || ((m.object.metric.name != '' && m.object.metric.name != '.' && m.object.metric.name != '..' && !m.object.metric.name.contains('/')) && m.object.describedObject.kind != '' && m.object.describedObject.name != ''))",message="spec.autoscaling.metrics[*].object needs a metric.name (not '.' or '..', without '/') and a describedObject with a kind and a name"
	// +kubebuilder:validation:XValidation:rule="self.all(m, !has(m.containerResource) || (size(m.containerResource.container) <= 63 && m.containerResource.container.matches('^[-a-z0-9]+$') && !m.containerResource.container.startsWith('-') && !m.containerResource.container.endsWith('-')))",message="spec.autoscaling.metrics[*].containerResource.container must be a container name (a DNS-1123 label) such as inference-server"
	Metrics []autoscalingv2.MetricSpec `json:"metrics,omitempty"`

	// behavior tunes how fast the HPA scales up and down (autoscaling/v2
	// HorizontalPodAutoscalerBehavior), passed to the HPA unchanged.
	// +optional
	// +kubebuilder:validation:XValidation:rule="(!has(self.scaleUp) || (!has(self.scaleUp.stabilizationWindowSeconds) || (self.scaleUp.stabilizationWindowSeconds >= 0 && self.scaleUp.stabilizationWindowSeconds <= 3600))) && (!has(self.scaleDown) || (!has(self.scaleDown.stabilizationWindowSeconds) || (self.scaleDown.stabilizationWindowSeconds >= 0 && self.scaleDown.stabilizationWindowSeconds <= 3600)))",message="spec.autoscaling.behavior scaleUp and scaleDown stabilizationWindowSeconds must be between 0 and 3600"
	// +kubebuilder:validation:XValidation:rule="(!has(self.scaleUp) || (!has(self.scaleUp.selectPolicy) || self.scaleUp.selectPolicy in ['Max', 'Min', 'Disabled'])) && (!has(self.scaleDown) || (!has(self.scaleDown.selectPolicy) || self.scaleDown.selectPolicy in ['Max', 'Min', 'Disabled']))",message="spec.autoscaling.behavior scaleUp and scaleDown selectPolicy must be Max, Min or Disabled"
	// +kubebuilder:validation:XValidation:rule="(!has(self.scaleUp) || (!has(self.scaleUp.policies) || self.scaleUp.policies.all(p, p.type in ['Pods', 'Percent'] && p.value > 0 && p.periodSeconds > 0 && p.periodSeconds <= 1800))) && (!has(self.scaleDown) || (!has(self.scaleDown.policies) || self.scaleDown.policies.all(p, p.type in ['Pods', 'Percent'] && p.value > 0 && p.periodSeconds > 0 && p.periodSeconds <= 1800)))",message="spec.autoscaling.behavior scaleUp and scaleDown policies: type must be Pods or Percent, value greater than 0 and periodSeconds between 1 and 1800"
	// +kubebuilder:validation:XValidation:rule="(!has(self.scaleUp) || (!has(self.scaleUp.tolerance) || (type(self.scaleUp.tolerance) == int ? self.scaleUp.tolerance >= 0 : !self.scaleUp.tolerance.startsWith('-')))) && (!has(self.scaleDown) || (!has(self.scaleDown.tolerance) || (type(self.scaleDown.tolerance) == int ? self.scaleDown.tolerance >= 0 : !self.scaleDown.tolerance.startsWith('-'))))",message="spec.autoscaling.behavior scaleUp and scaleDown tolerance must not be negative"
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`

	// signals are inference-load signals (engine KEDA only): queue depth, running
	// requests, latency at a quantile, KV-cache utilization, each from a named server's own
	// Prometheus metrics, or a Custom PromQL query. Each becomes a KEDA prometheus trigger;
	// KEDA scales on the highest replica count any trigger or metric asks for.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	Signals []AutoscalingSignal `json:"signals,omitempty"`

	// keda holds KEDA ScaledObject settings passed through (engine KEDA only).
	// +optional
	KEDA *KEDASpec `json:"keda,omitempty"`
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
	// +kubebuilder:validation:XValidation:rule="self.all(k, ((!k.contains('/') || k.indexOf('/') <= 253) && k.matches('^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?([.][a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')))",message="spec.service.annotations keys must be annotation keys: an optional DNS subdomain prefix and '/', then at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"
	// +kubebuilder:validation:XValidation:rule="self.map(k, size(k) + size(self[k])).sum() <= 262144",message="spec.service.annotations must not be larger than 256 KiB in all (keys and values)"
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
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^0*([0-9]{1,2}|100)%$')",message="spec.podDisruptionBudget.minAvailable must not be more than 100%"
	MinAvailable *intstr.IntOrString `json:"minAvailable,omitempty"`

	// maxUnavailable is how many pods may be down during voluntary disruptions.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",message="spec.podDisruptionBudget.maxUnavailable must be a non-negative number or a percentage such as \"50%\""
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^0*([0-9]{1,2}|100)%$')",message="spec.podDisruptionBudget.maxUnavailable must not be more than 100%"
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
	Replicas int32 `json:"replicas"`

	// readyReplicas is the number of pods that pass their readiness probe and get traffic.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`

	// updatedReplicas is the number of pods that run the latest pod template.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas"`

	// availableReplicas is the number of pods ready for at least minReadySeconds.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas"`

	// desiredReplicas is the replica count the autoscaler last chose, or spec.replicas
	// when autoscaling is off.
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas"`

	// minReplicas is the autoscaler's lower bound in effect (spec.replicas when autoscaling is off).
	// +optional
	MinReplicas int32 `json:"minReplicas"`

	// maxReplicas is the autoscaler's upper bound in effect (spec.replicas when autoscaling is off).
	// +optional
	MaxReplicas int32 `json:"maxReplicas"`

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

	// renderRevision is the revision of the operator's builders that rendered the
	// children. An operator upgrade keeps it (and so the pod template) until the spec
	// changes or the annotation serving.inferenceops.dev/upgrade-defaults is "true".
	// +optional
	RenderRevision int32 `json:"renderRevision,omitempty"`

	// scaling tells why the service has the replicas it has: the limiting metric and the
	// last scale events (while autoscaling is on).
	// +optional
	Scaling *ScalingStatus `json:"scaling,omitempty"`

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
// +kubebuilder:printcolumn:name="Paused",type=boolean,JSONPath=`.spec.paused`,priority=1
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Last Scale",type=string,JSONPath=`.status.scaling.lastScale`,priority=1
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: the Service is named after the InferenceService and must fit a DNS label"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.autoscaling) || !has(self.spec.autoscaling.keda) || !has(self.spec.autoscaling.keda.advanced) || !has(self.spec.autoscaling.keda.advanced.horizontalPodAutoscalerConfig) || !has(self.spec.autoscaling.keda.advanced.horizontalPodAutoscalerConfig.name) || self.spec.autoscaling.keda.advanced.horizontalPodAutoscalerConfig.name != self.metadata.name",message="spec.autoscaling.keda.advanced.horizontalPodAutoscalerConfig.name must not be the InferenceService's name, which its own HPA has with engine HPA"
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
