//go:build e2e

// Package faults injects the faults of issue 5 into the operator and the local simulated
// cluster and checks what each one promises: operator crashes while 100 InferenceServices
// converge, a kube-apiserver outage, a lost leader, reconciles under an HPA that holds a
// replica count, and children deleted or edited by hand. It ends with a table of figures
// (faults injected, CRs converged, orphans, replica decreases and resets, leader handover
// time) and asserts every figure that must be 0.
//
// Run it with `make test-faults`, which starts a fresh cluster of its own
// (.dev-cluster-faults/), runs the operator as local processes and removes the cluster.
package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
	"github.com/inferenceops/inference-operator/test/utils"
)

var (
	projectDir  string
	kubeconfig  string
	kubectlPath string
	// clusterDir is kwokctl's folder of the cluster: pids/, logs/ and the components'
	// working directory.
	clusterDir string
	// logDir holds the manager binary and one log file per operator process name.
	logDir     string
	managerBin string

	k8sClient client.Client
	clientset kubernetes.Interface

	// replicas watches every operator-managed Deployment from before the first create
	// to the end of the suite.
	replicas *replicaTracker
	figures  = newFaultFigures()
)

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	_, _ = fmt.Fprintf(GinkgoWriter, "Starting the inference-operator fault-injection suite\n")
	RunSpecs(t, "faults suite")
}

var _ = BeforeSuite(func() {
	var err error
	projectDir, err = utils.ProjectDir()
	Expect(err).NotTo(HaveOccurred())

	kubeconfig = os.Getenv("KUBECONFIG")
	Expect(kubeconfig).NotTo(BeEmpty(), "run the suite with `make test-faults`, which starts its cluster and sets KUBECONFIG")
	kubectlPath = os.Getenv("KUBECTL")
	if kubectlPath == "" {
		kubectlPath = "kubectl"
	}
	clusters, err := filepath.Glob(filepath.Join(filepath.Dir(kubeconfig), "kwok", "clusters", "*"))
	Expect(err).NotTo(HaveOccurred())
	Expect(clusters).To(HaveLen(1), "expected exactly one kwokctl cluster beside %s", kubeconfig)
	clusterDir = clusters[0]

	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	// The suite creates 100 InferenceServices at once and polls while it does.
	restConfig.QPS, restConfig.Burst = 100, 200
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(servingv1alpha1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(restConfig, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	clientset, err = kubernetes.NewForConfig(restConfig)
	Expect(err).NotTo(HaveOccurred())

	By("installing the CRD")
	Expect(utils.InstallCRD(kubectlPath, kubeconfig, 60*time.Second)).To(Succeed())

	By("building the operator")
	logDir = filepath.Join(projectDir, "bin", "faults")
	Expect(os.RemoveAll(logDir)).To(Succeed())
	Expect(os.MkdirAll(logDir, 0o755)).To(Succeed())
	managerBin = filepath.Join(logDir, "manager")
	_, err = utils.Run(exec.Command("go", "build", "-o", managerBin, "./cmd"))
	Expect(err).NotTo(HaveOccurred())

	By("watching every operator-managed Deployment's spec.replicas for the whole suite")
	replicas = startReplicaTracker(clientset)

	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	SetDefaultConsistentlyPollingInterval(250 * time.Millisecond)
})

var _ = AfterSuite(func() {
	stopAllOperators()
	if replicas != nil {
		replicas.stop()
	}
	if !figures.printed {
		// The final spec did not run (an earlier one failed): show what was measured.
		figures.print("incomplete run")
	}
})

// On failure, print what a developer needs to see: the operators' logs, the events,
// the objects and the cluster components' logs.
var _ = ReportAfterEach(func(report SpecReport) {
	if !report.Failed() {
		return
	}
	for _, p := range allOperators() {
		if log, err := os.ReadFile(p.logPath); err == nil {
			_, _ = fmt.Fprintf(GinkgoWriter, "\n===== operator %q log %s (last 80 lines but the per-reconcile ones)\n%s\n",
				p.name, p.logPath, tail(withoutReconcileLines(string(log)), 80))
		}
	}
	if out, err := kubectl("get", "events", "-A", "--sort-by=.lastTimestamp"); err == nil {
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== events (last 100)\n%s\n", tail(out, 100))
	}
	if out, err := kubectl("get", "infsvc,deploy,hpa,lease", "-A", "-o", "wide"); err == nil {
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== objects (last 150 lines)\n%s\n", tail(out, 150))
	}
	logs, _ := filepath.Glob(filepath.Join(clusterDir, "logs", "*.log"))
	adapterLogs, _ := filepath.Glob(filepath.Join(filepath.Dir(kubeconfig), "metrics-adapter", "*.log"))
	for _, path := range append(logs, adapterLogs...) {
		if content, err := os.ReadFile(path); err == nil {
			_, _ = fmt.Fprintf(GinkgoWriter, "\n===== %s (last 40 lines)\n%s\n", path, tail(string(content), 40))
		}
	}
})
