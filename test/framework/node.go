package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/inferenceops/inference-operator/test/utils"
)

// RealNode is the real local node of hack/real-node.sh, seen from a suite that runs inside
// its network and mount namespaces (hack/real-node.sh exec): the processes of its pods are
// this machine's, their cgroups are under /sys/fs/cgroup.
type RealNode struct {
	// Script is hack/real-node.sh.
	Script string
}

func (n *RealNode) run(args ...string) (string, error) {
	return utils.Run(exec.Command(n.Script, args...))
}

var guardLine = regexp.MustCompile(`guard dropped: (\d+) packets`)

// Guard returns the isolation counter (packets to any address outside the cluster that
// the guard chain dropped) and the script's whole report.
func (n *RealNode) Guard() (int, string, error) {
	out, err := n.run("guard")
	m := guardLine.FindStringSubmatch(out)
	if m == nil {
		return -1, out, fmt.Errorf("no guard figure in %q: %v", out, err)
	}
	dropped, _ := strconv.Atoi(m[1])
	return dropped, out, nil // a non-zero figure makes the script exit 1: the figure says it
}

// RestartKubelet ends the node's kubelet with the signal (KILL: a crash), starts a new one
// and waits until the node is Ready again.
func (n *RealNode) RestartKubelet(signal string) (string, error) {
	return n.run("restart-kubelet", signal)
}

// KubeletPID is the pid of the node's running kubelet.
func (n *RealNode) KubeletPID() (int, error) {
	return n.componentPID("kubelet")
}

func (n *RealNode) componentPID(name string) (int, error) {
	stateDir := os.Getenv("REAL_NODE_DIR")
	if stateDir == "" {
		stateDir = filepath.Join(filepath.Dir(filepath.Dir(n.Script)), ".real-node")
	}
	b, err := os.ReadFile(filepath.Join(stateDir, "pids", name+".pid"))
	if err != nil {
		return 0, err
	}
	return parsePIDFile(string(b))
}

// parsePIDFile reads the pid from a pid file of hack/lib.sh's start_proc: "PID BINARY".
func parsePIDFile(content string) (int, error) {
	fields := strings.Fields(content)
	if len(fields) == 0 {
		return 0, fmt.Errorf("empty pid file")
	}
	return strconv.Atoi(fields[0])
}

// ContainerPID finds the host pid of a pod's container's main process by its cgroup
// (kubepods/.../pod<UID>/<container ID>), not the sandbox's pause process.
func ContainerPID(pod *corev1.Pod, container string) (int, error) {
	cid := ""
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == container {
			_, cid, _ = strings.Cut(s.ContainerID, "://")
		}
	}
	if cid == "" {
		return 0, fmt.Errorf("pod %s has no running container %s", pod.Name, container)
	}
	needle := "pod" + string(pod.UID) + "/" + cid
	procs, _ := filepath.Glob("/proc/[0-9]*/cgroup")
	best := 0
	for _, path := range procs {
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), needle) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err == nil && (best == 0 || pid < best) {
			best = pid // the container's first process has the lowest pid
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("no process in the cgroup of %s", needle)
	}
	return best, nil
}

// CgroupLimits are a container's limits as the kernel enforces them.
type CgroupLimits struct {
	// Version is 1 or 2 (the hierarchy the node uses).
	Version int
	// CPUQuotaMicros per CPUPeriodMicros (-1: no limit): cpu.cfs_quota_us and
	// cpu.cfs_period_us on v1, cpu.max on v2.
	CPUQuotaMicros, CPUPeriodMicros int64
	// CPUShares is cpu.shares (v1) or cpu.weight (v2): what the CPU request became.
	CPUShares int64
	// MemoryBytes is memory.limit_in_bytes (v1) or memory.max (v2); -1 when unlimited.
	MemoryBytes int64
	// Files are the files read, for the report.
	Files []string
}

// CPUMillis is the CPU limit in millicores.
func (l CgroupLimits) CPUMillis() int64 {
	if l.CPUQuotaMicros < 0 || l.CPUPeriodMicros == 0 {
		return -1
	}
	return l.CPUQuotaMicros * 1000 / l.CPUPeriodMicros
}

// ReadCgroupLimits reads the cgroup limits of a process (a container's) from
// /sys/fs/cgroup, the paths taken from /proc/PID/cgroup.
func ReadCgroupLimits(pid int) (CgroupLimits, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return CgroupLimits{}, err
	}
	l := CgroupLimits{Version: 1}
	paths := map[string]string{} // controller -> folder
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			paths[""] = filepath.Join("/sys/fs/cgroup", parts[2])
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			paths[c] = filepath.Join("/sys/fs/cgroup", parts[1], parts[2])
		}
	}
	read := func(path string) (string, error) {
		b, err := os.ReadFile(path)
		l.Files = append(l.Files, path)
		return strings.TrimSpace(string(b)), err
	}
	num := func(s string) int64 {
		if s == "max" {
			return -1
		}
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		l.Version = 2
		dir := paths[""]
		s, err := read(filepath.Join(dir, "cpu.max"))
		if err != nil {
			return l, err
		}
		quota, period, _ := strings.Cut(s, " ")
		l.CPUQuotaMicros, l.CPUPeriodMicros = num(quota), num(period)
		if s, err = read(filepath.Join(dir, "cpu.weight")); err != nil {
			return l, err
		}
		l.CPUShares = num(s)
		if s, err = read(filepath.Join(dir, "memory.max")); err != nil {
			return l, err
		}
		l.MemoryBytes = num(s)
		return l, nil
	}
	cpu, mem := paths["cpu"], paths["memory"]
	if cpu == "" || mem == "" {
		return l, fmt.Errorf("no cpu or memory cgroup in /proc/%d/cgroup: %s", pid, b)
	}
	for _, f := range []struct {
		file string
		into *int64
	}{
		{filepath.Join(cpu, "cpu.cfs_quota_us"), &l.CPUQuotaMicros},
		{filepath.Join(cpu, "cpu.cfs_period_us"), &l.CPUPeriodMicros},
		{filepath.Join(cpu, "cpu.shares"), &l.CPUShares},
		{filepath.Join(mem, "memory.limit_in_bytes"), &l.MemoryBytes},
	} {
		s, err := read(f.file)
		if err != nil {
			return l, err
		}
		*f.into = num(s)
	}
	return l, nil
}
