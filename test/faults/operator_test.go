//go:build e2e

package faults

import (
	"path/filepath"

	"github.com/inferenceops/inference-operator/test/framework"
)

// newOperator describes an operator process of the suite (test/framework's, which every
// cluster suite shares): the manager binary built for the suite against this cluster, its
// log in logDir/NAME.log, and flags added to the ones every process gets (metrics over
// plain HTTP on a loopback port the kernel picks, read by WriteRequests; no health probe
// port; log level 5, at which controller-runtime logs every reconcile with the object's
// namespace and name).
func newOperator(name string, flags ...string) *framework.OperatorProcess {
	return framework.NewOperatorProcess(&framework.OperatorProcess{Name: name, Binary: managerBin,
		Kubeconfig: kubeconfig, LogPath: filepath.Join(logDir, name+".log"), Flags: flags})
}
