#!/usr/bin/env bash
# make test-faults: starts a fresh local simulated cluster of its own (name "faults", state
# in .dev-cluster-faults/, beside any other dev cluster), runs the fault-injection suite
# (test/faults, build tag e2e) with the operator as local processes, and removes the
# cluster afterwards, whatever the outcome, with every process the suite started.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

export DEV_CLUSTER_NAME=faults
export DEV_CLUSTER_DIR="${root}/.dev-cluster-faults"
kubeconfig="${DEV_CLUSTER_DIR}/kubeconfig"
manager="${root}/bin/faults/manager"

# stop_operators kills, by pid, operator processes the suite started that outlived it (the
# suite kills them itself, and each dies with the suite's process; this covers the rest):
# the suite's manager binary with this cluster's KUBECONFIG in its environment.
stop_operators() {
	local dir pid env
	for dir in /proc/[0-9]*; do
		pid="${dir#/proc/}"
		[[ "$(readlink "${dir}/exe" 2>/dev/null)" == "${manager}" ]] || continue
		env="$(tr '\0' '\n' <"${dir}/environ" 2>/dev/null)" || continue
		grep -qxF "KUBECONFIG=${kubeconfig}" <<<"${env}" || continue
		echo "    stopping leftover operator process ${pid}"
		kill -9 "${pid}" 2>/dev/null || true
	done
}

cleanup() {
	echo "==> Removing the faults cluster"
	stop_operators
	hack/dev-cluster.sh down
}

echo "==> Removing any previous faults cluster, then starting a fresh one"
stop_operators
hack/dev-cluster.sh down >/dev/null 2>&1 || true
trap cleanup EXIT
hack/dev-cluster.sh up

export KUBECONFIG="${kubeconfig}" KUBECTL
KUBECTL="$(hack/build-control-plane.sh --print-path)/kubectl"

echo "==> Running the fault-injection suite"
go test -tags e2e ./test/faults/ -v -count=1 -timeout 40m -ginkgo.v
