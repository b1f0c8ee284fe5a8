#!/usr/bin/python3
"""Turn every frame of the pcaps under a directory into a seed for fuzz_rx (one record each:
delay byte 0, 2-byte big-endian length, the frame), plus one seed holding each pcap's frames in order.

    make_corpus.py PCAP_DIR OUT_DIR
"""
import hashlib
import os
import sys

from scapy.all import rdpcap


def record(frame, delay=0):
    return bytes([delay]) + len(frame).to_bytes(2, "big") + frame


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
            seeds.append(b"".join(record(f, 1) for f in frames))
    for s in seeds:
        with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)
    print("%d seeds in %s" % (len(seeds), out))


if __name__ == "__main__":
    main()
