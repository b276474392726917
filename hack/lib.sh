# Shell helpers sourced by the hack/ scripts. A script defines k (its kubectl) first.

# wait_established CRD waits until a CRD is Established. Retried: right after an apply
# the CRD may have no conditions yet, which kubectl wait reports as an error.
wait_established() {
	for _ in $(seq 30); do
		k wait --for=condition=Established --timeout=30s "$1" >/dev/null 2>&1 && return 0
		sleep 1
	done
	k wait --for=condition=Established --timeout=1s "$1"
}

# The asserts of the hack/test-*.sh scripts: pass, fail and check count into ${passed} and
# ${failed}, which a script prints at the end ("N passed, M failed") and exits on. A script
# that defines one of them itself before sourcing this file keeps its own (test-chart.sh's
# fail exits at once).
passed="${passed:-0}"
failed="${failed:-0}"
declare -F pass >/dev/null || pass() {
	passed=$((passed + 1))
	echo "PASS: $*"
}
declare -F fail >/dev/null || fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
# check DESCRIPTION CMD...: one assert.
declare -F check >/dev/null || check() {
	local what="$1"
	shift
	if "$@"; then pass "${what}"; else fail "${what}"; fi
}
# within SECONDS CMD...: CMD until it succeeds, every second, at most SECONDS tries and a
# last one, all quiet.
within() {
	local n="$1"
	shift
	while ((n-- > 0)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	"$@" >/dev/null 2>&1
}

# image_ref TARBALL prints the name:tag written into a docker-archive tarball (make image).
image_ref() { tar -xOf "$1" manifest.json | sed -n 's/.*"RepoTags":\["\([^"]*\)".*/\1/p'; }

# real_node_running: hack/real-node.sh reports a running node (its namespace holder).
real_node_running() { "${root}/hack/real-node.sh" status | grep -q '^==> Namespace holder'; }

# wait_real_node_free SECONDS: when a real node is running (someone else's: there is one per
# machine), wait up to SECONDS for it to go down; fails if it stays up.
wait_real_node_free() {
	local waited=0
	real_node_running || return 0
	echo "==> A real node is running already (someone else's?): waiting up to $1s for it to go down"
	while real_node_running; do
		((waited < $1)) || return 1
		sleep 10
		waited=$((waited + 10))
	done
}
