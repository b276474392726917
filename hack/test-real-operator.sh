#!/usr/bin/env bash
# The operator in a real cluster, installed the way users install it (make test-real-operator):
# on the real local node (hack/real-node.sh: real containers, kube-proxy, metrics-server),
#   1. both images (make image, make image-model-server) loaded into the node's containerd;
#   2. helm install dist/chart with that image into a namespace enforcing Pod Security
#      "restricted": the manager pod Running and Ready (its probes pass), its root file system
#      really read-only, its process really uid 65532, the leader election Lease held by it;
#   3. its metrics Service answers 200 to a ServiceAccount token bound to the metrics-reader
#      ClusterRole and 403 to one without (curl over the ClusterIP, inside the node's network);
#   4. the model-server sample (config/samples/..._modelserver.yaml) Ready with a real pod,
#      and one real inference through its Service's ClusterIP answered correctly;
#   5. helm upgrade to a rebuilt image (another tag): the manager rolls, no model pod restarts
#      (same pod UIDs, restartCount 0, the model Deployment's generation unchanged);
#   6. helm uninstall leaves the CRD and the InferenceService (and its pods) in place;
#   7. dist/install.yaml applied (its image replaced by the one built here): the manager becomes
#      Ready, takes the Lease and reconciles (a deleted child Service comes back);
#   8. the node's isolation guard counted no packet leaving.
# Prints timings and a closing "N passed, M failed" line; exits non-zero on a failure. Needs root.
#
# Only one real node per machine: when one is running already (someone else's), this waits up
# to REAL_NODE_WAIT seconds (default 600) for it to go away, then starts its own and takes it
# down at the end. REAL_NODE_REUSE=1 runs on the running node instead and leaves it running
# (removing only what this test created). CHART_DIR sets another chart folder.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
rn="${root}/hack/real-node.sh"
chart="${CHART_DIR:-dist/chart}"
HELM="${HELM:-${root}/bin/helm}"
VERSION="${VERSION:-$(sed -n 's/^VERSION ?= //p' Makefile)}"
operator_tar="bin/images/inference-operator-${VERSION}.tar"
model_tar="bin/images/model-server-${VERSION}.tar"
rebuilt_tag_suffix="rebuilt"
rebuilt_tar="bin/images/inference-operator-${VERSION}-${rebuilt_tag_suffix}.tar"
sample="config/samples/serving_v1alpha1_inferenceservice_modelserver.yaml"
isvc="iris-real"
release="inference-operator"
op_ns="inference-operator-system" # the namespace dist/install.yaml uses too
app_ns="real-operator-apps"
deploy="${release}-controller-manager"
lease="inference-operator.serving.inferenceops.dev"
crd="inferenceservices.serving.inferenceops.dev"
metrics_reader="${release}-metrics-reader"
out_dir="${root}/bin/real-operator-test"
# helm keeps its cache, configuration and data under these; nothing goes to ~.
export HELM_CACHE_HOME="${out_dir}/helm/cache" HELM_CONFIG_HOME="${out_dir}/helm/config" HELM_DATA_HOME="${out_dir}/helm/data"

k() { "${rn}" kubectl "$@"; }
# pass, fail, check, within, wait_established (k is defined above), image_ref,
# real_node_running, wait_real_node_free, real_test_begin, finish_report.
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"
in_node() { "${rn}" exec "$@"; }
helm() { in_node "${HELM}" "$@"; }
jp() { k "${@:2}" -o "jsonpath=$1"; } # jp JSONPATH KUBECTL-ARGS...

# --- Clean-up ------------------------------------------------------------------------------

started_node=0
finish() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ ${failed} -gt 0 || ${rc} -ne 0 ]] && "${rn}" kubectl get --raw /readyz >/dev/null 2>&1; then
		echo "---- diagnostics"
		k get pods -A -o wide 2>/dev/null || true
		k -n "${op_ns}" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 || true
		k -n "${app_ns}" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 || true
		k -n "${op_ns}" logs "deploy/${deploy}" --tail=30 2>/dev/null || true
	fi
	if ((started_node)); then
		"${rn}" down >"${out_dir}/down.log" 2>&1 || echo "hack/real-node.sh down failed (log ${out_dir}/down.log)"
	elif "${rn}" kubectl get --raw /readyz >/dev/null 2>&1; then
		# A node that was running before: remove only what this test made.
		helm uninstall "${release}" -n "${op_ns}" --wait >/dev/null 2>&1 || true
		k delete --ignore-not-found -f "${out_dir}/install.yaml" --wait=false >/dev/null 2>&1 || true
		k delete namespace "${app_ns}" "${op_ns}" --ignore-not-found --wait=false >/dev/null 2>&1 || true
		k delete clusterrolebinding real-operator-test-metrics-probe --ignore-not-found >/dev/null 2>&1 || true
	fi
	echo
	echo "timings: ${timings[*]}"
	finish_report "${rc}"
}
real_test_begin

# --- 0. The node and the images ------------------------------------------------------------

step "Images: make image, make image-model-server, and the rebuilt operator image (tag ${VERSION}-${rebuilt_tag_suffix})"
t=${SECONDS}
make -s image image-model-server >"${out_dir}/images.log" 2>&1 || {
	tail -n 20 "${out_dir}/images.log"
	fail "make image image-model-server (log ${out_dir}/images.log)"
	exit 1
}
# The same sources built again under another tag: what a release with a new image looks like
# to helm upgrade (a new image reference, so a new pod template).
make -s image IMAGE_TAG="inference-operator:${VERSION}-${rebuilt_tag_suffix}" IMAGE_TAR="${rebuilt_tar}" >>"${out_dir}/images.log" 2>&1 || {
	fail "rebuilding the operator image (log ${out_dir}/images.log)"
	exit 1
}
timed images "${t}"
operator_image="$(image_ref "${operator_tar}")"
rebuilt_image="$(image_ref "${rebuilt_tar}")"
model_image="$(image_ref "${model_tar}")"
echo "    ${operator_image}, ${rebuilt_image}, ${model_image}"
check "sample uses the model-server image built here (${model_image})" grep -qF "image: ${model_image}" "${sample}"

if [[ "${REAL_NODE_REUSE:-0}" == 1 ]] && real_node_running; then
	step "Reusing the running real node (REAL_NODE_REUSE=1)"
elif ! wait_real_node_free "${REAL_NODE_WAIT:-600}"; then
	fail "the real node stayed up; run again later, or with REAL_NODE_REUSE=1"
	exit 1
fi
if ! real_node_running; then
	step "Starting the real node"
	t=${SECONDS}
	started_node=1
	"${rn}" up >"${out_dir}/up.log" 2>&1 || {
		tail -n 20 "${out_dir}/up.log"
		fail "hack/real-node.sh up (log ${out_dir}/up.log)"
		exit 1
	}
	timed "cluster-up" "${t}"
	pass "real node up in $((SECONDS - t))s"
fi

step "Loading the images into the node (hack/real-node.sh load-image)"
t=${SECONDS}
for tar in "${operator_tar}" "${rebuilt_tar}" "${model_tar}"; do
	check "load-image ${tar}" sh -c "'${rn}' load-image '${tar}' >/dev/null"
done
timed "load-images" "${t}"

# --- 1. helm install ------------------------------------------------------------------------

step "Namespace ${op_ns} enforcing Pod Security \"restricted\"; ${app_ns} (baseline) for the model"
k create namespace "${op_ns}" >/dev/null
k label namespace "${op_ns}" pod-security.kubernetes.io/enforce=restricted >/dev/null
k create namespace "${app_ns}" >/dev/null
k label namespace "${app_ns}" pod-security.kubernetes.io/enforce=baseline >/dev/null
check "a pod violating \"restricted\" is refused in ${op_ns}" sh -c "! '${rn}' kubectl -n '${op_ns}' run not-restricted --image='${model_image}' --restart=Never --dry-run=server >/dev/null 2>&1"

repo="${operator_image%:*}"
tag="${operator_image##*:}"
step "helm install ${release} ${chart} --set image.repository=${repo},image.tag=${tag},image.pullPolicy=Never"
t=${SECONDS}
if helm install "${release}" "${chart}" -n "${op_ns}" --set image.repository="${repo}" --set image.tag="${tag}" \
	--set image.pullPolicy=Never --wait --timeout 3m >"${out_dir}/helm-install.log" 2>&1; then
	pass "helm install --wait"
else
	cat "${out_dir}/helm-install.log"
	fail "helm install --wait (log ${out_dir}/helm-install.log)"
	exit 1
fi
timed "helm-install-ready" "${t}"

# manager_pod: the name of the one manager pod that is not being deleted.
manager_pod() {
	k -n "${op_ns}" get pods -l "app.kubernetes.io/instance=${release}" -o go-template \
		--template '{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}'
}
# manager_pod_by_label SELECTOR: the same for another selector (dist/install.yaml's labels).
manager_pod_by_label() {
	k -n "${op_ns}" get pods -l "$1" -o go-template \
		--template '{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}'
}
pod_ready() { [[ "$(jp '{.status.conditions[?(@.type=="Ready")].status}' -n "$1" get pod "$2")" == True ]]; }
# container_pid NAMESPACE POD: the host pid of the pod's (only) container process, found by
# the pod's cgroup (kubepods/.../pod<UID>/<container id>) and not the sandbox's pause.
container_pid() {
	local uid cid pid
	uid="$(jp '{.metadata.uid}' -n "$1" get pod "$2")"
	cid="$(jp '{.status.containerStatuses[0].containerID}' -n "$1" get pod "$2")"
	cid="${cid#*://}"
	[[ -n "${uid}" && -n "${cid}" ]] || return 1
	for pid in $(grep -l "pod${uid}/${cid}" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3); do
		echo "${pid}"
		return 0
	done
	return 1
}
lease_holder() { jp '{.spec.holderIdentity}' -n "${op_ns}" get lease "${lease}"; }
# holds_lease POD: the Lease's holder identity is POD's (controller-runtime: POD_<uuid>).
holds_lease() { [[ "$(lease_holder)" == "$1_"* ]]; }

pod="$(manager_pod)"
echo "    manager pod ${pod}"
check "manager pod Running" test "$(jp '{.status.phase}' -n "${op_ns}" get pod "${pod}")" = Running
check "manager pod Ready (readiness probe /readyz passing)" pod_ready "${op_ns}" "${pod}"
check "manager container restartCount 0 (liveness probe /healthz passing)" test "$(jp '{.status.containerStatuses[0].restartCount}' -n "${op_ns}" get pod "${pod}")" = 0
check "manager image ${operator_image}, pull policy Never" test "$(jp '{.spec.containers[0].image} {.spec.containers[0].imagePullPolicy}' -n "${op_ns}" get pod "${pod}")" = "${operator_image} Never"
check "pod spec: readOnlyRootFilesystem true, runAsNonRoot true" test \
	"$(jp '{.spec.containers[0].securityContext.readOnlyRootFilesystem} {.spec.securityContext.runAsNonRoot}' -n "${op_ns}" get pod "${pod}")" = "true true"
if pid="$(container_pid "${op_ns}" "${pod}")"; then
	echo "    manager process: host pid ${pid}, $(tr '\0' ' ' <"/proc/${pid}/cmdline")"
	# Real, effective, saved and file-system ids, from the kernel.
	uids="$(awk '/^Uid:/ {print $2 "/" $3 "/" $4 "/" $5}' "/proc/${pid}/status")"
	gids="$(awk '/^Gid:/ {print $2 "/" $3 "/" $4 "/" $5}' "/proc/${pid}/status")"
	check "the manager process runs as uid 65532 (real/effective/saved/fs uid ${uids})" test "${uids}" = 65532/65532/65532/65532
	# Not asserted (yet): the image says 65532:65532, but the kubelet passes only the image's
	# uid as RunAsUser and containerd takes the group from the image's /etc/passwd, which this
	# image has not, so the process gets gid 0 unless the pod sets runAsGroup.
	echo "    NOTE: gid ${gids} (the image's user is 65532:65532; the chart sets no runAsGroup)"
	check "its root file system is mounted read-only" sh -c "awk '\$5 == \"/\" {print \$6}' /proc/${pid}/mountinfo | grep -Eq '^ro(,|\$)'"
else
	fail "no process found for the manager container of ${pod}"
fi
check "the leader election Lease ${lease} is held by ${pod}" within 30 holds_lease "${pod}"
echo "    Lease holder: $(lease_holder)"

# --- 2. Metrics, authenticated --------------------------------------------------------------

step "Metrics over the Service's ClusterIP: a token bound to ${metrics_reader} gets 200, one without 403"
k -n "${op_ns}" create serviceaccount metrics-probe >/dev/null
k -n "${op_ns}" create serviceaccount stranger >/dev/null
k create clusterrolebinding real-operator-test-metrics-probe --clusterrole="${metrics_reader}" \
	--serviceaccount="${op_ns}:metrics-probe" >/dev/null
reader_token="$(k -n "${op_ns}" create token metrics-probe --duration=10m)"
stranger_token="$(k -n "${op_ns}" create token stranger --duration=10m)"
metrics_ip="$(jp '{.spec.clusterIP}' -n "${op_ns}" get service "${release}-metrics-service")"
metrics_port="$(jp '{.spec.ports[0].port}' -n "${op_ns}" get service "${release}-metrics-service")"
# metrics_status TOKEN: HTTP status of GET /metrics (the body goes to ${out_dir}/metrics.txt).
metrics_status() {
	in_node curl -sk --max-time 5 -o "${out_dir}/metrics.txt" -w '%{http_code}' -H "Authorization: Bearer $1" \
		"https://${metrics_ip}:${metrics_port}/metrics"
}
metrics_is() { [[ "$(metrics_status "$1")" == "$2" ]]; }
check "GET https://${metrics_ip}:${metrics_port}/metrics with a metrics-reader token: 200" within 30 metrics_is "${reader_token}" 200
check "the answer is the manager's metrics (controller_runtime_reconcile_total)" grep -q '^controller_runtime_reconcile_total' "${out_dir}/metrics.txt"
status="$(metrics_status "${stranger_token}" || true)"
check "GET /metrics with a token of a ServiceAccount without it: 403 (got ${status})" test "${status}" = 403

# --- 3. The model-server sample, a real inference ------------------------------------------

step "The model-server sample (${sample}) in ${app_ns}"
t=${SECONDS}
k apply --server-side -n "${app_ns}" -f "${sample}" >/dev/null
if k -n "${app_ns}" wait --for=condition=Ready --timeout=180s "infsvc/${isvc}" >/dev/null; then
	pass "InferenceService ${isvc} Ready"
else
	fail "InferenceService ${isvc} not Ready in 180s"
fi
timed "sample-ready" "${t}"
k -n "${app_ns}" get infsvc,pods -o wide | sed 's/^/    /'
svc_ip="$(jp '{.spec.clusterIP}' -n "${app_ns}" get service "${isvc}")"
svc_port="$(jp '{.spec.ports[0].port}' -n "${app_ns}" get service "${isvc}")"
infer_url="http://${svc_ip}:${svc_port}/v2/models/iris/infer"
body='{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[5.9,3.0,5.1,1.8,5.7,2.8,4.1,1.3]}]}'
answer="$(in_node curl -s --max-time 5 -H 'Content-Type: application/json' -d "${body}" "${infer_url}" || true)"
echo "    POST ${infer_url}"
echo "    -> ${answer}"
check "a real inference through the ClusterIP: virginica and versicolor" grep -qF '"name":"label","shape":[2],"datatype":"BYTES","data":["virginica","versicolor"]' <<<"${answer}"

# --- 4. helm upgrade to a rebuilt image ---------------------------------------------------

# model_pods: "UID restartCount" of each model pod, sorted.
model_pods() {
	k -n "${app_ns}" get pods -l "serving.inferenceops.dev/inferenceservice=${isvc}" -o go-template \
		--template '{{range .items}}{{.metadata.uid}} {{range .status.containerStatuses}}{{.restartCount}}{{end}}{{"\n"}}{{end}}' | sort
}
model_generation() { jp '{.metadata.generation}' -n "${app_ns}" get deployment "${isvc}"; }
pods_before="$(model_pods)"
generation_before="$(model_generation)"
old_pod="${pod}"
old_uid="$(jp '{.metadata.uid}' -n "${op_ns}" get pod "${old_pod}")"
step "helm upgrade to ${rebuilt_image} (model pods before: $(wc -l <<<"${pods_before}"))"
t=${SECONDS}
if helm upgrade "${release}" "${chart}" -n "${op_ns}" --reuse-values --set image.tag="${rebuilt_image##*:}" \
	--wait --timeout 3m >"${out_dir}/helm-upgrade.log" 2>&1; then
	pass "helm upgrade --wait"
else
	cat "${out_dir}/helm-upgrade.log"
	fail "helm upgrade --wait (log ${out_dir}/helm-upgrade.log)"
fi
k -n "${op_ns}" rollout status "deployment/${deploy}" --timeout=120s >/dev/null || true
within 60 sh -c "[ \"\$('${rn}' kubectl -n '${op_ns}' get pods -l app.kubernetes.io/instance='${release}' --no-headers | wc -l)\" = 1 ]" || true
pod="$(manager_pod | head -n 1)"
check "the manager rolled: a new pod (${pod}, was ${old_pod})" test "$(jp '{.metadata.uid}' -n "${op_ns}" get pod "${pod}" 2>/dev/null)" != "${old_uid}"
check "the new manager pod runs ${rebuilt_image}" test "$(jp '{.spec.containers[0].image}' -n "${op_ns}" get pod "${pod}")" = "${rebuilt_image}"
check "the new manager pod is Ready" pod_ready "${op_ns}" "${pod}"
check "the old manager pod is gone" sh -c "! '${rn}' kubectl -n '${op_ns}' get pod '${old_pod}' >/dev/null 2>&1"
check "the new manager pod holds the Lease" within 60 holds_lease "${pod}"
timed "helm-upgrade-rolled" "${t}"
# Give the new manager time to reconcile everything it watches before looking at the pods.
sleep 5
check "the InferenceService is still Ready" test "$(jp '{.status.conditions[?(@.type=="Ready")].status}' -n "${app_ns}" get infsvc "${isvc}")" = True
pods_after="$(model_pods)"
echo "    model pods (UID restartCount) before: $(tr '\n' ' ' <<<"${pods_before}") after: $(tr '\n' ' ' <<<"${pods_after}")"
unchanged_and_never_restarted() { [[ -n "${pods_after}" && "${pods_before}" == "${pods_after}" ]] && ! grep -qv ' 0$' <<<"${pods_after}"; }
check "no model pod restarted or was replaced (same UIDs, restartCount 0)" unchanged_and_never_restarted
check "the model Deployment was not changed (generation ${generation_before})" test "$(model_generation)" = "${generation_before}"

# --- 5. helm uninstall -------------------------------------------------------------------

step "helm uninstall ${release}"
t=${SECONDS}
if helm uninstall "${release}" -n "${op_ns}" --wait --timeout 2m >"${out_dir}/helm-uninstall.log" 2>&1; then
	pass "helm uninstall --wait"
else
	cat "${out_dir}/helm-uninstall.log"
	fail "helm uninstall (log ${out_dir}/helm-uninstall.log)"
fi
timed "helm-uninstall" "${t}"
check "the manager Deployment is gone" sh -c "! '${rn}' kubectl -n '${op_ns}' get deployment '${deploy}' >/dev/null 2>&1"
check "the CRD ${crd} is kept" k get crd "${crd}"
check "the InferenceService ${isvc} is kept" k -n "${app_ns}" get infsvc "${isvc}"
check "its model pods still run (same UIDs)" test "$(model_pods)" = "${pods_after}"

# --- 6. dist/install.yaml -----------------------------------------------------------------

step "dist/install.yaml with image ${rebuilt_image} (kubectl apply --server-side)"
t=${SECONDS}
sed "s|^\(\s*image:\) inference-operator:latest\$|\1 ${rebuilt_image}|" dist/install.yaml >"${out_dir}/install.yaml"
check "dist/install.yaml names one manager image to replace" test "$(grep -c "image: ${rebuilt_image}\$" "${out_dir}/install.yaml")" = 1
# --force-conflicts: the CRD's fields are still owned by helm's field manager from the
# release above; the installer takes them over (the same values).
if k apply --server-side --force-conflicts -f "${out_dir}/install.yaml" >"${out_dir}/install-apply.log" 2>&1; then
	pass "kubectl apply --server-side -f install.yaml"
else
	cat "${out_dir}/install-apply.log"
	fail "kubectl apply -f install.yaml (log ${out_dir}/install-apply.log)"
fi
check "the installer's manager rolled out" k -n "${op_ns}" rollout status "deployment/${deploy}" --timeout=120s
pod="$(manager_pod_by_label control-plane=controller-manager | head -n 1)"
check "its pod ${pod} is Ready" pod_ready "${op_ns}" "${pod}"
check "it takes the Lease" within 60 holds_lease "${pod}"
timed "install-yaml-ready" "${t}"
old_svc_uid="$(jp '{.metadata.uid}' -n "${app_ns}" get service "${isvc}")"
k -n "${app_ns}" delete service "${isvc}" --wait=true >/dev/null
new_svc_uid() { jp '{.metadata.uid}' -n "${app_ns}" get service "${isvc}"; }
service_back() { local u; u="$(new_svc_uid)" && [[ -n "${u}" && "${u}" != "${old_svc_uid}" ]]; }
t=${SECONDS}
check "it reconciles: the deleted Service ${isvc} is created again" within 60 service_back
timed "service-restored" "${t}"
check "the restored Service is owned by the InferenceService" test "$(jp '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}' -n "${app_ns}" get service "${isvc}")" = "InferenceService/${isvc}"
check "the InferenceService is Ready, its observedGeneration current" test \
	"$(jp '{.status.conditions[?(@.type=="Ready")].status} {.status.observedGeneration}' -n "${app_ns}" get infsvc "${isvc}")" = \
	"True $(jp '{.metadata.generation}' -n "${app_ns}" get infsvc "${isvc}")"
svc_ip="$(jp '{.spec.clusterIP}' -n "${app_ns}" get service "${isvc}")"
check "an inference through the restored Service answers" within 30 sh -c \
	"'${rn}' exec curl -sf --max-time 5 -H 'Content-Type: application/json' -d '${body}' http://${svc_ip}:${svc_port}/v2/models/iris/infer | grep -q virginica"
check "still no model pod restarted" test "$(model_pods)" = "${pods_after}"

# --- 7. Isolation ---------------------------------------------------------------------------

check "guard counter 0 (nothing left the node's network namespace)" sh -c "'${rn}' guard"
echo "    total $((SECONDS - start))s"
