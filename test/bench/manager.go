package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
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
	started    time.Time
	metricsURL string
	logPath    string

	exited  chan struct{}
	waitErr error
	// pprofURL is the manager's Go profiling endpoint.
	pprofURL string
}

// profileCPU saves a CPU profile of the manager's next seconds (or until it exits) to path.
func (m *managerProcess) profileCPU(ctx context.Context, seconds int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%sprofile?seconds=%d", m.pprofURL, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CPU profile: %s", resp.Status)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, resp.Body)
	return errors.Join(err, out.Close())
}

// startManager runs the manager against the cluster in kubeconfig with the setting's
// flags. Metrics are served over plain HTTP and the health probes on free loopback
// ports; stdout and stderr go to logPath.
func startManager(path, kubeconfig, logPath string, s setting) (*managerProcess, error) {
	metricsAddr, err := utils.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	probeAddr, err := utils.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	pprofAddr, err := utils.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--leader-elect=false",
		"--metrics-bind-address=" + metricsAddr,
		"--metrics-secure=false",
		"--health-probe-bind-address=" + probeAddr,
		"--pprof-bind-address=" + pprofAddr,
	}, s.managerFlags()...)
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The manager dies with the benchmark, whatever ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	m := &managerProcess{cmd: cmd, setting: s, metricsURL: "http://" + metricsAddr + "/metrics", pprofURL: "http://" + pprofAddr + "/debug/pprof/",
		logPath: logPath, exited: make(chan struct{})}
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
	return scrapeMetrics(ctx, m.metricsURL)
}

// memory reads the manager's resident set now and its peak so far.
func (m *managerProcess) memory() (procMemory, error) {
	return readProcMemory(m.cmd.Process.Pid)
}

// cpuSeconds is the CPU time (user and system) the manager has used so far.
func (m *managerProcess) cpuSeconds() (float64, error) {
	return readProcCPUSeconds(m.cmd.Process.Pid)
}
