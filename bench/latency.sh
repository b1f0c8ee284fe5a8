#!/usr/bin/env bash
# Where latency lives, measured: ustack programs with --latency on a TAP device, the Linux kernel on
# the other side driving them, and the table each ustack program prints at exit. Workloads:
#   rr        1-byte request/response over one TCP connection (TCP_NODELAY), the kernel's client
#             against ustack's server (bench/sock_bench.c): one segment in, one out, at a time
#   bulk-in   the kernel sends to ustack's sink as fast as it can (64 KB writes)
#   bulk-out  ustack's source sends to the kernel's sink as fast as it can
#   udp       the kernel sends 64-byte datagrams to examples/udp_echo one at a time, each after the
#             echo of the one before (a Python client, /usr/bin/python3)
# Then what timing costs: the rr workload without and with --latency, RUNS times each, interleaved;
# the kernel client's transactions/s and round-trip percentiles for both.
# Not a test: figures to read. Needs root (a network namespace).
#
# Everything happens in the namespace ulat-PID, deleted on exit (also on failure or Ctrl-C): tap0,
# made by the ustack program (198.18.0.2/24), and its kernel side 198.18.0.1/24.
#
# Usage: bench/latency.sh [BUILD_DIR]     (default build-rel, a plain optimised build: scripts/build.sh
#                                          build-rel plain)
#   SECONDS_EACH=5 RUNS=3     environment, the defaults shown
# Logs (the ustack programs' counters and tables) are left in BUILD_DIR/bench-latency.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-rel}
secs=${SECONDS_EACH:-5}
runs=${RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "latency.sh: needs root (a network namespace)" >&2; exit 1; }
[ -f "$dir/CMakeCache.txt" ] || { echo "latency.sh: no build in $dir (scripts/build.sh $dir plain)" >&2; exit 1; }
flock /tmp/ustack-build.lock cmake --build "$dir" -j2 --target sock_bench_ustack sock_bench_kernel udp_echo >/dev/null
ub=$dir/bench/sock_bench_ustack
kb=$dir/bench/sock_bench_kernel
echo_bin=$dir/examples/udp_echo
logs=$dir/bench-latency
rm -rf "$logs"
mkdir -p "$logs"

ns=ulat-$$
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_netns_add "$ns"
limit=$((secs + 40)) # seconds any one program may run
port=21000

table() { # LOG: the table the ustack program printed at exit
	sed -n '/^Where latency lives/,$p' "$1.err"
}
result() { grep -h '^result' "$@" 2>/dev/null | tail -n 1 || true; }

# server NAME USTACK-MODE KERNEL-MODE [USTACK-ARGS...]: ustack serves, the kernel's client drives it
server() {
	local smode=$2 cmode=$3 log=$logs/$1 spid
	shift 3
	port=$((port + 1))
	start "$ns" "$log.server" "$ub" --tap tap0 --addr 198.18.0.2/24 "$@" "--$smode" "$port"
	spid=$last
	if tap_up "$ns" && wait_for "the ustack server" ready "$log.server"; then
		ip netns exec "$ns" timeout -k 5 "$limit" "$kb" "--$cmode" "198.18.0.2:$port" --seconds "$secs" \
			>"$log.out" 2>"$log.err" || true
	fi
	finish "$spid" || true
}

echo "latency.sh: ${secs} s per workload, $(nproc) CPUs, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "logs in $logs"

echo
echo "== rr: 1-byte request/response, kernel client -> ustack server"
server rr rr-server rr-client --latency
echo "kernel client: $(result "$logs/rr.out")"
table "$logs/rr.server"

echo
echo "== bulk-in: kernel -> ustack sink"
server bulk_in sink source --latency
echo "kernel source: $(result "$logs/bulk_in.out")"
table "$logs/bulk_in.server"

echo
echo "== bulk-out: ustack source -> kernel sink"
port=$((port + 1))
start "$ns" "$logs/bulk_out.server" "$kb" --sink "$port"
kpid=$last
if wait_for "the kernel sink" ready "$logs/bulk_out.server"; then
	start "$ns" "$logs/bulk_out" "$ub" --tap tap0 --addr 198.18.0.2/24 --latency --source "198.18.0.1:$port" \
		--seconds "$secs"
	upid=$last
	tap_up "$ns" || true
	finish "$upid" || true
fi
finish "$kpid" || true
echo "ustack source: $(result "$logs/bulk_out.out")"
table "$logs/bulk_out"

echo
echo "== udp: 64-byte datagrams, one at a time, kernel -> udp_echo -> kernel"
start "$ns" "$logs/udp" "$echo_bin" --tap tap0 --addr 198.18.0.2/24 --latency --port 7 --seconds $((secs + 10))
upid=$last
if tap_up "$ns" && wait_for "udp_echo" grep -q "port 7" "$logs/udp.err"; then
	ip netns exec "$ns" timeout -k 5 "$limit" /usr/bin/python3 - "$secs" >"$logs/udp_client.out" 2>&1 <<'EOF' || true
import socket, sys, time
secs = float(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
msg = b"x" * 64
rtt, lost = [], 0
end = time.monotonic() + secs
while time.monotonic() < end and len(rtt) + lost < 1000000:
    t = time.monotonic_ns()
    s.sendto(msg, ("198.18.0.2", 7))
    try:
        s.recvfrom(2048)
        rtt.append(time.monotonic_ns() - t)
    except socket.timeout:
        lost += 1
rtt.sort()
n = len(rtt)
print("result mode=udp-echo datagrams=%d lost=%d p50_us=%.1f p99_us=%.1f" %
      (n, lost, rtt[n // 2] / 1e3 if n else 0, rtt[n * 99 // 100] / 1e3 if n else 0))
EOF
fi
kill -TERM "$upid" 2>/dev/null || true
finish "$upid" || true
echo "kernel client: $(result "$logs/udp_client.out")"
table "$logs/udp"

echo
echo "== the cost of timing: rr without and with --latency, $runs runs each, interleaved"
for r in $(seq 1 "$runs"); do
	for mode in off on; do
		if [ "$mode" = on ]; then
			server "cost_${mode}_$r" rr-server rr-client --latency
		else
			server "cost_${mode}_$r" rr-server rr-client
		fi
		echo "  run $r timing $mode: $(result "$logs/cost_${mode}_$r.out")"
	done
done
median() { # MODE FIELD
	for r in $(seq 1 "$runs"); do
		result "$logs/cost_$1_$r.out" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p"
	done | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '%-10s %12s %10s %10s\n' "timing" "tps" "p50_us" "p99_us"
for mode in off on; do
	printf '%-10s %12s %10s %10s\n' "$mode" "$(median "$mode" tps)" "$(median "$mode" p50_us)" \
		"$(median "$mode" p99_us)"
done
