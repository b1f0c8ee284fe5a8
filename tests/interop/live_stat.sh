#!/usr/bin/env bash
# Watching a live stack from outside: examples/echo_server on TAP (198.18.0.2, in a network namespace
# of its own) with --ctl and --stats-every, a connection held open from the kernel side by nc
# (198.18.0.1, source port 40007), and:
#   1. `ustack-stat PATH sockets` shows the listener and that ESTAB connection with the right peer,
#      and its ss -ti line
#   2. `ustack-stat PATH stats` shows the counters as netstat -s does, `stats raw` as NAME=VALUE;
#      --watch 0.2 --count 2 asks twice
#   3. kill -USR1 of the echo_server we started prints both dumps to its stderr
#   4. --stats-every 1 printed periodic dumps meanwhile
#   5. the server stops cleanly (no skb leaked) and its socket file is gone; ustack-stat then says
#      there is no stack (exit 1)
# The control socket is a file: ustack-stat runs outside the namespace, and nothing network-wise is
# made outside it. Usage: live_stat.sh BUILD_DIR. Exits 77 (skipped) when not root or without
# /dev/net/tun.
# shellcheck disable=SC2317  # functions run through until5, and live_cleanup_hook through live_lib.sh
set -u
build=$(cd "$1" && pwd)
ex="$build/examples"
stat="$build/tools/ustack-stat"
# shellcheck source=tests/interop/live_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/live_lib.sh"
live_need_root_tun
for tool in ip nc mkfifo "$stat"; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing"; exit 1; }
done
live_init stat "$(mktemp -d /tmp/ustack-live-stat.XXXXXX)"
ctl="$work/ctl.sock"
# the writer of the fifo nc reads (fd 3) is closed first: nc sees its EOF
live_cleanup_hook() { exec 3>&- 2>/dev/null; }

indent() { sed 's/^/    /' "$@"; }
# Wait up to 5 s for a command to succeed: until CMD...
until5() {
	for _ in $(seq 1 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

live_netns_add
live_tap_add tap0 198.18.0.1/24

# `ip netns exec` execs the program: $! is echo_server itself, the process SIGUSR1 goes to
ip netns exec "$ns" "$ex/echo_server" --tap tap0 --addr 198.18.0.2/24 --mac 02:00:c6:12:00:02 \
	--port 7 --seconds 60 --ctl "$ctl" --stats-every 1 >"$work/echo.out" 2>"$work/echo.log" &
spid=$!
pids+=("$spid")
if ! until5 test -S "$ctl" || ! until5 nsx nc -z -w 1 198.18.0.2 7; then
	bad "echo_server with --ctl did not come up"
	indent "$work/echo.log" | tail -20
	exit 1
fi

# hold a connection open: nc reads its stdin from a fifo whose writer (fd 3) we keep open; at its
# EOF, nc -N sends a FIN and leaves when the server closes too
mkfifo "$work/hold"
ip netns exec "$ns" nc -N -p 40007 198.18.0.2 7 <"$work/hold" >/dev/null &
ncpid=$!
pids+=("$ncpid")
exec 3>"$work/hold"

# ---- 1. sockets ----
estab() {
	"$stat" "$ctl" sockets >"$work/sockets.txt" 2>&1 &&
		grep -Eq '^tcp +ESTAB +0 +0 +198\.18\.0\.2:7 +198\.18\.0\.1:40007 ' "$work/sockets.txt"
}
if until5 estab; then
	row=$(grep -E -A1 '^tcp +ESTAB +0 +0 +198\.18\.0\.2:7 +198\.18\.0\.1:40007 ' "$work/sockets.txt")
	if grep -Eq '^tcp +LISTEN +[0-9]+ +128 +0\.0\.0\.0:7 +0\.0\.0\.0:\* ' "$work/sockets.txt" &&
		[[ $row == *"bytes_acked:"*"segs_in:"*"rcv_space:"* ]]; then
		ok "ustack-stat sockets: the listener, and ESTAB to 198.18.0.1:40007 with its ss -ti line"
		echo "$row" | indent
	else
		bad "ustack-stat sockets: no listener row or no ss -ti line"
		indent "$work/sockets.txt"
	fi
else
	bad "ustack-stat sockets: no ESTAB row for 198.18.0.1:40007"
	indent "$work/sockets.txt"
fi

# ---- 2. stats, stats raw, --watch ----
"$stat" "$ctl" stats >"$work/stats.txt" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^Tcp:$' "$work/stats.txt" && grep -q '^    1 connections established$' "$work/stats.txt"; then
	ok "ustack-stat stats: netstat -s form, \"1 connections established\""
else
	bad "ustack-stat stats: exit $rc"
	indent "$work/stats.txt"
fi
"$stat" "$ctl" stats raw >"$work/raw.txt" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^Tcp: ActiveOpens=' "$work/raw.txt" && grep -q 'CurrEstab=1' "$work/raw.txt"; then
	ok "ustack-stat stats raw: $(grep -o 'CurrEstab=[0-9]*' "$work/raw.txt"), $(grep -o 'InSegs=[0-9]*' "$work/raw.txt")"
else
	bad "ustack-stat stats raw: exit $rc"
	indent "$work/raw.txt"
fi
"$stat" --watch 0.2 --count 2 "$ctl" >"$work/watch.txt" 2>&1
rc=$?
n=$(grep -c '^Netid' "$work/watch.txt")
if [ $rc -eq 0 ] && [ "$n" -eq 2 ]; then
	ok "ustack-stat --watch 0.2 --count 2: two replies"
else
	bad "ustack-stat --watch 0.2 --count 2: exit $rc, $n replies"
fi

# ---- 3. SIGUSR1 ----
before=$(grep -c 'ustack dump (requested)' "$work/echo.log")
kill -USR1 "$spid"
requested() {
	[ "$(grep -c 'ustack dump (requested)' "$work/echo.log")" -gt "$before" ] &&
		sed -n '/ustack dump (requested)/,$p' "$work/echo.log" |
		grep -Eq '^tcp +ESTAB +0 +0 +198\.18\.0\.2:7 +198\.18\.0\.1:40007 '
}
if until5 requested && kill -0 "$spid" 2>/dev/null; then
	ok "kill -USR1: the dumps on stderr, the server still running"
	sed -n '/ustack dump (requested)/,$p' "$work/echo.log" | grep -E -A2 '^(ustack dump|Tcp:)' | head -6 | indent
else
	bad "kill -USR1: no requested dump with the ESTAB row in echo_server's stderr"
	tail -20 "$work/echo.log" | indent
fi

# ---- 4. --stats-every ----
periodic() { [ "$(grep -c 'ustack dump (periodic)' "$work/echo.log")" -ge 2 ]; }
if until5 periodic; then
	ok "--stats-every 1: $(grep -c 'ustack dump (periodic)' "$work/echo.log") periodic dumps so far"
else
	bad "--stats-every 1: fewer than 2 periodic dumps"
fi

# ---- 5. stop ----
exec 3>&-
for _ in $(seq 1 50); do kill -0 "$ncpid" 2>/dev/null || break; sleep 0.1; done
kill "$ncpid" 2>/dev/null
wait "$ncpid" 2>/dev/null
kill "$spid"
for _ in $(seq 1 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$spid" 2>/dev/null
wait "$spid"
rc=$?
pids=()
"$stat" "$ctl" stats >/dev/null 2>&1
src=$?
if [ $rc -eq 0 ] && [ ! -e "$ctl" ] && [ $src -eq 1 ]; then
	ok "echo_server: clean stop, no skb leaked, the socket file gone, ustack-stat exit 1 after"
else
	bad "echo_server: exit $rc, socket file $([ -e "$ctl" ] && echo left || echo gone), ustack-stat exit $src"
	tail -12 "$work/echo.log" | indent
fi

live_finish
