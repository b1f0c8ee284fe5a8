#!/usr/bin/env bash
# Draw a ustack congestion-control trace (US_TCP_TRACE or us_stack_config.tcp_trace_path, CSV) as a
# PNG: cwnd, ssthresh and bytes in flight over time, in KB, with the loss events marked: fast
# retransmits (triangles), retransmission timeouts (crosses), and each row at which the
# retransmission count went up (small dots on the flight line).
#
# Usage: plot_trace.sh CSV PNG [CONN]
#   CONN  which connection of a shared file (the conn column); default: the first one in it
# Needs gnuplot (Debian: gnuplot-nox, which scripts/setup.sh installs).
#
# Example, the picture in the README (docs/img/recovery.png), from the scenario test's trace:
#   cmake --build build && (cd build/tests && ./test_tcp_trace)
#   bash scripts/plot_trace.sh build/tests/trace_recovery.csv docs/img/recovery.png
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: plot_trace.sh CSV PNG [CONN]" >&2
	exit 2
fi
csv=$1 png=$2 conn=${3:-}
command -v gnuplot >/dev/null || { echo "plot_trace.sh: gnuplot is missing (apt-get install gnuplot-nox)" >&2; exit 1; }
[ -r "$csv" ] || { echo "plot_trace.sh: cannot read $csv" >&2; exit 1; }
head -1 "$csv" | grep -q '^time_s,conn,event,state,cwnd,ssthresh,flight,' ||
	{ echo "plot_trace.sh: $csv is not a ustack trace (header: $(head -1 "$csv"))" >&2; exit 1; }
if [ -z "$conn" ]; then
	conn=$(awk -F, 'NR == 2 { print $2; exit }' "$csv")
	[ -n "$conn" ] || { echo "plot_trace.sh: $csv has no rows" >&2; exit 1; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One connection's rows up to TIME-WAIT (then it has nothing to send) as columns gnuplot reads: time, cwnd, ssthresh (NaN while unset), flight
# (KB), then the y of each marker or NaN: fast retransmit, RTO, retransmission count went up.
awk -F, -v c="$conn" '
	NR == 1 || $2 != c || $4 == "TIME-WAIT" || $4 == "CLOSED" { next }
	{
		ss = ($6 == 4294967295) ? "NaN" : $6 / 1024
		fr = ($3 == "fast_retransmit") ? $5 / 1024 : "NaN"
		rto = ($3 == "rto") ? $5 / 1024 : "NaN"
		rx = (n && $10 > last) ? $7 / 1024 : "NaN"
		last = $10; n++
		print $1, $5 / 1024, ss, $7 / 1024, fr, rto, rx
		if ($3 == "fast_retransmit") nfr++
		if ($3 == "rto") nrto++
		retrans = $10; mss = $11; end = $1
	}
	END {
		printf "%d %d %d %d %s\n", n, nfr, nrto, retrans, mss > "/dev/stderr"
	}' "$csv" >"$work/data" 2>"$work/summary"
read -r rows nfr nrto retrans mss <"$work/summary"
[ "$rows" -gt 0 ] || { echo "plot_trace.sh: no rows for conn $conn in $csv" >&2; exit 1; }

cat >"$work/plot.gp" <<EOF
set terminal pngcairo noenhanced size 1100,550 font "sans,10"
set output "$png"
set title "$(basename "$csv"), connection $conn: $nfr fast retransmits, $nrto RTOs, $retrans segments retransmitted (MSS $mss)"
set xlabel "time (s)"
set ylabel "KB"
set key top right box opaque
set grid
set yrange [0:*]
set datafile missing "NaN"
plot "$work/data" using 1:4 with lines lw 1 lc rgb "#9bbbd9" title "bytes in flight", \
     "" using 1:2 with steps lw 2 lc rgb "#1f4e9c" title "cwnd", \
     "" using 1:3 with steps lw 2 dt 2 lc rgb "#d9822b" title "ssthresh", \
     "" using 1:7 with points pt 7 ps 0.4 lc rgb "#6a6a6a" title "retransmission", \
     "" using 1:5 with points pt 9 ps 1.6 lc rgb "#2a9d3a" title "fast retransmit", \
     "" using 1:6 with points pt 2 ps 2 lw 2 lc rgb "#c0392b" title "RTO"
EOF
gnuplot "$work/plot.gp"
echo "plot_trace.sh: $png (connection $conn, $rows rows)"
