package oip

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// The metrics follow Seldon MLServer's where it has one of the same meaning
// (https://docs.seldon.ai/mlserver/user-guide/metrics): its REST server's metrics, from the
// starlette_exporter middleware with the prefix rest_server, and its model_infer_request_*
// counters with the labels model and version. The queue and worker metrics are this
// server's own, named in the same family; README.md lists every one and where it comes from.

// appName is the app_name label of the REST metrics (MLServer's is "mlserver").
const appName = "model-server"

// The metrics' labels, as MLServer names them.
var (
	restLabels  = []string{"app_name", "method", "path", "status_code"}
	modelLabels = []string{"model", "version"}
)

// latencyBuckets are prometheus_client's (and starlette_exporter's) defaults, plus room for
// the long queue waits of an overloaded server.
var latencyBuckets = append(append([]float64{}, prometheus.DefBuckets...), 20, 30, 60)

type metrics struct {
	restRequests   *prometheus.CounterVec
	restDuration   *prometheus.HistogramVec
	restInProgress *prometheus.GaugeVec

	inferSuccess  *prometheus.CounterVec
	inferFailure  *prometheus.CounterVec
	inferDuration *prometheus.HistogramVec
	queueDuration *prometheus.HistogramVec
	queued        *prometheus.GaugeVec
	running       *prometheus.GaugeVec
	workers       *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		restRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rest_server_requests_total",
			Help: "HTTP requests answered, by method, route and status code (MLServer: rest_server_requests).",
		}, restLabels),
		restDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rest_server_request_duration_seconds",
			Help:    "HTTP request duration in seconds, queue wait included, by method, route and status code.",
			Buckets: prometheus.DefBuckets,
		}, restLabels),
		restInProgress: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rest_server_requests_in_progress",
			Help: "HTTP requests in flight: being answered, or waiting in the inference queue.",
		}, []string{"app_name", "method"}),

		inferSuccess: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "model_infer_request_success_total",
			Help: "Inference requests answered with results (MLServer: model_infer_request_success).",
		}, modelLabels),
		inferFailure: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "model_infer_request_failure_total",
			Help: "Inference requests for this model that failed: bad input, not ready, queue full, client gone (MLServer: model_infer_request_failure).",
		}, modelLabels),
		inferDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "model_infer_request_duration_seconds",
			Help:    "Time from an inference request's arrival to its answer, queue wait included, in seconds.",
			Buckets: latencyBuckets,
		}, modelLabels),
		queueDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "model_infer_request_queue_duration_seconds",
			Help:    "Time inference requests waited in the queue for a worker, in seconds (0 when one was free).",
			Buckets: latencyBuckets,
		}, modelLabels),
		queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "model_infer_requests_queued",
			Help: "Inference requests waiting for a worker now.",
		}, modelLabels),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "model_infer_requests_running",
			Help: "Inference requests a worker is running now.",
		}, modelLabels),
		workers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "model_infer_workers",
			Help: "Inferences that can run at once (the worker pool's size).",
		}, modelLabels),
	}
	reg.MustRegister(
		m.restRequests, m.restDuration, m.restInProgress,
		m.inferSuccess, m.inferFailure, m.inferDuration, m.queueDuration, m.queued, m.running, m.workers,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// unmeteredPaths are left out of the REST metrics, as MLServer leaves them out: probes
// and scrapes would drown the traffic.
var unmeteredPaths = map[string]bool{"/metrics": true, "/v2/health/live": true, "/v2/health/ready": true}

// instrument counts and times every request that h answers, labelled with the route that
// matched (the pattern, such as /v2/models/{model_name}/infer, so that any model name
// or path a client makes up adds no series).
func (m *metrics) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unmeteredPaths[r.URL.Path] {
			h.ServeHTTP(w, r)
			return
		}
		inProgress := m.restInProgress.WithLabelValues(appName, r.Method)
		inProgress.Inc()
		defer inProgress.Dec()
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		// The mux sets r.Pattern on this request when a route matched.
		path := "unmatched"
		if r.Pattern != "" {
			path = r.Pattern
			if _, p, ok := strings.Cut(r.Pattern, " "); ok {
				path = p
			}
		}
		code := strconv.Itoa(sw.status)
		m.restRequests.WithLabelValues(appName, r.Method, path, code).Inc()
		m.restDuration.WithLabelValues(appName, r.Method, path, code).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}
