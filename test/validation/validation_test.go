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

// figures counts what the catalogue tried; the suite prints them at the end.
var figures struct {
	invalidTried, invalidRefused, validTried, validReconciled int
}

// reportFigures prints the figures and asserts that every case did what it should.
func reportFigures() {
	_, _ = fmt.Fprintf(GinkgoWriter, "\n| figure | value |\n|---|---|\n"+
		"| invalid inputs tried / refused with a message naming the field | %d / %d |\n"+
		"| valid inputs tried / accepted and reconciled | %d / %d |\n",
		figures.invalidTried, figures.invalidRefused, figures.validTried, figures.validReconciled)
	fmt.Printf("validation figures: invalid %d tried, %d refused; valid %d tried, %d reconciled\n",
		figures.invalidTried, figures.invalidRefused, figures.validTried, figures.validReconciled)
	Expect(figures.invalidRefused).To(Equal(figures.invalidTried))
	Expect(figures.validReconciled).To(Equal(figures.validTried))
}

var (
	longName   = strings.Repeat("a", 64)
	manyEnvs   = "spec: {env: [" + strings.Repeat(`{name: A, value: b},`, 257) + "]}"
	hugeImage  = "spec: {image: " + strings.Repeat("x", 1100) + "}"
	podsMetric = `{type: Pods, pods: {metric: {name: inference_queue_length}, target: {type: AverageValue, averageValue: "10"}}}`
)

var _ = Describe("InferenceService admission", func() {
	DescribeTable("refuses an invalid manifest with a message that names the field",
		func(overlay, wantMessage string) {
			figures.invalidTried++
			err := create(manifest(overlay))
			Expect(err).To(HaveOccurred(), "the API server accepted an invalid manifest")
			GinkgoWriter.Println(err.Error())
			figures.invalidRefused++
			Expect(err.Error()).To(ContainSubstring(wantMessage))
		},
		Entry("image missing", `spec: {image: null}`, "spec.image: Required value"),
		Entry("image empty", `spec: {image: ""}`, "spec.image"),
		Entry("image with spaces around it", `spec: {image: " model:1 "}`, "spec.image must not start or end with spaces"),
		Entry("image too long", hugeImage, "spec.image: Too long"),
		Entry("resources missing", `spec: {resources: null}`, "spec.resources: Required value"),
		Entry("requests missing", `spec: {resources: {requests: null}}`, "spec.resources.requests.cpu is required"),
		Entry("requests.cpu missing", `spec: {resources: {requests: {cpu: null}}}`, "spec.resources.requests.cpu is required"),
		Entry("requests.memory missing", `spec: {resources: {requests: {memory: null}}}`, "spec.resources.requests.memory is required"),
		Entry("cpu limit below request", `spec: {resources: {limits: {cpu: 100m}}}`, "spec.resources.limits.cpu must be greater than or equal to spec.resources.requests.cpu"),
		Entry("memory limit below request", `spec: {resources: {limits: {memory: 512Mi}}}`, "spec.resources.limits.memory must be greater than or equal to spec.resources.requests.memory"),
		Entry("GPU request differs from limit", `spec: {resources: {requests: {nvidia.com/gpu: "1"}, limits: {nvidia.com/gpu: "2"}}}`, "spec.resources.requests['nvidia.com/gpu'] must equal spec.resources.limits['nvidia.com/gpu']"),
		Entry("malformed quantity", `spec: {resources: {requests: {cpu: "1 core"}}}`, "spec.resources.requests.cpu"),
		Entry("replicas with autoscaling", `spec: {replicas: 2, autoscaling: {maxReplicas: 4}}`, "spec.replicas and spec.autoscaling are mutually exclusive"),
		Entry("negative replicas", `spec: {replicas: -1}`, "spec.replicas: Invalid value: -1"),
		Entry("minReplicas above maxReplicas", `spec: {autoscaling: {minReplicas: 5, maxReplicas: 2}}`, "spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas"),
		Entry("minReplicas above the default maxReplicas", `spec: {autoscaling: {minReplicas: 20}}`, "spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas"),
		Entry("minReplicas zero", `spec: {autoscaling: {minReplicas: 0}}`, "spec.autoscaling.minReplicas: Invalid value: 0"),
		Entry("maxReplicas zero", `spec: {autoscaling: {maxReplicas: 0}}`, "spec.autoscaling.maxReplicas: Invalid value: 0"),
		Entry("Resource metric other than cpu or memory", `spec: {autoscaling: {metrics: [{type: Resource, resource: {name: nvidia.com/gpu, target: {type: Utilization, averageUtilization: 50}}}]}}`, "spec.autoscaling.metrics[*].resource.name must be cpu or memory"),
		Entry("ContainerResource metric other than cpu or memory", `spec: {autoscaling: {metrics: [{type: ContainerResource, containerResource: {name: ephemeral-storage, container: inference-server, target: {type: Utilization, averageUtilization: 50}}}]}}`, "spec.autoscaling.metrics[*].containerResource.name must be cpu or memory"),
		Entry("unknown metric type", `spec: {autoscaling: {metrics: [{type: Latency}]}}`, "spec.autoscaling.metrics[*].type must be one of"),
		Entry("Pods metric without its source", `spec: {autoscaling: {metrics: [{type: Pods}]}}`, "spec.autoscaling.metrics[*].pods is required"),
		Entry("External metric without its source", `spec: {autoscaling: {metrics: [{type: External}]}}`, "spec.autoscaling.metrics[*].external is required"),
		Entry("too many metrics", "spec: {autoscaling: {metrics: ["+strings.Repeat(podsMetric+",", 11)+"]}}", "spec.autoscaling.metrics: Too many"),
		Entry("name longer than 63 characters", "metadata: {name: "+longName+"}", "metadata.name must be at most 63 characters"),
		Entry("name with a dot", `metadata: {name: llm.v2}`, "metadata.name must be a DNS-1035 label"),
		Entry("name starting with a digit", `metadata: {name: 7b-model}`, "metadata.name must be a DNS-1035 label"),
		Entry("name with unicode", `metadata: {name: modèle}`, "metadata.name"),
		Entry("name with upper case", `metadata: {name: LLM}`, "metadata.name"),
		Entry("container port zero", `spec: {port: 0}`, "spec.port: Invalid value: 0"),
		Entry("container port above 65535", `spec: {port: 70000}`, "spec.port: Invalid value: 70000"),
		Entry("service port above 65535", `spec: {service: {port: 65536}}`, "spec.service.port: Invalid value: 65536"),
		Entry("unknown service type", `spec: {service: {type: ExternalName}}`, `spec.service.type: Unsupported value: "ExternalName"`),
		Entry("unknown image pull policy", `spec: {imagePullPolicy: Sometimes}`, `spec.imagePullPolicy: Unsupported value: "Sometimes"`),
		Entry("readiness probe with no handler", `spec: {readinessProbe: {periodSeconds: 5}}`, "spec.readinessProbe must set exactly one handler"),
		Entry("startup probe with two handlers", `spec: {startupProbe: {tcpSocket: {port: 8080}, exec: {command: ["true"]}}}`, "spec.startupProbe must set exactly one handler"),
		Entry("liveness probe with no handler", `spec: {livenessProbe: {}}`, "spec.livenessProbe must set exactly one handler"),
		Entry("health path without a leading slash", `spec: {healthPath: ready}`, "spec.healthPath"),
		Entry("startup timeout zero", `spec: {startupTimeoutSeconds: 0}`, "spec.startupTimeoutSeconds: Invalid value: 0"),
		Entry("PDB with both fields", `spec: {podDisruptionBudget: {minAvailable: 1, maxUnavailable: 1}}`, "spec.podDisruptionBudget must set exactly one of minAvailable or maxUnavailable"),
		Entry("PDB with neither field", `spec: {podDisruptionBudget: {}}`, "spec.podDisruptionBudget must set exactly one of minAvailable or maxUnavailable"),
		Entry("PDB with a malformed percentage", `spec: {podDisruptionBudget: {minAvailable: "half"}}`, "spec.podDisruptionBudget.minAvailable must be a non-negative number or a percentage"),
		Entry("too many env vars", manyEnvs, "spec.env: Too many"),
		Entry("unknown field", `spec: {gpuCount: 1}`, `unknown field "spec.gpuCount"`),
		Entry("wrong type", `spec: {port: "http"}`, "spec.port: Invalid value"),
	)

	It("gives a new InferenceService status.observedGeneration 0, so health checks read it as in progress", func() {
		obj := manifest(``)
		Expect(create(obj)).To(Succeed())
		Expect(obj.GetGeneration()).To(Equal(int64(1)))
		Expect(obj.Object["status"]).To(Equal(map[string]any{"observedGeneration": int64(0)}))
	})

	DescribeTable("accepts a valid manifest, and the operator reconciles it",
		func(overlay string) {
			figures.validTried++
			obj := manifest(overlay)
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
		Entry("the minimal manifest", ``),
		Entry("a fixed replica count", `spec: {replicas: 3}`),
		Entry("zero replicas", `spec: {replicas: 0}`),
		Entry("a Pods metric with a custom behavior", "spec: {autoscaling: {minReplicas: 2, maxReplicas: 20, metrics: ["+podsMetric+"], behavior: {scaleDown: {stabilizationWindowSeconds: 30}}}}"),
		Entry("an External metric", `spec: {autoscaling: {metrics: [{type: External, external: {metric: {name: queue_depth}, target: {type: Value, value: "100"}}}]}}`),
		Entry("a GPU limit without a request", `spec: {resources: {limits: {nvidia.com/gpu: "1"}}}`),
		Entry("limits left out", `spec: {resources: {limits: null}}`),
		Entry("a 63-character name", "metadata: {name: "+longName[:63]+"}"),
		Entry("a PDB percentage", `spec: {podDisruptionBudget: {minAvailable: "50%"}}`),
		Entry("a LoadBalancer Service with annotations", `spec: {service: {type: LoadBalancer, port: 8080, annotations: {service.beta.kubernetes.io/aws-load-balancer-internal: "true"}}}`),
		Entry("a gRPC readiness probe", `spec: {readinessProbe: {grpc: {port: 8081}}}`),
		Entry("Recreate strategy", `spec: {strategy: {type: Recreate}}`),
		Entry("a name of one letter", `metadata: {name: a}`),
		Entry("non-ASCII text in env values and annotations", `spec: {env: [{name: GREETING, value: "こんにちは, ¡hola!"}], podAnnotations: {note: "modèle 🚀"}}`),
		Entry("a privileged GPU container with added capabilities", `spec: {containerSecurityContext: {privileged: true, capabilities: {add: [IPC_LOCK, SYS_NICE]}}}`),
		Entry("a startup budget of one second and a maximal one", `spec: {startupTimeoutSeconds: 1, terminationGracePeriodSeconds: 0}`),
		Entry("minReplicas equal to maxReplicas", `spec: {autoscaling: {minReplicas: 4, maxReplicas: 4}}`),
		Entry("ten metrics of every kind", "spec: {autoscaling: {metrics: ["+strings.Repeat(podsMetric+",", 9)+`{type: Object, object: {metric: {name: rps}, describedObject: {apiVersion: v1, kind: Service, name: gw}, target: {type: Value, value: "5"}}}]}}`),
		Entry("a memory-only Resource metric with an average value", `spec: {autoscaling: {metrics: [{type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 3Gi}}}]}}`),
		Entry("limits equal to requests written differently", `spec: {resources: {requests: {cpu: "1", memory: 1024Mi}, limits: {cpu: 1000m, memory: 1Gi}}}`),
		Entry("a NodePort Service on port 1", `spec: {service: {type: NodePort, port: 1}, port: 65535}`),
		Entry("an exec liveness probe and a TCP readiness probe", `spec: {livenessProbe: {exec: {command: [cat, /tmp/healthy]}}, readinessProbe: {tcpSocket: {port: 8080}}}`),
		Entry("a service account token asked for", `spec: {automountServiceAccountToken: true, serviceAccountName: model-reader}`),
	)
})

// newNamespace creates a fresh namespace, so that reconciled cases never meet.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "valid-"}}
	ExpectWithOffset(1, k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}
