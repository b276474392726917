// Command metrics-adapter is sigs.k8s.io/custom-metrics-apiserver's test adapter
// (test-adapter/main.go at the pinned version) with two changes for the local
// simulated cluster:
//
//  1. The HTTP endpoint that receives metric values listens on --write-address
//     (default 127.0.0.1:8080) instead of ":8080" on every interface, so nothing on
//     the network can write metrics and the port can be chosen freely.
//  2. External metrics are writable. Upstream serves three hard-coded external
//     metrics (my-external-metric, other-external-metric) and ignores writes; here
//     POST /write-external-metrics/namespaces/{namespace}/{metric}[?labels=k=v,...]
//     with a JSON quantity body (for example "30" or "250m") sets a value that
//     external.metrics.k8s.io then serves.
//
// Custom (object and pods) metrics are served by the upstream provider unchanged:
// POST /write-metrics/namespaces/{namespace}/{resourceType}/{name}/{metric}.
package main

import (
	"context"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/emicklei/go-restful/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/component-base/logs"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"sigs.k8s.io/custom-metrics-apiserver/pkg/apiserver/metrics"
	basecmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
	fakeprov "sigs.k8s.io/custom-metrics-apiserver/test-adapter/provider"
)

type adapter struct {
	basecmd.AdapterBase
	writeAddress string
}

// externalKey identifies one external metric in one namespace.
type externalKey struct {
	namespace string
	metric    string
}

// externalStore holds the written external metric values, one per label set.
type externalStore struct {
	mu     sync.RWMutex
	values map[externalKey]map[string]external_metrics.ExternalMetricValue
}

// metricsProvider serves custom metrics from the upstream test provider and external
// metrics from the writable store.
type metricsProvider struct {
	provider.CustomMetricsProvider
	*externalStore
}

func (s *externalStore) GetExternalMetric(_ context.Context, namespace string, selector labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := []external_metrics.ExternalMetricValue{}
	for _, v := range s.values[externalKey{namespace: namespace, metric: info.Metric}] {
		if selector.Matches(labels.Set(v.MetricLabels)) {
			v.Timestamp = metav1.Now()
			items = append(items, v)
		}
	}
	sort.Slice(items, func(i, j int) bool {
		return labels.Set(items[i].MetricLabels).String() < labels.Set(items[j].MetricLabels).String()
	})
	return &external_metrics.ExternalMetricValueList{Items: items}, nil
}

func (s *externalStore) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	out := []provider.ExternalMetricInfo{}
	for k := range s.values {
		if !seen[k.metric] {
			seen[k.metric] = true
			out = append(out, provider.ExternalMetricInfo{Metric: k.metric})
		}
	}
	return out
}

func (s *externalStore) write(req *restful.Request, resp *restful.Response) {
	value := new(resource.Quantity)
	if err := req.ReadEntity(value); err != nil {
		_ = resp.WriteErrorString(http.StatusBadRequest, err.Error())
		return
	}
	metricLabels := labels.Set{}
	if sel := req.QueryParameter("labels"); sel != "" {
		var err error
		if metricLabels, err = labels.ConvertSelectorToLabelsMap(sel); err != nil {
			_ = resp.WriteErrorString(http.StatusBadRequest, err.Error())
			return
		}
	}
	key := externalKey{namespace: req.PathParameter("namespace"), metric: req.PathParameter("metric")}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values[key] == nil {
		s.values[key] = map[string]external_metrics.ExternalMetricValue{}
	}
	s.values[key][metricLabels.String()] = external_metrics.ExternalMetricValue{
		MetricName:   key.metric,
		MetricLabels: metricLabels,
		Value:        *value,
	}
	klog.V(2).InfoS("External metric written", "namespace", key.namespace, "metric", key.metric, "labels", metricLabels.String(), "value", value.String())
}

func (s *externalStore) webService() *restful.WebService {
	ws := new(restful.WebService)
	ws.Path("/write-external-metrics")
	ws.Route(ws.POST("/namespaces/{namespace}/{metric}").To(s.write).
		Param(ws.BodyParameter("value", "value to set metric").DataType("string")))
	return ws
}

func main() {
	logs.InitLogs()
	defer logs.FlushLogs()

	cmd := &adapter{}
	cmd.Name = "metrics-adapter"
	cmd.Flags().StringVar(&cmd.writeAddress, "write-address", "127.0.0.1:8080",
		"address (host:port) of the plain-HTTP endpoint that receives metric values")
	logs.AddFlags(cmd.Flags())
	if err := cmd.Flags().Parse(os.Args); err != nil {
		klog.Fatalf("unable to parse flags: %v", err)
	}

	client, err := cmd.DynamicClient()
	if err != nil {
		klog.Fatalf("unable to construct dynamic client: %v", err)
	}
	mapper, err := cmd.RESTMapper()
	if err != nil {
		klog.Fatalf("unable to construct discovery REST mapper: %v", err)
	}
	custom, customWS := fakeprov.NewFakeProvider(client, mapper)
	external := &externalStore{values: map[externalKey]map[string]external_metrics.ExternalMetricValue{}}
	p := &metricsProvider{CustomMetricsProvider: custom, externalStore: external}
	cmd.WithCustomMetrics(p)
	cmd.WithExternalMetrics(p)

	if err := metrics.RegisterMetrics(legacyregistry.Register); err != nil {
		klog.Fatalf("unable to register metrics: %v", err)
	}

	// A dedicated container (not restful.DefaultContainer, which is http.DefaultServeMux)
	// so that only the write routes are served on the plain-HTTP port.
	container := restful.NewContainer()
	container.Add(customWS)
	container.Add(external.webService())
	go func() {
		server := &http.Server{Addr: cmd.writeAddress, Handler: container, ReadHeaderTimeout: 3 * time.Second}
		klog.InfoS("Serving metric writes", "address", cmd.writeAddress)
		klog.Fatal(server.ListenAndServe())
	}()
	if err := cmd.Run(context.Background()); err != nil {
		klog.Fatalf("unable to run custom metrics adapter: %v", err)
	}
}
