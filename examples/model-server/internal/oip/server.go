// Package oip serves a classifier over the Open Inference Protocol's HTTP/REST API (the
// KServe "V2" protocol): health, server and model metadata, model readiness and inference
// with JSON tensors, a bounded pool of inference workers with a real queue in front of it,
// and Prometheus metrics.
package oip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The tensors of the served model.
const (
	// InputName is the model's one input: FP32 or FP64, shape [N, len(features)].
	InputName = "input"
	// OutputPredict is the index of the most probable class of each row (INT64, [N]).
	OutputPredict = "predict"
	// OutputProba is the probability of each class for each row (the input's datatype, [N, classes]).
	OutputProba = "predict_proba"
	// OutputLabel is the name of the most probable class of each row (BYTES, [N]).
	OutputLabel = "label"
)

// The tensor datatypes the model takes and returns.
const (
	typeFP32  = "FP32"
	typeFP64  = "FP64"
	typeINT64 = "INT64"
	typeBYTES = "BYTES"
)

// maxBodyBytes bounds an inference request's body.
const maxBodyBytes = 8 << 20

// Classifier is a trained model: the probability of each class for one row of features.
type Classifier interface {
	PredictProba(x []float64) []float64
}

// Model is a loaded classifier and what the protocol's metadata says about it.
type Model struct {
	Platform   string
	Features   []string
	Classes    []string
	Classifier Classifier
}

// Config is what the server serves and how much work it takes on at once.
type Config struct {
	// ServerName and ServerVersion answer GET /v2.
	ServerName, ServerVersion string
	// ModelName and ModelVersion are the model's names in the URLs.
	ModelName, ModelVersion string
	// Workers is how many inferences run at once; more requests wait in the queue.
	Workers int
	// MaxQueue bounds the queue (0: no bound); a request past it is answered 503.
	MaxQueue int
	// MaxRows bounds the rows of one request.
	MaxRows int
	// InferCPU is CPU time each inference burns on top of the model's own work (repeating
	// it), and InferSleep time it waits: knobs that make the load real and visible.
	InferCPU, InferSleep time.Duration
}

// Server is the protocol's handlers over one model that loads after the server starts.
type Server struct {
	cfg      Config
	model    atomic.Pointer[Model]
	draining atomic.Bool
	pool     *workerPool
	metrics  *metrics
	registry *prometheus.Registry
	mux      *http.ServeMux
}

// NewServer returns a server whose model is not loaded yet: it answers live at once and
// ready only after SetModel.
func NewServer(cfg Config) (*Server, error) {
	if cfg.ModelName == "" || cfg.ModelVersion == "" {
		return nil, errors.New("the model needs a name and a version")
	}
	if cfg.Workers < 1 || cfg.MaxQueue < 0 || cfg.MaxRows < 1 || cfg.InferCPU < 0 || cfg.InferSleep < 0 {
		return nil, fmt.Errorf("workers and max rows must be at least 1, the queue bound and work times not negative: %+v", cfg)
	}
	reg := prometheus.NewRegistry()
	s := &Server{
		cfg:      cfg,
		pool:     newWorkerPool(cfg.Workers, cfg.MaxQueue),
		metrics:  newMetrics(reg),
		registry: reg,
		mux:      http.NewServeMux(),
	}
	s.metrics.workers.WithLabelValues(cfg.ModelName, cfg.ModelVersion).Set(float64(cfg.Workers))
	// Create the model's series at zero, so that a rate() or a queue trigger has data
	// from the first scrape on: a histogram that appeared with its first observations
	// would hide them from rate(), and so from the Latency signal's histogram_quantile.
	for _, v := range []*prometheus.GaugeVec{s.metrics.queued, s.metrics.running} {
		v.WithLabelValues(cfg.ModelName, cfg.ModelVersion)
	}
	for _, h := range []*prometheus.HistogramVec{s.metrics.inferDuration, s.metrics.queueDuration} {
		h.WithLabelValues(cfg.ModelName, cfg.ModelVersion)
	}
	s.metrics.inferSuccess.WithLabelValues(cfg.ModelName, cfg.ModelVersion)
	s.metrics.inferFailure.WithLabelValues(cfg.ModelName, cfg.ModelVersion)

	s.mux.HandleFunc("GET /v2", s.serverMetadata)
	s.mux.HandleFunc("GET /v2/health/live", s.live)
	s.mux.HandleFunc("GET /v2/health/ready", s.ready)
	for _, prefix := range []string{"/v2/models/{model_name}", "/v2/models/{model_name}/versions/{model_version}"} {
		s.mux.HandleFunc("GET "+prefix, s.modelMetadata)
		s.mux.HandleFunc("GET "+prefix+"/ready", s.modelReady)
		s.mux.HandleFunc("POST "+prefix+"/infer", s.infer)
	}
	return s, nil
}

// Handler serves the protocol, with the REST metrics around it.
func (s *Server) Handler() http.Handler { return s.metrics.instrument(s.mux) }

// MetricsHandler serves the Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})
}

// SetModel makes the model available: from now on the server and the model are ready.
func (s *Server) SetModel(m *Model) { s.model.Store(m) }

// Drain turns readiness off for good (the process got SIGTERM): load balancers stop
// sending new requests while the ones already here are answered.
func (s *Server) Drain() { s.draining.Store(true) }

// Ready reports whether the model is loaded and the server is not draining.
func (s *Server) Ready() bool { return s.model.Load() != nil && !s.draining.Load() }

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, serverMetadata{Name: s.cfg.ServerName, Version: s.cfg.ServerVersion, Extensions: []string{}})
}

func (s *Server) live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

// ready answers 200 once the model is loaded and 503 while it loads or the server drains
// (the protocol asks for a non-200 status; 503 is what KServe's own server uses).
func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	status := http.StatusOK
	if !s.Ready() {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]bool{"ready": status == http.StatusOK})
}

// servedModel checks that the URL names this server's model (and version, if given),
// answering 404 otherwise.
func (s *Server) servedModel(w http.ResponseWriter, r *http.Request) bool {
	name, version := r.PathValue("model_name"), r.PathValue("model_version")
	if name != s.cfg.ModelName {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q is not served here (this server serves %q)", name, s.cfg.ModelName))
		return false
	}
	if version != "" && version != s.cfg.ModelVersion {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q has no version %q (it has %q)", name, version, s.cfg.ModelVersion))
		return false
	}
	return true
}

func (s *Server) notReadyMessage() string {
	if s.draining.Load() {
		return fmt.Sprintf("model %q is not ready: the server is shutting down", s.cfg.ModelName)
	}
	return fmt.Sprintf("model %q is not ready: it is loading", s.cfg.ModelName)
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	if !s.servedModel(w, r) {
		return
	}
	m := s.model.Load()
	if m == nil {
		writeError(w, http.StatusServiceUnavailable, s.notReadyMessage())
		return
	}
	width, classes := int64(len(m.Features)), int64(len(m.Classes))
	writeJSON(w, http.StatusOK, modelMetadata{
		Name:     s.cfg.ModelName,
		Versions: []string{s.cfg.ModelVersion},
		Platform: m.Platform,
		Inputs:   []metadataTensor{{Name: InputName, Datatype: typeFP32, Shape: []int64{-1, width}}},
		Outputs: []metadataTensor{
			{Name: OutputPredict, Datatype: typeINT64, Shape: []int64{-1}},
			{Name: OutputProba, Datatype: typeFP32, Shape: []int64{-1, classes}},
			{Name: OutputLabel, Datatype: typeBYTES, Shape: []int64{-1}},
		},
		Parameters: map[string]any{"features": m.Features, "classes": m.Classes, "accepts_datatypes": []string{typeFP32, typeFP64}},
	})
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	if !s.servedModel(w, r) {
		return
	}
	status := http.StatusOK
	if !s.Ready() {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"name": s.cfg.ModelName, "ready": status == http.StatusOK})
}

func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.servedModel(w, r) {
		return
	}
	labels := []string{s.cfg.ModelName, s.cfg.ModelVersion}
	defer func() { s.metrics.inferDuration.WithLabelValues(labels...).Observe(time.Since(start).Seconds()) }()
	fail := func(status int, msg string) {
		s.metrics.inferFailure.WithLabelValues(labels...).Inc()
		writeError(w, status, msg)
	}

	m := s.model.Load()
	if m == nil {
		fail(http.StatusServiceUnavailable, s.notReadyMessage())
		return
	}
	var req inferenceRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&req); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", maxBodyBytes))
			return
		}
		fail(http.StatusBadRequest, "the request body is not an inference request: "+err.Error())
		return
	}
	rows, datatype, err := decodeRows(&req, InputName, len(m.Features), s.cfg.MaxRows)
	if err == nil {
		err = checkOutputs(req.Outputs)
	}
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}

	queuedSince := time.Now()
	release, err := s.pool.acquire(r.Context(),
		func() { s.metrics.queued.WithLabelValues(labels...).Inc() },
		func() { s.metrics.queued.WithLabelValues(labels...).Dec() })
	s.metrics.queueDuration.WithLabelValues(labels...).Observe(time.Since(queuedSince).Seconds())
	if err != nil {
		if errors.Is(err, errQueueFull) {
			fail(http.StatusServiceUnavailable, fmt.Sprintf("%v (%d requests waiting for %d workers)", err, s.cfg.MaxQueue, s.cfg.Workers))
			return
		}
		// The client went away while waiting: nobody reads the answer.
		fail(http.StatusServiceUnavailable, "the request was cancelled while waiting for a worker")
		return
	}
	s.metrics.running.WithLabelValues(labels...).Inc()
	resp := s.run(r.Context(), m, rows, datatype, req)
	s.metrics.running.WithLabelValues(labels...).Dec()
	release()

	s.metrics.inferSuccess.WithLabelValues(labels...).Inc()
	writeJSON(w, http.StatusOK, resp)
}

// run is one worker's job: the model on every row, then the configured extra work.
func (s *Server) run(ctx context.Context, m *Model, rows [][]float64, datatype string, req inferenceRequest) inferenceResponse {
	proba := make([][]float64, len(rows))
	for i, row := range rows {
		proba[i] = m.Classifier.PredictProba(row)
	}
	burnCPU(ctx, s.cfg.InferCPU, func() {
		for _, row := range rows {
			m.Classifier.PredictProba(row)
		}
	})
	sleepCtx(ctx, s.cfg.InferSleep)

	n, k := int64(len(rows)), int64(len(m.Classes))
	predict := make([]int64, len(rows))
	label := make([]string, len(rows))
	for i, p := range proba {
		best := 0
		for c := range p {
			if p[c] > p[best] {
				best = c
			}
		}
		predict[i], label[i] = int64(best), m.Classes[best]
	}
	outputs := map[string]responseOutput{
		OutputPredict: {Name: OutputPredict, Shape: []int64{n}, Datatype: typeINT64, Data: predict},
		OutputLabel:   {Name: OutputLabel, Shape: []int64{n}, Datatype: typeBYTES, Data: label},
		OutputProba:   {Name: OutputProba, Shape: []int64{n, k}, Datatype: datatype, Data: flatProba(proba, datatype)},
	}
	resp := inferenceResponse{ModelName: s.cfg.ModelName, ModelVersion: s.cfg.ModelVersion, ID: req.ID}
	if len(req.Outputs) == 0 {
		resp.Outputs = []responseOutput{outputs[OutputPredict], outputs[OutputProba], outputs[OutputLabel]}
	}
	for _, o := range req.Outputs {
		resp.Outputs = append(resp.Outputs, outputs[o.Name])
	}
	return resp
}

// flatProba lays the probabilities out row-major in the request's datatype.
func flatProba(proba [][]float64, datatype string) any {
	if datatype == typeFP64 {
		out := make([]float64, 0, len(proba)*3)
		for _, p := range proba {
			out = append(out, p...)
		}
		return out
	}
	out := make([]float32, 0, len(proba)*3)
	for _, p := range proba {
		for _, v := range p {
			out = append(out, float32(v))
		}
	}
	return out
}

// checkOutputs refuses requested outputs the model does not have, or asked for twice.
func checkOutputs(outputs []requestOutput) error {
	seen := map[string]bool{}
	for _, o := range outputs {
		switch o.Name {
		case OutputPredict, OutputProba, OutputLabel:
		default:
			return badRequestf("unknown output %q: the model's outputs are %q, %q and %q", o.Name, OutputPredict, OutputProba, OutputLabel)
		}
		if seen[o.Name] {
			return badRequestf("output %q is requested twice", o.Name)
		}
		seen[o.Name] = true
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorResponse{Error: msg})
}
