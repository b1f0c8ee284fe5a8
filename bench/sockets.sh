#!/usr/bin/env bash
# Socket benchmark: ustack through TAP against the Linux kernel's own TCP over a veth pair, in the
# same run, with the same program (bench/sock_bench.c, built on ustack and on kernel sockets) at both
# ends of every pairing. Workloads: bulk throughput both ways, 1-byte request/response over one
# connection (TCP_NODELAY), connections per second (connect, 1-byte request, 1-byte reply, close).
# Each figure is the median of RUNS runs, the runs of the two stacks interleaved; the raw runs are
# printed too. Not a test: figures to watch. Needs root (network namespaces).
#
# Everything happens in namespaces of this run, deleted on exit (also on failure or Ctrl-C):
#   ubench-PID-a, ubench-PID-b   a veth pair, 198.18.1.1/24 <-> 198.18.1.2/24: kernel against kernel
#   ubench-PID-t                 tap0, made by the ustack program (198.18.0.2/24); the kernel side
#                                is 198.18.0.1/24: kernel against ustack
# Each namespace sets net.ipv4.tcp_tw_reuse=1 (its own copy), so that the kernel as the client of
# the cps runs can reuse its ports in TIME-WAIT; the ustack program gets the same with --tcp-tw-reuse.
#
# Usage: bench/sockets.sh [BUILD_DIR]     (default build-bench; configured as Release if new)
#   RUNS=3 BULK_SECONDS=10 RR_SECONDS=5 CPS_SECONDS=5    environment, the defaults shown
#   VNET=1      the ustack program opens tap0 with its offloads (--vnet-hdr, docs/offload.md)
#   BULK_ONLY=1 the bulk workloads alone
# Logs of every run (the ustack program's counters at exit among them) are left in BUILD_DIR/bench-sockets.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-bench}
runs=${RUNS:-3}
bulk_s=${BULK_SECONDS:-10}
rr_s=${RR_SECONDS:-5}
cps_s=${CPS_SECONDS:-5}
vnet=()
[ "${VNET:-0}" = 1 ] && vnet=(--vnet-hdr)
bulk_only=${BULK_ONLY:-0}
[ "$(id -u)" = 0 ] || { echo "sockets.sh: needs root (network namespaces)" >&2; exit 1; }

if [ ! -f "$dir/CMakeCache.txt" ]; then
	cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DUSTACK_BUILD_TESTS=OFF >/dev/null
fi
flock /tmp/ustack-build.lock cmake --build "$dir" -j2 --target sock_bench_ustack sock_bench_kernel >/dev/null
ub=$dir/bench/sock_bench_ustack
kb=$dir/bench/sock_bench_kernel
logs=$dir/bench-sockets
rm -rf "$logs"
mkdir -p "$logs"
raw=$logs/raw

na=ubench-$$-a
nb=ubench-$$-b
nt=ubench-$$-t
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_netns_add "$na" "$nb" "$nt"
for n in "$na" "$nb" "$nt"; do
	ip netns exec "$n" sysctl -qw net.ipv4.tcp_tw_reuse=1
done
ip netns exec "$na" ip link add ubv0 type veth peer name ubv1 netns "$nb"
ip netns exec "$na" ip addr add 198.18.1.1/24 dev ubv0
ip netns exec "$nb" ip addr add 198.18.1.2/24 dev ubv1
ip netns exec "$na" ip link set ubv0 up
ip netns exec "$nb" ip link set ubv1 up

longest=$bulk_s
[ "$rr_s" -gt "$longest" ] && longest=$rr_s
[ "$cps_s" -gt "$longest" ] && longest=$cps_s
limit=$((longest + 40)) # seconds any one program may run
port=20000

# record KEY NAME RUN LOG: the client's result line into the raw list, or a failure
record() {
	local key=$1 name=$2 run=$3 log=$4 line val
	line=$(grep '^result' "$log.out" 2>/dev/null | tail -n 1 || true)
	val=$(sed -n "s/.* $key=\([0-9.]*\).*/\1/p" <<<"$line")
	if [ -z "$val" ]; then
		echo "$name run $run: FAILED (logs: $log.*)" | tee -a "$raw"
		return 0
	fi
	echo "$name $run $val" >>"$logs/values"
	echo "$name run $run: $line" >>"$raw"
}
counters() { # the ustack program's counters that show trouble
	grep -oE ' (RetransSegs|TCPTimeouts|TCPSynRetrans|TCPFastRetrans|DelayedACKs|ListenDrops|ListenOverflows|TCPOFODrop|TCPRcvQDrop|TW|TCPTimeWaitRecycled|OutRsts|AttemptFails|rx_dropped|tx_dropped|rx_ring_full|tx_ring_full|alloc_failures)=[0-9]+' \
		"$1.err" | grep -v '=0$' | tr -d '\n' || true
}
note_counters() { echo "    ustack counters:$(counters "$1")" >>"$raw"; }

# ustack_server NAME KEY RUN SERVER-MODE CLIENT-MODE ARGS...: the kernel's client against ustack's server
ustack_server() {
	local name=$1 key=$2 run=$3 smode=$4 cmode=$5 log=$logs/$1.$3 spid
	shift 5
	port=$((port + 1))
	start "$nt" "$log.server" "$ub" --tap tap0 --addr 198.18.0.2/24 --tcp-tw-reuse "${vnet[@]}" "--$smode" "$port"
	spid=$last
	if tap_up "$nt" && wait_for "the ustack server" ready "$log.server"; then
		ip netns exec "$nt" timeout -k 5 "$limit" "$kb" "--$cmode" "198.18.0.2:$port" "$@" \
			>"$log.out" 2>"$log.err" || true
	fi
	finish "$spid" || true
	record "$key" "$name" "$run" "$log"
	note_counters "$log.server"
}
# ustack_client NAME KEY RUN SERVER-MODE CLIENT-MODE ARGS...: ustack's client against the kernel's server
ustack_client() {
	local name=$1 key=$2 run=$3 smode=$4 cmode=$5 log=$logs/$1.$3 spid cpid
	shift 5
	port=$((port + 1))
	start "$nt" "$log.server" "$kb" "--$smode" "$port"
	spid=$last
	if wait_for "the kernel server" ready "$log.server"; then
		start "$nt" "$log" "$ub" --tap tap0 --addr 198.18.0.2/24 --tcp-tw-reuse "${vnet[@]}" "--$cmode" \
			"198.18.0.1:$port" "$@"
		cpid=$last
		tap_up "$nt" || true
		finish "$cpid" || true
	fi
	finish "$spid" || true
	record "$key" "$name" "$run" "$log"
	note_counters "$log"
}
# linux NAME KEY RUN SERVER-MODE CLIENT-MODE ARGS...: kernel against kernel, a to b over the veth pair
linux() {
	local name=$1 key=$2 run=$3 smode=$4 cmode=$5 log=$logs/$1.$3 spid
	shift 5
	port=$((port + 1))
	start "$nb" "$log.server" "$kb" "--$smode" "$port"
	spid=$last
	if wait_for "the kernel server" ready "$log.server"; then
		ip netns exec "$na" timeout -k 5 "$limit" "$kb" "--$cmode" "198.18.1.2:$port" "$@" \
			>"$log.out" 2>"$log.err" || true
	fi
	finish "$spid" || true
	record "$key" "$name" "$run" "$log"
}

echo "sockets.sh: $runs runs; bulk ${bulk_s} s, rr ${rr_s} s, cps ${cps_s} s per run;" \
	"ustack offloads ${vnet[*]:-off}; logs in $logs"
for r in $(seq 1 "$runs"); do
	echo "  round $r of $runs"
	ustack_client bulk_us2k mbit_s "$r" sink source --seconds "$bulk_s"
	ustack_server bulk_k2us mbit_s "$r" sink source --seconds "$bulk_s"
	linux bulk_linux mbit_s "$r" sink source --seconds "$bulk_s"
	[ "$bulk_only" = 1 ] && continue
	ustack_server rr_us tps "$r" rr-server rr-client --seconds "$rr_s"
	linux rr_linux tps "$r" rr-server rr-client --seconds "$rr_s"
	ustack_server cps_k2us cps "$r" cps-server cps-client --seconds "$cps_s"
	ustack_client cps_us2k cps "$r" cps-server cps-client --seconds "$cps_s"
	linux cps_linux cps "$r" cps-server cps-client --seconds "$cps_s"
done

median() { # NAME: the median of its runs, or -
	awk -v n="$1" '$1 == n { print $3 }' "$logs/values" 2>/dev/null | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
row() { # LABEL USTACK-NAME LINUX-NAME
	local u l ratio
	u=$(median "$2")
	l=$(median "$3")
	ratio=$(awk -v u="$u" -v l="$l" 'BEGIN { if (u == "-" || l == "-" || l == 0) print "-";
		else printf "%.2f", u / l }')
	printf '| %-44s | %10s | %10s | %6s |\n' "$1" "$u" "$l" "$ratio"
}
echo
echo "Raw runs (client side):"
cat "$raw"
echo
echo "Medians of $runs runs, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, Linux $(uname -r):"
printf '| %-44s | %10s | %10s | %6s |\n' "workload" "ustack" "Linux veth" "ratio"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" "------------" "------------" "--------"
row "bulk, ustack -> kernel (Mbit/s)" bulk_us2k bulk_linux
row "bulk, kernel -> ustack (Mbit/s)" bulk_k2us bulk_linux
row "1-byte request/response (transactions/s)" rr_us rr_linux
row "connections/s, kernel client -> ustack server" cps_k2us cps_linux
row "connections/s, ustack client -> kernel server" cps_us2k cps_linux
