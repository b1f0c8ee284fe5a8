# The set-up every live test shares, sourced by tests/interop/live_*.sh after `set -u`: the check
# that skips the test (exit 77, CTest's SKIP_RETURN_CODE) when it cannot run, a network namespace of
# its own named with the script's PID, a work directory, the PIDs it started, a cleanup on exit that
# kills them and deletes both, the PASS/FAIL lines and their count. Nothing is made outside the
# namespace but the work directory.
#
#   live_need_root                  skip unless root
#   live_need_root_tun              skip unless root and /dev/net/tun exists
#   live_need_tools TOOL...         fail unless each tool is installed
#   live_init NAME [WORK]           namespace ustack-NAME-PID in $ns, work directory in $work (made
#                                   by mktemp, or WORK), $pids; cleanup on EXIT, exit 1 on INT/TERM
#   live_cleanup_hook               if the script defines it, run first in the cleanup
#   live_netns_add                  make $ns, lo up
#   live_tap_wait DEV               wait up to 5 s for a TAP device a stack program makes
#   live_tap_up DEV ADDR            the kernel side: ADDR on DEV, DEV up
#   live_tap_add DEV ADDR           make a persistent TAP device DEV, then live_tap_up
#   live_forget PID                 drop PID from $pids (waited for already)
#   ok/bad TEXT, nsx CMD...         a PASS or FAIL line, counted; CMD in the namespace
#   live_finish                     "N passed, N failed"; exit 0 when none failed
# shellcheck shell=bash disable=SC2034  # ns, work, pids, passed and failed are the scripts' too

live_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: live tests need root for a network namespace"
		exit 77
	fi
}

live_need_root_tun() {
	if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
		echo "SKIP: live tests need root and /dev/net/tun"
		exit 77
	fi
}

live_need_tools() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/setup.sh installs it)"; exit 1; }
	done
}

live_init() {
	ns="ustack-$1-$$"
	if [ $# -ge 2 ]; then
		work=$2
		mkdir -p "$work"
	else
		work=$(mktemp -d)
	fi
	pids=()
	passed=0
	failed=0
	trap live_cleanup EXIT
	trap 'exit 1' INT TERM
}

live_cleanup() {
	if declare -F live_cleanup_hook >/dev/null; then
		live_cleanup_hook
	fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}

ok() { echo "PASS: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
# in the foreground only: `nsx ... &` would fork a subshell, and $! would not be the program's pid
nsx() { ip netns exec "$ns" "$@"; }

live_netns_add() {
	ip netns add "$ns" || { echo "FAIL: cannot create namespace"; exit 1; }
	nsx ip link set lo up
}

live_tap_wait() {
	for _ in $(seq 1 50); do nsx ip link show "$1" >/dev/null 2>&1 && break; sleep 0.1; done
}

live_tap_up() {
	nsx ip addr add "$2" dev "$1"
	nsx ip link set "$1" up
}

live_tap_add() {
	nsx ip tuntap add dev "$1" mode tap
	live_tap_up "$1" "$2"
}

live_forget() {
	local keep=() q
	for q in "${pids[@]}"; do [ "$q" = "$1" ] || keep+=("$q"); done
	pids=("${keep[@]}")
}

live_finish() {
	echo "$passed passed, $failed failed"
	exit $((failed > 0))
}
