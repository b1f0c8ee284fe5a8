#!/usr/bin/env bash
# Live TCP against the Linux kernel through TAP, in a network namespace of its own:
#   1. the kernel's nc connects to a listener on the stack, sends 10 MB, then receives 10 MB
#   2. the stack connects to `nc -l` on the kernel side, sends 10 MB, then receives 10 MB
# sha256 equal each way. Usage: live_tcp.sh BUILD_DIR. Exits 77 (skipped) when not root.
set -u
build=$(cd "$1" && pwd)
# shellcheck source=tests/interop/live_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/live_lib.sh"
live_need_root
live_init tcp
same() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]; }

live_netns_add
head -c 10485760 /dev/urandom >"$work/a"
head -c 10485760 /dev/urandom >"$work/b"

# 1. kernel nc -> stack listener: 10 MB in, then 10 MB back
ip netns exec "$ns" "$build/tests/tcp_peer" --tap ust0 --addr 198.18.0.2/24 --listen 5000 \
	--recv "$work/a.got" --send "$work/b" --after-recv --seconds 120 2>"$work/peer1.log" &
pids+=($!)
live_tap_wait ust0
live_tap_up ust0 198.18.0.1/24
sleep 0.3
nsx timeout 120 nc -N 198.18.0.2 5000 <"$work/a" >"$work/b.got"
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
live_tap_add ust1 198.18.1.1/24
(ip netns exec "$ns" timeout 120 nc -l -N 198.18.1.1 5001 <"$work/b" >"$work/a.got2") &
ncpid=$!
sleep 0.3
nsx "$build/tests/tcp_peer" --tap ust1 --addr 198.18.1.2/24 --connect 198.18.1.1:5001 \
	--send "$work/a" --recv "$work/b.got2" --seconds 120 2>"$work/peer2.log"
rc=$?
wait $ncpid
if [ $rc -eq 0 ] && same "$work/a" "$work/a.got2" && same "$work/b" "$work/b.got2"; then
	ok "stack -> kernel nc -l: 10 MB each way, sha256 equal"
else
	bad "stack -> kernel nc -l (exit $rc): $(grep tcp_peer "$work/peer2.log")"
	ls -l "$work" | sed 's/^/    /'
fi
live_finish
