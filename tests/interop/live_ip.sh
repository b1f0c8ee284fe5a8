#!/usr/bin/env bash
# Live IPv4 tests against the Linux kernel through TAP, in a network namespace of their own.
#   1. kernel `ping -c 20 -i 0.2` to the stack: 0 % loss
#   2. kernel `ping -s 4000` (fragmented both ways): 0 % loss
#   3. examples/ping from the stack to the kernel side: replies
#   4. kernel `nc -u` <-> examples/udp_echo: datagrams echoed byte-exact, one of 8,000 bytes
# Usage: live_ip.sh BUILD_DIR. Exits 77 (skipped) when not root. Prints "N passed, N failed".
set -u
build=$(cd "$1" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: live tests need root for a network namespace"
	exit 77
fi
for tool in ip ping nc /usr/bin/python3; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/setup.sh installs it)"; exit 1; }
done

ns="ustack-live-$$"
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

passed=0
failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
nsx() { ip netns exec "$ns" "$@"; }

ip netns add "$ns" || { echo "FAIL: cannot create namespace"; exit 1; }
nsx ip link set lo up
# the stack: udp_echo on port 7 at 198.18.0.2, bounded in time
ip netns exec "$ns" "$build/examples/udp_echo" --tap ust0 --addr 198.18.0.2/24 --mac 02:00:c6:12:00:02 \
	--port 7 --seconds 60 2>"$work/echo.log" &
pids+=($!)
for _ in $(seq 1 50); do nsx ip link show ust0 >/dev/null 2>&1 && break; sleep 0.1; done
nsx ip addr add 198.18.0.1/24 dev ust0
nsx ip link set ust0 up
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
nsx ip tuntap add dev ust1 mode tap 2>/dev/null
nsx ip addr add 198.18.1.1/24 dev ust1
nsx ip link set ust1 up
out=$(nsx "$build/examples/ping" --tap ust1 --addr 198.18.1.2/24 -c 3 -i 0.2 198.18.1.1 2>&1)
if [[ $out == *"3 received"* ]]; then ok "examples/ping -> kernel: 3 replies"; else bad "examples/ping: $out"; fi

kill "${pids[0]}" 2>/dev/null
wait "${pids[0]}" 2>/dev/null
rc=$?
pids=()
# exit status 0: no skb leaked, and no sanitizer report (they end the process with an error)
if [ "$rc" -eq 0 ] && grep -q "^Udp: InDatagrams=[1-9]" "$work/echo.log"; then ok "udp_echo: clean teardown, no skb leaked"; else bad "udp_echo teardown (exit $rc): $(tail -5 "$work/echo.log")"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
