#!/usr/bin/python3
"""The packet trace's decoder beside tcpdump itself.

Frames are written with Scapy (well-formed ARP, ICMP, UDP, TCP with options, fragments, 802.3/SNAP,
unknown ethertypes; then the same cut at every length and mutated at random with a fixed seed) and
the replay corpus's pcaps are added; `tcpdump -nn -S -t -r` (and -e for the Scapy set) and
pkttrace_decode print each file, and every frame's two lines are compared.

A frame's lines must be equal, apart from what docs/packet-trace.md lists as not decoded, each
recognised here by a narrow rule:
  app       tcpdump goes on after our ", length N" with an application protocol (HTTP on port 80, ...),
            or prints a UDP port's protocol (DNS, NTP, ...) where we print "UDP, length N"
  notdec    an ethertype, an IP protocol or an LLC frame we name but do not decode (IPv6, 802.1Q,
            IGMP, GRE, ...), an ARP opcode we name but tcpdump dumps
  icmp      ICMP router advertisements and timestamp replies, which tcpdump spells out field by field
  tcpopt    TCP options tcpdump decodes further (md5 signature check, tcp-ao, mptcp, tfo, exp)
Anything else is a mismatch, and the run fails.

With --unit BIN (test_pkttrace), the unit test's own frames and trace lines are compared too: it
writes what went in and out to a pcap and its lines beside it (PKTTRACE_PCAP), and every line must
be tcpdump's, so the texts the unit test expects are tcpdump's.

Usage: pkttrace_vs_tcpdump.py --decode BIN --pcaps DIR --work DIR [--unit BIN] [--show N]
"""
import argparse
import glob
import os
import random
import re
import subprocess
import sys

from scapy.all import (ARP, ICMP, IP, LLC, SNAP, TCP, UDP, Ether, Raw, fragment,  # noqa: E402
                       wrpcap)

A, B, BC = '02:00:00:00:00:01', '02:00:00:00:00:02', 'ff:ff:ff:ff:ff:ff'
a, b = '198.18.0.1', '198.18.0.2'


def E(s=A, d=B):
    return Ether(src=s, dst=d)


def good_frames():
    """Well-formed frames of every kind the decoder knows, as bytes."""
    p = []
    p.append(Ether(src=A, dst=BC) / ARP(op=1, hwsrc=A, psrc=a, pdst=b))
    p.append(E(B, A) / ARP(op=2, hwsrc=B, psrc=b, hwdst=A, pdst=a))
    p.append(E() / ARP(op=1, hwsrc=A, psrc=a, hwdst=B, pdst=b))
    for op in (3, 4, 8, 9, 10, 77):
        p.append(E() / ARP(op=op, hwsrc=A, psrc=a, hwdst=B, pdst=b))
    p.append(E() / ARP(op=1, hwsrc=A, psrc=a, pdst=b, ptype=0x86dd))
    p.append(E() / ARP(op=1, hwtype=6, hwsrc=A, psrc=a, pdst=b, plen=6))
    p.append(E() / IP(src=a, dst=b) / ICMP(type=8, id=1, seq=1) / (b'x' * 56))
    p.append(E(B, A) / IP(src=b, dst=a) / ICMP(type=0, id=1, seq=1) / (b'x' * 56))
    p.append(E() / IP(src=a, dst=b) / UDP(sport=40000, dport=5555) / b'hello')
    p.append(E() / IP(src=a, dst=b) / UDP(sport=40000, dport=5555, chksum=0) / b'')
    inner_udp = IP(src=a, dst=b) / UDP(sport=40000, dport=5555) / b'hello'
    inner_tcp = IP(src=a, dst=b) / TCP(sport=40000, dport=5555)
    for code in range(0, 17):
        p.append(E(B, A) / IP(src=b, dst=a) / ICMP(type=3, code=code, nexthopmtu=1400 if code == 4 else 0)
                 / inner_udp)
    p.append(E(B, A) / IP(src=b, dst=a) / ICMP(type=3, code=4) / inner_udp)
    p.append(E(B, A) / IP(src=b, dst=a) / ICMP(type=3, code=3) / inner_tcp)
    p.append(E(B, A) / IP(src=b, dst=a) / ICMP(type=3, code=3) / IP(src=a, dst=b, proto=99) / b'12345678')
    p.append(E(B, A) / IP(src=b, dst=a) / ICMP(type=3, code=2) / IP(src=a, dst=b, proto=99) / b'12345678')
    for t, c in ((11, 0), (11, 1), (11, 5), (12, 0), (12, 1), (4, 0), (5, 0), (5, 1), (5, 2), (5, 3), (5, 9),
                 (10, 0), (13, 0), (15, 0), (16, 0), (17, 0), (18, 0), (42, 0), (200, 3)):
        p.append(E(B, A) / IP(src=b, dst=a) / ICMP(type=t, code=c, gw='198.18.0.254', ptr=7) / inner_udp)
    syn_opts = [('MSS', 1460), ('SAckOK', b''), ('Timestamp', (1, 0)), ('NOP', None), ('WScale', 7)]
    p.append(E() / IP(src=a, dst=b) / TCP(sport=40000, dport=5555, flags='S', seq=123, window=64240,
                                          options=syn_opts))
    p.append(E(B, A) / IP(src=b, dst=a) / TCP(sport=5555, dport=40000, flags='SA', seq=1000, ack=124,
                                              window=65535, options=[('MSS', 1460), ('NOP', None),
                                                                     ('NOP', None), ('SAckOK', b''),
                                                                     ('NOP', None), ('WScale', 7)]))
    p.append(E() / IP(src=a, dst=b) / TCP(sport=40000, dport=5555, flags='PA', seq=124, ack=1001,
                                          window=502, options=[('NOP', None), ('NOP', None),
                                                               ('Timestamp', (5, 6))]) / (b'a' * 100))
    for fl in ('FA', 'R', 'RA', '', 'FSRPAUEC', 'A', 'SE', 'SEC', 'U'):
        p.append(E() / IP(src=a, dst=b) / TCP(sport=40000, dport=5555, flags=fl, seq=224, ack=1001,
                                              window=502, urgptr=3))
    p.append(E() / IP(src=a, dst=b) / TCP(sport=40000, dport=5555, flags='A', seq=1, ack=5, window=9,
                                          options=[('SAck', (10, 20, 30, 40)), ('EOL', None)]))
    for kind, val in ((99, b'ab'), (6, b'abcd'), (7, b'abcd'), (11, b'abcd'), (12, b'abcd'), (13, b'abcd'),
                      (20, b'ab'), (28, b'\x01\x2d'), (28, b'\x01\x2c'), (253, b''), (99, b'')):
        p.append(E() / IP(src=a, dst=b) / TCP(sport=40000, dport=5555, flags='A', seq=1, ack=5, window=9,
                                              options=[(kind, val), ('NOP', None)]))
    for off in (0, 1):
        tcp = bytearray(bytes(TCP(sport=40000, dport=5555, flags='S', seq=9)))
        tcp[12] |= off  # the reserved bit RFC 9768 names AE
        p.append(E() / IP(src=a, dst=b, proto=6) / Raw(bytes(tcp)))
    for payload, proto in ((UDP(sport=40000, dport=5555) / (b'z' * 3000), 17),
                           (ICMP(type=8, id=3, seq=4) / (b'z' * 2000), 1),
                           (TCP(sport=40000, dport=5555, flags='PA') / (b'z' * 2000), 6),
                           (Raw(b'z' * 2000), 99)):
        for f in fragment(IP(src=a, dst=b, id=77, proto=proto) / payload, fragsize=1480):
            p.append(E() / f)
    p.append(E() / IP(src=a, dst=b, proto=99) / b'abcdefgh')
    p.append(E() / IP(src=a, dst=b, options=b'\x01\x01\x01\x00') / UDP(sport=1000, dport=2000) / b'x')
    p.append(Ether(src=A, dst=B, type=0x1234) / Raw(b'\x12\x34' + b'\0' * 46))
    p.append(Ether(src=A, dst=B, type=0x05ff) / Raw(b'\0' * 46))
    p.append(Ether(src=A, dst=B, type=0x0600) / Raw(b'\0' * 46))
    frames = [bytes(x) for x in p]
    # IEEE 802.3 with the length in the type field: LLC/SNAP (RFC 1042) and other LLC
    for llc in (bytes(LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) / IP(src=a, dst=b)
                      / UDP(sport=1000, dport=2000) / b'x'),
                bytes(LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0806)
                      / ARP(op=1, hwsrc=A, psrc=a, pdst=b)),
                bytes(LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x1234) / b'abcd'),
                bytes(LLC(dsap=0x42, ssap=0x42, ctrl=3) / (b'\0' * 35))):
        frames.append(bytes(Ether(src=A, dst=B, type=len(llc))) + llc)
    # Ethernet padding to 60 bytes, as a NIC would add it
    frames += [f + b'\0' * (60 - len(f)) for f in frames if len(f) < 60]
    return frames


def cut_and_mutated(frames, rng):
    """Every frame cut at each length, then random changes to the header bytes (seeded)."""
    out = []
    for f in frames[:80]:
        for n in range(1, min(len(f), 80)):
            out.append(f[:n])
    for _ in range(6000):
        f = bytearray(rng.choice(frames))
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(12, min(len(f), 90))
            f[i] = rng.choice((0, 1, 2, 3, 4, 5, 0x0f, 0x10, 0x45, 0x4f, 0x50, 0x80, 0xff, rng.randrange(256)))
        if rng.random() < 0.3:
            f = f[:rng.randrange(14, len(f) + 1)]
        out.append(bytes(f))
    return out


def write_pcap(path, frames):
    # raw frames, even those too short to be Ethernet: write the pcap by hand
    import struct
    with open(path, 'wb') as fp:
        fp.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, f in enumerate(frames):
            fp.write(struct.pack('<IIII', 1000 + i, 0, len(f), len(f)))
            fp.write(f)


def tcpdump_lines(path, link):
    args = ['tcpdump', '-nn', '-S', '-t', '-r', path] + (['-e'] if link else [])
    out = subprocess.run(args, capture_output=True, text=True, errors='replace').stdout
    frames = []
    for line in out.split('\n'):
        if line.startswith('\t') or (frames and line.startswith(' ') and '0x' in line[:12]):
            continue  # tcpdump's hex dump of what it does not decode
        if line == '':
            continue
        frames.append(line)
    return frames


def ours(decode, path, link):
    args = [decode] + (['-e'] if link else []) + [path]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return out.split('\n')[:-1]


UNDECODED_ETHERTYPES = ('IPv6', '802.1Q', '802.1Q-QinQ', 'LLDP', 'MPLS unicast', 'MPLS multicast',
                        'PPPoE D', 'PPPoE S', 'EAPOL', 'Loopback', 'Reverse ARP')


def classify(t, o):
    """None when the lines are equal, else the documented class of the difference or 'mismatch'."""
    # tcpdump ends a line with ": " where a hex dump follows; the trace ends it before
    t = t.rstrip()
    if t.endswith(':'):
        t = t[:-1]
    if t == o:
        return None
    if re.search(r'length \d+$', o) and t.startswith(o + ':'):
        return 'app'
    m = re.match(r'(.*?\d+\.\d+\.\d+\.\d+\.\d+ > \d+\.\d+\.\d+\.\d+\.\d+: )UDP, length \d+$', o)
    if m and t.startswith(m.group(1)) and 'UDP, ' not in t[len(m.group(1)):][:5]:
        return 'app'
    if any(re.search(r'ethertype %s \(0x[0-9a-f]{4}\)' % re.escape(n), o) for n in UNDECODED_ETHERTYPES):
        return 'notdec'
    if re.search(r'LLC, dsap 0x', o):
        return 'notdec'
    m = re.search(r' ip-proto-(\d+) \d+$', o)
    if m and int(m.group(1)) not in (1, 6, 17):
        return 'notdec'
    if re.search(r'ARP, Unknown \(\d+\)$', o) or re.search(r'ARP, NACK Reply$', o):
        return 'notdec'
    if 'DLCI' in t and 'ARP' in t:
        return 'notdec'  # Frame Relay addresses in ARP
    if re.search(r'ICMP (type-#9|time stamp reply), length', o):
        return 'icmp'
    if re.search(r'options \[.*\b(md5|tcp-ao|mptcp|tfo|exp)\b', o):
        return 'tcpopt'
    return 'mismatch'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--decode', required=True)
    ap.add_argument('--pcaps', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--unit')
    ap.add_argument('--show', type=int, default=40)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = random.Random(8)
    good = good_frames()
    gen = os.path.join(args.work, 'good.pcap')
    write_pcap(gen, good)
    bad = os.path.join(args.work, 'mutated.pcap')
    write_pcap(bad, cut_and_mutated(good, rng))
    runs = [(gen, False), (gen, True), (bad, False), (bad, True)]
    runs += [(p, False) for p in sorted(glob.glob(os.path.join(args.pcaps, '**', '*.pcap'), recursive=True))]
    unit = None
    if args.unit:
        unit = os.path.join(args.work, 'unit.pcap')
        env = dict(os.environ, PKTTRACE_PCAP=unit, CK_FORK='no')
        r = subprocess.run([args.unit], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            return 1
        runs.append((unit, False))
    counts = {}
    shown = 0
    total = 0
    for path, link in runs:
        t = tcpdump_lines(path, link)
        if path == unit:
            with open(unit + '.txt') as fp:
                o = fp.read().split('\n')[:-1]
            print('%s: %d frames the unit test traced' % (unit, len(o)))
            te = tcpdump_lines(path, True)
            if len(te) == len(t):
                t = [te[i] if o[i].startswith('-e ') else t[i] for i in range(len(t))]
            o = [x[3:] if x.startswith('-e ') else x for x in o]
        else:
            o = ours(args.decode, path, link)
        if len(t) != len(o):
            print('%s%s: tcpdump printed %d frames, the decoder %d' % (path, ' -e' if link else '', len(t), len(o)))
            counts['mismatch'] = counts.get('mismatch', 0) + 1
            continue
        for tl, ol in zip(t, o):
            total += 1
            c = classify(tl, ol)
            c = c or 'equal'
            counts[c] = counts.get(c, 0) + 1
            if c == 'mismatch' and shown < args.show:
                shown += 1
                print('%s%s\n  tcpdump: %r\n  ustack:  %r' % (os.path.basename(path), ' -e' if link else '', tl, ol))
    print('frames %d: %s' % (total, ', '.join('%s %d' % kv for kv in sorted(counts.items()))))
    return 1 if counts.get('mismatch') else 0


if __name__ == '__main__':
    sys.exit(main())
