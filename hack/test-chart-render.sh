#!/usr/bin/env bash
# make test-chart-render: checks of the Helm chart (dist/chart) that need no cluster:
#   - wrong values are refused by values.schema.json (or the chart's own checks) with a
#     message naming the value;
#   - helm template renders what each value promises (CRD policy, cluster-wide or
#     per-namespace RBAC, the ServiceMonitor only when enabled, the manager's flags);
#   - the security contexts land at the pod or the container as their names say, the
#     deprecated names render as before with a warning (test/chart, a Go test that
#     decodes the rendered Deployment).
# make test-chart runs it before the cluster tests (hack/test-chart.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
HELM="${HELM:-${root}/bin/helm}"
chart="${CHART_DIR:-dist/chart}"

step() { echo "==> $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

render() { "${HELM}" template inference-operator "${chart}" --namespace inference-operator-system "$@"; }

# count KIND NAME MANIFESTS: how many objects of KIND named NAME the rendered MANIFESTS hold.
count() {
	awk -v kind="$1" -v name="$2" '
		/^---/ { k = ""; n = "" }
		/^kind: / { k = $2 }
		/^  name: / && k != "" && n == "" { n = $2; if (k == kind && n == name) c++ }
		END { print c + 0 }
	' <<<"$3"
}
# The expect_* checks look at the last render, in ${out}.
expect_count() { # EXPECTED KIND NAME WHAT
	local got
	got="$(count "$2" "$3" "${out}")"
	[[ "${got}" == "$1" ]] || fail "$4: expected $1 $2 $3, rendered ${got}"
	echo "    ok: $4"
}
expect_line() { # LINE WHAT: a rendered line is LINE (leading spaces ignored)
	awk -v want="$1" '{ sub(/^[[:space:]]+/, "") } $0 == want { found = 1 } END { exit !found }' <<<"${out}" ||
		fail "$2: no line '$1'"
	echo "    ok: $2"
}
expect_no_line() { # TEXT WHAT: no rendered line contains TEXT
	if grep -qF -- "$1" <<<"${out}"; then fail "$2: found '$1'"; fi
	echo "    ok: $2"
}

# refused WHAT EXPECTED_MESSAGE HELM_ARGS...: helm template fails and says EXPECTED_MESSAGE.
refused() {
	local what="$1" message="$2" out
	shift 2
	if out="$(render "$@" 2>&1 >/dev/null)"; then
		fail "${what}: helm template accepted it"
	fi
	grep -qF -- "${message}" <<<"${out}" || fail "${what}: the error does not say '${message}':"$'\n'"${out}"
	echo "    ok: ${what}: $(grep -F -- "${message}" <<<"${out}" | head -n 1 | sed 's/^[[:space:]]*//')"
}

step "Wrong values are refused with a message naming them"
refused "replicas: \"two\"" "at '/replicas': got string, want integer" --set-string replicas=two
refused "logLevel: loud" "at '/logLevel': value must be one of 'debug', 'info', 'error', 'panic'" --set logLevel=loud
refused "an unknown top-level key" "additional properties 'replica' not allowed" --set replica=2
refused "an unknown nested key" "additional properties 'enable' not allowed" --set metrics.serviceMonitor.enable=true
refused "image.pullPolicy: Sometimes" "at '/image/pullPolicy'" --set image.pullPolicy=Sometimes
refused "watchNamespaces: [Team_A]" "at '/watchNamespaces/0'" --set 'watchNamespaces={Team_A}'
refused "metricStatusInterval: soon" "at '/metricStatusInterval'" --set metricStatusInterval=soon
refused "leaderElection.leaseDuration: 15 (no unit)" "at '/leaderElection/leaseDuration'" --set-string leaderElection.leaseDuration=15
refused "maxConcurrentReconciles: 0" "at '/maxConcurrentReconciles'" --set maxConcurrentReconciles=0
refused "metrics.port: 70000" "at '/metrics/port'" --set metrics.port=70000
refused "clusterDomain: Cluster_Local" "at '/clusterDomain'" --set clusterDomain=Cluster_Local
refused "prometheusAddress without a scheme" "at '/prometheusAddress'" --set prometheusAddress=prometheus:9090
refused "defaultPodMonitor: \"yes\"" "at '/defaultPodMonitor': got string, want boolean" --set-string defaultPodMonitor=yes
refused "watchPods: \"no\"" "at '/watchPods': got string, want boolean" --set-string watchPods=no
refused "a ServiceMonitor without metrics" "metrics.serviceMonitor.enabled needs metrics.enabled: true" \
	--set metrics.enabled=false --set metrics.serviceMonitor.enabled=true

step "Default values"
out="$(render)"
expect_count 1 CustomResourceDefinition inferenceservices.serving.inferenceops.dev "the CRD is installed"
expect_line "helm.sh/resource-policy: keep" "the CRD is kept on uninstall"
expect_count 1 ClusterRole inference-operator-manager-role "a ClusterRole for the whole cluster"
expect_count 1 ClusterRoleBinding inference-operator-manager-rolebinding "its ClusterRoleBinding"
expect_count 0 Role inference-operator-manager-role "no namespaced manager Role"
expect_count 1 Role inference-operator-leader-election-role "the leader election Role"
expect_count 1 Service inference-operator-metrics-service "the metrics Service"
expect_count 1 ClusterRole inference-operator-metrics-auth-role "the metrics-auth ClusterRole"
expect_count 1 ClusterRole inference-operator-metrics-reader "the metrics-reader ClusterRole"
expect_count 0 ServiceMonitor inference-operator-metrics-monitor "no ServiceMonitor (no Prometheus operator CRDs needed)"
expect_no_line "apiVersion: monitoring.coreos.com" "no object of the Prometheus operator (its group is only in the RBAC rules, for the PodMonitors the operator may render)"
expect_line "image: \"inference-operator:$(awk '$1 == "appVersion:" {gsub(/"/, "", $2); print $2}' "${chart}/Chart.yaml")\"" "the image tag is the appVersion"
for arg in --leader-elect --metrics-bind-address=:8443 --metrics-secure=true --zap-log-level=info \
	--kube-api-qps=50 --kube-api-burst=100 --max-concurrent-reconciles=4 --leader-election-lease-duration=15s \
	--cluster-domain=cluster.local --prometheus-address=http://prometheus.monitoring.svc:9090 \
	--default-pod-monitor=false --watch-pods=true --metric-status-interval=1m; do
	expect_line "- ${arg}" "the manager runs with ${arg}"
done
expect_no_line "--watch-namespaces" "no --watch-namespaces"
for line in "runAsNonRoot: true" "readOnlyRootFilesystem: true" "allowPrivilegeEscalation: false" "- ALL" "type: RuntimeDefault"; do
	expect_line "${line}" "restricted Pod Security: ${line}"
done

step "crd.keep=false, then crd.install=false"
out="$(render --set crd.keep=false)"
expect_count 1 CustomResourceDefinition inferenceservices.serving.inferenceops.dev "the CRD is installed"
expect_no_line "helm.sh/resource-policy" "without the keep policy"
out="$(render --set crd.install=false)"
expect_count 0 CustomResourceDefinition inferenceservices.serving.inferenceops.dev "no CRD"

step "watchNamespaces={team-a,team-b}"
out="$(render --set 'watchNamespaces={team-a,team-b}')"
expect_count 0 ClusterRole inference-operator-manager-role "no manager ClusterRole"
expect_count 0 ClusterRoleBinding inference-operator-manager-rolebinding "no manager ClusterRoleBinding"
expect_count 2 Role inference-operator-manager-role "a manager Role in each namespace"
expect_count 2 RoleBinding inference-operator-manager-rolebinding "a manager RoleBinding in each namespace"
expect_line "namespace: team-a" "one in team-a"
expect_line "namespace: team-b" "one in team-b"
expect_line "- --watch-namespaces=team-a,team-b" "the manager watches only them"

step "defaultPodMonitor=true"
out="$(render --set defaultPodMonitor=true)"
expect_line "- --default-pod-monitor=true" "the manager gives InferenceServices a PodMonitor by default"
expect_no_line "- --default-pod-monitor=false" "and only that flag"
expect_no_line "apiVersion: monitoring.coreos.com" "the chart itself still renders no object of the Prometheus operator"

step "watchPods=false"
out="$(render --set watchPods=false)"
expect_line "- --watch-pods=false" "the manager runs without the pod watch"
expect_no_line "- --watch-pods=true" "and only that flag"

step "metrics.serviceMonitor.enabled=true, then metrics.secure=false, then metrics.enabled=false"
out="$(render --set metrics.serviceMonitor.enabled=true)"
expect_count 1 ServiceMonitor inference-operator-metrics-monitor "a ServiceMonitor"
expect_line "scheme: https" "scraping over HTTPS"
out="$(render --set metrics.secure=false)"
expect_line "- --metrics-secure=false" "the manager serves plain HTTP"
expect_count 0 ClusterRole inference-operator-metrics-auth-role "no metrics-auth ClusterRole"
out="$(render --set metrics.enabled=false)"
expect_line "- --metrics-bind-address=0" "the manager serves no metrics"
expect_count 0 Service inference-operator-metrics-service "no metrics Service"

step "Every option (${chart}/ci/full-values.yaml)"
out="$(render -f "${chart}/ci/full-values.yaml")"
for arg in --leader-election-namespace=chart-leases --watch-namespaces=chart-team-a,chart-team-b --zap-log-level=2 \
	--kube-api-qps=25.5 --max-concurrent-reconciles=8 --health-probe-bind-address=:9440 --metrics-bind-address=:9443 \
	--enable-http2=true --zap-encoder=console --zap-devel=false --cluster-domain=cluster.example \
	--prometheus-address=http://prometheus-operated.monitoring.svc:9090 --default-pod-monitor=true --watch-pods=false \
	--metric-status-interval=30s; do
	expect_line "- ${arg}" "the manager runs with ${arg}"
done
expect_count 1 ServiceMonitor inference-operator-full-metrics-monitor "a ServiceMonitor"
expect_count 0 ClusterRole inference-operator-full-inferenceservice-admin-role "no aggregated roles"

step "Security contexts: the new names, the deprecated ones and their warning (go test ./test/chart)"
if ! go_out="$(HELM="${HELM}" CHART_DIR="${chart}" go test -tags e2e ./test/chart/ -count=1 -v 2>&1)"; then
	echo "${go_out}" >&2
	fail "the security context checks failed (above)"
fi
sed -n 's/^ *--- PASS: \(.*\) ([0-9.]*s)$/    ok: \1/p' <<<"${go_out}"

echo "Chart render checks passed."
