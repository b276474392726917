// Command manager runs the inference-operator: the InferenceService controller.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"strings"
	"time"

	// Import all Kubernetes client auth plugins (e.g. Azure, GCP, OIDC, etc.)
	// to ensure that exec-entrypoint and run can make use of them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/controller"
	"github.com/inferenceops/inference-operator/internal/metrics"
	"github.com/inferenceops/inference-operator/internal/metricsauth"
	"github.com/inferenceops/inference-operator/internal/render"
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(servingv1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr             string
		probeAddr               string
		pprofAddr               string
		secureMetrics           bool
		enableHTTP2             bool
		enableLeaderElection    bool
		leaderElectionNamespace string
		watchNamespaces         string
		kubeAPIQPS              float64
		kubeAPIBurst            int
		maxConcurrentReconciles int
		clusterDomain           string
		prometheusAddress       string
		watchPods               bool
		metricStatusInterval    time.Duration
		defaultPodMonitor       bool
		leaseDuration           time.Duration
		renewDeadline           time.Duration
		retryPeriod             time.Duration
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS to authenticated and authorized callers only. Use --metrics-secure=false for HTTP.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081",
		"The address the health and readiness probe endpoint binds to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0",
		"The address the Go profiling endpoint (/debug/pprof) binds to, e.g. 127.0.0.1:6060. 0 disables it.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Enable HTTP/2 for the metrics server. Off by default: HTTP/2 Stream Cancellation and Rapid Reset CVEs.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Enable leader election, so that only one of several manager replicas reconciles at a time.")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "",
		"Namespace of the leader election Lease. Default: the namespace the manager runs in.")
	flag.DurationVar(&leaseDuration, "leader-election-lease-duration", 15*time.Second,
		"How long a leader's lease is valid.")
	flag.DurationVar(&renewDeadline, "leader-election-renew-deadline", 10*time.Second,
		"How long the leader tries to renew before giving up.")
	flag.DurationVar(&retryPeriod, "leader-election-retry-period", 2*time.Second,
		"How often candidates try to acquire leadership.")
	flag.StringVar(&watchNamespaces, "watch-namespaces", "",
		"Comma-separated namespaces to watch. Empty watches the whole cluster.")
	flag.Float64Var(&kubeAPIQPS, "kube-api-qps", 50, "Queries per second the manager may send to the API server "+
		"for each kind of object (controller-runtime gives every kind its own client and limit). "+
		"0 or less turns the client-side limit off and leaves the API server's Priority and Fairness to pace the manager.")
	flag.IntVar(&kubeAPIBurst, "kube-api-burst", 100, "Burst of queries above --kube-api-qps, for each kind of object.")
	flag.IntVar(&maxConcurrentReconciles, "max-concurrent-reconciles", 4, "InferenceServices reconciled in parallel.")
	flag.StringVar(&clusterDomain, "cluster-domain", render.DefaultClusterDomain,
		"The cluster's DNS domain (the kubelet's --cluster-domain), used in the in-cluster URL of status.url.")
	flag.StringVar(&prometheusAddress, "prometheus-address", render.DefaultPrometheusAddress,
		"The Prometheus that KEDA's prometheus triggers query for spec.autoscaling.signals "+
			"(the ScaledObject's serverAddress), as KEDA's operator reaches it.")
	flag.BoolVar(&defaultPodMonitor, "default-pod-monitor", false,
		"Render a Prometheus Operator PodMonitor for every InferenceService that leaves spec.monitoring.podMonitor.enabled "+
			"out, when the monitoring.coreos.com CRDs are installed. enabled: false still turns it off.")
	flag.BoolVar(&watchPods, "watch-pods", true, "Watch the pods of managed InferenceServices (label-selected and "+
		"trimmed in the cache) to report PodsSchedulable and to let spec.rollout.policy Auto see a surge pod that waits "+
		"for a GPU. false: no pod informer and no pod reads (the ClusterRole's pod rule may then go); "+
		"PodsSchedulable is not reported and Auto rolls out as Surge.")
	flag.DurationVar(&metricStatusInterval, "metric-status-interval", time.Minute, "The shortest time between two "+
		"status writes of one InferenceService that change only its autoscaler's metric values (status.currentMetrics, "+
		"status.targets, status.scaling.limitingMetric and limitingRatio). Conditions, replica counts and scale events "+
		"are written at once. 0 writes every change.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsServerOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if secureMetrics {
		// Only callers that authenticate and are authorized for GET /metrics
		// (the metrics-reader ClusterRole) can read the metrics.
		metricsServerOptions.FilterProvider = metricsauth.WithAuthenticationAndAuthorization
	}

	restConfig := ctrl.GetConfigOrDie()
	restConfig.QPS = float32(kubeAPIQPS)
	restConfig.Burst = kubeAPIBurst
	if kubeAPIQPS <= 0 {
		restConfig.QPS = -1 // client-go would read 0 as its default of 5
	}

	optionalKinds, err := controller.ServedOptionalKinds(restConfig)
	if err != nil {
		setupLog.Error(err, "Unable to look up the optional child kinds (KEDA ScaledObject, PodMonitor)")
		os.Exit(1)
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsServerOptions,
		HealthProbeBindAddress:        probeAddr,
		PprofBindAddress:              pprofAddr,
		LeaderElection:                enableLeaderElection,
		LeaderElectionID:              "inference-operator.serving.inferenceops.dev",
		LeaderElectionNamespace:       leaderElectionNamespace,
		LeaseDuration:                 &leaseDuration,
		RenewDeadline:                 &renewDeadline,
		RetryPeriod:                   &retryPeriod,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controller.CacheOptions(splitNamespaces(watchNamespaces), optionalKinds...),
		Client:                        controller.ClientOptions(),
	})
	if err != nil {
		setupLog.Error(err, "Unable to create the manager")
		os.Exit(1)
	}

	renderConfig := render.Config{ClusterDomain: clusterDomain, PrometheusAddress: prometheusAddress,
		DefaultPodMonitor: defaultPodMonitor}
	reconciler := controller.NewInferenceServiceReconciler(mgr, renderConfig, maxConcurrentReconciles)
	reconciler.Metrics = metrics.NewRecorder(nil)
	reconciler.NoPodWatch = !watchPods
	reconciler.Namespaces = splitNamespaces(watchNamespaces)
	reconciler.MetricStatusInterval = metricStatusInterval
	ctrlmetrics.Registry.MustRegister(reconciler.Metrics)
	if err := reconciler.SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Unable to create the controller", "controller", "InferenceService")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up the ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting the manager", "watchNamespaces", watchNamespaces, "qps", kubeAPIQPS,
		"burst", kubeAPIBurst, "maxConcurrentReconciles", maxConcurrentReconciles, "clusterDomain", clusterDomain,
		"prometheusAddress", prometheusAddress, "defaultPodMonitor", defaultPodMonitor, "watchPods", watchPods,
		"metricStatusInterval", metricStatusInterval)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Problem running the manager")
		os.Exit(1)
	}
}

// splitNamespaces parses the --watch-namespaces flag.
func splitNamespaces(s string) []string {
	var out []string
	for _, ns := range strings.Split(s, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			out = append(out, ns)
		}
	}
	return out
}
