#!/usr/bin/env bash
# Live TCP against the Linux kernel through TAP, in a network namespace of its own:
#   1. the kernel's nc connects to a listener on the stack, sends 10 MB, then receives 10 MB
#   2. the stack connects to `nc -l` on the kernel side, sends 10 MB, then receives 10 MB
# sha256 equal each way. Usage: live_tcp.sh BUILD_DIR. Exits 77 (skipped) when not root.
set -u
build=$(cd "$1" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: live tests need root for a network namespace"
	exit 77
fi
ns="ustack-tcp-$$"
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
passed=0
failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
same() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]; }

ip netns add "$ns" || { echo "FAIL: cannot create namespace"; exit 1; }
ip netns exec "$ns" ip link set lo up
head -c 10485760 /dev/urandom >"$work/a"
head -c 10485760 /dev/urandom >"$work/b"

up_tap() {
	for _ in $(seq 1 50); do ip netns exec "$ns" ip link show "$1" >/dev/null 2>&1 && break; sleep 0.1; done
	ip netns exec "$ns" ip addr add "$2" dev "$1"
	ip netns exec "$ns" ip link set "$1" up
}

# 1. kernel nc -> stack listener: 10 MB in, then 10 MB back
ip netns exec "$ns" "$build/tests/tcp_peer" --tap ust0 --addr 198.18.0.2/24 --listen 5000 \
	--recv "$work/a.got" --send "$work/b" --after-recv --seconds 120 2>"$work/peer1.log" &
pids+=($!)
up_tap ust0 198.18.0.1/24
sleep 0.3
ip netns exec "$ns" timeout 120 nc -N 198.18.0.2 5000 <"$work/a" >"$work/b.got"
wait "${pids[0]}"
rc=$?
pids=()
if [ $rc -eq 0 ] && same "$work/a" "$work/a.got" && same "$work/b" "$work/b.got"; then
	ok "kernel nc -> stack: 10 MB each way, sha256 equal"
else
	bad "kernel nc -> stack (exit $rc): $(tail -3 "$work/peer1.log")"
	ls -l "$work"
fi

# 2. stack -> kernel nc -l: 10 MB out, then 10 MB back
ip netns exec "$ns" ip tuntap add dev ust1 mode tap
ip netns exec "$ns" ip addr add 198.18.1.1/24 dev ust1
ip netns exec "$ns" ip link set ust1 up
(ip netns exec "$ns" timeout 120 nc -l -N 198.18.1.1 5001 <"$work/b" >"$work/a.got2") &
ncpid=$!
sleep 0.3
ip netns exec "$ns" "$build/tests/tcp_peer" --tap ust1 --addr 198.18.1.2/24 --connect 198.18.1.1:5001 \
	--send "$work/a" --recv "$work/b.got2" --seconds 120 2>"$work/peer2.log"
rc=$?
wait $ncpid
if [ $rc -eq 0 ] && same "$work/a" "$work/a.got2" && same "$work/b" "$work/b.got2"; then
	ok "stack -> kernel nc -l: 10 MB each way, sha256 equal"
else
	bad "stack -> kernel nc -l (exit $rc): $(grep tcp_peer "$work/peer2.log")"
	ls -l "$work" | sed 's/^/    /'
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
