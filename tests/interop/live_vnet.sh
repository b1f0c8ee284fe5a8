#!/usr/bin/env bash
# Live TCP through TAP with the offloads on (--vnet-hdr: IFF_VNET_HDR, TUN_F_CSUM | TUN_F_TSO4;
# docs/offload.md), in a network namespace of its own, while tcpdump watches the device from the
# kernel side:
#   1. the kernel's nc connects to a listener on the stack, sends 20 MB, then receives 20 MB
#   2. the stack connects to `nc -l` on the kernel side, sends 20 MB, then receives 20 MB
# sha256 equal each way; frames larger than the MTU crossed the device in both directions (the
# kernel's TSO frames to the stack, the stack's GSO frames to the kernel); the kernel counted no TCP
# checksum error, and the stack no bad virtio_net_hdr.
# Usage: live_vnet.sh BUILD_DIR. Exits 77 (skipped) when not root or without tcpdump.
set -u
build=$(cd "$1" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: live tests need root for a network namespace"
	exit 77
fi
command -v tcpdump >/dev/null || { echo "SKIP: no tcpdump"; exit 77; }
ns="ustack-vnet-$$"
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
# big PCAP SRC: frames from SRC longer than a 1500-byte MTU allows (1514 with the Ethernet header)
big() { tcpdump -r "$1" -nn "src host $2 and greater 1515" 2>/dev/null | wc -l; }
start_dump() { # DEV PCAP: tcpdump on the kernel side, headers only; its PID in $dump
	ip netns exec "$ns" timeout 150 tcpdump -i "$1" -nn -s 128 -U -w "$2" 2>"$work/tcpdump.log" &
	dump=$!
	pids+=("$dump")
	for _ in $(seq 1 50); do grep -q listening "$work/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
}
stop_dump() {
	kill -INT "$dump" 2>/dev/null
	wait "$dump" 2>/dev/null
}
csum_errors() { ip netns exec "$ns" nstat -az TcpInCsumErrors 2>/dev/null | awk '/TcpInCsumErrors/ { print $2 }'; }

ip netns add "$ns" || { echo "FAIL: cannot create namespace"; exit 1; }
ip netns exec "$ns" ip link set lo up
head -c 20971520 /dev/urandom >"$work/a"
head -c 20971520 /dev/urandom >"$work/b"

up_tap() {
	for _ in $(seq 1 50); do ip netns exec "$ns" ip link show "$1" >/dev/null 2>&1 && break; sleep 0.1; done
	ip netns exec "$ns" ip addr add "$2" dev "$1"
	ip netns exec "$ns" ip link set "$1" up
}

# 1. kernel nc -> stack listener: 20 MB in, then 20 MB back
ip netns exec "$ns" "$build/tests/tcp_peer" --vnet-hdr --tap ust0 --addr 198.18.0.2/24 --listen 5000 \
	--recv "$work/a.got" --send "$work/b" --after-recv --seconds 120 2>"$work/peer1.log" &
pids+=($!)
up_tap ust0 198.18.0.1/24
start_dump ust0 "$work/one.pcap"
ip netns exec "$ns" timeout 120 nc -N 198.18.0.2 5000 <"$work/a" >"$work/b.got"
wait "${pids[0]}"
rc=$?
stop_dump
pids=()
kbig=$(big "$work/one.pcap" 198.18.0.1)
sbig=$(big "$work/one.pcap" 198.18.0.2)
vbad=$(grep -o 'rx_vnet_errors=[0-9]*' "$work/peer1.log" | head -1)
if [ $rc -eq 0 ] && same "$work/a" "$work/a.got" && same "$work/b" "$work/b.got"; then
	ok "kernel nc -> stack with --vnet-hdr: 20 MB each way, sha256 equal"
else
	bad "kernel nc -> stack with --vnet-hdr (exit $rc): $(tail -3 "$work/peer1.log")"
fi
if [ "$kbig" -gt 0 ] && [ "$sbig" -gt 0 ]; then
	ok "frames larger than the MTU on ust0: $kbig from the kernel, $sbig from the stack"
else
	bad "frames larger than the MTU on ust0: $kbig from the kernel, $sbig from the stack"
fi
[ "$vbad" = "rx_vnet_errors=0" ] && ok "no bad virtio_net_hdr ($vbad)" || bad "virtio_net_hdr: $vbad"

# 2. stack -> kernel nc -l: 20 MB out, then 20 MB back
ip netns exec "$ns" ip tuntap add dev ust1 mode tap
ip netns exec "$ns" ip addr add 198.18.1.1/24 dev ust1
ip netns exec "$ns" ip link set ust1 up
start_dump ust1 "$work/two.pcap"
(ip netns exec "$ns" timeout 120 nc -l -N 198.18.1.1 5001 <"$work/b" >"$work/a.got2") &
ncpid=$!
sleep 0.3
ip netns exec "$ns" "$build/tests/tcp_peer" --vnet-hdr --tap ust1 --addr 198.18.1.2/24 \
	--connect 198.18.1.1:5001 --send "$work/a" --recv "$work/b.got2" --seconds 120 2>"$work/peer2.log"
rc=$?
wait $ncpid
stop_dump
kbig=$(big "$work/two.pcap" 198.18.1.1)
sbig=$(big "$work/two.pcap" 198.18.1.2)
if [ $rc -eq 0 ] && same "$work/a" "$work/a.got2" && same "$work/b" "$work/b.got2"; then
	ok "stack -> kernel nc -l with --vnet-hdr: 20 MB each way, sha256 equal"
else
	bad "stack -> kernel nc -l with --vnet-hdr (exit $rc): $(grep tcp_peer "$work/peer2.log")"
fi
if [ "$kbig" -gt 0 ] && [ "$sbig" -gt 0 ]; then
	ok "frames larger than the MTU on ust1: $kbig from the kernel, $sbig from the stack"
else
	bad "frames larger than the MTU on ust1: $kbig from the kernel, $sbig from the stack"
fi
ce=$(csum_errors)
[ "${ce:-0}" = 0 ] && ok "the kernel counted no TCP checksum error" || bad "TcpInCsumErrors=$ce in the kernel"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
