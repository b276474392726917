#!/usr/bin/env bash
# One REAL Kubernetes node on this machine: real containers (containerd v2 + runc), CNI
# bridge networking, kube-proxy in iptables mode, metrics-server with the kubelet's real
# figures. No Docker, no registry: every Kubernetes and containerd component is built from
# the Go module proxy at a pinned version into bin/ (once), runc, the CNI plugins and
# iptables come from Debian packages, and images are imported from local tarballs.
#
#   hack/real-node.sh tools              build/install everything (first time only)
#   hack/real-node.sh up                 start the node (builds what is missing); idempotent
#   hack/real-node.sh down               stop everything it started and leave nothing behind
#   hack/real-node.sh status             what runs, the node, the guard counter
#   hack/real-node.sh guard              print the isolation counter (packets dropped; must be 0)
#   hack/real-node.sh check-clean        after down: exit non-zero and list anything left
#   hack/real-node.sh load-image TARBALL import a docker-archive/OCI tarball into containerd
#   hack/real-node.sh exec CMD...        run a command inside the cluster's namespaces
#   hack/real-node.sh restart-kubelet [SIGNAL]  stop the kubelet (SIGTERM, or SIGNAL such
#                                        as KILL), start it again, wait for node Ready
#   hack/kubectl ...                     kubectl against this cluster (its own kubeconfig)
#
# (make real-node / real-node-down / test-real-node)
#
# Isolation: the whole cluster lives in a network and mount namespace of its own, held
# open by one holder process (`unshare --net --mount --propagation private`); every
# component runs in it through `nsenter -t <holder> -n -m`. The namespace holds only lo,
# a port-less bridge carrying the node IP, the CNI bridge and the pod veths, and has no
# route out: nothing can reach any address outside this machine. A guard chain counts
# and drops anything not addressed to 127/8, the pod range, the Service range or the
# node IP. Every mount (overlay root file systems, pod volumes, pod netns pins, and the
# bind mounts that keep /var/lib/kubelet, /var/lib/cni, /run/containerd and
# /var/log/containers inside the state folder) exists only in that mount namespace.
#
# What it changes on the host, all undone by down: the global sysctls the kubelet
# sets (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops here; recorded before,
# restored after), cgroups under /sys/fs/cgroup/*/kubepods, and
# four empty mount-point folders (the paths above; up refuses to start if any exists).
# One real node per machine (those host paths and sysctls are global).
#
# State (certificates, kubeconfigs, etcd data, containerd's images and containers, logs)
# lives in .real-node/ (git-ignored); REAL_NODE_DIR sets another folder (keep it short:
# unix socket paths under it must stay below 108 bytes). Logs: .real-node/logs/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# exec, kubectl and load-image take paths relative to the caller's folder.
caller_pwd="${PWD}"
cd "${root}"

# --- Pinned versions ---------------------------------------------------------------------
CONTAINERD_VERSION="v2.4.2"
# Same build and folder as hack/dev-cluster.sh: either script reuses the other's binary.
METRICS_SERVER_VERSION="v0.8.0"

# --- Settings -----------------------------------------------------------------------------
BIN_DIR="${LOCALBIN:-${root}/bin}"
state_dir="${REAL_NODE_DIR:-${root}/.real-node}"
case "${state_dir}" in /*) ;; *) state_dir="${root}/${state_dir}" ;; esac

NODE_NAME="real-node"
NODE_IP="10.250.0.1"
NODE_BRIDGE="rn0"        # port-less bridge carrying the node IP (no dummy driver here)
CNI_BRIDGE="cni0"
POD_CIDR="10.88.0.0/24"
CNI_GATEWAY="10.88.0.1"
SERVICE_CIDR="10.96.0.0/16"
KUBERNETES_SVC_IP="10.96.0.1"
APISERVER_PORT=6443
METRICS_PORT=4443
GUARD_CHAIN="REAL-NODE-GUARD"
# Host paths that components write to whatever their configuration says; inside the
# private mount namespace each is a bind mount of a folder under ${state_dir}/host.
HOST_DIRS=(/var/lib/kubelet /var/lib/cni /run/containerd /var/log/containers)
# The global sysctls the kubelet sets (setupKernelTunables), recorded and restored.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

goos="$(go env GOOS)"
goarch="$(go env GOARCH)"
k8s_dir="$("${root}/hack/build-control-plane.sh" --print-path)"
containerd_dir="${BIN_DIR}/real-node/containerd-${CONTAINERD_VERSION}-${goos}-${goarch}"
metrics_server_dir="${BIN_DIR}/dev-cluster/metrics-server-${METRICS_SERVER_VERSION}-${goos}-${goarch}"
images_dir="${BIN_DIR}/real-node/images"
image_tools_dir="${BIN_DIR}/real-node/image-tools"
PAUSE_IMAGE="localhost/real-node/pause:v1"
HTTPD_IMAGE="localhost/real-node/httpd:v1"
CNI_BIN_DIR="/usr/lib/cni"   # Debian's containernetworking-plugins
# containerd starts its shim by name from PATH.
export PATH="${containerd_dir}:${PATH}"
# Default paths of containerd, the CNI plugins and the kubelet that the configuration
# moves into the state folder; check-clean reports one that appeared while the node ran
# (up records which existed before). Not /usr/libexec/kubernetes: the kubelet and the
# controller manager are kept off it by volumePluginDir and --flex-volume-plugin-dir, but
# any other controller manager on the machine (the simulated cluster's) creates it.
WATCHED_PATHS=(/var/log/pods /var/run/nri /etc/cni /opt/cni /run/netns /etc/containerd /var/lib/containerd /opt/containerd)

pids="${state_dir}/pids"
logs="${state_dir}/logs"
pki="${state_dir}/pki"
kcdir="${state_dir}/kubeconfigs"
kubeconfig="${state_dir}/kubeconfig"
baseline="${state_dir}/host-baseline.env"
ns_file="${state_dir}/namespace.env"
ctr_sock="${state_dir}/containerd/containerd.sock"

# step, info, warn, die, alive, holder_pid, start_proc, proc_pid, stop_proc and wait_for
# (shared with hack/autoscaling-stack.sh) read node_state, ns_file, pids and logs.
node_state="${state_dir}"
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

need_root() { [[ "$(id -u)" == 0 ]] || die "the real node needs root (namespaces, cgroups, iptables)"; }

# --- Tools --------------------------------------------------------------------------------

# go_install_into DIR ARGS... : `go install` into DIR.tmp, moved into DIR only when all
# built (an interrupted build never leaves a folder later runs would trust).
go_install_into() {
	local dir="$1"
	shift
	rm -rf "${dir}.tmp"
	mkdir -p "${dir}.tmp"
	CGO_ENABLED=0 GOBIN="${dir}.tmp" go install -trimpath "$@"
	mkdir -p "${dir}"
	mv "${dir}.tmp"/* "${dir}/"
	rmdir "${dir}.tmp"
}

install_debian_packages() {
	local missing=()
	command -v runc >/dev/null 2>&1 || missing+=(runc)
	[[ -x "${CNI_BIN_DIR}/bridge" && -x "${CNI_BIN_DIR}/host-local" && -x "${CNI_BIN_DIR}/portmap" && -x "${CNI_BIN_DIR}/loopback" ]] ||
		missing+=(containernetworking-plugins)
	{ command -v iptables && command -v ip6tables; } >/dev/null 2>&1 || missing+=(iptables)
	for c in unshare nsenter ip openssl curl; do
		command -v "${c}" >/dev/null 2>&1 || die "${c} is missing (util-linux, iproute2, openssl, curl)"
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		info "runc, CNI plugins, iptables: installed"
		return
	fi
	step "Installing Debian packages: ${missing[*]}"
	need_root
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# images_stale: the image tarballs are older than the sources of hack/tools/pause.
images_stale() {
	local f
	for f in "${images_dir}/pause.tar" "${images_dir}/httpd.tar"; do
		[[ -f "${f}" ]] || return 0
		[[ -n "$(find "${root}/hack/tools/pause" -newer "${f}" -type f -print -quit)" ]] && return 0
	done
	return 1
}

build_images() {
	if ! images_stale; then
		info "images: ${images_dir}/{pause,httpd}.tar"
		return
	fi
	step "Building the pause and httpd images (static Go binaries, go-containerregistry, no registry)"
	local start=${SECONDS}
	mkdir -p "${image_tools_dir}" "${images_dir}"
	(cd "${root}/hack/tools/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${image_tools_dir}/" ./pause ./httpd ./imagebuild)
	# The pause process runs as 65535 like upstream's; httpd as an unprivileged user.
	"${image_tools_dir}/imagebuild" build --binary "${image_tools_dir}/pause" --entrypoint /pause \
		--user 65535:65535 --tag "${PAUSE_IMAGE}" --out "${images_dir}/pause.tar"
	"${image_tools_dir}/imagebuild" build --binary "${image_tools_dir}/httpd" --entrypoint /httpd \
		--user 65532:65532 --tag "${HTTPD_IMAGE}" --out "${images_dir}/httpd.tar"
	info "images in $((SECONDS - start))s: ${images_dir}/{pause,httpd}.tar (${PAUSE_IMAGE}, ${HTTPD_IMAGE})"
}

cmd_tools() {
	local start=${SECONDS} t
	install_debian_packages
	t=${SECONDS}
	step "Kubernetes components (hack/build-control-plane.sh)"
	"${root}/hack/build-control-plane.sh" etcd kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy >/dev/null
	info "${k8s_dir} ($((SECONDS - t))s)"
	if [[ ! -x "${containerd_dir}/containerd" || ! -x "${containerd_dir}/containerd-shim-runc-v2" || ! -x "${containerd_dir}/ctr" ]]; then
		step "Building containerd ${CONTAINERD_VERSION} (first time only, about 2-3 min on 2 cores)"
		t=${SECONDS}
		go_install_into "${containerd_dir}" -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=${CONTAINERD_VERSION}" \
			"github.com/containerd/containerd/v2/cmd/containerd@${CONTAINERD_VERSION}" \
			"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@${CONTAINERD_VERSION}" \
			"github.com/containerd/containerd/v2/cmd/ctr@${CONTAINERD_VERSION}"
		info "built in $((SECONDS - t))s"
	fi
	info "containerd: ${containerd_dir}"
	if [[ ! -x "${metrics_server_dir}/metrics-server" ]]; then
		step "Building metrics-server ${METRICS_SERVER_VERSION} (first time only, about 2.5 min on 2 cores)"
		t=${SECONDS}
		go_install_into "${metrics_server_dir}" \
			-ldflags "-w -X k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER_VERSION}" \
			"sigs.k8s.io/metrics-server/cmd/metrics-server@${METRICS_SERVER_VERSION}"
		info "built in $((SECONDS - t))s"
	fi
	info "metrics-server: ${metrics_server_dir}"
	build_images
	info "(tools ready in $((SECONDS - start))s)"
}

tools_present() {
	local b
	for b in etcd kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy; do
		[[ -x "${k8s_dir}/${b}" ]] || return 1
	done
	[[ -x "${containerd_dir}/containerd" && -x "${containerd_dir}/containerd-shim-runc-v2" && -x "${containerd_dir}/ctr" ]] || return 1
	[[ -x "${metrics_server_dir}/metrics-server" ]] || return 1
	command -v runc >/dev/null 2>&1 && [[ -x "${CNI_BIN_DIR}/bridge" ]] && command -v iptables >/dev/null 2>&1 || return 1
	! images_stale
}

# --- The namespace --------------------------------------------------------------------------
# holder_pid: hack/lib.sh.

# in_ns CMD... runs a command in the cluster's network and mount namespaces, in the
# current folder, with the cluster's kubeconfig.
in_ns() {
	local pid
	pid="$(holder_pid)" || die "the real node is not running (hack/real-node.sh up)"
	KUBECONFIG="${kubeconfig}" KUBECACHEDIR="${state_dir}/kube-cache" CONTAINERD_ADDRESS="${ctr_sock}" CONTAINERD_NAMESPACE=k8s.io \
		nsenter -t "${pid}" -n -m --wd="${caller_pwd}" -- "$@"
}

k() { in_ns "${k8s_dir}/kubectl" --kubeconfig "${kubeconfig}" "$@"; }
ctr() { in_ns "${containerd_dir}/ctr" --address "${ctr_sock}" --namespace k8s.io "$@"; }

start_holder() {
	step "Private network and mount namespace"
	# bash -c 'exec -a ...' only names the process: the holder is `sleep infinity` with
	# a command line that says whose it is (holder_pid checks it).
	setsid unshare --net --mount --propagation private -- \
		bash -c 'exec -a "real-node-holder $0" sleep infinity' "${state_dir}" </dev/null >/dev/null 2>&1 &
	local pid=$! host_net
	host_net="$(readlink /proc/self/ns/net)"
	for _ in $(seq 50); do
		if [[ "$(tr '\0' ' ' 2>/dev/null <"/proc/${pid}/cmdline")" == "real-node-holder ${state_dir} "* &&
			"$(readlink "/proc/${pid}/ns/net" 2>/dev/null)" != "${host_net}" ]]; then
			break
		fi
		sleep 0.1
	done
	printf 'HOLDER_PID=%s\nNET_NS=%s\nMNT_NS=%s\n' "${pid}" "$(readlink "/proc/${pid}/ns/net")" "$(readlink "/proc/${pid}/ns/mnt")" >"${ns_file}"
	holder_pid >/dev/null || die "the namespace holder did not start"
	info "holder pid ${pid} ($(sed -n 's/^NET_NS=//p' "${ns_file}"), $(sed -n 's/^MNT_NS=//p' "${ns_file}"))"

	# Mount points on the host for the bind mounts (up checked that none existed).
	: >"${state_dir}/host-dirs-created"
	local d
	for d in "${HOST_DIRS[@]}"; do
		mkdir -p "${state_dir}/host${d}"
		mkdir "${d}"
		echo "${d}" >>"${state_dir}/host-dirs-created"
	done
	in_ns sh -euc '
		state="$1"; shift
		for d in "$@"; do mount --bind "${state}/host${d}" "${d}"; done
	' sh "${state_dir}" "${HOST_DIRS[@]}"

	# Links and addresses. IPv6 is off in this namespace: nothing to route, nothing sent.
	in_ns sh -euc '
		sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		sysctl -qw net.ipv4.ip_forward=1
		ip link set lo up
		ip link add "$1" type bridge
		ip addr add "$2/32" dev "$1"
		ip link set "$1" up
		# The first packet to a ClusterIP needs a route before kube-proxy DNATs it.
		ip route add "$3" dev "$1" src "$2"
	' sh "${NODE_BRIDGE}" "${NODE_IP}" "${SERVICE_CIDR}"
	[[ -z "$(in_ns ip route show default)" ]] || die "the namespace has a default route"
	setup_guard
	info "lo, ${NODE_BRIDGE} ${NODE_IP}/32, route ${SERVICE_CIDR} dev ${NODE_BRIDGE}, no default route, guard chain ${GUARD_CHAIN}"
}

# setup_guard: a chain in the mangle table (kube-proxy and the CNI plugins never touch
# it) on OUTPUT and FORWARD that lets through only loopback, the pod range, the Service
# range, the node IP and link-local multicast (the IGMP reports the kernel sends when a
# bridge gets an address), and counts and drops everything else. The same for IPv6,
# where only loopback and link-local pass (pods' veths still do IPv6 neighbour discovery).
setup_guard() {
	in_ns sh -euc '
		c="$1"
		iptables -t mangle -N "$c"
		iptables -t mangle -A "$c" -d 127.0.0.0/8 -j RETURN
		iptables -t mangle -A "$c" -d "$2" -j RETURN
		iptables -t mangle -A "$c" -d "$3" -j RETURN
		iptables -t mangle -A "$c" -d "$4/32" -j RETURN
		iptables -t mangle -A "$c" -d 224.0.0.0/24 -m comment --comment "link-local multicast" -j RETURN
		iptables -t mangle -A "$c" -m comment --comment "real-node guard: not cluster-local" -j DROP
		iptables -t mangle -I OUTPUT 1 -j "$c"
		iptables -t mangle -I FORWARD 1 -j "$c"
		ip6tables -t mangle -N "$c"
		ip6tables -t mangle -A "$c" -d ::1/128 -j RETURN
		ip6tables -t mangle -A "$c" -d fe80::/10 -j RETURN
		ip6tables -t mangle -A "$c" -d ff02::/16 -j RETURN
		ip6tables -t mangle -A "$c" -m comment --comment "real-node guard: not cluster-local" -j DROP
		ip6tables -t mangle -I OUTPUT 1 -j "$c"
		ip6tables -t mangle -I FORWARD 1 -j "$c"
	' sh "${GUARD_CHAIN}" "${POD_CIDR}" "${SERVICE_CIDR}" "${NODE_IP}"
}

# guard_counts prints "v4drops v6drops multicast".
guard_counts() {
	in_ns sh -euc '
		v4=$(iptables -t mangle -L "$1" -n -v -x | awk "/real-node guard/ {print \$1}")
		v6=$(ip6tables -t mangle -L "$1" -n -v -x | awk "/real-node guard/ {print \$1}")
		mc=$(iptables -t mangle -L "$1" -n -v -x | awk "/link-local multicast/ {print \$1}")
		echo "${v4:-?} ${v6:-?} ${mc:-?}"
	' sh "${GUARD_CHAIN}"
}

cmd_guard() {
	local v4 v6 mc route
	read -r v4 v6 mc <<<"$(guard_counts)"
	route="$(in_ns ip route get 8.8.8.8 2>&1 || true)"
	echo "guard dropped: $((v4 + v6)) packets (IPv4 ${v4}, IPv6 ${v6}); link-local multicast let through: ${mc}"
	echo "route to an outside address: ${route}"
	[[ "$((v4 + v6))" == 0 ]]
}

# --- Processes ------------------------------------------------------------------------------
# start_proc, proc_pid, stop_proc and wait_for: hack/lib.sh.

start_kubelet() {
	start_proc kubelet "${k8s_dir}/kubelet" -- \
		--config="${state_dir}/config/kubelet.yaml" \
		--kubeconfig="${kcdir}/kubelet.kubeconfig" \
		--root-dir="${state_dir}/kubelet" --cert-dir="${state_dir}/kubelet/pki" \
		--node-ip="${NODE_IP}" --hostname-override="${NODE_NAME}"
}

kubelet_healthy() { in_ns curl -sf --max-time 2 http://127.0.0.1:10248/healthz; }

# cmd_restart_kubelet [SIGNAL]: stops the running kubelet with SIGNAL (TERM by default;
# KILL is a crash), starts a new one with the same settings (the old log is kept as
# kubelet.log.N) and waits until it answers its health check and the node is Ready.
# Containers keep running meanwhile: they belong to containerd, not to the kubelet.
cmd_restart_kubelet() {
	need_root
	local sig="${1:-TERM}" pid n=1 start=${SECONDS}
	holder_pid >/dev/null || die "the real node is not running (hack/real-node.sh up)"
	if pid="$(proc_pid kubelet)"; then
		kill -s "${sig}" "${pid}" || die "kill -s ${sig} ${pid} failed"
		for _ in $(seq 150); do
			alive "${pid}" || break
			sleep 0.1
		done
		alive "${pid}" && die "the kubelet (pid ${pid}) did not exit after SIG${sig} in 15 s"
		info "kubelet pid ${pid} ended by SIG${sig}"
	fi
	while [[ -e "${logs}/kubelet.log.${n}" ]]; do n=$((n + 1)); done
	[[ ! -f "${logs}/kubelet.log" ]] || mv "${logs}/kubelet.log" "${logs}/kubelet.log.${n}"
	start_kubelet
	wait_for "kubelet health check" 60 kubelet_healthy
	wait_for "node ${NODE_NAME} Ready" 60 node_ready
	info "kubelet restarted: pid $(proc_pid kubelet), healthy and node Ready in $((SECONDS - start))s"
}

# --- Certificates and kubeconfigs -------------------------------------------------------------

# issue NAME CN O EKU [SAN] [CA]: an ECDSA P-256 key and a certificate signed by CA (ca).
issue() {
	local name="$1" cn="$2" org="$3" eku="$4" san="${5:-}" ca="${6:-ca}" subj
	subj="/CN=${cn}"
	[[ -n "${org}" ]] && subj="/O=${org}${subj}"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "${subj}" \
		-keyout "${pki}/${name}.key" -out "${pki}/${name}.csr" 2>/dev/null
	{
		echo "basicConstraints=critical,CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=${eku}"
		[[ -n "${san}" ]] && echo "subjectAltName=${san}"
	} >"${pki}/${name}.ext"
	openssl x509 -req -in "${pki}/${name}.csr" -CA "${pki}/${ca}.crt" -CAkey "${pki}/${ca}.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 30 -extfile "${pki}/${name}.ext" -out "${pki}/${name}.crt" 2>/dev/null
	rm -f "${pki}/${name}.csr" "${pki}/${name}.ext"
}

make_ca() {
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
		-subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-keyout "${pki}/$1.key" -out "${pki}/$1.crt" 2>/dev/null
}

write_kubeconfig() { # FILE SERVER CERTNAME
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: real-node
  cluster:
    server: $2
    certificate-authority: ${pki}/ca.crt
users:
- name: $3
  user:
    client-certificate: ${pki}/$3.crt
    client-key: ${pki}/$3.key
contexts:
- name: real-node
  context:
    cluster: real-node
    user: $3
current-context: real-node
EOF
}

make_pki() {
	step "Certificates (cluster CA and front-proxy CA, 30 days) and kubeconfigs"
	mkdir -p "${pki}" "${kcdir}"
	make_ca ca real-node-ca
	make_ca front-proxy-ca real-node-front-proxy-ca
	issue apiserver kube-apiserver "" serverAuth \
		"IP:${NODE_IP},IP:127.0.0.1,IP:${KUBERNETES_SVC_IP},DNS:localhost,DNS:${NODE_NAME},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	issue apiserver-kubelet-client kube-apiserver-kubelet-client system:masters clientAuth
	issue front-proxy-client front-proxy-client "" clientAuth "" front-proxy-ca
	issue admin real-node-admin system:masters clientAuth
	issue kube-controller-manager system:kube-controller-manager "" clientAuth
	issue kube-scheduler system:kube-scheduler "" clientAuth
	issue kubelet "system:node:${NODE_NAME}" system:nodes clientAuth
	issue kube-proxy system:kube-proxy "" clientAuth
	issue metrics-server system:metrics-server "" clientAuth
	issue metrics-server-serving metrics-server "" serverAuth \
		"IP:${NODE_IP},DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.cluster.local"
	openssl ecparam -name prime256v1 -genkey -noout -out "${pki}/sa.key" 2>/dev/null
	openssl ec -in "${pki}/sa.key" -pubout -out "${pki}/sa.pub" 2>/dev/null
	chmod 600 "${pki}"/*.key

	local loop="https://127.0.0.1:${APISERVER_PORT}" node="https://${NODE_IP}:${APISERVER_PORT}"
	write_kubeconfig "${kubeconfig}" "${loop}" admin
	write_kubeconfig "${kcdir}/kube-controller-manager.kubeconfig" "${loop}" kube-controller-manager
	write_kubeconfig "${kcdir}/kube-scheduler.kubeconfig" "${loop}" kube-scheduler
	write_kubeconfig "${kcdir}/kubelet.kubeconfig" "${node}" kubelet
	write_kubeconfig "${kcdir}/kube-proxy.kubeconfig" "${node}" kube-proxy
	write_kubeconfig "${kcdir}/metrics-server.kubeconfig" "${node}" metrics-server
}

# render TEMPLATE OUT: fills in the @...@ placeholders of a hack/real-node/ template.
render() {
	sed -e "s|@STATE@|${state_dir}|g" -e "s|@PKI@|${pki}|g" -e "s|@NODE_IP@|${NODE_IP}|g" \
		-e "s|@NODE_NAME@|${NODE_NAME}|g" -e "s|@POD_CIDR@|${POD_CIDR}|g" -e "s|@CNI_BRIDGE@|${CNI_BRIDGE}|g" \
		-e "s|@CNI_GATEWAY@|${CNI_GATEWAY}|g" -e "s|@CNI_BIN_DIR@|${CNI_BIN_DIR}|g" -e "s|@RUNC@|$(command -v runc)|g" \
		-e "s|@PAUSE_IMAGE@|${PAUSE_IMAGE}|g" -e "s|@METRICS_PORT@|${METRICS_PORT}|g" \
		-e "s|@CA_BUNDLE@|$(base64 -w0 <"${pki}/ca.crt")|g" \
		"${root}/hack/real-node/$1" >"$2"
}

# --- Host state: preflight, baseline, restore ---------------------------------------------------

read_sysctls() {
	local s
	for s in "${KUBELET_SYSCTLS[@]}"; do
		echo "${s}=$(sysctl -n "${s}")"
	done
}

# kubepods_cgroups lists cgroup folders named kubepods* in every hierarchy.
kubepods_cgroups() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name 'kubepods*' 2>/dev/null || true
}

preflight() {
	local d bad=()
	for d in "${HOST_DIRS[@]}"; do
		[[ -e "${d}" ]] && bad+=("${d}")
	done
	while read -r d; do [[ -n "${d}" ]] && bad+=("${d}"); done < <(kubepods_cgroups)
	if [[ ${#bad[@]} -gt 0 ]]; then
		die "these exist already (another container runtime or kubelet on this machine, or a real node not cleaned up): ${bad[*]}
       hack/real-node.sh down cleans up after this script; anything else is not ours to touch"
	fi
	[[ ${#state_dir} -le 60 ]] || die "REAL_NODE_DIR is too long (${#state_dir} > 60 characters): unix socket paths under it would not fit"
}

# baseline_sysctls prints "KEY RECORDED NOW" for each sysctl recorded before up.
baseline_sysctls() {
	[[ -f "${baseline}" ]] || return 0
	local line key
	while IFS= read -r line; do
		[[ "${line}" == SYSCTL_* ]] || continue
		line="${line#SYSCTL_}"
		key="${line%%=*}"
		echo "${key} ${line#*=} $(sysctl -n "${key}")"
	done <"${baseline}"
}

restore_sysctls() {
	local key want now
	while read -r key want now; do
		if [[ "${now}" != "${want}" ]]; then
			sysctl -qw "${key}=${want}"
			info "restored ${key} ${now} -> ${want}"
		fi
	done < <(baseline_sysctls)
}

# --- up ---------------------------------------------------------------------------------------------

apiserver_ready() { k get --raw /readyz; }
apiservice_available() {
	[[ "$(k get apiservice v1beta1.metrics.k8s.io -o 'jsonpath={.status.conditions[?(@.type=="Available")].status}')" == True ]]
}
node_ready() { [[ "$(k get node "${NODE_NAME}" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" == True ]]; }

cmd_up() {
	need_root
	local start=${SECONDS} t
	if holder_pid >/dev/null && apiserver_ready >/dev/null 2>&1; then
		step "The real node is already running"
		print_usage_hints
		return
	fi
	if [[ -f "${ns_file}" || -f "${state_dir}/host-dirs-created" ]]; then
		step "A previous real node was not stopped cleanly: cleaning up first"
		cmd_down
	fi
	tools_present || cmd_tools
	preflight
	start=${SECONDS}
	rm -rf "${state_dir}"
	mkdir -p "${state_dir}" "${pids}" "${logs}" "${state_dir}/config" "${state_dir}/cni/net.d" "${state_dir}/containerd"
	{
		echo "# host values before the real node started; hack/real-node.sh down restores them"
		read_sysctls | sed 's/^/SYSCTL_/'
		local p
		for p in "${WATCHED_PATHS[@]}"; do
			if [[ -e "${p}" ]]; then echo "PRESENT=${p}"; fi
		done
	} >"${baseline}"

	start_holder
	make_pki

	step "etcd"
	start_proc etcd "${k8s_dir}/etcd" -- --name real-node --data-dir "${state_dir}/etcd" \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster real-node=http://127.0.0.1:2380 --log-level warn
	wait_for etcd 30 in_ns curl -sf http://127.0.0.1:2379/health

	step "kube-apiserver (${NODE_IP}:${APISERVER_PORT}, Service range ${SERVICE_CIDR})"
	start_proc kube-apiserver "${k8s_dir}/kube-apiserver" -- \
		--advertise-address="${NODE_IP}" --bind-address=0.0.0.0 --secure-port="${APISERVER_PORT}" \
		--etcd-servers=http://127.0.0.1:2379 \
		--service-cluster-ip-range="${SERVICE_CIDR}" \
		--client-ca-file="${pki}/ca.crt" \
		--tls-cert-file="${pki}/apiserver.crt" --tls-private-key-file="${pki}/apiserver.key" \
		--kubelet-client-certificate="${pki}/apiserver-kubelet-client.crt" --kubelet-client-key="${pki}/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types=InternalIP \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="${pki}/sa.pub" --service-account-signing-key-file="${pki}/sa.key" \
		--authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
		--enable-aggregator-routing=true \
		--requestheader-client-ca-file="${pki}/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
		--requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
		--requestheader-extra-headers-prefix=X-Remote-Extra- \
		--proxy-client-cert-file="${pki}/front-proxy-client.crt" --proxy-client-key-file="${pki}/front-proxy-client.key" \
		--cert-dir="${pki}/apiserver-generated"
	wait_for kube-apiserver 90 apiserver_ready

	step "kube-controller-manager, kube-scheduler"
	start_proc kube-controller-manager "${k8s_dir}/kube-controller-manager" -- \
		--kubeconfig="${kcdir}/kube-controller-manager.kubeconfig" \
		--authentication-kubeconfig="${kcdir}/kube-controller-manager.kubeconfig" \
		--authorization-kubeconfig="${kcdir}/kube-controller-manager.kubeconfig" \
		--bind-address=127.0.0.1 --secure-port=10257 --cert-dir="${pki}/kcm-generated" \
		--leader-elect=false --cluster-name=real-node --allocate-node-cidrs=false \
		--service-account-private-key-file="${pki}/sa.key" --root-ca-file="${pki}/ca.crt" \
		--use-service-account-credentials=true \
		--flex-volume-plugin-dir="${state_dir}/kcm-flexvolume" \
		--cluster-signing-cert-file="${pki}/ca.crt" --cluster-signing-key-file="${pki}/ca.key"
	start_proc kube-scheduler "${k8s_dir}/kube-scheduler" -- \
		--kubeconfig="${kcdir}/kube-scheduler.kubeconfig" \
		--authentication-kubeconfig="${kcdir}/kube-scheduler.kubeconfig" \
		--authorization-kubeconfig="${kcdir}/kube-scheduler.kubeconfig" \
		--bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false

	step "containerd ${CONTAINERD_VERSION} (state in ${state_dir}/containerd), CNI bridge ${CNI_BRIDGE} ${POD_CIDR}"
	render containerd.toml "${state_dir}/config/containerd.toml"
	render cni-bridge.conflist "${state_dir}/cni/net.d/10-real-node.conflist"
	# containerd finds containerd-shim-runc-v2 on PATH (set above); runc is named in the config.
	start_proc containerd "${containerd_dir}/containerd" -- --config "${state_dir}/config/containerd.toml"
	wait_for containerd 30 ctr version
	ctr images import --platform "${goos}/${goarch}" "${images_dir}/pause.tar" >"${logs}/import-pause.log" 2>&1 ||
		die "importing the pause image failed: ${logs}/import-pause.log"
	info "imported ${PAUSE_IMAGE} (the sandbox image)"

	step "kubelet (node ${NODE_NAME}, ${NODE_IP})"
	render kubelet.yaml "${state_dir}/config/kubelet.yaml"
	mkdir -p "${state_dir}/kubelet" "${state_dir}/pod-logs" "${state_dir}/kubelet-plugins"
	start_kubelet

	step "kube-proxy (iptables mode)"
	render kube-proxy.yaml "${state_dir}/config/kube-proxy.yaml"
	start_proc kube-proxy "${k8s_dir}/kube-proxy" -- --config="${state_dir}/config/kube-proxy.yaml"

	t=${SECONDS}
	wait_for "node ${NODE_NAME} Ready" 120 node_ready
	# Pods can be created once the controller manager has made the default ServiceAccount.
	wait_for "ServiceAccount default/default" 60 k -n default get serviceaccount default
	info "node Ready ($((SECONDS - t))s after the kubelet started)"

	step "metrics-server ${METRICS_SERVER_VERSION} (${NODE_IP}:${METRICS_PORT}, APIService v1beta1.metrics.k8s.io)"
	# RBAC first: metrics-server reads the request-header CA from kube-system at start.
	render metrics-server.yaml "${state_dir}/config/metrics-server.yaml"
	k apply -f "${state_dir}/config/metrics-server.yaml" >"${logs}/apply-metrics-server.log"
	start_proc metrics-server "${metrics_server_dir}/metrics-server" -- \
		--bind-address="${NODE_IP}" --secure-port="${METRICS_PORT}" \
		--tls-cert-file="${pki}/metrics-server-serving.crt" --tls-private-key-file="${pki}/metrics-server-serving.key" \
		--cert-dir="${pki}/metrics-server-generated" \
		--kubeconfig="${kcdir}/metrics-server.kubeconfig" \
		--authentication-kubeconfig="${kcdir}/metrics-server.kubeconfig" \
		--authorization-kubeconfig="${kcdir}/metrics-server.kubeconfig" \
		--kubelet-insecure-tls --kubelet-preferred-address-types=InternalIP --kubelet-use-node-status-port \
		--metric-resolution=15s
	wait_for "APIService v1beta1.metrics.k8s.io" 90 apiservice_available

	echo "UP_SECONDS=$((SECONDS - start))" >"${state_dir}/timings.env"
	step "Real node up in $((SECONDS - start))s"
	k get nodes -o wide | sed 's/^/    /'
	print_usage_hints
}

print_usage_hints() {
	cat <<EOF

The real node is up. Use it with (the cluster's own kubeconfig, inside its namespace):

    hack/kubectl get nodes
    hack/real-node.sh load-image bin/real-node/images/httpd.tar    # ${HTTPD_IMAGE}
    hack/real-node.sh exec curl -s http://<ClusterIP>/             # reach pods and Services
    hack/real-node.sh guard                                        # isolation counter (must be 0)

  images: imagePullPolicy Never (or IfNotPresent); nothing is ever pulled
  logs:   ${logs}/
  stop:   make real-node-down   (hack/real-node.sh down)
EOF
}

# --- down ---------------------------------------------------------------------------------------------

# ns_pids lists every process in the cluster's mount namespace but the holder: what this
# script started, and what those started (containerd's shims and the containers' processes).
ns_pids() {
	local mnt holder dir pid
	mnt="$(sed -n 's/^MNT_NS=//p' "${ns_file}" 2>/dev/null)"
	holder="$(sed -n 's/^HOLDER_PID=//p' "${ns_file}" 2>/dev/null)"
	[[ -n "${mnt}" ]] || return 0
	for dir in /proc/[0-9]*; do
		pid="${dir#/proc/}"
		[[ "${pid}" == "${holder}" || "${pid}" == "$$" || "${pid}" == "${BASHPID}" ]] && continue
		if [[ "$(readlink "${dir}/ns/mnt" 2>/dev/null)" == "${mnt}" ]]; then echo "${pid}"; fi
	done
	return 0
}

# kubepods_pids lists the processes in those cgroups: containers of our pods (up refused
# to start while any kubepods cgroup existed, so while our state exists they are ours).
kubepods_pids() {
	local top
	while read -r top; do
		[[ -n "${top}" ]] || continue
		find "${top}" -name cgroup.procs -exec cat {} + 2>/dev/null || true
	done < <(kubepods_cgroups) | sort -un
}

remove_kubepods_cgroups() {
	local top
	while read -r top; do
		[[ -n "${top}" ]] || continue
		# Deepest first; a cgroup with tasks left refuses (check-clean lists it).
		find "${top}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done < <(kubepods_cgroups)
}

cmd_down() {
	need_root
	local holder="" left t c
	holder="$(holder_pid)" || holder=""
	if [[ -n "${holder}" || -d "${pids}" ]]; then
		step "Stopping the real node"
	fi
	# Engineer C's Prometheus and KEDA stack (hack/autoscaling-stack.sh) runs inside the
	# node's namespace and talks to its API server: it goes first.
	if [[ -f "${root}/hack/autoscaling-stack.sh" ]]; then
		bash "${root}/hack/autoscaling-stack.sh" down || warn "hack/autoscaling-stack.sh down failed; stopping the node anyway"
	fi
	# Each component by its pid file (proc_pid checks the process is in the recorded
	# network namespace, so a reused pid is never touched; this works even when the
	# holder is gone, for example killed).
	stop_proc metrics-server
	stop_proc kube-proxy
	stop_proc kubelet
	if [[ -n "${holder}" ]] && proc_pid containerd >/dev/null; then
		# Containers and sandboxes: kill their tasks, then delete them, so that runc
		# removes their cgroups and the shims exit.
		local tasks
		tasks="$(ctr tasks ls -q 2>/dev/null || true)"
		if [[ -n "${tasks}" ]]; then
			for t in ${tasks}; do ctr tasks kill -s SIGKILL "${t}" >/dev/null 2>&1 || true; done
			sleep 1
			for t in ${tasks}; do ctr tasks delete -f "${t}" >/dev/null 2>&1 || true; done
			info "killed $(wc -w <<<"${tasks}") container tasks"
		fi
		for c in $(ctr containers ls -q 2>/dev/null || true); do ctr containers delete "${c}" >/dev/null 2>&1 || true; done
	fi
	stop_proc containerd
	stop_proc kube-scheduler
	stop_proc kube-controller-manager
	stop_proc kube-apiserver
	stop_proc etcd
	# Whatever still runs in the namespace descends from what we started (a shim whose
	# task would not die, a container's process): stop it by pid.
	left="$(ns_pids | tr '\n' ' ')"
	if [[ -n "${left// /}" ]]; then
		info "stopping leftover processes in the namespace: ${left}"
		# shellcheck disable=SC2086
		kill -TERM ${left} 2>/dev/null || true
		sleep 2
		left="$(ns_pids | tr '\n' ' ')"
		# shellcheck disable=SC2086
		[[ -z "${left// /}" ]] || kill -KILL ${left} 2>/dev/null || true
		sleep 0.5
	fi
	# Container processes have namespaces of their own; they are found by their cgroups
	# (they outlive their shim only when the shim was killed, for example after a crash).
	if [[ -f "${ns_file}" || -f "${state_dir}/host-dirs-created" ]]; then
		left="$(kubepods_pids | tr '\n' ' ')"
		if [[ -n "${left// /}" ]]; then
			info "stopping leftover container processes (in kubepods cgroups): ${left}"
			# shellcheck disable=SC2086
			kill -KILL ${left} 2>/dev/null || true
			for _ in $(seq 50); do
				[[ -z "$(kubepods_pids)" ]] && break
				sleep 0.1
			done
		fi
	fi
	if [[ -n "${holder}" ]]; then
		kill -TERM "${holder}" 2>/dev/null || true
		for _ in $(seq 50); do
			alive "${holder}" || break
			sleep 0.1
		done
		info "stopped the namespace holder (pid ${holder}); its mounts and links are gone with it"
	fi

	remove_kubepods_cgroups
	restore_sysctls
	if [[ -f "${state_dir}/host-dirs-created" ]]; then
		local d
		while read -r d; do
			[[ -n "${d}" && -d "${d}" ]] || continue
			if mountpoint -q "${d}"; then
				warn "${d} is a mount point on the host: leaving it"
				continue
			fi
			rmdir "${d}" 2>/dev/null || warn "${d} is not empty on the host: leaving it (check-clean lists it)"
		done <"${state_dir}/host-dirs-created"
	fi
	if [[ -d "${state_dir}" ]]; then
		if holder_pid >/dev/null || [[ -n "$(ns_pids)" || -n "$(kubepods_pids)" ]]; then
			die "processes of the node are still alive ($(ns_pids | tr '\n' ' ') $(kubepods_pids | tr '\n' ' ')); not removing ${state_dir}"
		fi
		if grep -qF " ${state_dir}/" /proc/self/mountinfo; then
			die "mounts under ${state_dir} remain on the host; not removing it"
		fi
		# Keep only the host baseline, so check-clean can compare the sysctls.
		find "${state_dir}" -mindepth 1 -maxdepth 1 ! -name "$(basename "${baseline}")" -exec rm -rf {} +
	fi
	step "Real node is down"
}

# --- check-clean, status, others -----------------------------------------------------------------------

cmd_check_clean() {
	local left=() dir pid exe cmdline d line key want now
	for dir in /proc/[0-9]*; do
		pid="${dir#/proc/}"
		[[ "${pid}" == "$$" || "${pid}" == "${BASHPID}" ]] && continue
		cmdline="$(tr '\0' ' ' 2>/dev/null <"${dir}/cmdline")" || continue
		exe="$(readlink "${dir}/exe" 2>/dev/null)" || exe=""
		case "${exe}" in
		"${containerd_dir}"/* | "${k8s_dir}/kubelet" | "${k8s_dir}/kube-proxy")
			left+=("process ${pid}: ${cmdline}")
			continue
			;;
		esac
		if [[ "${cmdline}" == "real-node-holder ${state_dir} "* || "${cmdline}" == *"${state_dir}/"* ]]; then
			left+=("process ${pid}: ${cmdline}")
		fi
	done
	while read -r line; do
		[[ -n "${line}" ]] && left+=("mount: ${line}")
	done < <(grep -F -e " ${state_dir}" -e " /var/lib/kubelet" -e " /run/containerd" -e " /var/lib/cni" /proc/self/mountinfo | awk '{print $5}' || true)
	while read -r d; do [[ -n "${d}" ]] && left+=("cgroup: ${d}"); done < <(kubepods_cgroups)
	while read -r pid; do
		[[ -n "${pid}" ]] && left+=("process ${pid} in a kubepods cgroup: $(tr '\0' ' ' 2>/dev/null <"/proc/${pid}/cmdline")")
	done < <(kubepods_pids)
	for d in "${HOST_DIRS[@]}"; do
		[[ -e "${d}" ]] && left+=("host path: ${d}")
	done
	for d in "${WATCHED_PATHS[@]}"; do
		[[ -e "${d}" ]] || continue
		grep -qxF "PRESENT=${d}" "${baseline}" 2>/dev/null || left+=("host path: ${d} (not there before up)")
	done
	if [[ -d "${state_dir}" ]]; then
		while read -r d; do left+=("state: ${d}"); done < <(find "${state_dir}" -mindepth 1 -maxdepth 1 ! -name "$(basename "${baseline}")")
	fi
	if [[ -f "${baseline}" ]]; then
		while read -r key want now; do
			[[ "${now}" == "${want}" ]] || left+=("sysctl ${key} = ${now} (was ${want} before up)")
		done < <(baseline_sysctls)
	else
		echo "check-clean: no host baseline in ${state_dir} (sysctls not compared)"
	fi
	if [[ ${#left[@]} -gt 0 ]]; then
		echo "check-clean: ${#left[@]} things left behind:"
		printf '  %s\n' "${left[@]}"
		return 1
	fi
	echo "check-clean: nothing left (no process, mount, kubepods cgroup, host path or state; sysctls as before up)"
}

cmd_status() {
	local pid name
	if ! pid="$(holder_pid)"; then
		echo "The real node is not running (hack/real-node.sh up)"
		return 0
	fi
	step "Namespace holder: pid ${pid}"
	for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy metrics-server; do
		if p="$(proc_pid "${name}")"; then info "${name}: running (pid ${p})"; else info "${name}: NOT running"; fi
	done
	if apiserver_ready >/dev/null 2>&1; then
		step "Nodes"
		k get nodes -o wide | sed 's/^/    /'
		step "Pods"
		k get pods -A -o wide | sed 's/^/    /'
	else
		step "API server not answering"
	fi
	step "Guard"
	cmd_guard | sed 's/^/    /' || true
}

cmd_load_image() {
	local f="${1:-}"
	[[ "${f}" == /* ]] || f="${caller_pwd}/${f}"
	[[ -f "${f}" ]] || die "usage: $0 load-image TARBALL (a docker-archive or OCI tarball)"
	ctr images import --platform "${goos}/${goarch}" "${f}"
}

case "${1:-up}" in
tools) cmd_tools ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
guard) cmd_guard ;;
check-clean) cmd_check_clean ;;
load-image)
	shift
	cmd_load_image "$@"
	;;
restart-kubelet)
	shift
	cmd_restart_kubelet "$@"
	;;
exec)
	shift
	[[ $# -gt 0 ]] || die "usage: $0 exec CMD [ARGS...]"
	# exec, so that the pid a caller started is the command's own, and a signal to it
	# reaches the command.
	pid="$(holder_pid)" || die "the real node is not running (hack/real-node.sh up)"
	KUBECONFIG="${kubeconfig}" KUBECACHEDIR="${state_dir}/kube-cache" CONTAINERD_ADDRESS="${ctr_sock}" CONTAINERD_NAMESPACE=k8s.io \
		exec nsenter -t "${pid}" -n -m --wd="${caller_pwd}" -- "$@"
	;;
kubectl)
	shift
	k "$@"
	;;
*)
	echo "usage: $0 [tools|up|down|status|guard|check-clean|load-image TARBALL|restart-kubelet [SIGNAL]|exec CMD...]" >&2
	exit 2
	;;
esac
