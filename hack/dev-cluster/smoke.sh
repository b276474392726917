#!/usr/bin/env bash
# Smoke test of the local simulated cluster (make dev-cluster-smoke), without the
# operator: plain Deployments and autoscaling/v2 HPAs from hack/dev-cluster/examples/
# in a throwaway namespace, driven by hack/load.sh. Checks and times:
#   1. CPU HPA (50% of a 500m request): 400m per pod -> scale out; 50m -> scale in.
#   2. Pods custom metric inference_queue_length (AverageValue 10): 30 per pod ->
#      the raw custom.metrics.k8s.io API returns the values and the HPA scales out.
#   3. External metric: written value served by external.metrics.k8s.io.
#   4. Loopback only: node addresses, listening sockets and dial errors in the logs.
# Needs a running dev cluster (make dev-cluster); leaves it running, deletes its namespace.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state_dir="${DEV_CLUSTER_DIR:-${root}/.dev-cluster}"
export KUBECONFIG="${state_dir}/kubeconfig"
export KUBECACHEDIR="${state_dir}/kube-cache"
[[ -f "${KUBECONFIG}" ]] || {
	echo "no dev cluster; run: make dev-cluster" >&2
	exit 1
}
kubectl_bin="${KUBECTL:-$("${root}/hack/build-control-plane.sh" --print-path)/kubectl}"
k() { "${kubectl_bin}" "$@"; }
ns="dev-cluster-smoke"
load() { "${root}/hack/load.sh" "$@" -n "${ns}"; }
failures=0

step() { echo "==> $*"; }
ok() { echo "    OK: $*"; }
fail() {
	echo "    FAIL: $*"
	failures=$((failures + 1))
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every second; prints and
# returns the elapsed seconds, or fails after the timeout.
wait_for() {
	local timeout="$1" what="$2" start=${SECONDS}
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - start >= timeout)); then
			fail "${what}: not after ${timeout}s"
			return 1
		fi
		sleep 1
	done
	ok "${what} after $((SECONDS - start))s"
}

hpa_field() { k get hpa -n "${ns}" "$1" -o jsonpath="$2"; }
ready_replicas_is() { [[ "$(k get deploy -n "${ns}" "$1" -o jsonpath='{.status.readyReplicas}')" == "$2" ]]; }
replicas_is() { [[ "$(k get deploy -n "${ns}" "$1" -o jsonpath='{.status.replicas}')" == "$2" ]]; }
hpa_has_cpu_metric() { [[ -n "$(hpa_field cpu-demo '{.status.currentMetrics[0].resource.current.averageUtilization}')" ]]; }

cleanup() {
	step "Deleting namespace ${ns}"
	k delete namespace "${ns}" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1 || true
}

if k get namespace "${ns}" >/dev/null 2>&1; then
	step "Deleting namespace ${ns} left by an earlier run"
	k delete namespace "${ns}" --wait=true --timeout=120s >/dev/null
fi
trap cleanup EXIT

step "Namespace ${ns} with the example Deployments and HPAs"
k create namespace "${ns}" >/dev/null
k apply -n "${ns}" -f "${root}/hack/dev-cluster/examples/cpu-hpa.yaml" -f "${root}/hack/dev-cluster/examples/queue-hpa.yaml" | sed 's/^/    /'
k rollout status -n "${ns}" deploy/cpu-demo --timeout=60s >/dev/null
k rollout status -n "${ns}" deploy/queue-demo --timeout=60s >/dev/null

step "1. CPU HPA: waiting for metrics-server's first sample of the new pod (two scrapes, 10s apart)"
wait_for 90 "HPA cpu-demo has a CPU utilization" hpa_has_cpu_metric || true
step "1. CPU HPA: 400m per pod (80% of the 500m request, target 50%)"
load cpu cpu-demo 400m | sed -n '1s/^/    /p'
if wait_for 120 "cpu-demo scaled out to 2 ready replicas" ready_replicas_is cpu-demo 2; then
	echo "    HPA: $(hpa_field cpu-demo '{.status.currentMetrics[0].resource.current.averageUtilization}')% of request"
fi
step "1. CPU HPA: 50m per pod (10%), scale-down stabilization window 10s"
load cpu cpu-demo 50m | sed -n '1s/^/    /p'
wait_for 120 "cpu-demo scaled in to 1 replica" replicas_is cpu-demo 1 || true

step "2. Pods custom metric inference_queue_length = 30 per pod (target average 10)"
load queue queue-demo 30 | sed -n '1s/^/    /p'
raw="$(k get --raw "/apis/custom.metrics.k8s.io/v1beta2/namespaces/${ns}/pods/*/inference_queue_length")"
if grep -q '"value":"30"' <<<"${raw}"; then ok "custom.metrics.k8s.io/v1beta2 returns 30"; else fail "custom metrics API returned: ${raw}"; fi
raw="$(k get --raw "/apis/custom.metrics.k8s.io/v1beta1/namespaces/${ns}/pods/*/inference_queue_length")"
if grep -q '"value":"30"' <<<"${raw}"; then ok "custom.metrics.k8s.io/v1beta1 returns 30"; else fail "custom metrics API v1beta1 returned: ${raw}"; fi
wait_for 90 "queue-demo scaled out to 3 ready replicas" ready_replicas_is queue-demo 3 || true

step "3. External metric inference_requests_waiting = 7 {model=llama}"
load external inference_requests_waiting 7 --labels model=llama >/dev/null
raw="$(k get --raw "/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns}/inference_requests_waiting?labelSelector=model%3Dllama")"
if grep -q '"value":"7"' <<<"${raw}"; then ok "external.metrics.k8s.io returns 7"; else fail "external metrics API returned: ${raw}"; fi

step "4. Loopback only"
addresses="$(k get nodes -o jsonpath='{range .items[*]}{range .status.addresses[?(@.type=="InternalIP")]}{.address}{"\n"}{end}{end}')"
if grep -qv '^127\.' <<<"${addresses}"; then fail "node InternalIPs: ${addresses//$'\n'/ }"; else ok "node InternalIPs: $(sort -u <<<"${addresses}" | tr '\n' ' ')"; fi
logs=("${state_dir}"/kwok/clusters/*/logs/*.log "${state_dir}/metrics-adapter/adapter.log")
bad="$(grep -hoE 'dial tcp [^:]+:[0-9]+' "${logs[@]}" | grep -vE 'dial tcp (127\.[0-9.]+|\[::1\]):' | sort | uniq -c || true)"
if [[ -n "${bad}" ]]; then fail "dials to non-loopback addresses in the logs: ${bad}"; else ok "no dial to a non-loopback address in the component logs"; fi
# Listening sockets of the dev cluster's processes (pid files of kwokctl and the adapter).
# (kwokctl's pid files have no trailing newline: read them one by one.)
listen="$(ss -Htlnp 2>/dev/null | awk '{print $4, $6}')"
# Connections in any state (established, SYN-SENT = trying): "local peer process".
conns="$(ss -Htnp 2>/dev/null | awk '{print $4, $5, $6}')"
sockets="" peers=""
for f in "${state_dir}"/kwok/clusters/*/pids/*.pid "${state_dir}/metrics-adapter/adapter.pid"; do
	pid="$(cat "${f}")"
	sockets+="$(grep "pid=${pid}," <<<"${listen}" | awk '{print $1}' || true)"$'\n'
	peers+="$(grep "pid=${pid}," <<<"${conns}" | awk '{print $2}' || true)"$'\n'
done
badpeers="$(grep -vE '^$|^(127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]):' <<<"${peers}" | sort -u || true)"
if [[ -n "${badpeers}" ]]; then
	fail "connections to non-loopback peers: ${badpeers//$'\n'/ }"
else
	ok "all $(grep -c . <<<"${peers}" || true) open TCP connections of the dev cluster's processes have loopback peers"
fi
nonlocal="$(grep -vE '^$|^(127\.[0-9.]+|\[::1\]):' <<<"${sockets}" || true)"
count="$(grep -c . <<<"${sockets}" || true)"
if [[ "${count}" -eq 0 ]]; then
	fail "found no listening socket of the dev cluster's processes (is ss available?)"
elif [[ -n "${nonlocal}" ]]; then
	fail "listening beyond loopback: ${nonlocal//$'\n'/ }"
else
	ok "all ${count} listening sockets of the dev cluster's processes are on 127.0.0.1"
fi

echo
if ((failures > 0)); then
	echo "Smoke test: ${failures} failure(s)"
	exit 1
fi
echo "Smoke test passed"
