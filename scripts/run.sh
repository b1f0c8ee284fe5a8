#!/usr/bin/env bash
# Quick start: install what is needed, build, and bring up ustack on a TAP device named tap0 inside
# a network namespace of its own (ustack-run-PID). The kernel side of tap0 gets 198.18.0.1/24 and
# pings 198.18.0.2, the stack's address; the stack shows every frame the kernel sends it and its
# counters at the end. The namespace is deleted on exit, also on failure or Ctrl-C.
#
# Usage: scripts/run.sh [seconds]      (default 8)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-8}

bash scripts/setup.sh
bash scripts/build.sh build plain -DUSTACK_BUILD_TESTS=OFF >/dev/null

ns="ustack-run-$$"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
echo "== ustack on tap0 in namespace $ns for $secs s (kernel side 198.18.0.1/24, stack 198.18.0.2)"
ip netns exec "$ns" ./build/examples/tapdump --tap tap0 --mac 02:00:c6:12:00:02 --seconds "$secs" &
pid=$!
for _ in $(seq 1 50); do
	ip netns exec "$ns" ip link show tap0 >/dev/null 2>&1 && break
	sleep 0.1
done
ip netns exec "$ns" ip addr add 198.18.0.1/24 dev tap0
ip netns exec "$ns" ip link set tap0 up
echo "== kernel: ping -c 3 198.18.0.2 (the kernel asks for the stack's MAC over ARP)"
ip netns exec "$ns" ping -n -c 3 -i 0.5 -W 1 198.18.0.2 || true
wait "$pid"
pid=""
