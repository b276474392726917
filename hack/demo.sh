#!/usr/bin/env bash
# The main job, end to end, on the local simulated cluster (make demo):
#   1. start the cluster (make dev-cluster; builds what is missing on a first run),
#   2. install the CRD and start the operator as a local process,
#   3. apply the sample InferenceService and wait until it is Ready,
#   4. raise the simulated CPU load and watch the HPA scale out, with the
#      InferenceService's Desired and Targets columns following,
#   5. lower the load and watch it scale back in.
# The cluster and the operator keep running afterwards; the script says how to look
# around and how to stop them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

state_dir="${DEV_CLUSTER_DIR:-${root}/.dev-cluster}"
export KUBECONFIG="${state_dir}/kubeconfig"
export KUBECACHEDIR="${state_dir}/kube-cache"
kubectl="$(hack/build-control-plane.sh --print-path)/kubectl"
sample="config/samples/serving_v1alpha1_inferenceservice.yaml"
name="iris"
namespace="default"
operator_pid_file="${state_dir}/operator.pid"
operator_log="${state_dir}/operator.log"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
k() { "${kubectl}" "$@"; }

# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

# watch_until DESCRIPTION CONDITION TIMEOUT: print the InferenceService and its HPA every
# 5 s until CONDITION (a shell expression) holds.
watch_until() {
	local description="$1" condition="$2" timeout="$3" waited=0
	echo "Waiting until ${description} (at most ${timeout}s); every 5 s:"
	while true; do
		echo "--- $(date +%H:%M:%S)"
		k get infsvc "${name}" -n "${namespace}"
		k get hpa "${name}" -n "${namespace}" --no-headers 2>/dev/null | sed 's/^/hpa: /' || true
		if eval "${condition}"; then
			return 0
		fi
		if ((waited >= timeout)); then
			echo "Gave up after ${timeout}s; the operator log is ${operator_log}." >&2
			return 1
		fi
		sleep 5
		waited=$((waited + 5))
	done
}
desired() { k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.status.desiredReplicas}'; }
ready() { k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.status.readyReplicas}'; }

step "Starting the local simulated cluster (first run builds every component from the Go module proxy)"
make -s dev-cluster

step "Installing the InferenceService CRD"
k apply --server-side -f config/crd/bases
wait_established crd/inferenceservices.serving.inferenceops.dev

step "Building and starting the operator as a local process (log: ${operator_log})"
go build -o bin/manager ./cmd
if [[ -f "${operator_pid_file}" ]] && kill -0 "$(cat "${operator_pid_file}")" 2>/dev/null; then
	echo "Stopping the operator started by an earlier run (pid $(cat "${operator_pid_file}"))"
	kill "$(cat "${operator_pid_file}")" && sleep 1
fi
nohup bin/manager --metrics-bind-address=0 --health-probe-bind-address=127.0.0.1:0 >"${operator_log}" 2>&1 &
echo $! >"${operator_pid_file}"
echo "Operator running, pid $(cat "${operator_pid_file}")"

step "Applying the sample InferenceService (${sample})"
sed -n '/^apiVersion/,$p' "${sample}"
k apply --server-side -n "${namespace}" -f "${sample}"

step "Waiting until it is Ready"
k wait --for=condition=Ready --timeout=180s -n "${namespace}" "infsvc/${name}"
k get infsvc,deploy,svc,hpa,pods -n "${namespace}"

step "Raising the simulated load: 1 CPU in total, spread over the pods (the request is 500m, the target 50%)"
echo "hack/load.sh cpu ${name} 1 --total --watch   # runs in the background while the HPA reacts"
hack/load.sh cpu "${name}" 1 -n "${namespace}" --total --watch >"${state_dir}/load.log" 2>&1 &
load_pid=$!
trap 'kill ${load_pid} 2>/dev/null || true' EXIT
watch_until "the HPA has scaled out to 4 ready replicas (1000m / 250m per pod)" \
	'[[ "$(desired)" -ge 4 && "$(ready)" -ge 4 ]]' 300

step "Lowering the simulated load to 100m in total"
kill "${load_pid}" 2>/dev/null || true
wait "${load_pid}" 2>/dev/null || true
hack/load.sh cpu "${name}" 100m -n "${namespace}" --total --watch >"${state_dir}/load.log" 2>&1 &
load_pid=$!
watch_until "the HPA has scaled back in to 1 replica (scale-down stabilization is 30 s in the sample)" \
	'[[ "$(desired)" -eq 1 && "$(ready)" -eq 1 ]]' 300
kill "${load_pid}" 2>/dev/null || true

step "Done. The cluster and the operator keep running."
cat <<EOF
Look around:
  export KUBECONFIG=${KUBECONFIG}
  ${kubectl} get infsvc,deploy,svc,hpa,pods
  ${kubectl} describe infsvc ${name}
  hack/load.sh cpu ${name} 800m --watch      # simulated CPU load per pod (Ctrl-C to stop)
  hack/load.sh queue iris-queue 30 --watch   # a queue-length metric, for config/samples/*_queue.yaml
  tail -f ${operator_log}
Stop everything (cluster, metrics adapter, operator):
  make dev-cluster-down
EOF
