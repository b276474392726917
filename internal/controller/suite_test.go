package controller

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
