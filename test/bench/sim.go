package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/inferenceops/inference-operator/internal/render"
)

// Figure 6 needs pods, which envtest's bare API server never makes. simComponents turn a
// cluster into the simulated one of the e2e suite (make dev-cluster DEV_CLUSTER=sim),
// minus what the figure does not need: the real kube-controller-manager (only its
// Deployment, ReplicaSet and node lifecycle controllers: Deployment -> ReplicaSet -> pods
// on nodes that are Ready), the real
// kube-scheduler, and kwok's controller with the e2e cluster's Stages
// (hack/dev-cluster/stages.yaml), which plays the kubelet of fake nodes: the pods it is
// given turn Running and Ready. None of them listens anywhere (secure ports 0, no kwok
// server); they talk only to the cluster's API server on loopback.
type simComponents struct {
	procs []*simProcess
}

// simProcess is one component process.
type simProcess struct {
	name    string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// fakeNodeAnnotation marks the nodes kwok plays (--manage-nodes-with-annotation-selector).
const fakeNodeAnnotation = "kwok.x-k8s.io/node"

// startSim starts the components against kubeconfig with the binaries of kubeBin (the
// control-plane folder) and kwokPath, logging to logDir/NAME-COMPONENT.log.
// extraControllers are further kube-controller-manager controllers (figure 7 adds the
// horizontal-pod-autoscaler-controller).
func startSim(name, logDir, kubeconfig, kubeBin, kwokPath, stages string, extraControllers ...string) (*simComponents, error) {
	// The components' own client-side limits would make them, not the operator, the pace
	// of the setup; kwokctl runs them unlimited for the same reason.
	common := []string{"--kubeconfig=" + kubeconfig, "--leader-elect=false", "--secure-port=0", "--bind-address=127.0.0.1",
		"--kube-api-qps=5000", "--kube-api-burst=10000"}
	s := &simComponents{}
	for _, c := range []struct {
		component, path string
		args            []string
	}{
		{"kube-controller-manager", filepath.Join(kubeBin, "kube-controller-manager"), append(slices.Clone(common),
			// The node lifecycle controller lifts the not-ready taint that the API server's
			// TaintNodesByCondition admission puts on every new node, once kwok reports it Ready.
			// kwok renews each node's Lease (as kwokctl runs it); on a machine this busy a
			// renewal can come late, and a node the controller took for lost would have its
			// pods marked not ready mid-figure, so it waits longer than its 50 s default.
			"--controllers="+strings.Join(append([]string{"deployment-controller", "replicaset-controller", "node-lifecycle-controller"}, extraControllers...), ","),
			"--node-monitor-grace-period=3m",
			"--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
		)},
		{"kube-scheduler", filepath.Join(kubeBin, "kube-scheduler"), common},
		{"kwok", kwokPath, []string{
			"--kubeconfig=" + kubeconfig, "--config=" + stages,
			"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=" + fakeNodeAnnotation + "=fake",
			"--node-ip=127.0.0.1", "--cidr=10.128.0.0/12", "--node-port=0", "--node-lease-duration-seconds=40",
		}},
	} {
		p, err := startSimProcess(c.component, c.path, filepath.Join(logDir, name+"-"+c.component+".log"), c.args)
		if err != nil {
			return nil, errors.Join(err, s.stop())
		}
		s.procs = append(s.procs, p)
	}
	return s, nil
}

func startSimProcess(name, path, logPath string, args []string) (*simProcess, error) {
	if info, err := os.Stat(path); err != nil || info.IsDir() {
		return nil, fmt.Errorf("no %s binary at %s (make bench builds it: hack/build-control-plane.sh, make dev-cluster-tools)", name, path)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &simProcess{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// failed returns an error naming a component that exited, or nil while all run.
func (s *simComponents) failed() error {
	for _, p := range s.procs {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited (%v); see its log under bin/bench/logs/", p.name, p.waitErr)
		default:
		}
	}
	return nil
}

// stop ends every component (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (s *simComponents) stop() error {
	var errs []error
	for _, p := range s.procs {
		select {
		case <-p.exited:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
			errs = append(errs, fmt.Errorf("%s did not stop within 10 s of SIGTERM and was killed", p.name))
		}
	}
	s.procs = nil
	return errors.Join(errs...)
}

// Capacity of one fake node: room for fakeNodePods pods of the figure's shape (100m CPU,
// 128Mi requested), and no extended resource, so that a pod asking for nvidia.com/gpu
// stays unschedulable.
const fakeNodePods = 1000

// newFakeNode is a node kwok plays, as the e2e cluster's node template makes them.
func newFakeNode(i int) *corev1.Node {
	name := "bench-node-" + strconv.Itoa(i)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("200"),
		corev1.ResourceMemory: resource.MustParse("1Ti"),
		corev1.ResourcePods:   *resource.NewQuantity(fakeNodePods, resource.DecimalSI),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{fakeNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
				"kubernetes.io/arch": "amd64", "type": "kwok"},
		},
		Spec: corev1.NodeSpec{ProviderID: "kwok://" + name},
		Status: corev1.NodeStatus{
			Capacity: capacity, Allocatable: capacity,
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: name}},
			NodeInfo:  corev1.NodeSystemInfo{Architecture: "amd64", OperatingSystem: "linux"},
		},
	}
}

// newUnrelatedPod is a pod of no InferenceService, bound to node: what other workloads
// of the cluster run. It carries what such pods carry (labels, a container with
// resources and environment), so that caching it would show.
func newUnrelatedPod(namespace string, i int, node string) *corev1.Pod {
	name := fmt.Sprintf("unrelated-pod-%05d", i)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{
			render.LabelName: "unrelated-" + strconv.Itoa(i%100), render.LabelManagedBy: "someone-else",
		}},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{
				Name: "app", Image: "registry.example/app:1",
				Env: []corev1.EnvVar{{Name: "SETTING", Value: "value-" + name}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
				}},
			}},
		},
	}
}

// podCounts are the pods of a namespace: in all, running and ready, and refused by the
// scheduler (with the scheduler's word on one of them).
type podCounts struct {
	total, ready, unschedulable int
	message                     string
}

// countPods counts the pods of namespace.
func countPods(ctx context.Context, c *cluster, namespace string) (podCounts, error) {
	var counts podCounts
	list := &corev1.PodList{}
	if err := c.client.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return counts, fmt.Errorf("listing the pods of %s: %w", namespace, err)
	}
	counts.total = len(list.Items)
	for i := range list.Items {
		pod := &list.Items[i]
		for _, cond := range pod.Status.Conditions {
			switch {
			case cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && pod.Status.Phase == corev1.PodRunning:
				counts.ready++
			case cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable:
				counts.unschedulable++
				counts.message = pod.Name + ": " + cond.Message
			}
		}
	}
	return counts, nil
}
