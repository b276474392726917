package framework

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

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/inferenceops/inference-operator/test/utils"
)

// BuildManager builds the manager (./cmd) into dir/manager and returns its path.
func BuildManager(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "manager")
	_, err := utils.Run(exec.Command("go", "build", "-o", bin, "./cmd"))
	return bin, err
}

// OperatorProcess is the manager binary running on this machine against a cluster. Every
// start appends to the same log file, so counts taken from the log cover all of a
// process's lives.
type OperatorProcess struct {
	Name       string
	Binary     string
	Kubeconfig string
	LogPath    string
	// Flags are added to the ones every process gets: log level 5, at which
	// controller-runtime logs every reconcile ("Reconciling", "Reconcile successful") with
	// the object's namespace and name, and no health probe port.
	Flags []string
	// MetricsBindAddress is --metrics-bind-address: "" serves plain-HTTP metrics on a
	// loopback port the kernel picks (WriteRequests reads them), "0" turns them off.
	MetricsBindAddress string

	mu          sync.Mutex
	cmd         *exec.Cmd
	exited      chan struct{}
	exitedAt    time.Time
	metricsAddr string
	starts      int
}

var (
	operatorsMu sync.Mutex
	operators   []*OperatorProcess
)

// NewOperatorProcess describes an operator process and registers it, so that the failure
// dump prints its log and StopAllOperators ends it.
func NewOperatorProcess(p *OperatorProcess) *OperatorProcess {
	operatorsMu.Lock()
	defer operatorsMu.Unlock()
	operators = append(operators, p)
	return p
}

// Operators lists the registered operator processes.
func Operators() []*OperatorProcess {
	operatorsMu.Lock()
	defer operatorsMu.Unlock()
	return append([]*OperatorProcess(nil), operators...)
}

// StopAllOperators stops every registered operator process.
func StopAllOperators() {
	for _, p := range Operators() {
		p.Stop()
	}
}

// Start runs the process (again, if it exited on its own, as a kubelet would).
func (p *OperatorProcess) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			ginkgo.Fail(fmt.Sprintf("operator %s is already running", p.Name), 1)
		}
	}
	log, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	p.metricsAddr = ""
	args := make([]string, 0, 4+len(p.Flags))
	if p.MetricsBindAddress != "" {
		args = append(args, "--metrics-bind-address="+p.MetricsBindAddress)
	} else {
		args = append(args, "--metrics-bind-address=127.0.0.1:0", "--metrics-secure=false")
	}
	args = append(append(args, "--health-probe-bind-address=0", "--zap-log-level=5"), p.Flags...)
	cmd := exec.Command(p.Binary, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+p.Kubeconfig)
	cmd.Stdout = log
	cmd.Stderr = log
	// If the suite itself dies (a timeout panic, a kill), the operator dies with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	gomega.ExpectWithOffset(1, cmd.Start()).To(gomega.Succeed())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		// Not under p.mu: Kill holds it while it waits for this. Closing exited orders
		// the write before every read (Exit reads it only once exited is closed).
		p.exitedAt = time.Now()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	p.starts++
	_, _ = fmt.Fprintf(ginkgo.GinkgoWriter, "%s operator %q started (start %d), pid %d, log %s\n",
		time.Now().Format("15:04:05.000"), p.Name, p.starts, cmd.Process.Pid, p.LogPath)
}

// Running tells whether the process started last is still alive.
func (p *OperatorProcess) Running() bool {
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

// Exit reports, once the process started last has exited, its exit code and when it
// exited; ok is false while it runs.
func (p *OperatorProcess) Exit() (code int, at time.Time, ok bool) {
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

// Kill ends the operator with SIGKILL, as a crash or an OOM kill would, and waits until
// it is gone.
func (p *OperatorProcess) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	_, _ = fmt.Fprintf(ginkgo.GinkgoWriter, "%s operator %q (pid %d) killed with SIGKILL\n",
		time.Now().Format("15:04:05.000"), p.Name, p.cmd.Process.Pid)
	p.cmd = nil
}

// Stop ends the operator with SIGTERM, as a rolling update would, and kills it if it has
// not exited after 15 s.
func (p *OperatorProcess) Stop() {
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
		p.Kill()
	}
}

// Log is the whole log of every start.
func (p *OperatorProcess) Log() string {
	content, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	return string(content)
}

// LogSize is the current length of the log, to read what comes after a moment.
func (p *OperatorProcess) LogSize() int64 {
	info, err := os.Stat(p.LogPath)
	if err != nil {
		return 0
	}
	return info.Size()
}

// LogBetween returns the log written between two sizes (to = -1: up to now).
func (p *OperatorProcess) LogBetween(from, to int64) string {
	content := p.Log()
	if to < 0 || to > int64(len(content)) {
		to = int64(len(content))
	}
	if from > to {
		return ""
	}
	return content[from:to]
}

// LogSince returns the log written after it had the length from.
func (p *OperatorProcess) LogSince(from int64) string { return p.LogBetween(from, -1) }

// Reconciles counts the reconciles the log records for namespace/name (all of them when
// name is empty), from controller-runtime's "Reconciling" line.
func (p *OperatorProcess) Reconciles(namespace, name string) int {
	return CountLogLines(p.Log(), utils.LogReconciling, namespace, name)
}

// CountLogLines counts the JSON log lines with message msg about an object in namespace
// (any when empty) named name (any when empty).
func CountLogLines(log, msg, namespace, name string) int {
	count := 0
	for key, n := range utils.LoggedObjects(log, msg) {
		if (namespace == "" || key.Namespace == namespace) && (name == "" || key.Name == name) {
			count += n
		}
	}
	return count
}

// WriteRequests sums the operator's successful and failed write requests (POST, PUT,
// PATCH, DELETE) from client-go's rest_client_requests_total, as its metrics endpoint
// reports them now.
func (p *OperatorProcess) WriteRequests(ctx context.Context) (int, error) {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addr, err := p.MetricsEndpoint(c)
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
	return SumWriteRequests(string(body))
}

// SumWriteRequests sums the write requests (POST, PUT, PATCH, DELETE) of client-go's
// rest_client_requests_total in a Prometheus text exposition.
func SumWriteRequests(metrics string) (int, error) {
	total := 0
	for _, line := range strings.Split(metrics, "\n") {
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

// MetricsEndpoint returns the address the running process serves its metrics on, looked
// up among the addresses it listens on (it binds port 0) the first time after each start.
func (p *OperatorProcess) MetricsEndpoint(ctx context.Context) (string, error) {
	p.mu.Lock()
	addr, cmd := p.metricsAddr, p.cmd
	p.mu.Unlock()
	if addr != "" {
		return addr, nil
	}
	if cmd == nil {
		return "", fmt.Errorf("operator %q is not running", p.Name)
	}
	if p.MetricsBindAddress == "0" {
		return "", fmt.Errorf("operator %q serves no metrics", p.Name)
	}
	addr, err := utils.WaitForHTTPAddr(ctx, cmd.Process.Pid, "/metrics")
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
