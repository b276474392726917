#!/usr/bin/env bash
# make test-e2e-real: the end-to-end suite on the REAL local node (test/realnode, build tag
# realnode). It builds the operator's image and two tags of the example model server's
# (make image image-model-server; the second tag is what the rollout spec rolls to), starts
# the node (hack/real-node.sh up; when one is running already, someone else's, it waits up
# to REAL_NODE_WAIT seconds, default 600, for it to go), loads the images, builds the
# suite's test binary and runs it inside the node's network and mount namespaces
# (hack/real-node.sh exec: the API server, the pods and the ClusterIPs are reachable only
# there). The suite installs the operator with helm from its image. Whatever happens, the
# node is then taken down and check-clean must find nothing left. Prints the suite's
# figures, the timings and "N passed, M failed". Needs root.
#
# The upgrade spec starts from the previous release, RELEASE_TAG (default v0.1.0): its image
# and chart are built from that release's sources (hack/releases/, checked against the tag
# where the clone holds it) by hack/release-image.sh, cached in bin/releases/.
#
# REALNODE_FOCUS runs only the specs whose text matches it (ginkgo --focus); the specs
# build on each other, so a focus is for debugging.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
rn="${root}/hack/real-node.sh"
out_dir="${root}/bin/realnode"
VERSION="${VERSION:-$(sed -n 's/^VERSION ?= //p' Makefile)}"
operator_tar="bin/images/inference-operator-${VERSION}.tar"
model_tar="bin/images/model-server-${VERSION}.tar"
rollout_tag="inference-operator/model-server:${VERSION}-rollout"
rollout_tar="bin/images/model-server-${VERSION}-rollout.tar"
test_bin="${out_dir}/realnode.test"
# The release the upgrade spec starts from (its sources in hack/releases/).
RELEASE_TAG="${RELEASE_TAG:-v0.1.0}"

k() { "${rn}" kubectl "$@"; }
# pass, fail, check, image_ref, wait_real_node_free, real_test_begin, finish_report.
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"

started_node=0
finish() {
	local rc=$? t
	trap - EXIT INT TERM
	if ((started_node)); then
		step "Taking the node down, then check-clean"
		t=${SECONDS}
		check "hack/real-node.sh down" sh -c "'${rn}' down >'${out_dir}/down.log' 2>&1"
		timed down "${t}"
		check "hack/real-node.sh check-clean: nothing left behind" "${rn}" check-clean
	fi
	echo
	if [[ -f "${out_dir}/suite.log" ]]; then
		echo "figures:"
		grep -a '^ *FIGURE: ' "${out_dir}/suite.log" | sed 's/^ *FIGURE: /  /' || true
	fi
	echo "timings: ${timings[*]} total $((SECONDS - start))s"
	finish_report "${rc}"
}
real_test_begin

step "Images (make image image-model-server, and the model server again as ${rollout_tag}) and the suite's test binary"
t=${SECONDS}
make -s image image-model-server >"${out_dir}/images.log" 2>&1 &&
	make -s image-model-server MODEL_SERVER_IMG="${rollout_tag}" MODEL_SERVER_TAR="${rollout_tar}" >>"${out_dir}/images.log" 2>&1 || {
	tail -n 20 "${out_dir}/images.log"
	fail "building the images (log ${out_dir}/images.log)"
	exit 1
}
# The previous release, for the upgrade spec: its image and chart from its own sources.
release_tar="$(hack/release-image.sh "${RELEASE_TAG}" 2>>"${out_dir}/images.log")" || {
	tail -n 20 "${out_dir}/images.log"
	fail "building the image of release ${RELEASE_TAG} (hack/release-image.sh, log ${out_dir}/images.log)"
	exit 1
}
go test -c -tags realnode -o "${test_bin}" ./test/realnode
timed build "${t}"
operator_image="$(image_ref "${operator_tar}")"
model_image="$(image_ref "${model_tar}")"
echo "    ${operator_image}, ${model_image}, ${rollout_tag}"

if ! wait_real_node_free "${REAL_NODE_WAIT:-600}"; then
	fail "the real node stayed up; run again later"
	exit 1
fi
step "Starting the real node"
t=${SECONDS}
started_node=1
"${rn}" up >"${out_dir}/up.log" 2>&1 || {
	tail -n 20 "${out_dir}/up.log"
	fail "hack/real-node.sh up (log ${out_dir}/up.log)"
	exit 1
}
timed cluster-up "${t}"
t=${SECONDS}
for tar in "${operator_tar}" "${model_tar}" "${rollout_tar}" "${release_tar}"; do
	check "load-image ${tar}" sh -c "'${rn}' load-image '${tar}' >/dev/null"
done
timed load-images "${t}"
# Prometheus and KEDA inside the node (the KEDA specs scale on the model server's queue).
t=${SECONDS}
"${root}/hack/autoscaling-stack.sh" up >"${out_dir}/autoscaling-stack.log" 2>&1 || {
	tail -n 20 "${out_dir}/autoscaling-stack.log"
	fail "hack/autoscaling-stack.sh up (log ${out_dir}/autoscaling-stack.log)"
	exit 1
}
timed autoscaling-stack "${t}"

step "The suite (test/realnode), inside the node's namespaces"
t=${SECONDS}
focus=()
[[ -z "${REALNODE_FOCUS:-}" ]] || focus=("-ginkgo.focus=${REALNODE_FOCUS}")
if "${rn}" exec env KUBECTL="$(hack/build-control-plane.sh --print-path)/kubectl" \
	REALNODE_OPERATOR_IMAGE="${operator_image}" REALNODE_MODEL_IMAGE="${model_image}" REALNODE_MODEL_IMAGE_ROLLOUT="${rollout_tag}" \
	REALNODE_RELEASE_IMAGE="$(image_ref "${release_tar}")" REALNODE_RELEASE_CHART="${root}/bin/releases/${RELEASE_TAG}/src/dist/chart" \
	"${test_bin}" -test.v -test.timeout 30m -ginkgo.v -ginkgo.no-color "${focus[@]}" 2>&1 | tee "${out_dir}/suite.log"; then
	pass "the real-node suite (log ${out_dir}/suite.log)"
else
	fail "the real-node suite (log ${out_dir}/suite.log)"
fi
timed suite "${t}"
