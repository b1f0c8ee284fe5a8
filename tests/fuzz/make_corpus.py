#!/usr/bin/python3
"""Turn every frame of the pcaps under a directory into a seed for fuzz_rx (one record each:
delay byte 0, 2-byte big-endian length, the frame), plus one seed holding each pcap's frames in order,
and for each IPv4 TCP frame one record with a virtio_net_hdr in front (delay byte 0x80): the checksum
to be completed and, with a payload, TCPv4 GSO of two segments' size, as a TAP device with
IFF_VNET_HDR hands frames over.

    make_corpus.py PCAP_DIR OUT_DIR
"""
import hashlib
import os
import sys

from scapy.all import rdpcap


def record(frame, delay=0):
    return bytes([delay]) + len(frame).to_bytes(2, "big") + frame


def vnet_record(frame):
    """The frame behind a virtio_net_hdr (10 bytes, little-endian) if it is IPv4 TCP, else None."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 15) * 4
    if ihl < 20 or len(frame) < 14 + ihl + 20:
        return None
    thl = (frame[14 + ihl + 12] >> 4) * 4
    payload = len(frame) - 14 - ihl - thl
    gso_type, gso_size = (1, max(1, (payload + 1) // 2)) if payload > 0 else (0, 0)
    hdr = bytes([1, gso_type]) + b"".join(
        v.to_bytes(2, "little") for v in (14 + ihl + thl, gso_size, 14 + ihl, 16))
    return record(hdr + frame, 0x80)


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    seeds = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".pcap"):
                continue
            frames = [bytes(p) for p in rdpcap(os.path.join(root, name))]
            seeds.extend(record(f) for f in frames)
            seeds.extend(r for r in (vnet_record(f) for f in frames) if r)
            seeds.append(b"".join(record(f, 1) for f in frames))
    for s in seeds:
        with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
