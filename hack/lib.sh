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
