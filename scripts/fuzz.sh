#!/usr/bin/env bash
# Build the libFuzzer harness (tests/fuzz/fuzz_rx.c) with clang, ASan and UBSan, seed it with every
# frame of pcaps/, and fuzz the receive path for a bounded time. Fails on any crash, sanitizer
# report or leaked skb.
# Usage: scripts/fuzz.sh [seconds]      (default 60; FUZZ_SECONDS also works)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-${FUZZ_SECONDS:-60}}
out=build-fuzz
mkdir -p "$out/corpus"
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude -Istack -Inetdev stack/*.c netdev/*.c tests/fuzz/fuzz_rx.c -lpcap -o "$out/fuzz_rx"
/usr/bin/python3 tests/fuzz/make_corpus.py pcaps "$out/seeds"
echo "== fuzzing the receive path for $secs s"
"$out/fuzz_rx" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 "$out/corpus" "$out/seeds" 2>&1 | tail -n 25
echo "== fuzz: no crash in $secs s"
