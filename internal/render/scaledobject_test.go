package render_test

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
)

const podSelector = `namespace="ml",pod=~"llm-[a-z0-9]+-[a-z0-9]+"`

func withKEDA(minReplicas int32, signals ...servingv1alpha1.AutoscalingSignal) func(*servingv1alpha1.InferenceService) {
	return func(isvc *servingv1alpha1.InferenceService) {
		isvc.Spec.Autoscaling = &servingv1alpha1.AutoscalingSpec{
			Engine:      servingv1alpha1.EngineKEDA,
			MinReplicas: ptr.To(minReplicas),
			MaxReplicas: 5,
			Signals:     signals,
		}
	}
}

func signal(t servingv1alpha1.SignalType, server servingv1alpha1.ServerFamily, target string) servingv1alpha1.AutoscalingSignal {
	return servingv1alpha1.AutoscalingSignal{Type: t, Server: server, Target: intstr.FromString(target)}
}

func latency(server servingv1alpha1.ServerFamily, q float64) servingv1alpha1.AutoscalingSignal {
	s := signal(servingv1alpha1.SignalLatency, server, "500m")
	s.Quantile = ptr.To(q)
	return s
}

// TestSignalQuery pins the PromQL of every preset: the metric names are each server's
// own documented ones, and every query is scoped to the service's namespace and pods.
func TestSignalQuery(t *testing.T) {
	isvc := newInferenceService()
	tests := []struct {
		name   string
		signal servingv1alpha1.AutoscalingSignal
		want   string
	}{
		{"vLLM queue", signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerVLLM, "5"), `sum(vllm:num_requests_waiting{` + podSelector + `})`},
		{"vLLM running", signal(servingv1alpha1.SignalRunningRequests, servingv1alpha1.ServerVLLM, "5"), `sum(vllm:num_requests_running{` + podSelector + `})`},
		{"vLLM latency", latency(servingv1alpha1.ServerVLLM, 0.95), `histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{` + podSelector + `}[1m])))`},
		{"vLLM KV cache", signal(servingv1alpha1.SignalKVCacheUtilization, servingv1alpha1.ServerVLLM, "0.8"), `avg(vllm:kv_cache_usage_perc{` + podSelector + `} or vllm:gpu_cache_usage_perc{` + podSelector + `})`},
		{"Triton queue", signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerTriton, "5"), `sum(nv_inference_pending_request_count{` + podSelector + `})`},
		{"Triton latency", latency(servingv1alpha1.ServerTriton, 0.99), `max(nv_inference_request_summary_us{` + podSelector + `,quantile="0.99"}) / 1e6`},
		{"TGI queue", signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerTGI, "5"), `sum(tgi_queue_size{` + podSelector + `})`},
		{"TGI running", signal(servingv1alpha1.SignalRunningRequests, servingv1alpha1.ServerTGI, "5"), `sum(tgi_batch_current_size{` + podSelector + `})`},
		{"TGI latency", latency(servingv1alpha1.ServerTGI, 0.5), `histogram_quantile(0.5, sum by (le) (rate(tgi_request_duration_bucket{` + podSelector + `}[1m])))`},
		{"MLServer running", signal(servingv1alpha1.SignalRunningRequests, servingv1alpha1.ServerMLServer, "5"), `sum(rest_server_requests_in_progress{` + podSelector + `})`},
		{"MLServer latency", latency(servingv1alpha1.ServerMLServer, 0.9), `histogram_quantile(0.9, sum by (le) (rate(rest_server_request_duration_seconds_bucket{` + podSelector + `}[1m]) or rate(rest_server_requests_duration_seconds_bucket{` + podSelector + `}[1m])))`},
		{"Generic queue", signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerGeneric, "5"), `sum(model_infer_requests_queued{` + podSelector + `})`},
		{"Generic running", signal(servingv1alpha1.SignalRunningRequests, servingv1alpha1.ServerGeneric, "5"), `sum(model_infer_requests_running{` + podSelector + `})`},
		{"Generic latency", latency(servingv1alpha1.ServerGeneric, 0.95), `histogram_quantile(0.95, sum by (le) (rate(model_infer_request_duration_seconds_bucket{` + podSelector + `}[1m])))`},
		{"Custom with placeholders", servingv1alpha1.AutoscalingSignal{Type: servingv1alpha1.SignalCustom, Target: intstr.FromInt32(1),
			Query: `sum(gateway_inflight{service="$(NAME)",namespace="$(NAMESPACE)"}) + sum(q{$(POD_SELECTOR)})`},
			`sum(gateway_inflight{service="llm",namespace="ml"}) + sum(q{` + podSelector + `})`},
		{"Custom sent as it is", servingv1alpha1.AutoscalingSignal{Type: servingv1alpha1.SignalCustom, Target: intstr.FromInt32(1), Query: `sum(up)`}, `sum(up)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := render.SignalQuery(isvc, tt.signal)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

// TestSignalQueryRefusesWhatAServerDoesNotExport covers the combinations admission
// refuses, in case one reaches the builder anyway.
func TestSignalQueryRefusesWhatAServerDoesNotExport(t *testing.T) {
	g := NewWithT(t)
	for _, s := range []servingv1alpha1.AutoscalingSignal{
		signal(servingv1alpha1.SignalKVCacheUtilization, servingv1alpha1.ServerTGI, "0.8"),
		signal(servingv1alpha1.SignalRunningRequests, servingv1alpha1.ServerTriton, "5"),
		signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerMLServer, "5"),
	} {
		_, err := render.SignalQuery(newInferenceService(), s)
		g.Expect(err).To(MatchError(ContainSubstring("has no")), "%s on %s", s.Type, s.Server)
	}
}

func TestScaledObject(t *testing.T) {
	t.Run("none unless engine KEDA", func(t *testing.T) {
		g := NewWithT(t)
		for _, isvc := range []*servingv1alpha1.InferenceService{newInferenceService(), newInferenceService(withReplicas(2))} {
			so, err := render.ScaledObject(isvc, render.Config{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(so).To(BeNil())
		}
	})

	t.Run("with KEDA there is no operator HPA, and the Deployment leaves replicas to KEDA", func(t *testing.T) {
		g := NewWithT(t)
		isvc := newInferenceService(withKEDA(0, signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerGeneric, "5")))
		g.Expect(render.HorizontalPodAutoscaler(isvc)).To(BeNil())
		g.Expect(render.Deployment(isvc).Spec.Replicas).To(BeNil())
	})

	t.Run("scale target, bounds, triggers in order and the Prometheus address", func(t *testing.T) {
		g := NewWithT(t)
		queue := signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerGeneric, "5")
		queue.ActivationTarget = ptr.To(intstr.FromString("0.5"))
		isvc := newInferenceService(withKEDA(0, queue, latency(servingv1alpha1.ServerVLLM, 0.95)))
		isvc.Spec.Autoscaling.Metrics = []autoscalingv2.MetricSpec{render.DefaultMetric(), {
			Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: "memory", Container: "inference-server",
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("1Gi"))}},
		}}
		so, err := render.ScaledObject(isvc, render.Config{PrometheusAddress: "http://10.0.0.1:9090"})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(so.GroupVersionKind()).To(Equal(render.ScaledObjectGVK))
		g.Expect(so.GetOwnerReferences()).To(ConsistOf(render.OwnerReference(isvc)))
		g.Expect(so.GetLabels()).To(HaveKeyWithValue(render.LabelInferenceService, "llm"))
		g.Expect(nested(so, "spec", "scaleTargetRef")).To(Equal(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "llm"}))
		g.Expect(nested(so, "spec", "minReplicaCount")).To(Equal(int64(0)))
		g.Expect(nested(so, "spec", "maxReplicaCount")).To(Equal(int64(5)))
		triggers, _, _ := unstructured.NestedSlice(so.Object, "spec", "triggers")
		g.Expect(triggers).To(HaveLen(4))
		g.Expect(triggers[0]).To(Equal(map[string]any{"type": "prometheus", "name": "queue-depth", "metricType": "AverageValue", "metadata": map[string]any{
			"serverAddress": "http://10.0.0.1:9090", "query": `sum(model_infer_requests_queued{` + podSelector + `})`,
			"threshold": "5", "activationThreshold": "0.5"}}))
		g.Expect(triggers[1]).To(HaveKeyWithValue("metricType", "Value"), "a latency is not divided by the pod count")
		g.Expect(triggers[1]).To(HaveKeyWithValue("name", "latency-p95"))
		g.Expect(triggers[2]).To(Equal(map[string]any{"type": "cpu", "metricType": "Utilization", "metadata": map[string]any{"value": "50"}}))
		g.Expect(triggers[3]).To(Equal(map[string]any{"type": "memory", "metricType": "AverageValue", "metadata": map[string]any{"value": "1Gi", "containerName": "inference-server"}}))
		g.Expect(render.TriggerNames(isvc)).To(Equal([]string{"queue_depth", "latency_p95", "cpu", "memory"}))
	})

	t.Run("the default Prometheus address and the default cpu trigger", func(t *testing.T) {
		g := NewWithT(t)
		isvc := newInferenceService(withKEDA(1))
		so, err := render.ScaledObject(isvc, render.Config{})
		g.Expect(err).NotTo(HaveOccurred())
		triggers, _, _ := unstructured.NestedSlice(so.Object, "spec", "triggers")
		g.Expect(triggers).To(Equal([]any{map[string]any{"type": "cpu", "metricType": "Utilization", "metadata": map[string]any{"value": "50"}}}))
		isvc = newInferenceService(withKEDA(1, signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerVLLM, "5")))
		so, err = render.ScaledObject(isvc, render.Config{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(nested(so, "spec", "triggers")).To(ContainElement(HaveKeyWithValue("metadata", HaveKeyWithValue("serverAddress", render.DefaultPrometheusAddress))))
	})

	t.Run("KEDA settings pass through", func(t *testing.T) {
		g := NewWithT(t)
		isvc := newInferenceService(withKEDA(0, signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerVLLM, "5")))
		isvc.Spec.Autoscaling.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](30)}}
		isvc.Spec.Autoscaling.KEDA = &servingv1alpha1.KEDASpec{
			PollingInterval: ptr.To[int32](5), CooldownPeriod: ptr.To[int32](20), IdleReplicaCount: ptr.To[int32](0),
			Fallback: &servingv1alpha1.KEDAFallback{FailureThreshold: 3, Replicas: 2, Behavior: "currentReplicasIfHigher"},
			Advanced: &servingv1alpha1.KEDAAdvanced{RestoreToOriginalReplicaCount: true,
				HorizontalPodAutoscalerConfig: &servingv1alpha1.KEDAHorizontalPodAutoscalerConfig{Name: "llm-keda"}},
			Triggers: []servingv1alpha1.KEDATrigger{{Type: "metrics-api", Name: "gateway", MetricType: "Value",
				Metadata: map[string]string{"url": "http://gw/inflight"}, AuthenticationRef: &servingv1alpha1.KEDAAuthenticationRef{Name: "gw"}}},
		}
		so, err := render.ScaledObject(isvc, render.Config{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(nested(so, "spec", "pollingInterval")).To(Equal(int64(5)))
		g.Expect(nested(so, "spec", "cooldownPeriod")).To(Equal(int64(20)))
		g.Expect(nested(so, "spec", "idleReplicaCount")).To(Equal(int64(0)))
		g.Expect(nested(so, "spec", "fallback")).To(Equal(map[string]any{"failureThreshold": int64(3), "replicas": int64(2), "behavior": "currentReplicasIfHigher"}))
		g.Expect(nested(so, "spec", "advanced")).To(Equal(map[string]any{
			"restoreToOriginalReplicaCount": true,
			"horizontalPodAutoscalerConfig": map[string]any{"name": "llm-keda", "behavior": map[string]any{"scaleDown": map[string]any{"stabilizationWindowSeconds": int64(30)}}},
		}))
		g.Expect(nested(so, "spec", "triggers")).To(ContainElement(Equal(map[string]any{"type": "metrics-api", "name": "gateway", "metricType": "Value",
			"metadata": map[string]any{"url": "http://gw/inflight"}, "authenticationRef": map[string]any{"name": "gw"}})))
		g.Expect(render.KEDAHPAName(isvc)).To(Equal("llm-keda"))
		g.Expect(render.TriggerNames(isvc)).To(Equal([]string{"queue_depth", "gateway"}), "no default cpu trigger beside signals")
	})

	t.Run("golden", func(t *testing.T) {
		g := NewWithT(t)
		queue := signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerGeneric, "5")
		isvc := newInferenceService(withKEDA(0, queue))
		isvc.Spec.Autoscaling.KEDA = &servingv1alpha1.KEDASpec{PollingInterval: ptr.To[int32](5), CooldownPeriod: ptr.To[int32](20)}
		so, err := render.ScaledObject(isvc, render.Config{})
		g.Expect(err).NotTo(HaveOccurred())
		expectGolden(g, "scaledobject.golden.yaml", so.Object)
	})
}

func TestPodMonitorAndScrapeAnnotations(t *testing.T) {
	t.Run("no annotations and no PodMonitor by default", func(t *testing.T) {
		g := NewWithT(t)
		isvc := newInferenceService()
		g.Expect(render.Deployment(isvc).Spec.Template.Annotations).NotTo(HaveKey(render.AnnotationPrometheusScrape))
		g.Expect(render.PodMonitor(isvc, render.Config{})).To(BeNil())
	})
	t.Run("spec.metrics annotates the pods, defaults from spec.port", func(t *testing.T) {
		g := NewWithT(t)
		isvc := newInferenceService(func(i *servingv1alpha1.InferenceService) {
			i.Spec.Port = 9000
			i.Spec.Metrics = &servingv1alpha1.MetricsSpec{}
		})
		g.Expect(render.Deployment(isvc).Spec.Template.Annotations).To(Equal(map[string]string{
			"prometheus.io/scrape": "true", "prometheus.io/port": "9000", "prometheus.io/path": "/metrics"}))
	})
	t.Run("signals annotate the pods too; the user's podAnnotations win", func(t *testing.T) {
		g := NewWithT(t)
		isvc := newInferenceService(withKEDA(1, signal(servingv1alpha1.SignalQueueDepth, servingv1alpha1.ServerVLLM, "5")), func(i *servingv1alpha1.InferenceService) {
			i.Spec.PodAnnotations = map[string]string{"prometheus.io/path": "/v1/metrics"}
		})
		g.Expect(render.Deployment(isvc).Spec.Template.Annotations).To(Equal(map[string]string{
			"prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/v1/metrics"}))
	})
	t.Run("PodMonitor on its own port and path", func(t *testing.T) {
		g := NewWithT(t)
		isvc := newInferenceService(func(i *servingv1alpha1.InferenceService) {
			i.Spec.Metrics = &servingv1alpha1.MetricsSpec{Port: ptr.To[int32](9090), Path: "/stats"}
			i.Spec.Monitoring = &servingv1alpha1.MonitoringSpec{PodMonitor: &servingv1alpha1.PodMonitorSpec{
				Enabled: ptr.To(true), Interval: "15s", Labels: map[string]string{"release": "prom", render.LabelManagedBy: "someone"}}}
		})
		pm := render.PodMonitor(isvc, render.Config{})
		g.Expect(pm.GroupVersionKind()).To(Equal(render.PodMonitorGVK))
		g.Expect(pm.GetOwnerReferences()).To(ConsistOf(render.OwnerReference(isvc)))
		g.Expect(pm.GetLabels()).To(HaveKeyWithValue("release", "prom"))
		g.Expect(pm.GetLabels()).To(HaveKeyWithValue(render.LabelManagedBy, render.ManagedByValue), "the operator's labels win")
		g.Expect(nested(pm, "spec")).To(Equal(map[string]any{
			"selector":            map[string]any{"matchLabels": map[string]any{render.LabelInferenceService: "llm"}},
			"podMetricsEndpoints": []any{map[string]any{"portNumber": int64(9090), "path": "/stats", "interval": "15s"}},
		}))
	})
}

// The operator's --default-pod-monitor is the default of spec.monitoring.podMonitor.enabled:
// it renders a PodMonitor where enabled is left out, never where it is false.
func TestDefaultPodMonitor(t *testing.T) {
	podMonitor := func(pm *servingv1alpha1.PodMonitorSpec) func(*servingv1alpha1.InferenceService) {
		return func(i *servingv1alpha1.InferenceService) {
			i.Spec.Monitoring = &servingv1alpha1.MonitoringSpec{PodMonitor: pm}
		}
	}
	defaultEndpoint := map[string]any{"portNumber": int64(8080), "path": "/metrics"}
	tests := []struct {
		name         string
		flag         bool
		opt          func(*servingv1alpha1.InferenceService)
		wantEndpoint map[string]any // nil: no PodMonitor
	}{
		{"flag off, monitoring left out", false, func(*servingv1alpha1.InferenceService) {}, nil},
		{"flag off, enabled left out", false, podMonitor(&servingv1alpha1.PodMonitorSpec{Interval: "15s"}), nil},
		{"flag off, enabled: true", false, podMonitor(&servingv1alpha1.PodMonitorSpec{Enabled: ptr.To(true)}), defaultEndpoint},
		{"flag on, monitoring left out", true, func(*servingv1alpha1.InferenceService) {}, defaultEndpoint},
		{"flag on, podMonitor left out", true, podMonitor(nil), defaultEndpoint},
		{"flag on, enabled left out: the rest of podMonitor applies", true,
			podMonitor(&servingv1alpha1.PodMonitorSpec{Interval: "15s"}),
			map[string]any{"portNumber": int64(8080), "path": "/metrics", "interval": "15s"}},
		{"flag on, enabled: false wins", true, podMonitor(&servingv1alpha1.PodMonitorSpec{Enabled: ptr.To(false)}), nil},
		{"flag on, spec.metrics' port and path", true, func(i *servingv1alpha1.InferenceService) {
			i.Spec.Metrics = &servingv1alpha1.MetricsSpec{Port: ptr.To[int32](9090), Path: "/stats"}
		}, map[string]any{"portNumber": int64(9090), "path": "/stats"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			isvc := newInferenceService(tt.opt)
			cfg := render.Config{DefaultPodMonitor: tt.flag}
			pm := render.PodMonitor(isvc, cfg)
			g.Expect(render.Desired(isvc, cfg).PodMonitor).To(Equal(pm), "the desired children hold the same PodMonitor")
			if tt.wantEndpoint == nil {
				g.Expect(pm).To(BeNil())
				return
			}
			g.Expect(pm).NotTo(BeNil())
			g.Expect(pm.GetOwnerReferences()).To(ConsistOf(render.OwnerReference(isvc)))
			g.Expect(nested(pm, "spec", "podMetricsEndpoints")).To(Equal([]any{tt.wantEndpoint}))
			// A child of its own: the pods are the same with and without it.
			g.Expect(render.Desired(isvc, cfg).Deployment).To(Equal(render.Desired(isvc, render.Config{}).Deployment))
		})
	}
}

func nested(u *unstructured.Unstructured, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	return v
}

func expectGolden(g Gomega, file string, object any) {
	got, err := yaml.Marshal(object)
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join("testdata", file)
	if *update {
		g.Expect(os.WriteFile(path, got, 0o644)).To(Succeed())
	}
	want, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred(), "run go test ./internal/render -update to create %s", path)
	g.Expect(string(got)).To(Equal(string(want)), "rendered object differs from %s; if intended, run go test ./internal/render -update", path)
}
