package validation

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// base is a valid InferenceService; each case overlays a YAML fragment on it with JSON
// merge-patch rules (a null removes a field).
const base = `
apiVersion: serving.inferenceops.dev/v1alpha1
kind: InferenceService
metadata:
  name: llm
  namespace: default
spec:
  image: ghcr.io/example/model-server:1.0
  resources:
    requests: {cpu: 500m, memory: 1Gi}
    limits: {cpu: "1", memory: 2Gi}
`

// manifest returns base with overlay merged in.
func manifest(overlay string) *unstructured.Unstructured {
	obj := map[string]any{}
	ExpectWithOffset(2, yaml.Unmarshal([]byte(base), &obj)).To(Succeed())
	patch := map[string]any{}
	ExpectWithOffset(2, yaml.Unmarshal([]byte(overlay), &patch)).To(Succeed())
	mergeInto(obj, patch)
	return &unstructured.Unstructured{Object: obj}
}

func mergeInto(dst, patch map[string]any) {
	for k, v := range patch {
		switch v := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			if d, ok := dst[k].(map[string]any); ok {
				mergeInto(d, v)
				continue
			}
			fresh := map[string]any{}
			mergeInto(fresh, v)
			dst[k] = fresh
		default:
			dst[k] = v
		}
	}
}

// create sends the manifest as "kubectl apply" would (strict field validation) in a
// server-side dry run: every admission step runs, nothing is stored.
func create(obj *unstructured.Unstructured) error {
	return k8sClient.Create(ctx, obj, client.DryRunAll, client.FieldValidation("Strict"))
}

// figures counts what the suite tried; the suite prints them at the end.
var figures struct {
	invalidTried, invalidRefused, invalidChildrenRefuse, validTried, validReconciled int
	corpusSpecs, corpusAdmitted                                                      int
	corpusSeconds                                                                    float64
}

// reportFigures prints the figures and asserts that every case did what it should.
func reportFigures() {
	lines := fmt.Sprintf("| invalid inputs tried / refused with a message naming the field | %d / %d |\n"+
		"| of which the children are refused too (server-side dry run) | %d |\n"+
		"| valid inputs tried / accepted and reconciled | %d / %d |\n"+
		"| generated specs (seed %d) / admitted, every child admitted too | %d / %d, %.1f s |\n",
		figures.invalidTried, figures.invalidRefused, figures.invalidChildrenRefuse,
		figures.validTried, figures.validReconciled,
		*corpusSeed, figures.corpusSpecs, figures.corpusAdmitted, figures.corpusSeconds)
	_, _ = fmt.Fprintf(GinkgoWriter, "\n| figure | value |\n|---|---|\n%s", lines)
	fmt.Printf("validation figures:\n%s", lines)
	Expect(figures.invalidRefused).To(Equal(figures.invalidTried))
	Expect(figures.validReconciled).To(Equal(figures.validTried))
}

var (
	longName   = strings.Repeat("a", 64)
	manyEnvs   = "spec: {env: [" + strings.Repeat(`{name: A, value: b},`, 257) + "]}"
	hugeImage  = "spec: {image: " + strings.Repeat("x", 1100) + "}"
	podsSource = `pods: {metric: {name: inference_queue_length}, target: {type: AverageValue, averageValue: "10"}}`
	podsMetric = `{type: Pods, ` + podsSource + `}`
	// queueSignal is a valid KEDA signal.
	queueSignal = `{type: QueueDepth, target: "5", server: vLLM}`
)

// catalogueCase is a manifest of the catalogue: base with overlay merged in. An invalid
// case names the message its refusal must contain; childrenRefuse says the API server
// also refuses a child the operator would render from it.
type catalogueCase struct {
	name, overlay, message string
	childrenRefuse         bool
}

var invalidCases = []catalogueCase{
	{name: "image missing", overlay: `spec: {image: null}`, message: "spec.image: Required value"},
	{name: "image empty", overlay: `spec: {image: ""}`, message: "spec.image"},
	{name: "image with spaces around it", overlay: `spec: {image: " model:1 "}`, message: "spec.image must not start or end with spaces"},
	{name: "image too long", overlay: hugeImage, message: "spec.image: Too long"},
	{name: "resources missing", overlay: `spec: {resources: null}`, message: "spec.resources: Required value"},
	{name: "requests missing", overlay: `spec: {resources: {requests: null}}`, message: "spec.resources.requests.cpu is required"},
	{name: "requests.cpu missing", overlay: `spec: {resources: {requests: {cpu: null}}}`, message: "spec.resources.requests.cpu is required"},
	{name: "requests.memory missing", overlay: `spec: {resources: {requests: {memory: null}}}`, message: "spec.resources.requests.memory is required"},
	{name: "cpu limit below request", overlay: `spec: {resources: {limits: {cpu: 100m}}}`, message: "spec.resources.limits.cpu must be greater than or equal to spec.resources.requests.cpu"},
	{name: "memory limit below request", overlay: `spec: {resources: {limits: {memory: 512Mi}}}`, message: "spec.resources.limits.memory must be greater than or equal to spec.resources.requests.memory"},
	{name: "GPU request differs from limit", overlay: `spec: {resources: {requests: {nvidia.com/gpu: "1"}, limits: {nvidia.com/gpu: "2"}}}`, message: "spec.resources.requests['nvidia.com/gpu'] must equal spec.resources.limits['nvidia.com/gpu']"},
	{name: "malformed quantity", overlay: `spec: {resources: {requests: {cpu: "1 core"}}}`, message: "spec.resources.requests.cpu"},
	{name: "replicas with autoscaling", overlay: `spec: {replicas: 2, autoscaling: {maxReplicas: 4}}`, message: "spec.replicas and spec.autoscaling are mutually exclusive"},
	{name: "negative replicas", overlay: `spec: {replicas: -1}`, message: "spec.replicas: Invalid value: -1"},
	{name: "minReplicas above maxReplicas", overlay: `spec: {autoscaling: {minReplicas: 5, maxReplicas: 2}}`, message: "spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas"},
	{name: "minReplicas above the default maxReplicas", overlay: `spec: {autoscaling: {minReplicas: 20}}`, message: "spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas"},
	{name: "minReplicas zero with the HPA engine", overlay: `spec: {autoscaling: {minReplicas: 0}}`, message: "spec.autoscaling.minReplicas 0 (scale to zero) needs spec.autoscaling.engine KEDA"},
	{name: "minReplicas negative", overlay: `spec: {autoscaling: {engine: KEDA, minReplicas: -1, signals: [` + queueSignal + `]}}`, message: "spec.autoscaling.minReplicas: Invalid value: -1"},
	{name: "unknown engine", overlay: `spec: {autoscaling: {engine: Knative}}`, message: "spec.autoscaling.engine: Unsupported value"},
	{name: "signals without KEDA", overlay: `spec: {autoscaling: {signals: [` + queueSignal + `]}}`, message: "spec.autoscaling.signals and spec.autoscaling.keda need spec.autoscaling.engine KEDA"},
	{name: "KEDA settings without KEDA", overlay: `spec: {autoscaling: {engine: HPA, keda: {cooldownPeriod: 30}}}`, message: "spec.autoscaling.signals and spec.autoscaling.keda need spec.autoscaling.engine KEDA"},
	{name: "scale to zero on cpu alone", overlay: `spec: {autoscaling: {engine: KEDA, minReplicas: 0}}`, message: "spec.autoscaling.minReplicas 0 needs a signal or a KEDA trigger"},
	{name: "a Pods metric with KEDA", overlay: "spec: {autoscaling: {engine: KEDA, metrics: [" + podsMetric + "]}}", message: "spec.autoscaling.metrics with engine KEDA may hold only Resource and ContainerResource metrics"},
	{name: "Latency signal without a quantile", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: Latency, target: "0.5", server: vLLM}]}}`, message: "spec.autoscaling.signals[*].quantile is required for a Latency signal"},
	{name: "Latency quantile of 1", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: Latency, target: "0.5", server: vLLM, quantile: 1}]}}`, message: "spec.autoscaling.signals[0].quantile: Invalid value: 1"},
	{name: "Latency quantile of 0", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: Latency, target: "0.5", server: TGI, quantile: 0}]}}`, message: "spec.autoscaling.signals[0].quantile: Invalid value: 0"},
	{name: "quantile on a queue signal", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: "5", server: vLLM, quantile: 0.9}]}}`, message: "spec.autoscaling.signals[*].quantile is required for a Latency signal (for example 0.95) and allowed only there"},
	{name: "Custom signal without a query", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: Custom, target: "5"}]}}`, message: "spec.autoscaling.signals[*].query is required for a Custom signal"},
	{name: "query on a preset signal", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: "5", server: vLLM, query: "sum(up)"}]}}`, message: "spec.autoscaling.signals[*].query is required for a Custom signal and allowed only there"},
	{name: "unknown server family", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: "5", server: Ollama}]}}`, message: "spec.autoscaling.signals[0].server: Unsupported value: \"Ollama\""},
	{name: "preset signal without a server", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: RunningRequests, target: "5"}]}}`, message: "spec.autoscaling.signals[*].server is required for a preset signal"},
	{name: "KV cache signal of a server without one", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: KVCacheUtilization, target: "0.8", server: TGI}]}}`, message: "spec.autoscaling.signals[*].server does not export this signal"},
	{name: "unknown signal type", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: Throughput, target: "5", server: vLLM}]}}`, message: "spec.autoscaling.signals[0].type: Unsupported value"},
	{name: "signal target of 0", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: "0", server: vLLM}]}}`, message: "spec.autoscaling.signals[0].target"},
	{name: "signal target of integer 0", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: 0, server: vLLM}]}}`, message: "spec.autoscaling.signals[*].target must be a positive quantity"},
	{name: "negative signal target", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: "-5", server: vLLM}]}}`, message: "spec.autoscaling.signals[0].target"},
	{name: "signal target that is not a quantity", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: "five", server: vLLM}]}}`, message: "spec.autoscaling.signals[0].target"},
	{name: "zero signal target with a suffix", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: Latency, target: "0.000m", server: vLLM, quantile: 0.9}]}}`, message: "spec.autoscaling.signals[0].target"},
	{name: "negative activation target", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: "5", server: vLLM, activationTarget: "-1"}]}}`, message: "spec.autoscaling.signals[0].activationTarget"},
	{name: "a missing signal target", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, server: vLLM}]}}`, message: "spec.autoscaling.signals[0].target: Required value"},
	{name: "too many signals", overlay: "spec: {autoscaling: {engine: KEDA, signals: [" + strings.Repeat(queueSignal+",", 9) + "]}}", message: "spec.autoscaling.signals: Too many"},
	{name: "idle replica count above 0", overlay: `spec: {autoscaling: {engine: KEDA, keda: {idleReplicaCount: 1}}}`, message: "spec.autoscaling.keda.idleReplicaCount: Invalid value: 1"},
	{name: "polling interval of 0", overlay: `spec: {autoscaling: {engine: KEDA, keda: {pollingInterval: 0}}}`, message: "spec.autoscaling.keda.pollingInterval: Invalid value: 0"},
	{name: "fallback without replicas", overlay: `spec: {autoscaling: {engine: KEDA, keda: {fallback: {failureThreshold: 3}}}}`, message: "spec.autoscaling.keda.fallback.replicas: Required value"},
	{name: "a cpu trigger among the KEDA triggers", overlay: `spec: {autoscaling: {engine: KEDA, keda: {triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]}}}`, message: "spec.autoscaling.keda.triggers must not be cpu or memory triggers"},
	{name: "KEDA's HPA named like the InferenceService", overlay: `spec: {autoscaling: {engine: KEDA, keda: {advanced: {horizontalPodAutoscalerConfig: {name: llm}}}}}`, message: "spec.autoscaling.keda.advanced.horizontalPodAutoscalerConfig.name must not be the InferenceService's name"},
	{name: "metrics path without a slash", overlay: `spec: {metrics: {path: metrics}}`, message: "spec.metrics.path: Invalid value"},
	{name: "metrics port 0", overlay: `spec: {metrics: {port: 0}}`, message: "spec.metrics.port: Invalid value: 0"},
	{name: "pod monitor interval that is no duration", overlay: `spec: {monitoring: {podMonitor: {enabled: true, interval: 15}}}`, message: "spec.monitoring.podMonitor.interval"},
	{name: "maxReplicas zero", overlay: `spec: {autoscaling: {maxReplicas: 0}}`, message: "spec.autoscaling.maxReplicas: Invalid value: 0"},
	{name: "Resource metric other than cpu or memory", overlay: `spec: {autoscaling: {metrics: [{type: Resource, resource: {name: nvidia.com/gpu, target: {type: Utilization, averageUtilization: 50}}}]}}`, message: "spec.autoscaling.metrics[*].resource.name must be cpu or memory"},
	{name: "ContainerResource metric other than cpu or memory", overlay: `spec: {autoscaling: {metrics: [{type: ContainerResource, containerResource: {name: ephemeral-storage, container: inference-server, target: {type: Utilization, averageUtilization: 50}}}]}}`, message: "spec.autoscaling.metrics[*].containerResource.name must be cpu or memory"},
	{name: "unknown metric type", overlay: `spec: {autoscaling: {metrics: [{type: Latency}]}}`, message: "spec.autoscaling.metrics[*].type must be one of"},
	{name: "Pods metric without its source", overlay: `spec: {autoscaling: {metrics: [{type: Pods}]}}`, message: "spec.autoscaling.metrics[*].pods is required"},
	{name: "External metric without its source", overlay: `spec: {autoscaling: {metrics: [{type: External}]}}`, message: "spec.autoscaling.metrics[*].external is required"},
	{name: "too many metrics", overlay: "spec: {autoscaling: {metrics: [" + strings.Repeat(podsMetric+",", 11) + "]}}", message: "spec.autoscaling.metrics: Too many"},
	{name: "name longer than 63 characters", overlay: "metadata: {name: " + longName + "}", message: "metadata.name must be at most 63 characters"},
	{name: "name with a dot", overlay: `metadata: {name: llm.v2}`, message: "metadata.name must be a DNS-1035 label"},
	{name: "name starting with a digit", overlay: `metadata: {name: 7b-model}`, message: "metadata.name must be a DNS-1035 label"},
	{name: "name with unicode", overlay: `metadata: {name: modèle}`, message: "metadata.name"},
	{name: "name with upper case", overlay: `metadata: {name: LLM}`, message: "metadata.name"},
	{name: "container port zero", overlay: `spec: {port: 0}`, message: "spec.port: Invalid value: 0"},
	{name: "container port above 65535", overlay: `spec: {port: 70000}`, message: "spec.port: Invalid value: 70000"},
	{name: "service port above 65535", overlay: `spec: {service: {port: 65536}}`, message: "spec.service.port: Invalid value: 65536"},
	{name: "unknown service type", overlay: `spec: {service: {type: ExternalName}}`, message: `spec.service.type: Unsupported value: "ExternalName"`},
	{name: "unknown image pull policy", overlay: `spec: {imagePullPolicy: Sometimes}`, message: `spec.imagePullPolicy: Unsupported value: "Sometimes"`},
	{name: "readiness probe with no handler", overlay: `spec: {readinessProbe: {periodSeconds: 5}}`, message: "spec.readinessProbe must set exactly one handler"},
	{name: "startup probe with two handlers", overlay: `spec: {startupProbe: {tcpSocket: {port: 8080}, exec: {command: ["true"]}}}`, message: "spec.startupProbe must set exactly one handler"},
	{name: "liveness probe with no handler", overlay: `spec: {livenessProbe: {}}`, message: "spec.livenessProbe must set exactly one handler"},
	{name: "health path without a leading slash", overlay: `spec: {healthPath: ready}`, message: "spec.healthPath"},
	{name: "startup timeout zero", overlay: `spec: {startupTimeoutSeconds: 0}`, message: "spec.startupTimeoutSeconds: Invalid value: 0"},
	{name: "PDB with both fields", overlay: `spec: {podDisruptionBudget: {minAvailable: 1, maxUnavailable: 1}}`, message: "spec.podDisruptionBudget must set exactly one of minAvailable or maxUnavailable"},
	{name: "PDB with neither field", overlay: `spec: {podDisruptionBudget: {}}`, message: "spec.podDisruptionBudget must set exactly one of minAvailable or maxUnavailable"},
	{name: "PDB with a malformed percentage", overlay: `spec: {podDisruptionBudget: {minAvailable: "half"}}`, message: "spec.podDisruptionBudget.minAvailable must be a non-negative number or a percentage"},
	{name: "too many env vars", overlay: manyEnvs, message: "spec.env: Too many"},
	{name: "unknown field", overlay: `spec: {gpuCount: 1}`, message: `unknown field "spec.gpuCount"`},
	{name: "wrong type", overlay: `spec: {port: "http"}`, message: "spec.port: Invalid value"},
	// Each case below was admitted before its rule existed. childrenRefuse marks the cases
	// whose Deployment, Service, HPA or PDB the API server refuses as well; the others are
	// refused for a reason beyond the children's validation, given in the name.
	{name: "image with an upper-case repository path (the kubelet cannot pull it)", overlay: `spec: {image: ghcr.io/Example/model:1}`, message: "spec.image must be an image reference"},
	{name: "image with a truncated digest (the kubelet cannot pull it)", overlay: `spec: {image: "model@sha256:abc"}`, message: "spec.image must be an image reference"},
	{name: "image with a tag of 129 characters (the kubelet cannot pull it)", overlay: "spec: {image: model:" + strings.Repeat("t", 129) + "}", message: "spec.image must be an image reference"},
	{name: "a resource name without a domain", overlay: `spec: {resources: {requests: {gpu: "1"}}}`, message: "spec.resources.requests keys must be", childrenRefuse: true},
	{name: "a limit named like a quota (requests. prefix)", overlay: `spec: {resources: {limits: {requests.example.com/widget: "1"}}}`, message: "spec.resources.limits keys must be", childrenRefuse: true},
	{name: "a negative request", overlay: `spec: {resources: {requests: {ephemeral-storage: "-1Gi"}}}`, message: "spec.resources.requests must not be negative", childrenRefuse: true},
	{name: "a negative limit", overlay: `spec: {resources: {limits: {ephemeral-storage: -1}}}`, message: "spec.resources.limits must not be negative", childrenRefuse: true},
	{name: "half a GPU", overlay: `spec: {resources: {limits: {nvidia.com/gpu: 500m}}}`, message: "spec.resources requests and limits of nvidia.com/gpu and amd.com/gpu must be whole numbers", childrenRefuse: true},
	{name: "an extended resource requested without a limit", overlay: `spec: {resources: {requests: {example.com/widget: "1"}}}`, message: "spec.resources.limits must be set for every extended resource", childrenRefuse: true},
	{name: "hugepages that are not a whole number of pages", overlay: `spec: {resources: {limits: {hugepages-2Mi: 3Mi}}}`, message: "spec.resources requests and limits of hugepages-2Mi and hugepages-1Gi must be whole multiples of the page size", childrenRefuse: true},
	{name: "hugepages requested below their limit", overlay: `spec: {resources: {requests: {hugepages-2Mi: 2Mi}, limits: {hugepages-2Mi: 4Mi}}}`, message: "spec.resources.requests of hugepages-2Mi and hugepages-1Gi must equal the limits", childrenRefuse: true},
	{name: "a DRA claim", overlay: `spec: {resources: {claims: [{name: gpu}]}}`, message: "spec.resources.claims must be empty", childrenRefuse: true},
	{name: "readiness probe with a negative period", overlay: `spec: {readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: -1}}`, message: "spec.readinessProbe: initialDelaySeconds, timeoutSeconds, periodSeconds", childrenRefuse: true},
	{name: "readiness probe on port 0", overlay: `spec: {readinessProbe: {httpGet: {path: /ready, port: 0}}}`, message: "spec.readinessProbe port", childrenRefuse: true},
	{name: "readiness probe on a port name the container does not have (it could never pass)", overlay: `spec: {readinessProbe: {httpGet: {path: /ready, port: metrics}}}`, message: "spec.readinessProbe port"},
	{name: "readiness probe with an unknown scheme", overlay: `spec: {readinessProbe: {httpGet: {path: /ready, port: http, scheme: FTP}}}`, message: "spec.readinessProbe.httpGet.scheme", childrenRefuse: true},
	{name: "readiness probe running nothing", overlay: `spec: {readinessProbe: {exec: {command: []}}}`, message: "spec.readinessProbe.exec.command must not be empty", childrenRefuse: true},
	{name: "readiness probe with a termination grace period", overlay: `spec: {readinessProbe: {tcpSocket: {port: 8080}, terminationGracePeriodSeconds: 5}}`, message: "spec.readinessProbe.terminationGracePeriodSeconds must not be set", childrenRefuse: true},
	{name: "startup probe with a negative failure threshold", overlay: `spec: {startupProbe: {tcpSocket: {port: 8080}, failureThreshold: -3}}`, message: "spec.startupProbe: initialDelaySeconds", childrenRefuse: true},
	{name: "startup probe on port 70000", overlay: `spec: {startupProbe: {tcpSocket: {port: 70000}}}`, message: "spec.startupProbe port", childrenRefuse: true},
	{name: "startup probe with a lower-case scheme", overlay: `spec: {startupProbe: {httpGet: {port: 8080, scheme: http}}}`, message: "spec.startupProbe.httpGet.scheme", childrenRefuse: true},
	{name: "startup probe running nothing", overlay: `spec: {startupProbe: {exec: {command: []}}}`, message: "spec.startupProbe.exec.command must not be empty", childrenRefuse: true},
	{name: "startup probe with a zero termination grace period", overlay: `spec: {startupProbe: {tcpSocket: {port: 8080}, terminationGracePeriodSeconds: 0}}`, message: "spec.startupProbe.terminationGracePeriodSeconds must be greater than 0", childrenRefuse: true},
	{name: "startup probe needing two successes", overlay: `spec: {startupProbe: {tcpSocket: {port: 8080}, successThreshold: 2}}`, message: "spec.startupProbe.successThreshold must be 1", childrenRefuse: true},
	{name: "liveness probe with a negative timeout", overlay: `spec: {livenessProbe: {tcpSocket: {port: 8080}, timeoutSeconds: -1}}`, message: "spec.livenessProbe: initialDelaySeconds", childrenRefuse: true},
	{name: "liveness probe on gRPC port 0", overlay: `spec: {livenessProbe: {grpc: {port: 0}}}`, message: "spec.livenessProbe port", childrenRefuse: true},
	{name: "liveness probe with an unknown scheme", overlay: `spec: {livenessProbe: {httpGet: {port: http, scheme: HTTP2}}}`, message: "spec.livenessProbe.httpGet.scheme", childrenRefuse: true},
	{name: "liveness probe running nothing", overlay: `spec: {livenessProbe: {exec: {command: []}}}`, message: "spec.livenessProbe.exec.command must not be empty", childrenRefuse: true},
	{name: "liveness probe with a negative termination grace period", overlay: `spec: {livenessProbe: {tcpSocket: {port: 8080}, terminationGracePeriodSeconds: -1}}`, message: "spec.livenessProbe.terminationGracePeriodSeconds must be greater than 0", childrenRefuse: true},
	{name: "liveness probe needing three successes", overlay: `spec: {livenessProbe: {tcpSocket: {port: 8080}, successThreshold: 3}}`, message: "spec.livenessProbe.successThreshold must be 1", childrenRefuse: true},
	{name: "pod label key with two slashes", overlay: `spec: {podLabels: {a/b/c: x}}`, message: "spec.podLabels keys must be label keys", childrenRefuse: true},
	{name: "pod label value of 64 characters", overlay: "spec: {podLabels: {team: " + strings.Repeat("a", 64) + "}}", message: "spec.podLabels values must be label values", childrenRefuse: true},
	{name: "node selector key starting with a dash", overlay: `spec: {nodeSelector: {-zone: a}}`, message: "spec.nodeSelector keys must be label keys", childrenRefuse: true},
	{name: "node selector value ending with a dot", overlay: `spec: {nodeSelector: {zone: "a."}}`, message: "spec.nodeSelector values must be label values", childrenRefuse: true},
	{name: "pod annotation key with a space", overlay: `spec: {podAnnotations: {"bad key": x}}`, message: "spec.podAnnotations keys must be annotation keys", childrenRefuse: true},
	{name: "pod annotations over 256 KiB", overlay: "spec: {podAnnotations: {big: " + strings.Repeat("x", 262145) + "}}", message: "spec.podAnnotations must not be larger than 256 KiB", childrenRefuse: true},
	{name: "pod deletion cost with a plus sign", overlay: `spec: {podAnnotations: {controller.kubernetes.io/pod-deletion-cost: "+5"}}`, message: "spec.podAnnotations['controller.kubernetes.io/pod-deletion-cost'] must be a 32-bit integer", childrenRefuse: true},
	{name: "the static-pod annotation", overlay: `spec: {podAnnotations: {kubernetes.io/config.mirror: x}}`, message: "spec.podAnnotations must not set kubernetes.io/config.mirror", childrenRefuse: true},
	{name: "Service annotation key with two slashes", overlay: `spec: {service: {annotations: {a/b/c: x}}}`, message: "spec.service.annotations keys must be annotation keys", childrenRefuse: true},
	{name: "Service annotations over 256 KiB", overlay: "spec: {service: {annotations: {big: " + strings.Repeat("x", 262145) + "}}}", message: "spec.service.annotations must not be larger than 256 KiB", childrenRefuse: true},
	{name: "toleration without a key that is not Exists", overlay: `spec: {tolerations: [{operator: Equal, value: x}]}`, message: "spec.tolerations[*].operator must be Exists when key is empty", childrenRefuse: true},
	{name: "toleration with the alpha operator Lt", overlay: `spec: {tolerations: [{key: gpu, operator: Lt, value: "4"}]}`, message: "spec.tolerations[*].operator must be Equal or Exists", childrenRefuse: true},
	{name: "toleration value starting with a dash", overlay: `spec: {tolerations: [{key: gpu, value: -x}]}`, message: "spec.tolerations[*].value must be a label value", childrenRefuse: true},
	{name: "toleration with an unknown effect", overlay: `spec: {tolerations: [{key: gpu, operator: Exists, effect: NoRun}]}`, message: "spec.tolerations[*].effect must be", childrenRefuse: true},
	{name: "toleration seconds for a NoSchedule taint", overlay: `spec: {tolerations: [{key: gpu, operator: Exists, effect: NoSchedule, tolerationSeconds: 30}]}`, message: "spec.tolerations[*].tolerationSeconds needs effect NoExecute", childrenRefuse: true},
	{name: "topology spread with a skew of 0", overlay: `spec: {topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]}`, message: "spec.topologySpreadConstraints[*].maxSkew must be at least 1", childrenRefuse: true},
	{name: "topology spread without a topology key", overlay: `spec: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: "", whenUnsatisfiable: DoNotSchedule}]}`, message: "spec.topologySpreadConstraints[*].topologyKey must not be empty", childrenRefuse: true},
	{name: "topology spread with an unknown action", overlay: `spec: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Never}]}`, message: "spec.topologySpreadConstraints[*].whenUnsatisfiable must be", childrenRefuse: true},
	{name: "topology spread with minDomains and ScheduleAnyway", overlay: `spec: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 2}]}`, message: "spec.topologySpreadConstraints[*].minDomains", childrenRefuse: true},
	{name: "topology spread with an unknown node policy", overlay: `spec: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Maybe}]}`, message: "spec.topologySpreadConstraints[*].nodeAffinityPolicy and nodeTaintsPolicy", childrenRefuse: true},
	{name: "topology spread with matchLabelKeys but no selector", overlay: `spec: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, matchLabelKeys: [pod-template-hash]}]}`, message: "spec.topologySpreadConstraints[*].matchLabelKeys need a labelSelector", childrenRefuse: true},
	{name: "service account name with upper case", overlay: `spec: {serviceAccountName: Model_Reader}`, message: "spec.serviceAccountName must be a ServiceAccount name", childrenRefuse: true},
	{name: "priority class name with upper case", overlay: `spec: {priorityClassName: High}`, message: "spec.priorityClassName must be a PriorityClass name", childrenRefuse: true},
	{name: "volume name starting with a dash", overlay: `spec: {volumes: [{name: -cache, emptyDir: {}}]}`, message: "spec.volumes[*].name must be a DNS-1123 label", childrenRefuse: true},
	{name: "volume with two sources", overlay: `spec: {volumes: [{name: cache, emptyDir: {}, configMap: {name: settings}}]}`, message: "spec.volumes[*] must set only one volume source", childrenRefuse: true},
	{name: "secret volume without a secret name", overlay: `spec: {volumes: [{name: creds, secret: {}}]}`, message: "spec.volumes[*] must name what it mounts", childrenRefuse: true},
	{name: "volume mode above 0777", overlay: `spec: {volumes: [{name: creds, secret: {secretName: creds, defaultMode: 512}}]}`, message: "spec.volumes[*] defaultMode must be between 0 and 0777", childrenRefuse: true},
	{name: "emptyDir with a negative size limit", overlay: `spec: {volumes: [{name: cache, emptyDir: {sizeLimit: -1Gi}}]}`, message: "spec.volumes[*].emptyDir.sizeLimit must not be negative", childrenRefuse: true},
	{name: "hostPath of an unknown type", overlay: `spec: {volumes: [{name: models, hostPath: {path: /models, type: Folder}}]}`, message: "spec.volumes[*].hostPath.type must be", childrenRefuse: true},
	{name: "image volume with an unknown pull policy", overlay: `spec: {volumes: [{name: weights, image: {reference: "ghcr.io/example/weights:1", pullPolicy: Sometimes}}]}`, message: "spec.volumes[*].image.pullPolicy must be", childrenRefuse: true},
	{name: "mount of a volume that does not exist", overlay: `spec: {volumeMounts: [{name: cache, mountPath: /cache}]}`, message: "spec.volumeMounts[*].name must name a volume of spec.volumes", childrenRefuse: true},
	{name: "mount without a path", overlay: `spec: {volumes: [{name: cache, emptyDir: {}}], volumeMounts: [{name: cache, mountPath: ""}]}`, message: "spec.volumeMounts[*].mountPath must not be empty", childrenRefuse: true},
	{name: "mount of a parent directory", overlay: `spec: {volumes: [{name: cache, emptyDir: {}}], volumeMounts: [{name: cache, mountPath: /cache, subPath: ../etc}]}`, message: "spec.volumeMounts[*].subPath and subPathExpr must be relative paths", childrenRefuse: true},
	{name: "mount with an unknown propagation", overlay: `spec: {volumes: [{name: cache, emptyDir: {}}], volumeMounts: [{name: cache, mountPath: /cache, mountPropagation: Sideways}]}`, message: "spec.volumeMounts[*].mountPropagation must be", childrenRefuse: true},
	{name: "recursively read-only mount that is writable", overlay: `spec: {volumes: [{name: cache, emptyDir: {}}], volumeMounts: [{name: cache, mountPath: /cache, recursiveReadOnly: Enabled}]}`, message: "spec.volumeMounts[*].recursiveReadOnly", childrenRefuse: true},
	{name: "bidirectional mount in an unprivileged container", overlay: `spec: {volumes: [{name: cache, emptyDir: {}}], volumeMounts: [{name: cache, mountPath: /cache, mountPropagation: Bidirectional}]}`, message: "spec.volumeMounts[*].mountPropagation Bidirectional needs spec.containerSecurityContext.privileged true", childrenRefuse: true},
	{name: "pod running as user -1", overlay: `spec: {securityContext: {runAsUser: -1}}`, message: "spec.securityContext runAsUser, runAsGroup and fsGroup must be between 0 and 2147483647", childrenRefuse: true},
	{name: "Localhost seccomp profile without a profile", overlay: `spec: {securityContext: {seccompProfile: {type: Localhost}}}`, message: "spec.securityContext seccompProfile and appArmorProfile", childrenRefuse: true},
	{name: "unknown fsGroup change policy", overlay: `spec: {securityContext: {fsGroupChangePolicy: Never}}`, message: "spec.securityContext: fsGroupChangePolicy must be OnRootMismatch or Always", childrenRefuse: true},
	{name: "container running as group -1", overlay: `spec: {containerSecurityContext: {runAsGroup: -1}}`, message: "spec.containerSecurityContext runAsUser and runAsGroup", childrenRefuse: true},
	{name: "AppArmor profile padded with spaces", overlay: `spec: {containerSecurityContext: {appArmorProfile: {type: Localhost, localhostProfile: " k8s-model "}}}`, message: "spec.containerSecurityContext seccompProfile and appArmorProfile", childrenRefuse: true},
	{name: "unmasked /proc", overlay: `spec: {containerSecurityContext: {procMount: Unmasked}}`, message: "spec.containerSecurityContext.procMount must be Default", childrenRefuse: true},
	{name: "privileged container that may not escalate", overlay: `spec: {containerSecurityContext: {privileged: true, allowPrivilegeEscalation: false}}`, message: "spec.containerSecurityContext: a privileged container cannot set allowPrivilegeEscalation to false", childrenRefuse: true},
	{name: "CAP_SYS_ADMIN with privilege escalation off", overlay: `spec: {containerSecurityContext: {allowPrivilegeEscalation: false, capabilities: {add: [CAP_SYS_ADMIN]}}}`, message: "spec.containerSecurityContext: a container that adds CAP_SYS_ADMIN cannot set allowPrivilegeEscalation to false", childrenRefuse: true},
	{name: "a drain as long as the grace period", overlay: `spec: {drainSeconds: 30, terminationGracePeriodSeconds: 30}`, message: "spec.drainSeconds must be less than spec.terminationGracePeriodSeconds"},
	{name: "a drain as long as the default grace period", overlay: `spec: {drainSeconds: 45}`, message: "spec.drainSeconds must be less than spec.terminationGracePeriodSeconds (default 30)"},
	{name: "a negative drain", overlay: `spec: {drainSeconds: -1}`, message: "spec.drainSeconds"},
	{name: "paused given as a string", overlay: `spec: {paused: "yes"}`, message: "spec.paused: Invalid value"},
	{name: "rollout with strategy", overlay: `spec: {rollout: {policy: Surge}, strategy: {type: Recreate}}`, message: "spec.rollout and spec.strategy are mutually exclusive"},
	{name: "unknown rollout policy", overlay: `spec: {rollout: {policy: BlueGreen}}`, message: "spec.rollout.policy: Unsupported value"},
	{name: "Recreate rollout with surge settings, which it would ignore", overlay: `spec: {rollout: {policy: Recreate, maxUnavailable: 1}}`, message: "spec.rollout.maxSurge and spec.rollout.maxUnavailable must not be set with spec.rollout.policy Recreate"},
	{name: "a rollout with maxSurge and maxUnavailable both 0", overlay: `spec: {rollout: {maxSurge: 0, maxUnavailable: 0%}}`, message: "spec.rollout.maxSurge and spec.rollout.maxUnavailable must not both be 0", childrenRefuse: true},
	{name: "negative rollout maxSurge", overlay: `spec: {rollout: {maxSurge: -1}}`, message: "spec.rollout.maxSurge must not be negative", childrenRefuse: true},
	{name: "negative rollout maxUnavailable", overlay: `spec: {rollout: {maxUnavailable: -2}}`, message: "spec.rollout.maxUnavailable must not be negative", childrenRefuse: true},
	{name: "rollout maxSurge that is neither a number nor a percentage", overlay: `spec: {rollout: {maxSurge: half}}`, message: "spec.rollout.maxSurge in body should match", childrenRefuse: true},
	{name: "rollout maxUnavailable above 100%", overlay: `spec: {rollout: {policy: Surge, maxUnavailable: 101%}}`, message: "spec.rollout.maxUnavailable in body should match", childrenRefuse: true},
	{name: "unknown strategy", overlay: `spec: {strategy: {type: BlueGreen}}`, message: "spec.strategy.type must be RollingUpdate or Recreate", childrenRefuse: true},
	{name: "Recreate with rolling-update settings", overlay: `spec: {strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}}`, message: "spec.strategy.rollingUpdate must not be set when spec.strategy.type is Recreate", childrenRefuse: true},
	{name: "maxSurge that is neither a number nor a percentage", overlay: `spec: {strategy: {rollingUpdate: {maxSurge: half}}}`, message: "spec.strategy.rollingUpdate.maxUnavailable and maxSurge must each be", childrenRefuse: true},
	{name: "maxUnavailable above 100%", overlay: `spec: {strategy: {rollingUpdate: {maxUnavailable: 101%}}}`, message: "spec.strategy.rollingUpdate.maxUnavailable must not be more than 100%", childrenRefuse: true},
	{name: "a rollout that can neither add nor remove a pod", overlay: `spec: {strategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 0%}}}`, message: "spec.strategy.rollingUpdate.maxUnavailable and maxSurge must not both be 0", childrenRefuse: true},
	{name: "metric with two sources", overlay: `spec: {autoscaling: {metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}, ` + podsSource + `}]}}`, message: "spec.autoscaling.metrics[*] must set only the source its type names", childrenRefuse: true},
	{name: "utilization target of 0", overlay: `spec: {autoscaling: {metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 0}}}]}}`, message: "spec.autoscaling.metrics[*] target", childrenRefuse: true},
	{name: "External target value of 0", overlay: `spec: {autoscaling: {metrics: [{type: External, external: {metric: {name: queue_depth}, target: {type: Value, value: "0"}}}]}}`, message: "spec.autoscaling.metrics[*] target", childrenRefuse: true},
	{name: "unknown target type", overlay: `spec: {autoscaling: {metrics: [{type: Pods, pods: {metric: {name: queue}, target: {type: Percent, averageValue: "10"}}}]}}`, message: "spec.autoscaling.metrics[*] target", childrenRefuse: true},
	{name: "negative averageValue", overlay: `spec: {autoscaling: {metrics: [{type: Pods, pods: {metric: {name: queue}, target: {type: AverageValue, averageValue: "-10"}}}]}}`, message: "spec.autoscaling.metrics[*] target", childrenRefuse: true},
	{name: "Resource target with utilization and value", overlay: `spec: {autoscaling: {metrics: [{type: Resource, resource: {name: memory, target: {type: Utilization, averageUtilization: 50, averageValue: 1Gi}}}]}}`, message: "spec.autoscaling.metrics[*].resource.target must set exactly one of averageUtilization or averageValue", childrenRefuse: true},
	{name: "ContainerResource target with neither", overlay: `spec: {autoscaling: {metrics: [{type: ContainerResource, containerResource: {name: cpu, container: inference-server, target: {type: Utilization}}}]}}`, message: "spec.autoscaling.metrics[*].containerResource.target must set exactly one", childrenRefuse: true},
	{name: "Pods target with a value instead of an average", overlay: `spec: {autoscaling: {metrics: [{type: Pods, pods: {metric: {name: queue}, target: {type: Value, value: "10"}}}]}}`, message: "spec.autoscaling.metrics[*].pods.target.averageValue is required", childrenRefuse: true},
	{name: "Object target without a value", overlay: `spec: {autoscaling: {metrics: [{type: Object, object: {metric: {name: rps}, describedObject: {apiVersion: v1, kind: Service, name: gw}, target: {type: Value}}}]}}`, message: "spec.autoscaling.metrics[*].object.target must set value or averageValue", childrenRefuse: true},
	{name: "External target with a value and an average", overlay: `spec: {autoscaling: {metrics: [{type: External, external: {metric: {name: queue_depth}, target: {type: Value, value: "10", averageValue: "1"}}}]}}`, message: "spec.autoscaling.metrics[*].external.target must set exactly one of value or averageValue", childrenRefuse: true},
	{name: "metric name with a slash", overlay: `spec: {autoscaling: {metrics: [{type: Pods, pods: {metric: {name: queue/length}, target: {type: AverageValue, averageValue: "10"}}}]}}`, message: "spec.autoscaling.metrics[*] pods.metric.name and external.metric.name", childrenRefuse: true},
	{name: "Object metric about an unnamed object", overlay: `spec: {autoscaling: {metrics: [{type: Object, object: {metric: {name: rps}, describedObject: {apiVersion: v1, kind: Service, name: ""}, target: {type: Value, value: "5"}}}]}}`, message: "spec.autoscaling.metrics[*].object needs a metric.name", childrenRefuse: true},
	{name: "ContainerResource metric of a container name with upper case", overlay: `spec: {autoscaling: {metrics: [{type: ContainerResource, containerResource: {name: cpu, container: Inference_Server, target: {type: Utilization, averageUtilization: 50}}}]}}`, message: "spec.autoscaling.metrics[*].containerResource.container must be a container name", childrenRefuse: true},
	{name: "stabilization window over an hour", overlay: `spec: {autoscaling: {behavior: {scaleDown: {stabilizationWindowSeconds: 3601}}}}`, message: "spec.autoscaling.behavior scaleUp and scaleDown stabilizationWindowSeconds must be between 0 and 3600", childrenRefuse: true},
	{name: "unknown select policy", overlay: `spec: {autoscaling: {behavior: {scaleUp: {selectPolicy: Random}}}}`, message: "spec.autoscaling.behavior scaleUp and scaleDown selectPolicy must be Max, Min or Disabled", childrenRefuse: true},
	{name: "scaling policy period over 30 minutes", overlay: `spec: {autoscaling: {behavior: {scaleUp: {policies: [{type: Pods, value: 2, periodSeconds: 1801}]}}}}`, message: "spec.autoscaling.behavior scaleUp and scaleDown policies", childrenRefuse: true},
	{name: "scaling policy of zero pods", overlay: `spec: {autoscaling: {behavior: {scaleDown: {policies: [{type: Percent, value: 0, periodSeconds: 60}]}}}}`, message: "spec.autoscaling.behavior scaleUp and scaleDown policies", childrenRefuse: true},
	{name: "negative scale-up tolerance", overlay: `spec: {autoscaling: {behavior: {scaleUp: {tolerance: "-0.1"}}}}`, message: "spec.autoscaling.behavior scaleUp and scaleDown tolerance must not be negative", childrenRefuse: true},
	{name: "PDB minAvailable above 100%", overlay: `spec: {podDisruptionBudget: {minAvailable: 101%}}`, message: "spec.podDisruptionBudget.minAvailable must not be more than 100%", childrenRefuse: true},
	{name: "PDB maxUnavailable above 100%", overlay: `spec: {podDisruptionBudget: {maxUnavailable: 150%}}`, message: "spec.podDisruptionBudget.maxUnavailable must not be more than 100%", childrenRefuse: true},
	{name: "required node affinity without a term", overlay: `spec: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}}`, message: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution needs at least one nodeSelectorTerm", childrenRefuse: true},
	{name: "preferred node affinity of weight 0", overlay: `spec: {affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, preference: {}}]}}}`, message: "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[*].weight", childrenRefuse: true},
	{name: "pod affinity without a topology key", overlay: `spec: {affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: "", labelSelector: {matchLabels: {app: cache}}}]}}}`, message: "spec.affinity.podAffinity: every term needs a topologyKey", childrenRefuse: true},
	{name: "preferred pod anti-affinity of weight 101", overlay: `spec: {affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 101, podAffinityTerm: {topologyKey: kubernetes.io/hostname}}]}}}`, message: "spec.affinity.podAntiAffinity: every term needs a topologyKey", childrenRefuse: true},
	{name: "env var from nothing", overlay: `spec: {env: [{name: MODEL, valueFrom: {}}]}`, message: "spec.env[*].valueFrom must set exactly one of", childrenRefuse: true},
	{name: "env var with a value and a source", overlay: `spec: {env: [{name: MODEL, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}`, message: "spec.env[*].value and spec.env[*].valueFrom are mutually exclusive", childrenRefuse: true},
	{name: "env var from an unknown pod field", overlay: `spec: {env: [{name: PHASE, valueFrom: {fieldRef: {fieldPath: status.phase}}}]}`, message: "spec.env[*].valueFrom.fieldRef.fieldPath must be one of", childrenRefuse: true},
	{name: "env var from the GPU limit", overlay: `spec: {env: [{name: GPUS, valueFrom: {resourceFieldRef: {resource: limits.nvidia.com/gpu}}}]}`, message: "spec.env[*].valueFrom.resourceFieldRef.resource must be", childrenRefuse: true},
	{name: "env var from a hidden ConfigMap key", overlay: `spec: {env: [{name: MODEL, valueFrom: {configMapKeyRef: {name: settings, key: ..model}}}]}`, message: "spec.env[*].valueFrom configMapKeyRef and secretKeyRef need a name and a key", childrenRefuse: true},
	{name: "envFrom a ConfigMap and a Secret at once", overlay: `spec: {envFrom: [{configMapRef: {name: settings}, secretRef: {name: creds}}]}`, message: "spec.envFrom[*] must set exactly one of configMapRef or secretRef", childrenRefuse: true},
	{name: "envFrom an unnamed Secret", overlay: `spec: {envFrom: [{secretRef: {name: ""}}]}`, message: "spec.envFrom[*].configMapRef.name and secretRef.name must name a ConfigMap or Secret", childrenRefuse: true},
}

// validCases are unusual manifests that must be admitted and reconciled.
var validCases = []catalogueCase{
	{name: "the minimal manifest", overlay: ``},
	{name: "a fixed replica count", overlay: `spec: {replicas: 3}`},
	{name: "zero replicas", overlay: `spec: {replicas: 0}`},
	{name: "a Pods metric with a custom behavior", overlay: "spec: {autoscaling: {minReplicas: 2, maxReplicas: 20, metrics: [" + podsMetric + "], behavior: {scaleDown: {stabilizationWindowSeconds: 30}}}}"},
	{name: "an External metric", overlay: `spec: {autoscaling: {metrics: [{type: External, external: {metric: {name: queue_depth}, target: {type: Value, value: "100"}}}]}}`},
	{name: "a GPU limit without a request", overlay: `spec: {resources: {limits: {nvidia.com/gpu: "1"}}}`},
	{name: "limits left out", overlay: `spec: {resources: {limits: null}}`},
	{name: "a 63-character name", overlay: "metadata: {name: " + longName[:63] + "}"},
	{name: "a PDB percentage", overlay: `spec: {podDisruptionBudget: {minAvailable: "50%"}}`},
	{name: "a LoadBalancer Service with annotations", overlay: `spec: {service: {type: LoadBalancer, port: 8080, annotations: {service.beta.kubernetes.io/aws-load-balancer-internal: "true"}}}`},
	{name: "a gRPC readiness probe", overlay: `spec: {readinessProbe: {grpc: {port: 8081}}}`},
	{name: "Recreate strategy", overlay: `spec: {strategy: {type: Recreate}}`},
	{name: "an empty rollout (policy Auto)", overlay: `spec: {rollout: {}}`},
	{name: "a Surge rollout of one extra pod and none down", overlay: `spec: {rollout: {policy: Surge, maxSurge: 1, maxUnavailable: 0}}`},
	{name: "a Recreate rollout", overlay: `spec: {rollout: {policy: Recreate}}`},
	{name: "an Auto rollout that surges by half and takes none down", overlay: `spec: {rollout: {policy: Auto, maxSurge: 50%, maxUnavailable: 0%}}`},
	{name: "a rollout without surge that may take every pod down", overlay: `spec: {rollout: {maxSurge: 0, maxUnavailable: 100%}}`},
	{name: "a rollout without surge and the default maxUnavailable", overlay: `spec: {rollout: {maxSurge: 0}}`},
	{name: "a name of one letter", overlay: `metadata: {name: a}`},
	{name: "non-ASCII text in env values and annotations", overlay: `spec: {env: [{name: GREETING, value: "こんにちは, ¡hola!"}], podAnnotations: {note: "modèle 🚀"}}`},
	{name: "a privileged GPU container with added capabilities", overlay: `spec: {containerSecurityContext: {privileged: true, capabilities: {add: [IPC_LOCK, SYS_NICE]}}}`},
	{name: "a startup budget of one second and a maximal one", overlay: `spec: {startupTimeoutSeconds: 1, terminationGracePeriodSeconds: 0}`},
	{name: "minReplicas equal to maxReplicas", overlay: `spec: {autoscaling: {minReplicas: 4, maxReplicas: 4}}`},
	{name: "KEDA on the default cpu metric", overlay: `spec: {autoscaling: {engine: KEDA}}`},
	{name: "KEDA scaling to zero on queue depth, with every KEDA setting", overlay: `spec: {autoscaling: {engine: KEDA, minReplicas: 0, maxReplicas: 5, signals: [{type: QueueDepth, target: "5", server: Generic, activationTarget: "0.5"}], keda: {pollingInterval: 5, cooldownPeriod: 20, idleReplicaCount: 0, fallback: {failureThreshold: 3, replicas: 2, behavior: currentReplicasIfHigher}, advanced: {horizontalPodAutoscalerConfig: {name: llm-keda}, restoreToOriginalReplicaCount: true}, triggers: [{type: metrics-api, name: gateway, metricType: Value, metadata: {url: "http://gw/inflight", valueLocation: inflight, targetValue: "1"}, authenticationRef: {name: gw-auth}}]}}}`},
	{name: "every signal of every server that has it", overlay: `spec: {autoscaling: {engine: KEDA, signals: [{type: QueueDepth, target: 5, server: vLLM}, {type: RunningRequests, target: "8", server: TGI}, {type: Latency, target: 250m, server: Triton, quantile: 0.95}, {type: KVCacheUtilization, target: "0.8", server: vLLM}, {type: RunningRequests, target: "4", server: MLServer}, {type: Latency, target: "1.5", server: MLServer, quantile: 0.5, metricType: AverageValue}, {type: Custom, target: "1e-1", query: "sum(gateway_inflight{service=\"llm\"})", activationTarget: 0}]}}`},
	{name: "KEDA with cpu and memory metrics and a behavior", overlay: `spec: {autoscaling: {engine: KEDA, metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}}, {type: ContainerResource, containerResource: {name: memory, container: inference-server, target: {type: AverageValue, averageValue: 1Gi}}}], behavior: {scaleDown: {stabilizationWindowSeconds: 30}}}}`},
	{name: "metrics on their own port and path, and a pod monitor", overlay: `spec: {metrics: {port: 9090, path: /v1/metrics}, monitoring: {podMonitor: {enabled: true, interval: 15s, labels: {release: prometheus}}}}`},
	{name: "ten metrics of every kind", overlay: "spec: {autoscaling: {metrics: [" + strings.Repeat(podsMetric+",", 9) + `{type: Object, object: {metric: {name: rps}, describedObject: {apiVersion: v1, kind: Service, name: gw}, target: {type: Value, value: "5"}}}]}}`},
	{name: "a memory-only Resource metric with an average value", overlay: `spec: {autoscaling: {metrics: [{type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 3Gi}}}]}}`},
	{name: "limits equal to requests written differently", overlay: `spec: {resources: {requests: {cpu: "1", memory: 1024Mi}, limits: {cpu: 1000m, memory: 1Gi}}}`},
	{name: "a NodePort Service on port 1", overlay: `spec: {service: {type: NodePort, port: 1}, port: 65535}`},
	{name: "an exec liveness probe and a TCP readiness probe", overlay: `spec: {livenessProbe: {exec: {command: [cat, /tmp/healthy]}}, readinessProbe: {tcpSocket: {port: 8080}}}`},
	{name: "a service account token asked for", overlay: `spec: {automountServiceAccountToken: true, serviceAccountName: model-reader}`},
	{name: "an image from a registry with a port, a tag and a digest", overlay: "spec: {image: \"localhost:5000/team/model-server:v2@sha256:" + strings.Repeat("a", 64) + "\"}"},
	{name: "an image from an IPv6 registry", overlay: `spec: {image: "[::1]:5000/model:1"}`},
	{name: "an image path with double underscores and dashes", overlay: `spec: {image: Registry.Example.com/a__b--c.d/model_v2:Latest_1.0}`},
	{name: "a readiness probe on the named inference port", overlay: `spec: {readinessProbe: {httpGet: {path: /ready, port: http, scheme: HTTPS}, periodSeconds: 0}}`},
	{name: "2 MiB hugepages given as a limit only", overlay: `spec: {resources: {limits: {hugepages-2Mi: 4Mi}}}`},
	{name: "an extended resource of another vendor as a limit only", overlay: `spec: {resources: {limits: {example.com/widget: "2"}}}`},
	{name: "a rollout that replaces all pods at once", overlay: `spec: {strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 100%}}}`},
	{name: "a PDB allowing every pod down", overlay: `spec: {podDisruptionBudget: {maxUnavailable: 100%}}`},
	{name: "a prefixed pod label with an empty value", overlay: `spec: {podLabels: {example.com/tier: ""}, nodeSelector: {node.kubernetes.io/instance-type: g5.xlarge}}`},
	{name: "annotation keys with an upper-case prefix and a negative deletion cost", overlay: `spec: {podAnnotations: {Example.COM/Note: x, controller.kubernetes.io/pod-deletion-cost: "-5"}}`},
	{name: "a toleration of every taint", overlay: `spec: {tolerations: [{operator: Exists}, {key: nvidia.com/gpu, operator: Exists, effect: NoExecute, tolerationSeconds: 60}]}`},
	{name: "small fractional metric targets and a sidecar's CPU", overlay: `spec: {autoscaling: {metrics: [{type: External, external: {metric: {name: queue_depth}, target: {type: AverageValue, averageValue: "0.05"}}}, {type: ContainerResource, containerResource: {name: cpu, container: istio-proxy, target: {type: AverageValue, averageValue: 250m}}}]}}`},
	{name: "scale-down disabled", overlay: `spec: {autoscaling: {behavior: {scaleDown: {selectPolicy: Disabled, stabilizationWindowSeconds: 3600}, scaleUp: {policies: [{type: Percent, value: 100, periodSeconds: 1800}]}}}}`},
	{name: "env from a pod label and the memory limit", overlay: `spec: {env: [{name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}, {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory}}}]}`},
	{name: "a read-only model cache mounted at a sub-path", overlay: `spec: {volumes: [{name: models, emptyDir: {sizeLimit: 10Gi}}], volumeMounts: [{name: models, mountPath: /models, subPath: models/v1, readOnly: true, recursiveReadOnly: IfPossible}]}`},
	{name: "a Localhost seccomp profile", overlay: `spec: {securityContext: {seccompProfile: {type: Localhost, localhostProfile: profiles/model.json}, runAsUser: 2147483647, fsGroupChangePolicy: OnRootMismatch}}`},
	{name: "CAP_SYS_ADMIN with privilege escalation allowed", overlay: `spec: {containerSecurityContext: {allowPrivilegeEscalation: true, capabilities: {add: [CAP_SYS_ADMIN]}}}`},
	{name: "CAP_SYS_ADMIN with privilege escalation left to the operator", overlay: `spec: {containerSecurityContext: {capabilities: {add: [CAP_SYS_ADMIN]}}}`},
	{name: "a long drain inside a long grace period", overlay: `spec: {drainSeconds: 60, terminationGracePeriodSeconds: 120}`},
	{name: "no drain and no grace period", overlay: `spec: {drainSeconds: 0, terminationGracePeriodSeconds: 0}`},
	{name: "node and pod affinity at the weight bounds", overlay: `spec: {affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 100, preference: {matchExpressions: [{key: gpu, operator: Exists}]}}]}, podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, podAffinityTerm: {topologyKey: kubernetes.io/hostname}}]}}}`},
	{name: "a zone spread with minDomains and matchLabelKeys", overlay: `spec: {topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, minDomains: 2, labelSelector: {matchLabels: {app: llm}}, matchLabelKeys: [pod-template-hash]}]}`},
	{name: "service account and priority class names with dots", overlay: `spec: {serviceAccountName: model.reader, priorityClassName: system.high-priority}`},
}

// namesTheField is a message that starts from the InferenceService's own field path.
var namesTheField = MatchRegexp(`(^|[^a-zA-Z])(spec|metadata)\.[a-zA-Z]`)

func entries(cases []catalogueCase) []TableEntry {
	out := make([]TableEntry, len(cases))
	for i, c := range cases {
		out[i] = Entry(c.name, c)
	}
	return out
}

var _ = Describe("InferenceService admission", func() {
	DescribeTable("refuses an invalid manifest with a message that names the field",
		func(c catalogueCase) {
			figures.invalidTried++
			Expect(c.message).To(namesTheField, "a case must expect a message that names the field")
			err := create(manifest(c.overlay))
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid manifest")
			GinkgoWriter.Println(err.Error())
			Expect(err.Error()).To(ContainSubstring(c.message))
			// Counted only now: a refusal whose message does not name the field is a failure.
			figures.invalidRefused++

			if c.childrenRefuse {
				isvc, err := decode(manifest(c.overlay))
				Expect(err).NotTo(HaveOccurred())
				Expect(childRefusals(isvc)).NotTo(BeEmpty(),
					"the API server admits every child of this manifest: the rule is stricter than the children, say why in the case's name")
				figures.invalidChildrenRefuse++
			}
		},
		entries(invalidCases),
	)

	It("gives a new InferenceService status.observedGeneration 0, so health checks read it as in progress", func() {
		obj := manifest(``)
		Expect(create(obj)).To(Succeed())
		Expect(obj.GetGeneration()).To(Equal(int64(1)))
		Expect(obj.Object["status"]).To(Equal(map[string]any{"observedGeneration": int64(0)}))
	})

	DescribeTable("accepts a valid manifest, and the operator reconciles it",
		func(c catalogueCase) {
			figures.validTried++
			obj := manifest(c.overlay)
			Expect(create(obj)).To(Succeed())

			obj.SetNamespace(newNamespace())
			Expect(k8sClient.Create(ctx, obj, client.FieldValidation("Strict"))).To(Succeed())
			key := client.ObjectKeyFromObject(obj)
			Eventually(func(g Gomega) {
				isvc := &servingv1alpha1.InferenceService{}
				g.Expect(k8sClient.Get(ctx, key, isvc)).To(Succeed())
				g.Expect(isvc.Status.ObservedGeneration).To(Equal(isvc.Generation))
				g.Expect(meta.FindStatusCondition(isvc.Status.Conditions, servingv1alpha1.ConditionStalled)).To(BeNil(),
					"the operator could not handle an accepted manifest")
				g.Expect(k8sClient.Get(ctx, key, &appsv1.Deployment{})).To(Succeed())
				g.Expect(k8sClient.Get(ctx, key, &corev1.Service{})).To(Succeed())
			}, 20*time.Second, 100*time.Millisecond).Should(Succeed())
			figures.validReconciled++
		},
		entries(validCases),
	)
})

// newNamespace creates a fresh namespace, so that reconciled cases never meet.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "valid-"}}
	ExpectWithOffset(1, k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}
