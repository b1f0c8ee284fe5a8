#!/usr/bin/python3
"""ARP replay cases (RFC 826, RFC 1122 §2.3.2, RFC 5227): answering requests, learning and updating
neighbours, resolving one ourselves with its retries.

A peer at 198.18.0.1 (02:00:00:00:00:01) and the stack at 198.18.0.2 (02:00:00:00:00:02). None of these
cases passes --neigh: the neighbour cache starts empty. For every case NAME this writes NAME.in.pcap,
NAME.expect.pcap (built here from the RFCs), NAME.args, and CASES.md.

    /usr/bin/python3 pcaps/arp/gen.py [OUTDIR]      (default: the directory of this script)
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the committed corpus
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from corpus import (drop, IGN_ID, PEER_IP, ST_IP, ST_MAC, Corpus, arp_from_peer, arp_reply,  # noqa: E402
                    arp_request, args, at, counters, echo_reply_to, echo_request, garp)

C = Corpus("arp", "ARP: requests answered, neighbours learnt and updated, our own resolution and its retries.")

NEW_MAC = "02:00:00:00:00:03"  # the peer's new interface in the update cases


@C.case("arp_announce_on_start",
        "RFC 5227 §3: once its address is configured (as the first frame arrives) the stack announces it: a "
        "broadcast request whose sender and target protocol addresses are both 198.18.0.2 (the only case whose "
        "expected capture shows it; ustack-replay skips it when the expectation does not start with it)",
        args(counters(Arp_OutGratuitous=1, Arp_OutReplies=0)))
def _():
    return [at(0, arp_from_peer(1, "198.18.0.77"))], [at(0, garp())]


@C.case("arp_request_for_us",
        "RFC 826 (Packet Reception): a request for our address gets a reply, sender and target swapped, "
        "sent to the requester",
        args(counters(Arp_InRequests=1, Arp_OutReplies=1)))
def _():
    return [at(0, arp_from_peer(1, ST_IP))], [at(0, arp_reply())]


@C.case("arp_request_other",
        "RFC 826: a request for another host's address is not answered",
        args(counters(Arp_InRequests=1, Arp_InNotForUs=1, Arp_OutReplies=0), drop("Arp_InNotForUs")))
def _():
    return [at(0, arp_from_peer(1, "198.18.0.77"))], []


@C.case("arp_request_unicast",
        "RFC 826, RFC 1122 §2.3.2.1 (unicast poll): a request sent to our MAC rather than broadcast is answered "
        "the same way",
        args(counters(Arp_InRequests=1, Arp_OutReplies=1)))
def _():
    return [at(0, arp_from_peer(1, ST_IP, eth_dst=ST_MAC, hwdst=ST_MAC))], [at(0, arp_reply())]


@C.case("arp_learn_from_request",
        "RFC 826 (\"add the triplet\" when we are the target): after the peer's request for us, an echo "
        "request from it is answered at once, without an ARP request of ours",
        args(IGN_ID, counters(Arp_OutRequests=0, Arp_OutReplies=1, Icmp_OutEchoReps=1)))
def _():
    req = at(0.1, echo_request(1))
    return [at(0, arp_from_peer(1, ST_IP)), req], [at(0, arp_reply()), at(0.1, echo_reply_to(req))]


@C.case("arp_unsolicited_reply_for_us",
        "RFC 826: the reception algorithm does not look at the opcode before merging: a reply nobody asked for, "
        "whose target is us, adds the sender; the next echo reply goes out without an ARP request",
        args(IGN_ID, counters(Arp_InReplies=1, Arp_OutRequests=0, Icmp_OutEchoReps=1)))
def _():
    req = at(0.1, echo_request(1))
    rep = arp_from_peer(2, ST_IP, eth_dst=ST_MAC, hwdst=ST_MAC)
    return [at(0, rep), req], [at(0.1, echo_reply_to(req))]


def gratuitous_update(op):
    # t=0: the peer (MAC A) asks for us: we answer and learn A. t=0.1: it announces a new MAC B for its
    # address (RFC 5227 §3: sender and target protocol address both its own). RFC 826: the pair is in
    # our table, so its hardware address is updated (merge flag), whatever the target. t=0.2: an echo
    # request still framed from A: the reply goes to B, which only the announcement can have taught us.
    req = at(0.2, echo_request(1))
    ann = arp_from_peer(op, PEER_IP, hwsrc=NEW_MAC, hwdst="00:00:00:00:00:00" if op == 1 else "ff:ff:ff:ff:ff:ff")
    reply = echo_reply_to(req)
    reply.dst = NEW_MAC
    return [at(0, arp_from_peer(1, ST_IP)), at(0.1, ann), req], [at(0, arp_reply()), at(0.2, reply)]


@C.case("arp_gratuitous_update",
        "RFC 826 (merge), RFC 5227 §3: a gratuitous request announcing a new MAC for a known neighbour updates "
        "the cache: the next reply goes to the new MAC, without a new request; the announcement is not answered",
        args(IGN_ID, counters(Arp_OutRequests=0, Arp_OutReplies=1, Icmp_OutEchoReps=1)))
def _():
    return gratuitous_update(1)


@C.case("arp_gratuitous_reply_update",
        "RFC 826 (merge before the opcode): the same announcement sent as a reply updates the cache too",
        args(IGN_ID, counters(Arp_OutRequests=0, Arp_OutReplies=1, Icmp_OutEchoReps=1)))
def _():
    return gratuitous_update(2)


@C.case("arp_gratuitous_unknown",
        "RFC 826: an announcement from a host we have no entry for, not targeting us, adds nothing: an echo "
        "request from that host then needs an ARP request of ours before any reply",
        args(IGN_ID, "--linger 0.5", counters(Arp_OutRequests=1, Icmp_OutEchoReps=1)))
def _():
    other_ip, other_mac = "198.18.0.9", "02:00:00:00:00:09"
    ann = arp_from_peer(1, other_ip, psrc=other_ip, hwsrc=other_mac)
    req = echo_request(1, src=other_ip, eth_src=other_mac)
    return [at(0, ann), at(0.1, req)], [at(0.1, arp_request(other_ip))]


@C.case("arp_resolve_fail",
        "RFC 826, RFC 1122 §2.3.2.1 (at most one request per second per destination): to answer an echo "
        "request from an unknown neighbour the stack asks 3 times, 1 s apart, then gives up; nothing else is "
        "visible (no ICMP host unreachable: the datagram was our own)",
        args(IGN_ID, "--linger 5", counters(Arp_OutRequests=3, Arp_ResolveFailed=1, Arp_UnresolvedDiscards=1,
                                             Icmp_OutEchoReps=1, Icmp_OutDestUnreachs=0), drop("Arp_UnresolvedDiscards")))
def _():
    return [at(0, echo_request(1))], [at(0, arp_request()), at(1, arp_request()), at(2, arp_request())]


@C.case("arp_resolve_late_reply",
        "RFC 826, RFC 1122 §2.3.2.2 (the waiting packet is sent once resolved): the peer answers our second "
        "request; the echo reply that waited goes out at once, and no third request follows",
        args(IGN_ID, counters(Arp_OutRequests=2, Arp_InReplies=1, Icmp_OutEchoReps=1)))
def _():
    req = at(0, echo_request(1))
    rep = arp_from_peer(2, ST_IP, eth_dst=ST_MAC, hwdst=ST_MAC)
    return [req, at(1.5, rep)], [at(0, arp_request()), at(1, arp_request()), at(1.5, echo_reply_to(req))]


@C.case("arp_queue_flood",
        "RFC 1122 §2.3.2.1 (no ARP flooding) and §2.3.2.2 (queue): three echo requests while the peer is "
        "unresolved make one ARP request; its reply releases the three echo replies, in order",
        args(IGN_ID, counters(Arp_OutRequests=1, Icmp_OutEchoReps=3)))
def _():
    reqs = [at(0.1 * i, echo_request(1 + i, seq=1 + i)) for i in range(3)]
    rep = arp_from_peer(2, ST_IP, eth_dst=ST_MAC, hwdst=ST_MAC)
    return reqs + [at(0.5, rep)], [at(0, arp_request())] + [at(0.5, echo_reply_to(r)) for r in reqs]


@C.case("arp_cache_expiry",
        "RFC 1122 §2.3.2.1: out-of-date entries MUST be flushed (timeouts on the order of a minute): 10 minutes "
        "after the peer last spoke ARP, answering it takes a new request (compared without eth.dst, since a "
        "unicast poll is the RFC's other way to revalidate)",
        args(IGN_ID, "--ignore eth.dst --linger 0.5", counters(Arp_OutRequests=1, Icmp_OutEchoReps=2)))
def _():
    req1 = at(0.1, echo_request(1, seq=1))
    req2 = at(600, echo_request(2, seq=2))
    return [at(0, arp_from_peer(1, ST_IP)), req1, req2], \
        [at(0, arp_reply()), at(0.1, echo_reply_to(req1)), at(600, arp_request())]


@C.case("arp_probe_for_us",
        "RFC 5227 §2.1.1, RFC 826: a probe (sender address 0.0.0.0) for our address is answered like any request "
        "for it - that is how the prober learns the address is taken - and 0.0.0.0 is not learnt",
        args(counters(Arp_InRequests=1, Arp_OutReplies=1)))
def _():
    probe = arp_from_peer(1, ST_IP, psrc="0.0.0.0")
    return [at(0, probe)], [at(0, arp_reply(to_ip="0.0.0.0"))]


if __name__ == "__main__":
    C.main(__file__)
