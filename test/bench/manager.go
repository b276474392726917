package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/inferenceops/inference-operator/test/utils"
)

// managerProcess is one run of the real manager binary, so that its memory is the
// process's own and its API requests are its own client's (read from its metrics).
type managerProcess struct {
	cmd     *exec.Cmd
	setting setting
	// started is taken just before the process starts; the figures time from it.
	started time.Time
	logPath string

	exited  chan struct{}
	waitErr error

	// The metrics and Go profiling endpoints, found once the process listens (see
	// endpoint).
	mu        sync.Mutex
	endpoints map[string]string
}

// endpoint returns the URL of path ("/metrics", "/debug/pprof/") on the manager. The
// manager binds its servers to port 0, so the address is looked up, once, among the ones
// the process listens on; until it listens, endpoint waits (bounded by ctx).
func (m *managerProcess) endpoint(ctx context.Context, path string) (string, error) {
	m.mu.Lock()
	url, ok := m.endpoints[path]
	m.mu.Unlock()
	if ok {
		return url, nil
	}
	addr, err := utils.WaitForHTTPAddr(ctx, m.cmd.Process.Pid, path)
	if err != nil {
		return "", err
	}
	url = "http://" + addr + path
	m.mu.Lock()
	m.endpoints[path] = url
	m.mu.Unlock()
	return url, nil
}

// profileCPU saves a CPU profile of the manager's next seconds (or until it exits) to path.
func (m *managerProcess) profileCPU(ctx context.Context, seconds int, path string) error {
	return m.saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", seconds), path)
}

// profileHeap saves a heap profile (in use now, and allocated since the start) to path.
func (m *managerProcess) profileHeap(ctx context.Context, path string) error {
	return m.saveProfile(ctx, "heap", path)
}

// saveProfile saves the manager's /debug/pprof/ profile (with its query) to path.
func (m *managerProcess) saveProfile(ctx context.Context, profile, path string) error {
	pprofURL, err := m.endpoint(ctx, "/debug/pprof/")
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pprofURL+profile, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", profile, resp.Status)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, resp.Body)
	return errors.Join(err, out.Close())
}

// startManager runs the manager against the cluster in kubeconfig with the setting's
// flags and extraFlags. Metrics (plain HTTP) and Go profiling are served on loopback ports the kernel
// picks (port 0), the health probes not at all; stdout and stderr go to logPath.
func startManager(path, kubeconfig, logPath string, s setting, extraFlags ...string) (*managerProcess, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--leader-elect=false",
		"--metrics-bind-address=127.0.0.1:0",
		"--metrics-secure=false",
		"--health-probe-bind-address=0",
		"--pprof-bind-address=127.0.0.1:0",
	}, s.managerFlags()...)
	args = append(args, extraFlags...)
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The manager dies with the benchmark, whatever ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	m := &managerProcess{cmd: cmd, setting: s, logPath: logPath, exited: make(chan struct{}), endpoints: map[string]string{}}
	m.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	go func() {
		m.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(m.exited)
	}()
	return m, nil
}

// alive returns a context that is cancelled when the manager exits, so that no wait
// outlasts a crashed manager.
func (m *managerProcess) alive(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	go func() {
		select {
		case <-m.exited:
			cancel(fmt.Errorf("the manager exited (%v); see %s", m.waitErr, m.logPath))
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// stop sends SIGTERM, as a rolling update would, and waits for the exit; after 30 s it
// kills the process.
func (m *managerProcess) stop() error {
	select {
	case <-m.exited:
		return fmt.Errorf("the manager had already exited (%v); see %s", m.waitErr, m.logPath)
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
		return errors.New("the manager did not stop within 30 s of SIGTERM and was killed")
	}
}

// scrape reads the manager's metrics now.
func (m *managerProcess) scrape(ctx context.Context) (metrics, error) {
	metricsURL, err := m.endpoint(ctx, "/metrics")
	if err != nil {
		return nil, err
	}
	return scrapeMetrics(ctx, metricsURL)
}

// memory reads the manager's resident set now and its peak so far.
func (m *managerProcess) memory() (procMemory, error) {
	return readProcMemory(m.cmd.Process.Pid)
}

// cpuSeconds is the CPU time (user and system) the manager has used so far.
func (m *managerProcess) cpuSeconds() (float64, error) {
	return readProcCPUSeconds(m.cmd.Process.Pid)
}
