#!/usr/bin/python3
"""Ethernet replay cases: which frames the stack takes (RFC 894, RFC 1122 §2.3.3) and which it drops.

A peer at 198.18.0.1 (02:00:00:00:00:01) and the stack at 198.18.0.2 (02:00:00:00:00:02). For every
case NAME this writes NAME.in.pcap (what the peer sends), NAME.expect.pcap (what the RFCs say the
stack sends, built here) and NAME.args (the ustack-replay flags), and CASES.md.

    /usr/bin/python3 pcaps/eth/gen.py [OUTDIR]      (default: the directory of this script)
"""
import os
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the committed corpus
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scapy.all import ICMP, IP, Dot1Q, Ether, Raw  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6  # noqa: E402

from corpus import (drop, IGN_ID, NEIGH, PEER_IP, PEER_MAC, ST_IP, ST_MAC, BCAST, Corpus, at, counters,  # noqa: E402
                    echo_reply_to, echo_request, args, payload, raw_frame, udp_reply, udp_to)

C = Corpus("eth", "Ethernet: frames to us, to broadcast, to others; EtherTypes we do not handle; runts, padding.")


@C.case("eth_unicast_to_us",
        "RFC 894, RFC 1122 §2.3.3: an IPv4 frame to our MAC is taken (an echo request is answered)",
        args(NEIGH, IGN_ID, counters(Eth_InFrames=1, Ip_InReceives=1, Icmp_OutEchoReps=1)))
def _():
    req = at(0, echo_request(1))
    return [req], [at(0, echo_reply_to(req))]


@C.case("eth_broadcast_to_us",
        "RFC 894, RFC 1122 §3.2.1.3: a link-layer broadcast carrying a datagram for our address is taken; "
        "the answer is unicast to the sender",
        args(NEIGH, IGN_ID, "--udp 7:echo", counters(Udp_InDatagrams=1, Udp_OutDatagrams=1)))
def _():
    req = at(0, udp_to(2, 40000, 7, payload(20), eth_dst=BCAST))
    return [req], [at(0, udp_reply(req))]


@C.case("eth_broadcast_no_icmp_error",
        "RFC 1122 §3.2.2: no ICMP error about a datagram that came as a link-layer broadcast (UDP to a closed "
        "port in a broadcast frame gets no port unreachable)",
        args(NEIGH, IGN_ID, counters(Udp_NoPorts=1, Icmp_OutDestUnreachs=0, Icmp_OutMsgs=0), drop("Udp_NoPorts")))
def _():
    return [at(0, udp_to(3, 40000, 9999, payload(20), eth_dst=BCAST))], []


@C.case("eth_other_mac",
        "RFC 894 (IEEE 802.3 address filtering): a unicast frame to another MAC is not ours: ignored, no answer",
        args(NEIGH, counters(Eth_InNotForUs=1, Ip_InReceives=0), drop("Eth_InNotForUs")))
def _():
    return [at(0, echo_request(4, eth_dst="02:00:00:00:00:99"))], []


@C.case("eth_multicast_not_joined",
        "RFC 1112 §6.4, RFC 1122 §3.2.1.3 (3): a frame to the MAC of a group we have not joined "
        "(239.1.2.3 -> 01:00:5e:01:02:03) is not ours",
        args(NEIGH, counters(Eth_InNotForUs=1, Ip_InReceives=0), drop("Eth_InNotForUs")))
def _():
    return [at(0, udp_to(5, 40000, 7, payload(20), dst="239.1.2.3", eth_dst="01:00:5e:01:02:03"))], []


@C.case("eth_unknown_type",
        "RFC 894, RFC 1122 §2.3.3: an EtherType with no protocol behind it (0x88b5, IEEE local experimental) "
        "is dropped and counted",
        args(NEIGH, counters(Eth_InUnknownType=1, Ip_InReceives=0, Arp_InPackets=0), drop("Eth_InUnknownType")))
def _():
    return [at(0, Ether(src=PEER_MAC, dst=ST_MAC, type=0x88b5) / Raw(payload(46)))], []


@C.case("eth_ipv6",
        "RFC 2464 §3: IPv6 (EtherType 0x86dd) is not spoken here: an ICMPv6 echo request is dropped as an "
        "unknown type, nothing answers",
        args(NEIGH, counters(Eth_InUnknownType=1, Ip_InReceives=0), drop("Eth_InUnknownType")))
def _():
    return [at(0, Ether(src=PEER_MAC, dst=ST_MAC) / IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64) /
               ICMPv6EchoRequest(id=0x1234, seq=1, data=payload(16)))], []


@C.case("eth_vlan_tagged",
        "IEEE 802.1Q: a tagged frame (TPID 0x8100, VID 5) reaches a host with no VLAN interface: the stack "
        "takes 0x8100 as an unknown EtherType and drops it, no echo reply",
        args(NEIGH, counters(Eth_InUnknownType=1, Ip_InReceives=0), drop("Eth_InUnknownType")))
def _():
    return [at(0, Ether(src=PEER_MAC, dst=ST_MAC) / Dot1Q(vlan=5) / IP(src=PEER_IP, dst=ST_IP, id=8) /
               ICMP(type=8, id=0x1234, seq=1) / Raw(payload(32)))], []


@C.case("eth_runt",
        "IEEE 802.3 §3.1.1 / RFC 894: a 13-byte frame, shorter than an Ethernet header, is dropped and counted",
        args(NEIGH, counters(Eth_InRunts=1, Ip_InReceives=0), drop("Eth_InRunts")))
def _():
    full = bytes(echo_request(9))
    return [at(0, raw_frame(full[:13]))], []


@C.case("eth_padding",
        "RFC 894: padding up to the 60-byte minimum is not part of the IP packet (the total length says where "
        "it ends): a 4-byte echo request padded with 0xaa gets a reply with 4 bytes of data",
        args(NEIGH, IGN_ID, counters(Ip_InReceives=1, Icmp_OutEchoReps=1)))
def _():
    req = echo_request(10, data=b"ping")
    wire = at(0, Ether(bytes(req) + b"\xaa" * (60 - len(req))))
    return [wire], [at(0, echo_reply_to(req))]


def snap_frame(ip_bytes):
    """RFC 1042: an IEEE 802.3 frame (length field), LLC DSAP/SSAP 0xAA, control 3 (UI), SNAP OUI 0,
    EtherType 0x0800, then the IP datagram."""
    llc = b"\xaa\xaa\x03" + b"\0\0\0" + struct.pack("!H", 0x0800) + ip_bytes
    mac = bytes.fromhex(ST_MAC.replace(":", "")) + bytes.fromhex(PEER_MAC.replace(":", ""))
    return mac + struct.pack("!H", len(llc)) + llc


@C.case("eth_rfc1042_snap",
        "RFC 1122 §2.3.3: a host SHOULD receive RFC 1042 (802.3 + LLC/SNAP) packets intermixed with RFC 894 "
        "ones, and sends RFC 894 by default: an echo request in SNAP gets an RFC 894 echo reply",
        args(NEIGH, IGN_ID, counters(Ip_InReceives=1, Icmp_OutEchoReps=1)))
def _():
    req = echo_request(11, data=payload(32))
    return [at(0, raw_frame(snap_frame(bytes(req[IP]))))], [at(0, echo_reply_to(req))]


if __name__ == "__main__":
    C.main(__file__)
