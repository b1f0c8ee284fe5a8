#!/usr/bin/env bash
# The socket API against real Linux programs, through TAP, in a network namespace of its own. The
# examples run on the stack (198.18.0.2, on tap0); curl, wrk, nc and Python run on the kernel side
# (198.18.0.1) with `ip netns exec`.
#   1. curl downloads 1 MB and 100 MB from httpd --root: sha256 equal
#   2. 50 curl requests at once to httpd: all 200, all the right size
#   3. wrk -t2 -c50 -d10s against httpd: no socket errors, no non-2xx responses
#   4. http_get on the stack downloads 100 MB from python3 -m http.server: sha256 equal
#   5. nc <-> echo_server: a line comes back
#   6. the kernel resets a connection mid-transfer (SO_LINGER {1,0}): the stack's sender (bulk) and
#      receiver (http_get) see ECONNRESET
#   7. http_get to a closed kernel port: ECONNREFUSED
#   8. the kernel side vanishes (tap0 down) mid-transfer: bulk sees ETIMEDOUT after its retries
#      (--tcp-retries 5 --rto-max-ms 1000), counted as TCPAbortOnTimeout
#   9. nc -u <-> udp_echo: datagrams echoed byte-exact
#  10. inetd: echo, discard, and chargen --chargen-bytes N (exactly N bytes)
# Every server on the stack must also stop cleanly (exit 0: no skb leaked). Check 8 runs last, as it
# takes tap0 down. Figures (MB/s, requests/s, seconds) are printed with each result.
# Usage: live_sockets.sh BUILD_DIR. Exits 77 (skipped) when not root or without /dev/net/tun.
set -u
build=$(cd "$1" && pwd)
ex="$build/examples"
# shellcheck source=tests/interop/live_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/live_lib.sh"
live_need_root_tun
live_need_tools ip nc curl wrk sha256sum timeout xargs /usr/bin/python3
# large files: under the build directory, deleted on exit
live_init sock "$build/live-sockets-$$"
mac=02:00:c6:12:00:02 # every stack in turn on tap0 has this MAC: the kernel's ARP entry holds
stack=(--tap tap0 --addr 198.18.0.2/24 --mac "$mac")

sha() { sha256sum <"$1" | cut -d' ' -f1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
mbps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? n / s / 1e6 : 0) }'; }
# the stack's counters a failure report wants: TCP, devices, buffers
counters() { grep -E '^(Tcp|TcpExt|Udp|Dev|Skb)' "$1" | sed 's/^/    /'; }
indent() { sed 's/^/    /' "$@"; }

# Start an example on the stack in the background: start NAME PROGRAM ARGS...; its pid in $spid.
start() {
	local name=$1 prog=$2
	shift 2
	ip netns exec "$ns" timeout --foreground 120 "$ex/$prog" "${stack[@]}" "$@" >"$work/$name.out" 2>"$work/$name.log" &
	spid=$!
	pids+=("$spid")
}
# Wait up to 5 s for a TCP port to take connections: wait_port ADDR PORT.
wait_port() {
	for _ in $(seq 1 50); do
		nsx nc -z -w 1 "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# Stop a process we started (SIGTERM, then SIGKILL after 10 s) and return its exit status.
stop() {
	local p=$1 rc
	kill "$p" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rc=$?
	live_forget "$p"
	return $rc
}
# Stop a server on the stack and check it went cleanly: stop_server NAME PID.
stop_server() {
	local rc
	stop "$2"
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$1: clean stop, no skb leaked ($(grep -o 'allocated=[0-9]*' "$work/$1.log" | tail -1))"
	else
		bad "$1: exit $rc at stop"
		tail -12 "$work/$1.log" | indent
	fi
}

live_netns_add
# tap0 outlives each example: made here, persistent, and every stack in turn attaches to it
live_tap_add tap0 198.18.0.1/24
mkdir -p "$work/www"
head -c 1048576 /dev/urandom >"$work/www/1M"
head -c 104857600 /dev/urandom >"$work/www/100M"
head -c 1024 /dev/urandom >"$work/www/1K"

# ---- httpd: curl, 50 curls at once, wrk ----
start httpd httpd --port 80 --root "$work/www" --seconds 110
httpd=$spid
if ! wait_port 198.18.0.2 80; then
	bad "httpd does not take connections on port 80"
	tail -5 "$work/httpd.log" | indent
fi

# 1. curl 1 MB and 100 MB, sha256 equal
for f in 1M 100M; do
	t0=$(now)
	out=$(nsx curl -sS -m 60 -o "$work/got.$f" -w '%{http_code} %{size_download}' "http://198.18.0.2/$f" 2>&1)
	secs=$(since "$t0")
	size=$(stat -c %s "$work/www/$f")
	if [ "$out" = "200 $size" ] && [ "$(sha "$work/got.$f")" = "$(sha "$work/www/$f")" ]; then
		ok "curl $f from httpd: $size bytes in $secs s ($(mbps "$size" "$secs") MB/s), sha256 equal"
	else
		bad "curl $f from httpd: expected \"200 $size\" and equal sha256, got \"$out\" after $secs s"
	fi
	rm -f "$work/got.$f"
done

# 2. 50 requests at once, each on its own connection
t0=$(now)
seq 1 50 | nsx xargs -P 50 -I{} curl -sS -m 30 -o /dev/null -w '%{http_code} %{size_download}\n' \
	http://198.18.0.2/1M >"$work/par.out" 2>"$work/par.err"
secs=$(since "$t0")
good=$(grep -cx '200 1048576' "$work/par.out")
if [ "$good" -eq 50 ]; then
	ok "50 parallel curl of 1 MB: 50/50 HTTP 200 with 1048576 bytes in $secs s"
else
	bad "50 parallel curl of 1 MB: $good/50 right after $secs s"
	sort "$work/par.out" "$work/par.err" | uniq -c | head -10 | indent
fi

# 3. wrk: keep-alive load from 50 connections
nsx timeout --foreground 30 wrk -t2 -c50 -d10s http://198.18.0.2/1K >"$work/wrk.out" 2>&1
rc=$?
rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.out")
reqs=$(awk '/requests in/ { print $1 }' "$work/wrk.out")
if [ $rc -eq 0 ] && [ -n "$rps" ] && [ "${reqs:-0}" -gt 0 ] &&
	! grep -q 'Socket errors' "$work/wrk.out" && ! grep -q 'Non-2xx or 3xx responses' "$work/wrk.out"; then
	ok "wrk -t2 -c50 -d10s /1K: $reqs requests, $rps requests/s, no socket errors, all 2xx"
else
	bad "wrk -t2 -c50 -d10s /1K (exit $rc): socket errors or non-2xx responses"
	indent "$work/wrk.out"
fi
stop_server httpd "$httpd"

# ---- 4. http_get on the stack <- python3 -m http.server on the kernel side ----
ip netns exec "$ns" timeout --foreground 60 /usr/bin/python3 -m http.server 8000 --bind 198.18.0.1 --directory "$work/www" \
	>/dev/null 2>"$work/pyhttp.log" &
pyhttp=$!
pids+=("$pyhttp")
if wait_port 198.18.0.1 8000; then
	t0=$(now)
	nsx timeout --foreground 60 "$ex/http_get" "${stack[@]}" -o "$work/got.100M" http://198.18.0.1:8000/100M \
		2>"$work/http_get.log"
	rc=$?
	secs=$(since "$t0")
	if [ $rc -eq 0 ] && [ "$(sha "$work/got.100M")" = "$(sha "$work/www/100M")" ]; then
		ok "http_get 100M from python3 http.server: $(grep -o '[0-9]* bytes in .*' "$work/http_get.log"), sha256 equal ($secs s with the stack's start)"
	else
		bad "http_get 100M from python3 http.server: exit $rc after $secs s, $(stat -c %s "$work/got.100M" 2>/dev/null) bytes"
		grep '^http_get' "$work/http_get.log" | indent
		counters "$work/http_get.log"
	fi
	rm -f "$work/got.100M"
else
	bad "python3 -m http.server does not listen on 198.18.0.1:8000"
	indent "$work/pyhttp.log"
fi
stop "$pyhttp"

# ---- 5. nc <-> echo_server ----
start echo_server echo_server --port 7 --seconds 60
echo_pid=$spid
if wait_port 198.18.0.2 7; then
	line="hello from the kernel side $$"
	got=$(echo "$line" | nsx timeout --foreground 10 nc -N -w 5 198.18.0.2 7)
	if [ "$got" = "$line" ]; then
		ok "nc -> echo_server: the line came back"
	else
		bad "nc -> echo_server: sent \"$line\", got \"$got\""
	fi
else
	bad "echo_server does not take connections on port 7"
fi
stop_server echo_server "$echo_pid"

# ---- 6. the kernel resets a connection mid-transfer ----
# rst_server.py MODE PORT: accept one connection on 198.18.0.1:PORT; MODE "read": read 1 MB of what
# the stack sends; MODE "write": read a request and send an HTTP head promising 100 MB, and 1 MB of
# it. Then close with SO_LINGER {1, 0}: a reset.
cat >"$work/rst_server.py" <<'EOF'
import socket, struct, sys
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", port))
s.listen(1)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(20)
n = 0
if mode == "read":
    while n < 1 << 20:
        b = c.recv(65536)
        if not b:
            sys.exit("rst_server: the stack closed after %d bytes" % n)
        n += len(b)
else:
    c.recv(65536)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n" + bytes(1 << 20))
    n = 1 << 20
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
print("rst_server: reset after %d bytes" % n)
EOF
# 6a. the stack sends (bulk): its send fails with ECONNRESET
ip netns exec "$ns" timeout --foreground 30 /usr/bin/python3 "$work/rst_server.py" read 5006 >"$work/rst_a.out" 2>&1 &
rst=$!
pids+=("$rst")
sleep 0.5
nsx timeout --foreground 40 "$ex/bulk" "${stack[@]}" --connect 198.18.0.1:5006 --bytes 1G --timeout 20 \
	>"$work/bulk_rst.out" 2>"$work/bulk_rst.log"
rc=$?
stop "$rst"
msg=$(grep '^bulk: send' "$work/bulk_rst.log")
if [ $rc -eq 1 ] && [[ $msg == *"Connection reset by peer"* ]]; then
	ok "kernel RST while bulk sends: \"$msg\""
else
	bad "kernel RST while bulk sends: expected exit 1 and ECONNRESET (Connection reset by peer), got exit $rc"
	cat "$work/rst_a.out" | indent
	grep '^bulk' "$work/bulk_rst.log" | indent
	counters "$work/bulk_rst.log"
fi
# 6b. the stack receives (http_get): its recv fails with ECONNRESET
ip netns exec "$ns" timeout --foreground 30 /usr/bin/python3 "$work/rst_server.py" write 5016 >"$work/rst_b.out" 2>&1 &
rst=$!
pids+=("$rst")
sleep 0.5
nsx timeout --foreground 40 "$ex/http_get" "${stack[@]}" --timeout 20 -o /dev/null http://198.18.0.1:5016/ \
	2>"$work/http_rst.log"
rc=$?
stop "$rst"
msg=$(grep '^http_get: recv' "$work/http_rst.log")
if [ $rc -eq 1 ] && [[ $msg == *"Connection reset by peer"* ]]; then
	ok "kernel RST while http_get receives: \"$msg\""
else
	bad "kernel RST while http_get receives: expected exit 1 and ECONNRESET (Connection reset by peer), got exit $rc"
	cat "$work/rst_b.out" | indent
	grep '^http_get' "$work/http_rst.log" | indent
	counters "$work/http_rst.log"
fi

# ---- 7. a connect to a closed kernel port: ECONNREFUSED ----
nsx timeout --foreground 30 "$ex/http_get" "${stack[@]}" --timeout 10 -o /dev/null http://198.18.0.1:9/ \
	2>"$work/refused.log"
rc=$?
msg=$(grep '^http_get: connect' "$work/refused.log")
if [ $rc -eq 1 ] && [[ $msg == *"Connection refused"* ]]; then
	ok "http_get to closed port 9: \"$msg\""
else
	bad "http_get to closed port 9: expected exit 1 and ECONNREFUSED (Connection refused), got exit $rc"
	grep '^http_get' "$work/refused.log" | indent
	counters "$work/refused.log"
fi

# ---- 9. nc -u <-> udp_echo ----
start udp_echo udp_echo --port 7 --seconds 60
udp_pid=$spid
for _ in $(seq 1 50); do nsx ping -c 1 -W 1 198.18.0.2 >/dev/null 2>&1 && break; sleep 0.1; done
for size in 100 1472 8000; do
	head -c "$size" /dev/urandom >"$work/udp.$size"
	nsx timeout --foreground 5 nc -u -w 2 198.18.0.2 7 <"$work/udp.$size" >"$work/udp.$size.got" 2>/dev/null
	if cmp -s "$work/udp.$size" "$work/udp.$size.got"; then
		ok "nc -u -> udp_echo: $size bytes echoed byte-exact"
	else
		bad "nc -u -> udp_echo: $size bytes sent, $(stat -c %s "$work/udp.$size.got") bytes back"
	fi
done
stop_server udp_echo "$udp_pid"

# ---- 10. inetd: echo, discard, chargen over TCP ----
if [ ! -x "$ex/inetd" ]; then
	bad "examples/inetd is not built"
else
	chargen_bytes=1000000
	start inetd inetd --chargen-bytes "$chargen_bytes" --seconds 60
	inetd_pid=$spid
	if wait_port 198.18.0.2 7 && wait_port 198.18.0.2 9 && wait_port 198.18.0.2 19; then
		head -c 1048576 /dev/urandom >"$work/inetd.in"
		nsx timeout --foreground 20 nc -N -w 10 198.18.0.2 7 <"$work/inetd.in" >"$work/inetd.echo"
		if cmp -s "$work/inetd.in" "$work/inetd.echo"; then
			ok "inetd echo: 1 MB came back byte-exact"
		else
			bad "inetd echo: 1048576 bytes sent, $(stat -c %s "$work/inetd.echo") back, or different"
		fi
		nsx timeout --foreground 20 nc -N -w 10 198.18.0.2 9 <"$work/inetd.in" >"$work/inetd.discard"
		rc=$?
		got=$(stat -c %s "$work/inetd.discard")
		if [ "$rc" -eq 0 ] && [ "$got" -eq 0 ]; then
			ok "inetd discard: 1 MB sent, nothing back, closed"
		else
			bad "inetd discard: nc exit $rc, $got bytes back"
		fi
		got=$(nsx timeout --foreground 20 nc -d -w 10 198.18.0.2 19 </dev/null | wc -c)
		if [ "$got" -eq "$chargen_bytes" ]; then
			ok "inetd chargen --chargen-bytes $chargen_bytes: exactly $got bytes"
		else
			bad "inetd chargen --chargen-bytes $chargen_bytes: $got bytes"
		fi
	else
		bad "inetd does not take connections on ports 7, 9 and 19"
		tail -5 "$work/inetd.log" | indent
	fi
	stop_server inetd "$inetd_pid"
fi

# ---- 8. the kernel side vanishes mid-transfer: ETIMEDOUT (last: it takes tap0 down) ----
ip netns exec "$ns" timeout --foreground 60 nc -l 198.18.0.1 5008 >/dev/null 2>&1 &
sink=$!
pids+=("$sink")
sleep 0.5
start bulk_vanish bulk --connect 198.18.0.1:5008 --bytes 1000G --timeout 60 --tcp-retries 5 --rto-max-ms 1000
bulk_pid=$spid
for _ in $(seq 1 50); do grep -q 'connected to' "$work/bulk_vanish.log" && break; sleep 0.1; done
sleep 1
nsx ip link set tap0 down
t0=$(now)
for _ in $(seq 1 400); do kill -0 "$bulk_pid" 2>/dev/null || break; sleep 0.1; done
secs=$(since "$t0")
stop "$bulk_pid"
rc=$?
stop "$sink"
msg=$(grep '^bulk: send' "$work/bulk_vanish.log")
sent=$(grep -o 'bytes=[0-9]*' "$work/bulk_vanish.out" | tail -1)
if [ $rc -eq 1 ] && [[ $msg == *"Connection timed out"* ]] &&
	grep -q 'TCPAbortOnTimeout=1' "$work/bulk_vanish.log"; then
	ok "tap0 down under bulk: \"$msg\" $secs s after, TCPAbortOnTimeout=1, $(grep -o 'TCPTimeouts=[0-9]*' "$work/bulk_vanish.log") ($sent before)"
else
	bad "tap0 down under bulk: expected exit 1, ETIMEDOUT (Connection timed out) and TCPAbortOnTimeout=1 within seconds; got exit $rc after $secs s"
	grep '^bulk' "$work/bulk_vanish.log" "$work/bulk_vanish.out" | indent
	counters "$work/bulk_vanish.log"
fi

live_finish
