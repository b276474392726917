package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// controllerName is the name the InferenceService controller registers under; it labels
// controller-runtime's reconcile and workqueue metrics.
const controllerName = "inferenceservice"

// writeMethods are the HTTP methods that change something on the API server.
var writeMethods = []string{"POST", "PUT", "PATCH", "DELETE"}

// metrics is one scrape of the manager's Prometheus endpoint.
type metrics map[string]*dto.MetricFamily

func scrapeMetrics(ctx context.Context, url string) (metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", url, err)
	}
	return families, nil
}

// sum adds up the samples of a counter or gauge whose labels include every pair of
// match; found is false when no sample matched (the series does not exist yet).
func (m metrics) sum(name string, match map[string]string) (total float64, found bool) {
	family, ok := m[name]
	if !ok {
		return 0, false
	}
	for _, metric := range family.GetMetric() {
		if !hasLabels(metric, match) {
			continue
		}
		found = true
		switch {
		case metric.GetCounter() != nil:
			total += metric.GetCounter().GetValue()
		case metric.GetGauge() != nil:
			total += metric.GetGauge().GetValue()
		case metric.GetUntyped() != nil:
			total += metric.GetUntyped().GetValue()
		}
	}
	return total, found
}

func hasLabels(metric *dto.Metric, match map[string]string) bool {
	for key, want := range match {
		matched := false
		for _, l := range metric.GetLabel() {
			if l.GetName() == key && l.GetValue() == want {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// requests are the manager's API requests by method, from client-go's
// rest_client_requests_total (every client of the process, every status code).
func (m metrics) requests() map[string]int {
	byMethod := map[string]int{}
	for _, metric := range m["rest_client_requests_total"].GetMetric() {
		for _, l := range metric.GetLabel() {
			if l.GetName() == "method" {
				byMethod[l.GetValue()] += int(metric.GetCounter().GetValue())
			}
		}
	}
	return byMethod
}

// reconciles is controller_runtime_reconcile_total of the InferenceService controller,
// every result included.
func (m metrics) reconciles() int {
	return m.ofController("controller_runtime_reconcile_total")
}

// ofController is the sum of the series of name that belong to the InferenceService
// controller.
func (m metrics) ofController(name string) int {
	n, _ := m.sum(name, map[string]string{"controller": controllerName})
	return int(n)
}

// reconcileErrors is controller_runtime_reconcile_errors_total of the InferenceService
// controller.
func (m metrics) reconcileErrors() int {
	return m.ofController("controller_runtime_reconcile_errors_total")
}

// queueDepth is the InferenceService controller's workqueue depth; ok is false until
// the controller has registered its queue.
func (m metrics) queueDepth() (depth int, ok bool) {
	n, ok := m.sum("workqueue_depth", map[string]string{"name": controllerName})
	return int(n), ok
}

// activeWorkers is the number of InferenceService reconciles running now.
func (m metrics) activeWorkers() int {
	return m.ofController("controller_runtime_active_workers")
}

// heap is the Go heap in use and allocated, in bytes.
func (m metrics) heap() (inuse, alloc float64) {
	inuse, _ = m.sum("go_memstats_heap_inuse_bytes", nil)
	alloc, _ = m.sum("go_memstats_heap_alloc_bytes", nil)
	return inuse, alloc
}

// requestCounts are the totals of a requests() map.
type requestCounts struct {
	Total    int            `json:"total"`
	Writes   int            `json:"writes"`
	ByMethod map[string]int `json:"byMethod"`
}

func countRequests(byMethod map[string]int) requestCounts {
	c := requestCounts{ByMethod: byMethod}
	for method, n := range byMethod {
		c.Total += n
		for _, w := range writeMethods {
			if method == w {
				c.Writes += n
			}
		}
	}
	return c
}

// writesByMethod renders the write requests as "PATCH 3000, POST 2" ("none" for zero).
func (c requestCounts) writesByMethod() string {
	var parts []string
	for _, w := range writeMethods {
		if n := c.ByMethod[w]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", w, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// procMemory is what /proc/PID/status says about a process's memory, in bytes.
type procMemory struct {
	// RSS is VmRSS, the resident set now.
	RSS int64
	// PeakRSS is VmHWM, the largest resident set so far.
	PeakRSS int64
	// AnonRSS and FileRSS split RSS into anonymous memory (heap, stacks) and the pages of
	// mapped files (the binary's own code and data).
	AnonRSS, FileRSS int64
}

func readProcMemory(pid int) (procMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procMemory{}, err
	}
	defer func() { _ = f.Close() }()
	var mem procMemory
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), ":")
		var field *int64
		switch key {
		case "VmRSS":
			field = &mem.RSS
		case "VmHWM":
			field = &mem.PeakRSS
		case "RssAnon":
			field = &mem.AnonRSS
		case "RssFile":
			field = &mem.FileRSS
		}
		if !ok || field == nil {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return procMemory{}, fmt.Errorf("parsing %s in /proc/%d/status: %w", key, pid, err)
		}
		*field = kib * 1024
	}
	if mem.RSS == 0 || mem.PeakRSS == 0 {
		return procMemory{}, fmt.Errorf("no VmRSS or VmHWM in /proc/%d/status", pid)
	}
	return mem, scanner.Err()
}

// clockTicksPerSecond is USER_HZ, the unit of the CPU times in /proc/PID/stat; it is 100
// on every Linux architecture Go supports (reading sysconf(_SC_CLK_TCK) would need cgo).
const clockTicksPerSecond = 100

// readProcCPUSeconds returns utime + stime of a process, fields 14 and 15 of /proc/PID/stat.
func readProcCPUSeconds(pid int) (float64, error) {
	content, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces; count after it.
	_, rest, ok := strings.Cut(string(content), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, content)
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, content)
	}
	return (utime + stime) / clockTicksPerSecond, nil
}

// readMachineCPUSeconds returns the CPU time the whole machine has spent busy so far, in
// CPU seconds: user, nice, system, irq, softirq and steal of the first line of /proc/stat
// (idle and iowait left out).
func readMachineCPUSeconds() (float64, error) {
	content, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(content), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	var busy float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc/stat: %q", line)
		}
		busy += v
	}
	return busy / clockTicksPerSecond, nil
}

// waitIdle waits until the manager has reconciled at least crs InferenceServices and its
// queue has stayed empty, with no reconcile running, for the whole of stable (polling
// every poll). It returns when that first held in the final stable stretch (the resync's
// end) and the scrape taken at the end.
func waitIdle(ctx context.Context, m *managerProcess, crs int, stable, poll time.Duration) (time.Time, metrics, error) {
	var (
		idleSince time.Time
		last      metrics
		lastErr   error
	)
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		now := time.Now()
		scraped, err := m.scrape(ctx)
		if err == nil {
			last = scraped
			depth, ok := scraped.queueDepth()
			if ok && depth == 0 && scraped.activeWorkers() == 0 && scraped.reconciles() >= crs {
				if idleSince.IsZero() {
					idleSince = now
				}
				if now.Sub(idleSince) >= stable {
					return idleSince, scraped, nil
				}
			} else {
				idleSince = time.Time{}
			}
		} else {
			// The metrics endpoint is not up in the first moments of the process.
			lastErr = err
		}
		select {
		case <-ctx.Done():
			progress := "no metrics read"
			if last != nil {
				depth, _ := last.queueDepth()
				progress = fmt.Sprintf("%d reconciles of %d, queue depth %d, %d reconciling",
					last.reconciles(), crs, depth, last.activeWorkers())
			} else if lastErr != nil {
				progress += ": " + lastErr.Error()
			}
			return time.Time{}, last, fmt.Errorf("waiting for the manager to reconcile %d InferenceServices and go idle (%s): %w",
				crs, progress, context.Cause(ctx))
		case <-ticker.C:
		}
	}
}
