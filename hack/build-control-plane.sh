#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries from the Go module proxy (no downloads
# from anywhere else) into a versioned folder under bin/, and prints that folder.
#
#   hack/build-control-plane.sh [component ...]
#   hack/build-control-plane.sh --print-path   # print the folder, build nothing
#
# Components: etcd kube-apiserver kubectl (the default set, what envtest needs) and
# kube-controller-manager kube-scheduler (the simulated cluster) and kubelet kube-proxy
# (the real local node of hack/real-node.sh). A binary that is
# already in the folder is reused; the Go build cache makes a rebuild cheap.
#
# The versions are pinned in hack/tools/kube/go.mod and hack/tools/etcd/go.mod and match
# the Kubernetes minor of the operator's go.mod.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# module_version MODULE GOMOD prints the version GOMOD requires of MODULE (in a require
# block or on a single require line).
module_version() {
	awk -v m="$1" '$1 == m {print $2; exit} $1 == "require" && $2 == m {print $3; exit}' "$2"
}
kube_version="$(module_version k8s.io/kubernetes "${root}/hack/tools/kube/go.mod")"
etcd_version="$(module_version go.etcd.io/etcd/server/v3 "${root}/hack/tools/etcd/go.mod")"
if [[ -z "${kube_version}" || -z "${etcd_version}" ]]; then
	echo "cannot read the pinned Kubernetes or etcd version from hack/tools/*/go.mod" >&2
	exit 1
fi
goos="$(go env GOOS)"
goarch="$(go env GOARCH)"
out="${root}/bin/k8s/${kube_version}-etcd-${etcd_version}-${goos}-${goarch}"

if [[ "${1:-}" == "--print-path" ]]; then
	echo "${out}"
	exit 0
fi

components=("$@")
if [[ ${#components[@]} -eq 0 ]]; then
	components=(etcd kube-apiserver kubectl)
fi

minor="${kube_version#v1.}"
minor="${minor%%.*}"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	kube_ldflags+=" -X ${pkg}.gitVersion=${kube_version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
	kube_ldflags+=" -X ${pkg}.gitTreeState=clean"
done

mkdir -p "${out}"
for c in "${components[@]}"; do
	if [[ -x "${out}/${c}" ]]; then
		continue
	fi
	echo ">> building ${c} (first time only; a cold build can take several minutes)" >&2
	case "${c}" in
	etcd)
		(cd "${root}/hack/tools/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${out}/${c}.tmp" .)
		;;
	kube-apiserver | kube-controller-manager | kube-scheduler | kubectl | kubelet | kube-proxy)
		(cd "${root}/hack/tools/kube" && CGO_ENABLED=0 go build -trimpath -ldflags "${kube_ldflags}" -o "${out}/${c}.tmp" "./${c}")
		;;
	*)
		echo "unknown component ${c}" >&2
		exit 2
		;;
	esac
	mv "${out}/${c}.tmp" "${out}/${c}"
done
echo "${out}"
