"""Shared helpers of the replay corpus generators (pcaps/<layer>/gen.py), see /work/replay_spec.md.

A layer's gen.py registers its cases with Corpus.case; each case returns what the peer sends (IN) and
what the RFCs say the stack sends back (EXP), both as lists of Scapy packets stamped with at(). The
expectations are built here from the RFC text, never from the stack's output. Corpus.main() writes,
for every case NAME, NAME.in.pcap, NAME.expect.pcap and NAME.args, and the layer's CASES.md.

Everything is fixed (times, IP identifications, MACs, payloads), so two runs write the same bytes.
"""
import os
import re
import struct
import sys

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw

PEER_MAC, ST_MAC, BCAST = "02:00:00:00:00:01", "02:00:00:00:00:02", "ff:ff:ff:ff:ff:ff"
PEER_IP, ST_IP = "198.18.0.1", "198.18.0.2"
NET_BCAST = "198.18.0.255"  # the directed broadcast of 198.18.0.0/24, the stack's default prefix
BASE_TIME = 1700000000.0
DEFAULT_TTL = 64  # the "Assigned Numbers" TTL (RFC 1700) RFC 1122 §3.2.1.7 refers to
DLT_EN10MB = 1

NEIGH = "--neigh %s=%s" % (PEER_IP, PEER_MAC)
# RFC 791 §3.2 leaves the identification to the sender; the header checksum covers it, so it cannot be
# compared by value either (the tool still checks that it is valid)
IGN_ID = "--ignore ip.id,ip.checksum"

def at(t, pkt):
    """pkt, stamped t seconds after the first input frame."""
    pkt.time = BASE_TIME + t
    return pkt


def payload(n, salt=0):
    """n fixed bytes (the same pattern pcaps/ipv4/gen.py always used for salt 0)."""
    return bytes((i * 7 + 3 + salt) & 0xff for i in range(n))


def inet_csum(data):
    """RFC 1071 §4.1: the 16-bit one's complement of the one's complement sum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


# ---- frames the peer sends ----

def peer_eth(dst=ST_MAC, src=PEER_MAC):
    return Ether(src=src, dst=dst)


def peer_ip(ident, dst=ST_IP, src=PEER_IP, **kw):
    return IP(src=src, dst=dst, id=ident, **kw)


def echo_request(ident, icmp_id=0x1234, seq=1, data=None, dst=ST_IP, eth_dst=ST_MAC, eth_src=PEER_MAC, **ipkw):
    if data is None:
        data = payload(56)
    return peer_eth(eth_dst, eth_src) / peer_ip(ident, dst=dst, **ipkw) / \
        ICMP(type=8, code=0, id=icmp_id, seq=seq) / Raw(data)


def udp_to(ident, sport, dport, data, dst=ST_IP, eth_dst=ST_MAC, **ipkw):
    return peer_eth(eth_dst) / peer_ip(ident, dst=dst, **ipkw) / UDP(sport=sport, dport=dport) / Raw(data)


def arp_from_peer(op, pdst, psrc=PEER_IP, hwsrc=PEER_MAC, eth_dst=BCAST, eth_src=None, hwdst="00:00:00:00:00:00",
                  pad=True):
    """An ARP packet as a peer puts it on the wire: padded to the 60-byte Ethernet minimum (RFC 894)."""
    p = Ether(src=eth_src or hwsrc, dst=eth_dst) / ARP(op=op, hwsrc=hwsrc, psrc=psrc, hwdst=hwdst, pdst=pdst)
    if pad:
        p = p / Raw(b"\0" * (60 - len(p)))
    return p


def raw_frame(data):
    """A frame given as bytes (malformed on purpose, or built by hand), written as they are."""
    return Raw(bytes(data))


# ---- frames the stack sends, as the RFCs describe them ----

def st_eth(dst=PEER_MAC, type=0x0800):
    return Ether(src=ST_MAC, dst=dst, type=type)


def st_ip(proto, dst=PEER_IP, src=ST_IP, **kw):
    """The stack's IPv4 header: 20 bytes, TOS 0, TTL 64, no flags; the identification is not compared."""
    kw.setdefault("ttl", DEFAULT_TTL)
    kw.setdefault("flags", 0)
    return IP(src=src, dst=dst, proto=proto, id=0, tos=0, **kw)


def echo_reply_to(req):
    """RFC 792, RFC 1122 §3.2.2.6: addresses swapped, type 0, the identifier, sequence number and data
    returned unchanged, the source the request's specific destination."""
    ic = req[ICMP]
    return st_eth(dst=req[Ether].src) / st_ip(1, dst=req[IP].src, src=req[IP].dst) / \
        ICMP(type=0, code=0, id=ic.id, seq=ic.seq) / Raw(bytes(ic.payload))


def icmp_bytes(type_, code, rest, data):
    """An ICMP message as bytes, with its checksum (RFC 792)."""
    hdr = struct.pack("!BBH", type_, code, 0) + rest
    ck = inet_csum(hdr + data)
    return struct.pack("!BBH", type_, code, ck) + rest + data


def icmp_error_to(orig, type_, code, rest=b"\0\0\0\0", eth_dst=PEER_MAC):
    """RFC 792 / RFC 1122 §3.2.2: an error about orig (an Ether/IP frame the peer sent), quoting its
    internet header and the first 64 bits of its data, unchanged; sent with TOS 0 to its source."""
    ip = bytes(orig[IP])
    ihl = (ip[0] & 15) * 4
    quote = ip[:ihl + 8]
    src = orig[IP].src
    return st_eth(dst=eth_dst) / st_ip(1, dst=src, src=orig[IP].dst) / Raw(icmp_bytes(type_, code, rest, quote))


def udp_reply(req, data=None, src=ST_IP):
    """The echo application's answer to req: ports swapped, data unchanged (RFC 768, RFC 862)."""
    u = req[UDP]
    if data is None:
        data = bytes(u.payload)
    return st_eth(dst=req[Ether].src) / st_ip(17, dst=req[IP].src, src=src) / \
        UDP(sport=u.dport, dport=u.sport) / Raw(data)


def arp_reply(to_mac=PEER_MAC, to_ip=PEER_IP):
    """RFC 826: the request's sender fields become the target fields, ours the sender, opcode reply,
    sent to the requester's hardware address."""
    return st_eth(dst=to_mac, type=0x0806) / ARP(op=2, hwsrc=ST_MAC, psrc=ST_IP, hwdst=to_mac, pdst=to_ip)


def arp_request(pdst=PEER_IP):
    """RFC 826: our request for pdst, broadcast; the target hardware address is left zero (RFC 5227 §2.1.1)."""
    return st_eth(dst=BCAST, type=0x0806) / ARP(op=1, hwsrc=ST_MAC, psrc=ST_IP, hwdst="00:00:00:00:00:00",
                                               pdst=pdst)


def garp():
    """RFC 5227 §3 announcement: a request whose sender and target protocol addresses are both ours.
    The stack sends it when its address is configured, as the first input frame arrives; ustack-replay
    leaves it out of the comparison unless the expected capture starts with it."""
    return st_eth(dst=BCAST, type=0x0806) / ARP(op=1, hwsrc=ST_MAC, psrc=ST_IP, hwdst="00:00:00:00:00:00",
                                               pdst=ST_IP)


def write_pcap(path, pkts):
    """A classic pcap file (microsecond stamps, Ethernet link type) of pkts, exactly as built."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, DLT_EN10MB)]
    for p in pkts:
        data = bytes(p)
        usec = int(round((float(p.time) - BASE_TIME) * 1e6))
        sec, usec = divmod(usec, 1000000)
        out.append(struct.pack("<IIII", int(BASE_TIME) + sec, usec, len(data), len(data)) + data)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def args(*parts):
    return " ".join(p for p in parts if p)


def counters(**kv):
    """--expect-counter flags from Group_Name=value keywords (Ip_InHdrErrors=1)."""
    return " ".join("--expect-counter %s=%d" % (k.replace("_", ".", 1), v) for k, v in kv.items())


def drop(counter):
    """--expect-drop: the input's discards are counted by this one drop counter ("Ip_InHdrErrors",
    "Ip_ReasmFails=2") and by no other (its Linux detail counters aside); "none": no drop counter
    moves."""
    return "--expect-drop " + (counter if counter == "none" else counter.replace("_", ".", 1))


class Corpus:
    def __init__(self, layer, title):
        self.layer = layer
        self.title = title
        self.cases = []

    def case(self, name, what, flags=""):
        """Register a case: fn() returns (IN packets, EXP packets), each stamped with at()."""
        def register(fn):
            assert name not in [c[0] for c in self.cases], name
            self.cases.append((name, what, flags, fn))
            return fn
        return register

    def write(self, out):
        os.makedirs(out, exist_ok=True)
        lines = ["# %s: replay cases" % self.layer, "", self.title, "",
                 "Generated by gen.py with the pcaps; each line: NAME — what it checks (RFC section).", ""]
        for name, what, flags, fn in self.cases:
            inp, exp = fn()
            assert inp, name
            for p in list(inp) + list(exp):
                assert p.time >= BASE_TIME, name
            write_pcap(os.path.join(out, name + ".in.pcap"), inp)
            write_pcap(os.path.join(out, name + ".expect.pcap"), exp)
            with open(os.path.join(out, name + ".args"), "w") as f:
                f.write(flags.strip() + "\n")
            dropped = re.search(r"--expect-drop (\S+)", flags)
            note = " [drop counter: %s]" % dropped.group(1) if dropped else ""
            lines.append("- %s — %s%s" % (name, what, note))
        with open(os.path.join(out, "CASES.md"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def main(self, script):
        out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(script))
        self.write(out)
