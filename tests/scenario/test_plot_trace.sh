#!/usr/bin/env bash
# scripts/plot_trace.sh on the trace test_tcp_trace wrote: a PNG comes out. Exits 77 (skipped)
# without gnuplot (scripts/setup.sh installs gnuplot-nox).
# Usage: test_plot_trace.sh SOURCE_DIR CSV PNG
set -u
src=$1 csv=$2 png=$3
if ! command -v gnuplot >/dev/null; then
	echo "SKIP: gnuplot is missing (scripts/setup.sh installs gnuplot-nox)"
	exit 77
fi
[ -s "$csv" ] || { echo "FAIL: $csv is missing or empty (test_tcp_trace writes it)"; exit 1; }
rm -f "$png"
bash "$src/scripts/plot_trace.sh" "$csv" "$png" || { echo "FAIL: plot_trace.sh exit $?"; exit 1; }
# a PNG: its 8-byte signature, and more than an empty canvas
sig=$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')
size=$(stat -c %s "$png")
if [ "$sig" != "89504e470d0a1a0a" ] || [ "$size" -lt 10000 ]; then
	echo "FAIL: $png is not a plot (signature $sig, $size bytes)"
	exit 1
fi
echo "PASS: $png, $size bytes"
