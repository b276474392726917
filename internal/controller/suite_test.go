package controller

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/render"
	"github.com/inferenceops/inference-operator/test/utils"
)

// These tests run against a real kube-apiserver and etcd (envtest) with the controller
// running in a manager, as in production. envtest runs no built-in controllers: no pods
// appear, no garbage collection happens and no HPA acts, so the tests write Deployment
// and HPA status themselves and assert owner references instead of deletion.

var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = runtime.NewScheme()
)

func TestController(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.TODO())

	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(servingv1alpha1.AddToScheme(scheme))

	By("starting the test control plane (etcd and kube-apiserver)")
	testEnv = &envtest.Environment{
		// With KEDA's ScaledObject and the Prometheus Operator's PodMonitor CRDs (pinned
		// copies, test/crds/README.md). keda_missing_test.go runs a cluster without them.
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases"), filepath.Join("..", "..", "test", "crds")},
		ErrorIfCRDPathMissing: true,
		// Used when KUBEBUILDER_ASSETS is not set (running from an IDE): the binaries
		// that 'make test' built into bin/k8s/.
		BinaryAssetsDirectory: utils.ControlPlaneDir(),
	}
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "set KUBEBUILDER_ASSETS or run the tests with 'make test'")

	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("starting the manager with the InferenceService controller")
	// The manager's requests are counted, so tests can assert it sends no write when
	// nothing changed.
	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.Wrap(managerWrites.wrap)
	optional, err := ServedOptionalKinds(cfg)
	Expect(err).NotTo(HaveOccurred())
	Expect(optional).To(HaveLen(2))
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   CacheOptions(nil, optional...),
		Client:  ClientOptions(),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(NewInferenceServiceReconciler(mgr, render.Config{}, 2).SetupWithManager(mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()

	SetDefaultEventuallyTimeout(20 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	SetDefaultConsistentlyDuration(2 * time.Second)
	SetDefaultConsistentlyPollingInterval(100 * time.Millisecond)
})

var _ = AfterSuite(func() {
	cancel()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// newInferenceService returns a valid InferenceService with the given options applied.
func newInferenceService(namespace, name string, opts ...func(*servingv1alpha1.InferenceService)) *servingv1alpha1.InferenceService {
	isvc := &servingv1alpha1.InferenceService{
		TypeMeta:   metav1.TypeMeta{APIVersion: servingv1alpha1.GroupVersion.String(), Kind: "InferenceService"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: servingv1alpha1.InferenceServiceSpec{
			Image: "ghcr.io/example/model-server:1.0",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("500m"),
					corev1.ResourceMemory: resource.MustParse("1Gi"),
				},
				Limits: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("1"),
					corev1.ResourceMemory: resource.MustParse("1Gi"),
				},
			},
		},
	}
	for _, opt := range opts {
		opt(isvc)
	}
	return isvc
}

// newNamespace creates a fresh namespace for one test, so tests never see each other's objects.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "isvc-test-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// managerWrites counts the mutating requests the manager sends, by namespace.
var managerWrites = &writeCounter{byNamespace: map[string]int{}}

// writeCounter counts a manager's write requests by namespace and, beside them, its
// reads: GETs that are not watches, by namespace, and discovery requests (/api, /apis,
// /apis/GROUP[/VERSION]), which a RESTMapper sends when asked for a kind it does not know.
type writeCounter struct {
	mu          sync.Mutex
	byNamespace map[string]int
	reads       map[string]int
	discovery   int
}

func (c *writeCounter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		c.mu.Lock()
		switch {
		case req.Method != http.MethodGet:
			c.byNamespace[namespaceOf(req.URL.Path)]++
		case req.URL.Query().Get("watch") == "true":
		case isDiscovery(req.URL.Path):
			c.discovery++
		default:
			if c.reads == nil {
				c.reads = map[string]int{}
			}
			c.reads[namespaceOf(req.URL.Path)]++
		}
		c.mu.Unlock()
		return next.RoundTrip(req)
	})
}

// readsIn returns the number of GET requests (watches left out) sent so far for objects
// in namespace.
func (c *writeCounter) readsIn(namespace string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[namespace]
}

// discoveries returns the number of discovery requests sent so far.
func (c *writeCounter) discoveries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.discovery
}

// isDiscovery tells whether path is a discovery document: /api, /api/v1, /apis,
// /apis/GROUP or /apis/GROUP/VERSION.
func isDiscovery(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch parts[0] {
	case "api":
		return len(parts) <= 2
	case "apis":
		return len(parts) <= 3
	}
	return false
}

// in returns the number of write requests sent so far for objects in namespace.
func (c *writeCounter) in(namespace string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byNamespace[namespace]
}

// namespaceOf returns the namespace of a namespaced resource path such as
// /apis/apps/v1/namespaces/NS/deployments/NAME, or "".
func namespaceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "namespaces" {
			return parts[i+1]
		}
	}
	return ""
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// extraManager describes a manager a spec runs beside the suite's own, as a second
// operator process would: on another cluster, with other flags, or counted on its own.
type extraManager struct {
	// config is the cluster's; nil is the suite's cluster.
	config *rest.Config
	// namespaces limits the cache (and so the operator) to these; nil watches all.
	namespaces []string
	// optional are the optional kinds served on the cluster (ServedOptionalKinds).
	optional []schema.GroupVersionKind
	// wrap, if set, wraps the manager's transport (a writeCounter's wrap).
	wrap func(http.RoundTripper) http.RoundTripper
	// logger, if set, replaces the suite's logger.
	logger *logr.Logger
	// render is the builders' configuration (the manager's flags that reach them).
	render render.Config
	// reconciler, if set, changes the reconciler before it is set up.
	reconciler func(*InferenceServiceReconciler)
}

// startManager runs the manager m describes until the returned function stops it. The
// function waits until the manager has stopped, so that two never run at once, and runs
// at the end of the spec (or container) anyway.
func startManager(m extraManager) (stop func()) {
	GinkgoHelper()
	restCfg := m.config
	if restCfg == nil {
		restCfg = cfg
	}
	restCfg = rest.CopyConfig(restCfg)
	if m.wrap != nil {
		restCfg.Wrap(m.wrap)
	}
	opts := ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   CacheOptions(m.namespaces, m.optional...),
		Client:  ClientOptions(),
		// The suite's own manager runs a controller of the same name in this process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	}
	if m.logger != nil {
		opts.Logger = *m.logger
	}
	mgr, err := ctrl.NewManager(restCfg, opts)
	Expect(err).NotTo(HaveOccurred())
	r := NewInferenceServiceReconciler(mgr, m.render, 2)
	r.Namespaces = m.namespaces
	if m.reconciler != nil {
		m.reconciler(r)
	}
	Expect(r.SetupWithManager(mgr)).To(Succeed())
	mgrCtx, cancelMgr := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancelMgr(); <-done }) }
	DeferCleanup(stop)
	return stop
}

// startCluster starts a control plane of its own (etcd and kube-apiserver) with the
// operator's CRD and those of crdDirs (paths from the repository's root), for a spec
// whose cluster must differ from the suite's or must not see the suite's manager. It is
// stopped at the end of the spec (or container).
func startCluster(crdDirs ...string) (*envtest.Environment, client.Client) {
	GinkgoHelper()
	paths := make([]string, 0, 1+len(crdDirs))
	paths = append(paths, filepath.Join("..", "..", "config", "crd", "bases"))
	for _, dir := range crdDirs {
		paths = append(paths, filepath.Join("..", "..", dir))
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     paths,
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: utils.ControlPlaneDir(),
	}
	_, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return env, c
}
