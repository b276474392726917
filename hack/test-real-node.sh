#!/usr/bin/env bash
# End-to-end check of the real local node (hack/real-node.sh), with asserts:
#   tools -> up -> node Ready -> load a locally built image -> a real pod Running with an
#   HTTP readiness probe passing -> reached through a ClusterIP Service from inside the
#   namespace -> `kubectl top pod` figures from metrics-server -> guard counter 0 ->
#   down -> check-clean.
# Prints the timings and a closing "N passed, N failed" line. Needs root.
#
#   hack/test-real-node.sh            (make test-real-node)
#
# A real node that is already running is replaced (down first); the node is always taken
# down at the end, also on failure (after printing the component logs' tails).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
rn="${root}/hack/real-node.sh"
kubectl="${root}/hack/kubectl"
state_dir="${REAL_NODE_DIR:-${root}/.real-node}"
ns="real-node-test"

# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

finish() {
	local rc=$?
	if [[ ${failed} -gt 0 || ${rc} -ne 0 ]]; then
		echo "---- diagnostics"
		"${kubectl}" get pods -A -o wide 2>/dev/null || true
		"${kubectl}" -n "${ns}" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 20 || true
		for f in "${state_dir}"/logs/*.log; do
			[[ -f "${f}" ]] || continue
			echo "---- tail ${f}"
			tail -n 15 "${f}"
		done
	fi
	if [[ -f "${state_dir}/namespace.env" ]]; then
		"${rn}" down >/dev/null 2>&1 || echo "down failed"
	fi
	if [[ ${rc} -ne 0 && ${failed} -eq 0 ]]; then failed=1; fi
	echo
	echo "${passed} passed, ${failed} failed"
	[[ ${failed} -eq 0 ]] || exit 1
}
trap finish EXIT

t0=${SECONDS}
"${rn}" tools
tools_s=$((SECONDS - t0))

if [[ -f "${state_dir}/namespace.env" ]]; then
	echo "==> replacing the running real node"
	"${rn}" down
fi

t0=${SECONDS}
"${rn}" up
up_s=$((SECONDS - t0))

check "guard chain first on OUTPUT and FORWARD (IPv4 and IPv6)" sh -c "
	for t in iptables ip6tables; do for c in OUTPUT FORWARD; do
		'${rn}' exec \${t} -t mangle -S \${c} | sed -n 2p | grep -qx -- '-A '\${c}' -j REAL-NODE-GUARD' || exit 1
	done; done"
check "node Ready" within 60 "${kubectl}" wait --for=condition=Ready node/real-node --timeout=1s
check "load-image imports the httpd image" "${rn}" load-image "${root}/bin/real-node/images/httpd.tar"

t0=${SECONDS}
"${kubectl}" apply -f - <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: httpd
  namespace: ${ns}
spec:
  replicas: 1
  selector:
    matchLabels: {app: httpd}
  template:
    metadata:
      labels: {app: httpd}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: httpd
        image: localhost/real-node/httpd:v1
        imagePullPolicy: Never
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 2
        resources:
          requests: {cpu: 50m, memory: 16Mi}
          limits: {cpu: 200m, memory: 64Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: Service
metadata:
  name: httpd
  namespace: ${ns}
spec:
  selector: {app: httpd}
  ports:
  - {name: http, port: 80, targetPort: http}
EOF
check "pod Ready (HTTP readiness probe passing)" within 90 "${kubectl}" -n "${ns}" wait --for=condition=Ready pod -l app=httpd --timeout=1s
pod_s=$((SECONDS - t0))
pod="$("${kubectl}" -n "${ns}" get pod -l app=httpd -o jsonpath='{.items[0].metadata.name}')"
check "pod phase Running" test "$("${kubectl}" -n "${ns}" get pod "${pod}" -o jsonpath='{.status.phase}')" = Running
check "image used from the node, not pulled" within 10 sh -c "'${kubectl}' -n '${ns}' get events --field-selector involvedObject.name='${pod}' | grep -q 'already present on machine'"
check "limits enforced in the pod's cgroup (cpu quota 20000us per 100000us)" within 10 sh -c \
	"uid=\$('${kubectl}' -n '${ns}' get pod '${pod}' -o jsonpath='{.metadata.uid}'); cat /sys/fs/cgroup/cpu/kubepods/burstable/pod\${uid}/cpu.cfs_quota_us | grep -qx 20000"

svc_ip="$("${kubectl}" -n "${ns}" get service httpd -o jsonpath='{.spec.clusterIP}')"
check "ClusterIP ${svc_ip} answers from inside the namespace" within 30 sh -c "'${rn}' exec curl -sf --max-time 2 http://${svc_ip}/ | grep -q 'hello from ${pod}'"
check "host mount points stay empty (writes land in the state folder)" sh -c \
	'for d in /var/lib/kubelet /var/lib/cni /run/containerd /var/log/containers; do [ -z "$(ls -A "$d")" ] || exit 1; done; [ -d "'"${state_dir}"'/host/var/lib/kubelet/device-plugins" ]'
check "no route to an outside address" sh -c "! '${rn}' exec ip route get 8.8.8.8 >/dev/null 2>&1"

t0=${SECONDS}
check "kubectl top pod shows metrics-server figures" within 120 sh -c "'${kubectl}' -n '${ns}' top pod '${pod}' --no-headers | grep -Eq '^${pod} +[0-9]+m +[0-9]+Mi'"
top_s=$((SECONDS - t0))
"${kubectl}" -n "${ns}" top pod "${pod}" || true
"${kubectl}" top node || true

"${rn}" guard || true
check "guard counter is 0" "${rn}" guard

t0=${SECONDS}
check "down" "${rn}" down
down_s=$((SECONDS - t0))
check "check-clean: nothing left behind" "${rn}" check-clean

echo
echo "timings: tools ${tools_s}s (0 when built), cluster up ${up_s}s, pod Ready ${pod_s}s after apply, first top figures ${top_s}s, down ${down_s}s"
