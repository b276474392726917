#!/usr/bin/env bash
# Prometheus and KEDA on the real local node (hack/real-node.sh): the autoscaling stack that
# turns a model server's own metrics into scaling. Both are built from the Go module proxy
# at a pinned version into bin/ (once) and run as processes inside the node's network and
# mount namespace, like the node's own components.
#
#   hack/autoscaling-stack.sh tools    build Prometheus and KEDA (first time only)
#   hack/autoscaling-stack.sh up       start the stack on the running real node; idempotent
#   hack/autoscaling-stack.sh down     stop what up started, by pid; remove its state; safe
#                                      and idempotent when nothing runs
#   hack/autoscaling-stack.sh status   what runs, Prometheus' targets, the APIService
#
# (make autoscaling-stack / autoscaling-stack-down / autoscaling-stack-status /
#  autoscaling-stack-tools / test-autoscaling-stack; `make dev-cluster` on the real node
#  starts it after the node, `make dev-cluster-down` and `hack/real-node.sh down` stop it)
#
# What runs:
#   - Prometheus, listening on http://10.250.0.1:9090 (the node IP, not loopback: every
#     process in the node's namespace reaches it there, and nothing outside the namespace
#     can; pods should reach it through their gateway too, which no test checks yet). It discovers pods through
#     the node's API server (kubernetes_sd, role pod, with a token of the ServiceAccount
#     monitoring/prometheus, which may get/list/watch pods) and scrapes every 5 s the pods
#     annotated
#         prometheus.io/scrape: "true"      (required)
#         prometheus.io/port:   "<port>"    (the metrics port)
#         prometheus.io/path:   "<path>"    (default /metrics)
#     Series carry the labels namespace, pod, node and the pod's labels (dots and slashes
#     as underscores). Configuration: hack/autoscaling/prometheus.yml.
#   - KEDA's CRDs (server-side applied), its RBAC (namespace keda, ServiceAccount
#     keda-operator, the module's own ClusterRoles and bindings, including the one that lets
#     kube-system/horizontal-pod-autoscaler read external metrics), the KEDA operator and
#     KEDA's metrics adapter. Operator and adapter talk gRPC on 127.0.0.1:9666 with mutual
#     TLS (one certificate from the cluster CA, serverAuth + clientAuth); the adapter serves
#     external.metrics.k8s.io on 10.250.0.1:6444 through the APIService
#     v1beta1.external.metrics.k8s.io (hack/autoscaling/keda-apiservice.yaml).
#   - KEDA's admission webhooks do NOT run (optional in KEDA): a ScaledObject is checked by
#     its CRD's schema at apply time and by the operator when it reconciles it (a bad one
#     gets Ready=False with KEDA's reason), not by a webhook.
#
# For the operator's KEDA mode: a ScaledObject's prometheus trigger reaches this Prometheus
# with
#       triggers:
#       - type: prometheus
#         metadata:
#           serverAddress: http://10.250.0.1:9090
#           query: sum(model_infer_requests_queued{namespace="NS",pod=~"NAME-.*"})
#           threshold: "5"
# (no authentication, plain HTTP). The address is also written to
# .real-node/autoscaling/stack.env (PROMETHEUS_URL=...) while the stack runs.
#
# Isolation: every process runs inside the node's namespace, which has no route out; the
# stack talks only to the API server, the pods, and itself. Neither Prometheus nor KEDA has
# update checks or telemetry by default; KEDA's OpenTelemetry exporter stays off
# (--enable-opentelemetry-metrics=false), its certificate rotation and webhook/APIService
# patching are off, and no scaler but the triggers' own addresses is ever called.
# `hack/real-node.sh guard` counts anything else (it must stay 0).
#
# State (configuration, certificates, tokens, Prometheus' data, pids, logs) lives in
# .real-node/autoscaling/ (REAL_NODE_DIR moves it with the node's state). down deletes
# the APIService (the aggregator would report it unavailable) and that folder; the CRDs,
# the namespaces and the RBAC stay in the cluster (deleting the CRDs would delete the
# ScaledObjects, whose finalizers nobody would remove); the next up applies them again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

# --- Pinned versions ---------------------------------------------------------------------
# github.com/prometheus/prometheus's Go module version of Prometheus 3.16 (the module proxy
# serves the v0.3xx.y tags; the v3 tags are not valid module versions).
PROMETHEUS_VERSION="v0.316.0"
KEDA_VERSION="v2.21.0"

# --- Settings (must match hack/real-node.sh) --------------------------------------------
BIN_DIR="${LOCALBIN:-${root}/bin}"
node_state="${REAL_NODE_DIR:-${root}/.real-node}"
case "${node_state}" in /*) ;; *) node_state="${root}/${node_state}" ;; esac
NODE_IP="10.250.0.1"
APISERVER_PORT=6443

PROMETHEUS_PORT=9090
PROMETHEUS_URL="http://${NODE_IP}:${PROMETHEUS_PORT}"
SCRAPE_INTERVAL="5s"
SCRAPE_TIMEOUT="4s"
# KEDA's ports: the operator's gRPC metrics service (the adapter's only client
# connection), its own metrics and health endpoints, the adapter's serving port and its
# own metrics port. All but the serving port on loopback.
KEDA_GRPC_ADDR="127.0.0.1:9666"
KEDA_OPERATOR_METRICS_ADDR="127.0.0.1:9667"
KEDA_OPERATOR_HEALTH_ADDR="127.0.0.1:9668"
KEDA_ADAPTER_PORT=6444
KEDA_ADAPTER_METRICS_PORT=9669

goos="$(go env GOOS)"
goarch="$(go env GOARCH)"
prometheus_dir="${BIN_DIR}/autoscaling/prometheus-${PROMETHEUS_VERSION}-k8s-sd-${goos}-${goarch}"
keda_dir="${BIN_DIR}/autoscaling/keda-${KEDA_VERSION}-${goos}-${goarch}"
prometheus_bin="${prometheus_dir}/prometheus"
keda_bin="${keda_dir}/keda"
keda_adapter_bin="${keda_dir}/keda-adapter"

state="${node_state}/autoscaling"
pids="${state}/pids"
logs="${state}/logs"
stack_env="${state}/stack.env"
pki="${node_state}/pki"
node_kubeconfig="${node_state}/kubeconfig"
ns_file="${node_state}/namespace.env"
kubectl_bin="$("${root}/hack/build-control-plane.sh" --print-path)/kubectl"
# The processes up starts, in the order down stops them.
PROCS=(keda-adapter keda-operator prometheus)

# The environment of every process of the stack: nothing of the calling shell's.
proc_env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent)

# step, info, warn, die, alive, holder_pid, start_proc, proc_pid, stop_proc and wait_for
# (shared with hack/real-node.sh) read node_state, ns_file, pids and logs; wait_established
# reads k (below).
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

# --- Tools --------------------------------------------------------------------------------

build_prometheus() {
	[[ -x "${prometheus_bin}" ]] && return 0
	step "Building Prometheus ${PROMETHEUS_VERSION} (first time only, about 5-9 min on 2 cores)"
	local t=${SECONDS} tmp="${prometheus_dir}.tmp"
	rm -rf "${tmp}"
	mkdir -p "${tmp}"
	# Without -tags builtinassets (an npm build of the web UI) the UI answers 500; the HTTP
	# API, which is all autoscaling reads, is complete. remove_all_sd,enable_kubernetes_sd
	# (Prometheus' own build tags, plugins/*.go) keep only the service discovery this
	# config uses (kubernetes_sd; file and http are always in): the other mechanisms' cloud
	# SDKs (AWS EC2, GCE compute, OpenStack, ...) are a large part of a cold build
	# (go list: 1,518 packages, 1,275 with the tags). The release build sets the version
	# with -X; so does this.
	(cd / && CGO_ENABLED=0 GOBIN="${tmp}" go install -trimpath -tags remove_all_sd,enable_kubernetes_sd \
		-ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v} -X github.com/prometheus/common/version.Branch=module-proxy" \
		"github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS_VERSION}")
	rm -rf "${prometheus_dir}"
	mv "${tmp}" "${prometheus_dir}"
	info "built in $((SECONDS - t))s: ${prometheus_bin}"
}

# keda_source prints the folder of KEDA's module source in the module cache.
keda_source() {
	local src
	src="$(cd / && go mod download -json "github.com/kedacore/keda/v2@${KEDA_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	[[ -n "${src}" && -f "${src}/go.mod" ]] || die "go mod download github.com/kedacore/keda/v2@${KEDA_VERSION} gave no source folder"
	echo "${src}"
}

# build_keda: `go install` refuses the module (its go.mod has replace and exclude lines), so
# it is built from a copy of the module's source in the module cache.
build_keda() {
	[[ -x "${keda_bin}" && -x "${keda_adapter_bin}" ]] && return 0
	step "Building KEDA ${KEDA_VERSION}: operator and metrics adapter (first time only, about 7-12 min on 2 cores)"
	local t=${SECONDS} tmp="${keda_dir}/bin.tmp" src work
	src="$(keda_source)"
	rm -rf "${tmp}"
	mkdir -p "${tmp}"
	work="$(mktemp -d)"
	cp -r "${src}/." "${work}/"
	chmod -R u+w "${work}"
	(cd "${work}" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/kedacore/keda/v2/version.Version=${KEDA_VERSION}" \
		-o "${tmp}/" ./cmd/operator ./cmd/adapter)
	rm -rf "${work}"
	mv "${tmp}/adapter" "${keda_adapter_bin}"
	mv "${tmp}/operator" "${keda_bin}"
	rmdir "${tmp}"
	info "built in $((SECONDS - t))s: ${keda_bin}, ${keda_adapter_bin}"
}

# keda_manifests: what up applies, from the module of the same version: the CRDs as KEDA's
# release renders them (kustomize build config/crd, with its schema patches) and the RBAC
# (namespace keda, ServiceAccount keda-operator, the operator's and the metrics server's
# roles and bindings, the aggregated keda:edit/keda:view roles).
keda_manifests() {
	[[ -f "${keda_dir}/manifests/crds.yaml" && -f "${keda_dir}/manifests/rbac.yaml" ]] && return 0
	local src kustomize tmp="${keda_dir}/manifests.tmp"
	src="$(keda_source)"
	make -s kustomize >/dev/null
	kustomize="${BIN_DIR}/kustomize"
	rm -rf "${tmp}"
	mkdir -p "${tmp}"
	"${kustomize}" build "${src}/config/crd" >"${tmp}/crds.yaml"
	{
		cat "${src}/config/general/namespace.yaml"
		echo "---"
		cat "${src}/config/service_account/service_account.yaml"
		echo "---"
		"${kustomize}" build "${src}/config/rbac"
		echo "---"
		cat "${src}/config/metrics-server/role.yaml"
		echo "---"
		cat "${src}/config/metrics-server/role_binding.yaml"
	} >"${tmp}/rbac.yaml"
	rm -rf "${keda_dir}/manifests"
	mv "${tmp}" "${keda_dir}/manifests"
	info "KEDA manifests: ${keda_dir}/manifests/{crds,rbac}.yaml"
}

cmd_tools() {
	mkdir -p "${keda_dir}"
	build_keda
	keda_manifests
	build_prometheus
	info "Prometheus: ${prometheus_bin}"
	info "KEDA:       ${keda_dir}"
}

tools_present() {
	[[ -x "${prometheus_bin}" && -x "${keda_bin}" && -x "${keda_adapter_bin}" && -f "${keda_dir}/manifests/crds.yaml" && -f "${keda_dir}/manifests/rbac.yaml" ]]
}

# --- The node's namespace -------------------------------------------------------------------

# holder_pid: hack/lib.sh.
in_ns() {
	local pid
	pid="$(holder_pid)" || die "the real node is not running (hack/real-node.sh up)"
	KUBECONFIG="${node_kubeconfig}" KUBECACHEDIR="${node_state}/kube-cache" nsenter -t "${pid}" -n -m -- "$@"
}

k() { in_ns "${kubectl_bin}" --kubeconfig "${node_kubeconfig}" "$@"; }

# --- Processes ------------------------------------------------------------------------------

# start_proc, proc_pid, stop_proc and wait_for: hack/lib.sh.

# --- Configuration ---------------------------------------------------------------------------

render() { # TEMPLATE OUT
	sed -e "s|@STATE@|${state}|g" -e "s|@PKI@|${pki}|g" -e "s|@NODE_IP@|${NODE_IP}|g" \
		-e "s|@APISERVER_PORT@|${APISERVER_PORT}|g" -e "s|@SCRAPE_INTERVAL@|${SCRAPE_INTERVAL}|g" \
		-e "s|@SCRAPE_TIMEOUT@|${SCRAPE_TIMEOUT}|g" -e "s|@ADAPTER_PORT@|${KEDA_ADAPTER_PORT}|g" \
		-e "s|@CA_BUNDLE@|$(base64 -w0 <"${pki}/ca.crt")|g" \
		"${root}/hack/autoscaling/$1" >"$2"
	! grep -n '@[A-Z_]*@' "$2" || die "unrendered placeholder in $2"
}

# token_kubeconfig FILE TOKENFILE: a kubeconfig for the node's API server (node IP) that
# authenticates with a ServiceAccount token read from TOKENFILE.
token_kubeconfig() {
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: real-node
  cluster:
    server: https://${NODE_IP}:${APISERVER_PORT}
    certificate-authority: ${pki}/ca.crt
users:
- name: serviceaccount
  user:
    tokenFile: $2
contexts:
- name: real-node
  context:
    cluster: real-node
    user: serviceaccount
current-context: real-node
EOF
}

# keda_certificate: ca.crt, tls.crt and tls.key in keda/certs, what KEDA's operator and
# adapter read from --cert-dir: one ECDSA certificate from the cluster CA for both ends of
# their mutual TLS (serverAuth + clientAuth) and for the adapter's serving port, which the
# API server's aggregator reaches as keda-metrics-apiserver.keda.svc.
keda_certificate() {
	local d="${state}/keda/certs"
	mkdir -p "${d}"
	cp "${pki}/ca.crt" "${d}/ca.crt"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/O=keda/CN=keda-operator" \
		-keyout "${d}/tls.key" -out "${d}/tls.csr" 2>/dev/null
	cat >"${d}/tls.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,IP:${NODE_IP},DNS:localhost,DNS:keda-operator.keda.svc,DNS:keda-operator.keda.svc.cluster.local,DNS:keda-metrics-apiserver.keda.svc,DNS:keda-metrics-apiserver.keda.svc.cluster.local
EOF
	openssl x509 -req -in "${d}/tls.csr" -CA "${pki}/ca.crt" -CAkey "${pki}/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 30 -extfile "${d}/tls.ext" -out "${d}/tls.crt" 2>/dev/null
	rm -f "${d}/tls.csr" "${d}/tls.ext"
	chmod 600 "${d}/tls.key"
}

# --- up ---------------------------------------------------------------------------------------

prometheus_ready() { in_ns curl -sf --max-time 2 "${PROMETHEUS_URL}/-/ready"; }
keda_operator_ready() { in_ns curl -sf --max-time 2 "http://${KEDA_OPERATOR_HEALTH_ADDR}/readyz"; }
external_metrics_available() {
	[[ "$(k get apiservice v1beta1.external.metrics.k8s.io -o 'jsonpath={.status.conditions[?(@.type=="Available")].status}')" == True ]]
}
all_running() {
	local p
	for p in "${PROCS[@]}"; do proc_pid "${p}" >/dev/null || return 1; done
}

cmd_up() {
	[[ "$(id -u)" == 0 ]] || die "the real node's stack needs root (nsenter into the node's namespaces)"
	local start=${SECONDS} t
	if ! holder_pid >/dev/null || ! k get --raw /readyz >/dev/null 2>&1; then
		die "the real node is not running: start it first (hack/real-node.sh up, or make dev-cluster)"
	fi
	if all_running && prometheus_ready >/dev/null 2>&1 && keda_operator_ready >/dev/null 2>&1 && external_metrics_available; then
		step "The autoscaling stack is already running"
		print_usage
		return
	fi
	if [[ -d "${state}" ]]; then
		step "A previous autoscaling stack was not stopped cleanly: cleaning up first"
		cmd_down
	fi
	tools_present || cmd_tools
	start=${SECONDS}
	mkdir -p "${state}" "${pids}" "${logs}" "${state}/prometheus/data" "${state}/keda"
	{
		echo "# hack/autoscaling-stack.sh: the stack on the real node (removed by down)"
		echo "PROMETHEUS_URL=${PROMETHEUS_URL}"
		echo "PROMETHEUS_VERSION=${PROMETHEUS_VERSION}"
		echo "KEDA_VERSION=${KEDA_VERSION}"
		echo "EXTERNAL_METRICS_ADAPTER=${NODE_IP}:${KEDA_ADAPTER_PORT}"
	} >"${stack_env}"

	step "Prometheus ${PROMETHEUS_VERSION} (${PROMETHEUS_URL}, pods annotated prometheus.io/scrape, every ${SCRAPE_INTERVAL})"
	k apply --server-side --field-manager=autoscaling-stack -f "${root}/hack/autoscaling/prometheus-rbac.yaml" >"${logs}/apply-prometheus-rbac.log"
	wait_for "ServiceAccount monitoring/prometheus" 30 k -n monitoring get serviceaccount prometheus
	k -n monitoring create token prometheus --duration=720h >"${state}/prometheus/token"
	chmod 600 "${state}/prometheus/token"
	render prometheus.yml "${state}/prometheus/prometheus.yml"
	start_proc prometheus "${prometheus_bin}" "${proc_env[@]}" -- \
		--config.file="${state}/prometheus/prometheus.yml" \
		--storage.tsdb.path="${state}/prometheus/data" --storage.tsdb.retention.time=12h \
		--web.listen-address="${NODE_IP}:${PROMETHEUS_PORT}" \
		--web.external-url="${PROMETHEUS_URL}/" \
		--log.level=info
	wait_for "Prometheus (${PROMETHEUS_URL}/-/ready)" 60 prometheus_ready

	step "KEDA ${KEDA_VERSION}: CRDs, RBAC, namespace keda"
	t=${SECONDS}
	# Server-side: the CRDs are too large for the last-applied annotation.
	k apply --server-side --force-conflicts --field-manager=autoscaling-stack -f "${keda_dir}/manifests/crds.yaml" >"${logs}/apply-keda-crds.log"
	k apply --server-side --force-conflicts --field-manager=autoscaling-stack -f "${keda_dir}/manifests/rbac.yaml" >"${logs}/apply-keda-rbac.log"
	local crd
	for crd in scaledobjects.keda.sh scaledjobs.keda.sh triggerauthentications.keda.sh clustertriggerauthentications.keda.sh; do
		wait_established "crd/${crd}" >/dev/null
	done
	wait_for "ServiceAccount keda/keda-operator" 30 k -n keda get serviceaccount keda-operator
	k -n keda create token keda-operator --duration=720h >"${state}/keda/token"
	chmod 600 "${state}/keda/token"
	token_kubeconfig "${state}/keda/kubeconfig" "${state}/keda/token"
	keda_certificate
	info "applied in $((SECONDS - t))s; certificate ${state}/keda/certs/tls.crt (cluster CA)"

	local keda_env=(WATCH_NAMESPACE= POD_NAMESPACE=keda KEDA_CLUSTER_OBJECT_NAMESPACE=keda
		"KUBECONFIG=${state}/keda/kubeconfig")
	step "KEDA operator (gRPC metrics service ${KEDA_GRPC_ADDR}, mutual TLS)"
	start_proc keda-operator "${keda_bin}" "${proc_env[@]}" "${keda_env[@]}" -- \
		--kubeconfig="${state}/keda/kubeconfig" \
		--leader-elect=false \
		--enable-cert-rotation=false --enable-webhook-patching=false --enable-apiservice-patching=false \
		--enable-opentelemetry-metrics=false \
		--cert-dir="${state}/keda/certs" --ca-dir="${state}/keda/certs" \
		--metrics-service-bind-address="${KEDA_GRPC_ADDR}" \
		--metrics-bind-address="${KEDA_OPERATOR_METRICS_ADDR}" \
		--health-probe-bind-address="${KEDA_OPERATOR_HEALTH_ADDR}" \
		--zap-log-level=info --zap-encoder=console --zap-time-encoding=rfc3339
	wait_for "KEDA operator (http://${KEDA_OPERATOR_HEALTH_ADDR}/readyz)" 90 keda_operator_ready

	step "KEDA metrics adapter (${NODE_IP}:${KEDA_ADAPTER_PORT}, APIService v1beta1.external.metrics.k8s.io)"
	start_proc keda-adapter "${keda_adapter_bin}" "${proc_env[@]}" "${keda_env[@]}" -- \
		--kubeconfig="${state}/keda/kubeconfig" \
		--lister-kubeconfig="${state}/keda/kubeconfig" \
		--authentication-kubeconfig="${state}/keda/kubeconfig" \
		--authorization-kubeconfig="${state}/keda/kubeconfig" \
		--metrics-service-address="${KEDA_GRPC_ADDR}" \
		--secure-port="${KEDA_ADAPTER_PORT}" --bind-address="${NODE_IP}" \
		--client-ca-file="${state}/keda/certs/ca.crt" \
		--tls-cert-file="${state}/keda/certs/tls.crt" --tls-private-key-file="${state}/keda/certs/tls.key" \
		--cert-dir="${state}/keda/certs" \
		--port="${KEDA_ADAPTER_METRICS_PORT}" \
		--zap-log-level=info
	render keda-apiservice.yaml "${state}/keda/apiservice.yaml"
	k apply --server-side --force-conflicts --field-manager=autoscaling-stack -f "${state}/keda/apiservice.yaml" >"${logs}/apply-keda-apiservice.log"
	wait_for "APIService v1beta1.external.metrics.k8s.io" 90 external_metrics_available

	echo "UP_SECONDS=$((SECONDS - start))" >>"${stack_env}"
	step "Autoscaling stack up in $((SECONDS - start))s"
	print_usage
}

print_usage() {
	cat <<EOF

Prometheus and KEDA run in the real node's namespace:

    Prometheus:  ${PROMETHEUS_URL}   (KEDA prometheus trigger: serverAddress: ${PROMETHEUS_URL})
                 scrapes pods annotated prometheus.io/scrape: "true", prometheus.io/port, prometheus.io/path
    query:       hack/real-node.sh exec curl -s '${PROMETHEUS_URL}/api/v1/query' --data-urlencode 'query=up'
    KEDA:        hack/kubectl get scaledobjects -A; hack/kubectl get --raw /apis/external.metrics.k8s.io/v1beta1
    logs:        ${logs}/
    stop:        make autoscaling-stack-down (hack/autoscaling-stack.sh down; the node's down stops it too)
EOF
}

# --- down -------------------------------------------------------------------------------------

cmd_down() {
	local p any=false
	[[ -d "${state}" ]] || return 0
	step "Stopping the autoscaling stack"
	# While the node runs, take the APIService away first: with its adapter gone, the
	# aggregator would report it unavailable and API discovery would stay incomplete.
	if holder_pid >/dev/null && k get --raw /readyz >/dev/null 2>&1; then
		k delete --ignore-not-found --wait=false apiservice v1beta1.external.metrics.k8s.io >/dev/null 2>&1 ||
			warn "could not delete the APIService v1beta1.external.metrics.k8s.io"
		k -n keda delete --ignore-not-found --wait=false service/keda-metrics-apiserver endpointslice/keda-metrics-apiserver >/dev/null 2>&1 || true
	fi
	for p in "${PROCS[@]}"; do
		proc_pid "${p}" >/dev/null && any=true
		stop_proc "${p}"
	done
	for p in "${PROCS[@]}"; do
		proc_pid "${p}" >/dev/null && die "${p} is still running; not removing ${state}"
	done
	rm -rf "${state}"
	if ${any}; then step "Autoscaling stack is down"; else info "(nothing was running; state removed)"; fi
}

# --- status -----------------------------------------------------------------------------------

cmd_status() {
	local p pid
	if [[ ! -f "${stack_env}" ]]; then
		echo "The autoscaling stack is not running (hack/autoscaling-stack.sh up)"
		return 0
	fi
	step "Processes"
	for p in "${PROCS[@]}"; do
		if pid="$(proc_pid "${p}")"; then info "${p}: running (pid ${pid})"; else info "${p}: NOT running"; fi
	done
	info "Prometheus: $(sed -n 's/^PROMETHEUS_URL=//p' "${stack_env}")"
	holder_pid >/dev/null || {
		step "The real node is not running"
		return 0
	}
	step "Prometheus targets (health, pod)"
	in_ns curl -s --max-time 5 "${PROMETHEUS_URL}/api/v1/targets?state=active" |
		tr '{' '\n' | sed -n 's/.*"pod":"\([^"]*\)".*/\1/p' | sort -u | sed 's/^/    pod /' || true
	in_ns curl -s --max-time 5 "${PROMETHEUS_URL}/api/v1/query" --data-urlencode 'query=count by (health) (up)' | sed 's/^/    up: /' || true
	echo
	step "APIService and ScaledObjects"
	k get apiservice v1beta1.external.metrics.k8s.io 2>&1 | sed 's/^/    /' || true
	k get scaledobjects -A 2>&1 | sed 's/^/    /' || true
}

case "${1:-up}" in
tools) cmd_tools ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*)
	echo "usage: $0 [tools|up|down|status]" >&2
	exit 2
	;;
esac
