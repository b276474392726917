#!/usr/bin/env bash
# End-to-end check of the autoscaling stack (hack/autoscaling-stack.sh) on the real node,
# with asserts:
#   node up -> stack up (and up again: idempotent) -> a real model-server pod (the
#   examples/model-server image) annotated prometheus.io/* -> Prometheus discovers and
#   scrapes it (up == 1, the queue gauge through /api/v1/query, scoped by a pod label) ->
#   external.metrics.k8s.io answers -> a hand-written KEDA ScaledObject with a prometheus
#   trigger on the summed queue depth (target 5 per pod, 1..4 replicas) -> Ready, its HPA,
#   its external metric read through the API server -> real load (examples/model-server/cmd/load,
#   24 clients, a new connection per request, against 2 workers x 300 ms per pod) scales the
#   Deployment out -> the load stops -> back in to 1 -> guard counter 0 -> stack down (by
#   pid, state gone, down again is a no-op) -> node down -> check-clean.
# Prints the timings (scale-out and scale-in delays) and a closing "N passed, N failed"
# line. Needs root.
#
#   flock -w 3000 /tmp/real-node.lock hack/test-autoscaling-stack.sh   (make test-autoscaling-stack)
#
# A real node that is already running (someone else's) is waited for, not replaced; the node
# this script started is always taken down at the end, also on failure (after printing the
# logs' tails).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
rn="${root}/hack/real-node.sh"
stack="${root}/hack/autoscaling-stack.sh"
kubectl="${root}/hack/kubectl"
state_dir="${REAL_NODE_DIR:-${root}/.real-node}"
stack_state="${state_dir}/autoscaling"
ns="autoscaling-test"
prom="http://10.250.0.1:9090"
VERSION="${VERSION:-$(sed -n 's/^VERSION ?= //p' Makefile)}"
model_tar="bin/images/model-server-${VERSION}.tar"
model_image="inference-operator/model-server:${VERSION}"
load_bin="${root}/bin/load"
out_dir="$(mktemp -d /tmp/test-autoscaling-stack.XXXXXX)"
load_pid=""
started_node=false

timings=()
# step, pass, fail, check, within, wait_real_node_free, finish_report.
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"
timed() { timings+=("$1: $2"); }

# promq QUERY: the instant query's JSON from inside the node's namespace.
promq() { "${rn}" exec curl -s --max-time 5 "${prom}/api/v1/query" --data-urlencode "query=$1"; }
# prom_values QUERY: the sample values of the result, one a line.
prom_values() { promq "$1" | grep -o '"value":\[[^]]*\]' | sed 's/.*,"\(.*\)"\]/\1/'; }
# prom_value_is QUERY VALUE, prom_value_at_least QUERY N: the first sample value of QUERY.
prom_value_is() { [ "$(prom_values "$1" | head -n 1)" = "$2" ]; }
prom_value_at_least() { [ "$(prom_values "$1" | head -n 1)" -ge "$2" ]; }
replicas() { "${kubectl}" -n "${ns}" get deployment model-server -o 'jsonpath={.spec.replicas}'; }
ready_replicas() { "${kubectl}" -n "${ns}" get deployment model-server -o 'jsonpath={.status.readyReplicas}'; }
# replicas_are N, replicas_above N, ready_at_least N: the Deployment's desired or ready count.
replicas_are() { [ "$(replicas)" = "$1" ]; }
replicas_above() { [ "$(replicas)" -gt "$1" ]; }
ready_at_least() { [ "$(ready_replicas)" -ge "$1" ]; }

finish() {
	local rc=$?
	if [[ -n "${load_pid}" ]] && kill -0 "${load_pid}" 2>/dev/null; then kill -TERM "${load_pid}" 2>/dev/null || true; fi
	if [[ ${failed} -gt 0 || ${rc} -ne 0 ]]; then
		echo "---- diagnostics"
		"${kubectl}" get pods,hpa,scaledobjects -A -o wide 2>/dev/null || true
		"${kubectl}" -n "${ns}" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 25 || true
		for f in "${stack_state}"/logs/*.log "${state_dir}"/logs/kube-controller-manager.log "${out_dir}"/*.log; do
			[[ -f "${f}" ]] || continue
			echo "---- tail ${f}"
			tail -n 15 "${f}"
		done
	fi
	if ${started_node} && [[ -f "${state_dir}/namespace.env" ]]; then
		"${rn}" down >/dev/null 2>&1 || echo "down failed"
	fi
	echo
	if [[ ${#timings[@]} -gt 0 ]]; then
		echo "timings:"
		printf '  %s\n' "${timings[@]}"
	fi
	finish_report "${rc}"
}
trap finish EXIT

start=${SECONDS}
step "Tools, the model server's image and the load generator"
t=${SECONDS}
"${rn}" tools >/dev/null
"${stack}" tools
make -s image-model-server >"${out_dir}/image.log" 2>&1 || {
	cat "${out_dir}/image.log"
	fail "make image-model-server"
	exit 1
}
CGO_ENABLED=0 go build -trimpath -o "${load_bin}" ./examples/model-server/cmd/load
timed "tools and images" "$((SECONDS - t))s"

wait_real_node_free 900 || {
	fail "a real node is running already and did not go down in 15 min (run this under flock -w 3000 /tmp/real-node.lock)"
	exit 1
}
step "Real node up"
t=${SECONDS}
started_node=true
"${rn}" up >"${out_dir}/real-node-up.log" 2>&1 || {
	tail -n 30 "${out_dir}/real-node-up.log"
	fail "hack/real-node.sh up"
	exit 1
}
timed "node up" "$((SECONDS - t))s"

step "Autoscaling stack up"
t=${SECONDS}
check "autoscaling-stack up" "${stack}" up
timed "stack up" "$((SECONDS - t))s"
check "stack.env records the Prometheus address ${prom}" grep -qx "PROMETHEUS_URL=${prom}" "${stack_state}/stack.env"
check "up again on a running stack is a no-op" sh -c "'${stack}' up | grep -q 'already running'"
check "Prometheus answers /-/ready" sh -c "'${rn}' exec curl -sf --max-time 5 '${prom}/-/ready' >/dev/null"
check "Prometheus is not on loopback (KEDA and pods reach it on the node IP only)" \
	sh -c "! '${rn}' exec curl -s --max-time 2 http://127.0.0.1:9090/-/ready"
check "external.metrics.k8s.io/v1beta1 answers through the API server" \
	sh -c "'${kubectl}' get --raw /apis/external.metrics.k8s.io/v1beta1 | grep -q '\"groupVersion\":\"external.metrics.k8s.io/v1beta1\"'"

step "A real model server (${model_image}), annotated for Prometheus"
check "load-image ${model_tar}" sh -c "'${rn}' load-image '${model_tar}' >/dev/null"
"${kubectl}" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: model-server
  namespace: ${ns}
spec:
  replicas: 1
  selector:
    matchLabels: {app: model-server}
  template:
    metadata:
      labels: {app: model-server}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "8080"
        prometheus.io/path: /metrics
    spec:
      automountServiceAccountToken: false
      # No Service environment variables: the Service model-server would set
      # MODEL_SERVER_PORT=tcp://..., which the server reads as its --port.
      enableServiceLinks: false
      terminationGracePeriodSeconds: 10
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: model-server
        image: ${model_image}
        imagePullPolicy: Never
        env:
        # A bounded worker pool and a real queue: 2 inferences at a time, 300 ms each.
        - {name: MODEL_SERVER_WORKERS, value: "2"}
        - {name: MODEL_SERVER_INFER_SLEEP, value: 300ms}
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /v2/health/ready, port: http}
          periodSeconds: 1
        resources:
          requests: {cpu: 50m, memory: 32Mi}
          limits: {cpu: 500m, memory: 128Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
---
# The same server without the annotations: it serves /metrics on a declared port too, and
# must not be scraped.
apiVersion: v1
kind: Pod
metadata:
  name: not-annotated
  namespace: ${ns}
  labels: {app: not-annotated}
spec:
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: 5
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: model-server
    image: ${model_image}
    imagePullPolicy: Never
    ports:
    - {name: http, containerPort: 8080}
    resources:
      requests: {cpu: 10m, memory: 16Mi}
      limits: {cpu: 100m, memory: 64Mi}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: Service
metadata:
  name: model-server
  namespace: ${ns}
spec:
  selector: {app: model-server}
  ports:
  - {name: http, port: 80, targetPort: http}
EOF
t=${SECONDS}
check "model-server Deployment available" "${kubectl}" -n "${ns}" wait --for=condition=Available deployment/model-server --timeout=90s
pod="$("${kubectl}" -n "${ns}" get pods -l app=model-server -o 'jsonpath={.items[0].metadata.name}')"

step "Prometheus scrapes ${ns}/${pod}"
check "up{namespace=\"${ns}\",pod=\"${pod}\"} == 1" within 60 prom_value_is "up{namespace=\"${ns}\",pod=\"${pod}\"}" 1
timed "pod Available -> first scrape up == 1" "$((SECONDS - t))s"
queued="$(prom_values "model_infer_requests_queued{namespace=\"${ns}\",app=\"model-server\"}")"
check "the queue gauge model_infer_requests_queued is visible, scoped by the pod label app (value ${queued:-none})" test -n "${queued}"
check "the scrape address is the annotated port (instance ${pod} :8080)" sh -c "
	'${rn}' exec curl -s --max-time 5 '${prom}/api/v1/query' --data-urlencode 'query=up{pod=\"${pod}\"}' | grep -q '\"instance\":\"[0-9.]*:8080\"'"
check "the Running pod without the annotations is discovered and dropped, not scraped" within 30 sh -c "
	'${kubectl}' -n '${ns}' wait --for=condition=Ready pod/not-annotated --timeout=1s >/dev/null &&
	'${rn}' exec curl -s --max-time 5 '${prom}/api/v1/targets?state=dropped' | grep -q '\"__meta_kubernetes_pod_name\":\"not-annotated\"' &&
	! '${rn}' exec curl -s --max-time 5 '${prom}/api/v1/targets?state=active' | grep -q '\"pod\":\"not-annotated\"'"

step "A KEDA ScaledObject on the queue depth (threshold 5 per pod, 1..4 replicas)"
"${kubectl}" apply -f - >/dev/null <<EOF
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: model-server
  namespace: ${ns}
spec:
  scaleTargetRef:
    name: model-server
  minReplicaCount: 1
  maxReplicaCount: 4
  pollingInterval: 5
  cooldownPeriod: 30
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleUp:
          stabilizationWindowSeconds: 0
        scaleDown:
          stabilizationWindowSeconds: 20
          policies:
          - {type: Percent, value: 100, periodSeconds: 15}
  triggers:
  - type: prometheus
    metadata:
      serverAddress: ${prom}
      query: sum(model_infer_requests_queued{namespace="${ns}",app="model-server"})
      threshold: "5"
EOF
check "ScaledObject Ready" "${kubectl}" -n "${ns}" wait --for=condition=Ready scaledobject/model-server --timeout=60s
check "KEDA created the HPA keda-hpa-model-server" within 30 "${kubectl}" -n "${ns}" get hpa keda-hpa-model-server
metric="$("${kubectl}" -n "${ns}" get hpa keda-hpa-model-server -o 'jsonpath={.spec.metrics[0].external.metric.name}' 2>/dev/null || true)"
check "the HPA reads an External metric (${metric:-none})" test -n "${metric}"
check "the external metric ${metric} answers through the API server (KEDA adapter -> operator -> Prometheus)" within 30 sh -c "
	'${kubectl}' get --raw '/apis/external.metrics.k8s.io/v1beta1/namespaces/${ns}/${metric}?labelSelector=scaledobject.keda.sh%2Fname%3Dmodel-server' |
		grep -q '\"metricName\":\"${metric}\"'"
check "Deployment still at 1 replica without load" test "$(replicas)" = 1

step "Real load: 24 clients, a new connection per request, through the Service"
cluster_ip="$("${kubectl}" -n "${ns}" get service model-server -o 'jsonpath={.spec.clusterIP}')"
"${rn}" exec "${load_bin}" --url "http://${cluster_ip}/v2/models/iris/infer" --concurrency 24 \
	--duration 240s --requests 1000000 --timeout 10s --report 10s >"${out_dir}/load.log" 2>&1 &
load_pid=$!
load_start=${SECONDS}
if within 120 replicas_above 1; then
	out_s=$((SECONDS - load_start))
	pass "KEDA scaled the Deployment out under load (1 -> $(replicas) desired after ${out_s}s)"
	timed "scale-out delay (load start -> replicas > 1)" "${out_s}s"
else
	fail "no scale-out within 120 s of load (replicas $(replicas))"
fi
if within 120 ready_at_least 3; then
	pass "3 or more pods Ready under load (ready $(ready_replicas), desired $(replicas))"
	timed "load start -> 3 pods Ready" "$((SECONDS - load_start))s"
else
	fail "fewer than 3 pods Ready under load (ready $(ready_replicas), desired $(replicas))"
fi
targets="$("${kubectl}" -n "${ns}" get hpa keda-hpa-model-server -o 'jsonpath={.status.currentMetrics[0].external.current.averageValue}' 2>/dev/null || true)"
echo "    HPA current average queue per pod under load: ${targets:-?}"
check "Prometheus scrapes every new pod (up == 1 for each Ready pod)" within 30 prom_value_at_least "sum(up{namespace=\"${ns}\"})" 3

check "minutes later the pod without the annotations still has no up series" \
	prom_value_is 'count(up{pod="not-annotated"}) or vector(0)' 0

step "Load stopped: back in to 1"
kill -TERM "${load_pid}" 2>/dev/null || true
wait "${load_pid}" 2>/dev/null || true
load_pid=""
load_stop=${SECONDS}
grep 'done:' "${out_dir}/load.log" | sed 's/^/    /' || true
if within 150 replicas_are 1; then
	in_s=$((SECONDS - load_stop))
	pass "KEDA scaled the Deployment back in to 1 after the load (${in_s}s)"
	timed "scale-in delay (load stop -> replicas 1; 20 s stabilization)" "${in_s}s"
else
	fail "no scale-in to 1 within 150 s (replicas $(replicas))"
fi
check "ScaledObject still Ready" "${kubectl}" -n "${ns}" wait --for=condition=Ready scaledobject/model-server --timeout=5s

step "Isolation and teardown"
check "guard counter 0 (nothing tried an address outside the namespace)" "${rn}" guard
check "autoscaling-stack down" "${stack}" down
check "no Prometheus or KEDA process left" sh -c "
	for d in /proc/[0-9]*; do case \"\$(readlink \$d/exe 2>/dev/null)\" in '${root}'/bin/autoscaling/*) exit 1;; esac; done"
check "the stack's state is removed" test ! -e "${stack_state}"
check "the APIService is gone while the node runs" sh -c "! '${kubectl}' get apiservice v1beta1.external.metrics.k8s.io >/dev/null 2>&1"
check "down again is a no-op" "${stack}" down
check "real node down" sh -c "'${rn}' down >/dev/null"
check "check-clean after down" "${rn}" check-clean
timed "whole check" "$((SECONDS - start))s"
