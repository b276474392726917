package oip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/inferenceops/inference-operator/examples/model-server/internal/iris"
)

// testServer runs a Server on a loopback httptest server with /metrics mounted as the
// model server's main does.
type testServer struct {
	*Server
	url string
}

func newTestServer(t *testing.T, cfg Config, load bool) *testServer {
	t.Helper()
	if cfg.ModelName == "" {
		cfg.ModelName, cfg.ModelVersion = "iris", "1"
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.MaxRows == 0 {
		cfg.MaxRows = 1024
	}
	cfg.ServerName, cfg.ServerVersion = "test", "0"
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", s.Handler())
	mux.Handle("GET /metrics", s.MetricsHandler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	ts := &testServer{Server: s, url: hs.URL}
	if load {
		ts.load(t)
	}
	return ts
}

func (ts *testServer) load(t *testing.T) {
	t.Helper()
	f, err := iris.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	ts.SetModel(&Model{Platform: "go_logistic_regression", Features: f.Model.Features, Classes: f.Model.Classes, Classifier: f.Model})
}

func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Errorf("answer is not JSON: %q", b)
	}
	return resp.StatusCode, out
}

// inferBody is an inference request for rows with the given datatype.
func inferBody(datatype string, rows [][]float64) string {
	var flat []float64
	for _, r := range rows {
		flat = append(flat, r...)
	}
	b, _ := json.Marshal(map[string]any{
		"id":     "req-1",
		"inputs": []map[string]any{{"name": "input", "shape": []int{len(rows), 4}, "datatype": datatype, "data": flat}},
	})
	return string(b)
}

// scrape reads /metrics the way Prometheus does.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// value is the counter, gauge or histogram sample count of the series with these labels.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := families[name]
	if !ok {
		return math.NaN()
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return math.NaN()
}

var irisLabels = map[string]string{"model": "iris", "version": "1"}

// TestHealthFollowsTheModelLoad: live at once, ready (server and model) only once the
// model is loaded, and not ready again as soon as the server drains.
func TestHealthFollowsTheModelLoad(t *testing.T) {
	ts := newTestServer(t, Config{}, false)
	for _, c := range []struct {
		path string
		want int
	}{
		{"/v2/health/live", 200},
		{"/v2/health/ready", 503},
		{"/v2/models/iris/ready", 503},
		{"/v2/models/iris/versions/1/ready", 503},
		{"/v2/models/iris", 503},
	} {
		if code, _ := get(t, ts.url+c.path); code != c.want {
			t.Errorf("while loading, GET %s = %d, want %d", c.path, code, c.want)
		}
	}
	if code, body := post(t, ts.url+"/v2/models/iris/infer", inferBody("FP32", [][]float64{{5.1, 3.5, 1.4, 0.2}})); code != 503 || !strings.Contains(fmt.Sprint(body["error"]), "loading") {
		t.Errorf("infer while loading = %d %v, want 503 with an error saying it is loading", code, body)
	}

	ts.load(t)
	for _, path := range []string{"/v2/health/live", "/v2/health/ready", "/v2/models/iris/ready", "/v2/models/iris", "/v2"} {
		if code, _ := get(t, ts.url+path); code != 200 {
			t.Errorf("loaded, GET %s = %d, want 200", path, code)
		}
	}

	ts.Drain()
	if code, body := get(t, ts.url+"/v2/health/ready"); code != 503 || body["ready"] != false {
		t.Errorf("draining, ready = %d %v, want 503 ready=false", code, body)
	}
	if code, _ := get(t, ts.url+"/v2/models/iris/ready"); code != 503 {
		t.Errorf("draining, model ready = %d, want 503", code)
	}
	if code, _ := get(t, ts.url+"/v2/health/live"); code != 200 {
		t.Errorf("draining, live = %d, want 200", code)
	}
	// In-flight and late requests on open connections are still answered.
	if code, _ := post(t, ts.url+"/v2/models/iris/infer", inferBody("FP32", [][]float64{{5.1, 3.5, 1.4, 0.2}})); code != 200 {
		t.Errorf("draining, infer = %d, want 200", code)
	}
}

func TestMetadata(t *testing.T) {
	ts := newTestServer(t, Config{}, true)
	code, md := get(t, ts.url+"/v2/models/iris")
	if code != 200 {
		t.Fatalf("metadata = %d", code)
	}
	if md["name"] != "iris" || fmt.Sprint(md["versions"]) != "[1]" || md["platform"] != "go_logistic_regression" {
		t.Errorf("metadata %v", md)
	}
	if got := fmt.Sprint(md["inputs"]); got != "[map[datatype:FP32 name:input shape:[-1 4]]]" {
		t.Errorf("inputs %s", got)
	}
	if got := fmt.Sprint(md["outputs"]); !strings.Contains(got, "name:predict ") || !strings.Contains(got, "name:predict_proba shape:[-1 3]") || !strings.Contains(got, "name:label") {
		t.Errorf("outputs %s", got)
	}
	if code, sm := get(t, ts.url+"/v2"); code != 200 || sm["name"] != "test" {
		t.Errorf("server metadata %d %v", code, sm)
	}
}

// TestInferMatchesTheModel sends every held-out flower and compares the answer with the
// model run directly: the classes, their names, and probabilities that sum to 1.
func TestInferMatchesTheModel(t *testing.T) {
	ts := newTestServer(t, Config{}, true)
	f, _ := iris.Shipped()
	samples, _ := iris.Load()
	_, heldOut := iris.Split(samples)
	x, y := iris.Columns(heldOut)

	for _, datatype := range []string{"FP32", "FP64"} {
		code, resp := post(t, ts.url+"/v2/models/iris/versions/1/infer", inferBody(datatype, x))
		if code != 200 {
			t.Fatalf("%s infer = %d %v", datatype, code, resp)
		}
		if resp["model_name"] != "iris" || resp["model_version"] != "1" || resp["id"] != "req-1" {
			t.Errorf("response header fields %v", resp)
		}
		outs := map[string]map[string]any{}
		for _, o := range resp["outputs"].([]any) {
			om := o.(map[string]any)
			outs[om["name"].(string)] = om
		}
		predict := outs["predict"]["data"].([]any)
		labels := outs["label"]["data"].([]any)
		proba := outs["predict_proba"]["data"].([]any)
		if outs["predict_proba"]["datatype"] != datatype || fmt.Sprint(outs["predict_proba"]["shape"]) != "[30 3]" || len(proba) != 90 {
			t.Errorf("%s predict_proba: datatype %v shape %v, %d values", datatype, outs["predict_proba"]["datatype"], outs["predict_proba"]["shape"], len(proba))
		}
		right := 0
		for i, row := range x {
			want := f.Model.Predict(row)
			if int(predict[i].(float64)) != want || labels[i] != iris.Classes[want] {
				t.Errorf("%s row %d: predict %v label %v, the model says %d (%s)", datatype, i, predict[i], labels[i], want, iris.Classes[want])
			}
			sum := proba[3*i].(float64) + proba[3*i+1].(float64) + proba[3*i+2].(float64)
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("%s row %d: probabilities sum to %v", datatype, i, sum)
			}
			if want == y[i] {
				right++
			}
		}
		t.Logf("%s: %d of %d held-out flowers classified right through the API", datatype, right, len(x))
		if right < 27 {
			t.Errorf("%s: %d of 30 right through the API, want at least 27", datatype, right)
		}
	}

	// Nested data (as the shape) and a chosen output.
	code, resp := post(t, ts.url+"/v2/models/iris/infer",
		`{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[5.1,3.5,1.4,0.2],[6.3,3.3,6.0,2.5]]}],"outputs":[{"name":"label"}]}`)
	if code != 200 {
		t.Fatalf("nested infer = %d %v", code, resp)
	}
	if got := fmt.Sprint(resp["outputs"]); got != "[map[data:[setosa virginica] datatype:BYTES name:label shape:[2]]]" {
		t.Errorf("nested infer outputs %s", got)
	}
}

func TestInferRefusesBadInput(t *testing.T) {
	ts := newTestServer(t, Config{MaxRows: 10}, true)
	row := `[5.1,3.5,1.4,0.2]`
	for name, body := range map[string]string{
		"not JSON":        `{"inputs": [`,
		"no inputs":       `{"inputs": []}`,
		"two inputs":      `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":` + row + `},{"name":"input","shape":[1,4],"datatype":"FP32","data":` + row + `}]}`,
		"wrong name":      `{"inputs":[{"name":"predict","shape":[1,4],"datatype":"FP32","data":` + row + `}]}`,
		"wrong datatype":  `{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT64","data":[5,3,1,0]}]}`,
		"wrong width":     `{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[5.1,3.5,1.4]}]}`,
		"too few values":  `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":` + row + `}]}`,
		"too many values": `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2,1]}]}`,
		"strings":         `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":["a","b","c","d"]}]}`,
		"no data":         `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32"}]}`,
		"FP32 overflow":   `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1e39,3.5,1.4,0.2]}]}`,
		"too many rows":   `{"inputs":[{"name":"input","shape":[11,4],"datatype":"FP32","data":[]}]}`,
		"unknown output":  `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":` + row + `}],"outputs":[{"name":"logits"}]}`,
	} {
		code, resp := post(t, ts.url+"/v2/models/iris/infer", body)
		if code != 400 || resp["error"] == nil || resp["error"] == "" {
			t.Errorf("%s: %d %v, want 400 with an error", name, code, resp)
		}
	}
	families := scrape(t, ts.url)
	if got := value(families, "model_infer_request_failure_total", irisLabels); got != 13 {
		t.Errorf("model_infer_request_failure_total = %v after 13 bad requests", got)
	}
	if got := value(families, "rest_server_requests_total", map[string]string{"path": "/v2/models/{model_name}/infer", "status_code": "400"}); got != 13 {
		t.Errorf("rest_server_requests_total{status_code=400} = %v after 13 bad requests", got)
	}
}

func TestUnknownModelOrVersionIs404(t *testing.T) {
	ts := newTestServer(t, Config{}, true)
	for _, c := range []struct{ method, path string }{
		{"POST", "/v2/models/mnist/infer"},
		{"GET", "/v2/models/mnist"},
		{"GET", "/v2/models/mnist/ready"},
		{"POST", "/v2/models/iris/versions/7/infer"},
		{"GET", "/v2/models/iris/versions/7"},
	} {
		var code int
		var body map[string]any
		if c.method == "POST" {
			code, body = post(t, ts.url+c.path, inferBody("FP32", [][]float64{{5.1, 3.5, 1.4, 0.2}}))
		} else {
			code, body = get(t, ts.url+c.path)
		}
		if code != 404 || !strings.Contains(fmt.Sprint(body["error"]), "iris") {
			t.Errorf("%s %s = %d %v, want 404 naming the served model", c.method, c.path, code, body)
		}
	}
	// Made-up model names do not become metric series.
	families := scrape(t, ts.url)
	for _, m := range families["model_infer_request_failure_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "model" && l.GetValue() != "iris" {
				t.Errorf("a series for model %q exists", l.GetValue())
			}
		}
	}
}

// TestQueueAndMetrics: with one worker and 300 ms per inference, four concurrent requests
// run one after the other; the others wait in the queue, which the gauges show while it
// happens and the queue histogram afterwards.
func TestQueueAndMetrics(t *testing.T) {
	ts := newTestServer(t, Config{Workers: 1, InferSleep: 300 * time.Millisecond}, true)
	body := inferBody("FP64", [][]float64{{6.3, 3.3, 6.0, 2.5}})
	start := time.Now()
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Go(func() { codes[i], _ = post(t, ts.url+"/v2/models/iris/infer", body) })
	}
	var maxQueued, maxRunning, maxInProgress float64
	for deadline := time.Now().Add(900 * time.Millisecond); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		f := scrape(t, ts.url)
		maxQueued = max(maxQueued, value(f, "model_infer_requests_queued", irisLabels))
		maxRunning = max(maxRunning, value(f, "model_infer_requests_running", irisLabels))
		if v := value(f, "rest_server_requests_in_progress", map[string]string{"method": "POST"}); !math.IsNaN(v) {
			maxInProgress = max(maxInProgress, v) // the series appears with the first POST
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d = %d", i, c)
		}
	}
	if elapsed < 1200*time.Millisecond {
		t.Errorf("4 requests of 300 ms on 1 worker took %v: they did not queue", elapsed)
	}
	if maxQueued != 3 || maxRunning != 1 || maxInProgress != 4 {
		t.Errorf("peak gauges: queued %v (want 3), running %v (want 1), in progress %v (want 4)", maxQueued, maxRunning, maxInProgress)
	}

	f := scrape(t, ts.url)
	if got := value(f, "model_infer_requests_queued", irisLabels); got != 0 {
		t.Errorf("queued gauge %v after the burst, want 0", got)
	}
	if got := value(f, "model_infer_request_success_total", irisLabels); got != 4 {
		t.Errorf("model_infer_request_success_total = %v, want 4", got)
	}
	if got := value(f, "rest_server_requests_total", map[string]string{"app_name": "model-server", "method": "POST", "path": "/v2/models/{model_name}/infer", "status_code": "200"}); got != 4 {
		t.Errorf("rest_server_requests_total{...infer, 200} = %v, want 4", got)
	}
	if got := value(f, "rest_server_request_duration_seconds", map[string]string{"path": "/v2/models/{model_name}/infer"}); got != 4 {
		t.Errorf("rest_server_request_duration_seconds count = %v, want 4", got)
	}
	if got := value(f, "model_infer_workers", irisLabels); got != 1 {
		t.Errorf("model_infer_workers = %v, want 1", got)
	}
	// The queue waits add up to at least 0.3 + 0.6 + 0.9 s.
	var queueSum float64
	for _, m := range f["model_infer_request_queue_duration_seconds"].GetMetric() {
		queueSum += m.GetHistogram().GetSampleSum()
	}
	if queueSum < 1.7 {
		t.Errorf("summed queue wait %.2f s, want at least 1.8 s", queueSum)
	}
	t.Logf("4 requests on 1 worker: %v; peak queued %v; summed queue wait %.2f s", elapsed.Round(time.Millisecond), maxQueued, queueSum)
	// Probes and scrapes are not counted, as in MLServer.
	if got := value(f, "rest_server_requests_total", map[string]string{"path": "/metrics"}); !math.IsNaN(got) {
		t.Errorf("scrapes are counted: %v", got)
	}
}

// TestModelSeriesExistBeforeTheFirstRequest: a fresh server serves its model's gauges,
// counters and latency histograms at zero, so that a rate() over them (the Latency
// signal's histogram_quantile) counts the first requests too: a series that appears with
// its first observation has that observation in its first sample, which rate() cannot see.
func TestModelSeriesExistBeforeTheFirstRequest(t *testing.T) {
	ts := newTestServer(t, Config{}, true)
	f := scrape(t, ts.url)
	for _, name := range []string{"model_infer_requests_queued", "model_infer_requests_running", "model_infer_request_success_total",
		"model_infer_request_failure_total", "model_infer_request_duration_seconds", "model_infer_request_queue_duration_seconds"} {
		if got := value(f, name, irisLabels); got != 0 {
			t.Errorf("%s%v before any request = %v, want 0", name, irisLabels, got)
		}
	}
}

func TestQueueBoundRefusesWith503(t *testing.T) {
	ts := newTestServer(t, Config{Workers: 1, MaxQueue: 1, InferSleep: 400 * time.Millisecond}, true)
	body := inferBody("FP32", [][]float64{{5.1, 3.5, 1.4, 0.2}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for range 3 {
		wg.Go(func() {
			code, _ := post(t, ts.url+"/v2/models/iris/infer", body)
			mu.Lock()
			counts[code]++
			mu.Unlock()
		})
		time.Sleep(50 * time.Millisecond) // arrive in order: running, queued, refused
	}
	wg.Wait()
	if counts[200] != 2 || counts[503] != 1 {
		t.Errorf("answers %v, want two 200 and one 503", counts)
	}
}

// TestInferCPUBurnsCPU: --infer-cpu makes each inference use that much CPU time.
func TestInferCPUBurnsCPU(t *testing.T) {
	ts := newTestServer(t, Config{Workers: 1, InferCPU: 200 * time.Millisecond}, true)
	before := processCPU(t)
	start := time.Now()
	if code, _ := post(t, ts.url+"/v2/models/iris/infer", inferBody("FP32", [][]float64{{5.1, 3.5, 1.4, 0.2}})); code != 200 {
		t.Fatalf("infer = %d", code)
	}
	used := processCPU(t) - before
	t.Logf("one inference with 200 ms of CPU work: %v CPU, %v wall", used.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if used < 180*time.Millisecond {
		t.Errorf("the process used %v of CPU, want at least 200 ms", used)
	}
}

func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestBodyLimit(t *testing.T) {
	ts := newTestServer(t, Config{}, true)
	big := bytes.Repeat([]byte(" "), maxBodyBytes+1)
	resp, err := http.Post(ts.url+"/v2/models/iris/infer", "application/json", bytes.NewReader(append([]byte(`{"inputs":`), big...)))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a %d-byte body = %d, want 413", maxBodyBytes+10, resp.StatusCode)
	}
}
