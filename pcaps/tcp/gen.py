#!/usr/bin/python3
"""Generate TCP input pcaps: the fuzzer's seeds today (tests/fuzz/make_corpus.py), the TCP replay
tests' inputs to come. A peer at 198.18.0.1 talks to the stack's listener on 198.18.0.2:80.

    /usr/bin/python3 pcaps/tcp/gen.py [OUTDIR]      (default: the directory of this script)
"""
import os
import sys

from scapy.all import IP, TCP, Ether, Raw, wrpcap

PEER_MAC, ST_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
PEER_IP, ST_IP = "198.18.0.1", "198.18.0.2"
BASE_TIME = 1700000000.0
LINUX_SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]


def seg(flags, seq, ack=0, data=b"", sport=40000, dport=80, opts=None, win=64240):
    pkt = Ether(src=PEER_MAC, dst=ST_MAC) / IP(src=PEER_IP, dst=ST_IP) / \
        TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=win, options=opts or [])
    return pkt / Raw(data) if data else pkt


CASES = {
    # a SYN with Linux's options, then (blindly) the rest of a short exchange
    "syn_linux_opts": [seg("S", 1000, opts=LINUX_SYN_OPTS)],
    "syn_no_opts": [seg("S", 2000)],
    "exchange": [seg("S", 3000, opts=LINUX_SYN_OPTS), seg("A", 3001, 1), seg("PA", 3001, 1, b"GET / HTTP/1.0\r\n\r\n"),
                 seg("FA", 3019, 1)],
    # acknowledgment numbers count from the stack's ISN (replayed with --isn-relative): a passive
    # open, 14 bytes of data, and the peer's FIN
    "rel_exchange": [seg("S", 3000, opts=[("MSS", 1460)]), seg("A", 3001, 1), seg("PA", 3001, 1, b"hello, ustack\n"),
                     seg("FA", 3015, 1)],
    "syn_closed_port": [seg("S", 4000, dport=81)],
    "ack_closed_port": [seg("A", 5000, 12345, dport=81)],
    "rst_closed_port": [seg("R", 6000, dport=81)],
    "syn_fin": [seg("SF", 7000)],
    "syn_rst": [seg("SR", 8000)],
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for name, pkts in CASES.items():
        for i, p in enumerate(pkts):
            p.time = BASE_TIME + 0.001 * i
        wrpcap(os.path.join(out, name + ".pcap"), pkts)


if __name__ == "__main__":
    main()
