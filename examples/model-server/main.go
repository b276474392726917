// Command model-server serves a classifier of Iris flowers, trained on Fisher's Iris data
// and shipped inside the binary, over the Open Inference Protocol (KServe V2) on HTTP, with
// Prometheus metrics. It is the example workload of this repository's samples and suites:
// it loads for a configurable time before it reports ready, runs inferences on a bounded
// pool of workers with a real queue in front, can burn CPU per inference so that a CPU
// autoscaler sees load, and finishes in-flight requests on SIGTERM.
//
// Every flag can also be set by an environment variable MODEL_SERVER_<FLAG> (for example
// MODEL_SERVER_LOAD_DELAY=30s); a flag on the command line wins. See README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/inferenceops/inference-operator/examples/model-server/internal/iris"
	"github.com/inferenceops/inference-operator/examples/model-server/internal/oip"
)

// version is set at build time (-ldflags "-X main.version=...") by `make image-model-server`.
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "model-server:", err)
		os.Exit(1)
	}
}

type options struct {
	address       string
	port          int
	metricsPort   int
	modelName     string
	loadDelay     time.Duration
	workers       int
	maxQueue      int
	maxRows       int
	inferCPU      time.Duration
	inferSleep    time.Duration
	drainDelay    time.Duration
	shutdownGrace time.Duration
	train         bool
	modelOut      string
}

// parseOptions reads the flags, then MODEL_SERVER_* variables for the flags not given.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("model-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.address, "address", "", "address to listen on (empty: all interfaces)")
	fs.IntVar(&o.port, "port", 8080,
		"port of the inference API (and of /metrics unless --metrics-port is set); 0 picks a free one")
	fs.IntVar(&o.metricsPort, "metrics-port", -1,
		"serve /metrics on this port instead of the API port (-1: on the API port)")
	fs.StringVar(&o.modelName, "model-name", "iris", "name of the model in the API's URLs")
	fs.DurationVar(&o.loadDelay, "load-delay", 0, "time from start until the model is loaded and the server reports ready")
	fs.IntVar(&o.workers, "workers", runtime.GOMAXPROCS(0),
		"inferences that run at once; more requests wait in the queue (default: the CPUs the process may use)")
	fs.IntVar(&o.maxQueue, "max-queue", 0,
		"requests that may wait for a worker before new ones are refused with 503 (0: no bound)")
	fs.IntVar(&o.maxRows, "max-rows", 1024, "rows one inference request may hold")
	fs.DurationVar(&o.inferCPU, "infer-cpu", 0,
		"CPU time each inference burns on top of the model's own work (repeating it), such as 50ms")
	fs.DurationVar(&o.inferSleep, "infer-sleep", 0,
		"time each inference holds its worker without using CPU, such as 200ms")
	fs.DurationVar(&o.drainDelay, "drain-delay", 0,
		"on SIGTERM, time to keep accepting requests (readiness already 503) before closing the listener")
	fs.DurationVar(&o.shutdownGrace, "shutdown-grace", 25*time.Second,
		"on SIGTERM, time in-flight requests get to finish after the listener closes")
	fs.BoolVar(&o.train, "train", false, "train the model on the embedded Iris data, write it to --model-out and exit")
	fs.StringVar(&o.modelOut, "model-out", "model.json", "with --train: the file to write")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "MODEL_SERVER_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" && !given[f.Name] && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", env, v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	switch {
	case o.port < 0 || o.port > 65535 || o.metricsPort < -1 || o.metricsPort > 65535:
		return nil, fmt.Errorf("ports must be 0..65535 (port %d, metrics port %d)", o.port, o.metricsPort)
	case o.workers < 1 || o.maxRows < 1 || o.maxQueue < 0:
		return nil, fmt.Errorf("--workers and --max-rows must be at least 1 and --max-queue not negative")
	case o.loadDelay < 0 || o.inferCPU < 0 || o.inferSleep < 0 || o.drainDelay < 0 || o.shutdownGrace < 0:
		return nil, errors.New("durations must not be negative")
	case o.modelName == "" || strings.ContainsAny(o.modelName, "/ "):
		return nil, fmt.Errorf("--model-name %q must be a non-empty path segment", o.modelName)
	}
	return o, nil
}

// run serves until ctx ends or SIGTERM/SIGINT arrives, then drains.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	if o.train {
		return train(o.modelOut, stdout)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	shipped, err := iris.Shipped()
	if err != nil {
		return err
	}
	srv, err := oip.NewServer(oip.Config{
		ServerName: "inference-operator-model-server", ServerVersion: version,
		ModelName: o.modelName, ModelVersion: shipped.Version,
		Workers: o.workers, MaxQueue: o.maxQueue, MaxRows: o.maxRows,
		InferCPU: o.inferCPU, InferSleep: o.inferSleep,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()

	api := http.NewServeMux()
	api.Handle("/", srv.Handler())
	servers := []*http.Server{{Handler: api, ReadHeaderTimeout: 10 * time.Second}}
	addrs := []string{net.JoinHostPort(o.address, strconv.Itoa(o.port))}
	if o.metricsPort < 0 {
		api.Handle("GET /metrics", srv.MetricsHandler())
	} else {
		m := http.NewServeMux()
		m.Handle("GET /metrics", srv.MetricsHandler())
		servers = append(servers, &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second})
		addrs = append(addrs, net.JoinHostPort(o.address, strconv.Itoa(o.metricsPort)))
	}
	serveErr := make(chan error, len(servers))
	for i, hs := range servers {
		ln, err := net.Listen("tcp", addrs[i])
		if err != nil {
			return err
		}
		what := "inference API"
		if i == 1 {
			what = "metrics"
		}
		log.Info("Listening", "what", what, "address", ln.Addr().String())
		go func() {
			if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- err
			}
		}()
	}

	log.Info("Loading model", "model", o.modelName, "version", shipped.Version, "loadDelay", o.loadDelay,
		"workers", o.workers, "maxQueue", o.maxQueue, "inferCPU", o.inferCPU, "inferSleep", o.inferSleep)
	go func() {
		start := time.Now()
		m := &oip.Model{
			Platform: "go_logistic_regression", Features: shipped.Model.Features,
			Classes: shipped.Model.Classes, Classifier: shipped.Model,
		}
		select {
		case <-time.After(o.loadDelay - time.Since(start)):
		case <-ctx.Done():
			return
		}
		srv.SetModel(m)
		log.Info("Model loaded, ready", "model", o.modelName, "heldOutAccuracy", shipped.HeldOutAccuracy,
			"after", time.Since(start).Round(time.Millisecond))
	}()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal ends the process at once
	srv.Drain()
	log.Info("Shutting down: readiness is 503 now", "drainDelay", o.drainDelay, "grace", o.shutdownGrace)
	time.Sleep(o.drainDelay)

	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownGrace)
	defer cancel()
	var firstErr error
	for _, hs := range servers {
		if err := hs.Shutdown(shutdownCtx); err != nil {
			log.Error("In-flight requests did not finish within the grace period", "err", err)
			_ = hs.Close()
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if firstErr == nil {
		log.Info("Shut down cleanly: every in-flight request was answered")
	}
	return firstErr
}

// train trains the model on the embedded data and writes it as JSON (go generate).
func train(out string, stdout io.Writer) error {
	f, err := iris.Train()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: trained on %d rows (accuracy %.3f), held-out accuracy %.3f on %d rows\n",
		out, f.TrainRows, f.TrainAccuracy, f.HeldOutAccuracy, f.HeldOutRows)
	return err
}
