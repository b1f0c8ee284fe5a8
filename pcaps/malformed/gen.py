#!/usr/bin/python3
"""Malformed-frame replay cases: a header cut or lying at every layer (Ethernet, ARP, IPv4, ICMP, UDP,
TCP). Each is dropped and counted (an empty expect.pcap and --expect-counter naming the counter), or
gets the answer the RFC requires (SYN+FIN, RFC 9293 §3.10.7).

The inputs are malformed on purpose: tshark flags them, only the expect.pcap files must be clean.
A peer at 198.18.0.1 (02:00:00:00:00:01) and the stack at 198.18.0.2/24 (02:00:00:00:00:02); the peer's
MAC is given with --neigh; the TCP cases have a listener on port 80 (port 81 is closed).

    /usr/bin/python3 pcaps/malformed/gen.py [OUTDIR]      (default: the directory of this script)
"""
import os
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the committed corpus
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scapy.all import ARP, ICMP, IP, TCP, Ether, Raw  # noqa: E402

from corpus import (NEIGH, PEER_IP, PEER_MAC, ST_IP, ST_MAC, BCAST, Corpus, args, at,  # noqa: E402
                    counters, drop, echo_request, icmp_bytes, inet_csum, payload, peer_eth, peer_ip, raw_frame, st_eth,
                    st_ip)

C = Corpus("malformed", "Malformed frames at every layer: each dropped and counted, or answered as the RFC requires.")

LISTEN = "--listen 80"
TCP_IGN = "--ignore ip.id,ip.checksum,ip.flags,tcp.window"
PEER_ISN = 0x10000000


def ip_bytes(ident, proto, body, **kw):
    return bytes(peer_ip(ident, proto=proto, **kw) / Raw(body))


def fix_ip_csum(h):
    """Recompute the checksum of the IPv4 header at the start of h (IHL from its first byte, at most
    what is there)."""
    h = bytearray(h)
    hl = min((h[0] & 15) * 4, len(h))
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", inet_csum(bytes(h[:hl])))
    return bytes(h)


def eth_ip(data):
    return raw_frame(eth_hdr() + data)


def eth_hdr(type_=0x0800, dst=ST_MAC):
    return bytes(Ether(src=PEER_MAC, dst=dst, type=type_))


# ---- Ethernet ----

@C.case("mal_eth_header_only",
        "RFC 791 §3.1, RFC 1122 §3.2.1: a 14-byte frame, an Ethernet header saying IPv4 and nothing after it, "
        "holds no IP header: dropped as a header error",
        args(NEIGH, counters(Ip_InHdrErrors=1, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    return [at(0, raw_frame(eth_hdr()))], []


# ---- ARP ----

@C.case("mal_arp_truncated",
        "RFC 826: an ARP packet of 20 bytes cannot hold the 28 of Ethernet/IPv4 ARP: dropped, no reply",
        args(counters(Arp_InErrors=1, Arp_OutReplies=0), drop("Arp_InErrors")))
def _():
    arp = bytes(ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=ST_IP))
    return [at(0, raw_frame(eth_hdr(0x0806, BCAST) + arp[:20]))], []


@C.case("mal_arp_bad_hw_type",
        "RFC 826 (\"Do I have the hardware type in ar$hrd?\"): hardware type 6 (IEEE 802) on Ethernet is not "
        "ours: discarded, no reply",
        args(counters(Arp_InErrors=1, Arp_OutReplies=0), drop("Arp_InErrors")))
def _():
    arp = bytearray(bytes(ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=ST_IP)))
    arp[0:2] = struct.pack("!H", 6)
    return [at(0, raw_frame(eth_hdr(0x0806, BCAST) + bytes(arp) + b"\0" * 18))], []


@C.case("mal_arp_bad_lengths",
        "RFC 826 (optionally check ar$hln and ar$pln): hardware length 8 and protocol length 6 do not describe "
        "Ethernet and IPv4: discarded, no reply",
        args(counters(Arp_InErrors=1, Arp_OutReplies=0), drop("Arp_InErrors")))
def _():
    arp = bytearray(bytes(ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=ST_IP)))
    arp[4], arp[5] = 8, 6
    return [at(0, raw_frame(eth_hdr(0x0806, BCAST) + bytes(arp) + b"\0" * 18))], []


# ---- IPv4 ----

def echo_ip(ident):
    return bytes(echo_request(ident, data=payload(16))[IP])


@C.case("mal_ip_truncated_hdr",
        "RFC 791 §3.1: 10 bytes after the Ethernet header cannot hold a 20-byte IP header: dropped",
        args(NEIGH, counters(Ip_InHdrErrors=1, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    return [at(0, eth_ip(echo_ip(8)[:10]))], []


@C.case("mal_ip_bad_version",
        "RFC 1122 §3.2.1.1: a datagram whose version is not 4 (here 6, in an IPv4 frame) MUST be silently "
        "discarded",
        args(NEIGH, counters(Ip_InHdrErrors=1, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    h = bytearray(echo_ip(20))
    h[0] = 0x65
    return [at(0, eth_ip(fix_ip_csum(h)))], []


@C.case("mal_ip_ihl_below_5",
        "RFC 791 §3.1: the header is at least 5 words; IHL 4 is impossible: dropped",
        args(NEIGH, counters(Ip_InHdrErrors=1, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    h = bytearray(echo_ip(6))
    h[0] = 0x44
    return [at(0, eth_ip(bytes(h)))], []


@C.case("mal_ip_ihl_past_packet",
        "RFC 791 §3.1: IHL 15 announces a 60-byte header in a 44-byte datagram: dropped",
        args(NEIGH, counters(Ip_InHdrErrors=1, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    h = bytearray(echo_ip(21))
    h[0] = 0x4f
    return [at(0, eth_ip(fix_ip_csum(h)))], []


@C.case("mal_ip_totlen_beyond_frame",
        "RFC 791 §3.1: a total length of 200 in a 44-byte datagram: bytes missing, dropped",
        args(NEIGH, counters(Ip_InTruncatedPkts=1, Ip_InDelivers=0), drop("Ip_InTruncatedPkts")))
def _():
    return [at(0, eth_ip(bytes(peer_ip(7, len=200) / ICMP(type=8, id=1, seq=1) / Raw(payload(16)))))], []


@C.case("mal_ip_totlen_below_ihl",
        "RFC 791 §3.1: a total length of 16, less than the 20-byte header it includes: dropped",
        args(NEIGH, counters(Ip_InHdrErrors=1, Ip_InCsumErrors=0, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    h = bytearray(echo_ip(22))
    h[2:4] = struct.pack("!H", 16)
    return [at(0, eth_ip(fix_ip_csum(h)))], []


@C.case("mal_ip_bad_checksum",
        "RFC 1122 §3.2.1.2: a datagram with a bad header checksum MUST be silently discarded",
        args(NEIGH, counters(Ip_InCsumErrors=1, Ip_InHdrErrors=1, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    return [at(0, eth_ip(bytes(peer_ip(5, chksum=0x1234) / ICMP(type=8, id=1, seq=1) / Raw(payload(16)))))], []


def with_options(opts):
    """An echo request whose IP header carries the option bytes opts (a multiple of 4)."""
    icmp = bytes(ICMP(type=8, id=0x1234, seq=1) / Raw(payload(16)))
    hl = 20 + len(opts)
    h = bytearray(bytes(peer_ip(23, proto=1) / Raw(icmp)))
    h = h[:20] + bytearray(opts) + h[20:]
    h[0] = 0x40 | hl // 4
    h[2:4] = struct.pack("!H", len(h))
    return eth_ip(fix_ip_csum(h))


@C.case("mal_ip_opt_len_zero",
        "RFC 1122 §3.2.1.8 (option lengths outside the possible range must not hang the host), RFC 791 §3.1: an "
        "option of length 0 makes the header unparsable: dropped (RFC 1122 §3.2.2.5's Parameter Problem is a "
        "SHOULD, not sent)",
        args(NEIGH, counters(Ip_InHdrErrors=1, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    return [at(0, with_options(bytes([0x9e, 0, 1, 2])))], []


@C.case("mal_ip_opt_past_header",
        "RFC 1122 §3.2.1.8, RFC 791 §3.1: an option whose length (12) runs past the 4-byte option area: "
        "dropped",
        args(NEIGH, counters(Ip_InHdrErrors=1, Ip_InDelivers=0), drop("Ip_InHdrErrors")))
def _():
    return [at(0, with_options(bytes([0x9e, 12, 1, 2])))], []


@C.case("mal_ip_frag_not_multiple_of_8",
        "RFC 791 §3.2: every fragment but the last carries a multiple of 8 bytes; a first fragment of 1001 "
        "bytes with MF cannot be reassembled: dropped",
        args(NEIGH, counters(Ip_ReasmFails=1, Ip_ReasmOKs=0, Icmp_OutMsgs=0), drop("Ip_ReasmFails")))
def _():
    body = bytes(ICMP(type=8, id=0x1234, seq=1) / Raw(payload(1500)))
    return [at(0, peer_eth() / peer_ip(24, proto=1, flags="MF") / Raw(body[:1001]))], []


@C.case("mal_ip_frag_oversize",
        "RFC 791 §3.1 (total length at most 65,535): a last fragment at offset 65,512 with 100 bytes would "
        "make a datagram of 65,632 (the ping of death): dropped, nothing kept for reassembly",
        args(NEIGH, counters(Ip_ReasmFails=1, Ip_ReasmOKs=0, Icmp_OutMsgs=0), drop("Ip_ReasmFails")))
def _():
    return [at(0, peer_eth() / peer_ip(25, proto=1, frag=65512 // 8) / Raw(payload(100)))], []


# ---- ICMP ----

@C.case("mal_icmp_hdr_cut",
        "RFC 792: an ICMP message of 4 bytes has no room for its 8-byte header: dropped",
        args(NEIGH, counters(Icmp_InErrors=1, Icmp_OutMsgs=0), drop("Icmp_InErrors")))
def _():
    return [at(0, eth_ip(ip_bytes(26, 1, bytes([8, 0, 0xf7, 0xff]))))], []


@C.case("mal_icmp_error_short_quote",
        "RFC 792, RFC 1122 §3.2.2 (an error quotes the header and at least 8 data bytes): a port unreachable "
        "quoting only an IP header is dropped and counted",
        args(NEIGH, counters(Icmp_InDestUnreachs=1, Icmp_InErrors=1, Icmp_OutMsgs=0), drop("Icmp_InErrors")))
def _():
    quote = bytes(IP(src=ST_IP, dst=PEER_IP, id=1, proto=17, len=36))
    return [at(0, eth_ip(ip_bytes(27, 1, icmp_bytes(3, 3, b"\0\0\0\0", quote))))], []


# ---- UDP ----

@C.case("mal_udp_hdr_cut",
        "RFC 768: 4 bytes of IP payload cannot hold a UDP header: dropped, no port unreachable",
        args(NEIGH, counters(Udp_InErrors=1, Udp_NoPorts=0, Icmp_OutMsgs=0), drop("Udp_InErrors")))
def _():
    return [at(0, eth_ip(ip_bytes(28, 17, struct.pack("!HH", 40000, 9999))))], []


@C.case("mal_udp_length_below_header",
        "RFC 768: a UDP length of 4, shorter than the 8-byte header: dropped and counted, no echo",
        args(NEIGH, "--udp 7:echo", counters(Udp_InErrors=1, Udp_InDatagrams=0, Icmp_OutMsgs=0), drop("Udp_InErrors")))
def _():
    return [at(0, eth_ip(ip_bytes(29, 17, struct.pack("!HHHH", 40007, 7, 4, 0) + payload(20))))], []


# ---- TCP ----

def tcp_bytes(flags, seq=PEER_ISN, ack=0, dport=80, sport=40000, doff=None, opts=b"", data=b"", csum=None,
              window=64240):
    """A TCP segment as bytes (RFC 9293 §3.1), the checksum over the pseudo header unless given."""
    if doff is None:
        doff = (20 + len(opts)) // 4
    fl = 0
    for ch, bit in zip("FSRPAU", (1, 2, 4, 8, 16, 32)):
        if ch in flags:
            fl |= bit
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, fl, window, 0, 0) + opts + data
    if csum is None:
        pseudo = bytes(IP(src=PEER_IP, dst=ST_IP))[12:20] + struct.pack("!BBH", 0, 6, len(seg))
        csum = inet_csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def tcp_frame(ident, seg):
    return eth_ip(ip_bytes(ident, 6, seg))


TCP_DROP = dict(Tcp_InErrs=1, Tcp_PassiveOpens=0, Tcp_OutRsts=0, Tcp_OutSegs=0)


@C.case("mal_tcp_hdr_19",
        "RFC 9293 §3.1: a TCP header cut at 19 bytes (a SYN to a listener): dropped and counted, no SYN-ACK",
        args(NEIGH, LISTEN, counters(**TCP_DROP), drop("Tcp_InErrs")))
def _():
    return [at(0, tcp_frame(30, tcp_bytes("S")[:19]))], []


@C.case("mal_tcp_doff_below_5",
        "RFC 9293 §3.1: data offset 4, shorter than the 5-word minimum header: dropped and counted",
        args(NEIGH, LISTEN, counters(**TCP_DROP), drop("Tcp_InErrs")))
def _():
    return [at(0, tcp_frame(31, tcp_bytes("S", doff=4)))], []


@C.case("mal_tcp_doff_past_segment",
        "RFC 9293 §3.1: data offset 15 (60 bytes) in a 24-byte segment: dropped and counted",
        args(NEIGH, LISTEN, counters(**TCP_DROP), drop("Tcp_InErrs")))
def _():
    return [at(0, tcp_frame(32, tcp_bytes("S", doff=15, data=b"\1\1\1\0")))], []


@C.case("mal_tcp_opt_len_0",
        "RFC 9293 §3.1 (MUST-7: cope with an illegal option length, e.g. zero): an option (kind 253) of length "
        "0 in a SYN: dropped and counted, no SYN-ACK",
        args(NEIGH, LISTEN, counters(**TCP_DROP), drop("Tcp_InErrs")))
def _():
    return [at(0, tcp_frame(33, tcp_bytes("S", opts=bytes([253, 0, 0, 0]))))], []


@C.case("mal_tcp_opt_len_1",
        "RFC 9293 §3.1 (MUST-7): an option of length 1, shorter than its own kind and length bytes: dropped "
        "and counted",
        args(NEIGH, LISTEN, counters(**TCP_DROP), drop("Tcp_InErrs")))
def _():
    return [at(0, tcp_frame(34, tcp_bytes("S", opts=bytes([253, 1, 1, 1]))))], []


@C.case("mal_tcp_opt_past_header",
        "RFC 9293 §3.1 (MUST-7): an option of length 12 in a 4-byte option area, running into the data: "
        "dropped and counted",
        args(NEIGH, LISTEN, counters(**TCP_DROP), drop("Tcp_InErrs")))
def _():
    return [at(0, tcp_frame(35, tcp_bytes("S", opts=bytes([253, 12, 0, 0]))))], []


@C.case("mal_tcp_bad_checksum",
        "RFC 9293 §3.1 (the checksum, MUST-2/MUST-3 checked on receipt), §3.10.7: a SYN with a bad checksum "
        "is dropped and counted, no SYN-ACK",
        args(NEIGH, LISTEN, counters(Tcp_InCsumErrors=1, Tcp_InErrs=1, Tcp_PassiveOpens=0, Tcp_OutSegs=0), drop("Tcp_InErrs")))
def _():
    good = tcp_bytes("S")
    ck = struct.unpack("!H", good[16:18])[0]
    return [at(0, tcp_frame(36, tcp_bytes("S", csum=ck ^ 0x5555)))], []


def st_tcp(flags, seq, ack, opts=None, sport=80, dport=40000):
    return st_eth() / st_ip(6) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=0,
                                     options=opts or [])


@C.case("mal_tcp_syn_fin_listen",
        "RFC 9293 §3.10.7.2: in LISTEN a SYN is processed whatever else it carries (\"any other control or text "
        "should be queued for processing later\"): SYN+FIN gets <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK> "
        "(with our MSS, §3.7.1); the FIN waits for SYN-RECEIVED, where a segment without ACK is dropped",
        args(NEIGH, LISTEN, TCP_IGN, "--relative --linger 0.5", counters(Tcp_PassiveOpens=1), drop("none")))
def _():
    return [at(0, tcp_frame(37, tcp_bytes("SF")))], \
        [at(0, st_tcp("SA", 0, PEER_ISN + 1, opts=[("MSS", 1460)]))]


@C.case("mal_tcp_syn_fin_closed",
        "RFC 9293 §3.10.7.1: SYN+FIN to a closed port gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, where "
        "SEG.LEN counts both the SYN and the FIN",
        args(NEIGH, TCP_IGN, "--absolute", counters(Tcp_OutRsts=1, Tcp_PassiveOpens=0), drop("none")))
def _():
    return [at(0, tcp_frame(38, tcp_bytes("SF", dport=81)))], \
        [at(0, st_tcp("RA", 0, PEER_ISN + 2, sport=81))]


@C.case("mal_tcp_syn_rst_listen",
        "RFC 9293 §3.10.7.2 (first, check for a RST: \"An incoming RST should be ignored\"): SYN+RST to a "
        "listener gets nothing and opens nothing",
        args(NEIGH, LISTEN, counters(Tcp_InSegs=1, Tcp_PassiveOpens=0, Tcp_OutRsts=0, Tcp_OutSegs=0), drop("TcpExt_TCPRstDiscards")))
def _():
    return [at(0, tcp_frame(39, tcp_bytes("SR")))], []


@C.case("mal_tcp_syn_rst_closed",
        "RFC 9293 §3.10.7.1 (\"An incoming segment containing a RST is discarded\"): SYN+RST to a closed "
        "port gets no reset back",
        args(NEIGH, counters(Tcp_InSegs=1, Tcp_OutRsts=0, Tcp_OutSegs=0), drop("TcpExt_TCPRstDiscards")))
def _():
    return [at(0, tcp_frame(40, tcp_bytes("SR", dport=81)))], []


if __name__ == "__main__":
    C.main(__file__)
