#!/usr/bin/python3
"""ustack-replay's own tests (ctest pcap_replay_selftest).

The cases of gen.py (in this directory) are generated into WORK and replayed: each case must pass,
and each fail_ case must fail (exit 1) with exactly its diff line on stderr, which shows that the
comparison notices and names what differs. Then the command line: usage and file errors exit 2,
--expect-counter mismatches exit 1 with their line, --stats writes the counters, and tshark finds
nothing malformed in the outputs.

    run_selftest.py --replay PATH --work DIR
"""
import argparse
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import gen  # noqa: E402
from run_corpus import tshark_problems  # noqa: E402


class Failure(Exception):
    pass


def replay(args, *extra):
    r = subprocess.run([args.replay] + list(extra), capture_output=True, text=True, timeout=120)
    return r.returncode, r.stderr


def case_files(args, name):
    base = os.path.join(args.cases, name)
    with open(base + ".args") as f:
        extra = shlex.split(f.read())
    return ["--in", base + ".in.pcap", "--expect", base + ".expect.pcap",
            "--out", os.path.join(args.work, name + ".out.pcap")] + extra


def t_case(args, name):
    rc, err = replay(args, *case_files(args, name))
    if name in gen.FAIL_LINES:
        want = gen.FAIL_LINES[name]
        if rc != 1 or want not in err.splitlines():
            raise Failure("expected exit 1 with the line\n       %s\n     got exit %d:\n       %s"
                          % (want, rc, "\n       ".join(err.splitlines())))
    elif rc != 0:
        raise Failure("exit %d:\n       %s" % (rc, "\n       ".join(err.splitlines())))
    problems = tshark_problems(os.path.join(args.work, name + ".out.pcap"))
    if problems:
        raise Failure("; ".join(problems))


def t_cli(args):
    ping = case_files(args, "ping")
    # a frame the stack drops: the corpus's bad IP header checksum (InHdrErrors, detail InCsumErrors)
    mal = os.path.join(HERE, "..", "..", "..", "pcaps", "malformed", "mal_ip_bad_checksum")
    bad_csum = ["--in", mal + ".in.pcap", "--expect", mal + ".expect.pcap", "--neigh", "198.18.0.1=02:00:00:00:00:01",
                "--out", os.path.join(args.work, "bad_csum.out.pcap")]
    checks = [
        (["--bogus"], 2, "unknown option"),
        (["--out", "/tmp/x.pcap"], 2, "--in and --out are required"),
        (["--in", "/nonexistent.pcap", "--out", os.path.join(args.work, "x.pcap")], 2, "/nonexistent.pcap"),
        (ping + ["--listen", "80:juggle"], 2, "bad action"),
        (ping + ["--ignore", "tcp.color"], 2, "no field 'tcp.color'"),
        (ping + ["--expect-counter", "Ip.NoSuchThing=1"], 2, "no counter Ip.NoSuchThing"),
        (ping + ["--expect-counter", "Icmp.OutEchoReps=2"], 1, "counter Icmp.OutEchoReps: expected 2, got 1"),
        (ping + ["--expect-counter", "Icmp.OutEchoReps=1", "--expect-counter", "Arp.OutGratuitous=1"], 0, None),
        (ping + ["--ignore", "payload,time", "--time-tolerance", "0.5"], 0, None),
        # --expect-drop: the named reason must move, nothing else may; details go with their reason
        (ping + ["--expect-drop", "none"], 0, None),
        (ping + ["--expect-drop", "Ip.InHdrErrors"], 1, "drop counter Ip.InHdrErrors: expected 1, got 0"),
        (ping + ["--expect-drop", "Ip.InCsumErrors"], 2, "a detail counter; name its reason"),
        (ping + ["--expect-drop", "Ip.InReceives"], 2, "not a drop counter"),
        (bad_csum + ["--expect-drop", "Ip.InHdrErrors"], 0, None),
        (bad_csum + ["--expect-drop", "none"], 1,
         "drop counter Ip.InHdrErrors: 1, expected only none to count drops"),
        (bad_csum + ["--expect-drop", "Udp.InErrors"], 1,
         "drop counter Ip.InHdrErrors: 1, expected only Udp.InErrors to count drops"),
        (ping + ["--absolute"], 0, None),
    ]
    for extra, want_rc, want_text in checks:
        rc, err = replay(args, *extra)
        if rc != want_rc or (want_text and want_text not in err):
            raise Failure("%s: expected exit %d%s, got %d: %s" % (
                " ".join(extra[-2:]), want_rc, " and '%s'" % want_text if want_text else "", rc, err.strip()))
    stats = os.path.join(args.work, "ping.stats")
    rc, err = replay(args, *(ping + ["--stats", stats]))
    with open(stats) as f:
        text = f.read()
    if rc != 0 or "OutEchoReps=1" not in text:
        raise Failure("--stats: exit %d, file:\n%s" % (rc, text))
    r = subprocess.run([args.replay, "--help"], capture_output=True, text=True)
    if r.returncode != 0 or "usage: ustack-replay" not in r.stdout:
        raise Failure("--help exited %d" % r.returncode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    args.cases = os.path.join(args.work, "cases")
    os.makedirs(args.cases, exist_ok=True)
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "gen.py"), args.cases], check=True)
    tests = [(name, lambda a, n=name: t_case(a, n)) for name in gen.CASES] + [("command line", t_cli)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn(args)
            print("PASS %s" % name)
            passed += 1
        except (Failure, OSError, subprocess.SubprocessError) as e:
            print("FAIL %s: %s" % (name, e))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
