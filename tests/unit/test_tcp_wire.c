/*
 * test_tcp_wire.c - the TCP header gate and option parser (stack/wire/tcp.h): RFC 9293 §3.1 and
 * §3.2, RFC 7323 (window scale, timestamps), RFC 2018 (SACK-permitted, SACK blocks).
 */
#include <string.h>

#include "test_util.h"
#include "wire/tcp.h"

/* RFC 9293 §3.1: the data offset counts 32-bit words, at least 5, and may not pass the segment. */
START_TEST(test_tcp_check)
{
	uint8_t h[64] = { 0 };

	h[12] = 5 << 4;
	ck_assert_int_eq(tcp_check(h, 20), 0);
	ck_assert_int_eq(tcp_check(h, 19), -1);
	h[12] = 4 << 4;
	ck_assert_int_eq(tcp_check(h, 40), -1);
	h[12] = 15 << 4;
	ck_assert_int_eq(tcp_check(h, 59), -1);
	ck_assert_int_eq(tcp_check(h, 60), 0);
	ck_assert_uint_eq(tcp_hlen(h), 60);
}
END_TEST

/* Header fields are read big-endian from their RFC 9293 §3.1 offsets. */
START_TEST(test_tcp_fields)
{
	static const uint8_t h[20] = { 0x30, 0x39, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0,
				       0xc0, 0xd0, 0x50, 0x12, 0xff, 0xf0, 0xab, 0xcd, 0x00, 0x07 };

	ck_assert_uint_eq(tcp_sport(h), 12345);
	ck_assert_uint_eq(tcp_dport(h), 80);
	ck_assert_uint_eq(tcp_seq(h), 0x01020304u);
	ck_assert_uint_eq(tcp_ack_seq(h), 0xa0b0c0d0u);
	ck_assert_uint_eq(tcp_hlen(h), 20);
	ck_assert_uint_eq(tcp_flags(h), TCPF_SYN | TCPF_ACK);
	ck_assert_uint_eq(tcp_window(h), 0xfff0);
	ck_assert_uint_eq(tcp_csum(h), 0xabcd);
	ck_assert_uint_eq(tcp_urg_ptr(h), 7);
}
END_TEST

/* A Linux SYN's options: MSS 1460, SACK-permitted, timestamps, NOP, window scale 7. */
START_TEST(test_tcp_options_linux_syn)
{
	static const uint8_t o[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
	struct tcp_opts t;

	ck_assert_int_eq(tcp_parse_options(o, sizeof(o), &t), 0);
	ck_assert(t.mss_ok);
	ck_assert_uint_eq(t.mss, 1460);
	ck_assert(t.sack_ok);
	ck_assert(t.ts_ok);
	ck_assert_uint_eq(t.tsval, 1);
	ck_assert_uint_eq(t.tsecr, 0);
	ck_assert(t.wscale_ok);
	ck_assert_uint_eq(t.wscale, 7);
	ck_assert_uint_eq(t.nsack, 0);
}
END_TEST

/* RFC 2018 §3: SACK blocks of 8 bytes, 1 to 4 of them; other lengths are malformed. */
START_TEST(test_tcp_options_sack)
{
	uint8_t o[40] = { 1, 1, 5, 18 };
	struct tcp_opts t;

	for (int i = 0; i < 16; i++)
		o[4 + i] = (uint8_t)(i + 1);
	ck_assert_int_eq(tcp_parse_options(o, 20, &t), 0);
	ck_assert_uint_eq(t.nsack, 2);
	ck_assert_uint_eq(t.sack[0].start, 0x01020304u);
	ck_assert_uint_eq(t.sack[0].end, 0x05060708u);
	ck_assert_uint_eq(t.sack[1].start, 0x090a0b0cu);
	ck_assert_uint_eq(t.sack[1].end, 0x0d0e0f10u);
	o[3] = 2 + 8 * 4;
	ck_assert_int_eq(tcp_parse_options(o, 36, &t), 0);
	ck_assert_uint_eq(t.nsack, 4);
	o[3] = 2 + 8 * 5; /* five blocks do not fit in 40 bytes of options */
	ck_assert_int_eq(tcp_parse_options(o, 40, &t), -1);
	o[3] = 11;
	ck_assert_int_eq(tcp_parse_options(o, 20, &t), -1);
	o[3] = 2;
	ck_assert_int_eq(tcp_parse_options(o, 20, &t), -1);
}
END_TEST

/* Malformed lists: a missing length byte, a length of 0 or 1, past the end, or a known kind of the
 * wrong length (FreeBSD's tcp_dooptions discipline). */
START_TEST(test_tcp_options_malformed)
{
	struct tcp_opts t;
	static const uint8_t no_len[1] = { 2 };
	static const uint8_t len0[4] = { 8, 0, 1, 1 };
	static const uint8_t len1[4] = { 8, 1, 1, 1 };
	static const uint8_t past[4] = { 30, 6, 1, 1 };
	static const uint8_t mss3[4] = { 2, 3, 5, 0 };
	static const uint8_t ws4[4] = { 3, 4, 7, 0 };
	static const uint8_t ts8[8] = { 8, 8, 0, 0, 0, 1, 0, 0 };
	static const uint8_t sackp3[4] = { 4, 3, 0, 1 };

	ck_assert_int_eq(tcp_parse_options(no_len, 1, &t), -1);
	ck_assert_int_eq(tcp_parse_options(len0, 4, &t), -1);
	ck_assert_int_eq(tcp_parse_options(len1, 4, &t), -1);
	ck_assert_int_eq(tcp_parse_options(past, 4, &t), -1);
	ck_assert_int_eq(tcp_parse_options(mss3, 4, &t), -1);
	ck_assert_int_eq(tcp_parse_options(ws4, 4, &t), -1);
	ck_assert_int_eq(tcp_parse_options(ts8, 8, &t), -1);
	ck_assert_int_eq(tcp_parse_options(sackp3, 4, &t), -1);
}
END_TEST

/* Unknown kinds are skipped by their length; END stops the walk even with bytes after it; an empty
 * list is fine. */
START_TEST(test_tcp_options_unknown_and_end)
{
	static const uint8_t unk[8] = { 30, 4, 0xaa, 0xbb, 2, 4, 0x02, 0x18 };
	static const uint8_t end[8] = { 1, 0, 2, 4, 5, 0, 0, 0 };
	struct tcp_opts t;

	ck_assert_int_eq(tcp_parse_options(unk, 8, &t), 0);
	ck_assert(t.mss_ok);
	ck_assert_uint_eq(t.mss, 536);
	ck_assert_int_eq(tcp_parse_options(end, 8, &t), 0);
	ck_assert(!t.mss_ok);
	ck_assert_int_eq(tcp_parse_options(end, 0, &t), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_wire");
	TCase *tc = test_tcase("tcp_wire");

	tcase_add_test(tc, test_tcp_check);
	tcase_add_test(tc, test_tcp_fields);
	tcase_add_test(tc, test_tcp_options_linux_syn);
	tcase_add_test(tc, test_tcp_options_sack);
	tcase_add_test(tc, test_tcp_options_malformed);
	tcase_add_test(tc, test_tcp_options_unknown_and_end);
	suite_add_tcase(s, tc);
	return test_run(s);
}
