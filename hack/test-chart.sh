#!/usr/bin/env bash
# make test-chart-cluster (part of make test-chart): the Helm chart on a local simulated
# cluster of its own (.dev-cluster-chart/, cluster "chart"), so the dev cluster others use
# in .dev-cluster/ is never touched. Removed at the end, whatever the outcome.
#
#   1. every values file (defaults, dist/chart/ci/*.yaml) rendered with helm template and
#      accepted by the API server (kubectl apply --server-side --dry-run=server);
#   2. helm install into a namespace that enforces Pod Security "restricted": CRD
#      Established, manager Deployment rolled out (kwok runs its pods), ServiceAccount and
#      RBAC there, the live ClusterRole's rules those of config/rbac/role.yaml;
#   3. the operator, built from ./cmd and run on the host with the chart's flags and a
#      kubeconfig impersonating the chart's ServiceAccount, reconciles an InferenceService
#      (Deployment, Service, HPA, PDB, status) and serves metrics only to callers bound to
#      the metrics-reader ClusterRole: missing RBAC fails here;
#   4. helm upgrade changing logLevel and resources; with the deprecated names of the
#      security contexts (a warning, the same Deployment as before) and then the new ones;
#   5. helm upgrade to watchNamespaces: no ClusterRole, a Role per namespace, and the
#      operator (now with --watch-namespaces) still reconciles there;
#   6. helm uninstall: the CRD is kept, everything else is gone; with crd.keep=false the
#      CRD goes too;
#   7. dist/install.yaml (make build-installer) applies cleanly, its manager rolls out under
#      Pod Security "restricted", and applying it again changes nothing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"

export DEV_CLUSTER_NAME=chart
export DEV_CLUSTER_DIR="${root}/.dev-cluster-chart"
state_dir="${DEV_CLUSTER_DIR}"
export KUBECONFIG="${state_dir}/kubeconfig"
export KUBECACHEDIR="${state_dir}/kube-cache"
# helm keeps its cache, configuration and data under these; nothing goes to ~.
export HELM_CACHE_HOME="${state_dir}/helm/cache" HELM_CONFIG_HOME="${state_dir}/helm/config" HELM_DATA_HOME="${state_dir}/helm/data"
HELM="${HELM:-${root}/bin/helm}"
kubectl_bin="$(hack/build-control-plane.sh --print-path)/kubectl"
chart="${CHART_DIR:-dist/chart}"
release="inference-operator"
release_ns="inference-operator-system"
sa="${release}-controller-manager"
sa_user="system:serviceaccount:${release_ns}:${sa}"
cluster_ns="chart-apps"                 # an application namespace, for the cluster-wide run
watch_nss=(chart-team-a chart-team-b)   # the namespaces of the watchNamespaces run
out_dir="${root}/bin/chart-test"        # the manager binary and its logs (kept after the run)
manager="${out_dir}/manager"
sa_kubeconfig="${state_dir}/sa.kubeconfig"

start=${SECONDS}
step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - start))" "$*"; }
ok() { echo "    ok: $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
k() { "${kubectl_bin}" "$@"; }

# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"
helm() { "${HELM}" "$@"; }

command -v curl >/dev/null || fail "curl is needed (the metrics check calls the manager over HTTPS)"
[[ -x "${HELM}" ]] || fail "helm not found at ${HELM} (make helm builds it)"

# --- Processes and clean-up ---------------------------------------------------------------

build_pid=""
operator_pid=""

# stop_operator stops the manager process this script started, if it runs.
stop_operator() {
	[[ -n "${operator_pid}" ]] || return 0
	if kill -0 "${operator_pid}" 2>/dev/null; then
		kill "${operator_pid}" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "${operator_pid}" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "${operator_pid}" 2>/dev/null || true
	fi
	wait "${operator_pid}" 2>/dev/null || true
	operator_pid=""
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n "${build_pid}" ]]; then
		kill "${build_pid}" 2>/dev/null || true
		wait "${build_pid}" 2>/dev/null || true
	fi
	stop_operator
	if ((rc != 0)); then
		echo "The chart test failed (exit ${rc}). Manager logs: ${out_dir}/manager-*.log" >&2
	fi
	step "Removing the cluster ${DEV_CLUSTER_NAME}"
	hack/dev-cluster.sh down >/dev/null 2>&1 || echo "    hack/dev-cluster.sh down failed; run: DEV_CLUSTER_NAME=${DEV_CLUSTER_NAME} DEV_CLUSTER_DIR=${state_dir} hack/dev-cluster.sh down" >&2
	echo "    done; the chart test took $((SECONDS - start))s"
	exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# listen_port PID prints the port of the one TCP socket process PID listens on, read from
# /proc (its socket inodes in /proc/PID/fd, their state in /proc/PID/net/tcp), waiting up
# to 30 s. The manager binds port 0 and the kernel picks the port, so no other process can
# take it between a choice and the bind.
listen_port() {
	local pid="$1" fd target hex inodes
	for _ in $(seq 1 150); do
		kill -0 "${pid}" 2>/dev/null || return 1
		inodes=" "
		for fd in /proc/"${pid}"/fd/*; do
			target="$(readlink "${fd}" 2>/dev/null)" || continue
			[[ "${target}" == socket:* ]] && inodes+="${target//[^0-9]/} "
		done
		# Columns: sl local_address rem_address st ... inode (10th); st 0A is LISTEN.
		hex="$(awk -v inodes="${inodes}" 'NR > 1 && $4 == "0A" && index(inodes, " " $10 " ") { split($2, a, ":"); print a[2]; exit }' \
			"/proc/${pid}/net/tcp")"
		if [[ -n "${hex}" ]]; then
			echo "$((16#${hex}))"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# --- Cluster ------------------------------------------------------------------------------

step "Building the manager (./cmd) in the background; starting cluster ${DEV_CLUSTER_NAME} in ${state_dir}"
mkdir -p "${out_dir}"
go build -o "${manager}" ./cmd &
build_pid=$!
hack/dev-cluster.sh down >/dev/null 2>&1 || true # a cluster left over by an interrupted run
hack/dev-cluster.sh up >"${out_dir}/cluster-up.log" 2>&1 || {
	tail -n 20 "${out_dir}/cluster-up.log" >&2
	fail "the cluster did not start (log: ${out_dir}/cluster-up.log)"
}
ok "cluster up (log: ${out_dir}/cluster-up.log)"

step "Namespaces: ${release_ns} enforcing Pod Security \"restricted\", ${cluster_ns}, ${watch_nss[*]}, chart-leases"
k create namespace "${release_ns}" >/dev/null
k label namespace "${release_ns}" pod-security.kubernetes.io/enforce=restricted >/dev/null
for ns in "${cluster_ns}" "${watch_nss[@]}" chart-leases; do k create namespace "${ns}" >/dev/null; done
# The enforcement is really on: a pod that is not restricted is refused.
if k run not-restricted -n "${release_ns}" --image=busybox --restart=Never --dry-run=server >/dev/null 2>&1; then
	fail "namespace ${release_ns} accepted a pod that violates Pod Security restricted"
fi
ok "a pod violating \"restricted\" is refused in ${release_ns}"

# --- 1. Every render accepted by the API server --------------------------------------------

step "helm template with each values file, and a server-side dry run of the result"
k apply --server-side -f test/chart/servicemonitor-crd.yaml >/dev/null
wait_established crd/servicemonitors.monitoring.coreos.com
ok "a stand-in ServiceMonitor CRD (test/chart/servicemonitor-crd.yaml) for the renders that enable one"
for values in default "${chart}"/ci/*.yaml; do
	args=()
	[[ "${values}" == default ]] || args=(-f "${values}")
	rendered="${state_dir}/rendered-$(basename "${values}" .yaml).yaml"
	helm template "${release}" "${chart}" --namespace "${release_ns}" "${args[@]}" >"${rendered}"
	objects="$(grep -c '^kind: ' "${rendered}")"
	if ! result="$(k apply --server-side --dry-run=server -f "${rendered}" 2>&1)"; then
		echo "${result}" >&2
		fail "the API server refused the render with ${values}"
	fi
	accepted="$(grep -c 'serverside-applied (server dry run)' <<<"${result}")"
	[[ "${accepted}" == "${objects}" ]] || fail "${values}: ${objects} objects rendered, ${accepted} accepted:"$'\n'"${result}"
	ok "${values}: all ${objects} objects accepted"
done
# The chart must not need the Prometheus operator: install without its CRD.
k delete crd servicemonitors.monitoring.coreos.com --wait >/dev/null
ok "stand-in ServiceMonitor CRD removed again"

# --- 2. helm install ---------------------------------------------------------------------

step "helm install ${release} (default values) into ${release_ns}"
helm install "${release}" "${chart}" --namespace "${release_ns}" --wait --timeout 3m >/dev/null
wait_established crd/inferenceservices.serving.inferenceops.dev
ok "CRD inferenceservices.serving.inferenceops.dev Established"
[[ "$(k get crd inferenceservices.serving.inferenceops.dev -o jsonpath='{.metadata.annotations.helm\.sh/resource-policy}')" == keep ]] ||
	fail "the CRD lacks helm.sh/resource-policy: keep"
ok "CRD annotated helm.sh/resource-policy: keep"
k -n "${release_ns}" rollout status "deployment/${release}-controller-manager" --timeout=60s >/dev/null
ok "Deployment ${release}-controller-manager rolled out ($(k -n "${release_ns}" get deploy "${release}-controller-manager" -o jsonpath='{.status.readyReplicas}') ready pod, restricted Pod Security enforced)"
for object in "serviceaccount/${sa}" "service/${release}-metrics-service" "role/${release}-leader-election-role" \
	"rolebinding/${release}-leader-election-rolebinding"; do
	k -n "${release_ns}" get "${object}" >/dev/null || fail "${object} missing in ${release_ns}"
	ok "${object}"
done
for object in "clusterrole/${release}-manager-role" "clusterrolebinding/${release}-manager-rolebinding" \
	"clusterrole/${release}-metrics-auth-role" "clusterrolebinding/${release}-metrics-auth-rolebinding" \
	"clusterrole/${release}-metrics-reader" "clusterrole/${release}-inferenceservice-editor-role"; do
	k get "${object}" >/dev/null || fail "${object} missing"
	ok "${object}"
done
want_rules="$(k create --dry-run=client -f config/rbac/role.yaml -o jsonpath='{.rules}')"
[[ "$(k get clusterrole "${release}-manager-role" -o jsonpath='{.rules}')" == "${want_rules}" ]] ||
	fail "the live ClusterRole's rules differ from config/rbac/role.yaml"
ok "the live ClusterRole has exactly the rules of config/rbac/role.yaml"

# --- 3. The operator with the chart's ServiceAccount -------------------------------------

step "A kubeconfig impersonating ${sa_user}"
k config view --raw --minify --flatten >"${sa_kubeconfig}"
# `kubectl config set users.NAME.as` refuses this field; the user entry is edited instead.
sed -i "/^  user:\$/a\\    as: ${sa_user}" "${sa_kubeconfig}"
[[ "$(k --kubeconfig "${sa_kubeconfig}" auth whoami -o jsonpath='{.status.userInfo.username}')" == "${sa_user}" ]] ||
	fail "the impersonating kubeconfig does not act as ${sa_user}"
[[ "$(k --kubeconfig "${sa_kubeconfig}" auth can-i create clusterroles 2>/dev/null || true)" == no ]] ||
	fail "${sa_user} may create ClusterRoles: the test would not notice missing RBAC"
ok "it acts as ${sa_user}, who may not create ClusterRoles or anything else not granted"

step "Waiting for the manager build"
wait "${build_pid}" || fail "go build ./cmd failed"
build_pid=""
ok "${manager}"

step "Every flag of the manager (${manager} --help) is set by the chart"
# Not mapped to a value on purpose: --kubeconfig (the manager runs in the cluster) and
# --zap-devel (a development preset of the other zap flags; extraArgs can pass it).
all_renders="$(cat "${state_dir}"/rendered-*.yaml)"
missing=()
while read -r flag; do
	case "${flag}" in kubeconfig | zap-devel) continue ;; esac
	grep -qE -- "^[[:space:]]*- --${flag}(=|\$)" <<<"${all_renders}" || missing+=("--${flag}")
done < <("${manager}" --help 2>&1 | sed -n 's/^  -\([a-z0-9-]*\).*/\1/p')
((${#missing[@]} == 0)) || fail "the chart never sets ${missing[*]}: add a value for it (dist/chart/values.yaml, values.schema.json, templates/deployment.yaml)"
ok "all of them, in the renders of the default values and dist/chart/ci/*.yaml"

# start_operator NAME: runs the manager on the host with the arguments of the installed
# Deployment (so --watch-namespaces and every other chart flag apply), then overrides for a
# process outside the cluster: the Lease namespace (there is no in-cluster namespace to
# default to), metrics on a loopback port the kernel picks (found with listen_port, the
# only port the process listens on), and no health probes.
start_operator() {
	local name="$1" args=()
	mapfile -t args < <(k -n "${release_ns}" get deploy "${release}-controller-manager" \
		-o go-template='{{range (index .spec.template.spec.containers 0).args}}{{.}}{{"\n"}}{{end}}')
	operator_log="${out_dir}/manager-${name}.log"
	args+=(--leader-election-namespace="${release_ns}" --metrics-bind-address=127.0.0.1:0
		--health-probe-bind-address=0 --pprof-bind-address=0)
	echo "    manager ${args[*]}"
	KUBECONFIG="${sa_kubeconfig}" "${manager}" "${args[@]}" >"${operator_log}" 2>&1 &
	operator_pid=$!
	metrics_port="$(listen_port "${operator_pid}")" || {
		tail -n 20 "${operator_log}" >&2
		fail "the operator (pid ${operator_pid}) listens on no port (log ${operator_log})"
	}
	ok "running as pid ${operator_pid} with the chart's ServiceAccount, metrics on 127.0.0.1:${metrics_port} (log: ${operator_log})"
}

# expect_reconciled NAMESPACE NAME: the InferenceService's children exist, its status
# describes the current generation and it is Ready; the operator never met a refusal.
expect_reconciled() {
	local ns="$1" name="$2" kind waited=0
	# Polled rather than kubectl wait, to stop at the first refusal instead of a timeout.
	until [[ "$(k -n "${ns}" get "infsvc/${name}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]; do
		expect_no_refusal
		if ! kill -0 "${operator_pid}" 2>/dev/null; then
			tail -n 20 "${operator_log}" >&2
			fail "the operator exited (log ${operator_log})"
		fi
		if ((waited >= 120)); then
			k -n "${ns}" get "infsvc/${name}" -o yaml >&2 || true
			tail -n 20 "${operator_log}" >&2
			fail "InferenceService ${ns}/${name} did not become Ready in 120s"
		fi
		sleep 2
		waited=$((waited + 2))
	done
	for kind in deployment service horizontalpodautoscaler poddisruptionbudget; do
		k -n "${ns}" get "${kind}/${name}" >/dev/null || fail "${kind} ${ns}/${name} missing"
	done
	ok "${ns}/${name}: Deployment, Service, HPA and PDB created"
	local generation observed
	generation="$(k -n "${ns}" get "infsvc/${name}" -o jsonpath='{.metadata.generation}')"
	observed="$(k -n "${ns}" get "infsvc/${name}" -o jsonpath='{.status.observedGeneration}')"
	[[ -n "${observed}" && "${observed}" == "${generation}" ]] ||
		fail "${ns}/${name}: status.observedGeneration '${observed}', generation ${generation}"
	ok "${ns}/${name}: Ready, status.observedGeneration ${observed}"
	expect_no_refusal
	ok "no request of the operator was refused"
}

# expect_no_refusal fails when the API server refused the operator anything (missing RBAC).
expect_no_refusal() {
	if grep -m 3 -iE 'forbidden|cannot (get|list|watch|create|update|patch|delete)' "${operator_log}" | cut -c1-400 >&2; then
		fail "the API server refused the operator a request: the chart's RBAC misses a right (above; log ${operator_log})"
	fi
}

apply_inferenceservice() { # NAMESPACE NAME
	k apply --server-side -f - >/dev/null <<EOF
apiVersion: serving.inferenceops.dev/v1alpha1
kind: InferenceService
metadata:
  name: $2
  namespace: $1
spec:
  image: docker.io/seldonio/mlserver:1.6.1
  resources:
    requests:
      cpu: 100m
      memory: 128Mi
  podDisruptionBudget:
    maxUnavailable: 1
EOF
	ok "InferenceService $1/$2 applied"
}

# metrics_status TOKEN: the HTTP status of GET /metrics with TOKEN.
metrics_status() {
	curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "https://127.0.0.1:${metrics_port}/metrics"
}

step "The operator, cluster-wide, reconciles an InferenceService in ${cluster_ns}"
start_operator cluster-wide
apply_inferenceservice "${cluster_ns}" cluster-check
expect_reconciled "${cluster_ns}" cluster-check

step "Authenticated metrics (the manager reviews tokens with its metrics-auth ClusterRole)"
k -n "${release_ns}" create serviceaccount metrics-probe >/dev/null
k -n "${release_ns}" create serviceaccount stranger >/dev/null
k create clusterrolebinding chart-test-metrics-probe --clusterrole="${release}-metrics-reader" \
	--serviceaccount="${release_ns}:metrics-probe" >/dev/null
reader_token="$(k -n "${release_ns}" create token metrics-probe --duration=10m)"
stranger_token="$(k -n "${release_ns}" create token stranger --duration=10m)"
status=""
for _ in $(seq 1 30); do
	status="$(metrics_status "${reader_token}" || true)"
	[[ "${status}" == 200 ]] && break
	sleep 1
done
[[ "${status}" == 200 ]] || fail "GET /metrics with a metrics-reader token: HTTP ${status} (log ${operator_log})"
ok "a ServiceAccount bound to ${release}-metrics-reader gets HTTP 200"
status="$(metrics_status "${stranger_token}" || true)"
[[ "${status}" == 403 ]] || fail "GET /metrics with a token without metrics-reader: HTTP ${status}, want 403"
ok "a ServiceAccount without it gets HTTP 403"
status="$(metrics_status not-a-token || true)"
# controller-runtime answers a token the TokenReview rejects with 500, not 401.
[[ "${status}" == 401 || "${status}" == 500 ]] || fail "GET /metrics with an invalid token: HTTP ${status}, want 401 or 500"
ok "an invalid token is refused (HTTP ${status})"
stop_operator

# --- 4. helm upgrade changing values ------------------------------------------------------

step "helm upgrade: logLevel=debug, resources.limits.memory=512Mi"
helm upgrade "${release}" "${chart}" --namespace "${release_ns}" --reuse-values \
	--set logLevel=debug --set resources.limits.memory=512Mi --wait --timeout 3m >/dev/null
[[ "$(helm history "${release}" --namespace "${release_ns}" --max 1 -o json | grep -o '"revision":[0-9]*')" == '"revision":2' ]] ||
	fail "the release is not at revision 2"
deploy_json="$(k -n "${release_ns}" get deploy "${release}-controller-manager" -o json)"
grep -qF '"--zap-log-level=debug"' <<<"${deploy_json}" || fail "the Deployment does not pass --zap-log-level=debug"
[[ "$(k -n "${release_ns}" get deploy "${release}-controller-manager" -o jsonpath='{.spec.template.spec.containers[0].resources.limits.memory}')" == 512Mi ]] ||
	fail "the Deployment's memory limit is not 512Mi"
k -n "${release_ns}" rollout status "deployment/${release}-controller-manager" --timeout=60s >/dev/null
ok "revision 2: --zap-log-level=debug, memory limit 512Mi, rolled out"

step "helm upgrade with the deprecated names of the security contexts, then with the new ones"
# pod_sc / container_sc FIELD: a field of the manager pod's / container's securityContext.
pod_sc() { k -n "${release_ns}" get deploy "${release}-controller-manager" -o jsonpath="{.spec.template.spec.securityContext.$1}"; }
container_sc() { k -n "${release_ns}" get deploy "${release}-controller-manager" -o jsonpath="{.spec.template.spec.containers[0].securityContext.$1}"; }
upgrade_out="$(helm upgrade "${release}" "${chart}" --namespace "${release_ns}" --reuse-values \
	--set podSecurityContext.runAsUser=65532 --set securityContext.capabilities.drop='{ALL,NET_RAW}' --wait --timeout 3m)"
grep -qF "WARNING: deprecated values (podSecurityContext is set)" <<<"${upgrade_out}" ||
	fail "helm upgrade with podSecurityContext printed no deprecation warning:"$'\n'"${upgrade_out}"
ok "helm upgrade prints: $(grep -F "WARNING: deprecated values" <<<"${upgrade_out}")"
[[ "$(pod_sc runAsUser)" == 65532 && "$(pod_sc runAsNonRoot)" == true && "$(container_sc capabilities.drop)" == '["ALL","NET_RAW"]' &&
	"$(container_sc readOnlyRootFilesystem)" == true && -z "$(container_sc runAsUser)" ]] ||
	fail "the old names did not render as before: pod $(pod_sc '*'), container $(container_sc '*')"
k -n "${release_ns}" rollout status "deployment/${release}-controller-manager" --timeout=60s >/dev/null
ok "podSecurityContext went to the pod, securityContext to the container, rolled out under restricted Pod Security"
# --reset-values drops the old names stored in the release; the earlier values are set again.
upgrade_out="$(helm upgrade "${release}" "${chart}" --namespace "${release_ns}" --reset-values \
	--set logLevel=debug --set resources.limits.memory=512Mi \
	--set securityContext.runAsUser=65532 --set containerSecurityContext.capabilities.drop='{ALL,NET_RAW}' --wait --timeout 3m)"
if grep -F "WARNING" <<<"${upgrade_out}"; then fail "helm upgrade with the new names printed a warning"; fi
[[ "$(pod_sc runAsUser)" == 65532 && "$(container_sc capabilities.drop)" == '["ALL","NET_RAW"]' && -z "$(container_sc runAsUser)" ]] ||
	fail "the new names did not render the same: pod $(pod_sc '*'), container $(container_sc '*')"
ok "the same with the new names (securityContext for the pod, containerSecurityContext for the container), no warning"

# --- 5. watchNamespaces --------------------------------------------------------------------

step "helm upgrade: watchNamespaces={${watch_nss[*]}}"
helm upgrade "${release}" "${chart}" --namespace "${release_ns}" --reuse-values \
	--set "watchNamespaces={$(
		IFS=,
		echo "${watch_nss[*]}"
	)}" --wait --timeout 3m >/dev/null
if k get clusterrole "${release}-manager-role" >/dev/null 2>&1 || k get clusterrolebinding "${release}-manager-rolebinding" >/dev/null 2>&1; then
	fail "the manager ClusterRole or its binding is still there"
fi
ok "no manager ClusterRole or ClusterRoleBinding"
for ns in "${watch_nss[@]}"; do
	[[ "$(k -n "${ns}" get role "${release}-manager-role" -o jsonpath='{.rules}')" == "${want_rules}" ]] ||
		fail "Role ${ns}/${release}-manager-role missing or not the rules of config/rbac/role.yaml"
	k -n "${ns}" get rolebinding "${release}-manager-rolebinding" >/dev/null || fail "RoleBinding missing in ${ns}"
	[[ "$(k auth can-i list deployments -n "${ns}" --as="${sa_user}")" == yes ]] || fail "${sa_user} may not list Deployments in ${ns}"
done
ok "a Role (the rules of config/rbac/role.yaml) and RoleBinding in ${watch_nss[*]}"
[[ "$(k auth can-i list deployments --all-namespaces --as="${sa_user}" || true)" == no ]] ||
	fail "${sa_user} may still list Deployments cluster-wide"
[[ "$(k auth can-i list inferenceservices -n "${cluster_ns}" --as="${sa_user}" || true)" == no ]] ||
	fail "${sa_user} may still list InferenceServices in ${cluster_ns}"
ok "${sa_user} has no rights cluster-wide or in ${cluster_ns} any more"
grep -qF "\"--watch-namespaces=$(
	IFS=,
	echo "${watch_nss[*]}"
)\"" <<<"$(k -n "${release_ns}" get deploy "${release}-controller-manager" -o json)" ||
	fail "the Deployment does not pass --watch-namespaces"
ok "the Deployment passes --watch-namespaces=$(
	IFS=,
	echo "${watch_nss[*]}"
)"

step "The operator, with --watch-namespaces, reconciles an InferenceService in ${watch_nss[1]} with the namespaced Roles only"
start_operator watch-namespaces
apply_inferenceservice "${watch_nss[1]}" team-check
expect_reconciled "${watch_nss[1]}" team-check
stop_operator

# --- 6. helm uninstall ---------------------------------------------------------------------

step "helm uninstall ${release}"
isvcs_before="$(k get infsvc -A --no-headers | wc -l)"
helm uninstall "${release}" --namespace "${release_ns}" --wait --timeout 2m >/dev/null
k get crd inferenceservices.serving.inferenceops.dev >/dev/null || fail "the CRD was deleted (crd.keep defaults to true)"
[[ "$(k get infsvc -A --no-headers | wc -l)" == "${isvcs_before}" ]] || fail "InferenceServices were lost"
ok "the CRD is kept, and the ${isvcs_before} InferenceServices with it"
selector="app.kubernetes.io/instance=${release}"
# The garbage collector removes the ReplicaSet and its pods after the Deployment.
k -n "${release_ns}" wait --for=delete pods,replicasets -l "${selector}" --timeout=60s >/dev/null 2>&1 || true
left="$(k get deployments,replicasets,pods,serviceaccounts,services,roles,rolebindings -A -l "${selector}" -o name)"
left+="$(k get clusterroles,clusterrolebindings -l "${selector}" -o name)"
[[ -z "${left}" ]] || fail "left after uninstall:"$'\n'"${left}"
ok "nothing else of the release is left (Deployment, pods, ServiceAccount, Service, RBAC)"

step "Deleting the kept CRD; helm install with crd.keep=false, then uninstall: the CRD goes too"
# Deleted first: a new release would adopt the kept CRD (it still carries the release's
# ownership annotations), but helm's merge would leave its resource-policy annotation.
k delete crd inferenceservices.serving.inferenceops.dev --wait --timeout=60s >/dev/null
helm install "${release}" "${chart}" --namespace "${release_ns}" --set crd.keep=false >/dev/null
[[ -z "$(k get crd inferenceservices.serving.inferenceops.dev -o jsonpath='{.metadata.annotations.helm\.sh/resource-policy}')" ]] ||
	fail "the CRD still has helm.sh/resource-policy"
helm uninstall "${release}" --namespace "${release_ns}" --wait --timeout 2m >/dev/null
k wait --for=delete crd/inferenceservices.serving.inferenceops.dev --timeout=60s >/dev/null 2>&1 || true
if k get crd inferenceservices.serving.inferenceops.dev >/dev/null 2>&1; then
	fail "the CRD is still there after uninstalling with crd.keep=false"
fi
ok "CRD deleted"

# --- 7. The one-file installer -----------------------------------------------------------

step "kubectl apply --server-side -f dist/install.yaml (make build-installer) on the same cluster"
k apply --server-side -f dist/install.yaml >/dev/null
wait_established crd/inferenceservices.serving.inferenceops.dev
ok "CRD Established"
k -n "${release_ns}" rollout status "deployment/${release}-controller-manager" --timeout=120s >/dev/null
ok "Deployment ${release}-controller-manager rolled out under Pod Security \"restricted\""
if ! diff_out="$(k diff --server-side -f dist/install.yaml 2>&1)"; then
	echo "${diff_out}" >&2
	fail "applying dist/install.yaml a second time would change something"
fi
ok "applying it again changes nothing (kubectl diff --server-side is empty)"

step "Chart and installer tests passed"
