#!/usr/bin/env bash
# What idle connections cost the stack that accepted them (bench/idle_conns.c): the server's heap
# bytes per connection, part by part, counted exactly by side; RSS; timers and buffers once idle;
# and the instructions of one idle round (us_stack_poll + us_stack_timeout_ms) counted by callgrind
# at two sizes, which must be the same: nothing in a round may scan the connections. Not a test.
# Usage: bench/idle_conns.sh [N] [BUILD_DIR]     (default 1000000, build-bench: RelWithDebInfo)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
dir=${2:-$top/build-bench}
if [ ! -x "$dir/bench/idle_conns" ]; then
	cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUSTACK_BUILD_TESTS=OFF >/dev/null
	cmake --build "$dir" -j2 --target idle_conns >/dev/null
fi
bin=$dir/bench/idle_conns
echo "== $n connections, socket API"
"$bin" "$n"
echo
echo "== $n connections, us_tcp_* API"
"$bin" "$n" --api tcp
command -v valgrind >/dev/null || { echo "(valgrind not found: no instruction counts)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo
printf '%-12s %-14s %s\n' connections "idle rounds" "instructions per round (callgrind)"
for c in 1000 100000; do
	valgrind --tool=callgrind --toggle-collect=idle_rounds --callgrind-out-file="$out/cg.$c" \
		"$bin" "$c" --rounds 1000 >/dev/null 2>&1
	ir=$(callgrind_annotate "$out/cg.$c" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
	printf '%-12s %-14s %s\n' "$c" 1000 "$(echo "$ir / 1000" | bc -l | xargs printf '%.1f')"
done
