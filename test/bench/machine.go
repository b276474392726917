package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// unknown stands for a fact of the machine that could not be read.
const unknown = "unknown"

// machine is what the figures were measured on; they mean little without it.
type machine struct {
	CPUs             int    `json:"cpus"`
	CPUModel         string `json:"cpuModel"`
	MemTotalKiB      int64  `json:"memTotalKiB"`
	GoVersion        string `json:"goVersion"`
	Kernel           string `json:"kernel"`
	KubeAPIServer    string `json:"kubeAPIServer"`
	LoadAverageStart string `json:"loadAverageStart"`
	LoadAverageEnd   string `json:"loadAverageEnd"`
	// Revision is the repository's commit, "+changes" when the tree differs from it.
	Revision string `json:"revision"`
}

func describeMachine() machine {
	m := machine{
		CPUs:             runtime.NumCPU(),
		CPUModel:         procField("/proc/cpuinfo", "model name"),
		GoVersion:        runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		LoadAverageStart: loadAverage(),
		Revision:         revision(),
	}
	if kernel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(kernel))
	}
	if total := procField("/proc/meminfo", "MemTotal"); total != "" {
		m.MemTotalKiB, _ = strconv.ParseInt(strings.TrimSuffix(total, " kB"), 10, 64)
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		k, v, ok := strings.Cut(scanner.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage is the 1, 5 and 15 minute load average: a busy machine explains slow figures.
func loadAverage() string {
	content, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return unknown
	}
	fields := strings.Fields(string(content))
	if len(fields) < 3 {
		return unknown
	}
	return strings.Join(fields[:3], " ")
}

// revision is the short commit of the working tree, with "+changes" when files differ
// from it (the manager was built from the tree, not from the commit).
func revision() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return unknown
	}
	rev := strings.TrimSpace(string(out))
	if status, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(status) > 0 {
		rev += "+changes"
	}
	return rev
}
