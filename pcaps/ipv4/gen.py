#!/usr/bin/python3
"""IPv4 replay cases (RFC 791, RFC 1122 §3.2.1 and §3.3, RFC 815): reassembly in every order and its
timeout, options, TTL, fragmentation of our replies, addresses that are not ours, broadcasts.

A peer at 198.18.0.1 (02:00:00:00:00:01) and the stack at 198.18.0.2/24 (02:00:00:00:00:02); the peer's
MAC is given with --neigh. For every case NAME this writes NAME.in.pcap, NAME.expect.pcap (built here
from the RFCs), NAME.args, and CASES.md. Malformed headers are in pcaps/malformed.

    /usr/bin/python3 pcaps/ipv4/gen.py [OUTDIR]      (default: the directory of this script)
"""
import os
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the committed corpus
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scapy.all import ICMP, IP, UDP, IPOption, Raw, fragment  # noqa: E402

from corpus import (drop, BCAST, IGN_ID, NEIGH, NET_BCAST, PEER_IP, Corpus, args, at, counters,  # noqa: E402
                    echo_reply_to, echo_request, icmp_error_to, payload, peer_eth, peer_ip, udp_reply,
                    udp_to)

C = Corpus("ipv4", "IPv4: reassembly, options, TTL, fragmenting our replies, not-for-us and broadcast datagrams.")

ECHO = "--udp 7:echo"


def frags_of(ident, icmp_seq, n, order, fragsize=1480):
    """An echo request of n data bytes, fragmented by the peer (RFC 791 §3.2, fragments of fragsize
    bytes), in the given order of fragment indexes; also returns the whole request."""
    whole = peer_eth() / peer_ip(ident) / ICMP(type=8, id=0x1234, seq=icmp_seq) / Raw(payload(n))
    fr = fragment(whole[IP], fragsize=fragsize)
    return [peer_eth() / fr[i] for i in order], whole


def fragmented_reply(reply, mtu=1500):
    """RFC 791 §3.2 (fragmentation): the reply cut into fragments of (mtu - 20) & ~7 data bytes, MF on
    all but the last, offsets in 8-byte units, the header copied to each."""
    eth = reply.copy()
    eth.remove_payload()
    return [eth / f for f in fragment(reply[IP], fragsize=(mtu - 20) & ~7)]


@C.case("ipv4_frag_in_order",
        "RFC 791 §3.2, RFC 815: an echo request in 3 fragments, in order, is reassembled and answered; the "
        "3008-byte reply leaves in 3 fragments (MTU 1500)",
        args(NEIGH, IGN_ID, counters(Ip_ReasmReqds=3, Ip_ReasmOKs=1, Ip_FragCreates=3, Ip_FragOKs=1)))
def _():
    frags, whole = frags_of(0x4141, 1, 3000, (0, 1, 2))
    inp = [at(0.001 * i, f) for i, f in enumerate(frags)]
    return inp, [at(0.002, f) for f in fragmented_reply(echo_reply_to(whole))]


@C.case("ipv4_frag_out_of_order",
        "RFC 791 §3.2, RFC 815: the same 3 fragments arriving last, first, middle are reassembled alike",
        args(NEIGH, IGN_ID, counters(Ip_ReasmReqds=3, Ip_ReasmOKs=1, Ip_FragCreates=3)))
def _():
    frags, whole = frags_of(0x4242, 2, 3000, (2, 0, 1))
    inp = [at(0.001 * i, f) for i, f in enumerate(frags)]
    return inp, [at(0.002, f) for f in fragmented_reply(echo_reply_to(whole))]


@C.case("ipv4_frag_duplicate",
        "RFC 791 §3.2, RFC 1122 §3.3.2: a fragment received twice (first, middle, middle again, last) changes "
        "nothing: one datagram, one reply",
        args(NEIGH, IGN_ID, counters(Ip_ReasmReqds=4, Ip_ReasmOKs=1, Ip_ReasmFails=0, Icmp_OutEchoReps=1)))
def _():
    frags, whole = frags_of(0x4444, 3, 3000, (0, 1, 1, 2))
    inp = [at(0.001 * i, f) for i, f in enumerate(frags)]
    return inp, [at(0.003, f) for f in fragmented_reply(echo_reply_to(whole))]


@C.case("ipv4_frag_overlap",
        "RFC 5722's rule applied to IPv4, as Linux does (RFC 791 §3.2 would let the later bytes win): a "
        "fragment that partly overlaps another discards the whole datagram, no reply",
        args(NEIGH, counters(Ip_ReasmOverlaps=1, Ip_ReasmFails=1, Ip_ReasmOKs=0, Icmp_OutEchoReps=0), drop("Ip_ReasmFails")))
def _():
    body = bytes(ICMP(type=8, id=0x1234, seq=3) / Raw(payload(2000)))
    first = peer_eth() / peer_ip(0x4343, flags="MF", frag=0, proto=1) / Raw(body[:1480])
    # starts at byte 1000, inside the first fragment's 0..1480
    second = peer_eth() / peer_ip(0x4343, flags=0, frag=1000 // 8, proto=1) / Raw(body[1000:])
    return [at(0, first), at(0.001, second)], []


@C.case("ipv4_frag_timeout",
        "RFC 1122 §3.3.2, RFC 792 (Time Exceeded code 1): a datagram whose first fragment came but not the "
        "rest is discarded when reassembly times out, and the source gets a time exceeded quoting the first "
        "fragment's header + 8 bytes. At 30 s: the stack's configured timeout (Linux's; RFC 1122 recommends "
        "60-120 s)",
        args(NEIGH, IGN_ID, "--linger 31", counters(Ip_ReasmTimeout=1, Ip_ReasmFails=1, Icmp_OutTimeExcds=1), drop("Ip_ReasmFails")))
def _():
    frags, _ = frags_of(0x4545, 4, 3000, (0, 1))
    return [at(0, frags[0]), at(0.001, frags[1])], [at(30, icmp_error_to(frags[0], 11, 1))]


@C.case("ipv4_frag_timeout_no_first",
        "RFC 1122 §3.3.2: without fragment zero there is nothing to quote: the timed-out datagram is "
        "discarded silently",
        args(NEIGH, "--linger 31", counters(Ip_ReasmTimeout=1, Ip_ReasmFails=1, Icmp_OutTimeExcds=0), drop("Ip_ReasmFails")))
def _():
    frags, _ = frags_of(0x4646, 5, 3000, (1, 2))
    return [at(0, frags[0]), at(0.001, frags[1])], []


@C.case("ipv4_frag_udp",
        "RFC 791 §3.2, RFC 768: a 2000-byte UDP datagram in 2 fragments reaches the echo socket whole; the "
        "echo leaves in 2 fragments",
        args(NEIGH, IGN_ID, ECHO, counters(Ip_ReasmOKs=1, Udp_InDatagrams=1, Ip_FragCreates=2)))
def _():
    whole = udp_to(0x4747, 40000, 7, payload(2000))
    fr = fragment(whole[IP], fragsize=1480)
    inp = [at(0.001 * i, peer_eth() / f) for i, f in enumerate(fr)]
    return inp, [at(0.001, f) for f in fragmented_reply(udp_reply(whole))]


def rr_option(route, pointer_slot=None, length=39):
    """RFC 791 §3.1 Record Route: type 7, length, pointer (4 + 4 * the addresses recorded), the route
    data area; padded with an End of Option List to a 4-byte boundary."""
    data = b"".join(socket.inet_aton(a) for a in route)
    data += b"\0" * (length - 3 - len(data))
    opt = bytes([7, length, 4 + 4 * len(route)]) + data
    return IPOption(opt + b"\0" * (-len(opt) % 4))


@C.case("ipv4_opt_rr_udp",
        "RFC 1122 §3.2.1.8, §4.1.3.2: a datagram with a Record Route option is accepted (options are passed "
        "up, the ones not understood ignored); the echo application's answer carries no option",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Ip_InHdrErrors=0)))
def _():
    req = peer_eth() / peer_ip(0x4848, options=rr_option([PEER_IP])) / UDP(sport=40000, dport=7) / Raw(payload(24))
    return [at(0, req)], [at(0, udp_reply(req))]


@C.case("ipv4_opt_unknown",
        "RFC 1122 §3.2.1.8: an option the host does not know (type 158, experimental per RFC 4727) and NOPs "
        "are silently ignored: the echo request is answered, with no option",
        args(NEIGH, IGN_ID, counters(Icmp_OutEchoReps=1, Ip_InHdrErrors=0)))
def _():
    req = echo_request(0x4949, options=[IPOption(bytes([158, 6, 1, 2, 3, 4])), IPOption(b"\x01\x01")])
    return [at(0, req)], [at(0, echo_reply_to(req))]


@C.case("ipv4_ttl_low",
        "RFC 1122 §3.2.1.7: a host MUST NOT discard a datagram because its TTL is below 2: echo requests with "
        "TTL 1 and TTL 0 are both answered, with the default TTL 64",
        args(NEIGH, IGN_ID, counters(Icmp_OutEchoReps=2, Ip_InHdrErrors=0)))
def _():
    r1 = at(0, echo_request(0x4a01, seq=1, ttl=1))
    r0 = at(0.001, echo_request(0x4a02, seq=2, ttl=0))
    return [r1, r0], [at(0, echo_reply_to(r1)), at(0.001, echo_reply_to(r0))]


@C.case("ipv4_df_oversize_reply",
        "RFC 1122 §3.2.2.6 (the whole data MUST come back), RFC 791 §3.2: with a 1000-byte MTU, a 1004-byte "
        "echo request sent with DF (DF says nothing about the reply) is answered in 2 fragments "
        "(976 + 8 bytes), without DF",
        args(NEIGH, IGN_ID, "--mtu 1000", counters(Icmp_OutEchoReps=1, Ip_FragCreates=2, Ip_FragFails=0)))
def _():
    req = echo_request(0x4b4b, data=payload(1004 - 28), flags="DF")
    return [at(0, req)], [at(0, f) for f in fragmented_reply(echo_reply_to(req), mtu=1000)]


@C.case("ipv4_not_for_us",
        "RFC 1122 §3.2.1.3 (a host MUST silently discard a datagram not destined for it) and §3.3.1 (a host "
        "does not forward): an echo request to 198.18.0.77 in a frame to our MAC gets nothing",
        args(NEIGH, counters(Ip_InAddrErrors=1, Ip_InDelivers=0), drop("Ip_InAddrErrors")))
def _():
    return [at(0, echo_request(0x4c4c, dst="198.18.0.77"))], []


@C.case("ipv4_subnet_broadcast",
        "RFC 1122 §3.2.1.3 (2), §3.3.6: a datagram to the subnet's directed broadcast is ours; the echo is "
        "sent from our own address (the specific destination), unicast",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Ip_InAddrErrors=0)))
def _():
    req = udp_to(0x4d4d, 40000, 7, payload(20), dst=NET_BCAST, eth_dst=BCAST)
    return [at(0, req)], [at(0, udp_reply(req))]


@C.case("ipv4_limited_broadcast",
        "RFC 1122 §3.2.1.3 (c), §3.3.6: a datagram to 255.255.255.255 is ours too; answered from our address",
        args(NEIGH, IGN_ID, ECHO, counters(Udp_InDatagrams=1, Ip_InAddrErrors=0)))
def _():
    req = udp_to(0x4e4e, 40000, 7, payload(20), dst="255.255.255.255", eth_dst=BCAST)
    return [at(0, req)], [at(0, udp_reply(req))]


@C.case("ipv4_bad_source",
        "RFC 1122 §3.2.1.3: a host MUST silently discard a datagram whose source is not a host: loopback "
        "127.0.0.1, the subnet broadcast, a multicast group, 0.0.0.0 to a unicast address",
        args(NEIGH, counters(Ip_InAddrErrors=4, Ip_InDelivers=0), drop("Ip_InAddrErrors=4")))
def _():
    srcs = ("127.0.0.1", NET_BCAST, "224.0.0.5", "0.0.0.0")
    return [at(0.001 * i, echo_request(0x4f00 + i, seq=i + 1, src=s)) for i, s in enumerate(srcs)], []


@C.case("ipv4_unknown_protocol",
        "RFC 1122 §3.2.2.1, RFC 792: a datagram for a protocol we do not have (253, RFC 3692 experimental) "
        "gets a destination unreachable, code 2 (protocol unreachable), quoting its header + 8 bytes",
        args(NEIGH, IGN_ID, counters(Ip_InUnknownProtos=1, Icmp_OutDestUnreachs=1), drop("Ip_InUnknownProtos")))
def _():
    req = peer_eth() / peer_ip(0x5050, proto=253) / Raw(payload(40))
    return [at(0, req)], [at(0, icmp_error_to(req, 3, 2))]


@C.case("ipv4_unknown_protocol_broadcast",
        "RFC 1122 §3.2.2: no ICMP error about a datagram to a broadcast address: protocol 253 to the subnet "
        "broadcast gets nothing",
        args(NEIGH, counters(Ip_InUnknownProtos=1, Icmp_OutDestUnreachs=0), drop("Ip_InUnknownProtos")))
def _():
    req = peer_eth(BCAST) / peer_ip(0x5151, dst=NET_BCAST, proto=253) / Raw(payload(40))
    return [at(0, req)], []


if __name__ == "__main__":
    C.main(__file__)
