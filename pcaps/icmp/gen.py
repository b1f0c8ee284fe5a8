#!/usr/bin/python3
"""ICMP replay cases (RFC 792, RFC 1122 §3.2.2): the echo server, what is never answered, errors about
our own datagrams, and the rate limit on the errors we send.

A peer at 198.18.0.1 (02:00:00:00:00:01) and the stack at 198.18.0.2/24 (02:00:00:00:00:02); the peer's
MAC is given with --neigh. For every case NAME this writes NAME.in.pcap, NAME.expect.pcap (built here
from the RFCs), NAME.args, and CASES.md.

    /usr/bin/python3 pcaps/icmp/gen.py [OUTDIR]      (default: the directory of this script)
"""
import os
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the committed corpus
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scapy.all import ICMP, IP, IPOption, Raw, fragment  # noqa: E402

from corpus import (drop, BCAST, IGN_ID, NEIGH, NET_BCAST, PEER_IP, ST_IP, Corpus, args, at, counters,  # noqa: E402
                    echo_reply_to, echo_request, icmp_bytes, icmp_error_to, payload, peer_eth, peer_ip,
                    udp_reply, udp_to)

C = Corpus("icmp", "ICMP: echo, what is never answered, errors about our datagrams, rate limiting of our errors.")


@C.case("icmp_echo",
        "RFC 792, RFC 1122 §3.2.2.6: an echo request gets a reply with the same identifier, sequence number and "
        "data, from the address it was sent to",
        args(NEIGH, IGN_ID, counters(Icmp_InEchos=1, Icmp_OutEchoReps=1)))
def _():
    req = echo_request(1)
    return [at(0, req)], [at(0, echo_reply_to(req))]


@C.case("icmp_echo_empty",
        "RFC 792: an echo request with no data gets a reply with no data",
        args(NEIGH, IGN_ID, counters(Icmp_OutEchoReps=1)))
def _():
    req = echo_request(2, data=b"")
    return [at(0, req)], [at(0, echo_reply_to(req))]


@C.case("icmp_echo_odd_length",
        "RFC 1122 §3.2.2.6 (data returned entirely), RFC 1071 §4.1 (an odd last byte is padded with zero for "
        "the checksum only): 57 bytes of data come back as 57",
        args(NEIGH, IGN_ID, counters(Icmp_OutEchoReps=1)))
def _():
    req = echo_request(3, data=payload(57, salt=1))
    return [at(0, req)], [at(0, echo_reply_to(req))]


@C.case("icmp_echo_broadcast",
        "RFC 1122 §3.2.2.6: an echo request to a broadcast address MAY be silently discarded; it is (Linux's "
        "icmp_echo_ignore_broadcasts): subnet and limited broadcast pings get nothing",
        args(NEIGH, counters(Icmp_InEchos=2, Icmp_OutEchoReps=0)))
def _():
    return [at(0, echo_request(4, dst=NET_BCAST, eth_dst=BCAST)),
            at(0.001, echo_request(5, seq=2, dst="255.255.255.255", eth_dst=BCAST))], []


@C.case("icmp_unknown_types",
        "RFC 1122 §3.2.2: an ICMP message of unknown type MUST be silently discarded (types 253 and 254, "
        "RFC 4727 experimental)",
        args(NEIGH, counters(Icmp_InMsgs=2, Icmp_OutMsgs=0, Icmp_InErrors=0)))
def _():
    return [at(0.001 * i, peer_eth() / peer_ip(6 + i, proto=1) / Raw(icmp_bytes(t, 0, b"\0\1\0\2", payload(16))))
            for i, t in enumerate((253, 254))], []


@C.case("icmp_obsolete_queries",
        "RFC 1122 §3.2.2.7 (Information Request: SHOULD NOT be implemented) and §3.2.2.9 (no Address Mask Reply "
        "unless configured as an authoritative agent): neither query is answered",
        args(NEIGH, counters(Icmp_InMsgs=2, Icmp_OutMsgs=0)))
def _():
    info = peer_eth() / peer_ip(8) / ICMP(type=15, id=0x1234, seq=1)
    mask = peer_eth() / peer_ip(9) / ICMP(type=17, id=0x1234, seq=2) / Raw(b"\0\0\0\0")
    return [at(0, info), at(0.001, mask)], []


@C.case("icmp_echo_reply_unsolicited",
        "RFC 1122 §3.2.2.6: an echo reply nobody asked for goes to no user, and is never answered",
        args(NEIGH, counters(Icmp_InEchoReps=1, Icmp_OutMsgs=0)))
def _():
    return [at(0, peer_eth() / peer_ip(10) / ICMP(type=0, id=0x7777, seq=1) / Raw(payload(16)))], []


@C.case("icmp_bad_checksum",
        "RFC 792 (checksum), RFC 1122 §3.2.2: an echo request whose ICMP checksum is wrong is dropped and "
        "counted, not answered",
        args(NEIGH, counters(Icmp_InCsumErrors=1, Icmp_InErrors=1, Icmp_OutEchoReps=0), drop("Icmp_InErrors")))
def _():
    req = echo_request(11)
    req[ICMP].chksum = 0x1234
    return [at(0, req)], []


@C.case("icmp_error_about_our_udp",
        "RFC 1122 §3.2.2.1, §4.1.3.3: a port unreachable about a datagram the stack sent (its UDP echo) is "
        "taken and handed to UDP, never answered; an unconnected socket (Linux without IP_RECVERR) keeps "
        "working: the next datagram is echoed",
        args(NEIGH, IGN_ID, "--udp 7:echo",
             counters(Icmp_InDestUnreachs=1, Icmp_InErrors=0, Icmp_OutMsgs=0, Udp_InDatagrams=2,
                      Udp_OutDatagrams=2)))
def _():
    d1 = at(0, udp_to(12, 40000, 7, payload(20)))
    d2 = at(0.2, udp_to(13, 40000, 7, payload(20, salt=5)))
    echo1 = udp_reply(d1)
    # the peer's port 40000 has closed meanwhile: RFC 792, its header + 64 bits of the stack's echo
    quote = bytes(echo1[IP])[:28]
    err = peer_eth() / peer_ip(14, proto=1) / Raw(icmp_bytes(3, 3, b"\0\0\0\0", quote))
    return [d1, at(0.1, err), d2], [at(0, echo1), at(0.2, udp_reply(d2))]


@C.case("icmp_no_error_for_error",
        "RFC 1122 §3.2.2: an ICMP error is never sent about an ICMP error message: fragment zero of a "
        "fragmented destination unreachable, never completed, times out without a time exceeded",
        args(NEIGH, "--linger 31", counters(Ip_ReasmTimeout=1, Icmp_OutTimeExcds=0, Icmp_OutMsgs=0), drop("Ip_ReasmFails")))
def _():
    # a long destination unreachable (RFC 1122 §3.2.2: more than 8 octets MAY be quoted)
    quoted = bytes(IP(src=ST_IP, dst="198.18.0.50", id=99, proto=17)) + payload(1972)
    err = peer_ip(15, proto=1) / Raw(icmp_bytes(3, 1, b"\0\0\0\0", quoted))
    first = fragment(err, fragsize=1480)[0]
    return [at(0, peer_eth() / first)], []


@C.case("icmp_rate_limit",
        "RFC 1812 §4.3.2.8 (ICMP errors rate-limited), the stack's token bucket (1000/s, burst 50, Linux's "
        "icmp_msgs_per_sec/burst): 60 datagrams to closed ports at one instant get 50 port unreachables; "
        "10 ms later the bucket holds 10 tokens again and a 61st gets one",
        args(NEIGH, IGN_ID, counters(Udp_NoPorts=61, Icmp_OutDestUnreachs=51, Icmp_OutRateLimitGlobal=10)))
def _():
    dgrams = [at(0, udp_to(0x100 + i, 40000 + i, 10000 + i, payload(8, salt=i))) for i in range(60)]
    late = at(0.010, udp_to(0x200, 41000, 11000, payload(8)))
    exp = [at(0, icmp_error_to(d, 3, 3)) for d in dgrams[:50]] + [at(0.010, icmp_error_to(late, 3, 3))]
    return dgrams + [late], exp


def rr(route, length=39):
    """RFC 791 §3.1 Record Route: type 7, length, pointer, the addresses recorded, then room; padded with
    an End of Option List to the 4-byte boundary."""
    data = b"".join(socket.inet_aton(a) for a in route)
    opt = bytes([7, length, 4 + 4 * len(route)]) + data + b"\0" * (length - 3 - len(data))
    return [IPOption(opt + b"\0" * (-len(opt) % 4))]


@C.case("icmp_echo_record_route",
        "RFC 1122 §3.2.2.6: a Record Route option in an echo request SHOULD be updated to include the current "
        "host and returned in the reply (RFC 791 §3.1: our address goes in at the pointer, which moves on 4). "
        "The request is what ping -R sends: the peer's own address first",
        args(NEIGH, IGN_ID, counters(Icmp_OutEchoReps=1)))
def _():
    req = echo_request(16, options=rr([PEER_IP]))
    rep = echo_reply_to(req)
    rep[IP].options = rr([PEER_IP, ST_IP])
    return [at(0, req)], [at(0, rep)]


if __name__ == "__main__":
    C.main(__file__)
