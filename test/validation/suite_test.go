// Package validation checks what the API server itself accepts and refuses for an
// InferenceService, through the CRD's OpenAPI schema and CEL rules, before any operator
// code runs. It needs only etcd and kube-apiserver (envtest).
package validation

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/controller"
	"github.com/inferenceops/inference-operator/internal/render"
	"github.com/inferenceops/inference-operator/test/utils"
)

var (
	ctx, cancel = context.WithCancel(context.Background())
	testEnv     *envtest.Environment
	k8sClient   client.Client
)

func TestValidation(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "InferenceService Validation Suite")
}

var _ = BeforeSuite(func() {
	By("starting etcd and kube-apiserver with the InferenceService CRD")
	testEnv = &envtest.Environment{
		// KEDA's ScaledObject and the Prometheus Operator's PodMonitor CRDs too (pinned
		// copies, test/crds), so that those children are checked against their real schemas.
		CRDDirectoryPaths:     []string{crdDirectory(), filepath.Join("..", "crds")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: utils.ControlPlaneDir(),
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "set KUBEBUILDER_ASSETS or run the tests with 'make test'")
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(servingv1alpha1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("starting the operator, so that accepted manifests are also reconciled")
	optional, err := controller.ServedOptionalKinds(cfg)
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   controller.CacheOptions(nil, optional...),
		Client:  controller.ClientOptions(),
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controller.NewInferenceServiceReconciler(mgr, render.Config{}, 4).SetupWithManager(mgr)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

// crdDirectory is config/crd/bases, or the folder VALIDATION_CRD_DIR names: the suite run
// against an older CRD shows which cases that CRD still admits.
func crdDirectory() string {
	if dir := os.Getenv("VALIDATION_CRD_DIR"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "config", "crd", "bases")
}

var _ = AfterSuite(func() {
	reportFigures()
	cancel()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})
