#!/usr/bin/env bash
# Simulated load for the local dev cluster (make dev-cluster). Always talks to that
# cluster (.dev-cluster/kubeconfig), whatever KUBECONFIG says.
#
#   hack/load.sh cpu      <inferenceservice> <cpu, e.g. 400m>   [-n ns] [--total] [--watch]
#   hack/load.sh memory   <inferenceservice> <bytes, e.g. 2Gi>  [-n ns] [--total] [--watch]
#   hack/load.sh queue    <inferenceservice> <value, e.g. 30>   [-n ns] [--total] [--watch] [--metric NAME]
#   hack/load.sh external <metric-name> <value, e.g. 5>         [-n ns] [--labels k=v,...]
#   hack/load.sh show     <inferenceservice>                    [-n ns]
#
# Pods of an InferenceService are found by the label
# serving.inferenceops.dev/inferenceservice=<name> (namespace "default" unless -n).
#
# cpu/memory annotate the running pods with kwok.x-k8s.io/usage-cpu / usage-memory;
#   kwok turns that into the usage metrics-server reports (kubectl top, CPU HPAs).
#   The pods are annotated, not the Deployment: the operator owns the pod template.
# queue writes the Pods custom metric inference_queue_length for each running pod to
#   the metrics adapter (custom.metrics.k8s.io).
# external writes an external metric (external.metrics.k8s.io) in a namespace.
#
# The value is PER POD by default. Two options change how pods added later (by a
# scale-out) are treated, since new pods do not inherit an annotation or a metric:
#   (default)  apply once to the pods running now; new pods start idle (1m CPU, 1Mi,
#              no queue metric) - re-run to include them.
#   --watch    keep applying every 2s until Ctrl-C, so new pods get the same load.
#              Per-pod load then never drops when the HPA adds pods: it scales to max.
#   --total    the value is the TOTAL load of the service, spread evenly over its
#              running pods (800m on 4 pods = 200m each), like real traffic. With
#              --watch it is re-spread as pods come and go, so an HPA settles at the
#              replica count that brings the per-pod value under its target.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state_dir="${DEV_CLUSTER_DIR:-${root}/.dev-cluster}"
kubeconfig="${state_dir}/kubeconfig"
export KUBECACHEDIR="${state_dir}/kube-cache"
label_key="serving.inferenceops.dev/inferenceservice"
interval=2

usage() {
	# The comment block at the top of this file is the help text.
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
	exit 2
}
die() {
	echo "ERROR: $*" >&2
	exit 1
}

[[ $# -ge 1 ]] || usage
cmd="$1"
shift

namespace="default"
total=false
watch=false
metric="inference_queue_length"
labels=""
args=()
while [[ $# -gt 0 ]]; do
	case "$1" in
	-n | --namespace)
		namespace="${2:?-n needs a namespace}"
		shift 2
		;;
	--total)
		total=true
		shift
		;;
	--watch)
		watch=true
		shift
		;;
	--metric)
		metric="${2:?--metric needs a name}"
		shift 2
		;;
	--labels)
		labels="${2:?--labels needs k=v,...}"
		shift 2
		;;
	-h | --help) usage ;;
	-*) die "unknown option $1" ;;
	*)
		args+=("$1")
		shift
		;;
	esac
done

[[ -f "${kubeconfig}" ]] || die "no dev cluster (${kubeconfig} missing); start it with: make dev-cluster"
kubectl_bin="${KUBECTL:-$("${root}/hack/build-control-plane.sh" --print-path)/kubectl}"
k() { "${kubectl_bin}" --kubeconfig "${kubeconfig}" "$@"; }

write_url() {
	local ports="${state_dir}/metrics-adapter/ports"
	[[ -f "${ports}" ]] || die "the metrics adapter is not set up; run: make dev-cluster"
	# shellcheck disable=SC1090
	source "${ports}"
	echo "http://127.0.0.1:${ADAPTER_WRITE_PORT}"
}

# to_milli QUANTITY prints the quantity in thousandths (400m -> 400, 1.5 -> 1500,
# 30 -> 30000). Only plain and milli quantities: CPU and metric values.
to_milli() {
	local q="$1"
	if [[ "${q}" =~ ^[0-9]+m$ ]]; then
		echo "${q%m}"
	elif [[ "${q}" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
		awk -v v="${q}" 'BEGIN { printf "%d\n", v * 1000 + 0.5 }'
	else
		die "'${q}' is not a number or a milli quantity (like 30, 1.5 or 400m)"
	fi
}

# to_bytes QUANTITY prints a memory quantity in bytes (2Gi, 512Mi, 1G, 1000).
to_bytes() {
	local q="$1" n unit
	[[ "${q}" =~ ^([0-9]+)([KMGT]i?)?$ ]] || die "'${q}' is not a memory quantity (like 512Mi or 2Gi)"
	n="${BASH_REMATCH[1]}"
	unit="${BASH_REMATCH[2]}"
	case "${unit}" in
	"") echo "${n}" ;;
	K) echo $((n * 1000)) ;;
	M) echo $((n * 1000 ** 2)) ;;
	G) echo $((n * 1000 ** 3)) ;;
	T) echo $((n * 1000 ** 4)) ;;
	Ki) echo $((n * 1024)) ;;
	Mi) echo $((n * 1024 ** 2)) ;;
	Gi) echo $((n * 1024 ** 3)) ;;
	Ti) echo $((n * 1024 ** 4)) ;;
	esac
}

# running_pods prints "name annotation-value" for each Running, not terminating pod
# of the InferenceService (annotation value empty when not set).
running_pods() {
	local annotation="${1:-none}"
	local path="{.metadata.annotations.${annotation//./\\.}}"
	# Terminating pods (deletionTimestamp set) are left out: they are going away.
	k get pods -n "${namespace}" -l "${label_key}=${service}" --field-selector=status.phase=Running \
		-o jsonpath="{range .items[*]}{.metadata.name}{\"|\"}{.metadata.deletionTimestamp}{\"|\"}${path}{\"\\n\"}{end}" |
		awk -F'|' '$1 != "" && $2 == "" { print $1, $3 }'
}

# per_pod_value prints the value each of N pods gets: the given value, or with
# --total the value divided by N.
per_pod_value() {
	local kind="$1" value="$2" n="$3"
	if ! ${total}; then
		echo "${value}"
		return
	fi
	case "${kind}" in
	memory) echo "$(($(to_bytes "${value}") / n))" ;;
	*)
		local milli=$(($(to_milli "${value}") / n))
		if ((milli % 1000 == 0)); then echo "$((milli / 1000))"; else echo "${milli}m"; fi
		;;
	esac
}

# annotate_once KIND VALUE: one pass of cpu/memory. Prints what changed.
annotate_once() {
	local kind="$1" value="$2" annotation="kwok.x-k8s.io/usage-$1"
	local lines n each name current todo=()
	lines="$(running_pods "${annotation}")"
	n="$(grep -c . <<<"${lines}" || true)"
	if [[ "${n}" -eq 0 ]]; then
		echo "$(date +%T) no Running pods with ${label_key}=${service} in namespace ${namespace}"
		return 3
	fi
	each="$(per_pod_value "${kind}" "${value}" "${n}")"
	while read -r name current; do
		[[ -n "${name}" && "${current}" != "${each}" ]] && todo+=("${name}")
	done <<<"${lines}"
	[[ ${#todo[@]} -gt 0 ]] || return 0
	k annotate pods -n "${namespace}" "${todo[@]}" "${annotation}=${each}" --overwrite >/dev/null
	echo "$(date +%T) ${kind} ${each} on ${#todo[@]} pod(s) of ${n} (${namespace}/${service}): ${todo[*]}"
}

# queue_once VALUE: one pass of the queue metric: writes it for every running pod.
queue_once() {
	local value="$1" url lines n each name
	url="$(write_url)"
	lines="$(running_pods)"
	n="$(grep -c . <<<"${lines}" || true)"
	if [[ "${n}" -eq 0 ]]; then
		echo "$(date +%T) no Running pods with ${label_key}=${service} in namespace ${namespace}"
		return 3
	fi
	each="$(per_pod_value queue "${value}" "${n}")"
	local names=()
	while read -r name _; do
		[[ -n "${name}" ]] || continue
		curl -fsS -X POST -H 'Content-Type: application/json' --data-raw "\"${each}\"" \
			"${url}/write-metrics/namespaces/${namespace}/pods/${name}/${metric}" >/dev/null ||
			die "writing ${metric} for pod ${name} failed (is the adapter running? make dev-cluster-status)"
		names+=("${name}")
	done <<<"${lines}"
	# Rewriting the same value is harmless, so only report changes in the pod set.
	local summary="${metric}=${each} on ${n} pod(s) (${namespace}/${service}): ${names[*]}"
	if [[ "${summary}" != "${last_summary:-}" ]]; then
		echo "$(date +%T) ${summary}"
		last_summary="${summary}"
	fi
}

run() {
	local fn="$1" rc=0
	shift
	"${fn}" "$@" || rc=$?
	if ${watch}; then
		echo "Watching for new pods every ${interval}s (Ctrl-C to stop)..."
		while sleep "${interval}"; do
			# "No pods" (rc 3) is expected while a rollout or scale-in is under way.
			"${fn}" "$@" || true
		done
	fi
	# Once, nothing to apply it to: most likely a wrong name or namespace.
	[[ ${rc} -eq 0 ]] || exit "${rc}"
	if ! ${total}; then
		echo "Note: pods added later (for example by an HPA scale-out) start without this load;"
		echo "      re-run this command, or add --watch to keep applying it, or --total to spread a total load."
	else
		echo "Note: the total is spread over the pods running now; add --watch to re-spread it as pods change."
	fi
}

case "${cmd}" in
cpu | memory)
	[[ ${#args[@]} -eq 2 ]] || usage
	service="${args[0]}"
	if [[ "${cmd}" == cpu ]]; then to_milli "${args[1]}" >/dev/null; else to_bytes "${args[1]}" >/dev/null; fi
	run annotate_once "${cmd}" "${args[1]}"
	;;
queue)
	[[ ${#args[@]} -eq 2 ]] || usage
	service="${args[0]}"
	to_milli "${args[1]}" >/dev/null
	run queue_once "${args[1]}"
	;;
external)
	[[ ${#args[@]} -eq 2 ]] || usage
	name="${args[0]}"
	to_milli "${args[1]}" >/dev/null
	url="$(write_url)/write-external-metrics/namespaces/${namespace}/${name}"
	[[ -z "${labels}" ]] || url+="?labels=${labels}"
	curl -fsS -X POST -H 'Content-Type: application/json' --data-raw "\"${args[1]}\"" "${url}" >/dev/null ||
		die "writing external metric ${name} failed (is the adapter running? make dev-cluster-status)"
	echo "external metric ${name}${labels:+{${labels}\}}=${args[1]} in namespace ${namespace}"
	echo "  check: kubectl get --raw '/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/${name}'"
	;;
show)
	[[ ${#args[@]} -eq 1 ]] || usage
	service="${args[0]}"
	echo "Pods of ${namespace}/${service} (annotations kwok.x-k8s.io/usage-cpu, usage-memory):"
	k get pods -n "${namespace}" -l "${label_key}=${service}" \
		-o custom-columns='NAME:.metadata.name,PHASE:.status.phase,NODE:.spec.nodeName,USAGE-CPU:.metadata.annotations.kwok\.x-k8s\.io/usage-cpu,USAGE-MEMORY:.metadata.annotations.kwok\.x-k8s\.io/usage-memory'
	echo
	echo "metrics-server (kubectl top; updates every 10s, a new pod needs two samples):"
	k top pods -n "${namespace}" -l "${label_key}=${service}" 2>&1 || true
	echo
	echo "custom metric ${metric}:"
	k get --raw "/apis/custom.metrics.k8s.io/v1beta2/namespaces/${namespace}/pods/*/${metric}?labelSelector=${label_key}%3D${service}" 2>&1 |
		{ if command -v jq >/dev/null; then jq -r '.items[]? | "  \(.describedObject.name) \(.value)"'; else cat; fi; }
	;;
*) usage ;;
esac
