#!/usr/bin/python3
"""Generate the input pcaps for the link- and network-layer replay tests (tests/pcap/test_pcap_ipv4.py).

Every case is what a peer at 198.18.0.1 (MAC 02:00:00:00:00:01) sends to the stack at 198.18.0.2
(MAC 02:00:00:00:00:02). Timestamps and payloads are fixed, so the files are the same on every run.

    /usr/bin/python3 pcaps/ipv4/gen.py [OUTDIR]      (default: the directory of this script)
"""
import os
import sys

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, fragment, wrpcap  # noqa: F401

PEER_MAC, ST_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
PEER_IP, ST_IP = "198.18.0.1", "198.18.0.2"
BASE_TIME = 1700000000.0

# one line each: what the case checks (the test prints it)
CASES = {}


def case(name, what):
    def register(fn):
        CASES[name] = (what, fn)
        return fn
    return register


def eth():
    return Ether(src=PEER_MAC, dst=ST_MAC)


def payload(n):
    return bytes((i * 7 + 3) & 0xff for i in range(n))


@case("arp_request", "RFC 826: a request for our address gets a reply")
def _():
    return [Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") /
            ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst="00:00:00:00:00:00", pdst=ST_IP)]


@case("arp_other", "RFC 826: a request for another host's address gets nothing")
def _():
    return [Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") /
            ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst="00:00:00:00:00:00", pdst="198.18.0.77")]


@case("echo", "RFC 792: an echo request gets a reply with the same id, seq and data")
def _():
    return [eth() / IP(src=PEER_IP, dst=ST_IP, id=1) / ICMP(type=8, id=0x1234, seq=1) / Raw(payload(56))]


@case("frag3_ooo", "RFC 791 §3.2: an echo request in 3 fragments, out of order, gets one reply")
def _():
    pkt = IP(src=PEER_IP, dst=ST_IP, id=0x4242) / ICMP(type=8, id=0x1234, seq=2) / Raw(payload(3000))
    frags = fragment(pkt, fragsize=1480)
    assert len(frags) == 3
    return [eth() / f for f in (frags[2], frags[0], frags[1])]


@case("frag_overlap", "RFC 791, RFC 5722: overlapping fragments are discarded, no reply")
def _():
    pkt = IP(src=PEER_IP, dst=ST_IP, id=0x4343, flags="MF") / ICMP(type=8, id=0x1234, seq=3) / Raw(payload(2000))
    raw = bytes(pkt[ICMP])
    first = IP(src=PEER_IP, dst=ST_IP, id=0x4343, flags="MF", frag=0, proto=1) / Raw(raw[:1480])
    # starts at 1000 bytes, inside the first fragment's 0..1480
    second = IP(src=PEER_IP, dst=ST_IP, id=0x4343, flags=0, frag=1000 // 8, proto=1) / Raw(raw[1000:])
    return [eth() / first, eth() / second]


@case("bad_ip_csum", "RFC 1122 §3.2.1.2: a bad header checksum is silently discarded")
def _():
    return [eth() / IP(src=PEER_IP, dst=ST_IP, id=5, chksum=0x1234) / ICMP(type=8, id=1, seq=1) / Raw(payload(16))]


@case("bad_ihl", "RFC 791: a header length below 5 words is discarded")
def _():
    p = eth() / IP(src=PEER_IP, dst=ST_IP, id=6) / ICMP(type=8, id=1, seq=1) / Raw(payload(16))
    raw = bytearray(bytes(p))
    raw[14] = 0x44  # version 4, IHL 4
    return [Ether(bytes(raw))]


@case("bad_tot_len", "RFC 791: a total length beyond the frame is discarded")
def _():
    return [eth() / IP(src=PEER_IP, dst=ST_IP, id=7, len=200) / ICMP(type=8, id=1, seq=1) / Raw(payload(16))]


@case("truncated_hdr", "RFC 791: a frame too short for an IP header is discarded")
def _():
    p = eth() / IP(src=PEER_IP, dst=ST_IP, id=8) / ICMP(type=8, id=1, seq=1)
    return [Ether(bytes(p)[:14 + 10])]


@case("udp_closed", "RFC 1122 §4.1.3.1, RFC 792: UDP to a closed port gets port unreachable quoting header + 8 bytes")
def _():
    return [eth() / IP(src=PEER_IP, dst=ST_IP, id=9) / UDP(sport=40000, dport=9999) / Raw(payload(32))]


@case("udp_echo", "RFC 768: a datagram to a listening port is delivered (and echoed by the test's listener)")
def _():
    return [eth() / IP(src=PEER_IP, dst=ST_IP, id=10) / UDP(sport=40001, dport=7) / Raw(payload(100))]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for name, (_, fn) in CASES.items():
        pkts = fn()
        for i, p in enumerate(pkts):
            p.time = BASE_TIME + 0.001 * i
        wrpcap(os.path.join(out, name + ".pcap"), pkts)


if __name__ == "__main__":
    main()
