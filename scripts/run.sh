#!/usr/bin/env bash
# Quick start: install what is needed, build, and bring up ustack on a TAP device named tap0 inside
# a network namespace of its own (ustack-run-PID), running the HTTP server example (examples/httpd)
# at 198.18.0.2 on port 80. The kernel side of tap0 gets 198.18.0.1/24; it pings the stack and
# fetches pages from it with curl. The server prints its counters when it stops. The namespace is
# deleted on exit, also on failure or Ctrl-C.
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
ip netns exec "$ns" ping -n -c 3 -i 0.3 198.18.0.2 || true
echo "== kernel side: curl http://198.18.0.2/"
ip netns exec "$ns" curl -sS --max-time 5 http://198.18.0.2/ || true
echo
echo "== kernel side: curl -I http://198.18.0.2/bytes/1000000 (HEAD: the headers only)"
ip netns exec "$ns" curl -sS -I --max-time 5 http://198.18.0.2/bytes/1000000 || true
echo "== kernel side: 10 MB from the stack"
ip netns exec "$ns" curl -sS --max-time 20 -o /dev/null \
	-w "HTTP %{http_code}, %{size_download} bytes in %{time_total} s (%{speed_download} bytes/s)\n" \
	http://198.18.0.2/bytes/10000000 || true
echo "== to try it by hand while it runs: ip netns exec $ns curl http://198.18.0.2/"
echo "== the server runs until $secs s are up, then prints its counters; Ctrl-C stops it sooner"
wait "$pid" || true
pid=""
