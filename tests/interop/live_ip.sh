#!/usr/bin/env bash
# Live IPv4 tests against the Linux kernel through TAP, in a network namespace of their own.
#   1. kernel `ping -c 20 -i 0.2` to the stack: 0 % loss
#   2. kernel `ping -s 4000` (fragmented both ways): 0 % loss
#   3. examples/ping from the stack to the kernel side: replies, each line and the summary in
#      iputils' format; through --gw to an address off the link; "+N errors" for one nobody answers
#   4. kernel `nc -u` <-> examples/udp_echo: datagrams echoed byte-exact, one of 8,000 bytes
#   5. udp_echo --pcap: the capture holds those datagrams both ways and tshark reads it without a
#      malformed packet
# Usage: live_ip.sh BUILD_DIR. Exits 77 (skipped) when not root. Prints "N passed, N failed".
set -u
build=$(cd "$1" && pwd)
# shellcheck source=tests/interop/live_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/live_lib.sh"
live_need_root
live_need_tools ip ping nc tshark /usr/bin/python3
live_init live

live_netns_add
# the stack: udp_echo on port 7 at 198.18.0.2, bounded in time
ip netns exec "$ns" "$build/examples/udp_echo" --tap ust0 --addr 198.18.0.2/24 --mac 02:00:c6:12:00:02 \
	--port 7 --seconds 60 --pcap "$work/echo.pcap" 2>"$work/echo.log" &
pids+=($!)
live_tap_wait ust0
live_tap_up ust0 198.18.0.1/24
sleep 0.3

# 1. ping the stack
out=$(nsx ping -n -c 20 -i 0.2 -W 2 198.18.0.2 2>&1)
if [[ $out == *" 0% packet loss"* ]]; then ok "kernel ping -c 20 -i 0.2: 0% loss"; else bad "kernel ping: $out"; fi

# 2. fragmented both ways
out=$(nsx ping -n -c 5 -i 0.2 -s 4000 -W 2 198.18.0.2 2>&1)
if [[ $out == *" 0% packet loss"* ]]; then ok "kernel ping -s 4000: 0% loss"; else bad "kernel ping -s 4000: $out"; fi

# 4. UDP echo with nc, byte-exact, including 8,000 bytes (fragmented both ways)
udp_check() {
	local size=$1
	head -c "$size" /dev/urandom >"$work/in.$size"
	nsx timeout 5 nc -u -w 2 198.18.0.2 7 <"$work/in.$size" >"$work/out.$size" 2>/dev/null
	if cmp -s "$work/in.$size" "$work/out.$size"; then
		ok "nc -u -> udp_echo: $size bytes echoed byte-exact"
	else
		bad "nc -u -> udp_echo: $size bytes: got $(stat -c %s "$work/out.$size") bytes back"
	fi
}
udp_check 100
udp_check 1472
udp_check 8000

# 3. the stack pings the kernel (a second stack instance on its own TAP device in the same namespace)
live_tap_add ust1 198.18.1.1/24
out=$(nsx "$build/examples/ping" --tap ust1 --addr 198.18.1.2/24 -c 3 -i 0.2 198.18.1.1 2>&1)
if [[ $out == *"3 received"* ]]; then ok "examples/ping -> kernel: 3 replies"; else bad "examples/ping: $out"; fi
# iputils' formats: "64 bytes from A: icmp_seq=N ttl=64 time=T ms" for each reply, then
# "N packets transmitted, N received, L% packet loss, time Tms" and "rtt min/avg/max/mdev = ... ms"
num='[0-9]+\.[0-9]{3}'
lines_ok=1
for seq in 1 2 3; do
	grep -Eq "^64 bytes from 198\.18\.1\.1: icmp_seq=$seq ttl=64 time=$num ms\$" <<<"$out" || lines_ok=0
done
if [ "$lines_ok" -eq 1 ]; then ok "examples/ping: reply lines 'icmp_seq=N ttl=64 time=T ms'"; else bad "examples/ping reply lines: $out"; fi
if grep -Eq "^3 packets transmitted, 3 received, 0% packet loss, time [0-9]+ms\$" <<<"$out" &&
	grep -Eq "^rtt min/avg/max/mdev = $num/$num/$num/$num ms\$" <<<"$out"; then
	ok "examples/ping: summary and rtt min/avg/max/mdev lines"
else
	bad "examples/ping summary: $out"
fi

# --gw: 198.19.0.1 is on the kernel side's lo, off the stack's link: reached through the default
# route via 198.18.1.1 (the kernel side of ust1), which answers for it
nsx ip addr add 198.19.0.1/32 dev lo
out=$(nsx "$build/examples/ping" --tap ust1 --addr 198.18.1.2/24 --gw 198.18.1.1 -c 3 -i 0.2 198.19.0.1 2>&1)
if [[ $out == *"3 received"* ]] && grep -Eq "^64 bytes from 198\.19\.0\.1: icmp_seq=3 ttl=64 time=$num ms\$" <<<"$out"; then
	ok "examples/ping --gw 198.18.1.1 -> 198.19.0.1: 3 replies"
else
	bad "examples/ping --gw: $out"
fi
out=$(nsx "$build/examples/ping" --tap ust1 --addr 198.18.1.2/24 -c 1 -W 1 198.19.0.1 2>&1)
if [[ $out == *"0 received"* ]]; then ok "examples/ping without --gw -> 198.19.0.1: no route, nothing received"; else bad "examples/ping without --gw: $out"; fi

# nobody at 198.18.1.9: ARP fails after three requests (~3 s) and each request is an error
out=$(nsx timeout 20 "$build/examples/ping" --tap ust1 --addr 198.18.1.2/24 -c 2 -i 0.2 -W 5 198.18.1.9 2>&1)
if grep -Eq "^2 packets transmitted, 0 received, \+2 errors, 100% packet loss, time [0-9]+ms\$" <<<"$out"; then
	ok "examples/ping to a silent address: '+2 errors' in the summary"
else
	bad "examples/ping to a silent address: $out"
fi

kill "${pids[0]}" 2>/dev/null
wait "${pids[0]}" 2>/dev/null
rc=$?
pids=()
# exit status 0: no skb leaked, and no sanitizer report (they end the process with an error)
if [ "$rc" -eq 0 ] && grep -q "^Udp: InDatagrams=[1-9]" "$work/echo.log"; then ok "udp_echo: clean teardown, no skb leaked"; else bad "udp_echo teardown (exit $rc): $(tail -5 "$work/echo.log")"; fi

# 5. the capture: each datagram to port 7 and its echo from port 7 (tshark reassembles the
# fragments: UDP lengths 8 + 100, 8 + 1472, 8 + 8000), and nothing tshark finds malformed
if [ -s "$work/echo.pcap" ]; then
	to=$(tshark -r "$work/echo.pcap" -Y "udp.dstport == 7" -T fields -e udp.length 2>"$work/tshark.err" | tr '\n' ' ')
	from=$(tshark -r "$work/echo.pcap" -Y "udp.srcport == 7" -T fields -e udp.length 2>>"$work/tshark.err" | tr '\n' ' ')
	malformed=$(tshark -r "$work/echo.pcap" -Y "_ws.malformed || _ws.expert.severity >= warning" 2>>"$work/tshark.err" | wc -l)
	# tshark's only other word should be its warning about running as root
	sed -i '/^Running as user "root"/d' "$work/tshark.err"
	if [ "$to" = "108 1480 8008 " ] && [ "$from" = "108 1480 8008 " ] && [ "$malformed" -eq 0 ] &&
		[ ! -s "$work/tshark.err" ]; then
		ok "udp_echo --pcap: the datagrams both ways (UDP lengths $to), nothing malformed"
	else
		bad "udp_echo --pcap: to port 7 [$to], from port 7 [$from], $malformed malformed or warned, tshark: $(head -3 "$work/tshark.err")"
	fi
else
	bad "udp_echo --pcap: no capture written"
fi

live_finish
