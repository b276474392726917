// Command load sends real inference requests to a model server, bounded in count and in
// time, and prints what came back every few seconds. It backs the real-node demo
// (hack/demo.sh), where it runs inside the cluster's network namespace and calls the
// InferenceService's ClusterIP:
//
//	load --url http://10.96.0.10/v2/models/iris/infer --concurrency 8 --duration 150s --requests 20000
//
// Every request opens a new connection (keep-alive off): kube-proxy picks a pod per
// connection, so pods that the autoscaler adds get traffic as soon as they are ready. It
// stops at --duration, after --requests, or on SIGTERM/SIGINT, prints a summary and exits
// 1 when no request succeeded.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// irisRequest is one Open Inference Protocol request with two flowers.
const irisRequest = `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32",` +
	`"data":[5.9,3.0,5.1,1.8,5.7,2.8,4.1,1.3]}]}`

func main() {
	var c config
	flag.StringVar(&c.url, "url", "", "inference URL to POST to (required)")
	flag.StringVar(&c.body, "body", irisRequest, "request body (JSON)")
	flag.IntVar(&c.concurrency, "concurrency", 8, "requests in flight at once (closed loop)")
	flag.DurationVar(&c.duration, "duration", 2*time.Minute, "stop after this long")
	flag.Int64Var(&c.requests, "requests", 20000, "stop after this many requests")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Second, "timeout of one request")
	flag.DurationVar(&c.report, "report", 10*time.Second, "print progress this often")
	flag.Parse()
	if c.url == "" || c.concurrency < 1 || c.requests < 1 || c.duration <= 0 || c.report <= 0 {
		fmt.Fprintln(os.Stderr, "load: --url is required; --concurrency, --requests, --duration, --report must be > 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if s := run(ctx, c, os.Stdout); s.okTotal() == 0 {
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	url, body                 string
	concurrency               int
	requests                  int64
	duration, timeout, report time.Duration
}

// run sends requests until c.duration has passed, c.requests were sent or ctx is done,
// printing progress to w, and returns the counts.
func run(ctx context.Context, c config, w io.Writer) *stats {
	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	client := &http.Client{
		Timeout:   c.timeout,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	s := &stats{codes: map[string]int64{}}
	start := time.Now()
	_, _ = fmt.Fprintf(w, "load: %d clients, new connection per request, at most %d requests or %s, POST %s\n",
		c.concurrency, c.requests, c.duration, c.url)

	var wg sync.WaitGroup
	var issued atomic.Int64
	for range c.concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && issued.Add(1) <= c.requests {
				s.record(send(ctx, client, c.url, c.body))
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	ticker := time.NewTicker(c.report)
	defer ticker.Stop()
	for running := true; running; {
		select {
		case <-ticker.C:
			_, _ = fmt.Fprintln(w, "load:", s.line(time.Since(start), true))
		case <-done:
			running = false
		}
	}
	_, _ = fmt.Fprintln(w, "load: done:", s.line(time.Since(start), false))
	return s
}

// result is the outcome of one request: an HTTP status or an error class, and its latency.
type result struct {
	code    string
	ok      bool
	latency time.Duration
}

func send(ctx context.Context, client *http.Client, url, body string) result {
	t := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		return result{code: "bad-request", latency: time.Since(t)}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		code := "conn-error"
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			code = "stopped"
		}
		return result{code: code, latency: time.Since(t)}
	}
	// The answer must be read to the end: a model server counts a request as done then.
	_, readErr := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	code := fmt.Sprint(resp.StatusCode)
	if readErr != nil {
		code = "read-error"
	}
	return result{code: code, ok: resp.StatusCode == http.StatusOK && readErr == nil, latency: time.Since(t)}
}

// stats counts results by code, in total and since the last progress line.
type stats struct {
	mu        sync.Mutex
	codes     map[string]int64
	total, ok int64
	window    []time.Duration // latencies of successful requests since the last line
	windowN   int64
}

func (s *stats) record(r result) {
	if r.code == "stopped" {
		return // cut short by the end of the run, not an answer
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[r.code]++
	s.total++
	s.windowN++
	if r.ok {
		s.ok++
		s.window = append(s.window, r.latency)
	}
}

func (s *stats) okTotal() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ok
}

// line prints the totals by code, and then either the count and median latency since the
// last progress line (resetWindow, which starts a new interval) or the run's mean rate.
func (s *stats) line(elapsed time.Duration, resetWindow bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.codes))
	for k := range s.codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	codes := ""
	for _, k := range keys {
		codes += fmt.Sprintf(" %s:%d", k, s.codes[k])
	}
	var median time.Duration
	if n := len(s.window); n > 0 {
		sort.Slice(s.window, func(i, j int) bool { return s.window[i] < s.window[j] })
		median = s.window[n/2]
	}
	out := fmt.Sprintf("%5.0fs %6d requests, %6d ok (codes%s)", elapsed.Seconds(), s.total, s.ok, codes)
	if resetWindow {
		out += fmt.Sprintf("; last interval %d requests, median latency %s", s.windowN, median.Round(time.Millisecond))
		s.window, s.windowN = s.window[:0], 0
	} else {
		out += fmt.Sprintf("; %.1f requests/s", float64(s.total)/elapsed.Seconds())
	}
	return out
}
