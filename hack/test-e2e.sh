#!/usr/bin/env bash
# make test-e2e: starts a fresh local simulated cluster, runs the end-to-end suite
# (test/e2e, build tag e2e) with the operator as a local process, and removes the
# cluster afterwards, whatever the outcome. A dev cluster already running (make demo)
# is replaced: the suite needs a cluster in a known state.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

echo "==> Removing any running dev cluster, then starting a fresh one"
hack/dev-cluster.sh down >/dev/null 2>&1 || true
trap 'echo "==> Removing the cluster"; hack/dev-cluster.sh down' EXIT
hack/dev-cluster.sh up

export KUBECONFIG="${DEV_CLUSTER_DIR:-${root}/.dev-cluster}/kubeconfig"
export KUBECTL
KUBECTL="$(hack/build-control-plane.sh --print-path)/kubectl"

echo "==> Running the end-to-end suite"
go test -tags e2e ./test/e2e/ -v -count=1 -timeout 40m -ginkgo.v
