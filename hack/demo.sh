#!/usr/bin/env bash
# The main job, end to end (make demo). Two clusters:
#
# On the real local node (the default; hack/real-node.sh, needs root): real containers,
# real CPU, real HTTP.
#   1. build the operator's and the model server's images (make image image-model-server),
#   2. start the node (builds what is missing on a first run) or reuse the running one, and
#      load both images into it,
#   3. helm install the chart (dist/chart) with the operator's image into
#      inference-operator-system, which enforces Pod Security "restricted",
#   4. apply the model-server sample (iris-real), wait until it is Ready and send it one
#      real inference through its Service's ClusterIP,
#   5. run a bounded load generator (examples/model-server/cmd/load: a new connection per
#      request, at most LOAD_REQUESTS requests or LOAD_SECONDS) inside the node's network
#      until the HPA has scaled out to its maximum, then stop it and watch the scale-in.
#
# On the local simulated cluster (DEV_CLUSTER=sim; kwok, no real pods):
#   1. start the cluster (make dev-cluster; builds what is missing on a first run),
#   2. install the CRD and start the operator as a local process,
#   3. apply the sample InferenceService and wait until it is Ready,
#   4. raise the simulated CPU load and watch the HPA scale out, with the
#      InferenceService's Desired and Targets columns following,
#   5. lower the load and watch it scale back in.
#
# Either way the cluster and the operator keep running afterwards; the script says how to
# look around and how to stop them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

# watch_until DESCRIPTION CONDITION TIMEOUT: print the InferenceService and its HPA (and
# what extra_status prints) every 5 s until CONDITION (a shell expression) holds.
watch_until() {
	local description="$1" condition="$2" timeout="$3" waited=0
	echo "Waiting until ${description} (at most ${timeout}s); every 5 s:"
	while true; do
		echo "--- $(date +%H:%M:%S)"
		k get infsvc "${name}" -n "${namespace}"
		k get hpa "${name}" -n "${namespace}" --no-headers 2>/dev/null | sed 's/^/hpa: /' || true
		extra_status
		if eval "${condition}"; then
			return 0
		fi
		if ((waited >= timeout)); then
			echo "Gave up after ${timeout}s; the operator log: ${operator_log}." >&2
			return 1
		fi
		sleep 5
		waited=$((waited + 5))
	done
}
extra_status() { :; }
desired() { k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.status.desiredReplicas}'; }
ready() { k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.status.readyReplicas}'; }

# --- The real local node ---------------------------------------------------------------------

demo_real() {
	[[ "$(id -u)" == 0 ]] || {
		echo "The real node needs root (namespaces, cgroups, iptables); DEV_CLUSTER=sim make demo runs on the simulated cluster." >&2
		exit 1
	}
	local rn="${root}/hack/real-node.sh" start=${SECONDS} t timings=()
	local state_dir="${REAL_NODE_DIR:-${root}/.real-node}"
	local version release="inference-operator" op_ns="inference-operator-system"
	version="$(sed -n 's/^VERSION ?= //p' Makefile)"
	local operator_tar="bin/images/inference-operator-${version}.tar" model_tar="bin/images/model-server-${version}.tar"
	local sample="config/samples/serving_v1alpha1_inferenceservice_modelserver.yaml"
	local load_bin="${root}/bin/load" load_log
	name="iris-real"
	namespace="default"
	operator_log="hack/kubectl -n ${op_ns} logs deploy/${release}-controller-manager"
	k() { "${rn}" kubectl "$@"; }
	helm() { "${rn}" exec "${root}/bin/helm" "$@"; }
	lap() { timings+=("$1 $((SECONDS - $2))s"); }
	# image_ref TARBALL: the name:tag written into a docker-archive tarball.
	image_ref() { tar -xOf "$1" manifest.json | sed -n 's/.*"RepoTags":\["\([^"]*\)".*/\1/p'; }

	step "Building the operator's and the model server's images, the load generator and helm"
	t=${SECONDS}
	make -s image image-model-server helm >/dev/null
	CGO_ENABLED=0 go build -trimpath -o "${load_bin}" ./examples/model-server/cmd/load
	lap "images" "${t}"
	echo "${operator_tar} ${model_tar} ${load_bin} ($((SECONDS - t))s)"

	step "Starting the real local node (hack/real-node.sh up; the first run builds every component)"
	t=${SECONDS}
	"${rn}" up | grep -E '^==> (Real node up|The real node is already running)' || true
	"${rn}" kubectl get --raw /readyz >/dev/null || {
		echo "The real node did not come up; its logs are in ${state_dir}/logs/" >&2
		exit 1
	}
	lap "cluster-up" "${t}"
	k get nodes -o wide
	# helm keeps its cache, configuration and data with the node's state; nothing goes to ~.
	export HELM_CACHE_HOME="${state_dir}/helm/cache" HELM_CONFIG_HOME="${state_dir}/helm/config" HELM_DATA_HOME="${state_dir}/helm/data"

	step "Loading both images into the node's containerd (hack/real-node.sh load-image)"
	t=${SECONDS}
	local archive image repo tag
	for archive in "${operator_tar}" "${model_tar}"; do
		"${rn}" load-image "${archive}" >"${state_dir}/logs/load-image.log" 2>&1 || {
			cat "${state_dir}/logs/load-image.log" >&2
			exit 1
		}
		echo "imported $(image_ref "${archive}") from ${archive}"
	done
	lap "load-images" "${t}"
	image="$(image_ref "${operator_tar}")"
	repo="${image%:*}"
	tag="${image##*:}"

	step "Installing the operator with Helm (dist/chart, image ${image}) into ${op_ns} (Pod Security \"restricted\")"
	t=${SECONDS}
	k create namespace "${op_ns}" --dry-run=client -o yaml | k apply -f - >/dev/null
	k label namespace "${op_ns}" pod-security.kubernetes.io/enforce=restricted --overwrite >/dev/null
	echo "helm upgrade --install ${release} dist/chart -n ${op_ns} --set image.repository=${repo} --set image.tag=${tag} --set image.pullPolicy=Never --wait"
	helm upgrade --install "${release}" dist/chart -n "${op_ns}" --set image.repository="${repo}" \
		--set image.tag="${tag}" --set image.pullPolicy=Never --wait --timeout 3m | sed '/^NOTES:/,$d'
	lap "operator-ready" "${t}"
	k -n "${op_ns}" get deploy,pods -o wide

	step "Applying the model-server sample (${sample})"
	t=${SECONDS}
	sed -n '/^apiVersion/,$p' "${sample}"
	k apply --server-side -n "${namespace}" -f "${sample}"

	step "Waiting until it is Ready (the model server takes 10 s to load)"
	k wait --for=condition=Ready --timeout=180s -n "${namespace}" "infsvc/${name}"
	lap "sample-ready" "${t}"
	k get infsvc,deploy,svc,hpa,pods -n "${namespace}"

	local svc_ip svc_port url body
	svc_ip="$(k get service "${name}" -n "${namespace}" -o jsonpath='{.spec.clusterIP}')"
	svc_port="$(k get service "${name}" -n "${namespace}" -o jsonpath='{.spec.ports[0].port}')"
	url="http://${svc_ip}:${svc_port}/v2/models/iris/infer"
	body='{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[5.9,3.0,5.1,1.8,5.7,2.8,4.1,1.3]}]}'
	step "One real inference through the Service (ClusterIP ${svc_ip}, from inside the node's network)"
	echo "hack/real-node.sh exec curl -s ${url} -d '${body}'"
	"${rn}" exec curl -sS --max-time 5 -H 'Content-Type: application/json' -d "${body}" "${url}"
	echo

	local clients="${LOAD_CLIENTS:-8}" requests="${LOAD_REQUESTS:-40000}" seconds="${LOAD_SECONDS:-240}" max
	max="$(k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.spec.autoscaling.maxReplicas}')"
	load_log="${state_dir}/load.log"
	step "Real load: ${clients} clients, a new connection per request, at most ${requests} requests or ${seconds}s (log: ${load_log})"
	echo "Each inference burns 20 ms of CPU; a pod requests 200m and may use 500m; the HPA aims at 50% of the request."
	echo "metrics-server needs about 30 s of samples from a new pod; the HPA re-evaluates every 15 s."
	t=${SECONDS}
	# A session of its own, so that stopping its process group (by the id started here) also
	# stops the load generator running inside the node's namespaces.
	setsid "${rn}" exec "${load_bin}" --url "${url}" --concurrency "${clients}" --requests "${requests}" \
		--duration "${seconds}s" --report 5s >"${load_log}" 2>&1 &
	load_pid=$!
	trap 'kill -TERM -- -${load_pid} 2>/dev/null || true' EXIT
	extra_status() { tail -n 1 "${load_log}" 2>/dev/null || true; }
	if ! watch_until "the HPA has scaled out to ${max} ready replicas" \
		"[[ \"\$(desired)\" -ge ${max} && \"\$(ready)\" -ge ${max} ]] || ! kill -0 ${load_pid} 2>/dev/null" "${seconds}"; then
		echo "The HPA did not scale out to ${max} within the load's ${seconds}s." >&2
	fi
	lap "scale-out-to-${max}" "${t}"
	if kill -0 "${load_pid}" 2>/dev/null; then
		# New connections reach the new pods as soon as they are ready: the rate goes up.
		echo "Keeping the load on for 15 s more: with ${max} pods the same clients get more answers per interval:"
		sleep 15
		tail -n 3 "${load_log}" | grep -F 'last interval' || true
	else
		echo "The load generator ended before the scale-out was complete:" >&2
		tail -n 3 "${load_log}" >&2
	fi

	step "Stopping the load"
	kill -TERM -- "-${load_pid}" 2>/dev/null || true
	wait "${load_pid}" 2>/dev/null || true
	trap - EXIT
	grep -E '^load: done' "${load_log}" || tail -n 2 "${load_log}"
	extra_status() { :; }
	t=${SECONDS}
	watch_until "the HPA has scaled back in to 1 replica (scale-down stabilization 30 s)" \
		'[[ "$(desired)" -eq 1 && "$(ready)" -eq 1 ]]' 240
	lap "scale-in-to-1" "${t}"
	k get events -n "${namespace}" --field-selector involvedObject.kind=HorizontalPodAutoscaler --sort-by=.lastTimestamp |
		grep -E 'LAST SEEN|SuccessfulRescale' || true

	step "Done in $((SECONDS - start))s (${timings[*]}). The node, the operator and the sample keep running."
	cat <<EOF
Look around (kubectl inside the node's namespace, with its own kubeconfig):
  hack/kubectl get infsvc,deploy,svc,hpa,pods -o wide
  hack/kubectl describe infsvc ${name}
  hack/kubectl top pods
  hack/kubectl -n ${op_ns} logs deploy/${release}-controller-manager
  hack/real-node.sh exec curl -s ${url} -d '${body}'
  hack/real-node.sh exec bin/load --url ${url} --duration 60s    # more real load
  hack/real-node.sh status                                       # components, pods, isolation guard
Stop everything (node, operator, pods; nothing is left behind):
  make real-node-down    (hack/real-node.sh down)
EOF
}

# --- The local simulated cluster ---------------------------------------------------------------

demo_sim() {
	local state_dir="${DEV_CLUSTER_DIR:-${root}/.dev-cluster}"
	export KUBECONFIG="${state_dir}/kubeconfig"
	export KUBECACHEDIR="${state_dir}/kube-cache"
	local kubectl sample="config/samples/serving_v1alpha1_inferenceservice.yaml"
	kubectl="$(hack/build-control-plane.sh --print-path)/kubectl"
	name="iris"
	namespace="default"
	local operator_pid_file="${state_dir}/operator.pid"
	operator_log="${state_dir}/operator.log"
	k() { "${kubectl}" "$@"; }

	step "Starting the local simulated cluster (first run builds every component from the Go module proxy)"
	make -s dev-cluster DEV_CLUSTER=sim

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
  DEV_CLUSTER=sim make dev-cluster-down
EOF
}

case "${DEV_CLUSTER:-real}" in
real) demo_real ;;
sim) demo_sim ;;
*)
	echo "DEV_CLUSTER must be real (the default) or sim, not ${DEV_CLUSTER}" >&2
	exit 2
	;;
esac
