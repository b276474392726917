//go:build e2e

// Package e2e runs the operator as a process against the local simulated cluster
// (make dev-cluster): real kube-apiserver, kube-controller-manager (Deployment,
// ReplicaSet, endpoint, garbage-collector and HPA controllers), kube-scheduler, kwok's
// fake nodes and pods, metrics-server and a custom/external metrics adapter. The cluster
// handle, the operator process and the failure dump are test/framework's.
//
// Run it with `make test-e2e`, which starts a fresh cluster and removes it afterwards.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/inferenceops/inference-operator/test/framework"
	"github.com/inferenceops/inference-operator/test/utils"
)

var (
	projectDir  string
	cluster     *framework.Cluster
	kubeconfig  string
	kubectlPath string
	k8sClient   client.Client
	operator    *framework.OperatorProcess
	// apiProxy stands between the operator and the API server and records every request
	// the operator sends; nothing else uses it.
	apiProxy *utils.APIProxy
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	_, _ = fmt.Fprintf(GinkgoWriter, "Starting the inference-operator end-to-end suite\n")
	RunSpecs(t, "e2e suite")
}

var _ = BeforeSuite(func() {
	var err error
	projectDir, err = utils.ProjectDir()
	Expect(err).NotTo(HaveOccurred())
	cluster, err = framework.ClusterFromEnv("`make test-e2e`", framework.ClusterOptions{})
	Expect(err).NotTo(HaveOccurred())
	kubeconfig, kubectlPath, k8sClient = cluster.Kubeconfig, cluster.KubectlPath, cluster.Client

	By("installing the CRD")
	Expect(cluster.InstallCRD(30 * time.Second)).To(Succeed())

	By("building and starting the operator as a process, talking to the API server through a recording proxy")
	dir := filepath.Join(projectDir, "bin", "e2e")
	managerBin, err := framework.BuildManager(dir)
	Expect(err).NotTo(HaveOccurred())
	apiProxy, err = utils.StartAPIProxy(cluster.RestConfig)
	Expect(err).NotTo(HaveOccurred())
	operatorKubeconfig := filepath.Join(dir, "operator.kubeconfig")
	Expect(apiProxy.WriteKubeconfig(operatorKubeconfig)).To(Succeed())
	operator = framework.NewOperatorProcess(&framework.OperatorProcess{Name: "e2e", Binary: managerBin,
		Kubeconfig: operatorKubeconfig, LogPath: filepath.Join(dir, "manager.log")})
	Expect(os.Remove(operator.LogPath)).To(Or(Succeed(), MatchError(os.ErrNotExist)))
	operator.Start()

	SetDefaultEventuallyTimeout(3 * time.Minute)
	SetDefaultEventuallyPollingInterval(time.Second)
})

var _ = AfterSuite(func() {
	framework.StopAllOperators()
	if apiProxy != nil {
		Expect(apiProxy.Close()).To(Succeed())
	}
})

// On failure, print what a developer needs to see: the operator's log, the events, the
// objects and the cluster components' logs.
var _ = framework.DumpOnFailure(func() *framework.Dump {
	if cluster == nil {
		return nil
	}
	return &framework.Dump{Cluster: cluster, Objects: "infsvc,deploy,hpa,pods",
		OperatorLines: 200, EventLines: 100, ComponentLines: 40,
		LogGlobs: []string{
			filepath.Join(filepath.Dir(kubeconfig), "kwok", "clusters", "*", "logs", "*.log"),
			filepath.Join(filepath.Dir(kubeconfig), "metrics-adapter", "*.log"),
		}}
})

func ctx() context.Context { return context.Background() }

func kubectl(args ...string) (string, error) { return cluster.Kubectl(args...) }

func tail(s string, lines int) string { return utils.Tail(s, lines) }
