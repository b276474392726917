# Shell helpers sourced by the hack/ scripts. A script defines k (its kubectl) first.
# The variables the helpers read (root, and those named at each section) are the script's.
# shellcheck shell=bash disable=SC2154

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

# --- The real node's processes ---------------------------------------------------------------
# Shared by hack/real-node.sh (the node's components) and hack/autoscaling-stack.sh
# (Prometheus and KEDA, in the same namespace). The script sets node_state (the node's
# state folder), ns_file (the node's namespace.env), and pids and logs (its own folders of
# pid files and logs).

declare -F step >/dev/null || step() { echo "==> $*"; }
declare -F info >/dev/null || info() { echo "    $*"; }
declare -F warn >/dev/null || warn() { echo "WARNING: $*" >&2; }
declare -F die >/dev/null || die() {
	echo "ERROR: $*" >&2
	exit 1
}

# alive PID: the process exists and is not a zombie (a process whose parent is gone is
# reaped by init, which may take a moment; for stopping it has exited).
alive() {
	local st
	st="$(cut -d' ' -f3 2>/dev/null <"/proc/$1/stat")" || return 1
	[[ -n "${st}" && "${st}" != Z && "${st}" != X ]]
}

# holder_pid prints the pid of the node's namespace holder when it is alive and really is
# the node's (its command line carries the marker with the state folder, and its network
# namespace is the recorded one).
holder_pid() {
	local pid
	[[ -f "${ns_file}" ]] || return 1
	pid="$(sed -n 's/^HOLDER_PID=//p' "${ns_file}")"
	[[ -n "${pid}" && -r "/proc/${pid}/cmdline" ]] || return 1
	[[ "$(tr '\0' ' ' <"/proc/${pid}/cmdline")" == "real-node-holder ${node_state} "* ]] || return 1
	[[ "$(readlink "/proc/${pid}/ns/net")" == "$(sed -n 's/^NET_NS=//p' "${ns_file}")" ]] || return 1
	echo "${pid}"
}

# start_proc NAME BINARY [ENV=VALUE...] -- ARGS... starts BINARY in the node's network and
# mount namespaces, in a session of its own (it outlives the calling shell), with
# "PID BINARY" in pids/NAME.pid and its output in logs/NAME.log. With ENV=VALUE... it gets
# exactly those variables (env -i); without, this shell's environment. BINARY is recorded
# with its symbolic links resolved, as /proc/PID/exe names it (in a worktree, bin/ is a
# link to the main checkout's).
start_proc() {
	local name="$1" bin holder pid envs=()
	bin="$(readlink -f "$2")"
	shift 2
	while [[ $# -gt 0 && "$1" != -- ]]; do
		envs+=("$1")
		shift
	done
	[[ $# -gt 0 ]] || die "start_proc ${name}: no -- before the arguments"
	shift
	holder="$(holder_pid)" || die "the real node is not running"
	local cmd=("${bin}")
	((${#envs[@]} == 0)) || cmd=(env -i "${envs[@]}" "${bin}")
	# nsenter execs the command (and env execs the binary): the pid is the binary's own.
	setsid nsenter -t "${holder}" -n -m -- "${cmd[@]}" "$@" >"${logs}/${name}.log" 2>&1 </dev/null &
	pid=$!
	echo "${pid} ${bin}" >"${pids}/${name}.pid"
	for _ in $(seq 50); do
		[[ "$(readlink "/proc/${pid}/exe" 2>/dev/null)" == "${bin}" ]] && return 0
		[[ -d "/proc/${pid}" ]] || break
		sleep 0.1
	done
	tail -n 20 "${logs}/${name}.log" >&2 || true
	die "${name} did not start (log: ${logs}/${name}.log)"
}

# proc_pid NAME prints the pid of a process start_proc started when it is alive, still that
# binary, and in the node's recorded network namespace: a reused pid is never touched. It
# works when the holder is gone (killed) too, while the namespace's processes live.
proc_pid() {
	local f="${pids}/$1.pid" pid bin net
	[[ -f "${f}" ]] || return 1
	read -r pid bin <"${f}" || return 1
	[[ -n "${pid}" && -n "${bin}" ]] && alive "${pid}" || return 1
	[[ "$(readlink "/proc/${pid}/exe" 2>/dev/null)" == "${bin}" ]] || return 1
	net="$(sed -n 's/^NET_NS=//p' "${ns_file}" 2>/dev/null)"
	[[ -n "${net}" && "$(readlink "/proc/${pid}/ns/net" 2>/dev/null)" == "${net}" ]] || return 1
	echo "${pid}"
}

# stop_proc NAME stops what proc_pid finds (SIGTERM, SIGKILL after 10 s) and removes its
# pid file.
stop_proc() {
	local name="$1" pid
	if pid="$(proc_pid "${name}")"; then
		kill -TERM "${pid}" 2>/dev/null || true
		for _ in $(seq 100); do
			alive "${pid}" || break
			sleep 0.1
		done
		if alive "${pid}"; then
			warn "${name} (pid ${pid}) did not stop in 10 s: killing it"
			kill -KILL "${pid}" 2>/dev/null || true
			sleep 0.2
		fi
		info "stopped ${name} (pid ${pid})"
	fi
	rm -f "${pids}/${name}.pid"
}

# wait_for WHAT SECONDS CMD... retries CMD every 0.5 s until SECONDS have passed, then dies.
wait_for() {
	local what="$1" secs="$2" deadline=$((SECONDS + $2))
	shift 2
	while ((SECONDS < deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	die "${what} not ready after ${secs}s (logs: ${logs}/)"
}

# --- The real-node test scripts (hack/test-real-e2e.sh, hack/test-real-operator.sh) ------------
# A script sets out_dir, defines finish (which ends with finish_report), then calls
# real_test_begin.

# real_test_begin: root is required; ${out_dir} is made; the clock starts (step then heads
# each step with the seconds since, timed NAME SINCE records how long NAME took since the
# time SINCE, for the timings line); finish runs on exit, and INT or TERM exits with 130.
real_test_begin() {
	[[ "$(id -u)" == 0 ]] || {
		echo "the real node needs root" >&2
		exit 1
	}
	mkdir -p "${out_dir}"
	start=${SECONDS}
	timings=()
	# Defined here, for the scripts that begin so (the others keep the plain step above).
	# shellcheck disable=SC2317
	step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - start))" "$*"; }
	# shellcheck disable=SC2317
	timed() { timings+=("$1 $((SECONDS - $2))s"); }
	trap finish EXIT
	trap 'exit 130' INT TERM
}

# finish_report RC: the end of finish: an exit status RC other than 0 with no failed check
# counts as a failure; prints "N passed, M failed" and exits 1 when anything failed.
finish_report() {
	if [[ $1 -ne 0 && ${failed} -eq 0 ]]; then failed=1; fi
	echo "${passed} passed, ${failed} failed"
	[[ ${failed} -eq 0 ]] || exit 1
}
