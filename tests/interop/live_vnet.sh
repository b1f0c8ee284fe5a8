#!/usr/bin/env bash
# Live TCP through TAP with the offloads on (--vnet-hdr: IFF_VNET_HDR, TUN_F_CSUM | TUN_F_TSO4;
# docs/offload.md), in a network namespace of its own, while tcpdump watches the device from the
# kernel side:
#   1. ping (56 and 4,000 bytes), then the kernel's nc connects to a listener on the stack, sends
#      20 MB, then receives 20 MB
#   2. the stack connects to a listener on the kernel side (Python, reading while it writes), sends
#      20 MB and receives 20 MB
#   3. the examples: curl downloads 20 MB from httpd --vnet-hdr, and http_get --vnet-hdr downloads
#      20 MB from python3 -m http.server on the kernel side
#   4. nc -u to udp_echo --vnet-hdr: datagrams of 100 and 1,472 bytes echoed byte-exact
#   5. bulk --vnet-hdr through 2 % loss and through 1 % corruption to a kernel sink: 20 MB whole
# sha256 equal each way; frames larger than the MTU crossed the device in both directions (the
# kernel's TSO frames to the stack, the stack's GSO frames to the kernel: tcpdump sees them, or, for
# the kernel's, which tcpdump may lose on a busy 2-CPU machine, the stack's device counters show an
# average frame beyond the MTU); the kernel counted no TCP checksum error, and the stack no bad
# virtio_net_hdr; httpd stops cleanly with no skb leaked.
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
	ip netns exec "$ns" timeout 150 tcpdump -i "$1" -B 32768 -nn -s 128 -U -w "$2" 2>"$work/tcpdump.log" &
	dump=$!
	pids+=("$dump")
	for _ in $(seq 1 50); do grep -q listening "$work/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
}
stop_dump() {
	kill -INT "$dump" 2>/dev/null
	wait "$dump" 2>/dev/null
}
avg_rx() { # LOG DEV: the stack's average received frame on DEV, bytes, from its counters at exit
	sed -n "s/^Dev $2: rx_packets=\\([0-9]*\\) rx_bytes=\\([0-9]*\\).*/\\2 \\1/p" "$1" |
		awk '{ if ($2) print int($1 / $2); else print 0 }'
}
avg_tx() { # LOG DEV: the stack's average sent frame on DEV, bytes (its ACKs included), at exit
	sed -n "s/^Dev $2: .* tx_packets=\\([0-9]*\\) tx_bytes=\\([0-9]*\\).*/\\2 \\1/p" "$1" |
		awk '{ if ($2) print int($1 / $2); else print 0 }'
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
# ICMP and ARP with the header too: an echo, and one of 4,000 bytes fragmented both ways
if ip netns exec "$ns" ping -c 2 -W 2 198.18.0.2 >/dev/null && ip netns exec "$ns" ping -c 2 -W 2 -s 4000 198.18.0.2 >/dev/null; then
	ok "ping with --vnet-hdr, 56 and 4,000 bytes"
else
	bad "ping with --vnet-hdr"
fi
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
avg=$(avg_rx "$work/peer1.log" ust0)
tavg=$(avg_tx "$work/peer1.log" ust0)
# tcpdump may lose frames on a busy machine; the stack's counters say what each side sent on
# average (the stack's with its ACKs: MSS-sized frames alone would average below 1,514 bytes)
if { [ "$kbig" -gt 0 ] || [ "${avg:-0}" -gt 1514 ]; } && { [ "$sbig" -gt 0 ] || [ "${tavg:-0}" -gt 1514 ]; }; then
	ok "frames larger than the MTU on ust0: $kbig from the kernel (on average $avg bytes), $sbig from the stack (on average $tavg bytes)"
else
	bad "frames larger than the MTU on ust0: $kbig from the kernel (on average $avg bytes), $sbig from the stack (on average $tavg bytes)"
fi
[ "$vbad" = "rx_vnet_errors=0" ] && ok "no bad virtio_net_hdr ($vbad)" || bad "virtio_net_hdr: $vbad"

# 2. stack -> a kernel listener: 20 MB out, 20 MB back
ip netns exec "$ns" ip tuntap add dev ust1 mode tap
ip netns exec "$ns" ip addr add 198.18.1.1/24 dev ust1
ip netns exec "$ns" ip link set ust1 up
start_dump ust1 "$work/two.pcap"
# the kernel side reads until the stack's FIN while it sends its own 20 MB, then half-closes: nc -l -N
# stops sending when the stack's FIN comes first, which with the offloads it often does
cat >"$work/duplex.py" <<'EOF'
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(1); l.settimeout(30)
c, _ = l.accept(); c.settimeout(60)
def send():
    with open(sys.argv[3], "rb") as f:
        c.sendall(f.read())
    c.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
with open(sys.argv[4], "wb") as out:
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        out.write(b)
t.join(); c.close()
EOF
(ip netns exec "$ns" timeout 120 /usr/bin/python3 "$work/duplex.py" 198.18.1.1 5001 "$work/b" "$work/a.got2") &
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
	ok "stack -> kernel listener with --vnet-hdr: 20 MB each way, sha256 equal"
else
	bad "stack -> kernel listener with --vnet-hdr (exit $rc): $(grep tcp_peer "$work/peer2.log")"
fi
avg=$(avg_rx "$work/peer2.log" ust1)
tavg=$(avg_tx "$work/peer2.log" ust1)
# tcpdump may lose frames on a busy machine; the stack's counters say what each side sent on
# average (the stack's with its ACKs: MSS-sized frames alone would average below 1,514 bytes)
if { [ "$kbig" -gt 0 ] || [ "${avg:-0}" -gt 1514 ]; } && { [ "$sbig" -gt 0 ] || [ "${tavg:-0}" -gt 1514 ]; }; then
	ok "frames larger than the MTU on ust1: $kbig from the kernel (on average $avg bytes), $sbig from the stack (on average $tavg bytes)"
else
	bad "frames larger than the MTU on ust1: $kbig from the kernel (on average $avg bytes), $sbig from the stack (on average $tavg bytes)"
fi
# 3. the examples with --vnet-hdr on a persistent device they attach to in turn
ex=$build/examples
ip netns exec "$ns" ip tuntap add dev ust2 mode tap
ip netns exec "$ns" ip addr add 198.18.2.1/24 dev ust2
ip netns exec "$ns" ip link set ust2 up
mkdir -p "$work/www"
cp "$work/a" "$work/www/a"
wait_port() { # ADDR PORT: up to 5 s for a TCP port to take connections
	for _ in $(seq 1 50); do
		ip netns exec "$ns" nc -z -w 1 "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
stop_clean() { # PID: SIGTERM, then SIGKILL after 10 s; its exit status
	kill "$1" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
start_dump ust2 "$work/three.pcap"
ip netns exec "$ns" timeout 120 "$ex/httpd" --tap ust2 --addr 198.18.2.2/24 --vnet-hdr --port 80 \
	--root "$work/www" >/dev/null 2>"$work/httpd.log" &
hp=$!
pids+=("$hp")
if wait_port 198.18.2.2 80 &&
	ip netns exec "$ns" timeout 60 curl -s -o "$work/a.got3" http://198.18.2.2/a &&
	same "$work/a" "$work/a.got3"; then
	ok "curl 20 MB from httpd --vnet-hdr: sha256 equal"
else
	bad "curl 20 MB from httpd --vnet-hdr: $(stat -c %s "$work/a.got3" 2>/dev/null) bytes"
fi
stop_clean "$hp"
rc=$?
vbad=$(grep -o 'rx_vnet_errors=[0-9]*' "$work/httpd.log" | head -1)
[ $rc -eq 0 ] && [ "$vbad" = "rx_vnet_errors=0" ] && ok "httpd --vnet-hdr: clean stop, no skb leaked, $vbad" ||
	bad "httpd --vnet-hdr: exit $rc, $vbad"
ip netns exec "$ns" timeout 60 python3 -m http.server 8000 --bind 198.18.2.1 --directory "$work/www" \
	>/dev/null 2>"$work/pyhttp.log" &
pyp=$!
pids+=("$pyp")
if wait_port 198.18.2.1 8000 &&
	ip netns exec "$ns" timeout 60 "$ex/http_get" --tap ust2 --addr 198.18.2.2/24 --vnet-hdr \
		-o "$work/a.got4" http://198.18.2.1:8000/a 2>"$work/http_get.log" &&
	same "$work/a" "$work/a.got4"; then
	ok "http_get --vnet-hdr 20 MB from python3 http.server: sha256 equal"
else
	bad "http_get --vnet-hdr 20 MB from python3 http.server: $(grep '^http_get' "$work/http_get.log" | tail -2)"
fi
stop_dump
# tcpdump on a 2-CPU machine may lose frames of the fast kernel -> http_get transfer: the stack's own
# device counters say how large the kernel's frames were on average
sbig=$(big "$work/three.pcap" 198.18.2.2)
avg=$(avg_rx "$work/http_get.log" ust2)
if [ "${avg:-0}" -gt 1514 ] && [ "$sbig" -gt 0 ]; then
	ok "frames larger than the MTU on ust2: $sbig from httpd (tcpdump), the kernel's to http_get $avg bytes on average"
else
	bad "frames larger than the MTU on ust2: $sbig from httpd (tcpdump), the kernel's to http_get ${avg:-?} bytes on average"
fi

# 4. UDP: the kernel's datagrams come with partial checksums too (TUN_F_CSUM), which the stack takes
ip netns exec "$ns" ip tuntap add dev ust3 mode tap
ip netns exec "$ns" ip addr add 198.18.3.1/24 dev ust3
ip netns exec "$ns" ip link set ust3 up
ip netns exec "$ns" timeout 60 "$ex/udp_echo" --tap ust3 --addr 198.18.3.2/24 --vnet-hdr --port 7 \
	--seconds 30 >/dev/null 2>"$work/udp_echo.log" &
up=$!
pids+=("$up")
sleep 0.5
for size in 100 1472; do
	head -c "$size" /dev/urandom >"$work/in.$size"
	ip netns exec "$ns" timeout 5 nc -u -w 2 198.18.3.2 7 <"$work/in.$size" >"$work/out.$size" 2>/dev/null
	if cmp -s "$work/in.$size" "$work/out.$size"; then
		ok "nc -u -> udp_echo --vnet-hdr: $size bytes echoed byte-exact"
	else
		bad "nc -u -> udp_echo --vnet-hdr: $size bytes: got $(stat -c %s "$work/out.$size") bytes back"
	fi
done
stop_clean "$up"
grep -q 'InCsumErrors=0' "$work/udp_echo.log" && ok "udp_echo: no checksum error counted" ||
	bad "udp_echo: $(grep -o 'InCsumErrors=[0-9]*' "$work/udp_echo.log" | tr '\n' ' ')"

ce=$(csum_errors)
[ "${ce:-0}" = 0 ] && ok "the kernel counted no TCP checksum error before faults" ||
	bad "TcpInCsumErrors=$ce in the kernel without faults"

# 5. through the fault wrapper, which passes the offloads on: GSO frames lost whole, and corrupted
# frames (their checksum status forgotten) caught by a checksum on either side; bulk's stream (byte
# j is j mod 256) arrives whole at a kernel sink that keeps it
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 81920)' >"$work/pattern"
cat >"$work/sink.py" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.3.1", int(sys.argv[2])))
s.listen()
c, _ = s.accept()
with open(sys.argv[1], "wb") as f:
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        f.write(d)
c.close()
PY
port=5100
for faults in "--loss 0.02" "--corrupt 0.01"; do
	port=$((port + 1))
	ip netns exec "$ns" timeout 60 python3 "$work/sink.py" "$work/sunk" "$port" &
	sp=$!
	pids+=("$sp")
	sleep 0.5 # a probe of the port would be the one connection the sink takes
	# shellcheck disable=SC2086
	ip netns exec "$ns" timeout 60 "$ex/bulk" --tap ust3 --addr 198.18.3.2/24 --vnet-hdr $faults \
		--connect "198.18.3.1:$port" --bytes 20M >/dev/null 2>"$work/bulk.log"
	rc=$?
	wait "$sp"
	if [ $rc -eq 0 ] && same "$work/pattern" "$work/sunk"; then
		ok "bulk --vnet-hdr $faults -> kernel: 20 MB, sha256 equal ($(grep -oE 'RetransSegs=[0-9]+' "$work/bulk.log" | head -1), $(grep -o 'tx_dropped=[0-9]* tx_duplicated=[0-9]* tx_reordered=[0-9]* tx_corrupted=[0-9]*' "$work/bulk.log" | head -1))"
	else
		bad "bulk --vnet-hdr $faults -> kernel (exit $rc): $(stat -c %s "$work/sunk" 2>/dev/null) bytes"
	fi
done

ce=$(csum_errors)
echo "note: after step 5 the kernel's TcpInCsumErrors is ${ce:-0} (the frames corrupted on their way out)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
