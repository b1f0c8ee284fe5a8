#!/usr/bin/env bash
# Bulk TCP through a lossy TAP link, against the Linux kernel, in a network namespace of its own:
# the stack (examples/bulk with --loss P, the fault wrapper on its TAP device, both directions)
#   1. sends SIZE to a Python receiver on the kernel side;
#   2. receives SIZE from a Python sender on the kernel side (bulk --listen --out FIFO);
# sha256 equal each way. Each direction prints its rate and the sender's retransmitted segments
# (TCP_INFO's tcpi_total_retrans: bulk's own, or the kernel socket's) beside the frames the fault
# wrapper dropped, which must agree in order of magnitude (within a factor of 10 either way).
# Usage: live_loss.sh BUILD_DIR [SIZE] [LOSS]   (defaults 1G and 0.01; SIZE as bulk's --bytes)
# Exits 77 (skipped) when not root or without /dev/net/tun. Every wait is bounded (LIVE_LOSS_TIMEOUT
# seconds per direction, default 900).
set -u
build=$(cd "$1" && pwd)
size=${2:-1G}
loss=${3:-0.01}
limit=${LIVE_LOSS_TIMEOUT:-900}
ex="$build/examples"
# shellcheck source=tests/interop/live_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/live_lib.sh"
live_need_root_tun
live_need_tools ip timeout sha256sum mkfifo /usr/bin/python3
case $size in
*K | *k) bytes=$((${size%?} * 1024)) ;;
*M | *m) bytes=$((${size%?} * 1048576)) ;;
*G | *g) bytes=$((${size%?} * 1073741824)) ;;
*) bytes=$size ;;
esac

live_init loss
mac=02:00:c6:12:00:02
stack=(--tap tap0 --addr 198.18.0.2/24 --mac "$mac" --loss "$loss" --fault-seed 1)

now() { date +%s.%N; }
mbps() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", (b > a ? n / (b - a) / 1e6 : 0) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# a Fault: counter from a stack's log: fault LOG rx_dropped
fault() { grep -o "$2=[0-9]*" "$1" | tail -1 | cut -d= -f2; }
# within a factor of 10 of each other (both at least 1)
same_order() { [ "$1" -ge 1 ] && [ "$2" -ge 1 ] && [ $(($1 * 10)) -ge "$2" ] && [ $(($2 * 10)) -ge "$1" ]; }
# Wait for a pid we started, at most $limit seconds; its exit status (124 when it had to be killed).
wait_for() {
	local p=$1 rc
	for _ in $(seq 1 $((limit * 10))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$p" 2>/dev/null; then
		kill "$p" 2>/dev/null
		sleep 1
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		rc=124
	else
		wait "$p"
		rc=$?
	fi
	live_forget "$p"
	return $rc
}

# The kernel side: receive to EOF (print sha256, bytes), or send N bytes (print sha256, bytes,
# tcpi_total_retrans); both bounded by a socket timeout.
recv_py='
import hashlib, socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("198.18.0.1", int(sys.argv[1]))); l.listen(1); l.settimeout(30)
c, _ = l.accept(); c.settimeout(60)
h, n, buf = hashlib.sha256(), 0, bytearray(1 << 20)
while True:
    k = c.recv_into(buf)
    if not k: break
    h.update(memoryview(buf)[:k]); n += k
c.close()
print(h.hexdigest(), n)
'
send_py='
import hashlib, os, socket, struct, sys
n = int(sys.argv[2]); block = os.urandom(1 << 20); h, left = hashlib.sha256(), n
s = socket.create_connection(("198.18.0.2", int(sys.argv[1])), timeout=30); s.settimeout(60)
while left:
    b = block[:min(left, len(block))]; s.sendall(b); h.update(b); left -= len(b)
s.shutdown(socket.SHUT_WR)
while s.recv(65536): pass
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
s.close()
print(h.hexdigest(), n, struct.unpack_from("I", info, 100)[0])  # tcpi_total_retrans
'

live_netns_add
live_tap_add tap0 198.18.0.1/24
echo "live_loss: $size ($bytes bytes) each way at --loss $loss, both directions of tap0"

# 1. the stack sends: bulk --connect -> the kernel's receiver. bulk sends buf[i] = i (mod 256) in
# 64 KB writes, so the stream is bytes 0..255 over and over.
want=$(/usr/bin/python3 -c '
import hashlib, sys
n = int(sys.argv[1]); b = bytes(range(256)) * 4096; h = hashlib.sha256()
for _ in range(n // len(b)): h.update(b)
h.update(b[:n % len(b)]); print(h.hexdigest())' "$bytes")
nsx timeout --foreground $((limit + 30)) /usr/bin/python3 -c "$recv_py" 5001 >"$work/recv1.out" 2>"$work/recv1.err" &
rpid=$!
pids+=("$rpid")
sleep 0.5
t0=$(now)
nsx timeout --foreground "$limit" "$ex/bulk" "${stack[@]}" --connect 198.18.0.1:5001 --bytes "$size" --timeout 60 \
	>"$work/bulk1.out" 2>"$work/bulk1.log"
rc=$?
t1=$(now)
wait_for "$rpid"
read -r got n1 <"$work/recv1.out" 2>/dev/null
retrans=$(grep -o 'tcpi_total_retrans=[0-9]*' "$work/bulk1.out" | cut -d= -f2)
txd=$(fault "$work/bulk1.log" tx_dropped)
rxd=$(fault "$work/bulk1.log" rx_dropped)
fig="$(mbps "$bytes" "$t0" "$t1") MB/s in $(secs "$t0" "$t1") s; bulk retransmitted ${retrans:-?} segments, the fault wrapper dropped ${txd:-?} frames going out (data) and ${rxd:-?} coming in (ACKs)"
if [ $rc -eq 0 ] && [ "${got:-}" = "$want" ] && [ "${n1:-0}" = "$bytes" ]; then
	ok "stack -> kernel, $size at --loss $loss, sha256 equal: $fig"
else
	bad "stack -> kernel (bulk exit $rc, received ${n1:-nothing}): $fig"
	tail -5 "$work/bulk1.log" "$work/recv1.err" | sed 's/^/    /'
fi
if [ -n "$retrans" ] && [ -n "$txd" ] && same_order "$retrans" "$txd"; then
	ok "stack -> kernel: bulk's tcpi_total_retrans $retrans and the data frames dropped $txd agree in order of magnitude"
else
	bad "stack -> kernel: bulk's tcpi_total_retrans ${retrans:-?} against ${txd:-?} frames dropped"
fi
grep -E '^TcpExt' "$work/bulk1.log" | tr ' ' '\n' | grep -E 'TCPTimeouts|TCPFastRetrans|TCPLossProbes|TCPSackRecovery' |
	tr '\n' ' ' | sed 's/^/    stack: /'
echo

# 2. the kernel sends: its sender -> bulk --listen --once --out FIFO | sha256sum
mkfifo "$work/in.fifo"
( timeout --foreground $((limit + 30)) sha256sum <"$work/in.fifo" >"$work/got2.sha") &
hpid=$!
pids+=("$hpid")
nsx timeout --foreground $((limit + 30)) "$ex/bulk" "${stack[@]}" --listen 5002 --once --out "$work/in.fifo" \
	>"$work/bulk2.out" 2>"$work/bulk2.log" &
bpid=$!
pids+=("$bpid")
for _ in $(seq 1 50); do grep -q 'sink on port' "$work/bulk2.log" 2>/dev/null && break; sleep 0.1; done
t0=$(now)
nsx timeout --foreground "$limit" /usr/bin/python3 -c "$send_py" 5002 "$bytes" >"$work/send2.out" 2>"$work/send2.err"
rc=$?
t1=$(now)
wait_for "$bpid"
brc=$?
wait_for "$hpid"
read -r want2 n2 kretrans <"$work/send2.out" 2>/dev/null
got2=$(cut -d' ' -f1 "$work/got2.sha" 2>/dev/null)
rxd=$(fault "$work/bulk2.log" rx_dropped)
txd=$(fault "$work/bulk2.log" tx_dropped)
fig="$(mbps "$bytes" "$t0" "$t1") MB/s in $(secs "$t0" "$t1") s; the kernel retransmitted ${kretrans:-?} segments, the fault wrapper dropped ${rxd:-?} frames coming in (data) and ${txd:-?} going out (ACKs)"
if [ $rc -eq 0 ] && [ $brc -eq 0 ] && [ -n "${want2:-}" ] && [ "$got2" = "$want2" ]; then
	ok "kernel -> stack, $size at --loss $loss, sha256 equal: $fig"
else
	bad "kernel -> stack (sender exit $rc, bulk exit $brc): $fig"
	tail -5 "$work/bulk2.log" "$work/send2.err" | sed 's/^/    /'
fi
if [ -n "${kretrans:-}" ] && [ -n "$rxd" ] && same_order "$kretrans" "$rxd"; then
	ok "kernel -> stack: the kernel's tcpi_total_retrans $kretrans and the data frames dropped $rxd agree in order of magnitude"
else
	bad "kernel -> stack: the kernel's tcpi_total_retrans ${kretrans:-?} against ${rxd:-?} frames dropped"
fi
live_finish
