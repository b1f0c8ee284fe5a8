#!/usr/bin/python3
"""Run the pcap corpus (pcaps/<layer>/NAME.{in.pcap,expect.pcap,args}) through ustack-replay.

For every pcaps/*/NAME.in.pcap:

    ustack-replay --in NAME.in.pcap --expect NAME.expect.pcap --out WORK/<layer>/NAME.out.pcap \\
                  --stats WORK/<layer>/NAME.stats $(cat NAME.args)

then tshark reads WORK/<layer>/NAME.out.pcap with checksum validation on, and the case fails on any
malformed packet or checksum error in tshark's expert info. One line per case (PASS or FAIL, with
the tool's diff under a failure), a count per layer, and "N passed, N failed" at the end.

    run_corpus.py --replay PATH --pcaps DIR --work DIR [--layer L]... [--case NAME]... [--no-tshark]
    run_corpus.py --regen --pcaps DIR --work DIR [--layer L]...

--regen (ctest pcap_regen) runs each layer's gen.py into a temporary directory instead and fails if
a file it writes differs from the committed one, is not committed, or if a committed case file
(*.in.pcap, *.expect.pcap, *.args) is no longer written.
"""
import argparse
import filecmp
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

PYTHON = "/usr/bin/python3"
# the order the layers are reported in; any other directory with cases comes after, by name
LAYER_ORDER = ["eth", "arp", "ipv4", "icmp", "udp", "tcp", "malformed"]
# layers whose every case names its drop counter with --expect-drop
DROP_NAMED_LAYERS = ("malformed",)
CASE_SUFFIXES = (".in.pcap", ".expect.pcap", ".args")
TSHARK_PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
# epan/proto.h: expert info groups and severities
PI_GROUP_MASK, PI_CHECKSUM, PI_MALFORMED = 0xFF000000, 0x01000000, 0x07000000
PI_SEVERITY_MASK, PI_ERROR = 0x00F00000, 0x00800000


def layers(pcaps, only):
    names = [d for d in os.listdir(pcaps) if os.path.isdir(os.path.join(pcaps, d))]
    if only:
        names = [d for d in names if d in only]
    return sorted(names, key=lambda d: (LAYER_ORDER.index(d) if d in LAYER_ORDER else len(LAYER_ORDER), d))


def descriptions(layer_dir):
    """NAME -> what it checks, from CASES.md lines like `NAME — what (RFC ...)`."""
    out = {}
    path = os.path.join(layer_dir, "CASES.md")
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^[\s*\-|]*`?([A-Za-z0-9_.\-]+)`?\s*(?:—|–|--|:|\|)\s*(.*?)\s*\|?\s*$", line)
            if m:
                out.setdefault(m.group(1), m.group(2))
    return out


def tshark_problems(path):
    """Malformed packets and checksum errors tshark finds in a capture, one string each."""
    cmd = ["tshark", "-n", "-r", path] + TSHARK_PREFS + [
        "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=\x1f",
        "-e", "frame.number", "-e", "_ws.malformed", "-e", "_ws.expert.group", "-e", "_ws.expert.severity",
        "-e", "_ws.expert.message"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return ["tshark cannot read %s: %s" % (path, r.stderr.strip().splitlines()[-1:] or r.returncode)]
    problems = []
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (5 - len(cols))
        frame, malformed, groups, sevs, msgs = cols[:5]
        groups = [int(g, 0) for g in groups.split("\x1f") if g]
        sevs = [int(s, 0) for s in sevs.split("\x1f") if s]
        msgs = msgs.split("\x1f") if msgs else []
        if malformed:
            problems.append("tshark: frame %s: malformed packet" % frame)
        for i, g in enumerate(groups):
            sev = sevs[i] if i < len(sevs) else 0
            msg = msgs[i] if i < len(msgs) else ""
            if (g & PI_GROUP_MASK) == PI_MALFORMED or \
                    ((g & PI_GROUP_MASK) == PI_CHECKSUM and (sev & PI_SEVERITY_MASK) >= PI_ERROR):
                problems.append("tshark: frame %s: %s" % (frame, msg))
    return problems


def run_case(args, layer, name):
    """(passed, lines of explanation)"""
    src = os.path.join(args.pcaps, layer)
    work = os.path.join(args.work, layer)
    os.makedirs(work, exist_ok=True)
    inp = os.path.join(src, name + ".in.pcap")
    exp = os.path.join(src, name + ".expect.pcap")
    argf = os.path.join(src, name + ".args")
    out = os.path.join(work, name + ".out.pcap")
    if not os.path.exists(exp):
        return False, ["no %s.expect.pcap" % name]
    extra = []
    if os.path.exists(argf):
        with open(argf) as f:
            try:
                extra = shlex.split(f.read(), comments=True)
            except ValueError as e:
                return False, ["%s.args: %s" % (name, e)]
    # issue 8: every drop path moves exactly one counter; each malformed case names it (or none, for
    # a case the RFC answers) and ustack-replay checks it moved and no other drop counter did
    if layer in DROP_NAMED_LAYERS and "--expect-drop" not in extra:
        return False, ["%s.args: a %s case must name its drop counter (--expect-drop G.NAME or none)" %
                       (name, layer)]
    cmd = [args.replay, "--in", inp, "--expect", exp, "--out", out,
           "--stats", os.path.join(work, name + ".stats")] + extra
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return False, ["ustack-replay did not finish in %d s" % args.timeout]
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    if r.returncode == 2:
        return False, ["usage or file error:"] + lines
    if r.returncode not in (0, 1):
        return False, ["ustack-replay exited %d (crash or sanitizer report):" % r.returncode] + lines[-30:]
    if r.returncode == 1:
        return False, lines
    if args.tshark and os.path.exists(out):
        problems = tshark_problems(out)
        if problems:
            return False, problems
    return True, []


def run_corpus(args):
    total_pass = total_fail = 0
    per_layer = []
    for layer in layers(args.pcaps, args.layer):
        src = os.path.join(args.pcaps, layer)
        names = sorted(os.path.basename(p)[:-len(".in.pcap")] for p in glob.glob(os.path.join(src, "*.in.pcap")))
        if args.case:
            names = [n for n in names if n in args.case]
        if not names:
            continue
        what = descriptions(src)
        passed = failed = 0
        for name in names:
            ok, lines = run_case(args, layer, name)
            desc = what.get(name, "")
            print("%s %s/%s%s" % ("PASS" if ok else "FAIL", layer, name, " — " + desc if desc else ""))
            for ln in lines:
                print("     " + ln)
            sys.stdout.flush()
            if ok:
                passed += 1
            else:
                failed += 1
        per_layer.append((layer, passed, failed))
        total_pass += passed
        total_fail += failed
    print()
    for layer, passed, failed in per_layer:
        print("layer %-10s %3d cases: %3d passed, %3d failed" % (layer, passed + failed, passed, failed))
    print("%d passed, %d failed" % (total_pass, total_fail))
    return 1 if total_fail else 0


def regen(args):
    """Every gen.py, run into a temporary directory, must write exactly the committed files."""
    bad = checked = 0
    for layer in layers(args.pcaps, args.layer):
        src = os.path.join(args.pcaps, layer)
        gen = os.path.join(src, "gen.py")
        if not os.path.exists(gen):
            continue
        tmp = tempfile.mkdtemp(prefix="regen-%s-" % layer, dir=args.work)
        try:
            r = subprocess.run([PYTHON, gen, tmp], cwd=src, capture_output=True, text=True, timeout=args.timeout)
            if r.returncode != 0:
                print("FAIL %s/gen.py exited %d:\n     %s" % (layer, r.returncode,
                                                             "\n     ".join(r.stderr.strip().splitlines()[-10:])))
                bad += 1
                checked += 1
                continue
            problems = []
            written = set()
            for root, _, files in os.walk(tmp):
                for fn in files:
                    rel = os.path.relpath(os.path.join(root, fn), tmp)
                    if "__pycache__" in rel:
                        continue
                    written.add(rel)
                    committed = os.path.join(src, rel)
                    if not os.path.exists(committed):
                        problems.append("%s is written by gen.py but not committed" % rel)
                    elif not filecmp.cmp(committed, os.path.join(tmp, rel), shallow=False):
                        problems.append("%s differs from what gen.py writes" % rel)
            for fn in os.listdir(src):
                if fn.endswith(CASE_SUFFIXES) and fn not in written:
                    problems.append("%s is committed but gen.py no longer writes it" % fn)
            checked += 1
            if problems:
                bad += 1
                print("FAIL %s/gen.py (%d files)" % (layer, len(written)))
                for p in problems:
                    print("     " + p)
            else:
                print("PASS %s/gen.py (%d files)" % (layer, len(written)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (checked - bad, bad))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replay", help="the ustack-replay binary")
    ap.add_argument("--pcaps", required=True, help="the corpus: pcaps/")
    ap.add_argument("--work", required=True, help="where outputs go")
    ap.add_argument("--layer", action="append", help="only this layer (repeatable)")
    ap.add_argument("--case", action="append", help="only this case NAME (repeatable)")
    ap.add_argument("--no-tshark", dest="tshark", action="store_false", help="skip the tshark judge")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per case or gen.py")
    ap.add_argument("--regen", action="store_true", help="check that gen.py writes the committed files")
    args = ap.parse_args()
    args.pcaps, args.work = os.path.abspath(args.pcaps), os.path.abspath(args.work)
    if args.replay:
        args.replay = os.path.abspath(args.replay)
    os.makedirs(args.work, exist_ok=True)
    if args.regen:
        return regen(args)
    if not args.replay:
        ap.error("--replay is required")
    if args.tshark and not shutil.which("tshark"):
        print("tshark is not installed (bash scripts/setup.sh)")
        return 1
    return run_corpus(args)


if __name__ == "__main__":
    sys.exit(main())
