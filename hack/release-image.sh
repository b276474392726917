#!/usr/bin/env bash
# hack/release-image.sh TAG: the operator's image and chart of a released version, built
# from that release's own sources with its own Makefile (make image), so that an upgrade
# test installs what users of that release run. Cached: bin/releases/TAG/ holds the
# sources (src/, with its chart in src/dist/chart) and the image
# (inference-operator-TAG.tar, tagged inference-operator:release-TAG); a second call
# builds nothing. Prints the image tarball's path.
#
# The sources come from hack/releases/TAG.tar.gz, the part of the tag's tree that builds
# the image and the chart (go.mod, go.sum, Makefile, hack/*.mk, api, cmd, internal without
# tests, dist/chart), and hack/releases/TAG.commit (the tag's commit and its time). They
# are in the repository because a clone need not hold the tag or its history (CI clones
# main alone). Where the clone does hold the commit, the archive is compared with it file
# by file and a difference fails.
#
#   hack/release-image.sh v0.1.0
#   hack/release-image.sh --archive v0.1.0   # (re)write hack/releases/v0.1.0.* from the git tag
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
# What of a release's tree the archive keeps: enough for make image and its chart.
paths=(go.mod go.sum Makefile PROJECT api cmd internal dist/chart 'hack/*.mk' ':!*_test.go' ':(exclude,glob)internal/**/testdata/**')

if [[ "${1:-}" == "--archive" ]]; then
	tag="${2:?usage: hack/release-image.sh --archive TAG}"
	commit="$(git rev-list -n 1 "${tag}")"
	mkdir -p hack/releases
	git archive --format=tar.gz "${commit}" -- "${paths[@]}" >"hack/releases/${tag}.tar.gz"
	printf '%s %s\n' "${commit}" "$(git log -1 --format=%ct "${commit}")" >"hack/releases/${tag}.commit"
	echo "wrote hack/releases/${tag}.tar.gz and hack/releases/${tag}.commit (${commit})"
	exit 0
fi

tag="${1:?usage: hack/release-image.sh TAG}"
dir="${root}/bin/releases/${tag}"
tar="${dir}/inference-operator-${tag}.tar"
archive="hack/releases/${tag}.tar.gz"

if [[ -f "${tar}" ]]; then
	echo "${tar}"
	exit 0
fi
[[ -f "${archive}" && -f "hack/releases/${tag}.commit" ]] || {
	echo "no sources of release ${tag}: ${archive} is missing (hack/release-image.sh --archive ${tag} writes it from the tag)" >&2
	exit 1
}
read -r commit created <"hack/releases/${tag}.commit"
rm -rf "${dir}"
mkdir -p "${dir}/src"
tar -xzf "${archive}" -C "${dir}/src"

if git cat-file -e "${commit}^{commit}" 2>/dev/null; then
	mkdir -p "${dir}/from-git"
	git archive "${commit}" -- "${paths[@]}" | tar -x -C "${dir}/from-git"
	if ! diff -r "${dir}/from-git" "${dir}/src" >&2; then
		echo "${archive} differs from commit ${commit} (above); rewrite it with hack/release-image.sh --archive ${tag}" >&2
		exit 1
	fi
	rm -rf "${dir}/from-git"
	echo "release ${tag}: ${archive} is the tree of commit ${commit} (compared file by file)" >&2
else
	echo "release ${tag}: commit ${commit} is not in this clone; building from ${archive}" >&2
fi

# The release's own image target, with today's image tool (the release's would be built
# from the same pinned library) and the labels of its commit: its folder is not a git
# checkout, so its Makefile cannot read them itself.
tool="$(make -s image-tool >/dev/null && ls -t bin/image-* | head -n 1)"
make -s -C "${dir}/src" image \
	IMAGE_TOOL="${root}/${tool}" \
	IMAGE_TAG="inference-operator:release-${tag}" \
	IMAGE_TAR="${tar}.tmp" \
	IMAGE_REVISION="${commit}" \
	IMAGE_CREATED="${created}" >&2
mv "${tar}.tmp" "${tar}"
echo "${tar}"
