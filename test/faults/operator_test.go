//go:build e2e

package faults

import (
	"context"
	"fmt"
	"io"
	"net/http"
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

	"github.com/inferenceops/inference-operator/test/utils"
)

// operatorProcess is the manager binary running on the host against the cluster. Every
// start appends to the same log file, so counts taken from the log cover all of a
// process name's lives.
type operatorProcess struct {
	name    string
	flags   []string
	logPath string

	mu          sync.Mutex
	cmd         *exec.Cmd
	exited      chan struct{}
	exitedAt    time.Time
	metricsAddr string
	starts      int
}

var (
	operatorsMu sync.Mutex
	operators   []*operatorProcess
)

// newOperator describes an operator process; flags are added to the ones every process
// gets: metrics over plain HTTP on a loopback port the kernel picks (read by the suite),
// no health probe port, and log level 5, at which controller-runtime logs every reconcile
// ("Reconciling", "Reconcile successful") with the object's namespace and name.
func newOperator(name string, flags ...string) *operatorProcess {
	p := &operatorProcess{name: name, flags: flags, logPath: filepath.Join(logDir, name+".log")}
	operatorsMu.Lock()
	defer operatorsMu.Unlock()
	operators = append(operators, p)
	return p
}

func allOperators() []*operatorProcess {
	operatorsMu.Lock()
	defer operatorsMu.Unlock()
	return append([]*operatorProcess(nil), operators...)
}

func stopAllOperators() {
	for _, p := range allOperators() {
		p.stop()
	}
}

func (p *operatorProcess) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited: // it exited on its own: start it again, as a kubelet would
		default:
			Fail(fmt.Sprintf("operator %s is already running", p.name), 1)
		}
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	// The kernel picks the metrics port when the process binds; metricsURL finds it.
	p.metricsAddr = ""
	args := append([]string{
		"--metrics-bind-address=127.0.0.1:0",
		"--metrics-secure=false",
		"--health-probe-bind-address=0",
		"--zap-log-level=5",
	}, p.flags...)
	cmd := exec.Command(managerBin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout = log
	cmd.Stderr = log
	// If the suite itself dies (a timeout panic, a kill), the operator dies with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	ExpectWithOffset(1, cmd.Start()).To(Succeed())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		p.exitedAt = time.Now()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	p.starts++
	_, _ = fmt.Fprintf(GinkgoWriter, "%s operator %q started (start %d), pid %d, log %s\n",
		time.Now().Format("15:04:05.000"), p.name, p.starts, cmd.Process.Pid, p.logPath)
}

// running tells whether the process started last is still alive.
func (p *operatorProcess) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
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

// exit reports, once the process started last has exited, its exit code and when it
// exited; ok is false while it runs.
func (p *operatorProcess) exit() (code int, at time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0, time.Time{}, false
	}
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode(), p.exitedAt, true
	default:
		return 0, time.Time{}, false
	}
}

// kill ends the operator with SIGKILL, as a crash or an OOM kill would, and waits
// until it is gone.
func (p *operatorProcess) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	_, _ = fmt.Fprintf(GinkgoWriter, "%s operator %q (pid %d) killed with SIGKILL\n",
		time.Now().Format("15:04:05.000"), p.name, p.cmd.Process.Pid)
	p.cmd = nil
}

// stop ends the operator with SIGTERM, as a rolling update would, and kills it if it
// has not exited after 15 s.
func (p *operatorProcess) stop() {
	p.mu.Lock()
	if p.cmd == nil {
		p.mu.Unlock()
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		p.cmd = nil
		p.mu.Unlock()
	case <-time.After(15 * time.Second):
		p.mu.Unlock()
		p.kill()
	}
}

func (p *operatorProcess) log() string {
	content, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	return string(content)
}

// logSize is the current length of the log, to read what comes after a moment.
func (p *operatorProcess) logSize() int64 {
	info, err := os.Stat(p.logPath)
	if err != nil {
		return 0
	}
	return info.Size()
}

// logBetween returns the log written between two sizes (to = -1: up to now).
func (p *operatorProcess) logBetween(from, to int64) string {
	content := p.log()
	if to < 0 || to > int64(len(content)) {
		to = int64(len(content))
	}
	if from > to {
		return ""
	}
	return content[from:to]
}

// reconciles counts the reconciles the log records for namespace/name (all of them
// when name is empty), from controller-runtime's "Reconciling" line.
func (p *operatorProcess) reconciles(namespace, name string) int {
	return countLogLines(p.log(), "Reconciling", namespace, name)
}

// countLogLines counts the JSON log lines with message msg about an object in namespace
// (any when empty) named name (any when empty).
func countLogLines(log, msg, namespace, name string) int {
	count := 0
	for key, n := range utils.LoggedObjects(log, msg) {
		if (namespace == "" || key.Namespace == namespace) && (name == "" || key.Name == name) {
			count += n
		}
	}
	return count
}

// writeRequests sums the operator's successful and failed write requests (POST, PUT,
// PATCH, DELETE) from client-go's rest_client_requests_total, as its metrics endpoint
// reports them now.
func (p *operatorProcess) writeRequests() (int, error) {
	c, cancel := context.WithTimeout(ctx(), 2*time.Second)
	defer cancel()
	addr, err := p.metricsEndpoint(c)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(c, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "rest_client_requests_total{") {
			continue
		}
		labels, value, ok := strings.Cut(line[len("rest_client_requests_total{"):], "} ")
		if !ok {
			continue
		}
		write := false
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			write = write || strings.Contains(labels, `method="`+method+`"`)
		}
		if !write {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %q: %w", line, err)
		}
		total += int(n)
	}
	return total, nil
}

// metricsEndpoint returns the address the running process serves its metrics on, looked
// up among the addresses it listens on (it binds port 0) the first time after each start.
func (p *operatorProcess) metricsEndpoint(c context.Context) (string, error) {
	p.mu.Lock()
	addr, cmd := p.metricsAddr, p.cmd
	p.mu.Unlock()
	if addr != "" {
		return addr, nil
	}
	if cmd == nil {
		return "", fmt.Errorf("operator %q is not running", p.name)
	}
	addr, err := utils.WaitForHTTPAddr(c, cmd.Process.Pid, "/metrics")
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	if p.cmd == cmd { // not restarted meanwhile
		p.metricsAddr = addr
	}
	p.mu.Unlock()
	return addr, nil
}

// withoutReconcileLines drops the two lines controller-runtime logs at level 5 for every
// reconcile, which would hide everything else in a failure report.
func withoutReconcileLines(log string) string { return utils.WithoutReconcileLines(log) }
