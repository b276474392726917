//go:build e2e

package faults

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/inferenceops/inference-operator/api/v1alpha1"
)

// labelInferenceService is on every child of an InferenceService and on its pods; its
// value is the InferenceService's name.
const labelInferenceService = "serving.inferenceops.dev/inferenceservice"

func ctx() context.Context { return context.Background() }

var (
	namespacesMu   sync.Mutex
	testNamespaces []string
)

// createNamespace creates a namespace for one scenario; the final figures look for
// orphans in every one of them.
func createNamespace(prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "faults-" + prefix + "-"}}
	ExpectWithOffset(1, k8sClient.Create(ctx(), ns)).To(Succeed())
	namespacesMu.Lock()
	defer namespacesMu.Unlock()
	testNamespaces = append(testNamespaces, ns.Name)
	return ns.Name
}

// newISVC returns a small InferenceService (10m CPU, 16Mi), so that hundreds of pods
// fit on the three fake nodes; autoscaled (1 to 10 on CPU) unless an option says
// otherwise.
func newISVC(namespace, name string, opts ...func(*servingv1alpha1.InferenceService)) *servingv1alpha1.InferenceService {
	isvc := &servingv1alpha1.InferenceService{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: servingv1alpha1.InferenceServiceSpec{
			Image: "ghcr.io/example/model-server:1.0",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			},
			Autoscaling: &servingv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 10},
		},
	}
	for _, opt := range opts {
		opt(isvc)
	}
	return isvc
}

// withReplicas fixes the replica count: no HPA, the operator owns spec.replicas.
func withReplicas(n int32) func(*servingv1alpha1.InferenceService) {
	return func(i *servingv1alpha1.InferenceService) {
		i.Spec.Autoscaling = nil
		i.Spec.Replicas = &n
	}
}

func withPodAnnotations(annotations map[string]string) func(*servingv1alpha1.InferenceService) {
	return func(i *servingv1alpha1.InferenceService) { i.Spec.PodAnnotations = annotations }
}

// createISVCs creates count InferenceServices named svc-000... in namespace with four
// concurrent writers; every fixedEvery-th has a fixed count of 2, the others autoscale.
func createISVCs(namespace string, count, fixedEvery int) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				isvc := newISVC(namespace, isvcName(i))
				if i%fixedEvery == 0 {
					withReplicas(2)(isvc)
				}
				if err := k8sClient.Create(ctx(), isvc); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("creating %s: %w", isvc.Name, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

func isvcName(i int) string { return fmt.Sprintf("svc-%03d", i) }

// isConverged tells whether the InferenceService is Ready for its current generation.
func isConverged(isvc *servingv1alpha1.InferenceService) bool {
	return isvc.Status.ObservedGeneration == isvc.Generation &&
		meta.IsStatusConditionTrue(isvc.Status.Conditions, servingv1alpha1.ConditionReady)
}

// convergedCount returns how many InferenceServices in namespace ("" for all) are
// converged, and how many there are.
func convergedCount(g Gomega, namespace string) (converged, total int) {
	list := &servingv1alpha1.InferenceServiceList{}
	g.Expect(k8sClient.List(ctx(), list, client.InNamespace(namespace))).To(Succeed())
	for i := range list.Items {
		if isConverged(&list.Items[i]) {
			converged++
		}
	}
	return converged, len(list.Items)
}

func getISVC(g Gomega, namespace, name string) *servingv1alpha1.InferenceService {
	isvc := &servingv1alpha1.InferenceService{}
	g.ExpectWithOffset(1, k8sClient.Get(ctx(), client.ObjectKey{Namespace: namespace, Name: name}, isvc)).To(Succeed())
	return isvc
}

// livePods returns the UIDs of the pods of an InferenceService that are not being
// deleted, sorted by name.
func livePods(g Gomega, namespace, name string) map[string]types.UID {
	pods := &corev1.PodList{}
	g.ExpectWithOffset(1, k8sClient.List(ctx(), pods, client.InNamespace(namespace),
		client.MatchingLabels{labelInferenceService: name})).To(Succeed())
	out := map[string]types.UID{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = p.UID
		}
	}
	return out
}

// orphansIn lists the objects in namespace whose controller is missing: Deployments,
// Services, HPAs and PDBs must be controlled by an existing InferenceService (matched by
// UID), ReplicaSets by an existing Deployment and pods by an existing ReplicaSet. Objects
// already being deleted are not counted.
func orphansIn(g Gomega, namespace string) []string {
	uids := func(list client.ObjectList) map[types.UID]bool {
		g.ExpectWithOffset(2, k8sClient.List(ctx(), list, client.InNamespace(namespace))).To(Succeed())
		out := map[types.UID]bool{}
		items, err := meta.ExtractList(list)
		g.ExpectWithOffset(2, err).NotTo(HaveOccurred())
		for _, item := range items {
			out[item.(client.Object).GetUID()] = true
		}
		return out
	}
	var orphans []string
	check := func(list client.ObjectList, ownerKind string, owners map[types.UID]bool) {
		g.ExpectWithOffset(2, k8sClient.List(ctx(), list, client.InNamespace(namespace))).To(Succeed())
		items, err := meta.ExtractList(list)
		g.ExpectWithOffset(2, err).NotTo(HaveOccurred())
		for _, item := range items {
			obj := item.(client.Object)
			if obj.GetDeletionTimestamp() != nil {
				// Being deleted (a pod finishing its grace period after its ReplicaSet was
				// cleaned up): on its way out, not left behind.
				continue
			}
			ref := metav1.GetControllerOf(obj)
			if ref == nil || ref.Kind != ownerKind || !owners[ref.UID] {
				orphans = append(orphans, fmt.Sprintf("%T %s/%s (controller %v)", obj, namespace, obj.GetName(), ref))
			}
		}
	}
	isvcs := uids(&servingv1alpha1.InferenceServiceList{})
	deployments := uids(&appsv1.DeploymentList{})
	replicaSets := uids(&appsv1.ReplicaSetList{})
	check(&appsv1.DeploymentList{}, "InferenceService", isvcs)
	check(&corev1.ServiceList{}, "InferenceService", isvcs)
	check(&autoscalingv2.HorizontalPodAutoscalerList{}, "InferenceService", isvcs)
	check(&policyv1.PodDisruptionBudgetList{}, "InferenceService", isvcs)
	check(&appsv1.ReplicaSetList{}, "Deployment", deployments)
	check(&corev1.PodList{}, "ReplicaSet", replicaSets)
	return orphans
}

// apiserverReady asks the API server's /readyz.
func apiserverReady() error {
	c, cancel := context.WithTimeout(ctx(), 2*time.Second)
	defer cancel()
	_, err := clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(c)
	return err
}

// component is a cluster process that kwokctl (or hack/dev-cluster.sh, for the metrics
// adapter) started: its pid file, log file, command line, working directory and
// environment, read from /proc while it runs, so that the suite can start it again the
// way it was started, as a kubelet restarts a static pod.
type component struct {
	name             string
	pidFile, logFile string
	pid              int
	argv, env        []string
	dir              string
}

// readComponents reads every running component of the cluster.
func readComponents() map[string]*component {
	out := map[string]*component{}
	pidFiles, err := filepath.Glob(filepath.Join(clusterDir, "pids", "*.pid"))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for _, pidFile := range pidFiles {
		name := strings.TrimSuffix(filepath.Base(pidFile), ".pid")
		out[name] = readComponent(name, pidFile, filepath.Join(clusterDir, "logs", name+".log"))
	}
	adapterDir := filepath.Join(filepath.Dir(kubeconfig), "metrics-adapter")
	out["metrics-adapter"] = readComponent("metrics-adapter", filepath.Join(adapterDir, "adapter.pid"), filepath.Join(adapterDir, "adapter.log"))
	return out
}

func readComponent(name, pidFile, logFile string) *component {
	raw, err := os.ReadFile(pidFile)
	ExpectWithOffset(2, err).NotTo(HaveOccurred())
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	ExpectWithOffset(2, err).NotTo(HaveOccurred())
	proc := func(file string) []byte {
		content, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
		ExpectWithOffset(3, err).NotTo(HaveOccurred(), "component %s (pid %d) is not running", name, pid)
		return content
	}
	dir, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	ExpectWithOffset(2, err).NotTo(HaveOccurred())
	return &component{
		name: name, pidFile: pidFile, logFile: logFile, pid: pid, dir: dir,
		argv: splitNul(proc("cmdline")), env: splitNul(proc("environ")),
	}
}

func splitNul(b []byte) []string {
	return strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
}

// alive tells whether the component's process runs (a zombie does not count).
func (c *component) alive() bool {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "State:") {
			return !strings.Contains(line, "zombie")
		}
	}
	return true
}

// stop sends SIGTERM and waits up to grace for the process to exit, then sends SIGKILL.
// It reports how the process ended.
func (c *component) stop(grace time.Duration) string {
	ExpectWithOffset(1, syscall.Kill(c.pid, syscall.SIGTERM)).To(Succeed())
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !c.alive() {
			return "exited on SIGTERM"
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(c.pid, syscall.SIGKILL)
	EventuallyWithOffset(1, c.alive, 10*time.Second, 50*time.Millisecond).Should(BeFalse(), "%s did not die on SIGKILL", c.name)
	return fmt.Sprintf("still draining connections %s after SIGTERM (it had stopped listening), so killed with SIGKILL", grace)
}

// startAgain starts the component with its former command line, environment and working
// directory, in a session of its own, appending to its log; it writes the new pid to the
// pid file, where `kwokctl delete cluster` (and hack/dev-cluster.sh down) find it.
func (c *component) startAgain() {
	log, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer func() { _ = log.Close() }()
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Dir, cmd.Env = c.dir, c.env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ExpectWithOffset(1, cmd.Start()).To(Succeed())
	// Reap it if it exits while the suite runs; after the suite it is the cluster's.
	go func() { _ = cmd.Wait() }()
	c.pid = cmd.Process.Pid
	ExpectWithOffset(1, os.WriteFile(c.pidFile, []byte(strconv.Itoa(c.pid)), 0o644)).To(Succeed())
	_, _ = fmt.Fprintf(GinkgoWriter, "%s started %s again, pid %d\n", time.Now().Format("15:04:05.000"), c.name, c.pid)
}
