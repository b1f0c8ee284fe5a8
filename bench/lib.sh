# What the benchmarks through TAP share, sourced by bench/latency.sh and bench/sockets.sh after
# `set -euo pipefail`: the programs they start and the network namespaces they make, killed and
# deleted on exit (also on failure or Ctrl-C, which exits 130), and the steps of a run. The script
# sets $limit, the seconds any one program may run, before its first start.
#
#   bench_netns_add NS...      make each namespace, lo up; deleted on exit
#   start NS LOG CMD...        CMD in namespace NS in the background, bounded in time, its output in
#                              LOG.out and LOG.err; its PID in $last
#   finish PID                 wait for it; its status
#   wait_for WHAT CMD...       retry CMD for up to 10 s
#   ready LOG                  the program has printed its "ready" line
#   tap_up NS                  the kernel side (198.18.0.1/24) of the tap0 the ustack program made
# shellcheck shell=bash

pids=()
bench_ns=()
bench_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for n in "${bench_ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_netns_add() {
	local n
	for n in "$@"; do
		bench_ns+=("$n")
		ip netns add "$n"
		ip netns exec "$n" ip link set lo up
	done
}

start() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" timeout -k 5 "${limit:?}" "$@" >"$log.out" 2>"$log.err" &
	last=$!
	pids+=("$last")
}

finish() {
	local st=0 keep=() p
	wait "$1" || st=$?
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
	return $st
}

wait_for() {
	local what=$1
	shift
	for _ in $(seq 1 200); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "${0##*/}: timed out waiting for $what" >&2
	return 1
}

ready() { grep -q '^ready' "$1.out"; }

tap_up() {
	wait_for tap0 ip netns exec "$1" ip link show tap0 &&
		ip netns exec "$1" ip addr add 198.18.0.1/24 dev tap0 &&
		ip netns exec "$1" ip link set tap0 up
}
