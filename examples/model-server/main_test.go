package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary run as the model server itself (for the SIGTERM test),
// so the test exercises main's real signal handling in a process of its own.
func TestMain(m *testing.M) {
	if os.Getenv("BE_MODEL_SERVER") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestOptionsFromFlagsAndEnv(t *testing.T) {
	env := map[string]string{
		"MODEL_SERVER_LOAD_DELAY": "30s",
		"MODEL_SERVER_WORKERS":    "3",
		"MODEL_SERVER_MODEL_NAME": "flowers",
		"MODEL_SERVER_INFER_CPU":  "50ms",
	}
	o, err := parseOptions([]string{"--workers", "5"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.loadDelay != 30*time.Second || o.workers != 5 || o.modelName != "flowers" || o.inferCPU != 50*time.Millisecond || o.port != 8080 {
		t.Errorf("options %+v: want load delay 30s and model flowers from the environment, workers 5 from the flag, port 8080", o)
	}
	env["MODEL_SERVER_LOAD_DELAY"] = "soon"
	if _, err := parseOptions(nil, func(k string) string { return env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "MODEL_SERVER_LOAD_DELAY") {
		t.Errorf("a bad variable gave %v, want an error naming it", err)
	}
	if _, err := parseOptions([]string{"--workers", "0"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("--workers 0 was accepted")
	}
}

func TestTrainModeWritesTheModel(t *testing.T) {
	out := filepath.Join(t.TempDir(), "model.json")
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"--train", "--model-out", out}, func(string) string { return "" }, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	var f struct {
		HeldOutAccuracy float64 `json:"heldOutAccuracy"`
		HeldOutRows     int     `json:"heldOutRows"`
	}
	b, err := os.ReadFile(out)
	if err != nil || json.Unmarshal(b, &f) != nil {
		t.Fatalf("reading the written model: %v", err)
	}
	if f.HeldOutRows != 30 || f.HeldOutAccuracy < 0.9 {
		t.Errorf("written model: held-out accuracy %.3f on %d rows", f.HeldOutAccuracy, f.HeldOutRows)
	}
	t.Log(strings.TrimSpace(stdout.String()))
}

// TestSIGTERMDrains runs the server as a process on loopback: it is live but not ready
// during its load delay, ready after; on SIGTERM readiness turns 503 at once, and a
// request in flight is still answered before the process exits 0.
func TestSIGTERMDrains(t *testing.T) {
	const loadDelay = 1500 * time.Millisecond
	cmd := exec.Command(os.Args[0], "--address", "127.0.0.1", "--port", "0", "--load-delay", loadDelay.String(),
		"--workers", "1", "--infer-sleep", "2s", "--drain-delay", "600ms", "--shutdown-grace", "10s")
	cmd.Env = append(os.Environ(), "BE_MODEL_SERVER=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // only if the test failed before the process ended
	})

	var logMu sync.Mutex
	var logs strings.Builder
	addrCh := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg=Listening .*address=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
		}
		exited <- cmd.Wait()
	}()
	dumpLogs := func() string { logMu.Lock(); defer logMu.Unlock(); return logs.String() }

	var base string
	select {
	case addr := <-addrCh:
		base = "http://" + addr
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not say where it listens:\n%s", dumpLogs())
	}
	// A client that opens a new connection for every request, as the probes do.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 15 * time.Second}
	status := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	if code, _ := status("GET", "/v2/health/live", ""); code != 200 {
		t.Errorf("live during the load delay = %d, want 200", code)
	}
	if code, _ := status("GET", "/v2/health/ready", ""); code != 503 {
		t.Errorf("ready during the load delay = %d, want 503", code)
	}
	for {
		code, _ := status("GET", "/v2/health/ready", "")
		if code == 200 {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("never ready:\n%s", dumpLogs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if readyAfter := time.Since(start); readyAfter < loadDelay {
		t.Errorf("ready %v after start, before the load delay of %v", readyAfter, loadDelay)
	}

	// One request in flight (it holds the worker 2 s), then SIGTERM.
	type answer struct {
		code int
		body string
	}
	inflight := make(chan answer, 1)
	go func() {
		code, body := status("POST", "/v2/models/iris/infer",
			`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[6.3,3.3,6.0,2.5]}],"outputs":[{"name":"label"}]}`)
		inflight <- answer{code, body}
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, metrics := status("GET", "/metrics", "")
		if strings.Contains(metrics, `model_infer_requests_running{model="iris",version="1"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the inference never started running:\n%s", dumpLogs())
		}
	}
	sigterm := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		code, _ := status("GET", "/v2/health/ready", "")
		if code == 503 {
			t.Logf("readiness 503 %v after SIGTERM", time.Since(sigterm).Round(time.Millisecond))
			break
		}
		if time.Since(sigterm) > 500*time.Millisecond {
			t.Fatalf("ready still answers %d %v after SIGTERM", code, time.Since(sigterm))
		}
		time.Sleep(10 * time.Millisecond)
	}

	select {
	case a := <-inflight:
		if a.code != 200 || !strings.Contains(a.body, `"data":["virginica"]`) {
			t.Errorf("the in-flight request got %d %s, want 200 with the label virginica", a.code, a.body)
		}
		t.Logf("in-flight request answered %d, %v after SIGTERM", a.code, time.Since(sigterm).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatalf("the in-flight request was not answered:\n%s", dumpLogs())
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the server exited with %v, want 0:\n%s", err, dumpLogs())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the server did not exit after draining:\n%s", dumpLogs())
	}
	if !strings.Contains(dumpLogs(), "Shut down cleanly") {
		t.Errorf("no clean shutdown in the log:\n%s", dumpLogs())
	}
	if code, _ := status("GET", "/v2/health/live", ""); code != 0 {
		t.Errorf("after exit the server still answers: %d", code)
	}
}
