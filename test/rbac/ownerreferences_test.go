package rbac

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/internal/controller"
	"github.com/inferenceops/inference-operator/internal/render"
	"github.com/inferenceops/inference-operator/test/utils"
)

// operatorUser is who the manager runs as in this test: the ServiceAccount of the shipped
// installation, holding nothing but the generated ClusterRole.
const operatorUser = "system:serviceaccount:inference-operator-system:inference-operator-controller-manager"

// OpenShift, and any cluster with the OwnerReferencesPermissionEnforcement admission
// plugin, lets a client set blockOwnerDeletion on an owner reference only when it may
// update the owner's finalizers. The operator, running with its generated ClusterRole
// only, must still create every child there.
func TestChildrenAreCreatedWithOwnerReferencesPermissionEnforcement(t *testing.T) {
	g := NewWithT(t)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: utils.ControlPlaneDir(),
	}
	env.ControlPlane.GetAPIServer().Configure().Append("enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred(), "set KUBEBUILDER_ASSETS or run the tests with 'make test'")
	t.Cleanup(func() { _ = env.Stop() })

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(servingv1alpha1.AddToScheme(scheme))
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{}
	g.Expect(yaml.Unmarshal(raw, role)).To(Succeed())
	g.Expect(admin.Create(ctx, role)).To(Succeed())
	g.Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "inference-operator-manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: operatorUser}},
	})).To(Succeed())

	operatorCfg := rest.CopyConfig(cfg)
	operatorCfg.Impersonate = rest.ImpersonationConfig{UserName: operatorUser, Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	mgr, err := ctrl.NewManager(operatorCfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   controller.CacheOptions(nil),
		Client:  controller.ClientOptions(),
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(controller.NewInferenceServiceReconciler(mgr, render.Config{}, 1).SetupWithManager(mgr)).To(Succeed())
	go func() { _ = mgr.Start(ctx) }()

	isvc := &servingv1alpha1.InferenceService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "guarded"},
		Spec: servingv1alpha1.InferenceServiceSpec{
			Image: "ghcr.io/example/model-server:1.0",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
		},
	}
	g.Expect(admin.Create(ctx, isvc)).To(Succeed())

	g.Eventually(func(g Gomega) {
		dep := &appsv1.Deployment{}
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(isvc), dep)).To(Succeed())
		g.Expect(dep.OwnerReferences).To(ConsistOf(HaveField("BlockOwnerDeletion", HaveValue(BeTrue()))))
		g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(isvc), &corev1.Service{})).To(Succeed())
	}).WithTimeout(30*time.Second).Should(Succeed(), func() string {
		current := &servingv1alpha1.InferenceService{}
		_ = admin.Get(ctx, client.ObjectKeyFromObject(isvc), current)
		if c := meta.FindStatusCondition(current.Status.Conditions, servingv1alpha1.ConditionReady); c != nil {
			return "Ready: " + c.Reason + ": " + c.Message
		}
		return "no Ready condition"
	})
}
