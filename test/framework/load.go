package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// IrisRequest is one Open Inference Protocol request for the example model server.
const IrisRequest = `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32",` +
	`"data":[5.9,3.0,5.1,1.8,5.7,2.8,4.1,1.3]}]}`

// Load sends inference requests in a closed loop from Clients goroutines, each on a new
// connection (keep-alive off: kube-proxy picks a pod per connection, as for a client that
// does not pool), until Stop. Every answer is recorded with its time, so a spec can count
// what happened in a window (a rollout, a scale-in).
type Load struct {
	URL     string
	Body    string
	Clients int
	Timeout time.Duration
	// FailurePause is how long a client waits after a failed request (0: none), so that
	// a Service without endpoints, which refuses at once, is not hammered in a tight loop.
	FailurePause time.Duration

	mu      sync.Mutex
	results []LoadResult
	cancel  context.CancelFunc
	done    chan struct{}
}

// LoadResult is one request: when it was sent, how long it took, and what came back (an
// HTTP status or the error).
type LoadResult struct {
	At      time.Time
	Latency time.Duration
	Status  int
	Err     string
}

// OK is an answer 200 read to the end.
func (r LoadResult) OK() bool { return r.Status == http.StatusOK && r.Err == "" }

// Start begins sending.
func (l *Load) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	body := l.Body
	if body == "" {
		body = IrisRequest
	}
	timeout := l.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for range max(l.Clients, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				r := send(ctx, client, l.URL, body)
				if ctx.Err() != nil && r.Err != "" {
					return // cut short by Stop, not an answer
				}
				l.mu.Lock()
				l.results = append(l.results, r)
				l.mu.Unlock()
				if !r.OK() && l.FailurePause > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(l.FailurePause):
					}
				}
			}
		})
	}
	go func() { wg.Wait(); close(l.done) }()
}

// Stop ends the load and waits for the requests in flight.
func (l *Load) Stop() {
	if l.cancel == nil {
		return
	}
	l.cancel()
	<-l.done
}

func send(ctx context.Context, client *http.Client, url, body string) LoadResult {
	r := LoadResult{At: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		r.Err = err.Error()
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		r.Err, r.Latency = err.Error(), time.Since(r.At)
		if errors.Is(err, context.Canceled) {
			r.Err = "canceled"
		}
		return r
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	r.Status, r.Latency = resp.StatusCode, time.Since(r.At)
	if err != nil {
		r.Err = "reading the answer: " + err.Error()
	}
	return r
}

// Results returns the requests sent in [from, to) (zero times: unbounded).
func (l *Load) Results(from, to time.Time) []LoadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []LoadResult
	for _, r := range l.results {
		if (from.IsZero() || !r.At.Before(from)) && (to.IsZero() || r.At.Before(to)) {
			out = append(out, r)
		}
	}
	return out
}

// LoadSummary counts results.
type LoadSummary struct {
	Requests, OK, Failed int
	// ByOutcome counts by status code or error.
	ByOutcome map[string]int
	// FirstFailures are the first few failures, with their times.
	FirstFailures []LoadResult
	P50, P99      time.Duration
	Span          time.Duration
}

// Summarize counts a set of results.
func Summarize(results []LoadResult) LoadSummary {
	s := LoadSummary{ByOutcome: map[string]int{}}
	var lat []time.Duration
	for _, r := range results {
		s.Requests++
		if r.OK() {
			s.OK++
			lat = append(lat, r.Latency)
		} else {
			s.Failed++
			if len(s.FirstFailures) < 10 {
				s.FirstFailures = append(s.FirstFailures, r)
			}
		}
		key := fmt.Sprint(r.Status)
		if r.Err != "" {
			key = errClass(r.Err)
		}
		s.ByOutcome[key]++
	}
	if n := len(lat); n > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		s.P50, s.P99 = lat[n/2], lat[n*99/100]
	}
	if n := len(results); n > 0 {
		s.Span = results[n-1].At.Sub(results[0].At)
	}
	return s
}

func errClass(err string) string {
	for _, c := range []string{"connection refused", "connection reset", "timeout", "EOF", "no route"} {
		if strings.Contains(err, c) {
			return c
		}
	}
	return "error"
}

func (s LoadSummary) String() string {
	keys := make([]string, 0, len(s.ByOutcome))
	for k := range s.ByOutcome {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	outcomes := make([]string, 0, len(keys))
	for _, k := range keys {
		outcomes = append(outcomes, fmt.Sprintf("%s:%d", k, s.ByOutcome[k]))
	}
	out := fmt.Sprintf("%d requests in %.1fs, %d ok, %d failed (%s), latency p50 %s p99 %s",
		s.Requests, s.Span.Seconds(), s.OK, s.Failed, strings.Join(outcomes, " "),
		s.P50.Round(time.Millisecond), s.P99.Round(time.Millisecond))
	for _, f := range s.FirstFailures {
		out += fmt.Sprintf("\n    failure at %s: status %d %s", f.At.Format("15:04:05.000"), f.Status, f.Err)
	}
	return out
}
