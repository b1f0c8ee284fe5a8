#!/usr/bin/env bash
# Quick start: install what is needed, build, and bring up ustack on a TAP device named tap0 inside
# a network namespace of its own (ustack-run-PID), running the HTTP server example (examples/httpd)
# at 198.18.0.2 on port 80. The kernel side of tap0 gets 198.18.0.1/24; it pings the stack and
# fetches pages from it with curl. The server prints its counters when it stops. The namespace is
# deleted on exit, also on failure or Ctrl-C. When the stack does not answer the ping, a fetch
# fails, or the server does not exit cleanly, it says so and exits with status 1.
#
# Usage: scripts/run.sh [seconds]      (default 10: how long the server stays up)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-10}

bash scripts/setup.sh
bash scripts/build.sh build plain -DUSTACK_BUILD_TESTS=OFF >/dev/null

ns="ustack-run-$$"
pid=""
failures=()
# Run a kernel-side check; a failure is reported at once and remembered, and the run goes on so
# that the server still prints its counters.
check() {
	local what=$1
	shift
	if ! ip netns exec "$ns" "$@"; then
		echo "run.sh: FAILED: $what" >&2
		failures+=("$what")
	fi
}
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
echo "== ustack on tap0 in namespace $ns for $secs s: 198.18.0.2/24, HTTP server on port 80"
ip netns exec "$ns" ./build/examples/httpd --tap tap0 --addr 198.18.0.2/24 --port 80 --seconds "$secs" &
pid=$!
for _ in $(seq 1 50); do
	ip netns exec "$ns" ip link show tap0 >/dev/null 2>&1 && break
	sleep 0.1
done
ip netns exec "$ns" ip addr add 198.18.0.1/24 dev tap0
ip netns exec "$ns" ip link set tap0 up
sleep 0.2
echo "== kernel side: ping -c 3 198.18.0.2"
check "ping 198.18.0.2: the stack did not answer every request" ping -n -c 3 -i 0.3 -W 2 198.18.0.2
echo "== kernel side: curl http://198.18.0.2/"
check "curl http://198.18.0.2/" curl -sS --fail --max-time 5 http://198.18.0.2/
echo
echo "== kernel side: curl -I http://198.18.0.2/bytes/1000000 (HEAD: the headers only)"
check "curl -I http://198.18.0.2/bytes/1000000" curl -sS --fail -I --max-time 5 http://198.18.0.2/bytes/1000000
echo "== kernel side: 10 MB from the stack"
check "curl http://198.18.0.2/bytes/10000000" curl -sS --fail --max-time 20 -o /dev/null \
	-w "HTTP %{http_code}, %{size_download} bytes in %{time_total} s (%{speed_download} bytes/s)\n" \
	http://198.18.0.2/bytes/10000000
echo "== to try it by hand while it runs: ip netns exec $ns curl http://198.18.0.2/"
echo "== the server runs until $secs s are up, then prints its counters; Ctrl-C stops it sooner"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || failures+=("the server exited with status $rc")
if [ "${#failures[@]}" -gt 0 ]; then
	echo "run.sh: FAILED (${#failures[@]}):" >&2
	printf '  %s\n' "${failures[@]}" >&2
	exit 1
fi
echo "== all checks passed"
