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
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/inferenceops/inference-operator/test/framework"
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

	kube      *framework.Cluster
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

	// The suite creates 100 InferenceServices at once and polls while it does.
	kube, err = framework.ClusterFromEnv("`make test-faults`", framework.ClusterOptions{QPS: 100, Burst: 200})
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, kubectlPath = kube.Kubeconfig, kube.KubectlPath
	k8sClient, clientset = kube.Client, kube.Clientset
	clusters, err := filepath.Glob(filepath.Join(filepath.Dir(kubeconfig), "kwok", "clusters", "*"))
	Expect(err).NotTo(HaveOccurred())
	Expect(clusters).To(HaveLen(1), "expected exactly one kwokctl cluster beside %s", kubeconfig)
	clusterDir = clusters[0]

	By("installing the CRD")
	Expect(kube.InstallCRD(60 * time.Second)).To(Succeed())

	By("building the operator")
	logDir = filepath.Join(projectDir, "bin", "faults")
	Expect(os.RemoveAll(logDir)).To(Succeed())
	Expect(os.MkdirAll(logDir, 0o755)).To(Succeed())
	managerBin, err = framework.BuildManager(logDir)
	Expect(err).NotTo(HaveOccurred())

	By("watching every operator-managed Deployment's spec.replicas for the whole suite")
	replicas = startReplicaTracker(clientset)

	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	SetDefaultConsistentlyPollingInterval(250 * time.Millisecond)
})

var _ = AfterSuite(func() {
	framework.StopAllOperators()
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
var _ = framework.DumpOnFailure(func() *framework.Dump {
	if kube == nil {
		return nil
	}
	return &framework.Dump{Cluster: kube, Objects: "infsvc,deploy,hpa,lease",
		OperatorLines: 80, EventLines: 100, ObjectLines: 150, ComponentLines: 40,
		LogGlobs: []string{
			filepath.Join(clusterDir, "logs", "*.log"),
			filepath.Join(filepath.Dir(kubeconfig), "metrics-adapter", "*.log"),
		}}
})
