#!/usr/bin/env bash
# make test-e2e: starts a fresh local simulated cluster, runs the end-to-end suite
# (test/e2e, build tag e2e) with the operator as a local process, and removes the
# cluster afterwards, whatever the outcome. A dev cluster already running (make demo)
# is replaced: the suite needs a cluster in a known state.
#
# E2E_FOCUS runs only the specs whose text matches it (ginkgo --focus), for example
#   E2E_FOCUS=GitOps make test-e2e
# The specs of "inference-operator on a simulated cluster" build on each other (Ordered):
# focus on that container as a whole. DEV_CLUSTER_NAME and DEV_CLUSTER_DIR run the suite
# on a cluster beside the default one.
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
focus=()
[[ -z "${E2E_FOCUS:-}" ]] || focus=("-ginkgo.focus=${E2E_FOCUS}")
go test -tags e2e ./test/e2e/ -v -count=1 -timeout 40m -ginkgo.v "${focus[@]}"
