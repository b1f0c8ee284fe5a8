/*
 * test_checksum.c - the Internet checksum (RFC 1071) and the IPv4 pseudo header (RFC 768).
 *
 * Expected values come from RFC 1071's worked example, from arithmetic done by hand in the comments,
 * and from t_ref_csum(): RFC 1071 §1's definition taken literally (16-bit big-endian words added
 * with end-around carry one at a time, an odd byte padded with a zero on the right, the sum
 * complemented), written without the accumulate-and-fold trick the code under test uses.
 */
#include <stdint.h>
#include <string.h>

#include "checksum.h"
#include "test_util.h"
#include "wire/bytes.h"

/* RFC 1071 §1: one's complement sum of 16-bit words, end-around carry after every addition. */
static uint16_t t_ref_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		uint32_t w = (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		sum += w;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

static uint16_t t_ref_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~t_ref_sum(p, len);
}

/* A fixed-seed byte pattern. */
static void t_fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* RFC 1071 §3: the worked example, 00 01 f2 03 f4 f5 f6 f7 sums to ddf2; the checksum is 220d. */
START_TEST(test_csum_rfc1071_example)
{
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq((uint16_t)~csum_fold(csum_partial(b, sizeof(b), 0)), 0xddf2);
	ck_assert_uint_eq(csum_fold(csum_partial(b, sizeof(b), 0)), 0x220d);
	ck_assert_uint_eq(inet_csum(b, sizeof(b)), 0x220d);
	ck_assert_uint_eq(t_ref_csum(b, sizeof(b)), 0x220d); /* the reference agrees with the RFC */
	/* RFC 1071 §2(B): the sum does not depend on the order of the words */
	static const uint8_t r[8] = { 0xf6, 0xf7, 0xf4, 0xf5, 0xf2, 0x03, 0x00, 0x01 };
	ck_assert_uint_eq(inet_csum(r, sizeof(r)), 0x220d);
}
END_TEST

/* RFC 1071 §1: an odd count of bytes is padded with a zero byte on the right. */
START_TEST(test_csum_odd_lengths)
{
	static const uint8_t one[1] = { 0xab };
	static const uint8_t three[3] = { 0x00, 0x01, 0xf2 };
	static const uint8_t seven[7] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6 };
	uint8_t buf[1501];

	ck_assert_uint_eq(inet_csum(one, 1), 0x54ff);	   /* ~ab00 */
	ck_assert_uint_eq(inet_csum(three, 3), 0x0dfe);	   /* ~(0001 + f200) = ~f201 */
	/* 0001 + f203 + f4f5 + f600 = 2dcf9 -> dcf9 + 2 = dcfb, complement 2304 */
	ck_assert_uint_eq(inet_csum(seven, 7), 0x2304);
	/* padding a buffer with one zero byte changes nothing */
	uint8_t eight[8];
	memcpy(eight, seven, 7);
	eight[7] = 0;
	ck_assert_uint_eq(inet_csum(eight, 8), 0x2304);
	/* every length up to 64 (each path through the word loop) and an MTU-sized odd one */
	t_fill(buf, sizeof(buf), 7);
	for (size_t len = 0; len <= 64; len++)
		ck_assert_msg(inet_csum(buf, len) == t_ref_csum(buf, len), "len %zu", len);
	ck_assert_uint_eq(inet_csum(buf, 1501), t_ref_csum(buf, 1501));
	/* an odd buffer starting at an odd address */
	ck_assert_uint_eq(inet_csum(buf + 1, 1499), t_ref_csum(buf + 1, 1499));
}
END_TEST

/* RFC 1071 §2(C) and §4.1: sums of pieces of even length chain (only the last may be odd). */
START_TEST(test_csum_chaining)
{
	uint8_t buf[1024];
	uint16_t whole;

	t_fill(buf, sizeof(buf), 99);
	whole = inet_csum(buf, sizeof(buf));
	ck_assert_uint_eq(whole, t_ref_csum(buf, sizeof(buf)));
	/* every even split point, so both pieces start on a 2-byte (not always 4-byte) boundary */
	for (size_t cut = 0; cut <= sizeof(buf); cut += 2) {
		uint64_t s = csum_partial(buf, cut, 0);
		s = csum_partial(buf + cut, sizeof(buf) - cut, s);
		ck_assert_msg(csum_fold(s) == whole, "cut %zu", cut);
	}
	/* many small pieces: 2, 6, 10, 14, ... bytes, then the rest */
	{
		uint64_t s = 0;
		size_t off = 0, piece = 2;
		while (off + piece <= sizeof(buf)) {
			s = csum_partial(buf + off, piece, s);
			off += piece;
			piece += 4;
		}
		s = csum_partial(buf + off, sizeof(buf) - off, s);
		ck_assert_uint_eq(csum_fold(s), whole);
	}
	/* even pieces then an odd last piece */
	{
		uint64_t s = csum_partial(buf, 500, 0);
		s = csum_partial(buf + 500, 222, s);
		s = csum_partial(buf + 722, 101, s);
		ck_assert_uint_eq(csum_fold(s), t_ref_csum(buf, 823));
	}
}
END_TEST

/* RFC 1071 §1 (2): a receiver summing data that includes the checksum gets all ones, i.e. 0. */
START_TEST(test_csum_verify_zero)
{
	/* an IPv4 header (RFC 791 §3.1) with a checksum worked out by hand:
	 * 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 2479c -> 479c+2 = 479e, ~479e = b861 */
	uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint8_t buf[300];

	ck_assert_uint_eq(inet_csum(ip, 20), 0xb861);
	put_be16(ip + 10, 0xb861);
	ck_assert_uint_eq(inet_csum(ip, 20), 0);
	/* any data with its checksum appended as a trailing word, and any even position */
	t_fill(buf, sizeof(buf), 3);
	for (size_t len = 2; len <= 298; len += 2) {
		put_be16(buf + len, 0);
		put_be16(buf + len, inet_csum(buf, len + 2));
		ck_assert_msg(inet_csum(buf, len + 2) == 0, "len %zu", len);
	}
	/* one bit flipped anywhere is caught */
	put_be16(ip + 10, 0xb861);
	ip[3] ^= 0x01;
	ck_assert_uint_ne(inet_csum(ip, 20), 0);
}
END_TEST

/* RFC 1071 §1: all zeroes sum to 0 (checksum ffff); all ones sum to -0 = ffff (checksum 0). */
START_TEST(test_csum_all_zero_all_ones)
{
	static uint8_t big[65536 + 3];

	memset(big, 0, sizeof(big));
	ck_assert_uint_eq(inet_csum(big, 0), 0xffff);
	ck_assert_uint_eq(inet_csum(big, 1), 0xffff);
	ck_assert_uint_eq(inet_csum(big, 20), 0xffff);
	ck_assert_uint_eq(inet_csum(big, sizeof(big)), 0xffff);
	memset(big, 0xff, sizeof(big));
	ck_assert_uint_eq(inet_csum(big, 2), 0x0000);
	ck_assert_uint_eq(inet_csum(big, 20), 0x0000);
	/* 32768 words of ffff: the carries fold back to ffff however many there are */
	ck_assert_uint_eq(inet_csum(big, 65536), 0x0000);
	/* an odd trailing ff is ff00: ffff + ff00 = 1feff -> ff00, complement 00ff */
	ck_assert_uint_eq(inet_csum(big, 3), 0x00ff);
	ck_assert_uint_eq(inet_csum(big, 65537), 0x00ff);
	/* 0001 + fffe = ffff: a nonzero sum of -0, never folded to 0 */
	static const uint8_t neg[4] = { 0x00, 0x01, 0xff, 0xfe };
	ck_assert_uint_eq(inet_csum(neg, 4), 0x0000);
}
END_TEST

/* RFC 1071 §2(C): summing in a wider accumulator and folding once gives the same result over 1 MiB
 * of mostly large words (many carries). */
START_TEST(test_csum_large)
{
	static uint8_t big[1 << 20];

	t_fill(big, sizeof(big), 1234);
	for (size_t i = 0; i < sizeof(big); i += 4)
		big[i] |= 0xf0; /* mostly large words, so the sum carries often */
	ck_assert_uint_eq(inet_csum(big, sizeof(big)), t_ref_csum(big, sizeof(big)));
	ck_assert_uint_eq(inet_csum(big, sizeof(big) - 1), t_ref_csum(big, sizeof(big) - 1));
}
END_TEST

/* Build RFC 768's pseudo header followed by the UDP header and data. */
static size_t t_pseudo(uint8_t *out, uint32_t saddr, uint32_t daddr, uint8_t proto, const uint8_t *seg,
		       uint16_t len)
{
	put_be32(out, saddr);
	put_be32(out + 4, daddr);
	out[8] = 0; /* zero */
	out[9] = proto;
	put_be16(out + 10, len);
	memcpy(out + 12, seg, len);
	return 12u + len;
}

/* RFC 768: the UDP checksum covers a pseudo header of source, destination, zero, protocol and UDP
 * length; csum_pseudo() as a starting sum equals summing the hand-built pseudo header. */
START_TEST(test_csum_pseudo_rfc768)
{
	static const struct {
		uint32_t saddr, daddr;
		uint16_t len;
	} cases[] = {
		{ 0xc6120002u, 0xc6120001u, 12 },   /* 198.18.0.2 -> 198.18.0.1 */
		{ 0xffffffffu, 0xffffffffu, 8 },    /* every address word ffff: carries */
		{ 0xfffffffeu, 0x00000001u, 9 },    /* odd length */
		{ 0x0a000001u, 0xe00000fbu, 1480 }, /* to a group address, MTU-sized */
		{ 0x00000000u, 0xffffffffu, 65535 }, /* the largest UDP length */
	};
	static uint8_t seg[65535], pseudo[65535 + 12];

	t_fill(seg, sizeof(seg), 5);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t len = cases[i].len, want, got;
		size_t n;

		put_be16(seg, 1234);
		put_be16(seg + 2, 5678);
		put_be16(seg + 4, len);
		put_be16(seg + 6, 0);
		n = t_pseudo(pseudo, cases[i].saddr, cases[i].daddr, 17, seg, len);
		want = t_ref_csum(pseudo, n);
		got = csum_fold(csum_partial(seg, len, csum_pseudo(cases[i].saddr, cases[i].daddr, 17, len)));
		ck_assert_msg(got == want, "case %zu: %04x != %04x", i, got, want);
		/* and with the checksum written in, the receiver's sum is 0 */
		put_be16(seg + 6, got);
		ck_assert_uint_eq(
			csum_fold(csum_partial(seg, len, csum_pseudo(cases[i].saddr, cases[i].daddr, 17, len))),
			0);
	}
	/* worked by hand: c612+0002+c612+0001+0011+000c (pseudo) + 04d2+162e+000c+0000 (header)
	 * + 6162+6364 ("abcd") = 26c16 -> 6c16 + 2 = 6c18, complement 93e7 */
	{
		uint8_t u[12] = { 0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00, 'a', 'b', 'c', 'd' };
		ck_assert_uint_eq(csum_fold(csum_partial(u, 12, csum_pseudo(0xc6120002u, 0xc6120001u, 17, 12))),
				  0x93e7);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("checksum");
	TCase *tc = test_tcase("rfc1071");

	tcase_add_test(tc, test_csum_rfc1071_example);
	tcase_add_test(tc, test_csum_odd_lengths);
	tcase_add_test(tc, test_csum_chaining);
	tcase_add_test(tc, test_csum_verify_zero);
	tcase_add_test(tc, test_csum_all_zero_all_ones);
	tcase_add_test(tc, test_csum_large);
	tcase_add_test(tc, test_csum_pseudo_rfc768);
	suite_add_tcase(s, tc);
	return test_run(s);
}
