// Package utils holds helpers shared by the test suites and the benchmark: running commands
// from the repository root and finding its folders.
package utils

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
)

// ProjectDir returns the repository root (the folder holding go.mod), found upwards from
// the working directory.
func ProjectDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Run runs cmd in the repository root and returns its standard output. On failure the
// error carries standard error too.
func Run(cmd *exec.Cmd) (string, error) {
	dir, err := ProjectDir()
	if err != nil {
		return "", err
	}
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	_, _ = fmt.Fprintf(ginkgo.GinkgoWriter, "running: %s\n", strings.Join(cmd.Args, " "))
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s failed: %w\n%s%s", strings.Join(cmd.Args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// Kubectl runs kubectl (kubectlPath) against the cluster in kubeconfig.
func Kubectl(kubectlPath, kubeconfig string, args ...string) (string, error) {
	cmd := exec.Command(kubectlPath, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	return Run(cmd)
}

// Tail returns the last lines of s, for quoting logs in failure messages.
func Tail(s string, lines int) string {
	count := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			count++
			if count > lines {
				return s[i+1:]
			}
		}
	}
	return s
}

// ControlPlaneDir returns the folder under bin/k8s/ holding the etcd and kube-apiserver
// that `make control-plane` built, or "" when there is none; envtest uses it when
// KUBEBUILDER_ASSETS is not set (a test run from an IDE).
func ControlPlaneDir() string {
	root, err := ProjectDir()
	if err != nil {
		return ""
	}
	matches, _ := filepath.Glob(filepath.Join(root, "bin", "k8s", "*", "kube-apiserver"))
	if len(matches) == 0 {
		return ""
	}
	return filepath.Dir(matches[0])
}

// InstallCRD applies the InferenceService CRD of config/crd/bases with server-side apply
// and waits until it is Established, each kubectl wait bounded by waitTimeout. Right after
// the apply the CRD may have no conditions yet, which kubectl wait reports as an error
// instead of waiting, so the wait is retried every second for a minute.
func InstallCRD(kubectlPath, kubeconfig string, waitTimeout time.Duration) error {
	if _, err := Kubectl(kubectlPath, kubeconfig, "apply", "--server-side", "-f", "config/crd/bases"); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := Kubectl(kubectlPath, kubeconfig, "wait", "--for=condition=Established",
			"--timeout="+waitTimeout.String(), "crd/inferenceservices.serving.inferenceops.dev")
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Second)
	}
}
