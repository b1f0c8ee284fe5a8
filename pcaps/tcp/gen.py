#!/usr/bin/python3
"""The TCP corpus for ustack-replay (tools/ustack-replay, /work/replay_spec.md): for every case NAME,
NAME.in.pcap (what the peer sends), NAME.expect.pcap (what the RFCs say the stack sends) and NAME.args
(the extra ustack-replay flags), plus CASES.md (one line per case).

    /usr/bin/python3 pcaps/tcp/gen.py [OUTDIR]      (default: the directory of this script)

The peer is 198.18.0.1 (02:00:00:00:00:01), the stack 198.18.0.2 (02:00:00:00:00:02). Every expected
segment is built here from the RFCs, never copied from the stack's output. Numbers are relative as the
replay tool reads them by default: in the input, the peer's ACK numbers and TS echo values count from
the stack's ISN and first TSval (ack 1 acknowledges the stack's SYN); in the expectation, the stack's
own sequence numbers and TSvals are relative the same way (its SYN is seq 0, its first TSval 0), and
the peer's numbers are absolute everywhere. Closed-port cases, which have no stack ISN to count from,
are replayed with --absolute.

What the RFCs leave to the implementation is taken from the stack's documented configuration, never
from its output:
  - MSS 1460 (MTU 1500 - 40, RFC 9293 §3.7.1); options laid out as Linux lays them out (MSS,
    SACK-permitted, timestamps, NOP + window scale); the send MSS is the peer's MSS (536 without the
    option) less the 12 bytes of the timestamp option on every segment once timestamps are on.
  - receive buffer 256 KiB: window scale 3 on a passive open (the smallest shift that fits 262144 in
    16 bits), 7 on an active open (as Linux); a SYN's window is 65535 (RFC 7323 §2.2: never scaled).
  - the window follows RFC 9293 §3.8.6.2.2 / RFC 1122 §4.2.3.3 (receiver SWS avoidance: the right edge
    never moves left, and moves right only by at least min(buffer/2, MSS)), rounded up to the scale
    granularity so the edge never recedes (RFC 7323 §2.3): see RcvWin.
  - RTO: RFC 6298, initial 1 s, floor 200 ms (Linux's TCP_RTO_MIN); delayed ACK 40 ms (Linux's
    minimum; RFC 1122 §4.2.3.2 asks for less than 500 ms and an ACK for every second full segment);
    TIME-WAIT 60 s (2 MSL, Linux's); initial window 10 segments (RFC 6928, as Linux); NewReno.
  - TTL 64, DF set; the IPv4 identification is the stack's (RFC 6864: meaningless with DF), so every
    case is replayed with --ignore ip.id and the expectation carries id 0.
  - the replay tool's applications (tools/replay_app.c): see NOTES at the end, written to CASES.md.
"""
import os
import sys

from scapy.all import ARP, IP, TCP, Ether, Raw, wrpcap

PEER_MAC, ST_MAC, BCAST = "02:00:00:00:00:01", "02:00:00:00:00:02", "ff:ff:ff:ff:ff:ff"
PEER_IP, ST_IP = "198.18.0.1", "198.18.0.2"
BASE_TIME = 1700000000
MASK = 0xffffffff
NEIGH = "--neigh %s=%s" % (PEER_IP, PEER_MAC)
COMMON = [NEIGH, "--ignore ip.id"]
MSS = 1460		# the stack's MSS: MTU 1500 - 40
RCVBUF = 262144		# the stack's receive buffer
SYN_WIN = 65535		# a SYN's window (RFC 7323 §2.2: not scaled), the buffer clipped to 16 bits
DELACK = 40		# ms
PEER_PORT, ST_PORT = 40000, 80		# passive opens: the peer connects to the stack's listener
CONNECT_PORT = 9			# active opens: the stack connects to the peer's port 9 (discard, RFC 863)
CONNECT_LPORT = 40001			# active opens: the stack's local port (--connect ...,lport=)
LINUX = dict(mss=1460, sack=True, ts=True, ws=7)	# what a Linux peer offers
ALL = ("mss", "ws", "ts", "sack")


def pattern(n, start=0):
    """The bytes the replay tool's send=N application sends: byte i is i mod 251."""
    return bytes((start + i) % 251 for i in range(n))


def text(n, seed=0):
    """Peer data: printable, distinct per seed."""
    return bytes(0x21 + (seed * 13 + i * 7) % 94 for i in range(n))


def seq_le(a, b):
    return ((b - a) & MASK) < 0x80000000


def syn_options(mss=None, sack=False, ts=None, ws=None):
    """A SYN's options as Linux lays them out (the stack does the same, stack/tcp_output.c): MSS;
    SACK-permitted and timestamps (with two NOPs in front of whichever comes alone); NOP + window
    scale. ts is (TSval, TSecr) or None."""
    o = []
    if mss is not None:
        o.append(("MSS", mss))
    if sack and ts is not None:
        o += [("SAckOK", b""), ("Timestamp", ts)]
    elif sack:
        o += [("NOP", None), ("NOP", None), ("SAckOK", b"")]
    elif ts is not None:
        o += [("NOP", None), ("NOP", None), ("Timestamp", ts)]
    if ws is not None:
        o += [("NOP", None), ("WScale", ws)]
    return o


def ts_options(tsval, tsecr):
    return [("NOP", None), ("NOP", None), ("Timestamp", (tsval & MASK, tsecr & MASK))]


class RcvWin:
    """The window the stack advertises (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3: the right edge never
    recedes and moves right only by at least min(buffer/2, MSS); RFC 7323 §2.3: the field is the
    window >> shift, rounded up when rounding down would pull the edge back). used: bytes received
    and not yet read by the application (including out-of-order data) when the segment is sent."""

    def __init__(self, shift, buf=RCVBUF, mss=MSS):
        self.shift, self.buf, self.step = shift, buf, min(buf // 2, mss)
        self.edge = None

    def field(self, ack, used=0, syn=False, ackflag=True):
        avail = max(self.buf - used, 0)
        offered = 0
        if self.edge is not None and ((self.edge - ack) & MASK) < 0x80000000:
            offered = (self.edge - ack) & MASK
        if avail < offered:
            wnd = offered
        elif avail - offered < self.step and offered:
            wnd = offered
        else:
            wnd = avail
        wnd = min(wnd, 65535 << self.shift)
        if self.shift:
            g = 1 << self.shift
            down = wnd & ~(g - 1)
            wnd = down if down >= offered else (offered + g - 1) & ~(g - 1)
        if syn:
            wnd = min(wnd, SYN_WIN)
        if ackflag:
            self.edge = (ack + wnd) & MASK
        return wnd if syn else wnd >> self.shift


class Case:
    """One case: the peer's frames in, the stack's frames expected, the flags, and one line of doc."""

    def __init__(self, name, doc, args, linger):
        self.name, self.doc = name, doc
        self.args = list(COMMON) + list(args) + ["--linger %g" % linger]
        self.inp, self.exp = [], []
        self.ip_id = 0x100
        # RFC 5227 §2.3: the stack announces its address when it is configured, before the first frame
        self.stack_frame(0, Ether(dst=BCAST, src=ST_MAC) /
                         ARP(op=1, hwsrc=ST_MAC, psrc=ST_IP, hwdst="00:00:00:00:00:00", pdst=ST_IP))

    def peer_frame(self, t, pkt):
        if IP in pkt:
            pkt[IP].id = self.ip_id
            self.ip_id += 1
        assert not self.inp or t >= self.inp[-1][0], (self.name, t)
        self.inp.append((t, pkt))

    def stack_frame(self, t, pkt):
        assert not self.exp or t >= self.exp[-1][0], (self.name, t)
        self.exp.append((t, pkt))

    def start_clock(self):
        """A frame the stack ignores (IEEE local experimental ethertype), for cases whose first event
        is the stack's own (an active open at 0 s)."""
        self.peer_frame(0, Ether(src=PEER_MAC, dst=ST_MAC, type=0x88b5) / Raw(b"ustack-replay clock start" + b"\0" * 21))

    def write(self, out):
        def stamp(frames):
            pkts = []
            for t, p in frames:
                p = p.__class__(bytes(p))	# fill in lengths and checksums now
                p.time = BASE_TIME + t / 1000.0
                pkts.append(p)
            return pkts
        wrpcap(os.path.join(out, self.name + ".in.pcap"), stamp(self.inp))
        wrpcap(os.path.join(out, self.name + ".expect.pcap"), stamp(self.exp))
        with open(os.path.join(out, self.name + ".args"), "w") as f:
            f.write(" ".join(self.args) + "\n")


def peer_ip():
    return Ether(src=PEER_MAC, dst=ST_MAC) / IP(src=PEER_IP, dst=ST_IP, ttl=64, flags="DF")


def stack_ip():
    return Ether(src=ST_MAC, dst=PEER_MAC) / IP(src=ST_IP, dst=PEER_IP, ttl=64, flags="DF", id=0)


def closed_rst(seg):
    """RFC 9293 §3.10.7.1 (and §3.10.7.2 for an ACK to a listener): the reset that answers a segment
    no connection owns, without options and with a zero window."""
    t = seg[TCP]
    flags = str(t.flags)
    seglen = len(bytes(t.payload)) + ("S" in flags) + ("F" in flags)
    if "A" in flags:
        tcp = TCP(sport=t.dport, dport=t.sport, flags="R", seq=t.ack, ack=0, window=0)	# <SEQ=SEG.ACK><CTL=RST>
    else:
        tcp = TCP(sport=t.dport, dport=t.sport, flags="RA", seq=0, ack=(t.seq + seglen) & MASK, window=0)
    return stack_ip() / tcp


class Conn:
    """One connection between the peer and the stack, seen from the test: it writes the peer's
    segments and the segments RFC 9293 says the stack answers with, keeping the sequence numbers, the
    stack's RCV.NXT, its advertised window (RcvWin) and its timestamps (RFC 7323 §4.3: TS.Recent is
    updated from a segment with SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent).

    peer: the options the peer puts on its SYN or SYN-ACK (dict: mss, sack, ts, ws); offer: the options
    the stack offers (--tcp-opt). Stack sequence numbers are relative (SYN = 0), the peer's absolute."""

    def __init__(self, case, passive=True, peer=LINUX, offer=ALL, p_isn=1000000, rcvbuf=RCVBUF,
                 pport=None, sport=None, ts_tick=100):
        self.c = case
        self.passive = passive
        self.pport = pport if pport is not None else (PEER_PORT if passive else CONNECT_PORT)
        self.sport = sport if sport is not None else (ST_PORT if passive else CONNECT_LPORT)
        self.peer = dict(peer or {})
        self.offer = set(offer)
        self.ts = bool(self.peer.get("ts")) and "ts" in self.offer
        self.sack = bool(self.peer.get("sack")) and "sack" in self.offer
        self.ws_ok = "ws" in self.peer and "ws" in self.offer
        self.rcv_ws = (3 if passive else 7) if self.ws_ok else 0
        self.snd_ws = self.peer["ws"] if self.ws_ok else 0
        # RFC 9293 §3.7.1: 536 without the option; less the timestamp option carried on every segment
        self.smss = min(self.peer.get("mss", 536), MSS) - (12 if self.ts else 0)
        self.win = RcvWin(self.rcv_ws, rcvbuf)
        self.p_isn = p_isn
        self.p_nxt = p_isn			# the peer's next sequence number
        self.rcv_nxt = None			# the stack's RCV.NXT
        self.s_nxt = 0				# the stack's next sequence number (relative)
        self.s_max = 0
        self.t0 = None				# ms of the stack's first TSval
        self.last_tsval = 0			# the stack's latest TSval (relative), what the peer echoes
        self.ts_recent = 0
        self.last_ack_sent = None
        self.ts_tick = ts_tick
        self.peer_win = 502 if self.ws_ok else 64240	# 64256 bytes at the peer's scale 7
        self.peer_fin = False

    # ---- the peer ----

    def p_tsval(self, t):
        """The peer's timestamp clock: 1 tick per ts_tick ms (RFC 7323 §5.4 allows 1 ms to 1 s)."""
        return 700000 + t // self.ts_tick

    def p_syn_opts(self, t, tsecr=0):
        pr = self.peer
        ts = (self.p_tsval(t), tsecr) if pr.get("ts") else None
        return syn_options(pr.get("mss"), bool(pr.get("sack")), ts, pr.get("ws"))

    def p(self, t, flags, data=b"", seq=None, ack=None, win=None, tsval=None, tsecr=None, opts=None,
          acceptable=True, deliver=None, advance=None):
        """A segment from the peer. ack: relative to the stack's ISN (default: all the stack sent);
        deliver: whether the stack's RCV.NXT moves over it (default: in order, not a RST); advance:
        whether the peer's next sequence number moves past it (default: not beyond it, not a RST)."""
        if seq is None:
            seq = self.p_nxt
        if "A" in flags and ack is None:
            ack = self.s_max
        if win is None:
            win = 64240 if "S" in flags else self.peer_win	# a SYN's window is not scaled
        seglen = len(data) + ("S" in flags) + ("F" in flags)
        if opts is None:
            opts = []
            if self.ts and "R" not in flags:
                tv = tsval if tsval is not None else self.p_tsval(t)
                te = tsecr if tsecr is not None else (self.last_tsval if "A" in flags else 0)
                opts = ts_options(tv, te)
                if (acceptable and "S" not in flags and self.last_ack_sent is not None and
                        seq_le(seq, self.last_ack_sent) and tv >= self.ts_recent):
                    self.ts_recent = tv			# RFC 7323 §4.3 (2)
        if advance is None:
            advance = seq_le(seq, self.p_nxt) and "R" not in flags and acceptable
        if advance and seq_le(self.p_nxt, (seq + seglen) & MASK):
            self.p_nxt = (seq + seglen) & MASK
        if deliver is None:
            deliver = self.rcv_nxt is not None and seq == self.rcv_nxt and "R" not in flags and acceptable
        if deliver:
            self.rcv_nxt = (self.rcv_nxt + seglen) & MASK
            if "F" in flags:
                self.peer_fin = True
        pkt = peer_ip() / TCP(sport=self.pport, dport=self.sport, flags=flags, seq=seq & MASK,
                              ack=(ack or 0) & MASK, window=win, options=opts)
        if data:
            pkt = pkt / Raw(data)
        self.c.peer_frame(t, pkt)
        return pkt

    def p_syn(self, t, win=64240, **kw):
        """The peer's SYN (passive open, or a simultaneous open)."""
        self.ts_recent = self.p_tsval(t) if self.peer.get("ts") else 0
        self.rcv_nxt = (self.p_isn + 1) & MASK
        self.p_nxt = self.p_isn
        return self.p(t, "S", seq=self.p_isn, win=win, opts=self.p_syn_opts(t), deliver=False, **kw)

    def p_synack(self, t, ack=1, win=64240, tsecr=0):
        """The peer's SYN-ACK to the stack's SYN (active open)."""
        if self.peer.get("ts"):
            self.ts_recent = self.p_tsval(t)
        self.rcv_nxt = (self.p_isn + 1) & MASK
        self.p_nxt = self.p_isn
        return self.p(t, "SA", seq=self.p_isn, ack=ack, win=win, opts=self.p_syn_opts(t, tsecr), deliver=False)

    # ---- the stack ----

    def tsval(self, t):
        return (t - self.t0) & MASK

    def s(self, t, flags, data=b"", seq=None, ack=None, used=0, win=None, opts=None, sack=None):
        """A segment the stack sends: seq relative (default SND.NXT), ack absolute (default RCV.NXT),
        the window from RcvWin with `used` bytes not yet read; `sack`: the SACK blocks it carries
        (absolute peer sequence numbers, RFC 2018 §3: NOP, NOP, kind 5, after the timestamps)."""
        if seq is None:
            seq = self.s_nxt
        if ack is None:
            ack = self.rcv_nxt if "A" in flags else 0
        syn = "S" in flags
        if syn and self.t0 is None:
            self.t0 = t
        if win is None:
            win = 0 if "R" in flags else self.win.field(ack, used, syn=syn, ackflag="A" in flags)
        if opts is None:
            if syn:
                opts = self.s_syn_opts(t)
            elif self.ts:
                opts = ts_options(self.tsval(t), self.ts_recent)
            else:
                opts = []
            if sack:
                opts = list(opts) + [("NOP", None), ("NOP", None),
                                     ("SAck", tuple(x & MASK for b in sack for x in b))]
        if self.ts or syn:
            self.last_tsval = self.tsval(t)
        if "A" in flags:
            self.last_ack_sent = ack
        seglen = len(data) + syn + ("F" in flags)
        if seq == self.s_nxt:
            self.s_nxt = (seq + seglen) & MASK
            if ((self.s_nxt - self.s_max) & MASK) < 0x80000000:
                self.s_max = self.s_nxt
        pkt = stack_ip() / TCP(sport=self.sport, dport=self.pport, flags=flags, seq=seq & MASK,
                               ack=ack & MASK, window=win, options=opts)
        if data:
            pkt = pkt / Raw(data)
        self.c.stack_frame(t, pkt)
        return pkt

    def s_syn_opts(self, t):
        """The stack's SYN (active: everything it offers) or SYN-ACK (what the peer's SYN offered too:
        RFC 7323 §2.2, §3.2, RFC 2018 §2)."""
        offered_by_peer = self.passive or self.rcv_nxt is not None
        if offered_by_peer:
            sack, ts, ws = self.sack, self.ts, self.ws_ok
        else:
            sack, ts, ws = "sack" in self.offer, "ts" in self.offer, "ws" in self.offer
        tsecr = self.ts_recent if offered_by_peer else 0
        return syn_options(MSS, sack, (self.tsval(t), tsecr) if ts else None,
                           (3 if self.passive else 7) if ws else None)

    def s_syn(self, t):
        """The stack's SYN (active open, RFC 9293 §3.5): seq 0 relative, window 65535 unscaled."""
        return self.s(t, "S", seq=0, ack=0)

    def s_synack(self, t, **kw):
        return self.s(t, "SA", seq=0, **kw)

    def s_ack(self, t, **kw):
        return self.s(t, "A", **kw)

    def s_data(self, t, data, flags="A", **kw):
        return self.s(t, flags, data=data, **kw)

    def s_segments(self, t, data, more=False, **kw):
        """The stack's data cut at the send MSS (RFC 9293 §3.7.1), PSH on the last segment, when no more
        data is queued (RFC 9293 §3.9.1.2 MUST-61: without PUSH on SEND calls, the last buffered segment
        carries PSH)."""
        out = []
        for i in range(0, len(data), self.smss):
            last = i + self.smss >= len(data) and not more
            out.append(self.s(t, "PA" if last else "A", data=data[i:i + self.smss], **kw))
        return out

    def s_fin(self, t, **kw):
        return self.s(t, "FA", **kw)

    def read(self, t):
        """The application reads everything in order at t. If that lets the window at least double, the
        new window is announced at once; otherwise it rides on the next ACK the delayed-ACK rules send
        (RFC 9293 §3.8.6.2.2 / RFC 1122 §4.2.3.3: the window update "combines with the delayed ACK
        algorithm"; the doubling test is Linux's, tcp_cleanup_rbuf). In practice: the first read of a
        connection whose SYN-ACK offered 65535 of a 256 KiB buffer."""
        if self.peer_fin:
            return None	# no window to open for a peer that has finished sending
        edge = self.win.edge
        offered = (edge - self.rcv_nxt) & MASK if edge is not None else 0
        after = min(self.win.buf, 65535 << self.win.shift)
        if after >= 2 * offered:
            return self.s_ack(t)
        return None

    # ---- common openings ----

    def passive_open(self, t_syn=0, t_ack=1):
        """RFC 9293 §3.5 figure 6 from the listener's side: SYN in, SYN-ACK out at once, ACK in."""
        self.p_syn(t_syn)
        self.s_synack(t_syn)
        self.p(t_ack, "A")

    def active_open(self, t_syn=0, t_synack=5):
        """RFC 9293 §3.5 figure 6 from the connecting side: SYN out at --connect time, SYN-ACK in, the
        ACK out at once (§3.10.7.3 fourth)."""
        self.s_syn(t_syn)
        self.p_synack(t_synack)
        self.s_ack(t_synack)


CASES = []


def case(name, doc, args=(), linger=1.0, counters=None):
    """A new case; counters: {"Group.Name": value} checked after the run (--expect-counter, the stack's
    counters by their Linux names), a second witness that the mechanism the case is about ran."""
    args = list(args) + ["--expect-counter %s=%d" % kv for kv in sorted((counters or {}).items())]
    c = Case(name, doc, args, linger)
    CASES.append(c)
    return c


def listen(action=None):
    return "--listen %d%s" % (ST_PORT, ":" + action if action else "")


def connect(send=None, at=None):
    s = "--connect %s:%d,lport=%d" % (PEER_IP, CONNECT_PORT, CONNECT_LPORT)
    if at is not None:
        s += ",at=%g" % at
    if send is not None:
        s += ",send=%d" % send
    return s


def tcp_opt(offer):
    return "--tcp-opt " + (",".join(offer) if offer else "none")


# ============================================================================================
# Passive open: the SYN-ACK's options answer the SYN's (RFC 9293 §3.7.1, RFC 7323 §2.2, §3.2,
# RFC 2018 §2); then data echoed with the negotiated options, the peer's FIN (RFC 9293 §3.6 case 2)
# ============================================================================================

def passive_lifecycle(name, doc, peer, offer=ALL):
    """SYN, SYN-ACK, ACK; 5 bytes echoed (the negotiated window and timestamps on every segment);
    the peer's FIN acknowledged, the stack's FIN after the application closes, the last ACK."""
    args = [listen("echo")] + ([tcp_opt(offer)] if tuple(offer) != ALL else [])
    c = case(name, doc, args)
    k = Conn(c, peer=peer, offer=offer)
    k.passive_open()
    d = text(5)
    k.p(2, "PA", d)
    k.read(2)			# with a scaled window: the first read opens it past 65535 at once
    k.s_data(2, d, flags="PA")	# the echo carries the ACK (RFC 9293 §3.10.7.4 seventh: piggybacked)
    k.p(3, "A")
    k.p(4, "FA")
    k.s_ack(4)		# §3.10.7.4 eighth: the FIN is acknowledged at once (CLOSE-WAIT)
    k.s_fin(4)		# the application read end of stream and closed: LAST-ACK
    k.p(5, "A")		# CLOSED: nothing more


passive_lifecycle("passive_opts_all", "a SYN with MSS, SACK-permitted, timestamps and window scale gets all four "
                  "back (window scale 3 for a 256 KiB buffer); the data and FIN exchange that follows carries "
                  "timestamps and a scaled window (RFC 9293 §3.5, §3.7.1; RFC 7323 §2.2, §3.2; RFC 2018 §2)", LINUX)
passive_lifecycle("passive_opts_none", "a SYN without options gets a SYN-ACK with MSS only; no option after it and "
                  "an unscaled window (RFC 9293 §3.7.1; RFC 7323 §2.2, §3.2; RFC 2018 §2)", {})
passive_lifecycle("passive_opts_ws", "a SYN with MSS and window scale only: SYN-ACK MSS, NOP, WS 3; the later "
                  "windows are scaled by 3 (RFC 7323 §2.2, §2.3)", dict(mss=1460, ws=7))
passive_lifecycle("passive_opts_ts", "a SYN with MSS and timestamps only: SYN-ACK MSS, NOP, NOP, TS echoing the "
                  "SYN's TSval; every later segment carries TS (RFC 7323 §3.2, §4.3)", dict(mss=1460, ts=True))
passive_lifecycle("passive_opts_sack", "a SYN with MSS and SACK-permitted only: SYN-ACK MSS, NOP, NOP, "
                  "SACK-permitted (RFC 2018 §2)", dict(mss=1460, sack=True))
passive_lifecycle("passive_offer_mss", "--tcp-opt mss: to a SYN offering all four options the stack answers with MSS "
                  "only, and uses neither timestamps nor window scaling after (RFC 7323 §2.2, §3.2)", LINUX, ("mss",))
passive_lifecycle("passive_offer_mss_ts", "--tcp-opt mss,ts: SYN-ACK MSS, NOP, NOP, TS; unscaled windows after "
                  "(RFC 7323 §2.2, §3.2)", LINUX, ("mss", "ts"))
passive_lifecycle("passive_offer_mss_ws", "--tcp-opt mss,ws: SYN-ACK MSS, NOP, WS 3; no timestamps after "
                  "(RFC 7323 §2.2, §3.2)", LINUX, ("mss", "ws"))
passive_lifecycle("passive_offer_mss_sack", "--tcp-opt mss,sack: SYN-ACK MSS, NOP, NOP, SACK-permitted "
                  "(RFC 2018 §2; RFC 7323 §2.2, §3.2)", LINUX, ("mss", "sack"))
passive_lifecycle("passive_offer_no_ts", "--tcp-opt mss,ws,sack: SYN-ACK MSS, NOP, NOP, SACK-permitted, NOP, WS 3; "
                  "no timestamps after (RFC 7323 §3.2; RFC 2018 §2)", LINUX, ("mss", "ws", "sack"))


def passive_mss_segments(name, doc, peer, n):
    """The echo of n bytes is cut at the peer's MSS; Nagle (RFC 9293 §3.7.4) holds the short tail until
    the first segment is acknowledged."""
    c = case(name, doc, [listen("echo")])
    k = Conn(c, peer=peer)
    k.passive_open()
    d = text(n, 1)
    k.p(2, "PA", d)
    k.read(2)
    k.s_data(2, d[:k.smss])	# more is queued behind it: no PSH
    k.p(10, "A", ack=1 + k.smss)
    k.s_data(10, d[k.smss:], flags="PA")	# the last buffered segment: PSH (RFC 9293 §3.9.1.2)
    k.p(11, "A")
    k.p(12, "FA")
    k.s_ack(12)
    k.s_fin(12)
    k.p(13, "A")


passive_mss_segments("passive_mss_default_536", "no MSS option: the stack sends at most 536 bytes per segment "
                     "(RFC 9293 §3.7.1 MUST-15); 1000 bytes echoed as 536 then, once acknowledged, 464 "
                     "(Nagle, RFC 9293 §3.7.4)", {}, 1000)
passive_mss_segments("passive_mss_1200", "MSS 1200 from the peer: 1300 bytes echoed as 1200 + 100 "
                     "(RFC 9293 §3.7.1; Nagle §3.7.4)", dict(mss=1200), 1300)


def passive_mtu_1000():
    c = case("passive_mtu_1000", "--mtu 1000: the SYN-ACK's MSS is 960 (MTU - 40, RFC 9293 §3.7.1) and the stack "
             "sends at most 960 - 12 = 948 bytes per segment to a peer that offered 1460 (the effective send MSS "
             "is the smaller, RFC 9293 §3.7.1, RFC 1122 §4.2.2.6): send=1000 goes as 948 + 52 and the FIN",
             [listen("send=1000"), "--mtu 1000"])
    k = Conn(c)
    k.smss = 960 - 12
    k.p_syn(0)
    k.s_synack(0, opts=syn_options(960, True, (0, k.ts_recent), 3))
    k.p(10, "A")
    k.s_segments(10, pattern(1000))
    k.s_fin(10)
    k.p(20, "A")
    k.p(21, "FA")
    k.s_ack(21)


passive_mtu_1000()


def syn_linux_opts():
    c = case("syn_linux_opts", "(migrated) a SYN with Linux's options and no ACK after: the SYN-ACK is sent "
             "again after 1 s, then 2 s (RFC 6298 §2.1 initial RTO, §5.5 back-off), same ISN, TSval moving on",
             [listen()], linger=3.5)
    k = Conn(c)
    k.p_syn(0)
    k.s_synack(0)
    k.s_synack(1000)
    k.s_synack(3000)


syn_linux_opts()


def exchange():
    c = case("exchange", "(migrated) a request and the peer's FIN right after: the FIN is acknowledged at once with "
             "the data (RFC 9293 §3.10.7.4 eighth), the stack's FIN follows when the application closes; "
             "unacknowledged, it is sent again after 200 ms and 400 ms (RFC 6298 §2.2 with a 1 ms RTT, the "
             "200 ms floor, §5.5)", [listen("discard")])
    k = Conn(c)
    k.passive_open()
    k.p(2, "PA", b"GET / HTTP/1.0\r\n\r\n")
    k.read(2)
    k.p(3, "FA")
    k.s_ack(3)
    k.s_fin(3)
    k.s_fin(203, seq=1)
    k.s_fin(603, seq=1)


exchange()


def rel_exchange():
    c = case("rel_exchange", "(migrated) MSS-only passive open, 14 bytes, the peer's FIN: ACK of data and FIN, "
             "the stack's FIN sent again after 200 ms then 400 ms (RFC 9293 §3.6; RFC 6298 §2.2: a 1 ms RTT "
             "from the SYN-ACK gives RTO 3 ms, raised to the 200 ms floor; §5.5)", [listen("discard")])
    k = Conn(c, peer=dict(mss=1460), p_isn=3000)
    k.passive_open()
    k.p(2, "PA", b"hello, ustack\n")
    k.read(2)
    k.p(3, "FA")
    k.s_ack(3)
    k.s_fin(3)
    k.s_fin(203, seq=1)
    k.s_fin(603, seq=1)


rel_exchange()


# ============================================================================================
# Active open (--connect): the stack's SYN offers what --tcp-opt allows; the options in force are
# those both offered (RFC 7323 §2.2, §3.2; RFC 2018 §2; RFC 9293 §3.7.1)
# ============================================================================================

def active_lifecycle(name, doc, peer, offer=ALL, n=100):
    """SYN out; SYN-ACK in; ACK out, then n bytes of send=N cut at the send MSS, a short tail held by
    Nagle until the rest is acknowledged (RFC 9293 §3.7.4); the peer acknowledges and sends its FIN:
    the ACK, and the stack's FIN as the application closes at end of stream (LAST-ACK)."""
    args = [connect(send=n)] + ([tcp_opt(offer)] if tuple(offer) != ALL else [])
    c = case(name, doc, args)
    c.start_clock()
    k = Conn(c, passive=False, peer=peer, offer=offer)
    k.active_open()
    d = pattern(n)
    full = n - n % k.smss if n % k.smss and n > k.smss else n
    k.s_segments(5, d[:full], more=full < n)
    t = 10
    if full < n:
        k.p(t, "A")
        k.s_data(t, d[full:], flags="PA")
        t += 1
    k.p(t, "A")
    k.p(t + 1, "FA")
    k.s_ack(t + 1)
    k.s_fin(t + 1)
    k.p(t + 2, "A")


active_lifecycle("active_opts_all", "--connect: the SYN offers MSS 1460, SACK-permitted, timestamps (TSecr 0) and "
                 "window scale 7, window 65535; a SYN-ACK with all four gets the ACK with a window scaled by 7 and "
                 "timestamps on every segment after (RFC 9293 §3.5, §3.10.7.3; RFC 7323 §2.2, §3.2)", LINUX)
active_lifecycle("active_opts_none", "--connect: a SYN-ACK without options: no timestamps, an unscaled window, and "
                 "segments of at most 536 bytes (RFC 9293 §3.7.1 MUST-15; RFC 7323 §2.2, §3.2)", {}, n=1000)
active_lifecycle("active_opts_mss", "--connect: a SYN-ACK with MSS 1000 only: 1500 bytes go as 1000 + 500 "
                 "(RFC 9293 §3.7.1)", dict(mss=1000), n=1500)
active_lifecycle("active_opts_ws", "--connect: a SYN-ACK with MSS and window scale: the stack's windows are scaled by "
                 "the 7 it offered (RFC 7323 §2.2, §2.3)", dict(mss=1460, ws=7))
active_lifecycle("active_opts_ts", "--connect: a SYN-ACK with MSS and timestamps: TS on every segment, echoing the "
                 "peer's TSval (RFC 7323 §3.2, §4.3)", dict(mss=1460, ts=True))
active_lifecycle("active_opts_sack", "--connect: a SYN-ACK with MSS and SACK-permitted only (RFC 2018 §2)",
                 dict(mss=1460, sack=True))
active_lifecycle("active_offer_mss", "--connect --tcp-opt mss: the SYN offers MSS only (RFC 9293 §3.7.1)",
                 dict(mss=1460), ("mss",))
active_lifecycle("active_offer_mss_ts", "--connect --tcp-opt mss,ts: SYN MSS, NOP, NOP, TS (RFC 7323 §3.2)",
                 dict(mss=1460, ts=True), ("mss", "ts"))
active_lifecycle("active_offer_mss_ws", "--connect --tcp-opt mss,ws: SYN MSS, NOP, WS 7 (RFC 7323 §2.2)",
                 dict(mss=1460, ws=7), ("mss", "ws"))
active_lifecycle("active_offer_mss_sack", "--connect --tcp-opt mss,sack: SYN MSS, NOP, NOP, SACK-permitted "
                 "(RFC 2018 §2)", dict(mss=1460, sack=True), ("mss", "sack"))


def active_syn_retrans():
    c = case("active_syn_retrans", "--connect to a peer that never answers: the SYN is sent at 0 s, 1 s, 3 s, 7 s "
             "(RFC 6298 §2.1 initial RTO 1 s, §5.5 doubling; RFC 9293 §3.8.1), same ISN, TSval = elapsed ms",
             [connect()], linger=10)
    c.start_clock()
    k = Conn(c, passive=False)
    for t in (0, 1000, 3000, 7000):
        k.s_syn(t)


active_syn_retrans()


# ============================================================================================
# Data in order: delayed ACK, an ACK for every second full-sized segment (RFC 1122 §4.2.3.2,
# RFC 5681 §4.2, RFC 9293 §3.8.6.3)
# ============================================================================================

def open_window(k, t=10):
    """10 bytes whose reading lets the window grow from the SYN-ACK's 65535 to the whole buffer: the
    update goes at once (Conn.read), so the data after meets the delayed-ACK rules alone."""
    k.p(t, "PA", text(10, 9))
    k.read(t)


def data_delack_40ms():
    c = case("data_delack_40ms", "100 bytes in order (window already open) are acknowledged 40 ms later, not at "
             "once (delayed ACK, RFC 9293 §3.8.6.3: less than 0.5 s; RFC 1122 §4.2.3.2)", [listen("discard")])
    k = Conn(c)
    k.passive_open()
    open_window(k)
    k.p(100, "PA", text(100))
    k.read(100)
    k.s_ack(100 + DELACK)
    k.p(200, "FA")
    k.s_ack(200)
    k.s_fin(200)
    k.p(201, "A")


data_delack_40ms()


def data_delack_two_small():
    c = case("data_delack_two_small", "two small segments 10 ms apart: one delayed ACK 40 ms after the first covers "
             "both (RFC 9293 §3.8.6.3; RFC 1122 §4.2.3.2; RFC 5681 §4.2)", [listen("discard")])
    k = Conn(c)
    k.passive_open()
    open_window(k)
    k.p(100, "PA", text(10))
    k.read(100)
    k.p(110, "PA", text(10, 1))
    k.read(110)
    k.s_ack(100 + DELACK)
    k.p(200, "FA")
    k.s_ack(200)
    k.s_fin(200)
    k.p(201, "A")


data_delack_two_small()


def data_ack_every_second(name, doc, peer):
    c = case(name, doc, [listen("discard")])
    k = Conn(c, peer=peer)
    k.passive_open()
    open_window(k)
    n = k.smss
    k.p(20, "A", text(n))
    k.read(20)
    k.p(21, "A", text(n, 1))
    k.s_ack(21, used=n)	# the second full-sized segment since the last ACK: at once, before it is read
    k.read(21)		# the window moved by less than double: no update of its own
    k.p(22, "A", text(n, 2))
    k.read(22)
    k.s_ack(22 + DELACK)	# the third waits for the delayed ACK
    k.p(100, "FA")
    k.s_ack(100)
    k.s_fin(100)
    k.p(101, "A")


data_ack_every_second("data_ack_every_second", "full-sized segments (1448 bytes: MSS 1460 less the timestamp "
                      "option) read as they come: the second is acknowledged at once, the third 40 ms later, and "
                      "reading them sends no extra window updates (RFC 9293 §3.8.6.3 SHLD-19: an ACK for at least "
                      "every second full-sized segment; §3.8.6.2.2: window updates combine with the delayed-ACK "
                      "algorithm; RFC 5681 §4.2)", LINUX)
data_ack_every_second("data_ack_every_second_nots", "full-sized segments of 1460 bytes (no timestamps) read as they "
                      "come: the second acknowledged at once, the third 40 ms later, no window update per segment "
                      "read (RFC 9293 §3.8.6.3, §3.8.6.2.2; RFC 1122 §4.2.3.2, §4.2.3.3)",
                      dict(mss=1460, sack=True, ws=7))


def ts_echo_delayed_ack():
    c = case("ts_echo_delayed_ack", "one delayed ACK for two segments with different TSvals echoes the earlier "
             "(RFC 7323 §4.3: TS.Recent is taken only from a segment with SEG.SEQ =< Last.ACK.sent, so the RTT "
             "the peer measures includes the delay)", [listen("discard")])
    k = Conn(c, ts_tick=1)
    k.passive_open()
    open_window(k)
    k.p(100, "PA", text(10))
    k.read(100)
    k.p(110, "PA", text(10, 1))
    k.read(110)
    k.s_ack(100 + DELACK)
    k.p(200, "FA")
    k.s_ack(200)
    k.s_fin(200)
    k.p(201, "A")


ts_echo_delayed_ack()


def seq_wrap():
    c = case("seq_wrap", "the peer's sequence numbers wrap past 2^32 inside a segment: the ACK is modulo 2^32 "
             "(RFC 9293 §3.4)", [listen("echo")])
    k = Conn(c, p_isn=0xffffff00)
    k.passive_open()
    d = text(512, 3)
    k.p(10, "PA", d)
    k.read(10)
    k.s_data(10, d, flags="PA")
    k.p(11, "A")
    k.p(20, "FA")
    k.s_ack(20)
    k.s_fin(20)
    k.p(21, "A")


seq_wrap()


def data_fin_together():
    c = case("data_fin_together", "data and FIN in one segment: one ACK for both at once (RFC 9293 §3.10.7.4 "
             "eighth: the FIN is acknowledged, and implies PUSH), then the data echoed and the stack's FIN",
             [listen("echo")])
    k = Conn(c)
    k.passive_open()
    d = text(5, 2)
    k.p(10, "FPA", d)
    k.s_ack(10, used=5)
    k.read(10)
    k.s_data(10, d, flags="PA")
    k.s_fin(10)
    k.p(11, "A")


data_fin_together()


def peer_window_scaled():
    c = case("peer_window_scaled", "the peer's window field 12 at its scale 7 means 1536 bytes: one 1448-byte "
             "segment at a time (not 12 bytes), the rest as it acknowledges (RFC 7323 §2.3; RFC 9293 §3.8.6.2.1 "
             "sender SWS avoidance keeps the 88-byte leftover back)", [listen("send=3000")])
    k = Conn(c)
    k.peer_win = 12
    k.p_syn(0)
    k.s_synack(0)
    k.p(10, "A")
    d = pattern(3000)
    k.s_data(10, d[:1448])
    k.p(20, "A")
    k.s_data(20, d[1448:2896])
    k.p(30, "A")
    k.s_data(30, d[2896:], flags="PA")
    k.s_fin(30)
    k.p(40, "A")
    k.p(41, "FA")
    k.s_ack(41)


peer_window_scaled()


# ============================================================================================
# Data out of order: duplicate ACKs at once, the covering ACK when the hole fills (RFC 5681 §4.2,
# RFC 9293 §3.10.7.4 seventh, RFC 1122 §4.2.2.21), and what the application gets (echo)
# ============================================================================================

def ooo_dupacks_fill():
    c = case("ooo_dupacks_fill", "bytes 100-199 then 200-299 before 0-99: a duplicate ACK at once for each "
             "out-of-order segment, with SACK (negotiated) a block for what is held, the run the latest "
             "segment joined first (RFC 2018 §4), then one ACK of all 300 bytes and no block as the hole fills "
             "(RFC 5681 §4.2), and the 300 bytes echoed in order", [listen("echo")])
    k = Conn(c)
    k.passive_open()
    d = text(300, 4)
    r = k.rcv_nxt
    k.p(10, "PA", d[100:200], seq=r + 100, advance=True)
    k.s_ack(10, used=100, sack=[(r + 100, r + 200)])
    k.p(11, "PA", d[200:300], seq=r + 200, advance=True)
    k.s_ack(11, used=200, sack=[(r + 100, r + 300)])
    k.p(12, "PA", d[0:100], seq=r, deliver=False)
    k.rcv_nxt = r + 300
    k.s_ack(12, used=300)
    k.read(12)
    k.s_data(12, d, flags="PA")
    k.p(13, "A", seq=r + 300)
    k.p(14, "FA", seq=r + 300)
    k.s_ack(14)
    k.s_fin(14)
    k.p(15, "A")


ooo_dupacks_fill()


def ooo_partial_fill():
    c = case("ooo_partial_fill", "bytes 200-299 first (duplicate ACK with its SACK block), then 0-99 fills part "
             "of the gap (ACK of 100 at once, the block still reported, also on the echo), then 100-199 fills "
             "the rest (ACK of 300 at once, no block); each in-order piece echoed (RFC 5681 §4.2: an immediate "
             "ACK for a segment that fills all or part of a gap; RFC 2018 §4)", [listen("echo")])
    k = Conn(c)
    k.passive_open()
    d = text(300, 5)
    r = k.rcv_nxt
    k.p(10, "PA", d[200:300], seq=r + 200, advance=True)
    k.s_ack(10, used=100, sack=[(r + 200, r + 300)])
    k.p(11, "PA", d[0:100], seq=r)
    k.s_ack(11, used=200, sack=[(r + 200, r + 300)])	# 100 unread in order, 100 out of order
    k.read(11)
    k.s_data(11, d[0:100], flags="PA", used=100, sack=[(r + 200, r + 300)])
    k.p(12, "PA", d[100:200], seq=r + 100, deliver=False)
    k.rcv_nxt = r + 300
    k.s_ack(12, used=200)
    k.read(12)
    k.s_data(12, d[100:300], flags="PA")
    k.p(13, "A", seq=r + 300)
    k.p(14, "FA", seq=r + 300)
    k.s_ack(14)
    k.s_fin(14)
    k.p(15, "A")


ooo_partial_fill()


def ooo_fin_fill():
    c = case("ooo_fin_fill", "data and FIN out of order (bytes 100-199 + FIN), then bytes 0-99: a duplicate ACK "
             "whose SACK block ends past the FIN's sequence number (RFC 2018 §3: the block's right edge follows "
             "its last sequence number), then one ACK covering the data and the FIN (RFC 9293 §3.10.7.4 eighth: the FIN once all before it "
             "is in), the 200 bytes echoed and the stack's FIN", [listen("echo")])
    k = Conn(c)
    k.passive_open()
    d = text(200, 6)
    r = k.rcv_nxt
    k.p(10, "FPA", d[100:200], seq=r + 100, advance=True)
    k.s_ack(10, used=100, sack=[(r + 100, r + 201)])
    k.p(11, "PA", d[0:100], seq=r, deliver=False)
    k.rcv_nxt = r + 201
    k.peer_fin = True
    k.s_ack(11, used=200)
    k.s_data(11, d, flags="PA")
    k.s_fin(11)
    k.p(12, "A", seq=r + 201)


ooo_fin_fill()


# ============================================================================================
# Retransmission timeout (RFC 6298): the RTO from the handshake's RTT sample, the 200 ms floor,
# doubling; the stack sends (send=N) and the peer never acknowledges
# ============================================================================================

def rto_case(name, doc, peer, rtt, n, retrans, linger):
    c = case(name, doc, [listen("send=%d" % n)], linger=linger)
    k = Conn(c, peer=peer)
    k.p_syn(0)
    k.s_synack(0)
    k.p(rtt, "A")	# the RTT sample: TSecr 0, or the SYN-ACK timed (RFC 6298 §2.2)
    d = pattern(n)
    segs = k.s_segments(rtt, d)
    k.s_fin(rtt)
    for t in retrans:
        k.s(t, "A", data=segs[0][TCP].payload.load, seq=1)	# RFC 6298 §5.4: the earliest segment only


# SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 3R (RFC 6298 §2.2), at least 200 ms
rto_case("rto_rtt_100ms", "RTT 100 ms from the handshake's timestamps: RTO = 100 + 4*50 = 300 ms; the first segment "
         "is sent again at +300, +900, +2100 ms (RFC 6298 §2.2, §5.4, §5.5 doubling; RFC 7323 §4)", LINUX, 100,
         2000, (400, 1000, 2200), linger=3)
rto_case("rto_min_200ms", "RTT 10 ms: RTO = 30 ms, raised to the 200 ms floor (RFC 6298 §2.4 allows a floor; "
         "Linux's is 200 ms); sent again at +200, +600, +1400 ms (§5.5)", LINUX, 10, 2000, (210, 610, 1410), linger=2)
rto_case("rto_rtt_100ms_nots", "no timestamps: the RTT is the SYN-ACK's round trip, 100 ms, RTO 300 ms; sent again at "
         "+300, +900, +2100 ms (RFC 6298 §2.2, §3 Karn, §5.5)", dict(mss=1460, sack=True, ws=7), 100, 2000,
         (400, 1000, 2200), linger=3)


def rto_active():
    c = case("rto_active_rtt_150ms", "--connect,send=2000: the SYN's round trip is 150 ms, RTO 450 ms; the first "
             "segment (Nagle holds the short second one) is sent again at +450, +1350, +3150 ms (RFC 6298 §2.2, "
             "§5.5; RFC 9293 §3.7.4)", [connect(send=2000)], linger=3.5)
    c.start_clock()
    k = Conn(c, passive=False)
    k.active_open(0, 150)
    # 1448 bytes go; Nagle holds the 552 behind them until they are acknowledged (RFC 9293 §3.7.4)
    segs = k.s_segments(150, pattern(1448), more=True)
    for t in (600, 1500, 3300):
        k.s(t, "A", data=segs[0][TCP].payload.load, seq=1)


rto_active()


def rto_after_synack_retrans():
    c = case("rto_after_synack_retrans", "the SYN-ACK was sent twice and the ACK (no timestamps) gives no RTT sample "
             "(Karn, RFC 6298 §3): the RTO for the data is re-initialised to 3 s (RFC 6298 §5.7 MUST)",
             [listen("send=2000")], linger=4)
    k = Conn(c, peer=dict(mss=1460, sack=True, ws=7))
    k.p_syn(0)
    k.s_synack(0)
    k.s_synack(1000)
    k.p(1050, "A")
    segs = k.s_segments(1050, pattern(2000))
    k.s_fin(1050)
    k.s(4050, "A", data=segs[0][TCP].payload.load, seq=1)


rto_after_synack_retrans()


# ============================================================================================
# Fast retransmit after three duplicate ACKs (RFC 5681 §3.2), NewReno partial ACK (RFC 6582 §3.2)
# ============================================================================================

def fast_rtx_setup(c, n=5):
    """Passive open, RTT 10 ms; send=n*1448: n segments and the FIN go at once (initial window 10)."""
    k = Conn(c)
    k.p_syn(0)
    k.s_synack(0)
    k.p(10, "A")
    segs = k.s_segments(10, pattern(n * k.smss))
    k.s_fin(10)
    return k, [s[TCP].payload.load for s in segs]


def fast_retransmit(name="fast_retransmit", extra=(), doc=""):
    c = case(name, "5 segments and the FIN out; segment 2 lost: the ACK of segment 1, then three "
             "duplicate ACKs; on the third the stack resends segment 2 alone at once (RFC 5681 §3.2 steps 2-3; "
             "nothing new to send, so limited transmit does not apply); a full ACK ends it" + doc,
             [listen("send=7240")] + list(extra))
    k, segs = fast_rtx_setup(c)
    k.p(20, "A", ack=1449)
    for t in (21, 22, 23):
        k.p(t, "A", ack=1449)
    k.s(23, "A", data=segs[1], seq=1449)
    k.p(30, "A")
    k.p(31, "FA")
    k.s_ack(31)


fast_retransmit()
# RFC 6582 §3.2 step 1: "recover" starts at the ISS, so where the ISN falls must not matter
fast_retransmit("fast_retransmit_isn_low", ["--isn-key 00000000000000000000000000000004"],
                ". The same with another ISN secret, which puts this connection's ISN in the lower half of "
                "the sequence space (fast_retransmit's is in the upper half): the outcome must not depend on it "
                "(RFC 6582 §3.2 step 1: recover is initialised to the ISS)")


def fast_retransmit_two_dupacks():
    c = case("fast_retransmit_two_dupacks", "only two duplicate ACKs: no fast retransmit (RFC 5681 §3.2: three); the "
             "RTO, restarted by the ACK of segment 1 (RFC 6298 §5.3), resends segment 2 200 ms later",
             [listen("send=7240")])
    k, segs = fast_rtx_setup(c)
    k.p(20, "A", ack=1449)
    for t in (21, 22):
        k.p(t, "A", ack=1449)
    k.s(220, "A", data=segs[1], seq=1449)
    k.p(300, "A")
    k.p(301, "FA")
    k.s_ack(301)


fast_retransmit_two_dupacks()


def fast_retransmit_partial_ack():
    c = case("fast_retransmit_partial_ack", "segments 2 and 4 lost: fast retransmit of 2 on the third duplicate ACK, "
             "then a partial ACK (up to segment 4) makes the stack resend segment 4 at once (NewReno, RFC 6582 "
             "§3.2 step 4; RFC 5681 §3.2)", [listen("send=7240")])
    k, segs = fast_rtx_setup(c)
    k.p(20, "A", ack=1449)
    for t in (21, 22, 23):
        k.p(t, "A", ack=1449)
    k.s(23, "A", data=segs[1], seq=1449)
    k.p(30, "A", ack=1 + 3 * 1448)
    k.s(30, "A", data=segs[3], seq=1 + 3 * 1448)
    k.p(40, "A")
    k.p(41, "FA")
    k.s_ack(41)


fast_retransmit_partial_ack()


# ============================================================================================
# Zero window: persist probes (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17)
# ============================================================================================

def persist_zero_window():
    c = case("persist_zero_window", "the peer's window is 0: the stack probes at +RTO (200 ms) and backs off "
             "(+400, +800 ms); the probe is Linux's form, an empty segment at SND.UNA-1 that makes the peer "
             "answer with its window; when the window opens the data and the FIN go (RFC 9293 §3.8.6.1; "
             "RFC 1122 §4.2.2.17)", [listen("send=2000")], linger=1)
    k = Conn(c)
    k.p_syn(0)
    k.s_synack(0)
    k.p(10, "A", win=0)
    for t in (210, 610, 1410):
        k.s_ack(t, seq=0)	# SND.UNA - 1
    k.p(2000, "A")
    k.s_segments(2000, pattern(2000))
    k.s_fin(2000)
    k.p(2010, "A")
    k.p(2011, "FA")
    k.s_ack(2011)


persist_zero_window()


def persist_probes_answered():
    c = case("persist_probes_answered", "each zero-window probe is answered with a zero window: the connection "
             "stays and the probes go on backing off, +200, +400, +800, +1600 ms (RFC 9293 §3.8.6.1 MUST-37, "
             "SHLD-30); the window opens at 3.5 s and the data goes", [listen("send=2000")], linger=1)
    k = Conn(c)
    k.p_syn(0)
    k.s_synack(0)
    k.p(10, "A", win=0)
    for t in (210, 610, 1410, 3010):
        k.s_ack(t, seq=0)
        k.p(t + 1, "A", win=0)
    k.p(3500, "A")
    k.s_segments(3500, pattern(2000))
    k.s_fin(3500)
    k.p(3510, "A")
    k.p(3511, "FA")
    k.s_ack(3511)


persist_probes_answered()


# ============================================================================================
# RST and FIN in every state that can receive them (RFC 9293 §3.10.7.3, §3.10.7.4; RFC 5961 §3, §4)
# ============================================================================================

# ---- SYN-SENT (--connect; nobody answers but the test) ----

def syn_sent(name, doc, gone, linger=1.5):
    """A case in SYN-SENT: the SYN at 0; the body's segment at 5 ms; the SYN again at 1 s (RFC 6298
    §2.1) unless the connection is gone."""
    def build(body):
        c = case(name, doc, [connect()], linger=linger)
        c.start_clock()
        k = Conn(c, passive=False)
        k.s_syn(0)
        body(k, c)
        if not gone:
            k.s_syn(1000)
    return build


@syn_sent("rst_syn_sent", "SYN-SENT, a RST+ACK acknowledging the SYN: connection refused, CLOSED; the SYN is not "
          "sent again (RFC 9293 §3.10.7.3 second)", gone=True)
def _(k, c):
    k.p(5, "RA", seq=0, ack=1)


@syn_sent("rst_syn_sent_bad_ack", "SYN-SENT, a RST+ACK with an unacceptable ACK: dropped, no reset in answer to a "
          "reset; the SYN goes again at 1 s (RFC 9293 §3.10.7.3 first)", gone=False)
def _(k, c):
    k.p(5, "RA", seq=0, ack=5)


@syn_sent("rst_syn_sent_no_ack", "SYN-SENT, a RST without ACK: dropped; the SYN goes again at 1 s "
          "(RFC 9293 §3.10.7.3 second: \"Otherwise (no ACK), drop the segment\")", gone=False)
def _(k, c):
    k.p(5, "R", seq=0)


@syn_sent("fin_syn_sent", "SYN-SENT, a FIN+ACK acknowledging the SYN but without SYN: dropped (RFC 9293 §3.10.7.3 "
          "fifth; §3.10.7.4 eighth: no FIN processing in SYN-SENT); the SYN goes again at 1 s", gone=False)
def _(k, c):
    k.p(5, "FA", seq=k.p_isn, ack=1, tsecr=0)


@syn_sent("ack_syn_sent_bad", "SYN-SENT, a plain ACK with SEG.ACK > SND.NXT: <SEQ=SEG.ACK><CTL=RST>, and the "
          "connection stays (the SYN again at 1 s) (RFC 9293 §3.10.7.3 first)", gone=False)
def _(k, c):
    c.stack_frame(5, closed_rst(k.p(5, "A", seq=4242, ack=100, tsecr=0, deliver=False)))


def syn_sent_old_duplicate():
    c = case("syn_sent_old_duplicate", "SYN-SENT, a SYN-ACK whose ACK is not ours (an old duplicate): "
             "<SEQ=SEG.ACK><CTL=RST>, the SYN again at 1 s, then the right SYN-ACK completes the open "
             "(RFC 9293 §3.5 figure 8, §3.10.7.3 first)", [connect()], linger=1)
    c.start_clock()
    k = Conn(c, passive=False, p_isn=90000)
    k.s_syn(0)
    bad = k.p(5, "SA", seq=5555, ack=5, opts=k.p_syn_opts(5, 0), deliver=False)
    c.stack_frame(5, closed_rst(bad))
    k.s_syn(1000)
    k.p_synack(1010, tsecr=1000)
    k.s_ack(1010)


syn_sent_old_duplicate()


# ---- SYN-RECEIVED (passive) ----

def syn_received(name, doc, retrans=True):
    """A case in SYN-RECEIVED: SYN at 0, SYN-ACK at once; the body at 5 ms; the SYN-ACK again at 1 s
    unless the connection went back to LISTEN."""
    def build(body):
        c = case(name, doc, [listen("discard")], linger=1.5)
        k = Conn(c)
        k.p_syn(0)
        k.s_synack(0)
        body(k, c)
        if retrans:
            k.s_synack(1000)
    return build


@syn_received("rst_syn_received", "SYN-RECEIVED (passive), a RST at RCV.NXT: back to LISTEN, silently; the SYN-ACK "
              "is not sent again (RFC 9293 §3.10.7.4 second)", retrans=False)
def _(k, c):
    k.p(5, "R")


@syn_received("rst_syn_received_challenge", "SYN-RECEIVED, a RST in the window but not at RCV.NXT: a challenge ACK "
              "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, the connection stays (the SYN-ACK again at 1 s) (RFC 9293 "
              "§3.10.7.4 second; RFC 5961 §3.2)")
def _(k, c):
    k.p(5, "R", seq=k.rcv_nxt + 100)
    k.s_ack(5)


@syn_received("fin_syn_received_no_ack", "SYN-RECEIVED, a FIN without ACK: dropped (RFC 9293 §3.10.7.4 fifth: ACK "
              "bit off); the SYN-ACK again at 1 s")
def _(k, c):
    k.p(5, "F", deliver=False)


@syn_received("synrcvd_bad_ack", "SYN-RECEIVED, an ACK with SEG.ACK > SND.NXT: <SEQ=SEG.ACK><CTL=RST>; the "
              "connection stays (the SYN-ACK again at 1 s) (RFC 9293 §3.10.7.4 fifth)")
def _(k, c):
    c.stack_frame(5, closed_rst(k.p(5, "A", ack=5)))


@syn_received("syn_in_syn_received", "SYN-RECEIVED (passive), a second SYN inside the window: back to LISTEN, "
              "silently; no SYN-ACK again (RFC 9293 §3.10.7.4 fourth)", retrans=False)
def _(k, c):
    k.p(5, "S", seq=k.rcv_nxt + 10, opts=k.p_syn_opts(5), deliver=False)


def fin_syn_received():
    c = case("fin_syn_received", "SYN-RECEIVED, a FIN+ACK acknowledging the SYN-ACK: ESTABLISHED then CLOSE-WAIT, the "
             "FIN acknowledged at once; the application closes: LAST-ACK, the stack's FIN (RFC 9293 §3.10.7.4 "
             "fifth, eighth)", [listen("discard")])
    k = Conn(c)
    k.p_syn(0)
    k.s_synack(0)
    k.p(5, "FA")
    k.s_ack(5)
    k.s_fin(5)
    k.p(6, "A")


fin_syn_received()


# ---- ESTABLISHED (passive, echo) ----

def alive(k, t):
    """Show the connection is still there: 4 bytes echoed, acknowledged, then the peer closes."""
    d = b"ping"
    k.p(t, "PA", d)
    k.read(t)
    k.s_data(t, d, flags="PA")
    k.p(t + 1, "A")
    k.p(t + 2, "FA")
    k.s_ack(t + 2)
    k.s_fin(t + 2)
    k.p(t + 3, "A")


def established(name, doc):
    """A case in ESTABLISHED: a passive open (echo), then the body from 10 ms."""
    def build(body):
        c = case(name, doc, [listen("echo")])
        k = Conn(c)
        k.passive_open()
        body(k, c)
    return build


@established("rst_established", "ESTABLISHED, a RST at RCV.NXT: the connection is reset (RFC 9293 §3.10.7.4 "
             "second); the peer's next ACK finds only the listener: <SEQ=SEG.ACK><CTL=RST> (§3.10.7.2)")
def _(k, c):
    k.p(10, "R")
    c.stack_frame(20, closed_rst(k.p(20, "A")))


@established("rst_established_challenge", "ESTABLISHED, a RST in the window but not at RCV.NXT: a challenge ACK, the "
             "connection stays (data echoed after) (RFC 9293 §3.10.7.4 second; RFC 5961 §3.2)")
def _(k, c):
    k.p(10, "R", seq=k.rcv_nxt + 100)
    k.s_ack(10)
    alive(k, 20)


@established("rst_established_outside", "ESTABLISHED, a RST beyond the advertised window (65535 from the SYN-ACK): "
             "silently dropped, the connection stays (RFC 9293 §3.10.7.4 first and second; RFC 5961 §3.2)")
def _(k, c):
    k.p(10, "R", seq=k.rcv_nxt + 100000)
    alive(k, 20)


@established("syn_established", "ESTABLISHED, a SYN in the window, then the old SYN again: a challenge ACK for each "
             "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, the connection stays (RFC 9293 §3.10.7.4 fourth; RFC 5961 §4; "
             "the old SYN fails the first check)")
def _(k, c):
    k.p(10, "S", seq=k.rcv_nxt + 50, opts=k.p_syn_opts(10), deliver=False)
    k.s_ack(10)
    k.p(12, "S", seq=k.p_isn, opts=k.p_syn_opts(12), deliver=False)
    k.s_ack(12)
    alive(k, 20)


@established("ack_future", "ESTABLISHED, an ACK of something not yet sent (SEG.ACK > SND.NXT): an ACK, the segment "
             "dropped, the connection stays (RFC 9293 §3.10.7.4 fifth; RFC 5961 §5.2)")
def _(k, c):
    k.p(10, "A", ack=1000)
    k.s_ack(10)
    alive(k, 20)


@established("unacceptable_old_data", "ESTABLISHED, data already received sent again: not acceptable, an ACK "
             "<SEQ=SND.NXT><ACK=RCV.NXT>, nothing delivered twice (RFC 9293 §3.10.7.4 first); SACK being on, "
             "the ACK reports the duplicate in a D-SACK block below it (RFC 2883 §4)")
def _(k, c):
    d = text(5, 7)
    r = k.rcv_nxt
    k.p(10, "PA", d)
    k.read(10)
    k.s_data(10, d, flags="PA")
    k.p(11, "A")
    k.p(20, "PA", d, seq=r, acceptable=False)
    k.s_ack(20, sack=[(r, r + 5)] if k.sack else None)
    k.p(30, "FA")
    k.s_ack(30)
    k.s_fin(30)
    k.p(31, "A")


@established("unacceptable_beyond_window", "ESTABLISHED, data beyond RCV.NXT + RCV.WND (65535 advertised in the "
             "SYN-ACK): not acceptable, an ACK, nothing delivered; in-order data after is echoed alone "
             "(RFC 9293 §3.10.7.4 first)")
def _(k, c):
    k.p(10, "PA", text(10, 8), seq=k.rcv_nxt + 65535 + 10, acceptable=False)
    k.s_ack(10)
    alive(k, 20)


@established("paws_old_tsval", "ESTABLISHED, data whose TSval is older than TS.Recent: dropped by PAWS with an ACK, "
             "not delivered; data with a current TSval after is echoed (RFC 7323 §5.3 R1)")
def _(k, c):
    k.p(10, "PA", text(6, 9), tsval=k.ts_recent - 1000, acceptable=False, deliver=False)
    k.s_ack(10)
    alive(k, 20)


def fin_established():
    c = case("fin_established", "ESTABLISHED, the peer's FIN: ACK at once (CLOSE-WAIT), the stack's FIN when the "
             "application closes (LAST-ACK), the peer's ACK ends it (RFC 9293 §3.6 figure 12 case 2, §3.10.7.4 "
             "eighth)", [listen("discard")])
    k = Conn(c)
    k.passive_open()
    k.p(10, "FA")
    k.s_ack(10)
    k.s_fin(10)
    k.p(11, "A")


fin_established()


# ---- FIN-WAIT-1, FIN-WAIT-2, CLOSING, TIME-WAIT: the application closes at once (close) ----

def closer(name, doc, linger=1.0):
    """A case after the stack's close: passive open, RTT 10 ms (RTO 200 ms), the application closes at
    once: the FIN at 10 ms (FIN-WAIT-1); then the body."""
    def build(body):
        c = case(name, doc, [listen("close")], linger=linger)
        k = Conn(c)
        k.p_syn(0)
        k.s_synack(0)
        k.p(10, "A")
        k.s_fin(10)
        body(k, c)
    return build


def time_wait(k, t=30):
    """From FIN-WAIT-1 (FIN at 10 ms): the peer acknowledges it at 20 ms, sends its FIN at t: TIME-WAIT."""
    k.p(20, "A")
    k.p(t, "FA")
    k.s_ack(t)


def closing(k):
    """From FIN-WAIT-1: the peer's FIN at 11 ms does not acknowledge ours: CLOSING, our ACK."""
    k.p(11, "FA", ack=1)
    k.s_ack(11)


@closer("fin_wait_1_retrans", "FIN-WAIT-1, no answer: the FIN is sent again at +200, +600, +1400 ms (RFC 9293 §3.6 "
        "case 1: segments up to and including the FIN are retransmitted; RFC 6298 §5.5)", linger=2)
def _(k, c):
    for t in (210, 610, 1410):
        k.s_fin(t, seq=1)


@closer("rst_fin_wait_1", "FIN-WAIT-1, a RST at RCV.NXT: CLOSED; the FIN is not sent again (RFC 9293 §3.10.7.4 "
        "second)")
def _(k, c):
    k.p(20, "R")


@closer("simultaneous_close", "FIN-WAIT-1, the peer's FIN crosses ours (it does not acknowledge it): CLOSING, our "
        "ACK <SEQ=2><ACK=FIN+1>; the peer's ACK of our FIN: TIME-WAIT, no FIN again (RFC 9293 §3.6 figure 13, "
        "§3.10.7.4 eighth)")
def _(k, c):
    closing(k)
    k.p(12, "A")


@closer("fin_ack_fin_wait_1", "FIN-WAIT-1, a FIN that also acknowledges our FIN: straight to TIME-WAIT, one ACK; "
        "the FIN sent again later is acknowledged again (RFC 9293 §3.10.7.4 eighth)")
def _(k, c):
    k.p(20, "FA")
    k.s_ack(20)
    k.p(500, "FA", seq=k.p_isn + 1, acceptable=False)
    k.s_ack(500)


@closer("fin_fin_wait_2", "FIN-WAIT-2 (our FIN acknowledged), the peer's FIN: ACK, TIME-WAIT (RFC 9293 §3.6 "
        "figure 12, §3.10.7.4 eighth)")
def _(k, c):
    time_wait(k)


@closer("rst_fin_wait_2", "FIN-WAIT-2, a RST at RCV.NXT: CLOSED; the peer's FIN after finds only the listener: "
        "<SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.4 second, §3.10.7.2)")
def _(k, c):
    k.p(20, "A")
    k.p(30, "R")
    c.stack_frame(40, closed_rst(k.p(40, "FA")))


@closer("rst_closing", "CLOSING, a RST at RCV.NXT: CLOSED; our FIN is not sent again (RFC 9293 §3.10.7.4 second)")
def _(k, c):
    closing(k)
    k.p(20, "R")


@closer("fin_closing", "CLOSING, the peer's FIN again: not acceptable, an ACK; our FIN is sent again at its RTO "
        "(200 ms), its ACK ends in TIME-WAIT (RFC 9293 §3.10.7.4 first and eighth)")
def _(k, c):
    closing(k)
    k.p(20, "FA", seq=k.p_isn + 1, ack=1, acceptable=False)
    k.s_ack(20)
    k.s_fin(210, seq=1)
    k.p(220, "A")


@closer("rst_time_wait", "TIME-WAIT, a RST at RCV.NXT: CLOSED at once (RFC 9293 §3.10.7.4 second: TIME-WAIT "
        "\"enter the CLOSED state\"); the peer's FIN sent again finds only the listener: <SEQ=SEG.ACK><CTL=RST>")
def _(k, c):
    time_wait(k)
    k.p(40, "R")
    c.stack_frame(50, closed_rst(k.p(50, "FA", seq=k.p_isn + 1)))


@closer("timewait_fin_restart", "TIME-WAIT, the peer's FIN again at 30 s: ACK, and 2 MSL (60 s) starts over, so an "
        "ACK at 61 s is still absorbed, and one at 91 s (past 30 + 60 s) meets only the listener: RST (RFC 9293 "
        "§3.10.7.4 fifth and eighth: \"restart the 2 MSL time-wait timeout\")")
def _(k, c):
    time_wait(k)
    k.p(30000, "FA", seq=k.p_isn + 1, acceptable=False)
    k.s_ack(30000)
    k.p(61000, "A")
    c.stack_frame(91000, closed_rst(k.p(91000, "A")))


@closer("timewait_expires", "TIME-WAIT lasts 2 MSL = 60 s: an ACK at 59 s after it began is absorbed, one at 60.1 s "
        "meets only the listener: RST (RFC 9293 §3.10.8 TIME-WAIT timeout, §3.10.7.2)")
def _(k, c):
    time_wait(k)
    k.p(59030, "A")
    c.stack_frame(60130, closed_rst(k.p(60130, "A")))


@closer("syn_time_wait_reuse", "TIME-WAIT, a SYN with a higher timestamp (and sequence number): the old connection "
        "gives way and the listener answers with a new SYN-ACK (RFC 9293 §3.10.7.4 fourth, TIME-WAIT: new "
        "connections accepted when the Timestamp Option meets expectations, RFC 6191; RFC 1122 §4.2.2.13)")
def _(k, c):
    time_wait(k)
    n = Conn(c, p_isn=2000000)	# a new incarnation: the tool counts from its SYN-ACK again
    n.p_syn(1000)
    n.s_synack(1000)
    n.p(1001, "A")
    n.s_fin(1001)		# the close application closes it at once
    n.p(1002, "A")


@closer("syn_time_wait_old", "TIME-WAIT, a SYN with an old timestamp: not a new connection, an ACK "
        "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and TIME-WAIT stays (RFC 7323 §5.3 PAWS; RFC 9293 §3.10.7.4 first "
        "and fourth; RFC 5961 §4)")
def _(k, c):
    time_wait(k)
    k.p(1000, "S", seq=2000000, opts=syn_options(1460, True, (600000, 0), 7), acceptable=False, deliver=False)
    k.s_ack(1000)


# ---- CLOSE-WAIT: an application that has not finished sending (send=300000 into a zero window) does
# not close at the peer's FIN, so the connection stays in CLOSE-WAIT; the zero window is probed ----

def close_wait(name, doc):
    """A case in CLOSE-WAIT: passive open, RTT 10 ms (RTO 200 ms), the peer's window 0: the 300000
    bytes wait (a persist probe due at 210 ms); the peer's FIN at 20 ms is acknowledged at once."""
    def build(body):
        c = case(name, doc, [listen("send=300000")], linger=0.5)
        k = Conn(c)
        k.p_syn(0)
        k.s_synack(0)
        k.p(10, "A", win=0)
        k.p(20, "FA", win=0)
        k.s_ack(20)
        body(k, c)
    return build


@close_wait("rst_close_wait", "CLOSE-WAIT (the application still has data to send), a RST at RCV.NXT: CLOSED; the "
            "zero-window probe due at 210 ms never goes (RFC 9293 §3.10.7.4 second)")
def _(k, c):
    k.p(30, "R")


@close_wait("fin_close_wait", "CLOSE-WAIT, the peer's FIN again: not acceptable, an ACK; the connection stays (its "
            "zero-window probe at 210 ms) (RFC 9293 §3.10.7.4 first; eighth: \"Remain in the CLOSE-WAIT state\")")
def _(k, c):
    k.p(30, "FA", seq=k.p_isn + 1, win=0, acceptable=False)
    k.s_ack(30)
    k.s_ack(210, seq=0)


# ---- LAST-ACK (passive, discard: the peer's FIN, the application closes) ----

def last_ack(name, doc):
    """A case in LAST-ACK: passive open, RTT 10 ms; the peer's FIN at 20 ms: our ACK, then our FIN as the
    application closes; then the body."""
    def build(body):
        c = case(name, doc, [listen("discard")])
        k = Conn(c)
        k.p_syn(0)
        k.s_synack(0)
        k.p(10, "A")
        k.p(20, "FA")
        k.s_ack(20)
        k.s_fin(20)
        body(k, c)
    return build


@last_ack("rst_last_ack", "LAST-ACK, a RST at RCV.NXT: CLOSED; our FIN is not sent again (RFC 9293 §3.10.7.4 "
          "second)")
def _(k, c):
    k.p(30, "R")


@last_ack("fin_last_ack", "LAST-ACK, the peer's FIN again (it missed our ACK): an ACK; our FIN again at its RTO "
          "(200 ms); the peer's ACK closes (RFC 9293 §3.10.7.4 first, fifth LAST-ACK)")
def _(k, c):
    k.p(30, "FA", seq=k.p_isn + 1, ack=1, acceptable=False)
    k.s_ack(30)
    k.s_fin(220, seq=1)
    k.p(230, "A")


# ---- simultaneous open (RFC 9293 §3.5 figure 7) ----

def simultaneous_open():
    c = case("simultaneous_open", "--connect, the peer's SYN crosses ours: SYN-RECEIVED and <SEQ=ISS><ACK=RCV.NXT>"
             "<CTL=SYN,ACK> with the options both SYNs carried; the peer's SYN-ACK makes it ESTABLISHED with "
             "nothing sent in answer (figure 7 line 6), and the data follows (RFC 9293 §3.5 figure 7, "
             "§3.10.7.3 fourth)", [connect(send=100)])
    c.start_clock()
    k = Conn(c, passive=False)
    k.s_syn(0)
    k.p_syn(10)
    k.s(10, "SA", seq=0)
    k.p(20, "SA", seq=k.p_isn, ack=1, opts=k.p_syn_opts(20, tsecr=10), deliver=False)
    k.s_data(20, pattern(100), flags="PA")
    k.p(30, "A", seq=k.p_isn + 1)
    k.p(31, "FA", seq=k.p_isn + 1)
    k.s_ack(31)
    k.s_fin(31)		# the application closes at end of stream: LAST-ACK
    k.p(32, "A")


simultaneous_open()


# ============================================================================================
# No connection: RFC 9293 §3.10.7.1 (closed port) and §3.10.7.2 (LISTEN)
# ============================================================================================

def no_conn(name, doc, flags, seq, ack=0, data=b"", dport=81, answer=True, opts=None):
    c = case(name, doc, [listen(), "--absolute"], linger=0.5,
             counters={"Tcp.OutRsts": 1 if answer else 0, "Tcp.PassiveOpens": 0})
    pkt = peer_ip() / TCP(sport=PEER_PORT, dport=dport, flags=flags, seq=seq, ack=ack, window=64240,
                          options=opts or [])
    if data:
        pkt = pkt / Raw(data)
    c.peer_frame(0, pkt)
    if answer:
        c.stack_frame(0, closed_rst(pkt))


no_conn("syn_closed_port", "(migrated) a SYN to a closed port: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> "
        "(RFC 9293 §3.10.7.1)", "S", 4000)
no_conn("syn_data_closed_port", "a SYN with 20 bytes to a closed port: SEG.LEN counts the SYN and the data, "
        "<SEQ=0><ACK=SEG.SEQ+21><CTL=RST,ACK> (RFC 9293 §3.10.7.1, §3.4)", "S", 4100, data=text(20))
no_conn("ack_closed_port", "(migrated) an ACK to a closed port: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1)",
        "A", 5000, 12345)
no_conn("data_closed_port", "data without ACK to a closed port: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> "
        "(RFC 9293 §3.10.7.1)", "P", 6000, data=text(10))
no_conn("fin_closed_port", "a FIN+ACK to a closed port: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1)",
        "FA", 7000, 777)
no_conn("fin_noack_closed_port", "a FIN without ACK to a closed port: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> "
        "(RFC 9293 §3.10.7.1: the FIN counts in SEG.LEN)", "F", 7100)
no_conn("rst_closed_port", "(migrated) a RST to a closed port: nothing (RFC 9293 §3.10.7.1: \"An incoming segment "
        "containing a RST is discarded\")", "R", 6000, answer=False)
no_conn("rst_ack_closed_port", "a RST+ACK to a closed port: nothing (RFC 9293 §3.10.7.1)", "RA", 6100, 99,
        answer=False)
no_conn("ack_listener", "an ACK to a listening port with no connection: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.2 "
        "second)", "A", 8000, 424242, dport=ST_PORT)
no_conn("syn_rst", "(migrated) SYN+RST to a listener: ignored (RFC 9293 §3.10.7.2 first: an incoming RST is "
        "ignored)", "SR", 8000, dport=ST_PORT, answer=False)
def syn_fin():
    c = case("syn_fin", "(migrated) SYN+FIN to a listener: the SYN is processed whatever else the segment carries "
             "(RFC 9293 §3.10.7.2 third: \"any other control or text should be queued for processing later\"): "
             "<SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>; the FIN, without ACK, is then dropped in SYN-RECEIVED "
             "(§3.10.7.4 fifth). Linux discards SYN+FIN instead; pcaps/malformed/mal_tcp_syn_fin_listen expects "
             "the same as this case", [listen()], linger=0.5, counters={"Tcp.PassiveOpens": 1})
    k = Conn(c, peer={}, p_isn=7000)
    k.p(0, "SF", seq=7000, win=64240, opts=[], deliver=False)
    k.rcv_nxt = 7001
    k.s_synack(0)


syn_fin()
no_conn("data_noack_listener", "data without SYN, ACK or RST to a listener: dropped (RFC 9293 §3.10.7.2 fourth)",
        "P", 9000, data=text(8), dport=ST_PORT, answer=False)


# Counters (the stack's, by Linux's names) that witness the mechanism a case is about.
COUNTERS = {
    "syn_linux_opts": {"Tcp.RetransSegs": 2, "TcpExt.TCPSynRetrans": 2},
    "active_syn_retrans": {"Tcp.ActiveOpens": 1, "Tcp.RetransSegs": 3, "TcpExt.TCPSynRetrans": 3},
    "data_delack_40ms": {"TcpExt.DelayedACKs": 1},
    "data_delack_two_small": {"TcpExt.DelayedACKs": 1},
    "data_ack_every_second": {"TcpExt.DelayedACKs": 1},
    "data_ack_every_second_nots": {"TcpExt.DelayedACKs": 1},
    "ooo_dupacks_fill": {"TcpExt.TCPOFOQueue": 2},
    "rto_rtt_100ms": {"Tcp.RetransSegs": 3, "TcpExt.TCPTimeouts": 3},
    "rto_min_200ms": {"Tcp.RetransSegs": 3, "TcpExt.TCPTimeouts": 3},
    "rto_rtt_100ms_nots": {"Tcp.RetransSegs": 3, "TcpExt.TCPTimeouts": 3},
    "rto_active_rtt_150ms": {"Tcp.RetransSegs": 3, "TcpExt.TCPTimeouts": 3},
    "fast_retransmit": {"Tcp.RetransSegs": 1, "TcpExt.TCPFastRetrans": 1, "TcpExt.TCPTimeouts": 0},
    "fast_retransmit_two_dupacks": {"Tcp.RetransSegs": 1, "TcpExt.TCPFastRetrans": 0, "TcpExt.TCPTimeouts": 1},
    "fast_retransmit_partial_ack": {"Tcp.RetransSegs": 2, "TcpExt.TCPFastRetrans": 1, "TcpExt.TCPTimeouts": 0},
    "persist_zero_window": {"TcpExt.TCPWinProbe": 3},
    "rst_syn_sent": {"Tcp.AttemptFails": 1},
    "rst_syn_received_challenge": {"TcpExt.TCPChallengeACK": 1},
    "rst_established": {"Tcp.EstabResets": 1},
    "rst_established_challenge": {"TcpExt.TCPChallengeACK": 1, "Tcp.EstabResets": 0},
    "rst_established_outside": {"TcpExt.TCPChallengeACK": 0, "Tcp.EstabResets": 0},
    "paws_old_tsval": {"TcpExt.PAWSEstab": 1},
    "syn_time_wait_reuse": {"TcpExt.TCPTimeWaitRecycled": 1},
    "syn_time_wait_old": {"TcpExt.TCPTimeWaitRecycled": 0},
}

# the one drop counter a case's discards move (ustack-replay --expect-drop; issue 8: every drop path
# moves exactly one counter)
DROPS = {
    "paws_old_tsval": "TcpExt.PAWSEstab",
    "rst_established_challenge": "TcpExt.TCPChallengeACK",
    "rst_syn_received_challenge": "TcpExt.TCPChallengeACK",
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    names = set(c.name for c in CASES)
    assert len(names) == len(CASES) and set(COUNTERS) <= names and set(DROPS) <= names
    for c in CASES:
        c.args[-1:-1] = ["--expect-counter %s=%d" % kv for kv in sorted(COUNTERS.get(c.name, {}).items())]
        if c.name in DROPS:
            c.args[-1:-1] = ["--expect-drop " + DROPS[c.name]]
    names = set()
    for c in CASES:
        assert c.name not in names, c.name
        names.add(c.name)
        c.write(out)
    with open(os.path.join(out, "CASES.md"), "w") as f:
        f.write("# tcp: replay cases\n\n")
        f.write("TCP (RFC 9293 with RFC 1122 §4.2, RFC 5681, RFC 6298, RFC 7323, RFC 2018, RFC 5961): opening with "
                "and without each option, data in and out of order, retransmission, fast retransmit, zero "
                "windows, FIN and RST in every state, simultaneous open and close, TIME-WAIT, no connection.\n\n")
        f.write("Generated by gen.py with the pcaps; each line: NAME — what it checks (RFC section). "
                "Throughout:\n\n")
        for line in NOTES:
            f.write("* " + line + "\n")
        f.write("\n")
        for c in CASES:
            f.write("- %s — %s\n" % (c.name, c.doc))


NOTES = [
    "Numbers are relative (the tool's default): the peer's ACK numbers and TS echoes in the input count from "
    "the stack's ISN and first TSval; in the expectation the stack's sequence numbers and TSvals do too. "
    "Cases without a stack ISN (closed ports, listeners) use --absolute.",
    "Every expectation starts with the stack's gratuitous ARP (RFC 5227 §2.3), sent when its address is "
    "configured, at t=0.",
    "The IPv4 identification is ignored (--ignore ip.id): with DF set it carries nothing (RFC 6864).",
    "Windows follow receiver SWS avoidance (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3): the right edge never "
    "recedes and advances only by at least min(buffer/2, MSS), rounded up to the scale (RFC 7323 §2.3); "
    "256 KiB buffer, window scale 3 on a passive open and 7 on an active one, 65535 in a SYN (RFC 7323 §2.2).",
    "Window updates ride on the ACKs the delayed-ACK rules send (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3: the "
    "update \"combines with the delayed ACK algorithm\"); one goes at once only when a read lets the window at "
    "least double (Linux's rule, tcp_cleanup_rbuf): in practice the first read of a connection whose SYN-ACK "
    "offered 65535 of a 256 KiB buffer.",
    "PSH is set on the last segment of what is queued (RFC 9293 §3.9.1.2 MUST-61: without a PUSH flag on "
    "SEND calls, the last buffered segment carries PSH); a retransmission keeps the original's flags.",
    "Zero-window probes take Linux's form, an empty segment at SND.UNA-1 that the peer must answer with an "
    "ACK and its window, where RFC 9293 §3.8.6.1 speaks of one octet of new data; the brief for this corpus "
    "accepts that form. Their timing is the RFC's: the first after one RTO (SHLD-29), then doubling (SHLD-30).",
    "The stack never sends SACK blocks: RFC 2018 §4 makes generating them a MAY; SACK-permitted is offered "
    "so that the peer's SACK blocks are received.",
    "The delayed ACK is 40 ms, the RTO floor 200 ms, TIME-WAIT 60 s, the initial window 10 segments: Linux's "
    "values, inside what RFC 9293 §3.8.6.3, RFC 6298 §2.4 and RFC 6928 allow.",
    "The replay tool's applications (tools/replay_app.c): echo and discard read everything and close at the "
    "peer's FIN (echo once all is sent back); send=N sends N bytes (byte i = i mod 251) and closes once they "
    "are all queued; close closes right after accept; --connect reads and drops, sends its N bytes once "
    "established and closes at the peer's FIN. The stack's local port for --connect is fixed with lport=.",
    "RFC 9293 §3.5 numbers the simultaneous-open figure 7 (figure 8 is the old duplicate SYN).",
]


if __name__ == "__main__":
    main()
