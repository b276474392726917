//go:build e2e

// Package e2e runs the operator as a process against the local simulated cluster
// (make dev-cluster): real kube-apiserver, kube-controller-manager (Deployment,
// ReplicaSet, endpoint, garbage-collector and HPA controllers), kube-scheduler, kwok's
// fake nodes and pods, metrics-server and a custom/external metrics adapter.
//
// Run it with `make test-e2e`, which starts a fresh cluster and removes it afterwards.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
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
	k8sClient   client.Client
	operator    *operatorProcess
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

	kubeconfig = os.Getenv("KUBECONFIG")
	Expect(kubeconfig).NotTo(BeEmpty(), "run the suite with `make test-e2e`, which starts the cluster and sets KUBECONFIG")
	kubectlPath = os.Getenv("KUBECTL")
	if kubectlPath == "" {
		kubectlPath = "kubectl"
	}

	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(servingv1alpha1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(restConfig, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("installing the CRD")
	Expect(utils.InstallCRD(kubectlPath, kubeconfig, 30*time.Second)).To(Succeed())

	By("building and starting the operator as a process, talking to the API server through a recording proxy")
	managerBin := filepath.Join(projectDir, "bin", "e2e", "manager")
	_, err = utils.Run(exec.Command("go", "build", "-o", managerBin, "./cmd"))
	Expect(err).NotTo(HaveOccurred())
	apiProxy, err = utils.StartAPIProxy(restConfig)
	Expect(err).NotTo(HaveOccurred())
	operatorKubeconfig := filepath.Join(projectDir, "bin", "e2e", "operator.kubeconfig")
	Expect(apiProxy.WriteKubeconfig(operatorKubeconfig)).To(Succeed())
	operator = &operatorProcess{binary: managerBin, kubeconfig: operatorKubeconfig,
		logPath: filepath.Join(projectDir, "bin", "e2e", "manager.log")}
	Expect(os.Remove(operator.logPath)).To(Or(Succeed(), MatchError(os.ErrNotExist)))
	operator.start()

	SetDefaultEventuallyTimeout(3 * time.Minute)
	SetDefaultEventuallyPollingInterval(time.Second)
})

var _ = AfterSuite(func() {
	if operator != nil {
		operator.stop()
	}
	if apiProxy != nil {
		Expect(apiProxy.Close()).To(Succeed())
	}
})

// On failure, print what a developer needs to see: the operator's log, the events and
// the cluster components' logs.
var _ = ReportAfterEach(func(report SpecReport) {
	if !report.Failed() {
		return
	}
	if operator != nil {
		if log, err := os.ReadFile(operator.logPath); err == nil {
			_, _ = fmt.Fprintf(GinkgoWriter, "\n===== operator log (last 200 lines but the per-reconcile ones)\n%s\n",
				tail(utils.WithoutReconcileLines(string(log)), 200))
		}
	}
	if out, err := kubectl("get", "events", "-A", "--sort-by=.lastTimestamp"); err == nil {
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== events\n%s\n", tail(out, 100))
	}
	if out, err := kubectl("get", "infsvc,deploy,hpa,pods", "-A", "-o", "wide"); err == nil {
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== objects\n%s\n", out)
	}
	logs, _ := filepath.Glob(filepath.Join(filepath.Dir(kubeconfig), "kwok", "clusters", "*", "logs", "*.log"))
	adapterLogs, _ := filepath.Glob(filepath.Join(filepath.Dir(kubeconfig), "metrics-adapter", "*.log"))
	for _, path := range append(logs, adapterLogs...) {
		if content, err := os.ReadFile(path); err == nil {
			_, _ = fmt.Fprintf(GinkgoWriter, "\n===== %s (last 40 lines)\n%s\n", path, tail(string(content), 40))
		}
	}
})

// operatorProcess is the manager binary running on the host against the cluster, through
// the recording proxy (kubeconfig). Every start appends to the same log.
type operatorProcess struct {
	binary     string
	kubeconfig string
	logPath    string
	cmd        *exec.Cmd
	exited     chan struct{}
}

// start runs the operator with log level 5, at which controller-runtime logs every
// reconcile with the object's namespace and name (utils.LogReconcileSuccessful).
func (p *operatorProcess) start() {
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	Expect(err).NotTo(HaveOccurred())
	p.cmd = exec.Command(p.binary,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=0",
		"--zap-log-level=5",
	)
	p.cmd.Env = append(os.Environ(), "KUBECONFIG="+p.kubeconfig)
	p.cmd.Stdout = log
	p.cmd.Stderr = log
	Expect(p.cmd.Start()).To(Succeed())
	exited := make(chan struct{})
	go func(cmd *exec.Cmd) {
		_ = cmd.Wait()
		_ = log.Close()
		close(exited)
	}(p.cmd)
	p.exited = exited
	_, _ = fmt.Fprintf(GinkgoWriter, "operator started, pid %d, log %s\n", p.cmd.Process.Pid, p.logPath)
}

// running tells whether the process started last is still alive.
func (p *operatorProcess) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill ends the operator with SIGKILL, as a crash or an OOM kill would.
func (p *operatorProcess) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

func (p *operatorProcess) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		p.cmd = nil
	case <-time.After(15 * time.Second):
		p.kill()
	}
}

// logSize is the current length of the log, to read what a later start writes.
func (p *operatorProcess) logSize() int64 {
	info, err := os.Stat(p.logPath)
	if err != nil {
		return 0
	}
	return info.Size()
}

// logSince returns the log written after it had the length from.
func (p *operatorProcess) logSince(from int64) string {
	content, err := os.ReadFile(p.logPath)
	if err != nil || from > int64(len(content)) {
		return ""
	}
	return string(content[from:])
}

func ctx() context.Context { return context.Background() }

func kubectl(args ...string) (string, error) { return utils.Kubectl(kubectlPath, kubeconfig, args...) }

func tail(s string, lines int) string { return utils.Tail(s, lines) }
