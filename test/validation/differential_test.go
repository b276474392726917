package validation

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The differential test: whatever the InferenceService admission accepts, the API server
// must accept for every child the operator renders from it. A spec admitted whose
// Deployment, Service, HPA or PDB is refused would only show up later as ApplyFailed.
var (
	corpusSeed = flag.Uint64("validation.seed", 1, "seed of the differential test's corpus of specs")
	corpusSize = flag.Int("validation.specs", 500, "number of specs in the differential test's corpus")
)

// mutation sets one field of the base manifest, given by its dotted path, to a value.
type mutation struct {
	path  string
	value any
}

func (m mutation) String() string {
	v, _ := json.Marshal(m.value)
	return m.path + "=" + string(v)
}

// corpusSpec is one generated spec: the base manifest with some mutations.
type corpusSpec []mutation

func (c corpusSpec) String() string {
	parts := make([]string, len(c))
	for i, m := range c {
		parts[i] = m.String()
	}
	return strings.Join(parts, " ")
}

// manifest is the base manifest with the spec's mutations applied.
func (c corpusSpec) manifest() *unstructured.Unstructured {
	obj := manifest(``)
	for _, m := range c {
		setPath(obj.Object, strings.Split(m.path, "."), m.value)
	}
	return obj
}

func setPath(obj map[string]any, path []string, value any) {
	if len(path) == 1 {
		// A JSON round trip gives every manifest its own copy of the value, as the API
		// client would send it.
		raw, _ := json.Marshal(value)
		var fresh any
		_ = json.Unmarshal(raw, &fresh)
		obj[path[0]] = fresh
		return
	}
	next, ok := obj[path[0]].(map[string]any)
	if !ok {
		next = map[string]any{}
		obj[path[0]] = next
	}
	setPath(next, path[1:], value)
}

// generateCorpus draws n specs from seed, each with one or two mutations taken from the
// field families below, valid and invalid values mixed. The same seed gives the same corpus.
func generateCorpus(seed uint64, n int) []corpusSpec {
	r := rand.New(rand.NewPCG(seed, 0x1c0ffee))
	corpus := make([]corpusSpec, n)
	for i := range corpus {
		count := 1 + r.IntN(2)
		for range count {
			corpus[i] = append(corpus[i], families[r.IntN(len(families))](r))
		}
	}
	return corpus
}

func pick[T any](r *rand.Rand, values ...T) T { return values[r.IntN(len(values))] }

// randomString is up to max characters from alphabet.
func randomString(r *rand.Rand, alphabet string, max int) string {
	runes := []rune(alphabet)
	b := make([]rune, r.IntN(max+1))
	for i := range b {
		b[i] = runes[r.IntN(len(runes))]
	}
	return string(b)
}

// maybe returns value, or nil (the field left out) one time in three.
func maybe(r *rand.Rand, value any) any {
	if r.IntN(3) == 0 {
		return nil
	}
	return value
}

// object drops the nil fields of a map, so that "left out" is left out.
func object(fields map[string]any) map[string]any {
	for k, v := range fields {
		if v == nil {
			delete(fields, k)
		}
	}
	return fields
}

var (
	quantities    = []any{"1", "2", "500m", "0", "-1", "1.5", "1Gi", "2Mi", "4Mi", "3Mi", "-500m", 1, 0, -2, "0.5"}
	resourceNames = []string{"cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "amd.com/gpu", "hugepages-2Mi", "hugepages-1Gi", "gpu", "GPU", "requests.example.com/widget", "storage"}
	probePorts    = []any{0, 1, 8080, 65535, 65536, -1, "http", "metrics", "HTTP", "8080", "h"}
	smallInts     = []any{-1, 0, 1, 2, 5}
	intOrPercents = []any{0, 1, 3, -1, "0%", "25%", "100%", "101%", "250%", "half", "5", "00%"}
	targetValues  = []any{"1", "10", "0", "-1", "500m", "0.5", "0.05", "0.0", "1k", 5, 0, -3}
	metricNames   = []string{"queue_length", "inference_queue_length", "requests-per-second", "a/b", ".", "..", "", "rps.total"}
	labelValues   = []string{"v", "", "v1.2_3", "-v", "v-", "_v", "v.", "a", strings.Repeat("a", 63), strings.Repeat("a", 64)}
	// Characters for keys and names whose rules check every character.
	nameAlphabet = "abcz09-._/AZ :@"
)

// signal is a KEDA signal of spec.autoscaling.signals, valid or not.
func signal(r *rand.Rand) map[string]any {
	return object(map[string]any{
		"type":             maybe(r, pick(r, "QueueDepth", "RunningRequests", "Latency", "KVCacheUtilization", "Custom", "Throughput")),
		"target":           maybe(r, pick(r, targetValues...)),
		"activationTarget": maybe(r, pick[any](r, "0", "1", "-1", "0.5", 0, 2)),
		"quantile":         maybe(r, pick[any](r, 0, 0.5, 0.95, 1, 1.5)),
		"server":           maybe(r, pick(r, "vLLM", "Triton", "TGI", "MLServer", "Generic", "vllm", "")),
		"query":            maybe(r, pick(r, "sum(up)", "sum(my_queue{$(POD_SELECTOR)})", "")),
		"metricType":       maybe(r, pick(r, "Value", "AverageValue", "Utilization")),
	})
}

func probe(r *rand.Rand) map[string]any {
	p := object(map[string]any{
		"initialDelaySeconds": maybe(r, pick(r, smallInts...)),
		"timeoutSeconds":      maybe(r, pick(r, smallInts...)),
		"periodSeconds":       maybe(r, pick(r, smallInts...)),
		"successThreshold":    maybe(r, pick(r, smallInts...)),
		"failureThreshold":    maybe(r, pick(r, smallInts...)),
	})
	if r.IntN(4) == 0 {
		p["terminationGracePeriodSeconds"] = pick(r, -1, 0, 5)
	}
	switch r.IntN(5) {
	case 0:
		p["httpGet"] = object(map[string]any{"path": "/ready", "port": pick(r, probePorts...), "scheme": maybe(r, pick(r, "", "HTTP", "HTTPS", "FTP", "http"))})
	case 1:
		p["tcpSocket"] = map[string]any{"port": pick(r, probePorts...)}
	case 2:
		p["grpc"] = map[string]any{"port": pick(r, 0, 1, 8081, 65536, -5)}
	case 3:
		p["exec"] = map[string]any{"command": pick(r, []string{}, []string{"true"})}
	default:
		p["httpGet"] = map[string]any{"port": "http"}
		p["tcpSocket"] = map[string]any{"port": 8080}
	}
	return p
}

func metricTarget(r *rand.Rand) map[string]any {
	return object(map[string]any{
		"type":               pick(r, "Utilization", "Value", "AverageValue", "Percent"),
		"value":              maybe(r, pick(r, targetValues...)),
		"averageValue":       maybe(r, pick(r, targetValues...)),
		"averageUtilization": maybe(r, pick(r, -1, 0, 1, 50, 200)),
	})
}

func metric(r *rand.Rand) map[string]any {
	kind := pick(r, "Resource", "ContainerResource", "Pods", "Object", "External")
	m := map[string]any{"type": kind}
	source := pick(r, kind, kind, kind, "Resource", "Pods")
	id := map[string]any{"name": pick(r, metricNames...)}
	switch source {
	case "Resource":
		m["resource"] = map[string]any{"name": pick(r, "cpu", "memory"), "target": metricTarget(r)}
	case "ContainerResource":
		m["containerResource"] = map[string]any{"name": pick(r, "cpu", "memory"), "target": metricTarget(r),
			"container": pick(r, "inference-server", "sidecar", "Inference", "-x", "x-", "a_b", "", strings.Repeat("c", 64))}
	case "Pods":
		m["pods"] = map[string]any{"metric": id, "target": metricTarget(r)}
	case "Object":
		m["object"] = map[string]any{"metric": id, "target": metricTarget(r),
			"describedObject": object(map[string]any{"kind": pick(r, "Service", "", "Ingress"), "name": pick(r, "gateway", ""), "apiVersion": maybe(r, pick(r, "v1", "networking.k8s.io/v1", ""))})}
	case "External":
		m["external"] = map[string]any{"metric": id, "target": metricTarget(r)}
	}
	return m
}

func scalingRules(r *rand.Rand) map[string]any {
	rules := object(map[string]any{
		"stabilizationWindowSeconds": maybe(r, pick(r, -1, 0, 60, 3600, 3601)),
		"selectPolicy":               maybe(r, pick(r, "Max", "Min", "Disabled", "Random")),
		"tolerance":                  maybe(r, pick(r, "0", "0.1", "-0.1", "50m")),
	})
	if r.IntN(2) == 0 {
		rules["policies"] = []any{map[string]any{
			"type": pick(r, "Pods", "Percent", "Replicas"), "value": pick(r, -1, 0, 1, 100), "periodSeconds": pick(r, 0, 1, 15, 1800, 1801),
		}}
	}
	return rules
}

var labelSelector = map[string]any{"matchLabels": map[string]any{"app": "llm"}}

// families are the generators of one mutation each, one per family of fields the
// operator passes into a child.
var families = []func(r *rand.Rand) mutation{
	func(r *rand.Rand) mutation { // image references
		return mutation{"spec.image", pick(r,
			"ghcr.io/example/model-server:1.0", "model", "localhost:5000/team/model:v2", "Registry.Example.com/m:1", "team/Model:1",
			"model:"+strings.Repeat("t", 129), "model@sha256:"+strings.Repeat("a", 64), "model@sha256:abc", "model@md5:"+strings.Repeat("a", 32),
			"[::1]:5000/model", "model:", "model::1", "a--b__c.d/e", "a___b", strings.Repeat("f", 64), "UPPER", randomString(r, nameAlphabet, 12))}
	},
	func(r *rand.Rand) mutation { // resource quantities and names
		res := map[string]any{"requests": map[string]any{"cpu": "500m", "memory": "1Gi"}}
		for range 1 + r.IntN(2) {
			which := pick(r, "requests", "limits")
			list, _ := res[which].(map[string]any)
			if list == nil {
				list = map[string]any{}
				res[which] = list
			}
			list[pick(r, resourceNames...)] = pick(r, quantities...)
		}
		return mutation{"spec.resources", res}
	},
	func(r *rand.Rand) mutation { // DRA claims
		return mutation{"spec.resources.claims", pick(r, []any{}, []any{map[string]any{"name": "gpu"}}, []any{map[string]any{"name": "gpu", "request": "one"}})}
	},
	func(r *rand.Rand) mutation { // probes
		return mutation{"spec." + pick(r, "readinessProbe", "startupProbe", "livenessProbe"), probe(r)}
	},
	func(r *rand.Rand) mutation { // HPA metric targets, names, containers
		count := 1 + r.IntN(2)
		metrics := make([]any, 0, count)
		for range count {
			metrics = append(metrics, metric(r))
		}
		return mutation{"spec.autoscaling.metrics", metrics}
	},
	func(r *rand.Rand) mutation { // HPA behavior
		return mutation{"spec.autoscaling.behavior", object(map[string]any{"scaleUp": maybe(r, scalingRules(r)), "scaleDown": maybe(r, scalingRules(r))})}
	},
	func(r *rand.Rand) mutation { // replica bounds
		return mutation{"spec.autoscaling", object(map[string]any{"minReplicas": maybe(r, pick(r, 0, 1, 3, 20)), "maxReplicas": maybe(r, pick(r, 0, 1, 5, 10001))})}
	},
	func(r *rand.Rand) mutation { // autoscaling engine, scale to zero, signals
		count := r.IntN(3)
		signals := make([]any, 0, count)
		for range count {
			signals = append(signals, signal(r))
		}
		as := object(map[string]any{
			"engine":      maybe(r, pick(r, "HPA", "KEDA", "KEDA", "hpa")),
			"minReplicas": maybe(r, pick(r, 0, 1, 2)),
		})
		if count > 0 {
			as["signals"] = signals
		}
		if r.IntN(3) == 0 {
			as["keda"] = object(map[string]any{
				"pollingInterval":  maybe(r, pick(r, 0, 5, 30)),
				"cooldownPeriod":   maybe(r, pick(r, -1, 0, 20)),
				"idleReplicaCount": maybe(r, pick(r, 0, 1)),
				"fallback":         maybe(r, object(map[string]any{"failureThreshold": maybe(r, pick(r, 0, 3)), "replicas": maybe(r, pick(r, 0, 2)), "behavior": maybe(r, pick(r, "static", "currentReplicas", "always"))})),
				"advanced":         maybe(r, map[string]any{"horizontalPodAutoscalerConfig": map[string]any{"name": pick(r, "llm-keda", "Bad_Name", "")}, "restoreToOriginalReplicaCount": pick(r, true, false)}),
				"triggers":         maybe(r, []any{object(map[string]any{"type": pick(r, "metrics-api", "prometheus", "cpu", "Bad"), "name": maybe(r, pick(r, "gw", "G W")), "metricType": maybe(r, pick(r, "Value", "AverageValue", "Utilization", "Max")), "metadata": maybe(r, map[string]any{"url": "http://gw/x", "valueLocation": "n", "targetValue": "1"})})}),
			})
		}
		return mutation{"spec.autoscaling", as}
	},
	func(r *rand.Rand) mutation { // metrics endpoint and pod monitor
		if r.IntN(2) == 0 {
			return mutation{"spec.metrics", object(map[string]any{"port": maybe(r, pick(r, 0, 1, 9090, 65535, 65536)), "path": maybe(r, pick(r, "/metrics", "/", "metrics", "/a b", "", "/v1/metrics?x=1"))})}
		}
		return mutation{"spec.monitoring.podMonitor", object(map[string]any{"enabled": maybe(r, pick(r, true, false)), "interval": maybe(r, pick(r, "15s", "1m30s", "0", "15", "1h-", "")), "labels": maybe(r, map[string]any{"release": pick(r, labelValues...)})})}
	},
	func(r *rand.Rand) mutation { // Deployment strategy
		s := object(map[string]any{"type": maybe(r, pick(r, "", "RollingUpdate", "Recreate", "BlueGreen"))})
		if r.IntN(3) != 0 {
			s["rollingUpdate"] = object(map[string]any{"maxUnavailable": maybe(r, pick(r, intOrPercents...)), "maxSurge": maybe(r, pick(r, intOrPercents...))})
		}
		return mutation{"spec.strategy", s}
	},
	func(r *rand.Rand) mutation { // rollout policy and numbers
		return mutation{"spec.rollout", object(map[string]any{
			"policy":         maybe(r, pick(r, "Auto", "Surge", "Recreate", "BlueGreen")),
			"maxSurge":       maybe(r, pick(r, intOrPercents...)),
			"maxUnavailable": maybe(r, pick(r, intOrPercents...)),
		})}
	},
	func(r *rand.Rand) mutation { // PDB
		return mutation{"spec.podDisruptionBudget." + pick(r, "minAvailable", "maxUnavailable"), pick(r, intOrPercents...)}
	},
	func(r *rand.Rand) mutation { // label syntax
		field := pick(r, "spec.podLabels", "spec.nodeSelector")
		key := pick(r, "team", "example.com/team", randomString(r, nameAlphabet, 10), strings.Repeat("k", 64), strings.Repeat("d", 254)+"/k")
		return mutation{field, map[string]any{key: pick(r, labelValues...)}}
	},
	func(r *rand.Rand) mutation { // annotation syntax
		field := pick(r, "spec.podAnnotations", "spec.service.annotations")
		key := pick(r, "note", "Example.COM/Note", randomString(r, nameAlphabet, 10), "controller.kubernetes.io/pod-deletion-cost", "scheduler.alpha.kubernetes.io/tolerations")
		return mutation{field, map[string]any{key: pick(r, "10", "-5", "+5", "007", "0", "x", "2147483648", "[]", "modèle 🚀")}}
	},
	func(r *rand.Rand) mutation { // tolerations
		return mutation{"spec.tolerations", []any{object(map[string]any{
			"key":               maybe(r, pick(r, "", "nvidia.com/gpu", "dedicated")),
			"operator":          maybe(r, pick(r, "", "Equal", "Exists", "Lt", "Maybe")),
			"value":             maybe(r, pick(r, labelValues...)),
			"effect":            maybe(r, pick(r, "", "NoSchedule", "PreferNoSchedule", "NoExecute", "Bogus")),
			"tolerationSeconds": maybe(r, pick(r, 0, 30)),
		})}}
	},
	func(r *rand.Rand) mutation { // topology spread
		c := object(map[string]any{
			"maxSkew":            pick(r, 0, 1, 2, -1),
			"topologyKey":        pick(r, "", "topology.kubernetes.io/zone"),
			"whenUnsatisfiable":  pick(r, "DoNotSchedule", "ScheduleAnyway", "Never"),
			"minDomains":         maybe(r, pick(r, 0, 1, 3)),
			"nodeAffinityPolicy": maybe(r, pick(r, "Honor", "Ignore", "Maybe")),
			"nodeTaintsPolicy":   maybe(r, pick(r, "Honor", "Ignore", "Maybe")),
			"labelSelector":      maybe(r, labelSelector),
			"matchLabelKeys":     maybe(r, []string{"pod-template-hash"}),
		})
		return mutation{"spec.topologySpreadConstraints", []any{c}}
	},
	func(r *rand.Rand) mutation { // affinity
		switch r.IntN(3) {
		case 0:
			return mutation{"spec.affinity.nodeAffinity", object(map[string]any{
				"requiredDuringSchedulingIgnoredDuringExecution":  maybe(r, map[string]any{"nodeSelectorTerms": pick[any](r, []any{}, []any{map[string]any{"matchExpressions": []any{map[string]any{"key": "gpu", "operator": "Exists"}}}})}),
				"preferredDuringSchedulingIgnoredDuringExecution": maybe(r, []any{map[string]any{"weight": pick(r, 0, 1, 100, 101), "preference": map[string]any{}}}),
			})}
		default:
			term := map[string]any{"topologyKey": pick(r, "", "kubernetes.io/hostname"), "labelSelector": labelSelector}
			kind := pick(r, "podAffinity", "podAntiAffinity")
			if r.IntN(2) == 0 {
				return mutation{"spec.affinity." + kind, map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": []any{term}}}
			}
			return mutation{"spec.affinity." + kind, map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{map[string]any{"weight": pick(r, 0, 1, 100, 101), "podAffinityTerm": term}}}}
		}
	},
	func(r *rand.Rand) mutation { // drain and grace period, rendered as a preStop sleep inside the grace period
		if r.IntN(2) == 0 {
			return mutation{"spec.terminationGracePeriodSeconds", pick(r, 0, 1, 3, 30, 120)}
		}
		return mutation{"spec.drainSeconds", pick(r, -1, 0, 1, 5, 29, 30, 45)}
	},
	func(r *rand.Rand) mutation { // service account and priority class names
		return mutation{"spec." + pick(r, "serviceAccountName", "priorityClassName"), pick(r, "model-reader", "a.b", "A", "-a", "a_b", randomString(r, nameAlphabet, 12))}
	},
	func(r *rand.Rand) mutation { // volumes and mounts
		name := pick(r, "cache", "-x", "x-", strings.Repeat("v", 64))
		source := pick[map[string]any](r,
			map[string]any{"emptyDir": map[string]any{}},
			map[string]any{"emptyDir": map[string]any{"sizeLimit": pick[any](r, "1Gi", "-1Gi", 0, -1)}},
			map[string]any{"secret": object(map[string]any{"secretName": pick(r, "", "creds"), "defaultMode": maybe(r, pick(r, -1, 420, 511, 512))})},
			map[string]any{"configMap": map[string]any{"name": pick(r, "", "config")}},
			map[string]any{"persistentVolumeClaim": map[string]any{"claimName": pick(r, "", "models")}},
			map[string]any{"hostPath": object(map[string]any{"path": pick(r, "", "/models"), "type": maybe(r, pick(r, "", "Directory", "Folder"))})},
			map[string]any{"emptyDir": map[string]any{}, "configMap": map[string]any{"name": "config"}},
			map[string]any{},
		)
		volume := map[string]any{"name": name}
		for k, v := range source {
			volume[k] = v
		}
		mount := object(map[string]any{
			"name":              pick(r, name, name, "missing"),
			"mountPath":         pick(r, "/data", "/data", ""),
			"subPath":           maybe(r, pick(r, "", "models/v1", "/abs", "..", "../x", "x/..")),
			"mountPropagation":  maybe(r, pick(r, "None", "HostToContainer", "Bidirectional", "Sideways")),
			"readOnly":          maybe(r, pick(r, true, false)),
			"recursiveReadOnly": maybe(r, pick(r, "Disabled", "IfPossible", "Enabled", "Always")),
		})
		if r.IntN(2) == 0 {
			return mutation{"spec.volumes", []any{volume}}
		}
		// A mount needs a volume spec to go with it: both go in one mutation of spec.
		return mutation{"spec", map[string]any{
			"image":        "ghcr.io/example/model-server:1.0",
			"resources":    map[string]any{"requests": map[string]any{"cpu": "500m", "memory": "1Gi"}},
			"volumes":      []any{volume},
			"volumeMounts": []any{mount},
		}}
	},
	func(r *rand.Rand) mutation { // pod security context
		sc := object(map[string]any{
			"runAsUser":           maybe(r, pick(r, -1, 0, 1000, 2147483648)),
			"fsGroup":             maybe(r, pick(r, -1, 2000, 2147483647)),
			"fsGroupChangePolicy": maybe(r, pick(r, "OnRootMismatch", "Always", "Never")),
		})
		if r.IntN(2) == 0 {
			sc["seccompProfile"] = object(map[string]any{"type": pick(r, "RuntimeDefault", "Unconfined", "Localhost", "Strict"), "localhostProfile": maybe(r, pick(r, "profiles/model.json", "/abs.json", "../x.json"))})
		}
		return mutation{"spec.securityContext", sc}
	},
	func(r *rand.Rand) mutation { // container security context
		sc := object(map[string]any{
			"privileged":               maybe(r, pick(r, true, false)),
			"allowPrivilegeEscalation": maybe(r, pick(r, true, false)),
			"procMount":                maybe(r, pick(r, "Default", "Unmasked", "Masked")),
			"runAsUser":                maybe(r, pick(r, -1, 1000)),
		})
		if r.IntN(2) == 0 {
			sc["capabilities"] = map[string]any{"add": pick(r, []string{"CAP_SYS_ADMIN"}, []string{"IPC_LOCK"}, []string{"SYS_ADMIN"})}
		}
		if r.IntN(3) == 0 {
			sc["appArmorProfile"] = object(map[string]any{"type": pick(r, "RuntimeDefault", "Localhost", "Complain"), "localhostProfile": maybe(r, pick(r, "k8s-model", "", " padded "))})
		}
		return mutation{"spec.containerSecurityContext", sc}
	},
	func(r *rand.Rand) mutation { // env
		e := object(map[string]any{"name": pick(r, "MODEL", "model.path", "1X", "with space"), "value": maybe(r, pick(r, "", "x"))})
		switch r.IntN(5) {
		case 0:
			e["valueFrom"] = map[string]any{"fieldRef": object(map[string]any{"fieldPath": pick(r, "metadata.name", "status.podIP", "spec.foo", "metadata.labels['app']", "metadata.labels", "status.phase"), "apiVersion": maybe(r, pick(r, "v1", "v2"))})}
		case 1:
			e["valueFrom"] = map[string]any{"resourceFieldRef": map[string]any{"resource": pick(r, "limits.cpu", "requests.memory", "limits.nvidia.com/gpu", "requests.hugepages-2Mi")}}
		case 2:
			e["valueFrom"] = map[string]any{pick(r, "configMapKeyRef", "secretKeyRef"): object(map[string]any{"name": maybe(r, pick(r, "", "settings")), "key": pick(r, "model", "", ".", "..hidden", "a.b")})}
		case 3:
			e["valueFrom"] = map[string]any{}
		}
		return mutation{"spec.env", []any{e}}
	},
	func(r *rand.Rand) mutation { // envFrom
		e := object(map[string]any{"prefix": maybe(r, pick(r, "MODEL_", "")),
			"configMapRef": maybe(r, map[string]any{"name": pick(r, "settings", "")}),
			"secretRef":    maybe(r, map[string]any{"name": pick(r, "creds", "")})})
		return mutation{"spec.envFrom", []any{e}}
	},
	func(r *rand.Rand) mutation { // Service
		return mutation{"spec.service", object(map[string]any{"type": maybe(r, pick(r, "ClusterIP", "NodePort", "LoadBalancer")), "port": maybe(r, pick(r, 1, 80, 65535))})}
	},
	func(r *rand.Rand) mutation { // fixed count
		return mutation{"spec.replicas", pick(r, 0, 1, 3)}
	},
}

// verdict is what the API server said about one spec and its children.
type verdict struct {
	spec      string
	admitted  bool
	refusal   error // of the InferenceService
	refusals  []error
	decodeErr error
}

// judge sends obj as a dry-run create and, when it is admitted, its children as dry-run
// applies rendered from the object the API server returned (with its defaults filled in).
func judge(spec string, obj *unstructured.Unstructured) verdict {
	v := verdict{spec: spec}
	if err := create(obj); err != nil {
		v.refusal = err
		return v
	}
	v.admitted = true
	isvc, err := decode(obj)
	if err != nil {
		v.decodeErr = err
		return v
	}
	v.refusals = childRefusals(isvc)
	return v
}

// judgeAll judges the manifests with a few requests in flight at once.
func judgeAll(specs []string, manifests []*unstructured.Unstructured) []verdict {
	verdicts := make([]verdict, len(specs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				verdicts[i] = judge(specs[i], manifests[i])
			}
		})
	}
	for i := range specs {
		next <- i
	}
	close(next)
	wg.Wait()
	return verdicts
}

// disagreements lists the admitted specs whose children were refused.
func disagreements(verdicts []verdict) []string {
	var out []string
	for _, v := range verdicts {
		if v.decodeErr != nil {
			out = append(out, fmt.Sprintf("%s\n    admitted, but the operator cannot decode it: %v", v.spec, v.decodeErr))
		}
		for _, err := range v.refusals {
			out = append(out, fmt.Sprintf("%s\n    admitted, but the API server refuses its %v", v.spec, err))
		}
	}
	return out
}

var _ = Describe("Admission agrees with the children", func() {
	It("admits no generated spec whose Deployment, Service, HPA or PDB the API server refuses", func() {
		start := time.Now()
		corpus := generateCorpus(*corpusSeed, *corpusSize)
		specs := make([]string, len(corpus))
		manifests := make([]*unstructured.Unstructured, len(corpus))
		for i, c := range corpus {
			specs[i], manifests[i] = c.String(), c.manifest()
		}
		verdicts := judgeAll(specs, manifests)

		admitted := 0
		for _, v := range verdicts {
			if v.admitted {
				admitted++
			} else {
				_, _ = fmt.Fprintf(GinkgoWriter, "refused: %s\n    %v\n", v.spec, v.refusal)
			}
		}
		figures.corpusSpecs, figures.corpusAdmitted, figures.corpusSeconds = len(corpus), admitted, time.Since(start).Seconds()
		Expect(disagreements(verdicts)).To(BeEmpty(), "seed %d", *corpusSeed)
		// A corpus that the admission takes whole, or refuses whole, tests nothing.
		Expect(admitted).To(BeNumerically(">", len(corpus)/10), "too few generated specs were admitted")
		Expect(admitted).To(BeNumerically("<", len(corpus)*9/10), "too few generated specs were refused")
	})

	It("admits no manifest of the catalogue whose children the API server refuses", func() {
		cases := append(append([]catalogueCase{}, invalidCases...), validCases...)
		specs := make([]string, len(cases))
		manifests := make([]*unstructured.Unstructured, len(cases))
		for i, c := range cases {
			specs[i], manifests[i] = c.name, manifest(c.overlay)
		}
		Expect(disagreements(judgeAll(specs, manifests))).To(BeEmpty())
	})
})
