#!/usr/bin/python3
"""UDP replay cases (RFC 768, RFC 1122 §4.1): echo and discard sockets, closed ports, checksums, and
length fields that disagree with the IP payload.

A peer at 198.18.0.1 (02:00:00:00:00:01) and the stack at 198.18.0.2/24 (02:00:00:00:00:02); the peer's
MAC is given with --neigh. For every case NAME this writes NAME.in.pcap, NAME.expect.pcap (built here
from the RFCs), NAME.args, and CASES.md.

    /usr/bin/python3 pcaps/udp/gen.py [OUTDIR]      (default: the directory of this script)
"""
import os
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the committed corpus
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scapy.all import IP, UDP, Raw, fragment  # noqa: E402

from corpus import (drop, BCAST, IGN_ID, NEIGH, NET_BCAST, PEER_IP, ST_IP, Corpus, args, at, counters,  # noqa: E402
                    icmp_error_to, inet_csum, payload, peer_eth, peer_ip, st_eth, udp_reply, udp_to)

C = Corpus("udp", "UDP: echo and discard, closed ports, checksums, length fields that disagree with IP.")

ECHO = "--udp 7:echo"


def pseudo(src, dst, length):
    """RFC 768: the pseudo header of the checksum."""
    return bytes(IP(src=src, dst=dst))[12:20] + struct.pack("!BBH", 0, 17, length)


def udp_raw(sport, dport, data, length=None, csum=None):
    """A UDP header + data as bytes from the peer; the checksum over `length` bytes unless given."""
    if length is None:
        length = 8 + len(data)
    body = struct.pack("!HHHH", sport, dport, length, 0) + data
    if csum is None:
        csum = inet_csum(pseudo(PEER_IP, ST_IP, length) + body[:length]) or 0xffff
    return body[:6] + struct.pack("!H", csum) + body[8:]


def udp_frame(ident, raw):
    return peer_eth() / peer_ip(ident, proto=17) / Raw(raw)


@C.case("udp_echo",
        "RFC 768, RFC 862: a datagram to a bound port is delivered; the echo socket sends the data back, "
        "ports swapped",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Udp_OutDatagrams=1)))
def _():
    req = udp_to(10, 40001, 7, payload(100))
    return [at(0, req)], [at(0, udp_reply(req))]


@C.case("udp_closed_port",
        "RFC 1122 §4.1.3.1, RFC 792: a datagram to a port nobody listens on gets a port unreachable quoting "
        "its IP header and first 8 bytes (the UDP header)",
        args(NEIGH, IGN_ID, counters(Udp_NoPorts=1, Icmp_OutDestUnreachs=1), drop("Udp_NoPorts")))
def _():
    req = udp_to(9, 40000, 9999, payload(32))
    return [at(0, req)], [at(0, icmp_error_to(req, 3, 3))]


@C.case("udp_zero_checksum",
        "RFC 768 (an all-zero checksum means none was computed), RFC 1122 §4.1.3.4: accepted; the echo is "
        "sent with a checksum (generation MUST be the default)",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Udp_InCsumErrors=0)))
def _():
    data = payload(30)
    req = udp_frame(11, udp_raw(40002, 7, data, csum=0))
    exp = st_eth() / IP(src=ST_IP, dst=PEER_IP, id=0, ttl=64, flags=0, proto=17) / UDP(sport=7, dport=40002) / \
        Raw(data)
    return [at(0, req)], [at(0, exp)]


@C.case("udp_bad_checksum",
        "RFC 1122 §4.1.3.4: a datagram with a non-zero, wrong checksum MUST be silently discarded, before "
        "demultiplexing: no echo from the open port, no port unreachable from the closed one",
        args(NEIGH, ECHO, counters(Udp_InCsumErrors=2, Udp_InErrors=2, Udp_NoPorts=0, Udp_InDatagrams=0,
                                   Icmp_OutMsgs=0), drop("Udp_InErrors=2")))
def _():
    def bad(ident, dport):
        good = udp_raw(40003, dport, payload(24))
        ck = struct.unpack("!H", good[6:8])[0]
        return udp_frame(ident, udp_raw(40003, dport, payload(24), csum=ck ^ 0x0101))
    return [at(0, bad(12, 7)), at(0.001, bad(13, 9999))], []


@C.case("udp_checksum_ffff",
        "RFC 768: a computed checksum of zero is transmitted as all ones: the peer's datagram (checksum 0xffff) "
        "is accepted, and the echo, whose checksum also computes to zero, carries 0xffff",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Udp_InCsumErrors=0)))
def _():
    # data + a 16-bit word chosen so that the one's complement sum is 0xffff (checksum 0); the echo's
    # pseudo header and ports hold the same words swapped, so its sum is the same
    data = b"ustack!!"
    ck = inet_csum(pseudo(PEER_IP, ST_IP, 8 + len(data) + 2) + struct.pack("!HHHH", 40004, 7, 8 + len(data) + 2, 0) +
                   data + b"\0\0")
    data += struct.pack("!H", ck)
    raw = udp_raw(40004, 7, data)
    assert raw[6:8] == b"\xff\xff"
    req = udp_frame(14, raw)
    rep = st_eth() / IP(src=ST_IP, dst=PEER_IP, id=0, ttl=64, flags=0, proto=17) / UDP(sport=7, dport=40004) / Raw(data)
    assert bytes(rep[UDP])[6:8] == b"\xff\xff"
    return [at(0, req)], [at(0, rep)]


@C.case("udp_length_short",
        "RFC 768 (Length: this datagram's header and data): a UDP length of 18 in a 38-byte IP payload makes a "
        "10-byte datagram, the rest is not part of it (Linux trims it); the echo carries 10 bytes",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Udp_InErrors=0)))
def _():
    data = payload(10)
    req = udp_frame(15, udp_raw(40005, 7, data + b"\xee" * 20, length=18))
    rep = st_eth() / IP(src=ST_IP, dst=PEER_IP, id=0, ttl=64, flags=0, proto=17) / UDP(sport=7, dport=40005) / Raw(data)
    return [at(0, req)], [at(0, rep)]


@C.case("udp_length_long",
        "RFC 768, RFC 1122 §4.1.3: a UDP length of 200 in a 28-byte IP payload describes bytes that never "
        "arrived: dropped and counted, no echo, no ICMP",
        args(NEIGH, ECHO, counters(Udp_InErrors=1, Udp_InDatagrams=0, Icmp_OutMsgs=0), drop("Udp_InErrors")))
def _():
    return [at(0, udp_frame(16, udp_raw(40006, 7, payload(20), length=200, csum=0)))], []


@C.case("udp_broadcast_closed_port",
        "RFC 1122 §3.2.2, §4.1.3.1: datagrams to the subnet and limited broadcast addresses on a closed port "
        "get no port unreachable",
        args(NEIGH, counters(Udp_NoPorts=2, Icmp_OutDestUnreachs=0), drop("Udp_NoPorts=2")))
def _():
    return [at(0, udp_to(18, 40008, 9999, payload(16), dst=NET_BCAST, eth_dst=BCAST)),
            at(0.001, udp_to(19, 40008, 9999, payload(16), dst="255.255.255.255", eth_dst=BCAST))], []


@C.case("udp_discard",
        "RFC 768, RFC 863: a datagram to a discard socket is delivered and nothing is sent back",
        args(NEIGH, "--udp 9:discard", counters(Udp_InDatagrams=1, Udp_OutDatagrams=0, Udp_NoPorts=0)))
def _():
    return [at(0, udp_to(20, 40009, 9, payload(64)))], []


@C.case("udp_empty",
        "RFC 768: a datagram with no data (length 8) is a datagram: echoed, empty",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Udp_OutDatagrams=1)))
def _():
    req = udp_to(21, 40010, 7, b"")
    return [at(0, req)], [at(0, udp_reply(req))]


@C.case("udp_source_port_zero",
        "RFC 768: source port 0 means the sender expects no reply: the datagram is delivered, the echo has "
        "nowhere to go (Linux's sendto refuses port 0)",
        args(NEIGH, ECHO, counters(Udp_InDatagrams=1, Udp_OutDatagrams=0)))
def _():
    return [at(0, udp_to(22, 0, 7, payload(16)))], []


@C.case("udp_mtu_sized",
        "RFC 791 §3.2, RFC 768: 1472 bytes of data make a 1500-byte datagram, echoed in one frame",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Ip_FragCreates=0)))
def _():
    req = udp_to(23, 40011, 7, payload(1472))
    return [at(0, req)], [at(0, udp_reply(req))]


@C.case("udp_mtu_plus_one",
        "RFC 791 §3.2: the echo of 1473 bytes needs 1501 bytes: it leaves in 2 fragments, 1480 + 1 bytes of "
        "IP payload (the request came in 2 fragments too)",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Ip_ReasmOKs=1, Ip_FragCreates=2)))
def _():
    whole = udp_to(24, 40012, 7, payload(1473))
    inp = [at(0.001 * i, peer_eth() / f) for i, f in enumerate(fragment(whole[IP], fragsize=1480))]
    rep = udp_reply(whole)
    eth = rep.copy()
    eth.remove_payload()
    return inp, [at(0.001, eth / f) for f in fragment(rep[IP], fragsize=1480)]


if __name__ == "__main__":
    C.main(__file__)
