//go:build realnode

// Package realnode is the end-to-end suite on the REAL local node (hack/real-node.sh): real
// containers, probes, cgroups, kube-proxy and metrics-server. The operator runs as users
// install it, a pod installed by `helm install` of dist/chart from its own image, and the
// workload is the repository's real model server (examples/model-server).
//
// Run it with `make test-e2e-real` (hack/test-real-e2e.sh), which builds the images,
// starts the node, runs this suite's test binary inside the node's network and mount
// namespaces (hack/real-node.sh exec), and always takes the node down and checks that
// nothing is left.
package realnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/inferenceops/inference-operator/test/framework"
	"github.com/inferenceops/inference-operator/test/utils"
)

const (
	operatorNamespace = "inference-operator-system"
	appNamespace      = "realnode-e2e"
)

var (
	projectDir string
	cluster    *framework.Cluster
	node       *framework.RealNode
	release    *framework.OperatorRelease
	// modelImage and rolloutImage are two tags of the model server's image, both on the node.
	modelImage, rolloutImage string
)

func TestRealNode(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "real-node suite")
}

// env reads a variable the make target sets.
func env(name string) string {
	v := os.Getenv(name)
	Expect(v).NotTo(BeEmpty(), "%s is not set: run the suite with `make test-e2e-real`", name)
	return v
}

var _ = BeforeSuite(func() {
	var err error
	projectDir, err = utils.ProjectDir()
	Expect(err).NotTo(HaveOccurred())
	cluster, err = framework.ClusterFromEnv("`make test-e2e-real`", framework.ClusterOptions{QPS: 50, Burst: 100})
	Expect(err).NotTo(HaveOccurred())
	node = &framework.RealNode{Script: filepath.Join(projectDir, "hack", "real-node.sh")}
	modelImage, rolloutImage = env("REALNODE_MODEL_IMAGE"), env("REALNODE_MODEL_IMAGE_ROLLOUT")

	SetDefaultEventuallyTimeout(3 * time.Minute)
	SetDefaultEventuallyPollingInterval(time.Second)

	By("namespaces: the operator's enforcing Pod Security restricted, the models' baseline")
	for name, level := range map[string]string{operatorNamespace: "restricted", appNamespace: "baseline"} {
		Expect(cluster.Client.Create(ctx(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": level}}})).To(Succeed())
	}

	By("helm install of dist/chart with the operator's image " + env("REALNODE_OPERATOR_IMAGE"))
	release = &framework.OperatorRelease{
		Cluster: cluster, Helm: filepath.Join(projectDir, "bin", "helm"), Chart: filepath.Join(projectDir, "dist", "chart"),
		Release: "inference-operator", Namespace: operatorNamespace, Image: env("REALNODE_OPERATOR_IMAGE"),
		HelmHome: filepath.Join(projectDir, "bin", "realnode", "helm"),
		// The Prometheus of hack/autoscaling-stack.sh, which the script starts in the node.
		Set: []string{"prometheusAddress=" + prometheusURL},
	}
	start := time.Now()
	Expect(release.Install()).To(Succeed())
	pod, err := release.ManagerPod(ctx())
	Expect(err).NotTo(HaveOccurred())
	Expect(podReady(pod)).To(BeTrue(), "helm install --wait returned before the manager pod was Ready")
	report("operator installed by helm and Ready in %.1fs: pod %s, image %s", time.Since(start).Seconds(), pod.Name, pod.Spec.Containers[0].Image)
})

var _ = AfterSuite(func() {
	if release != nil {
		// The node is taken down after the suite anyway; this shows the chart uninstalls.
		Expect(release.Uninstall()).To(Succeed())
	}
})

var _ = framework.DumpOnFailure(func() *framework.Dump {
	if cluster == nil {
		return nil
	}
	stateDir := os.Getenv("REAL_NODE_DIR")
	if stateDir == "" {
		stateDir = filepath.Join(projectDir, ".real-node")
	}
	d := &framework.Dump{Cluster: cluster, Objects: "infsvc,deploy,rs,hpa,pods,endpointslices",
		EventLines: 80, ObjectLines: 120, OperatorLines: 80, ComponentLines: 30,
		LogGlobs: []string{filepath.Join(stateDir, "logs", "*.log")}}
	if release != nil {
		d.Releases = []*framework.OperatorRelease{release}
	}
	return d
})

func ctx() context.Context { return context.Background() }

// report prints a figure of the suite, on the console as well as in Ginkgo's log.
func report(format string, args ...any) {
	line := fmt.Sprintf("FIGURE: "+format, args...)
	_, _ = fmt.Fprintln(GinkgoWriter, line)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
