// Package utils holds helpers shared by the end-to-end and fault suites: running commands from the
// repository root and finding its folders.
package utils

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

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
