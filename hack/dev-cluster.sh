#!/usr/bin/env bash
# A local simulated Kubernetes cluster for developing the operator, built entirely
# from the Go module proxy: no Docker, no downloads from anywhere else, and no
# component reaches or listens on anything but loopback (127.0.0.0/8).
#
#   hack/dev-cluster.sh up       # build what is missing, start the cluster (idempotent)
#   hack/dev-cluster.sh down     # stop everything this script started, remove .dev-cluster/
#   hack/dev-cluster.sh status   # show what is running
#   hack/dev-cluster.sh tools    # only build the pinned binaries, print their folders
#
# (make dev-cluster / dev-cluster-down / dev-cluster-status / dev-cluster-tools)
#
# What "up" gives you:
#   - kwokctl (runtime "binary") running etcd, kube-apiserver, kube-controller-manager
#     (real Deployment, ReplicaSet, GC and HPA controllers), kube-scheduler, the kwok
#     controller (fakes nodes and pods) and metrics-server, as local processes;
#   - 3 fake nodes (32 CPU, 256Gi, 110 pods each), all with InternalIP 127.0.0.1;
#   - simulated CPU/memory usage: a pod annotated kwok.x-k8s.io/usage-cpu: "400m"
#     reports 400m to metrics-server (use hack/load.sh cpu ...);
#   - custom.metrics.k8s.io (v1beta2, v1beta1) and external.metrics.k8s.io (v1beta1)
#     served by a metrics adapter process whose values you set with hack/load.sh;
#   - an HPA loop that reacts in seconds (HPA sync 5s, metrics resolution 10s).
#
# Everything lives under .dev-cluster/ in the repository (git-ignored):
#   .dev-cluster/kubeconfig                 the cluster's kubeconfig (~/.kube/config is never touched)
#   .dev-cluster/kwok/clusters/<name>/logs  logs of etcd, kube-*, kwok-controller, metrics-server
#   .dev-cluster/metrics-adapter/           the adapter's pid file, log, ports and certificate
# The binaries are cached under bin/ in versioned folders and reused.
#
# Environment: DEV_CLUSTER_NAME (default inference-operator) and DEV_CLUSTER_DIR (default
# .dev-cluster) run a second cluster beside the first, for example
#   DEV_CLUSTER_NAME=helm DEV_CLUSTER_DIR=$PWD/.dev-cluster-helm hack/dev-cluster.sh up
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

# --- Pinned versions -------------------------------------------------------------------
KWOK_VERSION="v0.8.0"
METRICS_SERVER_VERSION="v0.8.0"
# The metrics adapter wraps sigs.k8s.io/custom-metrics-apiserver's test adapter; its
# version is pinned in hack/tools/cluster/go.mod.
adapter_module_dir="${root}/hack/tools/cluster"
CUSTOM_METRICS_APISERVER_VERSION="$(awk '$1 == "sigs.k8s.io/custom-metrics-apiserver" {print $2; exit}' "${adapter_module_dir}/go.mod")"

# --- Settings (environment overrides) ----------------------------------------------------
CLUSTER_NAME="${DEV_CLUSTER_NAME:-inference-operator}"
NODES="${DEV_CLUSTER_NODES:-3}"
BIN_DIR="${LOCALBIN:-${root}/bin}"

state_dir="${DEV_CLUSTER_DIR:-${root}/.dev-cluster}"
kubeconfig="${state_dir}/kubeconfig"
adapter_dir="${state_dir}/metrics-adapter"
# kwokctl keeps its clusters and download cache under KWOK_WORKDIR (default ~/.kwok).
export KWOK_WORKDIR="${state_dir}/kwok"
cluster_dir="${KWOK_WORKDIR}/clusters/${CLUSTER_NAME}"
# kubectl (ours, and the one kwokctl runs for `kubectl kustomize`) caches API discovery
# under ~/.kube/cache by default; keep that inside .dev-cluster/ too.
export KUBECACHEDIR="${state_dir}/kube-cache"

goos="$(go env GOOS)"
goarch="$(go env GOARCH)"
kwok_bin_dir="${BIN_DIR}/dev-cluster/kwok-${KWOK_VERSION}-${goos}-${goarch}"
metrics_server_bin_dir="${BIN_DIR}/dev-cluster/metrics-server-${METRICS_SERVER_VERSION}-${goos}-${goarch}"
adapter_bin_dir="${BIN_DIR}/dev-cluster/metrics-adapter-${CUSTOM_METRICS_APISERVER_VERSION}-${goos}-${goarch}"
adapter_bin="${adapter_bin_dir}/metrics-adapter"
kwokctl="${kwok_bin_dir}/kwokctl"

step() { echo "==> $*"; }
info() { echo "    $*"; }
die() {
	echo "ERROR: $*" >&2
	exit 1
}
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

# --- Building the pinned binaries --------------------------------------------------------

# go_install_into DIR PKG@VERSION... installs the packages with `go install` into a
# temporary folder and moves them into DIR only when all built, so an interrupted
# build never leaves a half-populated versioned folder that later runs would trust.
go_install_into() {
	local dir="$1"
	shift
	local tmp="${dir}.tmp"
	rm -rf "${tmp}"
	mkdir -p "${tmp}"
	# CGO off: static binaries, and no C toolchain needed.
	CGO_ENABLED=0 GOBIN="${tmp}" go install -trimpath "$@"
	mkdir -p "${dir}"
	mv "${tmp}"/* "${dir}/"
	rmdir "${tmp}"
}

build_tools() {
	local start=${SECONDS}

	step "Control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) from hack/build-control-plane.sh"
	cp_dir="$("${root}/hack/build-control-plane.sh" etcd kube-apiserver kubectl kube-controller-manager kube-scheduler | tail -n 1)"
	info "${cp_dir}"
	kubectl_bin="${KUBECTL:-${cp_dir}/kubectl}"
	# A KUBECTL given by the Makefile may be a path that does not exist yet; ours does.
	[[ -x "${kubectl_bin}" ]] || kubectl_bin="${cp_dir}/kubectl"

	if [[ ! -x "${kwok_bin_dir}/kwok" || ! -x "${kwok_bin_dir}/kwokctl" ]]; then
		step "Building kwok and kwokctl ${KWOK_VERSION} (first time only, about 1.5 min on 2 cores)"
		go_install_into "${kwok_bin_dir}" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" "sigs.k8s.io/kwok/cmd/kwokctl@${KWOK_VERSION}"
	fi
	info "kwok, kwokctl: ${kwok_bin_dir}"

	if [[ ! -x "${metrics_server_bin_dir}/metrics-server" ]]; then
		step "Building metrics-server ${METRICS_SERVER_VERSION} (first time only, about 2.5 min on 2 cores)"
		# Stamp the version like metrics-server's own Makefile does (kwokctl reads it
		# with --version; unstamped it says v0.0.0-master).
		go_install_into "${metrics_server_bin_dir}" \
			-ldflags "-w -X k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER_VERSION}" \
			"sigs.k8s.io/metrics-server/cmd/metrics-server@${METRICS_SERVER_VERSION}"
	fi
	info "metrics-server: ${metrics_server_bin_dir}"

	# The adapter is built from this repository's wrapper module, so it is rebuilt when
	# its sources change, not only when the folder is missing.
	if [[ ! -x "${adapter_bin}" || "${adapter_module_dir}/metrics-adapter/main.go" -nt "${adapter_bin}" ||
		"${adapter_module_dir}/go.mod" -nt "${adapter_bin}" || "${adapter_module_dir}/go.sum" -nt "${adapter_bin}" ]]; then
		step "Building the metrics adapter (custom-metrics-apiserver ${CUSTOM_METRICS_APISERVER_VERSION}; first time only, about 3 min on 2 cores)"
		mkdir -p "${adapter_bin_dir}"
		(cd "${adapter_module_dir}" && CGO_ENABLED=0 go build -trimpath -o "${adapter_bin}.tmp" ./metrics-adapter)
		mv "${adapter_bin}.tmp" "${adapter_bin}"
	fi
	info "metrics-adapter: ${adapter_bin_dir}"
	info "(tools ready in $((SECONDS - start))s)"
}

# --- Helpers ------------------------------------------------------------------------------

kwokctl_run() {
	# --config: our settings (loopback binding, flags, node template) and the kwok
	# Stages (pods turn Ready after a short delay). The local kubectl goes first on PATH
	# because kwokctl runs `kubectl kustomize` for the metrics-server manifests and
	# would otherwise download kubectl.
	PATH="$(dirname "${kubectl_bin}"):${PATH}" "${kwokctl}" --name "${CLUSTER_NAME}" \
		--config "${root}/hack/dev-cluster/kwokctl.yaml" \
		--config "${root}/hack/dev-cluster/stages.yaml" "$@"
}

k() { "${kubectl_bin}" --kubeconfig "${kubeconfig}" "$@"; }

apiserver_ready() {
	[[ -f "${kubeconfig}" ]] && k get --raw /readyz >/dev/null 2>&1
}

# free_port prints a TCP port that nothing listens on at 127.0.0.1.
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
		return
	fi
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 10000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null; then
			echo "${p}"
			return
		fi
	done
	die "no free port found"
}

# adapter_pid prints the adapter's pid when the process in the pid file is alive and
# really is our adapter (a stale pid may have been reused by another process).
adapter_pid() {
	local pid
	[[ -f "${adapter_dir}/adapter.pid" ]] || return 1
	pid="$(cat "${adapter_dir}/adapter.pid")"
	[[ -n "${pid}" && -r "/proc/${pid}/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -qF -- "--cert-dir=${adapter_dir}/certs" || return 1
	echo "${pid}"
}

# --- Cluster ------------------------------------------------------------------------------

start_kwok_cluster() {
	if [[ -f "${cluster_dir}/kwok.yaml" ]]; then
		if apiserver_ready; then
			step "Cluster ${CLUSTER_NAME} is already running"
			return
		fi
		step "Cluster ${CLUSTER_NAME} exists but is stopped (for example after a reboot): starting it"
		kwokctl_run start cluster --wait 60s >"${state_dir}/kwokctl-start.log" 2>&1 ||
			die "kwokctl start cluster failed, see ${state_dir}/kwokctl-start.log; 'make dev-cluster-down' then 'make dev-cluster' recreates it"
		return
	fi

	step "Creating cluster ${CLUSTER_NAME} with kwokctl (runtime: local processes)"
	mkdir -p "${state_dir}"
	local start=${SECONDS} dead
	create_kwok_cluster
	# A component can exit at once when it starts before the API server answers
	# (metrics-server panics when it cannot read the extension-apiserver-authentication
	# ConfigMap; seen on a busy machine), and kwokctl's --wait does not notice. The cluster
	# is then created once more.
	if dead="$(dead_components)"; then
		info "exited right after the start: ${dead}; creating the cluster once more"
		for name in ${dead}; do tail -n 5 "${cluster_dir}/logs/${name}.log" 2>/dev/null | sed 's/^/    /'; done
		"${kwokctl}" --name "${CLUSTER_NAME}" delete cluster --kubeconfig "${kubeconfig}" >"${state_dir}/kwokctl-delete.log" 2>&1 || true
		create_kwok_cluster
		if dead="$(dead_components)"; then
			die "exited right after the start again: ${dead}; see ${cluster_dir}/logs/"
		fi
	fi
	info "created in $((SECONDS - start))s (kwokctl output: ${state_dir}/kwokctl-create.log)"
}

# dead_components prints the names of the cluster's components whose process is gone
# (kwokctl's pid files), and fails when every one runs.
dead_components() {
	local pid_file dead=()
	for pid_file in "${cluster_dir}"/pids/*.pid; do
		[[ -f "${pid_file}" ]] || continue
		# lib.sh's alive: a zombie (exited, not reaped) is dead too.
		alive "$(cat "${pid_file}")" || dead+=("$(basename "${pid_file}" .pid)")
	done
	((${#dead[@]})) || return 1
	echo "${dead[*]}"
}

create_kwok_cluster() {
	# --kubeconfig: kwokctl adds its context to ~/.kube/config unless told otherwise.
	# --enable metrics-server: the resource metrics API (kubectl top, CPU HPAs); its
	#   manifests come from hack/dev-cluster/metrics-server (see kwokctl.yaml).
	# --enable-crds: kwok's Metric and (Cluster)ResourceUsage kinds, which turn pod
	#   annotations into simulated CPU/memory usage served on the fake kubelet endpoint.
	# --wait: return only when the API server and the components answer.
	kwokctl_run create cluster \
		--kubeconfig "${kubeconfig}" \
		--etcd-binary "${cp_dir}/etcd" \
		--kube-apiserver-binary "${cp_dir}/kube-apiserver" \
		--kube-controller-manager-binary "${cp_dir}/kube-controller-manager" \
		--kube-scheduler-binary "${cp_dir}/kube-scheduler" \
		--kwok-controller-binary "${kwok_bin_dir}/kwok" \
		--enable metrics-server \
		--metrics-server-binary "${metrics_server_bin_dir}/metrics-server" \
		--enable-crds Metric,ClusterResourceUsage,ResourceUsage \
		--wait 60s >"${state_dir}/kwokctl-create.log" 2>&1 ||
		die "kwokctl create cluster failed, see ${state_dir}/kwokctl-create.log and ${cluster_dir}/logs/"
}

add_nodes() {
	step "Fake nodes: ${NODES} (template 'node' in hack/dev-cluster/kwokctl.yaml, InternalIP 127.0.0.1)"
	# Idempotent: kwokctl scale creates only the missing nodes (node-0, node-1, ...).
	kwokctl_run scale node --replicas "${NODES}" --serial-length 1 >"${state_dir}/kwokctl-scale.log" 2>&1 ||
		die "kwokctl scale node failed, see ${state_dir}/kwokctl-scale.log"
	k wait --for=condition=Ready node --all --timeout=60s >/dev/null
	k get nodes -o wide | sed 's/^/    /'
}

setup_simulated_usage() {
	step "Simulated resource usage from pod annotations kwok.x-k8s.io/usage-cpu and usage-memory"
	local kwok_src
	# The kwok module source is already in the Go module cache (kwok was built from it).
	kwok_src="$(cd / && go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	[[ -d "${kwok_src}" ]] || die "kwok module source not found"
	# metrics-resource.yaml: the kubelet-style /metrics/nodes/{node}/metrics/resource
	# endpoint metrics-server scrapes (cumulative CPU, working-set memory).
	# usage-from-annotation.yaml: usage = the pod's annotation, default 1m CPU / 1Mi.
	k apply -f "${kwok_src}/kustomize/metrics/resource/metrics-resource.yaml" \
		-f "${kwok_src}/kustomize/metrics/usage/usage-from-annotation.yaml" | sed 's/^/    /'
}

# --- Metrics adapter ----------------------------------------------------------------------

start_adapter() {
	local pid
	if pid="$(adapter_pid)"; then
		step "Metrics adapter already running (pid ${pid})"
		return
	fi
	step "Starting the custom/external metrics adapter on 127.0.0.1"
	mkdir -p "${adapter_dir}/certs"
	local secure_port write_port
	secure_port="$(free_port)"
	write_port="$(free_port)"
	while [[ "${write_port}" == "${secure_port}" ]]; do write_port="$(free_port)"; done
	printf 'ADAPTER_SECURE_PORT=%s\nADAPTER_WRITE_PORT=%s\n' "${secure_port}" "${write_port}" >"${adapter_dir}/ports"

	# kwokctl's own kubeconfig for the cluster (admin client certificate).
	local kc="${cluster_dir}/kubeconfig.yaml"
	# Flags, mirroring how kwokctl runs metrics-server:
	#  --bind-address/--secure-port: the aggregated API (HTTPS), loopback only.
	#  --cert-dir: where it writes its self-signed serving certificate (default is a
	#    folder relative to the current directory).
	#  --lister-kubeconfig: the client it uses to list pods for selector queries.
	#  --authentication-/--authorization-kubeconfig: delegated authn/authz against the
	#    API server (TokenReview/SubjectAccessReview), and the front-proxy CA and
	#    X-Remote-* header names read from kube-system/extension-apiserver-authentication.
	#  --write-address: plain-HTTP endpoint for hack/load.sh's metric writes.
	# setsid: its own session, so it survives the shell (and make) that started it.
	setsid "${adapter_bin}" \
		--bind-address=127.0.0.1 \
		--secure-port="${secure_port}" \
		--cert-dir="${adapter_dir}/certs" \
		--lister-kubeconfig="${kc}" \
		--authentication-kubeconfig="${kc}" \
		--authorization-kubeconfig="${kc}" \
		--write-address="127.0.0.1:${write_port}" \
		>"${adapter_dir}/adapter.log" 2>&1 </dev/null &
	echo $! >"${adapter_dir}/adapter.pid"
	info "pid $(cat "${adapter_dir}/adapter.pid"), HTTPS 127.0.0.1:${secure_port}, writes http://127.0.0.1:${write_port}, log ${adapter_dir}/adapter.log"

	step "Registering custom.metrics.k8s.io and external.metrics.k8s.io (APIServices -> ExternalName Service -> 127.0.0.1:${secure_port})"
	sed "s/__ADAPTER_PORT__/${secure_port}/" "${root}/hack/dev-cluster/metrics-adapter/apiservices.yaml" | k apply -f - | sed 's/^/    /'
	local api
	for api in v1beta2.custom.metrics.k8s.io v1beta1.custom.metrics.k8s.io v1beta1.external.metrics.k8s.io; do
		if ! k wait --for=condition=Available "apiservice/${api}" --timeout=60s >/dev/null; then
			adapter_pid >/dev/null || info "the adapter exited; last lines of its log:"
			tail -n 20 "${adapter_dir}/adapter.log" >&2
			die "APIService ${api} did not become Available"
		fi
	done
	info "APIServices Available"
}

stop_adapter() {
	local pid
	if pid="$(adapter_pid)"; then
		step "Stopping the metrics adapter (pid ${pid})"
		kill "${pid}" 2>/dev/null || true
		for _ in $(seq 1 50); do
			[[ -d "/proc/${pid}" ]] || break
			sleep 0.2
		done
		if [[ -d "/proc/${pid}" ]]; then
			kill -9 "${pid}" 2>/dev/null || true
		fi
	fi
	rm -f "${adapter_dir}/adapter.pid"
}

# --- Commands -----------------------------------------------------------------------------

print_usage_hints() {
	cat <<EOF

The cluster is up. Use it with:

    export KUBECONFIG=${kubeconfig}

  kubectl:         ${kubectl_bin}
  simulated load:  hack/load.sh cpu <inferenceservice> 400m
                   hack/load.sh queue <inferenceservice> 30
                   hack/load.sh external <metric> 5
  logs:            ${cluster_dir}/logs/  and  ${adapter_dir}/adapter.log
  stop:            make dev-cluster-down
EOF
}

cmd_up() {
	local start=${SECONDS}
	build_tools
	mkdir -p "${state_dir}"
	start_kwok_cluster
	add_nodes
	setup_simulated_usage
	start_adapter
	step "Ready in $((SECONDS - start))s"
	print_usage_hints
}

cmd_down() {
	stop_operator
	stop_adapter
	if [[ -d "${cluster_dir}" ]]; then
		step "Deleting cluster ${CLUSTER_NAME} (stops etcd, kube-*, kwok-controller, metrics-server)"
		# --kubeconfig: remove the context from our kubeconfig, not from ~/.kube/config.
		"${kwokctl}" --name "${CLUSTER_NAME}" delete cluster --kubeconfig "${kubeconfig}" >"${state_dir}/kwokctl-delete.log" 2>&1 ||
			info "kwokctl delete cluster reported an error (${state_dir}/kwokctl-delete.log); checking for leftover processes"
	fi
	stop_leftovers
	step "Removing ${state_dir}"
	rm -rf "${state_dir}"
	step "Dev cluster is down"
}

# stop_operator stops the operator process that `make demo` started, if it runs.
stop_operator() {
	local pid_file="${state_dir}/operator.pid" pid
	[[ -f "${pid_file}" ]] || return 0
	pid="$(cat "${pid_file}")"
	if kill -0 "${pid}" 2>/dev/null; then
		step "Stopping the operator started by make demo (pid ${pid})"
		kill "${pid}" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "${pid}" 2>/dev/null || break
			sleep 1
		done
		kill -9 "${pid}" 2>/dev/null || true
	fi
	rm -f "${pid_file}"
}

# stop_leftovers stops, by pid, any process still running one of the dev cluster's
# binaries with a command line naming a file under .dev-cluster/ (so an envtest API
# server started from the same binary is never touched). After a clean delete there
# are none; this catches components orphaned by an interrupted run.
stop_leftovers() {
	local cp_bins ours=() dir pid exe
	cp_bins="$("${root}/hack/build-control-plane.sh" --print-path)"
	for dir in /proc/[0-9]*; do
		pid="${dir#/proc/}"
		[[ "${pid}" == "$$" ]] && continue
		exe="$(readlink "/proc/${pid}/exe" 2>/dev/null)" || continue
		case "${exe}" in
		"${cp_bins}"/* | "${kwok_bin_dir}"/* | "${metrics_server_bin_dir}"/* | "${adapter_bin_dir}"/*) ;;
		*) continue ;;
		esac
		if tr '\0' ' ' 2>/dev/null <"/proc/${pid}/cmdline" | grep -qF "${state_dir}/"; then
			ours+=("${pid}")
		fi
	done
	[[ ${#ours[@]} -gt 0 ]] || return 0
	step "Stopping leftover dev-cluster processes: ${ours[*]}"
	kill "${ours[@]}" 2>/dev/null || true
	sleep 2
	for pid in "${ours[@]}"; do
		if [[ -d "/proc/${pid}" ]]; then kill -9 "${pid}" 2>/dev/null || true; fi
	done
}

cmd_status() {
	if [[ ! -d "${cluster_dir}" ]]; then
		echo "No dev cluster (run: make dev-cluster)"
		return 0
	fi
	kubectl_bin="$("${root}/hack/build-control-plane.sh" --print-path)/kubectl"
	step "kwokctl components"
	"${kwokctl}" --name "${CLUSTER_NAME}" get components 2>/dev/null | sed 's/^/    /' || true
	local pid
	if pid="$(adapter_pid)"; then
		step "Metrics adapter: running (pid ${pid}; $(tr '\n' ' ' <"${adapter_dir}/ports"))"
	else
		step "Metrics adapter: not running (make dev-cluster starts it)"
	fi
	if apiserver_ready; then
		step "Nodes"
		k get nodes -o wide | sed 's/^/    /'
		step "Aggregated APIs"
		k get apiservices | grep -v Local | sed 's/^/    /'
	else
		step "API server not answering"
	fi
	echo
	echo "    export KUBECONFIG=${kubeconfig}"
}

case "${1:-up}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
tools) build_tools ;;
*)
	echo "usage: $0 [up|down|status|tools]" >&2
	exit 2
	;;
esac
