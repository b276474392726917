#!/usr/bin/env bash
# make test-release-image: the previous release's image (hack/release-image.sh, the upgrade
# spec's starting point) builds in a clone that holds neither the release's tag nor its
# history, as CI's clone of main, and is byte for byte the image built here. Prints
# "N passed, M failed".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
# shellcheck source=hack/lib.sh
source "${root}/hack/lib.sh"
RELEASE_TAG="${RELEASE_TAG:-v0.1.0}"

here="$(hack/release-image.sh "${RELEASE_TAG}" 2>/dev/null)" || {
	fail "hack/release-image.sh ${RELEASE_TAG} in this clone"
	exit 1
}
pass "the image of release ${RELEASE_TAG} builds in this clone"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
# A clone of this commit alone: no tags, no history.
git clone -q --depth 1 --no-tags "file://${root}" "${work}/clone"
check "the shallow clone holds neither the tag nor the release's commit" \
	sh -c "! git -C '${work}/clone' cat-file -e '$(cut -d' ' -f1 "hack/releases/${RELEASE_TAG}.commit")^{commit}' 2>/dev/null && [ -z \"\$(git -C '${work}/clone' tag)\" ]"
if there="$(cd "${work}/clone" && hack/release-image.sh "${RELEASE_TAG}" 2>"${work}/log")"; then
	pass "the image of release ${RELEASE_TAG} builds in the shallow clone"
	check "it is the same image, byte for byte ($(sha256sum <"${here}" | cut -c1-12))" cmp -s "${here}" "${there}"
	check "the same chart" diff -r "$(dirname "${here}")/src/dist/chart" "$(dirname "${there}")/src/dist/chart"
else
	tail -n 20 "${work}/log"
	fail "hack/release-image.sh ${RELEASE_TAG} in the shallow clone"
fi

echo "${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
