package render

import (
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

var (
	// PodMonitorGVK is the Prometheus Operator's PodMonitor kind.
	PodMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "PodMonitor"}
	// PodMonitorResource is the resource the PodMonitor CRD serves.
	PodMonitorResource = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "podmonitors"}
)

// The annotations of Prometheus' annotation-based pod discovery: the relabeling of the
// "kubernetes-pods" job in Prometheus' example configuration (and of the Prometheus
// community Helm chart) keeps pods with prometheus.io/scrape "true" and scrapes
// prometheus.io/port and prometheus.io/path.
const (
	AnnotationPrometheusScrape = "prometheus.io/scrape"
	AnnotationPrometheusPort   = "prometheus.io/port"
	AnnotationPrometheusPath   = "prometheus.io/path"
)

// MetricsEndpoint is the port and path of the model server's Prometheus metrics, with
// the defaults filled in (spec.port, /metrics), and whether the pods are to be scraped:
// when spec.metrics is set, or when signals need the metrics.
func MetricsEndpoint(isvc *servingv1alpha1.InferenceService) (port int32, path string, scraped bool) {
	port = orDefault(isvc.Spec.Port, servingv1alpha1.DefaultPort)
	path = servingv1alpha1.DefaultMetricsPath
	m := isvc.Spec.Metrics
	if m != nil {
		if m.Port != nil {
			port = *m.Port
		}
		if m.Path != "" {
			path = m.Path
		}
	}
	as := Autoscaling(isvc)
	return port, path, m != nil || (as != nil && len(as.Signals) > 0)
}

// podAnnotations are the user's podAnnotations over the scrape annotations, so that a
// user can still turn scraping off ("prometheus.io/scrape": "false").
func podAnnotations(isvc *servingv1alpha1.InferenceService) map[string]string {
	port, path, scraped := MetricsEndpoint(isvc)
	if !scraped {
		return copyMap(isvc.Spec.PodAnnotations)
	}
	out := map[string]string{
		AnnotationPrometheusScrape: "true",
		AnnotationPrometheusPort:   strconv.Itoa(int(port)),
		AnnotationPrometheusPath:   path,
	}
	for k, v := range isvc.Spec.PodAnnotations {
		out[k] = v
	}
	return out
}

// PodMonitor builds the Prometheus Operator PodMonitor that scrapes the metrics endpoint
// of the pods of isvc, or returns nil unless podMonitorEnabled. It selects the pods by the
// InferenceService label and scrapes by port number, so the metrics port needs no name.
//
// The PodMonitor is a child of its own: nothing of it reaches the pod template, so
// turning it on (by the spec or by cfg.DefaultPodMonitor) rolls no pod.
func PodMonitor(isvc *servingv1alpha1.InferenceService, cfg Config) *unstructured.Unstructured {
	if !podMonitorEnabled(isvc, cfg) {
		return nil
	}
	var pms servingv1alpha1.PodMonitorSpec
	if mon := isvc.Spec.Monitoring; mon != nil && mon.PodMonitor != nil {
		pms = *mon.PodMonitor
	}
	port, path, _ := MetricsEndpoint(isvc)
	endpoint := map[string]any{"portNumber": int64(port), "path": path}
	if pms.Interval != "" {
		endpoint["interval"] = pms.Interval
	}
	selector := map[string]any{}
	for k, v := range SelectorLabels(isvc) {
		selector[k] = v
	}
	meta := objectMeta(isvc)
	labels := meta.Labels
	for k, v := range pms.Labels {
		if _, ours := labels[k]; !ours {
			labels[k] = v
		}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{
		"selector":            map[string]any{"matchLabels": selector},
		"podMetricsEndpoints": []any{endpoint},
	}}}
	obj.SetGroupVersionKind(PodMonitorGVK)
	obj.SetName(meta.Name)
	obj.SetNamespace(meta.Namespace)
	obj.SetLabels(labels)
	obj.SetOwnerReferences(meta.OwnerReferences)
	return obj
}

// podMonitorEnabled tells whether isvc gets a PodMonitor: spec.monitoring.podMonitor.enabled
// when it is set (an explicit false wins over the operator's default), cfg.DefaultPodMonitor
// when it is left out.
func podMonitorEnabled(isvc *servingv1alpha1.InferenceService, cfg Config) bool {
	if mon := isvc.Spec.Monitoring; mon != nil && mon.PodMonitor != nil && mon.PodMonitor.Enabled != nil {
		return *mon.PodMonitor.Enabled
	}
	return cfg.DefaultPodMonitor
}
