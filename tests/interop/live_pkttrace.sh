#!/usr/bin/env bash
# The packet trace on a live link: examples/httpd --pkttrace on a TAP device in a network namespace
# of its own, the kernel side pinging it and fetching pages with curl (one of them fragmented by a
# 4,000-byte ping), while tcpdump -nn -S watches the same device from the kernel side. Checks:
#   1. every frame tcpdump saw is one the trace printed, with the same text (the HTTP tcpdump adds
#      after ", length N" aside), and as many of each
#   2. the trace's TCP state lines: each connection of the server went LISTEN's child
#      CLOSED -> SYN-RECEIVED -> ESTABLISHED and on to CLOSED, each with its reason
# Leaves the trace in BUILD_DIR/tests/live_pkttrace.log (docs/packet-trace.md shows one).
# Usage: live_pkttrace.sh BUILD_DIR. Exits 77 (skipped) when not root. Prints "N passed, N failed".
set -u
build=$(cd "$1" && pwd)
# shellcheck source=tests/interop/live_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/live_lib.sh"
live_need_root
live_need_tools ip ping curl tcpdump /usr/bin/python3
live_init pkttrace
log="$build/tests/live_pkttrace.log"

live_netns_add
ip netns exec "$ns" "$build/examples/httpd" --tap ust0 --addr 198.18.0.2/24 --mac 02:00:c6:12:00:02 --port 80 \
	--seconds 8 --pkttrace 2>"$work/trace.log" >/dev/null &
httpd=$!
pids+=($httpd)
live_tap_wait ust0
# IPv4 only on the link: the kernel's IPv6 chatter would be traced, but not decoded
nsx sysctl -qw net.ipv6.conf.ust0.disable_ipv6=1
live_tap_up ust0 198.18.0.1/24
ip netns exec "$ns" tcpdump -nn -S -t -l -U -i ust0 -w "$work/kernel.pcap" 2>/dev/null &
pids+=($!)
sleep 0.5

nsx ping -n -c 2 -i 0.2 -W 2 198.18.0.2 >/dev/null 2>&1 || bad "ping"
nsx ping -n -c 1 -s 4000 -W 2 198.18.0.2 >/dev/null 2>&1 || bad "ping -s 4000"
for path in / /bytes/3000; do
	nsx curl -sS --max-time 5 -o /dev/null "http://198.18.0.2$path" || bad "curl $path"
done
# a port nobody listens on: a reset
nsx curl -sS --max-time 2 -o /dev/null http://198.18.0.2:81/ 2>/dev/null
sleep 0.5
kill "${pids[1]}" 2>/dev/null
wait "${pids[1]}" 2>/dev/null
wait "$httpd" 2>/dev/null
cp "$work/trace.log" "$log"

tcpdump -nn -S -t -r "$work/kernel.pcap" 2>/dev/null >"$work/kernel.txt"
/usr/bin/python3 - "$work/kernel.txt" "$work/trace.log" >"$work/check.txt" 2>&1 <<'EOF'
import collections, re, sys
kernel = [l.rstrip() for l in open(sys.argv[1]) if l.strip() and not l.startswith('\t')]
frames, states = [], []
for l in open(sys.argv[2]):
    m = re.match(r'\d+\.\d{6} (In |Out) ust0 (.*)$', l.rstrip('\n'))
    if m:
        frames.append(m.group(2))
    elif re.match(r'\d+\.\d{6} TCP ', l):
        states.append(l.split(' ', 1)[1].rstrip())
# tcpdump decodes HTTP after the TCP part of a segment to or from port 80
kernel = [re.sub(r'(, length \d+): HTTP.*$', r'\1', k) for k in kernel]
# the gratuitous ARP of us_addr_add goes out before the kernel brings the link up and tcpdump starts
frames = [f for f in frames if f != 'ARP, Request who-has 198.18.0.2 tell 198.18.0.2, length 28']
kc, tc = collections.Counter(kernel), collections.Counter(frames)
missing, extra = kc - tc, tc - kc
print('tcpdump: %d frames, trace: %d frames, %d state lines' % (len(kernel), len(frames), len(states)))
for k in list(missing)[:10]:
    print('  only tcpdump: %r' % k)
for k in list(extra)[:10]:
    print('  only trace:   %r' % k)
ok1 = not missing and not extra and len(kernel) > 20
print('RESULT1', 'ok' if ok1 else 'bad')
conns = collections.defaultdict(list)
for s in states:
    m = re.match(r'TCP (\S+) > (\S+) (\S+) -> (\S+) \((.*)\)$', s)
    conns[(m.group(1), m.group(2))].append((m.group(3), m.group(4), m.group(5)))
want_head = [('CLOSED', 'SYN-RECEIVED', 'rcv SYN'), ('SYN-RECEIVED', 'ESTABLISHED', 'rcv ACK of SYN')]
served = [c for c in conns if c[0] == '198.18.0.2:80']
good = [c for c in served if conns[c][:2] == want_head and conns[c][-1][1] == 'CLOSED']
print('connections served: %d, each SYN-RECEIVED -> ESTABLISHED -> ... -> CLOSED: %d' % (len(served), len(good)))
for c in served:
    print('  %s: %s' % (c[1], ', '.join('%s (%s)' % (b, r) for a, b, r in conns[c])))
print('RESULT2', 'ok' if served and len(good) == len(served) and len(served) == 2 else 'bad')
EOF
cat "$work/check.txt"
grep -q "RESULT1 ok" "$work/check.txt" && ok "every frame tcpdump saw, traced with tcpdump's text" || bad "trace and tcpdump differ"
grep -q "RESULT2 ok" "$work/check.txt" && ok "state lines of both connections" || bad "state lines"
live_finish
