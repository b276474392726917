package framework

import (
	"testing"
	"time"
)

func TestSumWriteRequests(t *testing.T) {
	metrics := `# HELP rest_client_requests_total Number of HTTP requests, partitioned by status code, method, and host.
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="GET"} 41
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="PATCH"} 7
rest_client_requests_total{code="201",host="127.0.0.1:6443",method="POST"} 3
rest_client_requests_total{code="409",host="127.0.0.1:6443",method="PUT"} 1
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="DELETE"} 2
rest_client_rate_limiter_duration_seconds_count{verb="PATCH"} 100
`
	got, err := SumWriteRequests(metrics)
	if err != nil || got != 13 {
		t.Fatalf("SumWriteRequests = %d, %v; want 13 (PATCH 7 + POST 3 + PUT 1 + DELETE 2, GETs not)", got, err)
	}
	if _, err := SumWriteRequests(`rest_client_requests_total{method="POST"} x`); err == nil {
		t.Fatal("a value that is no number must be an error")
	}
}

func TestSummarize(t *testing.T) {
	t0 := time.Unix(1000, 0)
	results := []LoadResult{
		{At: t0, Latency: 10 * time.Millisecond, Status: 200},
		{At: t0.Add(time.Second), Latency: 20 * time.Millisecond, Status: 200},
		{At: t0.Add(2 * time.Second), Latency: time.Millisecond, Err: "dial tcp 10.96.0.10:80: connect: connection refused"},
		{At: t0.Add(3 * time.Second), Latency: 5 * time.Millisecond, Status: 503},
		{At: t0.Add(4 * time.Second), Status: 200, Err: "reading the answer: unexpected EOF"},
	}
	s := Summarize(results)
	if s.Requests != 5 || s.OK != 2 || s.Failed != 3 {
		t.Fatalf("counts %d/%d/%d, want 5 requests, 2 ok, 3 failed", s.Requests, s.OK, s.Failed)
	}
	want := map[string]int{"200": 2, "connection refused": 1, "503": 1, "EOF": 1}
	for k, v := range want {
		if s.ByOutcome[k] != v {
			t.Errorf("ByOutcome[%q] = %d, want %d (all: %v)", k, s.ByOutcome[k], v, s.ByOutcome)
		}
	}
	if s.Span != 4*time.Second || len(s.FirstFailures) != 3 || s.P50 != 20*time.Millisecond {
		t.Errorf("span %s, %d failures listed, p50 %s", s.Span, len(s.FirstFailures), s.P50)
	}
	if got := len((&Load{results: results}).Results(t0.Add(time.Second), t0.Add(3*time.Second))); got != 2 {
		t.Errorf("Results in [1s, 3s) = %d, want 2", got)
	}
}

func TestCgroupCPUMillis(t *testing.T) {
	if got := (CgroupLimits{CPUQuotaMicros: 50000, CPUPeriodMicros: 100000}).CPUMillis(); got != 500 {
		t.Errorf("50000/100000 us = %dm, want 500m", got)
	}
	if got := (CgroupLimits{CPUQuotaMicros: -1, CPUPeriodMicros: 100000}).CPUMillis(); got != -1 {
		t.Errorf("no quota = %d, want -1", got)
	}
}

func TestParsePIDFile(t *testing.T) {
	if pid, err := parsePIDFile("4242 /work/bin/k8s/kubelet\n"); err != nil || pid != 4242 {
		t.Fatalf("parsePIDFile(PID BINARY) = %d, %v; want 4242", pid, err)
	}
	for _, bad := range []string{"", "\n", "kubelet 4242"} {
		if _, err := parsePIDFile(bad); err == nil {
			t.Fatalf("parsePIDFile(%q) must be an error", bad)
		}
	}
}
