#!/usr/bin/env bash
# Quick start: install what is needed, build, and bring up ustack on a TAP device named tap0 inside
# a network namespace of its own (ustack-run-PID), running the UDP echo example at 198.18.0.2. The
# kernel side of tap0 gets 198.18.0.1/24; it pings the stack, pings it with 4,000-byte packets
# (fragmented both ways) and sends it a UDP datagram with nc. The stack prints its counters when
# it stops. The namespace is deleted on exit, also on failure or Ctrl-C.
#
# Usage: scripts/run.sh [seconds]      (default 10: how long the stack stays up)
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
echo "== ustack on tap0 in namespace $ns for $secs s: 198.18.0.2/24, UDP echo on port 7"
ip netns exec "$ns" ./build/examples/udp_echo --tap tap0 --addr 198.18.0.2/24 --port 7 --seconds "$secs" &
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
echo "== kernel side: ping -c 2 -s 4000 198.18.0.2 (fragmented both ways)"
ip netns exec "$ns" ping -n -c 2 -i 0.3 -s 4000 198.18.0.2 || true
echo "== kernel side: echo 'hello, ustack' | nc -u 198.18.0.2 7"
echo "hello, ustack" | ip netns exec "$ns" timeout 3 nc -u -w 1 198.18.0.2 7 || true
echo "== kernel side: ip neigh (the stack answered ARP)"
ip netns exec "$ns" ip neigh show dev tap0
echo "== the stack runs until $secs s are up, then prints its counters; Ctrl-C stops it sooner"
wait "$pid" || true
pid=""
