package main

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inferenceops/inference-operator/test/utils"
)

// options are the benchmark's flags.
type options struct {
	n     int
	tries int
	// operator is the setting of figures 1 to 4 and of the floor.
	operator     setting
	managerPath  string
	crdDir       string
	outDir       string
	memoryPoints []int
	unrelated    int
	settings     []setting
	// timeout bounds every single wait (a convergence, a resync); passing it is a hard failure.
	timeout time.Duration
	// createWorkers is the parallelism of the unthrottled client that prepares objects.
	createWorkers int
	smoke         bool
	// profile saves a CPU profile of every converging manager (see converge) and a heap
	// profile of every manager of figure 6 (see podWatchRun).
	profile bool
	// Figure 6 (the pod watch): its runs per variant (0: not measured), the unrelated
	// pods, the binaries of the simulated cluster and kwok's Stages; podWatchOnly
	// measures figure 6 alone.
	podWatchRuns  int
	unrelatedPods int
	kubeBin       string
	kwokPath      string
	kwokStages    string
	podWatchOnly  bool
	// Figure 7 (issue 14's figure 4, the live autoscaler): its InferenceServices, the
	// minutes measured at the manager's default and at --metric-status-interval=0 (0:
	// skip figure 7), the metrics adapter binary; autoscalerOnly measures figure 7 alone.
	autoscalerN               int
	autoscalerMinutes         float64
	autoscalerBaselineMinutes float64
	adapterPath               string
	autoscalerOnly            bool
	// Figure 8 (issue 14's figure 6, scale): its InferenceServices (0: skip figure 8);
	// scaleOnly measures figure 8 alone.
	scaleN    int
	scaleOnly bool
}

// setting is one choice of the manager's client rate limits and reconcile parallelism.
type setting struct {
	// QPS is --kube-api-qps; a negative value turns client-side rate limiting off
	// (client-go builds no token bucket when QPS <= 0 in a rest.Config, and the manager
	// passes the flag through unchanged).
	QPS float64 `json:"qps"`
	// Burst is --kube-api-burst; ignored when QPS is negative.
	Burst int `json:"burst"`
	// Workers is --max-concurrent-reconciles.
	Workers int `json:"workers"`
}

func (s setting) unlimited() bool { return s.QPS < 0 }

// String is the setting as a table shows it: "50/100/4" or "unlimited/16".
func (s setting) String() string {
	if s.unlimited() {
		return fmt.Sprintf("unlimited/%d", s.Workers)
	}
	return fmt.Sprintf("%s/%d/%d", strconv.FormatFloat(s.QPS, 'f', -1, 64), s.Burst, s.Workers)
}

// managerFlags are the manager's command-line flags for this setting.
func (s setting) managerFlags() []string {
	return []string{
		"--kube-api-qps=" + strconv.FormatFloat(s.QPS, 'f', -1, 64),
		"--kube-api-burst=" + strconv.Itoa(s.Burst),
		"--max-concurrent-reconciles=" + strconv.Itoa(s.Workers),
	}
}

// parseSetting reads "QPS/BURST/WORKERS"; QPS -1 (or "unlimited", then "unlimited/WORKERS")
// turns client-side rate limiting off.
func parseSetting(s string) (setting, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) == 2 && parts[0] == "unlimited" {
		parts = []string{"-1", "0", parts[1]}
	}
	if len(parts) != 3 {
		return setting{}, fmt.Errorf("setting %q: want QPS/BURST/WORKERS or unlimited/WORKERS", s)
	}
	qps, err := strconv.ParseFloat(parts[0], 64)
	if err != nil {
		return setting{}, fmt.Errorf("setting %q: QPS: %w", s, err)
	}
	burst, err := strconv.Atoi(parts[1])
	if err != nil {
		return setting{}, fmt.Errorf("setting %q: burst: %w", s, err)
	}
	workers, err := strconv.Atoi(parts[2])
	if err != nil {
		return setting{}, fmt.Errorf("setting %q: workers: %w", s, err)
	}
	switch {
	case qps == 0:
		return setting{}, fmt.Errorf("setting %q: QPS 0 would mean client-go's default of 5; use -1 for unlimited", s)
	case qps > 0 && burst < 1:
		return setting{}, fmt.Errorf("setting %q: a rate-limited client needs a burst of at least 1", s)
	case workers < 1:
		return setting{}, fmt.Errorf("setting %q: at least one worker", s)
	}
	if qps < 0 {
		qps, burst = -1, 0
	}
	return setting{QPS: qps, Burst: burst, Workers: workers}, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// smokeDefaults replace the defaults of the flags not given on the command line when
// -smoke is set: small enough to finish in about two minutes on a 2-core machine, large
// enough that every code path runs (a memory point topped up, unrelated objects, every
// knob setting on a fresh API server).
var smokeDefaults = map[string]string{
	"n":             "30",
	"tries":         "10",
	"memory-points": "30,90",
	"unrelated":     "200",
	"timeout":       "90s",
	"settings":      "50/100/4,unlimited/16",
	// Figure 6 needs a simulated cluster (kube-controller-manager, kube-scheduler, kwok)
	// and takes about 2 minutes at N = 1000: not in the smoke run.
	"pod-watch-runs": "0",
	// Figure 7 runs the real HPA controller for minutes by nature (its sync is 15 s and
	// the manager writes metric values once a minute): not in the smoke run.
	"autoscaler-minutes": "0",
	// Figure 8 at a small N, so that its path runs in CI; 10,000 takes minutes.
	"scale-n": "60",
}

func parseOptions(name string, args []string) (options, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var (
		opts                   options
		memoryPoints, settings string
	)
	fs.IntVar(&opts.n, "n", 1000, "InferenceServices converged for figures 1, 2, 3 and 5")
	fs.IntVar(&opts.tries, "tries", 100, "InferenceServices applied one at a time for the latency figure (2)")
	// The three defaults mirror the manager's own flag defaults in cmd/main.go
	// (--kube-api-qps 50, --kube-api-burst 100, --max-concurrent-reconciles 4), so that
	// figures 1 to 4 measure the operator as it ships.
	fs.Float64Var(&opts.operator.QPS, "qps", 50, "manager --kube-api-qps for figures 1-4 and the floor (-1: unlimited)")
	fs.IntVar(&opts.operator.Burst, "burst", 100, "manager --kube-api-burst for figures 1-4 and the floor")
	fs.IntVar(&opts.operator.Workers, "workers", 4, "manager --max-concurrent-reconciles for figures 1-4; floor goroutines")
	fs.StringVar(&opts.managerPath, "manager", "bin/manager", "the manager binary to run")
	fs.StringVar(&opts.crdDir, "crd-dir", "config/crd/bases", "folder holding the InferenceService CRD")
	fs.StringVar(&opts.outDir, "out", "bin/bench", "folder for results.md, results.json and logs/")
	fs.StringVar(&memoryPoints, "memory-points", "100,1000,5000", "InferenceService counts at which memory is read (figure 4)")
	fs.IntVar(&opts.unrelated, "unrelated", 5000, "unrelated Deployments, ConfigMaps and Secrets (each) created for figure 4")
	fs.StringVar(&settings, "settings", "20/30/4,50/100/4,50/100/8,200/400/8,unlimited/16",
		"QPS/BURST/WORKERS settings of figure 5, comma-separated (unlimited/WORKERS: no client-side rate limit)")
	fs.DurationVar(&opts.timeout, "timeout", 20*time.Minute, "limit of every single wait (convergence, resync); exceeding it fails the run")
	fs.IntVar(&opts.createWorkers, "create-workers", 16, "parallel requests of the unthrottled client that prepares objects")
	fs.BoolVar(&opts.profile, "profile", false, "save a CPU profile of the first 10 s of every converging manager, and a heap profile of every figure 6 manager once idle, under bin/bench/logs/ (go tool pprof)")
	fs.IntVar(&opts.podWatchRuns, "pod-watch-runs", 3, "figure 6: managers started with, and as many without, the pod watch (0: skip figure 6)")
	fs.IntVar(&opts.unrelatedPods, "unrelated-pods", 3000, "figure 6: running pods of no InferenceService")
	fs.StringVar(&opts.kubeBin, "kube-bin", utils.ControlPlaneDir(), "figure 6: folder holding kube-controller-manager and kube-scheduler")
	fs.StringVar(&opts.kwokPath, "kwok", "", "figure 6: the kwok controller binary (make dev-cluster-tools builds it)")
	fs.StringVar(&opts.kwokStages, "kwok-stages", "hack/dev-cluster/stages.yaml", "figure 6: kwok's Stages (those of the simulated e2e cluster)")
	fs.BoolVar(&opts.podWatchOnly, "pod-watch-only", false, "measure figure 6 only")
	fs.IntVar(&opts.autoscalerN, "autoscaler-n", 300, "figure 7: InferenceServices under the live autoscaler")
	fs.Float64Var(&opts.autoscalerMinutes, "autoscaler-minutes", 10, "figure 7: minutes measured at the manager's default --metric-status-interval (0: skip figure 7)")
	fs.Float64Var(&opts.autoscalerBaselineMinutes, "autoscaler-baseline-minutes", 3, "figure 7: minutes measured with --metric-status-interval=0 (every change written), the baseline")
	fs.StringVar(&opts.adapterPath, "metrics-adapter", "", "figure 7: the metrics adapter binary (hack/tools/cluster; make dev-cluster-tools builds it)")
	fs.BoolVar(&opts.autoscalerOnly, "autoscaler-only", false, "measure figure 7 only")
	fs.IntVar(&opts.scaleN, "scale-n", goalScaleN, "figure 8: InferenceServices converged on an API server of their own, then restarted over (0: skip figure 8)")
	fs.BoolVar(&opts.scaleOnly, "scale-only", false, "measure figure 8 only")
	fs.BoolVar(&opts.smoke, "smoke", false, "small defaults for a quick run (CI): "+smokeSummary())
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if opts.smoke {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		for flagName, value := range smokeDefaults {
			if !given[flagName] {
				if err := fs.Set(flagName, value); err != nil {
					return options{}, err
				}
			}
		}
		if !given["memory-points"] {
			memoryPoints = smokeDefaults["memory-points"]
		}
	}

	var err error
	if opts.memoryPoints, err = parseInts(memoryPoints); err != nil {
		return options{}, fmt.Errorf("-memory-points: %w", err)
	}
	for _, s := range strings.Split(settings, ",") {
		parsed, err := parseSetting(s)
		if err != nil {
			return options{}, fmt.Errorf("-settings: %w", err)
		}
		opts.settings = append(opts.settings, parsed)
	}
	if opts.operator, err = parseSetting(opts.operator.String()); err != nil {
		return options{}, fmt.Errorf("-qps/-burst/-workers: %w", err)
	}
	switch {
	case opts.n < 1:
		return options{}, fmt.Errorf("-n must be at least 1")
	case opts.tries < 1:
		return options{}, fmt.Errorf("-tries must be at least 1")
	case opts.createWorkers < 1:
		return options{}, fmt.Errorf("-create-workers must be at least 1")
	case len(opts.memoryPoints) == 0:
		return options{}, fmt.Errorf("-memory-points needs at least one count")
	case opts.podWatchRuns < 0 || opts.unrelatedPods < 0:
		return options{}, fmt.Errorf("-pod-watch-runs and -unrelated-pods cannot be negative")
	case opts.podWatchRuns > 0 && opts.kwokPath == "" && !opts.scaleOnly && !opts.autoscalerOnly:
		return options{}, fmt.Errorf("figure 6 (-pod-watch-runs %d) needs -kwok, the kwok binary (make bench passes it)", opts.podWatchRuns)
	case opts.podWatchOnly && opts.podWatchRuns == 0:
		return options{}, fmt.Errorf("-pod-watch-only with -pod-watch-runs 0 measures nothing")
	}
	return opts, checkAutoscalerOptions(opts)
}

// checkAutoscalerOptions checks figure 7's flags.
func checkAutoscalerOptions(opts options) error {
	switch {
	case opts.autoscalerN < 1 || opts.autoscalerMinutes < 0 || opts.autoscalerBaselineMinutes < 0:
		return fmt.Errorf("-autoscaler-n must be at least 1, -autoscaler-minutes and -autoscaler-baseline-minutes not negative")
	case opts.autoscalerMinutes > 0 && !opts.podWatchOnly && !opts.scaleOnly && (opts.kwokPath == "" || opts.adapterPath == ""):
		return fmt.Errorf("figure 7 (-autoscaler-minutes %g) needs -kwok and -metrics-adapter (make bench passes them; -autoscaler-minutes 0 skips it)", opts.autoscalerMinutes)
	case opts.autoscalerOnly && opts.autoscalerMinutes == 0:
		return fmt.Errorf("-autoscaler-only with -autoscaler-minutes 0 measures nothing")
	case opts.autoscalerOnly && opts.podWatchOnly:
		return fmt.Errorf("-autoscaler-only and -pod-watch-only exclude each other")
	case opts.scaleN < 0:
		return fmt.Errorf("-scale-n cannot be negative")
	case opts.scaleOnly && opts.scaleN == 0:
		return fmt.Errorf("-scale-only with -scale-n 0 measures nothing")
	case opts.scaleOnly && (opts.autoscalerOnly || opts.podWatchOnly):
		return fmt.Errorf("-scale-only excludes -autoscaler-only and -pod-watch-only")
	}
	return nil
}

func smokeSummary() string {
	keys := make([]string, 0, len(smokeDefaults))
	for k := range smokeDefaults {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, "-"+k+" "+smokeDefaults[k])
	}
	return strings.Join(parts, " ")
}
