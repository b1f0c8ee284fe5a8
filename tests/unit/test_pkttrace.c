/*
 * test_pkttrace.c - the packet trace (stack/pkttrace.c): known frames into a stack whose trace goes to
 * an open_memstream, and each line it writes, In and Out, checked against the text tcpdump prints for
 * the same frame (tcpdump 4.99.3 -nn -S). ARP request and reply, ICMP echo, UDP with the port
 * unreachable it draws, a TCP SYN with MSS, SACK-permitted, timestamps and window scale and the
 * stack's SYN-ACK, data with PSH, FIN and RST, the first and a later IP fragment, unknown ethertypes,
 * and headers cut or lying at each layer. Then the -e flag, the switch, the clock, and the decoder on
 * every length of a frame into buffers too small.
 *
 * With PKTTRACE_PCAP=FILE (and CK_FORK=no) every frame in and out is also written to FILE and every
 * trace line, without its time, direction and device, to FILE.txt ("-e " before those of the link
 * header test): pkttrace_vs_tcpdump.py --unit sets tcpdump's lines for FILE beside them, so the
 * texts below are tcpdump's, not ours.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "pkttrace.h"
#include "stack_helper.h"
#include "tcp_seg.h"
#include "ustack/proto.h"
#include "wire/bytes.h"
#include "wire/tcp.h"

static struct th t;
static FILE *trace;
static char *trace_buf;
static size_t trace_len, trace_pos;

/* the optional record for tcpdump (PKTTRACE_PCAP) */
static pcap_t *rec_pcap;
static pcap_dumper_t *rec_dump;
static FILE *rec_txt;
static bool rec_link; /* the lines are -e's */

static void record(const uint8_t *f, uint32_t len)
{
	struct pcap_pkthdr h = { .caplen = len, .len = len };

	if (rec_dump)
		pcap_dump((u_char *)rec_dump, &h, f);
}

static void setup(void)
{
	const char *path = getenv("PKTTRACE_PCAP");

	test_setup();
	th_setup(&t, true);
	trace_buf = NULL;
	trace_len = trace_pos = 0;
	rec_link = false;
	trace = open_memstream(&trace_buf, &trace_len);
	ck_assert_ptr_nonnull(trace);
	ck_assert_int_eq(us_pkttrace_set(t.st, trace, 0), 0);
	if (path && !rec_dump) {
		char txt[4096];

		rec_pcap = pcap_open_dead(DLT_EN10MB, 65535);
		rec_dump = pcap_dump_open(rec_pcap, path);
		snprintf(txt, sizeof(txt), "%s.txt", path);
		rec_txt = fopen(txt, "w");
		ck_assert(rec_dump && rec_txt);
	}
}

static int pull(void);
static void expect_lines(const char *const *want, int n);

static void teardown(void)
{
	pull();
	expect_lines(NULL, 0); /* every line was looked at */
	us_pkttrace_set(t.st, NULL, 0);
	th_teardown(&t);
	fclose(trace);
	free(trace_buf);
	if (rec_dump) {
		pcap_dump_flush(rec_dump);
		fflush(rec_txt);
	}
	test_teardown();
}

static uint8_t out[2048]; /* the last frame the stack sent */

/* Take what the stack sent off the wire, recording it; returns how many frames. */
static int pull(void)
{
	int n, k = 0;

	while ((n = th_recv(&t, out, sizeof(out))) >= 0) {
		record(out, (uint32_t)n);
		k++;
	}
	return k;
}

/* Hand a frame to the stack, then take what it sent back (recorded after it). */
static void in(const uint8_t *frame, uint32_t len)
{
	record(frame, len);
	th_send(&t, frame, len);
	pull();
}

/* The trace lines written since the last call are exactly want[0..n). */
static void expect_lines(const char *const *want, int n)
{
	int i = 0;

	fflush(trace);
	while (trace_pos < trace_len) {
		char *nl = memchr(trace_buf + trace_pos, '\n', trace_len - trace_pos);
		char line[PKTTRACE_LINE_MAX + 64];
		size_t l;

		ck_assert_ptr_nonnull(nl);
		l = (size_t)(nl - (trace_buf + trace_pos));
		ck_assert_uint_lt(l, sizeof(line));
		memcpy(line, trace_buf + trace_pos, l);
		line[l] = '\0';
		trace_pos += l + 1;
		ck_assert_msg(i < n, "an extra trace line: \"%s\"", line);
		ck_assert_str_eq(line, want[i]);
		if (rec_txt) {
			/* "TIME DIR DEV " off: the decoded frame as tcpdump would print it */
			const char *p = strchr(line, ' ') + 1 + 4;

			fprintf(rec_txt, "%s%s\n", rec_link ? "-e " : "", strchr(p, ' ') + 1);
		}
		i++;
	}
	ck_assert_msg(i == n, "%d trace lines, %d expected", i, n);
}

#define EXPECT(...)                                                            \
	do {                                                                   \
		const char *const want_[] = { __VA_ARGS__ };                   \
		expect_lines(want_, (int)(sizeof(want_) / sizeof(want_[0]))); \
	} while (0)

static uint8_t f[2048];

START_TEST(test_arp)
{
	uint32_t n = th_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, NULL, ST_IP);

	in(f, n);
	EXPECT("0.000000 In  st0 ARP, Request who-has 198.18.0.2 tell 198.18.0.1, length 28",
	       "0.000000 Out st0 ARP, Reply 198.18.0.2 is-at 02:00:00:00:00:02, length 28");
	/* a reply nobody asked for, padded to the Ethernet minimum: the length is the padded one */
	n = th_arp(f, ST_MAC, 2, PEER_MAC, PEER_IP, ST_MAC, ST_IP);
	memset(f + n, 0, 60 - n);
	in(f, 60);
	EXPECT("0.000000 In  st0 ARP, Reply 198.18.0.1 is-at 02:00:00:00:00:01, length 46");
	/* a unicast probe names the target's hardware address */
	n = th_arp(f, ST_MAC, 1, PEER_MAC, PEER_IP, ST_MAC, ST_IP);
	in(f, n);
	EXPECT("0.000000 In  st0 ARP, Request who-has 198.18.0.2 (02:00:00:00:00:02) tell 198.18.0.1, length 28",
	       "0.000000 Out st0 ARP, Reply 198.18.0.2 is-at 02:00:00:00:00:02, length 28");
}
END_TEST

START_TEST(test_icmp_echo)
{
	uint8_t data[56];

	memset(data, 'x', sizeof(data));
	in(f, th_echo(f, PEER_IP, ST_IP, 1, 1, data, sizeof(data)));
	EXPECT("0.000000 In  st0 IP 198.18.0.1 > 198.18.0.2: ICMP echo request, id 1, seq 1, length 64",
	       "0.000000 Out st0 IP 198.18.0.2 > 198.18.0.1: ICMP echo reply, id 1, seq 1, length 64");
}
END_TEST

START_TEST(test_udp)
{
	struct us_udp *u = us_udp_open(t.st);

	ck_assert_int_eq(us_udp_bind(u, 0, 7777), 0);
	in(f, th_udp(f, PEER_IP, ST_IP, 40000, 7777, (const uint8_t *)"hello", 5));
	EXPECT("0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.7777: UDP, length 5");
	ck_assert_int_eq(us_udp_sendto(u, "abc", 3, PEER_IP, 40000), 3);
	ck_assert_int_eq(pull(), 1);
	EXPECT("0.000000 Out st0 IP 198.18.0.2.7777 > 198.18.0.1.40000: UDP, length 3");
	us_udp_close(u);
	/* a closed port: the port unreachable quotes the IP header and 8 bytes (RFC 792) */
	in(f, th_udp(f, PEER_IP, ST_IP, 40000, 5555, (const uint8_t *)"hello", 5));
	EXPECT("0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.5555: UDP, length 5",
	       "0.000000 Out st0 IP 198.18.0.2 > 198.18.0.1: ICMP 198.18.0.2 udp port 5555 unreachable, length 36");
}
END_TEST

/* The window in the last frame the stack sent: the stack's to choose, the trace's to show. */
static unsigned out_win(void)
{
	return get_be16(out + 14 + 20 + 14);
}

START_TEST(test_tcp)
{
	struct tcp_seg s = { .sport = 40000, .dport = 80, .seq = 123, .flags = TCPF_SYN, .win = 64240,
			     .o = { .mss = 1460, .sackp = true, .ts = true, .tsval = 1, .wsok = true, .ws = 7 } };
	struct us_tcp *l = us_tcp_open(t.st), *c;
	uint8_t data[100];
	char want[2][256];
	uint32_t iss;
	int err;

	/* no listener yet: a reset (RFC 9293 §3.10.7.1) */
	in(f, tcp_seg_frame(f, &s));
	EXPECT("0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 123, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
	       "0.000000 Out st0 IP 198.18.0.2.80 > 198.18.0.1.40000: Flags [R.], seq 0, ack 124, win 0, length 0");
	us_pkttrace_set(t.st, trace, US_PKTTRACE_NO_STATE); /* this test is about frames */
	ck_assert_int_eq(us_tcp_bind(l, 0, 80), 0);
	ck_assert_int_eq(us_tcp_listen(l, 4), 0);
	/* the handshake, without timestamps so that no TSval of ours is in the lines */
	s.o.ts = false;
	in(f, tcp_seg_frame(f, &s));
	iss = get_be32(out + 14 + 20 + 4);
	snprintf(want[0], sizeof(want[0]),
		 "0.000000 Out st0 IP 198.18.0.2.80 > 198.18.0.1.40000: Flags [S.], seq %u, ack 124, win %u, options [mss 1460,nop,nop,sackOK,nop,wscale 3], length 0",
		 iss, out_win());
	EXPECT("0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 123, win 64240, options [mss 1460,sackOK,nop,wscale 7,eol], length 0",
	       want[0]);
	s = (struct tcp_seg){ .sport = 40000, .dport = 80, .seq = 124, .ack = iss + 1, .flags = TCPF_ACK,
			      .win = 502 };
	in(f, tcp_seg_frame(f, &s));
	snprintf(want[0], sizeof(want[0]),
		 "0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [.], ack %u, win 502, length 0",
		 iss + 1);
	EXPECT(want[0]);
	c = us_tcp_accept(l, &err);
	ck_assert_ptr_nonnull(c);
	/* data with PSH, and the delayed ACK 40 ms later (RFC 1122 §4.2.3.2) */
	memset(data, 'a', sizeof(data));
	s.flags = TCPF_PSH | TCPF_ACK;
	s.data = data;
	s.len = sizeof(data);
	in(f, tcp_seg_frame(f, &s));
	th_advance(&t, 40 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(pull(), 1);
	snprintf(want[0], sizeof(want[0]),
		 "0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [P.], seq 124:224, ack %u, win 502, length 100",
		 iss + 1);
	snprintf(want[1], sizeof(want[1]),
		 "0.040000 Out st0 IP 198.18.0.2.80 > 198.18.0.1.40000: Flags [.], ack 224, win %u, length 0",
		 out_win());
	EXPECT(want[0], want[1]);
	/* the peer's FIN, acknowledged at once */
	s.seq = 224;
	s.flags = TCPF_FIN | TCPF_ACK;
	s.data = NULL;
	s.len = 0;
	in(f, tcp_seg_frame(f, &s));
	snprintf(want[0], sizeof(want[0]),
		 "0.040000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [F.], seq 224, ack %u, win 502, length 0",
		 iss + 1);
	snprintf(want[1], sizeof(want[1]),
		 "0.040000 Out st0 IP 198.18.0.2.80 > 198.18.0.1.40000: Flags [.], ack 225, win %u, length 0",
		 out_win());
	EXPECT(want[0], want[1]);
	/* and a reset ends it */
	s = (struct tcp_seg){ .sport = 40000, .dport = 80, .seq = 225, .flags = TCPF_RST };
	in(f, tcp_seg_frame(f, &s));
	EXPECT("0.040000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [R], seq 225, win 0, length 0");
	us_tcp_close(c);
	us_tcp_close(l);
}
END_TEST

/* A datagram in two fragments (RFC 791 §3.2): the first shows the UDP header, the later one cannot. */
START_TEST(test_ip_fragments)
{
	struct us_udp *u = us_udp_open(t.st);
	uint8_t dgram[8 + 2000], frag[1480];
	uint16_t c;

	ck_assert_int_eq(us_udp_bind(u, 0, 7777), 0);
	put_be16(dgram, 40000);
	put_be16(dgram + 2, 7777);
	put_be16(dgram + 4, sizeof(dgram));
	put_be16(dgram + 6, 0);
	memset(dgram + 8, 'z', 2000);
	c = th_udp_sum(PEER_IP, ST_IP, dgram, sizeof(dgram));
	put_be16(dgram + 6, c ? c : 0xffff);
	memcpy(frag, dgram, 1480);
	in(f, th_ipv4(f, PEER_IP, ST_IP, 17, 77, 0x2000, 64, frag, 1480));
	in(f, th_ipv4(f, PEER_IP, ST_IP, 17, 77, 1480 / 8, 64, dgram + 1480, sizeof(dgram) - 1480));
	EXPECT("0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.7777: UDP, length 2000",
	       "0.000000 In  st0 IP 198.18.0.1 > 198.18.0.2: ip-proto-17");
	ck_assert_int_eq(us_udp_recvfrom(u, dgram, sizeof(dgram), NULL, NULL), 2000);
	us_udp_close(u);
}
END_TEST

START_TEST(test_unknown_ethertype)
{
	uint32_t n = th_eth(f, ST_MAC, PEER_MAC, 0x88b5); /* IEEE 802 local experimental */

	memset(f + n, 0, 46);
	in(f, n + 46);
	n = th_eth(f, ST_MAC, PEER_MAC, 0x86dd);
	memset(f + n, 0, 48);
	f[n] = 0x60;
	in(f, n + 48);
	/* tcpdump decodes IPv6; the trace names it (docs/packet-trace.md) */
	EXPECT("0.000000 In  st0 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype Unknown (0x88b5), length 60",
	       "0.000000 In  st0 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv6 (0x86dd), length 62");
}
END_TEST

/* Headers cut short or lying at each layer, each shown as tcpdump shows it and dropped. */
START_TEST(test_malformed)
{
	struct tcp_seg s = { .sport = 40000, .dport = 80, .seq = 123, .flags = TCPF_SYN, .win = 64240,
			     .o = { .mss = 1460 } };
	uint8_t g[128], u[16];
	uint32_t n, tn;

	tn = tcp_seg_frame(g, &s); /* 14 + 20 + 24 bytes */
	in(g, 10);
	th_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, NULL, ST_IP);
	in(f, 30);
	in(g, 14);
	in(g, 14 + 10);
	memcpy(f, g, tn);
	f[14] = 0x65;
	in(f, tn);
	memcpy(f, g, tn);
	f[14] = 0x43;
	in(f, tn);
	memcpy(f, g, tn);
	put_be16(f + 16, 256);
	in(f, tn);
	memcpy(f, g, tn);
	put_be16(f + 16, 16);
	in(f, tn);
	in(g, 14 + 20 + 10);
	memcpy(f, g, tn);
	f[14 + 20 + 12] = 0x30;
	in(f, tn);
	memcpy(f, g, tn);
	f[14 + 20 + 12] = 0xf0;
	in(f, tn);
	memcpy(f, g, tn);
	f[14 + 20 + 21] = 0;
	in(f, tn);
	memcpy(f, g, tn);
	f[14 + 20 + 21] = 3;
	in(f, tn);
	put_be16(u, 40000);
	put_be16(u + 2, 5555);
	put_be16(u + 4, 4);
	put_be16(u + 6, 0);
	in(f, th_ipv4(f, PEER_IP, ST_IP, 17, 1, 0, 64, u, 8));
	put_be16(u + 4, 64);
	in(f, th_ipv4(f, PEER_IP, ST_IP, 17, 1, 0, 64, u, 8));
	n = th_echo(f, PEER_IP, ST_IP, 1, 1, NULL, 0);
	put_be16(f + 16, 20 + 6);
	in(f, n - 2);
	EXPECT("0.000000 In  st0  [|ether]",
	       "0.000000 In  st0  [|arp]",
	       "0.000000 In  st0  [|ip]",
	       "0.000000 In  st0 IP  [|ip]",
	       "0.000000 In  st0 IP6, wrong link-layer encapsulation (invalid)",
	       "0.000000 In  st0 IP bad-hlen 12",
	       "0.000000 In  st0 IP truncated-ip - 212 bytes missing! 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 123:335, win 64240, options [mss 1460], length 212",
	       "0.000000 In  st0 IP bad-len 16",
	       "0.000000 In  st0 IP truncated-ip - 14 bytes missing! 198.18.0.1.40000 > 198.18.0.2.80:  [|tcp]",
	       "0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80:  tcp 12 [bad hdr length 12 - too short, < 20]",
	       "0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S] [bad hdr length 60 - too long, > 24]",
	       "0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 123, win 64240, options [[bad opt]",
	       "0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 123, win 64240, options [mss 1460[len 3]], length 0",
	       "0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.5555: truncated-udplength 4",
	       "0.000000 In  st0 IP 198.18.0.1.40000 > 198.18.0.2.5555: UDP, bad length 56 > 0",
	       "0.000000 In  st0 IP 198.18.0.1 > 198.18.0.2:  [|icmp]");
}
END_TEST

/* US_PKTTRACE_LINK: the Ethernet header too, as tcpdump -e. */
START_TEST(test_link_header)
{
	ck_assert_int_eq(us_pkttrace_set(t.st, trace, US_PKTTRACE_LINK), 0);
	rec_link = true;
	in(f, th_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, NULL, ST_IP));
	in(f, th_echo(f, PEER_IP, ST_IP, 7, 9, (const uint8_t *)"ping", 4));
	EXPECT("0.000000 In  st0 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.18.0.2 tell 198.18.0.1, length 28",
	       "0.000000 Out st0 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype ARP (0x0806), length 42: Reply 198.18.0.2 is-at 02:00:00:00:00:02, length 28",
	       "0.000000 In  st0 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 46: 198.18.0.1 > 198.18.0.2: ICMP echo request, id 7, seq 9, length 12",
	       "0.000000 Out st0 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype IPv4 (0x0800), length 46: 198.18.0.2 > 198.18.0.1: ICMP echo reply, id 7, seq 9, length 12");
}
END_TEST

/* Off is off; unknown flags are refused; the time counts from the stack's creation. */
START_TEST(test_switch_and_clock)
{
	ck_assert_int_eq(us_pkttrace_set(t.st, trace, 0x80), -EINVAL);
	ck_assert_int_eq(us_pkttrace_set(NULL, trace, 0), -EINVAL);
	ck_assert_int_eq(us_pkttrace_set(t.st, NULL, 0), 0);
	th_send(&t, f, th_echo(f, PEER_IP, ST_IP, 1, 1, NULL, 0)); /* not in(): nothing to record */
	ck_assert_int_eq(th_drain(&t), 1);
	EXPECT();
	ck_assert_int_eq(us_pkttrace_set(t.st, trace, 0), 0);
	us_clock_advance(&t.clock, 1500 * US_NSEC_PER_MSEC + 7000);
	in(f, th_echo(f, PEER_IP, ST_IP, 1, 2, NULL, 0));
	EXPECT("1.500007 In  st0 IP 198.18.0.1 > 198.18.0.2: ICMP echo request, id 1, seq 2, length 8",
	       "1.500007 Out st0 IP 198.18.0.2 > 198.18.0.1: ICMP echo reply, id 1, seq 2, length 8");
}
END_TEST

/* The decoder alone: every prefix of a frame, into buffers of every small size, stays within both
 * (ASan watches) and always ends with a NUL; a full buffer holds the same text cut. */
START_TEST(test_decode_bounds)
{
	struct tcp_seg s = { .sport = 1, .dport = 2, .seq = 3, .flags = TCPF_SYN, .win = 4,
			     .o = { .mss = 1460, .sackp = true, .ts = true, .wsok = true, .ws = 7,
				    .nsack = 1, .sack = { { 10, 20 } } } };
	uint32_t n = tcp_seg_frame(f, &s);
	char full[PKTTRACE_LINE_MAX], small[PKTTRACE_LINE_MAX];

	for (uint32_t len = 0; len <= n; len++) {
		uint8_t *copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees any read beyond */
		size_t fl;

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, f, len);
		fl = pkttrace_decode(full, sizeof(full), copy, len, US_PKTTRACE_LINK);
		ck_assert_uint_eq(fl, strlen(full));
		for (size_t size = 1; size < 40; size++) {
			size_t sl = pkttrace_decode(small, size, copy, len, US_PKTTRACE_LINK);

			ck_assert_uint_lt(sl, size);
			ck_assert_uint_eq(sl, strlen(small));
			ck_assert(strncmp(small, full, sl) == 0);
		}
		free(copy);
	}
	ck_assert_uint_eq(pkttrace_decode(full, 0, f, n, 0), 0);
}
END_TEST

static Suite *pkttrace_suite(void)
{
	Suite *s = suite_create("pkttrace");
	TCase *tc = tcase_create("pkttrace");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_arp);
	tcase_add_test(tc, test_icmp_echo);
	tcase_add_test(tc, test_udp);
	tcase_add_test(tc, test_tcp);
	tcase_add_test(tc, test_ip_fragments);
	tcase_add_test(tc, test_unknown_ethertype);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_link_header);
	tcase_add_test(tc, test_switch_and_clock);
	tcase_add_test(tc, test_decode_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int r = test_run(pkttrace_suite());

	if (rec_dump) {
		pcap_dump_close(rec_dump);
		pcap_close(rec_pcap);
		fclose(rec_txt);
	}
	return r;
}
