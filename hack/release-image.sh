#!/usr/bin/env bash
# hack/release-image.sh TAG: the operator's image and chart of a released version, built
# from that git tag's own sources with its own Makefile (make image), so that an upgrade
# test installs what users of that release run. Cached: bin/releases/TAG/ holds the
# sources (src/, with its chart in src/dist/chart) and the image
# (inference-operator-TAG.tar, tagged inference-operator:release-TAG); a second call
# builds nothing. Prints the image tarball's path.
#
#   hack/release-image.sh v0.1.0
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
tag="${1:?usage: hack/release-image.sh TAG}"
dir="${root}/bin/releases/${tag}"
tar="${dir}/inference-operator-${tag}.tar"

if [[ -f "${tar}" ]]; then
	echo "${tar}"
	exit 0
fi
commit="$(git rev-list -n 1 "${tag}" 2>/dev/null)" || {
	echo "no git tag ${tag} in this clone (git fetch --tags?)" >&2
	exit 1
}
rm -rf "${dir}"
mkdir -p "${dir}/src"
git archive "${commit}" | tar -x -C "${dir}/src"

# The release's own image target, with today's image tool (the release's would be built
# from the same pinned library) and the labels of its commit: its folder is not a git
# checkout, so its Makefile cannot read them itself.
tool="$(make -s image-tool >/dev/null && ls -t bin/image-* | head -n 1)"
make -s -C "${dir}/src" image \
	IMAGE_TOOL="${root}/${tool}" \
	IMAGE_TAG="inference-operator:release-${tag}" \
	IMAGE_TAR="${tar}.tmp" \
	IMAGE_REVISION="${commit}" \
	IMAGE_CREATED="$(git log -1 --format=%ct "${commit}")" >&2
mv "${tar}.tmp" "${tar}"
echo "${tar}"
