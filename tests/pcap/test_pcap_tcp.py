#!/usr/bin/python3
"""Pcap replay tests of TCP's first segments (inputs from pcaps/tcp/gen.py).

Expected segments are built here in Scapy from RFC 9293 and RFC 7323; the fields the RFCs leave
to the stack - its initial sequence number, its TSval, the IPv4 identification - are taken from
the output and checked for their relation instead (the ACK of the SYN-ACK is the ISN + 1, TSecr
echoes the peer's TSval).

    test_pcap_tcp.py --replay PATH --pcaps DIR --work DIR
"""
import argparse
import os
import subprocess
import sys

from scapy.all import IP, TCP, Ether, rdpcap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_pcap_ipv4 import (NEIGH, PEER_IP, PEER_MAC, ST_IP, ST_MAC, Failure, Runner,  # noqa: E402
                            expect_counter, nothing_sent, same, with_id)


class TcpRunner(Runner):
    def __init__(self, args):
        self.args = args
        self.inputs = os.path.join(args.work, "in")
        self.outputs = os.path.join(args.work, "out")
        os.makedirs(self.outputs, exist_ok=True)
        subprocess.run(["/usr/bin/python3", os.path.join(args.pcaps, "tcp", "gen.py"), self.inputs], check=True)


def synack(got, peer_seq, opts, window=65535):
    """The SYN-ACK RFC 9293 §3.5 asks for: our ISN (from the output), ACK = the peer's ISN + 1."""
    exp = Ether(dst=PEER_MAC, src=ST_MAC) / IP(src=ST_IP, dst=PEER_IP, ttl=64, flags="DF") / \
        TCP(sport=80, dport=40000, flags="SA", seq=got[TCP].seq, ack=peer_seq + 1, window=window, options=opts)
    return with_id(exp, got)


def t_syn_linux_opts(r):
    frames, st = r.replay("syn_linux_opts", NEIGH, "--tcp-listen=80", "--linger=1.5")
    if len(frames) != 2:
        raise Failure("expected a SYN-ACK and its retransmission, got %d frames" % len(frames))
    for got in frames:
        tsval = dict(got[TCP].options).get("Timestamp", (None, None))[0]
        # RFC 9293 §3.7.1 MSS = 1500 - 40; RFC 2018 SACK-permitted; RFC 7323 §3.2 TSecr = the SYN's
        # TSval (1000); window scale 3 fits 256 KB in 16 bits; a SYN's window is not scaled
        opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (tsval, 1000)), ("NOP", None), ("WScale", 3)]
        same(synack(got, 1000, opts), got, "SYN-ACK")
    if frames[1][TCP].seq != frames[0][TCP].seq:
        raise Failure("the retransmitted SYN-ACK has another sequence number")
    # RFC 6298 §2.1: with no RTT sample yet the RTO is 1 second
    gap = float(frames[1].time - frames[0].time)
    if abs(gap - 1.0) > 0.0005:
        raise Failure("SYN-ACK retransmitted after %.6f s, expected 1 s" % gap)
    expect_counter(st, "Tcp", "PassiveOpens", 1)
    expect_counter(st, "Tcp", "RetransSegs", 1)


def t_syn_no_opts(r):
    frames, st = r.replay("syn_no_opts", NEIGH, "--tcp-listen=80", "--linger=0.5")
    if len(frames) != 1:
        raise Failure("expected one SYN-ACK, got %d frames" % len(frames))
    # no option offered: only our MSS in answer (RFC 7323 §2.2, §3.2; RFC 2018 §2)
    opts = [("MSS", 1460)]
    same(synack(frames[0], 2000, opts), frames[0], "SYN-ACK")


def t_closed_port(name, exp_fn, counter_rsts=1):
    def run(r):
        frames, st = r.replay(name, NEIGH, "--tcp-listen=80")
        if exp_fn is None:
            nothing_sent(frames)
            return
        if len(frames) != 1:
            raise Failure("expected one RST, got %d frames" % len(frames))
        orig = rdpcap(os.path.join(r.inputs, name + ".pcap"))[0]
        same(with_id(exp_fn(orig), frames[0]), frames[0], "RST")
        expect_counter(st, "Tcp", "OutRsts", counter_rsts)
    return run


def rst_for_syn(orig):
    # RFC 9293 §3.10.7.1, no ACK in the segment: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    return Ether(dst=PEER_MAC, src=ST_MAC) / IP(src=ST_IP, dst=PEER_IP, ttl=64, flags="DF") / \
        TCP(sport=81, dport=40000, flags="RA", seq=0, ack=orig[TCP].seq + 1, window=0)


def rst_for_ack(orig):
    # RFC 9293 §3.10.7.1, ACK set: <SEQ=SEG.ACK><CTL=RST>
    return Ether(dst=PEER_MAC, src=ST_MAC) / IP(src=ST_IP, dst=PEER_IP, ttl=64, flags="DF") / \
        TCP(sport=81, dport=40000, flags="R", seq=orig[TCP].ack, ack=0, window=0)


def t_bad_flags(name):
    def run(r):
        frames, st = r.replay(name, NEIGH, "--tcp-listen=80")
        # a listener takes only a plain SYN (RFC 9293 §3.10.7.2): SYN+FIN and SYN+RST get nothing
        nothing_sent(frames)
        expect_counter(st, "Tcp", "PassiveOpens", 0)
    return run


def t_rel_exchange(r):
    frames, st = r.replay("rel_exchange", NEIGH, "--tcp-listen=80", "--isn-relative", "--linger=1")
    if len(frames) != 5:
        raise Failure("expected SYN-ACK, ACK, FIN and two FIN retransmissions, got %d frames: %s"
                      % (len(frames), [f.summary() for f in frames]))
    isn = frames[0][TCP].seq

    def out(flags, seq, ack, got):
        exp = Ether(dst=PEER_MAC, src=ST_MAC) / IP(src=ST_IP, dst=PEER_IP, ttl=64, flags="DF") / \
            TCP(sport=80, dport=40000, flags=flags, seq=(isn + seq) & 0xffffffff, ack=ack, window=65535)
        return with_id(exp, got)

    # RFC 9293 §3.5: SYN-ACK, our MSS only (the peer offered no other option)
    exp = out("SA", 0, 3001, frames[0])
    exp[TCP].options = [("MSS", 1460)]
    same(exp, frames[0], "SYN-ACK")
    # §3.10.7.4 eighth step: the FIN (after 14 bytes of data) is acknowledged at once: 3001 + 14 + 1
    same(out("A", 1, 3016, frames[1]), frames[1], "ACK of data and FIN")
    # the application read to the end and closed: our FIN (§3.6 case 1, passive side, LAST-ACK)
    for i in (2, 3, 4):
        same(out("FA", 1, 3016, frames[i]), frames[i], "FIN")
    # RFC 6298 §2.2: the handshake's 1 ms sample gives SRTT 1 ms, RTTVAR 0.5 ms, RTO 3 ms, raised to
    # the 200 ms floor (Linux's TCP_RTO_MIN); §5.5: then doubled
    gaps = [round(float(frames[i + 1].time - frames[i].time), 6) for i in (2, 3)]
    if gaps != [0.2, 0.4]:
        raise Failure("FIN retransmitted after %s s, expected [0.2, 0.4]" % gaps)
    expect_counter(st, "Tcp", "RetransSegs", 2)


CASES = [
    ("rel_exchange", "RFC 9293 §3.5, §3.6, RFC 6298: passive open, data, the peer's FIN acknowledged, our FIN "
     "retransmitted after 200 ms then 400 ms", t_rel_exchange),
    ("syn_linux_opts", "RFC 9293 §3.5, RFC 7323, RFC 2018, RFC 6298: a SYN with Linux's options gets a SYN-ACK "
     "with ours, sent again after 1 s",
     t_syn_linux_opts),
    ("syn_no_opts", "RFC 9293 §3.7.1: a SYN without options gets a SYN-ACK with MSS only", t_syn_no_opts),
    ("syn_closed_port", "RFC 9293 §3.10.7.1: a SYN to a closed port gets <SEQ=0><ACK=SEQ+1><RST,ACK>",
     t_closed_port("syn_closed_port", rst_for_syn)),
    ("ack_closed_port", "RFC 9293 §3.10.7.1: an ACK to a closed port gets <SEQ=SEG.ACK><RST>",
     t_closed_port("ack_closed_port", rst_for_ack)),
    ("rst_closed_port", "RFC 9293 §3.10.7.1: an RST to a closed port gets nothing",
     t_closed_port("rst_closed_port", None)),
    ("syn_fin", "RFC 9293 §3.10.7.2: SYN+FIN to a listener gets nothing", t_bad_flags("syn_fin")),
    ("syn_rst", "RFC 9293 §3.10.7.2: SYN+RST to a listener gets nothing", t_bad_flags("syn_rst")),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", required=True)
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    r = TcpRunner(args)
    passed = failed = 0
    for name, what, fn in CASES:
        try:
            fn(r)
            print("PASS %s: %s" % (name, what))
            passed += 1
        except (Failure, subprocess.SubprocessError, OSError) as e:
            print("FAIL %s: %s\n     %s" % (name, what, e))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
