#!/usr/bin/env bash
# Instructions per received TCP data segment, by layer, counted by callgrind (deterministic: the
# same binary and input give the same counts on any machine). Not a test: a figure to watch.
# Usage: bench/rx_instructions.sh [BUILD_DIR]     (default build-bench, a RelWithDebInfo build)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-bench}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }
cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSTACK_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" -j2 --target tcp_rx_path >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
segs=$(valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$dir/bench/tcp_rx_path" 8 2>/dev/null |
	sed -n 's/^segments received: \([0-9]*\).*/\1/p')
callgrind_annotate --inclusive=yes "$out/cg" >"$out/annot" 2>/dev/null
printf '%-28s %14s %12s\n' "function (receiving stack)" "instructions" "per segment"
for fn in eth_rcv ip_rcv tcp_v4_rcv tcp_fast_path csum_partial; do
	ir=$(grep -E "[ :]${fn} " "$out/annot" | head -n 1 | awk '{gsub(",","",$1); print $1}')
	[ -n "$ir" ] || continue
	printf '%-28s %14s %12.0f\n' "$fn (inclusive)" "$ir" "$(echo "$ir / $segs" | bc -l)"
done
echo "segments received by the sink: $segs (both stacks' eth_rcv count together: data and ACKs)"
