#!/usr/bin/python3
"""The replay tool's own test cases (tests/pcap/selftest/run_selftest.py runs them).

Each case NAME has NAME.in.pcap (what the peer sends), NAME.expect.pcap (what the stack must send,
written from the RFCs) and NAME.args (the tool's extra flags), as the corpus under pcaps/ has. Cases
whose name starts with "fail_" are wrong on purpose: the tool must reject them with the diff line
given in FAIL_LINES, which proves that the comparison sees the difference and names it.

    /usr/bin/python3 tests/pcap/selftest/gen.py OUTDIR
"""
import os
import sys

from scapy.all import ARP, ICMP, IP, TCP, Ether, Raw, wrpcap

PEER_MAC, ST_MAC, BCAST = "02:00:00:00:00:01", "02:00:00:00:00:02", "ff:ff:ff:ff:ff:ff"
PEER_IP, ST_IP = "198.18.0.1", "198.18.0.2"
NEIGH = "--neigh %s=%s" % (PEER_IP, PEER_MAC)
T0 = 1700000000.0

CASES = {}
# the line each fail_ case must produce on stderr
FAIL_LINES = {}


def case(name, args="", fail_line=None):
    def register(fn):
        CASES[name] = (fn, args)
        if fail_line:
            FAIL_LINES[name] = fail_line
        return fn
    return register


def at(t, pkt):
    pkt.time = T0 + t
    return pkt


def announcement():
    # RFC 5227 §3: the stack announces its address when it is configured
    return Ether(src=ST_MAC, dst=BCAST) / ARP(op=1, hwsrc=ST_MAC, psrc=ST_IP, hwdst="00:00:00:00:00:00", pdst=ST_IP)


def arp_request():
    return Ether(src=PEER_MAC, dst=BCAST) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst="00:00:00:00:00:00",
                                                 pdst=ST_IP)


def arp_reply():
    # RFC 826: swap, our address as sender, opcode reply, to the requester
    return Ether(src=ST_MAC, dst=PEER_MAC) / ARP(op=2, hwsrc=ST_MAC, psrc=ST_IP, hwdst=PEER_MAC, pdst=PEER_IP)


@case("arp_request")
def _():
    return [at(0, arp_request())], [at(0, arp_reply())]


@case("arp_request_announced")
def _():
    # an expected capture may also start with the announcement, at the first input frame's time
    return [at(0, arp_request())], [at(0, announcement()), at(0, arp_reply())]


@case("fail_arp_wrong_sender", fail_line="frame 1 (t=0.000s): arp.psrc: expected 198.18.0.3, got 198.18.0.2")
def _():
    exp = arp_reply()
    exp[ARP].psrc = "198.18.0.3"
    return [at(0, arp_request())], [at(0, exp)]


def ping_payload():
    return bytes(range(56))


@case("ping", NEIGH + " --ignore ip.id")
def _():
    req = Ether(src=PEER_MAC, dst=ST_MAC) / IP(src=PEER_IP, dst=ST_IP, id=1) / ICMP(type=8, id=0x1234, seq=1) / \
        Raw(ping_payload())
    # RFC 792: addresses swapped, type 0, identifier, sequence number and data returned
    rep = Ether(src=ST_MAC, dst=PEER_MAC) / IP(src=ST_IP, dst=PEER_IP, id=0, ttl=64) / \
        ICMP(type=0, id=0x1234, seq=1) / Raw(ping_payload())
    return [at(0, req)], [at(0, rep)]


@case("fail_ping_late", NEIGH + " --ignore ip.id", fail_line="frame 1 (t=0.000s): time: expected 0.002000s, got 0.000000s")
def _():
    req, rep = CASES["ping"][0]()
    rep[0].time = T0 + 0.002
    return req, rep


@case("fail_ping_missing", NEIGH + " --ignore ip.id",
      fail_line="frame 2: missing (expected ICMP 198.18.0.2 > 198.18.0.1 echo-reply id 0x1234 seq 1 len 56)")
def _():
    req, rep = CASES["ping"][0]()
    return req, rep + [at(0.001, rep[0].copy())]


@case("fail_ping_extra", NEIGH + " --ignore ip.id",
      fail_line="frame 1 (t=0.000s): extra (got ICMP 198.18.0.2 > 198.18.0.1 echo-reply id 0x1234 seq 1 len 56)")
def _():
    req, _ = CASES["ping"][0]()
    return req, []


@case("fail_ping_payload", NEIGH + " --ignore ip.id",
      fail_line="frame 1 (t=0.000s): payload: expected 56 bytes, got 56, first difference at byte 3: "
                "expected 0xff, got 0x03")
def _():
    req, rep = CASES["ping"][0]()
    data = bytearray(ping_payload())
    data[3] = 0xff
    rep[0][Raw].load = bytes(data)
    return req, rep


# A passive open with Linux's SYN options, 6 bytes of data and the peer's FIN, on a discard listener.
# The peer's ACK numbers and TS echoes count from the stack's side (relative numbers).
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (5000, 0)), ("NOP", None), ("WScale", 7)]


def peer(flags, seq, ack=0, data=b"", tsval=5000, tsecr=0):
    pkt = Ether(src=PEER_MAC, dst=ST_MAC) / IP(src=PEER_IP, dst=ST_IP, id=100) / \
        TCP(sport=40000, dport=80, flags=flags, seq=seq, ack=ack, window=502,
            options=[("NOP", None), ("NOP", None), ("Timestamp", (tsval, tsecr))])
    return pkt / Raw(data) if data else pkt


def stack(flags, seq, ack, tsval, tsecr, opts=None, window=2048):
    return Ether(src=ST_MAC, dst=PEER_MAC) / IP(src=ST_IP, dst=PEER_IP, flags="DF", ttl=64) / \
        TCP(sport=80, dport=40000, flags=flags, seq=seq, ack=ack, window=window,
            options=opts or [("NOP", None), ("NOP", None), ("Timestamp", (tsval, tsecr))])


def tcp_passive():
    syn = Ether(src=PEER_MAC, dst=ST_MAC) / IP(src=PEER_IP, dst=ST_IP, id=99) / \
        TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240, options=SYN_OPTS)
    inp = [at(0, syn), at(0.001, peer("A", 1001, 1, tsval=5001, tsecr=0)),
           at(0.002, peer("PA", 1001, 1, b"hello\n", tsval=5002, tsecr=0)),
           at(0.100, peer("FA", 1007, 1, tsval=5100, tsecr=2)),
           at(0.101, peer("A", 1008, 2, tsval=5101, tsecr=100))]
    # RFC 9293 §3.5 SYN-ACK, our options (RFC 7323: TSecr echoes the SYN's TSval; a SYN's window is
    # not scaled; RFC 2018 SACK-permitted); window 65535, scale 3 for the 256 KiB buffer
    synack = stack("SA", 0, 1001, 0, 5000, window=65535,
                   opts=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0, 5000)), ("NOP", None), ("WScale", 3)])
    exp = [at(0, synack),
           # the data is acknowledged at once (RFC 1122 §4.2.3.2 allows the delay, it does not ask
           # for it); TSval counts milliseconds from the SYN-ACK; 32768 << 3 is the 256 KiB buffer
           at(0.002, stack("A", 1, 1007, 2, 5002, window=32768)),
           # the FIN is acknowledged at once (§3.10.7.4 eighth step), then the application, having
           # read the end, closes: our FIN (§3.6, CLOSE-WAIT to LAST-ACK), which the peer ACKs
           at(0.100, stack("A", 1, 1008, 100, 5100, window=32768)),
           at(0.100, stack("FA", 1, 1008, 100, 5100, window=32768))]
    return inp, exp


@case("tcp_passive", NEIGH + " --listen 80 --ignore ip.id")
def _():
    return tcp_passive()


@case("fail_tcp_ack", NEIGH + " --listen 80 --ignore ip.id",
      fail_line="frame 3 (t=0.100s): tcp.ack: expected 1009, got 1008")
def _():
    inp, exp = tcp_passive()
    exp[2][TCP].ack = 1009
    return inp, exp


def tcp_active():
    """--connect 198.18.0.1:7000,send=5,lport=50000: the stack speaks first, so t=0 is its SYN."""
    def p2s(flags, seq, ack, tsval, tsecr, opts=None):
        return Ether(src=PEER_MAC, dst=ST_MAC) / IP(src=PEER_IP, dst=ST_IP, id=7) / \
            TCP(sport=7000, dport=50000, flags=flags, seq=seq, ack=ack, window=1000,
                options=opts or [("NOP", None), ("NOP", None), ("Timestamp", (tsval, tsecr))])

    def s2p(flags, seq, ack, tsval, tsecr, opts=None, data=b""):
        pkt = Ether(src=ST_MAC, dst=PEER_MAC) / IP(src=ST_IP, dst=PEER_IP, flags="DF", ttl=64) / \
            TCP(sport=50000, dport=7000, flags=flags, seq=seq, ack=ack, window=65535,
                options=opts or [("NOP", None), ("NOP", None), ("Timestamp", (tsval, tsecr))])
        return pkt / Raw(data) if data else pkt
    # the peer's SYN-ACK acknowledges our SYN: ack 1 and TS echo 0 count from the stack's side
    inp = [at(0.001, p2s("SA", 7000, 1, 900, 0, [("MSS", 1460), ("NOP", None), ("NOP", None),
                                                  ("Timestamp", (900, 0))])),
           at(0.002, p2s("A", 7001, 6, 901, 1))]
    # RFC 9293 §3.5: SYN (seq 0 relative) with our options; the peer sent no window scale, so
    # none is in effect (RFC 7323 §2.2) and the window field is unscaled; TSval counts ms from the SYN
    exp = [at(0, s2p("S", 0, 0, 0, 0, [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0, 0)), ("NOP", None),
                                       ("WScale", 7)])),
           at(0.001, s2p("A", 1, 7001, 1, 900)),
           at(0.001, s2p("PA", 1, 7001, 1, 900, data=bytes(range(5))))]
    return inp, exp


@case("tcp_active", NEIGH + " --connect 198.18.0.1:7000,send=5,lport=50000 --ignore ip.id")
def _():
    return tcp_active()


@case("fail_tcp_active_tsval", NEIGH + " --connect 198.18.0.1:7000,send=5,lport=50000 --ignore ip.id",
      fail_line="frame 3 (t=0.001s): tcp.tsval: expected 2, got 1")
def _():
    inp, exp = tcp_active()
    exp[2][TCP].options = [("NOP", None), ("NOP", None), ("Timestamp", (2, 900))]
    return inp, exp


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (fn, args) in CASES.items():
        inp, exp = fn()
        wrpcap(os.path.join(out, name + ".in.pcap"), inp, linktype=1)
        wrpcap(os.path.join(out, name + ".expect.pcap"), exp, linktype=1)
        with open(os.path.join(out, name + ".args"), "w") as f:
            f.write(args + "\n")


if __name__ == "__main__":
    main()
