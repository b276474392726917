// Package framework is the one harness of every suite that needs a cluster (test/e2e and
// test/faults on the simulated cluster, test/realnode on the real node): a handle on the
// cluster (kubeconfig, kubectl, controller-runtime and client-go clients), the operator as
// a local process or as a pod installed by Helm, waiting on conditions, and a dump of logs,
// events and objects when a spec fails.
package framework

import (
	"fmt"
	"os"
	"os/exec"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/test/utils"
)

// Cluster is a handle on the cluster a suite runs against.
type Cluster struct {
	// Kubeconfig is the cluster's own kubeconfig file (never the user's).
	Kubeconfig string
	// KubectlPath is the kubectl binary the suite runs.
	KubectlPath string
	RestConfig  *rest.Config
	Client      client.Client
	Clientset   kubernetes.Interface
	Scheme      *runtime.Scheme
}

// ClusterOptions tune the clients of a Cluster.
type ClusterOptions struct {
	// QPS and Burst of the suite's own clients; client-go's defaults (5/10) when 0.
	QPS   float32
	Burst int
}

// ClusterFromEnv opens the cluster of $KUBECONFIG with the kubectl of $KUBECTL (kubectl on
// PATH when unset). The make target that runs a suite sets both; hint says which one.
func ClusterFromEnv(hint string, opts ClusterOptions) (*Cluster, error) {
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		return nil, fmt.Errorf("KUBECONFIG is not set: run the suite with %s, which starts its cluster and sets it", hint)
	}
	kubectl := os.Getenv("KUBECTL")
	if kubectl == "" {
		kubectl = "kubectl"
	}
	return NewCluster(kubeconfig, kubectl, opts)
}

// NewCluster opens the cluster of a kubeconfig file.
func NewCluster(kubeconfig, kubectlPath string, opts ClusterOptions) (*Cluster, error) {
	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	if opts.QPS > 0 {
		restConfig.QPS = opts.QPS
	}
	if opts.Burst > 0 {
		restConfig.Burst = opts.Burst
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := servingv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	return &Cluster{Kubeconfig: kubeconfig, KubectlPath: kubectlPath, RestConfig: restConfig,
		Client: c, Clientset: cs, Scheme: scheme}, nil
}

// Kubectl runs kubectl against the cluster from the repository root and returns its
// standard output (standard error too in the error).
func (c *Cluster) Kubectl(args ...string) (string, error) {
	return utils.Kubectl(c.KubectlPath, c.Kubeconfig, args...)
}

// Command is an exec.Cmd run from the repository root with the cluster's KUBECONFIG.
func (c *Cluster) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	return cmd
}

// InstallCRD applies the InferenceService CRD and waits until it is Established.
func (c *Cluster) InstallCRD(waitTimeout time.Duration) error {
	return utils.InstallCRD(c.KubectlPath, c.Kubeconfig, waitTimeout)
}
