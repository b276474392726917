package render

import (
	"fmt"
	"strconv"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// KEDA's ScaledObject API, written as unstructured content: KEDA's Go module cannot be
// required by another module (its go.mod has replace directives) and brings a large tree.
var (
	// ScaledObjectGVK is KEDA's ScaledObject kind.
	ScaledObjectGVK = schema.GroupVersionKind{Group: "keda.sh", Version: "v1alpha1", Kind: "ScaledObject"}
	// ScaledObjectResource is the resource the ScaledObject CRD serves.
	ScaledObjectResource = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}
)

const (
	// DefaultPrometheusAddress is the --prometheus-address default: the Service of a
	// Prometheus in namespace "monitoring" named "prometheus" on its default port.
	DefaultPrometheusAddress = "http://prometheus.monitoring.svc:9090"

	// KEDAHPAPrefix is how KEDA names the HPA it creates for a ScaledObject unless
	// advanced.horizontalPodAutoscalerConfig.name says otherwise.
	KEDAHPAPrefix = "keda-hpa-"

	// AnnotationKEDAHPAOwnership on the operator's own HPA tells KEDA's admission webhook
	// not to refuse a ScaledObject for the same Deployment while the operator hands the
	// scale target over from its HPA to KEDA's (KEDA v2.21 scaledobject_webhook.go).
	AnnotationKEDAHPAOwnership = "validations.keda.sh/hpa-ownership"

	// podNamePattern matches the names of a Deployment's pods after "NAME-": the
	// ReplicaSet's template hash and the pod's random suffix. Two dashes and no more, so
	// that the pods of an InferenceService named NAME-other never match.
	podNamePattern = "[a-z0-9]+-[a-z0-9]+"

	// latencyWindow is the rate window of latency histograms: four scrapes at
	// Prometheus' usual 15 s, and short enough to follow a load change within a minute.
	latencyWindow = "1m"

	// Keys of a KEDA trigger.
	triggerType = "type"
	triggerName = "name"
)

// Placeholders of a Custom signal's query.
const (
	PlaceholderNamespace   = "$(NAMESPACE)"
	PlaceholderName        = "$(NAME)"
	PlaceholderPodSelector = "$(POD_SELECTOR)"
)

// KEDAHPAName is the name of the HPA KEDA creates for the ScaledObject of isvc.
func KEDAHPAName(isvc *servingv1alpha1.InferenceService) string {
	as := isvc.Spec.Autoscaling
	if as != nil && as.KEDA != nil && as.KEDA.Advanced != nil && as.KEDA.Advanced.HorizontalPodAutoscalerConfig != nil &&
		as.KEDA.Advanced.HorizontalPodAutoscalerConfig.Name != "" {
		return as.KEDA.Advanced.HorizontalPodAutoscalerConfig.Name
	}
	return KEDAHPAPrefix + isvc.Name
}

// UsesKEDA tells whether isvc is scaled by KEDA.
func UsesKEDA(isvc *servingv1alpha1.InferenceService) bool {
	as := Autoscaling(isvc)
	return as != nil && as.Engine == servingv1alpha1.EngineKEDA
}

// PodSelector is the PromQL label matchers of the pods of isvc, as Prometheus' pod
// discovery (and a PodMonitor) labels their series: namespace and pod.
func PodSelector(isvc *servingv1alpha1.InferenceService) string {
	return fmt.Sprintf(`namespace=%q,pod=~"%s-%s"`, isvc.Namespace, isvc.Name, podNamePattern)
}

// SignalQuery is the PromQL query of a signal, scoped to the pods of isvc, built from the
// server's own documented metric names:
//   - vLLM (https://docs.vllm.ai/en/stable/usage/metrics/): the scheduler gauges
//     vllm:num_requests_waiting and vllm:num_requests_running, the histogram
//     vllm:e2e_request_latency_seconds, and the KV-cache gauge vllm:kv_cache_usage_perc
//     (vllm:gpu_cache_usage_perc before vLLM's V1 engine; either is read);
//   - Triton (https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/user_guide/metrics.html):
//     the gauge nv_inference_pending_request_count and the latency summary
//     nv_inference_request_summary_us (with --metrics-config summary_latencies=true; only
//     its configured quantiles exist, in microseconds). Triton has no running-requests
//     gauge and no KV-cache metric of its own;
//   - TGI (https://huggingface.co/docs/text-generation-inference/reference/metrics): the
//     gauges tgi_queue_size and tgi_batch_current_size and the histogram
//     tgi_request_duration (seconds);
//   - MLServer (https://docs.seldon.ai/mlserver/user-guide/metrics): the REST gauge
//     rest_server_requests_in_progress (in flight, queued included) and the REST latency
//     histogram, which its starlette_exporter names rest_server_request_duration_seconds
//     and its table rest_server_requests_duration_seconds (either is read). Its queue
//     metrics are histograms of queue sizes, not a gauge, so it has no QueueDepth preset;
//   - Generic: this project's model server (examples/model-server/README.md, "Metrics"):
//     model_infer_requests_queued, model_infer_requests_running and the histogram
//     model_infer_request_duration_seconds.
//
// Queue and running counts are summed over the pods (KEDA's AverageValue divides by the
// replica count), latencies are a quantile over every pod's requests, KV-cache
// utilization is the pods' mean. It returns an error for a combination admission refuses.
func SignalQuery(isvc *servingv1alpha1.InferenceService, s servingv1alpha1.AutoscalingSignal) (string, error) {
	sel := PodSelector(isvc)
	if s.Type == servingv1alpha1.SignalCustom {
		return strings.NewReplacer(
			PlaceholderPodSelector, sel,
			PlaceholderNamespace, isvc.Namespace,
			PlaceholderName, isvc.Name,
		).Replace(s.Query), nil
	}
	q := ""
	if s.Quantile != nil {
		q = strconv.FormatFloat(*s.Quantile, 'f', -1, 64)
	}
	histogram := func(names ...string) string {
		rates := make([]string, len(names))
		for i, n := range names {
			rates[i] = fmt.Sprintf("rate(%s_bucket{%s}[%s])", n, sel, latencyWindow)
		}
		return fmt.Sprintf("histogram_quantile(%s, sum by (le) (%s))", q, strings.Join(rates, " or "))
	}
	gaugeSum := func(name string) string { return fmt.Sprintf("sum(%s{%s})", name, sel) }

	type key struct {
		server servingv1alpha1.ServerFamily
		signal servingv1alpha1.SignalType
	}
	var query string
	switch (key{s.Server, s.Type}) {
	case key{servingv1alpha1.ServerVLLM, servingv1alpha1.SignalQueueDepth}:
		query = gaugeSum("vllm:num_requests_waiting")
	case key{servingv1alpha1.ServerVLLM, servingv1alpha1.SignalRunningRequests}:
		query = gaugeSum("vllm:num_requests_running")
	case key{servingv1alpha1.ServerVLLM, servingv1alpha1.SignalLatency}:
		query = histogram("vllm:e2e_request_latency_seconds")
	case key{servingv1alpha1.ServerVLLM, servingv1alpha1.SignalKVCacheUtilization}:
		query = fmt.Sprintf("avg(vllm:kv_cache_usage_perc{%s} or vllm:gpu_cache_usage_perc{%s})", sel, sel)
	case key{servingv1alpha1.ServerTriton, servingv1alpha1.SignalQueueDepth}:
		query = gaugeSum("nv_inference_pending_request_count")
	case key{servingv1alpha1.ServerTriton, servingv1alpha1.SignalLatency}:
		// A summary's quantiles cannot be aggregated; the slowest pod's is the honest bound.
		query = fmt.Sprintf(`max(nv_inference_request_summary_us{%s,quantile="%s"}) / 1e6`, sel, q)
	case key{servingv1alpha1.ServerTGI, servingv1alpha1.SignalQueueDepth}:
		query = gaugeSum("tgi_queue_size")
	case key{servingv1alpha1.ServerTGI, servingv1alpha1.SignalRunningRequests}:
		query = gaugeSum("tgi_batch_current_size")
	case key{servingv1alpha1.ServerTGI, servingv1alpha1.SignalLatency}:
		query = histogram("tgi_request_duration")
	case key{servingv1alpha1.ServerMLServer, servingv1alpha1.SignalRunningRequests}:
		query = gaugeSum("rest_server_requests_in_progress")
	case key{servingv1alpha1.ServerMLServer, servingv1alpha1.SignalLatency}:
		query = histogram("rest_server_request_duration_seconds", "rest_server_requests_duration_seconds")
	case key{servingv1alpha1.ServerGeneric, servingv1alpha1.SignalQueueDepth}:
		query = gaugeSum("model_infer_requests_queued")
	case key{servingv1alpha1.ServerGeneric, servingv1alpha1.SignalRunningRequests}:
		query = gaugeSum("model_infer_requests_running")
	case key{servingv1alpha1.ServerGeneric, servingv1alpha1.SignalLatency}:
		query = histogram("model_infer_request_duration_seconds")
	default:
		return "", fmt.Errorf("server %q has no %s signal", s.Server, s.Type)
	}
	return query, nil
}

// SignalName is the short name of a signal in the Targets column: queue_depth,
// running_requests, latency_p95, kv_cache_utilization or custom.
func SignalName(s servingv1alpha1.AutoscalingSignal) string {
	switch s.Type {
	case servingv1alpha1.SignalQueueDepth:
		return "queue_depth"
	case servingv1alpha1.SignalRunningRequests:
		return "running_requests"
	case servingv1alpha1.SignalLatency:
		q := 0.0
		if s.Quantile != nil {
			q = *s.Quantile * 100
		}
		return "latency_p" + strconv.FormatFloat(q, 'f', -1, 64)
	case servingv1alpha1.SignalKVCacheUtilization:
		return "kv_cache_utilization"
	}
	return "custom"
}

// signalMetricType is the KEDA metricType of a signal: per pod for counts and Custom,
// the value itself for a latency or a utilization, which more pods do not divide.
func signalMetricType(s servingv1alpha1.AutoscalingSignal) string {
	if s.MetricType != "" {
		return string(s.MetricType)
	}
	switch s.Type {
	case servingv1alpha1.SignalLatency, servingv1alpha1.SignalKVCacheUtilization:
		return string(servingv1alpha1.SignalValue)
	}
	return string(servingv1alpha1.SignalAverageValue)
}

// TriggerNames are the display names of the ScaledObject's triggers in order: one per
// signal, one per metric, then the extra triggers'. KEDA names the HPA's External metric
// of trigger i "s<i>-<scaler>", so the status maps it back to these.
func TriggerNames(isvc *servingv1alpha1.InferenceService) []string {
	as := Autoscaling(isvc)
	if as == nil {
		return nil
	}
	var names []string
	for _, s := range as.Signals {
		names = append(names, SignalName(s))
	}
	for _, m := range as.Metrics {
		names = append(names, resourceNameOf(m))
	}
	if as.KEDA != nil {
		for i, t := range as.KEDA.Triggers {
			name := t.Name
			if name == "" {
				name = fmt.Sprintf("%s_%d", t.Type, i)
			}
			names = append(names, name)
		}
	}
	return names
}

func resourceNameOf(m autoscalingv2.MetricSpec) string {
	switch {
	case m.Resource != nil:
		return string(m.Resource.Name)
	case m.ContainerResource != nil:
		return string(m.ContainerResource.Name)
	}
	return string(m.Type)
}

// ScaledObject builds the KEDA ScaledObject that scales the Deployment, or returns nil
// unless autoscaling is on with engine KEDA. Each signal becomes a prometheus trigger
// querying cfg.PrometheusAddress; each Resource or ContainerResource metric a cpu or
// memory trigger; the extra triggers follow as they are. minReplicas, maxReplicas and
// behavior are KEDA's minReplicaCount, maxReplicaCount and
// advanced.horizontalPodAutoscalerConfig.behavior. The Deployment's replicas stay KEDA's
// HPA's (and, at zero, KEDA's own) to set.
func ScaledObject(isvc *servingv1alpha1.InferenceService, cfg Config) (*unstructured.Unstructured, error) {
	as := Autoscaling(isvc)
	if as == nil || as.Engine != servingv1alpha1.EngineKEDA {
		return nil, nil
	}
	address := cfg.PrometheusAddress
	if address == "" {
		address = DefaultPrometheusAddress
	}

	var triggers []any
	for _, s := range as.Signals {
		query, err := SignalQuery(isvc, s)
		if err != nil {
			return nil, err
		}
		metadata := map[string]any{
			"serverAddress": address,
			"query":         query,
			"threshold":     s.Target.String(),
		}
		if s.ActivationTarget != nil {
			metadata["activationThreshold"] = s.ActivationTarget.String()
		}
		triggers = append(triggers, map[string]any{
			triggerType:  "prometheus",
			triggerName:  strings.ReplaceAll(SignalName(s), "_", "-"),
			"metricType": signalMetricType(s),
			"metadata":   metadata,
		})
	}
	for _, m := range as.Metrics {
		trigger, err := resourceTrigger(m)
		if err != nil {
			return nil, err
		}
		triggers = append(triggers, trigger)
	}
	if as.KEDA != nil {
		for _, t := range as.KEDA.Triggers {
			trigger := map[string]any{triggerType: t.Type}
			if t.Name != "" {
				trigger[triggerName] = t.Name
			}
			if t.MetricType != "" {
				trigger["metricType"] = t.MetricType
			}
			if len(t.Metadata) > 0 {
				metadata := make(map[string]any, len(t.Metadata))
				for k, v := range t.Metadata {
					metadata[k] = v
				}
				trigger["metadata"] = metadata
			}
			if t.AuthenticationRef != nil {
				ref := map[string]any{"name": t.AuthenticationRef.Name}
				if t.AuthenticationRef.Kind != "" {
					ref["kind"] = t.AuthenticationRef.Kind
				}
				trigger["authenticationRef"] = ref
			}
			triggers = append(triggers, trigger)
		}
	}

	spec := map[string]any{
		"scaleTargetRef":  map[string]any{"apiVersion": "apps/v1", "kind": deploymentKind, "name": isvc.Name},
		"minReplicaCount": int64(*as.MinReplicas),
		"maxReplicaCount": int64(as.MaxReplicas),
		"triggers":        triggers,
	}
	hpaConfig := map[string]any{}
	if as.Behavior != nil {
		behavior, err := runtime.DefaultUnstructuredConverter.ToUnstructured(as.Behavior)
		if err != nil {
			return nil, fmt.Errorf("converting spec.autoscaling.behavior: %w", err)
		}
		hpaConfig["behavior"] = behavior
	}
	advanced := map[string]any{}
	if k := as.KEDA; k != nil {
		setInt(spec, "pollingInterval", k.PollingInterval)
		setInt(spec, "cooldownPeriod", k.CooldownPeriod)
		setInt(spec, "idleReplicaCount", k.IdleReplicaCount)
		if f := k.Fallback; f != nil {
			fallback := map[string]any{"failureThreshold": int64(f.FailureThreshold), "replicas": int64(f.Replicas)}
			if f.Behavior != "" {
				fallback["behavior"] = f.Behavior
			}
			spec["fallback"] = fallback
		}
		if a := k.Advanced; a != nil {
			if a.HorizontalPodAutoscalerConfig != nil && a.HorizontalPodAutoscalerConfig.Name != "" {
				hpaConfig["name"] = a.HorizontalPodAutoscalerConfig.Name
			}
			if a.RestoreToOriginalReplicaCount {
				advanced["restoreToOriginalReplicaCount"] = true
			}
		}
	}
	if len(hpaConfig) > 0 {
		advanced["horizontalPodAutoscalerConfig"] = hpaConfig
	}
	if len(advanced) > 0 {
		spec["advanced"] = advanced
	}

	meta := objectMeta(isvc)
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	obj.SetGroupVersionKind(ScaledObjectGVK)
	obj.SetName(meta.Name)
	obj.SetNamespace(meta.Namespace)
	obj.SetLabels(meta.Labels)
	obj.SetOwnerReferences(meta.OwnerReferences)
	return obj, nil
}

// resourceTrigger turns a Resource or ContainerResource metric into KEDA's cpu or memory
// trigger (https://keda.sh/docs/2.21/scalers/cpu/).
func resourceTrigger(m autoscalingv2.MetricSpec) (map[string]any, error) {
	var (
		name      string
		target    autoscalingv2.MetricTarget
		container string
	)
	switch {
	case m.Resource != nil:
		name, target = string(m.Resource.Name), m.Resource.Target
	case m.ContainerResource != nil:
		name, target, container = string(m.ContainerResource.Name), m.ContainerResource.Target, m.ContainerResource.Container
	default:
		return nil, fmt.Errorf("a %s metric has no KEDA trigger: use spec.autoscaling.signals or spec.autoscaling.keda.triggers", m.Type)
	}
	metadata := map[string]any{}
	metricType := string(autoscalingv2.UtilizationMetricType)
	switch {
	case target.AverageUtilization != nil:
		metadata["value"] = strconv.Itoa(int(*target.AverageUtilization))
	case target.AverageValue != nil:
		metricType = string(autoscalingv2.AverageValueMetricType)
		metadata["value"] = target.AverageValue.String()
	default:
		return nil, fmt.Errorf("the %s metric needs averageUtilization or averageValue", name)
	}
	if container != "" {
		metadata["containerName"] = container
	}
	return map[string]any{triggerType: name, "metricType": metricType, "metadata": metadata}, nil
}

func setInt(m map[string]any, key string, v *int32) {
	if v != nil {
		m[key] = int64(*v)
	}
}
