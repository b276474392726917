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
#   5. act 1: run a bounded load generator (examples/model-server/cmd/load: a new connection
#      per request, at most LOAD_REQUESTS requests or LOAD_SECONDS) inside the node's network
#      until the CPU HPA has scaled out to its maximum, then stop it and watch the scale-in,
#   6. act 2: with Prometheus and KEDA (hack/autoscaling-stack.sh up, started after the node
#      as `make dev-cluster` does, and the chart's prometheusAddress pointing at it), apply
#      the queue-depth sample (iris-keda, engine KEDA), load it until its real queue has
#      made KEDA scale out to its maximum, stop the load, watch the scale-in to 1, then set
#      minReplicas 0 and watch KEDA scale it to zero (Ready, reason ScaledToZero) and what a
#      request sees there. DEMO_ACTS=1 stops after act 1 (and starts no stack).
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
# watch_until's conditions are single-quoted on purpose: they are evaluated on every round.
# shellcheck disable=SC2016
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

# watch_until DESCRIPTION CONDITION TIMEOUT: print the InferenceService and its HPA (and
# what extra_status prints) every 5 s, and once more when CONDITION (a shell expression,
# checked every second so the wait ends soon after it holds) holds or TIMEOUT seconds passed.
watch_until() {
	local description="$1" condition="$2" timeout="$3" start=${SECONDS} printed=-5
	echo "Waiting until ${description} (at most ${timeout}s); every 5 s:"
	print_status() {
		echo "--- $(date +%H:%M:%S)"
		k get infsvc "${name}" -n "${namespace}" "${get_flags[@]}"
		k get hpa "${hpa}" -n "${namespace}" --no-headers 2>/dev/null | sed 's/^/hpa: /' || true
		extra_status
		printed=${SECONDS}
	}
	while true; do
		((SECONDS - printed < 5)) || print_status
		if eval "${condition}"; then
			((printed == SECONDS)) || print_status
			return 0
		fi
		if ((SECONDS - start >= timeout)); then
			print_status
			echo "Gave up after ${timeout}s; the operator log: ${operator_log}." >&2
			return 1
		fi
		sleep 1
	done
}
extra_status() { :; }
# The HPA watch_until prints (KEDA names its own keda-hpa-NAME) and kubectl get's flags.
hpa=""
get_flags=()
desired() { k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.status.desiredReplicas}'; }
ready() { k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.status.readyReplicas}'; }
ready_reason() { k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'; }

# start_load LOG LOAD-ARGS...: the load generator inside the node's network, in a session
# of its own so that stopping its process group (by the id started here) also stops it
# inside the node's namespaces; watch_until shows its last line. stop_load LOG ends it.
# Called from demo_real (its rn and load_bin).
start_load() {
	local log="$1"
	shift
	setsid "${rn}" exec "${load_bin}" "$@" --report 5s >"${log}" 2>&1 &
	load_pid=$!
	trap 'kill -TERM -- -${load_pid} 2>/dev/null || true' EXIT
	load_status_log="${log}"
	extra_status() { tail -n 1 "${load_status_log}" 2>/dev/null || true; }
}
stop_load() {
	kill -TERM -- "-${load_pid}" 2>/dev/null || true
	wait "${load_pid}" 2>/dev/null || true
	trap - EXIT
	grep -E '^load: done' "$1" || tail -n 2 "$1"
	extra_status() { :; }
}

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
	local keda_sample="config/samples/serving_v1alpha1_inferenceservice_keda_queue.yaml"
	local load_bin="${root}/bin/load" load_log
	name="iris-real"
	hpa="${name}"
	namespace="default"
	local acts="${DEMO_ACTS:-2}"
	[[ "${acts}" == 1 || "${acts}" == 2 ]] || {
		echo "DEMO_ACTS must be 1 or 2, not ${acts}" >&2
		exit 2
	}
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

	# Act 2's Prometheus and KEDA start now, beside the image loading and the Helm install
	# (joined before the first sample is applied); the stack writes Prometheus' address to
	# its stack.env first thing, and the operator writes it into every ScaledObject.
	local prometheus_set=() prometheus_url="" stack_pid="" stack_t=${SECONDS}
	local stack_log="${state_dir}/logs/autoscaling-stack.log" stack_env="${state_dir}/autoscaling/stack.env"
	if [[ "${acts}" == 2 ]]; then
		step "Starting Prometheus and KEDA in the node's namespace in the background (hack/autoscaling-stack.sh up, as make dev-cluster does; log: ${stack_log})"
		"${root}/hack/autoscaling-stack.sh" up >"${stack_log}" 2>&1 &
		stack_pid=$!
		for _ in $(seq 60); do
			prometheus_url="$(sed -n 's/^PROMETHEUS_URL=//p' "${stack_env}" 2>/dev/null || true)"
			[[ -n "${prometheus_url}" ]] && break
			kill -0 "${stack_pid}" 2>/dev/null || break
			sleep 0.5
		done
		[[ -n "${prometheus_url}" ]] || {
			tail -n 20 "${stack_log}" >&2
			echo "The autoscaling stack did not write PROMETHEUS_URL to ${stack_env}; its log: ${stack_log}" >&2
			exit 1
		}
		prometheus_set=(--set "prometheusAddress=${prometheus_url}")
	fi
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
	echo "helm upgrade --install ${release} dist/chart -n ${op_ns} --set image.repository=${repo} --set image.tag=${tag} --set image.pullPolicy=Never ${prometheus_set[*]} --wait"
	helm upgrade --install "${release}" dist/chart -n "${op_ns}" --set image.repository="${repo}" \
		--set image.tag="${tag}" --set image.pullPolicy=Never "${prometheus_set[@]}" --wait --timeout 3m | sed '/^NOTES:/,$d'
	lap "operator-ready" "${t}"
	k -n "${op_ns}" get deploy,pods -o wide

	if [[ -n "${stack_pid}" ]]; then
		step "Prometheus and KEDA (started beside the images and Helm)"
		wait "${stack_pid}" || {
			tail -n 20 "${stack_log}" >&2
			echo "The autoscaling stack did not come up; its log: ${stack_log}" >&2
			exit 1
		}
		grep -E '^==> (Autoscaling stack up|The autoscaling stack is already running)' "${stack_log}" || true
		lap "autoscaling-stack(beside)" "${stack_t}"
		[[ "$(sed -n 's/^PROMETHEUS_URL=//p' "${stack_env}")" == "${prometheus_url}" ]] || {
			echo "Prometheus' address changed while the stack started; the operator has ${prometheus_url}" >&2
			exit 1
		}
		echo "Prometheus ${prometheus_url} (scrapes pods annotated prometheus.io/scrape every 5 s), KEDA's operator and metrics API server (external.metrics.k8s.io)"
	fi

	local setup=$((SECONDS - start)) act1_start=${SECONDS}
	step "Act 1: the model-server sample on CPU (${sample})"
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
	start_load "${load_log}" --url "${url}" --concurrency "${clients}" --requests "${requests}" --duration "${seconds}s"
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
	stop_load "${load_log}"
	if [[ "${acts}" == 2 ]]; then
		echo "Applying act 2's sample now (${keda_sample}, shown in act 2), so that its model loads while this scales in:"
		# --force-conflicts: an earlier demo's kubectl patch owns minReplicas (set to 0 below).
		k apply --server-side --force-conflicts -n "${namespace}" -f "${keda_sample}"
	fi
	t=${SECONDS}
	watch_until "the HPA has scaled back in to 1 replica (scale-down stabilization 30 s)" \
		'[[ "$(desired)" -eq 1 && "$(ready)" -eq 1 ]]' 240
	lap "scale-in-to-1" "${t}"
	k get events -n "${namespace}" --field-selector involvedObject.kind=HorizontalPodAutoscaler --sort-by=.lastTimestamp |
		grep -E "LAST SEEN|SuccessfulRescale.*horizontalpodautoscaler/${hpa}" || true
	local act1=$((SECONDS - act1_start)) act2_text=""

	if [[ "${acts}" == 2 ]]; then
		demo_real_act2
		act2_text=", act 2 $((SECONDS - act2_start))s"
	fi

	step "Done in $((SECONDS - start))s (set-up ${setup}s, act 1 ${act1}s${act2_text}): ${timings[*]}. The node, the operator and the samples keep running."
	cat <<EOF
Look around (kubectl inside the node's namespace, with its own kubeconfig):
  hack/kubectl get infsvc,deploy,svc,hpa,pods -o wide
  hack/kubectl describe infsvc iris-real
  hack/kubectl top pods
  hack/kubectl -n ${op_ns} logs deploy/${release}-controller-manager
  hack/real-node.sh exec curl -s ${url} -d '${body}'
  hack/real-node.sh exec bin/load --url ${url} --duration 60s    # more real load
  hack/real-node.sh status                                       # components, pods, isolation guard
EOF
	if [[ "${acts}" == 2 ]]; then
		cat <<EOF
  hack/kubectl get infsvc,scaledobjects,hpa -o wide              # act 2: iris-keda, at zero
  hack/kubectl describe infsvc iris-keda
  hack/autoscaling-stack.sh status                               # Prometheus' targets, KEDA
  hack/kubectl patch infsvc iris-keda --type merge -p '{"spec":{"autoscaling":{"minReplicas":1}}}'   # back from zero
EOF
	fi
	cat <<EOF
Stop everything (Prometheus, KEDA, the node, the operator, the pods; nothing is left behind):
  make dev-cluster-down    (hack/autoscaling-stack.sh down, then hack/real-node.sh down)
EOF
}

# demo_real_act2: the queue-depth sample on Prometheus and KEDA: out on its real queue, back
# in, then to zero. Called by demo_real, whose k, rn, lap, load_bin and state_dir it uses.
demo_real_act2() {
	act2_start=${SECONDS}
	local sample="${keda_sample}" t
	name="iris-keda"
	hpa="keda-hpa-${name}"
	get_flags=(-o wide)
	step "Act 2: scaling on the model server's real queue with KEDA (${sample})"
	echo "Each inference waits 300 ms for one of 2 workers per pod; more requests queue (model_infer_requests_queued)."
	echo "Prometheus scrapes that gauge every 5 s; KEDA's prometheus trigger asks for one pod per 5 queued requests."
	sed -n '/^apiVersion/,$p' "${sample}"
	echo "(applied during act 1's scale-in)"
	t=${SECONDS}
	k wait --for=condition=Ready --timeout=180s -n "${namespace}" "infsvc/${name}"
	k wait --for=condition=ScaledObjectReady --timeout=120s -n "${namespace}" "infsvc/${name}"
	k wait --for=create --timeout=60s -n "${namespace}" "hpa/${hpa}"
	# Ready is True at zero too (ScaledToZero): an earlier demo left it there, and KEDA brings
	# it back to minReplicas 1 within a polling interval of the apply.
	watch_until "a pod of ${name} is ready" '[[ "$(ready)" -ge 1 ]]' 120
	lap "keda-sample-ready" "${t}"
	k get infsvc -o wide -n "${namespace}" "${name}"
	k get "scaledobject/${name}" "hpa/${hpa}" -n "${namespace}"

	local svc_ip svc_port url max
	svc_ip="$(k get service "${name}" -n "${namespace}" -o jsonpath='{.spec.clusterIP}')"
	svc_port="$(k get service "${name}" -n "${namespace}" -o jsonpath='{.spec.ports[0].port}')"
	url="http://${svc_ip}:${svc_port}/v2/models/iris/infer"
	max="$(k get infsvc "${name}" -n "${namespace}" -o jsonpath='{.spec.autoscaling.maxReplicas}')"
	local clients="${QUEUE_CLIENTS:-24}" requests="${QUEUE_REQUESTS:-20000}" seconds="${QUEUE_SECONDS:-180}"
	local log="${state_dir}/load-queue.log"
	step "Real load on ${name}: ${clients} clients, a new connection per request, at most ${requests} requests or ${seconds}s (log: ${log})"
	echo "At 1 pod about $((clients - 2)) requests wait for a worker: Targets reads queue_depth: <queued per pod>/5."
	t=${SECONDS}
	start_load "${log}" --url "${url}" --concurrency "${clients}" --requests "${requests}" --duration "${seconds}s" --timeout 15s
	if ! watch_until "KEDA has scaled out to ${max} ready replicas" \
		"[[ \"\$(desired)\" -ge ${max} && \"\$(ready)\" -ge ${max} ]] || ! kill -0 ${load_pid} 2>/dev/null" "${seconds}"; then
		echo "KEDA did not scale out to ${max} within the load's ${seconds}s." >&2
	fi
	lap "keda-scale-out-to-${max}" "${t}"
	if kill -0 "${load_pid}" 2>/dev/null; then
		echo "Keeping the load on for 5 s more: with ${max} pods the queue is spread over them:"
		sleep 5
		k get infsvc -o wide -n "${namespace}" "${name}"
	else
		echo "The load generator ended before the scale-out was complete:" >&2
		tail -n 3 "${log}" >&2
	fi

	step "Stopping the load on ${name}"
	stop_load "${log}"
	t=${SECONDS}
	watch_until "KEDA's HPA has scaled back in to 1 replica (scale-down stabilization 30 s)" \
		'[[ "$(desired)" -eq 1 && "$(ready)" -eq 1 ]]' 240
	lap "keda-scale-in-to-1" "${t}"

	step "To zero: minReplicas 0 (KEDA's cooldownPeriod is 20 s, counted from the last activity: when the load stopped)"
	cat <<EOF
The sample keeps minReplicas 1 on purpose: its only signal is the pods' own queue, and at zero
pods that series is gone, so nothing would wake the service again (README, "At zero").
The demo sets it to 0 now that the load is over:
  hack/kubectl patch infsvc ${name} --type merge -p '{"spec":{"autoscaling":{"minReplicas":0}}}'
EOF
	t=${SECONDS}
	k patch infsvc "${name}" -n "${namespace}" --type merge -p '{"spec":{"autoscaling":{"minReplicas":0}}}'
	watch_until "KEDA has scaled it to zero and the Ready reason reads ScaledToZero" \
		'[[ "$(desired)" -eq 0 && "$(ready)" -eq 0 && "$(ready_reason)" == ScaledToZero ]]' 120
	lap "keda-to-zero" "${t}"
	k get infsvc "${name}" -n "${namespace}" -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}Ready={.status} reason={.reason}: {.message}{"\n"}{end}'
	k get "deploy/${name}" -n "${namespace}"
	k get events -n "${namespace}" --field-selector involvedObject.kind=HorizontalPodAutoscaler --sort-by=.lastTimestamp |
		grep -E "LAST SEEN|SuccessfulRescale.*horizontalpodautoscaler/${hpa}" || true
	# Until the last pod is gone it still answers: it drains for 5 s (its preStop pause), and
	# kube-proxy sends to a terminating endpoint while no other is ready.
	echo "The last pod drains for 5 s (preStop pause) before it stops; waiting until it is gone:"
	t=${SECONDS}
	k wait --for=delete pod -n "${namespace}" -l "serving.inferenceops.dev/inferenceservice=${name}" --timeout=90s || true
	lap "keda-last-pod-gone" "${t}"
	k get pods -n "${namespace}" -l "serving.inferenceops.dev/inferenceservice=${name}"

	step "What a request sees at zero"
	echo "The Service has no endpoint until a pod is ready, so the connection is refused at once (kube-proxy rejects it); nothing holds it."
	echo "hack/real-node.sh exec curl -s ${url} -d '...'"
	"${rn}" exec curl -sS --max-time 5 -o /dev/null -w 'HTTP code %{http_code}\n' -H 'Content-Type: application/json' \
		-d '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.9,3.0,5.1,1.8]}]}' "${url}" 2>&1 || true
	echo "A client that retries with a backoff gets through once a pod is ready; to hold requests while the service"
	echo "scales from zero, put an interceptor in front, such as the KEDA HTTP add-on (https://github.com/kedacore/http-add-on)."
}

# --- The local simulated cluster ---------------------------------------------------------------

demo_sim() {
	local state_dir="${DEV_CLUSTER_DIR:-${root}/.dev-cluster}"
	export KUBECONFIG="${state_dir}/kubeconfig"
	export KUBECACHEDIR="${state_dir}/kube-cache"
	local kubectl sample="config/samples/serving_v1alpha1_inferenceservice.yaml"
	kubectl="$(hack/build-control-plane.sh --print-path)/kubectl"
	name="iris"
	hpa="${name}"
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
