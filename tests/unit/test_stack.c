/*
 * test_stack.c - whole stacks: two in one process on a pair wire (ARP, ping, UDP of every size
 * through fragmentation, on virtual time), the same through the fault wrapper, and the loop's
 * deadlines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

/* Two stacks in one process resolve each other (RFC 826) and ping (RFC 792); each keeps its own
 * counters and pool. */
START_TEST(test_two_stacks_ping)
{
	struct two t;
	struct us_ping *p;
	struct us_ping_reply r;
	uint8_t data[100], got[100];
	uint8_t mac[6];

	two_up(&t, NULL, NULL);
	p = us_ping_open(t.a, 77);
	for (int i = 0; i < 100; i++)
		data[i] = (uint8_t)(i * 3);
	ck_assert_int_eq(us_ping_send(p, B_IP, 1, data, sizeof(data), 0), 0);
	two_run(&t, US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_ping_recv(p, &r, got, sizeof(got)), 0);
	ck_assert_uint_eq(r.from, B_IP);
	ck_assert_uint_eq(r.seq, 1);
	ck_assert_uint_eq(r.ttl, 64);
	ck_assert_int_eq(r.error, 0);
	ck_assert_uint_eq(r.len, sizeof(data));
	ck_assert_mem_eq(got, data, sizeof(data));
	ck_assert_str_eq(us_neigh_state(t.a, B_IP, mac), "REACHABLE");
	ck_assert_uint_eq(mac[5], 0xb);
	ck_assert_int_eq(us_stats_get(t.b, "Icmp", "InEchos"), 1);
	ck_assert_int_eq(us_stats_get(t.a, "Icmp", "InEchos"), 0);
	ck_assert_int_eq(us_stats_get(t.a, "Icmp", "InEchoReps"), 1);
	ck_assert_int_eq(us_ping_recv(p, &r, got, sizeof(got)), -EAGAIN);
	us_ping_close(p);
	two_down(&t);
}
END_TEST

static char *dump_to_string(void (*dump)(const struct us_stack *, FILE *), const struct us_stack *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	dump(st, f);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* us_stats_dump prints netstat -s's form (its sentences, the ICMP histograms, TcpExt only when not
 * zero); us_stats_dump_raw a line of Name=value per group. Both after one ping. */
START_TEST(test_stats_dump_forms)
{
	struct two t;
	struct us_ping *p;
	uint8_t data[8] = { 0 };
	char *s;

	two_up(&t, NULL, NULL);
	p = us_ping_open(t.a, 7);
	ck_assert_int_eq(us_ping_send(p, B_IP, 1, data, sizeof(data), 0), 0);
	two_run(&t, US_NSEC_PER_MSEC);
	us_ping_close(p);

	s = dump_to_string(us_stats_dump, t.b);
	ck_assert_ptr_nonnull(strstr(s, "Ip:\n    1 total packets received\n"));
	ck_assert_ptr_nonnull(strstr(s, "    1 incoming packets delivered\n"));
	ck_assert_ptr_nonnull(strstr(s, "    0 incoming packets discarded\n")); /* always printed */
	ck_assert_ptr_null(strstr(s, "with invalid headers"));		   /* optional, zero */
	ck_assert_ptr_nonnull(strstr(s, "Icmp:\n    1 ICMP messages received\n"));
	ck_assert_ptr_nonnull(strstr(s, "    ICMP input histogram:\n        echo requests: 1\n"));
	ck_assert_ptr_nonnull(strstr(s, "    ICMP output histogram:\n        echo replies: 1\n"));
	ck_assert_ptr_nonnull(strstr(s, "Tcp:\n    0 active connection openings\n"));
	ck_assert_ptr_nonnull(strstr(s, "Udp:\n    0 packets received\n"));
	ck_assert_ptr_nonnull(strstr(s, "TcpExt:\nDev ")); /* nothing in TcpExt is not zero */
	/* no sentence: "Name: N", for our own groups even when zero, for Linux's only when not */
	ck_assert_ptr_nonnull(strstr(s, "Arp:\n    InPackets: 2\n    InErrors: 0\n"));
	ck_assert_ptr_null(strstr(s, "InCsumErrors"));
	ck_assert_ptr_nonnull(strstr(s, "    RX: 3 packets ")); /* a's announcement, request, echo */
	ck_assert_ptr_nonnull(strstr(s, "Skb:\n"));
	free(s);

	s = dump_to_string(us_stats_dump_raw, t.b);
	ck_assert_ptr_nonnull(strstr(s, "Ip: InReceives=1 InHdrErrors=0 "));
	ck_assert_ptr_nonnull(strstr(s, "\nIcmp: InMsgs=1 "));
	ck_assert_ptr_nonnull(strstr(s, " OutEchoReps=1"));
	ck_assert_ptr_nonnull(strstr(s, "\nTcpExt: SyncookiesSent=0 "));
	ck_assert_ptr_nonnull(strstr(s, " rx_packets=3 "));
	ck_assert_ptr_nonnull(strstr(s, "\nSkb: allocated="));
	free(s);
	two_down(&t);
}
END_TEST

struct kind_count {
	const struct us_stack *st;
	int drop, detail, other;
};

static void count_kind(void *arg, const char *group, const char *name, uint64_t v)
{
	struct kind_count *k = arg;
	const char *reason = "unset";

	(void)v;
	switch (us_stats_kind(group, name, &reason)) {
	case US_STATS_DROP:
		k->drop++;
		ck_assert_ptr_null(reason);
		break;
	case US_STATS_DROP_DETAIL:
		k->detail++;
		/* a detail's reason is a drop counter of its own group */
		ck_assert_ptr_nonnull(reason);
		ck_assert_int_eq(us_stats_kind(group, reason, NULL), US_STATS_DROP);
		ck_assert_int_ge(us_stats_get(k->st, group, reason), 0);
		break;
	default:
		k->other++;
		ck_assert_ptr_null(reason);
	}
}

/* The drop counters: every name in stats.c's table is a counter that exists (a misspelt one would
 * not be met by us_stats_foreach, and the counts below would fall short). */
START_TEST(test_stats_drop_kinds)
{
	struct two t;
	struct kind_count k = { 0 };

	two_up(&t, NULL, NULL);
	k.st = t.a;
	us_stats_foreach(t.a, count_kind, &k);
	ck_assert_int_eq(k.drop, 31);
	ck_assert_int_eq(k.detail, 7);
	ck_assert_int_gt(k.other, 50);
	ck_assert_int_eq(us_stats_kind("Ip", "InCsumErrors", NULL), US_STATS_DROP_DETAIL);
	ck_assert_int_eq(us_stats_kind("Ip", "InReceives", NULL), US_STATS_OTHER);
	ck_assert_int_eq(us_stats_kind("Nope", "InErrors", NULL), US_STATS_OTHER);
	two_down(&t);
}
END_TEST

/* UDP datagrams of every interesting size cross, fragmented above the MTU (RFC 791 §3.2), up to
 * the 65,507-byte maximum, byte for byte. */
START_TEST(test_two_stacks_udp_sizes)
{
	static const uint32_t sizes[] = { 0, 1, 1472, 1473, 2960, 8000, 20000, 65507 };
	static uint8_t out[65507], in[65536];
	struct two t;
	struct us_udp *ua, *ub;
	uint32_t from;
	uint16_t port;

	two_up(&t, NULL, NULL);
	ua = us_udp_open(t.a);
	ub = us_udp_open(t.b);
	ck_assert_int_eq(us_udp_bind(ub, 0, 5000), 0);
	ck_assert_int_eq(us_udp_bind(ua, A_IP, 6000), 0);
	for (uint32_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i ^ (i >> 8));
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		ck_assert_int_eq(us_udp_sendto(ua, out, sizes[k], B_IP, 5000), (int)sizes[k]);
		two_run(&t, US_NSEC_PER_MSEC);
		ck_assert_int_eq(us_udp_recvfrom(ub, in, sizeof(in), &from, &port), (int)sizes[k]);
		ck_assert_uint_eq(from, A_IP);
		ck_assert_uint_eq(port, 6000);
		ck_assert(memcmp(in, out, sizes[k]) == 0);
	}
	ck_assert_int_eq(us_udp_sendto(ua, out, 65508, B_IP, 5000), -EMSGSIZE);
	ck_assert_int_eq(us_stats_get(t.b, "Ip", "ReasmOKs"), 5);
	ck_assert_int_eq(us_stats_get(t.a, "Ip", "FragOKs"), 5);
	us_udp_close(ua);
	us_udp_close(ub);
	two_down(&t);
}
END_TEST

/* Through a lossy, reordering, duplicating, corrupting wire (seeded), what arrives is intact: bad
 * checksums are caught and counted, fragments reassemble in any order, and nothing leaks. */
START_TEST(test_two_stacks_faulty_wire)
{
	struct netdev_fault_config fc = { .seed = 7, .drop = 0.02, .reorder = 0.05, .duplicate = 0.02,
					  .corrupt = 0.02 };
	static uint8_t out[3000], in[4000];
	struct two t;
	struct us_udp *ua, *ub;
	int delivered = 0, bad = 0;

	two_up(&t, &fc, NULL);
	/* a permanent entry each way: this test is about the data path, not ARP under loss */
	ck_assert_int_eq(us_neigh_add(t.a, 1, B_IP, (uint8_t[]){ 2, 0, 0, 0, 0, 0xb }), 0);
	ck_assert_int_eq(us_neigh_add(t.b, 1, A_IP, (uint8_t[]){ 2, 0, 0, 0, 0, 0xa }), 0);
	ua = us_udp_open(t.a);
	ub = us_udp_open(t.b);
	ck_assert_int_eq(us_udp_bind(ub, 0, 5000), 0);
	for (int i = 0; i <= 500; i++) {
		if (i < 500) {
			uint32_t len = 100 + (uint32_t)(i * 37) % 2900;
			for (uint32_t k = 0; k < len; k++)
				out[k] = (uint8_t)(i + k);
			ck_assert_int_eq(us_udp_sendto(ua, out, len, B_IP, 5000), (int)len);
			two_run(&t, US_NSEC_PER_MSEC);
		} else {
			two_run(&t, 31 * US_NSEC_PER_SEC); /* reassembly timeouts for the incomplete */
		}
		for (;;) {
			int n = us_udp_recvfrom(ub, in, sizeof(in), NULL, NULL);
			int ok = 1;
			if (n < 0)
				break;
			/* the payload encodes its datagram: byte k is (i + k) for some i */
			for (int k = 1; k < n; k++)
				if (in[k] != (uint8_t)(in[0] + k))
					ok = 0;
			delivered++;
			bad += !ok;
		}
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_int_gt(delivered, 400);
	ck_assert_int_gt(us_stats_get(t.b, "Ip", "InCsumErrors") + us_stats_get(t.b, "Udp", "InCsumErrors") +
				 us_stats_get(t.b, "Ip", "ReasmFails"),
			 0);
	us_udp_close(ua);
	us_udp_close(ub);
	two_down(&t);
}
END_TEST

/* us_stack_poll returns the next deadline: never when idle, the ARP retransmission time while a
 * neighbour is being resolved. */
START_TEST(test_poll_deadline)
{
	struct two t;
	struct us_udp *u;
	uint64_t now;

	two_up(&t, NULL, NULL);
	two_run(&t, US_NSEC_PER_MSEC);
	/* the gratuitous ARPs were answered by nobody: nothing waits */
	ck_assert_uint_eq(us_stack_poll(t.a), US_TIME_NEVER);
	u = us_udp_open(t.a);
	now = us_clock_now(&t.clock);
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, 0xc61200feu, 9), 1); /* nobody at .254 */
	ck_assert_uint_eq(us_stack_poll(t.a), now + US_NSEC_PER_SEC);
	us_udp_close(u);
	two_down(&t);
}
END_TEST

/* Bad arguments to the stack API get the errno Linux would give for the same mistake. */
START_TEST(test_stack_bad_args)
{
	struct two t;
	uint32_t a;
	uint8_t len;

	two_up(&t, NULL, NULL);
	ck_assert_int_eq(us_addr_add(t.a, 9, A_IP, 24), -EINVAL);
	ck_assert_int_eq(us_addr_add(t.a, 1, A_IP, 33), -EINVAL);
	ck_assert_int_eq(us_addr_add(t.a, 1, 0xe0000001u, 24), -EINVAL); /* multicast */
	ck_assert_int_eq(us_addr_add(t.a, 1, 0xffffffffu, 24), -EINVAL);
	ck_assert_int_eq(us_route_add(t.a, 0, 0, A_IP, 5), -EINVAL);
	/* a gateway off the interface's 198.18.0.0/24 cannot be reached */
	ck_assert_int_eq(us_route_add(t.a, 0, 0, 0x0a000001u, 1), -ENETUNREACH);
	ck_assert_int_eq(us_route_add(t.a, 0, 0, 0xc61200feu, 1), 0);
	ck_assert_int_eq(us_route_del(t.a, 0x0a000000u, 8), -ESRCH);
	ck_assert_int_eq(us_neigh_del(t.a, 1, 0x0a000001u), -ENOENT);
	ck_assert_int_eq(us_stack_add_netdev(t.a, NULL), -EINVAL);
	ck_assert_int_eq(us_parse_ipv4("198.18.0.1/24", &a, &len), 0);
	ck_assert_uint_eq(a, A_IP);
	ck_assert_uint_eq(len, 24);
	ck_assert_int_eq(us_parse_ipv4("198.18.0.1/x", &a, &len), -EINVAL);
	ck_assert_int_eq(us_stats_get(t.a, "Ip", "NoSuchCounter"), -1);
	ck_assert_int_eq(us_stats_get(t.a, "Nope", "InReceives"), -1);
	two_down(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stack");
	TCase *tc = test_tcase("stack");

	tcase_add_test(tc, test_two_stacks_ping);
	tcase_add_test(tc, test_two_stacks_udp_sizes);
	tcase_add_test(tc, test_two_stacks_faulty_wire);
	tcase_add_test(tc, test_poll_deadline);
	tcase_add_test(tc, test_stack_bad_args);
	tcase_add_test(tc, test_stats_dump_forms);
	tcase_add_test(tc, test_stats_drop_kinds);
	suite_add_tcase(s, tc);
	return test_run(s);
}
